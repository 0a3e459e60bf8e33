"""The evaluation baselines: four well-known policies, built as Policies of the catalogue.

- `none`: no augmentation at all (`NO_AUGMENTATION`).
- `guide`: the KerasCV guide's hand-set pipeline (`GUIDE_POLICY`): RandAugment(magnitude=0.3,
  magnitude_stddev=0.2, augmentations_per_image=3, rate=1.0), then CutMix and MixUp on every batch.
- `randaugment`: `keras_cv.layers.RandAugment` with its defaults, which are `Policy()`'s
  (magnitude 0.5, magnitude_stddev 0.15, 3 ops per image, rate 10/11, the ten standard ops).
- `trivialaugment`: TrivialAugment (Müller & Hutter, "TrivialAugment: Tuning-free Yet
  State-of-the-Art Data Augmentation", ICCV 2021): one op per image, always applied, its strength
  drawn uniformly from [0, 1] per image. Restricted to the standard ops, as our issue asks (the
  paper uses its own, wider op set).

Pure Python: the layers are built from these Policies like from any other.
"""

from __future__ import annotations

from space.errors import AugSearchError
from space.ops import STANDARD_OPS
from space.policy import GUIDE_POLICY, NO_AUGMENTATION, Policy

#: The baselines by name, in the order they are evaluated and shown (see the module docstring
#: for where each comes from).
BASELINES: dict[str, Policy] = {
    "none": NO_AUGMENTATION,
    "guide": GUIDE_POLICY,
    "randaugment": Policy(),
    "trivialaugment": Policy(
        magnitude=1.0, magnitude_stddev=0.0, magnitude_distribution="uniform",
        augmentations_per_image=1, rate=1.0, ops=STANDARD_OPS,
    ),
}


def resolve_baselines(text: str) -> tuple[str, ...]:
    """The baseline names of a comma-separated list such as "none,guide", in the order given.

    An empty string (or only commas and spaces) means no baselines. Raises AugSearchError naming
    `baselines` (the CLI says `--baselines`) for a name that is not in `BASELINES` or a name given twice.
    """
    known = ", ".join(BASELINES)
    if not isinstance(text, str):
        raise AugSearchError(f"baselines must be a comma-separated list of: {known}, but got baselines={text!r}.")
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise AugSearchError(
            f"baselines has unknown baseline {unknown[0]!r}; expected a comma-separated list of: {known}, "
            f"but got baselines={text!r}."
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AugSearchError(
            f"baselines must name distinct baselines, but {repeated[0]!r} is given more than once in baselines={text!r}."
        )
    return names
