"""`run_search`: Optuna proposes, Ray Tune runs the trials in parallel, the study remembers.

Rounds of `Tuner.fit` run until the study holds `settings.trials` finished trials: running the
same search again resumes it. The driver (this process) is the study's only writer.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.formatting import printer
from search.settings import SearchSettings
from space import BASELINES, AugSearchError, Policy


@dataclass(frozen=True)
class SearchResult:
    """What a search leaves: its study (in its storage), and whether Ctrl-C stopped it early."""

    study: optuna.Study
    storage_url: str
    interrupted: bool = False

    @property
    def confirmation(self):
        """The race's record (`results.confirmation.RaceRecord`): its contestants (the best searched
        policies and the baselines), their paired scores and intervals, the winner; None when no
        race has finished."""
        from results.confirmation import read_record

        return read_record(self.study)

    @property
    def best(self):
        """The search's best (`results.trial_policies.Choice`): the race's winner, a searched trial
        or a baseline, else the COMPLETE trial with the highest objective; None before any completes."""
        from results.trial_policies import best

        try:
            return best(self.study)
        except AugSearchError:
            return None

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The best's trial (None when a baseline won the race, or before any trial completes)."""
        best = self.best
        return None if best is None else best.trial

    @property
    def best_value(self) -> float | None:
        """The best trial's exploration objective (one seed; `confirmation` has its paired mean)."""
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_policy(self) -> Policy | None:
        best = self.best
        return None if best is None else best.policy

    def export(self, path: str | Path, trial: str | int = "best") -> Path:
        """Write the policy of `trial` ("best": the race's winner, which may be a baseline, else the
        highest objective; or a trial number) as `search export` does; returns the path. Raises
        AugSearchError when that trial is not COMPLETE."""
        from results.trial_policies import export

        return export(self.study, path, trial)[1]


def run_search(settings: SearchSettings) -> SearchResult:
    """Search augmentation policies until the study holds `settings.trials` finished trials.

    Everything is checked before Ray starts (dataset, model, run directory, storage). Returns the
    SearchResult (`interrupted` when Ctrl-C stopped it; finished trials are kept). Raises
    AugSearchError for bad settings, a study made with other settings, a second search on the
    same study, or `max_failures` trials failing in a row.
    """
    from search.locks import check_runs_dir, driver_lock
    from search.storage import storage_url
    from trainers.data import check_dataset

    _require_settings(settings)
    check_dataset(settings.dataset, settings.data_dir)
    settings.check_model()
    check_runs_dir(settings.runs_dir)
    url = storage_url(settings.runs_dir, settings.storage)
    with driver_lock(settings.runs_dir, settings.study_name, url):
        return _search(settings, url)


def _require_settings(settings) -> None:
    if not isinstance(settings, SearchSettings):
        raise AugSearchError(f"settings must be a search.SearchSettings, but got settings={settings!r}.")


def _search(settings: SearchSettings, url: str) -> SearchResult:
    from results.confirmation import write_record
    from results.trials import progress
    from search.confirming import confirm
    from search.storage import shown
    from search.study import (
        enqueue_reference_policies,
        fail_stale_trials,
        make_sampler,
        open_study,
    )
    from search.tune.cluster import has_gpus, place
    from trainers.data import load_dataset

    ray, budget, (cpus, gpus, concurrency) = place(settings)
    race_budget = settings.race_budget_for(gpus=has_gpus(ray))
    say = printer(settings.verbose)

    study_settings = {
        "dataset": settings.dataset_spec, "budget": budget.to_dict(), "search_space": settings.space.to_dict(),
        "seed": settings.seed,
    }
    study = open_study(url, settings.study_name, make_sampler(settings.sampler, settings.seed), study_settings)
    stale = fail_stale_trials(study)
    if stale:
        say(f"marked trials {', '.join(map(str, stale))} FAIL: a previous run left them RUNNING")
    if settings.baselines:
        # No more than the trials asked for: a trial left waiting would outlive the run.
        enqueue_reference_policies(study, settings.space, dict(list(BASELINES.items())[: settings.trials]))

    already = progress(study).finished
    say(
        f"study {settings.study_name!r} in {shown(url)}: {already}/{settings.trials} trials finished | dataset "
        f"{settings.dataset_spec} | budget {budget.epochs} epochs x {budget.train_examples} images at "
        f"{budget.image_size}px, model {budget.model} | {concurrency} at once, {cpus:g} CPU + {gpus:g} GPU each"
    )

    def data_for(at):
        # The search's data (no test split: `search evaluate` alone reads it), loaded when needed.
        # The validation carve does not depend on the training size: exploration and race score alike.
        return functools.cache(lambda: load_dataset(
            settings.dataset, image_size=at.image_size, train_examples=at.train_examples,
            validation_examples=at.validation_to_load, seed=settings.seed, data_dir=settings.data_dir,
        ))

    if already < settings.trials:
        write_record(study, None)  # the best trials may change: the race is run again
        if _explore(settings, study, budget, data_for(budget)(), (cpus, gpus, concurrency)):
            return SearchResult(study, url, interrupted=True)
    if settings.confirm_top:
        if confirm(settings, study, url, ray, race_budget, (cpus, gpus, concurrency), data_for(race_budget)):
            return SearchResult(study, url, interrupted=True)
    return SearchResult(study, url)


def _explore(settings: SearchSettings, study: optuna.Study, budget, dataset, resources) -> bool:
    """Rounds of Tune trials until the study holds `settings.trials` finished ones; returns True
    when Ctrl-C stopped them."""
    from results.trials import progress
    from search.tune.failure_limit import FailureLimit, ended_count
    from search.tune.trial_artifacts import start_artifacts

    # The study note and each finished trial's sample grid and learning curve, for the dashboard.
    artifacts = start_artifacts(study, settings.runs_dir, dataset)
    limit = FailureLimit(study, settings.max_failures)
    round_ = _Round(settings, study, budget, dataset, resources, artifacts, limit)
    while progress(study).finished < settings.trials:
        ended_before = ended_count(study)
        if round_.run(remaining=settings.trials - progress(study).finished):
            return True
        if limit.check():
            raise AugSearchError(limit.message())
        if ended_count(study) == ended_before:  # never seen; it would loop forever
            raise AugSearchError("Ray Tune ran no trial in a round; the search stopped (run it with --debug to see why).")
    return False


@dataclass
class _Round:
    """One `Tuner.fit` of at most `remaining` trials, all with the same set-up."""

    settings: SearchSettings
    study: optuna.Study
    budget: object
    dataset: object
    resources: tuple[float, float, int]
    artifacts: object
    limit: object

    def run(self, remaining: int) -> bool:
        """Run the trials; returns True when the user interrupted them (Ctrl-C)."""
        from ray import tune
        from ray.tune.search import ConcurrencyLimiter
        from ray.tune.stopper import CombinedStopper

        from search.tune.interrupt import ctrl_c_stops
        from search.tune.progress import ProgressLine
        from search.tune.searcher import StudySearcher
        from search.tune.trainable import CURVE, MEASURED, OBJECTIVE, run_trial

        settings, budget = self.settings, self.budget
        cpus, gpus, concurrency = self.resources
        searcher = StudySearcher(
            self.study, self._propose, metric=OBJECTIVE, curve_metric=CURVE, max_steps=budget.epochs, user_attrs=MEASURED,
            before_tell=self.artifacts,
        )
        trainable = tune.with_resources(
            tune.with_parameters(
                run_trial, dataset=self.dataset, budget=budget,
                model=settings.model_builder,
                keras_callbacks=settings.keras_callbacks, reuse=settings.reuse_workers,
            ),
            {"cpu": cpus, "gpu": gpus},
        )
        tune_config = tune.TuneConfig(
            search_alg=ConcurrencyLimiter(searcher, max_concurrent=concurrency),
            scheduler=self._scheduler(CURVE),
            num_samples=remaining,
            # A worker runs trial after trial (a failed trial's worker is replaced): no process
            # start, imports or graph building again; trials stay independent (trainers.train).
            reuse_actors=settings.reuse_workers,
        )
        progress = [ProgressLine(self.study, settings.trials)] if settings.verbose else []
        with ctrl_c_stops(searcher) as stop:
            run_config = tune.RunConfig(
                name=f"{self.study.study_name}-{time.strftime('%Y%m%d-%H%M%S')}",
                storage_path=str((Path(settings.runs_dir) / "ray").resolve()),
                # The limit's check after the searcher's callback, which writes failed trials to the study.
                callbacks=[searcher.callback(), *progress, self.limit.callback(searcher)],
                stop=CombinedStopper(stop, self.limit.stopper()),
                verbose=0,
                failure_config=tune.FailureConfig(max_failures=0),
            )
            tune.Tuner(trainable, tune_config=tune_config, run_config=run_config).fit()
        return stop.requested

    def _propose(self, trial: optuna.Trial) -> dict:
        """The trainable's config for a new trial; the driver records its settings here, once."""
        from search.tune.trainable import trial_seed
        from space import suggest_policy

        policy = suggest_policy(trial, self.settings.space)
        seed = trial_seed(self.settings.seed, trial.number)
        record = {
            "policy": policy.to_dict(), "budget": self.budget.to_dict(), "dataset": self.settings.dataset_spec,
            "seed": seed,
        }
        for key, value in record.items():
            trial.set_user_attr(key, value)
        return {"policy": policy, "seed": seed, "trial_number": trial.number}

    def _scheduler(self, metric: str):
        from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler

        if self.settings.pruner == "none":
            return FIFOScheduler()
        # One rung at two thirds of the epochs keeping the better half: strong augmentation lags
        # early and catches up late, and earlier or harsher rungs stopped 2 of full training's 5
        # best policies per search (docs/benchmarks.md#ashas-rungs).
        epochs = self.budget.epochs
        return AsyncHyperBandScheduler(
            metric=metric, mode="max", time_attr="training_iteration", max_t=epochs,
            grace_period=max(1, 2 * epochs // 3), reduction_factor=2,
        )
