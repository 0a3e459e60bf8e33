"""Image classification datasets as uint8 arrays, named by one spec string (the same on the CLI and
in Python: ``fashion_mnist``, ``tfds:NAME``, ``folder:PATH``) or given as an `ArrayData` of your own
numpy arrays.

Each kind of spec is a source in `trainers.sources`; this module parses specs, checks and loads
through them, carves the splits a source lacks (before the training subset is drawn, so that
validation depends on the seed alone) and draws the subsets (`trainers.subsets`): see
docs/data-and-models.md. TensorFlow and TFDS are imported only inside the functions that need
them, so that `check_dataset` for fashion_mnist and folders never loads them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from space.budget import MIN_IMAGE_SIZE, Budget
from space.errors import AugSearchError, is_int, require
from trainers import _arrays
from trainers.sources import SOURCES, SPEC_FORMS
from trainers.sources.source import Source
from trainers.subsets import Pool, Split, carve, materialize

#: Share of a source's examples carved out for a split it lacks (validation; and test for folders without test/).
HOLDOUT_FRACTION = 0.1
# Independent random streams per purpose, so that e.g. the validation carve for a seed is the same
# whatever subsets are drawn afterwards.
_TEST_CARVE, _VALIDATION_CARVE, _TRAIN_SUBSET, _VALIDATION_SUBSET, _TEST_SUBSET = range(5)


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A loaded dataset: the training subset, the validation set the search scores, maybe a test set."""

    spec: str
    class_names: tuple[str, ...]
    train: Split
    validation: Split
    test: Split | None
    skipped_files: int = 0

    @property
    def num_classes(self) -> int:
        """len(class_names); labels lie in [0, num_classes)."""
        return len(self.class_names)


@dataclass(frozen=True, eq=False, repr=False)  # eq on arrays is ambiguous, repr would print them
class ArrayData:
    """Your own images and labels, passed to `load_dataset` (or `check_dataset`) instead of a spec.

    `train`, `validation` and `test` are (images, labels) pairs: images (N, H, W) or (N, H, W, 1
    or 3), uint8 or floats/integers in [0, 255]; labels integer class ids of shape (N,). A missing
    validation split is carved from train as for other sources; test is read only with
    `include_test`. `class_names` default to "0", "1", ... Checked on construction (AugSearchError
    naming the part); the fields then hold read-only views and `class_names` a tuple. Leave the
    arrays unchanged afterwards: `spec` identifies them.
    """

    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray] | None = None
    test: tuple[np.ndarray, np.ndarray] | None = None
    class_names: Sequence[str] | None = None

    def __post_init__(self) -> None:
        pairs = {"train": self.train, "validation": self.validation, "test": self.test}
        splits = _arrays.checked_splits(pairs, MIN_IMAGE_SIZE)
        for part, pair in splits.items():
            object.__setattr__(self, part, pair)
        object.__setattr__(self, "class_names", _arrays.checked_class_names(splits, self.class_names))

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names as checked (never None: `__post_init__` fills in "0", "1", ...)."""
        assert self.class_names is not None
        return tuple(self.class_names)

    @functools.cached_property
    def spec(self) -> str:
        """The spec, "arrays:" and 12 hex digits: the same for the same arrays and class names, another for others."""
        return _arrays.digest({"train": self.train, "validation": self.validation, "test": self.test}, self.classes)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{part}={'None' if pair is None else len(pair[1])}" for part, pair in self._pairs())
        return f"ArrayData({self.spec!r}, {sizes}, classes={len(self.classes)})"

    def _pairs(self) -> tuple[tuple[str, tuple[np.ndarray, np.ndarray] | None], ...]:
        return (("train", self.train), ("validation", self.validation), ("test", self.test))


# ---------------------------------------------------------------------------------------------
# Spec parsing and cheap checks


def parse_spec(spec: object) -> tuple[Source, str]:
    """The source of a spec string and its argument: (fashion_mnist, ""), (tfds, NAME), (folder, PATH)."""
    if isinstance(spec, str):
        kind, colon, rest = spec.partition(":")
        source = SOURCES.get(kind)
        if source is not None and (rest.strip() if source.takes_argument else not colon):
            return source, rest
        if kind == "arrays":  # as a study records an ArrayData: a digest cannot be loaded
            raise AugSearchError(
                f"dataset={spec!r} names in-memory arrays, which cannot be loaded from their spec; pass "
                f"the trainers.ArrayData itself (in Python), or one of {SPEC_FORMS}."
            )
    raise AugSearchError(f"dataset must be one of {SPEC_FORMS}, but got dataset={spec!r}.")


def check_dataset(spec: str | ArrayData, data_dir: str | os.PathLike | None = None) -> None:
    """Cheap checks of a dataset spec (and data_dir) before anything expensive starts.

    An ArrayData was checked when it was built. Otherwise checks the spec's form; for
    fashion_mnist that the four IDX files exist and have valid headers; for tfds that TFDS knows
    the name and it is an image classification dataset (nothing is downloaded); for folders the
    layout and the class folders (the same in every split), each with at least one decodable image.
    Raises AugSearchError with a one-line message.
    """
    if isinstance(spec, ArrayData):
        require(
            data_dir is None or isinstance(data_dir, (str, os.PathLike)), "data_dir", data_dir, "a folder path or None"
        )
        return
    source, arg = parse_spec(spec)
    require(data_dir is None or isinstance(data_dir, (str, os.PathLike)), "data_dir", data_dir, "a folder path or None")
    source.check(spec, arg, data_dir)


def _check_count(name: str, value: int | None) -> None:
    require(value is None or (is_int(value) and value >= 1), name, value, "None (all) or an integer >= 1")


def load_dataset(
    spec: str | ArrayData,
    *,
    image_size: int,
    train_examples: int | None,
    validation_examples: int | None,
    seed: int,
    data_dir: str | os.PathLike | None = None,
    include_test: bool = False,
) -> ImageDataset:
    """Load a dataset as uint8 RGB arrays at image_size x image_size.

    `train_examples` / `validation_examples`: stratified subset sizes (None or more than there are:
    all). `data_dir`: Fashion-MNIST's folder (else $AUGSEARCH_DATA_DIR, else Debian's), or TFDS's
    data_dir; folders and ArrayData ignore it. The result's `spec` is an ArrayData's `spec`. The
    test split is read only when `include_test`.
    Raises AugSearchError for bad arguments, missing or damaged data.
    """
    require(
        is_int(image_size) and image_size >= MIN_IMAGE_SIZE,
        "image_size",
        image_size,
        f"an integer >= {MIN_IMAGE_SIZE}",
    )
    _check_count("train_examples", train_examples)
    _check_count("validation_examples", validation_examples)
    require(is_int(seed) and seed >= 0, "seed", seed, "an integer >= 0")
    require(isinstance(include_test, bool), "include_test", include_test, "True or False")
    check_dataset(spec, data_dir)
    image_size = int(image_size)

    class_names: Sequence[str]
    if isinstance(spec, ArrayData):
        name, carves_test = spec.spec, False
        class_names, pools, skipped = spec.classes, _array_pools(spec, include_test), 0
    else:
        source, arg = parse_spec(spec)
        name, carves_test = spec, source.carves_test(spec, arg)
        class_names, pools, skipped = source.load(spec, arg, data_dir, include_test)
    holdout = max(1, round(len(pools["train"].labels) * HOLDOUT_FRACTION))
    if carves_test:
        # Carved first and always (asked for or not): validation and training never depend on include_test.
        pools["test"], pools["train"] = carve(pools["train"], holdout, seed, _TEST_CARVE)
    if "validation" not in pools:
        pools["validation"], pools["train"] = carve(pools["train"], holdout, seed, _VALIDATION_CARVE)
    if include_test and "test" not in pools:
        raise AugSearchError(f"dataset={name!r} has no 'test' split; load it with include_test=False.")

    return ImageDataset(
        spec=name,
        class_names=tuple(class_names),
        train=materialize(pools["train"], train_examples, (seed, _TRAIN_SUBSET), image_size),
        validation=materialize(pools["validation"], validation_examples, (seed, _VALIDATION_SUBSET), image_size),
        test=materialize(pools["test"], None, (seed, _TEST_SUBSET), image_size) if include_test else None,
        skipped_files=skipped,
    )


def load_for_budget(
    spec: str | ArrayData,
    budget: Budget,
    *,
    seed: int,
    data_dir: str | os.PathLike | None = None,
    include_test: bool = False,
) -> ImageDataset:
    """`load_dataset` with what a training at `budget` needs: its image size, its training subset,
    and validation images enough for both per-epoch validation and the final score."""
    return load_dataset(
        spec,
        image_size=budget.image_size,
        train_examples=budget.train_examples,
        validation_examples=budget.validation_to_load,
        seed=seed,
        data_dir=data_dir,
        include_test=include_test,
    )


def _array_pools(data: ArrayData, include_test: bool) -> dict[str, Pool]:
    wanted = ["train", "validation"] + (["test"] if include_test else [])
    pairs = {part: pair for part, pair in data._pairs() if part in wanted and pair is not None}
    # Converted to uint8 only once chosen, as other sources decode only the examples chosen.
    return {part: Pool(labels.astype(np.int64), _uint8_fetch(images)) for part, (images, labels) in pairs.items()}


def _uint8_fetch(images: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda i: _arrays.as_uint8(images[i])
