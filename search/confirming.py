"""The final race of `run_search`: the best searched policies against the baselines, at the
training the user will run.

Exploration ranks policies by one seed of a short proxy training, which favours mild policies
(they learn fastest) and picks the luckiest of several equal draws. So the race retrains the
`confirm_top` best distinct searched policies and the `race_baselines` (TrivialAugment and no
augmentation by default) on the same `confirm_seeds` fresh seeds (paired: a seed gives every
contestant the same initial weights and data order) at the target budget, in rounds, and
`results.racing` drops the clearly worse as the rounds come in. The winner, the best paired mean,
is the search's "best" even when it is a baseline: the tool never exports a policy that its own
race measured worse than one that costs no search. Exploration scores are left out of the means:
they selected the contestants, so they are biased upwards.

Each training is one trial of the confirmation study (the search study's name +
`results.stored.CONFIRMATION_SUFFIX`), stored when it ends: COMPLETE with its validation accuracy
(the race budget's `score_examples` validation images), or FAIL with its error. The race is
replayed from those, so an interrupted race resumes where it stopped. The test split is never
loaded here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable

import optuna
from optuna.trial import FrozenTrial, TrialState

from results.confirmation import (
    Contestant,
    RaceRecord,
    baseline_contestant,
    markdown,
    summary_line,
    to_record,
    trial_contestant,
    write_record,
)
from results.racing import race
from results.stored import (
    CONFIRMATION_STUDY_ATTR,
    CONFIRMATION_SUFFIX,
    ERROR_ATTR,
    Training,
    open_trainings_study,
    read_scores,
    training_key,
    write_training,
)
from results.trial_policies import trial_policy
from results.trials import training_seconds
from search.formatting import printer
from search.settings import Placement, SearchSettings
from space import BASELINES, Policy
from space.errors import first_line
from trainers.budget import Budget

#: Race seeds follow the trial seeds of this many trial numbers, so they differ from every
#: exploration trial's seed (`search.tune.trainable.trial_seed`).
SEED_OFFSET = 1_000_000

#: What a race training's stored value is: its validation accuracy, scored like the objective.
METRIC = "objective"

#: Why a search ends without a race winner (`SearchResult.no_winner_reason`).
RACE_OFF = "the race is off (confirm_top 0)"
INTERRUPTED = "the search was stopped before its race ended (the same search again continues it)"
NO_CONTESTANTS = "no searched policy to race, since {why}; run more trials"
ALL_FAILED = "every race training failed (their errors are above and in the study {name!r})"


def confirmation_seeds(search_seed: int, count: int) -> list[int]:
    """The paired seeds of the race, reproducible from the search seed."""
    from search.tune.trainable import trial_seed

    return [trial_seed(search_seed, SEED_OFFSET + i) for i in range(count)]


def candidates(study: optuna.Study, top: int, exclude: Iterable[Policy] = ()) -> list[tuple[FrozenTrial, Policy]]:
    """The `top` COMPLETE trials with the highest objective and their policies, one per distinct
    augmentation (`Policy.canonical`) and none that augments like a policy in `exclude` (the
    racing baselines), best first."""
    complete = sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: (-(t.value or 0.0), t.number)
    )
    seen = {policy.canonical() for policy in exclude}
    chosen = []
    for trial in complete:
        policy = trial_policy(trial)
        augmentation = policy.canonical()
        if augmentation not in seen:
            seen.add(augmentation)
            chosen.append((trial, policy))
        if len(chosen) == top:
            break
    return chosen


def contestants(settings: SearchSettings, study: optuna.Study) -> list[Contestant]:
    """The race's contestants: the best distinct searched policies, then the baselines (an empty
    list when no searched trial completed: there is nothing to race the baselines against)."""
    baselines = [baseline_contestant(name, BASELINES[name]) for name in settings.race_baselines]
    searched = candidates(study, settings.confirm_top, exclude=[b.policy for b in baselines])
    if not searched:
        return []
    return [trial_contestant(trial.number, policy) for trial, policy in searched] + baselines


def confirm(
    settings: SearchSettings, study: optuna.Study, url: str, budget: Budget, placement: Placement, load_dataset
) -> str | None:
    """Run the race (see the module docstring) at `budget`; store its record in the study.
    `load_dataset()` gives the race's data (without the test split), called only when a training is
    left to run. Returns None when the race has a winner, else why not: `INTERRUPTED` when Ctrl-C
    stopped it (the record is then not written), or the sentence of `NO_CONTESTANTS` or `ALL_FAILED`."""
    from search.tune.training_tasks import TrainingWorkers

    field = contestants(settings, study)
    if not field:
        baselines = ", ".join(settings.race_baselines)
        return NO_CONTESTANTS.format(
            why=f"no complete trial has a policy other than the racing baselines' ({baselines})"
            if baselines
            else "no trial completed"
        )
    trainings = _trainings_study(url, study)
    name = trainings.study_name
    seeds = confirmation_seeds(settings.seed, settings.confirm_seeds)
    by_label = {contestant.label: contestant for contestant in field}
    budget_dict, spec = budget.to_dict(), settings.dataset_spec
    keys = {(c.label, seed): training_key(c.policy, seed, budget_dict, spec) for c in field for seed in seeds}
    say = printer(settings.verbose)
    failed: dict[str, str] = {}
    announced: set[str] = set()
    workers = None  # started for the first training left to run, kept for every round
    say(_first_line(study, budget, placement, seeds, keys, by_label, read_scores(trainings), name))

    def on_result(job, outcome):
        write_training(trainings, job, budget_dict, spec, outcome, METRIC)
        if ERROR_ATTR in outcome:
            failed[job.labels[0]] = first_line(outcome[ERROR_ATTR])

    try:
        while True:
            stored = read_scores(trainings)
            scores = {c: {seed: stored[keys[c, seed]] for seed in seeds if keys[c, seed] in stored} for c in by_label}
            current = race(list(by_label), seeds, scores, failed)
            for standing in current.dropped:
                if standing.candidate not in announced:
                    announced.add(standing.candidate)
                    say(f"race: {standing.candidate} dropped ({standing.reason})")
            if current.finished:
                break
            if workers is None:
                workers = TrainingWorkers(
                    load_dataset(), budget, model=settings.model_builder, placement=placement, metric=METRIC
                )
            jobs = [Training(keys[c, seed], by_label[c].policy, seed, [c]) for c, seed in current.pending]
            say(f"race: seed {current.rounds_done + 1} of {len(seeds)} for {len(jobs)} contestants")
            if not workers.run(jobs, on_result=on_result, say=say):
                return INTERRUPTED
    finally:
        if workers is not None:
            workers.close()
    finished_trials = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    record = to_record(current, field, budget=budget_dict, confirmation_study=name, exploration_trials=finished_trials)
    write_record(study, record)
    if record.winner is None:
        return ALL_FAILED.format(name=name)
    say(summary_line(record))
    _write_note(trainings, record)
    return None


def _first_line(study, budget: Budget, placement: Placement, seeds, keys, by_label, stored, name: str) -> str:
    """'race: up to 20 trainings (4 contestants x 5 seeds) of 60 epochs x 6,144 images, about 25 min
    with 2 at once (exploration's speed): trial 12, ...': what the race will cost before it starts."""
    total, left = len(keys), [key for key in keys.values() if key not in stored]
    done = f", {total - len(left)} already trained" if len(left) < total else ""
    if not left:
        cost = "nothing left to train"
    else:
        seconds, why = training_seconds(study, budget.to_dict())
        if seconds is None:
            cost = f"time unknown ({why})"
        else:
            # Round by round (a seed for every contestant), each round's trainings `concurrency` at once.
            missing = [sum(keys[c, seed] not in stored for c in by_label) for seed in seeds]
            waves = sum(math.ceil(count / placement.concurrency) for count in missing)
            cost = f"about {_rough(waves * seconds)} with {placement.concurrency} at once (exploration's speed)"
    return (
        f"race: up to {total} trainings ({len(by_label)} contestants x {len(seeds)} seeds{done}) of {budget.epochs} "
        f"epochs x {budget.train_examples:,} images, {cost}: {', '.join(by_label)} on paired seeds, the clearly "
        f"worse dropped after each round (study {name!r})"
    )


def _rough(seconds: float) -> str:
    """'40 s', '25 min', '1.5 h': an estimate's precision."""
    if seconds < 90:
        return f"{max(round(seconds), 1)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _trainings_study(url: str, study: optuna.Study) -> optuna.Study:
    """The confirmation study of `study`, created on first use."""
    from search.storage import open_storage

    return open_trainings_study(
        open_storage(url),
        study.study_name + CONFIRMATION_SUFFIX,
        CONFIRMATION_STUDY_ATTR,
        {"study": study.study_name, "value": "validation accuracy at the race's budget"},
    )


def _write_note(trainings: optuna.Study, record: RaceRecord) -> None:
    """The race's table as the confirmation study's dashboard note; a failure is one line."""
    try:
        from optuna_dashboard import save_note

        save_note(trainings, markdown(record))
    except Exception as error:
        print(f"warning: confirmation note not written: {error}", file=sys.stderr)
