"""The roll-ups kept by triggers (daily_counts, dim_counts) always equal counts from the raw rows,
through inserts, exclusions, restores and deletions, for every filter the analysis page offers."""

from __future__ import annotations

import itertools

from sipas import db, demo


def raw_counts(conn, questionnaire, date_from=None, date_to=None, channel=None, field=None, staff=None):
    """Independent recount straight from responses and answers (non-excluded only)."""
    clauses, params = ["r.questionnaire = ?", "r.excluded = 0"], [questionnaire]
    for sql, value in (
        ("substr(r.submitted_at, 1, 10) >= ?", date_from),
        ("substr(r.submitted_at, 1, 10) <= ?", date_to),
        ("r.channel = ?", channel),
        ("r.field = ?", field),
        ("r.staff_code = ?", staff),
    ):
        if value:
            clauses.append(sql)
            params.append(value)
    where = " AND ".join(clauses)
    out = {}
    for crit, value, n in conn.execute(
        f"SELECT a.criterion, a.value, count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
        f"WHERE {where} AND a.value IS NOT NULL GROUP BY 1, 2",
        params,
    ):
        out.setdefault(crit, [0] * 5)[value - 1] += n
    for value, n in conn.execute(
        f"SELECT overall, count(*) FROM responses r WHERE {where} AND overall IS NOT NULL GROUP BY 1", params
    ):
        out.setdefault("overall", [0] * 5)[value - 1] += n
    responses = conn.execute(f"SELECT count(*) FROM responses r WHERE {where}", params).fetchone()[0]
    return {k: tuple(v) for k, v in out.items()}, responses


FILTERS = [
    {},
    {"date_from": "2025-03-01", "date_to": "2025-08-31"},
    {"channel": "kiosk"},
    {"channel": "paper", "date_from": "2025-01-01", "date_to": "2025-12-31"},
    {"field": "Hộ tịch"},
    {"staff": "CB02"},
    {"staff": "CB02", "channel": "kiosk", "date_from": "2025-06-01", "date_to": "2026-05-31"},
]


def assert_rollups_match(conn):
    for f in FILTERS:
        expected = raw_counts(conn, "sipas-2023", **f)
        got = db.filtered_counts(
            conn,
            questionnaire="sipas-2023",
            date_from=f.get("date_from"),
            date_to=f.get("date_to"),
            channel=f.get("channel"),
            field=f.get("field"),
            staff_code=f.get("staff"),
        )
        assert got == expected, f
        if not any(f.get(k) for k in ("channel", "field", "staff")):
            levels = {
                k: v
                for k, v in db.level_counts(conn, "sipas-2023", f.get("date_from"), f.get("date_to")).items()
                if any(v)
            }
            assert levels == expected[0]
            assert db.responses_in_range(conn, "sipas-2023", f.get("date_from"), f.get("date_to")) == expected[1]


def test_rollups_equal_raw_counts_through_exclusions_and_deletions(conn):
    from datetime import date

    demo.generate(conn, 1500, seed=11, end=date(2026, 6, 30), months=20)
    assert_rollups_match(conn)
    ids = [r[0] for r in conn.execute("SELECT id FROM responses ORDER BY id")]
    for rid in itertools.islice(ids, 0, None, 7):
        db.set_excluded(conn, rid, True, "kiểm tra", "test")
    assert_rollups_match(conn)
    for rid in itertools.islice(ids, 0, None, 14):
        db.set_excluded(conn, rid, False, "khôi phục", "test")
    assert_rollups_match(conn)
    with db.transaction(conn):
        conn.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses WHERE id % 5 = 0)")
    assert_rollups_match(conn)
    db.delete_demo_data(conn)
    assert db.filtered_counts(conn, questionnaire="sipas-2023") == ({}, 0)


def test_the_roll_up_keys_of_a_response_cannot_change(conn):
    import sqlite3

    import pytest

    assert db.insert_response(
        conn,
        {"token": "t1", "submitted_at": "2025-01-02 08:00:00", "questionnaire": "sipas-2023", "channel": "kiosk"},
        {"TC1.1": 4},
    )
    for column, value in (("channel", "'paper'"), ("field", "'Đất đai'"), ("staff_code", "NULL")):
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute(f"UPDATE responses SET {column} = {value} WHERE token = 't1'")
