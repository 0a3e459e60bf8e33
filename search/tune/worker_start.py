"""What every Ray worker does before its first training, exploration's and the race's alike."""

from __future__ import annotations

import os

from trainers import configure_gpus


def start_worker() -> None:
    """Quiet TensorFlow's C++ logs (read once, when TensorFlow loads) and let each GPU grow its
    memory (before TensorFlow takes one), so that fractional GPUs share a device."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    configure_gpus()
