"""`search run`: Optuna proposes, Ray Tune runs the trials in parallel, the study remembers."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from space import AugSearchError, SearchSpace
from space.errors import is_int, require

PRUNERS = ("asha", "none")
SPACE_FLAGS = ("magnitude", "magnitude_stddev", "rate", "augmentations_per_image", "cutmix_rate", "mixup_rate", "cutmix_alpha", "mixup_alpha")
BUDGET_FLAGS = ("epochs", "image_size", "train_examples", "batch_size", "model", "learning_rate")


def main(args) -> int:
    """Validate everything, then open the study, start Ray and run rounds until --trials finished."""
    from search.study import SAMPLERS, check_runs_dir, default_study_name, storage_url
    from trainers.budget import PRESETS
    from trainers.model import check_model
    from trainers.data import check_dataset

    _check_positive_int("--trials", args.trials)
    _check_positive_int("--max-failures", args.max_failures)
    if args.concurrency is not None:
        _check_positive_int("--concurrency", args.concurrency)
    for flag in ("cpus_per_trial", "gpus_per_trial"):
        value = getattr(args, flag)
        require(value is None or value >= 0, f"--{flag.replace('_', '-')}", value, "a number >= 0")
    require(args.cpus_per_trial is None or args.cpus_per_trial > 0, "--cpus-per-trial", args.cpus_per_trial, "a number > 0")
    require(args.sampler in SAMPLERS, "--sampler", args.sampler, f"one of {', '.join(SAMPLERS)}")
    require(args.pruner in PRUNERS, "--pruner", args.pruner, f"one of {', '.join(PRUNERS)}")
    _check_address(args.address)
    given = {name: getattr(args, name) for name in (*SPACE_FLAGS, *BUDGET_FLAGS, "ops") if getattr(args, name) is not None}
    space = _as_flags(lambda: SearchSpace(**{k: v for k, v in given.items() if k not in BUDGET_FLAGS}))
    overrides = {k: v for k, v in given.items() if k in BUDGET_FLAGS}
    # Budgets are validated now with the CPU preset; the preset itself is chosen once Ray says
    # whether the cluster has GPUs.
    _as_flags(lambda: PRESETS[args.budget or "cpu"].replace(**overrides))
    if "model" in overrides:  # a bad name would otherwise fail every trial inside Ray
        _as_flags(lambda: check_model(overrides["model"]))
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
    from search.searcher import enqueue_reference_policies
    from trainers.budget import Budget

    ray = _start_ray(args.address)
    resources = ray.cluster_resources()
    cluster_cpus, cluster_gpus = resources.get("CPU", 0), resources.get("GPU", 0)
    budget = Budget.preset(args.budget or ("gpu" if cluster_gpus else "cpu"), **overrides)
    cpus_per_trial, gpus_per_trial, concurrency = _trial_resources(args, cluster_cpus, cluster_gpus)

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


def _start_ray(address: str | None):
    # Quiet workers: TensorFlow's start-up chatter and Tune's tables would bury the progress line.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # ours is in _ctrl_c_stops
    # A trial still running when the search stops (Ctrl-C, --max-failures) may raise as it is
    # stopped; Ray would print that error's traceback, while its trial is already FAIL in the study.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    import ray

    from search.trainable import FAULT_ENV

    env_vars = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    if os.environ.get(FAULT_ENV):  # the test hook, for workers on other machines too
        env_vars[FAULT_ENV] = os.environ[FAULT_ENV]
    # Trial errors reach the study and one line each on the terminal (search/progress.py).
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    if not ray.is_initialized():
        _check_reachable(address)
        try:
            ray.init(
                address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
                runtime_env={"env_vars": env_vars},
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise AugSearchError(f"--address {address!r}: cannot join the Ray cluster: {_join_error(error)}") from None
    return ray


def _check_address(address: str | None) -> None:
    """Ray Client addresses are refused before anything starts: under Ray Client, Ray Tune runs its
    driver loop as an actor on the head node, where this process's searcher (the study's only
    writer), progress line, artifacts and Ctrl-C cannot go."""
    if address is not None and address.strip().lower().startswith("ray://"):
        raise AugSearchError(
            f"--address must be auto or the HOST:PORT that `ray start --head` prints, but got --address={address!r}: "
            "with Ray Client (ray://) Ray Tune would run the search's driver loop on the head node, away from "
            "its study, progress line and Ctrl-C; run `search run --address auto` on a machine of the cluster instead."
        )


def _check_reachable(address: str | None, timeout: float = 10.0) -> None:
    """A HOST:PORT that nothing answers on is one clear error now: Ray itself would retry for
    many minutes before it gave up."""
    if not address or address == "auto" or "://" in address:
        return
    host, _, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return  # Ray says what is wrong with it
    import socket

    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise AugSearchError(
            f"--address {address!r}: cannot join the Ray cluster: nothing answers there "
            f"({error.strerror or error}); start its head node with `ray start --head --port {port}`, "
            "or pass the address that `ray start --head` printed."
        ) from None


def _join_error(error: BaseException) -> str:
    """The first line of Ray's error, and what to do when the cluster wants its token."""
    causes = [error]
    while causes[-1].__cause__ is not None and len(causes) < 5:
        causes.append(causes[-1].__cause__)
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if any(type(cause).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(cause) for cause in causes):
        # Ray 2.60's `ray start --head` turns token authentication on; a joining driver must opt in.
        text += (
            " (the cluster uses token authentication: set RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN or "
            "~/.ray/auth_token to the head node's token)"
        )
    return text


def _trial_resources(args, cluster_cpus: float, cluster_gpus: float) -> tuple[float, float, int]:
    """CPUs and GPUs per trial and trials at once: the flags, else what the cluster fits."""
    gpus_per_trial = args.gpus_per_trial if args.gpus_per_trial is not None else (1.0 if cluster_gpus else 0.0)
    require(
        gpus_per_trial <= cluster_gpus, "--gpus-per-trial", gpus_per_trial,
        f"at most the {cluster_gpus:g} GPU(s) the Ray cluster has",
    )
    if args.cpus_per_trial is not None:
        cpus_per_trial = args.cpus_per_trial
    elif gpus_per_trial:
        # Share the CPUs among the trials the GPUs fit, so each has input-pipeline threads.
        cpus_per_trial = max(1.0, float(int(cluster_cpus // max(int(cluster_gpus // gpus_per_trial), 1))))
    else:
        cpus_per_trial = 1.0
    require(
        cpus_per_trial <= cluster_cpus, "--cpus-per-trial", cpus_per_trial,
        f"at most the {cluster_cpus:g} CPUs the Ray cluster has",
    )
    fits = int(cluster_cpus // cpus_per_trial)
    if gpus_per_trial:
        fits = min(fits, int(cluster_gpus // gpus_per_trial))
    return cpus_per_trial, gpus_per_trial, args.concurrency or max(fits, 1)


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


def _as_flags(build):
    """Run build(); an error about field `some_field` is re-worded as one about `--some-field`,
    the name the user typed."""
    try:
        return build()
    except AugSearchError as error:
        text = str(error)
        field = text.split(" ", 1)[0]
        if field not in (*SPACE_FLAGS, *BUDGET_FLAGS, "ops"):
            raise
        flag = "--" + field.replace("_", "-")
        raise AugSearchError(flag + text[len(field):].replace(f" {field}=", f" {flag}=")) from None


def _check_positive_int(flag: str, value) -> None:
    require(is_int(value) and value >= 1, flag, value, "an integer >= 1")


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
