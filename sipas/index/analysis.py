"""Reading the index out of the database (the glue between db queries and pure scoring)."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import asdict, dataclass, replace
from datetime import date
from functools import lru_cache

from sipas import clock, db
from sipas.catalog import CONDUCT_ELEMENT, questionnaire
from sipas.index import comparison
from sipas.index.scoring import IndexResult, compute_index, index_for_period  # noqa: F401 (analysis.index_for_period)
from sipas.index.stats import proportion

# Below this many responses (or answers to a criterion) the plan's rules are not judged: with n < 30
# the interval is wider than ±18 points, so a "chưa đạt" would be noise. sipas-method.md §2.
MIN_VERDICT_N = 30
NOT_ENOUGH_TO_JUDGE = "chưa đủ phiếu để kết luận"


def small_sample_warning(result: IndexResult, min_n: int = MIN_VERDICT_N, margin: float = 0.05) -> str | None:
    """A plain warning when the period's figures rest on too few answers, or None when they do not.

    >>> from sipas.index.scoring import compute_index
    >>> r = compute_index(questionnaire("sipas-2023"), {}, 13)
    >>> small_sample_warning(r).startswith("Chỉ có 13 phiếu")
    True
    """
    from sipas import clock
    from sipas.index import stats

    if result.responses < min_n:
        return (
            f"Chỉ có {result.responses} phiếu trong kỳ (cần ít nhất {min_n}): các con số dưới đây chỉ để tham "
            f"khảo, {NOT_ENOUGH_TO_JUDGE}."
        )
    answered = [c.n for c in result.criteria if c.n]
    need = stats.sample_size(margin=margin)
    if answered and min(answered) < need:
        return (
            f"Tiêu chí ít câu trả lời nhất có {min(answered)} câu trả lời, chưa đủ {need} câu để sai số "
            f"±{clock.format_plain(margin * 100)}% (tin cậy 95%): đọc các chênh lệch nhỏ một cách thận trọng."
        )
    return None


def rule_checklist(
    result: IndexResult, targets: dict, bands: list, min_n: int = MIN_VERDICT_N
) -> list[tuple[str, bool | None, str]]:
    """The 2024 plan's three rules: (rule, passed or None when unknown, what fails).

    With fewer than ``min_n`` responses no rule is judged (None, "chưa đủ phiếu để kết luận"); a
    criterion with fewer than ``min_n`` answers is left out of the lists of failures.
    """
    from sipas import clock
    from sipas.catalog import questionnaire as get_q

    q = get_q(result.questionnaire)
    names = {c.code: c.code for c in q.criteria}
    overall_t, floor = targets["overall"], targets["floor"]
    weakest = bands[-1][0] if bands else "Yếu"
    titles = (
        f"Chỉ số chung ≥ {clock.format_plain(overall_t)}%",
        f"Không yếu tố, tiêu chí nào dưới {clock.format_plain(floor)}%",
        f"Không chỉ số nào ở mức “{weakest}”",
    )
    if 0 < result.responses < min_n:
        return [(t, None, f"{result.responses} phiếu, {NOT_ENOUGH_TO_JUDGE}.") for t in titles]
    judged = [c for c in result.criteria if c.index is not None and c.n >= min_n]
    rules = []
    if result.overall is None:
        rules.append((titles[0], None, "Chưa có dữ liệu."))
    else:
        ok = result.overall >= overall_t
        rules.append((titles[0], ok, "" if ok else f"Chỉ số chung {clock.format_percent(result.overall, 2)}."))
    low = [
        f"Yếu tố {e.code} ({clock.format_percent(e.index, 2)})"
        for e in result.elements
        if e.index is not None and e.index < floor
    ]
    low += [f"{names[c.code]} ({clock.format_percent(c.index, 2)})" for c in judged if c.index < floor]
    has_any = bool(judged)
    rules.append((titles[1], None if not has_any else not low, "; ".join(low)))
    weak = [f"Yếu tố {e.code}" for e in result.elements if comparison.band(e.index, bands) == weakest]
    weak += [c.code for c in judged if comparison.band(c.index, bands) == weakest]
    if result.overall is not None and comparison.band(result.overall, bands) == weakest:
        weak.insert(0, "Chỉ số chung")
    rules.append((titles[2], None if not has_any else not weak, "; ".join(weak)))
    return rules


def criterion_baseline(baseline: list[dict], version: str):
    """The baseline criterion rows compared with each criterion of ``version`` (see sipas.catalog.crosswalk)."""
    from sipas.catalog.crosswalk import criterion_baseline as through_crosswalk

    return through_crosswalk(baseline, version)


def _comparison_words(code: str, entry: dict | None, base) -> str:
    from sipas.catalog import crosswalk

    if code in base.unmatched:
        return crosswalk.NOT_IN_BASELINE
    if entry is None:
        return ""
    words = crosswalk.comparison_note(entry)
    if entry["baseline_code"] != code:
        words = f"{words} (gốc: {entry['baseline_code']})" if words else f"Gốc: {entry['baseline_code']}"
    return words


def unmatched_criteria(result: IndexResult, baseline: list[dict], office: str | None = None) -> list[tuple[str, str]]:
    """(code, statement) of the criteria that have no counterpart in the baseline's questionnaire: they
    are listed apart, "không có trong mẫu phiếu năm gốc", and never compared."""
    texts = questionnaire(result.questionnaire).texts(office)
    return [(code, texts[code]) for code in criterion_baseline(baseline, result.questionnaire).unmatched]


# ---------------------------------------------------------------------------------------------
# The analysis page and the monthly report: filters, criteria table with tests, trend, heat map,
# staff, comments, sample size. Queries come from sipas.db; everything here returns plain values.
# ---------------------------------------------------------------------------------------------

CHANNEL_LABELS = {"kiosk": "Máy tính bảng", "qr": "Mã QR", "paper": "Phiếu giấy"}
METHOD_LABELS = {
    "two-proportion": "Hai tỷ lệ (z) + KTC Newcombe",
    "exact-binomial": "Nhị thức chính xác so với số công bố",
}
NO_BASELINE = "Không có số liệu gốc"
# An element's index is the mean of its criteria's indices and one citizen answers several criteria:
# no binomial test fits it, even when the baseline gives the element's n and satisfied.
ELEMENT_TEST = "Không kiểm định: chỉ số yếu tố là trung bình các tiêu chí (xem kiểm định từng tiêu chí)"
MIN_CELL_N = 5  # heat-map cells with fewer answers show no share


@dataclass(frozen=True)
class Filters:
    """What the clerk picked: one questionnaire version and a date range, optionally narrowed."""

    questionnaire: str
    date_from: str | None = None
    date_to: str | None = None
    channel: str | None = None
    field: str | None = None
    staff_code: str | None = None
    include_excluded: bool = False

    @property
    def uses_rollup(self) -> bool:
        """Only version and dates can be answered from the daily roll-up."""
        return not (self.channel or self.field or self.staff_code or self.include_excluded)

    def as_kwargs(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """The filters in words, for captions and reports."""
        from sipas.catalog import version_label

        parts = [version_label(self.questionnaire)]
        if self.date_from or self.date_to:
            parts.append(f"từ {_vn_date(self.date_from) or '…'} đến {_vn_date(self.date_to) or '…'}")
        if self.channel:
            parts.append(f"kênh {CHANNEL_LABELS.get(self.channel, self.channel)}")
        if self.field:
            parts.append(f"lĩnh vực {self.field}")
        if self.staff_code:
            parts.append(f"cán bộ {self.staff_code}")
        parts.append("gồm cả phiếu đã loại" if self.include_excluded else "không tính phiếu đã loại")
        return ", ".join(parts)


def _vn_date(iso: str | None) -> str | None:
    if not iso:
        return None
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def period_bounds(
    kind: str, year: int, number: int | None = None, custom: tuple[date, date] | None = None
) -> tuple[str, str]:
    """(first day, last day) ISO dates of a month, quarter, year, or a custom range.

    >>> period_bounds("month", 2024, 2), period_bounds("quarter", 2024, 4), period_bounds("year", 2023)
    (('2024-02-01', '2024-02-29'), ('2024-10-01', '2024-12-31'), ('2023-01-01', '2023-12-31'))
    """
    if kind == "month":
        if number is None or not 1 <= number <= 12:
            raise ValueError("month must be 1–12")
        return date(year, number, 1).isoformat(), clock.month_end(date(year, number, 1)).isoformat()
    if kind == "quarter":
        if number is None or not 1 <= number <= 4:
            raise ValueError("quarter must be 1–4")
        first, last = clock.quarter_bounds(year, number)
        return first.isoformat(), last.isoformat()
    if kind == "year":
        return date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
    if kind == "custom":
        if not custom:
            raise ValueError("custom needs (from, to)")
        a, b = sorted(custom)
        return a.isoformat(), b.isoformat()
    raise ValueError(f"unknown period kind {kind!r}")


def level_counts_for(conn: sqlite3.Connection, f: Filters) -> tuple[dict, int]:
    """(counts per criterion and 'overall', responses): roll-up when possible, else aggregated in SQL."""
    if f.uses_rollup:
        return (
            db.level_counts(conn, f.questionnaire, f.date_from, f.date_to),
            db.responses_in_range(conn, f.questionnaire, f.date_from, f.date_to),
        )
    return db.filtered_counts(conn, **f.as_kwargs())


def index_for_filters(conn: sqlite3.Connection, f: Filters) -> IndexResult:
    """The index of the responses matching ``f``."""
    counts, responses = level_counts_for(conn, f)
    return compute_index(questionnaire(f.questionnaire), counts, responses)


CRITERIA_COLUMNS = [
    "Mã",
    "Yếu tố",
    "Tiêu chí",
    "n",
    "Hài lòng",
    "Chỉ số (%)",
    "KTC 95% thấp",
    "KTC 95% cao",
    "Gốc (%)",
    "Gốc n",
    "Mã gốc",
    "Chênh lệch (điểm %)",
    "KTC chênh lệch thấp",
    "KTC chênh lệch cao",
    "Kiểm định",
    "p",
    "p (Holm)",
    "Xếp loại",
    "Kết luận",
    "So sánh với gốc",
]


def criteria_table(
    result: IndexResult,
    baseline: list[dict],
    bands: list,
    *,
    min_n: int = comparison.MIN_N,
    hide_below: int | None = None,
    alpha: float = 0.05,
    office: str | None = None,
):
    """Every criterion with n, Wilson interval, comparable baseline, difference, the test used, Holm-adjusted
    p over the criteria, band and a plain verdict; weakest first.

    The test: two proportions with Newcombe's interval when the baseline row has n and satisfied; else an
    exact binomial test against the published value. ``hide_below`` (per-staff results): a criterion
    with fewer answers shows no index at all, only "Chưa đủ dữ liệu".

    A baseline of another questionnaire version is compared through the crosswalk only: a ``same``
    counterpart as usual, a ``reworded`` one with "So sánh gần đúng: nội dung nhận định đã thay đổi"
    in "So sánh với gốc", and a criterion without counterpart never ("Không có trong mẫu phiếu năm
    gốc"). "Mã gốc" is the baseline criterion compared. ``office`` names the unit's office in the
    statements that name it.
    """
    import pandas as pd

    from sipas.catalog.crosswalk import NOT_IN_BASELINE

    q = questionnaire(result.questionnaire)
    texts = q.texts(office)
    cross = criterion_baseline(baseline, result.questionnaire)
    base = cross.rows
    rows, tests = [], []
    for c in result.criteria:
        b = base.get(c.code)
        hidden = hide_below is not None and c.n < hide_below
        test = None
        if b is not None and c.n > 0 and not hidden:
            test = comparison.compare_to_baseline(c.satisfied, c.n, b["index_value"], b.get("n"), b.get("satisfied"))
        judged = test is not None and all(k is None or k >= min_n for k in (test.n, test.baseline_n))
        tests.append(test if judged else None)
        rows.append(
            {
                "Mã": c.code,
                "Yếu tố": c.element,
                "Tiêu chí": texts[c.code],
                "n": c.n,
                "Hài lòng": None if hidden else c.satisfied,
                "Chỉ số (%)": None if hidden else c.index,
                "KTC 95% thấp": None if hidden else c.ci_low,
                "KTC 95% cao": None if hidden else c.ci_high,
                "Gốc (%)": b["index_value"] if b else None,
                "Gốc n": b.get("n") if b else None,
                "Mã gốc": b["baseline_code"] if b else None,
                "Chênh lệch (điểm %)": test.difference if test else None,
                "KTC chênh lệch thấp": test.ci_low if test else None,
                "KTC chênh lệch cao": test.ci_high if test else None,
                "Kiểm định": METHOD_LABELS[test.method] if test else None,
                "p": test.p_value if test else None,
                "Xếp loại": None if hidden else comparison.band(c.index, bands),
                "So sánh với gốc": _comparison_words(c.code, b, cross),
            }
        )
    adjusted = comparison.holm_adjust([t.p_value if t else None for t in tests])
    for row, test, p_adj in zip(rows, tests, adjusted, strict=True):
        row["p (Holm)"] = p_adj
        if row["Mã"] in cross.unmatched:
            row["Kết luận"] = NOT_IN_BASELINE
        elif test is not None:
            row["Kết luận"] = comparison.verdict(test, alpha=alpha, adjusted_p=p_adj, min_n=min_n)
        elif row["Gốc (%)"] is None and row["Chỉ số (%)"] is not None:
            row["Kết luận"] = NO_BASELINE
        else:
            row["Kết luận"] = comparison.NOT_ENOUGH_DATA
    frame = pd.DataFrame(rows, columns=CRITERIA_COLUMNS)
    for col in (
        "Chỉ số (%)",
        "KTC 95% thấp",
        "KTC 95% cao",
        "Gốc (%)",
        "Chênh lệch (điểm %)",
        "KTC chênh lệch thấp",
        "KTC chênh lệch cao",
        "p",
        "p (Holm)",
    ):
        frame[col] = frame[col].astype("float64")
    for col in ("Hài lòng", "Gốc n"):
        frame[col] = frame[col].astype("Int64")
    return frame.sort_values("Chỉ số (%)", na_position="last", kind="stable").reset_index(drop=True)


def elements_table(result: IndexResult, baseline: list[dict], bands: list):
    """The five elements with their index, the comparable baseline, difference and band."""
    import pandas as pd

    # Elements are stable across versions: an element row of any version is comparable.
    base = {r["code"]: r["index_value"] for r in baseline if r["level"] == "element"}
    rows = []
    for e in result.elements:
        b = base.get(e.code)
        rows.append(
            {
                "Mã": e.code,
                "Yếu tố": e.name,
                "Chỉ số (%)": e.index,
                "Gốc (%)": b,
                "Chênh lệch (điểm %)": None if (b is None or e.index is None) else e.index - b,
                "Xếp loại": comparison.band(e.index, bands),
                "Kiểm định": ELEMENT_TEST if b is not None else None,
            }
        )
    frame = pd.DataFrame(rows)
    for col in ("Chỉ số (%)", "Gốc (%)", "Chênh lệch (điểm %)"):
        frame[col] = frame[col].astype("float64")
    return frame


def baseline_overall(baseline: list[dict]) -> float | None:
    return next((r["index_value"] for r in baseline if r["level"] == "overall"), None)


def level_distribution(result: IndexResult):
    """Answers at each level 1–5 per criterion (long form, with shares), for the diverging bars."""
    import pandas as pd

    from sipas.catalog import survey_options

    labels = {s["value"]: s["label"] for s in survey_options()["scale"]}
    rows = []
    for c in result.criteria:
        for level, count in enumerate(c.counts, start=1):
            rows.append(
                {
                    "Mã": c.code,
                    "level": level,
                    "Mức": labels[level],
                    "count": int(count),
                    "share": (100.0 * count / c.n) if c.n else 0.0,
                    "n": c.n,
                }
            )
    return pd.DataFrame(rows, columns=["Mã", "level", "Mức", "count", "share", "n"])


# ----------------------------------------------------------------------------- sample size, target


@dataclass(frozen=True)
class SampleStatus:
    """Answers needed for a ±margin interval this period: for the criterion with the fewest answers."""

    code: str | None
    n: int
    required: int
    needed: int
    margin: float
    population: int | None


def sample_status(result: IndexResult, margin: float = 0.05, population: int | None = None) -> SampleStatus:
    """How many more answers the least-answered criterion needs for ±margin at 95% (p = 0.5, worst case);
    with the number of dossiers N of the period, the finite-population correction n₀/(1 + (n₀ − 1)/N).

    >>> from sipas.catalog import questionnaire as q
    >>> r = compute_index(q("sipas-2023"), {c: (0, 0, 0, 50, 50) for c in q("sipas-2023").criterion_codes}, 100)
    >>> s = sample_status(r)
    >>> s.required, s.needed, sample_status(r, population=1000).required
    (385, 285, 278)
    """
    from sipas.index.stats import sample_size

    weakest = min(result.criteria, key=lambda c: c.n) if result.criteria else None
    n = weakest.n if weakest else 0
    required = sample_size(margin, 0.5, population)
    return SampleStatus(
        weakest.code if weakest else None,
        n,
        required,
        comparison.needed_for_precision(n, margin, 0.5, population),
        margin,
        population,
    )


@dataclass(frozen=True)
class TargetStatus:
    """Whether the year's target is still reachable, from the pooled criterion answers so far."""

    year: int
    satisfied: int
    n: int
    share: float | None
    expected_total: int
    reachable: bool | None
    needed_share: float | None


def target_status(satisfied: int, n: int, elapsed_days: int, year_days: int, target: float, year: int) -> TargetStatus:
    """Extrapolate the year's answers at the pace so far, then ask comparison.target_still_reachable.

    Hand check: 3660 expected, (87 × 3660 − 100 × 800) / 2660 = 89.63% of the rest must be satisfied.

    >>> t = target_status(800, 1000, 100, 366, 87.0, 2024)
    >>> t.expected_total, t.reachable, round(t.needed_share, 2)
    (3660, True, 89.63)
    """
    if n == 0 or elapsed_days <= 0:
        return TargetStatus(year, satisfied, n, None, 0, None, None)
    expected = max(n, math.ceil(n * year_days / elapsed_days))
    reachable, needed = comparison.target_still_reachable(satisfied, n, expected, target)
    return TargetStatus(
        year, satisfied, n, 100.0 * satisfied / n, expected, reachable, None if math.isinf(needed) else needed
    )


def year_target_status(
    conn: sqlite3.Connection, f: Filters, year: int, target: float, today: date | None = None
) -> TargetStatus:
    """The target check for ``year`` with the page's filters other than dates."""
    today = today or clock.today()
    first, last = date(year, 1, 1), date(year, 12, 31)
    upto = min(today, last)
    year_days = (last - first).days + 1
    if upto < first:
        return TargetStatus(year, 0, 0, None, 0, None, None)
    g = replace(f, date_from=first.isoformat(), date_to=upto.isoformat())
    counts, _ = level_counts_for(conn, g)
    criteria = set(questionnaire(f.questionnaire).criterion_codes)
    sat = sum(v[3] + v[4] for k, v in counts.items() if k in criteria)
    n = sum(sum(v) for k, v in counts.items() if k in criteria)
    return target_status(sat, n, (upto - first).days + 1, year_days, target, year)


# ----------------------------------------------------------------------------- trend and p-chart


def trend_filters(f: Filters, months: int = 12) -> Filters:
    """The months shown in the trend: the period itself if it spans ≥ ``months`` months, else the
    ``months`` months ending with the period's last month."""
    end = date.fromisoformat(f.date_to) if f.date_to else clock.today()
    y, m = end.year, end.month - (months - 1)
    while m <= 0:
        m += 12
        y -= 1
    start = date(y, m, 1)
    if f.date_from and date.fromisoformat(f.date_from) < start:
        start = date.fromisoformat(f.date_from)
    return replace(f, date_from=start.isoformat(), date_to=end.isoformat())


def monthly_trend(conn: sqlite3.Connection, f: Filters):
    """One row per month: responses, overall index, element indices, and the overall question's
    answers (n, satisfied 4–5, dissatisfied 1–2), and the questionnaire version ("Phiếu").

    A month without answers on ``f.questionnaire`` but with answers on the version in force that
    month (the settings) is shown with that version: the overall, the elements and the overall
    question compare across versions, so the 12 months run across a change of form, and
    :func:`version_changes` marks the month it changed.
    """
    import pandas as pd

    versions = [f.questionnaire]
    in_force: dict[str, str] = {}
    if f.date_from and f.date_to:
        from sipas.admin import settings
        from sipas.catalog import questionnaires

        for month in _months(f.date_from, f.date_to):
            last = clock.month_end(date.fromisoformat(month + "-01")).isoformat()
            in_force[month] = settings.get(conn, "active_questionnaire", last)
        versions += [v for v in dict.fromkeys(in_force.values()) if v != f.questionnaire and v in questionnaires()]
    by_version: dict[str, tuple[dict, dict]] = {}
    for v in versions:
        g = replace(f, questionnaire=v)
        by_month: dict[str, dict] = {}
        for month, criterion, *counts in db.monthly_level_counts(conn, **g.as_kwargs()):
            by_month.setdefault(month, {})[criterion] = tuple(counts)
        by_version[v] = (by_month, db.monthly_response_counts(conn, **g.as_kwargs()))
    rows = []
    months = sorted({m for by_month, responses in by_version.values() for m in (*by_month, *responses)})
    for month in months:
        version = f.questionnaire
        if not by_version[version][1].get(month) and in_force.get(month) in by_version:
            version = in_force[month]
        by_month, responses = by_version[version]
        if month not in by_month and month not in responses:
            continue
        counts = by_month.get(month, {})
        r = compute_index(questionnaire(version), counts, responses.get(month, 0))
        ov = counts.get("overall", (0, 0, 0, 0, 0))
        row = {
            "Tháng": month,
            "Số phiếu": responses.get(month, 0),
            "Chỉ số chung (%)": r.overall,
            "Câu hỏi chung n": sum(ov),
            "Câu hỏi chung hài lòng": ov[3] + ov[4],
            "Không hài lòng (1–2)": ov[0] + ov[1],
            "Câu hỏi chung (%)": r.direct_overall.index,
        }
        for e in r.elements:
            row[f"Yếu tố {e.code} (%)"] = e.index
        row["Phiếu"] = version
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "Tháng",
                "Số phiếu",
                "Chỉ số chung (%)",
                "Câu hỏi chung n",
                "Câu hỏi chung hài lòng",
                "Không hài lòng (1–2)",
                "Câu hỏi chung (%)",
            ]
        )
    return frame


def _months(date_from: str, date_to: str) -> list[str]:
    """'YYYY-MM' of every month from date_from's to date_to's (inclusive)."""
    return clock.months_between(date.fromisoformat(date_from[:10]), date.fromisoformat(date_to[:10]))


def version_changes(trend) -> list[tuple[str, str, str]]:
    """(month, version before, version from then on) for each month of ``trend`` whose "Phiếu"
    differs from the month before: where the 12-month trend changes form.

    >>> import pandas as pd
    >>> version_changes(pd.DataFrame({"Tháng": ["2023-12", "2024-01"], "Phiếu": ["sipas-2023", "sipas-2024"]}))
    [('2024-01', 'sipas-2023', 'sipas-2024')]
    """
    if "Phiếu" not in getattr(trend, "columns", ()):
        return []
    pairs = list(zip(trend["Tháng"], trend["Phiếu"], strict=True))
    return [(month, before, now) for (_, before), (month, now) in zip(pairs, pairs[1:], strict=False) if before != now]


def monthly_p_chart(trend):
    """The p-chart of the monthly share of dissatisfied answers (1–2) to the overall question.

    The overall question is answered once per citizen, so the binomial limits apply; pooled criterion
    answers of one person are not independent and would give limits that are too narrow.
    """
    return comparison.p_chart(
        list(trend["Tháng"]),
        [int(x) for x in trend["Không hài lòng (1–2)"]],
        [int(x) for x in trend["Câu hỏi chung n"]],
    )


# ----------------------------------------------------------------------------- weekday × hour, staff


def weekday_hour_table(conn: sqlite3.Connection, f: Filters, min_cell_n: int = MIN_CELL_N):
    """Share satisfied (4–5) with the overall question per weekday × hour; cells under ``min_cell_n`` have none."""
    import pandas as pd

    from sipas.admin.settings import WEEKDAYS

    rows = []
    for wd, hour, n, sat in db.weekday_hour_overall(conn, **f.as_kwargs()):
        rows.append(
            {
                "weekday": wd,
                "Thứ": WEEKDAYS[wd],
                "Giờ": hour,
                "n": n,
                "Hài lòng": sat,
                "Tỷ lệ hài lòng (%)": (100.0 * sat / n) if n >= min_cell_n else None,
            }
        )
    frame = pd.DataFrame(rows, columns=["weekday", "Thứ", "Giờ", "n", "Hài lòng", "Tỷ lệ hài lòng (%)"])
    frame["Tỷ lệ hài lòng (%)"] = frame["Tỷ lệ hài lòng (%)"].astype("float64")
    return frame


STAFF_ELEMENT = CONDUCT_ELEMENT
STAFF_MEASURE = "Chỉ số yếu tố 3 (%)"
STAFF_MEASURE_NOTE = (
    "Chỉ số yếu tố 3 (công chức) của một cán bộ: tỷ lệ câu trả lời Hài lòng / Rất hài lòng trên mọi câu "
    "trả lời các tiêu chí của yếu tố 3 ở các phiếu ghi tên cán bộ đó (gộp câu trả lời), khoảng tin cậy "
    "95% Wilson."
)


@dataclass(frozen=True)
class StaffMeasure:
    """The one staff measure: a staff member's element-3 index in a period, with its n and interval.

    ``shown`` is False below the minimum number of responses: then ``index`` and the interval are None,
    so that a page cannot print a number about one person that rests on a handful of answers.
    """

    code: str
    responses: int  # responses that name this staff member
    answers: int  # answers to the element's criteria in them (the denominator)
    satisfied: int  # answers 4 or 5
    shown: bool
    index: float | None
    ci_low: float | None
    ci_high: float | None


def staff_measures(conn: sqlite3.Connection, f: Filters, min_n: int, element: str = STAFF_ELEMENT) -> dict:
    """{staff code: StaffMeasure} for every staff member named in the period's responses.

    The analysis page, the Chairman's conduct history and the monthly report all call this, so the
    three show the same number for the same person and period.
    """
    q = questionnaire(f.questionnaire)
    codes = [c.code for c in q.element(element).criteria]
    data = db.staff_level_counts(conn, codes, **f.as_kwargs())
    out = {}
    for code, d in data.items():
        out[code] = _measure(code, d["responses"], d["counts"], min_n)
    return out


def _measure(code: str, responses: int, counts: tuple, min_n: int) -> StaffMeasure:
    p = proportion(counts[3] + counts[4], sum(counts))
    shown = responses >= min_n and sum(counts) > 0
    return StaffMeasure(
        code=code,
        responses=responses,
        answers=sum(counts),
        satisfied=counts[3] + counts[4],
        shown=shown,
        index=p.index if shown else None,
        ci_low=p.ci_low if shown else None,
        ci_high=p.ci_high if shown else None,
    )


def staff_measure(conn: sqlite3.Connection, f: Filters, code: str, min_n: int) -> StaffMeasure:
    """One staff member's measure (zero responses when the period names them nowhere)."""
    return staff_measures(conn, f, min_n).get(code) or _measure(code, 0, (0, 0, 0, 0, 0), min_n)


def staff_measure_in_period(
    conn: sqlite3.Connection, code: str, date_from: str, date_to: str, min_n: int, versions: list[str]
) -> tuple[str, StaffMeasure]:
    """(questionnaire, measure) for one staff member over a period that may hold more than one
    questionnaire version: the version with the most responses naming them (answers of two forms are
    never pooled). The first of ``versions`` when none names them."""
    best = None
    for version in versions:
        m = staff_measure(conn, Filters(version, date_from, date_to), code, min_n)
        if best is None or m.responses > best[1].responses:
            best = (version, m)
    return best


def history_quarters(today: date, count: int = 8) -> list[tuple[date, date]]:
    """The last ``count`` calendar quarters up to ``today`` (the current one ends today), oldest first.

    >>> history_quarters(date(2026, 2, 10), 2)
    [(datetime.date(2025, 10, 1), datetime.date(2025, 12, 31)), (datetime.date(2026, 1, 1), datetime.date(2026, 2, 10))]
    """
    out = []
    start = clock.quarter_bounds(today.year, clock.quarter_of(today))[0]
    for _ in range(count):
        out.append((start, min(clock.month_end(clock.month_start(start, 2)), today)))
        start = clock.month_start(start, -3)
    return out[::-1]


def staff_table(conn: sqlite3.Connection, f: Filters, staff: list[dict], min_n: int, element: str = STAFF_ELEMENT):
    """Per staff member: responses naming them and :func:`staff_measures` (pooled answers, Wilson
    interval); fewer than ``min_n`` responses: "Chưa đủ dữ liệu", no number."""
    import pandas as pd

    measures = staff_measures(conn, f, min_n, element)
    names = {s["code"]: s["full_name"] for s in staff}
    rows = []
    for code in sorted(set(names) | set(measures)):
        m = measures.get(code) or _measure(code, 0, (0, 0, 0, 0, 0), min_n)
        rows.append(
            {
                "Mã": code,
                "Họ tên": names.get(code, code),
                "Số phiếu": m.responses,
                "Câu trả lời": m.answers,
                STAFF_MEASURE: m.index,
                "KTC 95% thấp": m.ci_low,
                "KTC 95% cao": m.ci_high,
                "Ghi chú": "" if m.shown else comparison.NOT_ENOUGH_DATA,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["Mã", "Họ tên", "Số phiếu", "Câu trả lời", STAFF_MEASURE, "KTC 95% thấp", "KTC 95% cao", "Ghi chú"],
    )
    for col in (STAFF_MEASURE, "KTC 95% thấp", "KTC 95% cao"):
        frame[col] = frame[col].astype("float64")
    return frame.sort_values(STAFF_MEASURE, na_position="last", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- comments

COMMENT_COLUMNS = [
    "Mã phiếu",
    "Thời gian",
    "Kênh",
    "Lĩnh vực",
    "Cán bộ",
    "Câu hỏi chung",
    "Đánh giá",
    "Chủ đề",
    "Góp ý",
]


def comments_table(
    conn: sqlite3.Connection, f: Filters, query: str = "", topic: str | None = None, limit: int = 500, rules=None
):
    """Comments of the period, newest first, with the ratings of the same response and topic tags.

    ``query`` matches with or without diacritics; ``topic`` keeps one topic. Returns (frame, total
    matching) — the frame holds at most ``limit`` rows. Text stays text: nothing here is markup.
    """
    import pandas as pd

    from sipas.index import comments as cm

    r = rules or cm.rules()
    rows = db.comments_in_period(conn, **f.as_kwargs())
    picked = []
    for row in rows:
        if query and not cm.matches_query(row["comment"], query):
            continue
        tags = _tags(row["comment"], r)
        if topic and topic not in tags:
            continue
        picked.append((row, tags))
    total = len(picked)
    picked = picked[:limit]
    answers = db.answers_for(conn, [row["id"] for row, _ in picked])
    out = []
    for row, tags in picked:
        ans = answers.get(row["id"], {})
        ratings = ", ".join(f"{k}: {'KYK' if v is None else v}" for k, v in sorted(ans.items()))
        out.append(
            {
                "Mã phiếu": row["id"],
                "Thời gian": row["submitted_at"],
                "Kênh": CHANNEL_LABELS.get(row["channel"], row["channel"]),
                "Lĩnh vực": row["field"] or "",
                "Cán bộ": row["staff_code"] or "",
                "Câu hỏi chung": row["overall"],
                "Đánh giá": ratings,
                "Chủ đề": ", ".join(tags),
                "Góp ý": row["comment"],
            }
        )
    frame = pd.DataFrame(out, columns=COMMENT_COLUMNS)
    frame["Câu hỏi chung"] = frame["Câu hỏi chung"].astype("Int64")
    return frame, total


def _tags(text: str, rules) -> list[str]:
    return list(_tags_cached(text, rules))


@lru_cache(maxsize=20000)
def _tags_cached(text: str, rules) -> tuple[str, ...]:
    from sipas.index import comments as cm

    return tuple(cm.tag(text, rules))


def topic_counts(frame) -> dict[str, int]:
    """How many comments carry each topic (a comment may carry several)."""
    counts: dict[str, int] = {}
    for tags in frame["Chủ đề"]:
        for t in str(tags).split(", "):
            if t:
                counts[t] = counts.get(t, 0) + 1
    return counts


# ------------------------------------------------------------------------------ expectations

WISH_FROM = 3  # "Mong muốn" and "Rất mong muốn" of the 4-level scale (sipas-2024, Câu 10)


@dataclass
class ExpectationsTable:
    mode: str  # "rating" (sipas-2024: every item on 4 levels) or "choose" (older: up to three options)
    question: str
    frame: object  # pandas.DataFrame, most wished first
    respondents: int  # responses that answered the question at all


def expectations_table(conn: sqlite3.Connection, f: Filters) -> ExpectationsTable:
    """What citizens most want improved, for the version of ``f``, with n and a 95% interval per row.

    sipas-2024 asks every item on "Không / Khá / Mong muốn / Rất mong muốn": a row gives each level's
    count and the share at "Mong muốn" or above among those who answered that item. Older forms let
    a citizen choose up to three options: a row gives the share of those who answered the question
    that chose it. An answer stored in the other form than the version's (a tablet's queue from before
    an update) is left out of the table.
    """
    import pandas as pd

    from sipas.catalog import survey_questions

    spec = survey_questions(f.questionnaire)["expectations"]
    counts = db.expectation_counts(conn, **f.as_kwargs())
    rows = []
    if spec["mode"] == "rating":
        levels = [s["value"] for s in spec["scale"]]
        for number, item in enumerate(spec["items"], start=1):
            given = counts["levels"].get(item["code"], {})
            n = sum(given.get(v, 0) for v in levels)
            wish = sum(given.get(v, 0) for v in levels if v >= WISH_FROM)
            p = proportion(wish, n)
            # The share and its interval first (what the clerk reads), then the count at each level.
            row = {"Số": number, "Nội dung": item["text"], "n": n}
            row |= {"% mong muốn trở lên": p.index, "KTC 95% thấp": p.ci_low, "KTC 95% cao": p.ci_high}
            row |= {s["label"]: given.get(s["value"], 0) for s in spec["scale"]}
            rows.append(row)
        respondents = counts["raters"]
    else:
        respondents = counts["choosers"]
        for number, option in enumerate(spec["options"], start=1):
            chose = counts["chosen"].get(option, 0)
            p = proportion(chose, respondents)
            rows.append(
                {
                    "Số": number,
                    "Nội dung": option,
                    "n": respondents,
                    "Số người chọn": chose,
                    "% chọn": p.index,
                    "KTC 95% thấp": p.ci_low,
                    "KTC 95% cao": p.ci_high,
                }
            )
    frame = pd.DataFrame(rows)
    share = "% mong muốn trở lên" if spec["mode"] == "rating" else "% chọn"
    if not frame.empty:
        frame = frame.sort_values([share, "Số"], ascending=[False, True], na_position="last", kind="stable")
    return ExpectationsTable(spec["mode"], spec["question"], frame.reset_index(drop=True), respondents)
