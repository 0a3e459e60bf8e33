"""`evaluate`: full trainings of searched policies and baselines, scored on the test split.

Every training (a policy, a seed, a budget, a dataset) is one trial of the evaluation study
(`results.stored.EVALUATION_SUFFIX`, written by `results.stored.write_training`), its value the test
accuracy: an interrupted evaluation leaves nothing half-done, and the same evaluation again
trains only what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from results.evaluation import Entry, Evaluation
from results.stored import (
    EVALUATION_STUDY_ATTR,
    Training,
    open_trainings_study,
    read_scores,
    training_key,
    write_training,
)
from search.formatting import printer
from search.settings import DEFAULT_DATASET, EvaluationSettings, dataset_spec
from space import AugSearchError, Policy


class NothingToEvaluate(AugSearchError):
    """The settings name no policy at all (the CLI words it in its flags)."""


@dataclass(frozen=True)
class EvaluationResult:
    """The summary (`results.evaluation.Evaluation`), the report files written, how many
    trainings are still missing because they failed, and whether Ctrl-C stopped it."""

    evaluation: Evaluation
    paths: list[Path]
    study: optuna.Study
    failed: int = 0
    interrupted: bool = False


def evaluate(settings: EvaluationSettings) -> EvaluationResult:
    """Pick the policies, train on Ray what the evaluation study does not hold yet, report.

    Raises AugSearchError for bad settings or data, and for a second evaluation of the same study.
    """
    from results.stored import EVALUATION_SUFFIX, read_settings
    from search.locks import check_runs_dir, driver_lock
    from search.settings import default_study_name
    from search.storage import storage_url
    from trainers.data import check_dataset

    if not isinstance(settings, EvaluationSettings):
        raise AugSearchError(f"settings must be a search.EvaluationSettings, but got settings={settings!r}.")
    settings.check_model()
    check_runs_dir(settings.runs_dir)
    url = storage_url(settings.runs_dir, settings.storage)
    study = _search_study(settings)
    stored = read_settings(study)
    entries = _entries(settings, study)
    dataset = settings.dataset if settings.dataset is not None else (stored and stored.dataset) or DEFAULT_DATASET
    check_dataset(dataset, settings.data_dir)
    name = study.study_name if study is not None else settings.study or default_study_name(dataset_spec(dataset))
    name += EVALUATION_SUFFIX
    with driver_lock(settings.runs_dir, name, url, command="search evaluate"):
        return _evaluate(settings, url, name, study, entries, dataset, stored.seed if stored else 0)


def plan(
    entries: list[Entry], seeds: list[int], budget: dict, dataset: str, done: set[str]
) -> tuple[list[Training], int]:
    """The trainings still to run, each once however many entries share its policy, and how many
    of those `entries` x `seeds` asked for are already in `done` (stored keys)."""
    jobs: dict[str, Training] = {}
    stored = set()
    for entry in entries:
        for seed in seeds:
            key = training_key(entry.policy, seed, budget, dataset)
            if key in done:
                stored.add(key)
                continue
            jobs.setdefault(key, Training(key, entry.policy, seed)).labels.append(entry.label)
    return list(jobs.values()), len(stored)


def _search_study(settings: EvaluationSettings):
    """The search study, when there is one to read (always, when trials are asked for)."""
    from search.storage import load_existing_study

    if settings.trials or settings.top_k:
        return load_existing_study(settings.runs_dir, settings.storage, settings.study)
    try:
        return load_existing_study(settings.runs_dir, settings.storage, settings.study)
    except AugSearchError:
        if settings.study is not None:
            raise
        return None  # exported files and baselines need no study


def _entries(settings: EvaluationSettings, study) -> list[Entry]:
    """The policies to evaluate, in the order they are reported: trials (top_k, then trials),
    policy files and objects, then baselines. With none of the first three, the study's best trial."""
    from results.compare import from_file
    from results.trial_policies import choose
    from space.baselines import BASELINES
    from space.errors import require

    choices = []
    if settings.top_k:
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        require(
            len(complete) >= settings.top_k,
            "top_k",
            settings.top_k,
            f"at most the {len(complete)} complete trials of study {study.study_name!r}",
        )
        choices += [choose(study, trial.number) for trial in _ranked(study, complete)[: settings.top_k]]
    choices += [choose(study, which) for which in settings.trials]
    if (
        not (choices or settings.policies)
        and study is not None
        and study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ):
        choices.append(choose(study, "best"))
    entries, seen = [], set()
    baselines = list(settings.baselines)
    for choice in choices:
        if choice.trial is None:  # a baseline won the race: it is evaluated as the baseline it is
            if choice.baseline is not None and choice.baseline not in baselines:
                baselines.append(choice.baseline)
        elif choice.label not in seen:
            seen.add(choice.label)
            entries.append(Entry(choice.label, "trial", choice.policy, proxy_objective=choice.trial.value))
    for number, policy in enumerate(settings.policies, start=1):
        if isinstance(policy, Policy):
            entries.append(Entry(f"policy {number}", "file", policy))
        else:
            entries.append(Entry(Path(policy).name, "file", from_file(policy).policy))
    entries += [Entry(name, "baseline", BASELINES[name]) for name in baselines]
    if not entries:
        raise NothingToEvaluate(
            "nothing to evaluate: give policy files, trials, top_k or baselines (and a study for trials)."
        )
    return entries


def _ranked(study, complete: list) -> list:
    """Complete trials best first: the searched contestants of the race in its order when the
    search has a race winner, then the rest by exploration objective."""
    from results.confirmation import read_record

    record = read_record(study)
    confirmed = [] if record is None else [r.contestant.trial for r in record.results if r.contestant.trial is not None]
    by_number = {trial.number: trial for trial in complete}
    rest = sorted((t for t in complete if t.number not in confirmed), key=lambda trial: (-trial.value, trial.number))
    return [by_number[number] for number in confirmed if number in by_number] + rest


def _evaluate(settings: EvaluationSettings, url, name, study, entries, dataset, data_seed) -> EvaluationResult:
    from results.evaluation import summarise
    from search.storage import open_storage, shown
    from search.tune.cluster import place
    from search.tune.training_tasks import TrainingWorkers

    placement = place(settings.resources)
    budget = settings.budget_for(gpus=placement.has_gpus)
    seeds = [settings.seed + i for i in range(settings.seeds)]
    spec = dataset_spec(dataset)
    evaluation_study = open_trainings_study(
        open_storage(url),
        name,
        EVALUATION_STUDY_ATTR,
        {"study": study.study_name if study else None, "value": "test accuracy"},
    )
    jobs, stored = plan(entries, seeds, budget.to_dict(), spec, set(read_scores(evaluation_study)))
    say = printer(settings.verbose)
    say(
        f"evaluating {len(entries)} policies x {len(seeds)} seeds in study {name!r} of {shown(url)} | dataset "
        f"{spec}, test split | budget {budget.epochs} epochs x {budget.train_examples} images at "
        f"{budget.image_size}px, model {budget.model} | {stored} trainings stored, {len(jobs)} to run, "
        f"{min(placement.concurrency, max(len(jobs), 1))} at once "
        f"({placement.cpus:g} CPU + {placement.gpus:g} GPU each)",
    )
    completed = True
    if jobs:
        from trainers.data import load_dataset

        data = load_dataset(
            dataset,
            image_size=budget.image_size,
            train_examples=budget.train_examples,
            validation_examples=budget.validation_to_load,
            seed=data_seed,
            data_dir=settings.data_dir,
            include_test=True,
        )
        with TrainingWorkers(data, budget, model=settings.model_builder, placement=placement) as workers:
            completed = workers.run(
                jobs,
                say=say,
                on_result=lambda job, outcome: write_training(
                    evaluation_study, job, budget.to_dict(), spec, outcome, "test_accuracy"
                ),
            )

    accuracies = read_scores(evaluation_study)
    by_entry = []
    for entry in entries:
        keys = {seed: training_key(entry.policy, seed, budget.to_dict(), spec) for seed in seeds}
        by_entry.append({seed: accuracies[key] for seed, key in keys.items() if key in accuracies})
    evaluation = summarise(entries, by_entry, seeds)
    context = {
        "study": study.study_name if study is not None else None,
        "evaluation_study": name,
        "dataset": spec,
        "budget": budget.to_dict(),
        "command": settings.command,
    }
    paths = _write_reports(Path(settings.runs_dir) / "evaluation", name, evaluation, context)
    # Each training once, however many entries share its policy (plan() dedupes them).
    missing = len(plan(entries, seeds, budget.to_dict(), spec, set(accuracies))[0])
    return EvaluationResult(
        evaluation, paths, evaluation_study, failed=missing if completed else 0, interrupted=not completed
    )


def _write_reports(folder: Path, name: str, evaluation: Evaluation, context: dict) -> list[Path]:
    """NAME.json, .md and .png in `folder`, each written atomically."""
    from results._files import write_atomically
    from results.evaluation import markdown, to_dict
    from results.evaluation_chart import bar_chart_png

    return [
        write_atomically(folder / f"{name}.json", (json.dumps(to_dict(evaluation, context), indent=2) + "\n").encode()),
        write_atomically(folder / f"{name}.md", markdown(evaluation, context).encode()),
        write_atomically(folder / f"{name}.png", bar_chart_png(evaluation)),
    ]
