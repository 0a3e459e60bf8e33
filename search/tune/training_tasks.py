"""Trainings on Ray workers (`evaluate`'s full trainings, the search's race), at most
`concurrency` at once, each reported to the driver as it ends (the driver stores it at once, so
an interruption keeps what finished)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from results.stored import TrainingJob
from search.formatting import format_seconds
from search.settings import Placement
from search.tune.worker_start import start_worker
from space import Budget, Policy
from space.errors import first_line
from trainers.data import ImageDataset


class TrainingWorker:
    """A Ray actor that runs trainings one after another (`TrainingWorkers` kills it when done)."""

    def train(
        self,
        policy: Policy,
        seed: int,
        budget: Budget,
        dataset: ImageDataset,
        model: Callable[..., Any] | None = None,
        score_test: bool = True,
    ) -> dict[str, Any]:
        """Train `policy` at `budget`, score the validation split and, with `score_test`, the test
        split. A failure is returned (not raised) with its message, so that the driver stores it
        and carries on."""
        start_worker()
        from trainers import train

        started = time.perf_counter()
        try:
            result = train(dataset, policy, budget, seed=seed, model=model, score_test=score_test)
        except Exception as error:  # one training's failure is stored, never the whole evaluation's
            return {"error": f"{type(error).__name__}: {error}".strip(), "wall_seconds": time.perf_counter() - started}
        scores = {"test_accuracy": result.test_accuracy, "test_loss": result.test_loss} if score_test else {}
        return {
            **scores,
            "objective": result.objective,
            "val_accuracy": result.val_accuracy,
            "wall_seconds": result.wall_seconds,
            "images_per_second": result.images_per_second,
            "history": result.history,
        }


class TrainingWorkers:
    """Trainings of `dataset` at `budget` on the Ray cluster (started by
    `search.tune.cluster.place`, which gave `placement`), in at most `concurrency` worker actors,
    each training one at a time. `metric`: "test_accuracy" (the test split is scored) or
    "objective" (the search's, on validation images; the test split is not even read).

    The workers are kept from one `run` to the next (a race's rounds): a kept worker skips its
    process start and imports, and keeps its compiled model for the next training at the same
    budget. All are killed on `close` (a `with` block's end): stopping a Ray task (`ray.cancel`)
    just as it ends crashes Ray 2.60's driver."""

    def __init__(
        self,
        dataset: ImageDataset,
        budget: Budget,
        *,
        model: Callable[..., Any] | None = None,
        placement: Placement,
        metric: str = "test_accuracy",
    ) -> None:
        import ray

        self._ray = ray
        self._budget, self._model, self._metric = budget, model, metric
        self._concurrency = placement.concurrency
        self._worker_class: Any = ray.remote(
            num_cpus=placement.cpus, num_gpus=placement.gpus, max_restarts=0, max_task_retries=0
        )(TrainingWorker)
        self._dataset_ref = ray.put(dataset)  # once, zero-copy to every worker on this machine
        self._workers: list[Any] = []  # every live worker, idle or training
        self._idle: list[Any] = []

    def __enter__(self) -> TrainingWorkers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(
        self,
        jobs: list[TrainingJob],
        *,
        on_result: Callable[[TrainingJob, dict], None],
        say: Callable[[str], None],
    ) -> bool:
        """Train `jobs` (results.stored.TrainingJob), calling `on_result(job, outcome)` as each ends
        and `say(line)` (`search.formatting.printer`) with its progress line. Returns False when
        Ctrl-C stopped it (running trainings are killed on `close`; finished ones were already
        handed over)."""
        ray, metric = self._ray, self._metric
        score_test = metric == "test_accuracy"
        waiting = list(jobs)
        running: dict[Any, tuple[TrainingJob, Any]] = {}  # Ray's reference -> the training, its worker
        started, done = time.monotonic(), 0
        try:
            while waiting or running:
                while waiting and len(running) < self._concurrency:
                    job = waiting.pop(0)
                    worker = self._idle.pop() if self._idle else self._new_worker()
                    reference = worker.train.remote(
                        job.policy, job.seed, self._budget, self._dataset_ref, self._model, score_test
                    )
                    running[reference] = job, worker
                ready, _ = ray.wait(list(running), num_returns=1)
                job, worker = running.pop(ready[0])
                try:
                    outcome = ray.get(ready[0])
                    self._idle.append(worker)
                except ray.exceptions.RayError as error:  # the worker died (killed, out of memory): a new one next
                    outcome = {"error": first_line(error)}
                    self._workers.remove(worker)
                on_result(job, outcome)
                done += 1
                elapsed = time.monotonic() - started
                eta = elapsed / done * (len(jobs) - done)
                what = (
                    f"{metric.replace('_', ' ')} {outcome[metric]:.4f}"
                    if "error" not in outcome
                    else f"FAILED: {first_line(outcome['error'])}"
                )
                say(
                    f"[{done}/{len(jobs)}] {' = '.join(job.labels)}, seed {job.seed}: {what} "
                    f"({format_seconds(outcome.get('wall_seconds'))}) | {format_seconds(elapsed)} elapsed, "
                    f"ETA {format_seconds(eta) if done < len(jobs) else '0m00s'}"
                )
        except KeyboardInterrupt:
            say(
                f"\nstopped: {done} of {len(jobs)} trainings finished and are stored; "
                "run the same command again to train the rest."
            )
            return False
        return True

    def _new_worker(self) -> Any:
        worker = self._worker_class.remote()
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        """Kill every worker, idle or still training."""
        for worker in self._workers:
            self._ray.kill(worker)
        self._workers, self._idle = [], []
