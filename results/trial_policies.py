"""Choosing a study's policy: "best" (defined once, here), a trial by number, and the provenance
an exported policy file records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from results.confirmation import RaceRecord, interval_json, read_record
from results.stored import ERROR_ATTR, StudySettings, read_settings
from space import AugSearchError, Policy
from space.errors import first_line


@dataclass(frozen=True)
class Choice:
    """A policy chosen from a study: a trial's, or a baseline that won the race.

    `label` is "trial 12" or the baseline's name; `trial` is None for a baseline; `race` is the
    race's record when the race chose it.
    """

    label: str
    policy: Policy
    trial: FrozenTrial | None = None
    baseline: str | None = None
    race: RaceRecord | None = None


def best(study: optuna.Study) -> Choice:
    """The study's best policy: the race's winner (a searched trial or a baseline) when a race has
    finished, else the COMPLETE trial with the highest exploration objective (the lower number on
    a tie). Raises AugSearchError when there is neither."""
    record = read_record(study)
    winning = record.winning if record is not None else None
    if winning is not None:
        winner = winning.contestant
        trial = None
        if winner.trial is not None:
            trial = next((t for t in study.get_trials(deepcopy=False) if t.number == winner.trial), None)
        return Choice(winner.label, winner.policy, trial, winner.baseline, record)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise AugSearchError(
            f"--trial best: study {study.study_name!r} has no complete trial yet; run `search run` first."
        )
    top = max(complete, key=lambda trial: (trial.value, -trial.number))
    return Choice(f"trial {top.number}", trial_policy(top), top)


def choose(study: optuna.Study, which: str | int = "best") -> Choice:
    """`which` is "best" (see `best`) or the number of a COMPLETE trial. Raises AugSearchError."""
    if which == "best":
        return best(study)
    trial = pick_trial(study, which)
    return Choice(f"trial {trial.number}", trial_policy(trial), trial)


def pick_trial(study: optuna.Study, which: str | int) -> FrozenTrial:
    """The COMPLETE trial numbered `which`. Raises AugSearchError when there is no such trial, or
    it did not complete (FAIL, PRUNED, RUNNING) and so has no objective to trust."""
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
        why = trial.user_attrs.get(ERROR_ATTR, "")
        raise AugSearchError(
            f"--trial {number} is {trial.state.name}, not COMPLETE, so it has no full-budget objective"
            + (f" (error: {first_line(why)})" if why else "")
            + "; pick a complete trial (`--trial best`)."
        )
    return trial


def trial_policy(trial: FrozenTrial) -> Policy:
    if "policy" not in trial.user_attrs:
        raise AugSearchError(f"trial {trial.number} has no recorded policy (was it made by `search run`?).")
    return Policy.from_dict(trial.user_attrs["policy"])


def export(study: optuna.Study, path, which: str | int = "best") -> tuple[Choice, Path]:
    """Write the policy `which` names (see `choose`) as an export file with its provenance;
    returns the choice and the path written. Raises AugSearchError."""
    from results.export import export_policy

    chosen = choose(study, which)
    return chosen, export_policy(chosen.policy, path, provenance(study, chosen))


def provenance(study: optuna.Study, choice: Choice) -> dict:
    """What an export file records of where its policy comes from: the study, the trial (None for
    a baseline) and its objective, the data and budget, and the race's verdict when the race chose it."""
    trial = choice.trial
    settings = read_settings(study) or StudySettings(None, {}, {})
    record = {
        "study": study.study_name,
        "trial": trial.number if trial is not None else None,
        "baseline": choice.baseline,
        "objective": trial.value if trial is not None else None,
        "dataset": trial.user_attrs.get("dataset") if trial is not None else settings.dataset,
        "budget": trial.user_attrs.get("budget") if trial is not None else (settings.budget or None),
    }
    race = choice.race if choice.race is not None else _race_of(study, choice)
    interval = race.result(choice.label).interval if race is not None else None
    if race is not None and interval is not None:
        record["confirmation"] = {
            "mean": interval.mean,
            "low": interval.low,
            "high": interval.high,
            "seeds": list(race.seeds),
            "budget": race.budget,
            "runner_up": race.runner_up,
            "difference": interval_json(race.difference),
        }
    return record


def _race_of(study: optuna.Study, choice: Choice) -> RaceRecord | None:
    """The race's record when `choice` is its winner (chosen by number, not as "best")."""
    record = read_record(study)
    return record if record is not None and record.winner == choice.label else None
