"""The proxy classifier: a KerasCV EfficientNetV2 backbone built from an in-code configuration.

KerasCV's named presets keep their configurations on Kaggle and would download them, so the
architectures used here are written out below (copied from the published EfficientNetV2 B0 and
S configurations; the parameter counts match KerasCV's preset metadata exactly). Any other
KerasCV backbone preset name is still accepted, for users who can download.
"""

from __future__ import annotations

import random

import keras
import keras_cv
import tensorflow as tf

from space.errors import AugSearchError

_B0 = dict(
    stackwise_kernel_sizes=[3, 3, 3, 3, 3, 3],
    stackwise_num_repeats=[1, 2, 2, 3, 5, 8],
    stackwise_input_filters=[32, 16, 32, 48, 96, 112],
    stackwise_output_filters=[16, 32, 48, 96, 112, 192],
    stackwise_expansion_ratios=[1, 4, 4, 4, 6, 6],
    stackwise_squeeze_and_excite_ratios=[0.0, 0.0, 0.0, 0.25, 0.25, 0.25],
    stackwise_strides=[1, 2, 2, 2, 1, 2],
    stackwise_conv_types=["fused", "fused", "fused", "unfused", "unfused", "unfused"],
)
_S = dict(
    _B0,
    stackwise_num_repeats=[2, 4, 4, 6, 9, 15],
    stackwise_input_filters=[24, 24, 48, 64, 128, 160],
    stackwise_output_filters=[24, 48, 64, 128, 160, 256],
)

#: Backbone configurations by model name: the B0 layout scaled down for CPUs, B0 and S.
MODELS: dict[str, dict] = {
    # ~124k parameters (with a 10-class head), 8 blocks: the CPU proxy. Narrower models gain
    # nothing on a CPU, where graph building and the input pipeline dominate.
    "small": dict(_B0, width_coefficient=0.25, depth_coefficient=0.25),
    "efficientnetv2_b0": dict(_B0, width_coefficient=1.0, depth_coefficient=1.0),
    # The KerasCV augmentation guide's model.
    "efficientnetv2_s": dict(_S, width_coefficient=1.0, depth_coefficient=1.0),
}

DROPOUT = 0.2


def check_model(name: str) -> None:
    """Raise AugSearchError unless `name` is in MODELS or is a KerasCV backbone preset."""
    if name in MODELS or name in keras_cv.models.ImageClassifier.backbone_presets:
        return
    raise AugSearchError(
        f"model must be one of: {', '.join(MODELS)} (or a KerasCV backbone preset name such as "
        f"'efficientnetv2_b1', which downloads), but got model={name!r}."
    )


def build_model(name: str, num_classes: int, image_size: int, seed: int) -> keras.Model:
    """A fresh (untrained) classifier of float32 images in [0, 255] to float32 class probabilities.

    Seeds Keras' global random state with `seed` so that the initial weights depend on it alone.
    Raises AugSearchError for an unknown model name.
    """
    check_model(name)
    set_random_seed(seed)
    inputs = keras.Input((image_size, image_size, 3), name="images")
    backbone = _backbone(name, image_size)
    x = backbone(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dropout(DROPOUT, seed=seed, name="top_dropout")(x)
    # float32 logits and softmax even under mixed precision, where float16 would overflow.
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"proxy_{name}")


def _backbone(name: str, image_size: int) -> keras.Model:
    if name in MODELS:
        # include_rescaling=True: the backbone divides by 255 itself, so it is fed [0, 255].
        return keras_cv.models.EfficientNetV2Backbone(
            include_rescaling=True, input_shape=(image_size, image_size, 3), **MODELS[name]
        )
    # A KerasCV preset (downloads its config, and weights if it has them). Only its backbone
    # is kept, under the same head as the in-code models; whether it rescales its inputs is
    # the preset's own `include_rescaling`.
    return keras_cv.models.ImageClassifier.from_preset(name, num_classes=1).backbone


def set_random_seed(seed: int) -> None:
    """`keras.utils.set_random_seed(seed)` (Python, NumPy, Keras and TensorFlow's global seed),
    less TensorFlow's clearing of its kernel cache.

    `tf.random.set_seed` clears that cache to restart eager stateful random ops, and so also throws
    away every compiled function's instantiated kernels: the next step of a model reused from an
    earlier training would re-optimise its graph (about 1 s for the small proxy on a CPU). No
    training draws from eager stateful random ops: Keras initialisers and layers use stateless ops
    with explicit seeds, and tf.data takes its seeds from the global seed when a pipeline is built.
    tests/trainers/test_model_reuse.py checks that a seed still gives the same training.
    """
    from tensorflow.python.eager import context as eager_context

    ctx = eager_context.context()
    if not (hasattr(ctx, "_seed") and hasattr(ctx, "_rng")):  # another TF: correct, only slower
        keras.utils.set_random_seed(seed)
        return
    with tf.Graph().as_default():
        # Python's, NumPy's and Keras' own seeds; TensorFlow's lands on this throwaway graph...
        keras.utils.set_random_seed(seed)
    # ...and is set here as `tf.random.set_seed` sets it in eager mode, less the cache clearing.
    ctx._seed = seed
    ctx._rng = random.Random(seed)
