"""Staff accounts, failed logins and staff sessions."""

from __future__ import annotations

import sqlite3

from sipas import clock

# ---------------------------------------------------------------------------------------------
# Staff accounts, failed logins, staff sessions
# ---------------------------------------------------------------------------------------------


def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def get_user(conn: sqlite3.Connection, username: str) -> dict | None:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else dict(row)


def list_users(conn: sqlite3.Connection) -> list[dict]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT username, full_name, role, is_admin, active, created_at, password_changed_at "
            "FROM users ORDER BY username"
        )
    ]


def insert_user(
    conn: sqlite3.Connection, username: str, full_name: str | None, pw_hash: str, role: str, is_admin: bool
) -> None:
    conn.execute(
        "INSERT INTO users (username, full_name, pw_hash, role, is_admin, created_at, password_changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (username, full_name, pw_hash, role, int(is_admin), clock.now_ts(), clock.now_ts()),
    )


def update_user(conn: sqlite3.Connection, username: str, **fields) -> None:
    allowed = {"full_name", "pw_hash", "role", "is_admin", "active"}
    assignments = [f"{k} = :{k}" for k in fields if k in allowed]
    if "pw_hash" in fields:
        assignments.append("password_changed_at = :changed_at")
    conn.execute(
        f"UPDATE users SET {', '.join(assignments)} WHERE username = :username",
        {**fields, "username": username, "changed_at": clock.now_ts()},
    )


def add_login_failure(conn: sqlite3.Connection, username: str, at: float) -> int:
    return conn.execute("INSERT INTO login_failures (username, at) VALUES (?, ?)", (username, at)).lastrowid


def login_failures_after(conn: sqlite3.Connection, username: str, failure_id: int) -> int:
    """How many failures of ``username`` were recorded after the row ``failure_id``."""
    return conn.execute(
        "SELECT count(*) FROM login_failures WHERE username = ? AND id > ?", (username, failure_id)
    ).fetchone()[0]


def login_failures_since(
    conn: sqlite3.Connection, username: str, since: float, exclude: int | None = None
) -> list[float]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT at FROM login_failures WHERE username = ? AND at >= ? AND id IS NOT ? ORDER BY at, id",
            (username, since, exclude),
        )
    ]


def clear_login_failures(conn: sqlite3.Connection, username: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE username = ?", (username,))


def insert_staff_session(conn: sqlite3.Connection, token: str, username: str, now: float) -> None:
    conn.execute(
        "INSERT INTO staff_sessions (token, username, created_at, last_seen) VALUES (?, ?, ?, ?)",
        (token, username, now, now),
    )


def get_staff_session(conn: sqlite3.Connection, token: str) -> dict | None:
    row = conn.execute(
        "SELECT s.*, u.role, u.is_admin, u.active, u.full_name FROM staff_sessions s "
        "JOIN users u ON u.username = s.username WHERE s.token = ?",
        (token,),
    ).fetchone()
    return None if row is None else dict(row)


def touch_staff_session(conn: sqlite3.Connection, token: str, now: float) -> None:
    conn.execute("UPDATE staff_sessions SET last_seen = ? WHERE token = ?", (now, token))


def end_staff_sessions(
    conn: sqlite3.Connection, now: float, reason: str, *, token: str | None = None, username: str | None = None
) -> int:
    if token is not None:
        cur = conn.execute(
            "UPDATE staff_sessions SET ended_at = ?, end_reason = ? WHERE token = ? AND ended_at IS NULL",
            (now, reason, token),
        )
    else:
        cur = conn.execute(
            "UPDATE staff_sessions SET ended_at = ?, end_reason = ? WHERE username = ? AND ended_at IS NULL",
            (now, reason, username),
        )
    return cur.rowcount


def last_password_setter(conn: sqlite3.Connection, username: str) -> str | None:
    """Who last set ``username``'s password (the audit log's account creation or password change), or None."""
    row = conn.execute(
        "SELECT actor FROM audit_log WHERE action IN ('user-add', 'user-password') AND entity = ? "
        "ORDER BY id DESC LIMIT 1",
        (f"user:{username}",),
    ).fetchone()
    return None if row is None else (row[0] or "")
