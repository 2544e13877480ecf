"""Reading the index out of the database (the glue between db queries and pure scoring)."""

from __future__ import annotations

import sqlite3

from sipas import db
from sipas.catalog import questionnaire
from sipas.scoring import IndexResult, compute_index


def index_for_period(conn: sqlite3.Connection, version: str, date_from: str | None = None,
                     date_to: str | None = None) -> IndexResult:
    """The index of the non-excluded responses of ``version`` in [date_from, date_to] (local dates)."""
    q = questionnaire(version)
    counts = db.level_counts(conn, version, date_from, date_to)
    responses = db.responses_in_range(conn, version, date_from, date_to)
    return compute_index(q, counts, responses)


def band_of(index: float | None, bands: list) -> str | None:
    """The band name for an index: the first band (highest threshold first) whose lower bound it meets.

    >>> band_of(85.0, [["Tốt", 90], ["Khá", 80], ["Trung bình", 70], ["Yếu", 0]])
    'Khá'
    """
    if index is None:
        return None
    for name, lower in sorted(bands, key=lambda b: -b[1]):
        if index >= lower:
            return name
    return bands[-1][0]


def rule_checklist(result: IndexResult, targets: dict, bands: list) -> list[tuple[str, bool | None, str]]:
    """The 2024 plan's three rules: (rule, passed or None when unknown, what fails)."""
    from sipas.catalog import questionnaire as get_q

    q = get_q(result.questionnaire)
    names = {c.code: c.code for c in q.criteria}
    overall_t, floor = targets["overall"], targets["floor"]
    rules = []
    if result.overall is None:
        rules.append((f"Chỉ số chung ≥ {overall_t:g}%", None, "Chưa có dữ liệu."))
    else:
        ok = result.overall >= overall_t
        rules.append((f"Chỉ số chung ≥ {overall_t:g}%", ok, "" if ok else f"Chỉ số chung {result.overall:.2f}%."))
    low = [f"Yếu tố {e.code} ({e.index:.2f}%)" for e in result.elements if e.index is not None and e.index < floor]
    low += [f"{names[c.code]} ({c.index:.2f}%)" for c in result.criteria if c.index is not None and c.index < floor]
    has_any = any(c.index is not None for c in result.criteria)
    rules.append((f"Không yếu tố, tiêu chí nào dưới {floor:g}%", None if not has_any else not low,
                  "; ".join(low)))
    weakest = bands[-1][0] if bands else "Yếu"
    weak = [f"Yếu tố {e.code}" for e in result.elements if band_of(e.index, bands) == weakest]
    weak += [c.code for c in result.criteria if band_of(c.index, bands) == weakest]
    if result.overall is not None and band_of(result.overall, bands) == weakest:
        weak.insert(0, "Chỉ số chung")
    rules.append((f"Không chỉ số nào ở mức “{weakest}”", None if not has_any else not weak, "; ".join(weak)))
    return rules


def criteria_frame(result: IndexResult, baseline: list[dict], bands: list):
    """The criteria of ``result`` with n, Wilson interval, band and the comparable baseline, weakest first."""
    import pandas as pd

    from sipas.baseline import comparable
    from sipas.catalog import questionnaire as get_q

    q = get_q(result.questionnaire)
    texts = {c.code: c.text for c in q.criteria}
    base = {r["code"]: r for r in comparable(baseline, result.questionnaire) if r["level"] == "criterion"}
    rows = []
    for c in result.criteria:
        b = base.get(c.code)
        rows.append({
            "Mã": c.code,
            "Tiêu chí": texts[c.code],
            "Chỉ số (%)": c.index,
            "n": c.n,
            "KTC 95% thấp": c.ci_low,
            "KTC 95% cao": c.ci_high,
            "Gốc (%)": b["index_value"] if b else None,
            "Chênh lệch": (c.index - b["index_value"]) if (b and c.index is not None) else None,
            "Xếp loại": band_of(c.index, bands),
        })
    df = pd.DataFrame(rows)
    return df.sort_values("Chỉ số (%)", na_position="last", kind="stable").reset_index(drop=True)
