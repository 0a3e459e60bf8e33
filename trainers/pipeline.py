"""tf.data input pipelines: augmentation lives here, never inside the Keras model.

A KerasCV augmentation layer inside a model fails in graph mode and would augment at inference
time too; in tf.data it runs on the CPU while the model trains.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from space.layers import BatchStage
from space.policy import Policy
from trainers.augment import ImageStages
from trainers.subsets import Split

#: A training example as the augmentation stages see it: {"images": float32, "labels": one-hot}.
Example = dict[str, tf.Tensor]

AUTOTUNE = tf.data.AUTOTUNE
# The per-image stage runs on chunks of this many bytes of float32 images: enough images to
# amortise each op's call, few enough to stay in the CPU's caches (docs/benchmarks.md#input_pipeline).
AUGMENT_CHUNK_BYTES = 4 * 2**20
MAX_AUGMENT_CHUNK = 512
# Below this many images per chunk, batching buys nothing (each op would see one or two images):
# such large images go one at a time through KerasCV's own pipeline, measured as fast or faster
# (docs/benchmarks.md#input_pipeline).
MIN_AUGMENT_CHUNK = 16


def augment_chunk(image_shape: tuple[int, ...]) -> int:
    """Images per call of the per-image stage for images of `image_shape` (H, W, C); 1 means one
    image at a time through KerasCV's own RandomAugmentationPipeline."""
    chunk = AUGMENT_CHUNK_BYTES // (4 * int(np.prod(image_shape)))
    return int(min(MAX_AUGMENT_CHUNK, chunk)) if chunk >= MIN_AUGMENT_CHUNK else 1


def layer_seed(seed: int) -> int:
    """The augmentation layers' seed for a training seed: never 0, which KerasCV 0.9's vectorized
    layers mistake for "no seed" (`if seed:`) and replace by the unseeded global generator."""
    return 1 + seed % (2**31 - 1)


def _as_example(num_classes: int) -> Callable[[tf.Tensor, tf.Tensor], Example]:
    def to_float(images: tf.Tensor, labels: tf.Tensor) -> Example:
        return {"images": tf.cast(images, tf.float32), "labels": tf.one_hot(labels, num_classes)}

    return to_float


def _to_tuple(batch: Example) -> tuple[tf.Tensor, tf.Tensor]:
    return batch["images"], batch["labels"]


def _source(split: Split) -> tf.data.Dataset:
    # The images are already decoded uint8 numpy arrays in memory: slicing them is the cache.
    return tf.data.Dataset.from_tensor_slices((np.asarray(split.images), np.asarray(split.labels)))


def train_dataset(
    split: Split, policy: Policy, *, num_classes: int, batch_size: int, seed: int, shards: int = 1
) -> tf.data.Dataset:
    """An endless, shuffled, augmented stream of (float32 [0, 255] images, one-hot labels) batches.

    Endless (`repeat()`): fit it with `steps_per_epoch`. Keras' fit on a finite dataset tears
    its iterator down at the end of each epoch, which stalls (docs/benchmarks.md#input_pipeline).
    Batches drop their remainder because CutMix and MixUp need at least two images.
    The same seed and `shards` (parallel augmentation streams, see `_augmented`) give the same
    stream, given the same TF global seed, which `train` sets.
    """
    n = len(split.labels)
    images, labels = tf.constant(split.images), tf.constant(split.labels)

    def example(index: tf.Tensor) -> Example:
        return _as_example(num_classes)(tf.gather(images, index), tf.gather(labels, index))

    # Shuffling indices rather than images lets every shard below replay the same order cheaply.
    order = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
    if not policy.augments_each_image:
        ds = order.map(example, num_parallel_calls=AUTOTUNE)
    else:
        ds = _augmented(order, example, policy, seed, shards, augment_chunk(split.images.shape[1:]))
    ds = ds.batch(batch_size, drop_remainder=True)
    batch_stage = BatchStage.from_policy(policy, seed=layer_seed(seed))
    if not batch_stage.is_identity:
        ds = ds.map(batch_stage)
    return ds.map(_to_tuple, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE).with_options(_without_autotune())


def _augmented(
    order: tf.data.Dataset, example: Callable[[tf.Tensor], Example], policy: Policy, seed: int, shards: int, chunk: int
) -> tf.data.Dataset:
    # The per-image stages run on chunks of `chunk` images (`ImageStages`: each image still
    # draws its own crop, flip, ops and erasing; each layer runs once per chunk). Their
    # draws and KerasCV's come from stateful generators, so calls running in parallel would take
    # them in a racy order and one seed would give different images. Reproducible and still
    # parallel: `shards` streams, each with its own generators, each sequential over every
    # shards-th image, merged back round-robin into the shuffled order.
    streams = []
    for shard in range(shards):
        stream = order.shard(shards, shard) if shards > 1 else order
        stream = stream.map(example, num_parallel_calls=AUTOTUNE)
        # Large images: KerasCV's own op pipeline, one image per call.
        augment = ImageStages(policy, layer_seed(seed) + shard, one_at_a_time=chunk == 1)
        if chunk > 1:
            stream = stream.batch(chunk)
        stream = stream.map(lambda e, augment=augment: {**e, "images": augment(e["images"])})
        if chunk > 1:
            stream = stream.unbatch()
        streams.append(stream)
    if shards == 1:
        return streams[0]
    streams = [stream.prefetch(chunk) for stream in streams]
    return tf.data.Dataset.choose_from_datasets(streams, tf.data.Dataset.range(shards).repeat())


def validation_dataset(split: Split, *, num_classes: int, batch_size: int) -> tf.data.Dataset:
    """The validation split as (images, one-hot labels) batches: no augmentation, cached, finite."""
    ds = _source(split).batch(batch_size).map(_as_example(num_classes), num_parallel_calls=AUTOTUNE)
    return ds.map(_to_tuple, num_parallel_calls=AUTOTUNE).cache().prefetch(AUTOTUNE).with_options(_without_autotune())


def _without_autotune() -> tf.data.Options:
    # tf.data's autotuning thread sleeps between rounds for a period that doubles as the pipeline
    # runs, and in TF 2.21 an iterator's end waits out that sleep: seconds at the end of a trial
    # (docs/benchmarks.md#input_pipeline). Without it, parallel maps run one call per core and
    # prefetch buffers still grow on their own: no slower here (same images either way).
    options = tf.data.Options()
    options.autotune.enabled = False
    return options
