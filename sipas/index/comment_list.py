"""The comments of a period as the clerk reads them: newest first, with the ratings of the same response
and their topic tags (:mod:`sipas.index.comments`), searched with or without diacritics, and how many
carry each topic. Text stays text: nothing here is markup.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

import pandas as pd

from sipas import db
from sipas.index import comments as cm
from sipas.index.selection import CHANNEL_LABELS, Filters

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
    return tuple(cm.tag(text, rules))


def topic_counts(frame) -> dict[str, int]:
    """How many comments carry each topic (a comment may carry several)."""
    counts: dict[str, int] = {}
    for tags in frame["Chủ đề"]:
        for t in str(tags).split(", "):
            if t:
                counts[t] = counts.get(t, 0) + 1
    return counts
