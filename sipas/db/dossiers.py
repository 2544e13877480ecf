"""The provincial one-stop system's dossier log: storing an import set-based, and the month's counts.

Outcomes (data-interchange.md §Dossiers), with ``:end`` the report's end (a timestamp):

* early: finished on a day before the due day; on time: finished by ``due_at``, on the due day;
* late: finished after ``due_at``; open overdue: not finished and ``due_at`` before ``:end``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

DOSSIER_FIELDS = (
    "dossier_id",
    "procedure",
    "field",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "status",
    "staff_code",
    "submit_channel",
    "return_channel",
    "paid_online",
    "rating",
    "complaint",
)
# Every stored column a re-import may change (dossier_id is the key).
_UPDATABLE = DOSSIER_FIELDS[1:]

_EARLY = "(d.finished_at IS NOT NULL AND substr(d.finished_at, 1, 10) < substr(d.due_at, 1, 10))"
_ON_TIME = (
    "(d.finished_at IS NOT NULL AND d.finished_at <= d.due_at"
    " AND substr(d.finished_at, 1, 10) >= substr(d.due_at, 1, 10))"
)
_LATE = "(d.finished_at IS NOT NULL AND d.finished_at > d.due_at)"
_OPEN_OVERDUE = "(d.finished_at IS NULL AND d.due_at < :end)"
# QĐ 766's third ratio: a dossier rated not satisfied, complained about, or late (finished or still open).
_NOT_GOOD = f"(d.rating = 'not_satisfied' OR d.complaint = 1 OR {_LATE} OR {_OPEN_OVERDUE})"

DOSSIER_GROUPS = {
    "month": "substr(d.received_at, 1, 7)",
    "field": "d.field",
    "procedure": "coalesce(d.procedure, '')",
    "staff_code": "coalesce(d.staff_code, '')",
    "channel": "coalesce(d.submit_channel, '')",
    None: "''",
}
DOSSIER_COUNT_KEYS = (
    "received",
    "finished",
    "early",
    "on_time",
    "late",
    "open_overdue",
    "not_good",
    "rated",
    "not_satisfied",
    "complaints",
    "direct",
    "online",
    "postal",
    "postal_return",
    "paid_yes",
    "paid_known",
)


def store_dossiers(
    conn: sqlite3.Connection, rows: Iterable[tuple], import_id: int, now: str
) -> tuple[int, int, int, int]:
    """Store dossiers (tuples in :data:`DOSSIER_FIELDS` order; call inside a transaction), set-based:
    a new ``dossier_id`` is added, a known one whose values differ is updated, a status that differs is
    logged in ``dossier_status_changes`` with ``now`` (and kept in ``status_changed_at``).
    Returns (added, updated, unchanged, status changes)."""
    cols = ", ".join(DOSSIER_FIELDS)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS dossier_stage ({cols})")
    conn.execute("DELETE FROM temp.dossier_stage")
    conn.executemany(f"INSERT INTO temp.dossier_stage ({cols}) VALUES ({', '.join('?' * len(DOSSIER_FIELDS))})", rows)
    conn.execute("CREATE INDEX IF NOT EXISTS temp.dossier_stage_id ON dossier_stage (dossier_id)")
    differs = " OR ".join(f"s.{c} IS NOT d.{c}" for c in _UPDATABLE)
    total, added, changed = conn.execute(
        "SELECT count(*), sum(d.dossier_id IS NULL), "
        f"sum(d.dossier_id IS NOT NULL AND ({differs})) "
        "FROM temp.dossier_stage s LEFT JOIN dossiers d ON d.dossier_id = s.dossier_id"
    ).fetchone()
    status_changes = conn.execute(
        "INSERT INTO dossier_status_changes (dossier_id, old_status, new_status, changed_at, import_id) "
        "SELECT s.dossier_id, d.status, s.status, ?, ? FROM temp.dossier_stage s "
        "JOIN dossiers d ON d.dossier_id = s.dossier_id WHERE s.status IS NOT d.status",
        (now, import_id),
    ).rowcount
    sets = ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
    excluded_differs = " OR ".join(f"excluded.{c} IS NOT dossiers.{c}" for c in _UPDATABLE)
    conn.execute(
        f"INSERT INTO dossiers ({cols}, import_id, updated_import_id) "
        f"SELECT {cols}, :import_id, NULL FROM temp.dossier_stage WHERE true "
        f"ON CONFLICT (dossier_id) DO UPDATE SET {sets}, updated_import_id = :import_id, "
        "status_changed_at = CASE WHEN excluded.status IS NOT dossiers.status THEN :now "
        f"ELSE dossiers.status_changed_at END WHERE {excluded_differs}",
        {"import_id": import_id, "now": now},
    )
    conn.execute("DELETE FROM temp.dossier_stage")
    total, added, changed = int(total or 0), int(added or 0), int(changed or 0)
    return added, changed, total - added - changed, status_changes


def dossier_counts(
    conn: sqlite3.Connection, start: str, stop: str, end: str, by: str | None = None, *, field: str | None = None
) -> list[dict]:
    """Counts (:data:`DOSSIER_COUNT_KEYS`) of the dossiers received in [start, stop), per group ``by`` (a key of
    :data:`DOSSIER_GROUPS`; None: one row), largest group first. ``end`` is the report's end (open overdue)."""
    key = DOSSIER_GROUPS[by]
    where = "d.received_at >= :start AND d.received_at < :stop" + (" AND d.field = :field" if field else "")
    sql = (
        f"SELECT {key} AS grp, count(*), sum(d.finished_at IS NOT NULL), sum({_EARLY}), sum({_ON_TIME}), "
        f"sum({_LATE}), sum({_OPEN_OVERDUE}), sum({_NOT_GOOD}), sum(d.rating IS NOT NULL), "
        "sum(d.rating = 'not_satisfied'), sum(d.complaint), sum(d.submit_channel = 'direct'), "
        "sum(d.submit_channel = 'online'), sum(d.submit_channel = 'postal'), sum(d.return_channel = 'postal'), "
        "sum(d.paid_online = 1), sum(d.paid_online IS NOT NULL) "
        f"FROM dossiers d WHERE {where} GROUP BY grp ORDER BY count(*) DESC, grp"
    )
    params = {"start": start, "stop": stop, "end": end, "field": field}
    out = []
    for row in conn.execute(sql, params):
        item = {"group": row[0]}
        item.update({k: int(v or 0) for k, v in zip(DOSSIER_COUNT_KEYS, row[1:], strict=True)})
        out.append(item)
    return out


def late_dossiers(conn: sqlite3.Connection, start: str, stop: str, end: str, limit: int = 1000) -> list[dict]:
    """The dossiers received in [start, stop) finished late or still open after their due time, most
    overdue first (at most ``limit``)."""
    sql = (
        "SELECT d.dossier_id, d.procedure, d.field, d.staff_code, d.received_at, d.due_at, d.finished_at, d.status, "
        f"{_OPEN_OVERDUE} AS still_open FROM dossiers d "
        f"WHERE d.received_at >= :start AND d.received_at < :stop AND ({_LATE} OR {_OPEN_OVERDUE}) "
        "ORDER BY d.due_at, d.dossier_id LIMIT :limit"
    )
    return [
        dict(
            zip(
                (
                    "dossier_id",
                    "procedure",
                    "field",
                    "staff_code",
                    "received_at",
                    "due_at",
                    "finished_at",
                    "status",
                    "still_open",
                ),
                r,
                strict=True,
            )
        )
        for r in conn.execute(sql, {"start": start, "stop": stop, "end": end, "limit": limit})
    ]


def dossier_arrivals(conn: sqlite3.Connection, start: str, stop: str) -> list[tuple[str, int, int]]:
    """(day, hour, in-person dossiers received) in [start, stop), per day and hour with any."""
    return [
        (d, int(h), int(n))
        for d, h, n in conn.execute(
            "SELECT substr(received_at, 1, 10), CAST(substr(received_at, 12, 2) AS INTEGER), count(*) FROM dossiers "
            "WHERE received_at >= ? AND received_at < ? AND submit_channel = 'direct' GROUP BY 1, 2 ORDER BY 1, 2",
            (start, stop),
        )
    ]


def dossier_status_history(conn: sqlite3.Connection, dossier_id: str) -> list[dict]:
    """The status changes seen by re-imports of one dossier, oldest first."""
    return [
        dict(zip(("old_status", "new_status", "changed_at", "import_id"), r, strict=True))
        for r in conn.execute(
            "SELECT old_status, new_status, changed_at, import_id FROM dossier_status_changes "
            "WHERE dossier_id = ? ORDER BY id",
            (dossier_id,),
        )
    ]


def get_dossier(conn: sqlite3.Connection, dossier_id: str) -> dict | None:
    row = conn.execute(
        f"SELECT {', '.join(DOSSIER_FIELDS)}, status_changed_at FROM dossiers WHERE dossier_id = ?", (dossier_id,)
    ).fetchone()
    return dict(zip((*DOSSIER_FIELDS, "status_changed_at"), row, strict=True)) if row else None


def count_dossiers(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM dossiers").fetchone()[0]


def dossier_days(conn: sqlite3.Connection, start: str, stop: str) -> set[str]:
    """The days in [start, stop) on which any in-person dossier was received."""
    return {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT substr(received_at, 1, 10) FROM dossiers "
            "WHERE received_at >= ? AND received_at < ? AND submit_channel = 'direct'",
            (start, stop),
        )
    }


def pakn_cases(conn: sqlite3.Connection, start: str, stop: str) -> list[dict]:
    """Citizens' feedback (PAKN: cases opened from a survey or by the clerk, not demo) received on days in
    [start, stop): its deadline (the response deadline, else the due date) and when it was handled
    (answered, else closed)."""
    return [
        dict(zip(("id", "received_at", "deadline", "handled", "title"), r, strict=True))
        for r in conn.execute(
            "SELECT id, received_at, coalesce(response_deadline, due_date), "
            "substr(coalesce(responded_at, closed_at), 1, 10), title FROM cases "
            "WHERE origin IN ('survey', 'clerk') AND is_demo = 0 AND received_at >= ? AND received_at < ? "
            "ORDER BY received_at, id",
            (start[:10], stop[:10]),
        )
    ]


def dossier_postal_count(conn: sqlite3.Connection, start: str, stop: str) -> int:
    """Dossiers received in [start, stop) sent or returned by public postal service (BCCI)."""
    return conn.execute(
        "SELECT count(*) FROM dossiers WHERE received_at >= ? AND received_at < ? "
        "AND (submit_channel = 'postal' OR return_channel = 'postal')",
        (start, stop),
    ).fetchone()[0]


def dossier_arrivals_by_field(conn: sqlite3.Connection, date_from: str, date_to: str) -> list[dict]:
    """In-person dossiers received per (day, hour, lĩnh vực) on the days of the inclusive date range."""
    return [
        {"day": d, "hour": int(h), "field": f, "arrivals": int(n)}
        for d, h, f, n in conn.execute(
            "SELECT substr(received_at, 1, 10), CAST(substr(received_at, 12, 2) AS INTEGER), field, count(*) "
            "FROM dossiers WHERE received_at >= ? AND received_at < date(?, '+1 day') AND submit_channel = 'direct' "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            (date_from, date_to),
        )
    ]
