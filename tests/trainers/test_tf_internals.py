"""The private TensorFlow API in trainers/_tf_internals.py, and KerasCV's public names used instead
of private ones: a release that changes them fails here, saying what to update."""

import keras_cv
import tensorflow as tf

from space.layers import build_op
from trainers import _tf_internals


def test_tensorflow_eager_context_still_holds_the_global_seed():
    tf.random.set_seed(5)  # `_rng` exists once a seed was set
    problem = _tf_internals.eager_seed_problem()
    assert problem is None, problem
    assert _tf_internals.set_eager_seed(7)
    a = tf.random.uniform(())
    tf.random.set_seed(7)  # the public way: the same op seeds follow
    assert float(a) == float(tf.random.uniform(()))


def test_a_changed_eager_context_is_reported_and_nothing_is_set(monkeypatch):
    monkeypatch.setattr(_tf_internals, "_context", lambda: object())
    problem = _tf_internals.eager_seed_problem()
    assert problem.startswith(f"TensorFlow {tf.__version__} changed its eager context: ")
    assert "_seed, _rng" in problem and problem.endswith("update trainers/_tf_internals.py.")
    assert _tf_internals.set_eager_seed(3) is False


def test_kerascv_exports_the_vectorized_layer_base_that_batched_augmentation_checks():
    # trainers/augment.py picks the batched path with this public name (KerasCV 0.9.0).
    base = keras_cv.layers.VectorizedBaseImageAugmentationLayer
    assert isinstance(build_op("brightness", 0.5, 0.0, seed=1), base)
    assert isinstance(keras_cv.layers.RandomRotation(0.1), base)


def _silu_model():
    import keras

    class Silu(keras.layers.Layer):  # no compute_output_shape: Keras traces call() in a graph, as KerasCV's blocks
        def call(self, x):
            return keras.activations.silu(x)

    inputs = keras.Input((4,))
    return keras.Model(inputs, Silu()(keras.layers.Dense(2)(inputs)))


def test_building_a_model_registers_custom_gradients_and_forgetting_drops_only_those():
    registry = _tf_internals.gradient_registry()
    assert registry is not None, (
        f"TensorFlow {tf.__version__} moved its gradient registry (tensorflow.python.framework.ops."
        "gradient_registry._registry): reused workers would grow ~5 MB a trial; update trainers/_tf_internals.py."
    )
    before = set(registry)
    _silu_model()
    added = set(registry) - before
    # What the forgetting relies on: a graph-mode silu registers "CustomGradient-<uid>" each time.
    assert added and all(name.startswith(_tf_internals.CUSTOM_GRADIENT_PREFIX) for name in added), added
    before = set(registry)
    with _tf_internals.forgetting_custom_gradients():
        model = _silu_model()
    assert set(registry) == before
    assert model(tf.ones((1, 4))).shape == (1, 2)  # the model itself still works
