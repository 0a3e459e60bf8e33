"""`search.trainings`: the plan of labelled policies x seeds, its keys, what is missing, the scores
read back, and the seed rules (the trainings on Ray: tests/search/test_race.py and
tests/search/cli/test_evaluate_command.py)."""

import optuna

from results.stored import open_trainings_study, read_scores, training_key, write_training
from search.trainings import TrainingPlan, evaluation_seeds, race_seeds, trial_seed
from space import GUIDE_POLICY, PRESETS
from space.policy_ref import PolicyRef

BUDGET = PRESETS["smoke"]
REFS = (
    PolicyRef.of_trial(0, GUIDE_POLICY),
    PolicyRef.of_baseline("guide"),
    PolicyRef.of_baseline("none"),
)
PLAN = TrainingPlan(REFS, (0, 1), BUDGET, "fashion_mnist")


def test_each_policy_and_seed_is_trained_once_and_what_is_stored_is_skipped():
    done = {training_key(REFS[2].policy, 0, BUDGET, "fashion_mnist"): 0.5}
    jobs = PLAN.missing(done)
    assert [(job.policy, job.seed, job.labels) for job in jobs] == [
        (GUIDE_POLICY, 0, ["trial 0", "guide"]),
        (GUIDE_POLICY, 1, ["trial 0", "guide"]),
        (REFS[2].policy, 1, ["none"]),
    ], "a policy asked for under two labels is one training"
    assert [job.seed for job in PLAN.missing(done, [("none", 1), ("guide", 1)])] == [1, 1]
    assert PLAN.missing(done, [("none", 0)]) == []


def test_scores_are_read_back_by_label_and_seed(tmp_path):
    study = open_trainings_study(
        optuna.storages.RDBStorage(f"sqlite:///{tmp_path}/t.db"), "s.evaluation", "marker", {"study": "s"}
    )
    for job in PLAN.missing({}):
        outcome = {"test_accuracy": 0.5 + job.seed / 10} if job.labels != ["none"] else {"error": "OOM"}
        write_training(study, job, BUDGET, "fashion_mnist", outcome, "test_accuracy")
    scores = PLAN.scores(read_scores(study))
    assert scores == {"trial 0": {0: 0.5, 1: 0.6}, "guide": {0: 0.5, 1: 0.6}, "none": {}}
    assert [job.labels for job in PLAN.missing(read_scores(study))] == [["none"], ["none"]], "failed ones run again"


def test_a_key_changes_with_the_policy_seed_budget_and_dataset_only():
    key = PLAN.key(REFS[0], 0)
    assert key == PLAN.key(REFS[1], 0), "the label is not part of a training's identity"
    assert key != PLAN.key(REFS[2], 0) and key != PLAN.key(REFS[0], 1)
    assert key != TrainingPlan(REFS, (0,), BUDGET.replace(epochs=3), "fashion_mnist").key(REFS[0], 0)
    assert key != TrainingPlan(REFS, (0,), BUDGET, "tfds:mnist").key(REFS[0], 0)


def test_race_seeds_are_fresh_reproducible_and_differ_from_every_trial_seed():
    assert race_seeds(0, 3) == race_seeds(0, 3) and len(set(race_seeds(0, 3))) == 3
    assert race_seeds(1, 3) != race_seeds(0, 3)
    assert not set(race_seeds(0, 5)) & {trial_seed(0, number) for number in range(10_000)}
    assert evaluation_seeds(4, 3) == [4, 5, 6]
