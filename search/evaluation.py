"""Running `search evaluate`'s full trainings on Ray and storing each one as it ends.

Every training (a policy, a seed, a budget, a dataset) is one trial of the evaluation study
(`search.study.EVALUATION_SUFFIX`): COMPLETE with the test accuracy as its value and the
validation accuracy per epoch as intermediate values (the dashboard draws them), or FAIL with its
error. Only finished trainings are stored, so an interrupted evaluation leaves nothing half-done
and the same command again trains only what is missing.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import optuna
from optuna.trial import TrialState

from results.evaluation import Entry, training_key
from search.formatting import format_seconds
from space import Policy


@dataclass
class Job:
    """One training to run: a policy and a seed, and the entries (labels) that asked for it."""

    key: str
    policy: Policy
    seed: int
    labels: list[str] = field(default_factory=list)


def plan(entries: list[Entry], seeds: list[int], budget: dict, dataset: str, done: set[str]) -> tuple[list[Job], int]:
    """The trainings still to run, each once however many entries share its policy, and how many
    of those `entries` x `seeds` asked for are already in `done` (stored keys)."""
    jobs: dict[str, Job] = {}
    stored = set()
    for entry in entries:
        for seed in seeds:
            key = training_key(entry.policy, seed, budget, dataset)
            if key in done:
                stored.add(key)
                continue
            jobs.setdefault(key, Job(key, entry.policy, seed)).labels.append(entry.label)
    return list(jobs.values()), len(stored)


def open_evaluation_study(storage, name: str, of_study: str) -> optuna.Study:
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    if "augsearch_evaluation" not in study.user_attrs:
        study.set_user_attr("augsearch_evaluation", {"study": of_study, "value": "test accuracy"})
    return study


def store(study: optuna.Study, job: Job, budget: dict, dataset: str, outcome: dict) -> None:
    """One finished training as one trial: COMPLETE with the test accuracy, or FAIL with `error`."""
    attrs = {
        "key": job.key, "policy": job.policy.to_dict(), "seed": job.seed, "budget": budget, "dataset": dataset,
        "labels": list(job.labels),
        **{name: value for name, value in outcome.items() if name != "history"},
    }
    history = outcome.get("history") or []
    failed = "error" in outcome
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.FAIL if failed else TrialState.COMPLETE,
        value=None if failed else outcome["test_accuracy"],
        user_attrs=attrs,
        intermediate_values={row["epoch"]: row["val_accuracy"] for row in history},
    ))


def train_and_score(policy: dict, seed: int, budget: dict, dataset) -> dict:
    """In a Ray worker: train `policy` at `budget`, score the test split. A failure is returned
    (not raised) with its message, so that the driver stores it and carries on."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from space import Policy
    from trainers import Budget, configure_gpus, train

    configure_gpus()
    started = time.perf_counter()
    try:
        result = train(dataset, Policy.from_dict(policy), Budget.from_dict(budget), seed=seed, score_test=True)
    except Exception as error:  # one training's failure is stored, never the whole evaluation's
        return {"error": f"{type(error).__name__}: {error}".strip(), "wall_seconds": time.perf_counter() - started}
    return {
        "test_accuracy": result.test_accuracy, "test_loss": result.test_loss,
        "val_accuracy": result.val_accuracy, "wall_seconds": result.wall_seconds,
        "images_per_second": result.images_per_second, "history": result.history,
    }


def run_jobs(
    ray, jobs: list[Job], dataset, budget: dict, *, cpus: float, gpus: float, concurrency: int,
    on_result: Callable[[Job, dict], None], stream=sys.stderr,
) -> bool:
    """Train `jobs` on the Ray cluster, at most `concurrency` at once, calling `on_result` as each
    ends (the caller stores it). Returns False when Ctrl-C stopped it (running trainings are
    cancelled; finished ones are already stored)."""
    remote = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=0)(train_and_score)
    dataset_ref = ray.put(dataset)  # once, zero-copy to every worker on this machine
    waiting, running = list(jobs), {}
    started, done = time.monotonic(), 0
    try:
        while waiting or running:
            while waiting and len(running) < concurrency:
                job = waiting.pop(0)
                running[remote.remote(job.policy.to_dict(), job.seed, budget, dataset_ref)] = job
            ready, _ = ray.wait(list(running), num_returns=1)
            job = running.pop(ready[0])
            try:
                outcome = ray.get(ready[0])
            except ray.exceptions.RayError as error:  # the worker died (killed, out of memory)
                outcome = {"error": str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}
            on_result(job, outcome)
            done += 1
            elapsed = time.monotonic() - started
            eta = elapsed / done * (len(jobs) - done)
            what = f"test accuracy {outcome['test_accuracy']:.4f}" if "error" not in outcome else f"FAILED: {outcome['error'].splitlines()[0]}"
            print(
                f"[{done}/{len(jobs)}] {' = '.join(job.labels)}, seed {job.seed}: {what} "
                f"({format_seconds(outcome.get('wall_seconds'))}) | {format_seconds(elapsed)} elapsed, "
                f"ETA {format_seconds(eta) if done < len(jobs) else '0m00s'}",
                file=stream, flush=True,
            )
    except KeyboardInterrupt:
        for ref in running:
            ray.cancel(ref, force=True)
        print(
            f"\nstopped: {done} of {len(jobs)} trainings finished and are stored; run the same command again to "
            "train the rest.", file=stream,
        )
        return False
    return True
