"""`search.evaluating`: what an evaluation trains and stores (cheap parts; the trainings
themselves: tests/search/cli/test_evaluate_command.py)."""

import pytest

from search import EvaluationSettings, evaluate
from space import AugSearchError, Policy


def test_nothing_to_evaluate_is_refused_before_anything_is_made(tmp_path):
    with pytest.raises(
        AugSearchError,
        match=r"^nothing to evaluate: give policy files, trials, top_k or baselines \(and a study for trials\)\.$",
    ):
        evaluate(EvaluationSettings(baselines="", runs_dir=tmp_path / "runs"))
    assert not (tmp_path / "runs" / "search.db").exists()


def test_trials_need_a_study(tmp_path):
    with pytest.raises(AugSearchError, match=r"holds no study database \(search\.db\)"):
        evaluate(EvaluationSettings(top_k=1, runs_dir=tmp_path / "runs"))
    assert not (tmp_path / "runs" / "search.db").exists(), "a reader creates no study database"


def test_top_k_takes_the_race_standings_first(tmp_path):
    import optuna
    from optuna.trial import create_trial

    from results.race_record import to_record, write_record
    from results.racing import race
    from search.evaluating import _ranked
    from space import PRESETS
    from space.policy_ref import PolicyRef

    study = optuna.create_study(direction="maximize")
    for value in (0.90, 0.88, 0.86, 0.84):
        study.add_trial(create_trial(value=value, user_attrs={"policy": Policy(magnitude=value).to_dict()}))
    assert _ranked(study) == [0, 1, 2, 3]
    # Trial 2 won the race, then none (a baseline: no trial), trial 1 and trial 0; trial 3 never raced.
    contestants = [PolicyRef.of_trial(n, Policy(magnitude=v)) for n, v in ((0, 0.90), (1, 0.88), (2, 0.86))]
    contestants.append(PolicyRef.of_baseline("none"))
    scores = {
        "trial 2": {1: 0.9, 2: 0.91},
        "none": {1: 0.89, 2: 0.9},
        "trial 1": {1: 0.88, 2: 0.89},
        "trial 0": {1: 0.87, 2: 0.875},
    }
    finished = race([c.label for c in contestants], [1, 2], scores)
    write_record(study, to_record(finished, contestants, budget=PRESETS["smoke"], race_study="c", exploration_trials=4))
    assert _ranked(study) == [2, 1, 0, 3]
