"""`PolicyRef`: a policy with the label it is reported under and where it comes from.

The race's contestants, `search evaluate`'s entries, the study's best and `search compare`'s
columns are all PolicyRefs; their labels ("trial 12", "cropflip", "policy.json") are made here
and nowhere else, since a label is also an identity within a race or an evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from space.baselines import BASELINES
from space.errors import require
from space.policy import Policy

#: Where a policy comes from: a trial of the search study, a baseline, or an exported file.
Origin = Literal["trial", "baseline", "file"]


@dataclass(frozen=True)
class PolicyRef:
    """`policy` under `label`, from `origin`; `trial` is the trial's number for origin "trial"."""

    label: str
    policy: Policy
    origin: Origin
    trial: int | None = None

    @classmethod
    def of_trial(cls, number: int, policy: Policy) -> PolicyRef:
        return cls(trial_label(number), policy, "trial", number)

    @classmethod
    def of_baseline(cls, name: str) -> PolicyRef:
        require(name in BASELINES, "baseline", name, f"one of {', '.join(BASELINES)}")
        return cls(name, BASELINES[name], "baseline")

    @classmethod
    def of_file(cls, label: str, policy: Policy) -> PolicyRef:
        return cls(label, policy, "file")

    @property
    def is_baseline(self) -> bool:
        return self.origin == "baseline"


def trial_label(number: int) -> str:
    """How a trial is named in races, evaluations and comparisons: 'trial 12'."""
    return f"trial {number}"
