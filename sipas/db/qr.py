"""Single-use QR codes (table ``qr_codes``, migration 18): issued, looked up by hash, claimed once.

Only the sha256 of a code is stored. A code is claimed by one phone survey token in one statement
(:func:`claim_qr_code`), so two people with the same code cannot both store a survey; the survey itself
is stored under the token ``qr:<code hash>`` (one code, at most one response) and, when the code carries
a dossier, with ``responses.dossier_id`` (partial UNIQUE index: one dossier, at most one rating).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sipas.db.config import log_audit
from sipas.db.connection import transaction

__all__ = [
    "claim_qr_code",
    "dossier_rated",
    "insert_qr_codes",
    "latest_unused_qr_code",
    "qr_code_row",
    "qr_dossier_figures",
    "qr_recent_count",
    "release_qr_code",
]


def insert_qr_codes(
    conn: sqlite3.Connection, rows: Iterable[dict], *, printed_by: str | None = None, note: str | None = None
) -> int:
    """Store issued codes (dicts of ``code_hash, issued_at, expires_at, source, issued_by, dossier_id``)
    in one transaction; with ``printed_by``, a sheet of cards: the audit entry ``qr-cards`` with ``note``
    in the same transaction. How many."""
    rows = list(rows)
    with transaction(conn):
        conn.executemany(
            "INSERT INTO qr_codes (code_hash, issued_at, expires_at, source, issued_by, dossier_id) "
            "VALUES (:code_hash, :issued_at, :expires_at, :source, :issued_by, :dossier_id)",
            rows,
        )
        if printed_by is not None:
            log_audit(conn, printed_by, "qr-cards", "qr_codes", None, str(len(rows)), note)
    return len(rows)


def qr_code_row(conn: sqlite3.Connection, code_hash: str) -> dict | None:
    """The stored code with this hash, or None."""
    cur = conn.execute("SELECT * FROM qr_codes WHERE code_hash = ?", (code_hash,))
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def latest_unused_qr_code(conn: sqlite3.Connection, source: str, issued_since: str, valid_at: str) -> dict | None:
    """The newest code of ``source`` issued at or after ``issued_since``, not used, not expired at
    ``valid_at``, whose dossier (if any) has no rating yet; or None."""
    cur = conn.execute(
        "SELECT * FROM qr_codes WHERE source = ? AND used_at IS NULL AND issued_at >= ? AND expires_at > ? "
        "ORDER BY issued_at DESC, rowid DESC LIMIT 1",
        (source, issued_since, valid_at),
    )
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def claim_qr_code(conn: sqlite3.Connection, code_hash: str, client_token: str, at: str) -> bool:
    """Mark the code used by ``client_token`` at ``at`` if nobody else holds it; True if it is now
    this token's (also when it already was: a retry)."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE qr_codes SET used_at = ?, used_token = ? WHERE code_hash = ? AND used_token IS NULL",
            (at, client_token, code_hash),
        )
        if cur.rowcount:
            return True
        row = conn.execute("SELECT used_token FROM qr_codes WHERE code_hash = ?", (code_hash,)).fetchone()
    return row is not None and row[0] == client_token


def release_qr_code(conn: sqlite3.Connection, code_hash: str, client_token: str, response_token: str) -> None:
    """Give a claimed code back (its survey was refused and nothing was stored)."""
    with transaction(conn):
        conn.execute(
            "UPDATE qr_codes SET used_at = NULL, used_token = NULL WHERE code_hash = ? AND used_token = ? "
            "AND NOT EXISTS (SELECT 1 FROM responses WHERE token = ?)",
            (code_hash, client_token, response_token),
        )


def dossier_rated(conn: sqlite3.Connection, dossier_id: str) -> bool:
    """Whether a survey linked to this dossier is stored (one dossier, at most one rating)."""
    return conn.execute("SELECT 1 FROM responses WHERE dossier_id = ?", (dossier_id,)).fetchone() is not None


def qr_recent_count(conn: sqlite3.Connection, source: str, since: str, until: str) -> int:
    """QR surveys stored with codes of ``source`` submitted within [since, until] (the burst check)."""
    return conn.execute(
        "SELECT count(*) FROM responses r JOIN qr_codes q ON r.token = 'qr:' || q.code_hash "
        "WHERE r.channel = 'qr' AND q.source = ? AND r.submitted_at BETWEEN ? AND ?",
        (source, since, until),
    ).fetchone()[0]


def qr_dossier_figures(conn: sqlite3.Connection, date_from: str, date_to: str) -> list[dict]:
    """The surveys submitted in [date_from, date_to] (local dates, inclusive) linked to a dossier, not
    excluded, with their overall answer and the dossier's due and finish times (None where the dossier
    is not imported yet)."""
    cur = conn.execute(
        "SELECT r.dossier_id, r.overall, d.due_at, d.finished_at, d.field "
        "FROM responses r LEFT JOIN dossiers d ON d.dossier_id = r.dossier_id "
        "WHERE r.dossier_id IS NOT NULL AND r.excluded = 0 "
        "AND substr(r.submitted_at, 1, 10) BETWEEN ? AND ? ORDER BY r.id",
        (date_from, date_to),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
