"""How much of a trial is training: `search run` at the `cpu` budget, without and with worker reuse.

Runs the same small search twice in this one script (same seed, hence the same policies and the
same trial seeds), each in a fresh run directory: "before" with `--no-reuse` (every trial
starts a new Ray worker process, imports TensorFlow and builds and traces its model) and "after"
(a worker runs trial after trial and keeps the compiled model, re-initialised from each trial's
seed). ASHA is off, so every trial trains every epoch. Each trial's wall time, from Optuna's ask
to its tell, is split with the timings the trainable stores in the study (user attributes
`timings`, `train_seconds`, `epoch_seconds`):

    worker start      ask -> the trainable's module loaded in a new worker (Ray starts the actor)
    imports, dataset  -> the trainable called (TensorFlow/Keras/KerasCV imports in a new worker,
                         the dataset from Ray's object store; a reused worker: Tune's reset)
    input pipeline    -> the tf.data pipelines built (the policy's KerasCV layers traced)
    model             -> the model ready (built and compiled, or the kept one re-initialised)
    graph, warm-up    the first epoch's excess over the median later one, training and validation
                      apart (graph tracing, the input pipeline's start)
    training steps    the epochs' training time less that excess: the share this exists for
    validation        the epochs' validation time less its excess
    fit, reports      the rest of the trainable's time until its last report (fit's own set-up,
                      Tune's synchronous reports)
    after last epoch  the last report -> tell (the trainable returns, Tune's bookkeeping, the
                      dashboard's sample grid and learning curve, the study write)

`training_share` is training steps over the trials' summed ask-to-tell time;
`steady_training_share` counts only the trials that ran in a reused worker, as nearly all trials
of a long search do (a worker's first trial still starts a process and builds the graph). Slot
time (the search's span times its concurrency) also holds the gaps when a slot runs no trial; its
share is printed apart. Results must not depend on reuse: with the same seed and policy, each trial's
validation accuracy is compared between the two runs (`same_results`). Run with

    .venv/bin/python benchmarks/trial_overhead.py [--trials 6] [--concurrency 2] [--budget cpu]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

PARTS = (
    ("worker", "worker start"),
    ("imports", "imports, dataset"),
    ("pipeline", "input pipeline"),
    ("model", "model"),
    ("graph", "graph, warm-up"),
    ("training", "training steps"),
    ("validation", "validation"),
    ("fit", "fit, reports"),
    ("after", "after last epoch"),
)
#: `search run` flags of each mode: "before" starts a fresh worker (and model) for every trial.
MODES = {"before": ["--no-reuse"], "after": []}


def run_search(runs_dir: Path, mode: str, args) -> float:
    """Run `search run` with reuse off ("before") or on ("after"); returns its wall seconds."""
    command = [
        sys.executable,
        "-m",
        "search.cli",
        "run",
        "--trials",
        str(args.trials),
        "--budget",
        args.budget,
        "--concurrency",
        str(args.concurrency),
        "--pruner",
        "none",
        "--no-baselines",
        "--seed",
        str(args.seed),
        "--race-top",
        "0",  # exploration's trials alone are measured
        "--runs-dir",
        str(runs_dir),
        *MODES[mode],
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"search run ({mode}) failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def split_trial(trial: optuna.trial.FrozenTrial) -> dict[str, float]:
    """One trial's ask-to-tell seconds, split into PARTS (plus `total`, `reused`, `new_worker`)."""
    attrs = trial.user_attrs
    tm, trains, epochs = attrs["timings"], attrs["train_seconds"], attrs["epoch_seconds"]
    ask, tell = trial.datetime_start.timestamp(), trial.datetime_complete.timestamp()
    to_call = tm["started_at"] - ask
    worker = min(max(tm["loaded_at"] - ask, 0.0), to_call)
    vals = [e - t for e, t in zip(epochs, trains, strict=True)]
    train_excess = max(trains[0] - statistics.median(trains[1:]), 0.0)
    val_excess = max(vals[0] - statistics.median(vals[1:]), 0.0)
    parts = {
        "worker": worker,
        "imports": to_call - worker,
        "pipeline": tm["pipeline"],
        "model": tm["model"] - tm["pipeline"],
        "graph": train_excess + val_excess,
        "training": sum(trains) - train_excess,
        "validation": sum(vals) - val_excess,
        "fit": tm["last_report"] - tm["model"] - sum(epochs),
        "after": tell - (tm["started_at"] + tm["last_report"]),
    }
    return {
        **parts,
        "total": tell - ask,
        "reused": bool(tm.get("model_reused")),
        "new_worker": tm["process_trials"] == 0,
    }


def analyse(runs_dir: Path, mode: str, wall: float, concurrency: int) -> dict:
    study = optuna.load_study(study_name="fashion_mnist", storage=f"sqlite:///{runs_dir}/search.db")
    trials = [t for t in study.trials if t.state == TrialState.COMPLETE]
    failed = len(study.trials) - len(trials)
    rows = {t.number: split_trial(t) for t in trials}
    span = max(t.datetime_complete for t in trials).timestamp() - min(t.datetime_start for t in trials).timestamp()
    sums = {key: sum(row[key] for row in rows.values()) for key, _ in PARTS}
    total = sum(row["total"] for row in rows.values())
    slots = span * concurrency

    print(
        f"\n{mode}: {len(trials)} trials ({failed} not complete), `search run` {wall:.0f} s in all, "
        f"{span:.0f} s from the first ask to the last tell, concurrency {concurrency}"
    )
    print("  trial  worker  model   total  steps  " + "  ".join(f"{label[:10]:>10}" for _, label in PARTS))
    for number, row in sorted(rows.items()):
        print(
            f"  {number:5d}  {'new' if row['new_worker'] else 'reused':>6}  {'kept' if row['reused'] else 'built':>5}  "
            f"{row['total']:5.1f} s  {row['training'] / row['total']:5.1%}  "
            + "  ".join(f"{row[key]:8.1f} s" for key, _ in PARTS)
        )
    print(f"  share of the trials' summed wall time ({total:.0f} s, {total / len(rows):.1f} s a trial):")
    for key, label in PARTS:
        print(f"    {label:<18} {sums[key]:7.1f} s  {sums[key] / total:6.1%}")
    rest = total - sum(sums.values())
    rest = 0.0 if abs(rest) < 0.05 else rest
    print(f"    {'(unaccounted)':<18} {rest:7.1f} s  {rest / total:6.1%}")
    print(
        f"  slot time {slots:.0f} s: training steps {sums['training'] / slots:.1%}, idle slots (no trial) "
        f"{(slots - total) / slots:.1%}"
    )
    steady = [row for row in rows.values() if not row["new_worker"]]
    steady_share = sum(row["training"] for row in steady) / sum(row["total"] for row in steady) if steady else None
    if steady:
        first = [row for row in rows.values() if row["new_worker"]] or steady
        # A 200-trial search starts `concurrency` workers; every later trial runs in a reused one.
        n_new = concurrency
        projected = (n_new * _mean(first, "training") + (200 - n_new) * _mean(steady, "training")) / (
            n_new * _mean(first, "total") + (200 - n_new) * _mean(steady, "total")
        )
        print(
            f"  trials in a reused worker: {len(steady)}, training steps {steady_share:.1%} of their wall time; "
            f"a 200-trial search from these means: {projected:.1%}"
        )
    return {
        "steady_training_share": steady_share,
        "training_share": sums["training"] / total,
        "slot_training_share": sums["training"] / slots,
        "seconds_per_trial": span / len(trials),
        "trial_seconds": total / len(rows),
        "wall": wall,
        "values": {t.number: t.value for t in trials},
    }


def _mean(rows: list[dict], key: str) -> float:
    return sum(row[key] for row in rows) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="before,after", help="before, after or both (comma-separated)")
    parser.add_argument("--keep", help="run directories go here (default: a temporary folder, removed)")
    parser.add_argument("--no-run", action="store_true", help="only analyse the run directories in --keep again")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if not set(modes) <= set(MODES):
        parser.error(f"--modes must name before and/or after, but got {args.modes!r}")
    if args.no_run and not args.keep:
        parser.error("--no-run needs --keep DIR, the run directories of an earlier run")

    with tempfile.TemporaryDirectory(prefix="trial_overhead_") as tmp:
        root = Path(args.keep or tmp)
        results = {}
        for mode in modes:
            runs_dir = root / mode
            wall = float("nan") if args.no_run else run_search(runs_dir, mode, args)
            results[mode] = analyse(runs_dir, mode, wall, args.concurrency)

    print()
    fields = []
    for mode in modes:
        r = results[mode]
        prefix = "" if mode == modes[-1] else f"{mode}_"
        print(
            f"{mode:>6}: training steps {r['training_share']:.1%} of trial wall time "
            f"({r['trial_seconds']:.1f} s a trial), "
            + (
                f"{r['steady_training_share']:.1%} in reused workers, "
                if r["steady_training_share"] is not None
                else ""
            )
            + f"{r['slot_training_share']:.1%} of slot time; "
            f"{r['seconds_per_trial']:.1f} s of search per trial"
        )
        fields += [
            f"{prefix}training_share={r['training_share']:.3f}",
            *(
                [f"{prefix}steady_training_share={r['steady_training_share']:.3f}"]
                if r["steady_training_share"] is not None
                else []
            ),
            f"{prefix}slot_training_share={r['slot_training_share']:.3f}",
            f"{prefix}trial_seconds={r['trial_seconds']:.1f}",
            f"{prefix}seconds_per_trial={r['seconds_per_trial']:.1f}",
        ]
    if len(modes) == 2:
        before, after = results["before"], results["after"]
        same = before["values"] == after["values"]
        ratio = after["training_share"] / before["training_share"]
        speedup = before["seconds_per_trial"] / after["seconds_per_trial"]
        print(
            f"training share after/before {ratio:.2f}; search time per trial before/after {speedup:.2f}; "
            f"same validation accuracy per trial with and without reuse: {same}"
        )
        if not same:
            for number in sorted(set(before["values"]) | set(after["values"])):
                print(f"  trial {number}: before {before['values'].get(number)}  after {after['values'].get(number)}")
        fields += [f"share_ratio={ratio:.2f}", f"speedup={speedup:.2f}", f"same_results={same}"]
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
