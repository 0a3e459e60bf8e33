"""`Policy`: one augmentation policy, frozen, validated, JSON-able."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from space.errors import AugSearchError, is_int, is_number, require, require_unit_interval
from space.ops import MAGNITUDE_DISTRIBUTIONS, OPS, STANDARD_OPS, TRIVIALAUGMENT_OPS, resolve_ops

#: What the per-image stage draws from, unused when its rate is 0 (see `Policy.canonical`).
_PER_IMAGE_FIELDS = ("magnitude", "magnitude_stddev", "magnitude_distribution", "augmentations_per_image", "ops")

#: The fields of the base stage and erasing, added after Policies were first stored (all off by default).
STAGE_FIELDS = ("crop_padding", "flip", "erasing_rate", "erasing_area")

#: The largest pad-and-crop shift, as a fraction of the image side (0.5: half the image may go).
MAX_CROP_PADDING = 0.5


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
            require(is_number(value) and value > 0, name, value, "a number > 0")
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

    def stages_text(self) -> str:
        """The base stage and erasing in a few characters ("crop0.125+flip erase1.00@0.25"), "" when off."""
        base = [f"crop{self.crop_padding:.3g}"] * (self.crop_padding > 0) + ["flip"] * self.flip
        parts = ["+".join(base)] if base else []
        if self.erasing_rate > 0:
            parts.append(f"erase{self.erasing_rate:.2f}@{self.erasing_area:.3g}")
        return " ".join(parts)

    def magnitude_text(self) -> str:
        """The magnitude in a few characters: "0.50±0.15" (normal) or "U(0,1.00)" (uniform)."""
        if self.magnitude_distribution == "uniform":
            return f"U(0,{self.magnitude:.2f})"
        return f"{self.magnitude:.2f}±{self.magnitude_stddev:.2f}"

    def __repr__(self) -> str:
        named = {STANDARD_OPS: "standard", TRIVIALAUGMENT_OPS: "trivialaugment"}
        ops = named.get(self.ops, ",".join(self.ops))
        stages = self.stages_text()
        return (
            f"Policy({stages + ' ' if stages else ''}m={self.magnitude_text()} n={self.augmentations_per_image} "
            f"rate={self.rate:.2f} ops=[{ops}] cutmix={self.cutmix_rate:.2f}(α={self.cutmix_alpha:g}) "
            f"mixup={self.mixup_rate:.2f}(α={self.mixup_alpha:g}))"
        )


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
