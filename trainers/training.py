"""One proxy training: a policy, a dataset and a budget in; per-epoch metrics and a result out."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import keras

from space.budget import Budget
from space.errors import require
from space.policy import Policy
from trainers._tf_internals import forgetting_custom_gradients
from trainers._user_model import fingerprint
from trainers.data import ImageDataset
from trainers.gpu import dtype_policy as gpu_dtype_policy
from trainers.model import (
    ModelSpec,
    build_model,
    model_name,
    set_random_seed,
    user_builder,
)
from trainers.pipeline import train_dataset, validation_dataset
from trainers.subsets import Split

#: What `train` calls after every epoch: (epoch, metrics).
Report = Callable[[int, dict[str, Any]], None]
LABEL_SMOOTHING = 0.1
MOMENTUM = 0.9
#: Pixels per validation batch (at least a training batch; 4,096 images at 32 px, 1,024 at 64 px):
#: inference keeps no activations for a backward pass, so large batches validate faster
#: (docs/benchmarks.md#input_pipeline).
VALIDATION_PIXELS = 2**22


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainResult:
    """What one training returns.

    `val_accuracy` and `val_loss` are the last epoch's. `images_per_second` counts training
    images over the training part of epochs 2 and later (no graph building, no validation);
    with a single epoch it is that epoch's, graph building included. `wall_seconds` is the
    whole call, model building included. `history` has one dict per epoch. `test_accuracy` and
    `test_loss` are the trained model's on the dataset's test split, only with `score_test`.
    `timings`: seconds since the call when the input pipelines were built (`pipeline`), the model
    was ready (`model`) and the first training step was done (`first_batch`: graph building and
    the pipeline's start), and whether a kept compiled model was reused (`model_reused`).
    """

    val_accuracy: float
    val_loss: float
    epochs_run: int
    images_per_second: float
    wall_seconds: float
    history: list[dict] = field(default_factory=list)
    test_accuracy: float | None = None
    test_loss: float | None = None
    timings: dict = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """What a search ranks the training by: the last epoch's `objective` (see `train`)."""
        return self.history[-1]["objective"]


def train(
    dataset: ImageDataset,
    policy: Policy,
    budget: Budget,
    *,
    seed: int,
    report: Report | None = None,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    model: ModelSpec | None = None,
    reuse_model: bool = True,
    score_test: bool = False,
) -> TrainResult:
    """Train `model` (default `budget.model`) from scratch on `dataset` augmented by `policy`, and
    validate it. Returns a TrainResult.

    Uses the first `budget.train_examples` / `budget.validation_examples` of the dataset's splits.
    After every epoch calls `report(epoch, metrics)` with epochs numbered from 1 and metrics
    `objective` (`val_accuracy`, except after the last epoch of a budget with `score_examples`: the
    accuracy on that many validation images), `val_accuracy`, `val_loss`, `train_loss`,
    `train_accuracy`, `epoch_seconds`, `train_seconds` (the training steps alone, without
    validation), `images_per_second` (so far, as in TrainResult) and `timings` (a copy of
    TrainResult's so far); whatever `report` raises propagates (that is how Ray Tune stops a trial).
    `callbacks` are Keras callbacks run after the trainer's own, which checks the loss after every
    batch: a callback that damages the weights still ends the training with TrainingDiverged.
    `model`: a model name, an import path or a builder callable (see `trainers.model`), e.g. one
    defined in a notebook, used instead of `budget.model`.

    `reuse_model`: keep the compiled model for the next training in this process with the same
    model, image size, classes, batch size, steps and optimiser settings, which then only resets
    its weights, random-seed state and optimiser state from a new model built with its own seed
    instead of building and tracing a new graph; the result is the same either way. One training
    at a time per process. `score_test`: score the trained model on `dataset.test` (`search
    evaluate`; a search never does: its proxies are chosen on the validation split, and the test
    split stays unseen). Raises TrainingDiverged when the training loss becomes NaN or infinite,
    AugSearchError for bad arguments.
    """
    started = time.perf_counter()
    timings: dict[str, Any] = {}
    callbacks = list(callbacks)
    require(
        all(isinstance(callback, keras.callbacks.Callback) for callback in callbacks),
        "callbacks",
        callbacks,
        "keras.callbacks.Callback instances",
    )
    model = budget.model if model is None else model
    splits = _splits(dataset, budget, score_test)
    steps = len(splits.train.labels) // budget.batch_size
    num_classes = dataset.num_classes
    dtype_policy = gpu_dtype_policy(default=keras.mixed_precision.global_policy().name)  # mixed on tensor cores
    key = _model_key(budget, num_classes, steps, dtype_policy, model)
    cached = _compiled if reuse_model and _compiled is not None and _compiled.key == key else None
    if cached is None:
        _forget_compiled_model()
        # Earlier trainings in this process would otherwise keep their graphs alive.
        keras.backend.clear_session()
    # TF's global seed, not only the layers' own seeds, fixes the stateful ops KerasCV uses.
    set_random_seed(seed)
    inputs = _inputs(splits, policy, budget, num_classes, seed)
    timings["pipeline"] = time.perf_counter() - started

    with _global_dtype_policy(dtype_policy):
        net = _ready_model(model, budget, num_classes, steps, seed, cached, key if reuse_model else None)
        timings["model"] = time.perf_counter() - started
        timings["model_reused"] = cached is not None
        epochs = _Epochs(
            report, images_per_epoch=steps * budget.batch_size, started=started, timings=timings, score_ds=inputs.score
        )
        # The trainer's own callback first: it has timed the epoch and checks every batch's loss
        # whatever the others do.
        net.fit(
            inputs.train,
            epochs=budget.epochs,
            steps_per_epoch=steps,
            validation_data=inputs.validation,
            callbacks=[epochs, *callbacks],
            verbose=0,
            shuffle=False,
        )
        test = net.evaluate(inputs.test, verbose=0, return_dict=True) if inputs.test is not None else {}
    last = epochs.history[-1]
    return TrainResult(
        val_accuracy=last["val_accuracy"],
        val_loss=last["val_loss"],
        epochs_run=len(epochs.history),
        images_per_second=epochs.images_per_second(),
        wall_seconds=time.perf_counter() - started,
        history=epochs.history,
        test_accuracy=float(test["accuracy"]) if test else None,
        test_loss=float(test["loss"]) if test else None,
        timings=dict(timings),
    )


class _Splits(NamedTuple):
    train: Split
    validation: Split  # scored after every epoch
    score: Split | None  # scored once after the last epoch (the budget's score_examples)
    test: Split | None  # scored at the end when asked for


def _splits(dataset: ImageDataset, budget: Budget, score_test: bool) -> _Splits:
    """The budget's heads of the dataset's splits, checked against it."""
    require(
        not score_test or dataset.test is not None,
        "score_test",
        score_test,
        "False for a dataset loaded without its test split",
    )
    train_split = _head(dataset.train, budget.train_examples)
    require(
        len(train_split.labels) >= budget.batch_size,
        "batch_size",
        budget.batch_size,
        f"at most the {len(train_split.labels)} training examples of dataset {dataset.spec!r}",
    )
    return _Splits(
        train_split,
        _head(dataset.validation, budget.validation_examples),
        _head(dataset.validation, budget.score_examples) if budget.score_examples else None,
        dataset.test if score_test else None,
    )


class _Inputs(NamedTuple):
    train: object  # tf.data datasets
    validation: object
    score: object | None
    test: object | None


def _inputs(splits: _Splits, policy: Policy, budget: Budget, num_classes: int, seed: int) -> _Inputs:
    """The tf.data pipelines: augmented training batches, and plain ones for what is scored."""
    batch_size = budget.batch_size
    train_ds = train_dataset(
        splits.train, policy, num_classes=num_classes, batch_size=batch_size, seed=seed, shards=budget.augment_shards
    )
    # Inference keeps no activations: larger batches (VALIDATION_PIXELS) validate faster.
    val_batch = max(batch_size, VALIDATION_PIXELS // budget.image_size**2)

    def plain(split: Split | None) -> object | None:
        return None if split is None else validation_dataset(split, num_classes=num_classes, batch_size=val_batch)

    return _Inputs(train_ds, plain(splits.validation), plain(splits.score), plain(splits.test))


@contextmanager
def _global_dtype_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy set to `name` (mixed precision on a GPU) while a model is built
    and trained, and restored after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _ready_model(
    model: ModelSpec,
    budget: Budget,
    num_classes: int,
    steps: int,
    seed: int,
    cached: _CompiledModel | None,
    keep_as: tuple | None,
) -> keras.Model:
    """The compiled model to train: `cached` reset to a new model's state, else that new model
    compiled (and kept under `keep_as` unless it is None)."""
    if cached is not None:
        # The same seed gives the same new model, whose state the reused one takes; the new one
        # is never trained, so what its construction registered for gradients is dropped (else a
        # reused worker would keep ~5 MB per trial: trainers/_tf_internals.py).
        with forgetting_custom_gradients():
            cached.reset(build_model(model, num_classes, budget.image_size, seed))
        return cached.model
    net = build_model(model, num_classes, budget.image_size, seed)
    net.compile(
        optimizer=keras.optimizers.SGD(learning_rate=_schedule(budget, steps), momentum=MOMENTUM),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
        metrics=["accuracy"],
    )
    # Built now rather than at the first step, so that its initial state can be kept.
    net.optimizer.build(net.trainable_variables)
    if keep_as is not None:
        _keep_compiled_model(keep_as, net)
    return net


def _model_key(
    budget: Budget, num_classes: int, steps: int, dtype_policy: str, model: ModelSpec | None = None
) -> tuple:
    """Everything that shapes the compiled model: its graph, its optimiser and the schedule.

    A user's builder is in it by its code too, not only by name: one edited and redefined under
    the same name (a notebook cell run again) builds another graph, which must not reuse the old.
    """
    model = budget.model if model is None else model
    builder = user_builder(model)
    return (
        model_name(model),
        budget.image_size,
        num_classes,
        budget.batch_size,
        steps,
        budget.epochs,
        budget.learning_rate,
        budget.warmup_epochs,
        dtype_policy,
        None if builder is None else fingerprint(builder),
    )


@dataclass
class _CompiledModel:
    """A compiled model kept for the next training with the same `key`, and the initial values
    of its optimiser's variables (step count, momentum)."""

    key: tuple
    model: keras.Model
    optimizer_state: list

    def reset(self, new: keras.Model) -> None:
        """Give the model `new`'s weights and random-seed state (dropout's SeedGenerators) and
        its optimiser its initial state: the state a training of `new` would start from."""
        targets, sources = self.model.variables, new.variables
        if [v.shape for v in targets] != [v.shape for v in sources]:
            raise RuntimeError(f"the kept {self.model.name} does not match a new one built for the same key {self.key}")
        for target, source in zip(targets, sources, strict=True):
            target.assign(source)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_state, strict=True):
            variable.assign(value)


#: The process's compiled model (one: a different key replaces it), see `train(reuse_model=...)`.
_compiled: _CompiledModel | None = None


def _keep_compiled_model(key: tuple, model: keras.Model) -> None:
    global _compiled
    _compiled = _CompiledModel(key, model, [v.numpy() for v in model.optimizer.variables])


def _forget_compiled_model() -> None:
    global _compiled
    _compiled = None


def _head(split: Split, n: int) -> Split:
    if len(split.labels) <= n:
        return split
    return dataclasses.replace(split, images=split.images[:n], labels=split.labels[:n])


def _schedule(budget: Budget, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
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

    def __init__(
        self,
        report: Report | None,
        images_per_epoch: int,
        started: float,
        timings: dict[str, Any],
        score_ds: object | None = None,
    ) -> None:
        super().__init__()
        self.report, self.images_per_epoch = report, images_per_epoch
        self.started, self.timings = started, timings
        self.score_ds = score_ds
        self.history: list[dict[str, Any]] = []
        self._epoch = 0
        self._start = 0.0  # this epoch's start
        self._train_seconds: float | None = None  # its training steps' seconds, once validation starts

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch + 1
        self._start = time.perf_counter()
        self._train_seconds = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # TerminateOnNaN would only stop training quietly; a diverged trial must fail loudly.
        if "first_batch" not in self.timings:
            self.timings["first_batch"] = time.perf_counter() - self.started
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"training diverged: the loss became {loss} at epoch {self._epoch}, batch {batch + 1}."
            )

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._train_seconds is None:
            self._train_seconds = time.perf_counter() - self._start

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        objective = float(logs["val_accuracy"])
        if self.score_ds is not None and epoch + 1 == self.params["epochs"]:
            # Once, in the last epoch's report: a trial that ASHA stops never pays for it.
            objective = float(self.model.evaluate(self.score_ds, verbose=0, return_dict=True)["accuracy"])
        seconds = time.perf_counter() - self._start
        metrics = {
            "objective": objective,
            "val_accuracy": float(logs["val_accuracy"]),
            "val_loss": float(logs["val_loss"]),
            "train_loss": float(logs["loss"]),
            # On augmented images (and MixUp/CutMix's blended labels): near 1 without augmentation
            # is a model that has learnt its training set by heart.
            "train_accuracy": float(logs.get("accuracy", float("nan"))),
            "epoch_seconds": seconds,
            "train_seconds": self._train_seconds if self._train_seconds is not None else seconds,
        }
        self.history.append({"epoch": epoch + 1, **metrics})
        if self.report is not None:
            self.report(
                epoch + 1, {**metrics, "images_per_second": self.images_per_second(), "timings": dict(self.timings)}
            )

    def images_per_second(self) -> float:
        """Training images per second over the training part of epochs 2 and later, or of epoch 1
        while it is the only one (graph building included): TrainResult's and each report's."""
        timed = self.history[1:] or self.history
        return self.images_per_epoch * len(timed) / sum(row["train_seconds"] for row in timed)
