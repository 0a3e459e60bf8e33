"""One proxy training: a policy, a dataset and a budget in; per-epoch metrics and a result out."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import keras
import tensorflow as tf

from space.errors import require
from space.policy import Policy
from trainers.budget import Budget
from trainers.model import build_model
from trainers.pipeline import train_dataset, validation_dataset

Report = Callable[[int, dict], None]
LABEL_SMOOTHING = 0.1
MOMENTUM = 0.9


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainResult:
    """What one training returns.

    `val_accuracy` and `val_loss` are the last epoch's. `images_per_second` counts training
    images over the training part of epochs 2 and later (no graph building, no validation);
    with a single epoch it is that epoch's, graph building included. `wall_seconds` is the
    whole call, model building included. `history` has one dict per epoch.
    """

    val_accuracy: float
    val_loss: float
    epochs_run: int
    images_per_second: float
    wall_seconds: float
    history: list[dict] = field(default_factory=list)


def train(
    dataset,
    policy: Policy,
    budget: Budget,
    *,
    seed: int,
    report: Report | None = None,
    fault: Callable[[int, keras.Model], None] | None = None,
) -> TrainResult:
    """Train `budget.model` from scratch on `dataset` augmented by `policy`, and validate it.

    Uses the first `budget.train_examples` / `budget.validation_examples` of the dataset's
    splits. After every epoch calls `report(epoch, {"val_accuracy", "val_loss", "train_loss",
    "epoch_seconds"})` with epochs numbered from 1; whatever `report` raises propagates (that is
    how Ray Tune stops a trial). `fault(epoch, model)`, a test hook, is called as each epoch
    starts: it may raise (a crash, an out-of-memory error) or damage the model (a NaN loss).
    Raises TrainingDiverged when the training loss becomes NaN or infinite.
    """
    started = time.perf_counter()
    # Earlier trainings in this process would otherwise keep their graphs alive.
    keras.backend.clear_session()
    # TF's global seed, not only the layers' own seeds, fixes the stateful ops KerasCV uses.
    keras.utils.set_random_seed(seed)
    train_split = _head(dataset.train, budget.train_examples)
    val_split = _head(dataset.validation, budget.validation_examples)
    batch_size = budget.batch_size
    require(
        len(train_split.labels) >= batch_size, "batch_size", batch_size,
        f"at most the {len(train_split.labels)} training examples of dataset {dataset.spec!r}",
    )
    steps = len(train_split.labels) // batch_size
    num_classes = dataset.num_classes
    train_ds = train_dataset(
        train_split, policy, num_classes=num_classes, batch_size=batch_size, seed=seed, shards=budget.augment_shards
    )
    val_ds = validation_dataset(val_split, num_classes=num_classes, batch_size=batch_size)

    previous_policy = keras.mixed_precision.global_policy()
    if tf.config.list_physical_devices("GPU"):
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_model(budget.model, num_classes, budget.image_size, seed)
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=_schedule(budget, steps), momentum=MOMENTUM),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
            metrics=["accuracy"],
        )
        epochs = _Epochs(report, fault, images_per_epoch=steps * batch_size)
        model.fit(
            train_ds, epochs=budget.epochs, steps_per_epoch=steps, validation_data=val_ds,
            callbacks=[epochs], verbose=0, shuffle=False,
        )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    last = epochs.history[-1]
    return TrainResult(
        val_accuracy=last["val_accuracy"],
        val_loss=last["val_loss"],
        epochs_run=len(epochs.history),
        images_per_second=epochs.images_per_second(),
        wall_seconds=time.perf_counter() - started,
        history=epochs.history,
    )


def _head(split, n: int):
    if len(split.labels) <= n:
        return split
    return dataclasses.replace(split, images=split.images[:n], labels=split.labels[:n])


def _schedule(budget: Budget, steps_per_epoch: int):
    """Linear warm-up to `learning_rate`, then cosine decay to 0 by the last step."""
    total = budget.epochs * steps_per_epoch
    warmup = min(round(budget.warmup_epochs * steps_per_epoch), total - 1)
    if warmup <= 0:
        return keras.optimizers.schedules.CosineDecay(budget.learning_rate, decay_steps=total)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=total - warmup, warmup_target=budget.learning_rate, warmup_steps=warmup
    )


class _Epochs(keras.callbacks.Callback):
    """Times epochs, checks the loss after every batch and reports after every epoch."""

    def __init__(self, report: Report | None, fault: Callable[[int, keras.Model], None] | None, images_per_epoch: int):
        super().__init__()
        self.report, self.fault, self.images_per_epoch = report, fault, images_per_epoch
        self.history: list[dict] = []
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        if self.fault is not None:
            self.fault(self._epoch, self.model)
        self._start = time.perf_counter()
        self._train_seconds = None

    def on_train_batch_end(self, batch, logs=None):
        # TerminateOnNaN would only stop training quietly; a diverged trial must fail loudly.
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"training diverged: the loss became {loss} at epoch {self._epoch}, batch {batch + 1}."
            )

    def on_test_begin(self, logs=None):
        if self._train_seconds is None:
            self._train_seconds = time.perf_counter() - self._start

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self._start
        metrics = {
            "val_accuracy": float(logs["val_accuracy"]),
            "val_loss": float(logs["val_loss"]),
            "train_loss": float(logs["loss"]),
            "epoch_seconds": seconds,
        }
        train_seconds = self._train_seconds if self._train_seconds is not None else seconds
        self.history.append({"epoch": epoch + 1, **metrics, "train_seconds": train_seconds})
        if self.report is not None:
            self.report(epoch + 1, metrics)

    def images_per_second(self) -> float:
        timed = self.history[1:] or self.history
        return self.images_per_epoch * len(timed) / sum(row["train_seconds"] for row in timed)
