"""The answers to a version's extra questions (sipas.catalog.questions), counted for the analysis page.

Each single- or multiple-choice question gives one row per option: how many chose it, of how many
answered the question (n), the share with its 95% Wilson interval. A grid gives one row per item with the
count at each level of its scale and n. A free-text question gives its answers as typed (shown as text).
A grid named ``expectations`` has its own section (:mod:`sipas.index.expectations`) and is left out here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd

from sipas import db
from sipas.catalog import questionnaire
from sipas.catalog.questions import ExtraQuestion
from sipas.index.selection import Filters
from sipas.index.stats import proportion

OWN_SECTION = ("expectations",)  # shown by sipas.index.expectations


@dataclass
class ExtraQuestionTable:
    question: ExtraQuestion
    respondents: int  # responses that answered the question
    frame: pd.DataFrame  # options (or items, or texts) with their counts


def _choice_frame(x: ExtraQuestion, answers: list) -> pd.DataFrame:
    n = len(answers)
    rows = []
    for number, option in enumerate(x.options, start=1):
        chose = sum(1 for a in answers if (option.value in a if isinstance(a, list) else a == option.value))
        p = proportion(chose, n)
        rows.append(
            {
                "Số": number,
                "Phương án": option.label,
                "n": n,
                "Số người chọn": chose,
                "% chọn": p.index,
                "KTC 95% thấp": p.ci_low,
                "KTC 95% cao": p.ci_high,
            }
        )
    return pd.DataFrame(rows)


def _grid_frame(x: ExtraQuestion, answers: list[dict]) -> pd.DataFrame:
    rows = []
    for number, item in enumerate(x.items, start=1):
        given = [a[item.code] for a in answers if isinstance(a, dict) and item.code in a]
        row = {"Số": number, "Nội dung": item.text, "n": len(given)}
        row |= {level.label: sum(1 for v in given if v == level.value) for level in x.scale}
        rows.append(row)
    return pd.DataFrame(rows)


def extra_question_tables(conn: sqlite3.Connection, f: Filters) -> list[ExtraQuestionTable]:
    """One table per extra question of ``f``'s version (its own section's questions left out), in the
    version's order, from the responses matching ``f``.

    >>> from sipas import db
    >>> conn = db.open_db(":memory:")
    >>> [t.question.code for t in extra_question_tables(conn, Filters("sipas-2024"))][:3]
    ['harassment', 'informal_payment', 'gender']
    """
    rows = db.extra_answer_rows(conn, **f.as_kwargs())
    out = []
    for x in questionnaire(f.questionnaire).extra:
        if x.code in OWN_SECTION:
            continue
        answers = [r[x.code] for r in rows if x.code in r]
        if x.kind in ("single", "multiple"):
            frame = _choice_frame(x, answers)
        elif x.kind == "grid":
            frame = _grid_frame(x, answers)
        else:
            frame = pd.DataFrame({"Câu trả lời": [str(a) for a in answers]})
        out.append(ExtraQuestionTable(x, len(answers), frame))
    return out
