"""Worker memory per trial: does a reused Ray worker's resident memory (RSS) grow trial after trial?

A long `smoke` search, one trial at a time, with each trial's worker RSS as the trial ended.

Runs `search.run_search` in this process (the API behind `search run --budget smoke --trials 60
--concurrency 1 --pruner none --no-baselines`), so that this process is the Ray driver and the
Ray cluster it starts (GCS, raylet, workers) are its own descendants. How the memory is measured,
from the driver's side, without touching the trainable:

- A thread samples, every `--every` seconds, the resident memory of this process's descendants
  whose command line starts with `ray::ImplicitFunc` (Ray names a worker process after the actor
  it runs; Tune's function trainable is the actor `ImplicitFunc`): with concurrency 1 and worker
  reuse there is one such process, which runs trial after trial. Only descendants count, so the
  Ray of another program on the machine is never measured. psutil comes with Ray.
- After the search, each trial is matched with the last sample taken before Optuna's `tell` of it
  (its `datetime_complete`, on the same clock): the worker's RSS as the trial ended, its model and
  data still alive, before the next trial starts. The largest sample during the trial (from its
  `datetime_start`) is shown too.
- Growth per trial is the least-squares slope of that end-of-trial RSS over the trial number,
  leaving out the first `--skip` trials (the first builds the graph, allocators warm up) and
  counting only trials of the worker that ran most of them (a failed trial's worker is replaced).
  `growth_mb` is the fitted growth over those trials, `total_mb` the last trial's RSS less the
  first's (warm-up included). The driver's own RSS is sampled alike.

Run with

    .venv/bin/python benchmarks/worker_memory.py [--trials 60] [--skip 5] [--budget smoke] [--no-reuse]

It ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MB = 2**20
WORKER_TITLE = "ray::ImplicitFunc"


@dataclass(frozen=True)
class Sample:
    at: datetime.datetime  # naive local time, as Optuna stamps trials
    workers: dict[int, int]  # pid -> RSS bytes of each ray::ImplicitFunc process
    driver: int  # this process's RSS bytes


class Sampler(threading.Thread):
    """Samples the RSS of this process's `ray::ImplicitFunc` descendants until stopped."""

    def __init__(self, every: float):
        super().__init__(daemon=True)
        import psutil

        self.psutil, self.every = psutil, every
        self.me = psutil.Process()
        self.samples: list[Sample] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append(self.sample())
            self.stopping.wait(self.every)

    def sample(self) -> Sample:
        workers = {}
        for process in self.me.children(recursive=True):
            try:
                if " ".join(process.cmdline()).startswith(WORKER_TITLE):
                    workers[process.pid] = process.memory_info().rss
            except (self.psutil.NoSuchProcess, self.psutil.AccessDenied, self.psutil.ZombieProcess):
                continue
        return Sample(datetime.datetime.now(), workers, self.me.memory_info().rss)

    def stop(self) -> list[Sample]:
        self.stopping.set()
        self.join()
        return self.samples


def run(args, runs_dir: Path):
    import search as augsearch

    settings = augsearch.SearchSettings(
        budget=args.budget,
        trials=args.trials,
        resources=augsearch.Resources(concurrency=1),
        pruner="none",
        baselines=False,
        seed=args.seed,
        runs_dir=runs_dir,
        reuse_workers=not args.no_reuse,
        race_top=0,  # the Tune worker's memory over trials is measured
    )
    return augsearch.run_search(settings)


def per_trial(trials, samples: list[Sample]) -> list[dict]:
    """Each ended trial: the worker that ran it and its RSS at the trial's end (the last sample
    before the tell that showed a worker), its peak during the trial, and the driver's RSS."""
    rows = []
    for trial in sorted(trials, key=lambda t: t.number):
        during = [s for s in samples if trial.datetime_start <= s.at <= trial.datetime_complete and s.workers]
        if not during:
            continue
        last = during[-1]
        pid, rss = max(last.workers.items(), key=lambda item: item[1])  # concurrency 1: the only one
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "pid": pid,
                "rss": rss,
                "peak": max(max(s.workers.values()) for s in during),
                "driver": last.driver,
                "seconds": (trial.datetime_complete - trial.datetime_start).total_seconds(),
            }
        )
    return rows


def slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return float("nan")
    xs, ys = zip(*points, strict=True)
    return statistics.linear_regression(xs, ys).slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--skip", type=int, default=5, help="leave the first trials out of the slope (warm-up)")
    parser.add_argument("--budget", default="smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    parser.add_argument("--no-reuse", action="store_true", help="a fresh worker per trial (search run --no-reuse)")
    parser.add_argument("--keep", help="the run directory (default: a temporary folder, removed)")
    args = parser.parse_args()
    if args.trials <= args.skip + 1:
        parser.error("--trials must exceed --skip + 1 to fit a slope")

    with tempfile.TemporaryDirectory(prefix="worker_memory_") as tmp:
        runs_dir = Path(args.keep or tmp)
        sampler = Sampler(args.every)
        sampler.start()
        started = time.perf_counter()
        try:
            result = run(args, runs_dir)
        finally:
            samples = sampler.stop()
        wall = time.perf_counter() - started
        ended = [t for t in result.study.get_trials(deepcopy=False) if t.datetime_complete is not None]
        rows = per_trial(ended, samples)

    if not rows:
        raise SystemExit(
            f"no trial was matched with a {WORKER_TITLE} process ({len(samples)} samples, {len(ended)} trials)"
        )
    print(
        f"\n{len(rows)} trials, {len(samples)} samples every {args.every:g} s, search {wall:.0f} s "
        f"({'a fresh worker per trial' if args.no_reuse else 'reused workers'})"
    )
    print("  trial  state      worker pid  RSS at end  peak in trial  driver RSS  seconds")
    for row in rows:
        print(
            f"  {row['number']:5d}  {row['state']:<9}  {row['pid']:10d}  {row['rss'] / MB:7.1f} MB  "
            f"{row['peak'] / MB:10.1f} MB  {row['driver'] / MB:7.1f} MB  {row['seconds']:7.1f}"
        )

    workers = Counter(row["pid"] for row in rows)
    main_pid = workers.most_common(1)[0][0]
    fitted = [row for row in rows[args.skip :] if args.no_reuse or row["pid"] == main_pid]
    worker_slope = slope([(row["number"], row["rss"] / MB) for row in fitted])
    driver_slope = slope([(row["number"], row["driver"] / MB) for row in rows[args.skip :]])
    span = fitted[-1]["number"] - fitted[0]["number"] if fitted else 0
    growth = worker_slope * span
    total = (rows[-1]["rss"] - rows[0]["rss"]) / MB
    failed = sum(row["state"] == "FAIL" for row in rows)
    print(
        f"\nworker RSS: {rows[0]['rss'] / MB:.0f} MB after trial {rows[0]['number']}, "
        f"{rows[-1]['rss'] / MB:.0f} MB after "
        f"trial {rows[-1]['number']}; from trial {fitted[0]['number'] if fitted else '-'} on "
        f"({len(fitted)} trials{'' if args.no_reuse else f' of worker {main_pid}'}) it grows {worker_slope:+.2f} MB a "
        f"trial ({growth:+.0f} MB over them); {len(workers)} worker process(es), {failed} failed trial(s)"
    )
    print(f"driver RSS grows {driver_slope:+.2f} MB a trial")
    print(
        f"RESULT trials={len(rows)} reuse={not args.no_reuse} workers={len(workers)} "
        f"slope_mb_per_trial={worker_slope:.2f} growth_mb={growth:.0f} total_mb={total:.0f} "
        f"first_rss_mb={rows[0]['rss'] / MB:.0f} last_rss_mb={rows[-1]['rss'] / MB:.0f} "
        f"driver_slope_mb_per_trial={driver_slope:.2f} seconds_per_trial={wall / len(rows):.1f}"
    )


if __name__ == "__main__":
    main()
