"""The race's record: its contestants, seeds, scores, intervals and winner, as one typed
`RaceRecord` with one writer (`to_record` + `write_record`) and one reader (`read_record`).

Stored in the search study (`results.stored.RACE_RECORD_ATTR`), versioned (`RECORD_VERSION`);
version 1 (before baselines raced) named trials only and is still read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from results.racing import Race
from results.statistics import Interval, paired_difference
from results.stored import RACE_RECORD_ATTR
from space import Budget, Policy
from space.policy_ref import PolicyRef, trial_label

RECORD_VERSION = 2


@dataclass(frozen=True)
class Result:
    """One contestant's outcome: its scores by seed, its mean and interval, when and why it left
    the race, and its paired difference to the winner (None for the winner, or with < 2 shared seeds)."""

    contestant: PolicyRef
    scores: dict[int, float]
    interval: Interval | None
    dropped_after: int | None = None
    reason: str = ""
    versus_winner: Interval | None = None

    @property
    def label(self) -> str:
        return self.contestant.label


@dataclass(frozen=True)
class RaceRecord:
    """A finished race: results winner first, the seeds, the budget it trained at."""

    results: tuple[Result, ...]
    seeds: tuple[int, ...]
    winner: str | None
    runner_up: str | None
    difference: Interval | None  # winner minus runner-up, paired
    budget: Budget | None  # None in version-1 records
    race_study: str
    exploration_trials: int

    def result(self, label: str) -> Result:
        return next(result for result in self.results if result.label == label)

    @property
    def winning(self) -> Result | None:
        return None if self.winner is None else self.result(self.winner)

    @property
    def best_searched(self) -> Result | None:
        """The best-placed contestant that is not a baseline (None: only baselines raced)."""
        return next((result for result in self.results if not result.contestant.is_baseline), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RECORD_VERSION,
            "winner": self.winner,
            "runner_up": self.runner_up,
            "seeds": list(self.seeds),
            "results": [_result_json(result) for result in self.results],
            "difference": interval_json(self.difference),
            "budget": None if self.budget is None else self.budget.to_dict(),
            "confirmation_study": self.race_study,  # the stored name
            "exploration_trials": self.exploration_trials,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RaceRecord:
        return cls(
            results=tuple(_result_from_json(row) for row in data["results"]),
            seeds=tuple(data["seeds"]),
            winner=data["winner"],
            runner_up=data["runner_up"],
            difference=_interval_from_json(data["difference"]),
            budget=None if data.get("budget") is None else Budget.from_dict(data["budget"]),
            race_study=data["confirmation_study"],
            exploration_trials=data["exploration_trials"],
        )


def to_record(
    race: Race,
    contestants: list[PolicyRef],
    *,
    budget: Budget,
    race_study: str,
    exploration_trials: int,
) -> RaceRecord:
    """The finished `race` over `contestants` (the race's candidates are their labels) as a record."""
    by_label = {contestant.label: contestant for contestant in contestants}
    winner = race.winner
    results = tuple(
        Result(
            by_label[standing.label],
            dict(standing.scores),
            race.interval(standing) if standing.scores else None,
            standing.dropped_after,
            standing.reason,
            None if winner is None or standing is winner else _versus(standing.scores, winner.scores),
        )
        for standing in race.standings
    )
    return RaceRecord(
        results,
        tuple(race.seeds),
        winner.label if winner is not None else None,
        race.runner_up.label if race.runner_up is not None else None,
        race.difference,
        budget,
        race_study,
        exploration_trials,
    )


def write_record(study: optuna.Study, record: RaceRecord | None) -> None:
    """Store `record` in the search study (None clears it)."""
    if record is None and study.user_attrs.get(RACE_RECORD_ATTR) is None:
        return
    study.set_user_attr(RACE_RECORD_ATTR, None if record is None else record.to_json())


def read_record(study: optuna.Study) -> RaceRecord | None:
    """The study's race record with a winner, or None (no race yet, cleared, or every training failed)."""
    data = study.user_attrs.get(RACE_RECORD_ATTR)
    if not isinstance(data, dict) or data.get("winner") is None:
        return None
    if data.get("version") == RECORD_VERSION:
        return RaceRecord.from_json(data)
    return _from_version_1(data, study)


def summary_line(record: RaceRecord) -> str:
    """'race winner: trial 12, validation accuracy 0.8412 [...] over 5 seeds; +0.61 points [...] over
    trivialaugment (paired, 5 seeds)', and when a baseline wins, the best searched policy's gap."""
    winner = record.winning
    if winner is None or winner.interval is None:
        return "race: no winner (every training failed)"
    kind = "baseline " if winner.contestant.is_baseline else ""
    line = (
        f"race winner: {kind}{winner.label}, validation accuracy {_mean_text(winner.interval)} "
        f"over {winner.interval.n} seeds"
    )
    if record.runner_up is not None and record.difference is not None:
        line += (
            f"; {_points(record.difference)} over the runner-up, {record.runner_up} "
            f"(paired, {record.difference.n} seeds)"
        )
    searched = record.best_searched
    if winner.contestant.is_baseline:
        if searched is None:
            line += "; no searched policy raced"
        elif searched.versus_winner is not None:
            line += (
                f". No searched policy beat it: the best, {searched.label}, is {_points(searched.versus_winner)} "
                f"(paired, {searched.versus_winner.n} seeds), so `search export` exports {winner.label}"
            )
        else:
            line += f". No searched policy beat it (the best, {searched.label}, has too few shared seeds to compare)"
    return line


def markdown(record: RaceRecord) -> str:
    """The race as a Markdown table, winner first (the race study's dashboard note)."""
    budget = record.budget
    trained = f"{budget.epochs} epochs x {budget.train_examples} images" if budget else "the search's budget"
    lines = [
        "# The race",
        "",
        summary_line(record) + ".",
        "",
        f"The best searched policies and the baselines trained at {trained} on {len(record.seeds)} paired seeds "
        f"({', '.join(map(str, record.seeds))}); validation accuracy, 95 % intervals.",
        "",
        "| contestant | mean | 95 % interval | vs winner (points) | seeds | outcome |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in record.results:
        if result.label == record.winner:
            outcome = "winner"
        else:
            outcome = f"dropped: {result.reason}" if result.reason else "survived"
        interval = result.interval
        mean = f"{interval.mean:.4f}" if interval else "-"
        bounds = f"[{interval.low:.4f}, {interval.high:.4f}]" if interval and interval.n > 1 else "-"
        versus = _points(result.versus_winner) if result.versus_winner else "-"
        name = f"{result.label} (baseline)" if result.contestant.is_baseline else result.label
        lines.append(f"| {name} | {mean} | {bounds} | {versus} | {len(result.scores)} | {outcome} |")
    return "\n".join(lines) + "\n"


def _versus(scores: dict[int, float], winner: dict[int, float]) -> Interval | None:
    shared = [seed for seed in scores if seed in winner]
    if len(shared) < 2:
        return None
    return paired_difference([scores[s] for s in shared], [winner[s] for s in shared])


def _points(interval: Interval) -> str:
    return f"{interval.mean * 100:+.2f} points [{interval.low * 100:+.2f}, {interval.high * 100:+.2f}]"


def _mean_text(interval: Interval) -> str:
    return f"{interval.mean:.4f} [{interval.low:.4f}, {interval.high:.4f}]"


def _result_json(result: Result) -> dict[str, Any]:
    contestant = result.contestant
    return {
        "label": contestant.label,
        "policy": contestant.policy.to_dict(),
        "trial": contestant.trial,
        "baseline": contestant.label if contestant.is_baseline else None,
        "scores": [[seed, score] for seed, score in result.scores.items()],
        "interval": interval_json(result.interval),
        "dropped_after": result.dropped_after,
        "reason": result.reason,
        "versus_winner": interval_json(result.versus_winner),
    }


def _result_from_json(row: dict[str, Any]) -> Result:
    policy = Policy.from_dict(row["policy"])
    if row["baseline"] is not None:
        contestant = PolicyRef(row["baseline"], policy, "baseline")
    else:
        contestant = PolicyRef(row["label"], policy, "trial", row["trial"])
    return Result(
        contestant,
        {int(seed): float(score) for seed, score in row["scores"]},
        _interval_from_json(row["interval"]),
        row["dropped_after"],
        row["reason"],
        _interval_from_json(row["versus_winner"]),
    )


def interval_json(interval: Interval | None) -> dict[str, Any] | None:
    """An interval as JSON (None stays None)."""
    if interval is None:
        return None
    return {"mean": interval.mean, "low": interval.low, "high": interval.high, "n": interval.n}


def _interval_from_json(data: dict[str, Any] | None) -> Interval | None:
    return None if data is None else Interval(data["mean"], data["low"], data["high"], data["n"])


def _from_version_1(data: dict[str, Any], study: optuna.Study) -> RaceRecord | None:
    """A record written before baselines raced: standings by trial number, the policies in the trials."""
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    scores_of = {row["trial"]: {int(seed): float(score) for seed, score in row["scores"]} for row in data["standings"]}
    winner_scores = scores_of.get(data["winner"])
    built = []
    for row in data["standings"]:
        number = row["trial"]
        policy = trials[number].user_attrs.get("policy") if number in trials else None
        if policy is None:
            return None  # a record about trials this study no longer has: no usable winner
        scores = scores_of[number]
        interval = Interval(row["mean"], row["low"], row["high"], row["n"]) if row["n"] else None
        versus = None if number == data["winner"] or winner_scores is None else _versus(scores, winner_scores)
        contestant = PolicyRef.of_trial(number, Policy.from_dict(policy))
        built.append(Result(contestant, scores, interval, row["dropped_after"], row["reason"], versus))
    runner_up = data.get("runner_up")
    return RaceRecord(
        tuple(built),
        tuple(data["seeds"]),
        trial_label(data["winner"]),
        None if runner_up is None else trial_label(runner_up),
        _interval_from_json(data.get("difference")),
        None,
        data["confirmation_study"],
        data["exploration_trials"],
    )
