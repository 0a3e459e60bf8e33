import inspect

import keras_cv
import optuna
import pytest

from space import (
    BASELINES,
    GUIDE_POLICY,
    NO_AUGMENTATION,
    STANDARD_OPS,
    TRIVIALAUGMENT_OPS,
    AugSearchError,
    Policy,
    SearchSpace,
    policy_params,
    resolve_baselines,
    suggest_policy,
)


def test_baselines_in_their_order():
    assert list(BASELINES) == ["none", "guide", "randaugment", "trivialaugment", "cropflip", "ta-cifar", "torchvision"]
    assert all(isinstance(policy, Policy) for policy in BASELINES.values())


def test_none_augments_nothing():
    none = BASELINES["none"]
    assert none == NO_AUGMENTATION
    assert none.rate == none.cutmix_rate == none.mixup_rate == 0.0


def test_guide_is_the_kerascv_guide_pipeline():
    guide = BASELINES["guide"]
    assert guide == GUIDE_POLICY
    assert (guide.magnitude, guide.magnitude_stddev, guide.augmentations_per_image, guide.rate) == (0.3, 0.2, 3, 1.0)
    assert (guide.magnitude_distribution, guide.ops) == ("normal", STANDARD_OPS)
    assert guide.cutmix_rate == guide.mixup_rate == 1.0


def test_randaugment_is_kerascv_randaugment_with_its_defaults():
    randaugment = BASELINES["randaugment"]
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(keras_cv.layers.RandAugment).parameters.items()
        if name in ("magnitude", "magnitude_stddev", "augmentations_per_image", "rate")
    }
    assert len(defaults) == 4
    assert {name: getattr(randaugment, name) for name in defaults} == defaults
    assert (randaugment.magnitude_distribution, randaugment.ops) == ("normal", STANDARD_OPS)
    assert randaugment.cutmix_rate == randaugment.mixup_rate == 0.0


def test_trivialaugment_is_one_of_its_14_choices_per_image_at_a_uniform_strength():
    trivial = BASELINES["trivialaugment"]
    assert (trivial.magnitude, trivial.magnitude_stddev, trivial.magnitude_distribution) == (1.0, 0.0, "uniform")
    assert trivial.ops == (*STANDARD_OPS, "rotation", "posterization", "sharpness") == TRIVIALAUGMENT_OPS
    # The identity, TrivialAugment's 14th op, is the chance of applying none: 1/14, like each op.
    assert trivial.augmentations_per_image == 1 and trivial.rate == pytest.approx(13 / 14)
    assert trivial.cutmix_rate == trivial.mixup_rate == 0.0


def test_the_first_four_have_no_base_stage_and_no_erasing():
    for name in ("none", "guide", "randaugment", "trivialaugment"):
        policy = BASELINES[name]
        assert not policy.has_base_stage and policy.erasing_rate == 0


def test_cropflip_is_cifars_pad_and_crop_and_flip_alone():
    cropflip = BASELINES["cropflip"]
    # 4 px of padding at 32 px, then a horizontal flip; nothing else acts.
    assert (cropflip.crop_padding, cropflip.flip) == (0.125, True)
    assert cropflip.replace(crop_padding=0.0, flip=False) == NO_AUGMENTATION


def test_ta_cifar_is_crop_flip_trivialaugment_then_a_16_px_cutout():
    ta = BASELINES["ta-cifar"]
    assert ta.replace(crop_padding=0.0, flip=False, erasing_rate=0.0) == BASELINES["trivialaugment"]
    assert (ta.crop_padding, ta.flip) == (0.125, True)
    # Cutout at 32 px: a 16 x 16 square on every image is a quarter of its area.
    assert (ta.erasing_rate, ta.erasing_area) == (1.0, (16 / 32) ** 2)


def test_torchvision_recipe():
    recipe = BASELINES["torchvision"]
    assert (recipe.crop_padding, recipe.flip, recipe.erasing_rate) == (0.125, True, 0.1)
    # Random erasing's area is uniform in [0.02, 0.33]: its mean, for a square of fixed area.
    assert recipe.erasing_area == pytest.approx((0.02 + 0.33) / 2)
    # MixUp alpha 0.2 or CutMix alpha 1.0: half of the batches each (on average).
    assert (recipe.cutmix_rate, recipe.mixup_rate, recipe.cutmix_alpha, recipe.mixup_alpha) == (0.5, 0.5, 1.0, 0.2)
    plain = recipe.replace(crop_padding=0.0, flip=False, erasing_rate=0.0, cutmix_rate=0.0, mixup_rate=0.0)
    assert plain.canonical() == BASELINES["trivialaugment"]


@pytest.mark.parametrize("name", list(BASELINES))
def test_every_baseline_round_trips_through_the_default_space(name):
    space = SearchSpace()
    params = policy_params(BASELINES[name], space)
    assert suggest_policy(optuna.trial.FixedTrial(params), space) == BASELINES[name]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("none,guide", ("none", "guide")),
        (" trivialaugment , randaugment ", ("trivialaugment", "randaugment")),
        ("none,guide,randaugment,trivialaugment,cropflip,ta-cifar,torchvision", tuple(BASELINES)),
        ("", ()),
    ],
    ids=["two", "spaces-and-order", "all", "empty"],
)
def test_resolve_baselines(text, expected):
    assert resolve_baselines(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "none,autoaugment",
            r"baselines has unknown baseline 'autoaugment'; "
            r"expected a comma-separated list of: none, guide, randaugment, trivialaugment, cropflip, ta-cifar, "
            r"torchvision, "
            r"but got baselines='none,autoaugment'",
        ),
        ("guide,none,guide", r"baselines must name distinct baselines, but 'guide' is given more than once"),
    ],
    ids=["unknown", "repeated"],
)
def test_resolve_baselines_errors_name_the_flag_the_value_and_the_choices(text, message):
    with pytest.raises(AugSearchError, match=message):
        resolve_baselines(text)
