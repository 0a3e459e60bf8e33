"""`search.trainings_study`: a finished training is one trial, read back by its key."""

from optuna.trial import TrialState

from results.evaluation import stored_accuracies, training_key
from search.trainings_study import Job, open_trainings_study, store
from space import GUIDE_POLICY

BUDGET = {"epochs": 1}


def test_a_training_is_one_trial_complete_with_its_score_or_failed_with_its_error(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    study = open_trainings_study(url, "s.evaluation", "augsearch_evaluation", {"study": "s", "value": "test accuracy"})
    assert study.user_attrs["augsearch_evaluation"] == {"study": "s", "value": "test accuracy"}
    ok = Job(training_key(GUIDE_POLICY, 0, BUDGET, "d"), GUIDE_POLICY, 0, ["guide"])
    bad = Job(training_key(GUIDE_POLICY, 1, BUDGET, "d"), GUIDE_POLICY, 1, ["guide"])
    history = [{"epoch": 1, "val_accuracy": 0.5}]
    outcome = {"test_accuracy": 0.75, "objective": 0.6, "val_accuracy": 0.5, "history": history}
    store(study, ok, BUDGET, "d", outcome, "test_accuracy")
    store(study, bad, BUDGET, "d", {"error": "TrainingDiverged: loss is NaN", "wall_seconds": 1.0}, "test_accuracy")
    first, second = study.get_trials()
    assert (first.state, first.value, first.intermediate_values) == (TrialState.COMPLETE, 0.75, {1: 0.5})
    assert first.user_attrs["labels"] == ["guide"] and "history" not in first.user_attrs
    assert second.state == TrialState.FAIL and second.user_attrs["error"] == "TrainingDiverged: loss is NaN"
    assert stored_accuracies(study) == {ok.key: 0.75}

    # Opened again (a resumed run), it is the same study, its marker as first written.
    again = open_trainings_study(url, "s.evaluation", "augsearch_evaluation", {"study": "other", "value": "?"})
    assert len(again.get_trials()) == 2 and again.user_attrs["augsearch_evaluation"]["study"] == "s"


def test_the_metric_picks_the_value(tmp_path):
    study = open_trainings_study(f"sqlite:///{tmp_path}/search.db", "s.confirmation", "augsearch_confirmation_of", {"study": "s"})
    job = Job(training_key(GUIDE_POLICY, 0, BUDGET, "d"), GUIDE_POLICY, 0, ["trial 3"])
    store(study, job, BUDGET, "d", {"objective": 0.6, "val_accuracy": 0.5}, "objective")
    assert study.get_trials()[0].value == 0.6
