"""The final race of `run_search`: the best searched policies against the baselines, trained on
the same fresh seeds at the training the user will run, the clearly worse dropped after each round.

The trainings are `search.trainings`' (stored in the race study, S + `RACE_SUFFIX`), the drop rule
and the winner `results.racing`'s, the record `results.race_record`'s. Only validation images are
scored: the test split is never loaded here. Why a race: docs/design.md ("Statistics decide").
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable

import optuna
from optuna.trial import TrialState

from results.race_record import RaceRecord, markdown, summary_line, to_record, write_record
from results.racing import race
from results.stored import RACE_STUDY_ATTR, RACE_SUFFIX, open_trainings_study
from results.trial_policies import trial_policy
from results.trials import ranked_complete, training_seconds
from search.formatting import printer
from search.settings import Placement, SearchSettings
from search.storage import open_storage
from search.trainings import TrainingPlan, Trainings, race_seeds
from space import Budget, Policy
from space.policy_ref import PolicyRef
from trainers.data import ImageDataset

#: What a race training's stored value is: its validation accuracy, scored like the objective.
METRIC = "objective"

#: Why a search ends without a race winner (`SearchResult.no_winner_reason`).
RACE_OFF = "the race is off (race_top 0)"
INTERRUPTED = "the search was stopped before its race ended (the same search again continues it)"
NO_CONTESTANTS = "no searched policy to race, since {why}; run more trials"
ALL_FAILED = "every race training failed (their errors are above and in the study {name!r})"


def searched_contestants(study: optuna.Study, top: int, exclude: Iterable[Policy] = ()) -> list[PolicyRef]:
    """The `top` best COMPLETE trials' policies, one per distinct augmentation (`Policy.canonical`)
    and none that augments like a policy in `exclude` (the racing baselines), best first."""
    seen = {policy.canonical() for policy in exclude}
    chosen: list[PolicyRef] = []
    for trial in ranked_complete(study):
        if len(chosen) == top:
            break
        policy = trial_policy(trial)
        if policy.canonical() not in seen:
            seen.add(policy.canonical())
            chosen.append(PolicyRef.of_trial(trial.number, policy))
    return chosen


def contestants(settings: SearchSettings, study: optuna.Study) -> list[PolicyRef]:
    """The race's contestants: the best distinct searched policies, then the baselines (an empty
    list when no searched trial completed: there is nothing to race the baselines against)."""
    baselines = [PolicyRef.of_baseline(name) for name in settings.race_baselines]
    searched = searched_contestants(study, settings.race_top, exclude=[b.policy for b in baselines])
    return searched + baselines if searched else []


def run_race(
    settings: SearchSettings,
    study: optuna.Study,
    url: str,
    budget: Budget,
    placement: Placement,
    load_dataset: Callable[[], ImageDataset],
) -> str | None:
    """Run the race at `budget` and store its record in the study. `load_dataset()` gives the
    race's data (without the test split), called only when a training is left to run. Returns
    None when the race has a winner, else why not: `INTERRUPTED` (Ctrl-C; no record written),
    `NO_CONTESTANTS` or `ALL_FAILED`."""
    field = contestants(settings, study)
    if not field:
        baselines = ", ".join(settings.race_baselines)
        return NO_CONTESTANTS.format(
            why=f"no complete trial has a policy other than the racing baselines' ({baselines})"
            if baselines
            else "no trial completed"
        )
    name = study.study_name + RACE_SUFFIX
    race_study = open_trainings_study(
        open_storage(url),
        name,
        RACE_STUDY_ATTR,
        {"study": study.study_name, "value": "validation accuracy at the race's budget"},
    )
    plan = TrainingPlan(
        tuple(field), tuple(race_seeds(settings.seed, settings.race_seeds)), budget, settings.dataset_spec
    )
    say = printer(settings.verbose)
    labels = [ref.label for ref in field]
    announced: set[str] = set()
    trainings = Trainings(
        race_study, plan, load_dataset, model=settings.model_builder, placement=placement, metric=METRIC, say=say
    )
    with trainings:
        say(_first_line(study, plan, placement, trainings.stored(), name))
        while True:
            current = race(labels, plan.seeds, trainings.scores(), trainings.failed)
            for standing in current.dropped:
                if standing.label not in announced:
                    announced.add(standing.label)
                    say(f"race: {standing.label} dropped ({standing.reason})")
            if current.finished:
                break
            jobs = plan.missing(trainings.stored(), current.pending)
            say(f"race: seed {current.rounds_done + 1} of {len(plan.seeds)} for {len(jobs)} contestants")
            if not trainings.run(jobs):
                return INTERRUPTED
    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    record = to_record(current, field, budget=budget, race_study=name, exploration_trials=finished)
    write_record(study, record)
    if record.winner is None:
        return ALL_FAILED.format(name=name)
    say(summary_line(record))
    _write_note(race_study, record)
    return None


def _first_line(
    study: optuna.Study, plan: TrainingPlan, placement: Placement, stored: dict[str, float], name: str
) -> str:
    """'race: up to 20 trainings (4 contestants x 5 seeds) of 60 epochs x 6,144 images, about 25 min
    with 2 at once (exploration's speed): trial 12, ...': what the race will cost before it starts."""
    budget, seeds = plan.budget, plan.seeds
    total = len(plan.refs) * len(seeds)
    left = plan.missing(stored)
    done = f", {total - len(left)} already trained" if len(left) < total else ""
    if not left:
        cost = "nothing left to train"
    else:
        seconds, why = training_seconds(study, budget)
        if seconds is None:
            cost = f"time unknown ({why})"
        else:
            # Round by round (a seed for every contestant), each round's trainings `concurrency` at once.
            waves = sum(
                math.ceil(len(plan.missing(stored, [(ref.label, seed) for ref in plan.refs])) / placement.concurrency)
                for seed in seeds
            )
            cost = f"about {_rough(waves * seconds)} with {placement.concurrency} at once (exploration's speed)"
    return (
        f"race: up to {total} trainings ({len(plan.refs)} contestants x {len(seeds)} seeds{done}) of {budget.epochs} "
        f"epochs x {budget.train_examples:,} images, {cost}: {', '.join(ref.label for ref in plan.refs)} on paired "
        f"seeds, the clearly worse dropped after each round (study {name!r})"
    )


def _rough(seconds: float) -> str:
    """'40 s', '25 min', '1.5 h': an estimate's precision."""
    if seconds < 90:
        return f"{max(round(seconds), 1)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _write_note(race_study: optuna.Study, record: RaceRecord) -> None:
    """The race's table as the race study's dashboard note; a failure is one line."""
    try:
        from optuna_dashboard import save_note

        save_note(race_study, markdown(record))
    except Exception as error:
        print(f"warning: race note not written: {error}", file=sys.stderr)
