"""The confirmation race on known numbers: rounds of seeds, the clearly worse dropped, a tie kept,
the winner the best paired mean, and the same race replayed from partial scores."""

import pytest

from results.racing import race
from space import AugSearchError

SEEDS = [11, 12, 13, 14]
# Trial 3 is two points worse than trial 1 on every seed; trial 2 ties trial 1 within noise.
SCORES = {
    1: {11: 0.850, 12: 0.820, 13: 0.870, 14: 0.840},
    2: {11: 0.852, 12: 0.815, 13: 0.872, 14: 0.838},
    3: {11: 0.830, 12: 0.801, 13: 0.849, 14: 0.821},
}


def upto(n):
    """The scores of the first n seeds only, as a race interrupted after n rounds stored them."""
    return {c: {s: v for s, v in by_seed.items() if s in SEEDS[:n]} for c, by_seed in SCORES.items()}


def test_first_round_asks_every_contestant_for_the_first_seed():
    state = race([1, 2, 3], SEEDS, {})
    assert not state.finished and state.pending == [(1, 11), (2, 11), (3, 11)]
    assert state.winner is None and state.rounds_done == 0


def test_a_clearly_worse_policy_is_dropped_and_trains_no_more_seeds():
    state = race([1, 2, 3], SEEDS, upto(2))  # after 2 seeds: -2.0 and -1.9 points, a tight gap
    assert state.pending == [(1, 13), (2, 13)]
    assert [(s.label, s.dropped_after) for s in state.dropped] == [(3, 2)]
    assert "to 1 after 2 seeds" in state.dropped[0].reason


def test_a_tie_is_not_dropped_and_the_winner_is_the_best_paired_mean():
    state = race([1, 2, 3], SEEDS, SCORES)
    assert state.finished
    assert [s.label for s in state.standings] == [1, 2, 3]  # survivors by mean, then the dropped
    assert state.winner.label == 1 and state.runner_up.label == 2
    assert state.winner.dropped_after is None and state.runner_up.dropped_after is None
    # Winner minus runner-up: +0.075 points over 4 seeds, an interval that straddles zero.
    assert state.difference.mean == pytest.approx(0.00075) and state.difference.n == 4
    assert state.difference.low < 0 < state.difference.high
    assert state.interval(state.winner).mean == pytest.approx(0.845)


def test_replaying_stored_scores_resumes_where_the_race_stopped():
    partial = upto(3)
    del partial[2][13]  # interrupted in round 3: trial 1 has seed 13, trial 2 not yet
    state = race([1, 2, 3], SEEDS, partial)
    assert state.pending == [(2, 13)] and state.rounds_done == 2


def test_ties_in_the_mean_go_to_the_better_explored_contestant():
    same = {1: {11: 0.5, 12: 0.6}, 2: {11: 0.6, 12: 0.5}}
    assert race([2, 1], [11, 12], same).winner.label == 2
    assert race([1, 2], [11, 12], same).winner.label == 1


def test_a_failed_contestant_leaves_the_race_and_a_single_one_still_gets_its_interval():
    state = race([1, 2], SEEDS, {1: SCORES[1]}, failed={2: "OOM"})
    assert state.finished and state.winner.label == 1
    assert state.runner_up.label == 2 and state.runner_up.reason == "failed: OOM"
    assert state.difference is None  # nothing shared to pair with
    alone = race([7], [11, 12], {7: {11: 0.8, 12: 0.9}})
    assert alone.winner.label == 7 and alone.runner_up is None
    assert alone.interval(alone.winner).n == 2
    assert race([1], SEEDS, {}, failed={1: "boom"}).winner is None


@pytest.mark.parametrize(
    "contestants, seeds, match",
    [
        ([], [1], "distinct contestants"),
        ([1, 1], [1], "distinct contestants"),
        ([1], [], "distinct seeds"),
        ([1], [2, 2], "distinct seeds"),
    ],
    ids=["no-contestants", "repeated-contestant", "no-seeds", "repeated-seed"],
)
def test_bad_races_are_refused(contestants, seeds, match):
    with pytest.raises(AugSearchError, match=match):
        race(contestants, seeds, {})
