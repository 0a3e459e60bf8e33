"""Which sampler for the joint space: real searches at the proxy, paired by search seed.

Each sampler runs `search run --trials N --race-top 0` (exploration only, ASHA as shipped)
once per search seed, in RUNS_DIR/SAMPLER-seedK. A seed fixes the data split, each trial's
training seed and the enqueued baselines, so the samplers differ only in what they propose and
are compared paired by seed. The metric is what the sampler is asked for: the proxy score of the
best distinct complete trials (the top 3 are the race's searched contestants), and how many
proposed (not enqueued) trials beat the best baseline's proxy score.

    nohup .venv/bin/python benchmarks/sampler_choice.py --runs-dir runs-samplers \\
        --flags "--train-examples 1024" > runs-samplers.log 2>&1 &

Searches already finished are not run again, so the same command resumes; `--report` only reads.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import optuna

from results.statistics import paired_difference
from results.stored import BASELINE_ATTR

TOP = 3


def search_dir(runs: Path, sampler: str, seed: int) -> Path:
    return runs / f"{sampler}-seed{seed}"


def run_search(runs: Path, sampler: str, seed: int, trials: int, flags: str) -> None:
    out = search_dir(runs, sampler, seed)
    argv = ["run", "--trials", str(trials), "--sampler", sampler, "--seed", str(seed), "--race-top", "0"]
    argv += ["--runs-dir", str(out), *shlex.split(flags)]
    print(f"{sampler} seed {seed}: search {shlex.join(argv)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    with open(out.with_suffix(".log"), "a") as log:
        done = subprocess.run([sys.executable, "-m", "search.cli", *argv], stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"{sampler} seed {seed} failed with exit code {done.returncode}; see {out.with_suffix('.log')}")
    print(f"{sampler} seed {seed}: {(time.monotonic() - started) / 60:.1f} min", file=sys.stderr, flush=True)


def measure(runs: Path, sampler: str, seed: int) -> dict[str, float]:
    """The search's figures, over the trials the sampler proposed (not the enqueued baselines):
    the mean proxy score of the TOP best distinct ones, the best, and the share that beat every
    baseline's proxy score."""
    url = f"sqlite:///{search_dir(runs, sampler, seed) / 'search.db'}"
    study = optuna.load_study(study_name="fashion_mnist", storage=url)
    complete = [trial for trial in study.trials if trial.state == optuna.trial.TrialState.COMPLETE]
    best_baseline = max(trial.value for trial in complete if BASELINE_ATTR in trial.user_attrs)
    proposed = [trial for trial in study.trials if BASELINE_ATTR not in trial.user_attrs and trial.state.is_finished()]
    distinct: dict[str, float] = {}
    for trial in sorted((trial for trial in proposed if trial in complete), key=lambda trial: -trial.value):
        distinct.setdefault(repr(sorted(trial.params.items())), trial.value)
    top = sorted(distinct.values(), reverse=True)[:TOP]
    beating = [trial for trial in proposed if trial in complete and trial.value > best_baseline]
    return {"top": statistics.mean(top), "best": top[0], "beat_baselines": len(beating) / len(proposed)}


def report(runs: Path, samplers: list[str], seeds: list[int]) -> None:
    figures = {sampler: [measure(runs, sampler, seed) for seed in seeds] for sampler in samplers}
    reference = samplers[0]
    print(f"{len(seeds)} search seeds; proxy scores; differences paired by seed to {reference}, in points")
    print(f"{'sampler':<16} {'top-3 mean':>11} {'best':>8} {'beat baselines':>15}  top-3 vs {reference}")
    for sampler, rows in figures.items():
        top, best = (statistics.mean(row[key] for row in rows) for key in ("top", "best"))
        beat = statistics.mean(row["beat_baselines"] for row in rows)
        gap = ""
        if sampler != reference:
            d = paired_difference([row["top"] for row in rows], [row["top"] for row in figures[reference]])
            gap = f"{d.mean * 100:+.2f} [{d.low * 100:+.2f}, {d.high * 100:+.2f}]"
        print(f"{sampler:<16} {top:>11.4f} {best:>8.4f} {beat:>14.0%}  {gap}")
    for sampler, rows in figures.items():
        print(f"  {sampler}: top-3 per seed " + ", ".join(f"{row['top']:.4f}" for row in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--samplers", default="tpe,tpe-univariate,random", help="the first is the reference")
    parser.add_argument("--seeds", default="1,2,3", help="search seeds (comma-separated)")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--flags", default="", help="more flags for search run (quoted)")
    parser.add_argument("--report", action="store_true", help="only read the finished searches")
    args = parser.parse_args()
    runs, samplers = Path(args.runs_dir), args.samplers.split(",")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not args.report:
        runs.mkdir(parents=True, exist_ok=True)
        for seed in seeds:  # seed-major: an interrupted benchmark still holds complete pairs
            for sampler in samplers:
                run_search(runs, sampler, seed, args.trials, args.flags)
    report(runs, samplers, seeds)


if __name__ == "__main__":
    main()
