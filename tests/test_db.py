"""The database layer: pragmas, migrations of older files, idempotent writes, the roll-up's exactness."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from conftest import always_open

from sipas import db, demo
from sipas.errors import DatabaseError


def _response(token: str, submitted_at: str = "2024-03-04 08:00:00", overall: int | None = 5, **extra) -> dict:
    return {
        "token": token,
        "submitted_at": submitted_at,
        "questionnaire": "sipas-2023",
        "channel": "kiosk",
        "overall": overall,
        **extra,
    }


def _assert_rollup_exact(conn, questionnaire="sipas-2023", date_from=None, date_to=None):
    assert db.level_counts(conn, questionnaire, date_from, date_to) == db.level_counts_direct(
        conn, questionnaire, date_from, date_to
    )


# --------------------------------------------------------------------------- pragmas


def test_connection_pragmas(conn, db_file):
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS
    assert db.schema_version(conn) == db.SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == db.APP_ID
    # A second, plain connection gets the same per-connection settings.
    with closing(db.connect(db_file)) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert other.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_foreign_key_to_staff_is_enforced(conn):
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.insert_response(conn, _response("t1", staff_code="NOBODY"), {"TC1.1": 4})
    assert db.count_responses(conn) == 0


# --------------------------------------------------------------------------- migrations


def _old_v1_database(path):
    """A file as version 1 of the product left it: no roll-up tables, rows written by plain SQL."""
    with closing(db.connect(path)) as c:
        assert db.migrate(c, target=1) == 1
        assert db.schema_version(c) == 1
        assert c.execute("SELECT count(*) FROM sqlite_master WHERE name = 'daily_counts'").fetchone()[0] == 0
        rows = [
            # id, token, submitted_at, questionnaire, overall, excluded
            (1, "a", "2024-03-04 08:00:00", "sipas-2023", 5, 0),
            (2, "b", "2024-03-04 15:30:00", "sipas-2023", 2, 0),
            (3, "c", "2024-03-05 09:00:00", "sipas-2023", None, 0),
            (4, "d", "2024-03-05 10:00:00", "sipas-2023", 1, 1),  # excluded by the clerk
            (5, "e", "2024-03-05 11:00:00", "sipas-2017", 4, 0),
        ]
        c.executemany(
            "INSERT INTO responses (id, token, submitted_at, questionnaire, channel, overall, excluded) "
            "VALUES (?, ?, ?, ?, 'paper', ?, ?)",
            rows,
        )
        c.executemany(
            "INSERT INTO answers (response_id, criterion, value) VALUES (?, ?, ?)",
            [
                (1, "TC1.1", 4),
                (1, "TC1.2", 2),
                (1, "TC3.1", None),
                (2, "TC1.1", 5),
                (2, "TC3.1", 5),
                (3, "TC1.1", 1),
                (4, "TC1.1", 1),
                (5, "TC2.5", 3),
            ],
        )
        c.commit()


def test_migration_from_version_1_keeps_every_row_and_backfills_the_rollup(tmp_path):
    path = tmp_path / "old.db"
    _old_v1_database(path)
    with closing(sqlite3.connect(path)) as raw:
        before = {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("responses", "answers")}
        columns = {t: [c[1] for c in raw.execute(f"PRAGMA table_info({t})")] for t in before}
    with closing(db.open_db(path)) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
        # Every column the old file had keeps its values (later migrations only add columns).
        after = {
            t: [tuple(r) for r in conn.execute(f"SELECT {', '.join(columns[t])} FROM {t} ORDER BY 1, 2")]
            for t in ("responses", "answers")
        }
        assert after == before
        assert len(after["responses"]) == 5 and len(after["answers"]) == 8
        # Hand count, sipas-2023, excluded response 4 left out, NULL = no opinion:
        expected = {
            "TC1.1": (1, 0, 0, 1, 1),  # 4, 5, 1
            "TC1.2": (0, 1, 0, 0, 0),  # 2
            "TC3.1": (0, 0, 0, 0, 1),  # no opinion, 5
            "overall": (0, 1, 0, 0, 1),  # 5, 2 (response 3 has none)
        }
        assert db.level_counts(conn, "sipas-2023") == expected
        assert db.level_counts_direct(conn, "sipas-2023") == expected
        assert (
            db.level_counts(conn, "sipas-2017")
            == db.level_counts_direct(conn, "sipas-2017")
            == {"TC2.5": (0, 0, 1, 0, 0), "overall": (0, 0, 0, 1, 0)}
        )
        _assert_rollup_exact(conn, "sipas-2023", "2024-03-05", "2024-03-05")
        assert db.responses_in_range(conn, "sipas-2023") == 3
        assert db.responses_in_range(conn, "sipas-2023", "2024-03-05", "2024-03-05") == 1
        assert db.asked_counts(conn, "sipas-2023") == {"TC1.1": 3, "TC1.2": 1, "TC3.1": 2, "overall": 2}
        # New writes after the migration keep the roll-up exact through the triggers.
        assert db.insert_response(conn, _response("new", "2024-03-05 14:00:00", 4), {"TC1.1": 3})
        _assert_rollup_exact(conn)


def test_migration_backfills_a_day_where_a_criterion_has_only_no_opinion(tmp_path):
    # sum() over only NULLs is NULL: the backfill must still write 0s (the columns are NOT NULL).
    path = tmp_path / "old-na.db"
    with closing(db.connect(path)) as c:
        db.migrate(c, target=1)
        c.execute(
            "INSERT INTO responses (id, token, submitted_at, questionnaire, channel, overall) "
            "VALUES (1, 'a', '2024-03-04 08:00:00', 'sipas-2023', 'kiosk', NULL)"
        )
        c.executemany("INSERT INTO answers VALUES (?, ?, ?)", [(1, "TC1.1", None), (1, "TC1.2", 4)])
    with closing(db.open_db(path)) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
        assert [tuple(r) for r in conn.execute("SELECT * FROM daily_counts ORDER BY criterion")] == [
            ("2024-03-04", "sipas-2023", "TC1.1", 0, 0, 0, 0, 0, 1),
            ("2024-03-04", "sipas-2023", "TC1.2", 0, 0, 0, 1, 0, 0),
        ]
        assert conn.execute("SELECT typeof(n1) FROM daily_counts").fetchone()[0] == "integer"
        _assert_rollup_exact(conn)


def test_a_file_replaced_at_the_same_path_is_migrated_again(tmp_path):
    # A restored backup or a deleted database under a running app: the process has opened this
    # path before, and must still migrate what it finds there now.
    path = tmp_path / "replaced.db"
    db.open_db(path).close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with closing(db.open_db(path)) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
        assert db.count_responses(conn) == 0
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    _old_v1_database(path)
    with closing(db.open_db(path)) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
        assert db.responses_in_range(conn, "sipas-2023") == 3


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "newer.db"
    with closing(db.connect(path)) as c:
        db.migrate(c)
        c.execute(f"PRAGMA user_version={db.SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError) as err:
        db.open_db(path)
    assert str(err.value) == (
        f"Cơ sở dữ liệu có phiên bản cấu trúc {db.SCHEMA_VERSION + 1}, mới hơn phần mềm này "
        f"({db.SCHEMA_VERSION}). Hãy cập nhật phần mềm."
    )
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION + 1


def test_another_programs_sqlite_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("CREATE TABLE contacts (name TEXT)")
        raw.execute("INSERT INTO contacts VALUES ('x')")
        raw.commit()
    with pytest.raises(DatabaseError) as err:
        db.open_db(path)
    assert str(err.value) == "Tệp này là một cơ sở dữ liệu SQLite khác, không phải của phần mềm khảo sát."
    with closing(sqlite3.connect(path)) as raw:
        assert [r[0] for r in raw.execute("SELECT name FROM sqlite_master")] == ["contacts"]
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 0


def test_a_file_with_another_application_id_is_refused(tmp_path):
    path = tmp_path / "foreign.db"
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("PRAGMA application_id=1234")
    with pytest.raises(DatabaseError) as err:
        db.open_db(path)
    assert str(err.value) == "Tệp này không phải cơ sở dữ liệu của phần mềm khảo sát."


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is a text file, not a database" * 100)
    with pytest.raises(DatabaseError) as err:
        db.open_db(path)
    assert str(err.value) == f"Tệp {path} không phải là cơ sở dữ liệu SQLite."
    assert path.read_bytes() == b"this is a text file, not a database" * 100


# --------------------------------------------------------------------------- writes


def test_token_makes_a_write_idempotent(conn):
    assert db.insert_response(conn, _response("tap-1"), {"TC1.1": 4, "TC1.2": None}) is True
    assert db.insert_response(conn, _response("tap-1", overall=1), {"TC1.1": 1}) is False
    assert db.count_responses(conn) == 1
    stored = db.response_by_token(conn, "tap-1")
    assert stored["overall"] == 5
    assert stored["answers"] == {"TC1.1": 4, "TC1.2": None}
    assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 2
    assert db.level_counts(conn, "sipas-2023") == {
        "TC1.1": (0, 0, 0, 1, 0),
        "TC1.2": (0, 0, 0, 0, 0),
        "overall": (0, 0, 0, 0, 1),
    }
    _assert_rollup_exact(conn)


def test_insert_responses_counts_added_and_present(conn):
    rows = [(_response(f"r{i}"), {"TC1.1": 4}) for i in range(3)]
    with db.transaction(conn):
        assert db.insert_responses(conn, rows) == (3, 0)
    with db.transaction(conn):
        assert db.insert_responses(conn, rows + [(_response("r9"), {"TC1.1": 2})]) == (1, 3)
    assert db.count_responses(conn) == 4


def test_transaction_rolls_back_on_error(conn):
    with pytest.raises(RuntimeError), db.transaction(conn):
        db._insert_one(conn, _response("x"), {"TC1.1": 4})
        raise RuntimeError("boom")
    assert db.count_responses(conn) == 0
    assert conn.execute("SELECT count(*) FROM daily_counts").fetchone()[0] == 0


def _fill(conn):
    db.insert_response(conn, _response("a", "2024-03-04 08:00:00", 5), {"TC1.1": 4, "TC1.2": 2, "TC3.1": None})
    db.insert_response(conn, _response("b", "2024-03-04 15:30:00", 2), {"TC1.1": 5, "TC3.1": 5})
    db.insert_response(conn, _response("c", "2024-03-05 09:00:00", None), {"TC1.1": 1})


def test_exclusion_and_restore_keep_the_rollup_exact(conn):
    _fill(conn)
    before = db.level_counts(conn, "sipas-2023")
    assert before == {
        "TC1.1": (1, 0, 0, 1, 1),
        "TC1.2": (0, 1, 0, 0, 0),
        "TC3.1": (0, 0, 0, 0, 1),
        "overall": (0, 1, 0, 0, 1),
    }
    rid = conn.execute("SELECT id FROM responses WHERE token = 'b'").fetchone()[0]

    db.set_excluded(conn, rid, True, "phiếu thử", "clerk")
    # TC3.1 keeps response a's "Không ý kiến": asked, no level counted.
    assert db.level_counts(conn, "sipas-2023") == {
        "TC1.1": (1, 0, 0, 1, 0),
        "TC1.2": (0, 1, 0, 0, 0),
        "TC3.1": (0, 0, 0, 0, 0),
        "overall": (0, 0, 0, 0, 1),
    }
    _assert_rollup_exact(conn)
    _assert_rollup_exact(conn, "sipas-2023", "2024-03-04", "2024-03-04")
    assert db.responses_in_range(conn, "sipas-2023") == 2
    # Excluding again changes nothing (the trigger fires only on a change).
    db.set_excluded(conn, rid, True, "lần hai", "clerk")
    _assert_rollup_exact(conn)
    assert db.responses_in_range(conn, "sipas-2023") == 2

    db.set_excluded(conn, rid, False, None, "clerk")
    assert db.level_counts(conn, "sipas-2023") == before
    _assert_rollup_exact(conn)
    assert db.responses_in_range(conn, "sipas-2023") == 3
    log = [(e["action"], e["entity"], e["old_value"], e["new_value"]) for e in db.audit_entries(conn)]
    assert log[:3] == [
        ("include", f"response:{rid}", "1", "0"),
        ("exclude", f"response:{rid}", "1", "1"),
        ("exclude", f"response:{rid}", "0", "1"),
    ]


def test_excluding_an_unknown_response_raises_keyerror(conn):
    with pytest.raises(KeyError):
        db.set_excluded(conn, 999, True, None, "clerk")


def test_delete_demo_data_removes_demo_rows_and_the_rollup_follows(conn):
    _fill(conn)
    real_counts = db.level_counts(conn, "sipas-2023")
    assert demo.generate(conn, 300, seed=7, end=__import__("datetime").date(2024, 3, 29)) == 300
    assert db.count_responses(conn, demo=True) == 300
    _assert_rollup_exact(conn)
    assert db.delete_demo_data(conn, "vanphong") == 300
    assert db.count_responses(conn, demo=True) == 0
    assert db.count_responses(conn) == 3
    assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 6
    assert conn.execute("SELECT count(*) FROM staff WHERE is_demo = 1").fetchone()[0] == 0
    assert db.level_counts(conn, "sipas-2023") == real_counts
    _assert_rollup_exact(conn)
    assert db.responses_in_range(conn, "sipas-2023") == 3


def test_responses_and_answers_are_immutable(conn):
    _fill(conn)
    with pytest.raises(sqlite3.IntegrityError, match="responses are immutable"):
        conn.execute("UPDATE responses SET overall = 1 WHERE token = 'a'")
    with pytest.raises(sqlite3.IntegrityError, match="responses are immutable"):
        conn.execute("UPDATE responses SET submitted_at = '2020-01-01 00:00:00' WHERE token = 'a'")
    with pytest.raises(sqlite3.IntegrityError, match="answers are immutable"):
        conn.execute("UPDATE answers SET value = 1")
    assert db.response_by_token(conn, "a")["overall"] == 5
    assert db.response_by_token(conn, "a")["submitted_at"] == "2024-03-04 08:00:00"
    _assert_rollup_exact(conn)


def test_bulk_insert_gives_the_same_rollup_as_the_triggers(conn, tmp_path):
    _fill(conn)
    rows = [
        (
            _response(
                f"bulk{i}",
                f"2024-03-0{4 + i % 3} 1{i % 10}:00:00",
                overall=None if i % 7 == 0 else 1 + i % 5,
                is_demo=1,
                channel=("kiosk", "qr", "paper")[i % 3],
                field=(None, "Hộ tịch", "Đất đai")[i % 3],
                staff_code=None if i % 2 else "CB01",
            ),
            {"TC1.1": 1 + (i * 7) % 5, "TC2.3": None if i % 4 == 0 else 1 + i % 5},
        )
        for i in range(60)
    ]
    rows.append((_response("a"), {"TC1.1": 1}))  # already stored: skipped
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1").fetchall()
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Thị Hồng"})
        assert db.insert_responses_bulk(conn, rows) == (60, 1)
    assert conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1").fetchall() == triggers
    # The same rows through the per-row triggers, in a second database: every table (every roll-up,
    # including ones added after this test was written) must come out the same.
    always_open(tmp_path / "triggers.db")  # set up as the conn fixture's database is
    with closing(db.open_db(tmp_path / "triggers.db")) as other:
        _fill(other)
        with db.transaction(other):
            db.upsert_staff(other, {"code": "CB01", "full_name": "Nguyễn Thị Hồng"})
            assert db.insert_responses(other, rows) == (60, 1)
        assert _without_clock(conn) == _without_clock(other)
    _assert_rollup_exact(conn)
    assert db.response_by_token(conn, "a")["answers"] == {"TC1.1": 4, "TC1.2": 2, "TC3.1": None}


def _without_clock(conn) -> dict:
    """Every table's rows, less the columns that hold the wall-clock time of the write."""
    out = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        cols = [
            r[1]
            for r in conn.execute(f'PRAGMA table_info("{table}")')
            if r[1] not in ("created_at", "at", "changed_at", "imported_at", "updated_at")
        ]
        out[table] = [
            tuple(r)
            for r in conn.execute(
                f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY {", ".join(str(i + 1) for i in range(len(cols)))}'
            )
        ]
    return out


def test_bulk_insert_rolls_back_whole(conn):
    before = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError), db.transaction(conn):
        db.insert_responses_bulk(
            conn, [(_response("x1"), {"TC1.1": 4}), (_response("x2", staff_code="NOBODY"), {"TC1.1": 4})]
        )
    assert db.count_responses(conn) == 0
    assert conn.execute("SELECT count(*) FROM daily_counts").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == before
    with pytest.raises(RuntimeError):
        db.insert_responses_bulk(conn, [])  # outside a transaction


# --------------------------------------------------------------------------- concurrency


def test_twenty_threads_each_with_its_own_connection(db_file):
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def writer(t: int) -> None:
        try:
            with closing(db.connect(db_file)) as c:
                start.wait()
                for i in range(50):
                    assert db.insert_response(c, _response(f"t{t}-{i}", overall=1 + (i % 5)), {"TC1.1": 1 + (t % 5)})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with closing(db.open_db(db_file)) as c:
        assert db.count_responses(c) == 1000
        assert c.execute("SELECT count(DISTINCT token) FROM responses").fetchone()[0] == 1000
        assert c.execute("SELECT count(*) FROM answers").fetchone()[0] == 1000
        assert db.responses_in_range(c, "sipas-2023") == 1000
        # Each of 20 threads answered TC1.1 with 1 + t % 5: four threads per level, 200 answers each.
        assert db.level_counts(c, "sipas-2023")["TC1.1"] == (200, 200, 200, 200, 200)
        assert db.level_counts(c, "sipas-2023")["overall"] == (200, 200, 200, 200, 200)
        _assert_rollup_exact(c)


def test_simultaneous_writers_get_their_own_results(db_file):
    # Surveys written together in one transaction (group commit) still succeed or fail one by one.
    outcomes: dict[int, object] = {}
    start = threading.Barrier(12)

    def writer(t: int) -> None:
        with closing(db.connect(db_file)) as c:
            start.wait()
            token = "same" if t < 4 else f"w{t}"  # four double taps of one survey
            staff = "NOBODY" if t == 11 else None  # breaks a foreign key
            try:
                outcomes[t] = db.insert_response(c, _response(token, staff_code=staff), {"TC1.1": 4})
            except sqlite3.IntegrityError as exc:
                outcomes[t] = str(exc)

    for _ in range(5):
        outcomes.clear()
        with closing(db.open_db(db_file)) as c:
            c.execute("DELETE FROM responses")
        threads = [threading.Thread(target=writer, args=(t,)) for t in range(12)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(outcomes[t] for t in range(4)) == [False, False, False, True]
        assert all(outcomes[t] is True for t in range(4, 11))
        assert outcomes[11] == "FOREIGN KEY constraint failed"
        with closing(db.open_db(db_file)) as c:
            assert db.count_responses(c) == 8
            _assert_rollup_exact(c)
            assert db.level_counts(c, "sipas-2023")["TC1.1"] == (0, 0, 0, 8, 0)


def test_a_nested_write_fails_instead_of_waiting_for_itself(conn):
    with db.transaction(conn):
        db._insert_one(conn, _response("outer"), {"TC1.1": 4})
        with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
            db.insert_response(conn, _response("inner"), {"TC1.1": 4})
        with pytest.raises(sqlite3.OperationalError, match="within a transaction"), db.transaction(conn):
            pass
    assert [r[0] for r in conn.execute("SELECT token FROM responses")] == ["outer"]
    assert db.insert_response(conn, _response("after"), {"TC1.1": 4})  # the write queue was released
