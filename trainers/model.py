"""The classifier a trial trains: a built-in KerasCV EfficientNetV2, a KerasCV preset, or the user's own.

A model is a name in MODELS, a KerasCV backbone preset name, an import path
'package.module:function', or a callable `(input_shape, num_classes, seed) -> keras.Model` (float32
images in [0, 255] of `input_shape` in, class probabilities of shape (None, num_classes) out; it
need not be compiled). See `trainers._user_model` for the last two.

KerasCV's named presets keep their configurations on Kaggle and would download them, so the
architectures used here are written out below (copied from the published EfficientNetV2 B0 and
S configurations; the parameter counts match KerasCV's preset metadata exactly). Any other
KerasCV backbone preset name is still accepted, for users who can download.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import keras_cv
import tensorflow as tf

from space.errors import AugSearchError
from trainers import _tf_internals, _user_model

#: A user's model builder: (input_shape, num_classes, seed) -> an uncompiled keras.Model.
ModelBuilder = Callable[[tuple, int, int], keras.Model]
#: What `build_model`, `check_model` and `train(model=...)` accept.
ModelSpec = str | ModelBuilder

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


def model_name(model: ModelSpec) -> str:
    """The model's name as budgets and the compiled-model cache record it: a str as is, a callable
    as "module:qualname". Raises AugSearchError for anything else."""
    if isinstance(model, str):
        return model
    return _user_model.builder_name(_user_model.resolve(model))


def user_builder(model: ModelSpec) -> ModelBuilder | None:
    """None for a built-in or KerasCV preset name, else the user's builder (an import path is
    imported now). Raises AugSearchError for an unknown name or an unimportable path."""
    if isinstance(model, str) and (model in MODELS or model in keras_cv.models.ImageClassifier.backbone_presets):
        return None
    if isinstance(model, str) and ":" not in model:
        module, dot, function = model.rpartition(".")
        # A dotted name is probably an import path written with a dot where the colon goes.
        hint = f" (an import path needs a colon: {module + ':' + function!r})" if dot and module and function else ""
        raise AugSearchError(
            f"model must be one of: {', '.join(MODELS)} (or a KerasCV backbone preset name such as "
            f"'efficientnetv2_b1', which downloads, or an import path {_user_model.IMPORT_PATH} of your "
            f"own builder), but got model={model!r}{hint}."
        )
    return _user_model.resolve(model)


def check_model(model: ModelSpec, *, num_classes: int = 10, image_size: int = 32) -> None:
    """Raise AugSearchError (one line, starting "model ") unless `model` can be built.

    Names are only looked up. A user's builder is imported, its signature checked, and it is
    called once for `num_classes` classes of `image_size` images: it must return a keras.Model
    with output shape (None, num_classes).
    """
    builder = user_builder(model)
    if builder is None:
        return
    _user_model.check_signature(builder, model)
    input_shape = (image_size, image_size, 3)
    net = _user_model.call_for_check(builder, model, input_shape, num_classes)
    _user_model.require_keras_model(net, model)
    _user_model.require_output_shape(net, model, input_shape, num_classes)


def build_model(model: ModelSpec, num_classes: int, image_size: int, seed: int) -> keras.Model:
    """A fresh (untrained) classifier of float32 images in [0, 255] to float32 class probabilities.

    Seeds Keras' global random state with `seed` first, so that the initial weights depend on it
    alone (a user's builder should also seed its initialisers with `seed`). Raises AugSearchError
    for an unknown name, an unimportable path, or a builder that returns no keras.Model.
    """
    builder = user_builder(model)
    set_random_seed(seed)
    if builder is not None:
        net = builder((image_size, image_size, 3), num_classes, seed)
        _user_model.require_keras_model(net, model)
        return net
    assert isinstance(model, str)  # user_builder returns None for names only
    inputs = keras.Input((image_size, image_size, 3), name="images")
    backbone = _backbone(model, image_size)
    x = backbone(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dropout(DROPOUT, seed=seed, name="top_dropout")(x)
    # float32 logits and softmax even under mixed precision, where float16 would overflow.
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"proxy_{model}")


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
    if not _tf_internals.set_eager_seed(seed):  # no seed set yet, or another TF: correct, only slower
        keras.utils.set_random_seed(seed)
        return
    # Python's, NumPy's and Keras' own seeds; TensorFlow's lands on this throwaway graph, the
    # eager one having been set above as `tf.random.set_seed` sets it, less the cache clearing.
    with tf.Graph().as_default():
        keras.utils.set_random_seed(seed)
