"""Erlang C staffing (sipas.staffing.erlang): reference values, independent formulas, validation, CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from sipas.errors import ValidationError
from sipas.staffing.erlang import (
    StaffingResult,
    counters_needed,
    erlang_b,
    erlang_c,
    evaluate,
    hour_requirement,
    staffing_command,
    traffic_erlangs,
)

JSON_KEYS = {"counters", "service_level", "p_wait", "mean_wait_minutes", "occupancy"}


# --------------------------------------------------------------------------- independent formulas


def erlang_c_factorial(n: int, a: float) -> float:
    """Textbook Erlang C straight from the definition, with factorials (small N only)."""
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def erlang_c_poisson(n: int, a: float) -> float:
    """Erlang C from Poisson probabilities (scipy): B = pmf(N)/cdf(N), C = N·B / (N − A(1 − B))."""
    b = poisson.pmf(n, a) / poisson.cdf(n, a)
    return n * b / (n - a * (1 - b))


# --------------------------------------------------------------------------- reference table (sipas-method.md §3)

TABLE = [
    # arrivals/h, service min, target wait min, A, counters, SL, P(wait), mean wait min
    (6, 15, 15, 1.5, 3, 0.947, 0.237, 2.37),
    (10, 15, 15, 2.5, 4, 0.929, 0.320, 3.20),
    (12, 20, 15, 4.0, 6, 0.936, 0.285, 2.85),
]


@pytest.mark.parametrize(("arrivals", "service", "target", "a", "n", "sl", "pw", "wait"), TABLE)
def test_reference_table_counters_needed(arrivals, service, target, a, n, sl, pw, wait):
    r = counters_needed(arrivals, service, target, service_level=0.8)
    assert r.traffic == pytest.approx(a)
    assert r.counters == n
    assert round(r.service_level, 3) == sl
    assert round(r.p_wait, 3) == pw
    assert round(r.mean_wait_minutes, 2) == wait
    assert r.occupancy == pytest.approx(a / n)


@pytest.mark.parametrize(("arrivals", "service", "target", "a", "n", "sl", "pw", "wait"), TABLE)
def test_reference_table_is_minimal(arrivals, service, target, a, n, sl, pw, wait):
    # One counter fewer is either unstable (N <= A) or below 80%.
    if n - 1 > a:
        assert evaluate(n - 1, arrivals, service, target).service_level < 0.8
    assert evaluate(n, arrivals, service, target).service_level >= 0.8


@pytest.mark.parametrize(("arrivals", "service", "target", "a", "n", "sl", "pw", "wait"), TABLE)
def test_reference_table_evaluate_matches_counters_needed(arrivals, service, target, a, n, sl, pw, wait):
    assert evaluate(n, arrivals, service, target) == counters_needed(arrivals, service, target)


# --------------------------------------------------------------------------- contact-centre textbook case
# 100 calls per 30 minutes = 200 per hour, 3 minutes each (A = 10 Erlangs), target 20 seconds.


def test_textbook_traffic():
    assert traffic_erlangs(200, 3) == pytest.approx(10.0)


def test_textbook_14_agents():
    r = evaluate(14, 200, 3, 20 / 60)
    assert round(r.p_wait, 5) == 0.17413
    assert round(r.service_level, 5) == 0.88835
    assert round(erlang_c(14, 10.0), 5) == 0.17413


def test_textbook_13_agents():
    r = evaluate(13, 200, 3, 20 / 60)
    assert round(r.service_level, 5) == 0.79559


def test_textbook_counters_needed_is_14():
    r = counters_needed(200, 3, 20 / 60, service_level=0.8)
    assert r.counters == 14
    assert round(r.service_level, 5) == 0.88835


# --------------------------------------------------------------------------- other independent values


def test_erlang_b_textbook_value():
    # Erlang B table: 10 circuits, 5 Erlangs -> blocking 0.01838.
    assert round(erlang_b(10, 5.0), 5) == 0.01838
    expected = (5.0**10 / math.factorial(10)) / sum(5.0**k / math.factorial(k) for k in range(11))
    assert erlang_b(10, 5.0) == pytest.approx(expected, rel=1e-12)


def test_erlang_b_edge_cases():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_erlang_c_closed_forms():
    # M/M/1: C(1, A) = A.  M/M/2: C(2, A) = A^2 / (2 + A).
    for a in (0.1, 0.5, 0.9):
        assert erlang_c(1, a) == pytest.approx(a, rel=1e-12)
    for a in (0.2, 1.0, 1.9):
        assert erlang_c(2, a) == pytest.approx(a * a / (2 + a), rel=1e-12)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


@pytest.mark.parametrize("n", range(1, 31))
def test_erlang_c_matches_factorial_formula(n):
    for frac in (0.05, 0.3, 0.6, 0.9, 0.99):
        a = n * frac
        assert erlang_c(n, a) == pytest.approx(erlang_c_factorial(n, a), rel=1e-10)


@pytest.mark.parametrize(("n", "a"), [(50, 40.0), (100, 95.0), (200, 180.0), (200, 199.5), (500, 480.0)])
def test_erlang_c_large_n_matches_scipy(n, a):
    c = erlang_c(n, a)
    assert 0.0 <= c <= 1.0
    assert c == pytest.approx(erlang_c_poisson(n, a), rel=1e-8)


def test_erlang_c_zero_traffic():
    assert erlang_c(1, 0.0) == 0.0
    assert erlang_c(200, 0.0) == 0.0


def test_erlang_c_very_large_n_is_finite():
    c = erlang_c(5000, 4900.0)
    assert math.isfinite(c)
    assert 0.0 < c < 1.0


@pytest.mark.parametrize(
    ("n", "a"),
    [(3, 3.0), (3, 4.5), (0, 0.0), (-1, 0.5), (2.0, 1.0), (True, 0.5), (3, -0.1), (3, math.nan), (3, math.inf)],
)
def test_erlang_c_rejects_bad_input(n, a):
    with pytest.raises(ValueError):
        erlang_c(n, a)


def test_erlang_c_accepts_numpy_integers():
    import numpy as np

    assert erlang_c(np.int64(14), np.float64(10.0)) == pytest.approx(erlang_c(14, 10.0))


# --------------------------------------------------------------------------- results and edge cases


def test_zero_arrivals_need_no_counter():
    r = counters_needed(0, 15, 15)
    assert r == StaffingResult(
        counters=0, traffic=0.0, service_level=1.0, p_wait=0.0, mean_wait_minutes=0.0, occupancy=0.0
    )
    assert evaluate(0, 0, 15, 15).service_level == 1.0
    assert evaluate(2, 0, 15, 15).p_wait == 0.0


def test_zero_target_wait_is_one_minus_p_wait():
    r = evaluate(4, 10, 15, 0)
    assert r.service_level == pytest.approx(1 - r.p_wait)


def test_fractional_traffic_starts_above_traffic():
    # A = 2.0 exactly: N = 2 is unstable, so the search starts at 3.
    r = counters_needed(8, 15, 15, service_level=0.01)
    assert r.traffic == pytest.approx(2.0)
    assert r.counters == 3


def test_large_staffing_problem():
    # 1800 arrivals an hour of 6 minutes: A = 180 Erlangs, the answer is in the 190s.
    r = counters_needed(1800, 6, 0.5, service_level=0.8)
    assert 180 < r.counters < 200
    assert r.service_level >= 0.8
    assert evaluate(r.counters - 1, 1800, 6, 0.5).service_level < 0.8


def test_max_counters_exceeded():
    with pytest.raises(ValidationError) as exc:
        counters_needed(1800, 6, 0.5, max_counters=50)
    assert "50 quầy" in str(exc.value)


def test_to_json_dict():
    r = counters_needed(6, 15, 15)
    d = r.to_json_dict()
    assert set(d) == JSON_KEYS
    assert list(d) == ["counters", "service_level", "p_wait", "mean_wait_minutes", "occupancy"]
    assert isinstance(d["counters"], int)
    assert d["counters"] == 3
    assert d["service_level"] == r.service_level  # full precision, not rounded
    assert all(isinstance(d[k], float) for k in JSON_KEYS - {"counters"})
    assert json.loads(json.dumps(d)) == d


def test_result_is_frozen():
    r = counters_needed(6, 15, 15)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.counters = 99  # type: ignore[misc]


# --------------------------------------------------------------------------- validation (Vietnamese messages)


def _problems(func, *args, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        func(*args, **kwargs)
    return exc.value.problems


def test_negative_arrivals_message():
    assert _problems(counters_needed, -1, 15, 15) == ["Số lượt đến mỗi giờ không được âm."]


@pytest.mark.parametrize("service", [0, -5])
def test_service_time_message(service):
    assert _problems(counters_needed, 6, service, 15) == ["Thời gian phục vụ phải lớn hơn 0 phút."]


def test_negative_target_wait_message():
    assert _problems(counters_needed, 6, 15, -1) == ["Thời gian chờ mục tiêu không được âm."]


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2, math.nan])
def test_service_level_message(level):
    assert _problems(counters_needed, 6, 15, 15, service_level=level) == [
        "Mức phục vụ phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0.8)."
    ]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_inputs(bad):
    assert _problems(counters_needed, bad, 15, 15) == ["Số lượt đến mỗi giờ phải là một số hữu hạn."]
    assert _problems(counters_needed, 6, bad, 15) == ["Thời gian phục vụ phải là một số hữu hạn."]
    assert _problems(counters_needed, 6, 15, bad) == ["Thời gian chờ mục tiêu phải là một số hữu hạn."]


def test_non_numbers_rejected():
    assert _problems(counters_needed, "6", 15, 15) == ["Số lượt đến mỗi giờ phải là một số."]
    assert _problems(counters_needed, None, 15, 15) == ["Số lượt đến mỗi giờ phải là một số."]


def test_all_problems_listed_together():
    problems = _problems(counters_needed, -1, 0, -1, service_level=1)
    assert problems == [
        "Số lượt đến mỗi giờ không được âm.",
        "Thời gian phục vụ phải lớn hơn 0 phút.",
        "Thời gian chờ mục tiêu không được âm.",
        "Mức phục vụ phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0.8).",
    ]


def test_evaluate_rejects_too_few_counters():
    problems = _problems(evaluate, 2, 10, 15, 15)  # A = 2.5
    assert len(problems) == 1
    assert problems[0].startswith("Số quầy (2) phải lớn hơn lưu lượng")


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_evaluate_rejects_bad_counters(n):
    assert _problems(evaluate, n, 6, 15, 15) == ["Số quầy phải là số nguyên không âm."]


# --------------------------------------------------------------------------- CLI


def test_cli_json(capsys):
    code = staffing_command(
        [
            "--arrivals-per-hour",
            "6",
            "--service-minutes",
            "15",
            "--target-wait",
            "15",
            "--service-level",
            "0.8",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == JSON_KEYS
    assert data["counters"] == 3
    assert round(data["service_level"], 3) == 0.947
    assert round(data["p_wait"], 3) == 0.237
    assert round(data["mean_wait_minutes"], 2) == 2.37
    assert data["occupancy"] == pytest.approx(0.5)


def test_cli_defaults(capsys):
    # --target-wait defaults to 15 and --service-level to 0.8: row 3 of the table.
    code = staffing_command(["--arrivals-per-hour", "12", "--service-minutes", "20", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["counters"] == 6


def test_cli_zero_arrivals(capsys):
    code = staffing_command(["--arrivals-per-hour", "0", "--service-minutes", "15", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data == {"counters": 0, "service_level": 1.0, "p_wait": 0.0, "mean_wait_minutes": 0.0, "occupancy": 0.0}


def test_cli_text_summary(capsys):
    code = staffing_command(["--arrivals-per-hour", "6", "--service-minutes", "15"])
    out = capsys.readouterr().out
    assert code == 0
    assert len(out.strip().splitlines()) == 1
    assert out.startswith("Cần 3 quầy: 94,7%")
    assert "15 phút" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--arrivals-per-hour", "-1", "--service-minutes", "15"], "Số lượt đến mỗi giờ không được âm."),
        (["--arrivals-per-hour", "6", "--service-minutes", "0"], "Thời gian phục vụ phải lớn hơn 0 phút."),
        (["--arrivals-per-hour", "6", "--service-minutes", "15", "--target-wait", "-3"], "Thời gian chờ mục tiêu"),
        (["--arrivals-per-hour", "6", "--service-minutes", "15", "--service-level", "1"], "Mức phục vụ phải"),
        (["--arrivals-per-hour", "6", "--service-minutes", "15", "--service-level", "1.2"], "Mức phục vụ phải"),
        (["--arrivals-per-hour", "nan", "--service-minutes", "15"], "phải là một số hữu hạn."),
    ],
)
def test_cli_bad_inputs_exit_1(capsys, argv, message):
    code = staffing_command([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert message in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--service-minutes", "15"],
        ["--arrivals-per-hour", "abc", "--service-minutes", "15"],
        ["--arrivals-per-hour", "6", "--service-minutes", "15", "--bogus"],
    ],
)
def test_cli_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        staffing_command(argv)
    assert exc.value.code == 2
    assert "python -m sipas staffing" in capsys.readouterr().err


# --------------------------------------------------------------------------- one hour (the staffing table's rule)


def test_hour_requirement_needed_and_what_the_open_counters_give():
    # 12 arrivals an hour of 20 minutes: A = 4 erlangs; 80 % within 15 minutes needs 6 counters.
    needed, current = hour_requirement(12, 5, 20, 15, 0.8)
    assert needed == counters_needed(12, 20, 15, 0.8)
    assert needed.counters == 6
    # 5 counters open for A = 4: the metrics of N = 5, below 80 %.
    five = evaluate(5, 12, 20, 15)
    assert current.counters == 5
    assert current.service_level == pytest.approx(five.service_level)
    assert current.p_wait == pytest.approx(five.p_wait)
    assert current.service_level < 0.8
    # 6 arrivals an hour with 4 open: enough (4 needed).
    needed, current = hour_requirement(6, 4, 20, 15, 0.8)
    assert (needed.counters, current.counters) == (4, 4)
    assert current.service_level >= 0.8


def test_hour_requirement_nobody_arrives():
    needed, current = hour_requirement(0, 0, 20, 15, 0.8)
    assert needed.counters == 0
    assert current.service_level == 1.0
    assert current.mean_wait_minutes == 0.0


def test_hour_requirement_too_few_counters_is_the_limit():
    # 3 counters for A = 4 have no steady state: everyone waits, without end.
    needed, current = hour_requirement(12, 3, 20, 15, 0.8)
    assert needed.counters == 6
    assert current.p_wait == 1.0
    assert current.service_level == 0.0
    assert math.isinf(current.mean_wait_minutes)
    assert current.occupancy == 1.0


def test_hour_requirement_bad_settings():
    assert _problems(hour_requirement, 6, 3, 0, 15, 0.8) == ["Thời gian phục vụ phải lớn hơn 0 phút."]


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(
    traffic=st.floats(min_value=0.0, max_value=150.0, allow_nan=False),
    extra=st.integers(min_value=1, max_value=40),
    service=st.floats(min_value=0.5, max_value=60.0),
    target=st.floats(min_value=0.0, max_value=60.0),
)
def test_service_level_increases_with_counters(traffic, extra, service, target):
    arrivals = traffic * 60.0 / service
    a = traffic_erlangs(arrivals, service)
    n0 = math.floor(a) + 1
    previous = None
    for n in range(n0, n0 + extra + 1):
        r = evaluate(n, arrivals, service, target)
        assert 0.0 <= r.p_wait <= 1.0
        assert 0.0 <= r.service_level <= 1.0
        assert r.mean_wait_minutes >= 0.0
        assert 0.0 <= r.occupancy < 1.0
        if previous is not None:
            assert r.service_level >= previous.service_level - 1e-12
            assert r.p_wait <= previous.p_wait + 1e-12
            assert r.mean_wait_minutes <= previous.mean_wait_minutes + 1e-12
        previous = r


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=1, max_value=60), frac=st.floats(min_value=0.0, max_value=0.999))
def test_erlang_c_in_unit_interval_and_matches_factorial(n, frac):
    a = n * frac
    c = erlang_c(n, a)
    assert 0.0 <= c <= 1.0
    assert c >= erlang_b(n, a) - 1e-15  # waiting is at least as likely as blocking
    assert c == pytest.approx(erlang_c_factorial(n, a), rel=1e-9, abs=1e-300)


@settings(max_examples=150, deadline=None)
@given(
    arrivals=st.floats(min_value=0.0, max_value=600.0, allow_nan=False),
    service=st.floats(min_value=0.5, max_value=45.0),
    target=st.floats(min_value=0.0, max_value=30.0),
    level=st.floats(min_value=0.05, max_value=0.99),
)
def test_counters_needed_is_smallest(arrivals, service, target, level):
    r = counters_needed(arrivals, service, target, service_level=level)
    if r.traffic == 0:
        assert r.counters == 0
        return
    assert r.counters > r.traffic
    assert r.service_level >= level - 1e-12
    if r.counters - 1 > r.traffic:
        assert evaluate(r.counters - 1, arrivals, service, target).service_level < level
