"""tf.data input pipelines: augmentation lives here, never inside the Keras model.

A KerasCV augmentation layer inside a model fails in graph mode and would augment at inference
time too; in tf.data it runs on the CPU while the model trains.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from space.layers import BatchStage, build_pipeline
from space.policy import Policy

AUTOTUNE = tf.data.AUTOTUNE


def layer_seed(seed: int) -> int:
    """The augmentation layers' seed for a training seed: never 0, which KerasCV's vectorized
    layers mistake for "no seed" (`if seed:`) and replace by the unseeded global generator."""
    return 1 + seed % (2**31 - 1)


def _as_example(num_classes: int):
    def to_float(images, labels):
        return {"images": tf.cast(images, tf.float32), "labels": tf.one_hot(labels, num_classes)}

    return to_float


def _to_tuple(batch):
    return batch["images"], batch["labels"]


def _source(split) -> tf.data.Dataset:
    # The images are already decoded uint8 numpy arrays in memory: slicing them is the cache.
    return tf.data.Dataset.from_tensor_slices((np.asarray(split.images), np.asarray(split.labels)))


def train_dataset(split, policy: Policy, *, num_classes: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """An endless, shuffled, augmented stream of (float32 [0, 255] images, one-hot labels) batches.

    Endless (`repeat()`): fit it with `steps_per_epoch`. Keras' fit on a finite dataset tears
    its iterator down at the end of each epoch, which stalls 4-8 s on about half the epochs.
    Batches drop their remainder because CutMix and MixUp need at least two images.
    """
    ds = _source(split)
    ds = ds.shuffle(len(split.labels), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(_as_example(num_classes), num_parallel_calls=AUTOTUNE)
    if policy.rate > 0.0:
        per_image = build_pipeline(policy, seed=layer_seed(seed))
        # One image per call, sequentially, for reproducibility: on a batch the KerasCV layer
        # loops with tf.map_fn, whose parallel iterations race for the layer's random generator
        # (the same seed gave different images); so would parallel calls here. Measured as fast.
        ds = ds.map(lambda example: per_image(example, training=True))
    ds = ds.batch(batch_size, drop_remainder=True)
    batch_stage = BatchStage.from_policy(policy, seed=layer_seed(seed))
    if not batch_stage.is_identity:
        ds = ds.map(batch_stage)
    return ds.map(_to_tuple, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def validation_dataset(split, *, num_classes: int, batch_size: int) -> tf.data.Dataset:
    """The validation split as (images, one-hot labels) batches: no augmentation, cached, finite."""
    ds = _source(split).batch(batch_size).map(_as_example(num_classes), num_parallel_calls=AUTOTUNE)
    return ds.map(_to_tuple, num_parallel_calls=AUTOTUNE).cache().prefetch(AUTOTUNE)
