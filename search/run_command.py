"""`search run`: Optuna proposes, Ray Tune runs the trials in parallel, the study remembers."""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from search.flags import BUDGET_FLAGS, SPACE_FLAGS, as_flags, check_positive_int
from space import AugSearchError, SearchSpace
from space.errors import require

PRUNERS = ("asha", "none")


def main(args) -> int:
    """Validate everything, then open the study, start Ray and run rounds until --trials finished."""
    from search.cluster import check_ray_flags
    from search.study import SAMPLERS, check_runs_dir, default_study_name, storage_url
    from trainers.budget import PRESETS
    from trainers.model import check_model
    from trainers.data import check_dataset

    check_positive_int("--trials", args.trials)
    check_positive_int("--max-failures", args.max_failures)
    require(args.sampler in SAMPLERS, "--sampler", args.sampler, f"one of {', '.join(SAMPLERS)}")
    require(args.pruner in PRUNERS, "--pruner", args.pruner, f"one of {', '.join(PRUNERS)}")
    check_ray_flags(args)
    given = {name: getattr(args, name) for name in (*SPACE_FLAGS, *BUDGET_FLAGS, "ops") if getattr(args, name) is not None}
    space = as_flags(lambda: SearchSpace(**{k: v for k, v in given.items() if k not in BUDGET_FLAGS}))
    overrides = {k: v for k, v in given.items() if k in BUDGET_FLAGS}
    # Budgets are validated now with the CPU preset; the preset itself is chosen once Ray says
    # whether the cluster has GPUs.
    as_flags(lambda: PRESETS[args.budget or "cpu"].replace(**overrides))
    if "model" in overrides:  # a bad name would otherwise fail every trial inside Ray
        as_flags(lambda: check_model(overrides["model"]))
    check_dataset(args.dataset, args.data_dir)
    check_runs_dir(args.runs_dir)
    url = storage_url(args.runs_dir, args.storage)
    study_name = args.study or default_study_name(args.dataset)

    from search.study import driver_lock

    with driver_lock(args.runs_dir, study_name, url):
        return _search(args, space, overrides, url, study_name)


def _search(args, space: SearchSpace, overrides: dict, url: str, study_name: str) -> int:
    from results.trials import progress
    from search.study import fail_stale_trials, make_sampler, open_study, shown
    from search.cluster import start_ray, trial_resources
    from search.searcher import enqueue_reference_policies
    from trainers.budget import Budget

    ray = start_ray(args.address)
    resources = ray.cluster_resources()
    cluster_cpus, cluster_gpus = resources.get("CPU", 0), resources.get("GPU", 0)
    budget = Budget.preset(args.budget or ("gpu" if cluster_gpus else "cpu"), **overrides)
    cpus_per_trial, gpus_per_trial, concurrency = trial_resources(args, cluster_cpus, cluster_gpus)

    settings = {"dataset": args.dataset, "budget": budget.to_dict(), "search_space": space.to_dict(), "seed": args.seed}
    study = open_study(url, study_name, make_sampler(args.sampler, args.seed), settings)
    stale = fail_stale_trials(study)
    if stale:
        print(f"marked trials {', '.join(map(str, stale))} FAIL: a previous run left them RUNNING", file=sys.stderr)
    if not args.no_baselines:
        enqueue_reference_policies(study, space)

    already = progress(study).finished
    print(
        f"study {study_name!r} in {shown(url)}: {already}/{args.trials} trials finished | dataset {args.dataset} | "
        f"budget {budget.epochs} epochs x {budget.train_examples} images at {budget.image_size}px, model {budget.model} | "
        f"{concurrency} at once, {cpus_per_trial:g} CPU + {gpus_per_trial:g} GPU each",
        file=sys.stderr,
    )
    if already >= args.trials:
        _summary(study, study_name, args)
        return 0

    from trainers.data import load_dataset

    dataset = load_dataset(
        args.dataset, image_size=budget.image_size, train_examples=budget.train_examples,
        validation_examples=budget.validation_examples, seed=args.seed, data_dir=args.data_dir,
    )
    from search.artifacts import start_artifacts
    from search.failures import FailureLimit, ended_count

    # The study note and each finished trial's sample grid and learning curve, for the dashboard.
    artifacts = start_artifacts(study, args.runs_dir, dataset)
    interrupted = False
    limit = FailureLimit(study, args.max_failures)
    while progress(study).finished < args.trials:
        before = progress(study).finished
        ended_before = ended_count(study)
        interrupted = _run_round(
            study, space, budget, dataset, args, concurrency, cpus_per_trial, gpus_per_trial,
            remaining=args.trials - before, artifacts=artifacts, limit=limit,
        )
        if interrupted:
            break
        if limit.check():
            raise AugSearchError(limit.message())
        if ended_count(study) == ended_before:  # never seen; it would loop forever
            raise AugSearchError("Ray Tune ran no trial in a round; the search stopped (run it with --debug to see why).")
    _summary(study, study_name, args)
    return 130 if interrupted else 0


def _run_round(study, space, budget, dataset, args, concurrency, cpus, gpus, remaining, artifacts=None, limit=None) -> bool:
    """One Tuner.fit of at most `remaining` trials. Returns True when the user interrupted it."""
    from ray import tune
    from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.stopper import CombinedStopper

    from search.progress import ProgressLine
    from search.searcher import StudySearcher
    from search.trainable import OBJECTIVE, TRIAL_ATTRS, reuse_enabled, run_trial

    searcher = StudySearcher(
        study, space, metric=OBJECTIVE, max_steps=budget.epochs, user_attrs=TRIAL_ATTRS, before_tell=artifacts
    )
    if args.pruner == "asha":
        # Rungs from half the epochs on: the first epoch or two are warm-up and say little.
        scheduler = AsyncHyperBandScheduler(
            metric=OBJECTIVE, mode="max", time_attr="training_iteration", max_t=budget.epochs,
            grace_period=max(1, budget.epochs // 2), reduction_factor=3,
        )
    else:
        scheduler = FIFOScheduler()
    reuse = reuse_enabled()
    trainable = tune.with_resources(
        tune.with_parameters(
            run_trial, dataset=dataset, budget=budget.to_dict(), dataset_spec=args.dataset, search_seed=args.seed,
            reuse=reuse,
        ),
        {"cpu": cpus, "gpu": gpus},
    )
    tune_config = tune.TuneConfig(
        search_alg=ConcurrencyLimiter(searcher, max_concurrent=concurrency),
        scheduler=scheduler,
        num_samples=remaining,
        # A worker runs trial after trial (a failed trial's worker is replaced): no process start,
        # imports or graph building again; trials stay independent (search/trainable.py).
        reuse_actors=reuse,
    )

    def run_config(stop):
        return tune.RunConfig(
            name=f"{study.study_name}-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str((Path(args.runs_dir) / "ray").resolve()),
            # The limit's check after the searcher's callback, which writes failed trials to the study.
            callbacks=[searcher.callback(), ProgressLine(study, args.trials), *([limit.callback(searcher)] if limit else [])],
            stop=CombinedStopper(stop, limit.stopper()) if limit else stop,
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=0),
        )

    with _ctrl_c_stops(searcher) as stop:
        tuner = tune.Tuner(trainable, tune_config=tune_config, run_config=run_config(stop))
        tuner.fit()
    return stop.requested


@contextmanager
def _ctrl_c_stops(searcher):
    """The first Ctrl-C stops every trial (they end as FAIL) and returns from fit(); a second one
    aborts at once. Tune's own handler is off: it would advise `Tuner.restore`, while resuming
    here is running the same command again."""
    from ray import tune

    class Stop(tune.Stopper):
        requested = False

        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            return self.requested

    stop = Stop()

    def on_sigint(signum, frame):
        stop.requested = True
        searcher.interrupt("interrupted by the user (Ctrl-C) before the trial finished")
        print("\nstopping: running trials end as FAIL; Ctrl-C again to abort at once", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _summary(study, study_name: str, args) -> None:
    from results.trials import best_rows, progress
    from search.formatting import trial_table

    p = progress(study)
    print(f"\n{p.finished} trials finished ({p.complete} complete, {p.pruned} pruned), {p.failed} failed.")
    rows = best_rows(study, 5)
    if not rows:
        print("No complete trial yet.")
        return
    print("\n" + "\n".join(trial_table(rows)))
    where = "" if args.runs_dir == "runs" else f" --runs-dir {args.runs_dir}"
    print(f"\nExport the best: search export --study {study_name}{where} --trial {rows[0].number} --out policy.json")
