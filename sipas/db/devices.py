"""Enrolled counter tablets: their device secrets, the start tokens issued to them, and the messages
refused (counted per day and reason)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sipas.db.config import log_audit
from sipas.db.connection import transaction

__all__ = [
    "device_row",
    "list_devices",
    "add_device",
    "enrol_device",
    "revoke_device",
    "issue_tokens",
    "token_row",
    "use_token",
    "count_refusal",
    "count_refusals",
    "refusal_counts",
    "suspect_kiosk_surveys",
]


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def device_row(conn: sqlite3.Connection, name: str) -> dict | None:
    row = conn.execute("SELECT * FROM kiosk_devices WHERE name = ?", (name,)).fetchone()
    return dict(row) if row else None


def list_devices(conn: sqlite3.Connection) -> list[dict]:
    """Every tablet ever added, with how many unused start tokens it holds, when it last synced and how
    many completed surveys it said it still held then."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT d.name, d.added_at, d.enrolled_at, d.revoked_at, d.enrol_expires, "
            "(SELECT count(*) FROM kiosk_tokens t WHERE t.device = d.name AND t.used_at IS NULL) AS tokens, "
            "k.reported_at AS last_sync, k.pending AS pending "
            "FROM kiosk_devices d LEFT JOIN kiosk_tablets k ON k.tablet = d.name ORDER BY d.name"
        )
    ]


def add_device(
    conn: sqlite3.Connection, name: str, code_hash: str, expires: datetime, now: datetime, actor: str
) -> None:
    """Add a tablet (or renew the enrolment of a revoked one) with a one-time enrolment code's hash."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO kiosk_devices (name, enrol_code_hash, enrol_expires, added_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET secret = NULL, enrol_code_hash = excluded.enrol_code_hash, "
            "enrol_expires = excluded.enrol_expires, enrolled_at = NULL, revoked_at = NULL",
            (name, code_hash, _ts(expires), _ts(now)),
        )
        log_audit(conn, actor, "tablet-add", f"tablet:{name}", None, _ts(expires), None)


def enrol_device(conn: sqlite3.Connection, name: str, code_hash: str, secret: str, now: datetime) -> bool:
    """Give the tablet its device secret if the one-time code matches and has not expired."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE kiosk_devices SET secret = ?, enrolled_at = ?, enrol_code_hash = NULL, enrol_expires = NULL "
            "WHERE name = ? AND enrol_code_hash = ? AND enrol_expires >= ? AND revoked_at IS NULL",
            (secret, _ts(now), name, code_hash, _ts(now)),
        )
        if cur.rowcount:
            log_audit(conn, None, "tablet-enrol", f"tablet:{name}", None, _ts(now), None)
        return bool(cur.rowcount)


def revoke_device(conn: sqlite3.Connection, name: str, now: datetime, actor: str) -> bool:
    """Take the secret and the unused start tokens away from a tablet; False if there is no such tablet."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE kiosk_devices SET secret = NULL, enrol_code_hash = NULL, enrol_expires = NULL, revoked_at = ? "
            "WHERE name = ?",
            (_ts(now), name),
        )
        if not cur.rowcount:
            return False
        conn.execute("DELETE FROM kiosk_tokens WHERE device = ? AND used_at IS NULL", (name,))
        log_audit(conn, actor, "tablet-revoke", f"tablet:{name}", None, _ts(now), None)
        return True


def issue_tokens(conn: sqlite3.Connection, name: str, tokens: list[str], now: datetime) -> None:
    with transaction(conn):
        conn.executemany(
            "INSERT INTO kiosk_tokens (token, device, issued_at) VALUES (?, ?, ?)",
            [(t, name, _ts(now)) for t in tokens],
        )


def unused_tokens(conn: sqlite3.Connection, name: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT token FROM kiosk_tokens WHERE device = ? AND used_at IS NULL ORDER BY issued_at, token", (name,)
        )
    ]


__all__.append("unused_tokens")


def token_row(conn: sqlite3.Connection, token: str) -> dict | None:
    row = conn.execute("SELECT * FROM kiosk_tokens WHERE token = ?", (token,)).fetchone()
    return dict(row) if row else None


def use_token(conn: sqlite3.Connection, token: str, now: datetime) -> None:
    with transaction(conn):
        conn.execute("UPDATE kiosk_tokens SET used_at = ? WHERE token = ? AND used_at IS NULL", (_ts(now), token))


def count_refusal(conn: sqlite3.Connection, reason: str, device: str | None, now: datetime, n: int = 1) -> None:
    """Count a refused message or survey (one row per day and reason: a flood cannot fill the disk)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO kiosk_refusals (day, reason, n, last_at, last_device) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (day, reason) DO UPDATE SET n = n + excluded.n, last_at = excluded.last_at, "
            "last_device = excluded.last_device",
            (now.strftime("%Y-%m-%d"), reason, int(n), _ts(now), (device or "")[:40] or None),
        )


def count_refusals(conn: sqlite3.Connection, rows: list[tuple[str, str, int, datetime, str | None]]) -> None:
    """Add many counts at once, in one transaction: ``(day, reason, n, last moment, last device)``."""
    with transaction(conn):
        conn.executemany(
            "INSERT INTO kiosk_refusals (day, reason, n, last_at, last_device) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (day, reason) DO UPDATE SET n = n + excluded.n, last_at = max(last_at, excluded.last_at), "
            "last_device = CASE WHEN excluded.last_at >= last_at THEN excluded.last_device ELSE last_device END",
            [(day, reason, int(n), _ts(at), (device or "")[:40] or None) for day, reason, n, at, device in rows],
        )


def refusal_counts(conn: sqlite3.Connection, since: str | None = None) -> list[dict]:
    """Refusals per day and reason, newest first."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM kiosk_refusals WHERE day >= ? ORDER BY day DESC, n DESC", (since or "0000-00-00",)
        )
    ]


def suspect_kiosk_surveys(conn: sqlite3.Connection, prefix: str, limit: int = 500) -> list[dict]:
    """Kiosk and phone (QR) surveys still excluded with a misuse reason beginning with ``prefix``, newest first."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT id, submitted_at, device, duration_seconds, overall, exclude_reason FROM responses "
            "WHERE channel IN ('kiosk', 'qr') AND excluded = 1 AND substr(exclude_reason, 1, ?) = ? "
            "ORDER BY submitted_at DESC, id DESC LIMIT ?",
            (len(prefix), prefix, int(limit)),
        )
    ]
