"""`search.evaluating`: what an evaluation trains and stores (cheap parts; the trainings
themselves: tests/search/cli/test_evaluate_command.py)."""

import pytest
from optuna.trial import TrialState

from results.evaluation import Entry, stored_accuracies, training_key
from search import EvaluationSettings, evaluate
from search.evaluating import Job, open_evaluation_study, plan, store
from space import GUIDE_POLICY, AugSearchError, Policy

BUDGET = {"epochs": 1}


def test_plan_trains_each_policy_and_seed_once_and_skips_what_is_stored():
    entries = [Entry("trial 0", "trial", GUIDE_POLICY), Entry("guide", "baseline", GUIDE_POLICY), Entry("none", "baseline", Policy(rate=0.0))]
    done = {training_key(Policy(rate=0.0), 0, BUDGET, "fashion_mnist")}
    jobs, stored = plan(entries, [0, 1], BUDGET, "fashion_mnist", done)
    assert stored == 1
    assert [(job.policy, job.seed, job.labels) for job in jobs] == [
        (GUIDE_POLICY, 0, ["trial 0", "guide"]), (GUIDE_POLICY, 1, ["trial 0", "guide"]), (Policy(rate=0.0), 1, ["none"]),
    ]


def test_a_training_is_one_trial_complete_with_its_test_accuracy_or_failed_with_its_error(tmp_path):
    study = open_evaluation_study(f"sqlite:///{tmp_path}/search.db", "s.evaluation", "s")
    assert study.user_attrs["augsearch_evaluation"] == {"study": "s", "value": "test accuracy"}
    ok = Job(training_key(GUIDE_POLICY, 0, BUDGET, "d"), GUIDE_POLICY, 0, ["guide"])
    bad = Job(training_key(GUIDE_POLICY, 1, BUDGET, "d"), GUIDE_POLICY, 1, ["guide"])
    history = [{"epoch": 1, "val_accuracy": 0.5}]
    store(study, ok, BUDGET, "d", {"test_accuracy": 0.75, "val_accuracy": 0.5, "history": history})
    store(study, bad, BUDGET, "d", {"error": "TrainingDiverged: loss is NaN", "wall_seconds": 1.0})
    first, second = study.get_trials()
    assert (first.state, first.value, first.intermediate_values) == (TrialState.COMPLETE, 0.75, {1: 0.5})
    assert first.user_attrs["labels"] == ["guide"] and "history" not in first.user_attrs
    assert second.state == TrialState.FAIL and second.user_attrs["error"] == "TrainingDiverged: loss is NaN"
    assert stored_accuracies(study) == {ok.key: 0.75}


def test_nothing_to_evaluate_is_refused_before_anything_is_made(tmp_path):
    with pytest.raises(AugSearchError, match=r"^nothing to evaluate: give policy files, trials, top_k or baselines \(and a study for trials\)\.$"):
        evaluate(EvaluationSettings(baselines="", runs_dir=tmp_path / "runs"))
    assert not (tmp_path / "runs" / "search.db").exists()


def test_trials_need_a_study(tmp_path):
    with pytest.raises(AugSearchError, match=r"holds no study database \(search\.db\)"):
        evaluate(EvaluationSettings(top_k=1, runs_dir=tmp_path / "runs"))
    assert not (tmp_path / "runs" / "search.db").exists(), "a reader creates no study database"


def test_top_k_takes_the_confirmation_standings_first(tmp_path):
    import optuna
    from optuna.trial import create_trial

    from results.confirmation import CONFIRMATION_ATTR
    from search.evaluating import _ranked

    study = optuna.create_study(direction="maximize")
    for value in (0.90, 0.88, 0.86, 0.84):
        study.add_trial(create_trial(value=value))
    complete = study.get_trials(deepcopy=False)
    assert [t.number for t in _ranked(study, complete)] == [0, 1, 2, 3]
    # Trial 2 won the race, trial 0 was dropped; trial 3 never raced.
    study.set_user_attr(CONFIRMATION_ATTR, {"winner": 2, "standings": [{"trial": 2}, {"trial": 1}, {"trial": 0}]})
    assert [t.number for t in _ranked(study, complete)] == [2, 1, 0, 3]
