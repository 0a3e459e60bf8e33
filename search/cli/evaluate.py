"""`search evaluate`: the flags become an `EvaluationSettings`; `search.evaluate` does the rest."""

from __future__ import annotations

import argparse
import shlex
import sys

from results.evaluation import table_lines
from search.cli.arguments import (
    add_budget_arguments,
    add_ray_arguments,
    add_study_arguments,
    training_fields,
)
from search.settings import EVALUATION_BUDGETS, EvaluationSettings
from space import BASELINES, AugSearchError

HELP = "full trainings: searched policies against baselines, on the test split"
DESCRIPTION = (
    "Train each policy at a full budget (more examples and epochs than the search's proxy) once per "
    "seed, score it on the TEST split, which the search never used, and report the mean test accuracy "
    "with a 95 % interval and the paired difference to the best baseline. --top-k also tells how well "
    "the proxy ranked the trials (Spearman). Finished trainings are stored in the study "
    "NAME.evaluation: the same command again trains only what is missing. Writes "
    "RUNS_DIR/evaluation/NAME.evaluation.{json,md,png}."
)
EPILOG = "Example: search evaluate --top-k 3 --seeds 3 (the 3 best trials against the 7 baselines)"
NEEDS_TENSORFLOW = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    baselines = ",".join(BASELINES)
    parser.add_argument("policies", nargs="*", metavar="POLICY.json", help="exported policy files (search export)")
    parser.add_argument(
        "--trial",
        action="append",
        metavar="N|best",
        help="a complete trial of the study (repeatable; default: best, when no file, --trial or --top-k is given)",
    )
    parser.add_argument(
        "--top-k", type=int, default=0, help="also the K best complete trials, and the proxy's rank correlation"
    )
    parser.add_argument(
        "--baselines",
        default=baselines,
        help=f"comma-separated baselines to train beside them, '' for none (default: {baselines})",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="trainings per policy, seeds SEED to SEED+N-1 (default: 3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the first seed (default: 0)")
    data = parser.add_argument_group("data and budget")
    data.add_argument(
        "--dataset", help="dataset spec (default: the study's, else fashion_mnist); it needs a test split"
    )
    data.add_argument("--data-dir", help="where the dataset's files are (as for search run)")
    add_budget_arguments(data, EVALUATION_BUDGETS, "full-gpu if Ray sees a GPU, else full: see docs/evaluate.md")
    add_study_arguments(parser)
    add_ray_arguments(parser)


def settings(args: argparse.Namespace) -> EvaluationSettings:
    return EvaluationSettings(
        policies=args.policies,
        trials=args.trial or (),
        top_k=args.top_k,
        baselines=args.baselines,
        seeds=args.seeds,
        seed=args.seed,
        **training_fields(args),
        command=shlex.join(["search", *args.argv]),
    )


def run(args: argparse.Namespace) -> int:
    from search.evaluating import NothingToEvaluate, evaluate  # imports Optuna: not for --help

    try:
        result = evaluate(settings(args))
    except NothingToEvaluate:
        raise AugSearchError(
            "nothing to evaluate: give policy files, --trial N, --top-k K or --baselines (and a study for trials)."
        ) from None
    print("\n" + "\n".join(table_lines(result.evaluation)))
    print("\nwrote " + ", ".join(map(str, result.paths)), file=sys.stderr)
    if result.interrupted:
        return 130
    if result.failed:
        print(
            f"{result.failed} trainings failed (see `search dashboard`, study {result.study.study_name!r}); run the "
            "same command again to retry them.",
            file=sys.stderr,
        )
        return 1
    return 0
