import optuna
import pytest

from space import (
    BASELINES,
    EXTENDED_OPS,
    GUIDE_POLICY,
    NO_AUGMENTATION,
    STANDARD_OPS,
    TRIVIALAUGMENT_OPS,
    AugSearchError,
    Policy,
    SearchSpace,
    op_param,
    policy_params,
    suggest_policy,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_parameter_names_are_stable_and_flat():
    trial = optuna.trial.FixedTrial(policy_params(GUIDE_POLICY, SearchSpace()))
    suggest_policy(trial, SearchSpace())
    assert set(trial.params) == {
        "magnitude_distribution",
        "magnitude",
        "magnitude_stddev",
        "rate",
        "augmentations_per_image",
        "cutmix_rate",
        "mixup_rate",
        *(f"op.{name}" for name in TRIVIALAUGMENT_OPS),
        # The optional stages' switches; GUIDE_POLICY has them off, so no strengths.
        "crop",
        "flip",
        "erasing",
    }


def test_a_stage_that_is_on_has_its_strengths_as_parameters():
    policy = GUIDE_POLICY.replace(crop_padding=0.1, flip=True, erasing_rate=0.3, erasing_area=0.2)
    trial = optuna.trial.FixedTrial(policy_params(policy, SearchSpace()))
    assert suggest_policy(trial, SearchSpace()) == policy
    stage_params = {name: value for name, value in trial.params.items() if name.startswith(("crop", "flip", "eras"))}
    assert stage_params == {
        "crop": True,
        "crop_padding": 0.1,
        "flip": True,
        "erasing": True,
        "erasing_rate": 0.3,
        "erasing_area": 0.2,
    }


def test_a_space_without_stages_has_no_stage_parameters_as_studies_before_them():
    space = SearchSpace(stages="none")
    trial = optuna.trial.FixedTrial(policy_params(GUIDE_POLICY, space))
    assert suggest_policy(trial, space) == GUIDE_POLICY
    assert not {"crop", "flip", "erasing"} & set(trial.params)
    stored_before = {
        key: value
        for key, value in space.to_dict().items()
        if key not in ("stages", "crop_padding", "erasing_rate", "erasing_area")
    }
    assert SearchSpace.from_dict(stored_before) == space, "a space stored before the stages searched none"


@pytest.mark.parametrize(
    "stages, expected",
    [
        ("crop,flip,erasing", ("crop", "flip", "erasing")),
        ("erasing, crop", ("crop", "erasing")),
        ("none", ()),
        ("", ()),
    ],
    ids=["all", "any-order", "none", "empty"],
)
def test_stages_are_kept_in_their_order(stages, expected):
    assert SearchSpace(stages=stages).stages == expected


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"stages": "crop,blur"},
            r"stages must be distinct names from: crop, flip, erasing \(or none\), but got stages='crop,blur'",
        ),
        ({"stages": "flip,flip"}, r"stages must be distinct names"),
        (
            {"crop_padding": (0.1, 0.6)},
            r"crop_padding must be two numbers low <= high, both >= 0.0, <= 1.0|bounds <= 0.5",
        ),
        ({"erasing_area": (0.0, 0.3)}, r"erasing_area must be bounds > 0, but got erasing_area=\(0.0, 0.3\)"),
    ],
    ids=["unknown-stage", "repeated-stage", "crop-too-large", "zero-area"],
)
def test_bad_stage_settings_name_the_field(changes, message):
    with pytest.raises(AugSearchError, match=message):
        SearchSpace(**changes)


def test_a_stage_outside_the_space_is_named():
    with pytest.raises(AugSearchError, match=r"policy uses the flip stage, which the search space does not search"):
        policy_params(NO_AUGMENTATION.replace(flip=True), SearchSpace(stages="crop,erasing"))
    with pytest.raises(AugSearchError, match=r"policy has crop_padding=0.4, outside the search space's bounds"):
        policy_params(NO_AUGMENTATION.replace(crop_padding=0.4), SearchSpace())


def test_a_uniform_policy_has_no_stddev_parameter():
    trial = optuna.trial.FixedTrial(policy_params(BASELINES["trivialaugment"], SearchSpace()))
    assert suggest_policy(trial, SearchSpace()) == BASELINES["trivialaugment"]
    assert trial.params["magnitude_distribution"] == "uniform" and "magnitude_stddev" not in trial.params


def test_a_space_of_one_distribution_has_no_distribution_parameter_as_studies_before_it():
    space = SearchSpace(magnitude_distributions="normal", ops="standard")
    trial = optuna.trial.FixedTrial(policy_params(GUIDE_POLICY, space))
    assert suggest_policy(trial, space) == GUIDE_POLICY and "magnitude_distribution" not in trial.params
    stored_before = {key: value for key, value in space.to_dict().items() if key != "magnitude_distributions"}
    assert SearchSpace.from_dict(stored_before) == space, "a space stored before the field searched 'normal' only"


def test_fixed_trial_gives_the_policy_built_from_the_same_values():
    values = {
        "magnitude_distribution": "normal",
        "magnitude": 0.42,
        "magnitude_stddev": 0.1,
        "rate": 0.7,
        "augmentations_per_image": 2,
        "cutmix_rate": 0.3,
        "mixup_rate": 0.6,
        **{op_param(name): name in ("solarization", "rotation") for name in EXTENDED_OPS},
        "crop": True,
        "crop_padding": 0.1,
        "flip": False,
        "erasing": True,
        "erasing_rate": 0.2,
        "erasing_area": 0.3,
    }
    space = SearchSpace(ops="extended")
    expected = Policy(
        magnitude=0.42,
        magnitude_stddev=0.1,
        rate=0.7,
        augmentations_per_image=2,
        cutmix_rate=0.3,
        mixup_rate=0.6,
        ops=("solarization", "rotation"),
        crop_padding=0.1,
        erasing_rate=0.2,
        erasing_area=0.3,
    )
    assert suggest_policy(optuna.trial.FixedTrial(values), space) == expected


@pytest.mark.parametrize(
    "policy", [GUIDE_POLICY, NO_AUGMENTATION, Policy(ops=("translate_y",))], ids=["guide", "none", "last-op-only"]
)
def test_policy_params_round_trip_through_suggest(policy):
    params = policy_params(policy, SearchSpace())
    assert suggest_policy(optuna.trial.FixedTrial(params), SearchSpace()) == policy


def test_suggested_policies_draw_both_distributions_and_survive_storage_as_dicts():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(20):
        policy = suggest_policy(study.ask(), SearchSpace(ops="extended"))
        seen.add(policy.magnitude_distribution)
        assert policy.magnitude_distribution == "normal" or policy.magnitude_stddev == 0.0
        assert Policy.from_dict(policy.to_dict()) == policy
    assert seen == {"normal", "uniform"}


def test_policy_params_rejects_a_distribution_the_space_does_not_propose():
    uniform = Policy(magnitude_stddev=0.0, magnitude_distribution="uniform")
    with pytest.raises(
        AugSearchError, match="magnitude_distribution='uniform', which the search space does not propose"
    ):
        policy_params(uniform, SearchSpace(magnitude_distributions=("normal",)))


def test_policy_params_rejects_ops_outside_the_space():
    with pytest.raises(AugSearchError, match="'hue'"):
        policy_params(Policy(ops=("hue",)), SearchSpace())


def test_policy_params_rejects_a_field_outside_the_bounds():
    with pytest.raises(AugSearchError, match=r"policy has magnitude=1, outside the search space's bounds \[0, 0.5\]"):
        policy_params(BASELINES["trivialaugment"], SearchSpace(magnitude=(0.0, 0.5)))


@pytest.mark.parametrize("candidates", [("brightness",), ("brightness", "contrast"), STANDARD_OPS], ids=len)
def test_at_least_one_op_is_always_on(candidates):
    # RandomSampler flips each boolean with p=1/2, so with two candidates a quarter of the
    # sampled boolean sets are empty: the rule must fire often here.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = SearchSpace(ops=candidates)
    seen = set()
    for _ in range(300):
        trial = study.ask()
        policy = suggest_policy(trial, space)
        assert policy.ops and set(policy.ops) <= set(candidates)
        seen.add(policy.ops)
        study.tell(trial, 0.0)
    # Every non-empty subset is reachable.
    assert len(seen) == 2 ** len(candidates) - 1 or len(candidates) > 2


def test_suggestions_stay_within_bounds():
    space = SearchSpace(magnitude=(0.2, 0.4), rate=(1.0, 1.0), augmentations_per_image=(2, 3), cutmix_rate=(0.0, 0.0))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(50):
        policy = suggest_policy(study.ask(), space)
        assert 0.2 <= policy.magnitude <= 0.4 and policy.rate == 1.0
        assert policy.augmentations_per_image in (2, 3) and policy.cutmix_rate == 0.0


@pytest.mark.parametrize(
    "field, value, message",
    [
        (
            "magnitude",
            (0.5, 1.2),
            r"magnitude must be two numbers low <= high, both >= 0.0, <= 1.0, but got magnitude=\(0.5, 1.2\)",
        ),
        ("rate", (0.8, 0.2), r"rate must be two numbers low <= high"),
        ("cutmix_rate", (-0.1, 0.5), r"cutmix_rate"),
        ("mixup_rate", 0.5, r"mixup_rate must be two numbers"),
        ("augmentations_per_image", (0, 3), r"augmentations_per_image must be two integers low <= high, both >= 1"),
        ("ops", "blur", r"unknown op 'blur'"),
        (
            "magnitude_distributions",
            "normal,beta",
            r"magnitude_distributions must be distinct names from: normal, uniform",
        ),
        ("cutmix_alpha", 0.0, r"cutmix_alpha must be a number > 0"),
    ],
    ids=lambda v: str(v),
)
def test_invalid_bounds(field, value, message):
    with pytest.raises(AugSearchError, match=message):
        SearchSpace(**{field: value})


def test_search_space_json_round_trip():
    space = SearchSpace(magnitude=(0.1, 0.9), ops="rotation,brightness")
    assert SearchSpace.from_dict(space.to_dict()) == space
