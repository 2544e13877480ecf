"""Waiting time and staffing: queue tickets, hourly dossier counts, survey by slot."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sipas.db.analysis import _response_where
from sipas.db.config import log_audit
from sipas.db.responses import _range_clause

# ---------------------------------------------------------------------------------------------
# Waiting time and staffing (sipas.staffing.waiting): queue tickets, hourly dossier counts, survey by slot
# ---------------------------------------------------------------------------------------------

TICKET_FIELDS = ("ticket_id", "day", "service", "counter", "issued_at", "called_at", "finished_at", "import_id")


def insert_tickets(conn: sqlite3.Connection, tickets: Iterable[dict]) -> tuple[int, int]:
    """Store tickets (call inside a transaction); one already stored for its (ticket_id, day) is skipped.
    Returns (added, already present)."""
    added = present = 0
    sql = (
        f"INSERT INTO tickets ({', '.join(TICKET_FIELDS)}) VALUES ({', '.join(':' + c for c in TICKET_FIELDS)}) "
        "ON CONFLICT (ticket_id, day) DO NOTHING"
    )
    for t in tickets:
        if conn.execute(sql, {c: t.get(c) for c in TICKET_FIELDS}).rowcount == 1:
            added += 1
        else:
            present += 1
    return added, present


def set_import_counts(conn: sqlite3.Connection, import_id: int, added: int, present: int) -> None:
    conn.execute("UPDATE imports SET rows_added = ?, rows_present = ? WHERE id = ?", (added, present, import_id))


def ticket_rows(conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None) -> list[dict]:
    """Tickets issued in the inclusive local date range (None: open-ended), oldest first."""
    where, params = _range_clause(date_from, date_to)
    return [
        dict(r)
        for r in conn.execute(
            "SELECT ticket_id, day, service, counter, issued_at, called_at, finished_at FROM tickets "
            f"WHERE 1 = 1{where} ORDER BY issued_at, id",
            params,
        )
    ]


def count_tickets(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]


def hourly_dossier_rows(
    conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None
) -> list[dict]:
    """The clerk's hourly dossier counts (day, counter, hour, dossiers) in the inclusive date range."""
    where, params = _range_clause(date_from, date_to)
    return [
        dict(r)
        for r in conn.execute(
            f"SELECT day, counter, hour, dossiers FROM hourly_dossiers WHERE 1 = 1{where} ORDER BY day, counter, hour",
            params,
        )
    ]


def replace_hourly_dossiers(
    conn: sqlite3.Connection, day: str, rows: list[tuple[str, int, int]], actor: str | None, now: str
) -> None:
    """Replace one day's counts with (counter, hour, dossiers) rows, logging old → new (call inside a
    transaction)."""
    old = [
        tuple(r)
        for r in conn.execute(
            "SELECT counter, hour, dossiers FROM hourly_dossiers WHERE day = ? ORDER BY counter, hour", (day,)
        )
    ]
    conn.execute("DELETE FROM hourly_dossiers WHERE day = ?", (day,))
    conn.executemany(
        "INSERT INTO hourly_dossiers (day, counter, hour, dossiers, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(day, c, h, n, actor, now) for c, h, n in rows],
    )
    new = sorted(rows)
    if old != new:
        log_audit(
            conn,
            actor,
            "hourly-dossiers",
            f"hourly_dossiers@{day}",
            repr(old) if old else None,
            repr(new) if new else None,
            None,
        )


def wait_bucket_overall(conn: sqlite3.Connection, **filters) -> list[tuple[str, int, int]]:
    """(wait bucket, answers to the overall question, of which 4–5) for responses that gave a wait."""
    where, params = _response_where(**filters)
    rows = conn.execute(
        "SELECT r.wait_bucket, count(*), sum(r.overall >= 4) FROM responses r "
        f"WHERE {where} AND r.overall IS NOT NULL AND r.wait_bucket IS NOT NULL GROUP BY 1",
        params,
    )
    return [(b, int(n), int(s)) for b, n, s in rows]


def weekday_hour_reported_waits(conn: sqlite3.Connection, **filters) -> list[tuple[int, int, int, int]]:
    """(weekday 0 = Monday … 6, hour, responses that gave a wait, of which 15 minutes or more) per cell."""
    where, params = _response_where(**filters)
    rows = conn.execute(
        "SELECT (CAST(strftime('%w', r.submitted_at) AS INTEGER) + 6) % 7, "
        "CAST(substr(r.submitted_at, 12, 2) AS INTEGER), count(*), sum(r.wait_bucket != 'lt15') "
        f"FROM responses r WHERE {where} AND r.wait_bucket IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows]


def imported_fields(conn: sqlite3.Connection) -> tuple[int, list[str]]:
    """(newest import id, the lĩnh vực values used by imported responses). The kiosk only offers the fields
    of the settings, so free-text ones can only come from imports: callers cache this by the import id."""
    last = conn.execute("SELECT coalesce(max(id), 0) FROM imports").fetchone()[0]
    fields = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT field FROM responses WHERE import_id IS NOT NULL AND field IS NOT NULL AND field != '' "
            "ORDER BY field"
        )
    ]
    return last, fields


def last_import_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM imports").fetchone()[0]
