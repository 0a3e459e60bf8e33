"""The stages before the batch stage (base, ops, erasing), executed a batch at a time.

`keras_cv.layers.RandomAugmentationPipeline` augments one image at a time: for each of its
`augmentations_per_image` slots, an image skips the slot with probability 1 - rate, else it goes
through one op drawn uniformly from the pipeline's layers. `BatchedPipeline` draws exactly that,
independently for every image of a batch, but then runs each op once per slot over the sub-batch
of images that drew it, with KerasCV's vectorized layers (which draw their random parameters per
image), and stitches the batch back together. Same distribution, one op call per slot and op
instead of one per image: the speed-up grows with the batch and the image size (see
`benchmarks/input_pipeline.py`). The export stays the plain `RandomAugmentationPipeline`.
"""

from __future__ import annotations

from collections.abc import Iterable

import keras
import keras_cv
import tensorflow as tf

from space.layers import apply_stages, image_stages, op_layers
from space.policy import Policy


class ImageStages:
    """`policy`'s stages before the batch stage (`space.layers.image_stages`) on float32 [0, 255]
    images: on a chunk (B, H, W, 3) with the op stage as a `BatchedPipeline`, or with
    `one_at_a_time` on single images (H, W, 3) with KerasCV's own `RandomAugmentationPipeline`."""

    def __init__(self, policy: Policy, seed: int, one_at_a_time: bool = False):
        ops = None if one_at_a_time else BatchedPipeline.from_policy(policy, seed)
        self.layers = image_stages(policy, seed, ops=ops)

    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        return apply_stages(self.layers, images)


class BatchedPipeline:
    """`policy`'s per-image stage on batches of float32 [0, 255] images (B, H, W, 3).

    Reproducible for a seed (given TF's global seed, which KerasCV's layers also read) when it is
    called sequentially, e.g. in a `tf.data` map without `num_parallel_calls`: its draws come from
    stateful generators, like the layers' own.
    """

    def __init__(self, layers: Iterable[keras.layers.Layer], augmentations_per_image: int, rate: float, seed: int):
        # The arguments of RandomAugmentationPipeline, whose draws this reproduces.
        self.layers = list(layers)
        self.rate = float(rate)
        self.slots = augmentations_per_image
        self._draws = tf.random.Generator.from_seed(seed)

    @classmethod
    def from_policy(cls, policy: Policy, seed: int) -> BatchedPipeline:
        return cls(op_layers(policy, seed), policy.augmentations_per_image, policy.rate, seed)

    def draw(self, batch_size: int | tf.Tensor) -> tf.Tensor:
        """Each image's op index for each slot, -1 where it skips the slot: int32 (slots, B).

        RandomAugmentationPipeline skips a slot when uniform[0, 1) > rate, else RandomChoice
        picks one of its layers uniformly.
        """
        shape = (self.slots, batch_size)
        applies = self._draws.uniform(shape) <= self.rate
        ops = self._draws.uniform(shape, minval=0, maxval=len(self.layers), dtype=tf.int32)
        return tf.where(applies, ops, -1)

    def __call__(self, images: tf.Tensor, training: bool = True) -> tf.Tensor:
        """The op stage on a batch (training only: `training` is there to be called like a layer)."""
        if self.rate == 0.0 or not self.layers:
            return images
        choices = self.draw(tf.shape(images)[0])
        positions = tf.range(tf.shape(images)[0])
        for slot in range(self.slots):
            # Part 0 skips the slot, part i + 1 drew layer i: one split and one stitch per slot.
            parts = choices[slot] + 1
            groups = tf.dynamic_partition(images, parts, len(self.layers) + 1)
            indices = tf.dynamic_partition(positions, parts, len(self.layers) + 1)
            pairs = zip(self.layers, groups[1:], strict=True)
            augmented = [groups[0]] + [_apply(layer, group) for layer, group in pairs]
            images = tf.dynamic_stitch(indices, augmented)
        return images


def _apply(layer: keras.layers.Layer, images: tf.Tensor) -> tf.Tensor:
    def augment() -> tf.Tensor:
        if isinstance(layer, keras_cv.layers.VectorizedBaseImageAugmentationLayer):  # public in KerasCV 0.9
            return tf.cast(layer(images, training=True), images.dtype)
        # A non-vectorized KerasCV layer maps over a batch with parallel iterations that race for
        # its random generator; one image at a time keeps a seed's output fixed.
        return tf.map_fn(
            lambda image: tf.cast(layer(image, training=True), images.dtype), images, parallel_iterations=1
        )

    # Layers are not all safe on an empty batch, and an op may draw no image at all.
    return tf.cond(tf.shape(images)[0] > 0, augment, lambda: images)
