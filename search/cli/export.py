"""`search export`: a study's best (or chosen) policy as a plain Keras + KerasCV file."""

from __future__ import annotations

import argparse
import sys

from search.cli.arguments import add_study_arguments

HELP = "export the best policy as a KerasCV RandomAugmentationPipeline config"
DESCRIPTION = (
    "Write a trial's policy as one JSON file: the Policy, the Keras configs of its "
    "RandomAugmentationPipeline and of CutMix/MixUp, and provenance. Plain Keras + KerasCV "
    "load it back (see docs/export.md)."
)
NEEDS_TENSORFLOW = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trial",
        default="best",
        help="a trial number, or best (default: the race's winner, a searched trial or a baseline; before a race, "
        "the complete trial with the highest objective)",
    )
    parser.add_argument("--out", default="policy.json", help="the file to write (default: policy.json)")
    add_study_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # Both import Optuna: not for --help.
    from search.policy_files import export
    from search.storage import load_existing_study

    study = load_existing_study(args.runs_dir, args.storage, args.study)
    chosen, path = export(study, args.out, args.trial)
    kind = "the baseline " if chosen.is_baseline else ""
    print(f"{kind}{chosen.label} of study {study.study_name!r}: {chosen.policy!r}", file=sys.stderr)
    print(path)
    return 0
