"""`Policy`: one augmentation policy, frozen, validated, JSON-able."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from space.errors import AugSearchError, is_int, is_number, require, require_unit_interval
from space.ops import MAGNITUDE_DISTRIBUTIONS, OPS, STANDARD_OPS, TRIVIALAUGMENT_OPS, ops_text, resolve_ops

#: What the per-image stage draws from, unused when its rate is 0 (see `Policy.canonical`).
_PER_IMAGE_FIELDS = ("magnitude", "magnitude_stddev", "magnitude_distribution", "augmentations_per_image", "ops")

#: The fields of the base stage and erasing, added after Policies were first stored (all off by default).
STAGE_FIELDS = ("crop_padding", "flip", "erasing_rate", "erasing_area")

#: The largest pad-and-crop shift, as a fraction of the image side (0.5: half the image may go).
MAX_CROP_PADDING = 0.5

#: The largest denominator of a number written as a fraction (TrivialAugment's rate is 13/14).
MAX_DENOMINATOR = 100


@dataclass(frozen=True)
class Policy:
    """Four stages, in this order: the base stage on every image (a random pad-and-crop, then a
    horizontal flip), a per-image RandAugment-style op stage, random erasing, and a batch stage
    (CutMix, then MixUp).

    The defaults are KerasCV's `RandAugment` defaults with no base stage, no erasing, no CutMix and
    no MixUp, so a Policy stored before the base stage and erasing existed means what it meant.
    `magnitude_distribution` says how each image draws its strength: "normal" (KerasCV's
    RandAugment: N(magnitude, magnitude_stddev) clipped to [0, 1]) or "uniform" (TrivialAugment:
    uniform in [0, magnitude], with magnitude_stddev 0).
    `ops` takes names, "standard", "extended" or "a,b,c", and is kept as a tuple in catalogue
    order, so policies with the same set of ops are equal.
    `crop_padding`: each image is padded by this fraction of its side and cropped back at a random
    place (CIFAR's 4 px at 32 px is 0.125; 0: no crop). `flip`: half of the images are mirrored
    left-right. `erasing_rate`: the chance that an image gets a square of `erasing_area` of its
    area, at a random place, filled with grey (TrivialAugment's cutout: rate 1, area 0.25).
    """

    magnitude: float = 0.5
    magnitude_stddev: float = 0.15
    magnitude_distribution: str = "normal"
    rate: float = 10 / 11
    augmentations_per_image: int = 3
    ops: tuple[str, ...] = field(default=STANDARD_OPS)
    cutmix_rate: float = 0.0
    mixup_rate: float = 0.0
    cutmix_alpha: float = 1.0
    mixup_alpha: float = 0.2
    crop_padding: float = 0.0
    flip: bool = False
    erasing_rate: float = 0.0
    erasing_area: float = 0.25

    def __post_init__(self) -> None:
        require_unit_interval("magnitude", self.magnitude)
        # KerasCV's RandAugment rejects a stddev above 1; with magnitudes clipped to [0, 1] it
        # would mean nothing anyway.
        require(
            is_number(self.magnitude_stddev) and 0.0 <= self.magnitude_stddev <= 1.0,
            "magnitude_stddev",
            self.magnitude_stddev,
            "a number in [0, 1]",
        )
        distributions = ", ".join(map(repr, MAGNITUDE_DISTRIBUTIONS))
        require(
            isinstance(self.magnitude_distribution, str) and self.magnitude_distribution in MAGNITUDE_DISTRIBUTIONS,
            "magnitude_distribution",
            self.magnitude_distribution,
            f"one of {distributions}",
        )
        # A uniform draw has no spread to set: refusing any other stddev keeps equal behaviour
        # equal Policies.
        require(
            self.magnitude_distribution != "uniform" or self.magnitude_stddev == 0,
            "magnitude_stddev",
            self.magnitude_stddev,
            '0 when magnitude_distribution="uniform" (a uniform draw has no stddev)',
        )
        require_unit_interval("rate", self.rate)
        require(
            is_int(self.augmentations_per_image) and self.augmentations_per_image >= 1,
            "augmentations_per_image",
            self.augmentations_per_image,
            "an integer >= 1",
        )
        require(
            isinstance(self.ops, (str, tuple, list)) and len(self.ops) > 0,
            "ops",
            self.ops,
            f"a non-empty tuple of distinct op names from: {', '.join(OPS)}",
        )
        object.__setattr__(self, "ops", resolve_ops(self.ops))
        require_unit_interval("cutmix_rate", self.cutmix_rate)
        require_unit_interval("mixup_rate", self.mixup_rate)
        for name in ("cutmix_alpha", "mixup_alpha"):
            value = getattr(self, name)
            # inf is refused too: Beta(inf, inf) is no distribution, and the policy's text writes finite numbers.
            require(is_number(value) and 0 < value < math.inf, name, value, "a number > 0")
        require(
            is_number(self.crop_padding) and 0.0 <= self.crop_padding <= MAX_CROP_PADDING,
            "crop_padding",
            self.crop_padding,
            f"a number in [0, {MAX_CROP_PADDING}] (a fraction of the image side; 0: no crop)",
        )
        require(isinstance(self.flip, bool), "flip", self.flip, "True or False")
        require_unit_interval("erasing_rate", self.erasing_rate)
        require(
            is_number(self.erasing_area) and 0.0 < self.erasing_area <= 1.0,
            "erasing_area",
            self.erasing_area,
            "a number in (0, 1] (a fraction of the image's area)",
        )
        # Normalise numbers so that 1 and 1.0 give equal, equally hashed, identically saved policies.
        object.__setattr__(self, "augmentations_per_image", int(self.augmentations_per_image))
        for f in dataclasses.fields(self):
            if f.name not in ("ops", "augmentations_per_image", "magnitude_distribution", "flip"):
                object.__setattr__(self, f.name, float(getattr(self, f.name)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; `Policy.from_dict` reverses it."""
        data = dataclasses.asdict(self)
        data["ops"] = list(self.ops)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Rebuild a Policy; unknown keys are an error, missing keys take the defaults."""
        if not isinstance(data, dict):
            raise AugSearchError(f"policy must be a JSON object, but got policy={data!r}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AugSearchError(
                f"policy has unknown field {unknown[0]!r}; expected fields: {', '.join(sorted(known))}."
            )
        values = dict(data)
        if "ops" in values:
            require(isinstance(values["ops"], (list, tuple)), "ops", values["ops"], "a list of op names")
            values["ops"] = tuple(values["ops"])
        return cls(**values)

    def replace(self, **changes: Any) -> Policy:
        """A copy with some fields changed (validated like a new Policy)."""
        return dataclasses.replace(self, **changes)

    def canonical(self) -> Policy:
        """The same augmentation with the fields that cannot act set as `NO_AUGMENTATION` sets them:
        at rate 0 no op runs (its ops, magnitude and ops per image are unused), and a batch op at
        rate 0 never draws from its alpha, nor erasing at rate 0 from its area. Policies that augment
        alike have equal canonical forms."""
        inert: dict[str, Any] = {}
        if self.rate == 0:
            inert.update({name: getattr(NO_AUGMENTATION, name) for name in _PER_IMAGE_FIELDS})
        if self.cutmix_rate == 0:
            inert["cutmix_alpha"] = NO_AUGMENTATION.cutmix_alpha
        if self.mixup_rate == 0:
            inert["mixup_alpha"] = NO_AUGMENTATION.mixup_alpha
        if self.erasing_rate == 0:
            inert["erasing_area"] = NO_AUGMENTATION.erasing_area
        return self.replace(**inert)

    @property
    def has_base_stage(self) -> bool:
        return self.flip or self.crop_padding > 0

    @property
    def augments_each_image(self) -> bool:
        """Whether any stage before the batch stage can change an image."""
        return self.has_base_stage or self.rate > 0 or self.erasing_rate > 0

    def __str__(self) -> str:
        """The policy's one text, which `Policy.parse` reads back as an equal Policy, e.g.
        "crop0.125+flip erase0.1@0.175 m=U(0,1) n=1 rate=13/14 ops=trivialaugment cutmix=0.5(α=1) mixup=0.5(α=0.2)".

        The base stage and erasing come first when on, CutMix and MixUp last when on; each is left
        out when off with its other field at the default, which parse restores. Numbers are exact
        (`_number_text`).
        """
        return self._text(_number_text)

    def __format__(self, spec: str) -> str:
        """`str(policy)` for an empty spec; else the same text with each number in that float format,
        for tables: f"{policy:.3g}" reads "m=0.439±0.317 ..." where str gives 17 digits. Such a text
        parses back only approximately."""
        return self._text(lambda x: format(x, spec)) if spec else str(self)

    def _text(self, number: Callable[[float], str]) -> str:
        parts = [
            *self._stage_parts(number),
            f"m={self._magnitude_text(number)}",
            f"n={self.augmentations_per_image}",
            f"rate={number(self.rate)}",
            f"ops={ops_text(self.ops)}",
        ]
        for name in ("cutmix", "mixup"):
            rate, alpha = getattr(self, f"{name}_rate"), getattr(self, f"{name}_alpha")
            if rate > 0 or alpha != _DEFAULTS[f"{name}_alpha"]:
                parts.append(f"{name}={number(rate)}(α={number(alpha)})")
        return " ".join(parts)

    def _stage_parts(self, number: Callable[[float], str]) -> list[str]:
        base = [f"crop{number(self.crop_padding)}"] * (self.crop_padding > 0) + ["flip"] * self.flip
        parts = ["+".join(base)] if base else []
        # At rate 0 the area cannot act, but an equal Policy needs it back.
        if self.erasing_rate > 0 or self.erasing_area != _DEFAULTS["erasing_area"]:
            parts.append(f"erase{number(self.erasing_rate)}@{number(self.erasing_area)}")
        return parts

    def _magnitude_text(self, number: Callable[[float], str]) -> str:
        if self.magnitude_distribution == "uniform":
            return f"U(0,{number(self.magnitude)})"
        return f"{number(self.magnitude)}±{number(self.magnitude_stddev)}"

    def __repr__(self) -> str:
        return f"Policy({str(self)!r})"

    @classmethod
    def parse(cls, text: str, *, argument: str = "policy") -> Policy:
        """The Policy whose `str` is `text`. Parts may come in any order; m=, n=, rate= and ops=
        are needed, the others default to off. Raises AugSearchError naming `argument` for
        malformed text or values a Policy does not take."""
        require(isinstance(text, str), argument, text, f"a policy's text such as {_EXAMPLE!r}")
        values: dict[str, Any] = {}
        given: set[str] = set()
        for part in _parts(text):
            key = _part_key(part)
            if key not in _PART_FORMS:
                raise AugSearchError(
                    f"{argument} has unknown part {part!r}; expected parts such as {_EXAMPLE!r}, "
                    f"but got {argument}={text!r}."
                )
            if key in given:
                raise AugSearchError(
                    f"{argument} must give each part once, but {key} comes twice in {argument}={text!r}."
                )
            given.add(key)
            values.update(_read_part(key, part, text, argument))
        missing = [key for key in _REQUIRED_PARTS if key not in given]
        if missing:
            raise AugSearchError(
                f"{argument} must give m=, n=, rate= and ops= (it lacks {missing[0]}=), but got {argument}={text!r}."
            )
        try:
            return cls(**values)
        except AugSearchError as error:
            raise AugSearchError(f"{argument}={text!r} is not a valid policy: {error}") from None


#: Each field's default, which the policy's text leaves out where it may.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Policy)}


def _number_text(x: float) -> str:
    """`x` exactly, in the shortest of: an integer ("1"), Python's shortest repr ("0.125",
    "0.43874291872", "1e-05") and, for a number whose decimals never end, a fraction ("10/11",
    which parse divides as 10 / 11 does)."""
    candidates = [str(int(x))] if x.is_integer() else []
    candidates.append(repr(x))
    fraction = Fraction(x).limit_denominator(MAX_DENOMINATOR)
    if fraction.numerator / fraction.denominator == x and not _has_finite_decimals(fraction.denominator):
        candidates.append(f"{fraction.numerator}/{fraction.denominator}")
    return min(candidates, key=len)


def _has_finite_decimals(denominator: int) -> bool:
    """Whether p/denominator is a decimal that ends (1/8 = 0.125 is written so, not as 1/8)."""
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def _read_number(text: str) -> float:
    numerator, _, denominator = text.partition("/")
    return int(numerator) / int(denominator) if denominator else float(text)


#: A number as `_number_text` writes it.
_NUMBER = r"(\d+(?:\.\d+)?(?:e[-+]?\d+)?|\d+/\d+)"

#: Each part of the text: its pattern and its form, for error messages.
_PART_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "crop/flip": (re.compile(rf"crop{_NUMBER}(\+flip)?|(flip)"), "crop<padding>, crop<padding>+flip or flip"),
    "erase": (re.compile(rf"erase{_NUMBER}@{_NUMBER}"), "erase<rate>@<area>"),
    "m": (
        re.compile(rf"m=(?:{_NUMBER}±{_NUMBER}|U\(0,{_NUMBER}\))"),
        "m=<magnitude>±<stddev> or m=U(0,<magnitude>)",
    ),
    "n": (re.compile(r"n=(\d+)"), "n=<ops per image>"),
    "rate": (re.compile(rf"rate={_NUMBER}"), "rate=<rate>"),
    "ops": (re.compile(r"ops=(.+)"), "ops=<op set or names>"),
    "cutmix": (re.compile(rf"cutmix={_NUMBER}\(α={_NUMBER}\)"), "cutmix=<rate>(α=<alpha>)"),
    "mixup": (re.compile(rf"mixup={_NUMBER}\(α={_NUMBER}\)"), "mixup=<rate>(α=<alpha>)"),
}
#: The parts every text has; the others are left out when off.
_REQUIRED_PARTS = ("m", "n", "rate", "ops")
#: The torchvision baseline's text: every part, for error messages.
_EXAMPLE = "crop0.125+flip erase0.1@0.175 m=U(0,1) n=1 rate=13/14 ops=trivialaugment cutmix=0.5(α=1) mixup=0.5(α=0.2)"


def _parts(text: str) -> list[str]:
    parts: list[str] = []
    for word in text.split():
        # "ops=standard -solarization +rotation": a change to the op set continues the ops part.
        if word[0] in "-+" and parts and parts[-1].startswith("ops="):
            parts[-1] += " " + word
        else:
            parts.append(word)
    return parts


def _part_key(part: str) -> str:
    if part.startswith(("crop", "flip")):
        return "crop/flip"
    return "erase" if part.startswith("erase") else part.partition("=")[0]


def _read_part(key: str, part: str, text: str, argument: str) -> dict[str, Any]:
    """The Policy fields that one part gives; AugSearchError naming `argument` when it is malformed."""
    pattern, form = _PART_FORMS[key]
    match = pattern.fullmatch(part)
    try:
        if match:
            return _part_fields(key, match.groups())
    except (ArithmeticError, ValueError):  # 1/0, a fraction too large for a float, too many digits for an int
        pass
    numbers = "" if key == "ops" else " (numbers such as 0.25, 1e-05 or 10/11)"
    raise AugSearchError(f"{argument} part {part!r} must be {form}{numbers}, but got {argument}={text!r}.")


def _part_fields(key: str, groups: tuple) -> dict[str, Any]:
    if key == "crop/flip":
        crop, plus_flip, flip = groups
        return {"crop_padding": _read_number(crop) if crop else 0.0, "flip": bool(plus_flip or flip)}
    if key == "erase":
        return {"erasing_rate": _read_number(groups[0]), "erasing_area": _read_number(groups[1])}
    if key == "m":
        mean, stddev, uniform = groups
        if uniform is not None:
            return {"magnitude": _read_number(uniform), "magnitude_stddev": 0.0, "magnitude_distribution": "uniform"}
        return {"magnitude": _read_number(mean), "magnitude_stddev": _read_number(stddev)}
    if key == "n":
        return {"augmentations_per_image": int(groups[0])}
    if key == "rate":
        return {"rate": _read_number(groups[0])}
    if key == "ops":
        return {"ops": groups[0]}
    return {f"{key}_rate": _read_number(groups[0]), f"{key}_alpha": _read_number(groups[1])}


#: No augmentation at all (rate 0: no op ever runs). Its ops are the default search space's
#: candidates, so that the space gives it back exactly.
NO_AUGMENTATION = Policy(
    rate=0.0, magnitude=0.0, magnitude_stddev=0.0, augmentations_per_image=1, ops=TRIVIALAUGMENT_OPS
)

#: The KerasCV guide's hand-set pipeline: RandAugment(magnitude=0.3, magnitude_stddev=0.2,
#: augmentations_per_image=3, rate=1.0), then CutMix and MixUp on every batch.
GUIDE_POLICY = Policy(
    magnitude=0.3,
    magnitude_stddev=0.2,
    rate=1.0,
    augmentations_per_image=3,
    cutmix_rate=1.0,
    mixup_rate=1.0,
)
