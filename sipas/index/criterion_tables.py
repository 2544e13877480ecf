"""The criteria and elements of a period against the baseline: n, Wilson interval, the comparable
baseline (through the crosswalk for another questionnaire version), difference, the test used, Holm's
adjustment, band and a plain verdict; and the answers at each level for the diverging bars.
"""

from __future__ import annotations

import pandas as pd

from sipas.catalog import crosswalk, questionnaire, survey_options
from sipas.catalog.crosswalk import NOT_IN_BASELINE
from sipas.catalog.crosswalk import criterion_baseline as through_crosswalk
from sipas.index import comparison
from sipas.index.scoring import IndexResult

METHOD_LABELS = {
    "two-proportion": "Hai tỷ lệ (z) + KTC Newcombe",
    "exact-binomial": "Nhị thức chính xác so với số công bố",
}
NO_BASELINE = "Không có số liệu gốc"


# An element's index is the mean of its criteria's indices and one citizen answers several criteria:
# no binomial test fits it, even when the baseline gives the element's n and satisfied.
ELEMENT_TEST = "Không kiểm định: chỉ số yếu tố là trung bình các tiêu chí (xem kiểm định từng tiêu chí)"


def criterion_baseline(baseline: list[dict], version: str):
    """The baseline criterion rows compared with each criterion of ``version`` (see sipas.catalog.crosswalk)."""
    return through_crosswalk(baseline, version)


def _comparison_words(code: str, entry: dict | None, base) -> str:
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


# The columns a clerk reads first, narrow enough for a 1366 px screen: the test, the p-values and the
# baseline's n stay in the full table (criteria_table), one click away.
KEY_COLUMNS = ["Mã", "Nội dung", "n", "Chỉ số (%)", "KTC 95%", "Gốc (%)", "Chênh lệch (điểm %)", "Kết luận"]


def key_table(frame: pd.DataFrame, version: str) -> pd.DataFrame:
    """The key columns of :func:`criteria_table` (same order): the statement's short topic instead of its
    full text, the interval as one "lo–hi" text.

    >>> from sipas.index.scoring import compute_index
    >>> q = questionnaire("sipas-2024")
    >>> r = compute_index(q, {"TC2.3": (0, 1, 0, 2, 1)}, 4)
    >>> t = key_table(criteria_table(r, [], list(comparison.DEFAULT_BANDS)), "sipas-2024")
    >>> t.iloc[0][["Mã", "Nội dung", "KTC 95%"]].tolist()
    ['TC2.3', 'Phí, lệ phí đúng quy định', '30,1–95,4']
    """
    from sipas import clock

    topics = {c.code: c.topic or c.text for c in questionnaire(version).criteria}
    out = frame.copy()
    out["Nội dung"] = out["Mã"].map(topics).fillna(out["Tiêu chí"])
    out["KTC 95%"] = [
        None if pd.isna(lo) else f"{clock.format_number(lo, 1)}–{clock.format_number(hi, 1)}"
        for lo, hi in zip(out["KTC 95% thấp"], out["KTC 95% cao"], strict=True)
    ]
    columns = list(KEY_COLUMNS)
    if "Mã gốc" in out and (out["Mã gốc"].notna() & (out["Mã gốc"] != out["Mã"])).any():
        columns.insert(columns.index("Gốc (%)"), "Mã gốc")  # compared through the crosswalk: say with what
    return out[columns].reset_index(drop=True)


def elements_table(result: IndexResult, baseline: list[dict], bands: list):
    """The five elements with their index, the comparable baseline, difference and band."""
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
