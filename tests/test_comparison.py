"""Tests for sipas.index.comparison against published values, scipy called directly and hand calculations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chi2_contingency

from sipas.index.comparison import (
    DECREASE,
    DEFAULT_BANDS,
    INCREASE,
    NO_CLEAR_DIFFERENCE,
    NOT_ENOUGH_DATA,
    TestResult,
    band,
    binomial_test_vs_value,
    compare_to_baseline,
    holm_adjust,
    needed_for_precision,
    newcombe_interval,
    p_chart,
    target_still_reachable,
    two_proportion_test,
    verdict,
)

Z = 1.959963984540054
Z2 = Z * Z  # 3.841459
TOL4 = 5e-5  # published values are given to 4 decimals


def _chi2_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Uncorrected Pearson chi-square p-value on the 2×2 table, straight from scipy."""
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    return float(chi2_contingency(table, correction=False).pvalue)


# --- Newcombe hybrid score interval --------------------------------------------------------------


def test_newcombe_published_example_a():
    # Newcombe (1998) Stat Med 17:873–890, Table II example (a), method 10: 56/70 − 48/80 = 0.2000,
    # 95% CI 0.0524 to 0.3339 (the same values are asserted in the R package m-Py/propint's tests).
    lo, hi = newcombe_interval(56, 70, 48, 80)
    assert lo < 0.2000 < hi
    assert lo == pytest.approx(0.0524, abs=TOL4)
    assert hi == pytest.approx(0.3339, abs=TOL4)


def test_newcombe_published_example_b():
    # Newcombe (1998) Table II example (b), method 10: 9/10 − 3/10 = 0.6000, 95% CI 0.1705 to 0.8090.
    lo, hi = newcombe_interval(9, 10, 3, 10)
    assert lo == pytest.approx(0.1705, abs=TOL4)
    assert hi == pytest.approx(0.8090, abs=TOL4)


def test_newcombe_published_example_with_a_zero_cell():
    # Newcombe (1998) Table II, method 10: 5/56 − 0/29, 95% CI −0.0381 to 0.1926 (value as recalled from
    # the paper's table; a zero cell, where the simple Wald interval degenerates).
    lo, hi = newcombe_interval(5, 56, 0, 29)
    assert lo == pytest.approx(-0.0381, abs=TOL4)
    assert hi == pytest.approx(0.1926, abs=TOL4)


def test_newcombe_boundary_cases_by_hand():
    # Hand calculation. For 0/n the Wilson interval is [0, z²/(n + z²)] and for n/n it is [n/(n + z²), 1].
    # 0/10: upper = 3.841459 / 13.841459 = 0.27753;  0/20: upper = 3.841459 / 23.841459 = 0.16112.
    u10 = Z2 / (10 + Z2)
    u20 = Z2 / (20 + Z2)
    assert u10 == pytest.approx(0.27753, abs=1e-5)
    assert u20 == pytest.approx(0.16112, abs=1e-5)
    # 0/10 − 0/10: d = 0, lower = −√(0² + u10²) = −0.2775, upper = +0.2775 (Newcombe 1998 Table II lists the same).
    lo, hi = newcombe_interval(0, 10, 0, 10)
    assert lo == pytest.approx(-u10, abs=1e-12)
    assert hi == pytest.approx(u10, abs=1e-12)
    assert hi == pytest.approx(0.2775, abs=TOL4)
    # 0/10 − 0/20: lower = −u20 = −0.1611, upper = u10 = 0.2775.
    lo, hi = newcombe_interval(0, 10, 0, 20)
    assert lo == pytest.approx(-0.1611, abs=TOL4)
    assert hi == pytest.approx(0.2775, abs=TOL4)
    # 10/10 − 0/10: d = 1, lower = 1 − √((1 − 10/13.841459)² + u10²) = 1 − √2 · 0.27753 = 0.6075, upper = 1.
    lo, hi = newcombe_interval(10, 10, 0, 10)
    assert lo == pytest.approx(1 - math.sqrt(2) * u10, abs=1e-12)
    assert lo == pytest.approx(0.6075, abs=TOL4)
    assert hi == 1.0
    # 10/10 − 0/20: lower = 1 − √(0.27753² + 0.16112²) = 1 − 0.32092 = 0.6791, upper = 1.
    lo, hi = newcombe_interval(10, 10, 0, 20)
    assert lo == pytest.approx(0.6791, abs=TOL4)
    assert hi == 1.0


def test_newcombe_wider_at_higher_confidence():
    lo95, hi95 = newcombe_interval(56, 70, 48, 80)
    lo99, hi99 = newcombe_interval(56, 70, 48, 80, z=2.5758293035489004)  # scipy.stats.norm.ppf(0.995)
    assert lo99 < lo95
    assert hi99 > hi95


@pytest.mark.parametrize("args", [(1, 0, 1, 2), (3, 2, 1, 2), (-1, 5, 1, 2), (1, 2, 1, 0)])
def test_newcombe_rejects_bad_counts(args):
    with pytest.raises(ValueError):
        newcombe_interval(*args)


counts = st.integers(min_value=1, max_value=2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=300)
@given(counts, counts)
def test_newcombe_contains_difference_and_stays_in_range(a, b):
    (x1, n1), (x2, n2) = a, b
    lo, hi = newcombe_interval(x1, n1, x2, n2)
    d = x1 / n1 - x2 / n2
    assert -1.0 <= lo <= d + 1e-12
    assert d - 1e-12 <= hi <= 1.0


@settings(max_examples=200)
@given(counts, counts)
def test_newcombe_swapping_groups_mirrors_the_interval(a, b):
    (x1, n1), (x2, n2) = a, b
    lo, hi = newcombe_interval(x1, n1, x2, n2)
    lo_swapped, hi_swapped = newcombe_interval(x2, n2, x1, n1)
    assert lo_swapped == pytest.approx(-hi, abs=1e-12)
    assert hi_swapped == pytest.approx(-lo, abs=1e-12)


# --- Two-proportion test -------------------------------------------------------------------------


def test_two_proportion_published_example_matches_scipy_chi2():
    r = two_proportion_test(56, 70, 48, 80)
    assert r.method == "two-proportion"
    assert r.estimate == pytest.approx(80.0)
    assert r.baseline == pytest.approx(60.0)
    assert r.difference == pytest.approx(20.0)
    # Interval in percentage points: Newcombe (1998) Table II (a), 0.0524 to 0.3339.
    assert r.ci_low == pytest.approx(5.24, abs=100 * TOL4)
    assert r.ci_high == pytest.approx(33.39, abs=100 * TOL4)
    # scipy.stats.chi2_contingency without continuity correction is the pooled z test squared.
    assert r.p_value == pytest.approx(_chi2_p(56, 70, 48, 80), rel=1e-9)
    assert r.p_value == pytest.approx(0.008045, abs=1e-6)
    assert r.n == 70
    assert r.baseline_n == 80


def test_two_proportion_z_by_hand():
    # Hand calculation: 45/50 vs 40/50, pooled p = 85/100 = 0.85,
    # se = √(0.85 · 0.15 · (1/50 + 1/50)) = √0.0051 = 0.0714143, z = 0.10 / 0.0714143 = 1.40028;
    # two-sided p = 2 · (1 − Φ(1.40028)) = 0.16142.
    r = two_proportion_test(45, 50, 40, 50)
    assert r.difference == pytest.approx(10.0)
    assert r.p_value == pytest.approx(0.16142, abs=1e-5)
    assert r.p_value == pytest.approx(_chi2_p(45, 50, 40, 50), rel=1e-9)


@settings(max_examples=300)
@given(counts, counts)
def test_two_proportion_p_value_equals_chi2_contingency(a, b):
    (x1, n1), (x2, n2) = a, b
    pooled = (x1 + x2) / (n1 + n2)
    r = two_proportion_test(x1, n1, x2, n2)
    assert 0.0 <= r.p_value <= 1.0
    if 0 < pooled < 1:  # otherwise a column of the table is empty and chi2_contingency refuses it
        assert r.p_value == pytest.approx(_chi2_p(x1, n1, x2, n2), rel=1e-7, abs=1e-300)


def test_two_proportion_no_variation_gives_p_one():
    # Everyone satisfied in both periods: no evidence of any difference.
    r = two_proportion_test(10, 10, 20, 20)
    assert r.difference == 0.0
    assert r.p_value == 1.0
    # scipy refuses this table (a zero expected frequency), which is why the case is handled explicitly.
    with pytest.raises(ValueError):
        chi2_contingency([[10, 0], [20, 0]], correction=False)


# --- Exact binomial test against a published value -----------------------------------------------


def test_binomial_against_value_matches_scipy():
    r = binomial_test_vs_value(90, 100, 80.0)
    direct = binomtest(90, 100, 0.8)
    # scipy's own Wilson interval (no continuity correction), shifted by the fixed value.
    wilson = direct.proportion_ci(confidence_level=0.95, method="wilson")
    assert r.method == "exact-binomial"
    assert r.estimate == pytest.approx(90.0)
    assert r.baseline == 80.0
    assert r.difference == pytest.approx(10.0)
    assert r.p_value == pytest.approx(direct.pvalue, rel=1e-12)
    assert r.ci_low == pytest.approx(100 * wilson.low - 80.0, abs=1e-9)
    assert r.ci_high == pytest.approx(100 * wilson.high - 80.0, abs=1e-9)
    assert r.n == 100
    assert r.baseline_n is None


def test_binomial_small_sample_by_hand():
    # Hand calculation: 9/10 against 50%. P(X = k) under Bin(10, 0.5) = C(10, k)/1024.
    # Two-sided exact p = P(X ≥ 9) + P(X ≤ 1) = (1 + 10 + 10 + 1)/1024 = 22/1024 = 0.021484375.
    r = binomial_test_vs_value(9, 10, 50.0)
    assert r.p_value == pytest.approx(22 / 1024, rel=1e-12)
    assert r.ci_low < r.difference < r.ci_high


@settings(max_examples=200)
@given(counts, st.integers(min_value=0, max_value=100))
def test_binomial_p_value_equals_scipy(a, baseline):
    x, n = a
    r = binomial_test_vs_value(x, n, float(baseline))
    assert r.p_value == pytest.approx(min(1.0, binomtest(x, n, baseline / 100).pvalue), rel=1e-12)
    assert r.ci_low <= r.difference <= r.ci_high


def test_binomial_interval_ends_are_exact():
    # stats.wilson_interval(0, 3) returns 5.6e-17 rather than 0 (rounding); the comparison makes the ends exact
    # so that 0/3 against a published 0% gives an interval starting exactly at 0 points.
    assert binomial_test_vs_value(0, 3, 0.0).ci_low == 0.0
    assert binomial_test_vs_value(3, 3, 100.0).ci_high == 0.0


def test_binomial_rejects_bad_value():
    with pytest.raises(ValueError):
        binomial_test_vs_value(5, 10, 120.0)


# --- Holm adjustment -----------------------------------------------------------------------------


def test_holm_hand_example():
    # Hand calculation, m = 4. Sorted: 0.005 (×4 = 0.02), 0.01 (×3 = 0.03), 0.03 (×2 = 0.06), 0.04 (×1 = 0.04)
    # running maximum: 0.02, 0.03, 0.06, 0.06 → back in input order [0.03, 0.06, 0.06, 0.02].
    adjusted = holm_adjust([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)


def test_holm_none_passed_through_and_not_counted():
    # m = 2 (the Nones do not count): 0.01 × 2 = 0.02, then max(0.02, 0.04 × 1) = 0.04.
    adjusted = holm_adjust([None, 0.01, None, 0.04])
    assert adjusted[0] is None
    assert adjusted[2] is None
    assert adjusted[1] == pytest.approx(0.02, abs=1e-12)
    assert adjusted[3] == pytest.approx(0.04, abs=1e-12)


def test_holm_capped_at_one_and_edge_cases():
    # 0.5 × 2 = 1.0, then max(1.0, 0.6 × 1) = 1.0.
    assert holm_adjust([0.5, 0.6]) == [1.0, 1.0]
    # 0.55 × 2 = 1.1 → capped at 1, then max(1.0, 0.6 × 1) = 1.0.
    assert holm_adjust([0.6, 0.55]) == [1.0, 1.0]
    # 0.2 × 2 = 0.4, then max(0.4, 0.7 × 1) = 0.7.
    assert holm_adjust([0.7, 0.2]) == pytest.approx([0.7, 0.4])
    assert holm_adjust([]) == []
    assert holm_adjust([None]) == [None]
    assert holm_adjust([0.03]) == [0.03]  # a single test needs no adjustment
    with pytest.raises(ValueError):
        holm_adjust([0.1, 1.5])
    with pytest.raises(ValueError):
        holm_adjust([float("nan")])


p_lists = st.lists(st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)), max_size=25)


@settings(max_examples=300)
@given(p_lists)
def test_holm_properties(raw):
    adjusted = holm_adjust(raw)
    assert len(adjusted) == len(raw)
    pairs = [(p, a) for p, a in zip(raw, adjusted, strict=True) if p is not None]
    assert all((a is None) == (p is None) for p, a in zip(raw, adjusted, strict=True))
    for p, a in pairs:
        assert p <= a <= 1.0
    # Monotone in the order of the raw p-values.
    for p_i, a_i in pairs:
        for p_j, a_j in pairs:
            if p_i <= p_j:
                assert a_i <= a_j


# --- Verdict -------------------------------------------------------------------------------------


def _result(difference: float, p: float, n: int | None = 100, baseline_n: int | None = 100) -> TestResult:
    return TestResult("two-proportion", 80.0 + difference, 80.0, difference, None, None, p, n, baseline_n)


def test_verdict_strings():
    assert verdict(_result(5.0, 0.01)) == "Tăng có ý nghĩa thống kê" == INCREASE
    assert verdict(_result(-5.0, 0.01)) == "Giảm có ý nghĩa thống kê" == DECREASE
    assert verdict(_result(5.0, 0.20)) == "Chưa khác biệt rõ" == NO_CLEAR_DIFFERENCE
    assert verdict(None) == "Chưa đủ dữ liệu" == NOT_ENOUGH_DATA


def test_verdict_alpha_is_strict_and_adjusted_p_decides():
    assert verdict(_result(5.0, 0.05)) == NO_CLEAR_DIFFERENCE  # p must be below alpha
    assert verdict(_result(5.0, 0.04), adjusted_p=0.12) == NO_CLEAR_DIFFERENCE
    assert verdict(_result(-5.0, 0.20), adjusted_p=0.001) == DECREASE
    assert verdict(_result(5.0, 0.02), alpha=0.01) == NO_CLEAR_DIFFERENCE


def test_verdict_too_few_answers():
    assert verdict(_result(30.0, 0.001, n=5)) == NOT_ENOUGH_DATA
    assert verdict(_result(30.0, 0.001, baseline_n=5)) == NOT_ENOUGH_DATA
    assert verdict(_result(30.0, 0.001, n=5), min_n=5) == INCREASE
    assert verdict(_result(30.0, 0.001, baseline_n=None)) == INCREASE  # published value: no baseline n
    assert verdict(_result(30.0, 0.001, n=None, baseline_n=None)) == INCREASE


def test_verdict_on_real_tests():
    # 56/70 vs 48/80: p = 0.0080 (scipy chi2 above) → increase; Holm with 3 tests (×3 = 0.024) still below 0.05.
    test = two_proportion_test(56, 70, 48, 80)
    assert verdict(test) == INCREASE
    assert verdict(test, adjusted_p=holm_adjust([test.p_value, 0.5, 0.9])[0]) == INCREASE
    # 45/50 vs 40/50: p = 0.161 (hand calculation above) → no clear difference.
    assert verdict(two_proportion_test(45, 50, 40, 50)) == NO_CLEAR_DIFFERENCE
    # 60/100 against a published 80%: exact binomial p far below 0.05 → decrease.
    assert verdict(binomial_test_vs_value(60, 100, 80.0)) == DECREASE


# --- Comparison with the baseline ----------------------------------------------------------------


def test_compare_to_baseline_picks_the_method():
    with_counts = compare_to_baseline(56, 70, 60.0, baseline_n=80, baseline_satisfied=48)
    assert with_counts == two_proportion_test(56, 70, 48, 80)
    published = compare_to_baseline(90, 100, 80.0)
    assert published == binomial_test_vs_value(90, 100, 80.0)
    # Only n, or an empty baseline: treated as a published value.
    assert compare_to_baseline(90, 100, 80.0, baseline_n=50).method == "exact-binomial"
    assert compare_to_baseline(90, 100, 80.0, baseline_n=0, baseline_satisfied=0).method == "exact-binomial"


def test_compare_to_baseline_none_cases():
    assert compare_to_baseline(0, 0, 80.0) is None
    assert compare_to_baseline(0, 0, 80.0, baseline_n=80, baseline_satisfied=48) is None
    assert compare_to_baseline(5, 10, None) is None


# --- Bands ---------------------------------------------------------------------------------------


def test_band_default_boundaries():
    assert DEFAULT_BANDS == (("Tốt", 90.0), ("Khá", 80.0), ("Trung bình", 70.0), ("Yếu", 0.0))
    assert band(100.0) == "Tốt"
    assert band(90.0) == "Tốt"
    assert band(89.999) == "Khá"
    assert band(80.0) == "Khá"
    assert band(79.99) == "Trung bình"
    assert band(70.0) == "Trung bình"
    assert band(69.99) == "Yếu"
    assert band(0.0) == "Yếu"
    assert band(None) is None
    assert band(float("nan")) is None


def test_band_custom_as_stored_in_settings():
    # settings stores bands as lists of [name, lower]; order of the list should not matter.
    bands = [["Đạt", 0.0], ["Xuất sắc", 95.0]]
    assert band(96.0, bands) == "Xuất sắc"
    assert band(94.0, bands) == "Đạt"


# --- p-chart -------------------------------------------------------------------------------------


def test_p_chart_hand_example():
    # Hand calculation. Totals: dissatisfied 10 + 6 + 22 + 2 + 0 = 40, n 100 + 40 + 50 + 10 + 0 = 200, p̄ = 0.2,
    # p̄(1 − p̄) = 0.16.
    # n = 100: 3·√(0.16/100) = 3·0.04 = 0.12            → limits 0.08 .. 0.32;     p = 0.10 in control
    # n = 40:  3·√(0.16/40) = 3·0.0632456 = 0.189737    → limits 0.010263 .. 0.389737; p = 0.15 in control
    # n = 50:  3·√(0.16/50) = 3·0.0565685 = 0.169706    → limits 0.030294 .. 0.369706; p = 0.44 OUT (above)
    # n = 10:  3·√(0.16/10) = 3·0.1264911 = 0.379473    → lower 0.2 − 0.379473 < 0 → 0, upper 0.579473; p = 0.2 in
    # n = 0:   p, lcl, ucl NaN, not out of control.
    chart = p_chart(["T1", "T2", "T3", "T4", "T5"], [10, 6, 22, 2, 0], [100, 40, 50, 10, 0])
    assert list(chart.columns) == ["month", "n", "dissatisfied", "p", "center", "lcl", "ucl", "out_of_control"]
    assert chart["month"].tolist() == ["T1", "T2", "T3", "T4", "T5"]
    assert chart["n"].tolist() == [100, 40, 50, 10, 0]
    assert chart["dissatisfied"].tolist() == [10, 6, 22, 2, 0]
    assert chart["center"].tolist() == pytest.approx([0.2] * 5)
    assert chart["p"].tolist()[:4] == pytest.approx([0.10, 0.15, 0.44, 0.20])
    assert chart["lcl"].tolist()[:4] == pytest.approx([0.08, 0.010263, 0.030294, 0.0], abs=1e-6)
    assert chart["ucl"].tolist()[:4] == pytest.approx([0.32, 0.389737, 0.369706, 0.579473], abs=1e-6)
    assert chart["out_of_control"].tolist() == [False, False, True, False, False]
    assert math.isnan(chart["p"].iloc[4])
    assert math.isnan(chart["lcl"].iloc[4])
    assert math.isnan(chart["ucl"].iloc[4])


def test_p_chart_low_side_and_cap():
    # p̄ = (0 + 20)/(100 + 100) = 0.1; n = 100: 3·√(0.09/100) = 0.09 → limits 0.01 .. 0.19.
    # Month A p = 0.0 < 0.01 → out (below); month B p = 0.2 > 0.19 → out (above).
    chart = p_chart(["A", "B"], [0, 20], [100, 100])
    assert chart["lcl"].tolist() == pytest.approx([0.01, 0.01])
    assert chart["ucl"].tolist() == pytest.approx([0.19, 0.19])
    assert chart["out_of_control"].tolist() == [True, True]
    # p̄ = 1/2, n = 1: 0.5 ± 3·√(0.25/1) = 0.5 ± 1.5 → floored at 0 and capped at 1.
    chart = p_chart(["A", "B"], [0, 1], [1, 1])
    assert chart["lcl"].tolist() == [0.0, 0.0]
    assert chart["ucl"].tolist() == [1.0, 1.0]
    assert chart["out_of_control"].tolist() == [False, False]


def test_p_chart_empty_and_invalid():
    chart = p_chart(["A", "B"], [0, 0], [0, 0])
    assert chart["center"].isna().all()
    assert chart["out_of_control"].tolist() == [False, False]
    assert len(p_chart([], [], [])) == 0
    with pytest.raises(ValueError):
        p_chart(["A"], [1, 2], [3, 4])
    with pytest.raises(ValueError):
        p_chart(["A"], [5], [3])


# --- Precision and target tracking ---------------------------------------------------------------


def test_needed_for_precision_by_hand():
    # Hand calculation: n0 = 1.959964² · 0.25 / 0.05² = 384.146 → 385 answers; 385 − 100 = 285 more.
    assert needed_for_precision(100) == 285
    assert needed_for_precision(385) == 0
    assert needed_for_precision(1000) == 0  # never negative
    # Finite population N = 1000: 384.146 / (1 + 383.146/1000) = 277.7 → 278; 278 − 200 = 78 more.
    assert needed_for_precision(200, population=1000) == 78
    # ±10 points: 1.959964² · 0.25 / 0.01 = 96.04 → 97.
    assert needed_for_precision(0, margin=0.10) == 97
    with pytest.raises(ValueError):
        needed_for_precision(-1)


def test_target_still_reachable_by_hand():
    # 80 of 100 so far, 200 expected, target 85%: need 0.85·200 = 170, i.e. 90 of the remaining 100 → 90%.
    assert target_still_reachable(80, 100, 200, 85.0) == (True, pytest.approx(90.0))
    # 60 of 100, 150 expected, target 90%: need 135, i.e. 75 of the remaining 50 → 150%: unreachable.
    assert target_still_reachable(60, 100, 150, 90.0) == (False, pytest.approx(150.0))
    # 80 of 100, 200 expected, target 90%: need 180, i.e. all 100 remaining → exactly 100%: still reachable.
    assert target_still_reachable(80, 100, 200, 90.0) == (True, pytest.approx(100.0))
    # 190 of 200, 250 expected, target 70%: need 175 < 190 already → 0% needed.
    assert target_still_reachable(190, 200, 250, 70.0) == (True, 0.0)


def test_target_when_no_more_answers_expected():
    # expected_total_n <= n_so_far: judged on the share so far.
    assert target_still_reachable(90, 100, 100, 87.0) == (True, 0.0)
    assert target_still_reachable(90, 100, 80, 87.0) == (True, 0.0)
    assert target_still_reachable(80, 100, 90, 87.0) == (False, math.inf)
    with pytest.raises(ValueError):
        target_still_reachable(0, 0, 0, 87.0)
    with pytest.raises(ValueError):
        target_still_reachable(11, 10, 20, 87.0)
    with pytest.raises(ValueError):
        target_still_reachable(5, 10, 20, 187.0)


@settings(max_examples=300)
@given(
    st.integers(min_value=1, max_value=1000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=0, max_value=100),
)
def test_target_reachable_agrees_with_integer_arithmetic(so_far, extra, target):
    satisfied, n = so_far
    total = n + extra
    reachable, needed = target_still_reachable(satisfied, n, total, float(target))
    # Best case: every remaining answer satisfied; reachable iff 100·(satisfied + extra) ≥ target·total.
    assert reachable == (100 * (satisfied + extra) >= target * total)
    assert needed >= 0.0
    assert (needed <= 100.0 + 1e-9) == reachable
