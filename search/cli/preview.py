"""`search preview`: a PNG grid of a policy on the study's pictures, before and after."""

from __future__ import annotations

import argparse
import sys

from results.samples import write_png
from search.cli.arguments import add_study_arguments
from search.cli.policy_args import add_sample_arguments, grid_samples, load_study_if_needed
from search.grid_images import policy_grid

HELP = "sample grid of a policy on the study's images"
DESCRIPTION = (
    "A PNG grid of the same source images before and after the policy: the original, after "
    "the per-image stage (RandAugment), and after the batch stage (CutMix/MixUp)."
)
NEEDS_TENSORFLOW = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", nargs="?", default="best", metavar="TRIAL|best|policy.json", help="default: best")
    parser.add_argument("--out", default="preview.png", help="the PNG to write (default: preview.png)")
    add_sample_arguments(parser, images=16)
    add_study_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from results.compare import candidates  # imports Optuna: not for --help

    study = load_study_if_needed(args, [args.policy])
    (candidate,) = candidates(study, [args.policy])
    samples = grid_samples(args, study)
    path = write_png(policy_grid(samples, candidate.policy, args.seed), args.out)
    print(f"{candidate.label}: {candidate.policy!r}", file=sys.stderr)
    print(path)
    return 0
