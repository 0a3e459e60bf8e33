"""The one place that touches TensorFlow's private API: its eager context's global seed, and its
registry of gradient functions.

`set_eager_seed` sets the eager global seed as `tf.random.set_seed` does (no public API does it
otherwise), less clearing the kernel cache, which would make a reused model re-optimise its graph.
`forgetting_custom_gradients` works around https://github.com/tensorflow/tensorflow/issues/27492:
each graph-mode call of a `tf.custom_gradient` function (EfficientNet's swish) registers a gradient
function that keeps its graph alive for the life of the process. Why and how much:
docs/development.md#worker-and-model-reuse, docs/benchmarks.md#worker_memory.
tests/trainers/test_tf_internals.py fails with instructions when a TensorFlow release changes this.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    from tensorflow.python.eager import context as _eager_context
    from tensorflow.python.framework import ops as _ops
except ImportError:  # a TensorFlow that moved them: callers fall back to the public API
    _eager_context = _ops = None

CUSTOM_GRADIENT_PREFIX = "CustomGradient-"

#: What `tf.random.set_seed` sets on the eager context (TensorFlow 2.x up to at least 2.21): the
#: global seed in `_seed`, and in `_rng` the `random.Random` that op seeds are drawn from.
EAGER_SEED_ATTRIBUTES = ("_seed", "_rng")


def _context() -> Any:  # TensorFlow's eager Context, or None
    return None if _eager_context is None else _eager_context.context()


def eager_seed_problem() -> str | None:
    """None when the eager context has `EAGER_SEED_ATTRIBUTES`, else a message saying what to update.

    `_rng` only exists once a seed was set, so ask after a `tf.random.set_seed`.
    """
    import tensorflow as tf

    ctx = _context()
    missing = list(EAGER_SEED_ATTRIBUTES) if ctx is None else [a for a in EAGER_SEED_ATTRIBUTES if not hasattr(ctx, a)]
    if not missing:
        return None
    return (
        f"TensorFlow {tf.__version__} changed its eager context: tensorflow.python.eager.context has no "
        f"{', '.join(missing)} after tf.random.set_seed; set_random_seed falls back to keras.utils."
        f"set_random_seed (correct, ~1 s slower per reused model); update trainers/_tf_internals.py."
    )


def set_eager_seed(seed: int) -> bool:
    """Set TensorFlow's eager global seed as `tf.random.set_seed` does, less clearing the kernel cache.

    Returns False, having set nothing, when the eager context lacks the attributes (a TensorFlow
    that changed them, or no seed set yet in this process).
    """
    ctx = _context()
    if ctx is None or not all(hasattr(ctx, a) for a in EAGER_SEED_ATTRIBUTES):
        return False
    ctx._seed = seed
    ctx._rng = random.Random(seed)
    return True


def gradient_registry() -> dict[str, Any] | None:
    """TensorFlow's gradient functions by op type name, or None when a TensorFlow release moved it."""
    registry = getattr(_ops, "gradient_registry", None)
    table = getattr(registry, "_registry", None)
    return table if isinstance(table, dict) else None


@contextmanager
def forgetting_custom_gradients() -> Iterator[None]:
    """Build a model that will never be differentiated inside this: the custom gradients its
    construction registered are dropped at the end, and with them its graphs. Without the
    registry (another TensorFlow) it does nothing: correct, the memory is only kept."""
    registry = gradient_registry()
    before = set(registry) if registry is not None else set()
    try:
        yield
    finally:
        if registry is not None:
            for name in set(registry) - before:
                if name.startswith(CUSTOM_GRADIENT_PREFIX):
                    del registry[name]
