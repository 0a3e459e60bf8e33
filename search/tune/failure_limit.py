"""--max-failures: stop a search whose trials keep failing instead of burning its budget."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

import optuna
from optuna.trial import TrialState

from results.stored import ERROR_ATTR
from space.errors import first_line

if TYPE_CHECKING:  # these import Ray
    from ray import tune
    from ray.tune.experiment import Trial

    from search.tune.searcher import StudySearcher
    from search.tune.stop_all import StopAll

ENDED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def ended_count(study: optuna.Study) -> int:
    """Trials that ended, failed ones included."""
    return len(study.get_trials(deepcopy=False, states=ENDED))


class FailureLimit:
    """--max-failures: trials of this run that failed in a row, none finishing in between, mean
    the search is broken, not unlucky; stop rather than burn the budget. Counted from the study
    (trials started by this run, in the order they ended), checked as each trial ends."""

    def __init__(self, study: optuna.Study, max_failures: int) -> None:
        self.study, self.max_failures = study, max_failures
        # Optuna stamps trials with naive local times; trials that started earlier are not ours.
        self.since = datetime.datetime.now()
        self.failures, self.last_error, self.tripped = 0, None, False

    def check(self) -> bool:
        if self.tripped:  # the trials stopped because of it must not change the last error
            return True
        ended = sorted(
            (
                t
                for t in self.study.get_trials(deepcopy=False, states=ENDED)
                if t.datetime_start and t.datetime_start >= self.since and t.datetime_complete
            ),
            key=lambda t: cast(datetime.datetime, t.datetime_complete),  # not None: filtered above
        )
        failed = []
        for trial in reversed(ended):
            if trial.state != TrialState.FAIL:
                break
            failed.append(trial)
        self.failures = len(failed)
        self.last_error = failed[0].user_attrs.get(ERROR_ATTR, "unknown") if failed else None
        self.tripped = self.failures >= self.max_failures
        return self.tripped

    def message(self) -> str:
        last = first_line(self.last_error, "unknown")
        return (
            f"{self.failures} trials in a row failed (--max-failures={self.max_failures}), none finishing in "
            f"between, so the search stopped; the last error was: {last} -- fix the cause "
            "(`search trials --state fail` lists each trial's error), then run the same command to resume, "
            "or raise --max-failures."
        )

    def callback(self, searcher: StudySearcher) -> tune.Callback:
        """Checks as each trial ends; when tripped, the trials still running end as FAIL with why."""
        from ray import tune

        limit = self

        class Check(tune.Callback):
            def _check(self) -> None:
                if not limit.tripped and limit.check():
                    searcher.interrupt(f"stopped: {limit.failures} trials in a row failed (--max-failures)")

            def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
                self._check()

            def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
                self._check()

        return Check()

    def stopper(self) -> StopAll:
        from search.tune.stop_all import StopAll

        return StopAll(when=lambda: self.tripped)
