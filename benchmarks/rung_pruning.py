"""How many of full training's best policies ASHA's rungs would stop during exploration.

Trains nothing. Reads `proxy_fidelity.py --out` JSONs whose proxy trainings hold their `curve` (the
validation accuracy after each epoch: what the search's ASHA compares). Each (policy, seed) proxy
training is one exploration trial. For each rung setting (grace period scaled to the curves'
length, reduction factor: `SETTINGS`) the trials are fed, one after the other (concurrency 1) in a
shuffled order, epoch by epoch, to Ray Tune's own `AsyncHyperBandScheduler` (one bracket, `max_t`
the curves' epochs, as `search/tune/exploration.py` builds it); a trial it stops before its last
epoch is pruned. Over `--orders` shuffles (fixed seed) it prints the mean number of runs of full
training's top 5 policies (by mean test accuracy over the seeds) pruned at the first rung and at
any rung, how many of those policies lose at least one run, TrivialAugment's pruned runs, and the
share of all trials pruned and of all epochs left untrained; and, per file, the proxy's rank (mean
objective) of each top-5 policy and of TrivialAugment.

    .venv/bin/python benchmarks/rung_pruning.py benchmarks/data/proxy_fidelity_curves_full60.json \\
        benchmarks/data/proxy_fidelity_curves_low1024.json [--orders 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from pathlib import Path
from types import SimpleNamespace

#: (grace period in epochs of a 15-epoch proxy, reduction factor); None is no pruning. Longer curves
#: scale the grace period (30 epochs: 14, 20, ...), so that (10, 2) is always `search run`'s rung at
#: two thirds of the epochs; (7, 3) was `search run`'s before these figures.
SETTINGS = [(7, 3), (7, 2), (10, 2), (10, 3), (12, 2), (5, 2), None]
SETTINGS_EPOCHS = 15
TOP = 5


def rung_epochs(grace: int, rf: int, max_t: int) -> list[int]:
    """The bracket's milestones as Ray's `_Bracket` computes them, without those at `max_t`
    (there Tune ends the trial as finished before the bracket is asked)."""
    count = int(math.log(max_t / grace) / math.log(rf) + 1)
    return [grace * rf**k for k in range(count) if grace * rf**k < max_t]


def pruned_at(setting, trials: list[tuple[str, list[float]]]) -> dict[int, int | None]:
    """{trial index: the epoch Ray's ASHA stops it at, or None}, the trials run one after the
    other in the given order."""
    if setting is None:
        return {index: None for index in range(len(trials))}
    from ray.tune.schedulers import AsyncHyperBandScheduler, TrialScheduler

    max_t = len(trials[0][1])
    scheduler = AsyncHyperBandScheduler(
        time_attr="training_iteration",
        metric="val_accuracy",
        mode="max",
        max_t=max_t,
        grace_period=setting[0],
        reduction_factor=setting[1],
    )
    stopped = {}
    for index, (_, curve) in enumerate(trials):
        trial = SimpleNamespace(trial_id=str(index))  # the scheduler reads only a trial's id
        scheduler.on_trial_add(None, trial)
        stopped[index] = None
        for epoch, value in enumerate(curve, start=1):
            result = {"training_iteration": epoch, "val_accuracy": value}
            if scheduler.on_trial_result(None, trial, result) == TrialScheduler.STOP:
                stopped[index] = epoch if epoch < max_t else None
                break
        scheduler.on_trial_complete(None, trial, result)
    return stopped


def simulate(setting, runs: list[tuple[str, list[float]]], top: set[str], orders: int, seed: int) -> dict:
    """Mean counts over `orders` shuffles of the runs."""
    rng, counts, max_t = random.Random(seed), [], len(runs[0][1])
    first = rung_epochs(*setting, max_t)[0] if setting else None
    for _ in range(orders):
        order = rng.sample(runs, len(runs))
        stopped = pruned_at(setting, order)
        pruned = [(label, stopped[index]) for index, (label, _) in enumerate(order) if stopped[index] is not None]
        counts.append(
            {
                "top_rung1": sum(label in top and epoch == first for label, epoch in pruned),
                "top_any": sum(label in top for label, _ in pruned),
                "top_policies_hit": len({label for label, _ in pruned if label in top}),
                "trivialaugment": sum(label == "trivialaugment" for label, _ in pruned),
                "all_pruned": len(pruned) / len(runs),
                "epochs_saved": sum(max_t - epoch for _, epoch in pruned) / (max_t * len(runs)),
            }
        )
    return {key: statistics.fmean(count[key] for count in counts) for key in counts[0]}


def ranks(means: dict[str, float]) -> dict[str, int]:
    return {label: rank for rank, label in enumerate(sorted(means, key=means.get, reverse=True), start=1)}


def report(path: str, orders: int, seed: int) -> None:
    data = json.loads(Path(path).read_text())
    runs = [(label, o["curve"]) for label, by_seed in data["proxy"].items() for o in by_seed.values() if "curve" in o]
    if len(runs) != sum(len(by_seed) for by_seed in data["proxy"].values()):
        sys.exit(f"{path}: proxy trainings without a curve (rerun proxy_fidelity.py)")
    full = {label: statistics.fmean(o["score"] for o in by_seed.values()) for label, by_seed in data["full"].items()}
    proxy = {
        label: statistics.fmean(o["objective"] for o in by_seed.values()) for label, by_seed in data["proxy"].items()
    }
    full_rank, proxy_rank = ranks(full), ranks(proxy)
    top = sorted(full, key=full.get, reverse=True)[:TOP]
    max_t, regime = len(runs[0][1]), Path(path).stem
    top_runs, ta_runs = sum(label in top for label, _ in runs), sum(label == "trivialaugment" for label, _ in runs)
    print(f"\n{path}: {len(runs)} trials of {max_t} epochs, {len(full)} policies")
    print(f"{'policy':<16} {'full rank':>9} {'full mean':>9} {'proxy rank':>10} {'objective':>9}")
    for label in [*top, *(["trivialaugment"] if "trivialaugment" not in top else [])]:
        print(f"{label:<16} {full_rank[label]:>9} {full[label]:>9.4f} {proxy_rank[label]:>10} {proxy[label]:>9.4f}")
    for setting in SETTINGS:
        setting = setting and (setting[0] * max_t // SETTINGS_EPOCHS, setting[1])  # (10, 2): 2 * max_t // 3
        if setting and setting[0] >= max_t:
            print(f"grace={setting[0]} rf={setting[1]}: no rung before epoch {max_t}, skipped")
            continue
        counts = simulate(setting, runs, set(top), orders, seed)
        name = f"grace={setting[0]} rf={setting[1]}" if setting else "grace=none rf=none"
        rungs = ",".join(map(str, rung_epochs(*setting, max_t))) if setting else "-"
        print(
            f"RESULT regime={regime} {name} rungs={rungs} "
            f"top{TOP}_runs_pruned_rung1={counts['top_rung1']:.2f}/{top_runs} "
            f"top{TOP}_runs_pruned_any={counts['top_any']:.2f}/{top_runs} "
            f"top{TOP}_policies_with_pruned_run={counts['top_policies_hit']:.2f}/{TOP} "
            f"trivialaugment_runs_pruned={counts['trivialaugment']:.2f}/{ta_runs} "
            f"trials_pruned={100 * counts['all_pruned']:.1f}% "
            f"epochs_saved={100 * counts['epochs_saved']:.1f}%"
        )
    print(
        f"RESULT regime={regime} proxy_ranks_of_full_top{TOP}={','.join(str(proxy_rank[label]) for label in top)} "
        f"trivialaugment_proxy_rank={proxy_rank['trivialaugment']} "
        f"trivialaugment_full_rank={full_rank['trivialaugment']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="proxy_fidelity.py --out JSONs with proxy curves")
    parser.add_argument("--orders", type=int, default=200, help="shuffled arrival orders (default: 200)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the shuffles (default: 0)")
    args = parser.parse_args()
    for path in args.files:
        report(path, args.orders, args.seed)


if __name__ == "__main__":
    main()
