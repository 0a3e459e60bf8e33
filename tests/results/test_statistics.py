import math

import pytest

from results.statistics import mean_interval, paired_difference, spearman, t_quantile_975
from space import AugSearchError


def test_mean_interval_of_known_numbers():
    # mean 0.8, sample stdev 0.02, n = 3: half width = 4.303 * 0.02 / sqrt(3) = 0.049687
    interval = mean_interval([0.78, 0.80, 0.82])
    assert interval.mean == pytest.approx(0.80)
    assert interval.half_width == pytest.approx(4.303 * 0.02 / math.sqrt(3))
    assert (interval.low, interval.high, interval.n) == pytest.approx((0.80 - 0.049687, 0.80 + 0.049687, 3), abs=1e-6)


def test_one_value_has_no_width_and_none_is_an_error():
    assert mean_interval([0.5]) == mean_interval([0.5]) and mean_interval([0.5]).half_width == 0
    with pytest.raises(AugSearchError, match="at least one value"):
        mean_interval([])


def test_paired_difference_removes_what_the_seed_does_to_both():
    policy, baseline = [0.70, 0.80, 0.90], [0.68, 0.78, 0.88]  # seeds vary a lot, the gain does not
    difference = paired_difference(policy, baseline)
    assert difference.mean == pytest.approx(0.02) and difference.half_width == pytest.approx(0.0, abs=1e-12)
    # Unpaired, the two intervals overlap almost entirely.
    assert mean_interval(policy).low < mean_interval(baseline).high
    with pytest.raises(AugSearchError, match="same seeds"):
        paired_difference([0.1, 0.2], [0.1])


@pytest.mark.parametrize(
    "x, y, expected",
    [
        ([1, 2, 3, 4], [10, 20, 30, 40], 1.0),
        ([1, 2, 3, 4], [4, 3, 2, 1], -1.0),
        ([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], 0.8),  # 1 - 6 * 4 / (5 * 24)
        ([1, 2, 2, 3], [1, 2, 3, 4], 0.9486833),  # ties get mean ranks
    ],
    ids=["same-order", "reversed", "textbook", "ties"],
)
def test_spearman(x, y, expected):
    assert spearman(x, y) == pytest.approx(expected)


def test_spearman_of_a_constant_is_nan_and_short_lists_are_errors():
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(AugSearchError, match="2 or more"):
        spearman([1], [2])


def test_t_quantiles():
    assert t_quantile_975(2) == 4.303 and t_quantile_975(30) == 2.042 and t_quantile_975(100) == 1.96
    with pytest.raises(AugSearchError):
        t_quantile_975(0)
