"""Trials per hour of `search run` at the `cpu` budget, with concurrency 1 and 2, side by side.

Each concurrency runs the same search (same seed, so the same policies: the sampler's first
trials are random) in a fresh run directory, one after the other in this one script. Trials per
hour is counted from the first trial's start to the last trial's end (steady state, as in a long
search); the command's whole wall time, Ray start and dataset load included, is printed too.
ASHA is off so that both runs train the same epochs. Run with

    .venv/bin/python benchmarks/search_throughput.py [--trials 4] [--concurrency 1,2] [--budget cpu]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def run_search(runs_dir: Path, trials: int, concurrency: int, budget: str, extra: list[str]) -> float:
    """Run `search run` and return its wall seconds; raise if it fails."""
    command = [
        sys.executable,
        "-m",
        "search.cli",
        "run",
        "--trials",
        str(trials),
        "--budget",
        budget,
        "--concurrency",
        str(concurrency),
        "--pruner",
        "none",
        "--no-baselines",
        "--seed",
        "1",
        "--race-top",
        "0",  # exploration's trials alone are measured
        "--runs-dir",
        str(runs_dir),
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"search run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def steady_trials_per_hour(runs_dir: Path) -> tuple[float, int]:
    study = optuna.load_study(study_name="fashion_mnist", storage=f"sqlite:///{runs_dir}/search.db")
    trials = [t for t in study.trials if t.state in FINISHED]
    span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
    return len(trials) / span * 3600, len(trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--concurrency", default="1,2")
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("extra", nargs="*", help="more `search run` flags, after --")
    args = parser.parse_args()
    result = []
    with tempfile.TemporaryDirectory(prefix="throughput-") as root:
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            runs_dir = Path(root) / f"c{concurrency}"
            wall = run_search(runs_dir, args.trials, concurrency, args.budget, args.extra)
            per_hour, finished = steady_trials_per_hour(runs_dir)
            print(
                f"concurrency {concurrency}: {finished} trials, {per_hour:.0f} trials/hour (first start to last end); "
                f"command wall time {wall:.0f} s ({finished / wall * 3600:.0f} trials/hour with start-up)",
                flush=True,
            )
            result.append(f"trials_per_hour_{concurrency}={per_hour:.0f}")
    print("RESULT " + " ".join(result))


if __name__ == "__main__":
    main()
