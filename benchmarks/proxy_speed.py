"""How fast the proxy trains at the `cpu` budget, without augmentation and with a typical policy.

The two are measured alternately in one process (none, policy, none, policy, ...) so that drift
in the machine's speed hits both alike; the medians and their ratio are printed. Images/second
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    policies = {"none": NO_AUGMENTATION, "policy": GUIDE_POLICY}
    speeds: dict[str, list[float]] = {name: [] for name in policies}
    walls: dict[str, list[float]] = {name: [] for name in policies}
    for round_ in range(1, args.rounds + 1):
        for name, policy in policies.items():
            result = train(dataset, policy, budget, seed=round_)
            speeds[name].append(result.images_per_second)
            walls[name].append(result.wall_seconds)
            print(
                f"round {round_} {name:6s} {result.images_per_second:7.0f} images/s  "
                f"{result.wall_seconds:5.1f} s/trial  val_accuracy {result.val_accuracy:.3f}",
                flush=True,
            )
    none, policy = statistics.median(speeds["none"]), statistics.median(speeds["policy"])
    print(
        f"median seconds/trial: none {statistics.median(walls['none']):.1f}, "
        f"policy {statistics.median(walls['policy']):.1f} (policy: {GUIDE_POLICY!r})"
    )
    print(f"RESULT images_per_second_none={none:.0f} images_per_second_policy={policy:.0f} ratio={policy / none:.2f}")


if __name__ == "__main__":
    main()
