"""Policies side by side: trials of a study or exported policy files, field by field."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from results.export import read_policy_document
from results.trials import TrialRow
from space import AugSearchError, Policy


@dataclass(frozen=True)
class Candidate:
    """One column of a comparison: a policy and what is known of how it did."""

    label: str  # "trial 12" or the file's name
    policy: Policy
    state: str | None = None
    value: float | None = None
    curve: tuple[float, ...] = ()
    wall_seconds: float | None = None


@dataclass(frozen=True)
class Line:
    """One line of a comparison: a name and one value per candidate (None: not known)."""

    name: str
    values: tuple
    differs: bool  # only policy fields are marked


def from_trial(row: TrialRow) -> Candidate:
    """A trial as a candidate; raises AugSearchError for a trial that never got a policy."""
    if row.policy is None:
        raise AugSearchError(f"trial {row.number} has no policy to compare: it ended before Optuna proposed one.")
    return Candidate(
        label=f"trial {row.number}",
        policy=row.policy,
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
    return Candidate(
        label=Path(path).name, policy=Policy.from_dict(document["policy"]), value=provenance.get("objective")
    )


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
