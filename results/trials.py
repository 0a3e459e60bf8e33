"""Plain data about a study's trials, for tables (the CLI only formats it)."""

from __future__ import annotations

from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from space import Policy


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str
    value: float | None
    epochs: int | None
    wall_seconds: float | None
    policy: Policy | None
    reference: str | None
    error: str | None


def trial_rows(study: optuna.Study) -> list[TrialRow]:
    """One row per trial in number order, from the trials' values and user attributes."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        policy = Policy.from_dict(attrs["policy"]) if "policy" in attrs else None
        rows.append(TrialRow(
            number=trial.number,
            state=trial.state.name,
            value=trial.value,
            epochs=attrs.get("epochs_run"),
            wall_seconds=attrs.get("wall_seconds"),
            policy=policy,
            reference=attrs.get("reference"),
            error=attrs.get("error"),
        ))
    return rows


def best_rows(study: optuna.Study, k: int = 5) -> list[TrialRow]:
    """The k COMPLETE trials with the highest objective, best first."""
    complete = [row for row in trial_rows(study) if row.state == TrialState.COMPLETE.name]
    return sorted(complete, key=lambda row: row.value, reverse=True)[:k]


@dataclass(frozen=True)
class Progress:
    complete: int
    pruned: int
    failed: int
    running: int
    best_value: float | None
    best_number: int | None

    @property
    def finished(self) -> int:
        return self.complete + self.pruned


def progress(study: optuna.Study) -> Progress:
    """Counts by state and the best trial so far."""
    counts = {state: 0 for state in TrialState}
    best = None
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state] += 1
        if trial.state == TrialState.COMPLETE and (best is None or trial.value > best.value):
            best = trial
    return Progress(
        complete=counts[TrialState.COMPLETE], pruned=counts[TrialState.PRUNED], failed=counts[TrialState.FAIL],
        running=counts[TrialState.RUNNING],
        best_value=None if best is None else best.value, best_number=None if best is None else best.number,
    )
