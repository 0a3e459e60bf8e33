"""GPU settings for a training process: memory growth, so that trials given a fraction of a GPU
really share it, and mixed precision where the GPU has tensor cores."""

from __future__ import annotations

from collections.abc import Iterable

#: NVIDIA's first compute capability with tensor cores (Volta). Below it float16 runs no faster
#: than float32, so mixed precision would only cost accuracy.
TENSOR_CORES = (7, 0)
MIXED = "mixed_float16"


def configure_gpus() -> list[str]:
    """Let TensorFlow grow its memory on each GPU it sees instead of reserving the whole card
    at start, so that `--gpus-per-trial 0.25` puts four trials on one GPU rather than one trial
    and three out-of-memory errors.

    Call it before TensorFlow first uses a GPU in the process. A no-op without GPUs; a process
    whose GPUs are already initialised (a reused Ray worker) keeps the setting it got first.
    Returns the names of the GPUs it saw.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # "Physical devices cannot be modified after being initialized"
            pass
    return [gpu.name for gpu in gpus]


def has_tensor_cores(details: Iterable[dict]) -> bool:
    """True when there is a GPU and every one has tensor cores, judged from
    `tf.config.experimental.get_device_details` dicts. A GPU whose details give no compute
    capability (not CUDA) is taken to have them, as Keras's own mixed precision does."""
    details = list(details)
    return bool(details) and all(
        tuple(detail.get("compute_capability") or TENSOR_CORES) >= TENSOR_CORES for detail in details
    )


def dtype_policy(default: str) -> str:
    """The Keras dtype policy for training here: mixed_float16 on GPUs with tensor cores, else
    `default` (the global policy as it is)."""
    import tensorflow as tf

    details = [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]
    return MIXED if has_tensor_cores(details) else default
