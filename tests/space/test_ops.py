import pytest

from space import EXTENDED_OPS, OPS, STANDARD_OPS, TRIVIALAUGMENT_OPS, AugSearchError, resolve_ops
from space.ops import Fixed, Linear, Range, Sampled, Sampler, ops_text


def test_standard_ops_are_kerascv_randaugment_in_its_order():
    assert STANDARD_OPS == (
        "auto_contrast",
        "equalization",
        "solarization",
        "color_degeneration",
        "contrast",
        "brightness",
        "shear_x",
        "shear_y",
        "translate_x",
        "translate_y",
    )


def test_extended_set_adds_the_promised_kerascv_ops():
    assert set(STANDARD_OPS) < set(EXTENDED_OPS)
    assert {"rotation", "grid_mask", "grayscale", "posterization", "sharpness", "cutout"} <= set(EXTENDED_OPS)
    assert all(OPS[name].mapping for name in EXTENDED_OPS)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("standard", STANDARD_OPS),
        ("extended", EXTENDED_OPS),
        ("rotation, brightness", ("brightness", "rotation")),
        (["cutout"], ("cutout",)),
    ],
    ids=["standard", "extended", "comma-list", "sequence"],
)
def test_resolve_ops(spec, expected):
    assert resolve_ops(spec) == expected


@pytest.mark.parametrize(
    "spec, message",
    [("", "at least one op"), ("brightness,blur", "unknown op 'blur'"), ("shear_x,shear_x", "distinct")],
    ids=["empty", "unknown", "repeated"],
)
def test_resolve_ops_errors_name_the_argument(spec, message):
    with pytest.raises(AugSearchError, match=message) as info:
        resolve_ops(spec, argument="--ops")
    assert str(info.value).startswith("--ops")


@pytest.mark.parametrize(
    "ops, expected",
    [
        (STANDARD_OPS, "standard"),
        (tuple(op for op in STANDARD_OPS if op != "solarization"), "standard -solarization"),
        (tuple(op for op in TRIVIALAUGMENT_OPS if op not in ("rotation", "sharpness")), "standard +posterization"),
        (("contrast", "rotation"), "contrast,rotation"),
        (EXTENDED_OPS, "extended"),
        (tuple(op for op in EXTENDED_OPS if op != "cutout"), "extended -cutout"),
        (resolve_ops((*TRIVIALAUGMENT_OPS, "grid_mask")), "trivialaugment +grid_mask"),
    ],
    ids=["standard", "standard-minus-one", "standard-plus-one", "few", "extended", "extended-minus-one", "plus"],
)
def test_ops_text_is_the_shortest_name_and_resolve_ops_reads_it_back(ops, expected):
    assert ops_text(ops) == expected
    assert resolve_ops(ops_text(ops)) == ops


def test_resolve_ops_takes_a_set_with_changes_in_any_order():
    assert resolve_ops("standard -solarization +rotation -brightness") == tuple(
        op for op in (*STANDARD_OPS, "rotation") if op not in ("solarization", "brightness")
    )
    assert resolve_ops("contrast, rotation +brightness") == ("contrast", "brightness", "rotation")


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "standard -rotation",
            r"--ops must remove only ops it has, but 'rotation' is not in --ops='standard -rotation'",
        ),
        (
            "standard +contrast",
            r"--ops must add only ops it lacks, but 'contrast' is already in --ops='standard \+contrast'",
        ),
        ("standard -blur", r"--ops has unknown op 'blur'"),
        ("brightness -brightness", r"--ops must name at least one op"),
    ],
    ids=["remove-absent", "add-present", "unknown", "empty"],
)
def test_bad_changes_to_an_op_set_name_the_argument(spec, message):
    with pytest.raises(AugSearchError, match=message):
        resolve_ops(spec, argument="--ops")


@pytest.mark.parametrize(
    "arg, m, value, prose",
    [
        (Fixed("horizontal"), 0.3, "horizontal", "'horizontal'"),
        (Fixed(0.15), 0.3, 0.15, "0.15"),
        (Linear(), 0.3, 0.3, "m"),
        (Linear(divisor=12), 0.3, 0.3 / 12, "m/12"),
        (Linear(floor=0.001), 0.0, 0.001, "max(m, 0.001)"),
        (Linear(-4, offset=8, rounded=True), 0.6, 6, "8-round(4*m)"),
        (Linear(-0.5, offset=0.5), 0.3, 0.5 - 0.5 * 0.3, "0.5-0.5*m"),
        (Range(Fixed(0.0), Linear(0.5, floor=1e-3)), 0.3, (0.0, 0.15), "(0, max(0.5*m, 0.001))"),
    ],
    ids=["fixed-string", "fixed-number", "m", "divided", "floor", "rounded", "offset", "range"],
)
def test_plain_argument_kinds_give_their_value_and_prose_under_both_distributions(arg, m, value, prose):
    assert arg.at(m, 0.2, "normal") == arg.at(m, 0.0, "uniform") == value
    assert arg.prose() == prose


def test_sampled_strength_is_normal_or_uniform_and_its_complement_mirrors_it():
    assert Sampled(110).at(0.4, 0.2, "normal") == Sampler(
        "NormalFactorSampler", {"mean": 0.4 * 110, "stddev": 0.2 * 110, "min_value": 0, "max_value": 110}
    )
    assert Sampled(110).at(0.4, 0.0, "uniform") == Sampler("UniformFactorSampler", {"lower": 0, "upper": 0.4 * 110})
    assert Sampled(255, complement=True).at(0.4, 0.2, "normal").args["mean"] == 255 - 0.4 * 255
    assert Sampled(255, complement=True).at(0.4, 0.0, "uniform") == Sampler(
        "UniformFactorSampler", {"lower": 255 - 0.4 * 255, "upper": 255}
    )
    assert Sampled(0.5).prose() == "NormalFactorSampler(mean=0.5*m, stddev=0.5*s, min=0, max=0.5)"
    assert Sampled(255, complement=True).prose("uniform") == "UniformFactorSampler(255-255*m, 255)"


def test_ops_without_strength_are_those_whose_arguments_ignore_the_magnitude():
    assert [name for name in EXTENDED_OPS if not OPS[name].has_strength] == [
        "auto_contrast",
        "equalization",
        "grayscale",
        "horizontal_flip",
    ]
