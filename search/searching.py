"""`run_search`: Optuna proposes, Ray Tune runs the trials in parallel, the study remembers.

Rounds of `Tuner.fit` (`search.tune.exploration`) run until the study holds `settings.trials`
finished trials, then the final race (`search.race`): running the same search again
resumes it. The driver (this process) is the study's only writer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial

from results.race_record import RaceRecord, read_record, write_record
from results.stored import StudySettings
from results.trial_policies import best, trial_of
from results.trials import progress
from search.formatting import printer
from search.locks import check_runs_dir, driver_lock
from search.policy_files import export
from search.race import INTERRUPTED, RACE_OFF, run_race
from search.settings import SearchSettings
from search.storage import shown, storage_url
from search.study import enqueue_baselines, fail_stale_trials, make_sampler, open_study
from search.tune.cluster import place
from space import BASELINES, AugSearchError, Budget, Policy
from space.policy_ref import PolicyRef
from trainers.data import ImageDataset, check_dataset, load_for_budget


@dataclass(frozen=True)
class SearchResult:
    """What a search leaves: its study (in its storage), whether Ctrl-C stopped it early, and why
    this run ended without a race winner (`no_winner_reason`, one sentence: the race is off, the
    search was stopped, no searched policy to race, or every race training failed; None when its
    race has a winner)."""

    study: optuna.Study
    storage_url: str
    interrupted: bool = False
    no_winner_reason: str | None = None

    @property
    def race(self) -> RaceRecord | None:
        """The race's record: its contestants (the best searched policies and the baselines), their
        paired scores and intervals, the winner; None when no race has finished."""
        return read_record(self.study)

    @property
    def confirmation(self) -> RaceRecord | None:
        """`race`'s earlier name, kept as an alias."""
        return self.race

    @property
    def best(self) -> PolicyRef | None:
        """The search's best: the race's winner, a searched trial or a baseline, else the COMPLETE
        trial with the highest objective; None before any completes."""
        try:
            return best(self.study)
        except AugSearchError:
            return None

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The best's trial (None when a baseline won the race, or before any trial completes)."""
        best = self.best
        return None if best is None else trial_of(self.study, best)

    @property
    def best_value(self) -> float | None:
        """The best trial's exploration objective (one seed; `race` has its paired mean)."""
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
        return export(self.study, path, trial)[1]


def run_search(settings: SearchSettings) -> SearchResult:
    """Search augmentation policies until the study holds `settings.trials` finished trials.

    Everything is checked before Ray starts (dataset, model, run directory, storage). Returns the
    SearchResult (`interrupted` when Ctrl-C stopped it; finished trials are kept). Raises
    AugSearchError for bad settings, a study made with other settings, a second search on the
    same study, or `max_failures` trials failing in a row.
    """
    _require_settings(settings)
    check_dataset(settings.dataset, settings.data_dir)
    settings.check_model()
    check_runs_dir(settings.runs_dir)
    url = storage_url(settings.runs_dir, settings.storage)
    with driver_lock(settings.runs_dir, settings.study_name, url):
        return _search(settings, url)


def _require_settings(settings: object) -> None:
    if not isinstance(settings, SearchSettings):
        raise AugSearchError(f"settings must be a search.SearchSettings, but got settings={settings!r}.")


def _search(settings: SearchSettings, url: str) -> SearchResult:
    from search.tune.exploration import explore  # imports Ray: only when a search runs

    placement = place(settings.resources)
    budget = settings.budget_for(gpus=placement.has_gpus)
    race_budget = settings.race_budget_for(gpus=placement.has_gpus)
    say = printer(settings.verbose)

    study_settings = StudySettings(settings.dataset_spec, budget.to_dict(), settings.space.to_dict(), settings.seed)
    study = open_study(url, settings.study_name, make_sampler(settings.sampler, settings.seed), study_settings)
    stale = fail_stale_trials(study)
    if stale:
        say(f"marked trials {', '.join(map(str, stale))} FAIL: a previous run left them RUNNING")
    if settings.baselines:
        # No more than the trials asked for: a trial left waiting would outlive the run.
        enqueue_baselines(study, settings.space, dict(list(BASELINES.items())[: settings.trials]))

    already = progress(study).finished
    say(
        f"study {settings.study_name!r} in {shown(url)}: {already}/{settings.trials} trials finished | dataset "
        f"{settings.dataset_spec} | budget {budget.epochs} epochs x {budget.train_examples} images at "
        f"{budget.image_size}px, model {budget.model} | {placement.concurrency} at once, {placement.cpus:g} CPU + "
        f"{placement.gpus:g} GPU each"
    )

    def data_for(at: Budget) -> Callable[[], ImageDataset]:
        # The search's data (no test split: `search evaluate` alone reads it), loaded when needed.
        # The validation carve does not depend on the training size: exploration and race score alike.
        return functools.cache(
            lambda: load_for_budget(settings.dataset, at, seed=settings.seed, data_dir=settings.data_dir)
        )

    if already < settings.trials:
        write_record(study, None)  # the best trials may change: the race is run again
        if explore(settings, study, budget, data_for(budget)(), placement):
            return SearchResult(study, url, interrupted=True, no_winner_reason=INTERRUPTED)
    if not settings.race_top:
        return SearchResult(study, url, no_winner_reason=RACE_OFF)
    why = run_race(settings, study, url, race_budget, placement, data_for(race_budget))
    return SearchResult(study, url, interrupted=why == INTERRUPTED, no_winner_reason=why)
