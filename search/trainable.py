"""The Ray Tune trainable: one proxy training of one policy, reported epoch by epoch.

Runs in a Ray worker. The dataset arrives through Ray's object store (loaded once by the
driver), so a trial does not read or resize images again. `search run` reuses workers from trial
to trial (Tune's `reuse_actors`): a worker's later trials skip the process start and imports, and
`trainers.train` keeps the compiled model between trials of the same model and image size.
"""

from __future__ import annotations

import os
import time
from typing import Any

#: Result keys copied into each Optuna trial's user attributes (the searcher's whitelist).
TRIAL_ATTRS = (
    "policy", "budget", "dataset", "seed", "epochs_run", "wall_seconds", "images_per_second",
    "node_id", "accelerator", "epoch_seconds", "train_seconds", "timings",
)
OBJECTIVE = "val_accuracy"
#: Test hook, read by `run_trial` in the Ray worker: "TRIAL:KIND,..." makes trial number TRIAL
#: (or every trial, "*") fail as its first epoch starts, KIND being `raise` (a RuntimeError),
#: `nan` (NaN weights, so the training loss becomes NaN) or `oom` (TensorFlow's
#: ResourceExhaustedError). tests/reliability/ sets it on real `search run` processes; the
#: driver passes it on to Ray's workers. Unset in real use.
FAULT_ENV = "AUGSEARCH_TEST_FAULT"
FAULT_KINDS = ("raise", "nan", "oom")
#: Benchmark switch, read by `search run`: "0" turns off actor and model reuse (each trial then
#: starts a new worker process and builds its model), for benchmarks/trial_overhead.py's "before".
REUSE_ENV = "AUGSEARCH_REUSE"
#: How long a reused worker waits for the previous trial's thread to end (Tune's default, 2 s,
#: is shorter than one epoch of the larger budgets; a timeout would fail the next trial).
THREAD_TIMEOUT_S = "600"
_process_trials = 0  # trials this worker process has started, for the `timings` attribute
_loaded_at = time.time()  # when the worker unpickled the trainable, before TensorFlow's imports


def reuse_enabled() -> bool:
    """False when REUSE_ENV is "0" (the benchmark's "before"), else True."""
    return os.environ.get(REUSE_ENV, "1") != "0"


def trial_seed(search_seed: int, trial_number: int) -> int:
    """Each trial's seed: distinct per trial, reproducible from the search seed."""
    return (search_seed * 1_000_003 + trial_number) % 2**31


def run_trial(
    config: dict[str, Any], *, dataset, budget: dict, dataset_spec: str, search_seed: int, reuse: bool = True
) -> None:
    """Train the proxy on `config["policy"]` and `tune.report` the validation metrics per epoch.

    `reuse`: keep the compiled model for the worker's next trial (see `trainers.train`).
    """
    global _process_trials
    entered, entered_at = time.perf_counter(), time.time()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TUNE_FUNCTION_THREAD_TIMEOUT_S", THREAD_TIMEOUT_S)
    import ray
    from ray import tune

    from space import Policy
    from trainers import Budget, configure_gpus, train

    configure_gpus()  # before TensorFlow takes a GPU: grow memory, so fractional GPUs share
    started = time.perf_counter()
    policy = Policy.from_dict(config["policy"])
    budget_ = Budget.from_dict(budget)
    seed = trial_seed(search_seed, config["trial_number"])
    images_per_epoch = (min(budget_.train_examples, len(dataset.train.labels)) // budget_.batch_size) * budget_.batch_size
    attrs = {
        "policy": policy.to_dict(),
        "budget": budget,
        "dataset": dataset_spec,
        "seed": seed,
        "node_id": ray.get_runtime_context().get_node_id(),
        "accelerator": _accelerator(),
    }
    # Where a trial's time goes (benchmarks/trial_overhead.py): seconds since the trainable was
    # called, except `loaded_at` and `started_at` (Unix times: this module loaded in the worker,
    # the trainable called) and `process_trials` (the trials this worker ran before).
    timings: dict[str, Any] = {"loaded_at": _loaded_at, "started_at": entered_at, "process_trials": _process_trials}
    _process_trials += 1
    in_train: dict[str, Any] = {}

    epoch_seconds: list[float] = []
    train_seconds: list[float] = []

    def report(epoch: int, metrics: dict) -> None:
        epoch_seconds.append(metrics["epoch_seconds"])
        train_seconds.append(metrics["train_seconds"])
        offset = train_called - entered
        timings.update({k: v + offset if k != "model_reused" else v for k, v in in_train.items()})
        timings["last_report"] = time.perf_counter() - entered
        tune.report({
            **metrics,
            **attrs,
            "epochs_run": epoch,
            # Per epoch, validation included; the first also holds graph building.
            "epoch_seconds": list(epoch_seconds),
            # Per epoch, the training steps alone.
            "train_seconds": list(train_seconds),
            "timings": dict(timings),
            "wall_seconds": time.perf_counter() - started,
            # The last epoch's training speed: from epoch 2 on it excludes graph building.
            "images_per_second": images_per_epoch / max(metrics["epoch_seconds"], 1e-9),
        })

    fault = injected_fault(os.environ.get(FAULT_ENV), config["trial_number"])
    train_called = time.perf_counter()
    train(dataset, policy, budget_, seed=seed, report=report, fault=fault, reuse_model=reuse, timings=in_train)


def injected_fault(spec: str | None, trial_number: int):
    """The `train(fault=...)` hook that FAULT_ENV's `spec` asks for trial `trial_number`, or None."""
    if not spec:
        return None
    faults = {}
    for item in spec.split(","):
        trial, _, kind = item.strip().partition(":")
        if kind not in FAULT_KINDS or not (trial == "*" or trial.isdigit()):
            raise ValueError(f"{FAULT_ENV} must be TRIAL:KIND,... with KIND in {FAULT_KINDS}, but got {spec!r}")
        faults[trial] = kind
    kind = faults.get(str(trial_number), faults.get("*"))
    if kind is None:
        return None

    def fault(epoch, model) -> None:
        if epoch != 1:
            return
        if kind == "raise":
            raise RuntimeError(f"injected fault: trial {trial_number} raised ({FAULT_ENV})")
        if kind == "oom":
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(
                None, None, f"OOM when allocating tensor (injected fault in trial {trial_number}, {FAULT_ENV})"
            )
        import keras

        for weight in model.trainable_weights:
            weight.assign(keras.ops.full(weight.shape, float("nan"), dtype=weight.dtype))

    return fault


def _accelerator() -> str:
    import ray

    gpus = ray.get_gpu_ids()
    if not gpus:
        return "cpu"
    import tensorflow as tf

    names = [tf.config.experimental.get_device_details(d).get("device_name", "GPU") for d in tf.config.list_physical_devices("GPU")]
    return f"gpu {','.join(map(str, gpus))}: {', '.join(names) or 'GPU'}"

