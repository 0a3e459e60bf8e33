"""Image classification datasets as uint8 arrays: Fashion-MNIST, any TFDS dataset, or a folder.

A dataset is named by one spec string, the same on the CLI and in Python:

- ``fashion_mnist``: the real Fashion-MNIST from the IDX files of Debian's `dataset-fashion-mnist`.
- ``tfds:NAME``: a TensorFlow Datasets dataset (downloaded and prepared by TFDS on first use).
- ``folder:PATH``: one sub-folder of image files per class.

Or, in Python, an `ArrayData` of your own numpy arrays; its spec is "arrays:" and a digest of them.

Splits that a source lacks are carved out of what it has, stratified and seeded, always before the
training subset is drawn: a validation set never overlaps the training set, and which examples it
holds depends on `seed` only, never on `train_examples`. Only the examples returned are resized.

TensorFlow and TFDS are imported inside the functions that need them, so that this module itself
does not import them and `check_dataset` for fashion_mnist and folders never does.
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, overload

import numpy as np

from space.errors import AugSearchError, first_line, is_int, require
from trainers import _arrays, _folder

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # where Debian's package installs it
DATA_DIR_ENV = "AUGSEARCH_DATA_DIR"
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
#: Share of a source's examples carved out for a split it lacks (validation; and test for folders).
HOLDOUT_FRACTION = 0.1
#: A folder with a larger share of undecodable files is refused: it is probably the wrong folder.
MAX_BAD_FILE_SHARE = 0.2
MIN_IMAGE_SIZE = 8

_SPEC_FORMS = (
    "'fashion_mnist', 'tfds:NAME' (a TensorFlow Datasets name, e.g. 'tfds:oxford_flowers102') "
    "or 'folder:PATH' (a folder with one sub-folder of images per class)"
)
# Independent random streams per purpose, so that e.g. the validation carve for a seed is the same
# whatever subsets are drawn afterwards.
_TEST_CARVE, _VALIDATION_CARVE, _TRAIN_SUBSET, _VALIDATION_SUBSET, _TEST_SUBSET = range(5)


@dataclass(frozen=True, eq=False)  # eq on arrays is ambiguous; compare the arrays themselves
class Split:
    """One split: `images` uint8 (N, size, size, 3) RGB, `labels` int64 (N,). Both read-only."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise AugSearchError(f"images must be uint8 (N, H, W, 3), but got images of {images.dtype} {images.shape}.")
        if labels.dtype != np.int64 or labels.shape != images.shape[:1]:
            raise AugSearchError(
                f"labels must be int64 ({len(images)},), one per image, "
                f"but got labels of {labels.dtype} {labels.shape}."
            )
        # Read-only views: one dataset is shared by every trial in a process (as Ray's object store
        # would share it), so an in-place edit must fail loudly rather than leak into other trials.
        for name, array in (("images", images), ("labels", labels)):
            view = array.view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)

    def __len__(self) -> int:
        return len(self.labels)


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
# Stratified, seeded subsets


def stratified_indices(labels: np.ndarray, n: int, seed: int | Sequence[int]) -> np.ndarray:
    """Indices of `n` examples whose class counts are proportional to those of `labels`.

    Each class gets floor or ceil of its exact share (largest remainders get the extra ones, ties
    broken at random so that small `n` does not favour low class ids). Deterministic for a seed
    (an int, or a sequence of ints as `numpy.random.default_rng` takes). Returns the indices sorted
    ascending, so a subset keeps the source order; all indices when `n >= len(labels)`.
    """
    labels = np.asarray(labels)
    require(is_int(n) and n >= 0, "n", n, "an integer >= 0")
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    # Integer arithmetic: the quotas are exact, so no class can round past its own count.
    quotas, remainders = np.divmod(n * counts, len(labels))
    order = np.lexsort((rng.random(len(classes)), -remainders))
    quotas[order[: n - quotas.sum()]] += 1
    picks = [rng.choice(np.flatnonzero(labels == c), q, replace=False) for c, q in zip(classes, quotas, strict=True)]
    return np.sort(np.concatenate(picks))


class _Pool(NamedTuple):
    """The labels of a split and how to fetch its raw images, so that only chosen ones are decoded."""

    labels: np.ndarray
    fetch: Callable[[np.ndarray], np.ndarray | list[np.ndarray]]  # indices -> HxWxC uint8 images

    def subset(self, indices: np.ndarray) -> _Pool:
        return _Pool(self.labels[indices], lambda i: self.fetch(indices[i]))


def _carve(pool: _Pool, n: int, seed: int, stream: int) -> tuple[_Pool, _Pool]:
    """(carved, rest): a stratified, seeded n-example holdout and everything else."""
    carved = stratified_indices(pool.labels, n, (seed, stream))
    rest = np.setdiff1d(np.arange(len(pool.labels)), carved)
    return pool.subset(carved), pool.subset(rest)


def _materialize(pool: _Pool, n: int | None, seed: tuple[int, int], image_size: int) -> Split:
    """Draw the stratified subset (all when n is None), then decode and resize only that."""
    indices = np.arange(len(pool.labels)) if n is None else stratified_indices(pool.labels, n, seed)
    return Split(_resize(pool.fetch(indices), image_size), pool.labels[indices].astype(np.int64))


def _resize(images: np.ndarray | list[np.ndarray], size: int) -> np.ndarray:
    """uint8 (N, size, size, 3): bilinear resize, rounded and clipped; 1-channel images become RGB."""
    import tensorflow as tf

    out = np.empty((len(images), size, size, 3), np.uint8)
    if isinstance(images, list) and images and len({image.shape for image in images}) == 1:
        images = np.stack(images)
    if isinstance(images, np.ndarray):
        # Chunks of about 64 MB of float32 output: 60k images at 224 px never exist at once.
        step = max(1, 2**24 // (size * size * 3))
        for start in range(0, len(images), step):
            out[start : start + step] = _resize_batch(tf, images[start : start + step], size)
    else:
        for i, image in enumerate(images):
            out[i] = _resize_batch(tf, image[None], size)[0]
    return out


def _resize_batch(tf, batch: np.ndarray, size: int) -> np.ndarray:
    if batch.shape[1:3] == (size, size):
        return batch  # no resampling at all: the pixels stay exact (broadcast makes grey RGB)
    # antialias only matters when shrinking; without it, photos shrunk to 32 px alias badly.
    resized = tf.image.resize(batch, (size, size), method="bilinear", antialias=True).numpy()
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Spec parsing and cheap checks


def _parse_spec(spec: object) -> tuple[str, str]:
    """("fashion_mnist", ""), ("tfds", NAME) or ("folder", PATH)."""
    if spec == "fashion_mnist":
        return "fashion_mnist", ""
    if isinstance(spec, str):
        kind, _, rest = spec.partition(":")
        if kind in ("tfds", "folder") and rest.strip():
            return kind, rest
        if kind == "arrays":  # as a study records an ArrayData: a digest cannot be loaded
            raise AugSearchError(
                f"dataset={spec!r} names in-memory arrays, which cannot be loaded from their spec; pass "
                f"the trainers.ArrayData itself (in Python), or one of {_SPEC_FORMS}."
            )
    raise AugSearchError(f"dataset must be one of {_SPEC_FORMS}, but got dataset={spec!r}.")


def check_dataset(spec: str | ArrayData, data_dir: str | os.PathLike | None = None) -> None:
    """Cheap checks of a dataset spec (and data_dir) before anything expensive starts.

    An ArrayData was checked when it was built. Otherwise checks the spec's form; for
    fashion_mnist that the four IDX files exist and have valid headers; for tfds that TFDS knows
    the name and it is an image classification dataset (nothing is downloaded); for folders the
    class folders, each with at least one decodable image. Raises
    AugSearchError with a one-line message.
    """
    if isinstance(spec, ArrayData):
        require(
            data_dir is None or isinstance(data_dir, (str, os.PathLike)), "data_dir", data_dir, "a folder path or None"
        )
        return
    kind, arg = _parse_spec(spec)
    require(data_dir is None or isinstance(data_dir, (str, os.PathLike)), "data_dir", data_dir, "a folder path or None")
    if kind == "fashion_mnist":
        for path in _fashion_mnist_paths(data_dir).values():
            _read_idx(path, header_only=True)
    elif kind == "tfds":
        _tfds_builder(spec, arg, data_dir)
    else:
        class_names, files = _folder_files(spec, arg)
        # Decoding stops at each class's first image: cheap for a healthy folder, while a folder
        # of corrupt files fails here, before a search starts, rather than when it is loaded.
        for name, class_files in zip(class_names, files, strict=True):
            if not any(_folder.decode_rgb(file) is not None for file in class_files):
                raise AugSearchError(
                    f"dataset={spec!r}: class folder {name!r} has no decodable images (none of its "
                    f"{len(class_files)} files is an image Pillow can read); fix or remove its files."
                )


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

    kind, class_names, pools, skipped = _pools(spec, data_dir, include_test)
    name = spec.spec if isinstance(spec, ArrayData) else spec
    holdout = max(1, round(len(pools["train"].labels) * HOLDOUT_FRACTION))
    if kind == "folder":
        # A folder has no split structure: its test split is carved first, and always (asked for
        # or not), so that validation and training never depend on include_test.
        pools["test"], pools["train"] = _carve(pools["train"], holdout, seed, _TEST_CARVE)
    if "validation" not in pools:
        pools["validation"], pools["train"] = _carve(pools["train"], holdout, seed, _VALIDATION_CARVE)
    if include_test and "test" not in pools:
        raise AugSearchError(f"dataset={name!r} has no 'test' split; load it with include_test=False.")

    return ImageDataset(
        spec=name,
        class_names=tuple(class_names),
        train=_materialize(pools["train"], train_examples, (seed, _TRAIN_SUBSET), image_size),
        validation=_materialize(pools["validation"], validation_examples, (seed, _VALIDATION_SUBSET), image_size),
        test=_materialize(pools["test"], None, (seed, _TEST_SUBSET), image_size) if include_test else None,
        skipped_files=skipped,
    )


def _pools(spec: str | ArrayData, data_dir, include_test: bool) -> tuple[str, Sequence[str], dict[str, _Pool], int]:
    """(kind, class names, pools by split, skipped files) of a checked dataset."""
    if isinstance(spec, ArrayData):
        return "arrays", spec.classes, _array_pools(spec, include_test), 0
    kind, arg = _parse_spec(spec)
    if kind == "fashion_mnist":
        return (kind, *_fashion_mnist(data_dir, include_test), 0)
    if kind == "tfds":
        return (kind, *_tfds(spec, arg, data_dir, include_test), 0)
    return (kind, *_folder_dataset(spec, arg))


def _array_pools(data: ArrayData, include_test: bool) -> dict[str, _Pool]:
    wanted = ["train", "validation"] + (["test"] if include_test else [])
    pairs = {part: pair for part, pair in data._pairs() if part in wanted and pair is not None}
    # Converted to uint8 only once chosen, as other sources decode only the examples chosen.
    return {part: _Pool(labels.astype(np.int64), _uint8_fetch(images)) for part, (images, labels) in pairs.items()}


def _uint8_fetch(images: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda i: _arrays.as_uint8(images[i])


# ---------------------------------------------------------------------------------------------
# fashion_mnist: IDX files


def _fashion_mnist_paths(data_dir: str | os.PathLike | None) -> dict[str, Path]:
    """The four IDX files, from data_dir, else $AUGSEARCH_DATA_DIR, else Debian's folder.

    A folder may hold the files or a `fashion-mnist` sub-folder that does (as /usr/share/datasets).
    """
    if data_dir is not None:
        where, named = Path(data_dir), f"data_dir={str(data_dir)!r}"
    elif os.environ.get(DATA_DIR_ENV):
        where, named = Path(os.environ[DATA_DIR_ENV]), f"{DATA_DIR_ENV}={os.environ[DATA_DIR_ENV]!r}"
    else:
        where, named = Path(FASHION_MNIST_DIR), "dataset='fashion_mnist'"
    for folder in (where, where / "fashion-mnist"):
        paths = {key: folder / name for key, name in FASHION_MNIST_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    missing = [name for name in FASHION_MNIST_FILES.values() if not (where / name).is_file()]
    raise AugSearchError(
        f"{named}: the Fashion-MNIST files are not in {where} (missing {', '.join(missing)}); install "
        f"them with `sudo apt-get install dataset-fashion-mnist`, or pass data_dir (--data-dir) or "
        f"set {DATA_DIR_ENV} to a folder that holds the four IDX .gz files."
    )


def _damaged(path: Path, why: str) -> AugSearchError:
    return AugSearchError(
        f"dataset='fashion_mnist': {path} is damaged ({why}); reinstall it with "
        f"`sudo apt-get install --reinstall dataset-fashion-mnist`, or point data_dir (--data-dir) "
        f"or {DATA_DIR_ENV} at intact files."
    )


@overload
def _read_idx(path: Path, header_only: Literal[False] = False) -> np.ndarray: ...
@overload
def _read_idx(path: Path, header_only: Literal[True]) -> None: ...
def _read_idx(path: Path, header_only: bool = False) -> np.ndarray | None:
    """A gzipped IDX file of unsigned bytes as an array (None when only the header is checked)."""
    ndim = 3 if "idx3" in path.name else 1  # the names say it: idx3 = images, idx1 = labels
    header_bytes = 4 + 4 * ndim
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(header_bytes) if header_only else f.read()
    except (OSError, EOFError, zlib.error) as error:  # not gzip, truncated, bad CRC
        raise _damaged(path, f"cannot be decompressed: {error}") from None
    if len(data) < header_bytes:
        raise _damaged(path, f"only {len(data)} bytes")
    magic, *dims = struct.unpack(f">{1 + ndim}I", data[:header_bytes])
    # The IDX magic: two zero bytes, 0x08 for unsigned bytes, then the number of dimensions.
    if magic != 0x0800 + ndim:
        raise _damaged(path, f"IDX magic number {magic:#010x}, expected {0x0800 + ndim:#010x}")
    if header_only:
        return None
    body = np.frombuffer(data, np.uint8, offset=header_bytes)
    if body.size != int(np.prod(dims)):
        raise _damaged(path, f"{body.size} data bytes where its header promises {int(np.prod(dims))}")
    return body.reshape(dims)


def _fashion_mnist(data_dir, include_test: bool) -> tuple[Sequence[str], dict[str, _Pool]]:
    paths = _fashion_mnist_paths(data_dir)
    pools = {"train": _idx_pool(paths["train_images"], paths["train_labels"])}
    if include_test:  # 10k images only read when asked for
        pools["test"] = _idx_pool(paths["test_images"], paths["test_labels"])
    return FASHION_MNIST_CLASSES, pools


def _idx_pool(images_path: Path, labels_path: Path) -> _Pool:
    images, labels = _read_idx(images_path), _read_idx(labels_path)
    if len(images) != len(labels):
        raise _damaged(images_path, f"{len(images)} images but {labels_path.name} has {len(labels)} labels")
    if labels.max(initial=0) >= len(FASHION_MNIST_CLASSES):
        raise _damaged(labels_path, f"label {labels.max()} outside 0..{len(FASHION_MNIST_CLASSES) - 1}")
    return _Pool(labels.astype(np.int64), lambda i: images[i][..., None])  # grey: one channel


# ---------------------------------------------------------------------------------------------
# tfds:NAME


def _tfds_builder(spec: str, name: str, data_dir):
    """The TFDS builder for `name` (no download), checked to be image classification."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    # TFDS says "unknown name", "unknown config" and "unknown version" with different types.
    except (tfds.core.registered.DatasetNotFoundError, ValueError, AssertionError) as error:
        raise AugSearchError(
            f"dataset={spec!r} is not a TensorFlow Datasets dataset ({first_line(error)}); expected tfds:NAME "
            f"with a name from tfds.list_builders(), e.g. 'tfds:oxford_flowers102'."
        ) from None
    keys, features = builder.info.supervised_keys, builder.info.features
    ok = (
        isinstance(keys, tuple)
        and len(keys) == 2
        and all(isinstance(k, str) and k in features for k in keys)
        and isinstance(features[keys[1]], tfds.features.ClassLabel)
        and len(features[keys[0]].shape or ()) == 3
    )
    require(
        ok,
        "dataset",
        spec,
        "an image classification dataset: supervised keys (image, label) with a "
        "3-D image feature and a ClassLabel label",
    )
    return builder


def _tfds(spec: str, name: str, data_dir, include_test: bool) -> tuple[Sequence[str], dict[str, _Pool]]:
    import tensorflow_datasets as tfds

    builder = _tfds_builder(spec, name, data_dir)
    image_key, label_key = builder.info.supervised_keys
    # Keep images encoded until chosen: a large dataset's decoded train split may not fit in memory.
    encoded = isinstance(builder.info.features[image_key], tfds.features.Image)
    splits, info = tfds.load(
        name,
        data_dir=data_dir,
        as_supervised=True,
        with_info=True,
        decoders={image_key: tfds.decode.SkipDecoding()} if encoded else None,
    )
    if "train" not in splits:
        raise AugSearchError(f"dataset={spec!r} has no 'train' split (it has: {', '.join(splits) or 'none'}).")
    wanted = ["train", "validation"] + (["test"] if include_test else [])
    pools = {split: _tfds_pool(splits[split], encoded) for split in wanted if split in splits}
    return info.features[label_key].names, pools


def _tfds_pool(dataset, encoded: bool) -> _Pool:
    images, label_batches = [], []
    for batch_images, batch_labels in dataset.batch(1024).as_numpy_iterator():
        images.extend(batch_images)
        label_batches.append(batch_labels)
    labels = np.concatenate(label_batches) if label_batches else np.zeros(0, np.int64)
    if encoded:
        return _Pool(labels.astype(np.int64), lambda i: [_decode_tfds_image(images[j]) for j in i])
    return _Pool(labels.astype(np.int64), lambda i: [images[j] for j in i])


def _decode_tfds_image(data: bytes) -> np.ndarray:
    import tensorflow as tf

    # TFDS's own decoder: also scales the uint16 PNGs a few TFDS datasets store.
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()


# ---------------------------------------------------------------------------------------------
# folder:PATH


def _folder_files(spec: str, path: str) -> tuple[list[str], list[list[Path]]]:
    """Class names and each class's files, after the checks that need no decoding."""
    root = Path(path).expanduser()
    if not root.is_dir():
        state = "does not exist" if not root.exists() else "is not a folder"
        raise AugSearchError(
            f"dataset={spec!r}: {root} {state}; expected folder:PATH to name a folder with one "
            f"sub-folder of images per class."
        )
    folders = _folder.class_folders(root)
    if len(folders) < 2:
        found = f" ({folders[0].name!r})" if folders else ""
        raise AugSearchError(
            f"dataset={spec!r}: {root} has {len(folders)} class folder(s){found}; expected at least 2 "
            f"sub-folders, one per class, each holding that class's images."
        )
    files = [_folder.class_files(folder) for folder in folders]
    for folder, class_files in zip(folders, files, strict=True):
        if not class_files:
            raise AugSearchError(
                f"dataset={spec!r}: class folder {folder.name!r} is empty; put that class's images in it or remove it."
            )
    return [folder.name for folder in folders], files


def _folder_dataset(spec: str, path: str) -> tuple[list[str], dict[str, _Pool], int]:
    class_names, files = _folder_files(spec, path)
    # Every file is decoded once here, to know which are images; only the chosen ones again later.
    good, labels, bad = [], [], []
    for label, class_files in enumerate(files):
        for file in class_files:
            if _folder.decode_rgb(file) is None:
                bad.append(file)
            else:
                good.append(file)
                labels.append(label)
    total = len(good) + len(bad)
    root = Path(path).expanduser()
    examples = ", ".join(str(f.relative_to(root)) for f in bad[:3]) + (", ..." if len(bad) > 3 else "")
    if len(bad) > MAX_BAD_FILE_SHARE * total:
        raise AugSearchError(
            f"dataset={spec!r}: {len(bad)} of {total} files ({len(bad) / total:.0%}) are not decodable "
            f"images ({examples}), more than MAX_BAD_FILE_SHARE={MAX_BAD_FILE_SHARE:.0%}; remove or fix them."
        )
    counts = np.bincount(labels, minlength=len(class_names))
    for name, count in zip(class_names, counts, strict=True):
        if count == 0:
            raise AugSearchError(f"dataset={spec!r}: class folder {name!r} has no decodable images.")
    if len(good) < 3:
        raise AugSearchError(
            f"dataset={spec!r} has {len(good)} decodable images; a folder needs at least 3 (train, "
            f"validation and test get at least one each)."
        )
    if bad:
        print(f"{spec}: skipped {len(bad)} files that are not decodable images ({examples})", file=sys.stderr)

    def fetch(indices: np.ndarray) -> list[np.ndarray]:
        images = []
        for i in indices:
            image = _folder.decode_rgb(good[i])
            if image is None:
                raise AugSearchError(f"dataset={spec!r}: {good[i]} stopped being a decodable image while loading.")
            images.append(image)
        return images

    return class_names, {"train": _Pool(np.asarray(labels, np.int64), fetch)}, len(bad)
