"""Where a search's wall time goes: training against everything else, read from a finished study.

Run a search, then point this at its run directory:

    .venv/bin/search run --trials 20 --budget cpu --runs-dir /tmp/m20/runs
    .venv/bin/python benchmarks/search_overhead.py --runs-dir /tmp/m20/runs

Per trial, the study holds Optuna's start and end times and the trainable's own `wall_seconds`
and `epoch_seconds` (validation included; the first epoch also builds the graph, estimated as
its excess over the median later epoch). Slot time is the search's span times the concurrency:
the share of it not spent in training steps is the overhead (start-up, graph building, Ray).
"""

from __future__ import annotations

import argparse
import statistics

import optuna
from optuna.trial import TrialState


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--study", default="fashion_mnist")
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    study = optuna.load_study(study_name=args.study, storage=f"sqlite:///{args.runs_dir}/search.db")
    trials = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and "epoch_seconds" in t.user_attrs]
    span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
    training = graph = in_worker = optuna_span = 0.0
    for t in trials:
        epochs = t.user_attrs["epoch_seconds"]
        build = epochs[0] - statistics.median(epochs[1:]) if len(epochs) > 1 else 0.0
        graph += build
        training += sum(epochs) - build
        in_worker += t.user_attrs["wall_seconds"]
        optuna_span += (t.datetime_complete - t.datetime_start).total_seconds()
    slots = span * args.concurrency
    pruned = sum(t.state == TrialState.PRUNED for t in trials)
    print(f"{len(trials)} finished trials ({pruned} pruned) in {span:.0f} s from first start to last end, concurrency {args.concurrency}")
    print(f"  training epochs (validation included): {training:7.0f} s  {training / slots:6.1%} of slot time")
    print(f"  graph building (first-epoch excess):   {graph:7.0f} s  {graph / slots:6.1%}")
    print(f"  in the trial, before the first epoch:  {in_worker - training - graph:7.0f} s  {(in_worker - training - graph) / slots:6.1%}")
    print(f"  outside the trainable (Ray, process start, imports, idle slots): {slots - in_worker:7.0f} s  {(slots - in_worker) / slots:6.1%}")
    print(f"  per trial: {span / len(trials):.1f} s of search time, {optuna_span / len(trials):.1f} s from ask to tell")
    print(f"RESULT trials={len(trials)} pruned={pruned} span_seconds={span:.0f} training_share={training / slots:.3f} non_training_share={1 - training / slots:.3f}")


if __name__ == "__main__":
    main()
