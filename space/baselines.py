"""The evaluation baselines: well-known policies built as plain Policies of the catalogue.

`none`, `guide` (the KerasCV guide's pipeline), `randaugment` (KerasCV's defaults), `trivialaugment`
and the photo recipes `cropflip`, `ta-cifar` and `torchvision`: where each comes from and how it
approximates its source is in docs/policies.md#baselines. Pure Python: the layers are built from
these Policies like from any other. Every baseline lies in the default `SearchSpace`, so a search
can start from them (`search.study`).
"""

from __future__ import annotations

from space.errors import AugSearchError
from space.ops import TRIVIALAUGMENT_OPS
from space.policy import GUIDE_POLICY, NO_AUGMENTATION, Policy

# TrivialAugment (Müller & Hutter, "TrivialAugment: Tuning-free Yet State-of-the-Art Data
# Augmentation", ICCV 2021): its 14 choices are the 13 ops and, at rate 13/14, the identity.
_TRIVIALAUGMENT = Policy(
    magnitude=1.0,
    magnitude_stddev=0.0,
    magnitude_distribution="uniform",
    augmentations_per_image=1,
    rate=len(TRIVIALAUGMENT_OPS) / (len(TRIVIALAUGMENT_OPS) + 1),
    ops=TRIVIALAUGMENT_OPS,
)
_CROP_AND_FLIP = {"crop_padding": 0.125, "flip": True}

#: The baselines by name, in the order they are evaluated and shown (where each comes from:
#: docs/policies.md#baselines).
BASELINES: dict[str, Policy] = {
    "none": NO_AUGMENTATION,
    "guide": GUIDE_POLICY,
    "randaugment": Policy(),
    "trivialaugment": _TRIVIALAUGMENT,
    "cropflip": NO_AUGMENTATION.replace(**_CROP_AND_FLIP),
    "ta-cifar": _TRIVIALAUGMENT.replace(**_CROP_AND_FLIP, erasing_rate=1.0, erasing_area=0.25),
    "torchvision": _TRIVIALAUGMENT.replace(
        **_CROP_AND_FLIP, erasing_rate=0.1, erasing_area=0.175, cutmix_rate=0.5, mixup_rate=0.5
    ),
}


def resolve_baselines(text: str, *, argument: str = "baselines") -> tuple[str, ...]:
    """The baseline names of a comma-separated list such as "none,guide", in the order given.

    An empty string (or only commas and spaces) means no baselines. Raises AugSearchError naming
    `argument` (the CLI says `--baselines`) for a name that is not in `BASELINES` or a name given twice.
    """
    known = ", ".join(BASELINES)
    if not isinstance(text, str):
        raise AugSearchError(f"{argument} must be a comma-separated list of: {known}, but got {argument}={text!r}.")
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise AugSearchError(
            f"{argument} has unknown baseline {unknown[0]!r}; expected a comma-separated list of: {known}, "
            f"but got {argument}={text!r}."
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AugSearchError(
            f"{argument} must name distinct baselines, but {repeated[0]!r} is given more than once "
            f"in {argument}={text!r}."
        )
    return names
