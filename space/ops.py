"""The op catalogue as data: each op's name, set, KerasCV layer and arguments, keyed by name.

This module is pure Python (no TensorFlow) and the one source of the mapping: `space.layers`
builds every layer from it, and `python -m space.ops` prints docs/ops.md from it.

An op's arguments are small typed values, each of which knows its value for a policy's magnitude
m, magnitude_stddev s and magnitude distribution, and its prose for the docs:

- `Fixed(v)`: v, whatever the magnitude.
- `Linear(...)`: a number set by m alone, such as m, m/12, max(m, 0.001) or 8-round(4*m).
- `Sampled(k)`: each image draws its own strength in [0, k] (or k minus it, `complement=True`);
  this is the only kind that depends on s and on the distribution.
- `Range(low, high)`: a (low, high) pair, which KerasCV layers read as "uniform in [low, high]".

The order of `STANDARD_OPS` is KerasCV's `RandAugment.get_standard_policy` order, so that a
pipeline of exactly these ops draws the same random choices as KerasCV's own RandAugment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from space.errors import AugSearchError

#: The pixel range of the images the layers see (KerasCV's RandAugment default).
VALUE_RANGE = (0, 255)

#: How each image draws the strength that the policy's magnitude sets, by name.
MAGNITUDE_DISTRIBUTIONS: dict[str, str] = {
    "normal": "N(magnitude, magnitude_stddev) clipped to [0, 1], KerasCV RandAugment's way",
    "uniform": "uniform in [0, magnitude], TrivialAugment's way (magnitude_stddev must be 0)",
}


def _num(x: float | str) -> str:
    # A string is a symbol ("k"), for the docs' general rule about samplers.
    return x if isinstance(x, str) else f"{x:g}"


def _times(k: float | str, symbol: str) -> str:
    return symbol if k == 1 else f"{_num(k)}*{symbol}"


@dataclass(frozen=True)
class Sampler:
    """A per-image draw: `space.layers` builds it as `keras_cv.core.<kind>(**args)`."""

    kind: str  # "NormalFactorSampler" or "UniformFactorSampler"
    args: dict[str, float]


@dataclass(frozen=True)
class Fixed:
    """The same value at every magnitude."""

    value: Any

    def at(self, m: float, s: float, distribution: str) -> Any:
        return self.value

    def prose(self, distribution: str = "normal") -> str:
        return _num(self.value) if isinstance(self.value, (int, float)) else repr(self.value)


@dataclass(frozen=True)
class Linear:
    """max(offset + scale*m/divisor, floor), with scale*m/divisor rounded to an int if `rounded`.

    Computed in exactly that order, skipping a divisor of 1, so that the values are bit-identical
    to KerasCV's RandAugment mapping (m/12 is not m*(1/12) in floating point).
    """

    scale: float = 1  # an int, so that an int m stays an int (RandomBrightness(factor=1), as before)
    offset: float = 0
    divisor: int = 1
    floor: float | None = None
    rounded: bool = False

    def at(self, m: float, s: float, distribution: str) -> float:
        x = m * self.scale
        if self.divisor != 1:
            x = x / self.divisor
        if self.rounded:
            x = round(x)
        x = self.offset + x
        return x if self.floor is None else max(x, self.floor)

    def prose(self, distribution: str = "normal") -> str:
        term = _times(abs(self.scale), "m") + (f"/{self.divisor}" if self.divisor != 1 else "")
        if self.rounded:
            term = f"round({term})"
        sign = "-" if self.scale < 0 else "+"
        if self.offset:
            text = f"{_num(self.offset)}{sign}{term}"
        else:
            text = term if sign == "+" else f"-{term}"
        return text if self.floor is None else f"max({text}, {_num(self.floor)})"


@dataclass(frozen=True)
class Sampled:
    """Each image's own strength, scaled to [0, k]; with `complement`, k minus that strength.

    "normal": NormalFactorSampler(mean=k*m, stddev=k*s, min=0, max=k), KerasCV RandAugment's
    draw (a normal draw is symmetric, so the complement is the same with mean k-k*m).
    "uniform": UniformFactorSampler(0, k*m), or (k-k*m, k) for the complement.
    """

    k: float
    complement: bool = False

    def at(self, m: float, s: float, distribution: str) -> Sampler:
        k = self.k
        if distribution == "uniform":
            if self.complement:
                return Sampler("UniformFactorSampler", {"lower": k - m * k, "upper": k})
            return Sampler("UniformFactorSampler", {"lower": 0, "upper": m * k})
        mean = k - m * k if self.complement else m * k
        return Sampler("NormalFactorSampler", {"mean": mean, "stddev": s * k, "min_value": 0, "max_value": k})

    def prose(self, distribution: str = "normal") -> str:
        return _sampled_prose(self.k, self.complement, distribution)


def _sampled_prose(k: float | str, complement: bool, distribution: str) -> str:
    """`Sampled(k, complement).prose(distribution)`; k may also be a symbol ("k"), for the docs' general rule."""
    num, km = _num(k), _times(k, "m")
    if distribution == "uniform":
        return f"UniformFactorSampler({num}-{km}, {num})" if complement else f"UniformFactorSampler(0, {km})"
    mean = f"{num}-{km}" if complement else km
    return f"NormalFactorSampler(mean={mean}, stddev={_times(k, 's')}, min=0, max={num})"


@dataclass(frozen=True)
class Range:
    """A (low, high) pair of plain values, which KerasCV layers read as "uniform in [low, high]"."""

    low: Fixed | Linear
    high: Fixed | Linear

    def at(self, m: float, s: float, distribution: str) -> tuple:
        return (self.low.at(m, s, distribution), self.high.at(m, s, distribution))

    def prose(self, distribution: str = "normal") -> str:
        return f"({self.low.prose(distribution)}, {self.high.prose(distribution)})"


Arg = Fixed | Linear | Sampled | Range


@dataclass(frozen=True)
class OpInfo:
    name: str
    op_set: str  # "standard" (KerasCV's RandAugment) or "extended"
    layer: str  # the keras_cv.layers class that implements it
    args: dict[str, Arg] = field(default_factory=dict)  # value_range and seed are added by space.layers
    note: str = ""  # what the arguments do, for the docs

    def arguments(self, m: float, s: float, distribution: str = "normal") -> dict[str, Any]:
        """The layer's keyword arguments at magnitude m, magnitude_stddev s (samplers as `Sampler`)."""
        return {key: arg.at(m, s, distribution) for key, arg in self.args.items()}

    @property
    def mapping(self) -> str:
        """How m and s become the layer's arguments under the "normal" distribution, in words."""
        text = ", ".join(f"{key}={arg.prose()}" for key, arg in self.args.items()) or "no arguments"
        return f"{text}: {self.note}" if self.note else text

    @property
    def has_strength(self) -> bool:
        """False for ops that magnitude does not affect (equalization, flips, ...)."""
        return self.arguments(0.0, 0.0) != self.arguments(1.0, 0.0)


# Cutout's patch side, as a fraction of the image's. RandomCutout rejects an empty range: the
# 0.001 floor keeps one at m=0, where a sub-pixel patch is still (close to) the identity.
_SIDE = Range(Fixed(0.0), Linear(0.5, floor=1e-3))

_CATALOGUE = (
    # The ten ops of KerasCV's RandAugment.get_standard_policy, with its mapping.
    OpInfo("auto_contrast", "standard", "AutoContrast"),
    OpInfo("equalization", "standard", "Equalization", {"bins": Fixed(256)}),
    OpInfo(
        "solarization",
        "standard",
        "Solarization",
        {"addition_factor": Sampled(110), "threshold_factor": Sampled(255, complement=True)},
        "KerasCV caps the addition at 110, as more leaves little of the image",
    ),
    OpInfo("color_degeneration", "standard", "RandomColorDegeneration", {"factor": Sampled(1.0)}),
    # RandomContrast fails on factor 0, hence KerasCV's floor.
    OpInfo(
        "contrast",
        "standard",
        "RandomContrast",
        {"factor": Linear(floor=0.001)},
        "contrast uniform in [1-factor, 1+factor]",
    ),
    OpInfo(
        "brightness",
        "standard",
        "RandomBrightness",
        {"factor": Linear()},
        "shift uniform in [-m, m] of the value range",
    ),
    OpInfo("shear_x", "standard", "RandomShear", {"x_factor": Sampled(1.0), "y_factor": Fixed(0)}),
    OpInfo("shear_y", "standard", "RandomShear", {"y_factor": Sampled(1.0), "x_factor": Fixed(0)}),
    OpInfo(
        "translate_x",
        "standard",
        "RandomTranslation",
        {"width_factor": Linear(), "height_factor": Fixed(0)},
        "shift uniform in [-m, m] of the width",
    ),
    OpInfo(
        "translate_y",
        "standard",
        "RandomTranslation",
        {"height_factor": Linear(), "width_factor": Fixed(0)},
        "shift uniform in [-m, m] of the height",
    ),
    # The extended set: other KerasCV layers, mapped the same way (m=0 is the identity).
    OpInfo(
        "rotation",
        "extended",
        "RandomRotation",
        {"factor": Linear(divisor=12)},
        "angle uniform in [-30*m, 30*m] degrees",
    ),
    OpInfo("grid_mask", "extended", "GridMask", {"ratio_factor": Sampled(0.6), "rotation_factor": Fixed(0.15)}),
    OpInfo("grayscale", "extended", "Grayscale", {"output_channels": Fixed(3)}, "no strength"),
    OpInfo(
        "posterization",
        "extended",
        "Posterization",
        {"bits": Linear(-4, offset=8, rounded=True)},
        "8 bits (identity) down to 4",
    ),
    OpInfo("sharpness", "extended", "RandomSharpness", {"factor": Sampled(1.0)}),
    OpInfo(
        "cutout",
        "extended",
        "RandomCutout",
        {"height_factor": _SIDE, "width_factor": _SIDE},
        "a patch up to half the side",
    ),
    OpInfo("hue", "extended", "RandomHue", {"factor": Sampled(0.5)}),
    OpInfo(
        "saturation",
        "extended",
        "RandomSaturation",
        {"factor": Range(Linear(-0.5, offset=0.5), Linear(0.5, offset=0.5))},
        "0.5 is the identity",
    ),
    OpInfo(
        "horizontal_flip",
        "extended",
        "RandomFlip",
        {"mode": Fixed("horizontal"), "rate": Fixed(0.5)},
        "no strength",
    ),
)

OPS: dict[str, OpInfo] = {op.name: op for op in _CATALOGUE}
STANDARD_OPS: tuple[str, ...] = tuple(op.name for op in _CATALOGUE if op.op_set == "standard")
EXTENDED_OPS: tuple[str, ...] = tuple(OPS)
#: TrivialAugment's op set (Müller & Hutter, 2021) as far as the catalogue has it: the standard ten
#: plus rotation, posterization and sharpness. Its 14th op, the identity, is no layer: a pipeline
#: gives it as the chance 1/14 of applying no op (`space.baselines`).
TRIVIALAUGMENT_OPS: tuple[str, ...] = (*STANDARD_OPS, "rotation", "posterization", "sharpness")
OP_SETS: dict[str, tuple[str, ...]] = {
    "standard": STANDARD_OPS,
    "trivialaugment": TRIVIALAUGMENT_OPS,
    "extended": EXTENDED_OPS,
}


#: What `resolve_ops` takes.
OpsSpec = str | tuple[str, ...] | list[str]


def resolve_ops(spec: OpsSpec, *, argument: str = "ops") -> tuple[str, ...]:
    """Turn "standard", "trivialaugment", "extended", "a,b,c", a set with changes as `ops_text`
    writes them ("trivialaugment -solarization +grid_mask") or a sequence of names into
    catalogue-ordered names.

    Raises AugSearchError naming the unknown op and listing the known ones.
    """
    changes: list[str] = []
    if isinstance(spec, str):
        head, *changes = _CHANGE.split(spec.strip())
        names = list(OP_SETS[head]) if head in OP_SETS else [name.strip() for name in head.split(",") if name.strip()]
    else:
        names = list(spec)
    _require_known(names, spec, argument)
    if len(set(names)) != len(names):
        raise AugSearchError(f"{argument} must name distinct ops, but got {argument}={spec!r}.")
    for change in changes:
        names = _changed(names, change, spec, argument)
    if not names:
        raise AugSearchError(
            f"{argument} must name at least one op ({_set_names()} or a comma-separated "
            f"list), but got {argument}={spec!r}."
        )
    return canonical_order(names)


#: Where a change to a named set starts: " -name" removes an op, " +name" adds one.
_CHANGE = re.compile(r"\s+(?=[-+])")


def _require_known(names: list[str], spec: OpsSpec, argument: str) -> None:
    unknown = [name for name in names if name not in OPS]
    if unknown:
        raise AugSearchError(
            f"{argument} has unknown op {unknown[0]!r}; expected {_set_names()} or names from: {', '.join(OPS)}."
        )


def _changed(names: list[str], change: str, spec: OpsSpec, argument: str) -> list[str]:
    """`names` with one op removed ("-name") or added ("+name"); removing an op that is not there,
    or adding one that is, is an error, so that every op is named once."""
    sign, name = change[0], change[1:]
    _require_known([name], spec, argument)
    if sign == "-" and name not in names:
        raise AugSearchError(f"{argument} must remove only ops it has, but {name!r} is not in {argument}={spec!r}.")
    if sign == "+" and name in names:
        raise AugSearchError(f"{argument} must add only ops it lacks, but {name!r} is already in {argument}={spec!r}.")
    return [other for other in names if other != name] if sign == "-" else [*names, name]


def ops_text(ops: tuple[str, ...]) -> str:
    """The shortest text that `resolve_ops` reads back as `ops` (catalogue-ordered): a named set,
    with changes if needed ("standard", "trivialaugment -solarization", "standard +rotation"), or
    the names ("rotation,contrast"). A tie goes to the names."""
    chosen = set(ops)
    candidates = [",".join(ops)]
    for name, catalogue in OP_SETS.items():
        removed = "".join(f" -{op}" for op in catalogue if op not in chosen)
        added = "".join(f" +{op}" for op in ops if op not in catalogue)
        candidates.append(name + removed + added)
    return min(candidates, key=len)


def _set_names() -> str:
    return ", ".join(f"'{name}'" for name in OP_SETS)


def canonical_order(names: Iterable[str]) -> tuple[str, ...]:
    """Catalogue order, so that equal sets of ops give equal policies and identical pipelines."""
    chosen = set(names)
    return tuple(name for name in OPS if name in chosen)


def markdown_table() -> str:
    """The catalogue as a Markdown table: each op's set, KerasCV layer and arguments ("normal")."""
    rows = [
        "| op | set | KerasCV layer | magnitude m, stddev s → arguments |",
        "|---|---|---|---|",
        *(f"| `{op.name}` | {op.op_set} | `{op.layer}` | {op.mapping} |" for op in _CATALOGUE),
    ]
    return "\n".join(rows) + "\n"


def _names(ops: Iterable[OpInfo]) -> str:
    return ", ".join(f"`{op.name}`" for op in ops)


def docs_markdown() -> str:
    """The text of docs/ops.md: the magnitude convention, the two distributions, the table."""
    sampled = [op for op in _CATALOGUE if any(isinstance(arg, Sampled) for arg in op.args.values())]
    others = [op for op in _CATALOGUE if op not in sampled]
    complements = [
        f"`{op.name}`'s `{key}`"
        for op in _CATALOGUE
        for key, arg in op.args.items()
        if isinstance(arg, Sampled) and arg.complement
    ]
    # The samplers' general rule, with a symbolic k.
    general, general_uniform = _sampled_prose("k", False, "normal"), _sampled_prose("k", False, "uniform")
    complement, complement_uniform = _sampled_prose("k", True, "normal"), _sampled_prose("k", True, "uniform")
    distributions = "\n".join(f'- `"{name}"`: {text}.' for name, text in MAGNITUDE_DISTRIBUTIONS.items())
    return f"""# The op catalogue

<!-- Generated from space/ops.py by `.venv/bin/python -m space.ops > docs/ops.md`:
edit the catalogue there, not this file. -->

Ops are keyed by name, never by position. `standard` is KerasCV's `RandAugment.get_standard_policy`,
in its order and with its own magnitude mapping; `extended` adds other KerasCV layers, mapped so
that magnitude 0 is (close to) the identity. Each op is one `keras_cv.layers` class, given the
arguments below, the pipeline's seed and, where the layer takes one, `value_range={VALUE_RANGE}`.

## Magnitude

A policy's `magnitude` m and `magnitude_stddev` s, both in [0, 1], set the strength of every op:
m=0 is (close to) the identity and m=1 is the strongest the op goes. Wherever the KerasCV layer
accepts a factor sampler, each image draws its own strength, as KerasCV's RandAugment does. The
policy's `magnitude_distribution` says how:

{distributions}

The table gives the arguments under `"normal"`, the default. Under `"uniform"` (e.g. the
`trivialaugment` baseline), every `{general}` becomes
`{general_uniform}`, and every `{complement}`
(a complement: {", ".join(complements)}) becomes `{complement_uniform}`.
This changes only the ops with a sampler: {_names(sampled)}.
The other ops take the same arguments under both distributions, as their layer already draws
uniformly in a range set by m, takes a value fixed by m, or has no strength: {_names(others)}.

## Ops

{markdown_table()}"""


if __name__ == "__main__":
    print(docs_markdown(), end="")
