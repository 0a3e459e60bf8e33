"""The confirmed winner's record: stored as a study attribute, read back by export's "best", the
provenance and the summary line; a cleared record falls back to the highest objective."""

import json

import optuna
import pytest
from optuna.trial import create_trial

from results.confirmation import CONFIRMATION_ATTR, markdown, read_record, summary_line, to_record
from results.racing import race
from results.trial_policies import pick_trial, trial_provenance
from space import BASELINES

SCORES = {
    1: {11: 0.850, 12: 0.820, 13: 0.870},
    0: {11: 0.845, 12: 0.818, 13: 0.866},
    2: {11: 0.700, 12: 0.690, 13: 0.710},
}


@pytest.fixture
def study():
    """Three complete trials; trial 0 has the highest exploration objective."""
    study = optuna.create_study(direction="maximize")
    for value in (0.90, 0.88, 0.86):
        study.add_trial(create_trial(value=value, user_attrs={"policy": BASELINES["none"].to_dict()}))
    return study


def finished_race():
    return race([0, 1, 2], [11, 12, 13], SCORES)


def test_the_record_is_json_and_names_winner_runner_up_and_their_paired_gap():
    record = to_record(finished_race(), confirmation_study="s.confirmation", exploration_trials=3)
    assert json.loads(json.dumps(record)) == record
    assert (record["winner"], record["runner_up"], record["seeds"]) == (1, 0, [11, 12, 13])
    assert [row["trial"] for row in record["standings"]] == [1, 0, 2]
    assert record["standings"][2]["dropped_after"] == 2 and "to trial 1 after 2 seeds" in record["standings"][2]["reason"]
    assert record["difference"]["n"] == 3 and record["difference"]["mean"] == pytest.approx((0.005 + 0.002 + 0.004) / 3)
    line = summary_line(record)
    assert line.startswith("confirmed winner: trial 1, validation accuracy 0.8467 [")
    assert "over the runner-up, trial 0 (paired, 3 seeds)" in line and "+0.37 points" in line
    table = markdown(record)
    assert "| 1 | 0.8467 |" in table and "| winner |" in table and "dropped: " in table


def test_export_best_is_the_confirmed_winner_and_says_so_in_its_provenance(study):
    assert pick_trial(study, "best").number == 0  # no confirmation: the highest objective
    study.set_user_attr(CONFIRMATION_ATTR, to_record(finished_race(), confirmation_study="c", exploration_trials=3))
    assert read_record(study)["winner"] == 1
    best = pick_trial(study, "best")
    assert best.number == 1
    provenance = trial_provenance(study, best)
    assert provenance["trial"] == 1 and provenance["confirmation"]["seeds"] == [11, 12, 13]
    assert provenance["confirmation"]["mean"] == pytest.approx((0.850 + 0.820 + 0.870) / 3)
    assert "confirmation" not in trial_provenance(study, pick_trial(study, 0))
    study.set_user_attr(CONFIRMATION_ATTR, None)  # a search exploring further clears it
    assert read_record(study) is None and pick_trial(study, "best").number == 0
