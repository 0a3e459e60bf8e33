"""The race's rule: contestants trained on the same seeds in rounds, the clearly worse dropped
after each round, the winner the best paired mean.

`race` is a pure function of the contestants, the seeds and the scores stored so far, so a race
interrupted at any point resumes by calling it again. Why a paired t interval and not a
signed-rank test: docs/design.md ("Statistics decide").
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from results.statistics import Interval, mean_interval, paired_difference
from space import AugSearchError


@dataclass(frozen=True)
class Standing:
    """One contestant's place in the race: its scores by seed, and when and why it left."""

    label: str
    scores: dict[int, float]
    dropped_after: int | None = None  # seeds seen when dropped; None: it survived
    reason: str = ""

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores.values()) if self.scores else float("nan")


@dataclass(frozen=True)
class Race:
    """Where a race stands. `pending` are the (contestant, seed) trainings to run next (the current
    round); when it is empty the race is over and `standings` ranks every contestant, the winner
    first (survivors by mean, then the dropped, latest first)."""

    pending: list[tuple[str, int]]
    standings: list[Standing]
    seeds: list[int]
    difference: Interval | None = None  # winner minus runner-up, over the seeds they share
    rounds_done: int = 0
    dropped: list[Standing] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return not self.pending

    @property
    def winner(self) -> Standing | None:
        """The survivor with the best mean (None while running, or when every contestant failed)."""
        if self.finished and self.standings and self.standings[0].dropped_after is None:
            return self.standings[0]
        return None

    @property
    def runner_up(self) -> Standing | None:
        return self.standings[1] if self.winner is not None and len(self.standings) > 1 else None

    def interval(self, standing: Standing) -> Interval:
        """Mean and 95 % interval of one contestant's race scores."""
        return mean_interval([standing.scores[seed] for seed in self.seeds if seed in standing.scores])


def race(
    contestants: Sequence[str],
    seeds: Sequence[int],
    scores: Mapping[str, Mapping[int, float]],
    failed: Mapping[str, str] | None = None,
) -> Race:
    """Replay the race over what is stored: `scores[contestant][seed]` for the trainings done,
    `failed[contestant]` the error of a contestant whose training failed in this run (it leaves the
    race). Candidates are labels ("trial 12", "trivialaugment"), in the order that breaks ties.
    Raises AugSearchError for an empty or repeated list of contestants or seeds."""
    if not contestants or len(set(contestants)) != len(contestants):
        raise AugSearchError(f"a race needs distinct contestants, but got contestants={list(contestants)}.")
    if not seeds or len(set(seeds)) != len(seeds):
        raise AugSearchError(f"a race needs distinct seeds, but got seeds={list(seeds)}.")
    failed = failed or {}
    seeds = list(seeds)
    alive = [c for c in contestants if c not in failed]
    left = [Standing(c, _scores(scores, c, seeds), 0, f"failed: {failed[c]}") for c in contestants if c in failed]
    for done, seed in enumerate(seeds, start=1):
        missing = [c for c in alive if seed not in scores.get(c, {})]
        if missing:
            standings = [Standing(c, _scores(scores, c, seeds[: done - 1])) for c in alive]
            return Race([(c, seed) for c in missing], standings, seeds, rounds_done=done - 1, dropped=left)
        if done < 2 or len(alive) < 2:
            continue
        so_far = seeds[:done]
        leader = max(alive, key=lambda c: (_mean(scores, c, so_far), -contestants.index(c)))
        for c in list(alive):
            if c == leader:
                continue
            gap = paired_difference([scores[c][s] for s in so_far], [scores[leader][s] for s in so_far])
            if gap.high < 0:
                alive.remove(c)
                left.append(
                    Standing(
                        c,
                        _scores(scores, c, so_far),
                        done,
                        f"{gap.mean * 100:+.2f} points [{gap.low * 100:+.2f}, {gap.high * 100:+.2f}] to {leader} "
                        f"after {done} seeds",
                    )
                )
    survivors = sorted(
        (Standing(c, _scores(scores, c, seeds)) for c in alive),
        key=lambda s: (-s.mean, contestants.index(s.label)),
    )
    later_first = sorted(left, key=lambda s: (-(s.dropped_after or 0), -s.mean if s.scores else 0.0))
    standings = survivors + later_first
    return Race([], standings, seeds, _difference(standings), rounds_done=len(seeds), dropped=left)


def _scores(scores: Mapping[str, Mapping[int, float]], contestant: str, seeds: Sequence[int]) -> dict[int, float]:
    return {seed: scores[contestant][seed] for seed in seeds if seed in scores.get(contestant, {})}


def _mean(scores: Mapping[str, Mapping[int, float]], contestant: str, seeds: Sequence[int]) -> float:
    return statistics.fmean(scores[contestant][seed] for seed in seeds)


def _difference(standings: list[Standing]) -> Interval | None:
    """The winner minus the runner-up over the seeds both have (None: no runner-up with 2 of them)."""
    if len(standings) < 2 or standings[0].dropped_after is not None:
        return None
    winner, runner_up = standings[0], standings[1]
    shared = [seed for seed in winner.scores if seed in runner_up.scores]
    if len(shared) < 2:
        return None
    return paired_difference([winner.scores[s] for s in shared], [runner_up.scores[s] for s in shared])
