"""The evaluation baselines: well-known policies, built as Policies of the catalogue.

- `none`: no augmentation at all (`NO_AUGMENTATION`).
- `guide`: the KerasCV guide's hand-set pipeline (`GUIDE_POLICY`): RandAugment(magnitude=0.3,
  magnitude_stddev=0.2, augmentations_per_image=3, rate=1.0), then CutMix and MixUp on every batch.
- `randaugment`: `keras_cv.layers.RandAugment` with its defaults, which are `Policy()`'s
  (magnitude 0.5, magnitude_stddev 0.15, 3 ops per image, rate 10/11, the ten standard ops).
- `trivialaugment`: TrivialAugment (Müller & Hutter, "TrivialAugment: Tuning-free Yet
  State-of-the-Art Data Augmentation", ICCV 2021): each image gets one op drawn uniformly from its
  14 (identity, auto_contrast, equalize, rotate, solarize, color, posterize, contrast, brightness,
  sharpness, shear_x/y, translate_x/y) at a strength drawn uniformly per image. The catalogue has
  13 of them as layers (`TRIVIALAUGMENT_OPS`); the identity is the pipeline's rate 13/14, so that
  each of the 14 choices has chance 1/14, as in the paper. The strength range is the catalogue's
  at magnitude 1, one mapping for every policy: close to the paper's wide range (torchvision's
  and timm's default TA) for shear, translate, contrast, brightness, colour, sharpness and
  solarize, and RandAugment's standard range for rotation (±30°, wide: ±135°) and posterization
  (4 bits, wide: down to 2), whose wide values destroy most of a small image.

The photo recipes put a base stage before the ops (`crop_padding` 0.125 is CIFAR's 4 px at 32 px):

- `cropflip`: a random pad-and-crop and a horizontal flip, nothing else: the "baseline" column of
  the AutoAugment (Cubuk et al., CVPR 2019), RandAugment (NeurIPS 2020) and TrivialAugment papers.
- `ta-cifar`: the TrivialAugment paper's CIFAR setup: crop and flip, TrivialAugment, then cutout
  (a 16 px square at 32 px on every image: erasing at rate 1 of a quarter of the area).
- `torchvision`: torchvision's classification recipe (its reference scripts' "new training
  recipe"): crop and flip, TrivialAugment, random erasing with probability 0.1, then MixUp
  (alpha 0.2) or CutMix (alpha 1.0) on every batch. Two approximations, both documented in
  docs/policies.md: erasing fills a square of 0.175 of the area (the mean of torchvision's
  uniform 0.02-0.33; its aspect ratio varies too), and the batch stage tosses one coin per layer
  (CutMix 0.5, then MixUp 0.5) where torchvision picks one of the two for every batch.
  Its random-resized crop is the ImageNet-size crop; at the small sizes AugSearch trains on, the
  CIFAR recipes' pad-and-crop stands for it.

Pure Python: the layers are built from these Policies like from any other. Every baseline lies
in the default `SearchSpace`, so a search can start from them (`search.study`).
"""

from __future__ import annotations

from space.errors import AugSearchError
from space.ops import TRIVIALAUGMENT_OPS
from space.policy import GUIDE_POLICY, NO_AUGMENTATION, Policy

_TRIVIALAUGMENT = Policy(
    magnitude=1.0,
    magnitude_stddev=0.0,
    magnitude_distribution="uniform",
    augmentations_per_image=1,
    rate=len(TRIVIALAUGMENT_OPS) / (len(TRIVIALAUGMENT_OPS) + 1),
    ops=TRIVIALAUGMENT_OPS,
)
_CROP_AND_FLIP = {"crop_padding": 0.125, "flip": True}

#: The baselines by name, in the order they are evaluated and shown (see the module docstring
#: for where each comes from).
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
