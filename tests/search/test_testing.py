"""`search.testing.inject_faults`: which trial gets which fault (the faults themselves, inside real
trials: tests/search/tune/test_worker_reuse.py and tests/reliability/)."""

import pickle

import pytest

from search.testing import inject_faults
from space import AugSearchError


def test_each_trial_gets_its_fault_and_star_stands_for_the_others():
    faults = inject_faults("0:raise, 2:nan,*:oom")
    assert [len(faults(number)) for number in range(4)] == [1, 1, 1, 1]
    assert inject_faults("1:nan")(0) == [] and len(inject_faults("1:nan")(1)) == 1
    # Tune pickles the settings' callable into its workers.
    assert pickle.loads(pickle.dumps(faults)) == faults


@pytest.mark.parametrize("spec", ["0:explode", "x:nan", "0", "", "0:nan;1:oom"])
def test_a_malformed_spec_is_refused(spec):
    with pytest.raises(
        AugSearchError,
        match=r"^faults must be TRIAL:KIND,\.\.\. with KIND in \('raise', 'nan', 'oom'\), but got faults=",
    ):
        inject_faults(spec)
