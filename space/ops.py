"""The op catalogue: names, sets and magnitude mappings, keyed by name and never by position.

This module is pure Python (no TensorFlow): the layers themselves are built in `space.layers`.
The order of `STANDARD_OPS` is KerasCV's `RandAugment.get_standard_policy` order, so that a
pipeline of exactly these ops draws the same random choices as KerasCV's own RandAugment.

Each op's `mapping` is written for the default magnitude distribution, "normal". With
`magnitude_distribution="uniform"` (TrivialAugment's way, see `MAGNITUDE_DISTRIBUTIONS`), every
`NormalFactorSampler(mean=k*m, stddev=k*s, min=0, max=k)` becomes `UniformFactorSampler(0, k*m)`,
and solarization's threshold becomes `UniformFactorSampler(255-255*m, 255)`. Ops whose KerasCV
layer already draws uniformly in a range set by m (contrast, brightness, translations, rotation,
cutout, saturation) keep their mapping: it already is "a strength uniform in [0, m] with a random
sign". Ops without strength, and posterization (fixed bits), are the same under both.
"""

from __future__ import annotations

from dataclasses import dataclass

from space.errors import AugSearchError


@dataclass(frozen=True)
class OpInfo:
    name: str
    layer: str  # the keras_cv.layers class that implements it
    mapping: str  # how magnitude m (mean) and magnitude_stddev s become the layer's arguments
    has_strength: bool  # False for ops that magnitude does not affect (equalization, flips, ...)


#: How each image draws the strength that the policy's magnitude sets, by name.
MAGNITUDE_DISTRIBUTIONS: dict[str, str] = {
    "normal": "N(magnitude, magnitude_stddev) clipped to [0, 1], KerasCV RandAugment's way",
    "uniform": "uniform in [0, magnitude], TrivialAugment's way (magnitude_stddev must be 0)",
}

_N = "NormalFactorSampler(mean={mean}, stddev={sd}, min=0, max={hi})"

_CATALOGUE = (
    # The ten ops of KerasCV's RandAugment.get_standard_policy, with its mapping.
    OpInfo("auto_contrast", "AutoContrast", "no arguments", False),
    OpInfo("equalization", "Equalization", "no arguments (256 bins)", False),
    OpInfo(
        "solarization",
        "Solarization",
        "addition_factor=" + _N.format(mean="110*m", sd="110*s", hi=110)
        + ", threshold_factor=NormalFactorSampler(mean=255-255*m, stddev=255*s, min=0, max=255)",
        True,
    ),
    OpInfo("color_degeneration", "RandomColorDegeneration", "factor=" + _N.format(mean="m", sd="s", hi=1), True),
    OpInfo("contrast", "RandomContrast", "factor=max(m, 0.001): uniform in [1-f, 1+f]", True),
    OpInfo("brightness", "RandomBrightness", "factor=m: shift uniform in [-m, m] of the value range", True),
    OpInfo("shear_x", "RandomShear", "x_factor=" + _N.format(mean="m", sd="s", hi=1), True),
    OpInfo("shear_y", "RandomShear", "y_factor=" + _N.format(mean="m", sd="s", hi=1), True),
    OpInfo("translate_x", "RandomTranslation", "width_factor=m: shift uniform in [-m, m] of the width", True),
    OpInfo("translate_y", "RandomTranslation", "height_factor=m: shift uniform in [-m, m] of the height", True),
    # The extended set: other KerasCV layers, mapped the same way (m=0 is the identity).
    OpInfo("rotation", "RandomRotation", "factor=m/12: angle uniform in [-30*m, 30*m] degrees", True),
    OpInfo("grid_mask", "GridMask", "ratio_factor=" + _N.format(mean="0.6*m", sd="0.6*s", hi=0.6) + ", rotation_factor=0.15", True),
    OpInfo("grayscale", "Grayscale", "output_channels=3 (no strength)", False),
    OpInfo("posterization", "Posterization", "bits=8-round(4*m): 8 bits (identity) down to 4, fixed under either distribution", True),
    OpInfo("sharpness", "RandomSharpness", "factor=" + _N.format(mean="m", sd="s", hi=1), True),
    OpInfo("cutout", "RandomCutout", "height_factor=width_factor=(0, 0.5*m): a patch up to half the side", True),
    OpInfo("hue", "RandomHue", "factor=" + _N.format(mean="0.5*m", sd="0.5*s", hi=0.5), True),
    OpInfo("saturation", "RandomSaturation", "factor=(0.5-0.5*m, 0.5+0.5*m): 0.5 is the identity", True),
    OpInfo("horizontal_flip", "RandomFlip", "mode='horizontal', rate=0.5 (no strength)", False),
)

OPS: dict[str, OpInfo] = {op.name: op for op in _CATALOGUE}
STANDARD_OPS: tuple[str, ...] = tuple(op.name for op in _CATALOGUE[:10])
EXTENDED_OPS: tuple[str, ...] = tuple(OPS)
OP_SETS: dict[str, tuple[str, ...]] = {"standard": STANDARD_OPS, "extended": EXTENDED_OPS}


def resolve_ops(spec: str | tuple[str, ...] | list[str], *, argument: str = "ops") -> tuple[str, ...]:
    """Turn "standard", "extended", "a,b,c" or a sequence of names into catalogue-ordered names.

    Raises AugSearchError naming the unknown op and listing the known ones.
    """
    if isinstance(spec, str):
        if spec in OP_SETS:
            return OP_SETS[spec]
        names = [name.strip() for name in spec.split(",") if name.strip()]
    else:
        names = list(spec)
    if not names:
        raise AugSearchError(
            f"{argument} must name at least one op ('standard', 'extended' or a comma-separated "
            f"list), but got {argument}={spec!r}."
        )
    unknown = [name for name in names if name not in OPS]
    if unknown:
        raise AugSearchError(
            f"{argument} has unknown op {unknown[0]!r}; expected 'standard', 'extended' or names "
            f"from: {', '.join(OPS)}."
        )
    if len(set(names)) != len(names):
        raise AugSearchError(f"{argument} must name distinct ops, but got {argument}={spec!r}.")
    return canonical_order(names)


def canonical_order(names) -> tuple[str, ...]:
    """Catalogue order, so that equal sets of ops give equal policies and identical pipelines."""
    chosen = set(names)
    return tuple(name for name in OPS if name in chosen)
