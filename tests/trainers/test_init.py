"""`trainers` imports its public names on first use: plain-Python parts load without TensorFlow."""

import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

import trainers

ROOT = Path(__file__).resolve().parents[2]


def test_importing_budgets_does_not_import_tensorflow():
    # A new interpreter: this one imported TensorFlow long ago.
    code = (
        "import trainers, sys\n"
        "from trainers import Budget, PRESETS, ArrayData\n"
        "assert 'tensorflow' not in sys.modules, 'trainers.Budget imported TensorFlow'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_public_name_resolves_and_is_listed():
    assert sorted(trainers.__all__) == sorted(
        [
            "ArrayData",
            "Budget",
            "ImageDataset",
            "MODELS",
            "PRESETS",
            "Split",
            "TrainResult",
            "TrainingDiverged",
            "build_model",
            "check_dataset",
            "check_model",
            "configure_gpus",
            "load_dataset",
            "train",
        ]
    )
    for name in trainers.__all__:
        home = importlib.import_module(trainers._EXPORTS[name])
        assert getattr(trainers, name) is getattr(home, name)
    assert set(trainers.__all__) <= set(dir(trainers))
    with pytest.raises(AttributeError, match="module 'trainers' has no attribute 'nope'"):
        _ = trainers.nope


def test_train_is_the_function_once_its_module_is_imported():
    import trainers.training
    from trainers import train

    assert train is trainers.training.train and not isinstance(train, types.ModuleType)
