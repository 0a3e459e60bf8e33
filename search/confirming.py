"""The confirmation stage of `run_search`: the best trials raced on extra paired seeds.

Exploration's objective is one seed's score, and its best trial the luckiest of several equal
draws. Here the `confirm_top` best distinct policies are trained again at the search's budget on
the same `confirm_seeds` fresh seeds (paired: a seed gives every policy the same initial weights
and data order), in rounds, and `results.racing` drops the clearly worse as the rounds come in.
Exploration scores are left out of the winner's mean: they are what selected the candidates, so
they are biased upwards.

Each training is one trial of the confirmation study (the search study's name +
`search.storage.CONFIRMATION_SUFFIX`), stored when it ends: COMPLETE with the validation
accuracy the search's objective measures, or FAIL with its error. The race is replayed from those, so an interrupted
confirmation resumes where it stopped. The test split is never loaded here.
"""

from __future__ import annotations

import json
import sys

import optuna
from optuna.trial import FrozenTrial, TrialState

from results.confirmation import CONFIRMATION_ATTR, markdown, summary_line, to_record
from results.evaluation import stored_accuracies, training_key
from results.racing import race
from results.trial_policies import trial_policy
from search.formatting import printer
from search.settings import SearchSettings

#: Confirmation seeds follow the trial seeds of this many trial numbers, so they differ from
#: every exploration trial's seed (`search.tune.trainable.trial_seed`).
SEED_OFFSET = 1_000_000

#: What a confirmation training's stored value is: the search's objective (validation images).
METRIC = "objective"


def confirmation_seeds(search_seed: int, count: int) -> list[int]:
    """The paired seeds of the confirmation, reproducible from the search seed."""
    from search.tune.trainable import trial_seed

    return [trial_seed(search_seed, SEED_OFFSET + i) for i in range(count)]


def candidates(study: optuna.Study, top: int) -> list[FrozenTrial]:
    """The `top` COMPLETE trials with the highest objective, one per distinct policy, best first."""
    complete = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: (-t.value, t.number))
    chosen, seen = [], set()
    for trial in complete:
        policy = json.dumps(trial.user_attrs.get("policy"), sort_keys=True)
        if policy not in seen:
            seen.add(policy)
            chosen.append(trial)
        if len(chosen) == top:
            break
    return chosen


def clear_record(study: optuna.Study) -> None:
    """Forget the confirmed winner before exploring further: the best trials may change."""
    if study.user_attrs.get(CONFIRMATION_ATTR) is not None:
        study.set_user_attr(CONFIRMATION_ATTR, None)


def confirm(settings: SearchSettings, study: optuna.Study, url: str, ray, budget, resources, load_dataset) -> bool:
    """Race the study's best trials (see the module docstring); store the winner's record in the
    study. `load_dataset()` gives the search's dataset (without the test split), called only when
    a training is left to run. Returns True when Ctrl-C stopped it (the record is then not written)."""
    from search.trainings_study import Job, store
    from search.tune.training_tasks import run_jobs

    chosen = candidates(study, settings.confirm_top)
    if not chosen:
        return False
    trainings = _trainings_study(url, study)
    name = trainings.study_name
    seeds = confirmation_seeds(settings.seed, settings.confirm_seeds)
    policies = {trial.number: trial_policy(trial) for trial in chosen}
    budget_dict, spec = budget.to_dict(), settings.dataset_spec
    keys = {(c, seed): training_key(policy, seed, budget_dict, spec) for c, policy in policies.items() for seed in seeds}
    cpus, gpus, concurrency = resources
    say = printer(settings.verbose)
    failed: dict[int, str] = {}
    announced: set[int] = set()
    dataset = None
    say(
        f"confirmation: trials {', '.join(map(str, policies))} on {len(seeds)} paired seeds, the clearly worse "
        f"dropped after each round (study {name!r})"
    )
    while True:
        stored = stored_accuracies(trainings)
        scores = {c: {seed: stored[keys[c, seed]] for seed in seeds if keys[c, seed] in stored} for c in policies}
        current = race(list(policies), seeds, scores, failed)
        for standing in current.dropped:
            if standing.candidate not in announced:
                announced.add(standing.candidate)
                say(f"confirmation: trial {standing.candidate} dropped ({standing.reason})")
        if current.finished:
            break
        if dataset is None:
            dataset = load_dataset()
        jobs = [Job(keys[c, seed], policies[c], seed, [f"trial {c}"]) for c, seed in current.pending]
        candidate_of = {keys[c, seed]: c for c, seed in current.pending}
        say(f"confirmation: seed {current.rounds_done + 1} of {len(seeds)} for {len(jobs)} policies")

        def on_result(job, outcome):
            store(trainings, job, budget_dict, spec, outcome, METRIC)
            if "error" in outcome:
                failed[candidate_of[job.key]] = outcome["error"].splitlines()[0]

        completed = run_jobs(
            ray, jobs, dataset, budget, model=settings.model_builder, cpus=cpus, gpus=gpus, concurrency=concurrency,
            on_result=on_result, say=say, metric=METRIC,
        )
        if not completed:
            return True
    finished_trials = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    record = to_record(current, confirmation_study=name, exploration_trials=finished_trials)
    study.set_user_attr(CONFIRMATION_ATTR, record)
    if current.winner is not None:
        say(summary_line(record))
        _write_note(trainings, record)
    return False


def _trainings_study(url: str, study: optuna.Study) -> optuna.Study:
    """The confirmation study of `study`, created on first use."""
    from search.storage import CONFIRMATION_SUFFIX, open_storage
    from search.trainings_study import open_trainings_study

    return open_trainings_study(
        open_storage(url), study.study_name + CONFIRMATION_SUFFIX, "augsearch_confirmation_of",
        {"study": study.study_name, "value": "the search's objective"},
    )


def _write_note(trainings: optuna.Study, record: dict) -> None:
    """The race's table as the confirmation study's dashboard note; a failure is one line."""
    try:
        from optuna_dashboard import save_note

        save_note(trainings, markdown(record))
    except Exception as error:  # noqa: BLE001 - the note is a convenience, not the search
        print(f"warning: confirmation note not written: {error}", file=sys.stderr)
