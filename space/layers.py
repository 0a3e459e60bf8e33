"""Build KerasCV layers from a Policy. The only module of `space` that imports KerasCV.

Ops are plain functions in a name-keyed table (`OP_LAYERS`), separate from the pipeline that
composes them. Each maps the policy's magnitude m and magnitude_stddev s to the layer's
arguments as documented in `space.ops`; the ten standard ops use exactly KerasCV's
`RandAugment.get_standard_policy` mapping.
"""

from __future__ import annotations

from typing import Callable

import keras_cv
import tensorflow as tf
from keras_cv.core import NormalFactorSampler

from space.errors import require
from space.ops import OPS
from space.policy import Policy

VALUE_RANGE = (0, 255)


def _normal(m: float, s: float, scale: float = 1.0) -> NormalFactorSampler:
    # KerasCV's RandAugment draws a fresh magnitude per image from N(m, s) clipped to [0, 1].
    return NormalFactorSampler(mean=m * scale, stddev=s * scale, min_value=0, max_value=scale)


def _solarization(m, s, seed):
    return keras_cv.layers.Solarization(
        value_range=VALUE_RANGE,
        # KerasCV caps the addition at 110: more would leave little of the image.
        addition_factor=_normal(m, s, 110),
        threshold_factor=NormalFactorSampler(mean=255 - m * 255, stddev=s * 255, min_value=0, max_value=255),
        seed=seed,
    )


def _posterization(m, s, seed):
    return keras_cv.layers.Posterization(value_range=VALUE_RANGE, bits=8 - round(4 * m))


def _cutout(m, s, seed):
    # RandomCutout rejects an empty range; a 0-pixel patch at m=0 is still the identity.
    side = (0.0, max(0.5 * m, 1e-3))
    return keras_cv.layers.RandomCutout(height_factor=side, width_factor=side, seed=seed)


OP_LAYERS: dict[str, Callable[[float, float, int | None], keras_cv.layers.Layer]] = {
    "auto_contrast": lambda m, s, seed: keras_cv.layers.AutoContrast(value_range=VALUE_RANGE, seed=seed),
    "equalization": lambda m, s, seed: keras_cv.layers.Equalization(value_range=VALUE_RANGE, seed=seed),
    "solarization": _solarization,
    "color_degeneration": lambda m, s, seed: keras_cv.layers.RandomColorDegeneration(factor=_normal(m, s), seed=seed),
    # RandomContrast fails on factor 0, hence KerasCV's floor of 0.001.
    "contrast": lambda m, s, seed: keras_cv.layers.RandomContrast(value_range=VALUE_RANGE, factor=max(m, 0.001), seed=seed),
    "brightness": lambda m, s, seed: keras_cv.layers.RandomBrightness(value_range=VALUE_RANGE, factor=m, seed=seed),
    "shear_x": lambda m, s, seed: keras_cv.layers.RandomShear(x_factor=_normal(m, s), y_factor=0, seed=seed),
    "shear_y": lambda m, s, seed: keras_cv.layers.RandomShear(x_factor=0, y_factor=_normal(m, s), seed=seed),
    "translate_x": lambda m, s, seed: keras_cv.layers.RandomTranslation(width_factor=m, height_factor=0, seed=seed),
    "translate_y": lambda m, s, seed: keras_cv.layers.RandomTranslation(width_factor=0, height_factor=m, seed=seed),
    "rotation": lambda m, s, seed: keras_cv.layers.RandomRotation(factor=m / 12, seed=seed),
    "grid_mask": lambda m, s, seed: keras_cv.layers.GridMask(ratio_factor=_normal(m, s, 0.6), seed=seed),
    "grayscale": lambda m, s, seed: keras_cv.layers.Grayscale(output_channels=3, seed=seed),
    "posterization": _posterization,
    "sharpness": lambda m, s, seed: keras_cv.layers.RandomSharpness(factor=_normal(m, s), value_range=VALUE_RANGE, seed=seed),
    "cutout": _cutout,
    "hue": lambda m, s, seed: keras_cv.layers.RandomHue(factor=_normal(m, s, 0.5), value_range=VALUE_RANGE, seed=seed),
    "saturation": lambda m, s, seed: keras_cv.layers.RandomSaturation(factor=(0.5 - 0.5 * m, 0.5 + 0.5 * m), seed=seed),
    "horizontal_flip": lambda m, s, seed: keras_cv.layers.RandomFlip(mode="horizontal", seed=seed),
}
assert OP_LAYERS.keys() == OPS.keys(), "every catalogue op needs a layer builder"


def build_op(name: str, magnitude: float, magnitude_stddev: float, seed: int | None = None):
    """The KerasCV layer for catalogue op `name` at this magnitude."""
    _check_seed(seed)
    return OP_LAYERS[name](magnitude, magnitude_stddev, seed)


def _check_seed(seed: int | None) -> None:
    # Several KerasCV layers test `if seed:`, so seed 0 silently means "unseeded".
    require(
        seed is None or (isinstance(seed, int) and seed >= 1), "seed", seed,
        "None or an integer >= 1 (KerasCV layers take 0 for no seed)",
    )


def build_pipeline(policy: Policy, seed: int | None = None) -> keras_cv.layers.RandomAugmentationPipeline:
    """The per-image stage: a real `keras_cv.layers.RandomAugmentationPipeline` on [0, 255] images."""
    _check_seed(seed)
    layers = [build_op(name, policy.magnitude, policy.magnitude_stddev, seed) for name in policy.ops]
    return keras_cv.layers.RandomAugmentationPipeline(
        layers=layers, augmentations_per_image=policy.augmentations_per_image, rate=policy.rate, seed=seed
    )


class BatchStage:
    """CutMix with probability `cutmix_rate`, then MixUp with probability `mixup_rate`.

    The coin is tossed once per batch (timm's default "batch" mode): CutMix and MixUp already
    draw their mixing weight per sample, and a per-batch coin keeps the stage exactly
    "the KerasCV layer or nothing", which plain Keras users re-create in a few lines from the
    exported layer configs (see the README). Works on {"images", "labels"} batches with one-hot
    labels, inside `tf.data.Dataset.map`.
    """

    def __init__(self, cutmix, cutmix_rate: float, mixup, mixup_rate: float, seed: int | None = None):
        self.stages = [(cutmix, float(cutmix_rate)), (mixup, float(mixup_rate))]
        # Stateless coins from a counter keep the stage reproducible for a fixed seed.
        self._coins = tf.random.Generator.from_seed(seed) if seed is not None else tf.random.Generator.from_non_deterministic_state()

    @classmethod
    def from_policy(cls, policy: Policy, seed: int | None = None) -> "BatchStage":
        _check_seed(seed)
        return cls(
            keras_cv.layers.CutMix(alpha=policy.cutmix_alpha, seed=seed), policy.cutmix_rate,
            keras_cv.layers.MixUp(alpha=policy.mixup_alpha, seed=seed), policy.mixup_rate,
            seed=seed,
        )

    @property
    def is_identity(self) -> bool:
        return all(rate == 0.0 for _, rate in self.stages)

    def __call__(self, batch: dict) -> dict:
        for layer, rate in self.stages:
            if rate == 0.0:
                continue
            if rate == 1.0:
                batch = layer(batch, training=True)
                continue
            heads = self._coins.uniform(()) < rate
            batch = tf.cond(heads, lambda b=batch, l=layer: l(b, training=True), lambda b=batch: b)
        return batch
