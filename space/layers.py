"""Build KerasCV layers from a Policy. The only module of `space` that imports KerasCV.

Ops are plain functions in a name-keyed table (`OP_LAYERS`), separate from the pipeline that
composes them. Each maps the policy's strength (magnitude m, magnitude_stddev s and the
magnitude distribution) to the layer's arguments as documented in `space.ops`; with the "normal"
distribution the ten standard ops use exactly KerasCV's `RandAugment.get_standard_policy` mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras_cv
import tensorflow as tf
from keras_cv.core import NormalFactorSampler, UniformFactorSampler

from space.errors import require
from space.ops import MAGNITUDE_DISTRIBUTIONS, OPS
from space.policy import Policy

VALUE_RANGE = (0, 255)


@dataclass(frozen=True)
class Strength:
    """How strongly an op acts: magnitude m, magnitude_stddev s (the catalogue's notation) and
    how each image draws its own strength from them ("normal" or "uniform")."""

    m: float
    s: float
    distribution: str = "normal"

    def factor(self, scale: float = 1.0):
        """A KerasCV factor sampler that draws each image's strength in [0, scale]."""
        if self.distribution == "uniform":
            # TrivialAugment: uniform in [0, m], rescaled.
            return UniformFactorSampler(0, self.m * scale)
        # KerasCV's RandAugment draws a fresh magnitude per image from N(m, s) clipped to [0, 1].
        return NormalFactorSampler(mean=self.m * scale, stddev=self.s * scale, min_value=0, max_value=scale)

    def complement(self, scale: float):
        """A factor sampler that draws `scale` minus each image's strength (in [0, scale])."""
        if self.distribution == "uniform":
            return UniformFactorSampler(scale - self.m * scale, scale)
        # A normal draw is symmetric: scale - N(m*scale, s*scale) is N(scale - m*scale, s*scale).
        return NormalFactorSampler(mean=scale - self.m * scale, stddev=self.s * scale, min_value=0, max_value=scale)


def _solarization(st, seed):
    return keras_cv.layers.Solarization(
        value_range=VALUE_RANGE,
        # KerasCV caps the addition at 110: more would leave little of the image.
        addition_factor=st.factor(110),
        threshold_factor=st.complement(255),
        seed=seed,
    )


def _posterization(st, seed):
    # Fixed bits under either distribution: the layer takes no factor sampler.
    return keras_cv.layers.Posterization(value_range=VALUE_RANGE, bits=8 - round(4 * st.m))


def _cutout(st, seed):
    # RandomCutout rejects an empty range; a 0-pixel patch at m=0 is still the identity.
    side = (0.0, max(0.5 * st.m, 1e-3))
    return keras_cv.layers.RandomCutout(height_factor=side, width_factor=side, seed=seed)


# Layers given a plain number or range (contrast, brightness, translations, rotation, cutout,
# saturation) already draw uniformly in a range set by m: the same mapping serves both distributions.
OP_LAYERS: dict[str, Callable[[Strength, int | None], keras_cv.layers.Layer]] = {
    "auto_contrast": lambda st, seed: keras_cv.layers.AutoContrast(value_range=VALUE_RANGE, seed=seed),
    "equalization": lambda st, seed: keras_cv.layers.Equalization(value_range=VALUE_RANGE, seed=seed),
    "solarization": _solarization,
    "color_degeneration": lambda st, seed: keras_cv.layers.RandomColorDegeneration(factor=st.factor(), seed=seed),
    # RandomContrast fails on factor 0, hence KerasCV's floor of 0.001.
    "contrast": lambda st, seed: keras_cv.layers.RandomContrast(value_range=VALUE_RANGE, factor=max(st.m, 0.001), seed=seed),
    "brightness": lambda st, seed: keras_cv.layers.RandomBrightness(value_range=VALUE_RANGE, factor=st.m, seed=seed),
    "shear_x": lambda st, seed: keras_cv.layers.RandomShear(x_factor=st.factor(), y_factor=0, seed=seed),
    "shear_y": lambda st, seed: keras_cv.layers.RandomShear(x_factor=0, y_factor=st.factor(), seed=seed),
    "translate_x": lambda st, seed: keras_cv.layers.RandomTranslation(width_factor=st.m, height_factor=0, seed=seed),
    "translate_y": lambda st, seed: keras_cv.layers.RandomTranslation(width_factor=0, height_factor=st.m, seed=seed),
    "rotation": lambda st, seed: keras_cv.layers.RandomRotation(factor=st.m / 12, seed=seed),
    "grid_mask": lambda st, seed: keras_cv.layers.GridMask(ratio_factor=st.factor(0.6), seed=seed),
    "grayscale": lambda st, seed: keras_cv.layers.Grayscale(output_channels=3, seed=seed),
    "posterization": _posterization,
    "sharpness": lambda st, seed: keras_cv.layers.RandomSharpness(factor=st.factor(), value_range=VALUE_RANGE, seed=seed),
    "cutout": _cutout,
    "hue": lambda st, seed: keras_cv.layers.RandomHue(factor=st.factor(0.5), value_range=VALUE_RANGE, seed=seed),
    "saturation": lambda st, seed: keras_cv.layers.RandomSaturation(factor=(0.5 - 0.5 * st.m, 0.5 + 0.5 * st.m), seed=seed),
    "horizontal_flip": lambda st, seed: keras_cv.layers.RandomFlip(mode="horizontal", seed=seed),
}
assert OP_LAYERS.keys() == OPS.keys(), "every catalogue op needs a layer builder"


def build_op(
    name: str, magnitude: float, magnitude_stddev: float, seed: int | None = None,
    magnitude_distribution: str = "normal",
):
    """The KerasCV layer for catalogue op `name` at this magnitude.

    Raises AugSearchError for a seed of 0 or below, or an unknown magnitude distribution.
    """
    _check_seed(seed)
    require(
        isinstance(magnitude_distribution, str) and magnitude_distribution in MAGNITUDE_DISTRIBUTIONS,
        "magnitude_distribution", magnitude_distribution,
        f"one of {', '.join(map(repr, MAGNITUDE_DISTRIBUTIONS))}",
    )
    return OP_LAYERS[name](Strength(magnitude, magnitude_stddev, magnitude_distribution), seed)


def _check_seed(seed: int | None) -> None:
    # Several KerasCV layers test `if seed:`, so seed 0 silently means "unseeded".
    require(
        seed is None or (isinstance(seed, int) and seed >= 1), "seed", seed,
        "None or an integer >= 1 (KerasCV layers take 0 for no seed)",
    )


def build_pipeline(policy: Policy, seed: int | None = None) -> keras_cv.layers.RandomAugmentationPipeline:
    """The per-image stage: a real `keras_cv.layers.RandomAugmentationPipeline` on [0, 255] images."""
    _check_seed(seed)
    layers = [
        build_op(name, policy.magnitude, policy.magnitude_stddev, seed, policy.magnitude_distribution)
        for name in policy.ops
    ]
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
