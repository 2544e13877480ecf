"""The one place for SQL: opening the database, migrations, and typed queries.

Connections are short-lived and per thread (Streamlit runs each session in its own thread):
``connect(path)`` opens one with WAL, a busy timeout, foreign keys and ``synchronous=FULL`` (a
committed survey survives a power cut, not only a killed process). Writes go through
:func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``) so that concurrent
tablets queue instead of failing with "database is locked" on a lock upgrade. Writers wait in
order in a queue of this module (threads, and other processes through ``flock`` on ``<db>-lock``)
rather than in SQLite's sleeping busy handler, and surveys submitted at the same moment share one
commit (:func:`insert_response`): see bench/RESULTS.md for the latencies.

The schema is versioned by ``PRAGMA user_version``; :data:`MIGRATIONS` brings an older file up to
date in place, each step in one transaction, so no row is lost.

Index queries read ``daily_counts``, a roll-up kept exact by triggers (one row per local day,
questionnaire and criterion with the count of each answer level), so the index of a million
responses is a sum over a few thousand rows. Excluded responses are left out of the roll-up.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from sipas.errors import DatabaseError

BUSY_TIMEOUT_MS = 15000
APP_ID = 0x53495041  # "SIPA": marks a database file as this product's


try:
    import fcntl
except ImportError:  # Windows: writers of several processes queue on SQLite's busy timeout only
    fcntl = None


class _FifoLock:
    """A reentrant lock handed to the longest waiter on release (``threading.RLock`` lets the
    releasing thread, which still holds the GIL, take it again at once: waiters could starve)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._count = 0
        self._waiters: deque[tuple[int, threading.Lock]] = deque()

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._count += 1
                return True
            if self._owner is None:
                self._owner, self._count = me, 1
                return True
            wake = threading.Lock()
            wake.acquire()
            self._waiters.append((me, wake))
        wake.acquire(timeout=timeout)
        with self._mutex:
            if self._owner == me:  # handed over (possibly just as the wait timed out)
                self._count = 1
                return True
            self._waiters.remove((me, wake))
            return False

    def release(self) -> None:
        with self._mutex:
            self._count -= 1
            if self._count:
                return
            if self._waiters:
                self._owner, wake = self._waiters.popleft()
                wake.release()
            else:
                self._owner = None


class _WriteQueue:
    """Writers to one database file wait here, in order, before ``BEGIN IMMEDIATE``.

    SQLite's own busy handler polls with sleeps that grow to 100 ms, so under 20 simultaneous
    writers a waiting tablet could sleep through many free moments and wait seconds (p99 ≈ 0.3 s,
    max ≈ 3 s in bench/bench_store.py). Here a waiter is woken as soon as the previous write
    commits: a reentrant lock for the threads of this process, and ``flock`` on ``<db>-lock`` for
    other processes (not on Windows). SQLite's locking still guards the data: this only orders the
    waiting.
    """

    def __init__(self, path: str):
        self.path = path
        self.lock = _FifoLock()
        self.depth = 0
        self.fd: int | None = None
        # Group commit of single surveys (see insert_response).
        self.jobs_mutex = threading.Lock()
        self.jobs: list[_Job] = []
        self.leader_busy = False

    def __enter__(self) -> None:
        if not self.lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked")
        self.depth += 1
        if self.depth == 1 and fcntl is not None:
            # Opened per write (a few µs) rather than kept: no file descriptor per database ever
            # opened stays behind in a long-running process.
            # Any OSError (a read-only folder, no locks on this file system): fall back to
            # SQLite's busy timeout alone.
            try:
                fd = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                fd = None
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:
                    os.close(fd)
                    fd = None
                except BaseException:  # interrupted while waiting
                    os.close(fd)
                    self.depth -= 1
                    self.lock.release()
                    raise
            self.fd = fd

    def __exit__(self, *exc) -> None:
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            os.close(self.fd)  # releases the flock
            self.fd = None
        self.lock.release()


_write_queues: dict[str, _WriteQueue] = {}
_write_queues_guard = threading.Lock()


def _forget_write_queues() -> None:
    # A forked child starts with fresh queues (a lock or a lock file held by a parent's thread at
    # the fork must not be inherited).
    global _write_queues_guard
    _write_queues.clear()
    _write_queues_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_write_queues)


def _write_queue(path: str) -> _WriteQueue:
    with _write_queues_guard:
        q = _write_queues.get(path)
        if q is None:
            q = _write_queues[path] = _WriteQueue(path)
        return q


class _Connection(sqlite3.Connection):
    """A connection that knows its file, so :func:`transaction` can queue its writes."""

    write_queue: _WriteQueue | None = None


def connect(path: str | Path) -> sqlite3.Connection:
    """A new connection with the product's pragmas (autocommit; use :func:`transaction`)."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False, factory=_Connection
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=FULL")
    if str(path) != ":memory:" and not str(path).startswith("file:"):
        conn.write_queue = _write_queue(str(Path(path).resolve()))
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    queue = getattr(conn, "write_queue", None)
    with queue if queue is not None else _no_queue():
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # also when COMMIT itself failed (e.g. disk full)
                conn.execute("ROLLBACK")
            raise


@contextmanager
def _no_queue() -> Iterator[None]:
    yield


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
    _script(
        conn,
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
        """,
    )
    conn.execute(f"PRAGMA application_id={APP_ID}")


def _m2_rollups(conn: sqlite3.Connection) -> None:
    _script(
        conn,
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
        """,
    )
    # Backfill from whatever an older version stored.
    _script(
        conn,
        """
        INSERT INTO daily_responses (day, questionnaire, responses)
        SELECT substr(submitted_at, 1, 10), questionnaire, count(*) FROM responses
        WHERE excluded = 0 GROUP BY 1, 2;
        INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na)
        SELECT day, questionnaire, criterion, total(v = 1), total(v = 2), total(v = 3), total(v = 4),
               total(v = 5), total(v IS NULL)
        FROM (SELECT substr(r.submitted_at, 1, 10) AS day, r.questionnaire, a.criterion, a.value AS v
              FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0
              UNION ALL
              SELECT substr(submitted_at, 1, 10), questionnaire, 'overall', overall
              FROM responses WHERE excluded = 0 AND overall IS NOT NULL)
        GROUP BY 1, 2, 3;
        """,
    )


def _m3_accounts_baseline(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
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
    """,
    )


def _m4_cases(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            type TEXT NOT NULL CHECK (type IN ('conduct', 'waiting', 'procedure', 'facilities', 'other')),
            origin TEXT NOT NULL CHECK (origin IN ('survey', 'clerk', 'analysis', 'staffing')),
            channel TEXT,
            staff_code TEXT REFERENCES staff(code),
            criterion TEXT,
            title TEXT NOT NULL,
            description TEXT,
            state TEXT NOT NULL DEFAULT 'new',
            owner TEXT,
            priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
            received_at TEXT,
            due_date TEXT,
            response_deadline TEXT,
            responded_at TEXT,
            root_cause TEXT,
            measure TEXT,
            measure_detail TEXT,
            measure_date TEXT,
            measure_approved_by TEXT,
            substantiated INTEGER NOT NULL DEFAULT 0,
            close_reason TEXT,
            effect_flag TEXT,
            schedule TEXT,
            contact_phone TEXT,
            is_demo INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT
        );
        CREATE INDEX cases_by_staff ON cases (staff_code, type, state);
        CREATE TABLE case_responses (
            case_id INTEGER NOT NULL REFERENCES cases(id),
            response_id INTEGER NOT NULL REFERENCES responses(id),
            PRIMARY KEY (case_id, response_id)
        ) WITHOUT ROWID;
        CREATE TABLE case_events (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            at TEXT NOT NULL,
            actor TEXT,
            kind TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT,
            note TEXT
        );
        CREATE INDEX case_events_by_case ON case_events (case_id, id);
        -- The history of a case is append-only: no page or command can edit or delete it (only
        -- generated demo cases go when the demo data is deleted).
        CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
        BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
        CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
        WHEN (SELECT is_demo FROM cases WHERE id = OLD.case_id) IS NOT 1
        BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
        CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases WHEN OLD.is_demo = 0
        BEGIN SELECT RAISE(ABORT, 'cases are never deleted'); END;
        CREATE TABLE repeat_decisions (
            id INTEGER PRIMARY KEY,
            staff_code TEXT NOT NULL REFERENCES staff(code),
            decided_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('reassign', 'replace', 'none')),
            note TEXT NOT NULL
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    )


def _m5_waiting(conn: sqlite3.Connection) -> None:
    # Queue tickets from a ticket machine's log, and hourly dossier counts typed by the clerk where
    # there is no machine (sipas.waiting). A ticket is one per (ticket_id, issue day): machines
    # restart their numbering every day, and a re-imported log must not count twice.
    _script(
        conn,
        """
        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            day TEXT NOT NULL,
            service TEXT,
            counter TEXT,
            issued_at TEXT NOT NULL,
            called_at TEXT CHECK (called_at IS NULL OR called_at >= issued_at),
            finished_at TEXT CHECK (finished_at IS NULL OR (called_at IS NOT NULL AND finished_at >= called_at)),
            import_id INTEGER REFERENCES imports(id),
            UNIQUE (ticket_id, day)
        );
        CREATE INDEX tickets_by_time ON tickets (issued_at);
        CREATE TABLE hourly_dossiers (
            day TEXT NOT NULL,
            counter TEXT NOT NULL,
            hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
            dossiers INTEGER NOT NULL CHECK (dossiers >= 0),
            recorded_by TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (day, counter, hour)
        ) WITHOUT ROWID;
    """,
    )


def _m6_dimension_rollups(conn: sqlite3.Connection) -> None:
    """Roll-ups by channel, lĩnh vực and staff member as well, so that the analysis page's filters
    read a few thousand summed rows instead of scanning every answer of the year."""
    dims = "day, questionnaire, channel, field, staff"
    r_dims = (
        "substr(r.submitted_at, 1, 10), r.questionnaire, r.channel, coalesce(r.field, ''), coalesce(r.staff_code, '')"
    )
    new_dims = (
        "substr(NEW.submitted_at, 1, 10), NEW.questionnaire, NEW.channel, coalesce(NEW.field, ''), "
        "coalesce(NEW.staff_code, '')"
    )
    old_match = (
        "day = substr(OLD.submitted_at, 1, 10) AND questionnaire = OLD.questionnaire AND "
        "channel = OLD.channel AND field = coalesce(OLD.field, '') AND staff = coalesce(OLD.staff_code, '')"
    )
    add = (
        "n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3, n4 = n4 + excluded.n4, "
        "n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na"
    )
    _script(
        conn,
        f"""
        CREATE TABLE dim_counts (
            day TEXT NOT NULL, questionnaire TEXT NOT NULL, channel TEXT NOT NULL, field TEXT NOT NULL,
            staff TEXT NOT NULL, criterion TEXT NOT NULL,
            n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
            n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0, n_na INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY ({dims}, criterion)
        ) WITHOUT ROWID;
        CREATE TABLE dim_responses (
            day TEXT NOT NULL, questionnaire TEXT NOT NULL, channel TEXT NOT NULL, field TEXT NOT NULL,
            staff TEXT NOT NULL, responses INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY ({dims})
        ) WITHOUT ROWID;

        -- The roll-ups are keyed by these columns: they never change after a response is stored.
        CREATE TRIGGER responses_dims_immutable BEFORE UPDATE OF channel, field, staff_code ON responses
        BEGIN SELECT RAISE(ABORT, 'responses are immutable'); END;

        CREATE TRIGGER dims_response_insert AFTER INSERT ON responses WHEN NEW.excluded = 0 BEGIN
            INSERT INTO dim_responses ({dims}, responses) VALUES ({new_dims}, 1)
            ON CONFLICT ({dims}) DO UPDATE SET responses = responses + 1;
            INSERT INTO dim_counts ({dims}, criterion, n1, n2, n3, n4, n5)
            SELECT {new_dims}, 'overall', NEW.overall = 1, NEW.overall = 2, NEW.overall = 3,
                   NEW.overall = 4, NEW.overall = 5
            WHERE NEW.overall IS NOT NULL
            ON CONFLICT ({dims}, criterion) DO UPDATE SET {add};
        END;

        CREATE TRIGGER dims_answer_insert AFTER INSERT ON answers BEGIN
            INSERT INTO dim_counts ({dims}, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT {r_dims}, NEW.criterion,
                   coalesce(NEW.value = 1, 0), coalesce(NEW.value = 2, 0), coalesce(NEW.value = 3, 0),
                   coalesce(NEW.value = 4, 0), coalesce(NEW.value = 5, 0), NEW.value IS NULL
            FROM responses r WHERE r.id = NEW.response_id AND r.excluded = 0
            ON CONFLICT ({dims}, criterion) DO UPDATE SET {add};
        END;

        CREATE TRIGGER dims_answer_delete AFTER DELETE ON answers BEGIN
            UPDATE dim_counts SET
                n1 = n1 - coalesce(OLD.value = 1, 0), n2 = n2 - coalesce(OLD.value = 2, 0),
                n3 = n3 - coalesce(OLD.value = 3, 0), n4 = n4 - coalesce(OLD.value = 4, 0),
                n5 = n5 - coalesce(OLD.value = 5, 0), n_na = n_na - (OLD.value IS NULL)
            WHERE ({dims}, criterion) IN (
                SELECT {r_dims}, OLD.criterion FROM responses r WHERE r.id = OLD.response_id AND r.excluded = 0);
        END;

        CREATE TRIGGER dims_response_delete BEFORE DELETE ON responses WHEN OLD.excluded = 0 BEGIN
            UPDATE dim_responses SET responses = responses - 1 WHERE {old_match};
            UPDATE dim_counts SET
                n1 = n1 - (OLD.overall = 1), n2 = n2 - (OLD.overall = 2), n3 = n3 - (OLD.overall = 3),
                n4 = n4 - (OLD.overall = 4), n5 = n5 - (OLD.overall = 5)
            WHERE OLD.overall IS NOT NULL AND {old_match} AND criterion = 'overall';
        END;

        CREATE TRIGGER dims_exclusion AFTER UPDATE OF excluded ON responses
        WHEN OLD.excluded != NEW.excluded BEGIN
            INSERT INTO dim_responses ({dims}, responses)
            VALUES ({new_dims}, CASE WHEN NEW.excluded THEN -1 ELSE 1 END)
            ON CONFLICT ({dims}) DO UPDATE SET responses = responses + excluded.responses;
            INSERT INTO dim_counts ({dims}, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT {new_dims}, criterion,
                   s * total(coalesce(value = 1, 0)), s * total(coalesce(value = 2, 0)),
                   s * total(coalesce(value = 3, 0)), s * total(coalesce(value = 4, 0)),
                   s * total(coalesce(value = 5, 0)), s * total(value IS NULL)
            FROM (SELECT 'overall' AS criterion, NEW.overall AS value,
                         CASE WHEN NEW.excluded THEN -1 ELSE 1 END AS s
                  WHERE NEW.overall IS NOT NULL
                  UNION ALL
                  SELECT criterion, value, CASE WHEN NEW.excluded THEN -1 ELSE 1 END
                  FROM answers WHERE response_id = NEW.id)
            GROUP BY criterion
            ON CONFLICT ({dims}, criterion) DO UPDATE SET {add};
        END;

        INSERT INTO dim_responses ({dims}, responses)
        SELECT substr(submitted_at, 1, 10), questionnaire, channel, coalesce(field, ''), coalesce(staff_code, ''),
               count(*)
        FROM responses WHERE excluded = 0 GROUP BY 1, 2, 3, 4, 5;
        INSERT INTO dim_counts ({dims}, criterion, n1, n2, n3, n4, n5, n_na)
        SELECT d, q, c, f, s, criterion, total(v = 1), total(v = 2), total(v = 3), total(v = 4), total(v = 5),
               total(v IS NULL)
        FROM (SELECT substr(r.submitted_at, 1, 10) AS d, r.questionnaire AS q, r.channel AS c,
                     coalesce(r.field, '') AS f, coalesce(r.staff_code, '') AS s, a.criterion, a.value AS v
              FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0
              UNION ALL
              SELECT substr(submitted_at, 1, 10), questionnaire, channel, coalesce(field, ''),
                     coalesce(staff_code, ''), 'overall', overall
              FROM responses WHERE excluded = 0 AND overall IS NOT NULL)
        GROUP BY 1, 2, 3, 4, 5, 6;
    """,
    )


def _m7_comment_index(conn: sqlite3.Connection) -> None:
    # Comments are on about one response in ten: the comments list and the report read only those.
    _script(
        conn,
        "CREATE INDEX responses_with_comment ON responses (questionnaire, submitted_at) WHERE comment IS NOT NULL;",
    )


MIGRATIONS = [
    _m1_base,
    _m2_rollups,
    _m3_accounts_baseline,
    _m4_cases,
    _m5_waiting,
    _m6_dimension_rollups,
    _m7_comment_index,
]
SCHEMA_VERSION = len(MIGRATIONS)

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
        # Checked on every open (two header reads, a few µs), not remembered per path: a file
        # replaced under a running app (a restored backup, a deleted database) is migrated too.
        if schema_version(conn) != SCHEMA_VERSION or conn.execute("PRAGMA application_id").fetchone()[0] != APP_ID:
            with _migrate_lock:
                migrate(conn)
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
    "token",
    "submitted_at",
    "questionnaire",
    "channel",
    "field",
    "staff_code",
    "wait_minutes",
    "wait_bucket",
    "overall",
    "harassment",
    "informal_payment",
    "expectations",
    "comment",
    "gender",
    "age_group",
    "education",
    "device",
    "duration_seconds",
    "import_id",
    "is_demo",
    "out_of_hours",
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


class _Job:
    __slots__ = ("response", "answers", "done", "result", "error", "leader")

    def __init__(self, response: dict, answers: dict[str, int | None]):
        self.response, self.answers = response, answers
        self.done = threading.Event()
        self.result: bool | None = None
        self.error: BaseException | None = None
        self.leader = False


def insert_response(conn: sqlite3.Connection, response: dict, answers: dict[str, int | None]) -> bool:
    """Store one survey exactly once: False when its token is already stored (a double tap).

    ``answers`` maps each criterion that was *asked* to its value 1–5, or None for "Không ý kiến".
    Returns only after the survey is committed (and synced to disk).

    Group commit: surveys submitted at the same moment by other threads of this process are
    written in the same transaction, each in its own savepoint (one survey's error is raised to
    its own caller only), so that one disk sync serves them all. With 20 tablets submitting
    back to back this halves the p99 latency (bench/RESULTS.md).
    """
    queue = getattr(conn, "write_queue", None)
    if queue is None or conn.in_transaction:
        with transaction(conn):
            return _insert_one(conn, response, answers)
    job = _Job(response, answers)
    with queue.jobs_mutex:
        queue.jobs.append(job)
        if not queue.leader_busy:
            queue.leader_busy = job.leader = True
    if not job.leader:
        job.done.wait()  # set when written by a leader, or when this thread becomes the leader
    if job.leader:
        _write_jobs(conn, queue)
    if job.error is not None:
        raise job.error
    return bool(job.result)


def _write_jobs(conn: sqlite3.Connection, queue: _WriteQueue) -> None:
    """As the leader: write every waiting survey in one transaction, then pass the lead on."""
    with queue.jobs_mutex:
        batch, queue.jobs = queue.jobs, []
    try:
        with transaction(conn):
            for job in batch:
                conn.execute("SAVEPOINT survey")
                try:
                    job.result = _insert_one(conn, job.response, job.answers)
                except Exception as exc:
                    conn.execute("ROLLBACK TO survey")
                    job.error = exc
                conn.execute("RELEASE survey")
    except BaseException as exc:  # nothing of the batch was committed
        for job in batch:
            job.result, job.error = None, exc
    finally:
        with queue.jobs_mutex:
            if queue.jobs:
                successor = queue.jobs[0]
                successor.leader = True
                successor.done.set()
            else:
                queue.leader_busy = False
        for job in batch:
            job.leader = False
            job.done.set()


def insert_responses(conn: sqlite3.Connection, rows: Iterable[tuple[dict, dict]]) -> tuple[int, int]:
    """Store many responses in one transaction; return (added, already present)."""
    added = present = 0
    for response, answers in rows:
        if _insert_one(conn, response, answers):
            added += 1
        else:
            present += 1
    return added, present


# The roll-ups kept by per-row insert triggers, which insert_responses_bulk can stand in for:
# (trigger on responses, trigger on answers, responses table, counts table, key columns, the key of
# a response row as the triggers compute it).
_BULK_ROLLUPS = (
    (
        "responses_count_insert",
        "answers_count_insert",
        "daily_responses",
        "daily_counts",
        ("day", "questionnaire"),
        lambda r: (r["submitted_at"][:10], r["questionnaire"]),
    ),
    (
        "dims_response_insert",
        "dims_answer_insert",
        "dim_responses",
        "dim_counts",
        ("day", "questionnaire", "channel", "field", "staff"),
        lambda r: (r["submitted_at"][:10], r["questionnaire"], r["channel"], r["field"] or "", r["staff_code"] or ""),
    ),
)


def insert_responses_bulk(conn: sqlite3.Connection, rows: list[tuple[dict, dict]]) -> tuple[int, int]:
    """Like :func:`insert_responses` (inside the caller's transaction), much faster for many rows.

    The per-row roll-up triggers of :data:`_BULK_ROLLUPS` are dropped for the duration and their
    roll-ups are updated once with the sums the triggers would have added (tallied in Python from
    the same rows); the triggers are re-created from their stored SQL. Any other trigger stays and
    fires as usual. Being DDL inside the caller's transaction, no other connection ever sees a
    trigger missing, and a rollback restores everything. Used for demo data and benchmarks.
    """
    if not conn.in_transaction:
        raise RuntimeError("insert_responses_bulk must run inside a transaction")
    stored = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    rollups = [r for r in _BULK_ROLLUPS if r[0] in stored and r[1] in stored]
    if not rollups:  # a schema this function does not know
        return insert_responses(conn, rows)
    present = existing_tokens(conn, [r["token"] for r, _ in rows])
    first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM responses").fetchone()[0]
    new_rows, answer_rows, skipped = [], [], 0
    for response, answers in rows:
        if response["token"] in present:
            skipped += 1
            continue
        present.add(response["token"])
        rid = first_id + len(new_rows)
        row = {c: response.get(c) for c in RESPONSE_COLUMNS}
        row["is_demo"] = int(bool(row["is_demo"]))
        row["out_of_hours"] = int(bool(row["out_of_hours"]))
        row["id"] = rid
        new_rows.append(row)
        answer_rows.extend((rid, code, value) for code, value in answers.items())
    suspended = [name for r in rollups for name in r[:2]]
    for name in suspended:
        conn.execute(f'DROP TRIGGER "{name}"')
    try:
        conn.executemany(
            f"INSERT INTO responses (id, {', '.join(RESPONSE_COLUMNS)}) "
            f"VALUES (:id, {', '.join(':' + c for c in RESPONSE_COLUMNS)})",
            new_rows,
        )
        conn.executemany("INSERT INTO answers (response_id, criterion, value) VALUES (?, ?, ?)", answer_rows)
        # The CHECK constraints have now refused any level outside 1–5. New rows are never
        # excluded (``excluded`` is not among RESPONSE_COLUMNS), as the triggers' WHEN requires.
        for _, _, responses_table, counts_table, key_cols, key_of in rollups:
            per_key: dict[tuple, int] = {}
            levels: dict[tuple, list[int]] = {}
            keys = {}
            for row in new_rows:
                key = keys[row["id"]] = key_of(row)
                per_key[key] = per_key.get(key, 0) + 1
                if row["overall"] is not None:
                    levels.setdefault((*key, "overall"), [0] * 6)[int(row["overall"]) - 1] += 1
            for rid, code, value in answer_rows:
                levels.setdefault((*keys[rid], code), [0] * 6)[5 if value is None else int(value) - 1] += 1
            cols = ", ".join(key_cols)
            marks = ", ".join("?" * len(key_cols))
            conn.executemany(
                f"INSERT INTO {responses_table} ({cols}, responses) VALUES ({marks}, ?) "
                f"ON CONFLICT ({cols}) DO UPDATE SET responses = responses + excluded.responses",
                [(*k, n) for k, n in per_key.items()],
            )
            conn.executemany(
                f"INSERT INTO {counts_table} ({cols}, criterion, n1, n2, n3, n4, n5, n_na) "
                f"VALUES ({marks}, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ({cols}, criterion) DO UPDATE SET "
                "n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3, n4 = n4 + excluded.n4, "
                "n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na",
                [(*k, *c) for k, c in levels.items()],
            )
    finally:
        for name in suspended:
            conn.execute(stored[name])
    return len(new_rows), skipped


def existing_tokens(conn: sqlite3.Connection, tokens: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(tokens), 500):
        chunk = tokens[i : i + 500]
        q = f"SELECT token FROM responses WHERE token IN ({','.join('?' * len(chunk))})"
        found.update(r[0] for r in conn.execute(q, chunk))
    return found


def record_import(
    conn: sqlite3.Connection,
    kind: str,
    filename: str,
    sha256: str,
    total: int,
    added: int,
    present: int,
    actor: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO imports (kind, filename, sha256, rows_total, rows_added, rows_present, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, filename, sha256, total, added, present, actor),
    )
    return cur.lastrowid


def set_import_id(conn: sqlite3.Connection, import_id: int, tokens: list[str]) -> None:
    for i in range(0, len(tokens), 500):
        chunk = tokens[i : i + 500]
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


def set_excluded(
    conn: sqlite3.Connection, response_id: int, excluded: bool, reason: str | None, actor: str | None
) -> None:
    """Exclude or restore one response; the roll-up follows through the trigger; logged."""
    set_excluded_many(conn, [response_id], excluded, reason, actor)


def set_excluded_many(
    conn: sqlite3.Connection, response_ids: list[int], excluded: bool, reason: str | None, actor: str | None
) -> None:
    """Exclude or restore responses in one transaction (all or none); raise KeyError for an unknown id."""
    with transaction(conn):
        for response_id in response_ids:
            old = conn.execute("SELECT excluded FROM responses WHERE id = ?", (response_id,)).fetchone()
            if old is None:
                raise KeyError(response_id)
            conn.execute(
                "UPDATE responses SET excluded = ?, exclude_reason = ? WHERE id = ?",
                (int(excluded), reason, response_id),
            )
            log_audit(
                conn,
                actor,
                "exclude" if excluded else "restore",
                f"response:{response_id}",
                str(old[0]),
                str(int(excluded)),
                reason,
            )


def delete_demo_data(conn: sqlite3.Connection) -> int:
    """Delete every generated (demo) response, its answers and demo staff; return responses deleted."""
    with transaction(conn):
        if schema_version(conn) >= 4:
            conn.execute(
                "DELETE FROM case_responses WHERE response_id IN (SELECT id FROM responses WHERE is_demo = 1)"
                " OR case_id IN (SELECT id FROM cases WHERE is_demo = 1)"
            )
            conn.execute("DELETE FROM case_events WHERE case_id IN (SELECT id FROM cases WHERE is_demo = 1)")
            conn.execute("DELETE FROM cases WHERE is_demo = 1")
        n = conn.execute("DELETE FROM responses WHERE is_demo = 1").rowcount
        in_use = "SELECT staff_code FROM responses WHERE staff_code IS NOT NULL"
        if schema_version(conn) >= 4:
            in_use += (
                " UNION SELECT staff_code FROM cases WHERE staff_code IS NOT NULL"
                " UNION SELECT staff_code FROM repeat_decisions"
            )
        conn.execute(f"DELETE FROM staff WHERE is_demo = 1 AND code NOT IN ({in_use})")
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


def level_counts(
    conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None, date_to: str | None = None
) -> dict[str, tuple[int, int, int, int, int]]:
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


def responses_in_range(
    conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None, date_to: str | None = None
) -> int:
    where, params = _range_clause(date_from, date_to)
    row = conn.execute(
        f"SELECT coalesce(sum(responses), 0) FROM daily_responses WHERE questionnaire = ?{where}",
        [questionnaire, *params],
    ).fetchone()
    return int(row[0])


def level_counts_direct(
    conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None, date_to: str | None = None
) -> dict[str, tuple[int, int, int, int, int]]:
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
        "GROUP BY a.criterion",
        params,
    ):
        out[r[0]] = tuple(int(x or 0) for x in r[1:])
    row = conn.execute(
        "SELECT sum(overall = 1), sum(overall = 2), sum(overall = 3), sum(overall = 4), sum(overall = 5) "
        f"FROM responses r WHERE {where} AND overall IS NOT NULL",
        params,
    ).fetchone()
    if row[0] is not None:
        out["overall"] = tuple(int(x) for x in row)
    return out


def asked_counts(conn: sqlite3.Connection, questionnaire: str) -> dict[str, int]:
    """How often each criterion has been asked (answered or "Không ý kiến"), for balanced rotation."""
    rows = conn.execute(
        "SELECT criterion, sum(n1 + n2 + n3 + n4 + n5 + n_na) FROM daily_counts "
        "WHERE questionnaire = ? GROUP BY criterion",
        (questionnaire,),
    )
    return {r[0]: int(r[1]) for r in rows}


# ---------------------------------------------------------------------------------------------
# Kiosk events, staff roster, settings, audit
# ---------------------------------------------------------------------------------------------


def record_abandoned(conn: sqlite3.Connection, at: datetime, step: int, device: str | None) -> None:
    """Count a survey left half-filled (its answers are not kept)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO kiosk_events (at, kind, step, device) VALUES (?, 'abandoned', ?, ?)",
            (at.strftime("%Y-%m-%d %H:%M:%S"), step, device),
        )


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
        "INSERT INTO settings (key, valid_from, value, changed_by) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key, valid_from) DO UPDATE SET value = excluded.value, "
        "changed_by = excluded.changed_by, changed_at = strftime('%Y-%m-%d %H:%M:%S', 'now')",
        (key, valid_from, value_json, actor),
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
        "INSERT INTO users (username, full_name, pw_hash, role, is_admin, password_changed_at) "
        "VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%S', 'now'))",
        (username, full_name, pw_hash, role, int(is_admin)),
    )


def update_user(conn: sqlite3.Connection, username: str, **fields) -> None:
    allowed = {"full_name", "pw_hash", "role", "is_admin", "active"}
    assignments = [f"{k} = :{k}" for k in fields if k in allowed]
    if "pw_hash" in fields:
        assignments.append("password_changed_at = strftime('%Y-%m-%d %H:%M:%S', 'now')")
    conn.execute(
        f"UPDATE users SET {', '.join(assignments)} WHERE username = :username", {**fields, "username": username}
    )


def add_login_failure(conn: sqlite3.Connection, username: str, at: float) -> None:
    conn.execute("INSERT INTO login_failures (username, at) VALUES (?, ?)", (username, at))


def login_failures_since(conn: sqlite3.Connection, username: str, since: float) -> list[float]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT at FROM login_failures WHERE username = ? AND at >= ? ORDER BY at", (username, since)
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


def baseline_rows(conn: sqlite3.Connection, year: int | None = None, questionnaire: str | None = None) -> list[dict]:
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
    return [
        (r[0], r[1])
        for r in conn.execute("SELECT DISTINCT year, questionnaire FROM baseline ORDER BY year DESC, questionnaire")
    ]


def delete_baseline(conn: sqlite3.Connection, year: int, questionnaire: str) -> int:
    return conn.execute("DELETE FROM baseline WHERE year = ? AND questionnaire = ?", (year, questionnaire)).rowcount


# ---------------------------------------------------------------------------------------------
# Analysis page and monthly report (filtered counts, trend, comments, data quality)
# ---------------------------------------------------------------------------------------------
# Filters are keyword arguments: questionnaire, date_from, date_to (inclusive local dates),
# channel, field, staff_code, include_excluded. Only questionnaire and dates can use the roll-up;
# anything else is aggregated from the raw rows here in SQL (never loaded row by row).


def _response_where(
    questionnaire: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    channel: str | None = None,
    field: str | None = None,
    staff_code: str | None = None,
    include_excluded: bool = False,
    alias: str = "r",
) -> tuple[str, list]:
    clauses, params = ["1 = 1"], []
    if questionnaire:
        clauses.append(f"{alias}.questionnaire = ?")
        params.append(questionnaire)
    if date_from:
        clauses.append(f"{alias}.submitted_at >= ?")
        params.append(date_from)
    if date_to:
        clauses.append(f"{alias}.submitted_at < date(?, '+1 day')")
        params.append(date_to)
    for col, value in (("channel", channel), ("field", field), ("staff_code", staff_code)):
        if value:
            clauses.append(f"{alias}.{col} = ?")
            params.append(value)
    if not include_excluded:
        clauses.append(f"{alias}.excluded = 0")
    return " AND ".join(clauses), params


def _dim_where(
    questionnaire: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    channel: str | None = None,
    field: str | None = None,
    staff_code: str | None = None,
    include_excluded: bool = False,
) -> tuple[str, list] | None:
    """WHERE clause on the dimension roll-ups (dim_counts, dim_responses), or None when the filters
    need the raw rows (excluded responses included, or no questionnaire version given)."""
    if include_excluded or not questionnaire:
        return None
    clauses, params = ["questionnaire = ?"], [questionnaire]
    for col, value in (
        ("day >= ?", date_from),
        ("day <= ?", date_to),
        ("channel = ?", channel),
        ("field = ?", field),
        ("staff = ?", staff_code),
    ):
        if value:
            clauses.append(col)
            params.append(value)
    return " AND ".join(clauses), params


def analysis_data_version(conn: sqlite3.Connection) -> tuple:
    """A cheap key that changes whenever what the analysis shows may change (for the page's cache):
    the newest response id, the count of counted responses (from the roll-up: changes on exclusion and
    deletion), and the newest audit entry about exclusions, settings, baseline, roster or demo data."""
    newest = conn.execute("SELECT max(id) FROM responses").fetchone()[0]
    count = conn.execute("SELECT sum(responses) FROM daily_responses").fetchone()[0]
    audit = conn.execute(
        "SELECT max(id) FROM audit_log WHERE action IN "
        "('exclude', 'restore', 'setting', 'baseline', 'delete-demo', 'staff', 'baseline-delete')"
    ).fetchone()[0]
    base = conn.execute("SELECT count(*), max(updated_at) FROM baseline").fetchone()
    return (newest, count, audit, base[0], base[1])


def filtered_counts(conn: sqlite3.Connection, **filters) -> tuple[dict[str, tuple[int, int, int, int, int]], int]:
    """(counts of answers 1..5 per criterion and ``'overall'``, number of responses) matching ``filters``,
    in one pass: the matching responses are selected once, then their answers are counted."""
    dim = _dim_where(**filters)
    if dim is not None:
        where, params = dim
        counts = {
            r[0]: tuple(int(x) for x in r[1:])
            for r in conn.execute(
                "SELECT criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM dim_counts "
                f"WHERE {where} GROUP BY criterion",
                params,
            )
        }
        responses = conn.execute(
            f"SELECT coalesce(sum(responses), 0) FROM dim_responses WHERE {where}", params
        ).fetchone()[0]
        return {k: v for k, v in counts.items() if any(v)}, int(responses)
    where, params = _response_where(**filters)
    sql = (
        f"WITH sel AS MATERIALIZED (SELECT r.id, r.overall FROM responses r WHERE {where}) "
        "SELECT a.criterion, a.value, count(*) FROM sel CROSS JOIN answers a ON a.response_id = sel.id "
        "WHERE a.value IS NOT NULL GROUP BY 1, 2 "
        "UNION ALL SELECT 'overall', overall, count(*) FROM sel WHERE overall IS NOT NULL GROUP BY 2 "
        "UNION ALL SELECT NULL, NULL, count(*) FROM sel"
    )
    out: dict[str, list[int]] = {}
    responses = 0
    for criterion, value, count in conn.execute(sql, params):
        if criterion is None:
            responses = int(count)
        else:
            out.setdefault(criterion, [0, 0, 0, 0, 0])[int(value) - 1] += int(count)
    return {k: tuple(v) for k, v in out.items()}, responses


def filtered_level_counts(conn: sqlite3.Connection, **filters) -> dict[str, tuple[int, int, int, int, int]]:
    """Per criterion (and ``'overall'``): counts of answers 1..5 of the responses matching ``filters``."""
    return filtered_counts(conn, **filters)[0]


def filtered_response_count(conn: sqlite3.Connection, **filters) -> int:
    where, params = _response_where(**filters)
    return conn.execute(f"SELECT count(*) FROM responses r WHERE {where}", params).fetchone()[0]


def monthly_level_counts(conn: sqlite3.Connection, **filters) -> list[tuple]:
    """(month 'YYYY-MM', criterion or 'overall', n1..n5) rows; from the roll-up when the filters allow."""
    rollup = not any(filters.get(k) for k in ("channel", "field", "staff_code", "include_excluded"))
    if rollup:
        where, params = _range_clause(filters.get("date_from"), filters.get("date_to"))
        sql = (
            "SELECT substr(day, 1, 7), criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) "
            f"FROM daily_counts WHERE questionnaire = ?{where} GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = conn.execute(sql, [filters["questionnaire"], *params])
    elif (dim := _dim_where(**filters)) is not None:
        where, params = dim
        rows = conn.execute(
            "SELECT substr(day, 1, 7), criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) "
            f"FROM dim_counts WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
            params,
        )
    else:
        where, params = _response_where(**filters)
        sql = (
            "SELECT m, c, sum(v = 1), sum(v = 2), sum(v = 3), sum(v = 4), sum(v = 5) FROM ("
            "SELECT substr(r.submitted_at, 1, 7) AS m, a.criterion AS c, a.value AS v "
            f"FROM responses r JOIN answers a ON a.response_id = r.id WHERE {where} "
            "UNION ALL SELECT substr(r.submitted_at, 1, 7), 'overall', r.overall "
            f"FROM responses r WHERE {where} AND r.overall IS NOT NULL) GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = conn.execute(sql, params + params)
    return [(r[0], r[1], *(int(x or 0) for x in r[2:])) for r in rows]


def monthly_response_counts(conn: sqlite3.Connection, **filters) -> dict[str, int]:
    rollup = not any(filters.get(k) for k in ("channel", "field", "staff_code", "include_excluded"))
    if rollup:
        where, params = _range_clause(filters.get("date_from"), filters.get("date_to"))
        rows = conn.execute(
            f"SELECT substr(day, 1, 7), sum(responses) FROM daily_responses WHERE questionnaire = ?{where} GROUP BY 1",
            [filters["questionnaire"], *params],
        )
    elif (dim := _dim_where(**filters)) is not None:
        where, params = dim
        rows = conn.execute(
            f"SELECT substr(day, 1, 7), sum(responses) FROM dim_responses WHERE {where} GROUP BY 1", params
        )
    else:
        where, params = _response_where(**filters)
        rows = conn.execute(
            f"SELECT substr(r.submitted_at, 1, 7), count(*) FROM responses r WHERE {where} GROUP BY 1", params
        )
    return {r[0]: int(r[1]) for r in rows}


def weekday_hour_overall(conn: sqlite3.Connection, **filters) -> list[tuple[int, int, int, int]]:
    """(weekday 0 = Monday … 6, hour 0–23, answers to the overall question, of which 4–5) per cell."""
    where, params = _response_where(**filters)
    rows = conn.execute(
        "SELECT (CAST(strftime('%w', r.submitted_at) AS INTEGER) + 6) % 7, "
        "CAST(substr(r.submitted_at, 12, 2) AS INTEGER), count(*), sum(r.overall >= 4) "
        f"FROM responses r WHERE {where} AND r.overall IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows]


def staff_level_counts(conn: sqlite3.Connection, criteria: Iterable[str], **filters) -> dict[str, dict]:
    """Per staff code: the answers 1..5 to ``criteria`` pooled, and the number of responses."""
    codes = list(criteria)
    filters = {**filters, "staff_code": None}
    where, params = _response_where(**filters)
    marks = ", ".join("?" * len(codes))
    out: dict[str, dict] = {}
    for r in conn.execute(
        f"SELECT r.staff_code, count(*) FROM responses r WHERE {where} "
        "AND r.staff_code IS NOT NULL GROUP BY r.staff_code",
        params,
    ):
        out[r[0]] = {"responses": int(r[1]), "counts": (0, 0, 0, 0, 0)}
    for r in conn.execute(
        "SELECT r.staff_code, sum(a.value = 1), sum(a.value = 2), sum(a.value = 3), "
        f"sum(a.value = 4), sum(a.value = 5) FROM responses r JOIN answers a ON a.response_id = r.id "
        f"WHERE {where} AND r.staff_code IS NOT NULL AND a.criterion IN ({marks}) GROUP BY r.staff_code",
        [*params, *codes],
    ):
        out[r[0]]["counts"] = tuple(int(x or 0) for x in r[1:])
    return out


def distinct_fields(
    conn: sqlite3.Connection, questionnaire: str | None = None, date_from: str | None = None, date_to: str | None = None
) -> list[str]:
    """The lĩnh vực values found in the responses (of a version and period: uses the time index)."""
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    return [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT r.field FROM responses r WHERE {where} AND r.field IS NOT NULL AND r.field != '' "
            "ORDER BY r.field",
            params,
        )
    ]


def comments_in_period(conn: sqlite3.Connection, limit: int | None = None, **filters) -> list[dict]:
    """Responses with a comment matching ``filters``, newest first (without their answers)."""
    where, params = _response_where(**filters)
    sql = (
        "SELECT r.id, r.submitted_at, r.channel, r.field, r.staff_code, r.overall, r.comment, r.excluded "
        f"FROM responses r WHERE {where} AND r.comment IS NOT NULL AND trim(r.comment) != '' "
        "ORDER BY r.submitted_at DESC, r.id DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, int(limit)]
    return [dict(r) for r in conn.execute(sql, params)]


def answers_for(conn: sqlite3.Connection, response_ids: Iterable[int]) -> dict[int, dict[str, int | None]]:
    """The stored answers (criterion → level, None = no opinion) of each response id."""
    ids = [int(i) for i in response_ids]
    out: dict[int, dict[str, int | None]] = {i: {} for i in ids}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for a in conn.execute(
            f"SELECT response_id, criterion, value FROM answers WHERE response_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            out[a[0]][a[1]] = a[2]
    return out


def quality_candidates(
    conn: sqlite3.Connection,
    date_from: str | None = None,
    date_to: str | None = None,
    questionnaire: str | None = None,
    min_same: int = 5,
) -> list[dict]:
    """Every response of the period (excluded ones too) with what the data-quality checks need: time,
    device, duration, the kiosk's out-of-hours mark; and, for the responses that gave one same level to
    every asked criterion (at least ``min_same`` of them), how many were asked (``asked`` = ``answered``)
    and that level (``lo`` = ``hi``). The others have None there: they cannot be straight-lining."""
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    rows = [
        dict(r)
        for r in conn.execute(
            "SELECT r.id, r.submitted_at, r.channel, r.device, r.duration_seconds, r.out_of_hours, r.excluded, "
            f"r.exclude_reason, r.comment FROM responses r WHERE {where} ORDER BY r.submitted_at, r.id",
            params,
        )
    ]
    same = {
        r[0]: r[1:]
        for r in conn.execute(
            f"WITH sel AS MATERIALIZED (SELECT r.id FROM responses r WHERE {where}) "
            "SELECT a.response_id, count(*), count(a.value), min(a.value), max(a.value) "
            "FROM sel CROSS JOIN answers a ON a.response_id = sel.id GROUP BY a.response_id "
            "HAVING count(*) >= ? AND count(a.value) = count(*) AND min(a.value) = max(a.value)",
            [*params, min_same],
        )
    }
    for r in rows:
        asked, answered, lo, hi = same.get(r["id"], (None, None, None, None))
        r.update(asked=asked, answered=answered, lo=lo, hi=hi)
    return rows


def excluded_responses(
    conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None, questionnaire: str | None = None
) -> list[dict]:
    """Excluded responses of the period with their reason and who excluded them when (last audit entry)."""
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    return [
        dict(r)
        for r in conn.execute(
            "SELECT r.id, r.submitted_at, r.channel, r.device, r.exclude_reason, r.comment, "
            "(SELECT actor FROM audit_log WHERE entity = 'response:' || r.id AND action = 'exclude' "
            " ORDER BY id DESC LIMIT 1) AS excluded_by, "
            "(SELECT at FROM audit_log WHERE entity = 'response:' || r.id AND action = 'exclude' "
            " ORDER BY id DESC LIMIT 1) AS excluded_at "
            f"FROM responses r WHERE {where} AND r.excluded = 1 ORDER BY r.submitted_at, r.id",
            params,
        )
    ]


def count_excluded(
    conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None, questionnaire: str | None = None
) -> int:
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    return conn.execute(f"SELECT count(*) FROM responses r WHERE {where} AND r.excluded = 1", params).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Backup, restore and consistency checks (used by sipas.backup)
# ---------------------------------------------------------------------------------------------


def file_identity(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """(application_id, user_version, table names) of any SQLite file, to tell whether it is ours."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
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


def rollup_level_counts_by_day(conn: sqlite3.Connection) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """``daily_counts`` as stored: (day, questionnaire, criterion) → (n1, …, n5, n_na)."""
    return {
        (r[0], r[1], r[2]): tuple(int(x) for x in r[3:])
        for r in conn.execute("SELECT day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na FROM daily_counts")
    }


def direct_level_counts_by_day(conn: sqlite3.Connection) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """The same counts recomputed from ``answers`` and ``responses`` (the rule the triggers keep)."""
    rows = conn.execute(
        """
        SELECT day, questionnaire, criterion, sum(v = 1), sum(v = 2), sum(v = 3), sum(v = 4), sum(v = 5),
               sum(v IS NULL)
        FROM (SELECT substr(r.submitted_at, 1, 10) AS day, r.questionnaire, a.criterion, a.value AS v
              FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0
              UNION ALL
              SELECT substr(submitted_at, 1, 10), questionnaire, 'overall', overall
              FROM responses WHERE excluded = 0 AND overall IS NOT NULL)
        GROUP BY 1, 2, 3
        """
    )
    return {(r[0], r[1], r[2]): tuple(int(x or 0) for x in r[3:]) for r in rows}


def rollup_responses_by_day(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """``daily_responses`` as stored: (day, questionnaire) → responses."""
    return {(r[0], r[1]): int(r[2]) for r in conn.execute("SELECT day, questionnaire, responses FROM daily_responses")}


def direct_responses_by_day(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Non-excluded responses per (local day, questionnaire), counted from ``responses``."""
    return {
        (r[0], r[1]): int(r[2])
        for r in conn.execute(
            "SELECT substr(submitted_at, 1, 10), questionnaire, count(*) FROM responses WHERE excluded = 0 "
            "GROUP BY 1, 2"
        )
    }


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
# Corrective actions (cases), their append-only history, repeat-offence decisions
# ---------------------------------------------------------------------------------------------

CASE_COLUMNS = (
    "type",
    "origin",
    "channel",
    "staff_code",
    "criterion",
    "title",
    "description",
    "state",
    "owner",
    "priority",
    "received_at",
    "due_date",
    "response_deadline",
    "responded_at",
    "root_cause",
    "measure",
    "measure_detail",
    "measure_date",
    "measure_approved_by",
    "substantiated",
    "close_reason",
    "effect_flag",
    "schedule",
    "contact_phone",
    "is_demo",
    "closed_at",
)


def insert_case(conn: sqlite3.Connection, fields: dict, now: str) -> int:
    cols = [c for c in CASE_COLUMNS if c in fields]
    cur = conn.execute(
        f"INSERT INTO cases ({', '.join(cols)}, created_at, updated_at) "
        f"VALUES ({', '.join(':' + c for c in cols)}, :now, :now)",
        {**{c: fields[c] for c in cols}, "now": now},
    )
    return cur.lastrowid


def update_case(conn: sqlite3.Connection, case_id: int, fields: dict, now: str) -> None:
    cols = [c for c in CASE_COLUMNS if c in fields]
    if not cols:
        return
    conn.execute(
        f"UPDATE cases SET {', '.join(f'{c} = :{c}' for c in cols)}, updated_at = :now WHERE id = :id",
        {**{c: fields[c] for c in cols}, "now": now, "id": case_id},
    )


def get_case(conn: sqlite3.Connection, case_id: int) -> dict | None:
    row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    return None if row is None else dict(row)


def list_cases(
    conn: sqlite3.Connection,
    *,
    states: tuple[str, ...] | None = None,
    staff_code: str | None = None,
    case_type: str | None = None,
) -> list[dict]:
    sql, params = "SELECT * FROM cases WHERE 1 = 1", []
    if states:
        sql += f" AND state IN ({','.join('?' * len(states))})"
        params += list(states)
    if staff_code:
        sql += " AND staff_code = ?"
        params.append(staff_code)
    if case_type:
        sql += " AND type = ?"
        params.append(case_type)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id DESC", params)]


def add_case_event(
    conn: sqlite3.Connection,
    case_id: int,
    at: str,
    actor: str | None,
    kind: str,
    from_state: str | None,
    to_state: str | None,
    note: str | None,
) -> None:
    conn.execute(
        "INSERT INTO case_events (case_id, at, actor, kind, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (case_id, at, actor, kind, from_state, to_state, note),
    )


def case_events(
    conn: sqlite3.Connection, case_id: int | None = None, date_from: str | None = None, date_to: str | None = None
) -> list[dict]:
    sql, params = "SELECT * FROM case_events WHERE 1 = 1", []
    if case_id is not None:
        sql += " AND case_id = ?"
        params.append(case_id)
    if date_from:
        sql += " AND at >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND at < date(?, '+1 day')"
        params.append(date_to)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id", params)]


def link_case_response(conn: sqlite3.Connection, case_id: int, response_id: int) -> bool:
    cur = conn.execute(
        "INSERT OR IGNORE INTO case_responses (case_id, response_id) VALUES (?, ?)", (case_id, response_id)
    )
    return cur.rowcount == 1


def case_response_ids(conn: sqlite3.Connection, case_id: int) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT response_id FROM case_responses WHERE case_id = ? ORDER BY response_id", (case_id,)
        )
    ]


def responses_after(conn: sqlite3.Connection, last_id: int, limit: int = 5000) -> list[dict]:
    """Responses stored after ``last_id`` with their staff-conduct answers (element 3), for case intake."""
    rows = [
        dict(r)
        for r in conn.execute(
            "SELECT id, submitted_at, questionnaire, staff_code, overall, comment, is_demo, excluded FROM responses "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, limit),
        )
    ]
    for r in rows:
        r["conduct"] = {
            a[0]: a[1]
            for a in conn.execute(
                "SELECT criterion, value FROM answers WHERE response_id = ? AND criterion LIKE 'TC3.%'", (r["id"],)
            )
        }
    return rows


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def insert_repeat_decision(
    conn: sqlite3.Connection, staff_code: str, at: str, actor: str, decision: str, note: str
) -> None:
    conn.execute(
        "INSERT INTO repeat_decisions (staff_code, decided_at, actor, decision, note) VALUES (?, ?, ?, ?, ?)",
        (staff_code, at, actor, decision, note),
    )


def repeat_decisions(conn: sqlite3.Connection, staff_code: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM repeat_decisions", []
    if staff_code:
        sql += " WHERE staff_code = ?"
        params.append(staff_code)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id", params)]


def conduct_counts(
    conn: sqlite3.Connection, staff_code: str | None, date_from: str, date_to: str, criterion_prefix: str = "TC3."
) -> tuple[int, int]:
    """(responses, satisfied responses) about the criteria starting with ``criterion_prefix`` in [from, to).

    Counted per response, not per answer, so that one citizen's five conduct answers are not taken
    as five independent observations: a response counts if it answered at least one such criterion,
    and as satisfied when every one it answered is 4–5. With a staff code: that staff member's
    responses; without: all responses. Excluded responses are out.
    """
    sql = (
        "SELECT count(*), coalesce(sum(low = 0), 0) FROM (SELECT r.id, sum(a.value <= 3) AS low "
        "FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0 AND a.criterion LIKE ? "
        "AND a.value IS NOT NULL AND r.submitted_at >= ? AND r.submitted_at < ?"
    )
    params: list = [criterion_prefix + "%", date_from, date_to]
    if staff_code:
        sql += " AND r.staff_code = ?"
        params.append(staff_code)
    n, sat = conn.execute(sql + " GROUP BY r.id)", params).fetchone()
    return int(n), int(sat)


def delete_case_phone(conn: sqlite3.Connection, case_id: int) -> None:
    conn.execute("UPDATE cases SET contact_phone = NULL WHERE id = ?", (case_id,))


def case_evidence(conn: sqlite3.Connection, case_id: int) -> list[dict]:
    """The survey responses linked to a case: when, staff-conduct ratings, overall, comment (as typed)."""
    out = []
    for r in conn.execute(
        "SELECT r.id, r.submitted_at, r.overall, r.comment FROM case_responses cr "
        "JOIN responses r ON r.id = cr.response_id WHERE cr.case_id = ? ORDER BY r.submitted_at",
        (case_id,),
    ):
        ratings = ", ".join(
            f"{a[0]}: {a[1]}"
            for a in conn.execute(
                "SELECT criterion, value FROM answers WHERE response_id = ? AND criterion LIKE 'TC3.%' "
                "AND value IS NOT NULL ORDER BY criterion",
                (r["id"],),
            )
        )
        out.append(
            {
                "Phiếu": r["id"],
                "Thời điểm": r["submitted_at"],
                "Đánh giá công chức": ratings,
                "Hài lòng chung": r["overall"],
                "Góp ý": r["comment"] or "",
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# Waiting time and staffing (sipas.waiting): queue tickets, hourly dossier counts, survey by slot
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
