"""The checks and the digest behind `trainers.data.ArrayData`, the user's own numpy arrays.

Every error is a one-line AugSearchError naming the part ("dataset train images", "dataset
validation labels", ...), what was expected and what was given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from space.errors import AugSearchError

PARTS = ("train", "validation", "test")


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return f"a value of type {type(value).__name__}"


def _channels(images: np.ndarray) -> int:
    return 1 if images.ndim == 3 else images.shape[3]


def checked_splits(pairs: dict[str, Any], min_size: int) -> dict[str, tuple[np.ndarray, np.ndarray] | None]:
    """Each part's (images, labels) as a tuple of read-only views, None where the part is None.
    `train` is required; every part must match train's image size and channels."""
    splits: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    for part in PARTS:
        pair = pairs.get(part)
        if pair is None and part != "train":
            splits[part] = None
            continue
        images, labels = _pair(part, pair)
        _check_images(part, images, min_size)
        if part != "train":
            train = splits["train"]
            assert train is not None  # train is first in PARTS, and required
            _check_like_train(part, images, train[0])
        _check_labels(part, labels, len(images))
        splits[part] = (_read_only(images), _read_only(labels))
    return splits


def _pair(part: str, pair: Any) -> tuple[Any, Any]:
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise AugSearchError(
            f"dataset {part} must be a pair (images, labels) of numpy arrays, but got {_describe(pair)}."
        )
    return pair[0], pair[1]


def _read_only(array: np.ndarray) -> np.ndarray:
    # As `Split`: one dataset serves every trial in a process, so an in-place edit must fail loudly.
    view = array.view()
    view.flags.writeable = False
    return view


def _check_images(part: str, images: Any, min_size: int) -> None:
    what = f"dataset {part} images"
    shape_ok = (
        isinstance(images, np.ndarray)
        and images.ndim in (3, 4)
        and len(images) >= 1
        and _channels(images) in (1, 3)
        and min(images.shape[1:3]) >= min_size
    )
    if not shape_ok:
        raise AugSearchError(
            f"{what} must be a numpy array (N, H, W) or (N, H, W, 1 or 3) with N >= 1 and H, W >= "
            f"{min_size}, but got {_describe(images)}."
        )
    if images.dtype == np.uint8:
        return
    is_float = np.issubdtype(images.dtype, np.floating)
    if not (is_float or np.issubdtype(images.dtype, np.integer)):  # bool, complex, object, ...
        raise AugSearchError(f"{what} must be uint8, or floats or integers in [0, 255], but got {_describe(images)}.")
    low, high = images.min(), images.max()
    if is_float and low >= 0 and high <= 1.0:
        raise AugSearchError(
            f"{what} must have values in [0, 255], but got {images.dtype} values in [{low}, {high}]; "
            f"multiply images in [0, 1] by 255."
        )
    if not (low >= 0 and high <= 255):  # also false for NaN
        raise AugSearchError(f"{what} must have values in [0, 255], but got {images.dtype} values in [{low}, {high}].")


def _check_like_train(part: str, images: np.ndarray, train_images: np.ndarray) -> None:
    size, channels = images.shape[1:3], _channels(images)
    want_size, want_channels = train_images.shape[1:3], _channels(train_images)
    if (size, channels) != (want_size, want_channels):
        raise AugSearchError(
            f"dataset {part} images must be {want_size[0]}x{want_size[1]} with {want_channels} channel(s) "
            f"like the train images, but got {_describe(images)}."
        )


def _check_labels(part: str, labels: Any, n: int) -> None:
    what = f"dataset {part} labels"
    if isinstance(labels, np.ndarray) and labels.ndim == 2 and labels.shape[0] == n and labels.shape[1] > 1:
        raise AugSearchError(
            f"{what} must be integer class ids of shape ({n},), but got {_describe(labels)} (one-hot?); "
            f"pass labels.argmax(-1)."
        )
    if not (isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.integer) and labels.shape == (n,)):
        raise AugSearchError(
            f"{what} must be integer class ids of shape ({n},) like the images, but got {_describe(labels)}."
        )


def checked_class_names(splits: dict, class_names: Sequence[str] | None) -> tuple[str, ...]:
    """The class names (given, else "0", "1", ... up to the largest label), after checking that
    every label is a class and that train holds at least 2 classes."""
    if class_names is not None:
        ok = (
            isinstance(class_names, (list, tuple))
            and all(isinstance(c, str) and c.strip() for c in class_names)
            and len(set(class_names)) == len(class_names)
        )
        if not ok:
            raise AugSearchError(
                f"dataset class_names must be a list or tuple of distinct non-empty strings, but got "
                f"class_names={class_names!r}."
            )
    labelled = {part: pair[1] for part, pair in splits.items() if pair is not None}
    num_classes = (
        len(class_names) if class_names is not None else 1 + max(int(labels.max()) for labels in labelled.values())
    )
    because = f" (class_names has {num_classes})" if class_names is not None else ""
    for part, labels in labelled.items():
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise AugSearchError(
                f"dataset {part} labels must be class ids in [0, {num_classes}){because}, "
                f"but got labels from {low} to {high}."
            )
    present = np.unique(labelled["train"])
    if len(present) < 2:
        raise AugSearchError(f"dataset train labels must hold at least 2 classes, but got only class {present[0]}.")
    return tuple(class_names) if class_names is not None else tuple(str(i) for i in range(num_classes))


def digest(splits: dict, class_names: Sequence[str]) -> str:
    """The spec: "arrays:" and 12 hex digits of a blake2b digest over every array's dtype, shape and bytes and
    the class names: the same arrays give the same spec, other arrays (almost surely) another."""
    h = hashlib.blake2b(digest_size=6)
    for part in PARTS:
        pair = splits.get(part)
        h.update(f"{part}:{pair is not None};".encode())  # which splits are given is part of the data
        for array in pair or ():
            # The header fixes the length of the bytes after it, so no two inputs hash alike.
            h.update(f"{array.dtype.str}{array.shape};".encode())
            h.update(np.ascontiguousarray(array).data)
    h.update(json.dumps(list(class_names)).encode())
    return "arrays:" + h.hexdigest()


def as_uint8(images: np.ndarray) -> np.ndarray:
    """(n, H, W, C) uint8 for the resizer: a channel axis for (n, H, W), other dtypes rounded (they
    are in [0, 255] already: checked)."""
    if images.ndim == 3:
        images = images[..., None]
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)
