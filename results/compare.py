"""Policies side by side: trials of a study or exported policy files, field by field."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import optuna

from results.export import read_policy_document
from results.trial_policies import best
from results.trials import TrialRow, trial_rows
from space import AugSearchError, Policy
from space.policy_ref import PolicyRef


@dataclass(frozen=True)
class Candidate:
    """One column of a comparison: a policy and what is known of how it did."""

    ref: PolicyRef
    state: str | None = None
    value: float | None = None
    curve: tuple[float, ...] = ()
    wall_seconds: float | None = None

    @property
    def label(self) -> str:
        return self.ref.label

    @property
    def policy(self) -> Policy:
        return self.ref.policy


@dataclass(frozen=True)
class Line:
    """One line of a comparison: a name and one value per candidate (None: not known)."""

    name: str
    values: tuple
    differs: bool  # only policy fields are marked


def from_trial(row: TrialRow) -> Candidate:
    """A trial as a candidate; raises AugSearchError for a trial that never got a policy."""
    if row.policy is None:
        raise AugSearchError(f"trial {row.number} has no recorded policy (was it made by `search run`?).")
    return Candidate(
        PolicyRef.of_trial(row.number, row.policy),
        state=row.state,
        value=row.value,
        curve=row.curve,
        wall_seconds=row.wall_seconds,
    )


def from_file(path: str | os.PathLike) -> Candidate:
    """A policy export file as a candidate: its objective comes from its provenance.

    Raises AugSearchError for a file that is not a readable export.
    """
    document = read_policy_document(path)
    provenance = document["provenance"]
    ref = PolicyRef.of_file(Path(path).name, Policy.from_dict(document["policy"]))
    return Candidate(ref, value=provenance.get("objective"))


def is_policy_file(item: str) -> bool:
    return item.endswith(".json") or Path(item).is_file()


def candidates(study: optuna.Study | None, items: list[str]) -> list[Candidate]:
    """One `results.compare.Candidate` per item, in order. A trial number may name a trial in any
    state that has a policy (a pruned or failed policy is worth a look too); `best` is the study's
    best (`results.trial_policies.best`: the race's winner, which may be a baseline). Raises
    AugSearchError naming the item that does not resolve."""
    rows = {row.number: row for row in trial_rows(study)} if study is not None else {}
    found = []
    for item in items:
        if is_policy_file(item):
            found.append(from_file(item))
            continue
        if study is None:
            raise AugSearchError(f"{item!r} names a trial, but there is no study to read it from.")
        if item == "best":
            chosen = best(study)
            if chosen.trial is None:  # a baseline won the race
                found.append(Candidate(chosen))
                continue
            number = chosen.trial
        elif item.isdigit() and int(item) in rows:
            number = int(item)
        else:
            known = f"trials 0 to {max(rows)}" if rows else "no trials"
            raise AugSearchError(
                f"{item!r} is not a trial of study {study.study_name!r} ({known}), 'best', or a policy file (*.json)."
            )
        found.append(from_trial(rows[number]))
    return found


def comparison(candidates: list[Candidate]) -> list[Line]:
    """The lines of a comparison: each policy field (marked where the candidates differ), then the
    state, the objective, the objective per epoch and the wall time."""
    lines = []
    for field in dataclasses.fields(Policy):
        values = tuple(getattr(candidate.policy, field.name) for candidate in candidates)
        lines.append(Line(field.name, values, differs=len(set(values)) > 1))
    lines.append(Line("state", tuple(candidate.state for candidate in candidates), differs=False))
    lines.append(Line("objective", tuple(candidate.value for candidate in candidates), differs=False))
    epochs = max((len(candidate.curve) for candidate in candidates), default=0)
    for epoch in range(epochs):
        values = tuple(candidate.curve[epoch] if epoch < len(candidate.curve) else None for candidate in candidates)
        lines.append(Line(f"epoch {epoch + 1}", values, differs=False))
    lines.append(Line("wall_seconds", tuple(candidate.wall_seconds for candidate in candidates), differs=False))
    return lines
