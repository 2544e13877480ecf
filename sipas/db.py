"""The one place for SQL: opening the database, migrations, and typed queries.

Connections are short-lived and per thread (Streamlit runs each session in its own thread):
``connect(path)`` opens one with WAL, a busy timeout, foreign keys and ``synchronous=FULL`` (a
committed survey survives a power cut, not only a killed process). Writes go through
:func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``) so that concurrent
tablets queue on the busy timeout instead of failing with "database is locked" on a lock upgrade.

The schema is versioned by ``PRAGMA user_version``; :data:`MIGRATIONS` brings an older file up to
date in place, each step in one transaction, so no row is lost.

Index queries read ``daily_counts``, a roll-up kept exact by triggers (one row per local day,
questionnaire and criterion with the count of each answer level), so the index of a million
responses is a sum over a few thousand rows. Excluded responses are left out of the roll-up.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from sipas.errors import DatabaseError

BUSY_TIMEOUT_MS = 15000
APP_ID = 0x53495041  # "SIPA": marks a database file as this product's


def connect(path: str | Path) -> sqlite3.Connection:
    """A new connection with the product's pragmas (autocommit; use :func:`transaction`)."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ---------------------------------------------------------------------------------------------
# Migrations: index i brings user_version i to i + 1. Never edit a released step; add a new one.
# ---------------------------------------------------------------------------------------------

def _script(conn: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the caller's transaction (``executescript`` would commit)."""
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                conn.execute(buf)
            buf = ""
    if buf.strip() and not buf.strip().startswith("--"):
        raise ValueError(f"incomplete SQL: {buf[:80]}")


def _m1_base(conn: sqlite3.Connection) -> None:
    _script(conn,
        """
        CREATE TABLE staff (
            code TEXT PRIMARY KEY,
            full_name TEXT NOT NULL,
            position TEXT,
            counter TEXT,
            active_from TEXT,
            active_to TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            is_demo INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE settings (
            key TEXT NOT NULL,
            valid_from TEXT NOT NULL DEFAULT '0001-01-01',
            value TEXT NOT NULL,
            changed_by TEXT,
            changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
            PRIMARY KEY (key, valid_from)
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
            actor TEXT,
            action TEXT NOT NULL,
            entity TEXT,
            old_value TEXT,
            new_value TEXT,
            note TEXT
        );
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            filename TEXT,
            sha256 TEXT NOT NULL,
            imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
            rows_total INTEGER NOT NULL,
            rows_added INTEGER NOT NULL,
            rows_present INTEGER NOT NULL,
            actor TEXT
        );
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            submitted_at TEXT NOT NULL,
            questionnaire TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('kiosk', 'qr', 'paper')),
            field TEXT,
            staff_code TEXT REFERENCES staff(code),
            wait_minutes INTEGER CHECK (wait_minutes >= 0),
            wait_bucket TEXT CHECK (wait_bucket IN ('lt15', '15-30', '30-60', 'gt60')),
            overall INTEGER CHECK (overall BETWEEN 1 AND 5),
            harassment INTEGER CHECK (harassment BETWEEN 1 AND 3),
            informal_payment INTEGER CHECK (informal_payment BETWEEN 1 AND 3),
            expectations TEXT,
            comment TEXT CHECK (length(comment) <= 2000),
            gender TEXT,
            age_group TEXT,
            education TEXT,
            device TEXT,
            duration_seconds REAL,
            import_id INTEGER REFERENCES imports(id),
            is_demo INTEGER NOT NULL DEFAULT 0,
            excluded INTEGER NOT NULL DEFAULT 0,
            exclude_reason TEXT,
            out_of_hours INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
        );
        CREATE INDEX responses_by_version_time ON responses (questionnaire, submitted_at);
        CREATE TABLE answers (
            response_id INTEGER NOT NULL REFERENCES responses(id),
            criterion TEXT NOT NULL,
            value INTEGER CHECK (value BETWEEN 1 AND 5),
            PRIMARY KEY (response_id, criterion)
        ) WITHOUT ROWID;
        CREATE TABLE kiosk_events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('abandoned')),
            step INTEGER,
            device TEXT
        );
        """
    )
    conn.execute(f"PRAGMA application_id={APP_ID}")


def _m2_rollups(conn: sqlite3.Connection) -> None:
    _script(conn,
        """
        CREATE TABLE daily_counts (
            day TEXT NOT NULL,
            questionnaire TEXT NOT NULL,
            criterion TEXT NOT NULL,
            n1 INTEGER NOT NULL DEFAULT 0,
            n2 INTEGER NOT NULL DEFAULT 0,
            n3 INTEGER NOT NULL DEFAULT 0,
            n4 INTEGER NOT NULL DEFAULT 0,
            n5 INTEGER NOT NULL DEFAULT 0,
            n_na INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, questionnaire, criterion)
        ) WITHOUT ROWID;
        CREATE TABLE daily_responses (
            day TEXT NOT NULL,
            questionnaire TEXT NOT NULL,
            responses INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, questionnaire)
        ) WITHOUT ROWID;

        -- Responses are evidence: what was answered never changes after it is stored.
        CREATE TRIGGER responses_immutable BEFORE UPDATE OF token, submitted_at, questionnaire, overall
        ON responses BEGIN SELECT RAISE(ABORT, 'responses are immutable'); END;
        CREATE TRIGGER answers_immutable BEFORE UPDATE ON answers
        BEGIN SELECT RAISE(ABORT, 'answers are immutable'); END;

        CREATE TRIGGER responses_count_insert AFTER INSERT ON responses WHEN NEW.excluded = 0 BEGIN
            INSERT INTO daily_responses (day, questionnaire, responses)
            VALUES (substr(NEW.submitted_at, 1, 10), NEW.questionnaire, 1)
            ON CONFLICT (day, questionnaire) DO UPDATE SET responses = responses + 1;
            INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5)
            SELECT substr(NEW.submitted_at, 1, 10), NEW.questionnaire, 'overall',
                   NEW.overall = 1, NEW.overall = 2, NEW.overall = 3, NEW.overall = 4, NEW.overall = 5
            WHERE NEW.overall IS NOT NULL
            ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET
                n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
                n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
        END;

        CREATE TRIGGER answers_count_insert AFTER INSERT ON answers BEGIN
            INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT substr(r.submitted_at, 1, 10), r.questionnaire, NEW.criterion,
                   coalesce(NEW.value = 1, 0), coalesce(NEW.value = 2, 0), coalesce(NEW.value = 3, 0),
                   coalesce(NEW.value = 4, 0), coalesce(NEW.value = 5, 0), NEW.value IS NULL
            FROM responses r WHERE r.id = NEW.response_id AND r.excluded = 0
            ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET
                n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
                n4 = n4 + excluded.n4, n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na;
        END;

        CREATE TRIGGER answers_count_delete AFTER DELETE ON answers BEGIN
            UPDATE daily_counts SET
                n1 = n1 - coalesce(OLD.value = 1, 0), n2 = n2 - coalesce(OLD.value = 2, 0),
                n3 = n3 - coalesce(OLD.value = 3, 0), n4 = n4 - coalesce(OLD.value = 4, 0),
                n5 = n5 - coalesce(OLD.value = 5, 0), n_na = n_na - (OLD.value IS NULL)
            WHERE (day, questionnaire, criterion) IN (
                SELECT substr(r.submitted_at, 1, 10), r.questionnaire, OLD.criterion
                FROM responses r WHERE r.id = OLD.response_id AND r.excluded = 0);
        END;

        -- Deleting a response (demo data) removes its answers first, while the parent row still
        -- tells which day's counts they belong to.
        CREATE TRIGGER responses_delete BEFORE DELETE ON responses BEGIN
            DELETE FROM answers WHERE response_id = OLD.id;
            UPDATE daily_responses SET responses = responses - 1
            WHERE OLD.excluded = 0 AND day = substr(OLD.submitted_at, 1, 10)
              AND questionnaire = OLD.questionnaire;
            UPDATE daily_counts SET
                n1 = n1 - (OLD.overall = 1), n2 = n2 - (OLD.overall = 2), n3 = n3 - (OLD.overall = 3),
                n4 = n4 - (OLD.overall = 4), n5 = n5 - (OLD.overall = 5)
            WHERE OLD.excluded = 0 AND OLD.overall IS NOT NULL
              AND day = substr(OLD.submitted_at, 1, 10) AND questionnaire = OLD.questionnaire
              AND criterion = 'overall';
        END;

        CREATE TRIGGER responses_exclusion AFTER UPDATE OF excluded ON responses
        WHEN OLD.excluded != NEW.excluded BEGIN
            INSERT INTO daily_responses (day, questionnaire, responses)
            VALUES (substr(NEW.submitted_at, 1, 10), NEW.questionnaire,
                    CASE WHEN NEW.excluded THEN -1 ELSE 1 END)
            ON CONFLICT (day, questionnaire) DO UPDATE SET responses = responses + excluded.responses;
            INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT substr(NEW.submitted_at, 1, 10), NEW.questionnaire, criterion,
                   s * sum(coalesce(value = 1, 0)), s * sum(coalesce(value = 2, 0)),
                   s * sum(coalesce(value = 3, 0)), s * sum(coalesce(value = 4, 0)),
                   s * sum(coalesce(value = 5, 0)), s * sum(value IS NULL)
            FROM (SELECT 'overall' AS criterion, NEW.overall AS value,
                         CASE WHEN NEW.excluded THEN -1 ELSE 1 END AS s
                  WHERE NEW.overall IS NOT NULL
                  UNION ALL
                  SELECT criterion, value, CASE WHEN NEW.excluded THEN -1 ELSE 1 END
                  FROM answers WHERE response_id = NEW.id)
            GROUP BY criterion
            ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET
                n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
                n4 = n4 + excluded.n4, n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na;
        END;
        """
    )
    # Backfill from whatever an older version stored.
    _script(conn,
        """
        INSERT INTO daily_responses (day, questionnaire, responses)
        SELECT substr(submitted_at, 1, 10), questionnaire, count(*) FROM responses
        WHERE excluded = 0 GROUP BY 1, 2;
        INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na)
        SELECT day, questionnaire, criterion, sum(v = 1), sum(v = 2), sum(v = 3), sum(v = 4),
               sum(v = 5), sum(v IS NULL)
        FROM (SELECT substr(r.submitted_at, 1, 10) AS day, r.questionnaire, a.criterion, a.value AS v
              FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0
              UNION ALL
              SELECT substr(submitted_at, 1, 10), questionnaire, 'overall', overall
              FROM responses WHERE excluded = 0 AND overall IS NOT NULL)
        GROUP BY 1, 2, 3;
        """
    )


def _m3_accounts_baseline(conn: sqlite3.Connection) -> None:
    _script(conn, """
        CREATE TABLE users (
            username TEXT PRIMARY KEY COLLATE NOCASE,
            full_name TEXT,
            pw_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('clerk', 'chairman')),
            is_admin INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
            password_changed_at TEXT
        );
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL COLLATE NOCASE,
            at REAL NOT NULL
        );
        CREATE INDEX login_failures_by_user ON login_failures (username, at);
        CREATE TABLE staff_sessions (
            token TEXT PRIMARY KEY,
            username TEXT NOT NULL COLLATE NOCASE REFERENCES users(username),
            created_at REAL NOT NULL,
            last_seen REAL NOT NULL,
            ended_at REAL,
            end_reason TEXT
        );
        CREATE TABLE baseline (
            id INTEGER PRIMARY KEY,
            year INTEGER NOT NULL,
            questionnaire TEXT NOT NULL,
            level TEXT NOT NULL CHECK (level IN ('criterion', 'element', 'overall')),
            code TEXT NOT NULL DEFAULT '',
            index_value REAL NOT NULL CHECK (index_value BETWEEN 0 AND 100),
            n INTEGER CHECK (n >= 0),
            satisfied INTEGER CHECK (satisfied >= 0 AND satisfied <= n),
            source TEXT NOT NULL,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
            UNIQUE (year, questionnaire, level, code)
        );
    """)


MIGRATIONS = [_m1_base, _m2_rollups, _m3_accounts_baseline]
SCHEMA_VERSION = len(MIGRATIONS)

_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Bring the database to ``target`` (default: the newest) schema version; return it."""
    target = SCHEMA_VERSION if target is None else target
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and app_id == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables:
            raise DatabaseError("Tệp này là một cơ sở dữ liệu SQLite khác, không phải của phần mềm khảo sát.")
    elif app_id not in (0, APP_ID):
        raise DatabaseError("Tệp này không phải cơ sở dữ liệu của phần mềm khảo sát.")
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"Cơ sở dữ liệu có phiên bản cấu trúc {version}, mới hơn phần mềm này ({SCHEMA_VERSION}). "
            "Hãy cập nhật phần mềm."
        )
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    while version < target:
        with transaction(conn):
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= target:
                break
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version={version + 1}")
        version += 1
    return version


def open_db(path: str | Path) -> sqlite3.Connection:
    """Connect to (creating if needed) and migrate the database at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = None
    try:
        conn = connect(path)
        key = str(path.resolve())
        if key not in _migrated:
            with _migrate_lock:
                migrate(conn)
                _migrated.add(key)
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.DatabaseError) and "file is not a database" in str(exc):
            raise DatabaseError(f"Tệp {path} không phải là cơ sở dữ liệu SQLite.") from None
        raise
    return conn


@contextmanager
def session(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection for one request (closed afterwards)."""
    with closing(open_db(path)) as conn:
        yield conn


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------

RESPONSE_COLUMNS = (
    "token", "submitted_at", "questionnaire", "channel", "field", "staff_code", "wait_minutes",
    "wait_bucket", "overall", "harassment", "informal_payment", "expectations", "comment", "gender",
    "age_group", "education", "device", "duration_seconds", "import_id", "is_demo", "out_of_hours",
)
_INSERT_RESPONSE = (
    f"INSERT INTO responses ({', '.join(RESPONSE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in RESPONSE_COLUMNS)}) ON CONFLICT (token) DO NOTHING"
)


def _insert_one(conn: sqlite3.Connection, response: dict, answers: dict[str, int | None]) -> bool:
    row = {c: response.get(c) for c in RESPONSE_COLUMNS}
    row["is_demo"] = int(bool(row["is_demo"]))
    row["out_of_hours"] = int(bool(row["out_of_hours"]))
    cur = conn.execute(_INSERT_RESPONSE, row)
    if cur.rowcount == 0:
        return False
    rid = cur.lastrowid
    conn.executemany(
        "INSERT INTO answers (response_id, criterion, value) VALUES (?, ?, ?)",
        [(rid, code, value) for code, value in answers.items()],
    )
    return True


def insert_response(conn: sqlite3.Connection, response: dict, answers: dict[str, int | None]) -> bool:
    """Store one survey exactly once: False when its token is already stored (a double tap).

    ``answers`` maps each criterion that was *asked* to its value 1–5, or None for "Không ý kiến".
    """
    with transaction(conn):
        return _insert_one(conn, response, answers)


def insert_responses(conn: sqlite3.Connection, rows: Iterable[tuple[dict, dict]]) -> tuple[int, int]:
    """Store many responses in one transaction; return (added, already present)."""
    added = present = 0
    for response, answers in rows:
        if _insert_one(conn, response, answers):
            added += 1
        else:
            present += 1
    return added, present


def existing_tokens(conn: sqlite3.Connection, tokens: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(tokens), 500):
        chunk = tokens[i:i + 500]
        q = f"SELECT token FROM responses WHERE token IN ({','.join('?' * len(chunk))})"
        found.update(r[0] for r in conn.execute(q, chunk))
    return found


def record_import(conn: sqlite3.Connection, kind: str, filename: str, sha256: str, total: int,
                  added: int, present: int, actor: str | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO imports (kind, filename, sha256, rows_total, rows_added, rows_present, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, filename, sha256, total, added, present, actor),
    )
    return cur.lastrowid


def set_import_id(conn: sqlite3.Connection, import_id: int, tokens: list[str]) -> None:
    for i in range(0, len(tokens), 500):
        chunk = tokens[i:i + 500]
        conn.execute(
            f"UPDATE responses SET import_id = ? WHERE import_id IS NULL AND token IN ({','.join('?' * len(chunk))})",
            [import_id, *chunk],
        )


def count_responses(conn: sqlite3.Connection, *, demo: bool | None = None) -> int:
    if demo is None:
        return conn.execute("SELECT count(*) FROM responses").fetchone()[0]
    return conn.execute("SELECT count(*) FROM responses WHERE is_demo = ?", (int(demo),)).fetchone()[0]


def response_by_token(conn: sqlite3.Connection, token: str) -> dict | None:
    row = conn.execute("SELECT * FROM responses WHERE token = ?", (token,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["answers"] = {
        r["criterion"]: r["value"]
        for r in conn.execute("SELECT criterion, value FROM answers WHERE response_id = ?", (row["id"],))
    }
    return out


def set_excluded(conn: sqlite3.Connection, response_id: int, excluded: bool, reason: str | None,
                 actor: str | None) -> None:
    """Exclude or restore one response; the roll-up follows through the trigger; logged."""
    with transaction(conn):
        old = conn.execute("SELECT excluded FROM responses WHERE id = ?", (response_id,)).fetchone()
        if old is None:
            raise KeyError(response_id)
        conn.execute("UPDATE responses SET excluded = ?, exclude_reason = ? WHERE id = ?",
                     (int(excluded), reason, response_id))
        log_audit(conn, actor, "exclude" if excluded else "restore", f"response:{response_id}",
                  str(old[0]), str(int(excluded)), reason)


def delete_demo_data(conn: sqlite3.Connection) -> int:
    """Delete every generated (demo) response, its answers and demo staff; return responses deleted."""
    with transaction(conn):
        n = conn.execute("DELETE FROM responses WHERE is_demo = 1").rowcount
        conn.execute("DELETE FROM staff WHERE is_demo = 1 AND code NOT IN "
                     "(SELECT staff_code FROM responses WHERE staff_code IS NOT NULL)")
        conn.execute("DELETE FROM kiosk_events WHERE device = 'demo'")
        log_audit(conn, None, "delete-demo", "responses", None, str(n), None)
    return n


# ---------------------------------------------------------------------------------------------
# Counts for the index (from the roll-up)
# ---------------------------------------------------------------------------------------------

def _range_clause(date_from: str | None, date_to: str | None) -> tuple[str, list]:
    sql, params = "", []
    if date_from:
        sql += " AND day >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND day <= ?"
        params.append(date_to)
    return sql, params


def level_counts(conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None,
                 date_to: str | None = None) -> dict[str, tuple[int, int, int, int, int]]:
    """Per criterion (and ``'overall'``): counts of answers 1..5 among non-excluded responses."""
    where, params = _range_clause(date_from, date_to)
    rows = conn.execute(
        "SELECT criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM daily_counts "
        # Rows emptied by an exclusion or a demo deletion stay behind at zero: leave them out, as
        # the raw rows (level_counts_direct) would.
        f"WHERE questionnaire = ?{where} GROUP BY criterion HAVING sum(n1 + n2 + n3 + n4 + n5 + n_na) > 0",
        [questionnaire, *params],
    )
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


def responses_in_range(conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None,
                       date_to: str | None = None) -> int:
    where, params = _range_clause(date_from, date_to)
    row = conn.execute(
        f"SELECT coalesce(sum(responses), 0) FROM daily_responses WHERE questionnaire = ?{where}",
        [questionnaire, *params],
    ).fetchone()
    return int(row[0])


def level_counts_direct(conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None,
                        date_to: str | None = None) -> dict[str, tuple[int, int, int, int, int]]:
    """The same counts as :func:`level_counts`, computed from the raw rows (check and benchmark)."""
    clauses, params = ["r.questionnaire = ?", "r.excluded = 0"], [questionnaire]
    if date_from:
        clauses.append("r.submitted_at >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("r.submitted_at < date(?, '+1 day')")
        params.append(date_to)
    where = " AND ".join(clauses)
    out: dict[str, tuple[int, ...]] = {}
    for r in conn.execute(
        "SELECT a.criterion, sum(a.value = 1), sum(a.value = 2), sum(a.value = 3), sum(a.value = 4), "
        f"sum(a.value = 5) FROM answers a JOIN responses r ON r.id = a.response_id WHERE {where} "
        "GROUP BY a.criterion", params,
    ):
        out[r[0]] = tuple(int(x or 0) for x in r[1:])
    row = conn.execute(
        "SELECT sum(overall = 1), sum(overall = 2), sum(overall = 3), sum(overall = 4), sum(overall = 5) "
        f"FROM responses r WHERE {where} AND overall IS NOT NULL", params,
    ).fetchone()
    if row[0] is not None:
        out["overall"] = tuple(int(x) for x in row)
    return out


def asked_counts(conn: sqlite3.Connection, questionnaire: str) -> dict[str, int]:
    """How often each criterion has been asked (answered or "Không ý kiến"), for balanced rotation."""
    rows = conn.execute(
        "SELECT criterion, sum(n1 + n2 + n3 + n4 + n5 + n_na) FROM daily_counts "
        "WHERE questionnaire = ? GROUP BY criterion", (questionnaire,),
    )
    return {r[0]: int(r[1]) for r in rows}


# ---------------------------------------------------------------------------------------------
# Kiosk events, staff roster, settings, audit
# ---------------------------------------------------------------------------------------------

def record_abandoned(conn: sqlite3.Connection, at: datetime, step: int, device: str | None) -> None:
    """Count a survey left half-filled (its answers are not kept)."""
    with transaction(conn):
        conn.execute("INSERT INTO kiosk_events (at, kind, step, device) VALUES (?, 'abandoned', ?, ?)",
                     (at.strftime("%Y-%m-%d %H:%M:%S"), step, device))


def count_abandoned(conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None) -> int:
    sql, params = "SELECT count(*) FROM kiosk_events WHERE kind = 'abandoned'", []
    if date_from:
        sql += " AND at >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND at < date(?, '+1 day')"
        params.append(date_to)
    return conn.execute(sql, params).fetchone()[0]


def list_staff(conn: sqlite3.Connection, active_only: bool = False) -> list[dict]:
    sql = "SELECT * FROM staff"
    if active_only:
        sql += " WHERE active = 1"
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
        {"position": None, "counter": None, "active_from": None, "active_to": None, "active": 1,
         "is_demo": 0, **member},
    )


def get_setting_rows(conn: sqlite3.Connection, key: str) -> list[dict]:
    return [dict(r) for r in conn.execute(
        "SELECT * FROM settings WHERE key = ? ORDER BY valid_from", (key,))]


def get_setting_value(conn: sqlite3.Connection, key: str, on_date: str) -> str | None:
    """The JSON text of the setting ``key`` in force on ``on_date`` (latest valid_from ≤ date)."""
    row = conn.execute(
        "SELECT value FROM settings WHERE key = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1",
        (key, on_date),
    ).fetchone()
    return None if row is None else row[0]


def put_setting_value(conn: sqlite3.Connection, key: str, value_json: str, valid_from: str,
                      actor: str | None) -> None:
    """Set a dated setting and log old → new in the audit log (call inside a transaction)."""
    old = conn.execute("SELECT value FROM settings WHERE key = ? AND valid_from = ?",
                       (key, valid_from)).fetchone()
    conn.execute(
        "INSERT INTO settings (key, valid_from, value, changed_by) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key, valid_from) DO UPDATE SET value = excluded.value, "
        "changed_by = excluded.changed_by, changed_at = strftime('%Y-%m-%d %H:%M:%S', 'now')",
        (key, valid_from, value_json, actor),
    )
    log_audit(conn, actor, "setting", f"{key}@{valid_from}", None if old is None else old[0], value_json, None)


def log_audit(conn: sqlite3.Connection, actor: str | None, action: str, entity: str | None,
              old_value: str | None, new_value: str | None, note: str | None) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, entity, old_value, new_value, note) VALUES (?, ?, ?, ?, ?, ?)",
        (actor, action, entity, old_value, new_value, note),
    )


def audit_entries(conn: sqlite3.Connection, limit: int = 200) -> list[dict]:
    return [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))]


# ---------------------------------------------------------------------------------------------
# Staff accounts, failed logins, staff sessions
# ---------------------------------------------------------------------------------------------

def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def get_user(conn: sqlite3.Connection, username: str) -> dict | None:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else dict(row)


def list_users(conn: sqlite3.Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(
        "SELECT username, full_name, role, is_admin, active, created_at, password_changed_at "
        "FROM users ORDER BY username")]


def insert_user(conn: sqlite3.Connection, username: str, full_name: str | None, pw_hash: str, role: str,
                is_admin: bool) -> None:
    conn.execute(
        "INSERT INTO users (username, full_name, pw_hash, role, is_admin, password_changed_at) "
        "VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%S', 'now'))",
        (username, full_name, pw_hash, role, int(is_admin)),
    )


def update_user(conn: sqlite3.Connection, username: str, **fields) -> None:
    allowed = {"full_name", "pw_hash", "role", "is_admin", "active"}
    assignments = [f"{k} = :{k}" for k in fields if k in allowed]
    if "pw_hash" in fields:
        assignments.append("password_changed_at = strftime('%Y-%m-%d %H:%M:%S', 'now')")
    conn.execute(f"UPDATE users SET {', '.join(assignments)} WHERE username = :username",
                 {**fields, "username": username})


def add_login_failure(conn: sqlite3.Connection, username: str, at: float) -> None:
    conn.execute("INSERT INTO login_failures (username, at) VALUES (?, ?)", (username, at))


def login_failures_since(conn: sqlite3.Connection, username: str, since: float) -> list[float]:
    return [r[0] for r in conn.execute(
        "SELECT at FROM login_failures WHERE username = ? AND at >= ? ORDER BY at", (username, since))]


def clear_login_failures(conn: sqlite3.Connection, username: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE username = ?", (username,))


def insert_staff_session(conn: sqlite3.Connection, token: str, username: str, now: float) -> None:
    conn.execute("INSERT INTO staff_sessions (token, username, created_at, last_seen) VALUES (?, ?, ?, ?)",
                 (token, username, now, now))


def get_staff_session(conn: sqlite3.Connection, token: str) -> dict | None:
    row = conn.execute(
        "SELECT s.*, u.role, u.is_admin, u.active, u.full_name FROM staff_sessions s "
        "JOIN users u ON u.username = s.username WHERE s.token = ?", (token,)).fetchone()
    return None if row is None else dict(row)


def touch_staff_session(conn: sqlite3.Connection, token: str, now: float) -> None:
    conn.execute("UPDATE staff_sessions SET last_seen = ? WHERE token = ?", (now, token))


def end_staff_sessions(conn: sqlite3.Connection, now: float, reason: str, *, token: str | None = None,
                       username: str | None = None) -> int:
    if token is not None:
        cur = conn.execute("UPDATE staff_sessions SET ended_at = ?, end_reason = ? "
                           "WHERE token = ? AND ended_at IS NULL", (now, reason, token))
    else:
        cur = conn.execute("UPDATE staff_sessions SET ended_at = ?, end_reason = ? "
                           "WHERE username = ? AND ended_at IS NULL", (now, reason, username))
    return cur.rowcount


# ---------------------------------------------------------------------------------------------
# Baseline (published figures of an earlier year)
# ---------------------------------------------------------------------------------------------

def upsert_baseline_rows(conn: sqlite3.Connection, rows: list[dict], source: str) -> int:
    """Insert or replace baseline figures keyed by (year, questionnaire, level, code)."""
    for r in rows:
        conn.execute(
            "INSERT INTO baseline (year, questionnaire, level, code, index_value, n, satisfied, source) "
            "VALUES (:year, :questionnaire, :level, :code, :index_value, :n, :satisfied, :source) "
            "ON CONFLICT (year, questionnaire, level, code) DO UPDATE SET index_value = excluded.index_value, "
            "n = excluded.n, satisfied = excluded.satisfied, source = excluded.source, "
            "updated_at = strftime('%Y-%m-%d %H:%M:%S', 'now')",
            {"n": None, "satisfied": None, **r, "source": source},
        )
    return len(rows)


def baseline_rows(conn: sqlite3.Connection, year: int | None = None,
                  questionnaire: str | None = None) -> list[dict]:
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
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT DISTINCT year, questionnaire FROM baseline ORDER BY year DESC, questionnaire")]


def delete_baseline(conn: sqlite3.Connection, year: int, questionnaire: str) -> int:
    return conn.execute("DELETE FROM baseline WHERE year = ? AND questionnaire = ?",
                        (year, questionnaire)).rowcount
