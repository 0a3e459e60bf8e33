"""`search compare`: trials or policy files side by side, and optionally their sample grids."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from results.samples import stacked, write_png
from search.cli.arguments import add_study_arguments
from search.cli.policy_args import add_sample_arguments, grid_samples, load_study_if_needed
from search.formatting import format_seconds, format_value
from search.grid_images import policy_grid
from space import AugSearchError
from space.ops import ops_text

if TYPE_CHECKING:  # both import Optuna, which `search --help` must not
    import optuna

    from results.compare import Candidate, Line

DISPLAY_NAMES = {"objective": "val_accuracy", "wall_seconds": "wall time"}

HELP = "compare trials or policy files side by side"
DESCRIPTION = (
    "Each policy field, the objective per epoch and the time, side by side; fields that "
    "differ are marked with *. With --out, their sample grids one under the other as one PNG."
)
NEEDS_TENSORFLOW = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "policies", nargs="+", metavar="TRIAL|best|policy.json", help="trial numbers, best, or exported policy files"
    )
    parser.add_argument("--out", help="also write the policies' sample grids, one under the other, to this PNG")
    add_sample_arguments(parser, images=8)
    add_study_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from results.compare import candidates as resolve
    from results.compare import comparison

    if len(args.policies) < 2:
        raise AugSearchError(
            f"compare needs at least two policies (trial numbers, best or files), but got {args.policies}."
        )
    study = load_study_if_needed(args, args.policies)
    candidates = resolve(study, args.policies)
    print("\n".join(_table([candidate.label for candidate in candidates], comparison(candidates))))
    if args.out:
        _write_grids(args, study, candidates)
    return 0


def _table(labels: list[str], lines: list[Line]) -> list[str]:
    def cell(name: str, value: Any) -> str:
        if name == "ops":
            return ops_text(value)
        if name == "wall_seconds":
            return format_seconds(value)
        if name == "state" and value is not None:
            return value.lower()
        return format_value(value, digits=4 if name == "objective" or name.startswith("epoch ") else 2)

    rows = [["", *labels]] + [
        [
            ("* " if line.differs else "  ") + DISPLAY_NAMES.get(line.name, line.name),
            *(cell(line.name, value) for value in line.values),
        ]
        for line in lines
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    table = ["  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return table + ["(* the policies differ in this field)"]


def _write_grids(args: argparse.Namespace, study: optuna.Study | None, candidates: list[Candidate]) -> None:
    samples = grid_samples(args, study)
    grids = [policy_grid(samples, candidate.policy, args.seed) for candidate in candidates]
    captions = [f"{candidate.label}: {candidate.policy:.3g}" for candidate in candidates]
    path = write_png(stacked(grids, captions), args.out)
    print(f"sample grids, one policy under the other: {path}", file=sys.stderr)
