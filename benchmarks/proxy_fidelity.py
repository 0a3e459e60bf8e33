"""How well the search's proxy ranks policies like full training, and how noisy each is.

A spanning set of policies (scrambled Sobol points of the search space, from Optuna's QMC sampler,
plus the evaluation baselines; or, with `--policy-set recipes`, the baselines and the photo
recipes' neighbours) is trained at the proxy budget and at the full budget, each
with the same `--seeds` (paired: a seed gives every policy the same initial weights and data
order). The proxy is scored as the search scores it (the last epoch's validation accuracy), full
training as `search evaluate` does (test accuracy). Printed:

- the seed-to-seed standard deviation of each budget's score (pooled over the policies);
- Spearman between the proxy's and full training's mean scores, over all policies (with a 95 %
  bootstrap interval over the policies) and over the better half (by full training: the
  policies a search must tell apart);
- CPU-seconds per training at each budget (the worker's process time).

A proxy's score is printed two ways from the same trainings: its last epoch's validation accuracy
(`proxy`, on the budget's `validation_examples`) and its objective (`objective`: the accuracy on
`score_examples` validation images after the last epoch, when the budget has them).
`--proxy-overrides` tries another proxy (`train_examples=6144,epochs=5`), `--full-overrides`
another full training (the low-data regime's is `train_examples=1024,epochs=100`), and
`--full-from` reuses the policies and full trainings of an earlier run's JSON (its policies, in
its order, instead of new Sobol points and the baselines, which change with the code), so that
proxies are compared on the same full-training means; `--compare A.json B.json` then prints
A's Spearman minus B's with a paired bootstrap interval over the policies.

Raw scores go to `--out` (JSON) so that a long run can be analysed again; each proxy training's
outcome holds its `curve` (the validation accuracy after each epoch, what ASHA compares; see
`rung_pruning.py`). The trainings run as Ray tasks, `--concurrency` at once. At the defaults
(16 + 4 policies, 2 seeds, cpu vs full) it is 40 proxy trainings (~20 s each) and 40 full ones
(~5 min each): hours on 2 cores, so run it in the background with its output in a log:

    nohup .venv/bin/python benchmarks/proxy_fidelity.py > fidelity.log 2>&1 &
    .venv/bin/python benchmarks/proxy_fidelity.py --quick   # a minutes-long check of the script itself
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import optuna

from results.statistics import spearman
from space import BASELINES, Policy, SearchSpace, suggest_policy

optuna.logging.set_verbosity(optuna.logging.WARNING)


def spanning_policies(n: int, seed: int) -> dict[str, Policy]:
    """`n` policies spread over the default search space by scrambled Sobol points, then the baselines."""
    import warnings

    with warnings.catch_warnings():  # QMCSampler is "experimental" in Optuna 5
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    policies = {}
    for number in range(n):
        trial = study.ask()
        policies[f"sobol {number}"] = suggest_policy(trial, SearchSpace())
        study.tell(trial, 0.0)  # QMC needs told trials to move on to its next point
    return {**policies, **BASELINES}


def recipe_neighbours() -> dict[str, Policy]:
    """The baselines and, around the photo recipes, one change at a time: what a search on photos
    must tell apart (crop and flip alone, weaker and stronger crops, and a little of each other
    stage on top of crop + flip)."""
    cropflip = BASELINES["cropflip"]
    trivialaugment = BASELINES["trivialaugment"]
    with_base = {"crop_padding": cropflip.crop_padding, "flip": True}
    return {
        **BASELINES,
        "crop": cropflip.replace(flip=False),
        "flip": cropflip.replace(crop_padding=0.0),
        "cropflip pad 1/16": cropflip.replace(crop_padding=0.0625),
        "cropflip pad 1/4": cropflip.replace(crop_padding=0.25),
        "cropflip erase": cropflip.replace(erasing_rate=0.5, erasing_area=0.1),
        "cropflip mixup": cropflip.replace(mixup_rate=0.5),
        "cropflip ta half": trivialaugment.replace(**with_base, rate=trivialaugment.rate / 2),
        "cropflip ta m0.5": trivialaugment.replace(**with_base, magnitude=0.5),
        "cropflip ra mild": Policy(magnitude=0.2, augmentations_per_image=1, rate=0.5, **with_base),
    }


def train_once(policy: Policy, seed: int, budget, dataset, score_test: bool) -> dict:
    """In a Ray worker: one training, its scores, its per-epoch validation accuracy and the
    worker's CPU-seconds for it."""
    from trainers import configure_gpus, train

    configure_gpus()
    cpu = time.process_time()
    result = train(dataset, policy, budget, seed=seed, score_test=score_test)
    return {
        "score": result.test_accuracy if score_test else result.val_accuracy,
        "objective": result.objective,
        "curve": [epoch["val_accuracy"] for epoch in result.history],
        "cpu_seconds": time.process_time() - cpu,
        "wall_seconds": result.wall_seconds,
    }


def run_budget(
    ray, name: str, policies: dict[str, Policy], seeds: list[int], args, score_test: bool, overrides=None
) -> dict:
    """{policy: {seed: outcome}} of every training at budget `name` (with `overrides`)."""
    from trainers import Budget
    from trainers.data import load_for_budget

    budget = Budget.preset(name, **(overrides or {}))
    dataset = load_for_budget(args.dataset, budget, seed=0, include_test=score_test)
    remote = ray.remote(num_cpus=1, max_retries=0)(train_once)
    dataset_ref = ray.put(dataset)
    waiting = [(label, seed) for seed in seeds for label in policies]  # every policy's first seed first
    running, outcomes, started = {}, {label: {} for label in policies}, time.monotonic()
    while waiting or running:
        while waiting and len(running) < args.concurrency:
            label, seed = waiting.pop(0)
            running[remote.remote(policies[label], seed, budget, dataset_ref, score_test)] = (label, seed)
        (ready,), _ = ray.wait(list(running), num_returns=1)
        label, seed = running.pop(ready)
        outcomes[label][seed] = ray.get(ready)
        done = sum(len(by_seed) for by_seed in outcomes.values())
        print(
            f"{name}: [{done}/{len(policies) * len(seeds)}] {label}, seed {seed}: {outcomes[label][seed]['score']:.4f} "
            f"({time.monotonic() - started:.0f} s elapsed)",
            file=sys.stderr,
            flush=True,
        )
    return outcomes


def pooled_seed_sd(outcomes: dict, key: str = "score") -> float:
    """The seed-to-seed standard deviation of `key`, pooled over the policies."""
    variances = [
        statistics.variance([o[key] for o in by_seed.values()]) for by_seed in outcomes.values() if len(by_seed) > 1
    ]
    return math.sqrt(statistics.fmean(variances)) if variances else math.nan


def mean_scores(outcomes: dict, key: str = "score") -> dict[str, float]:
    return {label: statistics.fmean(o[key] for o in by_seed.values()) for label, by_seed in outcomes.items()}


def rho_of(proxy_means: dict, full_means: dict, labels: list[str]) -> float:
    return spearman([proxy_means[label] for label in labels], [full_means[label] for label in labels])


def bootstrap_interval(statistic, labels: list[str], full_means: dict, draws: int = 2000) -> tuple[float, float]:
    """95 % bootstrap interval of `statistic(sample)` over policies resampled with replacement
    (samples with fewer than 3 distinct full-training means, where Spearman is undefined, skipped)."""
    rng, values = random.Random(0), []
    for _ in range(draws):
        sample = [rng.choice(labels) for _ in labels]
        if len({full_means[label] for label in sample}) > 2:
            values.append(statistic(sample))
    values.sort()
    return values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]


def compare(path_a: str, path_b: str, key: str = "objective") -> str:
    """Paired bootstrap difference of Spearman, proxy A minus proxy B, over the same policies
    against the same full trainings (two --out JSONs, the second e.g. run with --full-from the first)."""
    a, b = (json.loads(Path(path).read_text()) for path in (path_a, path_b))
    if a["full"] != b["full"]:
        sys.exit(f"--compare: {path_a} and {path_b} were not scored against the same full trainings (use --full-from)")
    full_means = mean_scores(a["full"])
    means_a, means_b, labels = mean_scores(a["proxy"], key), mean_scores(b["proxy"], key), list(full_means)
    low, high = bootstrap_interval(
        lambda sample: rho_of(means_a, full_means, sample) - rho_of(means_b, full_means, sample),
        labels,
        full_means,
    )
    difference = rho_of(means_a, full_means, labels) - rho_of(means_b, full_means, labels)
    return (
        f"RESULT spearman_{key}_difference={difference:+.3f} difference_95=[{low:+.3f},{high:+.3f}] "
        f"({path_a} minus {path_b})"
    )


def summarise(proxy: dict, full: dict) -> dict:
    full_means = mean_scores(full)
    labels = list(full_means)
    better = sorted(labels, key=full_means.get, reverse=True)[: max(2, len(labels) // 2)]

    def rho(key, subset):
        return rho_of(mean_scores(proxy, key), full_means, subset)

    def rho_interval(key):
        """With 20 policies, how far another spanning set could move Spearman."""
        proxy_means = mean_scores(proxy, key)
        low, high = bootstrap_interval(lambda sample: rho_of(proxy_means, full_means, sample), labels, full_means)
        return f"[{low:.3f},{high:.3f}]"

    def cpu(outcomes):
        return statistics.fmean(o["cpu_seconds"] for by_seed in outcomes.values() for o in by_seed.values())

    summary = {
        "policies": len(labels),
        "seeds": len(next(iter(full.values()))),
        "proxy_seed_sd": pooled_seed_sd(proxy),
        "full_seed_sd": pooled_seed_sd(full),
        "spearman_all": rho("score", labels),
        "spearman_all_95": rho_interval("score"),
        "spearman_better_half": rho("score", better),
        "proxy_cpu_seconds": cpu(proxy),
        "full_cpu_seconds": cpu(full),
    }
    if all("objective" in o for by_seed in proxy.values() for o in by_seed.values()):
        summary.update(
            {
                "objective_seed_sd": pooled_seed_sd(proxy, "objective"),
                "objective_spearman_all": rho("objective", labels),
                "objective_spearman_all_95": rho_interval("objective"),
                "objective_spearman_better_half": rho("objective", better),
            }
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--policies",
        type=int,
        default=16,
        help="Sobol policies besides the baselines (default: 16; not with --full-from or --policy-set recipes)",
    )
    parser.add_argument(
        "--policy-set",
        choices=("sobol", "recipes"),
        default="sobol",
        help="sobol: --policies points spanning the space, then the baselines; recipes: the baselines "
        "and the photo recipes' neighbours, one change at a time (default: sobol)",
    )
    parser.add_argument("--seeds", type=int, default=2, help="paired seeds per policy and budget (default: 2)")
    parser.add_argument("--proxy", default="cpu", help="the proxy's budget preset (default: cpu)")
    parser.add_argument("--full", default="full", help="full training's budget preset (default: full)")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--concurrency", type=int, default=2, help="trainings at once (default: 2)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the Sobol scramble (default: 0; not with --full-from)"
    )
    parser.add_argument(
        "--out", default="proxy_fidelity.json", help="raw scores and the summary (default: proxy_fidelity.json)"
    )
    parser.add_argument(
        "--proxy-overrides", default="", help="budget fields of the proxy to change: 'train_examples=6144,epochs=5'"
    )
    parser.add_argument(
        "--full-overrides",
        default="",
        help="budget fields of full training to change: 'train_examples=1024,epochs=100'",
    )
    parser.add_argument(
        "--full-from", help="reuse the policies and full trainings of an earlier run's --out JSON (same seeds)"
    )
    parser.add_argument("--quick", action="store_true", help="check the script: 2 policies + baselines, smoke budgets")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A.json", "B.json"),
        help="train nothing: Spearman of proxy A minus B, with its paired interval",
    )
    args = parser.parse_args()
    if args.compare:
        print(compare(*args.compare))
        return
    if args.quick:
        args.policies, args.proxy, args.full = 2, "smoke", "smoke"

    from search.tune.cluster import start_ray

    ray = start_ray(None)
    seeds = list(range(1, args.seeds + 1))
    if args.full_from:
        policies, full = _earlier_run(args.full_from, seeds)
    elif args.policy_set == "recipes":
        policies, full = recipe_neighbours(), None
    else:
        policies, full = spanning_policies(args.policies, args.seed), None
    proxy = run_budget(
        ray, args.proxy, policies, seeds, args, score_test=False, overrides=_overrides(args.proxy_overrides)
    )
    if full is None:
        full = run_budget(
            ray, args.full, policies, seeds, args, score_test=True, overrides=_overrides(args.full_overrides)
        )
    summary = summarise(proxy, full)
    Path(args.out).write_text(
        json.dumps(
            {
                "args": vars(args),
                "policies": {label: policy.to_dict() for label, policy in policies.items()},
                "proxy": proxy,
                "full": full,
                "summary": summary,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\n{'policy':<16} {args.proxy + ' (val)':>12} {'objective':>12} {args.full + ' (test)':>12}")
    proxy_means, objective_means, full_means = mean_scores(proxy), mean_scores(proxy, "objective"), mean_scores(full)
    for label in sorted(full_means, key=full_means.get, reverse=True):
        print(f"{label:<16} {proxy_means[label]:>12.4f} {objective_means[label]:>12.4f} {full_means[label]:>12.4f}")
    print(f"\nraw scores: {args.out}")
    print(
        "RESULT "
        + " ".join(
            f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}" for key, value in summary.items()
        )
    )


def _overrides(text: str) -> dict:
    """'train_examples=1024,epochs=30' as budget fields."""
    return {
        key: float(value) if "." in value else int(value)
        for key, _, value in (item.partition("=") for item in text.split(",") if item)
    }


def _earlier_run(path: str, seeds: list[int]) -> tuple[dict[str, Policy], dict]:
    """The policies (in the file's order) and full trainings of an earlier run, checked to have `seeds`."""
    earlier = json.loads(Path(path).read_text())
    policies = {label: Policy.from_dict(data) for label, data in earlier["policies"].items()}
    full = {
        label: {int(seed): outcome for seed, outcome in by_seed.items()} for label, by_seed in earlier["full"].items()
    }
    if any(sorted(by_seed) != seeds for by_seed in full.values()):
        sys.exit(f"--full-from {path}: its seeds differ from this run's {seeds} (use its --seeds)")
    return policies, full


if __name__ == "__main__":
    main()
