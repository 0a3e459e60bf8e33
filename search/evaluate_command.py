"""`search evaluate`: full trainings of searched policies and baselines, scored on the test split."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from search.flags import BUDGET_FLAGS, as_flags
from space import AugSearchError
from space.errors import is_int, require


def main(args) -> int:
    """Validate everything, pick the policies, train what is not stored yet, report."""
    from search.cluster import check_ray_flags
    from search.study import check_runs_dir, storage_url
    from space.baselines import resolve_baselines
    from trainers.budget import PRESETS
    from trainers.model import check_model

    require(is_int(args.seeds) and args.seeds >= 1, "--seeds", args.seeds, "an integer >= 1 (3 or more give an interval)")
    require(is_int(args.seed) and args.seed >= 0, "--seed", args.seed, "an integer >= 0")
    require(is_int(args.top_k) and args.top_k >= 0, "--top-k", args.top_k, "an integer >= 0")
    baselines = resolve_baselines(args.baselines)
    overrides = {name: getattr(args, name) for name in BUDGET_FLAGS if getattr(args, name) is not None}
    as_flags(lambda: PRESETS[args.budget or "full"].replace(**overrides))
    if "model" in overrides:
        as_flags(lambda: check_model(overrides["model"]))
    check_ray_flags(args)
    check_runs_dir(args.runs_dir)
    url = storage_url(args.runs_dir, args.storage)

    study = _search_study(args)
    settings = study.user_attrs.get("augsearch", {}) if study is not None else {}
    entries = _entries(args, study, baselines)
    dataset = args.dataset or settings.get("dataset") or "fashion_mnist"
    from trainers.data import check_dataset

    check_dataset(dataset, args.data_dir)

    from search.study import EVALUATION_SUFFIX, default_study_name, driver_lock

    name = (study.study_name if study is not None else args.study or default_study_name(dataset)) + EVALUATION_SUFFIX
    with driver_lock(args.runs_dir, name, url, command="search evaluate"):
        return _evaluate(args, url, name, study, entries, dataset, settings.get("seed", 0), overrides)


def _search_study(args):
    """The search study, when there is one to read (always, when trials are asked for)."""
    from search.study import load_existing_study

    if args.trial or args.top_k:
        return load_existing_study(args.runs_dir, args.storage, args.study)
    try:
        return load_existing_study(args.runs_dir, args.storage, args.study)
    except AugSearchError:
        if args.study is not None:
            raise
        return None  # exported files and baselines need no study


def _entries(args, study, baselines: tuple[str, ...]):
    """The policies to evaluate, in the order they are reported: trials (--top-k, then --trial),
    policy files, then baselines. With none of the first three, the study's best trial."""
    from optuna.trial import TrialState

    from results.compare import from_file
    from results.evaluation import Entry
    from results.study_export import pick_trial, trial_policy
    from space.baselines import BASELINES

    trials = []
    if args.top_k:
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        require(
            len(complete) >= args.top_k, "--top-k", args.top_k,
            f"at most the {len(complete)} complete trials of study {study.study_name!r}",
        )
        trials += sorted(complete, key=lambda trial: (-trial.value, trial.number))[: args.top_k]
    trials += [pick_trial(study, which) for which in args.trial or ()]
    if not (trials or args.policies) and study is not None and study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        trials.append(pick_trial(study, "best"))
    entries, seen = [], set()
    for trial in trials:
        if trial.number not in seen:
            seen.add(trial.number)
            entries.append(Entry(f"trial {trial.number}", "trial", trial_policy(trial), proxy_objective=trial.value))
    for path in args.policies:
        entries.append(Entry(Path(path).name, "file", from_file(path).policy))
    entries += [Entry(name, "baseline", BASELINES[name]) for name in baselines]
    if not entries:
        raise AugSearchError(
            "nothing to evaluate: give policy files, --trial N, --top-k K or --baselines (and a study for trials)."
        )
    return entries


def _evaluate(args, url, name, study, entries, dataset_spec, data_seed, overrides) -> int:
    from results.evaluation import stored_accuracies, summarise, table_lines, training_key
    from search.cluster import start_ray, trial_resources
    from search.evaluation import open_evaluation_study, plan, run_jobs, store
    from search.study import open_storage, shown
    from trainers.budget import Budget

    ray = start_ray(args.address)
    resources = ray.cluster_resources()
    cluster_cpus, cluster_gpus = resources.get("CPU", 0), resources.get("GPU", 0)
    budget = Budget.preset(args.budget or ("full-gpu" if cluster_gpus else "full"), **overrides)
    cpus, gpus, concurrency = trial_resources(args, cluster_cpus, cluster_gpus)
    seeds = [args.seed + i for i in range(args.seeds)]
    evaluation_study = open_evaluation_study(open_storage(url), name, study.study_name if study else None)
    jobs, stored = plan(entries, seeds, budget.to_dict(), dataset_spec, set(stored_accuracies(evaluation_study)))
    print(
        f"evaluating {len(entries)} policies x {len(seeds)} seeds in study {name!r} of {shown(url)} | dataset "
        f"{dataset_spec}, test split | budget {budget.epochs} epochs x {budget.train_examples} images at "
        f"{budget.image_size}px, model {budget.model} | {stored} trainings stored, {len(jobs)} to run, "
        f"{min(concurrency, max(len(jobs), 1))} at once ({cpus:g} CPU + {gpus:g} GPU each)",
        file=sys.stderr,
    )
    completed = True
    if jobs:
        from trainers.data import load_dataset

        dataset = load_dataset(
            dataset_spec, image_size=budget.image_size, train_examples=budget.train_examples,
            validation_examples=budget.validation_examples, seed=data_seed, data_dir=args.data_dir, include_test=True,
        )
        completed = run_jobs(
            ray, jobs, dataset, budget.to_dict(), cpus=cpus, gpus=gpus, concurrency=concurrency,
            on_result=lambda job, outcome: store(evaluation_study, job, budget.to_dict(), dataset_spec, outcome),
        )

    accuracies = stored_accuracies(evaluation_study)
    by_entry = []
    for entry in entries:
        keys = {seed: training_key(entry.policy, seed, budget.to_dict(), dataset_spec) for seed in seeds}
        by_entry.append({seed: accuracies[key] for seed, key in keys.items() if key in accuracies})
    evaluation = summarise(entries, by_entry, seeds)
    print("\n" + "\n".join(table_lines(evaluation)))
    paths = _write_reports(args, name, evaluation, study, dataset_spec, budget)
    print("\nwrote " + ", ".join(map(str, paths)), file=sys.stderr)
    # Each training once, however many entries share its policy (plan() dedupes them).
    missing = len(plan(entries, seeds, budget.to_dict(), dataset_spec, set(accuracies))[0])
    if not completed:
        return 130
    if missing:
        print(f"{missing} trainings failed (see `search dashboard`, study {name!r}); run the same command again to retry them.", file=sys.stderr)
        return 1
    return 0


def _write_reports(args, name, evaluation, study, dataset_spec, budget) -> list[Path]:
    """evaluation/NAME.json, .md and .png under the run directory, each written atomically."""
    from results._files import write_atomically
    from results.evaluation import markdown, to_dict
    from results.evaluation_chart import bar_chart_png

    context = {
        "study": study.study_name if study is not None else None,
        "evaluation_study": name,
        "dataset": dataset_spec,
        "budget": budget.to_dict(),
        "command": shlex.join(["search", *getattr(args, "argv", [])]) if getattr(args, "argv", None) else None,
    }
    folder = Path(args.runs_dir) / "evaluation"
    return [
        write_atomically(folder / f"{name}.json", (json.dumps(to_dict(evaluation, context), indent=2) + "\n").encode()),
        write_atomically(folder / f"{name}.md", markdown(evaluation, context).encode()),
        write_atomically(folder / f"{name}.png", bar_chart_png(evaluation)),
    ]
