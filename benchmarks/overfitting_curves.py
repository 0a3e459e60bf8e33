"""Is a full budget long enough? One policy (default: no augmentation) trained for many epochs,
its training and validation accuracy per epoch.

A full training should run until the unaugmented model overfits: training accuracy near 100 %,
validation flat or falling. Only then does the evaluation answer a user's question (does this
augmentation help the model I would train?). Prints the epoch of the best validation accuracy,
the last epoch's training and validation accuracy and the CPU-seconds; writes the curves as
JSON and PNG:

    nohup .venv/bin/python benchmarks/overfitting_curves.py --train-examples 6144 --epochs 120 \\
        --out curves-6144 > curves-6144.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from space import BASELINES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="full", help="the budget preset to start from (default: full)")
    parser.add_argument("--train-examples", type=int, help="training images (default: the preset's)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    parser.add_argument("--policy", default="none", help=f"one of {', '.join(BASELINES)} (default: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--out", default="curves", help="writes OUT.json and OUT.png (default: curves)")
    args = parser.parse_args()

    from trainers import Budget, load_dataset, train

    overrides = {k: v for k, v in (("train_examples", args.train_examples), ("epochs", args.epochs)) if v is not None}
    budget = Budget.preset(args.budget, **overrides)
    dataset = load_dataset(
        args.dataset,
        image_size=budget.image_size,
        train_examples=budget.train_examples,
        validation_examples=budget.validation_examples,
        seed=0,
    )
    started = time.process_time()

    def report(epoch: int, metrics: dict) -> None:
        print(f"epoch {epoch}: train {metrics['train_accuracy']:.4f} val {metrics['val_accuracy']:.4f}", flush=True)

    result = train(dataset, BASELINES[args.policy], budget, seed=args.seed, report=report)
    cpu_seconds = time.process_time() - started
    history = result.history
    best = max(history, key=lambda row: row["val_accuracy"])
    Path(f"{args.out}.json").write_text(
        json.dumps(
            {
                "budget": budget.to_dict(),
                "policy": args.policy,
                "seed": args.seed,
                "cpu_seconds": cpu_seconds,
                "history": history,
            },
            indent=2,
        )
        + "\n"
    )
    Path(f"{args.out}.png").write_bytes(
        _curves_png(history, f"{args.policy}, {budget.train_examples} images, {budget.epochs} epochs")
    )
    print(
        f"RESULT best_val_epoch={best['epoch']} best_val={best['val_accuracy']:.4f} "
        f"last_val={history[-1]['val_accuracy']:.4f} last_train={history[-1]['train_accuracy']:.4f} "
        f"cpu_seconds={cpu_seconds:.0f} wall_seconds={result.wall_seconds:.0f}"
    )


def _curves_png(history: list[dict], title: str) -> bytes:
    import io

    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.add_subplot()
    epochs = [row["epoch"] for row in history]
    axes.plot(epochs, [row["train_accuracy"] for row in history], label="training accuracy")
    axes.plot(epochs, [row["val_accuracy"] for row in history], label="validation accuracy")
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy")
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


if __name__ == "__main__":
    main()
