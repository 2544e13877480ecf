"""The counter tablet: surveys started (for honest abandonment), pending counts per tablet,
survey durations, staff photos."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from sipas.db.connection import transaction


def record_starts(conn: sqlite3.Connection, starts: Iterable[tuple[str, datetime, str | None]]) -> None:
    """Count surveys as started (token, when, device); a token already counted is ignored."""
    rows = [(token, at.strftime("%Y-%m-%d %H:%M:%S"), device) for token, at, device in starts]
    if not rows:
        return
    with transaction(conn):
        conn.executemany("INSERT OR IGNORE INTO kiosk_starts (token, at, device) VALUES (?, ?, ?)", rows)


def report_pending(conn: sqlite3.Connection, tablet: str, pending: int, at: datetime) -> None:
    """A tablet says how many completed surveys it still holds (not yet acknowledged)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO kiosk_tablets (tablet, pending, reported_at) VALUES (?, ?, ?) "
            "ON CONFLICT (tablet) DO UPDATE SET pending = excluded.pending, reported_at = excluded.reported_at",
            (tablet, int(pending), at.strftime("%Y-%m-%d %H:%M:%S")),
        )


def tablet_reports(conn: sqlite3.Connection) -> list[dict]:
    return [dict(r) for r in conn.execute("SELECT * FROM kiosk_tablets ORDER BY reported_at DESC")]


def kiosk_durations(
    conn: sqlite3.Connection, since: str, questionnaire: str, asked: int, limit: int = 500
) -> list[float]:
    """Seconds the latest citizens' kiosk surveys of one survey mode took, since a date (the welcome
    screen's promise): version ``questionnaire`` with ``asked`` criteria asked, from an enrolled tablet
    under a server-issued token (not a survey queued before enrolment), neither excluded (suspect
    surveys are stored excluded) nor demo. At most ``limit``, newest first."""
    rows = conn.execute(
        "SELECT r.duration_seconds FROM responses r "
        "JOIN kiosk_devices d ON d.name = r.device AND d.enrolled_at IS NOT NULL "
        "WHERE r.questionnaire = ? AND r.submitted_at >= ? AND r.channel = 'kiosk' "
        "AND r.excluded = 0 AND r.is_demo = 0 AND r.token LIKE 'kiosk:%' AND r.token NOT LIKE 'kiosk:legacy:%' "
        "AND r.duration_seconds > 0 "
        "AND (SELECT count(*) FROM answers a WHERE a.response_id = r.id) = ? "
        "ORDER BY r.submitted_at DESC LIMIT ?",
        (questionnaire, since, asked, limit),
    )
    return [float(r[0]) for r in rows]


def set_staff_photo(conn: sqlite3.Connection, code: str, photo: bytes | None, mime: str | None) -> None:
    """Call inside a transaction (sipas.admin.roster.set_photo logs it in the audit log too)."""
    conn.execute("UPDATE staff SET photo = ?, photo_type = ? WHERE code = ?", (photo, mime, code))


def staff_photos(conn: sqlite3.Connection) -> dict[str, tuple[bytes, str]]:
    return {
        r[0]: (bytes(r[1]), r[2])
        for r in conn.execute("SELECT code, photo, photo_type FROM staff WHERE photo IS NOT NULL")
    }


def kiosk_recent_count(conn: sqlite3.Connection, device: str | None, since: datetime, until: datetime) -> int:
    """Kiosk surveys from one tablet completed between two moments (for the misuse check)."""
    return conn.execute(
        "SELECT count(*) FROM responses WHERE channel = 'kiosk' AND device IS ? AND submitted_at BETWEEN ? AND ?",
        (device, since.strftime("%Y-%m-%d %H:%M:%S"), until.strftime("%Y-%m-%d %H:%M:%S")),
    ).fetchone()[0]


def response_token_exists(conn: sqlite3.Connection, token: str) -> bool:
    """Whether a response is stored under this token."""
    return conn.execute("SELECT 1 FROM responses WHERE token = ?", (token,)).fetchone() is not None


def kiosk_token_count(conn: sqlite3.Connection, device: str | None, prefix: str) -> int:
    """Kiosk surveys of one tablet stored under tokens that begin with ``prefix``."""
    return conn.execute(
        "SELECT count(*) FROM responses WHERE channel = 'kiosk' AND device IS ? AND substr(token, 1, ?) = ?",
        (device, len(prefix), prefix),
    ).fetchone()[0]
