"""Model builders `(input_shape, num_classes, seed) -> keras.Model` for the user-model tests: two
good tiny CNNs (one with batch-norm statistics and dropout) and one for each way a builder can be
wrong."""

import keras


def build(input_shape, num_classes, seed):
    """A tiny CNN (~200 parameters for 10 classes): float32 [0, 255] images in, probabilities out.

    Every initialiser takes `seed`, so the same seed gives the same weights.
    """
    return _tiny_cnn(input_shape, num_classes, seed, with_state=False)


def build_with_state(input_shape, num_classes, seed):
    """`build` with every kind of state the proxy has besides weights: BatchNormalization's moving
    statistics and a seeded Dropout's SeedGenerator, in a graph that builds in a fraction of the
    proxy's time (the model-reuse tests reset and compare all of them)."""
    return _tiny_cnn(input_shape, num_classes, seed, with_state=True)


def _tiny_cnn(input_shape, num_classes, seed, with_state):
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    # With state, the ReLU comes after the batch norm, as in the proxy's blocks.
    activation = None if with_state else "relu"
    x = keras.layers.Conv2D(
        4, 3, strides=2, activation=activation, kernel_initializer=keras.initializers.HeNormal(seed=seed)
    )(x)
    if with_state:
        x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    x = keras.layers.GlobalAveragePooling2D()(x)
    if with_state:
        x = keras.layers.Dropout(0.2, seed=seed + 2)(x)
    outputs = keras.layers.Dense(
        num_classes,
        activation="softmax",
        dtype="float32",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
    )(x)
    return keras.Model(inputs, outputs, name="tiny_cnn_with_state" if with_state else "tiny_cnn")


NOT_CALLABLE = 3


def one_argument(input_shape):
    return build(input_shape, 10, 0)


def not_a_model(input_shape, num_classes, seed):
    return "a string"


def wrong_output(input_shape, num_classes, seed):
    return build(input_shape, num_classes + 1, seed)


def dies_on_odd_seeds(input_shape, num_classes, seed):
    """`build`, except that an odd seed ends the process at once, as a worker killed by the
    system's out-of-memory killer ends."""
    if seed % 2:
        import os

        os._exit(1)
    return build(input_shape, num_classes, seed)
