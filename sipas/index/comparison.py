"""Pure statistics for comparing this period with a baseline and for tracking during the year.

- differences between two shares: Newcombe's hybrid score interval and the pooled two-proportion z test;
- a share against a fixed published value: the exact binomial test with a Wilson interval;
- several comparisons at once: Holm's step-down adjustment of the p-values;
- a plain Vietnamese verdict, a rating band, a p-chart of the monthly share of dissatisfied answers,
  how many more answers a precision needs, and whether the year's target can still be reached.

Plain numbers in, plain numbers, frozen dataclasses or a DataFrame out; no Streamlit, no SQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipas.index.stats import Z95, sample_size, wilson_interval

if TYPE_CHECKING:
    import pandas as pd

# pandas and scipy are imported by the functions that use them: the two-proportion test of the
# effect checks (sipas.cases.effects, run by the case intake after every store) needs neither.

INCREASE = "Tăng có ý nghĩa thống kê"
DECREASE = "Giảm có ý nghĩa thống kê"
NO_CLEAR_DIFFERENCE = "Chưa khác biệt rõ"
NOT_ENOUGH_DATA = "Chưa đủ dữ liệu"

MIN_N = 10  # fewer answers than this in a period: no verdict (same default as the staff table's minimum)

DEFAULT_BANDS: tuple[tuple[str, float], ...] = (("Tốt", 90.0), ("Khá", 80.0), ("Trung bình", 70.0), ("Yếu", 0.0))


@dataclass(frozen=True)
class TestResult:
    """A comparison of this period's share with a baseline, all shares in percent / percentage points.

    ``difference`` = ``estimate`` − ``baseline``; ``ci_low``/``ci_high`` bound that difference (95%).
    ``n`` and ``baseline_n`` are the answers behind each side (``baseline_n`` None for a published
    value without counts); they let :func:`verdict` refuse to judge on too few answers.
    """

    __test__ = False  # not a pytest test class despite the name

    method: str
    estimate: float
    baseline: float
    difference: float
    ci_low: float | None
    ci_high: float | None
    p_value: float
    n: int | None = None
    baseline_n: int | None = None


def _check_counts(x: int, n: int) -> None:
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= x <= n:
        raise ValueError("successes must be between 0 and n")


def _wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """stats.wilson_interval with the ends made exact: 0 for x = 0 and 1 for x = n (not ±1e-17)."""
    lo, hi = wilson_interval(x, n, z)
    return (0.0 if x == 0 else lo), (1.0 if x == n else hi)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 − p2 (method 10 of Newcombe 1998), as fractions.

    With Wilson limits (l1, u1) for x1/n1 and (l2, u2) for x2/n2 and d = p1 − p2:
    lower = d − √((p1 − l1)² + (u2 − p2)²), upper = d + √((u1 − p1)² + (p2 − l2)²).
    Newcombe (1998), Statistics in Medicine 17:873–890, Table II example 56/70 vs 48/80: 0.0524 to 0.3339.

    >>> lo, hi = newcombe_interval(56, 70, 48, 80)
    >>> round(lo, 4), round(hi, 4)
    (0.0524, 0.3339)
    """
    _check_counts(x1, n1)
    _check_counts(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    lower = d - math.hypot(p1 - l1, u2 - p2)
    upper = d + math.hypot(u1 - p1, p2 - l2)
    # Mathematically within [-1, 1]; clamp floating-point excursions.
    return max(-1.0, lower), min(1.0, upper)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Pooled two-sided z test of x1/n1 (this period) against x2/n2 (baseline), Newcombe interval.

    The p-value equals that of the uncorrected chi-square test on the 2×2 table. When both groups are
    all satisfied (or both all dissatisfied) the test is undefined; there is no evidence of a
    difference and the p-value is 1.

    >>> r = two_proportion_test(56, 70, 48, 80)
    >>> r.method, round(r.difference, 1), round(r.ci_low, 2), round(r.ci_high, 2), round(r.p_value, 4)
    ('two-proportion', 20.0, 5.24, 33.39, 0.008)
    """
    _check_counts(x1, n1)
    _check_counts(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        p_value = 1.0
    else:
        z = (p1 - p2) / math.sqrt(variance)
        p_value = math.erfc(abs(z) / math.sqrt(2))  # = 2·(1 − Φ(|z|))
    lo, hi = newcombe_interval(x1, n1, x2, n2)
    estimate, baseline = 100.0 * x1 / n1, 100.0 * x2 / n2
    return TestResult(
        method="two-proportion",
        estimate=estimate,
        baseline=baseline,
        difference=estimate - baseline,
        ci_low=100.0 * lo,
        ci_high=100.0 * hi,
        p_value=min(1.0, p_value),
        n=n1,
        baseline_n=n2,
    )


def _binomtest(x: int, n: int, p0: float):
    from scipy.stats import binomtest

    return binomtest(x, n, p0)


def binomial_test_vs_value(x: int, n: int, baseline_percent: float) -> TestResult:
    """Exact two-sided binomial test of x/n against a fixed published share (percent).

    The interval is the Wilson 95% interval of x/n minus the fixed value (percentage points); the
    fixed value has no sampling error of its own here.

    >>> r = binomial_test_vs_value(90, 100, 80.0)
    >>> r.method, r.difference, round(r.ci_low, 2), round(r.ci_high, 2), round(r.p_value, 4)
    ('exact-binomial', 10.0, 2.56, 14.48, 0.0118)
    """
    _check_counts(x, n)
    if not 0 <= baseline_percent <= 100:
        raise ValueError("baseline_percent must be between 0 and 100")
    p0 = baseline_percent / 100.0
    lo, hi = _wilson(x, n)
    estimate = 100.0 * x / n
    return TestResult(
        method="exact-binomial",
        estimate=estimate,
        baseline=float(baseline_percent),
        difference=estimate - baseline_percent,
        ci_low=100.0 * lo - baseline_percent,
        ci_high=100.0 * hi - baseline_percent,
        p_value=min(1.0, float(_binomtest(x, n, p0).pvalue)),
        n=n,
        baseline_n=None,
    )


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni step-down adjusted p-values, in the input order; None stays None.

    Sorted ascending, the k-th smallest of m p-values (k = 1..m) becomes (m − k + 1)·p, then a running
    maximum keeps the order, and values are capped at 1. None entries are not counted in m.

    >>> [None if p is None else round(p, 6) for p in holm_adjust([0.01, 0.04, None, 0.03, 0.005])]
    [0.03, 0.06, None, 0.06, 0.02]
    """
    present = [(i, p) for i, p in enumerate(p_values) if p is not None]
    for _, p in present:
        if not 0 <= p <= 1:  # also rejects NaN
            raise ValueError("p-values must be between 0 and 1")
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for k, (i, p) in enumerate(sorted(present, key=lambda item: item[1])):
        running = max(running, min(1.0, (m - k) * p))
        adjusted[i] = running
    return adjusted


def verdict(
    test: TestResult | None,
    alpha: float = 0.05,
    adjusted_p: float | None = None,
    min_n: int = MIN_N,
) -> str:
    """A plain Vietnamese verdict on a comparison.

    "Chưa đủ dữ liệu" when there is no test or fewer than ``min_n`` answers on either side (when
    known); otherwise "Tăng có ý nghĩa thống kê" / "Giảm có ý nghĩa thống kê" when the p-value (the
    adjusted one if given) is below ``alpha``, by the sign of the difference; else "Chưa khác biệt rõ".

    >>> verdict(two_proportion_test(56, 70, 48, 80))
    'Tăng có ý nghĩa thống kê'
    >>> verdict(two_proportion_test(56, 70, 48, 80), adjusted_p=0.08)
    'Chưa khác biệt rõ'
    >>> verdict(None)
    'Chưa đủ dữ liệu'
    """
    if test is None:
        return NOT_ENOUGH_DATA
    for count in (test.n, test.baseline_n):
        if count is not None and count < min_n:
            return NOT_ENOUGH_DATA
    p = test.p_value if adjusted_p is None else adjusted_p
    if p < alpha and test.difference > 0:
        return INCREASE
    if p < alpha and test.difference < 0:
        return DECREASE
    return NO_CLEAR_DIFFERENCE


def compare_to_baseline(
    x: int,
    n: int,
    baseline_index: float | None,
    baseline_n: int | None = None,
    baseline_satisfied: int | None = None,
) -> TestResult | None:
    """Compare x/n with the baseline: two-proportion test if the baseline has counts, else exact binomial.

    Counts (``baseline_n`` > 0 and ``baseline_satisfied``) take precedence over ``baseline_index``;
    without them the baseline is treated as a fixed published value (percent). None when n = 0 or
    there is no baseline at all.

    >>> compare_to_baseline(56, 70, 60.0, baseline_n=80, baseline_satisfied=48).method
    'two-proportion'
    >>> compare_to_baseline(90, 100, 80.0).method
    'exact-binomial'
    >>> compare_to_baseline(0, 0, 80.0) is None
    True
    """
    if n == 0:
        return None
    if baseline_n and baseline_satisfied is not None:
        return two_proportion_test(x, n, baseline_satisfied, baseline_n)
    if baseline_index is None:
        return None
    return binomial_test_vs_value(x, n, baseline_index)


def band(index: float | None, bands: Sequence[tuple[str, float]] = DEFAULT_BANDS) -> str | None:
    """The rating band of an index: the first band (highest lower bound first) whose lower bound it reaches.

    Default: Tốt ≥ 90; Khá 80 to < 90; Trung bình 70 to < 80; Yếu < 70. None when there is no index.

    >>> band(90.0), band(89.99), band(70.0), band(12.5), band(None)
    ('Tốt', 'Khá', 'Trung bình', 'Yếu', None)
    """
    if index is None or (isinstance(index, float) and math.isnan(index)):
        return None
    for name, lower in sorted(bands, key=lambda b: b[1], reverse=True):
        if index >= lower:
            return name
    return None


def p_chart(months: Sequence[str], dissatisfied: Sequence[int], n: Sequence[int]) -> pd.DataFrame:
    """A p-chart of the monthly share of dissatisfied answers.

    Centre p̄ = total dissatisfied / total n; limits p̄ ± 3·√(p̄(1 − p̄)/nᵢ), the lower floored at 0
    and the upper capped at 1. A month is out of control when its share is outside its limits.
    Months with n = 0 have p, lcl and ucl NaN and are never out of control.

    >>> chart = p_chart(["01", "02"], [5, 35], [100, 100])
    >>> chart["center"].tolist(), chart["out_of_control"].tolist()
    ([0.2, 0.2], [True, True])
    """
    if not len(months) == len(dissatisfied) == len(n):
        raise ValueError("months, dissatisfied and n must have the same length")
    for d, k in zip(dissatisfied, n, strict=True):
        if k < 0 or not 0 <= d <= k:
            raise ValueError("each month needs 0 ≤ dissatisfied ≤ n")
    total_n = sum(n)
    centre = sum(dissatisfied) / total_n if total_n else math.nan
    rows = []
    for month, d, k in zip(months, dissatisfied, n, strict=True):
        if k == 0 or math.isnan(centre):
            p = lcl = ucl = math.nan
            out = False
        else:
            p = d / k
            spread = 3 * math.sqrt(centre * (1 - centre) / k)
            lcl, ucl = max(0.0, centre - spread), min(1.0, centre + spread)
            out = p < lcl or p > ucl
        rows.append((month, int(k), int(d), p, centre, lcl, ucl, bool(out)))
    columns = ["month", "n", "dissatisfied", "p", "center", "lcl", "ucl", "out_of_control"]
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(
        {
            "n": "int64",
            "dissatisfied": "int64",
            "p": "float64",
            "center": "float64",
            "lcl": "float64",
            "ucl": "float64",
            "out_of_control": "bool",
        }
    )


def needed_for_precision(n_so_far: int, margin: float = 0.05, p: float = 0.5, population: int | None = None) -> int:
    """How many more answers are needed for a ±margin 95% interval (never negative).

    >>> needed_for_precision(100)
    285
    >>> needed_for_precision(500)
    0
    """
    if n_so_far < 0:
        raise ValueError("n_so_far must not be negative")
    return max(0, sample_size(margin, p, population) - n_so_far)


def target_still_reachable(
    satisfied_so_far: int, n_so_far: int, expected_total_n: int, target_percent: float
) -> tuple[bool, float]:
    """Whether the year's target share can still be met if every remaining answer were satisfied.

    Returns (reachable, needed) where ``needed`` is the share (percent) of the remaining
    ``expected_total_n − n_so_far`` answers that must be satisfied: > 100 means unreachable, 0 means
    already secured whatever the rest say (never below 0).

    When ``expected_total_n <= n_so_far`` no more answers are expected: the result is about the share
    so far — (True, 0.0) if it already meets the target, else (False, inf).

    >>> target_still_reachable(80, 100, 200, 85.0)
    (True, 90.0)
    >>> target_still_reachable(60, 100, 150, 90.0)
    (False, 150.0)
    """
    if not 0 <= satisfied_so_far <= n_so_far:
        raise ValueError("satisfied_so_far must be between 0 and n_so_far")
    if not 0 <= target_percent <= 100:
        raise ValueError("target_percent must be between 0 and 100")
    remaining = expected_total_n - n_so_far
    if remaining <= 0:
        if n_so_far == 0:
            raise ValueError("no answers so far and none expected")
        met = 100 * satisfied_so_far >= target_percent * n_so_far - 1e-9
        return (True, 0.0) if met else (False, math.inf)
    # Need (satisfied_so_far + s) / expected_total_n ≥ target / 100, i.e. s ≥ target·T/100 − satisfied_so_far.
    needed = (target_percent * expected_total_n - 100 * satisfied_so_far) / remaining
    needed = max(0.0, needed)
    return needed <= 100 + 1e-9, needed
