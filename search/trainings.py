"""Labelled policies trained on paired seeds at one budget: the race's and `search evaluate`'s.

A `TrainingPlan` names the trainings (policies x seeds) and their keys; `Trainings` runs the
missing ones on Ray workers kept from one call to the next, stores each in its trainings study
as it ends, and reads the scores back. A stored training is never trained again, so an
interrupted race or evaluation resumes where it stopped. The race adds its drop rule
(`search.race`), evaluate the test split and its report (`search.evaluating`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import optuna

from results.stored import ERROR_ATTR, TrainingJob, read_scores, training_key, write_training
from search.settings import Placement
from search.tune.training_tasks import TrainingWorkers
from space import Budget
from space.errors import first_line
from space.policy_ref import PolicyRef
from trainers.data import ImageDataset

#: Race seeds follow the trial seeds of this many trial numbers, so they differ from every
#: exploration trial's seed.
RACE_SEED_OFFSET = 1_000_000


def trial_seed(search_seed: int, trial_number: int) -> int:
    """Each exploration trial's seed: distinct per trial, reproducible from the search seed."""
    return (search_seed * 1_000_003 + trial_number) % 2**31


def race_seeds(search_seed: int, count: int) -> list[int]:
    """The race's paired seeds, reproducible from the search seed."""
    return [trial_seed(search_seed, RACE_SEED_OFFSET + i) for i in range(count)]


def evaluation_seeds(first: int, count: int) -> list[int]:
    """`search evaluate`'s paired seeds: `first`, `first + 1`, ..."""
    return [first + i for i in range(count)]


@dataclass(frozen=True)
class TrainingPlan:
    """Every policy of `refs` trained on every seed of `seeds` at `budget` on `dataset` (a spec)."""

    refs: tuple[PolicyRef, ...]
    seeds: tuple[int, ...]
    budget: Budget
    dataset: str

    def key(self, ref: PolicyRef, seed: int) -> str:
        return training_key(ref.policy, seed, self.budget, self.dataset)

    def missing(
        self, stored: Mapping[str, float], wanted: Iterable[tuple[str, int]] | None = None
    ) -> list[TrainingJob]:
        """The trainings of `wanted` ((label, seed) pairs; default: all) not in `stored` (scores by
        key), each once however many labels share its policy."""
        by_label = {ref.label: ref for ref in self.refs}
        pairs = wanted if wanted is not None else [(ref.label, seed) for seed in self.seeds for ref in self.refs]
        jobs: dict[str, TrainingJob] = {}
        for label, seed in pairs:
            key = self.key(by_label[label], seed)
            if key not in stored:
                jobs.setdefault(key, TrainingJob(key, by_label[label].policy, seed)).labels.append(label)
        return list(jobs.values())

    def scores(self, stored: Mapping[str, float]) -> dict[str, dict[int, float]]:
        """Each label's stored scores by seed (the seeds trained so far)."""
        return {
            ref.label: {seed: stored[key] for seed in self.seeds if (key := self.key(ref, seed)) in stored}
            for ref in self.refs
        }


class Trainings:
    """The trainings of `plan` in `study` (a trainings study, see `open_trainings_study`):
    `stored()` reads their scores, `run(jobs)` trains what is asked on Ray workers started on
    first need (`load_dataset()` gives their data) and kept until `close`. `metric` is the value
    stored: "objective" (validation images; the test split is not even read) or "test_accuracy".
    `failed` maps the label of each training that failed in this run to its error."""

    def __init__(
        self,
        study: optuna.Study,
        plan: TrainingPlan,
        load_dataset: Callable[[], ImageDataset],
        *,
        model: Callable[..., Any] | None,
        placement: Placement,
        metric: str,
        say: Callable[[str], None],
    ) -> None:
        self.study, self.plan = study, plan
        self.failed: dict[str, str] = {}
        self._load_dataset, self._model, self._placement = load_dataset, model, placement
        self._metric, self._say = metric, say
        self._workers: TrainingWorkers | None = None

    def __enter__(self) -> Trainings:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stored(self) -> dict[str, float]:
        return read_scores(self.study)

    def scores(self) -> dict[str, dict[int, float]]:
        return self.plan.scores(self.stored())

    def run(self, jobs: list[TrainingJob]) -> bool:
        """Train `jobs`, storing each as it ends. Returns False when Ctrl-C stopped it (what
        finished is stored; the same call again trains the rest)."""
        if not jobs:
            return True
        if self._workers is None:
            self._workers = TrainingWorkers(
                self._load_dataset(),
                self.plan.budget,
                model=self._model,
                placement=self._placement,
                metric=self._metric,
            )
        return self._workers.run(jobs, on_result=self._store, say=self._say)

    def _store(self, job: TrainingJob, outcome: dict[str, Any]) -> None:
        write_training(self.study, job, self.plan.budget, self.plan.dataset, outcome, self._metric)
        if ERROR_ATTR in outcome:
            for label in job.labels:
                self.failed[label] = first_line(outcome[ERROR_ATTR])

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
            self._workers = None
