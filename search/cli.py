"""The `search` command. Parsing only: each subcommand's module is imported when it runs, so
`search --help` never imports TensorFlow or Ray.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from space import EXTENDED_OPS, AugSearchError

BASELINE_NAMES = "none,guide,randaugment,trivialaugment"  # space.baselines.BASELINES, without importing it
STATES = ("complete", "pruned", "fail", "running", "waiting")
# Commands that never touch TensorFlow start in a second instead of five.
WITHOUT_TENSORFLOW = {"trials", "dashboard"}
SORT_KEYS = ("number", "value", "wall", "epochs")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: one line, exit 2, like ours
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bounds(kind):
    def parse(text):
        try:
            low, high = (kind(part) for part in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected LOW,HIGH ({kind.__name__}s), got {text!r}") from None
        return (low, high)

    parse.__name__ = f"{kind.__name__} bounds"
    return parse


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """--runs-dir, --storage and --study: the same on every subcommand that reads a study."""
    group = parser.add_argument_group("study")
    group.add_argument("--runs-dir", default="runs", help="run directory: storage, Ray results, artifacts (default: runs)")
    group.add_argument(
        "--storage", help="Optuna storage URL (default: sqlite:///RUNS_DIR/search.db; postgresql://... for several machines)"
    )
    group.add_argument("--study", help="study name (default: derived from the dataset, e.g. 'fashion_mnist')")


def _add_run(subparsers) -> None:
    run = subparsers.add_parser(
        "run",
        help="search augmentation policies (resumable: run it again to continue)",
        description=(
            "Optuna proposes policies, Ray Tune trains a short EfficientNet proxy for each in parallel, "
            "ASHA stops weak ones early, and the study keeps every trial. --trials is the total number "
            "of finished trials the study should hold: the same command again resumes."
        ),
    )
    run.add_argument("--trials", type=int, default=200, help="finished (complete or pruned) trials the study should hold (default: 200)")
    data = run.add_argument_group("data and budget")
    data.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist (default), tfds:NAME or folder:PATH")
    data.add_argument("--data-dir", help="where the dataset's files are (Fashion-MNIST IDX files, TFDS data_dir)")
    data.add_argument("--budget", choices=("smoke", "cpu", "gpu"), help="proxy training preset (default: gpu if Ray sees a GPU, else cpu)")
    _add_budget_overrides(data)

    space = run.add_argument_group("search space (bounds are LOW,HIGH, inclusive; LOW=HIGH fixes a field)")
    space.add_argument("--ops", default="standard", help=f"candidate ops: standard (KerasCV RandAugment's 10), extended (all {len(EXTENDED_OPS)}), or a comma-separated list")
    for flag, kind, default in (
        ("--magnitude", float, "0,1"),
        ("--magnitude-stddev", float, "0,0.5"),
        ("--rate", float, "0,1"),
        ("--augmentations-per-image", int, "1,4"),
        ("--cutmix-rate", float, "0,1"),
        ("--mixup-rate", float, "0,1"),
    ):
        space.add_argument(flag, type=_bounds(kind), metavar="LOW,HIGH", help=f"default: {default}")
    space.add_argument("--cutmix-alpha", type=float, help="CutMix's Beta(alpha, alpha) (default: 1.0, KerasCV's)")
    space.add_argument("--mixup-alpha", type=float, help="MixUp's Beta(alpha, alpha) (default: 0.2, KerasCV's)")

    add_study_arguments(run)
    search = run.add_argument_group("search")
    search.add_argument("--sampler", default="tpe", help="tpe (default: multivariate, constant liar), random, cmaes, gp, qmc")
    search.add_argument("--pruner", default="asha", help="asha (default: Ray Tune's ASHA over epochs) or none")
    search.add_argument("--seed", type=int, default=0, help="seeds the sampler, the data split and each trial (default: 0)")
    search.add_argument("--no-baselines", action="store_true", help="do not enqueue the reference policies (no augmentation, the KerasCV guide's)")
    search.add_argument(
        "--max-failures", type=int, default=10,
        help="stop the search when this many trials in a row fail, none finishing in between (default: 10)",
    )

    _add_ray_arguments(run)


def _add_budget_overrides(group) -> None:
    group.add_argument("--epochs", type=int, help="override the budget's epochs")
    group.add_argument("--image-size", type=int, help="override the budget's image size (pixels)")
    group.add_argument("--train-examples", type=int, help="override the budget's training examples")
    group.add_argument("--batch-size", type=int, help="override the budget's batch size")
    group.add_argument("--model", help="override the budget's model (small, efficientnetv2_b0, efficientnetv2_s, or a KerasCV preset)")
    group.add_argument("--learning-rate", type=float, help="override the budget's peak learning rate")


def _add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """The same on `run` and `evaluate`: a trial of `run` and a training of `evaluate` get alike."""
    ray = parser.add_argument_group("Ray")
    ray.add_argument("--concurrency", type=int, help="trainings at once (default: as many as the cluster's resources fit)")
    ray.add_argument("--cpus-per-trial", type=float, help="CPUs per training (default: 1)")
    ray.add_argument("--gpus-per-trial", type=float, help="GPUs per training, fractions share a GPU (default: 1 if the cluster has GPUs, else 0)")
    ray.add_argument(
        "--address",
        help="join an existing Ray cluster: auto, or the HOST:PORT `ray start --head` printed (not a ray:// client "
        "address); default: start Ray locally",
    )


def _add_evaluate(subparsers) -> None:
    evaluate = subparsers.add_parser(
        "evaluate",
        help="full trainings: searched policies against baselines, on the test split",
        description=(
            "Train each policy at a full budget (more examples and epochs than the search's proxy) once per "
            "seed, score it on the TEST split, which the search never used, and report the mean test accuracy "
            "with a 95 % interval and the paired difference to the best baseline. --top-k also tells how well "
            "the proxy ranked the trials (Spearman). Finished trainings are stored in the study "
            "NAME.evaluation: the same command again trains only what is missing. Writes "
            "RUNS_DIR/evaluation/NAME.evaluation.{json,md,png}."
        ),
        epilog="Example: search evaluate --top-k 3 --seeds 3 (the 3 best trials against the 4 baselines)",
    )
    evaluate.add_argument("policies", nargs="*", metavar="POLICY.json", help="exported policy files (search export)")
    evaluate.add_argument(
        "--trial", action="append", metavar="N|best",
        help="a complete trial of the study (repeatable; default: best, when no file, --trial or --top-k is given)",
    )
    evaluate.add_argument("--top-k", type=int, default=0, help="also the K best complete trials, and the proxy's rank correlation")
    evaluate.add_argument(
        "--baselines", default=BASELINE_NAMES,
        help=f"comma-separated baselines to train beside them, '' for none (default: {BASELINE_NAMES})",
    )
    evaluate.add_argument("--seeds", type=int, default=3, help="trainings per policy, seeds SEED to SEED+N-1 (default: 3)")
    evaluate.add_argument("--seed", type=int, default=0, help="the first seed (default: 0)")
    data = evaluate.add_argument_group("data and budget")
    data.add_argument("--dataset", help="dataset spec (default: the study's, else fashion_mnist); it needs a test split")
    data.add_argument("--data-dir", help="where the dataset's files are (as for search run)")
    data.add_argument(
        "--budget", choices=("full", "full-gpu", "smoke"),
        help="training preset (default: full-gpu if Ray sees a GPU, else full: see the README's Budgets)",
    )
    _add_budget_overrides(data)
    add_study_arguments(evaluate)
    _add_ray_arguments(evaluate)


def _add_sample_arguments(parser: argparse.ArgumentParser, images: int) -> None:
    """Which pictures a sample grid shows: the same for every policy with the same flags."""
    group = parser.add_argument_group("sample images (the same pictures for every policy with the same flags)")
    group.add_argument("--images", type=int, default=images, help=f"source images in the grid (default: {images})")
    group.add_argument("--seed", type=int, default=1, help="picks the images and seeds the augmentation (default: 1)")
    group.add_argument("--dataset", help="dataset spec (default: the study's, else fashion_mnist)")
    group.add_argument("--data-dir", help="where the dataset's files are (as for search run)")
    group.add_argument("--image-size", type=int, help="pixels (default: the study's budget, else 64)")


def _add_results(subparsers) -> None:
    trials = subparsers.add_parser(
        "trials",
        help="table of the study's trials",
        description="One line per trial: number, state, objective, epochs, wall time and the policy.",
    )
    trials.add_argument(
        "--state", help=f"only trials in these states, comma-separated: {', '.join(STATES)} (default: all)"
    )
    trials.add_argument(
        "--sort", default="number",
        help=f"{', '.join(SORT_KEYS)} (default: number; value, wall and epochs sort highest first)",
    )
    trials.add_argument("--limit", type=int, help="show at most N trials (after sorting)")
    add_study_arguments(trials)

    compare = subparsers.add_parser(
        "compare",
        help="compare trials or policy files side by side",
        description=(
            "Each policy field, the objective per epoch and the time, side by side; fields that "
            "differ are marked with *. With --out, their sample grids one under the other as one PNG."
        ),
    )
    compare.add_argument("policies", nargs="+", metavar="TRIAL|best|policy.json", help="trial numbers, best, or exported policy files")
    compare.add_argument("--out", help="also write the policies' sample grids, one under the other, to this PNG")
    _add_sample_arguments(compare, images=8)
    add_study_arguments(compare)

    preview = subparsers.add_parser(
        "preview",
        help="sample grid of a policy on the study's images",
        description=(
            "A PNG grid of the same source images before and after the policy: the original, after "
            "the per-image stage (RandAugment), and after the batch stage (CutMix/MixUp)."
        ),
    )
    preview.add_argument("policy", nargs="?", default="best", metavar="TRIAL|best|policy.json", help="default: best")
    preview.add_argument("--out", default="preview.png", help="the PNG to write (default: preview.png)")
    _add_sample_arguments(preview, images=16)
    add_study_arguments(preview)

    dashboard = subparsers.add_parser(
        "dashboard",
        help="optuna-dashboard on the run directory",
        description=(
            "Serve optuna-dashboard on the study storage and the run directory's artifact store "
            "(sample grids and learning curves per trial). Ctrl-C stops it."
        ),
    )
    dashboard.add_argument("--port", type=int, default=8080, help="default: 8080")
    dashboard.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (0.0.0.0 to serve other machines)")
    add_study_arguments(dashboard)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="search",
        description="AugSearch: search data-augmentation policies for Keras image classifiers.",
        epilog="Start with: search run --trials 200",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_run(subparsers)
    export = subparsers.add_parser(
        "export",
        help="export the best policy as a KerasCV RandomAugmentationPipeline config",
        description=(
            "Write a trial's policy as one JSON file: the Policy, the Keras configs of its "
            "RandomAugmentationPipeline and of CutMix/MixUp, and provenance. Plain Keras + KerasCV "
            "load it back (see the README)."
        ),
    )
    export.add_argument("--trial", default="best", help="a trial number, or best (default: the complete trial with the highest objective)")
    export.add_argument("--out", default="policy.json", help="the file to write (default: policy.json)")
    add_study_arguments(export)
    _add_results(subparsers)
    _add_evaluate(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # --debug is accepted before or after the subcommand.
    debug = "--debug" in argv
    args = parser.parse_args([a for a in argv if a != "--debug"])
    args.argv = [a for a in argv if a != "--debug"]  # for the reports' "reproduce" line
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command not in WITHOUT_TENSORFLOW:
            from search.quiet import import_tensorflow_quietly

            import_tensorflow_quietly()
        command = importlib.import_module(f"search.{args.command}_command")
        return command.main(args)
    except AugSearchError as error:
        if debug:
            raise
        print(f"search {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `search trials | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
