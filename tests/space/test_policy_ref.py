"""`PolicyRef`: a policy under the label it is reported by, and where it comes from."""

import pytest

from space import BASELINES, AugSearchError, Policy
from space.policy_ref import PolicyRef, trial_label


def test_labels_are_made_in_one_place_and_say_where_a_policy_comes_from():
    trial = PolicyRef.of_trial(12, Policy(magnitude=0.3))
    assert (trial.label, trial.origin, trial.trial, trial.is_baseline) == ("trial 12", "trial", 12, False)
    assert trial.label == trial_label(12)
    baseline = PolicyRef.of_baseline("cropflip")
    assert (baseline.label, baseline.policy, baseline.is_baseline, baseline.trial) == (
        "cropflip",
        BASELINES["cropflip"],
        True,
        None,
    )
    exported = PolicyRef.of_file("policy.json", Policy())
    assert (exported.origin, exported.is_baseline) == ("file", False)


def test_refs_are_values():
    assert PolicyRef.of_baseline("none") == PolicyRef.of_baseline("none")
    assert PolicyRef.of_trial(1, Policy()) != PolicyRef.of_trial(2, Policy())
    assert len({PolicyRef.of_baseline("none"), PolicyRef.of_baseline("none")}) == 1


def test_an_unknown_baseline_is_a_one_line_error():
    with pytest.raises(
        AugSearchError, match=r"^baseline must be one of none, guide, .*, but got baseline='autoaugment'\.$"
    ):
        PolicyRef.of_baseline("autoaugment")
