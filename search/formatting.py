"""Formatting for the terminal, shared by the commands (imports nothing heavy)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imports Optuna, which `search --help` must not
    from results.trials import TrialRow


def printer(verbose: bool) -> Callable[[str], None]:
    """A `say(line)` that prints progress lines on stderr, or nothing when not `verbose`."""

    def say(line: str) -> None:
        if verbose:
            print(line, file=sys.stderr, flush=True)

    return say


def format_seconds(seconds: float | None) -> str:
    """'4m05s', '2h13m', or '-' when unknown."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def format_value(value: object, digits: int = 4) -> str:
    """A float with `digits` decimals, other values as str, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def trial_table(rows: Iterable[TrialRow]) -> list[str]:
    """The lines of a table of `results.trials.TrialRow`s: a header, then one line per trial.

    A PRUNED trial's objective is its last epoch's, in parentheses: it never ran the full budget.
    """
    lines = [f"{'trial':>5}  {'state':<8}  {'val_acc':>8}  {'epochs':>6}  {'time':>6}  policy"]
    for row in rows:
        if row.value is not None:
            value = f"{row.value:.4f}"
        else:
            value = f"({row.curve[-1]:.4f})" if row.curve else "-"
        policy = f"{row.policy:.3g}" if row.policy is not None else "-"
        note = f"  [{row.baseline}]" if row.baseline else ""
        if row.error:
            note += f"  error: {row.error.strip().splitlines()[-1][:100]}"
        lines.append(
            f"{row.number:>5}  {row.state.lower():<8}  {value:>8}  {row.epochs or '-':>6}  "
            f"{format_seconds(row.wall_seconds):>6}  {policy}{note}"
        )
    return lines
