"""Backup, restore and consistency checks (used by sipas.admin.backup, .restore and .check)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

# ---------------------------------------------------------------------------------------------
# Backup, restore and consistency checks (used by sipas.admin.backup, .restore and .check)
# ---------------------------------------------------------------------------------------------


def file_identity(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """(application_id, user_version, table names) of any SQLite file, to tell whether it is ours."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = set(_introspect(conn).table_names())
    return app_id, version, tables


def integrity_problems(conn: sqlite3.Connection, limit: int = 100) -> list[str]:
    """``PRAGMA integrity_check``: an empty list when the file is sound, else SQLite's findings."""
    rows = [r[0] for r in conn.execute(f"PRAGMA integrity_check({int(limit)})")]
    return [] if rows == ["ok"] else rows


def set_journal_mode(conn: sqlite3.Connection, mode: str) -> str:
    """Switch the journal mode (``delete`` makes a standalone single file); return the mode now set."""
    if mode not in ("delete", "wal"):
        raise ValueError(mode)
    return conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]


def page_size(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA page_size").fetchone()[0]


def rebuild_with_page_size(conn: sqlite3.Connection, size: int) -> None:
    """Rewrite a (non-WAL) file with another page size: the backup API cannot copy into a WAL
    database whose page size differs."""
    conn.execute(f"PRAGMA page_size={int(size)}")
    conn.execute("VACUUM")


def checkpoint(conn: sqlite3.Connection) -> None:
    """Move the WAL into the main file and empty it (best effort: readers may keep part of it)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def foreign_key_violations(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """``PRAGMA foreign_key_check`` grouped: (table, referenced table, number of rows)."""
    counts: dict[tuple[str, str], int] = {}
    for row in conn.execute("PRAGMA foreign_key_check"):
        key = (row[0], row[2])
        counts[key] = counts.get(key, 0) + 1
    return [(t, p, n) for (t, p), n in sorted(counts.items())]


# The roll-ups as (table, key columns, value columns); the recount is built once per check in a
# temporary table (the temp database: the checked file itself is only read).
ROLLUP_TABLES = (
    ("daily_responses", ("day", "questionnaire"), ("responses",)),
    ("daily_counts", ("day", "questionnaire", "criterion"), ("n1", "n2", "n3", "n4", "n5", "n_na")),
    ("dim_responses", ("day", "questionnaire", "channel", "field", "staff"), ("responses",)),
    (
        "dim_counts",
        ("day", "questionnaire", "channel", "field", "staff", "criterion"),
        ("n1", "n2", "n3", "n4", "n5", "n_na"),
    ),
)


def recount_rollups(conn: sqlite3.Connection) -> None:
    """Recount every roll-up from the raw rows into ``temp.recount_<table>`` (one pass over the
    answers: the daily recounts are sums of the dimension ones). Drop them with
    :func:`drop_recounts`."""
    drop_recounts(conn)
    conn.execute(
        """
        CREATE TEMP TABLE recount_dim_counts AS
        SELECT d AS day, q AS questionnaire, c AS channel, f AS field, s AS staff, criterion,
               total(v = 1) AS n1, total(v = 2) AS n2, total(v = 3) AS n3, total(v = 4) AS n4,
               total(v = 5) AS n5, total(v IS NULL) AS n_na
        FROM (SELECT substr(r.submitted_at, 1, 10) AS d, r.questionnaire AS q, r.channel AS c,
                     coalesce(r.field, '') AS f, coalesce(r.staff_code, '') AS s, a.criterion, a.value AS v
              FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0
              UNION ALL
              SELECT substr(submitted_at, 1, 10), questionnaire, channel, coalesce(field, ''),
                     coalesce(staff_code, ''), 'overall', overall
              FROM responses WHERE excluded = 0 AND overall IS NOT NULL)
        GROUP BY 1, 2, 3, 4, 5, 6
        """
    )
    conn.execute(
        "CREATE TEMP TABLE recount_dim_responses AS SELECT substr(submitted_at, 1, 10) AS day, questionnaire, "
        "channel, coalesce(field, '') AS field, coalesce(staff_code, '') AS staff, count(*) AS responses "
        "FROM responses WHERE excluded = 0 GROUP BY 1, 2, 3, 4, 5"
    )
    conn.execute(
        "CREATE TEMP TABLE recount_daily_counts AS SELECT day, questionnaire, criterion, total(n1) AS n1, "
        "total(n2) AS n2, total(n3) AS n3, total(n4) AS n4, total(n5) AS n5, total(n_na) AS n_na "
        "FROM temp.recount_dim_counts GROUP BY 1, 2, 3"
    )
    conn.execute(
        "CREATE TEMP TABLE recount_daily_responses AS SELECT day, questionnaire, total(responses) AS responses "
        "FROM temp.recount_dim_responses GROUP BY 1, 2"
    )


def drop_recounts(conn: sqlite3.Connection) -> None:
    for table, _, _ in ROLLUP_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS temp.recount_{table}")


def rollup_mismatches(conn: sqlite3.Connection, table: str) -> list[tuple[tuple, tuple, tuple]]:
    """(key, stored values, recounted values) of every key where the roll-up ``table`` differs from
    :func:`recount_rollups`' recount, in key order. Only the differences leave SQLite (a million
    responses have millions of roll-up rows). A stored row at zero with nothing to recount is no
    difference (an exclusion or deletion leaves such rows behind)."""
    _, keys, values = next(t for t in ROLLUP_TABLES if t[0] == table)
    k, v = ", ".join(keys), ", ".join(f"CAST({c} AS INTEGER)" for c in values)
    nonzero = " OR ".join(f"{c} != 0" for c in values)
    join = " AND ".join(f"b.{c} IS {{t}}.{c}" for c in keys)
    sql = f"""
        WITH bad AS (
            SELECT {k} FROM (SELECT {k}, {v} FROM temp.recount_{table} EXCEPT SELECT {k}, {v} FROM main.{table})
            UNION
            SELECT {k} FROM (SELECT {k}, {v} FROM main.{table} WHERE {nonzero}
                             EXCEPT SELECT {k}, {v} FROM temp.recount_{table}))
        SELECT {", ".join(f"b.{c}" for c in keys)},
               {", ".join(f"coalesce(st.{c}, 0)" for c in values)}, {", ".join(f"coalesce(re.{c}, 0)" for c in values)}
        FROM bad b LEFT JOIN main.{table} st ON {join.format(t="st")}
        LEFT JOIN temp.recount_{table} re ON {join.format(t="re")}
        ORDER BY {", ".join(f"b.{c}" for c in keys)}
    """
    n, m = len(keys), len(values)
    return [
        (tuple(r[:n]), tuple(int(x) for x in r[n : n + m]), tuple(int(x) for x in r[n + m :]))
        for r in conn.execute(sql)
    ]


def response_questionnaire_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many responses name each questionnaire code."""
    return {
        r[0]: int(r[1]) for r in conn.execute("SELECT questionnaire, count(*) FROM responses GROUP BY questionnaire")
    }


def answer_criterion_counts(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(questionnaire of the response, criterion, number of answers) over all stored answers."""
    return [
        (r[0], r[1], int(r[2]))
        for r in conn.execute(
            "SELECT r.questionnaire, a.criterion, count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
    ]


def unknown_staff_code_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Staff codes named by responses that are not in the roster, with how many responses name each."""
    return {
        r[0]: int(r[1])
        for r in conn.execute(
            "SELECT staff_code, count(*) FROM responses WHERE staff_code IS NOT NULL "
            "AND staff_code NOT IN (SELECT code FROM staff) GROUP BY staff_code ORDER BY staff_code"
        )
    }


def response_day_range(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """First and last local day with a counted response (from the roll-up, so it is instant)."""
    row = conn.execute("SELECT min(day), max(day) FROM daily_responses WHERE responses > 0").fetchone()
    return row[0], row[1]


# ---------------------------------------------------------------------------------------------
# Schema objects and account tables (restore and check)
# ---------------------------------------------------------------------------------------------

# Rows a restored file never brings: the live installation's accounts, failed logins and sessions.
# Who may do what: never taken from a restored file, always the live installation's. Staff accounts and
# their sessions, and the enrolled tablets with their secrets, start tokens and refusal counts (a backup
# from before an enrolment would otherwise refuse that tablet's surveys, and one from before a revocation
# would let a revoked tablet in again), and the single-use QR codes (a card printed after the backup
# keeps working, a code used after it stays used: its survey is carried). Parents before the tables that
# point to them.
ACCOUNT_TABLES = (
    "users",
    "login_failures",
    "staff_sessions",
    "kiosk_devices",
    "kiosk_tokens",
    "kiosk_refusals",
    "qr_codes",
)


def _introspect(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """sqlite-utils over ``conn`` for reading the schema, leaving the connection as it was (no
    ``recursive_triggers`` pragma, no plugins). Imported here: the command line's quick commands
    never load it."""
    import sqlite_utils

    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


def _own(name: str) -> bool:
    # SQLite's own objects (sqlite_sequence, sqlite_stat*, sqlite_autoindex_*) follow from the others.
    return not name.lower().startswith("sqlite_")


def schema_objects(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """``{(type, name): SQL with whitespace collapsed}`` of the tables, indexes, triggers and views.

    SQLite's own objects (``sqlite_autoindex_*``, ``sqlite_sequence``, ``sqlite_stat*``) follow from
    the others or from ANALYZE and are left out; so are the indexes behind a PRIMARY KEY or UNIQUE
    constraint (part of their table's SQL).
    """
    found = _introspect(conn)
    sql: dict[tuple[str, str], str | None] = {}
    for table in found.tables:
        if not _own(table.name):
            continue
        sql["table", table.name] = table.schema
        for index in table.indexes:
            if index.origin == "c" and _own(index.name):  # created by CREATE INDEX
                sql["index", index.name] = found.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [index.name]
                ).fetchone()[0]
    for view in found.views:
        sql["view", view.name] = view.schema
    for trigger in found.triggers:
        sql["trigger", trigger.name] = trigger.sql
    return {key: " ".join((text or "").split()) for key, text in sql.items()}


def account_rows(conn: sqlite3.Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every row of the account tables: ``{table: (columns, rows)}`` (a missing table: no rows)."""
    out = {}
    for table in ACCOUNT_TABLES:
        try:
            cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
        except sqlite3.OperationalError:
            out[table] = ([], [])
            continue
        out[table] = ([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])
    return out


def replace_account_rows(conn: sqlite3.Connection, data: dict[str, tuple[list[str], list[tuple]]]) -> None:
    """Empty the account tables and fill them with ``data`` (columns both sides have; in a transaction)."""
    for table in reversed(ACCOUNT_TABLES):  # sessions and failures before the users they point to
        conn.execute(f"DELETE FROM {table}")  # noqa: S608
    for table in ACCOUNT_TABLES:
        columns, rows = data.get(table, ([], []))
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        keep = [i for i, c in enumerate(columns) if c in have]
        if not keep or not rows:
            continue
        names = ", ".join(columns[i] for i in keep)
        marks = ", ".join("?" for _ in keep)
        conn.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
            [tuple(r[i] for i in keep) for r in rows],
        )


def remove_account_rows(conn: sqlite3.Connection) -> None:
    """Empty the account tables of a backup copy meant to leave the office, then VACUUM so that no
    password hash, session token or tablet secret stays behind in the file's free pages."""
    conn.execute("PRAGMA secure_delete = ON")
    for table in reversed(ACCOUNT_TABLES):
        try:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        except sqlite3.OperationalError:  # an older schema without this table
            continue
    conn.execute("VACUUM")


def end_sessions_except(conn: sqlite3.Connection, now: float, reason: str, keep_token: str | None) -> int:
    """End every open staff session but the one stored as ``keep_token``."""
    cur = conn.execute(
        "UPDATE staff_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND token IS NOT ?",
        (now, reason, keep_token),
    )
    return cur.rowcount


def malformed_timestamp_count(conn: sqlite3.Connection, min_year: int, max_year: int) -> int:
    """Responses whose ``submitted_at`` is not zero-padded ``YYYY-MM-DD HH:MM:SS`` of a year in range."""
    return conn.execute(
        "SELECT count(*) FROM responses WHERE submitted_at NOT GLOB "
        "'[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]' "
        "OR CAST(substr(submitted_at, 1, 4) AS INTEGER) NOT BETWEEN ? AND ?",
        (min_year, max_year),
    ).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Restore: what the live database received after the backup was taken
# ---------------------------------------------------------------------------------------------


def database_file(conn: sqlite3.Connection) -> str:
    """The path of the connection's main database file ("" for an in-memory one)."""
    return next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "") or ""


def newest_record_time(conn: sqlite3.Connection) -> str | None:
    """When the newest survey was stored (``created_at``, UTC): the moment a backup was taken, as near
    as its data says."""
    return conn.execute("SELECT max(created_at) FROM responses").fetchone()[0]


def responses_received_after(
    conn: sqlite3.Connection, other_path: str, since: str | None
) -> tuple[list[tuple[dict, dict]], int, int]:
    """Compare the database ``other_path`` (the one a restore replaces) with ``conn`` (the restored one).

    Returns (tablet and phone (QR) surveys of ``other_path`` stored after ``since`` and absent from ``conn``, as
    (response, answers) pairs ready for :func:`insert_responses_bulk`, staff codes unknown to
    ``conn`` cleared, each with ``excluded`` and ``exclude_reason`` as they were (a survey left out as
    suspect stays left out); the number of other surveys (imported files, paper) in the same case; the
    number of audit entries of ``other_path`` newer than the newest of ``conn``)."""
    from sipas.db.responses import RESPONSE_COLUMNS

    conn.execute("ATTACH DATABASE ? AS prev", (other_path,))
    try:
        cols = ", ".join(f"r.{c}" for c in RESPONSE_COLUMNS)
        absent = (
            "FROM prev.responses r WHERE r.is_demo = 0 AND (:since IS NULL OR r.created_at > :since) "
            "AND NOT EXISTS (SELECT 1 FROM main.responses m WHERE m.token = r.token)"
        )
        cur = conn.cursor()
        cur.row_factory = sqlite3.Row  # the restored file's connection is a plain one
        rows = cur.execute(
            f"SELECT r.id AS old_id, r.excluded, r.exclude_reason, {cols} {absent} AND r.channel IN ('kiosk', 'qr') "
            "ORDER BY r.id",
            {"since": since},
        ).fetchall()
        staff = {r[0] for r in conn.execute("SELECT code FROM main.staff")}
        carried = []
        for row in rows:
            response = {c: row[c] for c in (*RESPONSE_COLUMNS, "excluded", "exclude_reason")}
            if response["staff_code"] not in staff:
                response["staff_code"] = None
            answers = {
                a[0]: a[1]
                for a in conn.execute(
                    "SELECT criterion, value FROM prev.answers WHERE response_id = ? ORDER BY criterion",
                    (row["old_id"],),
                )
            }
            carried.append((response, answers))
        others = conn.execute(
            f"SELECT count(*) {absent} AND r.channel NOT IN ('kiosk', 'qr')", {"since": since}
        ).fetchone()[0]
        # The restored file is a copy of the same history: entries after its newest one came later.
        audit = conn.execute(
            "SELECT count(*) FROM prev.audit_log WHERE id > (SELECT coalesce(max(id), 0) FROM main.audit_log)"
        ).fetchone()[0]
        return carried, others, audit
    finally:
        conn.execute("DETACH DATABASE prev")


def newest_tablet_survey_time(conn: sqlite3.Connection) -> str | None:
    """The newest ``submitted_at`` of a tablet survey (stamped by the server's own clock)."""
    return conn.execute("SELECT max(submitted_at) FROM responses WHERE channel = 'kiosk'").fetchone()[0]
