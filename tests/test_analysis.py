"""The analysis layer: criteria table tests against scipy, filtered counts against a hand tally, trend,
heat map, staff guard, comments, sample size and the year target."""

from __future__ import annotations

import math
import random
from datetime import date

import pandas as pd
import pytest
from scipy.stats import binomtest, chi2_contingency

from sipas import db
from sipas.catalog import questionnaire
from sipas.index import comment_list, comparison, criterion_tables, plan_checks, selection, staff_index, trends
from sipas.index.scoring import compute_index

BANDS = [["Tốt", 90.0], ["Khá", 80.0], ["Trung bình", 70.0], ["Yếu", 0.0]]
Q = questionnaire("sipas-2023")


def counts_for(satisfied: int, n: int) -> tuple[int, int, int, int, int]:
    """n answers of which ``satisfied`` are 4–5 (split 4/5), the rest split over 1–3."""
    rest = n - satisfied
    return (rest // 3, rest // 3, rest - 2 * (rest // 3), satisfied // 2, satisfied - satisfied // 2)


def wilson_scipy(x: int, n: int) -> tuple[float, float]:
    ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


# ------------------------------------------------------------------------------------------- criteria table


@pytest.fixture
def table():
    counts = {
        "TC1.1": counts_for(120, 150),  # vs baseline 140/200: two-proportion, raw p ≈ 0.034
        "TC1.2": counts_for(90, 100),  # vs published 85.0 without counts: exact binomial
        "TC1.3": counts_for(50, 100),  # vs 180/200: a clear decrease
        "TC1.4": counts_for(4, 5),  # too few answers for a verdict
        "TC2.1": counts_for(70, 80),  # no baseline row
        "TC2.2": counts_for(60, 80),  # only a sipas-2017 row: not comparable criterion by criterion
    }
    result = compute_index(Q, counts, 200)
    baseline = [
        {
            "year": 2023,
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.1",
            "index_value": 70.0,
            "n": 200,
            "satisfied": 140,
        },
        {
            "year": 2023,
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.2",
            "index_value": 85.0,
            "n": None,
            "satisfied": None,
        },
        {
            "year": 2023,
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.3",
            "index_value": 90.0,
            "n": 200,
            "satisfied": 180,
        },
        {
            "year": 2023,
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.4",
            "index_value": 90.0,
            "n": 200,
            "satisfied": 180,
        },
        {
            "year": 2023,
            "questionnaire": "sipas-2017",
            "level": "criterion",
            "code": "TC2.2",
            "index_value": 50.0,
            "n": 100,
            "satisfied": 50,
        },
    ]
    return criterion_tables.criteria_table(result, baseline, BANDS).set_index("Mã")


def test_two_proportion_row_matches_scipy_and_newcombe(table):
    row = table.loc["TC1.1"]
    assert row["n"] == 150 and row["Hài lòng"] == 120 and row["Chỉ số (%)"] == pytest.approx(80.0)
    lo, hi = wilson_scipy(120, 150)
    assert (row["KTC 95% thấp"], row["KTC 95% cao"]) == (pytest.approx(100 * lo), pytest.approx(100 * hi))
    assert row["Kiểm định"] == "Hai tỷ lệ (z) + KTC Newcombe"
    # The pooled z test equals Pearson's chi-square without continuity correction on the 2×2 table.
    p = chi2_contingency([[120, 30], [140, 60]], correction=False).pvalue
    assert row["p"] == pytest.approx(p, rel=1e-9)
    assert row["Chênh lệch (điểm %)"] == pytest.approx(10.0)
    # Newcombe (1998) method 10 from Wilson limits computed by scipy (an independent implementation).
    l1, u1 = wilson_scipy(120, 150)
    l2, u2 = wilson_scipy(140, 200)
    d = 0.8 - 0.7
    assert row["KTC chênh lệch thấp"] == pytest.approx(100 * (d - math.hypot(0.8 - l1, u2 - 0.7)), abs=1e-9)
    assert row["KTC chênh lệch cao"] == pytest.approx(100 * (d + math.hypot(u1 - 0.8, 0.7 - l2)), abs=1e-9)


def test_published_value_without_counts_uses_the_exact_binomial_test(table):
    row = table.loc["TC1.2"]
    assert row["Kiểm định"] == "Nhị thức chính xác so với số công bố"
    assert row["p"] == pytest.approx(binomtest(90, 100, 0.85).pvalue, rel=1e-12)
    assert pd.isna(row["Gốc n"])


def test_holm_adjustment_over_the_criteria_with_a_test(table):
    tested = table[table["p"].notna() & (table["Kết luận"] != comparison.NOT_ENOUGH_DATA)]
    assert set(tested.index) == {"TC1.1", "TC1.2", "TC1.3"}
    # Holm by hand: sort ascending, multiply the k-th smallest (k = 1..m) by m − k + 1, running maximum, cap 1.
    raw = tested["p"].sort_values()
    m, running, expected = len(raw), 0.0, {}
    for k, (code, p) in enumerate(raw.items(), start=1):
        running = max(running, min(1.0, (m - k + 1) * p))
        expected[code] = running
    for code, value in expected.items():
        assert table.loc[code, "p (Holm)"] == pytest.approx(value, rel=1e-12)


def test_verdicts_in_plain_vietnamese(table):
    # TC1.1: raw p ≈ 0.034 < 0.05, but Holm over 3 tests gives ≈ 0.068: not a clear difference.
    assert table.loc["TC1.1", "p"] < 0.05 < table.loc["TC1.1", "p (Holm)"]
    assert table.loc["TC1.1", "Kết luận"] == "Chưa khác biệt rõ"
    assert table.loc["TC1.3", "Kết luận"] == "Giảm có ý nghĩa thống kê"
    assert table.loc["TC1.4", "Kết luận"] == "Chưa đủ dữ liệu"
    assert table.loc["TC2.1", "Kết luận"] == "Không có số liệu gốc"
    assert table.loc["TC3.1", "Kết luận"] == "Chưa đủ dữ liệu"  # no answers at all
    assert pd.isna(table.loc["TC2.2", "Gốc (%)"])  # the sipas-2017 row is not comparable


def test_an_increase_is_named():
    result = compute_index(Q, {"TC1.1": counts_for(190, 200)}, 200)
    base = [
        {
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.1",
            "index_value": 80.0,
            "n": 200,
            "satisfied": 160,
        }
    ]
    assert criterion_tables.criteria_table(result, base, BANDS).iloc[0]["Kết luận"] == "Tăng có ý nghĩa thống kê"


def test_weakest_first_and_bands(table):
    order = [c for c in table.index if not pd.isna(table.loc[c, "Chỉ số (%)"])]
    assert order == ["TC1.3", "TC2.2", "TC1.1", "TC1.4", "TC2.1", "TC1.2"]
    assert table.loc["TC1.3", "Xếp loại"] == "Yếu" and table.loc["TC1.2", "Xếp loại"] == "Tốt"


def test_a_staff_member_below_the_minimum_shows_no_number():
    result = compute_index(Q, {"TC3.1": counts_for(8, 9), "TC3.2": counts_for(9, 12)}, 12)
    t = criterion_tables.criteria_table(result, [], BANDS, hide_below=10).set_index("Mã")
    assert pd.isna(t.loc["TC3.1", "Chỉ số (%)"]) and pd.isna(t.loc["TC3.1", "KTC 95% thấp"])
    assert t.loc["TC3.1", "Kết luận"] == "Chưa đủ dữ liệu"
    assert t.loc["TC3.2", "Chỉ số (%)"] == pytest.approx(75.0)


# ------------------------------------------------------------------------------------------- the database

STAFF = ["CB01", "CB02"]


@pytest.fixture
def sample(conn):
    """60 responses over two months with random answers, channels, fields and staff (seeded)."""
    rng = random.Random(7)
    for code in STAFF:
        db.upsert_staff(conn, {"code": code, "full_name": f"Cán bộ {code}"})
    stored = []
    rows = []
    for i in range(60):
        day = date(2024, 3 + i % 2, 1 + i % 28)
        answers = {c: rng.choice([None, 1, 2, 3, 4, 5, 5, 4]) for c in rng.sample(list(Q.criterion_codes), 6)}
        r = {
            "token": f"t{i}",
            "submitted_at": f"{day.isoformat()} {7 + i % 9:02d}:{i % 60:02d}:00",
            "questionnaire": "sipas-2023",
            "channel": rng.choice(["kiosk", "qr", "paper"]),
            "field": rng.choice(["Hộ tịch", "Đất đai"]),
            "staff_code": rng.choice(STAFF + [None]),
            "overall": rng.choice([1, 2, 3, 4, 5, 5, None]),
            "comment": f"Góp ý số {i}: phải chờ lâu" if i % 10 == 0 else None,
        }
        rows.append((r, answers))
        stored.append((r, answers))
    with db.transaction(conn):
        db.insert_responses(conn, rows)
    ids = {r[0]: r[1] for r in conn.execute("SELECT token, id FROM responses")}
    return [(ids[r["token"]], r, a) for r, a in stored]


def tally(sample, keep) -> dict:
    out: dict[str, list[int]] = {}
    for _, r, answers in sample:
        if not keep(r):
            continue
        for code, v in list(answers.items()) + [("overall", r["overall"])]:
            if v is not None:
                out.setdefault(code, [0] * 5)[v - 1] += 1
    return {k: tuple(v) for k, v in out.items()}


@pytest.mark.parametrize(
    "filters, keep",
    [
        ({}, lambda r: True),
        ({"channel": "kiosk"}, lambda r: r["channel"] == "kiosk"),
        ({"field": "Đất đai", "staff_code": "CB02"}, lambda r: r["field"] == "Đất đai" and r["staff_code"] == "CB02"),
        ({"date_from": "2024-04-01", "date_to": "2024-04-30"}, lambda r: r["submitted_at"].startswith("2024-04")),
        ({"date_from": "2024-03-05", "date_to": "2024-03-05"}, lambda r: r["submitted_at"].startswith("2024-03-05")),
    ],
)
def test_filtered_counts_equal_a_hand_tally(conn, sample, filters, keep):
    f = selection.Filters("sipas-2023", **filters)
    counts, responses = selection.level_counts_for(conn, f)
    expected = tally(sample, keep)
    assert {k: v for k, v in counts.items() if sum(v)} == {k: v for k, v in expected.items() if sum(v)}
    assert responses == sum(1 for _, r, _ in sample if keep(r))


def test_roll_up_and_sql_paths_agree_and_excluded_are_left_out_unless_asked(conn, sample):
    first = sample[0][0]
    db.set_excluded(conn, first, True, "thử", "test")
    rollup = selection.Filters("sipas-2023")
    assert rollup.uses_rollup
    counts, n = selection.level_counts_for(conn, rollup)
    assert {k: v for k, v in counts.items() if sum(v)} == db.filtered_level_counts(conn, **rollup.as_kwargs())
    assert n == 59
    with_excluded = selection.Filters("sipas-2023", include_excluded=True)
    assert not with_excluded.uses_rollup
    assert selection.level_counts_for(conn, with_excluded)[1] == 60
    assert selection.level_counts_for(conn, with_excluded)[0] == tally(sample, lambda r: True)


def test_monthly_trend_and_p_chart(conn, sample):
    f = selection.Filters("sipas-2023", "2024-03-01", "2024-04-30")
    trend = trends.monthly_trend(conn, f)
    assert list(trend["Tháng"]) == ["2024-03", "2024-04"]
    for month in ("2024-03", "2024-04"):
        ov = [r["overall"] for _, r, _ in sample if r["submitted_at"].startswith(month) and r["overall"]]
        row = trend[trend["Tháng"] == month].iloc[0]
        assert row["Câu hỏi chung n"] == len(ov)
        assert row["Không hài lòng (1–2)"] == sum(v <= 2 for v in ov)
        assert row["Số phiếu"] == sum(r["submitted_at"].startswith(month) for _, r, _ in sample)
        by_month = selection.index_for_filters(conn, selection.Filters("sipas-2023", f"{month}-01", f"{month}-31"))
        assert row["Chỉ số chung (%)"] == pytest.approx(by_month.overall)
    pc = trends.monthly_p_chart(trend)
    d, n = trend["Không hài lòng (1–2)"].astype(int), trend["Câu hỏi chung n"].astype(int)
    pbar = d.sum() / n.sum()
    for i in range(2):
        spread = 3 * math.sqrt(pbar * (1 - pbar) / n[i])  # sipas-method.md §2: p̄ ± 3·√(p̄(1−p̄)/nᵢ), floor 0
        assert pc["ucl"][i] == pytest.approx(pbar + spread)
        assert pc["lcl"][i] == pytest.approx(max(0.0, pbar - spread))


def test_trend_window_is_twelve_months_ending_with_the_period():
    f = trends.trend_filters(selection.Filters("sipas-2023", "2024-03-01", "2024-03-31"))
    assert (f.date_from, f.date_to) == ("2023-04-01", "2024-03-31")
    f = trends.trend_filters(selection.Filters("sipas-2023", "2022-01-01", "2024-03-31"))
    assert f.date_from == "2022-01-01"


def test_weekday_hour_table(conn, sample):
    table = trends.weekday_hour_table(conn, selection.Filters("sipas-2023"), min_cell_n=1)
    expected: dict[tuple[int, int], list[int]] = {}
    for _, r, _ in sample:
        if r["overall"] is None:
            continue
        ts = pd.Timestamp(r["submitted_at"])
        cell = expected.setdefault((ts.weekday(), ts.hour), [0, 0])
        cell[0] += 1
        cell[1] += r["overall"] >= 4
    got = {(int(x.weekday), int(x["Giờ"])): [int(x.n), int(x["Hài lòng"])] for _, x in table.iterrows()}
    assert got == expected
    assert set(table["Thứ"]) <= {"Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"}


def test_staff_table_guards_small_numbers(conn, sample):
    frame = staff_index.staff_table(conn, selection.Filters("sipas-2023"), db.list_staff(conn), min_n=15).set_index(
        "Mã"
    )
    for code in STAFF:
        mine = [(r, a) for _, r, a in sample if r["staff_code"] == code]
        answers = [v for _, a in mine for c, v in a.items() if c.startswith("TC3.") and v is not None]
        assert frame.loc[code, "Số phiếu"] == len(mine)
        assert frame.loc[code, "Câu trả lời"] == len(answers)
        if len(mine) >= 15:
            assert frame.loc[code, "Chỉ số yếu tố 3 (%)"] == pytest.approx(
                100 * sum(v >= 4 for v in answers) / len(answers)
            )
    few = staff_index.staff_table(conn, selection.Filters("sipas-2023"), db.list_staff(conn), min_n=10_000)
    assert set(few["Ghi chú"]) == {"Chưa đủ dữ liệu"} and few["Chỉ số yếu tố 3 (%)"].isna().all()


def test_comments_newest_first_with_ratings_and_search_without_diacritics(conn, sample):
    frame, total = comment_list.comments_table(conn, selection.Filters("sipas-2023"), query="cho lau")
    with_comment = sorted([(r["submitted_at"], i, a) for i, r, a in sample if r["comment"]], reverse=True)
    assert total == len(with_comment) == 6
    assert list(frame["Mã phiếu"]) == [i for _, i, _ in with_comment]
    first_answers = with_comment[0][2]
    assert frame.iloc[0]["Đánh giá"] == ", ".join(
        f"{k}: {'KYK' if v is None else v}" for k, v in sorted(first_answers.items())
    )
    assert set(frame["Chủ đề"]) == {"Chờ đợi"}
    assert comment_list.comments_table(conn, selection.Filters("sipas-2023"), query="thai do")[1] == 0
    assert comment_list.comments_table(conn, selection.Filters("sipas-2023"), topic="Phí/lệ phí")[1] == 0


# ------------------------------------------------------------------------------------------- sizes, periods


def test_sample_status_uses_the_least_answered_criterion():
    counts = {c: counts_for(90, 100) for c in Q.criterion_codes}
    counts["TC4.2"] = counts_for(40, 50)
    s = plan_checks.sample_status(compute_index(Q, counts, 100))
    # n₀ = 1.96² · 0.25 / 0.05² = 384.15 → 385 (sipas-method.md §2 says 384 with z rounded to 1.96).
    assert (s.code, s.n, s.required, s.needed) == ("TC4.2", 50, 385, 335)
    # With N = 600 dossiers: 384.15 / (1 + 383.15 / 600) = 234.4 → 235.
    s = plan_checks.sample_status(compute_index(Q, counts, 100), population=600)
    assert (s.required, s.needed) == (235, 185)


def test_year_target_status_from_the_database(conn, sample):
    f = selection.Filters("sipas-2023")
    t = plan_checks.year_target_status(conn, f, 2024, 87.0, today=date(2024, 4, 30))
    answers = [v for _, _, a in sample for v in a.values() if v is not None]
    assert (t.n, t.satisfied) == (len(answers), sum(v >= 4 for v in answers))
    assert t.expected_total == math.ceil(len(answers) * 366 / 121)  # 2024: 366 days, 121 to 30 April
    needed = (87.0 * t.expected_total - 100 * t.satisfied) / (t.expected_total - t.n)
    assert t.needed_share == pytest.approx(max(0.0, needed))
    assert t.reachable is (needed <= 100)


@pytest.mark.parametrize(
    "args, expected",
    [
        (("month", 2024, 2), ("2024-02-01", "2024-02-29")),
        (("month", 2023, 2), ("2023-02-01", "2023-02-28")),
        (("quarter", 2024, 3), ("2024-07-01", "2024-09-30")),
        (("year", 2025), ("2025-01-01", "2025-12-31")),
    ],
)
def test_period_bounds(args, expected):
    assert selection.period_bounds(*args) == expected


def test_custom_period_is_ordered():
    assert selection.period_bounds("custom", 2024, custom=(date(2024, 5, 9), date(2024, 5, 1))) == (
        "2024-05-01",
        "2024-05-09",
    )
