"""`search trials`: the study's trials as a table."""

from __future__ import annotations

import argparse

from search.cli.arguments import add_study_arguments
from search.formatting import trial_table

HELP = "table of the study's trials"
DESCRIPTION = (
    "One line per trial: number, state, objective, epochs, wall time and the policy; above them, the "
    "race's winner (the best paired mean of the best searched policies and the baselines, at the "
    "target budget) when the search has one."
)
#: --sort keys, those of `results.trials.SORT_KEYS`: named here, since results.trials imports
#: Optuna, which `search --help` must not.
SORT_KEYS = ("number", "value", "wall", "epochs")
#: Trial states as --state takes them (Optuna's TrialState names, lower case).
STATES = ("running", "complete", "pruned", "fail", "waiting")
NEEDS_TENSORFLOW = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state", help=f"only trials in these states, comma-separated: {', '.join(STATES)} (default: all)"
    )
    parser.add_argument(
        "--sort",
        default="number",
        help=f"{', '.join(SORT_KEYS)} (default: number; value, wall and epochs sort highest first)",
    )
    parser.add_argument("--limit", type=int, help="show at most N trials (after sorting)")
    add_study_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # These import Optuna: not for --help.
    from results.race_record import read_record, summary_line
    from results.trials import progress, select_rows, trial_rows
    from search.storage import load_existing_study

    study = load_existing_study(args.runs_dir, args.storage, args.study)
    rows = select_rows(trial_rows(study), args.state, args.sort, args.limit)
    p = progress(study)
    record = read_record(study)
    # With a race winner, "best" is the winner: exploration's top is only its highest objective.
    label = "highest objective" if record is not None else "best"
    best = f"; {label}: trial {p.best_number} ({p.best_value:.4f})" if p.best_number is not None else ""
    print(
        f"study {study.study_name!r}: {p.complete} complete, {p.pruned} pruned, {p.failed} failed, "
        f"{p.running} running{best}"
    )
    if record is not None:
        print(f"{summary_line(record)} (its trainings: study {record.race_study!r})")
    if not rows:
        print("No trials" + (f" in state {args.state}." if args.state else " yet."))
        return 0
    print("\n".join(trial_table(rows)))
    return 0
