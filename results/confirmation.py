"""The confirmed winner as the search study stores it: the race's outcome in a JSON-able record
(the study's `augsearch_confirmation` user attribute), read back by `search export`, `search
trials`, `search evaluate --top-k` and the dashboard note.

A record is written only when a race has finished over the study's current trials; a search
that explores further clears it first, so a stored record is never about other candidates than
the study's best.
"""

from __future__ import annotations

from typing import Any

import optuna

from results.racing import Race, Standing
from results.statistics import Interval

#: The search study's user attribute that holds the record (None: no confirmed winner).
CONFIRMATION_ATTR = "augsearch_confirmation"


def to_record(race: Race, *, confirmation_study: str, exploration_trials: int) -> dict[str, Any]:
    """The finished `race` as a JSON-able dict: the seeds, every candidate's standing (winner
    first) and the winner's paired difference to the runner-up."""
    winner = race.winner
    return {
        "winner": winner.candidate if winner is not None else None,
        "runner_up": race.runner_up.candidate if race.runner_up is not None else None,
        "seeds": list(race.seeds),
        "standings": [_standing(race, standing) for standing in race.standings],
        "difference": _interval(race.difference),
        "confirmation_study": confirmation_study,
        "exploration_trials": exploration_trials,
    }


def read_record(study: optuna.Study) -> dict[str, Any] | None:
    """The study's confirmation record with a winner, or None (no confirmation yet, or cleared)."""
    record = study.user_attrs.get(CONFIRMATION_ATTR)
    return record if isinstance(record, dict) and record.get("winner") is not None else None


def winner_standing(record: dict[str, Any]) -> dict[str, Any]:
    """The winner's standing in `record` (its mean, low, high, n and scores)."""
    return next(row for row in record["standings"] if row["trial"] == record["winner"])


def summary_line(record: dict[str, Any]) -> str:
    """'confirmed winner: trial 12, 0.8412 [0.8350, 0.8474] over 5 seeds; +0.61 points [...] over trial 7'."""
    winner = winner_standing(record)
    line = (
        f"confirmed winner: trial {record['winner']}, validation accuracy {winner['mean']:.4f} "
        f"[{winner['low']:.4f}, {winner['high']:.4f}] over {winner['n']} seeds"
    )
    difference = record.get("difference")
    if record.get("runner_up") is not None and difference is not None:
        line += (
            f"; {difference['mean'] * 100:+.2f} points [{difference['low'] * 100:+.2f}, {difference['high'] * 100:+.2f}] "
            f"over the runner-up, trial {record['runner_up']} (paired, {difference['n']} seeds)"
        )
    return line


def markdown(record: dict[str, Any]) -> str:
    """The race as a Markdown table, winner first (the confirmation study's dashboard note)."""
    lines = [
        "# Confirmation", "",
        summary_line(record) + ".", "",
        f"The best trials of the search trained again on {len(record['seeds'])} paired seeds "
        f"({', '.join(map(str, record['seeds']))}); validation accuracy, 95 % intervals.", "",
        "| trial | mean | 95 % interval | seeds | outcome |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in record["standings"]:
        outcome = "winner" if row["trial"] == record["winner"] else (f"dropped: {row['reason']}" if row["reason"] else "survived")
        mean = f"{row['mean']:.4f}" if row["n"] else "-"
        interval = f"[{row['low']:.4f}, {row['high']:.4f}]" if row["n"] > 1 else "-"
        lines.append(f"| {row['trial']} | {mean} | {interval} | {row['n']} | {outcome} |")
    return "\n".join(lines) + "\n"


def _standing(race: Race, standing: Standing) -> dict[str, Any]:
    row = {
        "trial": standing.candidate,
        "scores": [[seed, score] for seed, score in standing.scores.items()],
        "dropped_after": standing.dropped_after,
        "reason": standing.reason,
        "n": len(standing.scores),
    }
    interval = race.interval(standing) if standing.scores else None
    row.update({"mean": None, "low": None, "high": None} if interval is None else
               {"mean": interval.mean, "low": interval.low, "high": interval.high})
    return row


def _interval(interval: Interval | None) -> dict[str, Any] | None:
    if interval is None:
        return None
    return {"mean": interval.mean, "low": interval.low, "high": interval.high, "n": interval.n}
