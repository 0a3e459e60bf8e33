"""The statistics `search evaluate` reports: means with Student-t confidence intervals, paired
differences over the same seeds, and Spearman's rank correlation. Plain Python: a handful of
numbers per policy needs no SciPy.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from space import AugSearchError

# Two-sided 95 % quantiles of Student's t, t(0.975, df), for df = 1..30; above 30 the normal's
# 1.96 is within 2 % of the truth (df = 30: 2.042) and grows closer.
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t_quantile_975(df: int) -> float:
    """t(0.975, df): half the width of a 95 % interval, in standard errors."""
    if df < 1:
        raise AugSearchError(f"a confidence interval needs at least two values, but got df={df}.")
    return _T975[df - 1] if df <= len(_T975) else 1.96


@dataclass(frozen=True)
class Interval:
    """A mean and its 95 % confidence interval [low, high] over `n` values."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_interval(values: Sequence[float]) -> Interval:
    """The mean of `values` and its 95 % Student-t interval (a single value: the interval is the
    value itself and says nothing; callers should ask for more seeds)."""
    values = [float(v) for v in values]
    if not values:
        raise AugSearchError("a mean needs at least one value, but got none.")
    mean = statistics.fmean(values)
    if len(values) == 1:
        return Interval(mean, mean, mean, 1)
    half = t_quantile_975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return Interval(mean, mean - half, mean + half, len(values))


def paired_difference(values: Sequence[float], baseline: Sequence[float]) -> Interval:
    """Mean and 95 % interval of values[i] - baseline[i], the two measured with the same seed i:
    pairing removes what the seed does to both, so it detects smaller gains than two intervals."""
    if len(values) != len(baseline):
        raise AugSearchError(f"paired values need the same seeds, but got {len(values)} and {len(baseline)} values.")
    return mean_interval([a - b for a, b in zip(values, baseline, strict=True)])


def _ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of paired `x` and `y` (the Pearson correlation of their ranks,
    which handles ties). NaN when either side is constant."""
    if len(x) != len(y) or len(x) < 2:
        raise AugSearchError(
            f"a rank correlation needs two equally long lists of 2 or more, but got {len(x)} and {len(y)}."
        )
    rx, ry = _ranks(x), _ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    covariance = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    spread = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return covariance / spread if spread else math.nan
