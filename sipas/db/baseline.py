"""Baseline rows (published figures of an earlier year)."""

from __future__ import annotations

import sqlite3

from sipas import clock

# ---------------------------------------------------------------------------------------------
# Baseline (published figures of an earlier year)
# ---------------------------------------------------------------------------------------------


def upsert_baseline_rows(conn: sqlite3.Connection, rows: list[dict], source: str) -> int:
    """Insert or replace baseline figures keyed by (year, questionnaire, level, code)."""
    for r in rows:
        conn.execute(
            "INSERT INTO baseline (year, questionnaire, level, code, index_value, n, satisfied, source, updated_at) "
            "VALUES (:year, :questionnaire, :level, :code, :index_value, :n, :satisfied, :source, :updated_at) "
            "ON CONFLICT (year, questionnaire, level, code) DO UPDATE SET index_value = excluded.index_value, "
            "n = excluded.n, satisfied = excluded.satisfied, source = excluded.source, "
            "updated_at = excluded.updated_at",
            {"n": None, "satisfied": None, **r, "source": source, "updated_at": clock.now_ts()},
        )
    return len(rows)


def baseline_rows(conn: sqlite3.Connection, year: int | None = None, questionnaire: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM baseline WHERE 1 = 1", []
    if year is not None:
        sql += " AND year = ?"
        params.append(year)
    if questionnaire is not None:
        sql += " AND questionnaire = ?"
        params.append(questionnaire)
    order = " ORDER BY year, questionnaire, CASE level WHEN 'overall' THEN 0 WHEN 'element' THEN 1 ELSE 2 END, code"
    return [dict(r) for r in conn.execute(sql + order, params)]


def baseline_years(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return [
        (r[0], r[1])
        for r in conn.execute("SELECT DISTINCT year, questionnaire FROM baseline ORDER BY year DESC, questionnaire")
    ]
