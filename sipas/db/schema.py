"""Frozen migrations (PRAGMA user_version), opening a database file, schema version."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sipas.db.connection import APP_ID, connect, transaction
from sipas.errors import DatabaseError

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
    # there is no machine (sipas.staffing.waiting). A ticket is one per (ticket_id, issue day): machines
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


def _m8_rollups_set_based(conn: sqlite3.Connection) -> None:
    """One roll-up rule instead of three copies (the per-answer triggers of migrations 2 and 6, and a
    Python tally in the bulk insert), applied to a whole batch at once.

    The per-answer insert triggers fired two upserts for each of the 19 answers of a survey (≈60 %
    of a survey's SQL time). Now the one rule is the INSTEAD OF trigger of the view ``rollup_delta``:
    inserting ``(first_id, last_id, sign)`` adds ``sign`` × the counts of the non-excluded responses
    with ids in that range (and their answers) to the dimension roll-ups (``dim_counts``,
    ``dim_responses``: set-based statements over the range), and re-derives the daily roll-ups
    (``daily_counts``, ``daily_responses``) of the days touched as sums of the dimension ones. The
    store's insert functions call it once per transaction for the ids they added
    (sipas/db/responses.py); the exclusion, restore and deletion triggers call it for one response.
    The roll-up tables, their readers and what they hold do not change (nothing to backfill).
    """
    dims = "day, questionnaire, channel, field, staff"
    add_levels = (
        "n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3, n4 = n4 + excluded.n4, "
        "n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na"
    )

    def levels(key_cols: str, key_of_r: str, key_of_bare: str, table: str) -> str:
        # Row by row into the upsert, not GROUP BY first: sorting the answers by six text keys
        # costs more than the upserts it would save (bench/RESULTS.md, "Importing").
        return f"""
            INSERT INTO {table} ({key_cols}, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT {key_of_r}, a.criterion, NEW.sign * coalesce(a.value = 1, 0), NEW.sign * coalesce(a.value = 2, 0),
                   NEW.sign * coalesce(a.value = 3, 0), NEW.sign * coalesce(a.value = 4, 0),
                   NEW.sign * coalesce(a.value = 5, 0), NEW.sign * (a.value IS NULL)
            FROM responses r JOIN answers a ON a.response_id = r.id
            WHERE r.id BETWEEN NEW.first_id AND NEW.last_id AND r.excluded = 0
            ON CONFLICT ({key_cols}, criterion) DO UPDATE SET {add_levels};
            INSERT INTO {table} ({key_cols}, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT {key_of_bare}, 'overall', NEW.sign * (overall = 1), NEW.sign * (overall = 2),
                   NEW.sign * (overall = 3), NEW.sign * (overall = 4), NEW.sign * (overall = 5), 0
            FROM responses WHERE id BETWEEN NEW.first_id AND NEW.last_id AND excluded = 0 AND overall IS NOT NULL
            ON CONFLICT ({key_cols}, criterion) DO UPDATE SET {add_levels};"""

    def responses(key_cols: str, key_of_bare: str, n_keys: int, table: str) -> str:
        group = ", ".join(str(i) for i in range(1, n_keys + 1))
        return f"""
            INSERT INTO {table} ({key_cols}, responses)
            SELECT {key_of_bare}, NEW.sign * count(*) FROM responses
            WHERE id BETWEEN NEW.first_id AND NEW.last_id AND excluded = 0 GROUP BY {group}
            ON CONFLICT ({key_cols}) DO UPDATE SET responses = responses + excluded.responses;"""

    day_r = "substr(r.submitted_at, 1, 10), r.questionnaire"
    day_bare = "substr(submitted_at, 1, 10), questionnaire"
    dims_r = f"{day_r}, r.channel, coalesce(r.field, ''), coalesce(r.staff_code, '')"
    dims_bare = f"{day_bare}, channel, coalesce(field, ''), coalesce(staff_code, '')"
    touched = f"SELECT DISTINCT {day_bare} FROM responses WHERE id BETWEEN NEW.first_id AND NEW.last_id"
    old_triggers = (
        "responses_count_insert",
        "answers_count_insert",
        "answers_count_delete",
        "responses_delete",
        "responses_exclusion",
        "dims_response_insert",
        "dims_answer_insert",
        "dims_answer_delete",
        "dims_response_delete",
        "dims_exclusion",
    )
    for name in old_triggers:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    _script(
        conn,
        f"""
        CREATE VIEW rollup_delta (first_id, last_id, sign) AS SELECT NULL, NULL, NULL WHERE 0;

        CREATE TRIGGER rollup_delta_apply INSTEAD OF INSERT ON rollup_delta BEGIN
            {responses(dims, dims_bare, 5, "dim_responses")}
            {levels(dims, dims_r, dims_bare, "dim_counts")}
            -- The daily roll-ups are the dimension roll-ups summed over channel, lĩnh vực and staff:
            -- re-summed for the days the range touches (a day has a few thousand rows at most).
            INSERT INTO daily_responses (day, questionnaire, responses)
            SELECT day, questionnaire, sum(responses) FROM dim_responses
            WHERE (day, questionnaire) IN ({touched})
            GROUP BY 1, 2
            ON CONFLICT (day, questionnaire) DO UPDATE SET responses = excluded.responses;
            INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT day, questionnaire, criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n_na)
            FROM dim_counts WHERE (day, questionnaire) IN ({touched})
            GROUP BY 1, 2, 3
            ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET
                n1 = excluded.n1, n2 = excluded.n2, n3 = excluded.n3, n4 = excluded.n4, n5 = excluded.n5,
                n_na = excluded.n_na;
        END;

        -- Deleting a response (demo data) takes its counts out while its answers still tell them,
        -- then removes the answers.
        CREATE TRIGGER responses_delete BEFORE DELETE ON responses BEGIN
            INSERT INTO rollup_delta (first_id, last_id, sign) SELECT OLD.id, OLD.id, -1 WHERE OLD.excluded = 0;
            DELETE FROM answers WHERE response_id = OLD.id;
        END;

        -- Excluding takes the counts out before the row is marked; restoring adds them back after.
        CREATE TRIGGER responses_exclude BEFORE UPDATE OF excluded ON responses
        WHEN OLD.excluded = 0 AND NEW.excluded != 0 BEGIN
            INSERT INTO rollup_delta (first_id, last_id, sign) VALUES (OLD.id, OLD.id, -1);
        END;
        CREATE TRIGGER responses_restore AFTER UPDATE OF excluded ON responses
        WHEN OLD.excluded != 0 AND NEW.excluded = 0 BEGIN
            INSERT INTO rollup_delta (first_id, last_id, sign) VALUES (NEW.id, NEW.id, 1);
        END;
        """,
    )


def _m9_keep_questionnaire(conn: sqlite3.Connection) -> None:
    # From this version a new database surveys with sipas-2024 (the national form of SIPAS 2024).
    # A database already in use keeps the version it surveyed with: store it (sipas-2023, the former
    # default) unless the commune had chosen one. A database with nothing in it yet counts as new.
    if conn.execute("SELECT 1 FROM settings WHERE key = 'active_questionnaire'").fetchone():
        return
    used = any(
        conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
        for table in ("responses", "settings", "users", "baseline", "staff", "audit_log")
    )
    if used:
        conn.execute(
            "INSERT INTO settings (key, valid_from, value, changed_by) "
            "VALUES ('active_questionnaire', '0001-01-01', '\"sipas-2023\"', 'cập nhật phần mềm')"
        )


def _m10_kiosk_component(conn: sqlite3.Connection) -> None:
    # The tablet runs the survey in the browser: it says when a survey starts (no answers), so
    # abandoned = started and never completed; it reports how many completed surveys it still holds;
    # staff may have a photo for the tablet's staff picker.
    _script(
        conn,
        """
        CREATE TABLE kiosk_starts (
            token TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            device TEXT
        );
        CREATE INDEX kiosk_starts_by_time ON kiosk_starts (at);
        CREATE TABLE kiosk_tablets (
            tablet TEXT PRIMARY KEY,
            pending INTEGER NOT NULL CHECK (pending >= 0),
            reported_at TEXT NOT NULL
        );
        ALTER TABLE staff ADD COLUMN photo BLOB;
        ALTER TABLE staff ADD COLUMN photo_type TEXT;
        """,
    )
    # The short survey is the default for a new database; one already in use keeps the full form
    # it was running (it had no row for the setting and used the old default).
    in_use = conn.execute("SELECT EXISTS (SELECT 1 FROM responses)").fetchone()[0]
    has_row = conn.execute("SELECT EXISTS (SELECT 1 FROM settings WHERE key = 'questions_per_survey')").fetchone()[0]
    if in_use and not has_row:
        conn.execute(
            "INSERT INTO settings (key, valid_from, value, changed_by) VALUES "
            "('questions_per_survey', '0001-01-01', '{\"mode\": \"full\", \"rotating\": 4}', 'migration')"
        )


def _m11_rollup_by_group(conn: sqlite3.Connection) -> None:
    """The one roll-up rule (migration 8) with its answer counts grouped before they are added.

    Migration 8 added each answer of the range to ``dim_counts`` by its own upsert: 1.8 million
    lookups by a six-column text key for a file of 100,000 responses (2.9 s of a 9.6 s import,
    bench/RESULTS.md). Sorting the answers by those six text keys first costs more than it saves.
    Here the range's responses are first grouped by their dimensions (a few thousand groups, each
    named by its smallest response id), the answers are counted per (group, criterion), a sort by an
    integer and a short code, and only the sums are upserted, in key order: one lookup per roll-up
    row that changes, each near the one before. What is counted, and the tables it is counted into,
    do not change (nothing to rebuild); the daily roll-ups are still re-summed from the dimension
    ones for the days the range touches.
    """
    dims = "day, questionnaire, channel, field, staff"
    add_levels = (
        "n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3, n4 = n4 + excluded.n4, "
        "n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na"
    )
    in_range = "r.id BETWEEN NEW.first_id AND NEW.last_id AND r.excluded = 0"
    # The range's dimension groups (materialised once per reference; the join to it gets an
    # automatic index).
    groups = f"""(SELECT min(r.id) AS gid, substr(r.submitted_at, 1, 10) AS day, r.questionnaire AS q,
                    r.channel AS ch, coalesce(r.field, '') AS f, coalesce(r.staff_code, '') AS s
                  FROM responses r WHERE {in_range} GROUP BY 2, 3, 4, 5, 6)"""
    of_group = (
        "g.day = substr(r.submitted_at, 1, 10) AND g.q = r.questionnaire AND g.ch = r.channel "
        "AND g.f = coalesce(r.field, '') AND g.s = coalesce(r.staff_code, '')"
    )
    touched = (
        "SELECT DISTINCT substr(r.submitted_at, 1, 10), r.questionnaire FROM responses r "
        "WHERE r.id BETWEEN NEW.first_id AND NEW.last_id"
    )
    conn.execute("DROP TRIGGER rollup_delta_apply")
    _script(
        conn,
        f"""
        CREATE TRIGGER rollup_delta_apply INSTEAD OF INSERT ON rollup_delta BEGIN
            INSERT INTO dim_responses ({dims}, responses)
            SELECT substr(r.submitted_at, 1, 10), r.questionnaire, r.channel, coalesce(r.field, ''),
                   coalesce(r.staff_code, ''), NEW.sign * count(*)
            FROM responses r WHERE {in_range} GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT ({dims}) DO UPDATE SET responses = responses + excluded.responses;

            INSERT INTO dim_counts ({dims}, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT g.day, g.q, g.ch, g.f, g.s, x.criterion, NEW.sign * x.n1, NEW.sign * x.n2, NEW.sign * x.n3,
                   NEW.sign * x.n4, NEW.sign * x.n5, NEW.sign * x.n_na
            FROM (
                SELECT g.gid AS gid, a.criterion AS criterion, sum(a.value IS 1) AS n1, sum(a.value IS 2) AS n2,
                       sum(a.value IS 3) AS n3, sum(a.value IS 4) AS n4, sum(a.value IS 5) AS n5,
                       sum(a.value IS NULL) AS n_na
                FROM responses r CROSS JOIN {groups} g CROSS JOIN answers a  -- "IS k" is 0, not NULL, for Không ý kiến
                WHERE {in_range} AND {of_group} AND a.response_id = r.id
                GROUP BY 1, 2
                UNION ALL
                SELECT g.gid, 'overall', sum(r.overall = 1), sum(r.overall = 2), sum(r.overall = 3),
                       sum(r.overall = 4), sum(r.overall = 5), 0
                FROM responses r CROSS JOIN {groups} g
                WHERE {in_range} AND r.overall IS NOT NULL AND {of_group}
                GROUP BY 1
            ) x CROSS JOIN {groups} g WHERE g.gid = x.gid
            ORDER BY g.day, g.q, g.ch, g.f, g.s, x.criterion  -- in key order: each upsert near the last
            ON CONFLICT ({dims}, criterion) DO UPDATE SET {add_levels};

            -- The daily roll-ups are the dimension roll-ups summed over channel, lĩnh vực and staff:
            -- re-summed for the days the range touches (a day has a few thousand rows at most).
            INSERT INTO daily_responses (day, questionnaire, responses)
            SELECT day, questionnaire, sum(responses) FROM dim_responses
            WHERE (day, questionnaire) IN ({touched})
            GROUP BY 1, 2
            ON CONFLICT (day, questionnaire) DO UPDATE SET responses = excluded.responses;
            INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na)
            SELECT day, questionnaire, criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n_na)
            FROM dim_counts WHERE (day, questionnaire) IN ({touched})
            GROUP BY 1, 2, 3
            ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET
                n1 = excluded.n1, n2 = excluded.n2, n3 = excluded.n3, n4 = excluded.n4, n5 = excluded.n5,
                n_na = excluded.n_na;
        END;
        """,
    )


def _m12_demographics_2024(conn: sqlite3.Connection) -> None:
    # The national form of 2024 also asks dân tộc and nghề nghiệp (optional, like the others).
    _script(
        conn,
        """
        ALTER TABLE responses ADD COLUMN ethnicity TEXT;
        ALTER TABLE responses ADD COLUMN occupation TEXT;
        """,
    )


def _m13_extra_answers(conn: sqlite3.Connection) -> None:
    # Answers to a version's extra questions that have no column of their own (sipas.catalog.questions):
    # one JSON object keyed by question code, so a new form's questions need no migration.
    _script(conn, "ALTER TABLE responses ADD COLUMN extra TEXT CHECK (extra IS NULL OR json_valid(extra));")


def _m14_enrolled_tablets(conn: sqlite3.Connection) -> None:
    # Only enrolled tablets may store a survey: each holds a device secret and signs its messages;
    # the server issues the start tokens (bound to one tablet, used once); what is refused is counted.
    _script(
        conn,
        """
        CREATE TABLE kiosk_devices (
            name TEXT PRIMARY KEY,
            secret TEXT,
            enrol_code_hash TEXT,
            enrol_expires TEXT,
            enrolled_at TEXT,
            revoked_at TEXT,
            added_at TEXT NOT NULL
        );
        CREATE TABLE kiosk_tokens (
            token TEXT PRIMARY KEY,
            device TEXT NOT NULL REFERENCES kiosk_devices (name),
            issued_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX kiosk_tokens_unused ON kiosk_tokens (device, used_at);
        CREATE TABLE kiosk_refusals (
            day TEXT NOT NULL,
            reason TEXT NOT NULL,
            n INTEGER NOT NULL CHECK (n >= 0),
            last_at TEXT NOT NULL,
            last_device TEXT,
            PRIMARY KEY (day, reason)
        );
        """,
    )


def _m15_comment_labels(conn: sqlite3.Connection) -> None:
    # The clerk's corrections of the comment classifier, keyed by the comment as the classifier reads it
    # (sipas.index.classify.prepare): the last correction of a text wins; each is audited.
    _script(
        conn,
        """
        CREATE TABLE comment_labels (
            prepared TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            conduct_complaint INTEGER NOT NULL CHECK (conduct_complaint IN (0, 1)),
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        );
        """,
    )


def _m16_dossiers(conn: sqlite3.Connection) -> None:
    # The provincial one-stop system's dossier log (sipas.files.dossiers): no personal column exists, so
    # none can be stored. A re-import updates a row; a status change is kept with when it was seen.
    _script(
        conn,
        """
        CREATE TABLE dossiers (
            id INTEGER PRIMARY KEY,
            dossier_id TEXT NOT NULL UNIQUE,
            procedure TEXT,
            field TEXT NOT NULL,
            received_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            finished_at TEXT,
            returned_at TEXT,
            status TEXT,
            status_changed_at TEXT,
            staff_code TEXT,
            submit_channel TEXT CHECK (submit_channel IN ('direct', 'online', 'postal')),
            return_channel TEXT CHECK (return_channel IN ('direct', 'online', 'postal')),
            paid_online INTEGER CHECK (paid_online IN (0, 1)),
            rating TEXT CHECK (rating IN ('very_satisfied', 'satisfied', 'not_satisfied')),
            complaint INTEGER NOT NULL DEFAULT 0 CHECK (complaint IN (0, 1)),
            import_id INTEGER REFERENCES imports(id),
            updated_import_id INTEGER REFERENCES imports(id)
        );
        CREATE INDEX dossiers_by_received ON dossiers (received_at);
        CREATE TABLE dossier_status_changes (
            id INTEGER PRIMARY KEY,
            dossier_id TEXT NOT NULL,
            old_status TEXT,
            new_status TEXT,
            changed_at TEXT NOT NULL,
            import_id INTEGER REFERENCES imports(id)
        );
        CREATE INDEX dossier_status_changes_by_dossier ON dossier_status_changes (dossier_id);
        """,
    )


def _m17_response_fingerprint(conn: sqlite3.Connection) -> None:
    # A content fingerprint of an imported survey, taken from its parsed and normalised values (not from
    # the file's cells): the same paper survey re-saved as XLSX, with its columns reordered or in another
    # encoding is recognised as already imported (sipas.survey.responses.survey_fingerprint).
    _script(
        conn,
        """
        ALTER TABLE responses ADD COLUMN fingerprint TEXT;
        CREATE INDEX responses_fingerprint ON responses (fingerprint) WHERE fingerprint IS NOT NULL;
        """,
    )


def _m18_qr_codes(conn: sqlite3.Connection) -> None:
    # Single-use QR codes for rating on one's own phone (sipas.survey.qr). Only the code's sha256 is kept,
    # so a copy of the database gives no usable code. ``used_token`` is the phone's own survey token: a
    # phone retrying after a lost answer is told "stored" again; anyone else is told the code was used.
    # ``dossier_id`` links by value (a card is printed at reception before the dossier is imported).
    # responses.dossier_id with its partial UNIQUE index: one dossier gives at most one rating.
    _script(
        conn,
        """
        CREATE TABLE qr_codes (
            code_hash TEXT PRIMARY KEY,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            source TEXT NOT NULL,
            issued_by TEXT,
            dossier_id TEXT,
            used_at TEXT,
            used_token TEXT
        );
        CREATE INDEX qr_codes_by_source ON qr_codes (source, used_at, issued_at);
        CREATE INDEX qr_codes_by_dossier ON qr_codes (dossier_id) WHERE dossier_id IS NOT NULL;
        ALTER TABLE responses ADD COLUMN dossier_id TEXT;
        CREATE UNIQUE INDEX responses_one_per_dossier ON responses (dossier_id) WHERE dossier_id IS NOT NULL;
        """,
    )


MIGRATIONS = [
    _m1_base,
    _m2_rollups,
    _m3_accounts_baseline,
    _m4_cases,
    _m5_waiting,
    _m6_dimension_rollups,
    _m7_comment_index,
    _m8_rollups_set_based,
    _m9_keep_questionnaire,
    _m10_kiosk_component,
    _m11_rollup_by_group,
    _m12_demographics_2024,
    _m13_extra_answers,
    _m14_enrolled_tablets,
    _m15_comment_labels,
    _m16_dossiers,
    _m17_response_fingerprint,
    _m18_qr_codes,
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
