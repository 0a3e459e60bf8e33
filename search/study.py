"""The search study: created or resumed with the same settings, its sampler, the baselines it
runs first, and trials a dead run left RUNNING.

What is stored, and under which names, is `results.stored`: the study's settings, and each
trial's own (policy, budget, dataset, seed), which the driver sets when it asks Optuna for the
trial (`search.tune.exploration`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from results._optuna_internals import trial_id
from results.stored import BASELINE_ATTR, ERROR_ATTR, LEGACY_BASELINES, StudySettings, read_settings, write_settings
from search.settings import BUDGET_OVERRIDES, SAMPLERS
from search.storage import open_storage, shown
from space import BASELINES, AugSearchError, Policy, SearchSpace, policy_params

STALE_RUNNING_MESSAGE = "left RUNNING by a search run that ended abruptly; marked FAIL when the next run started"


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna's own samplers; TPE is multivariate and grouped, with the constant liar so that
    trials running in parallel do not all propose the same policy."""
    with warnings.catch_warnings():  # TPE's `group` and QMC are "experimental" in Optuna 5: wanted
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _sampler(name, seed)


def _sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, constant_liar=True)
    if name == "tpe-univariate":
        # Optuna's default TPE (each parameter modelled on its own), kept to compare against.
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        # CMA-ES handles the float and integer fields; the op booleans fall back to random.
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)
    raise AugSearchError(f"sampler must be one of {', '.join(SAMPLERS)}, but got sampler={name!r}.")


def open_study(url: str, name: str, sampler: optuna.samplers.BaseSampler, settings: StudySettings) -> optuna.Study:
    """Create the study or load it to resume. `settings` (dataset, budget, search space) are stored
    with a new study; a study made with other settings is refused rather than mixed."""
    study = optuna.create_study(
        storage=open_storage(url), study_name=name, sampler=sampler, direction="maximize", load_if_exists=True
    )
    record = read_settings(study)
    if record is None:
        write_settings(study, settings)
        return study
    stored = {**record.to_dict(), "search_space": _stored_space(record.search_space)}
    now = {**settings.to_dict(), "search_space": _stored_space(settings.search_space)}
    differences = [
        text for key in ("dataset", "budget", "search_space") if (text := _difference(key, stored.get(key), now[key]))
    ]
    if differences:
        raise AugSearchError(
            f"study {name!r} in {shown(url)} was made with different settings ({'; '.join(differences)}); "
            f"run with the original flags{_budget_flags(stored.get('budget'), now['budget'])} to resume it, "
            "or pass --study NEW_NAME to start a new study."
        )
    return study


def _stored_space(data: Any) -> Any:
    """A stored search space as this code writes it (a space stored before a field existed gets
    the value that older code searched), so that only a real difference refuses a resume."""
    try:
        return SearchSpace.from_dict(data).to_dict()
    except (AugSearchError, TypeError):
        return data


def _budget_flags(stored: Any, now: Any) -> str:
    """' (--train-examples 2048 --epochs 15)': the flags that give back the stored budget's fields,
    e.g. for a study made with a preset whose values have since changed."""
    if not (isinstance(stored, dict) and isinstance(now, dict)):
        return ""
    flags = [
        f"--{name.replace('_', '-')} {stored[name]}"
        for name in BUDGET_OVERRIDES
        if name in stored and stored[name] != now.get(name)
    ]
    return f" ({' '.join(flags)})" if flags else ""


def _difference(key: str, stored: Any, now: Any) -> str | None:
    """'key: stored X, now Y', showing only the entries that differ when both are dicts."""
    if stored == now:
        return None
    if isinstance(stored, dict) and isinstance(now, dict):
        names = [name for name in {**stored, **now} if stored.get(name, _ABSENT) != now.get(name, _ABSENT)]
        stored = {name: stored.get(name, _ABSENT) for name in names}
        now = {name: now.get(name, _ABSENT) for name in names}
    return f"{key}: stored {stored!r}, now {now!r}"


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark trials a dead run left RUNNING as FAIL (we hold the driver lock, so none is live)."""
    failed = []
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        optuna.Trial(study, trial_id(frozen)).set_user_attr(ERROR_ATTR, STALE_RUNNING_MESSAGE)
        study.tell(frozen.number, state=TrialState.FAIL)
        failed.append(frozen.number)
    return failed


def enqueue_baselines(study: optuna.Study, space: SearchSpace, policies: Mapping[str, Policy] = BASELINES) -> list[str]:
    """Enqueue each baseline once (again on resume: a no-op), tagged with its name (`BASELINE_ATTR`).

    `study.ask()` pops enqueued trials before sampling, so they run first, and the sampler learns
    from known-good points. Returns the names that fit `space`; a policy outside it (an op that
    is not a candidate, a field outside the bounds) has no parameters in this study and is left out.
    """
    names = []
    for name, policy in policies.items():
        try:
            # With rate 0 no op ever runs, so the no-augmentation baseline fits any op set.
            params = policy_params(policy.replace(ops=space.ops) if policy.rate == 0 else policy, space)
        except AugSearchError:
            continue
        # skip_if_exists compares with every trial's fixed params, finished ones included.
        study.enqueue_trial(params, user_attrs={BASELINE_ATTR: name}, skip_if_exists=True)
        names.append(name)
    return names


def enqueued_baselines(study: optuna.Study) -> dict[str, Policy]:
    """The baselines enqueued in `study`, by the trials' `reference` user attribute (the policy a
    trial recorded, or, while it waits, the baseline's)."""
    found = {}
    for trial in study.get_trials(deepcopy=False):
        tag = trial.user_attrs.get(BASELINE_ATTR)
        if tag is None:
            continue
        name = LEGACY_BASELINES.get(tag, tag)
        if "policy" in trial.user_attrs:
            found[name] = Policy.from_dict(trial.user_attrs["policy"])
        elif name in BASELINES:
            found[name] = BASELINES[name]
    return found
