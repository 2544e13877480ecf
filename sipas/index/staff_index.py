"""The one staff measure: a staff member's element-3 index (pooled answers to the staff criteria, n,
Wilson interval; hidden below the minimum number of responses). The analysis page, the Chairman's
conduct history and the monthly report all read it from here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd

from sipas import db
from sipas.catalog import CONDUCT_ELEMENT, questionnaire
from sipas.index import comparison
from sipas.index.selection import Filters
from sipas.index.stats import beta_binomial_prior, proportion, shrink

STAFF_ELEMENT = CONDUCT_ELEMENT
STAFF_MEASURE = "Chỉ số yếu tố 3 (%)"
STAFF_SHRUNK = "Ước lượng đã hiệu chỉnh theo số phiếu (%)"
SHRUNK_LOW = "Hiệu chỉnh: KTC 95% thấp"
SHRUNK_HIGH = "Hiệu chỉnh: KTC 95% cao"
STAFF_TABLE_COLUMNS = [
    "Mã",
    "Họ tên",
    "Số phiếu",
    "Câu trả lời",
    STAFF_MEASURE,
    "KTC 95% thấp",
    "KTC 95% cao",
    STAFF_SHRUNK,
    SHRUNK_LOW,
    SHRUNK_HIGH,
    "Ghi chú",
]
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


def staff_table(conn: sqlite3.Connection, f: Filters, staff: list[dict], min_n: int, element: str = STAFF_ELEMENT):
    """Per staff member: responses naming them and :func:`staff_measures` (pooled answers, Wilson
    interval); fewer than ``min_n`` responses: "Chưa đủ dữ liệu", no number. Beside it the shrunk estimate
    of :func:`shrunk_measures` with its 95 % interval (:data:`STAFF_SHRUNK`, :data:`SHRUNK_LOW`,
    :data:`SHRUNK_HIGH`; n is "Số phiếu"), for everyone with an answer."""
    measures = staff_measures(conn, f, min_n, element)
    shrunk = shrunk_measures(conn, f, element)
    names = {s["code"]: s["full_name"] for s in staff}
    rows = []
    for code in sorted(set(names) | set(measures)):
        m = measures.get(code) or _measure(code, 0, (0, 0, 0, 0, 0), min_n)
        s = shrunk.get(code)
        rows.append(
            {
                "Mã": code,
                "Họ tên": names.get(code, code),
                "Số phiếu": m.responses,
                "Câu trả lời": m.answers,
                STAFF_MEASURE: m.index,
                "KTC 95% thấp": m.ci_low,
                "KTC 95% cao": m.ci_high,
                STAFF_SHRUNK: s.estimate if s else None,
                SHRUNK_LOW: s.ci_low if s else None,
                SHRUNK_HIGH: s.ci_high if s else None,
                "Ghi chú": "" if m.shown else comparison.NOT_ENOUGH_DATA,
            }
        )
    frame = pd.DataFrame(rows, columns=STAFF_TABLE_COLUMNS)
    for col in (STAFF_MEASURE, "KTC 95% thấp", "KTC 95% cao", STAFF_SHRUNK, SHRUNK_LOW, SHRUNK_HIGH):
        frame[col] = frame[col].astype("float64")
    return frame.sort_values(STAFF_MEASURE, na_position="last", kind="stable").reset_index(drop=True)


STAFF_SHRUNK_NOTE = (
    "Ước lượng đã hiệu chỉnh (Bayes thực nghiệm, phân phối beta-nhị thức): chỉ số yếu tố 3 của cán bộ được "
    "kéo về tỷ lệ chung của xã, càng ít phiếu càng kéo nhiều; mỗi phiếu tính là một quan sát (các câu trả "
    "lời của cùng một người dân không độc lập với nhau), khoảng tin cậy 95% hậu nghiệm."
)


def shrunk_measures(conn: sqlite3.Connection, f: Filters, element: str = STAFF_ELEMENT) -> dict:
    """{staff code: :class:`sipas.index.stats.Shrunk`} for every staff member named in the period: the raw
    element-3 index of :func:`staff_measures` shrunk toward the commune's rate (empirical Bayes, the prior
    fitted from every staff member of the period), each response counted once (n = responses).

    Shown for everyone, even below the minimum number of responses: with few answers the estimate is
    mostly the commune's rate and its interval says how little is known.
    """
    measures = staff_measures(conn, f, 0, element)
    units = {c: m for c, m in measures.items() if m.answers > 0}
    if not units:
        return {}
    k = {c: m.satisfied / m.answers * m.responses for c, m in units.items()}
    prior = beta_binomial_prior([k[c] for c in units], [m.responses for m in units.values()])
    return {c: shrink(k[c], m.responses, prior) for c, m in units.items()}
