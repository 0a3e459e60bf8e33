"""Datasets, the tf.data input pipeline, the proxy model and the training loop (and, re-exported
from `space.budget`, `Budget` and `PRESETS`).

Never imports Optuna or Ray: a trial's training is plain TensorFlow, Keras and KerasCV. The names
below are imported on first use (PEP 562), so that plain-Python parts such as `trainers.subsets`
load without TensorFlow (seconds, and gigabytes for a process that never trains).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# What __getattr__ returns, for type checkers (`X as X` marks a re-export); at run time the imports stay lazy.
if TYPE_CHECKING:
    from space.budget import PRESETS as PRESETS
    from space.budget import Budget as Budget
    from trainers.data import ArrayData as ArrayData
    from trainers.data import ImageDataset as ImageDataset
    from trainers.data import check_dataset as check_dataset
    from trainers.data import load_dataset as load_dataset
    from trainers.gpu import configure_gpus as configure_gpus
    from trainers.model import MODELS as MODELS
    from trainers.model import build_model as build_model
    from trainers.model import check_model as check_model
    from trainers.subsets import Split as Split
    from trainers.training import TrainingDiverged as TrainingDiverged
    from trainers.training import TrainResult as TrainResult
    from trainers.training import train as train

#: Each public name and the module that defines it.
_EXPORTS = {
    "ArrayData": "trainers.data",
    "Budget": "space.budget",
    "ImageDataset": "trainers.data",
    "MODELS": "trainers.model",
    "PRESETS": "space.budget",
    "Split": "trainers.subsets",
    "TrainResult": "trainers.training",
    "TrainingDiverged": "trainers.training",
    "build_model": "trainers.model",
    "check_dataset": "trainers.data",
    "check_model": "trainers.model",
    "configure_gpus": "trainers.gpu",
    "load_dataset": "trainers.data",
    "train": "trainers.training",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
