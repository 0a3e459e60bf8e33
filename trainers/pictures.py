"""A policy applied to a few pictures, for the sample grids (`search preview`, `search compare --out`,
the dashboard's per-trial grids), which `results.samples` draws.

Eager and seeded: the same pictures, policy and seed give the same output, so that two policies
are compared on the same images (KerasCV also reads TF's global seed, which `augment_pictures`
sets). Unlike training, the batch stage applies every layer whose rate is above 0 rather than
tossing a coin, so that a grid shows what each of the policy's layers does.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from space.layers import BatchStage, apply_stages, image_stages
from space.policy import Policy


@dataclass(frozen=True)
class AugmentedPictures:
    """uint8 pictures after a policy's stages before the batch stage (`per_image`) and after its
    batch stage (`batch`), and the batch layers `batch` shows: (class name, the rate training
    applies it at), in order."""

    per_image: np.ndarray
    batch: np.ndarray
    batch_layers: tuple[tuple[str, float], ...]


def augment_pictures(
    images: np.ndarray, labels: np.ndarray, num_classes: int, policy: Policy, seed: int = 1
) -> AugmentedPictures:
    """`policy` on uint8 `images` (N, H, W, 3) with int `labels` below `num_classes`, seeded
    (sets Keras' global seed to `seed`)."""
    keras.utils.set_random_seed(seed)
    stages = image_stages(policy, seed=seed)
    # One image at a time, as training does: KerasCV's batch path races on the layer's generator.
    per_image = tf.stack([apply_stages(stages, image) for image in tf.constant(images, tf.float32)])
    batch = {"images": per_image, "labels": tf.one_hot(labels, num_classes)}
    applied: list[tuple[str, float]] = []
    if len(labels) >= 2:  # CutMix and MixUp mix pairs of images
        for layer, rate in BatchStage.from_policy(policy, seed=seed).stages:
            if rate > 0:
                batch = layer(batch, training=True)
                applied.append((type(layer).__name__, rate))
    return AugmentedPictures(_to_uint8(per_image), _to_uint8(batch["images"]), tuple(applied))


def _to_uint8(images: tf.Tensor) -> np.ndarray:
    return np.clip(np.round(np.asarray(images)), 0, 255).astype(np.uint8)
