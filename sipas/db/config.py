"""Kiosk events, staff roster, dated settings and the audit log."""

from __future__ import annotations

import sqlite3

from sipas import clock
from sipas.db import audit as _audit

# ---------------------------------------------------------------------------------------------
# Kiosk events, staff roster, settings, audit
# ---------------------------------------------------------------------------------------------


def count_abandoned(conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None) -> int:
    """Surveys left unfinished: those the old tablet page counted, plus every survey a tablet said it
    started whose completed survey never arrived (idle, "Hủy", reload, Back, switched off)."""
    where, params = "", []
    if date_from:
        where += " AND at >= ?"
        params.append(date_from)
    if date_to:
        where += " AND at < date(?, '+1 day')"
        params.append(date_to)
    old = conn.execute("SELECT count(*) FROM kiosk_events WHERE kind = 'abandoned'" + where, params).fetchone()[0]
    started = conn.execute(
        "SELECT count(*) FROM kiosk_starts s WHERE NOT EXISTS (SELECT 1 FROM responses r WHERE r.token = s.token)"
        + where,
        params,
    ).fetchone()[0]
    return old + started


def list_staff(conn: sqlite3.Connection, active_only: bool = False) -> list[dict]:
    sql = "SELECT * FROM staff"
    if active_only:
        # An end date reached makes a member inactive even before anyone edits the roster.
        sql += " WHERE active = 1 AND (active_to IS NULL OR active_to > date('now', '+7 hours'))"
    return [dict(r) for r in conn.execute(sql + " ORDER BY code")]


def staff_codes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT code FROM staff")}


def upsert_staff(conn: sqlite3.Connection, member: dict) -> None:
    conn.execute(
        "INSERT INTO staff (code, full_name, position, counter, active_from, active_to, active, is_demo) "
        "VALUES (:code, :full_name, :position, :counter, :active_from, :active_to, :active, :is_demo) "
        "ON CONFLICT (code) DO UPDATE SET full_name = excluded.full_name, position = excluded.position, "
        "counter = excluded.counter, active_from = excluded.active_from, active_to = excluded.active_to, "
        "active = excluded.active",
        {
            "position": None,
            "counter": None,
            "active_from": None,
            "active_to": None,
            "active": 1,
            "is_demo": 0,
            **member,
        },
    )


def get_setting_rows(conn: sqlite3.Connection, key: str) -> list[dict]:
    return [dict(r) for r in conn.execute("SELECT * FROM settings WHERE key = ? ORDER BY valid_from", (key,))]


def get_setting_value(conn: sqlite3.Connection, key: str, on_date: str) -> str | None:
    """The JSON text of the setting ``key`` in force on ``on_date`` (latest valid_from ≤ date)."""
    row = conn.execute(
        "SELECT value FROM settings WHERE key = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1",
        (key, on_date),
    ).fetchone()
    return None if row is None else row[0]


def put_setting_value(
    conn: sqlite3.Connection, key: str, value_json: str, valid_from: str, actor: str | None, old_json: str | None = None
) -> None:
    """Set a dated setting and log old → new in the audit log (call inside a transaction)."""
    # The value in force on that date before this change (None when only the default applied).
    old = conn.execute(
        "SELECT value FROM settings WHERE key = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1",
        (key, valid_from),
    ).fetchone()
    conn.execute(
        "INSERT INTO settings (key, valid_from, value, changed_by, changed_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (key, valid_from) DO UPDATE SET value = excluded.value, "
        "changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        (key, valid_from, value_json, actor, clock.now_ts()),
    )
    if old is not None:
        old_json = old[0]
    log_audit(conn, actor, "setting", f"{key}@{valid_from}", old_json, value_json, None)


def log_audit(
    conn: sqlite3.Connection,
    actor: str | None,
    action: str,
    entity: str | None,
    old_value: str | None,
    new_value: str | None,
    note: str | None,
) -> None:
    """Append an entry to the audit log. ``action`` must be registered in :mod:`sipas.db.audit`, and an
    action a person takes needs its actor: a programming error otherwise (ValueError, nothing written)."""
    registered = _audit.ACTIONS.get(action)
    if registered is None:
        raise ValueError(f"audit action {action!r} is not registered in sipas.db.audit")
    if registered.by_person and not (actor or "").strip():
        raise ValueError(f"audit action {action!r} needs the person who acts")
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, entity, old_value, new_value, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (clock.now_ts(), actor, action, entity, old_value, new_value, note),
    )


def audit_entries(conn: sqlite3.Connection, limit: int = 200) -> list[dict]:
    return [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))]
