"""`results.stored`: the stored format, its writers and readers, and a study written by an
earlier version (commit 2dc12ca: the low-data end-to-end run of docs/results.md, exploration,
race and evaluation) read by this one."""

import gzip
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from results.race_record import read_record
from results.stored import (
    EVALUATION_STUDY_ATTR,
    EVALUATION_SUFFIX,
    RACE_STUDY_ATTR,
    RACE_SUFFIX,
    StudySettings,
    TrainingJob,
    open_trainings_study,
    read_scores,
    read_settings,
    training_key,
    write_settings,
    write_training,
)
from results.trial_policies import best
from results.trials import progress
from space import BASELINES, GUIDE_POLICY, PRESETS, Budget, Policy, SearchSpace

BUDGET = PRESETS["smoke"]
AT_20 = PRESETS["smoke"].replace(epochs=20)
FIXTURE = Path(__file__).resolve().parent.parent / "data" / "study_2dc12ca.db.gz"


def test_a_training_is_one_trial_complete_with_its_score_or_failed_with_its_error(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    study = open_trainings_study(url, "s.evaluation", EVALUATION_STUDY_ATTR, {"study": "s", "value": "test accuracy"})
    assert study.user_attrs["augsearch_evaluation"] == {"study": "s", "value": "test accuracy"}
    ok = TrainingJob(training_key(GUIDE_POLICY, 0, BUDGET, "d"), GUIDE_POLICY, 0, ["guide"])
    bad = TrainingJob(training_key(GUIDE_POLICY, 1, BUDGET, "d"), GUIDE_POLICY, 1, ["guide"])
    history = [{"epoch": 1, "val_accuracy": 0.5}]
    outcome = {"test_accuracy": 0.75, "objective": 0.6, "val_accuracy": 0.5, "history": history}
    write_training(study, ok, BUDGET, "d", outcome, "test_accuracy")
    write_training(
        study, bad, BUDGET, "d", {"error": "TrainingDiverged: loss is NaN", "wall_seconds": 1.0}, "test_accuracy"
    )
    first, second = study.get_trials()
    assert (first.state, first.value, first.intermediate_values) == (TrialState.COMPLETE, 0.75, {1: 0.5})
    assert first.user_attrs["labels"] == ["guide"] and "history" not in first.user_attrs
    assert second.state == TrialState.FAIL and second.user_attrs["error"] == "TrainingDiverged: loss is NaN"
    assert read_scores(study) == {ok.key: 0.75}

    # Opened again (a resumed run), it is the same study, its marker as first written.
    again = open_trainings_study(url, "s.evaluation", EVALUATION_STUDY_ATTR, {"study": "other", "value": "?"})
    assert len(again.get_trials()) == 2 and again.user_attrs["augsearch_evaluation"]["study"] == "s"


def test_the_metric_picks_the_value(tmp_path):
    study = open_trainings_study(f"sqlite:///{tmp_path}/search.db", "s.confirmation", RACE_STUDY_ATTR, {"study": "s"})
    job = TrainingJob(training_key(GUIDE_POLICY, 0, BUDGET, "d"), GUIDE_POLICY, 0, ["trial 3"])
    write_training(study, job, BUDGET, "d", {"objective": 0.6, "val_accuracy": 0.5}, "objective")
    assert study.get_trials()[0].value == 0.6


def test_training_key_names_policy_seed_budget_and_dataset():
    key = training_key(Policy(), 0, AT_20, "fashion_mnist")
    assert key == training_key(Policy(), 0, AT_20, "fashion_mnist")
    others = {
        training_key(Policy(magnitude=0.4), 0, AT_20, "fashion_mnist"),
        training_key(Policy(), 1, AT_20, "fashion_mnist"),
        training_key(Policy(), 0, AT_20.replace(epochs=21), "fashion_mnist"),
        training_key(Policy(), 0, AT_20, "tfds:mnist"),
    }
    assert key not in others and len(others) == 4


def test_policies_that_augment_alike_share_a_training():
    none = BASELINES["none"]
    # The same hash as before canonical forms existed (and before budgets were passed as Budgets):
    # stored trainings of `none` are still found.
    assert training_key(none, 0, AT_20, "d") == "47cf507da15daab75ec2"
    assert training_key(none.replace(ops=("brightness",)), 0, AT_20, "d") == training_key(none, 0, AT_20, "d")


def test_read_scores_reads_only_complete_trainings(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/e.db", study_name="s.evaluation", direction="maximize")
    study.add_trial(create_trial(state=TrialState.COMPLETE, value=0.8, user_attrs={"key": "a"}))
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={"key": "b", "error": "boom"}))
    study.add_trial(create_trial(state=TrialState.COMPLETE, value=0.5))  # not a training of ours
    assert read_scores(study) == {"a": 0.8}


def test_study_settings_round_trip_and_a_foreign_study_has_none():
    study = optuna.create_study()
    assert read_settings(study) is None and read_settings(None) is None
    settings = StudySettings("fashion_mnist", {"epochs": 2}, {"ops": ["brightness"]}, seed=3)
    write_settings(study, settings)
    assert read_settings(study) == settings
    assert study.user_attrs["augsearch"] == {
        "dataset": "fashion_mnist",
        "budget": {"epochs": 2},
        "search_space": {"ops": ["brightness"]},
        "seed": 3,
    }


@pytest.fixture
def earlier_study(tmp_path):
    """The earlier version's storage, copied out of its archive (reading it may write to it)."""
    database = tmp_path / "search.db"
    database.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return f"sqlite:///{database}"


def test_a_study_written_by_the_earlier_version_reads(earlier_study):
    study = optuna.load_study(study_name="fashion_mnist", storage=earlier_study)
    settings = read_settings(study)
    assert (settings.dataset, settings.budget["train_examples"], settings.seed) == ("fashion_mnist", 1024, 0)
    # This code's default space without the optional stages is the one that study was searched
    # in: it resumes with `--stages none`.
    assert SearchSpace.from_dict(settings.search_space) == SearchSpace(stages="none")
    assert (progress(study).complete, progress(study).pruned) == (71, 29)

    record = read_record(study)
    assert record.winner == "trivialaugment" and record.winning.contestant.policy == BASELINES["trivialaugment"]
    chosen = best(study)
    assert chosen.label == "trivialaugment" and chosen.is_baseline and chosen.trial is None

    race = optuna.load_study(study_name="fashion_mnist" + RACE_SUFFIX, storage=earlier_study)
    assert RACE_STUDY_ATTR in race.user_attrs and len(read_scores(race)) == 21
    assert len(read_scores(race)) == sum(len(result.scores) for result in record.results)
    evaluation = optuna.load_study(study_name="fashion_mnist" + EVALUATION_SUFFIX, storage=earlier_study)
    assert EVALUATION_STUDY_ATTR in evaluation.user_attrs and len(read_scores(evaluation)) == 35
    # A stored training is found again by the key this code computes.
    trial = evaluation.trials[0]
    attrs = trial.user_attrs
    assert attrs["key"] == training_key(
        Policy.from_dict(attrs["policy"]), attrs["seed"], Budget.from_dict(attrs["budget"]), attrs["dataset"]
    )
