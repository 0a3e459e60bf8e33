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

    train(dataset, policy, budget_, seed=seed, report=report)


def _accelerator() -> str:
    import ray

    gpus = ray.get_gpu_ids()
    if not gpus:
        return "cpu"
    import tensorflow as tf

    names = [tf.config.experimental.get_device_details(d).get("device_name", "GPU") for d in tf.config.list_physical_devices("GPU")]
    return f"gpu {','.join(map(str, gpus))}: {', '.join(names) or 'GPU'}"

