"""The race's record: one typed RaceRecord stored as a study attribute and read back by "best",
the export's provenance and the summary line; a record of the earlier format still reads; a
cleared record falls back to the highest objective."""

import json

import optuna
import pytest
from optuna.trial import create_trial

from results.race_record import (
    RACE_RECORD_ATTR,
    RaceRecord,
    markdown,
    read_record,
    summary_line,
    to_record,
    write_record,
)
from results.racing import race
from results.trial_policies import best, choose, provenance
from space import BASELINES, PRESETS, Policy
from space.policy_ref import PolicyRef

SEARCHED = Policy(magnitude=0.2, rate=0.5)
SCORES = {
    "trial 1": {11: 0.850, 12: 0.820, 13: 0.870},
    "trial 0": {11: 0.845, 12: 0.818, 13: 0.866},
    "none": {11: 0.700, 12: 0.690, 13: 0.710},
}
#: A record as the code before baselines raced wrote it (version 1: standings by trial number).
VERSION_1 = {
    "winner": 1,
    "runner_up": 0,
    "seeds": [11, 12, 13],
    "standings": [
        {
            "trial": 1,
            "scores": [[11, 0.85], [12, 0.82], [13, 0.87]],
            "dropped_after": None,
            "reason": "",
            "n": 3,
            "mean": 0.8467,
            "low": 0.78,
            "high": 0.91,
        },
        {
            "trial": 0,
            "scores": [[11, 0.845], [12, 0.818], [13, 0.866]],
            "dropped_after": None,
            "reason": "",
            "n": 3,
            "mean": 0.843,
            "low": 0.78,
            "high": 0.90,
        },
    ],
    "difference": {"mean": 0.0037, "low": 0.0, "high": 0.007, "n": 3},
    "confirmation_study": "s.confirmation",
    "exploration_trials": 3,
}


@pytest.fixture
def study():
    """Three complete trials; trial 0 has the highest exploration objective."""
    study = optuna.create_study(direction="maximize")
    for value in (0.90, 0.88, 0.86):
        study.add_trial(create_trial(value=value, user_attrs={"policy": SEARCHED.replace(magnitude=value).to_dict()}))
    return study


def contestants(study):
    trials = {t.number: Policy.from_dict(t.user_attrs["policy"]) for t in study.trials}
    return [
        PolicyRef.of_trial(0, trials[0]),
        PolicyRef.of_trial(1, trials[1]),
        PolicyRef.of_baseline("none"),
    ]


def record_of(study, scores=SCORES):
    finished = race(list(scores), [11, 12, 13], scores)
    return to_record(
        finished,
        contestants(study),
        budget=PRESETS["full"],
        race_study="s.confirmation",
        exploration_trials=3,
    )


def test_the_record_round_trips_as_json_and_names_winner_runner_up_and_their_paired_gap(study):
    record = record_of(study)
    assert RaceRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    assert (record.winner, record.runner_up, record.seeds) == ("trial 1", "trial 0", (11, 12, 13))
    assert [r.label for r in record.results] == ["trial 1", "trial 0", "none"]
    dropped = record.result("none")
    assert dropped.dropped_after == 2 and "to trial 1 after 2 seeds" in dropped.reason
    assert dropped.contestant.is_baseline and dropped.versus_winner.high < 0
    assert record.difference.n == 3 and record.difference.mean == pytest.approx((0.005 + 0.002 + 0.004) / 3)
    line = summary_line(record)
    assert line.startswith("race winner: trial 1, validation accuracy 0.8467 [")
    assert "over the runner-up, trial 0 (paired, 3 seeds)" in line and "+0.37 points" in line
    table = markdown(record)
    assert "| trial 1 | 0.8467 |" in table and "| winner |" in table and "| none (baseline) |" in table
    assert "60 epochs x 6144 images" in table


def test_best_is_the_race_winner_and_the_export_says_so_in_its_provenance(study):
    assert best(study).label == "trial 0"  # no race: the highest objective
    write_record(study, record_of(study))
    assert read_record(study).winner == "trial 1"
    chosen = best(study)
    assert chosen.trial == 1 and chosen.policy == SEARCHED.replace(magnitude=0.88)
    record = provenance(study, chosen)
    assert record["trial"] == 1 and record["confirmation"]["seeds"] == [11, 12, 13]
    assert record["confirmation"]["mean"] == pytest.approx((0.850 + 0.820 + 0.870) / 3)
    assert record["confirmation"]["budget"] == PRESETS["full"].to_dict()
    assert "confirmation" in provenance(study, choose(study, 1)), "trial 1 chosen by number is still the winner"
    assert "confirmation" not in provenance(study, choose(study, 0))
    write_record(study, None)  # a search exploring further clears it
    assert read_record(study) is None and best(study).label == "trial 0"


def test_a_baseline_that_wins_is_the_best_and_the_summary_says_so_with_the_best_searched_gap(study):
    scores = {**SCORES, "none": {11: 0.90, 12: 0.88, 13: 0.91}}
    write_record(study, record_of(study, scores))
    chosen = best(study)
    assert (chosen.label, chosen.origin, chosen.trial) == ("none", "baseline", None)
    assert chosen.policy == BASELINES["none"]
    line = summary_line(read_record(study))
    assert line.startswith("race winner: baseline none, validation accuracy")
    assert "No searched policy beat it: the best, trial 1, is -" in line and "so `search export` exports none" in line
    record = provenance(study, chosen)
    assert record["trial"] is None and record["baseline"] == "none" and record["objective"] is None


def test_a_record_of_the_earlier_format_is_still_read_with_policies_from_its_trials(study):
    study.set_user_attr(RACE_RECORD_ATTR, VERSION_1)
    record = read_record(study)
    assert (record.winner, record.runner_up, record.budget) == ("trial 1", "trial 0", None)
    assert record.winning.contestant.policy == SEARCHED.replace(magnitude=0.88)
    assert record.result("trial 0").versus_winner.n == 3
    assert best(study).trial == 1


def test_a_record_whose_trials_are_gone_or_without_a_winner_reads_as_none(study):
    study.set_user_attr(RACE_RECORD_ATTR, {**VERSION_1, "standings": [{**VERSION_1["standings"][0], "trial": 99}]})
    assert read_record(study) is None
    study.set_user_attr(RACE_RECORD_ATTR, {**VERSION_1, "winner": None})
    assert read_record(study) is None
