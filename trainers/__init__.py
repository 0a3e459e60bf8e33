"""Datasets, the tf.data input pipeline, the proxy model, the training loop and budgets.

Never imports Optuna or Ray: a trial's training is plain TensorFlow, Keras and KerasCV.
"""

from trainers.budget import PRESETS, Budget
from trainers.data import ImageDataset, Split, check_dataset, load_dataset
from trainers.gpu import configure_gpus
from trainers.model import MODELS, build_model, check_model
from trainers.train import TrainingDiverged, TrainResult, train

__all__ = [
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
