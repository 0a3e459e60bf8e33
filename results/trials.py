"""Plain data about a study's trials, for tables (the CLI only formats it)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from results.stored import BASELINE_ATTR, ERROR_ATTR
from space import AugSearchError, Budget, Policy

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
    baseline: str | None  # the baseline a trial was enqueued as
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
                baseline=attrs.get(BASELINE_ATTR),
                error=attrs.get(ERROR_ATTR),
                curve=tuple(trial.intermediate_values[step] for step in sorted(trial.intermediate_values)),
            )
        )
    return rows


def select_rows(
    rows: list[TrialRow], state: str | None = None, sort: str = "number", limit: int | None = None
) -> list[TrialRow]:
    """The rows in `state` (comma-separated names, any case; None: all), sorted by `sort` (see
    SORT_KEYS; rows without that value go last), at most `limit` of them.

    Raises AugSearchError naming `state`, `sort` or `limit` for a bad value.
    """
    if state is not None:
        wanted = {name.strip().upper() for name in state.split(",") if name.strip()}
        known = {member.name for member in TrialState}
        unknown = sorted(wanted - known)
        if unknown or not wanted:
            raise AugSearchError(
                f"state must be comma-separated trial states ({', '.join(sorted(n.lower() for n in known))}), "
                f"but got state={state!r}."
            )
        rows = [row for row in rows if row.state in wanted]
    if sort not in SORT_KEYS:
        raise AugSearchError(f"sort must be one of {', '.join(SORT_KEYS)}, but got sort={sort!r}.")
    attribute, highest_first = SORT_KEYS[sort]
    present = [row for row in rows if getattr(row, attribute) is not None]
    missing = [row for row in rows if getattr(row, attribute) is None]
    rows = sorted(present, key=lambda row: getattr(row, attribute), reverse=highest_first) + missing
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise AugSearchError(f"limit must be an integer >= 1, but got limit={limit!r}.")
        rows = rows[:limit]
    return rows


def ranked_complete(study: optuna.Study) -> list[FrozenTrial]:
    """The COMPLETE trials best first: by exploration objective, the lower number on a tie."""
    scored = [
        (t.value, t) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None
    ]
    return [trial for _, trial in sorted(scored, key=lambda pair: (-pair[0], pair[1].number))]


def best_rows(study: optuna.Study, k: int = 5) -> list[TrialRow]:
    """The k COMPLETE trials with the highest objective, best first."""
    rows = {row.number: row for row in trial_rows(study)}
    return [rows[trial.number] for trial in ranked_complete(study)[:k]]


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
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state] += 1
    ranked = ranked_complete(study)
    best = ranked[0] if ranked else None
    return Progress(
        complete=counts[TrialState.COMPLETE],
        pruned=counts[TrialState.PRUNED],
        failed=counts[TrialState.FAIL],
        running=counts[TrialState.RUNNING],
        best_value=None if best is None else best.value,
        best_number=None if best is None else best.number,
    )


def training_seconds(study: optuna.Study, budget: Budget) -> tuple[float | None, str]:
    """About how long one training at `budget` (the race's) takes
    where the study's trials ran, from its COMPLETE trials' durations and their own budgets (user
    attribute "budget"): their median seconds per image-epoch times `budget`'s epochs x
    train_examples, plus their median time outside the epochs that scale (worker start, model and
    graph building, the final score). The per-image-epoch time is the trials' measured epochs after
    the first (`epoch_seconds`, validation included; the first builds the graph), else the whole
    duration, so a 2-epoch smoke trial does not scale its start-up by a long training's epochs.

    Returns (seconds, "") or (None, why it is unknown): no COMPLETE trial with a duration, or
    trials of another model or image size than `budget`'s, whose speed says nothing about it.
    """
    timed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        trained = trial.user_attrs.get("budget")
        if not isinstance(trained, dict) or not trained.get("epochs") or not trained.get("train_examples"):
            continue
        seconds = _duration(trial)
        if seconds is not None:
            timed.append((trained, seconds, trial.user_attrs.get("epoch_seconds")))
    if not timed:
        return None, "no complete exploration trial to time it by"
    same = [t for t in timed if (t[0].get("model"), t[0].get("image_size")) == (budget.model, budget.image_size)]
    if not same:
        trained = timed[0][0]
        return None, (
            f"exploration trained {trained.get('model')} at {trained.get('image_size')}px, "
            f"the race {budget.model} at {budget.image_size}px"
        )
    per_image_epoch, fixed = [], []
    for trained, seconds, epochs in same:
        if isinstance(epochs, list) and len(epochs) >= 2:
            steady = statistics.median(epochs[1:])
            per_image_epoch.append(steady / trained["train_examples"])
            fixed.append(max(seconds - steady * trained["epochs"], 0.0))
        else:
            per_image_epoch.append(seconds / (trained["epochs"] * trained["train_examples"]))
            fixed.append(0.0)
    work = budget.epochs * budget.train_examples
    return statistics.median(fixed) + statistics.median(per_image_epoch) * work, ""


def _duration(trial: optuna.trial.FrozenTrial) -> float | None:
    """The trial's seconds from the driver's ask to its end (its `wall_seconds` without them)."""
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
        if seconds > 0:
            return seconds
    wall = trial.user_attrs.get("wall_seconds")
    return float(wall) if isinstance(wall, (int, float)) and wall > 0 else None
