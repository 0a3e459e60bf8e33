"""Plain data about a study's trials, for tables (the CLI only formats it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from results.stored import ERROR_ATTR
from space import AugSearchError, Policy
from space.ops import OP_SETS

#: `select_rows` sort keys: the row attribute each sorts by, and whether highest comes first.
SORT_KEYS = {
    "number": ("number", False),
    "value": ("value", True),
    "wall": ("wall_seconds", True),
    "epochs": ("epochs", True),
}


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str
    value: float | None  # the objective of a COMPLETE trial; None otherwise (see `curve`)
    epochs: int | None
    wall_seconds: float | None
    policy: Policy | None
    reference: str | None
    error: str | None
    curve: tuple[float, ...]  # the objective per epoch (Optuna's intermediate values)


def trial_rows(study: optuna.Study) -> list[TrialRow]:
    """One row per trial in number order, from the trials' values and user attributes."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        policy = Policy.from_dict(attrs["policy"]) if "policy" in attrs else None
        rows.append(
            TrialRow(
                number=trial.number,
                state=trial.state.name,
                # Optuna stores a pruned trial's last intermediate value as its value; that is not a
                # full-budget objective, so it is only shown as the curve's last point.
                value=trial.value if trial.state == TrialState.COMPLETE else None,
                epochs=attrs.get("epochs_run"),
                wall_seconds=attrs.get("wall_seconds"),
                policy=policy,
                reference=attrs.get("reference"),
                error=attrs.get(ERROR_ATTR),
                curve=tuple(trial.intermediate_values[step] for step in sorted(trial.intermediate_values)),
            )
        )
    return rows


def select_rows(
    rows: list[TrialRow], states: str | None = None, sort: str = "number", limit: int | None = None
) -> list[TrialRow]:
    """The rows in `states` (comma-separated names, any case; None: all), sorted by `sort` (see
    SORT_KEYS; rows without that value go last), at most `limit` of them.

    Raises AugSearchError naming --state, --sort or --limit for a bad value.
    """
    if states is not None:
        wanted = {name.strip().upper() for name in states.split(",") if name.strip()}
        known = {state.name for state in TrialState}
        unknown = sorted(wanted - known)
        if unknown or not wanted:
            raise AugSearchError(
                f"--state must be comma-separated trial states ({', '.join(sorted(n.lower() for n in known))}), "
                f"but got --state={states!r}."
            )
        rows = [row for row in rows if row.state in wanted]
    if sort not in SORT_KEYS:
        raise AugSearchError(f"--sort must be one of {', '.join(SORT_KEYS)}, but got --sort={sort!r}.")
    attribute, highest_first = SORT_KEYS[sort]
    present = [row for row in rows if getattr(row, attribute) is not None]
    missing = [row for row in rows if getattr(row, attribute) is None]
    rows = sorted(present, key=lambda row: getattr(row, attribute), reverse=highest_first) + missing
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise AugSearchError(f"--limit must be an integer >= 1, but got --limit={limit!r}.")
        rows = rows[:limit]
    return rows


def policy_line(policy: Policy) -> str:
    """The policy in one short line: magnitude±stddev (or U(0,magnitude) for a uniform draw), ops
    per image, rate, the ops, CutMix, MixUp.

    Op sets are named relative to the nearest named set (`space.ops.OP_SETS`): "standard",
    "trivialaugment -solarization", or the ops themselves when that is shorter.
    """
    return (
        f"m={policy.magnitude_text()} n={policy.augmentations_per_image} "
        f"rate={policy.rate:.2f} ops={ops_line(policy.ops)} "
        f"cutmix={policy.cutmix_rate:.2f} mixup={policy.mixup_rate:.2f}"
    )


def ops_line(ops: tuple[str, ...]) -> str:
    chosen = set(ops)
    candidates = [",".join(ops)]
    for name, catalogue in OP_SETS.items():
        if chosen <= set(catalogue):
            missing = [op for op in catalogue if op not in chosen]
            candidates.append(name + "".join(f" -{op}" for op in missing))
    return min(candidates, key=len)


def best_rows(study: optuna.Study, k: int = 5) -> list[TrialRow]:
    """The k COMPLETE trials with the highest objective, best first."""
    complete = [row for row in trial_rows(study) if row.state == TrialState.COMPLETE.name]
    return sorted(complete, key=lambda row: -math.inf if row.value is None else row.value, reverse=True)[:k]


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
    best, best_value = None, -math.inf
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state] += 1
        if (
            trial.state == TrialState.COMPLETE
            and trial.value is not None
            and (best is None or trial.value > best_value)
        ):
            best, best_value = trial, trial.value
    return Progress(
        complete=counts[TrialState.COMPLETE],
        pruned=counts[TrialState.PRUNED],
        failed=counts[TrialState.FAIL],
        running=counts[TrialState.RUNNING],
        best_value=None if best is None else best.value,
        best_number=None if best is None else best.number,
    )
