"""The Ray Tune trainable: one proxy training of one policy, reported epoch by epoch.

Runs in a Ray worker. The dataset arrives through Ray's object store (loaded once by the
driver), so a trial does not read or resize images again.
"""

from __future__ import annotations

import os
import time
from typing import Any

#: Result keys copied into each Optuna trial's user attributes (the searcher's whitelist).
TRIAL_ATTRS = (
    "policy", "budget", "dataset", "seed", "epochs_run", "wall_seconds", "images_per_second",
    "node_id", "accelerator", "epoch_seconds",
)
OBJECTIVE = "val_accuracy"
#: Test hook, read by `run_trial` in the Ray worker: "TRIAL:KIND,..." makes trial number TRIAL
#: (or every trial, "*") fail as its first epoch starts, KIND being `raise` (a RuntimeError),
#: `nan` (NaN weights, so the training loss becomes NaN) or `oom` (TensorFlow's
#: ResourceExhaustedError). tests/reliability/ sets it on real `search run` processes; the
#: driver passes it on to Ray's workers. Unset in real use.
FAULT_ENV = "AUGSEARCH_TEST_FAULT"
FAULT_KINDS = ("raise", "nan", "oom")


def trial_seed(search_seed: int, trial_number: int) -> int:
    """Each trial's seed: distinct per trial, reproducible from the search seed."""
    return (search_seed * 1_000_003 + trial_number) % 2**31


def run_trial(config: dict[str, Any], *, dataset, budget: dict, dataset_spec: str, search_seed: int) -> None:
    """Train the proxy on `config["policy"]` and `tune.report` the validation metrics per epoch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import ray
    from ray import tune

    from space import Policy
    from trainers import Budget, train

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

    epoch_seconds: list[float] = []

    def report(epoch: int, metrics: dict) -> None:
        epoch_seconds.append(metrics["epoch_seconds"])
        tune.report({
            **metrics,
            **attrs,
            "epochs_run": epoch,
            # Per epoch, validation included; the first also holds graph building.
            "epoch_seconds": list(epoch_seconds),
            "wall_seconds": time.perf_counter() - started,
            # The last epoch's training speed: from epoch 2 on it excludes graph building.
            "images_per_second": images_per_epoch / max(metrics["epoch_seconds"], 1e-9),
        })

    fault = injected_fault(os.environ.get(FAULT_ENV), config["trial_number"])
    train(dataset, policy, budget_, seed=seed, report=report, fault=fault)


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

