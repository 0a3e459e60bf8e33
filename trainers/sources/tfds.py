"""`tfds:NAME`: a TensorFlow Datasets image classification dataset (TFDS downloads and prepares
it on first use; the checks download nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from space.errors import AugSearchError, first_line, require
from trainers.sources.source import DataDir, Source
from trainers.subsets import Pool


def _tfds_builder(spec: str, name: str, data_dir: DataDir) -> Any:  # a tfds.core.DatasetBuilder
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


def _tfds(spec: str, name: str, data_dir: DataDir, include_test: bool) -> tuple[Sequence[str], dict[str, Pool]]:
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


def _tfds_pool(dataset: Any, encoded: bool) -> Pool:  # a tf.data.Dataset of (image, label)
    images, label_batches = [], []
    for batch_images, batch_labels in dataset.batch(1024).as_numpy_iterator():
        images.extend(batch_images)
        label_batches.append(batch_labels)
    labels = np.concatenate(label_batches) if label_batches else np.zeros(0, np.int64)
    if encoded:
        return Pool(labels.astype(np.int64), lambda i: [_decode_tfds_image(images[j]) for j in i])
    return Pool(labels.astype(np.int64), lambda i: [images[j] for j in i])


def _decode_tfds_image(data: bytes) -> np.ndarray:
    import tensorflow as tf

    # TFDS's own decoder: also scales the uint16 PNGs a few TFDS datasets store.
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()


def _check(spec: str, arg: str, data_dir: DataDir) -> None:
    _tfds_builder(spec, arg, data_dir)


def _load(spec: str, arg: str, data_dir: DataDir, include_test: bool) -> tuple[Sequence[str], dict[str, Pool], int]:
    return (*_tfds(spec, arg, data_dir, include_test), 0)


SOURCE = Source(
    "tfds:NAME",
    "a TensorFlow Datasets name, e.g. 'tfds:oxford_flowers102'",
    check=_check,
    load=_load,
)
