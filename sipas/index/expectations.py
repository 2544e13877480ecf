"""What citizens most want improved (the expectations question), with n and a 95% Wilson interval per item."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd

from sipas import db
from sipas.catalog import questionnaire
from sipas.index.selection import Filters
from sipas.index.stats import proportion

WISH_FROM = 3  # "Mong muốn" and "Rất mong muốn" of the 4-level scale (sipas-2024, Câu 10)


@dataclass
class ExpectationsTable:
    mode: str  # "rating" (sipas-2024: every item on 4 levels) or "choose" (older: up to three options)
    question: str
    frame: object  # pandas.DataFrame, most wished first
    respondents: int  # responses that answered the question at all


def expectations_table(conn: sqlite3.Connection, f: Filters) -> ExpectationsTable | None:
    """What citizens most want improved, for the version of ``f``, with n and a 95% interval per row;
    None when that version asks no such question (its ``extra_questions`` have no ``expectations``).

    A grid (sipas-2024 asks every item on "Không / Khá / Mong muốn / Rất mong muốn"): a row gives each
    level's count and the share at the third level ("Mong muốn") or above among those who answered that
    item. A multiple choice (older forms: up to three options): a row gives the share of those who
    answered the question that chose it. An answer stored in the other shape than the version's (a
    tablet's queue from before an update) is left out of the table.
    """
    spec = questionnaire(f.questionnaire).extra_by_code.get("expectations")
    if spec is None or spec.kind not in ("grid", "multiple"):
        return None
    counts = db.expectation_counts(conn, **f.as_kwargs())
    rows = []
    if spec.kind == "grid":
        levels = spec.values
        for number, item in enumerate(spec.items, start=1):
            given = counts["levels"].get(item.code, {})
            n = sum(given.get(v, 0) for v in levels)
            wish = sum(given.get(v, 0) for v in levels if v >= WISH_FROM)
            p = proportion(wish, n)
            # The share and its interval first (what the clerk reads), then the count at each level.
            row = {"Số": number, "Nội dung": item.text, "n": n}
            row |= {"% mong muốn trở lên": p.index, "KTC 95% thấp": p.ci_low, "KTC 95% cao": p.ci_high}
            row |= {s.label: given.get(s.value, 0) for s in spec.scale}
            rows.append(row)
        respondents = counts["raters"]
    else:
        respondents = counts["choosers"]
        for number, option in enumerate(spec.options, start=1):
            chose = counts["chosen"].get(option.value, 0)
            p = proportion(chose, respondents)
            rows.append(
                {
                    "Số": number,
                    "Nội dung": option.label,
                    "n": respondents,
                    "Số người chọn": chose,
                    "% chọn": p.index,
                    "KTC 95% thấp": p.ci_low,
                    "KTC 95% cao": p.ci_high,
                }
            )
    mode = "rating" if spec.kind == "grid" else "choose"
    frame = pd.DataFrame(rows)
    share = "% mong muốn trở lên" if mode == "rating" else "% chọn"
    if not frame.empty:
        frame = frame.sort_values([share, "Số"], ascending=[False, True], na_position="last", kind="stable")
    return ExpectationsTable(mode, spec.text, frame.reset_index(drop=True), respondents)
