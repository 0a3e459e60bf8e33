import pytest

from results.compare import comparison, from_file, from_trial
from results.trials import trial_rows
from search import export_policy
from space import GUIDE_POLICY, AugSearchError
from space.policy_ref import PolicyRef


def lines_by_name(candidates):
    return {line.name: line for line in comparison(candidates)}


def test_trials_side_by_side_mark_the_fields_that_differ(best_policy, small_study):
    rows = trial_rows(small_study)
    lines = lines_by_name([from_trial(rows[0]), from_trial(rows[1]), from_trial(rows[2])])
    assert lines["magnitude"].values == (0.3, 0.7, 0.5) and lines["magnitude"].differs
    assert lines["ops"].values[1] == best_policy.ops and lines["ops"].differs
    assert lines["mixup_alpha"].values == (0.2, 0.2, 0.2) and not lines["mixup_alpha"].differs
    assert lines["state"].values == ("COMPLETE", "COMPLETE", "PRUNED")
    assert lines["objective"].values == (0.80, 0.85, None)
    assert lines["epoch 1"].values == (0.6, 0.7, 0.1)
    assert lines["epoch 2"].values == (0.80, 0.85, None)  # the pruned trial stopped after one
    assert lines["wall_seconds"].values == (61.0, 59.0, 20.0)
    assert not any(line.differs for name, line in lines.items() if name in ("state", "objective", "epoch 1"))


def test_an_export_file_compares_with_the_trial_it_came_from(best_policy, small_study, tmp_path):
    path = export_policy(best_policy, tmp_path / "best.json", {"trial": 1, "objective": 0.85})
    exported, trial = from_file(path), from_trial(trial_rows(small_study)[1])
    assert exported.label == "best.json" and exported.value == 0.85 and exported.curve == ()
    lines = lines_by_name([exported, trial])
    assert not any(line.differs for line in lines.values())
    assert lines["epoch 2"].values == (None, 0.85)


def test_identical_policies_differ_nowhere():
    from results.compare import Candidate

    lines = comparison(
        [Candidate(PolicyRef.of_file("a", GUIDE_POLICY)), Candidate(PolicyRef.of_file("b", GUIDE_POLICY))]
    )
    assert not any(line.differs for line in lines)
    assert [line.name for line in lines][-3:] == ["state", "objective", "wall_seconds"]  # no epochs known


def test_a_file_that_is_not_an_export_is_a_clear_error(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"format": "something-else"}')
    with pytest.raises(AugSearchError, match="is not an AugSearch policy export"):
        from_file(path)
