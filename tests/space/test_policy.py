import json

import pytest

from space import GUIDE_POLICY, NO_AUGMENTATION, STANDARD_OPS, AugSearchError, Policy


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


def test_repr_is_one_readable_line():
    text = repr(GUIDE_POLICY)
    assert "\n" not in text
    assert "m=0.30±0.20" in text and "n=3" in text and "ops=[standard]" in text and "cutmix=1.00" in text
    assert "ops=[solarization,rotation]" in repr(Policy(ops=("rotation", "solarization")))


def test_repr_mentions_the_distribution_only_when_uniform():
    assert "U(" not in repr(GUIDE_POLICY)
    text = repr(Policy(magnitude=0.5, magnitude_stddev=0.0, magnitude_distribution="uniform"))
    assert "m=U(0,0.50) n=3" in text and "±" not in text


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


def test_stages_round_trip_and_show_in_the_repr():
    policy = Policy(crop_padding=0.125, flip=True, erasing_rate=0.5, erasing_area=0.25)
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert repr(policy).startswith("Policy(crop0.125+flip erase0.50@0.25 m=0.50±0.15")
    assert "crop" not in repr(Policy()) and "erase" not in repr(Policy())


def test_what_augments_each_image():
    assert not NO_AUGMENTATION.augments_each_image
    for stage in ({"flip": True}, {"crop_padding": 0.1}, {"erasing_rate": 0.1}, {"rate": 0.5}):
        assert NO_AUGMENTATION.replace(**stage).augments_each_image, stage


def test_the_canonical_form_forgets_the_erasing_area_only_at_erasing_rate_0():
    assert Policy(erasing_area=0.1).canonical() == Policy()
    assert Policy(erasing_rate=0.2, erasing_area=0.1).canonical().erasing_area == 0.1
    # The base stage always acts when on: no rate 0 hides it.
    assert NO_AUGMENTATION.replace(flip=True).canonical() == NO_AUGMENTATION.replace(flip=True)
