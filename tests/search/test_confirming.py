"""The confirmation stage of `run_search` end to end: real Ray, real trainings of the tiny model
at a tiny budget, a real SQLite study. Its trainings are stored in the confirmation study, the
winner in the search study, and `export` writes the winner; running the same search again
trains nothing, and exploring further clears the winner until a new race confirms one."""

import json

import pytest

from optuna.trial import TrialState

from search import Resources, SearchSettings, run_search
from search.confirming import candidates, confirmation_seeds
from search.storage import load_existing_study
from search.tune.trainable import trial_seed

MODEL = "tests_pkg.nets:build"


def settings(runs_dir, trials, **fields):
    fields = {"confirm_top": 2, "confirm_seeds": 2, **fields}
    return SearchSettings(
        trials=trials, budget="smoke", budget_overrides={"epochs": 1, "train_examples": 64, "score_examples": 256}, model=MODEL,
        baselines=False, runs_dir=runs_dir, resources=Resources(concurrency=2), **fields,
    )


def confirmation_trials(runs):
    return load_existing_study(runs, None, "fashion_mnist.confirmation").get_trials(deepcopy=False)


def test_the_best_trials_race_on_paired_seeds_and_the_winner_is_exported(tmp_path, capsys):
    runs = tmp_path / "runs"
    result = run_search(settings(runs, 3))
    err = capsys.readouterr().err
    record = result.confirmation
    assert record is not None and not result.interrupted
    chosen = [t.number for t in candidates(result.study, 2)]
    assert [row["trial"] for row in sorted(record["standings"], key=lambda row: chosen.index(row["trial"]))] == chosen
    assert record["seeds"] == confirmation_seeds(0, 2)
    assert not set(record["seeds"]) & {trial_seed(0, n) for n in range(3)}, "fresh seeds, not exploration's"
    assert "confirmation: trials " in err and "confirmed winner: trial" in err

    trainings = confirmation_trials(runs)
    survivors = [row for row in record["standings"] if row["dropped_after"] is None]
    assert len(trainings) == sum(row["n"] for row in record["standings"])
    assert all(row["n"] == 2 for row in survivors)
    assert {t.state for t in trainings} == {TrialState.COMPLETE}
    for training in trainings:
        assert training.user_attrs["seed"] in record["seeds"] and training.user_attrs["labels"][0].startswith("trial ")
        assert 0.0 <= training.value <= 1.0 and training.intermediate_values
        assert "test_accuracy" not in training.user_attrs
    assert result.best_trial.number == record["winner"]
    # The objective is scored on 256 validation images after the last epoch; the curve on 128.
    for trial in result.study.get_trials(states=(TrialState.COMPLETE,)):
        assert trial.value * 256 == pytest.approx(round(trial.value * 256), abs=1e-3)
        assert set(trial.intermediate_values) == {1}

    exported = json.loads(result.export(tmp_path / "policy.json").read_text())
    assert exported["provenance"]["trial"] == record["winner"]
    assert exported["provenance"]["confirmation"]["seeds"] == record["seeds"]
    assert exported["policy"] == result.study.trials[record["winner"]].user_attrs["policy"]

    # The same search again: exploration and confirmation are both done; nothing is retrained.
    again = run_search(settings(runs, 3))
    assert len(confirmation_trials(runs)) == len(trainings) and again.confirmation == record

    # Exploring further clears the winner: until a new race ends, there is none (export falls back).
    explored = run_search(settings(runs, 4, confirm_top=0))
    assert explored.confirmation is None and explored.best_trial.value == max(t.value for t in explored.study.get_trials(states=(TrialState.COMPLETE,)))
