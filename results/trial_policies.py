"""Choosing a study's trial, its policy and the provenance an exported policy file records."""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from results.confirmation import read_record, winner_standing
from space import AugSearchError, Policy


def pick_trial(study: optuna.Study, which: str | int = "best") -> FrozenTrial:
    """`which` is "best" (the confirmed winner, else the highest objective) or a trial number.
    Raises AugSearchError when there is no such finished trial, or the trial did not complete
    (FAIL, PRUNED, RUNNING) and so has no objective to trust."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if which == "best":
        if not complete:
            raise AugSearchError(
                f"--trial best: study {study.study_name!r} has no complete trial yet; run `search run` first."
            )
        record = read_record(study)
        if record is not None:
            return next(trial for trial in complete if trial.number == record["winner"])
        return max(complete, key=lambda trial: trial.value)
    try:
        number = int(which)
    except (TypeError, ValueError):
        raise AugSearchError(f"--trial must be 'best' or a trial number, but got --trial={which!r}.") from None
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    if number not in trials:
        raise AugSearchError(
            f"--trial {number}: study {study.study_name!r} has no such trial (its trials are 0 to {len(trials) - 1})."
        )
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        why = trial.user_attrs.get("error", "")
        raise AugSearchError(
            f"--trial {number} is {trial.state.name}, not COMPLETE, so it has no full-budget objective"
            + (f" (error: {why.strip().splitlines()[0]})" if why else "")
            + "; pick a complete trial (`--trial best`)."
        )
    return trial


def trial_policy(trial: FrozenTrial) -> Policy:
    if "policy" not in trial.user_attrs:
        raise AugSearchError(f"trial {trial.number} has no recorded policy (was it made by `search run`?).")
    return Policy.from_dict(trial.user_attrs["policy"])


def trial_provenance(study: optuna.Study, trial: FrozenTrial) -> dict:
    provenance = {
        "study": study.study_name,
        "trial": trial.number,
        "objective": trial.value,
        "dataset": trial.user_attrs.get("dataset"),
        "budget": trial.user_attrs.get("budget"),
    }
    record = read_record(study)
    if record is not None and record["winner"] == trial.number:
        winner = winner_standing(record)
        provenance["confirmation"] = {
            "mean": winner["mean"], "low": winner["low"], "high": winner["high"], "seeds": record["seeds"],
            "runner_up": record["runner_up"], "difference": record["difference"],
        }
    return provenance
