"""The one place that touches TensorFlow's private API: its eager context's global seed, and its
registry of gradient functions.

`tf.random.set_seed` stores the global seed in the eager context's `_seed` and derives op seeds
from a `random.Random` in its `_rng`, then clears the kernel cache (see `trainers.model.
set_random_seed` for why that clearing is avoided). No public API sets the seed without it.

In graph mode, every call of a `tf.custom_gradient` function (`tf.nn.silu`, EfficientNet's
activation, is one) registers a new gradient function, "CustomGradient-<uid>", in TensorFlow's
global gradient registry, which keeps that graph and its tensors alive for the life of the
process: about 5 MB each time the small proxy is built. `forgetting_custom_gradients` drops the
ones registered while building a model that is never differentiated.

tests/trainers/test_tf_internals.py fails with instructions when a TensorFlow release changes this.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

try:
    from tensorflow.python.eager import context as _eager_context
    from tensorflow.python.framework import ops as _ops
except ImportError:  # a TensorFlow that moved them: callers fall back to the public API
    _eager_context = _ops = None

CUSTOM_GRADIENT_PREFIX = "CustomGradient-"

#: What `tf.random.set_seed` sets on the eager context (TensorFlow 2.x up to at least 2.21).
EAGER_SEED_ATTRIBUTES = ("_seed", "_rng")


def _context():
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


def gradient_registry() -> dict | None:
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
