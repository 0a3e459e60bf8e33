import json
import math

import optuna
import pytest

from space import (
    BASELINES,
    EXTENDED_OPS,
    GUIDE_POLICY,
    NO_AUGMENTATION,
    STANDARD_OPS,
    AugSearchError,
    Policy,
    SearchSpace,
    suggest_policy,
)


def test_defaults_are_kerascv_randaugment_defaults():
    policy = Policy()
    assert (policy.magnitude, policy.magnitude_stddev, policy.rate, policy.augmentations_per_image) == (
        0.5,
        0.15,
        10 / 11,
        3,
    )
    assert policy.ops == STANDARD_OPS
    assert (policy.cutmix_rate, policy.mixup_rate, policy.cutmix_alpha, policy.mixup_alpha) == (0.0, 0.0, 1.0, 0.2)


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("magnitude", -0.1, r"magnitude must be a number in \[0, 1\], but got magnitude=-0.1"),
        ("magnitude", 1.5, r"magnitude=1.5"),
        ("magnitude", "0.5", r"magnitude='0.5'"),
        ("magnitude", True, r"magnitude=True"),
        ("magnitude_stddev", -0.01, r"magnitude_stddev must be a number in \[0, 1\]"),
        (
            "magnitude_distribution",
            "laplace",
            r"magnitude_distribution must be one of 'normal', 'uniform', but got magnitude_distribution='laplace'",
        ),
        ("magnitude_distribution", None, r"magnitude_distribution=None"),
        ("rate", 1.01, r"rate must be a number in \[0, 1\], but got rate=1.01"),
        (
            "augmentations_per_image",
            0,
            r"augmentations_per_image must be an integer >= 1, but got augmentations_per_image=0",
        ),
        ("augmentations_per_image", 2.0, r"augmentations_per_image=2.0"),
        ("ops", (), r"ops must be a non-empty tuple"),
        ("ops", ("blur",), r"unknown op 'blur'"),
        ("ops", ("brightness", "brightness"), r"distinct"),
        ("cutmix_rate", 2, r"cutmix_rate must be a number in \[0, 1\]"),
        ("mixup_rate", -1, r"mixup_rate must be a number in \[0, 1\]"),
        ("cutmix_alpha", 0, r"cutmix_alpha must be a number > 0, but got cutmix_alpha=0"),
        ("mixup_alpha", -0.2, r"mixup_alpha must be a number > 0"),
        ("mixup_alpha", math.inf, r"mixup_alpha must be a number > 0, but got mixup_alpha=inf"),
        ("crop_padding", 0.6, r"crop_padding must be a number in \[0, 0.5\] \(a fraction of the image side"),
        ("crop_padding", -0.1, r"crop_padding=-0.1"),
        ("flip", 1, r"flip must be True or False, but got flip=1"),
        ("erasing_rate", 1.5, r"erasing_rate must be a number in \[0, 1\]"),
        ("erasing_area", 0, r"erasing_area must be a number in \(0, 1\] \(a fraction of the image's area\)"),
    ],
    ids=lambda v: str(v),
)
def test_invalid_field_names_field_value_and_range(field, value, expected):
    with pytest.raises(AugSearchError, match=expected):
        Policy(**{field: value})


def test_uniform_distribution_refuses_a_stddev_because_it_would_mean_nothing():
    with pytest.raises(
        AugSearchError, match=r'magnitude_stddev must be 0 when magnitude_distribution="uniform".*magnitude_stddev=0.15'
    ):
        Policy(magnitude_distribution="uniform")
    assert Policy(magnitude_distribution="uniform", magnitude_stddev=0).magnitude_stddev == 0.0


def test_default_distribution_is_normal():
    assert Policy().magnitude_distribution == "normal"


def test_errors_are_value_errors():
    assert issubclass(AugSearchError, ValueError)


def test_json_round_trip_is_exact():
    policy = Policy(magnitude=0.3, ops=("solarization", "rotation"), cutmix_rate=0.25, mixup_alpha=0.4)
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


def test_uniform_policy_round_trips_and_differs_from_the_normal_one():
    policy = Policy(magnitude=1.0, magnitude_stddev=0.0, magnitude_distribution="uniform", augmentations_per_image=1)
    data = json.loads(json.dumps(policy.to_dict()))
    assert data["magnitude_distribution"] == "uniform"
    assert Policy.from_dict(data) == policy
    assert policy != policy.replace(magnitude_distribution="normal")


def test_dict_saved_before_the_distribution_existed_still_loads_as_normal():
    old = {key: value for key, value in Policy(magnitude=0.3).to_dict().items() if key != "magnitude_distribution"}
    assert Policy.from_dict(old) == Policy(magnitude=0.3)
    assert Policy.from_dict(old).magnitude_distribution == "normal"


def test_ops_are_kept_in_catalogue_order_so_equal_sets_are_equal_policies():
    a = Policy(ops=("translate_y", "auto_contrast"))
    b = Policy(ops=["auto_contrast", "translate_y"])
    assert a.ops == ("auto_contrast", "translate_y")
    assert a == b and hash(a) == hash(b)


def test_numbers_are_normalised_so_int_and_float_policies_are_equal():
    assert Policy(magnitude=1, rate=0) == Policy(magnitude=1.0, rate=0.0)
    assert len({Policy(magnitude=1), Policy(magnitude=1.0)}) == 1


def test_policy_is_frozen():
    with pytest.raises(AttributeError):
        Policy().magnitude = 0.9


def test_from_dict_rejects_unknown_fields_and_fills_missing_with_defaults():
    with pytest.raises(AugSearchError, match="unknown field 'magnitudes'"):
        Policy.from_dict({"magnitudes": 0.5})
    assert Policy.from_dict({"magnitude": 0.2}) == Policy(magnitude=0.2)
    with pytest.raises(AugSearchError, match="must be a JSON object"):
        Policy.from_dict([0.5])


#: Each baseline's text, as `search trials` and the race show it.
BASELINE_TEXTS = {
    "none": "m=0±0 n=1 rate=0 ops=trivialaugment",
    "guide": "m=0.3±0.2 n=3 rate=1 ops=standard cutmix=1(α=1) mixup=1(α=0.2)",
    "randaugment": "m=0.5±0.15 n=3 rate=10/11 ops=standard",
    "trivialaugment": "m=U(0,1) n=1 rate=13/14 ops=trivialaugment",
    "cropflip": "crop0.125+flip m=0±0 n=1 rate=0 ops=trivialaugment",
    "ta-cifar": "crop0.125+flip erase1@0.25 m=U(0,1) n=1 rate=13/14 ops=trivialaugment",
    "torchvision": "crop0.125+flip erase0.1@0.175 m=U(0,1) n=1 rate=13/14 ops=trivialaugment "
    "cutmix=0.5(α=1) mixup=0.5(α=0.2)",
}


@pytest.mark.parametrize("name", BASELINES)
def test_each_baseline_has_one_short_text_that_parses_back(name):
    policy, text = BASELINES[name], BASELINE_TEXTS[name]
    assert str(policy) == text
    assert Policy.parse(text) == policy
    assert repr(policy) == f"Policy({text!r})"


@pytest.mark.parametrize("space", [SearchSpace(), SearchSpace(ops=EXTENDED_OPS)], ids=["default", "extended"])
def test_searched_policies_round_trip_exactly(space):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(300):
        trial = study.ask()
        policy = suggest_policy(trial, space)
        study.tell(trial, 0.0)
        text = str(policy)
        assert "\n" not in text
        assert Policy.parse(text) == policy, text


@pytest.mark.parametrize(
    "policy",
    [
        Policy(magnitude=0.43874291872, magnitude_stddev=1 / 3, rate=2 / 3),
        Policy(magnitude=5e-324, magnitude_stddev=1e-05, rate=1 - 2**-53, augmentations_per_image=10**20),
        Policy(magnitude=-0.0, rate=0.1 + 0.2, cutmix_alpha=1e300, mixup_alpha=1e-300),
        # Fields that cannot act, which canonical() would forget: an equal Policy still needs them.
        Policy(rate=0.0, magnitude=0.7, augmentations_per_image=4, ops="extended"),
        Policy(cutmix_alpha=0.5, mixup_alpha=3.0, erasing_area=0.1),
        Policy(crop_padding=0.5, erasing_rate=1e-3, erasing_area=1.0, cutmix_rate=1.0, mixup_rate=1e-17),
        Policy(flip=True, ops=("brightness",)),
        Policy(crop_padding=1 / 7, ops="trivialaugment -solarization +grid_mask"),
        Policy(magnitude=1 / 3, magnitude_stddev=0.0, magnitude_distribution="uniform", rate=0.0),
    ],
    ids=[
        "long-decimals",
        "tiny-and-huge",
        "negative-zero",
        "idle-ops",
        "idle-alphas",
        "extremes",
        "flip-only",
        "changed-ops",
        "uniform-third",
    ],
)
def test_edge_values_round_trip_exactly(policy):
    assert Policy.parse(str(policy)) == policy, str(policy)


def test_the_text_keeps_exact_numbers_short():
    assert str(Policy(magnitude=0.43874291872, rate=1 / 3)).startswith("m=0.43874291872±0.15 n=3 rate=1/3 ")
    # Parts at their defaults and off are left out; a part that is off but not at its default stays.
    assert str(Policy()) == "m=0.5±0.15 n=3 rate=10/11 ops=standard"
    assert (
        str(Policy(cutmix_alpha=0.5, erasing_area=0.1))
        == "erase0@0.1 m=0.5±0.15 n=3 rate=10/11 ops=standard cutmix=0(α=0.5)"
    )
    assert (
        str(Policy(flip=True, ops=("rotation", "solarization")))
        == "flip m=0.5±0.15 n=3 rate=10/11 ops=solarization,rotation"
    )


def test_a_format_spec_rounds_every_number_for_tables_and_nothing_else():
    policy = Policy(
        magnitude=0.43948026051390543,
        magnitude_stddev=0.3166386083631699,
        rate=0.0015548472756859444,
        crop_padding=0.0625,
        flip=True,
        erasing_rate=1 / 3,
        cutmix_rate=0.03880515632508186,
    )
    assert f"{policy:.3g}" == (
        "crop0.0625+flip erase0.333@0.25 m=0.439±0.317 n=3 rate=0.00155 ops=standard cutmix=0.0388(α=1)"
    )
    assert f"{policy}" == str(policy)
    assert Policy.parse(f"{policy:.3g}").rate == 0.00155  # read back, approximately


def test_parse_takes_the_parts_in_any_order():
    text = "ops=standard -solarization mixup=0.25(α=0.2) n=2 rate=1 flip m=U(0,0.5)"
    expected = Policy(
        magnitude=0.5,
        magnitude_stddev=0.0,
        magnitude_distribution="uniform",
        augmentations_per_image=2,
        rate=1.0,
        ops=tuple(op for op in STANDARD_OPS if op != "solarization"),
        mixup_rate=0.25,
        flip=True,
    )
    assert Policy.parse(text) == expected


_VALID = "m=0.5±0.15 n=3 rate=1 ops=standard"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"^policy must give m=, n=, rate= and ops= \(it lacks m=\), but got policy=''\.$"),
        ("m=0.5±0.15 rate=1 ops=standard", r"\(it lacks n=\)"),
        (
            _VALID + " foo",
            r"^policy has unknown part 'foo'; expected parts such as 'crop0\.125\+flip .*', but got policy=",
        ),
        (_VALID + " n=2", r"^policy must give each part once, but n comes twice in policy="),
        (
            "m=0.5 n=3 rate=1 ops=standard",
            r"^policy part 'm=0\.5' must be m=<magnitude>±<stddev> or m=U\(0,<magnitude>\)",
        ),
        ("m=0.5±0.15 n=3 rate=0,5 ops=standard", r"^policy part 'rate=0,5' must be rate=<rate> \(numbers such as"),
        ("m=0.5±0.15 n=3 rate=1/0 ops=standard", r"^policy part 'rate=1/0' must be rate=<rate>"),
        ("m=0.5±0.15 n=3.0 rate=1 ops=standard", r"^policy part 'n=3\.0' must be n=<ops per image>"),
        (_VALID + " cutmix=0.5", r"^policy part 'cutmix=0\.5' must be cutmix=<rate>\(α=<alpha>\)"),
        ("crop+flip " + _VALID, r"^policy part 'crop\+flip' must be crop<padding>, crop<padding>\+flip or flip"),
        ("erase0.5 " + _VALID, r"^policy part 'erase0\.5' must be erase<rate>@<area>"),
        (
            "m=1.5±0.15 n=3 rate=1 ops=standard",
            r"^policy='m=1\.5±0\.15 .*' is not a valid policy: "
            r"magnitude must be a number in \[0, 1\], but got magnitude=1\.5\.$",
        ),
        (
            "m=0.5±0.15 n=0 rate=1 ops=standard",
            r"is not a valid policy: augmentations_per_image must be an integer >= 1",
        ),
        ("m=0.5±0.15 n=3 rate=1 ops=blur", r"is not a valid policy: ops has unknown op 'blur'"),
        ("m=0.5±0.15 n=3 rate=1 ops=standard -rotation", r"is not a valid policy: ops must remove only ops it has"),
        (
            "m=U(0,0.5) n=3 rate=1e999 ops=standard",
            r"is not a valid policy: rate must be a number in \[0, 1\], but got rate=inf",
        ),
        (
            "m=0.5±0.15 n=3 rate=1 ops=standard cutmix=0(α=1e999)",
            r"cutmix_alpha must be a number > 0, but got cutmix_alpha=inf",
        ),
    ],
    ids=[
        "empty",
        "missing",
        "unknown",
        "twice",
        "magnitude",
        "comma",
        "zero-denominator",
        "float-n",
        "no-alpha",
        "crop-without-padding",
        "erase-without-area",
        "out-of-range",
        "zero-ops-per-image",
        "unknown-op",
        "remove-absent-op",
        "infinite-rate",
        "infinite-alpha",
    ],
)
def test_malformed_text_is_a_one_line_error_naming_the_argument(text, message):
    with pytest.raises(AugSearchError, match=message) as info:
        Policy.parse(text)
    assert "\n" not in str(info.value)


def test_parse_names_the_argument_it_is_given():
    with pytest.raises(AugSearchError, match=r"^--policy has unknown part 'x'") as info:
        Policy.parse("x", argument="--policy")
    # Its example is a real policy's text, with every part.
    assert repr(BASELINE_TEXTS["torchvision"]) in str(info.value)
    with pytest.raises(AugSearchError, match=r"^policy must be a policy's text such as .*, but got policy=None\.$"):
        Policy.parse(None)


def test_reference_policies():
    assert NO_AUGMENTATION.rate == 0.0 and NO_AUGMENTATION.cutmix_rate == NO_AUGMENTATION.mixup_rate == 0.0
    assert (GUIDE_POLICY.magnitude, GUIDE_POLICY.magnitude_stddev, GUIDE_POLICY.augmentations_per_image) == (
        0.3,
        0.2,
        3,
    )
    assert GUIDE_POLICY.rate == GUIDE_POLICY.cutmix_rate == GUIDE_POLICY.mixup_rate == 1.0


def test_replace_validates():
    assert Policy().replace(magnitude=0.9).magnitude == 0.9
    with pytest.raises(AugSearchError, match="magnitude"):
        Policy().replace(magnitude=9)


def test_numpy_numbers_become_plain_python_numbers_so_the_policy_saves_as_json():
    import numpy as np

    policy = Policy(magnitude=np.float32(0.25), augmentations_per_image=np.int64(2))
    assert type(policy.augmentations_per_image) is int and type(policy.magnitude) is float
    assert json.loads(json.dumps(policy.to_dict()))["augmentations_per_image"] == 2


def test_the_canonical_form_ignores_only_the_fields_that_cannot_act():
    # At rate 0 no op runs: whatever its ops and magnitude, this is no augmentation.
    idle = Policy(rate=0.0, magnitude=0.7, ops=STANDARD_OPS, augmentations_per_image=3)
    assert idle != NO_AUGMENTATION and idle.canonical() == NO_AUGMENTATION
    # A batch op at rate 0 never draws from its alpha.
    assert Policy(cutmix_alpha=0.5, mixup_alpha=0.9).canonical() == Policy()
    # Fields that act are kept: a policy that augments is its own canonical form.
    assert GUIDE_POLICY.canonical() == GUIDE_POLICY
    assert Policy(rate=0.5, magnitude=0.7).canonical() == Policy(rate=0.5, magnitude=0.7)
    assert Policy(rate=0.0, cutmix_rate=0.5, cutmix_alpha=0.5).canonical().cutmix_alpha == 0.5


def test_the_new_stages_are_off_by_default_so_a_dict_stored_before_them_means_what_it_meant():
    policy = Policy()
    assert (policy.crop_padding, policy.flip, policy.erasing_rate) == (0.0, False, 0.0)
    assert not policy.has_base_stage
    stored_before = {key: value for key, value in GUIDE_POLICY.to_dict().items() if key not in _NEW_FIELDS}
    assert Policy.from_dict(stored_before) == GUIDE_POLICY


_NEW_FIELDS = ("crop_padding", "flip", "erasing_rate", "erasing_area")


def test_stages_round_trip_and_show_first_in_the_text():
    policy = Policy(crop_padding=0.125, flip=True, erasing_rate=0.5, erasing_area=0.25)
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert str(policy).startswith("crop0.125+flip erase0.5@0.25 m=0.5±0.15 ")
    assert str(Policy(crop_padding=0.25)).startswith("crop0.25 m=")
    assert "crop" not in str(Policy()) and "erase" not in str(Policy())


def test_what_augments_each_image():
    assert not NO_AUGMENTATION.augments_each_image
    for stage in ({"flip": True}, {"crop_padding": 0.1}, {"erasing_rate": 0.1}, {"rate": 0.5}):
        assert NO_AUGMENTATION.replace(**stage).augments_each_image, stage


def test_the_canonical_form_forgets_the_erasing_area_only_at_erasing_rate_0():
    assert Policy(erasing_area=0.1).canonical() == Policy()
    assert Policy(erasing_rate=0.2, erasing_area=0.1).canonical().erasing_area == 0.1
    # The base stage always acts when on: no rate 0 hides it.
    assert NO_AUGMENTATION.replace(flip=True).canonical() == NO_AUGMENTATION.replace(flip=True)
