"""The published results, end to end: `search run` (exploration + confirmation), then `search
evaluate --top-k K --seeds N` against the baselines, with the CPU-hours and wall time of each step.

CPU time is the machine's (from /proc/stat: every process, Ray's included), so run nothing else
meanwhile. Prints the evaluation's paired differences to the best baseline and a RESULT line;
the commands' own output goes to `--log`. Hours on 2 cores: run it in the background.

    nohup .venv/bin/python benchmarks/end_to_end.py --runs-dir runs-low \\
        --run-flags "--train-examples 1024" --evaluate-flags "--train-examples 1024" > low.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path


def busy_cpu_seconds() -> float:
    """CPU-seconds the machine has spent busy (all cores, every process) since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def step(name: str, argv: list[str], log) -> dict:
    """Run `search ARGV...`, its output to `log`; returns its wall and CPU seconds."""
    print(f"{name}: search {shlex.join(argv)}", file=sys.stderr, flush=True)
    cpu, wall = busy_cpu_seconds(), time.monotonic()
    done = subprocess.run([sys.executable, "-m", "search.cli", *argv], stdout=log, stderr=subprocess.STDOUT)
    measured = {"wall_hours": (time.monotonic() - wall) / 3600, "cpu_hours": (busy_cpu_seconds() - cpu) / 3600}
    if done.returncode != 0:
        sys.exit(f"{name} failed with exit code {done.returncode}; see the log")
    print(
        f"{name}: {measured['wall_hours'] * 60:.1f} min wall, {measured['cpu_hours']:.2f} CPU-hours",
        file=sys.stderr,
        flush=True,
    )
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--run-flags", default="", help="more flags for search run (quoted)")
    parser.add_argument("--evaluate-flags", default="", help="more flags for search evaluate (quoted)")
    parser.add_argument("--log", help="the commands' output (default: RUNS_DIR.log)")
    parser.add_argument(
        "--no-evaluate", action="store_true", help="stop after search run (its race is then the result)"
    )
    args = parser.parse_args()

    runs = Path(args.runs_dir)
    with open(args.log or f"{runs}.log", "a") as log:
        search = step(
            "search run",
            ["run", "--trials", str(args.trials), "--runs-dir", str(runs), *shlex.split(args.run_flags)],
            log,
        )
        if args.no_evaluate:
            print(f"RESULT search_cpu_hours={search['cpu_hours']:.2f} search_wall_hours={search['wall_hours']:.2f}")
            return
        evaluation = step(
            "search evaluate",
            [
                "evaluate",
                "--top-k",
                str(args.top_k),
                "--seeds",
                str(args.seeds),
                "--runs-dir",
                str(runs),
                *shlex.split(args.evaluate_flags),
            ],
            log,
        )
    report = json.loads(next((runs / "evaluation").glob("*.json")).read_text())
    print(json.dumps({"search": search, "evaluation": evaluation}, indent=2))
    print(f"best baseline: {report['best_baseline']}")
    for row in report["rows"]:
        difference, accuracy = row["difference_to_best_baseline"], row["test_accuracy"]
        gap = (
            f"{difference['mean'] * 100:+.2f} [{difference['low'] * 100:+.2f}, {difference['high'] * 100:+.2f}]"
            if difference
            else "-"
        )
        mean = f"{accuracy['mean']:.4f}" if accuracy else "-"
        print(f"{row['label']:<16} {row['kind']:<9} test accuracy {mean}, paired to the best baseline (points): {gap}")
    print(
        f"RESULT search_cpu_hours={search['cpu_hours']:.2f} search_wall_hours={search['wall_hours']:.2f} "
        f"evaluate_cpu_hours={evaluation['cpu_hours']:.2f} evaluate_wall_hours={evaluation['wall_hours']:.2f}"
    )


if __name__ == "__main__":
    main()
