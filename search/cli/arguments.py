"""Argument groups that several commands share, and errors worded in the flags' names.

Library errors name settings fields (`epochs must be ...`); the CLI shows them as the flags the
user typed (`--epochs must be ...`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from search.settings import BUDGET_OVERRIDES, SEARCH_BUDGETS, Resources
from space import AugSearchError


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """--runs-dir, --storage and --study: the same on every command that reads a study."""
    group = parser.add_argument_group("study")
    group.add_argument(
        "--runs-dir", default="runs", help="run directory: storage, Ray results, artifacts (default: runs)"
    )
    group.add_argument(
        "--storage",
        help="Optuna storage URL (default: sqlite:///RUNS_DIR/search.db; postgresql://... for several machines)",
    )
    group.add_argument("--study", help="study name (default: derived from the dataset, e.g. 'fashion_mnist')")


def add_budget_arguments(
    group: argparse._ArgumentGroup,
    budgets: Sequence[str] = SEARCH_BUDGETS,
    default: str = "gpu if Ray sees a GPU, else cpu",
) -> None:
    group.add_argument("--budget", choices=budgets, help=f"training preset (default: {default})")
    group.add_argument("--epochs", type=int, help="override the budget's epochs")
    group.add_argument("--image-size", type=int, help="override the budget's image size (pixels)")
    group.add_argument("--train-examples", type=int, help="override the budget's training examples")
    group.add_argument("--batch-size", type=int, help="override the budget's batch size")
    group.add_argument("--learning-rate", type=float, help="override the budget's peak learning rate")
    group.add_argument(
        "--score-examples",
        type=int,
        help=(
            "override the validation images the objective is scored on after the last epoch "
            "(0: the last epoch's validation)"
        ),
    )
    group.add_argument(
        "--model",
        help="the model: small, efficientnetv2_b0, efficientnetv2_s, a KerasCV preset (downloads), or "
        "package.module:function, a function (input_shape, num_classes, seed) -> keras.Model of yours",
    )


def budget_overrides(args: argparse.Namespace, prefix: str = "") -> dict:
    """The budget fields the flags override (`prefix` "target_": the --target-* flags)."""
    given = {name: getattr(args, prefix + name, None) for name in BUDGET_OVERRIDES}
    return {name: value for name, value in given.items() if value is not None}


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """The same on `run` and `evaluate`: a trial of `run` and a training of `evaluate` get alike."""
    ray = parser.add_argument_group("Ray")
    ray.add_argument(
        "--concurrency", type=int, help="trainings at once (default: as many as the cluster's resources fit)"
    )
    ray.add_argument("--cpus-per-trial", type=float, help="CPUs per training (default: 1)")
    ray.add_argument(
        "--gpus-per-trial",
        type=float,
        help="GPUs per training, fractions share a GPU (default: 1 if the cluster has GPUs, else 0)",
    )
    ray.add_argument(
        "--address",
        help="join an existing Ray cluster: auto, or the HOST:PORT `ray start --head` printed (not a ray:// client "
        "address); default: start Ray locally",
    )


def resources(args: argparse.Namespace) -> Resources:
    return Resources(
        concurrency=args.concurrency,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        address=args.address,
    )


def training_fields(args: argparse.Namespace) -> dict:
    """The settings `run` and `evaluate` share (their `_Training` fields), from the shared flags."""
    return {
        "dataset": args.dataset,
        "data_dir": args.data_dir,
        "budget": args.budget,
        "budget_overrides": budget_overrides(args),
        "model": args.model,
        "study": args.study,
        "runs_dir": args.runs_dir,
        "storage": args.storage,
        "resources": resources(args),
    }


def in_flag_names(error: AugSearchError, parser: argparse.ArgumentParser) -> AugSearchError:
    """`error` about field `some_field` re-worded as one about `--some-field`, when `parser` has
    that flag; other errors as they are."""
    text = str(error)
    field = text.split(" ", 1)[0]
    flag = "--" + field.replace("_", "-")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", field) or flag not in re.findall(r"--[a-z0-9-]+", parser.format_usage()):
        return error
    rest = text[len(field) :].replace(f" {field}=", f" {flag}=")
    # A flag left out is the setting's None: "--concurrency must be an integer >= 1", not "None or ...".
    rest = rest.replace(" must be None or ", " must be ", 1)
    return AugSearchError(flag + rest)
