"""Datasets, the tf.data input pipeline, the proxy model, the training loop and budgets.

Never imports Optuna or Ray: a trial's training is plain TensorFlow, Keras and KerasCV. The names
below are imported on first use (PEP 562), so that plain-Python parts such as `trainers.budget`
load without TensorFlow (seconds, and gigabytes for a process that never trains).
"""

from __future__ import annotations

import importlib
import sys
import types

#: Each public name and the module that defines it.
_EXPORTS = {
    "ArrayData": "trainers.data",
    "Budget": "trainers.budget",
    "ImageDataset": "trainers.data",
    "MODELS": "trainers.model",
    "PRESETS": "trainers.budget",
    "Split": "trainers.data",
    "TrainResult": "trainers.train",
    "TrainingDiverged": "trainers.train",
    "build_model": "trainers.model",
    "check_dataset": "trainers.data",
    "check_model": "trainers.model",
    "configure_gpus": "trainers.gpu",
    "load_dataset": "trainers.data",
    "train": "trainers.train",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """`trainers.train` is both a submodule and the function exported under that name. Importing
    the submodule sets it as the package's attribute, which would hide the function from
    `from trainers import train`; the function is what that attribute stays (the module is in
    sys.modules["trainers.train"])."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            return  # __getattr__ finds the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
