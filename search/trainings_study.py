"""Studies of trainings: each finished training (a policy, a seed, a budget, a dataset) is one
trial, COMPLETE with its score or FAIL with its error.

`evaluate` keeps its full trainings in one (scored on the test split), the confirmation stage the
trainings of its race (scored as the search's objective). Only finished trainings are stored, so
an interrupted run leaves nothing half-done, and the same command again trains only what is
missing (`results.evaluation.stored_accuracies` reads them back by `training_key`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState

from space import Policy


@dataclass
class Job:
    """One training to run (`search.tune.training_tasks.run_jobs`): a policy and a seed, its key
    in the study, and the labels (policies, trials) that asked for it."""

    key: str
    policy: Policy
    seed: int
    labels: list[str] = field(default_factory=list)


def open_trainings_study(storage, name: str, marker: str, about: dict) -> optuna.Study:
    """The study `name` in `storage`, created on first use with the user attribute `marker` set
    to `about` (what it holds and for which study, shown by the dashboard; readers tell it from a
    search study by its name's suffix, `search.storage`)."""
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    if marker not in study.user_attrs:
        study.set_user_attr(marker, about)
    return study


def store(study: optuna.Study, job: Job, budget: dict, dataset: str, outcome: dict, metric: str) -> None:
    """One finished training as one trial: COMPLETE with `outcome[metric]` as its value and the
    per-epoch validation accuracy as intermediate values (the dashboard draws them), or FAIL with
    `outcome["error"]`."""
    attrs = {
        "key": job.key, "policy": job.policy.to_dict(), "seed": job.seed, "budget": budget, "dataset": dataset,
        "labels": list(job.labels),
        **{name: value for name, value in outcome.items() if name != "history"},
    }
    failed = "error" in outcome
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.FAIL if failed else TrialState.COMPLETE,
        value=None if failed else outcome[metric],
        user_attrs=attrs,
        intermediate_values={row["epoch"]: row["val_accuracy"] for row in outcome.get("history") or []},
    ))
