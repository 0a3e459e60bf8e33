"""Fault injection for tests: trials that crash, diverge or run out of memory, on demand.

    settings = SearchSettings(..., keras_callbacks=inject_faults("0:raise,1:nan,2:oom"))

makes trial 0 raise a RuntimeError, trial 1's weights NaN (so its training loss really becomes
NaN and the trainer's own divergence check fails it) and trial 2 raise TensorFlow's
ResourceExhaustedError, each as its first epoch starts; "*" stands for every trial. The faults run
inside the real Ray workers, through the same `keras_callbacks` hook a user has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from space import AugSearchError

if TYPE_CHECKING:  # TensorFlow: imported in the worker, when a fault is made
    import keras

KINDS = ("raise", "nan", "oom")


def inject_faults(spec: str) -> FaultInjection:
    """`keras_callbacks` for SearchSettings from "TRIAL:KIND,..." (TRIAL a number or "*").
    Raises AugSearchError for a malformed spec."""
    return FaultInjection(spec)


@dataclass(frozen=True)
class FaultInjection:
    """Trial number -> the Keras callbacks that inject its fault (none for other trials)."""

    spec: str

    def __post_init__(self) -> None:
        for item in self.spec.split(","):
            trial, _, kind = item.strip().partition(":")
            if kind not in KINDS or not (trial == "*" or trial.isdigit()):
                raise AugSearchError(
                    f"faults must be TRIAL:KIND,... with KIND in {KINDS}, but got faults={self.spec!r}."
                )

    def __call__(self, trial_number: int) -> list[keras.callbacks.Callback]:
        faults = dict(item.strip().split(":") for item in self.spec.split(","))
        kind = faults.get(str(trial_number), faults.get("*"))
        return [] if kind is None else [_fault_callback(kind, trial_number)]


def _fault_callback(kind: str, trial_number: int) -> keras.callbacks.Callback:
    import keras

    class Fault(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch != 0:
                return
            if kind == "raise":
                raise RuntimeError(f"injected fault: trial {trial_number} raised")
            if kind == "oom":
                import tensorflow as tf

                raise tf.errors.ResourceExhaustedError(
                    None, None, f"OOM when allocating tensor (injected fault in trial {trial_number})"
                )
            for weight in self.model.trainable_weights:
                weight.assign(keras.ops.full(weight.shape, float("nan"), dtype=weight.dtype))

    return Fault()
