"""Build Keras and KerasCV layers from a Policy. The only module of `space` that imports KerasCV.

Every op is built the same way from its data in `space.ops`: `keras_cv.layers.<layer>(**arguments,
seed=seed)`, plus `value_range` where the layer takes one. With the "normal" distribution the ten
standard ops get exactly KerasCV's `RandAugment.get_standard_policy` arguments.

The base stage and erasing are Keras' own layers, which draw per image on a batch:
pad-and-crop is `RandomTranslation` with zero fill and nearest-pixel sampling (a shift of up to
`crop_padding` of the side is a crop of the zero-padded image), and erasing is `RandomErasing`
with a fixed square area (`scale=(a, a)`: each side is sqrt(a) of the image's).

The export goes through here both ways (`stage_configs`, `stages_from_configs`), so that the one
place that knows the layers is the one place that imports Keras; `results.export` keeps the file
around them as plain JSON.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import keras
import keras_cv
import tensorflow as tf

from space.errors import AugSearchError, first_line, require
from space.ops import MAGNITUDE_DISTRIBUTIONS, OPS, VALUE_RANGE, Sampler
from space.policy import Policy


def build_op(
    name: str,
    magnitude: float,
    magnitude_stddev: float,
    seed: int | None = None,
    magnitude_distribution: str = "normal",
) -> keras.layers.Layer:
    """The KerasCV layer for catalogue op `name` at this magnitude.

    Raises AugSearchError for an unknown op, a seed of 0 or below, or an unknown magnitude distribution.
    """
    require(name in OPS, "name", name, f"an op from: {', '.join(OPS)}")
    _check_seed(seed)
    require(
        isinstance(magnitude_distribution, str) and magnitude_distribution in MAGNITUDE_DISTRIBUTIONS,
        "magnitude_distribution",
        magnitude_distribution,
        f"one of {', '.join(map(repr, MAGNITUDE_DISTRIBUTIONS))}",
    )
    op = OPS[name]
    layer = getattr(keras_cv.layers, op.layer)
    arguments = {
        key: _factor_sampler(value) if isinstance(value, Sampler) else value
        for key, value in op.arguments(magnitude, magnitude_stddev, magnitude_distribution).items()
    }
    # Only some layers take a value range, and the others reject unknown arguments (RandomBrightness
    # has a default, which is ours anyway).
    if "value_range" in inspect.signature(layer.__init__).parameters:
        arguments["value_range"] = VALUE_RANGE
    # Layers without randomness (Posterization, Grayscale, ...) accept a seed and ignore it.
    return layer(**arguments, seed=seed)


def _factor_sampler(sampler: Sampler) -> keras_cv.core.FactorSampler:
    return getattr(keras_cv.core, sampler.kind)(**sampler.args)


def _check_seed(seed: int | None) -> None:
    # Several KerasCV layers test `if seed:`, so seed 0 silently means "unseeded".
    require(
        seed is None or (isinstance(seed, int) and seed >= 1),
        "seed",
        seed,
        "None or an integer >= 1 (KerasCV layers take 0 for no seed)",
    )


def op_layers(policy: Policy, seed: int | None = None) -> list:
    """The layers the op stage chooses from, one per op of `policy`, in its order."""
    return [
        build_op(name, policy.magnitude, policy.magnitude_stddev, seed, policy.magnitude_distribution)
        for name in policy.ops
    ]


def build_pipeline(policy: Policy, seed: int | None = None) -> keras_cv.layers.RandomAugmentationPipeline:
    """The op stage: a real `keras_cv.layers.RandomAugmentationPipeline` on [0, 255] images."""
    _check_seed(seed)
    return keras_cv.layers.RandomAugmentationPipeline(
        layers=op_layers(policy, seed),
        augmentations_per_image=policy.augmentations_per_image,
        rate=policy.rate,
        seed=seed,
    )


#: What erasing fills its square with: mid-grey, about what erasing after normalisation (zeros at
#: the dataset's mean, as the cutout and random-erasing papers do) leaves.
ERASING_FILL = 127.5


def _stage_seed(seed: int | None, stage: int) -> int | None:
    # Layers seeded alike draw alike: each stage's layer gets a seed of its own, never 0.
    return None if seed is None else 1 + (seed + stage * 1_000_003) % (2**31 - 2)


def build_base_stage(policy: Policy, seed: int | None = None) -> list:
    """The base stage's Keras layers, in order (pad-and-crop, then flip); empty when it is off."""
    _check_seed(seed)
    layers = []
    if policy.crop_padding > 0:
        shift = policy.crop_padding
        layers.append(
            keras.layers.RandomTranslation(
                shift, shift, fill_mode="constant", interpolation="nearest", seed=_stage_seed(seed, 1)
            )
        )
    if policy.flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=_stage_seed(seed, 2)))
    return layers


def build_erasing(policy: Policy, seed: int | None = None) -> keras.layers.RandomErasing | None:
    """The erasing stage, a `keras.layers.RandomErasing`, or None when `erasing_rate` is 0."""
    _check_seed(seed)
    if policy.erasing_rate == 0:
        return None
    rate, area = policy.erasing_rate, policy.erasing_area
    return keras.layers.RandomErasing(
        factor=(rate, rate),
        scale=(area, area),
        fill_value=ERASING_FILL,
        value_range=VALUE_RANGE,
        seed=_stage_seed(seed, 3),
    )


def image_stages(policy: Policy, seed: int | None = None, ops: Callable[..., Any] | None = None) -> list:
    """The callables before the batch stage, in the order training and the export apply them:
    the base stage, the op stage (`ops`, by default `build_pipeline`'s; left out at rate 0), erasing.
    Each is called as `layer(images, training=True)`. Built in that order, so that unseeded
    layers take their seeds from the global ones as a user's program building them in order does."""
    stages = build_base_stage(policy, seed)
    if policy.rate > 0:
        stages.append(ops if ops is not None else build_pipeline(policy, seed))
    erasing = build_erasing(policy, seed)
    return stages + ([erasing] if erasing is not None else [])


def apply_stages(stages: list, images: tf.Tensor) -> tf.Tensor:
    """`images` (float32, [0, 255]) through `stages` in order, as float32: under a mixed-precision
    policy Keras layers compute (and return) float16."""
    for layer in stages:
        images = tf.cast(layer(images, training=True), tf.float32)
    return images


class BatchStage:
    """CutMix with probability `cutmix_rate`, then MixUp with probability `mixup_rate`.

    The coin is tossed once per batch (timm's default "batch" mode): CutMix and MixUp already
    draw their mixing weight per sample, and a per-batch coin keeps the stage exactly
    "the KerasCV layer or nothing", which plain Keras users re-create in a few lines from the
    exported layer configs (see docs/export.md). Works on {"images", "labels"} batches with one-hot
    labels, inside `tf.data.Dataset.map`.
    """

    def __init__(
        self,
        cutmix: keras_cv.layers.CutMix,
        cutmix_rate: float,
        mixup: keras_cv.layers.MixUp,
        mixup_rate: float,
        seed: int | None = None,
    ) -> None:
        self.stages = [(cutmix, float(cutmix_rate)), (mixup, float(mixup_rate))]
        # Stateless coins from a counter keep the stage reproducible for a fixed seed.
        self._coins = (
            tf.random.Generator.from_seed(seed)
            if seed is not None
            else tf.random.Generator.from_non_deterministic_state()
        )

    @classmethod
    def from_policy(cls, policy: Policy, seed: int | None = None) -> BatchStage:
        _check_seed(seed)
        return cls(
            keras_cv.layers.CutMix(alpha=policy.cutmix_alpha, seed=seed),
            policy.cutmix_rate,
            keras_cv.layers.MixUp(alpha=policy.mixup_alpha, seed=seed),
            policy.mixup_rate,
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
            batch = tf.cond(heads, lambda b=batch, op=layer: op(b, training=True), lambda b=batch: b)
        return batch


class Stages(NamedTuple):
    """A policy's layers in the order they apply; `erasing` is None when it is off."""

    base_stage: list
    pipeline: keras_cv.layers.RandomAugmentationPipeline
    erasing: keras.layers.RandomErasing | None
    batch_stage: BatchStage


def stage_configs(policy: Policy) -> dict[str, Any]:
    """The Keras configs of `policy`'s stages, an export file's "keras" entry (its layout is in
    `results.export`): `keras.saving.serialize_keras_object` of unseeded layers, because users'
    own programs decide their seeds."""
    pipeline = build_pipeline(policy)
    (cutmix, cutmix_rate), (mixup, mixup_rate) = BatchStage.from_policy(policy).stages
    erasing = build_erasing(policy)
    return {
        "base_stage": [keras.saving.serialize_keras_object(layer) for layer in build_base_stage(policy)],
        "pipeline": keras.saving.serialize_keras_object(pipeline),
        "erasing": None if erasing is None else keras.saving.serialize_keras_object(erasing),
        "batch_stage": {
            "cutmix": {"rate": cutmix_rate, "layer": keras.saving.serialize_keras_object(cutmix)},
            "mixup": {"rate": mixup_rate, "layer": keras.saving.serialize_keras_object(mixup)},
        },
    }


def stages_from_configs(configs: dict[str, Any], source: str) -> Stages:
    """The layers of an export file's "keras" entry, deserialized with `safe_mode=True` (which
    refuses lambdas) and checked to be the layers `stage_configs` writes.

    `configs` must come from `results.export.keras_configs`, which refuses classes outside Keras
    and KerasCV before Keras imports anything a file names. Raises AugSearchError, its message
    starting with `source` (such as "policy file 'policy.json'").
    """
    pipeline = _deserialize(configs["pipeline"], (keras_cv.layers.RandomAugmentationPipeline,), source, "pipeline")
    for index, layer in enumerate(pipeline.layers):
        if not (isinstance(layer, keras.layers.Layer) and type(layer).__module__.startswith("keras_cv.")):
            raise AugSearchError(
                f"{source}: pipeline layer {index} must be a KerasCV augmentation layer, but its config gives "
                f"{type(layer).__module__}.{type(layer).__name__}."
            )
    base_types = (keras.layers.RandomTranslation, keras.layers.RandomFlip)
    base_stage = [
        _deserialize(config, base_types, source, f"base_stage[{index}]")
        for index, config in enumerate(configs["base_stage"])
    ]
    erasing = configs["erasing"]
    if erasing is not None:
        erasing = _deserialize(erasing, (keras.layers.RandomErasing,), source, "erasing")
    cutmix, mixup = configs["batch_stage"]["cutmix"], configs["batch_stage"]["mixup"]
    batch_stage = BatchStage(
        _deserialize(cutmix["layer"], (keras_cv.layers.CutMix,), source, "batch_stage.cutmix"),
        cutmix["rate"],
        _deserialize(mixup["layer"], (keras_cv.layers.MixUp,), source, "batch_stage.mixup"),
        mixup["rate"],
    )
    return Stages(base_stage, pipeline, erasing, batch_stage)


def _deserialize(config: Any, expected: tuple[type, ...], source: str, where: str) -> Any:
    try:
        layer = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as error:  # Keras raises TypeError, ValueError or its own errors here.
        # Keras appends the whole config to some messages: not what a one-line error needs.
        message = first_line(error).split(" Full object config:")[0]
        message = message if len(message) <= 400 else message[:400] + "..."
        raise AugSearchError(f"{source}: the Keras config of {where} does not load: {message}") from None
    if not isinstance(layer, expected):
        names = " or ".join(kind.__name__ for kind in expected)
        raise AugSearchError(f"{source}: {where} must be a {names}, but its config gives {type(layer).__name__}.")
    return layer
