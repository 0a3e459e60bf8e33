"""Exploration: rounds of Ray Tune trials, each a policy Optuna proposes (`StudySearcher`), a
short proxy training (`run_trial`), ASHA stopping the weak, until the study holds the trials
asked for. `search.searching.run_search` calls `explore` once the study and Ray are ready."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from results.trials import progress
from search.settings import Placement, SearchSettings
from search.trainings import trial_seed
from search.tune.failure_limit import FailureLimit, ended_count
from search.tune.interrupt import ctrl_c_stops
from search.tune.progress import ProgressLine
from search.tune.searcher import StudySearcher
from search.tune.trainable import CURVE, MEASURED, OBJECTIVE, run_trial
from search.tune.trial_artifacts import TrialArtifacts, start_artifacts
from space import AugSearchError, suggest_policy
from space.budget import Budget
from trainers.data import ImageDataset

if TYPE_CHECKING:
    from ray.tune.schedulers import TrialScheduler


def explore(
    settings: SearchSettings, study: optuna.Study, budget: Budget, dataset: ImageDataset, placement: Placement
) -> bool:
    """Rounds of Tune trials until the study holds `settings.trials` finished ones; returns True
    when Ctrl-C stopped them. Raises AugSearchError after `max_failures` failures in a row."""
    # The study note and each finished trial's sample grid and learning curve, for the dashboard.
    artifacts = start_artifacts(study, settings.runs_dir, dataset)
    limit = FailureLimit(study, settings.max_failures)
    round_ = _Round(settings, study, budget, dataset, placement, artifacts, limit)
    while progress(study).finished < settings.trials:
        ended_before = ended_count(study)
        if round_.run(remaining=settings.trials - progress(study).finished):
            return True
        if limit.check():
            raise AugSearchError(limit.message())
        if ended_count(study) == ended_before:  # never seen; it would loop forever
            raise AugSearchError(
                "Ray Tune ran no trial in a round; the search stopped (run it with --debug to see why)."
            )
    return False


@dataclass
class _Round:
    """One `Tuner.fit` of at most `remaining` trials, all with the same set-up."""

    settings: SearchSettings
    study: optuna.Study
    budget: Budget
    dataset: ImageDataset
    placement: Placement
    artifacts: TrialArtifacts | None
    limit: FailureLimit

    def run(self, remaining: int) -> bool:
        """Run the trials; returns True when the user interrupted them (Ctrl-C)."""
        from ray import tune
        from ray.tune.search import ConcurrencyLimiter
        from ray.tune.stopper import CombinedStopper

        settings, budget = self.settings, self.budget
        cpus, gpus, concurrency = self.placement.cpus, self.placement.gpus, self.placement.concurrency
        searcher = StudySearcher(
            self.study,
            self._propose,
            metric=OBJECTIVE,
            curve_metric=CURVE,
            max_steps=budget.epochs,
            user_attrs=MEASURED,
            before_tell=self.artifacts,
        )
        trainable = tune.with_resources(
            tune.with_parameters(
                run_trial,
                dataset=self.dataset,
                budget=budget,
                model=settings.model_builder,
                keras_callbacks=settings.keras_callbacks,
                reuse=settings.reuse_workers,
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
        policy = suggest_policy(trial, self.settings.space)
        seed = trial_seed(self.settings.seed, trial.number)
        record = {
            "policy": policy.to_dict(),
            "budget": self.budget.to_dict(),
            "dataset": self.settings.dataset_spec,
            "seed": seed,
        }
        for key, value in record.items():
            trial.set_user_attr(key, value)
        return {"policy": policy, "seed": seed, "trial_number": trial.number}

    def _scheduler(self, metric: str) -> TrialScheduler:
        from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler

        if self.settings.pruner == "none":
            return FIFOScheduler()
        # One rung at two thirds of the epochs keeping the better half: strong augmentation lags
        # early and catches up late, and earlier or harsher rungs stopped more of full training's
        # best policies (the figures: docs/benchmarks.md#ashas-rungs).
        epochs = self.budget.epochs
        return AsyncHyperBandScheduler(
            metric=metric,
            mode="max",
            time_attr="training_iteration",
            max_t=epochs,
            grace_period=max(1, 2 * epochs // 3),
            reduction_factor=2,
        )
