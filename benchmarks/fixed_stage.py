"""Would a fixed per-image stage beat TrivialAugment? Flip and pad-crop on every image, paired by seed.

A Policy cannot express a stage applied to every training image (the CIFAR recipe: a horizontal
flip, then a random crop of the image padded by 4 px), so this trains it outside the search:
each training's `tf.data` stream gets Keras' `RandomFlip("horizontal")` and a zero-filled
`RandomTranslation` of up to 4 px at 32 px (pad-and-crop) on every image, after the policy's own
stage. Arms, on the same seeds, scored on the test split: TrivialAugment, TrivialAugment with the
fixed stage, and the fixed stage alone. Defaults: the low-data regime (1,024 images x 100 epochs).

    .venv/bin/python benchmarks/fixed_stage.py --out runs-low/fixed_stage.json [--seeds 1,2,3,4,5]

Finished trainings are kept in `--out`, so the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras

import trainers.training as training
from results.statistics import paired_difference
from space.baselines import BASELINES
from space.budget import Budget
from trainers.data import load_dataset

ARMS = {
    "trivialaugment": (BASELINES["trivialaugment"], False),
    "flip+crop, then trivialaugment": (BASELINES["trivialaugment"], True),
    "flip+crop only": (BASELINES["none"], True),
}
PLAIN_STREAM = training.train_dataset


def stream_with_fixed_stage(*args, seed: int, **kwargs):
    """`trainers.pipeline.train_dataset`'s stream with the fixed stage on every image."""
    stage = keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed + 11),
            keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=seed + 12),
        ]
    )
    return PLAIN_STREAM(*args, seed=seed, **kwargs).map(lambda images, labels: (stage(images, training=True), labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="JSON file of the test accuracies (resumed)")
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--train-examples", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    out = Path(args.out)
    budget = Budget.preset("full", train_examples=args.train_examples, epochs=args.epochs)
    data = load_dataset(
        "fashion_mnist",
        image_size=budget.image_size,
        train_examples=budget.train_examples,
        validation_examples=budget.validation_to_load,
        seed=0,
        include_test=True,
    )
    accuracies = json.loads(out.read_text()) if out.exists() else {}
    for seed in seeds:  # seed-major: an interrupted run still holds complete pairs
        for name, (policy, fixed) in ARMS.items():
            key = f"{name}|{seed}"
            if key in accuracies:
                continue
            # The trainer reads its stream builder from its module: the experiment swaps it there.
            training.train_dataset = stream_with_fixed_stage if fixed else PLAIN_STREAM
            started = time.monotonic()
            accuracies[key] = training.train(data, policy, budget, seed=seed, score_test=True).test_accuracy
            print(f"{name} seed {seed}: test {accuracies[key]:.4f} ({time.monotonic() - started:.0f} s)", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(accuracies, indent=1))
    reference = [accuracies[f"trivialaugment|{seed}"] for seed in seeds]
    result = {}
    for name in ARMS:
        scores = [accuracies[f"{name}|{seed}"] for seed in seeds]
        d = paired_difference(scores, reference)
        result[name.replace(", then ", "_").replace(" ", "_")] = f"{d.mean * 100:+.2f}"
        print(
            f"{name}: mean {sum(scores) / len(scores):.4f}, vs trivialaugment "
            f"{d.mean * 100:+.2f} [{d.low * 100:+.2f}, {d.high * 100:+.2f}] points"
        )
    print("RESULT " + " ".join(f"{key}={value}" for key, value in result.items() if key != "trivialaugment"))


if __name__ == "__main__":
    main()
