"""Choosing a study's policy: "best" (defined once, here), a trial by number, and the provenance
an exported policy file records (`search.policy_files.export` writes the file)."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from results.race_record import interval_json, read_record
from results.stored import ERROR_ATTR, StudySettings, read_settings
from results.trials import ranked_complete
from space import AugSearchError, Policy
from space.errors import first_line
from space.policy_ref import PolicyRef


def best(study: optuna.Study) -> PolicyRef:
    """The study's best policy: the race's winner (a searched trial or a baseline) when a race has
    finished, else the COMPLETE trial with the highest exploration objective (the lower number on
    a tie). Raises AugSearchError when there is neither."""
    record = read_record(study)
    if record is not None and record.winning is not None:
        return record.winning.contestant
    ranked = ranked_complete(study)
    if not ranked:
        raise AugSearchError(f"trial 'best': study {study.study_name!r} has no complete trial yet; run a search first.")
    return PolicyRef.of_trial(ranked[0].number, trial_policy(ranked[0]))


def choose(study: optuna.Study, which: str | int = "best") -> PolicyRef:
    """`which` is "best" (see `best`) or the number of a COMPLETE trial. Raises AugSearchError."""
    if which == "best":
        return best(study)
    trial = pick_trial(study, which)
    return PolicyRef.of_trial(trial.number, trial_policy(trial))


def pick_trial(study: optuna.Study, which: str | int) -> FrozenTrial:
    """The COMPLETE trial numbered `which`. Raises AugSearchError when there is no such trial, or
    it did not complete (FAIL, PRUNED, RUNNING) and so has no objective to trust."""
    try:
        number = int(which)
    except (TypeError, ValueError):
        raise AugSearchError(f"trial must be 'best' or a trial number, but got trial={which!r}.") from None
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    if number not in trials:
        raise AugSearchError(
            f"trial {number}: study {study.study_name!r} has no such trial (its trials are 0 to {len(trials) - 1})."
        )
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        why = trial.user_attrs.get(ERROR_ATTR, "")
        raise AugSearchError(
            f"trial {number} is {trial.state.name}, not COMPLETE, so it has no full-budget objective"
            + (f" (error: {first_line(why)})" if why else "")
            + "; pick a complete trial, or 'best'."
        )
    return trial


def trial_of(study: optuna.Study, ref: PolicyRef) -> FrozenTrial | None:
    """The trial `ref` comes from (None for a baseline or a file)."""
    if ref.trial is None:
        return None
    return next((trial for trial in study.get_trials(deepcopy=False) if trial.number == ref.trial), None)


def trial_policy(trial: FrozenTrial) -> Policy:
    if "policy" not in trial.user_attrs:
        raise AugSearchError(f"trial {trial.number} has no recorded policy (was it made by `search run`?).")
    return Policy.from_dict(trial.user_attrs["policy"])


def provenance(study: optuna.Study, chosen: PolicyRef) -> dict[str, Any]:
    """What an export file records of where its policy comes from: the study, the trial (None for
    a baseline) and its objective, the data and budget, and the race's verdict when the race chose it."""
    trial = trial_of(study, chosen)
    settings = read_settings(study) or StudySettings(None, {}, {})
    record = {
        "study": study.study_name,
        "trial": trial.number if trial is not None else None,
        "baseline": chosen.label if chosen.is_baseline else None,
        "objective": trial.value if trial is not None else None,
        "dataset": trial.user_attrs.get("dataset") if trial is not None else settings.dataset,
        "budget": trial.user_attrs.get("budget") if trial is not None else (settings.budget or None),
    }
    race = read_record(study)
    if race is None or race.winner != chosen.label:
        race = None  # the race's verdict belongs to its winner only
    interval = race.result(chosen.label).interval if race is not None else None
    if race is not None and interval is not None:
        record["confirmation"] = {  # the race's verdict, under its stored name
            "mean": interval.mean,
            "low": interval.low,
            "high": interval.high,
            "seeds": list(race.seeds),
            "budget": None if race.budget is None else race.budget.to_dict(),
            "runner_up": race.runner_up,
            "difference": interval_json(race.difference),
        }
    return record
