"""The Ray Tune trainable: one proxy training of one policy, reported epoch by epoch.

Runs in a Ray worker. The driver has already recorded the trial's settings in the study; the
config brings the Policy and the trial's seed as objects, and the trainable reports only what
the training measures. The dataset arrives through Ray's object store (loaded once by the
driver), so a trial does not read or resize images again. With worker reuse (Tune's
`reuse_actors`), a worker's later trials skip the process start and imports, and
`trainers.train` keeps the compiled model between trials of the same model and image size.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

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


def trial_seed(search_seed: int, trial_number: int) -> int:
    """Each trial's seed: distinct per trial, reproducible from the search seed."""
    return (search_seed * 1_000_003 + trial_number) % 2**31


def run_trial(
    config: dict[str, Any],
    *,
    dataset,
    budget,
    model=None,
    keras_callbacks: Callable[[int], Sequence[Any]] | None = None,
    reuse: bool = True,
) -> None:
    """Train the proxy on `config["policy"]` with `config["seed"]` and `tune.report` its metrics
    per epoch. `model`: a user's model callable, else `budget.model`; `keras_callbacks(trial
    number)`: extra callbacks for this training; `reuse`: keep the compiled model for the
    worker's next trial (see `trainers.train`)."""
    global _process_trials
    entered, entered_at = time.perf_counter(), time.time()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TUNE_FUNCTION_THREAD_TIMEOUT_S", THREAD_TIMEOUT_S)
    import ray
    from ray import tune

    from trainers import configure_gpus, train

    configure_gpus()  # before TensorFlow takes a GPU: grow memory, so fractional GPUs share
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
