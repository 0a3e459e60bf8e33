"""The Ray Tune trainable: one proxy training of one policy in a Ray worker, reported epoch by epoch.

The driver has recorded the trial's settings in the study and the config brings the Policy and the
seed as objects, so the trainable reports only what the training measures; the dataset comes
through Ray's object store. Why, and worker reuse: docs/design.md ("The flow of one trial") and
docs/development.md ("Worker and model reuse").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from search.tune.worker_start import start_worker

if TYPE_CHECKING:  # annotations only: nothing more loads before `_loaded_at` is taken
    from space import Budget
    from trainers.data import ImageDataset

#: The objective: a complete trial's score (its last report's `objective`: the accuracy on the
#: budget's `score_examples` validation images, see `trainers.train`).
OBJECTIVE = "objective"
#: What ASHA compares and the study stores per epoch: the validation accuracy after each epoch.
CURVE = "val_accuracy"
#: What a trial's training measured: copied from its last report into its user attributes.
MEASURED = (
    "epochs_run",
    "wall_seconds",
    "images_per_second",
    "node_id",
    "accelerator",
    "epoch_seconds",
    "train_seconds",
    "timings",
)
#: How long a reused worker waits for the previous trial's thread to end (Tune's default, 2 s,
#: is shorter than one epoch of the larger budgets; a timeout would fail the next trial).
THREAD_TIMEOUT_S = "600"
_process_trials = 0  # trials this worker process has started, for the `timings` attribute
_loaded_at = time.time()  # when the worker unpickled the trainable, before TensorFlow's imports


def run_trial(
    config: dict[str, Any],
    *,
    dataset: ImageDataset,
    budget: Budget,
    model: Callable[..., Any] | None = None,
    keras_callbacks: Callable[[int], Sequence[Any]] | None = None,
    reuse: bool = True,
) -> None:
    """Train the proxy on `config["policy"]` with `config["seed"]` and `tune.report` its metrics
    per epoch. `model`: a user's model callable, else `budget.model`; `keras_callbacks(trial
    number)`: extra callbacks for this training; `reuse`: keep the compiled model for the
    worker's next trial (see `trainers.train`)."""
    global _process_trials
    entered, entered_at = time.perf_counter(), time.time()
    os.environ.setdefault("TUNE_FUNCTION_THREAD_TIMEOUT_S", THREAD_TIMEOUT_S)
    start_worker()
    import ray
    from ray import tune

    from trainers import train

    where = {"node_id": ray.get_runtime_context().get_node_id(), "accelerator": _accelerator()}
    # Where a trial's time goes (benchmarks/trial_overhead.py): seconds since the trainable was
    # called, except `loaded_at` and `started_at` (Unix times: this module loaded in the worker,
    # the trainable called) and `process_trials` (the trials this worker ran before).
    process = {"loaded_at": _loaded_at, "started_at": entered_at, "process_trials": _process_trials}
    _process_trials += 1
    epoch_seconds: list[float] = []
    train_seconds: list[float] = []
    extra = list(keras_callbacks(config["trial_number"])) if keras_callbacks is not None else []
    train_called = time.perf_counter()

    def report(epoch: int, metrics: dict) -> None:
        epoch_seconds.append(metrics["epoch_seconds"])
        train_seconds.append(metrics["train_seconds"])
        offset = train_called - entered
        timings = {k: v + offset if k != "model_reused" else v for k, v in metrics["timings"].items()}
        tune.report(
            {
                **{k: v for k, v in metrics.items() if k != "timings"},
                **where,
                "epochs_run": epoch,
                # Per epoch, validation included; the first also holds graph building.
                "epoch_seconds": list(epoch_seconds),
                # Per epoch, the training steps alone.
                "train_seconds": list(train_seconds),
                "timings": {**process, **timings, "last_report": time.perf_counter() - entered},
                "wall_seconds": time.perf_counter() - entered,
            }
        )

    train(
        dataset,
        config["policy"],
        budget,
        seed=config["seed"],
        report=report,
        callbacks=extra,
        model=model,
        reuse_model=reuse,
    )


def _accelerator() -> str:
    import ray

    gpus = ray.get_gpu_ids()
    if not gpus:
        return "cpu"
    import tensorflow as tf

    names = [
        tf.config.experimental.get_device_details(d).get("device_name", "GPU")
        for d in tf.config.list_physical_devices("GPU")
    ]
    return f"gpu {','.join(map(str, gpus))}: {', '.join(names) or 'GPU'}"
