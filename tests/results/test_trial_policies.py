import json

import optuna
import pytest

from results.trial_policies import best, pick_trial
from search import load_policy_file
from search.cli import main
from space import AugSearchError


def test_best_is_the_complete_trial_with_the_highest_value(small_study):
    study = small_study
    assert best(study).trial == 1 and best(study).label == "trial 1"
    assert pick_trial(study, "0").number == 0


@pytest.mark.parametrize(
    "which, message",
    [
        ("2", "^trial 2 is PRUNED, not COMPLETE"),
        (
            "3",
            r"^trial 3 is FAIL, not COMPLETE, so it has no full-budget objective "
            r"\(error: FloatingPointError: loss is NaN\)",
        ),
        ("9", "^trial 9: study 'fashion_mnist' has no such trial"),
        ("first", "^trial must be 'best' or a trial number, but got trial='first'"),
    ],
    ids=["pruned", "failed", "unknown", "not-a-number"],
)
def test_unusable_trials_are_clear_errors(small_study, which, message):
    with pytest.raises(AugSearchError, match=message):
        pick_trial(small_study, which)


def test_no_complete_trial_is_a_clear_error(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db", study_name="empty")
    with pytest.raises(AugSearchError, match="has no complete trial yet"):
        best(study)


def test_search_export_writes_the_best_policy_with_provenance(best_policy, tmp_path, small_study, capsys):
    out = tmp_path / "policy.json"
    assert main(["export", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]) == 0
    loaded = load_policy_file(out)
    assert loaded.policy == best_policy
    assert {k: loaded.provenance[k] for k in ("study", "trial", "objective", "dataset")} == {
        "study": "fashion_mnist",
        "trial": 1,
        "objective": 0.85,
        "dataset": "fashion_mnist",
    }
    assert json.loads(out.read_text())["provenance"]["budget"] == {"epochs": 2}


def test_search_export_of_a_failed_trial_exits_2_and_writes_nothing(tmp_path, small_study, capsys):
    out = tmp_path / "policy.json"
    assert main(["export", "--runs-dir", str(tmp_path / "runs"), "--trial", "3", "--out", str(out)]) == 2
    assert "is FAIL" in capsys.readouterr().err and not out.exists()


def test_search_export_without_a_study_says_what_to_do(tmp_path, capsys):
    assert main(["export", "--runs-dir", str(tmp_path / "nothing")]) == 2
    assert "run `search run` first" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()
