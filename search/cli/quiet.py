"""Import TensorFlow without its start-up chatter on the terminal.

TensorFlow's C++ side writes several lines to stderr while it loads (absl's "All log messages
before absl::InitializeLog()", oneDNN notices, CPU feature hints), before TF_CPP_MIN_LOG_LEVEL
is read. They bury the one line a user needs, so file descriptor 2 points at /dev/null while
TensorFlow loads. Python errors raised by the import still surface after the restore.
"""

from __future__ import annotations

import os


def import_tensorflow_quietly() -> None:
    """Import TensorFlow, Keras and KerasCV for the CLI's process, quietly and without GPUs
    (trials run in Ray's workers, which see the GPUs Ray gives them)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
        import keras_cv  # noqa: F401
        import tensorflow as tf

        # The CLI's own process (the driver) only makes sample grids: left visible, TensorFlow
        # would reserve most of each GPU's memory here and starve the trials Ray puts on it.
        tf.config.set_visible_devices([], "GPU")
        tf.constant(0)  # the first op prints its own notices
        # ... and the first int32 transpose (KerasCV's Equalization does one) a oneDNN notice.
        tf.transpose(tf.zeros((1, 1, 1, 1), tf.int32), (1, 2, 3, 0))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
