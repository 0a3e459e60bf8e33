"""Stratified, seeded subsets of a dataset's splits, and the only place images are resized.

A source gives each split as a `Pool`: its labels, and how to fetch the raw images of chosen
indices, so that only the examples returned are decoded and resized.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

import numpy as np

from space.errors import AugSearchError, is_int, require


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


class Pool(NamedTuple):
    """The labels of a split and how to fetch its raw images, so that only chosen ones are decoded."""

    labels: np.ndarray
    fetch: Callable[[np.ndarray], np.ndarray | list[np.ndarray]]  # indices -> HxWxC uint8 images

    def subset(self, indices: np.ndarray) -> Pool:
        return Pool(self.labels[indices], lambda i: self.fetch(indices[i]))


def carve(pool: Pool, n: int, seed: int, stream: int) -> tuple[Pool, Pool]:
    """(carved, rest): a stratified, seeded n-example holdout and everything else."""
    carved = stratified_indices(pool.labels, n, (seed, stream))
    rest = np.setdiff1d(np.arange(len(pool.labels)), carved)
    return pool.subset(carved), pool.subset(rest)


def materialize(pool: Pool, n: int | None, seed: tuple[int, int], image_size: int) -> Split:
    """Draw the stratified subset (all when n is None), then decode and resize only that."""
    indices = np.arange(len(pool.labels)) if n is None else stratified_indices(pool.labels, n, seed)
    return Split(resize(pool.fetch(indices), image_size), pool.labels[indices].astype(np.int64))


def resize(images: np.ndarray | list[np.ndarray], size: int) -> np.ndarray:
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


def _resize_batch(tf: ModuleType, batch: np.ndarray, size: int) -> np.ndarray:
    if batch.shape[1:3] == (size, size):
        return batch  # no resampling at all: the pixels stay exact (broadcast makes grey RGB)
    # antialias only matters when shrinking; without it, photos shrunk to 32 px alias badly.
    resized = tf.image.resize(batch, (size, size), method="bilinear", antialias=True).numpy()
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8)
