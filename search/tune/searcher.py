"""The study as a Ray Tune `Searcher`: Optuna's public ask-and-tell, storing every trial the way
the design asks (a trial ASHA stopped is PRUNED, never COMPLETE; one that raised is FAIL with its
error message), where Ray's own `OptunaSearch` would make its own study.

`searcher.callback()` must be passed to `RunConfig(callbacks=...)`: Ray hands searchers no error
message and stops the trials still open at the end without telling them, and the callback does
both. The rules in full: docs/development.md ("How trials reach the study").
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import optuna
import ray.cloudpickle
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState
from ray.tune import Callback
from ray.tune.search import Searcher

from results.stored import ERROR_ATTR
from space.errors import is_int, require

if TYPE_CHECKING:
    from ray.tune.experiment import Trial
    from ray.tune.stopper import Stopper

#: Tune's result key of the step: its count of reports, which is the epoch.
STEP_KEY = "training_iteration"
#: `before_tell(trial, snapshot)`: called with each trial about to be told COMPLETE or PRUNED, and
#: a FrozenTrial of it as it is about to be stored: the last moment Optuna lets a trial change.
BeforeTell = Callable[[optuna.Trial, FrozenTrial], object]  # what it returns is not used


class StudySearcher(Searcher):
    """A Tune `Searcher` over an existing single-objective `study`.

    Args:
        study: the run's study; its direction gives the mode, its sampler proposes.
        propose: `propose(trial) -> config` for a newly asked `optuna.Trial`.
        metric: the result key of the objective: a COMPLETE trial's value, from its last result.
        curve_metric: the result key of the per-step intermediate values (default: `metric`; the
            two differ when the objective is scored once, at the end).
        max_steps: the steps (epochs) of a full trial: a trial that ends without error before
            reporting this step was stopped early and is stored as PRUNED.
        user_attrs: result keys copied from the trial's last result into its user attributes.
        before_tell: see `BeforeTell`; it must not raise.

    Raises AugSearchError for a multi-objective study, an empty metric or max_steps < 1.
    """

    def __init__(
        self,
        study: optuna.Study,
        propose: Callable[[optuna.Trial], dict],
        *,
        metric: str,
        curve_metric: str | None = None,
        max_steps: int,
        user_attrs: Iterable[str] = (),
        before_tell: BeforeTell | None = None,
    ):
        require(len(study.directions) == 1, "study", study.study_name, "a single-objective study")
        require(isinstance(metric, str) and metric != "", "metric", metric, "a result key")
        require(is_int(max_steps) and max_steps >= 1, "max_steps", max_steps, "an integer >= 1")
        super().__init__(metric=metric, mode="max" if study.direction == StudyDirection.MAXIMIZE else "min")
        self._study = study
        self._curve_metric = curve_metric or metric
        self._propose = propose
        self._max_steps = max_steps
        self._user_attr_keys = tuple(user_attrs)
        self._before_tell = before_tell
        self._open: dict[str, optuna.Trial] = {}  # by Tune's trial id, until told
        self._curves: dict[str, dict[int, float]] = {}  # the intermediate values reported
        self._last_results: dict[str, dict] = {}
        self._error_messages: dict[str, str] = {}  # messages that came before on_trial_complete
        self._awaiting_error: set[str] = set()  # failed trials whose message is still to come
        self._callback_active = False
        self._interrupt_reason: str | None = None

    def callback(self) -> Callback:
        """The `ray.tune.Callback` to pass in `RunConfig(callbacks=[...])` with this searcher."""
        return _StudyCallback(self)

    def interrupt(self, reason: str) -> None:
        """Say why the run is being stopped: trials still open when it ends become FAIL with `reason`.

        Only records the reason, so a signal handler may call it; the callback writes to the
        study when Tune ends the run (Tune stops trials at the end without telling searchers).
        """
        self._interrupt_reason = reason

    def suggest(self, trial_id: str) -> dict | None:
        trial = self._study.ask()
        self._open[trial_id] = trial
        self._curves[trial_id] = {}
        try:
            return self._propose(trial)
        except Exception as error:
            self._finish(trial_id, TrialState.FAIL, error=f"{type(error).__name__}: {error}")
            raise

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id in self._open:
            self._report(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id not in self._open:
            return
        if error:
            # Ray says only error=True; the message comes from the callback, right after this.
            message = self._error_messages.pop(trial_id, None)
            if message is None and self._callback_active:
                self._awaiting_error.add(trial_id)
            else:
                self._finish(
                    trial_id,
                    TrialState.FAIL,
                    error=message or "the trial raised (no message: searcher.callback() is not in use)",
                )
            return
        if result:
            # The result on which a scheduler stops a trial (ASHA at a rung or at max_t) reaches
            # only on_trial_complete, never on_trial_result.
            self._report(trial_id, result)
        last = self._last_results.get(trial_id, {})
        value, step = last.get(self.metric), last.get(STEP_KEY, 0)
        if value is None:
            self._finish(trial_id, TrialState.FAIL, error=f"the trial reported no {self.metric!r}")
        elif math.isnan(value):
            self._finish(trial_id, TrialState.FAIL, error=f"{self.metric} is NaN")
        elif step < self._max_steps:
            # Ray marks every stopped result done=True, so only the step tells early from full.
            self._finish(trial_id, TrialState.PRUNED)
        else:
            self._finish(trial_id, TrialState.COMPLETE, float(value))

    def _report(self, trial_id: str, result: dict) -> None:
        value, step = result.get(self._curve_metric), result.get(STEP_KEY)
        self._last_results[trial_id] = result
        # A trial that returns by itself ends with its last result again: report it once.
        if value is not None and step is not None and step not in self._curves[trial_id]:
            self._open[trial_id].report(value, step)
            self._curves[trial_id][step] = value

    def _record_error(self, trial_id: str, message: str) -> None:
        if trial_id in self._awaiting_error:
            self._awaiting_error.discard(trial_id)
            self._finish(trial_id, TrialState.FAIL, error=message)
        elif trial_id in self._open:
            self._error_messages[trial_id] = message

    def _close_open_trials(self) -> None:
        reason = self._interrupt_reason or "the run ended before the trial finished"
        for trial_id in list(self._open):
            self._finish(trial_id, TrialState.FAIL, error=self._error_messages.get(trial_id, reason))

    def _finish(self, trial_id: str, state: TrialState, value: float | None = None, error: str | None = None) -> None:
        trial = self._open.pop(trial_id)
        last = self._last_results.pop(trial_id, {})
        for key in self._user_attr_keys:
            found = _lookup(last, key)
            if found is not _MISSING:
                trial.set_user_attr(key, _jsonable(found))
        if error is not None:
            trial.set_user_attr(ERROR_ATTR, error)
        curve = self._curves.pop(trial_id)
        if self._before_tell is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            self._before_tell(trial, _snapshot(trial, state, value, curve))
        self._study.tell(trial, value, state=state)
        self._error_messages.pop(trial_id, None)
        self._awaiting_error.discard(trial_id)


def _snapshot(trial: optuna.Trial, state: TrialState, value: float | None, curve: dict[int, float]) -> FrozenTrial:
    """The trial as it is about to be stored (the storage still has it RUNNING)."""
    return FrozenTrial(
        number=trial.number,
        state=state,
        value=value,
        datetime_start=trial.datetime_start,
        datetime_complete=datetime.datetime.now(),
        params=trial.params,
        distributions=trial.distributions,
        user_attrs=trial.user_attrs,
        system_attrs={},
        intermediate_values=dict(curve),
        trial_id=-1,
    )


class _StudyCallback(Callback):
    """Gives a `StudySearcher` the failed trials' messages; closes open trials at the end."""

    def __init__(self, searcher: StudySearcher):
        self._searcher = searcher

    def setup(
        self,
        stop: Stopper | None = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: Any,
    ) -> None:
        self._searcher._callback_active = True

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
        self._searcher._record_error(trial.trial_id, _error_message(trial))

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        self._searcher._close_open_trials()


def _error_message(trial: Trial) -> str:
    """'Type: message' of the exception the trainable raised, from the files Ray just wrote."""
    # Trial.handle_error writes both files on the driver before the callbacks hear of the error.
    path = trial.pickled_error_file
    if path and os.path.exists(path):
        with open(path, "rb") as file:
            error = ray.cloudpickle.load(file)
        cause = getattr(error, "cause", None) or error  # RayTaskError wraps the trainable's error
        return f"{type(cause).__name__}: {cause}"
    path = trial.error_file
    if path and os.path.exists(path):
        with open(path) as file:
            lines = [line.strip() for line in file if line.strip()]
        if lines:
            return lines[-1]
    return "the trial failed (Ray recorded no error)"


_MISSING = object()


def _lookup(result: dict, key: str) -> Any:
    """result[key]; a dict-valued key comes flattened by Tune ("timings/model"): rebuilt."""
    if key in result:
        return result[key]
    prefix = key + "/"
    nested = {name[len(prefix) :]: value for name, value in result.items() if name.startswith(prefix)}
    if not nested:
        return _MISSING
    rebuilt: dict = {}
    for name, value in nested.items():
        *parents, leaf = name.split("/")
        node = rebuilt
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return rebuilt


def _jsonable(value: Any) -> Any:
    # Storages keep user attributes as JSON; trainers report NumPy scalars.
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
