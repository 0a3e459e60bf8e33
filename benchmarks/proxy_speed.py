"""How fast the proxy trains at the `cpu` budget: no augmentation, a typical policy, and that policy
with the base stage (pad-and-crop and flip on every image).

The three are measured alternately in one process (none, policy, policy+base, none, ...) so that
drift in the machine's speed hits all alike; the medians and their ratios are printed. Images/second
counts training images from epoch 2 on (no graph building, no validation). Run with

    .venv/bin/python benchmarks/proxy_speed.py [--rounds 3] [--budget cpu]
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from space import GUIDE_POLICY, NO_AUGMENTATION
from trainers import Budget, load_dataset, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--dataset", default="fashion_mnist")
    args = parser.parse_args()

    budget = Budget.preset(args.budget)
    dataset = load_dataset(
        args.dataset,
        image_size=budget.image_size,
        train_examples=budget.train_examples,
        validation_examples=budget.validation_examples,
        seed=0,
    )
    print(f"budget {args.budget}: {budget}")
    policies = {
        "none": NO_AUGMENTATION,
        "policy": GUIDE_POLICY,
        "policy+base": GUIDE_POLICY.replace(crop_padding=0.125, flip=True),
    }
    speeds: dict[str, list[float]] = {name: [] for name in policies}
    walls: dict[str, list[float]] = {name: [] for name in policies}
    for round_ in range(1, args.rounds + 1):
        for name, policy in policies.items():
            result = train(dataset, policy, budget, seed=round_)
            speeds[name].append(result.images_per_second)
            walls[name].append(result.wall_seconds)
            print(
                f"round {round_} {name:11s} {result.images_per_second:7.0f} images/s  "
                f"{result.wall_seconds:5.1f} s/trial  val_accuracy {result.val_accuracy:.3f}",
                flush=True,
            )
    none, policy, based = (statistics.median(speeds[name]) for name in policies)
    seconds = ", ".join(f"{name} {statistics.median(walls[name]):.1f}" for name in policies)
    print(f"median seconds/trial: {seconds} (policy: {GUIDE_POLICY!r})")
    # The base stage's cost, paired round by round (same seed, same machine state).
    paired = statistics.median(b / p for b, p in zip(speeds["policy+base"], speeds["policy"], strict=True))
    print(
        f"RESULT images_per_second_none={none:.0f} images_per_second_policy={policy:.0f} "
        f"images_per_second_policy_base={based:.0f} ratio={policy / none:.2f} base_stage_ratio={paired:.3f}"
    )


if __name__ == "__main__":
    main()
