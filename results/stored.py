"""The stored format: what AugSearch keeps in an Optuna storage, under which names, with the one
writer and the one reader of each record (what a study holds: docs/design.md, "Packages").

Studies outlive code: a name here changes only with a reader for what older code stored
(tests/results/test_stored.py reads a study that an earlier version wrote). The race was once
called the confirmation: the stored names keep that word.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState

from space import Budget, Policy
from space.policy import STAGE_FIELDS

SETTINGS_ATTR = "augsearch"
RACE_RECORD_ATTR = "augsearch_confirmation"
ERROR_ATTR = "error"
BASELINE_ATTR = "reference"
#: What studies made before every baseline was enqueued called their two.
LEGACY_BASELINES = {"no_augmentation": "none", "kerascv_guide": "guide"}

RACE_SUFFIX = ".confirmation"
EVALUATION_SUFFIX = ".evaluation"
RACE_STUDY_ATTR = "augsearch_confirmation_of"
EVALUATION_STUDY_ATTR = "augsearch_evaluation"


@dataclass(frozen=True)
class StudySettings:
    """What a search study was made with; a resumed search must match it. `budget` and
    `search_space` are the `to_dict()` of a space.Budget and a space.SearchSpace."""

    dataset: str | None
    budget: dict[str, Any]
    search_space: dict[str, Any]
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "budget": self.budget, "search_space": self.search_space, "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudySettings:
        return cls(data.get("dataset"), data.get("budget") or {}, data.get("search_space") or {}, data.get("seed", 0))


def write_settings(study: optuna.Study, settings: StudySettings) -> None:
    study.set_user_attr(SETTINGS_ATTR, settings.to_dict())


def read_settings(study: optuna.Study | None) -> StudySettings | None:
    """The study's settings; None for no study, or one that AugSearch did not make."""
    data = None if study is None else study.user_attrs.get(SETTINGS_ATTR)
    return None if data is None else StudySettings.from_dict(data)


@dataclass
class TrainingJob:
    """One training to run or stored: a policy and a seed, its `training_key`, and the labels
    (policies, trials) that asked for it."""

    key: str
    policy: Policy
    seed: int
    labels: list[str] = field(default_factory=list)


_NEW_FIELDS_OFF = {name: getattr(Policy(), name) for name in STAGE_FIELDS}


def training_key(policy: Policy, seed: int, budget: Budget, dataset: str) -> str:
    """What identifies one training: the same augmentation (`Policy.canonical`), seed, budget and
    dataset train the same model, so a stored one is never trained again (whichever entry or label
    asked for it)."""
    described = policy.canonical().to_dict()
    # Keys stored before the base stage and erasing existed stay valid: fields still at their
    # "off" defaults are left out, as those versions had no such fields.
    for name, off in _NEW_FIELDS_OFF.items():
        if described[name] == off:
            del described[name]
    text = json.dumps(
        {"policy": described, "seed": seed, "budget": budget.to_dict(), "dataset": dataset}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def open_trainings_study(
    storage: str | optuna.storages.BaseStorage, name: str, marker: str, about: dict[str, Any]
) -> optuna.Study:
    """The trainings study `name` in `storage`, created on first use with the user attribute
    `marker` (`RACE_STUDY_ATTR` or `EVALUATION_STUDY_ATTR`) set to `about` (what it holds
    and for which study, shown by the dashboard)."""
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    if marker not in study.user_attrs:
        study.set_user_attr(marker, about)
    return study


def write_training(
    study: optuna.Study, training: TrainingJob, budget: Budget, dataset: str, outcome: dict[str, Any], metric: str
) -> None:
    """One finished training as one trial: COMPLETE with `outcome[metric]` as its value and the
    per-epoch validation accuracy as intermediate values (the dashboard draws them), or FAIL with
    `outcome["error"]`. Only finished trainings are stored: an interrupted run leaves nothing
    half-done."""
    attrs = {
        "key": training.key,
        "policy": training.policy.to_dict(),
        "seed": training.seed,
        "budget": budget.to_dict(),
        "dataset": dataset,
        "labels": list(training.labels),
        **{name: value for name, value in outcome.items() if name != "history"},
    }
    failed = ERROR_ATTR in outcome
    study.add_trial(
        optuna.trial.create_trial(
            state=TrialState.FAIL if failed else TrialState.COMPLETE,
            value=None if failed else outcome[metric],
            user_attrs=attrs,
            intermediate_values={row["epoch"]: row["val_accuracy"] for row in outcome.get("history") or []},
        )
    )


def read_scores(study: optuna.Study) -> dict[str, float]:
    """The value of each COMPLETE stored training (the test accuracy in an evaluation study, the
    objective in a race study), by `training_key`."""
    return {
        trial.user_attrs["key"]: trial.value
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if "key" in trial.user_attrs and trial.value is not None
    }
