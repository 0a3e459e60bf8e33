"""The one Tune stopper the search needs: the whole round, never a single trial (ASHA owns those)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ray import tune


class StopAll(tune.Stopper):
    """Stops every trial once `requested` is set (Ctrl-C) or `when()` is true (the failure limit)."""

    def __init__(self, when: Callable[[], bool] | None = None) -> None:
        self.requested = False
        self.when = when

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        return False

    def stop_all(self) -> bool:
        return self.requested or bool(self.when and self.when())
