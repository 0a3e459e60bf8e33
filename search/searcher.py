"""Ray Tune's `OptunaSearch` on our own study, storing every trial the way the design asks.

`StudySearcher` differs from the `OptunaSearch` it extends in what reaches the study:

- it works on a study we created (our storage, sampler and name) instead of making its own;
- a trial that ASHA stopped is PRUNED with its intermediate values, never COMPLETE;
- a trial that raised is FAIL with its error message in the user attribute `error`, and a NaN
  objective is FAIL too (Optuna 5 refuses to tell NaN as COMPLETE: `OptunaSearch` logs that
  and leaves the trial RUNNING);
- whitelisted keys of the trial's last result are copied into the trial's user attributes.

Ray does not hand the searcher the error message, and reports a failure to the searcher before
it tells the callbacks (`TuneController._process_trial_failure`), so `searcher.callback()` must
be passed to `RunConfig(callbacks=...)`: it supplies the messages and, when the run ends (done,
stopped, interrupted or out of time), closes the trials still open as FAIL, so none is left
RUNNING (Tune stops those without telling the searcher).
"""

from __future__ import annotations

import functools
import json
import math
import os
from typing import Any, Callable, Iterable, Mapping

import optuna
import ray.cloudpickle
from optuna.study import StudyDirection
from optuna.trial import TrialState
from ray.air.constants import TRAINING_ITERATION
from ray.tune import Callback
from ray.tune.search.optuna import OptunaSearch
from ray.tune.utils.util import unflatten_dict

from space import REFERENCE_POLICIES, AugSearchError, Policy, SearchSpace, policy_params, suggest_policy
from space.errors import is_int, require

#: The user attribute that holds why a trial failed.
ERROR_ATTR = "error"
#: The user attribute that names the reference policy an enqueued trial runs.
REFERENCE_ATTR = "reference"


def suggest_config(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """The define-by-run space: the trainable's config is {"policy": Policy.to_dict(),
    "trial_number": N} (the number seeds the trial's training)."""
    return {"policy": suggest_policy(trial, space).to_dict(), "trial_number": trial.number}


def enqueue_reference_policies(
    study: optuna.Study, space: SearchSpace, policies: Mapping[str, Policy] = REFERENCE_POLICIES
) -> list[str]:
    """Enqueue each reference policy once (again on resume: a no-op), tagged `reference=<name>`.

    `study.ask()` pops enqueued trials before sampling, so they run first. Returns the names
    that fit `space`; a policy using an op outside `space.ops` has no parameters in this study
    and is left out.
    """
    names = []
    for name, policy in policies.items():
        try:
            # With rate 0 no op ever runs, so the no-augmentation reference fits any op set.
            params = policy_params(policy.replace(ops=space.ops) if policy.rate == 0 else policy, space)
        except AugSearchError:
            continue
        # skip_if_exists compares with every trial's fixed params, finished ones included.
        study.enqueue_trial(params, user_attrs={REFERENCE_ATTR: name}, skip_if_exists=True)
        names.append(name)
    return names


class StudySearcher(OptunaSearch):
    """`OptunaSearch` over an existing single-objective `study`, proposing policies from `space`.

    Args:
        study: the run's study; its direction gives the mode, its sampler proposes.
        space: the search space; each trial's config is `{"policy": Policy.to_dict()}`.
        metric: the result key of the objective.
        max_steps: the steps (epochs) of a full trial: a trial that ends without error before
            reporting this step was stopped early and is stored as PRUNED.
        step_key: the result key of the step, also the step of the intermediate values.
        user_attrs: result keys copied from the trial's last result into its user attributes
            (a key may hold a nested dict, which Ray flattens as "key/sub": it is rebuilt).
        before_tell: called as `before_tell(trial, state, value)` with each trial about to be
            told COMPLETE or PRUNED (its user attributes set): the last moment Optuna lets a
            trial change, e.g. to upload artifacts. It must not raise; Tune pickles it with the
            searcher.

    Raises AugSearchError for a multi-objective study, an empty metric or max_steps < 1.
    """

    def __init__(
        self,
        study: optuna.Study,
        space: SearchSpace,
        *,
        metric: str,
        max_steps: int,
        step_key: str = TRAINING_ITERATION,
        user_attrs: Iterable[str] = (),
        before_tell: Callable[[optuna.Trial, TrialState, float | None], None] | None = None,
    ):
        require(len(study.directions) == 1, "study", study.study_name, "a single-objective study")
        require(isinstance(metric, str) and metric != "", "metric", metric, "a result key")
        require(
            is_int(max_steps) and max_steps >= 1,
            "max_steps", max_steps, "an integer >= 1",
        )
        self._study = study
        self._max_steps = max_steps
        self._step_key = step_key
        self._user_attr_keys = tuple(user_attrs)
        self._before_tell = before_tell
        self._last_results: dict[str, dict] = {}  # per open trial
        self._error_messages: dict[str, str] = {}  # messages that came before on_trial_complete
        self._awaiting_error: set[str] = set()  # failed trials whose message is still to come
        self._callback_active = False
        self._interrupt_reason: str | None = None
        mode = "max" if study.direction == StudyDirection.MAXIMIZE else "min"
        # A partial of a module-level function: Tune pickles the searcher in its checkpoints.
        super().__init__(space=functools.partial(suggest_config, space=space), metric=metric, mode=mode)

    def _setup_study(self, mode: str) -> None:
        # OptunaSearch would create a study with its own sampler and a NopPruner here.
        self._ot_study = self._study

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
        try:
            return super().suggest(trial_id)
        except Exception as error:
            if trial_id in self._ot_trials:
                self._finish(trial_id, TrialState.FAIL, error=f"{type(error).__name__}: {error}")
            raise

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id not in self._ot_trials or trial_id in self._completed_trials:
            return
        self._report(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id not in self._ot_trials or trial_id in self._completed_trials:
            return
        if error:
            # Ray says only error=True; the message comes from the callback, right after this.
            message = self._error_messages.pop(trial_id, None)
            if message is None and self._callback_active:
                self._awaiting_error.add(trial_id)
            else:
                message = message or "the trial raised (no message: searcher.callback() is not in use)"
                self._finish(trial_id, TrialState.FAIL, error=message)
            return
        if result:
            # The result on which a scheduler stops a trial (ASHA at a rung or at max_t) reaches
            # only on_trial_complete, never on_trial_result.
            self._report(trial_id, result)
        last = self._last_results.get(trial_id, {})
        value, step = last.get(self.metric), last.get(self._step_key, 0)
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
        value, step = result.get(self.metric), result.get(self._step_key)
        previous = self._last_results.get(trial_id, {}).get(self._step_key)
        self._last_results[trial_id] = result
        # A trial that returns by itself ends with its last result again: report it once.
        if value is not None and step is not None and step != previous:
            self._ot_trials[trial_id].report(value, step)

    def _record_error(self, trial_id: str, message: str) -> None:
        if trial_id in self._awaiting_error:
            self._awaiting_error.discard(trial_id)
            self._finish(trial_id, TrialState.FAIL, error=message)
        elif trial_id in self._ot_trials and trial_id not in self._completed_trials:
            self._error_messages[trial_id] = message

    def _close_open_trials(self) -> None:
        reason = self._interrupt_reason or "the run ended before the trial finished"
        for trial_id in list(self._ot_trials):
            if trial_id not in self._completed_trials:
                self._finish(trial_id, TrialState.FAIL, error=self._error_messages.get(trial_id, reason))

    def _finish(
        self, trial_id: str, state: TrialState, value: float | None = None, error: str | None = None
    ) -> None:
        ot_trial = self._ot_trials[trial_id]
        last = self._last_results.pop(trial_id, {})
        for key in self._user_attr_keys:
            found = _lookup(last, key)
            if found is not _MISSING:
                ot_trial.set_user_attr(key, _jsonable(found))
        if error is not None:
            ot_trial.set_user_attr(ERROR_ATTR, error)
        if self._before_tell is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            self._before_tell(ot_trial, state, value)
        self._ot_study.tell(ot_trial, value, state=state)
        self._completed_trials.add(trial_id)
        self._error_messages.pop(trial_id, None)
        self._awaiting_error.discard(trial_id)


class _StudyCallback(Callback):
    """Gives a `StudySearcher` the failed trials' messages; closes open trials at the end."""

    def __init__(self, searcher: StudySearcher):
        self._searcher = searcher

    def setup(self, **info: Any) -> None:
        self._searcher._callback_active = True

    def on_trial_error(self, iteration: int, trials: list, trial, **info: Any) -> None:
        self._searcher._record_error(trial.trial_id, _error_message(trial))

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self._searcher._close_open_trials()


def _error_message(trial) -> str:
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
    if key in result:
        return result[key]
    prefix = key + "/"
    nested = {name[len(prefix):]: value for name, value in result.items() if name.startswith(prefix)}
    return unflatten_dict(nested) if nested else _MISSING


def _jsonable(value: Any) -> Any:
    # Storages keep user attributes as JSON; trainers report NumPy scalars.
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
