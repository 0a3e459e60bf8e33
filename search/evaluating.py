"""`evaluate`: full trainings of searched policies and baselines, scored on the test split.

The trainings are `search.trainings`' (stored in the evaluation study, S + `EVALUATION_SUFFIX`,
value the test accuracy), the report `results.evaluation`'s: an interrupted evaluation leaves
nothing half-done, and the same evaluation again trains only what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from results._files import write_atomically
from results.compare import from_file
from results.evaluation import Evaluation, markdown, summarise, to_dict
from results.evaluation_chart import bar_chart_png
from results.race_record import read_record
from results.stored import EVALUATION_STUDY_ATTR, EVALUATION_SUFFIX, open_trainings_study, read_settings
from results.trial_policies import choose, trial_of
from results.trials import ranked_complete
from search.formatting import printer
from search.locks import check_runs_dir, driver_lock
from search.settings import DEFAULT_DATASET, EvaluationSettings, dataset_spec, default_study_name
from search.storage import load_existing_study, open_storage, shown, storage_url
from search.trainings import TrainingPlan, Trainings, evaluation_seeds
from search.tune.cluster import place
from space import AugSearchError, Policy
from space.errors import require
from space.policy_ref import PolicyRef
from trainers.data import ArrayData, ImageDataset, check_dataset, load_for_budget


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
    if not isinstance(settings, EvaluationSettings):
        raise AugSearchError(f"settings must be a search.EvaluationSettings, but got settings={settings!r}.")
    settings.check_model()
    check_runs_dir(settings.runs_dir)
    url = storage_url(settings.runs_dir, settings.storage)
    study = _search_study(settings)
    stored = read_settings(study)
    refs = _policies(settings, study)
    dataset = settings.dataset if settings.dataset is not None else (stored and stored.dataset) or DEFAULT_DATASET
    check_dataset(dataset, settings.data_dir)
    name = study.study_name if study is not None else settings.study or default_study_name(dataset_spec(dataset))
    name += EVALUATION_SUFFIX
    with driver_lock(settings.runs_dir, name, url, command="search evaluate"):
        return _evaluate(settings, url, name, study, refs, dataset, stored.seed if stored else 0)


def _search_study(settings: EvaluationSettings) -> optuna.Study | None:
    """The search study, when there is one to read (always, when trials are asked for)."""
    if settings.trials or settings.top_k:
        return load_existing_study(settings.runs_dir, settings.storage, settings.study)
    try:
        return load_existing_study(settings.runs_dir, settings.storage, settings.study)
    except AugSearchError:
        if settings.study is not None:
            raise
        return None  # exported files and baselines need no study


def _policies(settings: EvaluationSettings, study: optuna.Study | None) -> list[PolicyRef]:
    """The policies to evaluate, in the order they are reported: trials (top_k, then trials),
    policy files and objects, then baselines. With none of the first three, the study's best."""
    chosen: list[PolicyRef] = []
    if study is not None and settings.top_k:
        ranked = _ranked(study)
        require(
            len(ranked) >= settings.top_k,
            "top_k",
            settings.top_k,
            f"at most the {len(ranked)} complete trials of study {study.study_name!r}",
        )
        chosen += [choose(study, number) for number in ranked[: settings.top_k]]
    if study is not None:  # always there when trials are asked for (`_search_study`)
        chosen += [choose(study, which) for which in settings.trials]
        if not (chosen or settings.policies) and ranked_complete(study):
            chosen.append(choose(study, "best"))
    refs: list[PolicyRef] = []
    baselines = list(settings.baselines)
    for ref in chosen:
        if ref.is_baseline:  # a baseline that won the race is evaluated as the baseline it is
            if ref.label not in baselines:
                baselines.append(ref.label)
        elif ref not in refs:
            refs.append(ref)
    for number, policy in enumerate(settings.policies, start=1):
        if isinstance(policy, Policy):
            refs.append(PolicyRef.of_file(f"policy {number}", policy))
        else:
            refs.append(PolicyRef.of_file(Path(policy).name, from_file(policy).policy))
    refs += [PolicyRef.of_baseline(name) for name in baselines]
    if not refs:
        raise NothingToEvaluate(
            "nothing to evaluate: give policy files, trials, top_k or baselines (and a study for trials)."
        )
    return refs


def _ranked(study: optuna.Study) -> list[int]:
    """Complete trials' numbers best first: the searched contestants of the race in its order
    when the search has a race winner, then the rest by exploration objective."""
    record = read_record(study)
    raced = [] if record is None else [r.contestant.trial for r in record.results if r.contestant.trial is not None]
    complete = [trial.number for trial in ranked_complete(study)]
    return [number for number in raced if number in complete] + [n for n in complete if n not in raced]


def _evaluate(
    settings: EvaluationSettings,
    url: str,
    name: str,
    study: optuna.Study | None,
    refs: list[PolicyRef],
    dataset: str | ArrayData,
    data_seed: int,
) -> EvaluationResult:
    placement = place(settings.resources)
    budget = settings.budget_for(gpus=placement.has_gpus)
    spec = dataset_spec(dataset)
    plan = TrainingPlan(tuple(refs), tuple(evaluation_seeds(settings.seed, settings.seeds)), budget, spec)
    evaluation_study = open_trainings_study(
        open_storage(url),
        name,
        EVALUATION_STUDY_ATTR,
        {"study": study.study_name if study else None, "value": "test accuracy"},
    )

    def load() -> ImageDataset:
        return load_for_budget(dataset, budget, seed=data_seed, data_dir=settings.data_dir, include_test=True)

    say = printer(settings.verbose)
    trainings = Trainings(
        evaluation_study, plan, load, model=settings.model_builder, placement=placement, metric="test_accuracy", say=say
    )
    with trainings:
        jobs = plan.missing(trainings.stored())
        stored = len(plan.missing({})) - len(jobs)
        say(
            f"evaluating {len(refs)} policies x {len(plan.seeds)} seeds in study {name!r} of {shown(url)} | dataset "
            f"{spec}, test split | budget {budget.epochs} epochs x {budget.train_examples} images at "
            f"{budget.image_size}px, model {budget.model} | {stored} trainings stored, {len(jobs)} to run, "
            f"{min(placement.concurrency, max(len(jobs), 1))} at once "
            f"({placement.cpus:g} CPU + {placement.gpus:g} GPU each)",
        )
        completed = trainings.run(jobs)
        scores = trainings.stored()
    proxy_objectives = {}
    for ref in refs:
        trial = trial_of(study, ref) if study is not None else None
        if trial is not None and trial.value is not None:
            proxy_objectives[ref.label] = trial.value
    evaluation = summarise(refs, plan.scores(scores), list(plan.seeds), proxy_objectives)
    context = {
        "study": study.study_name if study is not None else None,
        "evaluation_study": name,
        "dataset": spec,
        "budget": budget.to_dict(),
        "command": settings.command,
    }
    paths = _write_reports(Path(settings.runs_dir) / "evaluation", name, evaluation, context)
    missing = len(plan.missing(scores))  # each training once, however many policies share it
    return EvaluationResult(
        evaluation, paths, evaluation_study, failed=missing if completed else 0, interrupted=not completed
    )


def _write_reports(folder: Path, name: str, evaluation: Evaluation, context: dict[str, Any]) -> list[Path]:
    """NAME.json, .md and .png in `folder`, each written atomically."""
    return [
        write_atomically(folder / f"{name}.json", (json.dumps(to_dict(evaluation, context), indent=2) + "\n").encode()),
        write_atomically(folder / f"{name}.md", markdown(evaluation, context).encode()),
        write_atomically(folder / f"{name}.png", bar_chart_png(evaluation)),
    ]
