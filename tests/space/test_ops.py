import pytest

from space import EXTENDED_OPS, OPS, STANDARD_OPS, AugSearchError, resolve_ops


def test_standard_ops_are_kerascv_randaugment_in_its_order():
    assert STANDARD_OPS == (
        "auto_contrast", "equalization", "solarization", "color_degeneration", "contrast",
        "brightness", "shear_x", "shear_y", "translate_x", "translate_y",
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
