"""What a period's figures say, in sentences a clerk can copy into a report: the overall index against the
plan's target, what is below the plan's floor, and what changed significantly against the baseline (the
verdicts of :func:`sipas.index.criterion_tables.criteria_table`, Holm-adjusted), or that nothing did.

The analysis page and the monthly report (PDF, Word, the workbook's first sheet) lead with these sentences;
the test names and p-values stay in the detailed tables. Every percentage comes with its n and, for a
share, its 95% interval. Below :data:`~sipas.index.plan_checks.MIN_VERDICT_N` responses nothing is judged.
"""

from __future__ import annotations

import pandas as pd

from sipas import clock
from sipas.catalog import questionnaire
from sipas.index import comparison
from sipas.index.plan_checks import MIN_VERDICT_N, NOT_ENOUGH_TO_JUDGE
from sipas.index.scoring import IndexResult

CHANGED = (comparison.INCREASE, comparison.DECREASE)
JUDGED = (*CHANGED, comparison.NO_CLEAR_DIFFERENCE)


def criterion_label(version: str, code: str) -> str:
    """The code with the statement's short topic ("TC2.3 (Phí, lệ phí đúng quy định)"), or the code alone.

    >>> criterion_label("sipas-2024", "TC2.3")
    'TC2.3 (Phí, lệ phí đúng quy định)'
    """
    topic = next((c.topic for c in questionnaire(version).criteria if c.code == code), None)
    return f"{code} ({topic})" if topic else code


def _signed(value: float, decimals: int = 2) -> str:
    """A difference with a true minus sign: "+1,20", "−13,59"."""
    return clock.format_signed(value, decimals).replace("-", "−")


def _interval(low, high) -> str:
    return f"KTC 95% {clock.format_number(low, 1)}–{clock.format_number(high, 1)}"


def _overall_sentence(result: IndexResult, target: float) -> str | None:
    if result.overall is None:
        return None
    d = result.direct_overall
    direct = (
        f" Câu hỏi hài lòng chung: {clock.format_percent(d.index, 2)} (n = {d.n}, {_interval(d.ci_low, d.ci_high)})."
        if d.index is not None
        else ""
    )
    shown = f"Chỉ số chung {clock.format_percent(result.overall, 2)} trên {result.responses} phiếu"
    if result.overall >= target:
        return f"{shown}, đạt chỉ tiêu {clock.format_plain(target)}%.{direct}"
    gap = _signed(result.overall - target)
    return f"{shown}, dưới chỉ tiêu {clock.format_plain(target)}% ({gap} điểm).{direct}"


def _floor_sentence(result: IndexResult, floor: float, min_n: int) -> str:
    below = [
        f"yếu tố {e.code} ({e.name}) {clock.format_percent(e.index, 2)}"
        for e in result.elements
        if e.index is not None and e.index < floor
    ]
    low = sorted((c for c in result.criteria if c.index is not None and c.n >= min_n and c.index < floor),
                 key=lambda c: c.index)  # fmt: skip
    below += [
        f"{criterion_label(result.questionnaire, c.code)} {clock.format_percent(c.index, 2)} "
        f"(n = {c.n}, {_interval(c.ci_low, c.ci_high)})"
        for c in low
    ]
    few = sum(1 for c in result.criteria if 0 < c.n < min_n)
    aside = f" {few} tiêu chí có dưới {min_n} câu trả lời chưa được xét." if few else ""
    if not below:
        return f"Không yếu tố, tiêu chí nào dưới mức sàn {clock.format_plain(floor)}% của kế hoạch.{aside}"
    return f"Dưới mức sàn {clock.format_plain(floor)}% của kế hoạch: {'; '.join(below)}.{aside}"


def _change_sentences(version: str, criteria: pd.DataFrame, baseline_year: int | None) -> list[str]:
    if baseline_year is None or criteria["Gốc (%)"].isna().all():
        return ["Chưa có số liệu gốc để so sánh với năm trước."]
    judged = criteria[criteria["Kết luận"].isin(JUDGED)]
    changed = judged[judged["Kết luận"].isin(CHANGED)].sort_values("Chênh lệch (điểm %)", kind="stable")
    if judged.empty:
        return [f"Chưa đủ dữ liệu để so sánh tiêu chí nào với năm {baseline_year}."]
    if changed.empty:
        return [
            f"Không tiêu chí nào thay đổi có ý nghĩa thống kê so với năm {baseline_year} "
            f"({len(judged)} tiêu chí được so sánh, đã hiệu chỉnh cho nhiều tiêu chí cùng lúc)."
        ]
    lines = []
    for _, row in changed.iterrows():
        lines.append(
            f"{criterion_label(version, row['Mã'])} {row['Kết luận'][0].lower()}{row['Kết luận'][1:]} so với năm "
            f"{baseline_year}: {clock.format_number(row['Gốc (%)'], 2)} → {clock.format_number(row['Chỉ số (%)'], 2)} "
            f"({_signed(row['Chênh lệch (điểm %)'])} điểm; n = {int(row['n'])}, KTC 95% của chênh lệch "
            f"{_signed(row['KTC chênh lệch thấp'], 1)} đến {_signed(row['KTC chênh lệch cao'], 1)})."
        )
    unchanged = len(judged) - len(changed)
    if unchanged:
        lines.append(f"{unchanged} tiêu chí khác được so sánh chưa khác biệt rõ so với năm {baseline_year}.")
    return lines


def findings(
    result: IndexResult,
    criteria: pd.DataFrame,
    targets: dict,
    baseline_year: int | None,
    *,
    min_n: int = MIN_VERDICT_N,
) -> list[str]:
    """The period's findings as plain Vietnamese sentences, most important first.

    ``criteria`` is :func:`~sipas.index.criterion_tables.criteria_table` of ``result`` against the
    baseline of ``baseline_year`` (None: no baseline); ``targets`` the plan's ``overall`` and ``floor``.
    Below ``min_n`` responses one sentence says there are too few to conclude.
    """
    if result.responses == 0:
        return ["Chưa có phiếu nào trong kỳ."]
    if result.responses < min_n:
        return [f"Chỉ có {result.responses} phiếu trong kỳ (cần ít nhất {min_n}): {NOT_ENOUGH_TO_JUDGE}."]
    lines = [_overall_sentence(result, float(targets["overall"]))]
    lines.append(_floor_sentence(result, float(targets["floor"]), min_n))
    lines += _change_sentences(result.questionnaire, criteria, baseline_year)
    return [line for line in lines if line]
