"""Backups, restores, signatures and the database check (sipas.admin.backup, restore, signing, check).

A refused restore must leave the live database exactly as it was: every such test compares the
sha256 of the file (after a checkpoint, so that the file holds everything) and every table's rows.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import conftest
import pytest
from conftest import table_snapshot
from streamlit.testing.v1 import AppTest

import backup_route
from sipas import db, demo
from sipas.admin import auth, backup, check, restore, settings, signing
from sipas.errors import DatabaseError, ValidationError
from sipas.paths import ROOT

PAGE = str(ROOT / "app_pages" / "backup.py")


# ------------------------------------------------------------------------------ helpers


def add_response(
    conn,
    token: str,
    submitted_at: str = "2024-03-04 08:00:00",
    overall: int | None = 5,
    answers: dict | None = None,
    **extra,
) -> None:
    row = {
        "token": token,
        "submitted_at": submitted_at,
        "questionnaire": "sipas-2023",
        "channel": "kiosk",
        "overall": overall,
        **extra,
    }
    assert db.insert_response(conn, row, {"TC1.1": 4, "TC1.2": None} if answers is None else answers)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def settle(conn) -> tuple[str, dict]:
    """Checkpoint the WAL into the main file; return (sha256 of the file, every table's rows)."""
    db.checkpoint(conn)
    return sha256(Path(conn.execute("PRAGMA database_list").fetchone()[2])), table_snapshot(conn)


def snapshot_of(path: Path, leave_out: tuple[str, ...] = ()) -> dict:
    with closing(sqlite3.connect(path)) as c:
        return {k: v for k, v in table_snapshot(c).items() if k not in leave_out}


def responses_in(path: Path) -> int:
    with closing(sqlite3.connect(path)) as c:
        return c.execute("SELECT count(*) FROM responses").fetchone()[0]


def corrupt_middle_page(path: Path) -> None:
    """Overwrite a whole page in the middle of the file (every page of a fresh file is in use).

    The page is the first from the middle on that holds rows of a table (not the schema): where the
    schema's own pages fall moves with every migration, and a damaged schema is another case.
    """
    with closing(sqlite3.connect(path)) as c:
        schema = {r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'")}
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    number = len(data) // page // 2 + 1
    while number in schema:
        number += 1
    middle = (number - 1) * page
    data[middle : middle + page] = b"\xa5" * page
    path.write_bytes(bytes(data))


def run_cli(*args: str, env_db: Path | None = None):
    """The command in this process (``cli.main``), SIPAS_DB unset unless ``env_db`` is given."""
    return conftest.run_cli(*args, env_db=env_db)


@pytest.fixture
def filled(conn):
    """Three responses on two days, one staff member."""
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Văn A"})
    add_response(conn, "a", "2024-03-04 08:00:00", 5, {"TC1.1": 5, "TC1.2": 4}, staff_code="CB01")
    add_response(conn, "b", "2024-03-04 15:30:00", 2, {"TC1.1": 2, "TC2.1": None})
    add_response(conn, "c", "2024-03-05 09:00:00", None, {"TC3.1": 3})
    return conn


@pytest.fixture
def good_backup(filled, db_file, tmp_path) -> Path:
    return backup.backup_to(db_file, tmp_path / "good.db")


# ------------------------------------------------------------------------------ backup


def test_backup_is_a_standalone_sound_copy(filled, db_file, tmp_path):
    out = backup.backup_to(db_file, tmp_path / "copies" / "b.db")
    assert out == tmp_path / "copies" / "b.db"
    head = out.read_bytes()[:100]
    assert head.startswith(b"SQLite format 3\x00")
    assert head[18:20] == b"\x01\x01"  # rollback journal, not WAL: one file says it all
    assert sorted(p.name for p in out.parent.iterdir()) == ["b.db"]  # no -wal, no temporary file left
    assert snapshot_of(out) == table_snapshot(filled)
    assert check.check_database(out) == []
    assert out.read_bytes()[:100][18:20] == b"\x01\x01"  # checking a current file does not convert it


def test_backup_ignores_an_open_write_transaction_and_readers(filled, db_file, tmp_path):
    writer, reader = db.connect(db_file), db.connect(db_file)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM responses").fetchone()[0] == 3  # holds a snapshot
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO responses (token, submitted_at, questionnaire, channel, overall) "
            "VALUES ('uncommitted', '2024-03-06 08:00:00', 'sipas-2023', 'kiosk', 4)"
        )
        writer.execute("INSERT INTO answers VALUES (last_insert_rowid(), 'TC1.1', 4)")
        done = []
        t = threading.Thread(target=lambda: done.append(backup.backup_to(db_file, tmp_path / "b.db")))
        t.start()
        t.join(timeout=20)
        assert done == [tmp_path / "b.db"]  # neither the writer nor the reader blocked the backup
        writer.execute("COMMIT")
        reader.execute("COMMIT")
    finally:
        writer.close()
        reader.close()
    assert responses_in(tmp_path / "b.db") == 3  # committed data only
    assert check.check_database(tmp_path / "b.db") == []
    assert db.count_responses(filled) == 4


def test_backups_taken_while_tablets_keep_writing_are_each_consistent(conn, db_file, tmp_path):
    stop = threading.Event()
    written = []

    def tablet():
        with closing(db.connect(db_file)) as c:
            i = 0
            while not stop.is_set() and i < 400:
                add_response(
                    c,
                    f"t{i}",
                    f"2024-03-{4 + i % 20:02d} 09:00:00",
                    1 + i % 5,
                    {"TC1.1": 1 + i % 5, "TC2.1": None, "TC3.1": 5},
                )
                written.append(i)
                i += 1

    t = threading.Thread(target=tablet)
    t.start()
    try:
        counts = []
        for k in range(6):
            seen = len(written)
            for _ in range(2000):  # let the tablet store at least one more survey first
                if len(written) > seen or not t.is_alive():
                    break
                threading.Event().wait(0.005)
            out = backup.backup_to(db_file, tmp_path / f"b{k}.db")
            counts.append(responses_in(out))
            assert check.check_database(out) == [], k  # roll-ups match raw rows in every snapshot
    finally:
        stop.set()
        t.join(timeout=60)
    assert counts == sorted(set(counts))  # each snapshot saw more surveys than the one before
    assert counts[-1] <= len(written)
    assert check.check_database(db_file) == []


def test_backup_refuses_a_missing_database_and_bad_targets(db_file, tmp_path):
    with pytest.raises(ValidationError) as exc:
        backup.backup_to(tmp_path / "none.db", tmp_path / "b.db")
    assert exc.value.problems == [f"Không tìm thấy cơ sở dữ liệu {tmp_path / 'none.db'}."]
    with pytest.raises(ValidationError) as exc:
        backup.backup_to(db_file, db_file)
    assert exc.value.problems == ["Tệp sao lưu không được trùng với cơ sở dữ liệu đang dùng."]
    with pytest.raises(ValidationError) as exc:
        backup.backup_to(db_file, tmp_path)
    assert exc.value.problems == [
        f"{tmp_path} là một thư mục; cần đường dẫn tới tệp sao lưu, ví dụ {tmp_path / 'sipas.db'}."
    ]
    assert not (tmp_path / "b.db").exists()


def test_backup_of_a_damaged_database_is_not_kept(filled, db_file, tmp_path):
    for i in range(300):  # enough pages that the middle one holds rows
        add_response(filled, f"x{i}", comment="góp ý " * 20)
    db.checkpoint(filled)
    corrupt_middle_page(db_file)
    with pytest.raises(DatabaseError, match="không qua được kiểm tra toàn vẹn"):
        backup.backup_to(db_file, tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".b.db")] == []


def test_backup_bytes_is_the_same_database(filled, db_file):
    data = backup.backup_bytes(db_file)
    assert data[:16] == b"SQLite format 3\x00"
    assert data[18:20] == b"\x01\x01"
    copy = db_file.parent / "downloaded.db"
    copy.write_bytes(data)
    assert snapshot_of(copy) == table_snapshot(filled)


# ------------------------------------------------------------------------------ automatic backups


def test_auto_backup_makes_one_per_day_and_keeps_n(filled, db_file, tmp_path):
    folder = tmp_path / "auto"
    folder.mkdir()
    (folder / "before-restore-20240101-080000.db").write_bytes(b"kept")
    (folder / "notes.txt").write_text("kept")
    made = []
    for day in range(1, 6):
        first = backup.auto_backup_if_due(db_file, folder, 3, datetime(2027, 3, day, 7, 30))
        assert first == folder / f"sipas-2027-03-{day:02d}.db"
        assert backup.auto_backup_if_due(db_file, folder, 3, datetime(2027, 3, day, 16, 0)) is None
        made.append(first)
    assert sorted(p.name for p in folder.iterdir()) == [
        "before-restore-20240101-080000.db",
        "notes.txt",
        "sipas-2027-03-03.db",
        "sipas-2027-03-04.db",
        "sipas-2027-03-05.db",
    ]
    assert check.check_database(made[-1]) == []
    assert responses_in(made[-1]) == 3
    assert [(b.name, b.kind) for b in sorted(backup.list_backups(folder), key=lambda b: b.name)] == [
        ("before-restore-20240101-080000.db", "before-restore"),
        ("sipas-2027-03-03.db", "auto"),
        ("sipas-2027-03-04.db", "auto"),
        ("sipas-2027-03-05.db", "auto"),
    ]


def test_auto_backup_uses_the_commune_day(db_file, tmp_path):
    # 18:30 UTC on 4 March is 01:30 on 5 March in Vietnam (UTC+7).
    out = backup.auto_backup_if_due(db_file, tmp_path, 30, datetime(2027, 3, 4, 18, 30, tzinfo=UTC))
    assert out == tmp_path / "sipas-2027-03-05.db"


def test_auto_backup_without_a_database_or_with_a_bad_keep(tmp_path):
    assert backup.auto_backup_if_due(tmp_path / "none.db", tmp_path / "auto", 30, datetime(2024, 3, 4)) is None
    assert not (tmp_path / "auto").exists()
    with pytest.raises(ValidationError) as exc:
        backup.auto_backup_if_due(tmp_path / "none.db", tmp_path / "auto", 0, datetime(2024, 3, 4))
    assert exc.value.problems == ["Số bản sao lưu tự động cần giữ phải là số nguyên ≥ 1."]


def test_backup_settings(conn, db_file):
    # By default the backups go beside the database file (data/backups for data/sipas.db).
    assert settings.get(conn, "backup_dir") == ""
    assert settings.get(conn, "backup_keep") == 30
    assert backup.configured_backup_dir(conn) == db_file.parent / "backups"
    assert backup.resolve_backup_dir("/srv/sipas-backups") == Path("/srv/sipas-backups")
    assert settings.put(conn, "backup_keep", 7, "test") == 7
    assert settings.put(conn, "backup_dir", "  /srv/bk ", "test") == "/srv/bk"
    assert backup.configured_backup_dir(conn) == Path("/srv/bk")
    for key, value, message in [
        ("backup_keep", 0, "Số bản sao lưu tự động cần giữ phải là số nguyên từ 7 đến 3650."),
        ("backup_keep", "30", "Số bản sao lưu tự động cần giữ phải là số nguyên từ 7 đến 3650."),
        ("backup_keep", True, "Số bản sao lưu tự động cần giữ phải là số nguyên từ 7 đến 3650."),
        ("backup_dir", "x" * 501, "Thư mục sao lưu không hợp lệ (tối đa 500 ký tự)."),
    ]:
        with pytest.raises(ValidationError) as exc:
            settings.put(conn, key, value, "test")
        assert exc.value.problems == [message]
    assert settings.get(conn, "backup_keep") == 7


# ------------------------------------------------------------------------------ restore


def test_restore_round_trip_keeps_the_replaced_database(filled, db_file, good_backup, tmp_path):
    at_backup = snapshot_of(good_backup, leave_out=("audit_log",))
    # A paper survey entered after the backup is not carried (a restore may be meant to undo it):
    # it is named, with where it still is.
    add_response(filled, "later", "2024-03-06 10:00:00", 1, channel="paper")
    db.upsert_staff(filled, {"code": "CB02", "full_name": "Trần Thị B"})
    folder = tmp_path / "kept"

    result = restore.restore(
        db_file, good_backup, backup_dir=folder, now=datetime(2024, 3, 7, 9, 15, 0), actor="clerk1"
    )

    previous = folder / "before-restore-20240307-091500.db"
    assert result.previous == previous and not result.previous_is_raw_copy
    assert (result.carried, result.left_surveys, result.left_audit) == (0, 1, 0)
    assert result.message() == (
        f"Đã khôi phục từ good.db: 3 phiếu. Cơ sở dữ liệu trước đó được giữ tại {previous}. "
        "Chú ý: 1 phiếu ghi nhận sau thời điểm sao lưu không có trong dữ liệu khôi phục; "
        "chúng vẫn nằm trong bản before-restore-20240307-091500.db. Hãy nhập lại các tệp phiếu đó "
        "(phiếu đã có không bị nhập đôi), hoặc khôi phục lại bản đó nếu cần toàn bộ."
    )
    # The connection that stayed open all along sees the restored data.
    assert {k: v for k, v in table_snapshot(filled).items() if k != "audit_log"} == at_backup
    last = db.audit_entries(filled, 1)[0]
    assert (last["actor"], last["action"], last["new_value"]) == ("clerk1", "restore", "good.db")
    assert db.count_responses(filled) == 3
    # The replaced database, with the later response, is a sound backup of its own.
    assert responses_in(previous) == 4
    assert check.check_database(previous) == []
    assert filled.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert check.check_database(db_file) == []
    # Restoring twice in one second does not overwrite the first kept copy.
    again = restore.restore(db_file, good_backup, backup_dir=folder, now=datetime(2024, 3, 7, 9, 15, 0))
    assert again.previous == folder / "before-restore-20240307-091500-2.db"


def test_restore_from_uploaded_bytes(filled, db_file, good_backup, tmp_path):
    data = good_backup.read_bytes()
    add_response(filled, "later", "2024-03-06 10:00:00", 1)  # a tablet survey thanked after the backup
    result = restore.restore(db_file, data, name="sipas-backup-2024-03-07-0915.db", backup_dir=tmp_path / "k")
    assert result.source == "sipas-backup-2024-03-07-0915.db"
    # Carried into the restored database, with its answers and in the roll-ups.
    assert (result.carried, result.left_surveys) == (1, 0)
    assert db.count_responses(filled) == 4
    assert db.response_by_token(filled, "later")["overall"] == 1
    assert check.check_database(db_file) == []
    assert good_backup.read_bytes() == data  # the source file itself is never opened by SQLite


def test_a_survey_left_out_before_a_restore_stays_left_out_after_it(filled, db_file, good_backup, tmp_path):
    """A tablet survey received after the backup and left out as suspect (or by a clerk) is carried across the
    restore left out, with its reason: it must not come back into the figures."""
    add_response(filled, "nghi-van", "2024-03-06 10:00:00", 1)
    add_response(filled, "binh-thuong", "2024-03-06 10:05:00", 4)
    rid = db.response_by_token(filled, "nghi-van")["id"]
    db.set_excluded(filled, rid, True, "Nghi vấn lạm dụng: quá nhanh", "clerk1")
    result = restore.restore(db_file, good_backup, backup_dir=tmp_path / "k", now=datetime(2024, 3, 7, 9, 15, 0))
    assert (result.carried, result.left_surveys) == (2, 0)
    carried = db.response_by_token(filled, "nghi-van")
    assert (carried["excluded"], carried["exclude_reason"]) == (1, "Nghi vấn lạm dụng: quá nhanh")
    assert db.response_by_token(filled, "binh-thuong")["excluded"] == 0
    assert db.count_responses(filled) == 5
    assert filled.execute("SELECT count(*) FROM responses WHERE excluded = 0").fetchone()[0] == 4
    assert check.check_database(db_file) == []  # the roll-ups agree with the rows


def _text_file(tmp_path, good):
    p = tmp_path / "ghi-chu.db"
    p.write_text("Đây là một tệp văn bản.\n" * 20, encoding="utf-8")
    return p, restore.msg_not_sqlite("ghi-chu.db")


def _empty_file(tmp_path, good):
    p = tmp_path / "rong.db"
    p.write_bytes(b"")
    return p, restore.msg_not_sqlite("rong.db")


def _other_sqlite(tmp_path, good):
    p = tmp_path / "khac.db"
    with closing(sqlite3.connect(p)) as c:
        c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        c.execute("INSERT INTO customers (name) VALUES ('x')")
        c.commit()
    return p, restore.msg_foreign("khac.db")


def _empty_sqlite(tmp_path, good):
    p = tmp_path / "moi.db"
    with closing(sqlite3.connect(p)) as c:
        c.execute("PRAGMA user_version = 0")
        c.execute("CREATE TABLE t (x)")
        c.execute("DROP TABLE t")
        c.commit()
    return p, restore.msg_foreign("moi.db")


def _corrupted(tmp_path, good):
    p = tmp_path / "hong.db"
    with closing(db.connect(good)) as c:  # a copy with enough pages
        for i in range(300):
            add_response(c, f"x{i}", comment="góp ý " * 20)
        db.set_journal_mode(c, "delete")
    p.write_bytes(good.read_bytes())
    corrupt_middle_page(p)
    return p, restore.msg_corrupt("hong.db")


def _newer(tmp_path, good):
    p = tmp_path / "moi-hon.db"
    p.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(p)) as c:
        c.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION + 1}")
    return p, restore.msg_newer("moi-hon.db", db.SCHEMA_VERSION + 1)


def _missing(tmp_path, good):
    p = tmp_path / "khong-co.db"
    return p, restore.msg_not_found(p)


def _not_migratable(tmp_path, good):
    p = tmp_path / "v1.db"
    _version1_backup(p)
    with closing(sqlite3.connect(p)) as c:
        c.execute("CREATE TABLE daily_counts (x)")  # what version 2 is about to create
        c.commit()
    # An object the product's version 1 never had: refused before any migration is tried.
    return p, restore.msg_schema("v1.db", 1, ["thừa bảng daily_counts"])


def _open_with_wal(tmp_path, good):
    p = tmp_path / "dang-mo.db"
    p.write_bytes(good.read_bytes())
    Path(f"{p}-wal").write_bytes(b"\0" * 32)
    return p, restore.msg_open_wal("dang-mo.db")


@pytest.mark.parametrize(
    "make",
    [
        _text_file,
        _empty_file,
        _other_sqlite,
        _empty_sqlite,
        _corrupted,
        _newer,
        _missing,
        _not_migratable,
        _open_with_wal,
    ],
)
def test_refused_restore_leaves_the_database_bit_for_bit_unchanged(make, filled, db_file, good_backup, tmp_path):
    bad, message = make(tmp_path, good_backup)
    add_response(filled, "after-backup", "2024-03-06 10:00:00", 4)
    digest, rows = settle(filled)
    folder = tmp_path / "kept"

    with pytest.raises(ValidationError) as exc:
        # Even when the administrator accepts a file of another installation, these are refused.
        restore.restore(db_file, bad, backup_dir=folder, accept_foreign=True)

    assert exc.value.problems == [message]
    assert sha256(db_file) == digest
    assert table_snapshot(filled) == rows
    assert not folder.exists()  # nothing was kept because nothing was replaced


def test_fixed_messages_read_as_intended():
    assert restore.msg_not_sqlite("a.db") == (
        "Tệp a.db không phải là cơ sở dữ liệu SQLite. Hãy chọn một tệp sao lưu .db của phần mềm."
    )
    assert restore.msg_foreign("a.db") == "Tệp a.db là cơ sở dữ liệu SQLite nhưng không phải của phần mềm khảo sát này."
    assert restore.msg_corrupt("a.db") == (
        "Tệp a.db bị hỏng (không qua được kiểm tra toàn vẹn của SQLite). Hãy chọn một bản sao lưu khác."
    )
    assert restore.msg_newer("a.db", 9) == (
        f"Tệp a.db có phiên bản cấu trúc 9, mới hơn phần mềm này "
        f"({db.SCHEMA_VERSION}). Hãy cập nhật phần mềm trước khi khôi phục."
    )


V1_RESPONSES = [  # id, token, submitted_at, overall, excluded
    (1, "a", "2024-03-04 08:00:00", 5, 0),
    (2, "b", "2024-03-04 15:30:00", 2, 0),
    (3, "c", "2024-03-05 09:00:00", None, 0),
    (4, "d", "2024-03-05 10:00:00", 1, 1),
    (5, "e", "2024-03-05 11:00:00", 4, 0),
]
V1_ANSWERS = [(1, "TC1.1", 5), (1, "TC1.2", 4), (2, "TC1.1", 2), (3, "TC1.1", None), (4, "TC1.1", 1), (5, "TC1.1", 3)]


def _version1_backup(path: Path, answers=V1_ANSWERS) -> None:
    """A backup as version 1 of the product wrote it (db.migrate(target=1)): no roll-up tables, rows
    written by plain SQL, rollback journal."""
    with closing(db.connect(path)) as c:
        assert db.migrate(c, target=1) == 1
        c.executemany(
            "INSERT INTO responses (id, token, submitted_at, questionnaire, channel, overall, excluded) "
            "VALUES (?, ?, ?, 'sipas-2023', 'paper', ?, ?)",
            V1_RESPONSES,
        )
        c.executemany("INSERT INTO answers VALUES (?, ?, ?)", answers)
        db.set_journal_mode(c, "delete")


def test_restore_of_an_older_schema_migrates_it(filled, db_file, tmp_path):
    old = tmp_path / "v1.db"
    _version1_backup(old)
    before = old.read_bytes()
    result = restore.restore(db_file, old, backup_dir=tmp_path / "kept", accept_foreign=True)
    assert (result.schema_from, result.schema_to, result.responses) == (1, db.SCHEMA_VERSION, 5)
    assert "đã nâng cấp cấu trúc từ phiên bản 1 lên" in result.message()
    assert old.read_bytes() == before  # the backup file itself stays as it was
    assert db.schema_version(filled) == db.SCHEMA_VERSION
    assert filled.execute("PRAGMA application_id").fetchone()[0] == db.APP_ID
    # The roll-up was rebuilt from the rows, hand-counted: TC1.1 answers 5, 2, 3 and one "Không ý
    # kiến" (response d is excluded); overall 5, 2, 4 (c has none, d is excluded).
    assert db.level_counts(filled, "sipas-2023")["TC1.1"] == (0, 1, 1, 0, 1)
    assert db.level_counts(filled, "sipas-2023")["overall"] == (0, 1, 0, 1, 1)
    assert (
        filled.execute("SELECT n_na FROM daily_counts WHERE day = '2024-03-05' AND criterion = 'TC1.1'").fetchone()[0]
        == 1
    )
    assert check.check_database(db_file) == []


def test_restore_of_an_older_schema_where_a_day_has_only_no_opinion_answers(filled, db_file, tmp_path):
    # The backfill once summed NULLs into NULL here and the file could not be migrated.
    old = tmp_path / "v1.db"
    _version1_backup(old, answers=[(1, "TC1.1", 5), (3, "TC1.2", None)])  # TC1.2 on 5 March: only NULL
    result = restore.restore(db_file, old, backup_dir=tmp_path / "kept", accept_foreign=True)
    assert result.responses == 5
    assert filled.execute(
        "SELECT n1, n2, n3, n4, n5, n_na FROM daily_counts WHERE day = '2024-03-05' AND criterion = 'TC1.2'"
    ).fetchone()[:] == (0, 0, 0, 0, 0, 1)
    assert check.check_database(db_file) == []


def test_restore_of_a_file_with_another_page_size(filled, db_file, tmp_path):
    small = tmp_path / "p1024.db"
    with closing(sqlite3.connect(small)) as c:
        c.execute("PRAGMA page_size = 1024")
        c.execute("VACUUM")
    with closing(db.connect(small)) as c:
        db.migrate(c)
        add_response(c, "only")
        db.set_journal_mode(c, "delete")
    assert db.page_size(filled) == 4096
    result = restore.restore(db_file, small, backup_dir=tmp_path / "kept", accept_foreign=True)
    assert result.responses == 1
    assert db.response_by_token(filled, "only")["overall"] == 5
    assert check.check_database(db_file) == []


def test_restore_over_a_damaged_database(filled, db_file, good_backup, tmp_path):
    for i in range(300):
        add_response(filled, f"x{i}", comment="góp ý " * 20)
    db.checkpoint(filled)
    filled.close()
    corrupt_middle_page(db_file)
    assert check.check_database(db_file)[0].startswith("Kiểm tra toàn vẹn (integrity_check): ")
    result = restore.restore(db_file, good_backup, backup_dir=tmp_path / "kept")
    assert result.responses == 3 and result.carried == 0  # nothing is read from a damaged file
    assert result.left_message() == (
        " Chú ý: cơ sở dữ liệu bị thay thế đã hỏng nên không chuyển được phiếu nhận sau thời điểm "
        f"sao lưu; nó vẫn được giữ nguyên ở {result.previous.name}."
    )
    assert check.check_database(db_file) == []
    assert result.previous is not None and result.previous.exists()


def test_restore_over_a_file_that_is_no_database_at_all(db_file, good_backup, tmp_path):
    for extra in (Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        extra.unlink(missing_ok=True)
    db_file.write_bytes(b"\0" * 8192)  # header wiped
    result = restore.restore(db_file, good_backup, backup_dir=tmp_path / "kept")
    assert result.previous_is_raw_copy
    assert result.previous.read_bytes() == b"\0" * 8192
    assert responses_in(db_file) == 3
    assert check.check_database(db_file) == []


def test_restore_into_a_new_path(good_backup, tmp_path):
    target = tmp_path / "new" / "sipas.db"
    result = restore.restore(target, good_backup, backup_dir=tmp_path / "kept", accept_foreign=True)
    assert result.previous is None
    assert responses_in(target) == 3
    assert not (tmp_path / "kept").exists()


# ------------------------------------------------------------------------------ check


def test_check_of_a_sound_database(filled, db_file):
    demo.generate(filled, 200, seed=7)
    db.set_excluded(filled, 1, True, "trùng", "test")  # leaves zero rows in the roll-up behind
    assert check.check_database(db_file) == []


def test_check_finds_a_tampered_rollup(filled, db_file):
    filled.execute("UPDATE daily_counts SET n5 = n5 + 1 WHERE day = '2024-03-04' AND criterion = 'TC1.1'")
    filled.execute("UPDATE daily_responses SET responses = 7 WHERE day = '2024-03-05'")
    assert check.check_database(db_file) == [
        "Bảng tổng hợp daily_responses lệch: ngày 2024-03-05, phiếu sipas-2023: tổng hợp ghi 7, "
        "đếm lại từ phiếu gốc được 1.",
        "Bảng tổng hợp daily_counts lệch: ngày 2024-03-04, phiếu sipas-2023, tiêu chí TC1.1: "
        "tổng hợp ghi (mức 1: 0, mức 2: 1, mức 3: 0, mức 4: 0, mức 5: 2, không ý kiến: 0), "
        "đếm lại từ câu trả lời gốc được (mức 1: 0, mức 2: 1, mức 3: 0, mức 4: 0, mức 5: 1, không ý kiến: 0).",
    ]


def test_check_finds_a_count_moved_between_days(filled, db_file):
    # Totals per questionnaire stay the same; only the day-by-day comparison sees it.
    filled.execute("UPDATE daily_counts SET n2 = n2 - 1 WHERE day = '2024-03-04' AND criterion = 'TC1.1'")
    filled.execute(
        "INSERT INTO daily_counts (day, questionnaire, criterion, n2) VALUES ('2024-03-05', 'sipas-2023', 'TC1.1', 1)"
    )
    assert db.level_counts(filled, "sipas-2023") == db.level_counts_direct(filled, "sipas-2023")
    assert len(check.check_database(db_file)) == 2


def test_check_finds_orphans_unknown_versions_criteria_and_staff(filled, db_file):
    filled.execute("PRAGMA foreign_keys = OFF")
    filled.execute("INSERT INTO answers (response_id, criterion, value) VALUES (999, 'TC1.1', 5)")
    add_response(filled, "unknown-version", questionnaire="sipas-1999", answers={"TC1.1": 3})
    add_response(filled, "bad-criterion", answers={"TC9.9": 4, "TC1.1": 4})
    add_response(filled, "ghost-staff", staff_code="CB99")
    filled.execute("PRAGMA foreign_keys = ON")
    assert check.check_database(db_file) == [
        "Khóa ngoại (foreign_key_check): 1 dòng của bảng answers trỏ tới bảng responses nhưng dòng đó không tồn tại.",
        '1 phiếu ghi phiên bản phiếu "sipas-1999" không có trong danh mục '
        "(các phiên bản có: sipas-2017, sipas-2023, sipas-2024).",
        "1 câu trả lời cho tiêu chí TC9.9 không có trong phiếu sipas-2023.",
        '1 phiếu ghi mã cán bộ "CB99" không có trong danh sách cán bộ.',
    ]


def test_check_refuses_what_is_not_a_product_database(tmp_path):
    with pytest.raises(ValidationError) as exc:
        check.check_database(tmp_path / "none.db")
    assert exc.value.problems == [f"Không tìm thấy cơ sở dữ liệu {tmp_path / 'none.db'}."]
    text = tmp_path / "a.txt"
    text.write_text("hello " * 100)
    with pytest.raises(DatabaseError) as exc:
        check.check_database(text)
    assert str(exc.value) == f"Tệp {text} không phải là cơ sở dữ liệu SQLite."


# ------------------------------------------------------------------------------ command line


def test_cli_backup_restore_check(filled, db_file, tmp_path):
    out = tmp_path / "cli.db"
    r = run_cli("backup", "--out", str(out), env_db=db_file)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Đã sao lưu {db_file} vào {out} (") and r.stdout.count("\n") == 1
    assert r.stderr == ""
    assert responses_in(out) == 3

    r = run_cli("check", "--db", str(out))
    assert (r.returncode, r.stdout, r.stderr) == (0, "Cơ sở dữ liệu không có lỗi.\n", "")

    add_response(filled, "later", "2024-03-06 10:00:00", 1)
    r = run_cli("restore", str(out), "--db", str(db_file), "--backup-dir", str(tmp_path / "kept"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(
        "Đã khôi phục từ cli.db: 4 phiếu. 1 phiếu từ máy tính bảng nhận sau thời điểm sao lưu đã được chuyển "
        "sang dữ liệu khôi phục. Cơ sở dữ liệu trước đó được giữ tại "
    )
    assert db.count_responses(filled) == 4  # the tablet survey thanked after the backup is kept
    assert len(list((tmp_path / "kept").glob("before-restore-*.db"))) == 1


def test_cli_refusals_exit_1_and_change_nothing(filled, db_file, tmp_path):
    text = tmp_path / "ghi-chu.txt"
    text.write_text("không phải cơ sở dữ liệu", encoding="utf-8")
    digest, rows = settle(filled)
    r = run_cli("restore", str(text), "--backup-dir", str(tmp_path / "kept"), env_db=db_file)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == restore.msg_not_sqlite("ghi-chu.txt") + "\n"
    assert sha256(db_file) == digest
    assert table_snapshot(filled) == rows
    assert not (tmp_path / "kept").exists()

    r = run_cli("backup", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "b.db"))
    assert (r.returncode, r.stderr) == (1, f"Không tìm thấy cơ sở dữ liệu {tmp_path / 'none.db'}.\n")

    filled.execute("UPDATE daily_counts SET n5 = n5 + 1 WHERE day = '2024-03-04' AND criterion = 'overall'")
    r = run_cli("check", env_db=db_file)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith("Bảng tổng hợp daily_counts lệch: ngày 2024-03-04, phiếu sipas-2023, tiêu chí overall:")
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["backup"], ["restore"], ["check", "--bogus"], ["restore", "a.db", "b.db"]])
def test_cli_wrong_usage_exits_2(args, db_file):
    r = run_cli(*args, env_db=db_file)
    assert r.returncode == 2
    assert "Cách dùng: python -m sipas" in r.stderr


@pytest.mark.parametrize("command", ["backup", "restore", "check"])
def test_cli_help(command):
    r = run_cli(command, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith(f"Cách dùng: python -m sipas {command}")


# ------------------------------------------------------------------------------ the page


@pytest.fixture
def clerk_page(filled, db_file, tmp_path):
    folder = tmp_path / "page-backups"
    settings.put(filled, "backup_dir", str(folder), "test")
    user = auth.create_user(filled, "thuky", "mat-khau-dai", "clerk", is_admin=True)
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["staff_token"] = auth.start_session(filled, user)
    at.run()
    assert not at.exception, at.exception
    return at, folder


def test_page_needs_a_staff_login(db_file):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    assert [w.value for w in at.warning] == ["Bạn không có quyền xem trang này."]
    assert not at.button


def test_page_download_and_check(clerk_page, db_file):
    at, folder = clerk_page
    assert at.title[0].value == "Sao lưu và khôi phục"
    assert [i.value for i in at.info] == ["Chưa có bản sao lưu nào trong thư mục này."]
    at.button(key="backup_make").click().run()  # no password typed: no file
    assert [e.value for e in at.error] == ["Mật khẩu không đúng. Chưa tạo bản sao lưu."]
    assert "backup_link" not in at.session_state
    at.text_input(key="backup_make_password").input("mat-khau-dai")
    at.button(key="backup_make").click().run()
    name, token = at.session_state["backup_link"]
    assert re.fullmatch(r"sipas-backup-\d{4}-\d{2}-\d{2}-\d{4}\.db", name)
    assert f'href="/api/backup/{token}"' in at.get("html")[0].proto.body
    status, headers, data = conftest.asgi_get(
        backup_route.ROUTES, f"/api/backup/{token}", {"sipas_staff": at.session_state["staff_token"]}
    )
    assert status == 200 and headers["content-disposition"] == f'attachment; filename="{name}"'
    copy = folder.parent / "from-page.db"
    copy.write_bytes(data)
    assert responses_in(copy) == 3

    at.button(key="check_db").click().run()
    assert [s.value for s in at.success] == ["Cơ sở dữ liệu không có lỗi."]


def test_page_makes_a_copy_to_leave_the_office_without_accounts(clerk_page, filled, db_file):
    at, folder = clerk_page
    at.checkbox(key="backup_without_accounts").check()
    at.text_input(key="backup_make_password").input("mat-khau-dai")
    at.button(key="backup_make").click().run()
    name, token = at.session_state["backup_link"]
    assert re.fullmatch(r"sipas-backup-khong-tai-khoan-\d{4}-\d{2}-\d{2}-\d{4}\.db", name)
    status, _, data = conftest.asgi_get(
        backup_route.ROUTES, f"/api/backup/{token}", {"sipas_staff": at.session_state["staff_token"]}
    )
    assert status == 200
    copy = folder.parent / "leaving.db"
    copy.write_bytes(data)
    assert responses_in(copy) == 3
    with closing(sqlite3.connect(copy)) as c:
        assert c.execute("SELECT count(*) FROM users").fetchone() == (0,)
    assert db.count_users(filled) >= 1  # the live accounts are untouched


def test_a_clerk_without_administrator_rights_cannot_take_a_backup(filled, db_file):
    user = auth.create_user(filled, "thuky2", "mat-khau-dai", "clerk")
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["staff_token"] = auth.start_session(filled, user)
    at.run()
    assert not at.exception, at.exception
    assert "Chỉ tài khoản có quyền quản trị mới được tải bản sao lưu." in [i.value for i in at.info]
    assert not [b for b in at.button if b.key == "backup_make"]
    assert not [h for h in at.get("html") if "/api/backup/" in h.proto.body] and "backup_link" not in at.session_state


def test_page_refuses_an_upload_and_restores_from_the_folder(clerk_page, filled, db_file):
    at, folder = clerk_page
    backup.auto_backup_if_due(db_file, folder, 30, datetime(2027, 3, 7, 8, 0))
    add_response(filled, "later", "2024-03-06 10:00:00", 1, channel="paper")

    upload = ("so-lieu.db", b"khong phai co so du lieu", "application/octet-stream")
    at.file_uploader(key="restore_file").set_value(upload)
    at.checkbox(key="restore_confirm").check()
    at.text_input(key="restore_password").input("mat-khau-dai")
    at.run()
    at.button(key="restore_button").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Chưa lưu được:"]
    assert at.code[0].value == restore.msg_not_sqlite("so-lieu.db")
    assert db.count_responses(filled) == 4

    at.radio(key="restore_source").set_value("Một bản trong thư mục sao lưu").run()
    at.selectbox(key="restore_pick").set_value("sipas-2027-03-07.db").run()
    at.text_input(key="restore_password").input("sai-mat-khau").run()
    at.button(key="restore_button").click().run()
    assert [e.value for e in at.error] == ["Mật khẩu không đúng. Chưa khôi phục gì."]
    assert db.count_responses(filled) == 4
    at.text_input(key="restore_password").input("mat-khau-dai").run()
    at.button(key="restore_button").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Đã khôi phục từ sipas-2027-03-07.db: 3 phiếu.")
    assert db.count_responses(filled) == 3
    assert len(list(folder.glob("before-restore-*.db"))) == 1


# ------------------------------------------------------------------------------ restore cannot be used to get in


def _strip_signature(path: Path) -> None:
    data = path.read_bytes()
    assert data[-signing.SIG_LEN :].startswith(signing.SIG_MAGIC)
    path.write_bytes(data[: -signing.SIG_LEN])


def _edit(path: Path, *sql: str) -> None:
    with closing(sqlite3.connect(path)) as c:
        for statement in sql:
            c.execute(statement)
        c.commit()


EDITS = {
    "role": ("UPDATE users SET role = 'chairman', is_admin = 1 WHERE username = 'thuky'",),
    "dropped-trigger": ("DROP TRIGGER case_events_no_update",),
    "extra-trigger": (
        "CREATE TRIGGER planted AFTER INSERT ON responses BEGIN DELETE FROM answers WHERE response_id = NEW.id; END",
    ),
}


@pytest.fixture
def accounts(filled):
    admin = auth.create_user(filled, "quantri", "mat-khau-dai", "chairman", is_admin=True)
    clerk = auth.create_user(filled, "thuky", "mat-khau-dai", "clerk")
    return admin, clerk


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_backup_is_refused_and_the_live_file_is_unchanged(edit, accounts, filled, db_file, tmp_path):
    edited = backup.backup_to(db_file, tmp_path / "sua.db")
    _edit(edited, *EDITS[edit])  # edited outside the product; the signature trailer is still there
    digest, rows = settle(filled)
    with pytest.raises(ValidationError) as exc:
        restore.restore(db_file, edited, backup_dir=tmp_path / "kept", accept_foreign=True)
    assert exc.value.problems == [restore.msg_altered("sua.db")]
    assert sha256(db_file) == digest and table_snapshot(filled) == rows
    assert not (tmp_path / "kept").exists()


def test_an_unsigned_edited_backup_needs_acceptance_and_then_its_schema_must_be_the_products(
    accounts, filled, db_file, tmp_path
):
    edited = backup.backup_to(db_file, tmp_path / "sua.db")
    _strip_signature(edited)  # the attacker cuts the signature off
    _edit(edited, *EDITS["dropped-trigger"], *EDITS["extra-trigger"])
    digest, rows = settle(filled)
    with pytest.raises(restore.UnsignedBackupError) as exc:
        restore.restore(db_file, edited, backup_dir=tmp_path / "kept")
    assert exc.value.problems == [restore.msg_unsigned("sua.db")]
    with pytest.raises(ValidationError) as exc:
        restore.restore(db_file, edited, backup_dir=tmp_path / "kept", accept_foreign=True)
    assert exc.value.problems == [
        restore.msg_schema("sua.db", db.SCHEMA_VERSION, ["thừa trigger planted", "thiếu trigger case_events_no_update"])
    ]
    assert sha256(db_file) == digest and table_snapshot(filled) == rows


def test_accounts_roles_and_sessions_never_come_from_a_restored_file(accounts, filled, db_file, tmp_path):
    admin, clerk = accounts
    edited = backup.backup_to(db_file, tmp_path / "sua.db")
    _strip_signature(edited)
    _edit(
        edited,
        *EDITS["role"],
        "INSERT INTO users (username, pw_hash, role, is_admin) VALUES ('ke-gian', 'x', 'chairman', 1)",
    )
    admin_token = auth.start_session(filled, admin)
    clerk_token = auth.start_session(filled, clerk)
    live_users = db.list_users(filled)

    restore.restore(
        db_file, edited, backup_dir=tmp_path / "kept", accept_foreign=True, keep_session=admin_token, actor="quantri"
    )
    assert db.list_users(filled) == live_users  # the clerk is still a clerk without admin rights
    assert db.get_user(filled, "ke-gian") is None
    assert auth.check_session(filled, admin_token)[0].username == "quantri"  # the restorer stays in
    assert auth.check_session(filled, clerk_token) == (None, "ended")  # everyone else is logged out
    assert check.check_database(db_file) == []


def test_a_file_with_the_right_id_and_version_but_no_tables_is_refused_without_a_traceback(filled, db_file, tmp_path):
    empty = tmp_path / "rong-bang.db"
    with closing(sqlite3.connect(empty)) as c:
        c.execute(f"PRAGMA application_id = {db.APP_ID}")
        c.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION}")
        c.execute("CREATE TABLE t (x)")
        c.execute("DROP TABLE t")
        c.commit()
    digest, rows = settle(filled)
    r = run_cli("restore", str(empty), "--accept-foreign", "--backup-dir", str(tmp_path / "kept"), env_db=db_file)
    assert (r.returncode, r.stdout) == (1, "")
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(
        f"Tệp rong-bang.db có cấu trúc khác với cấu trúc của phần mềm ở phiên bản {db.SCHEMA_VERSION}"
    )
    assert "thiếu bảng audit_log" in r.stderr and "thiếu bảng responses" in r.stderr
    assert sha256(db_file) == digest and table_snapshot(filled) == rows
    assert not (tmp_path / "kept").exists()


def test_a_foreign_installations_backup_needs_acceptance(filled, db_file, tmp_path):
    other_db = tmp_path / "xa-khac" / "sipas.db"
    other_db.parent.mkdir()
    with closing(db.open_db(other_db)) as c:
        add_response(c, "o1")
    theirs = backup.backup_to(other_db, tmp_path / "cua-xa-khac.db")
    with pytest.raises(restore.UnsignedBackupError) as exc:
        restore.restore(db_file, theirs, backup_dir=tmp_path / "kept")
    assert exc.value.problems == [restore.msg_foreign_key("cua-xa-khac.db")]
    r = run_cli("restore", str(theirs), "--backup-dir", str(tmp_path / "kept"), env_db=db_file)
    assert r.returncode == 1 and r.stderr == restore.msg_foreign_key("cua-xa-khac.db") + "\n"
    assert restore.restore(db_file, theirs, backup_dir=tmp_path / "kept", accept_foreign=True).responses == 1


def test_the_key_is_private_and_backups_are_signed(filled, db_file, tmp_path):
    out = backup.backup_to(db_file, tmp_path / "b.db")
    assert oct(signing.key_path(db_file).stat().st_mode & 0o777) == "0o600"
    assert out.read_bytes()[-signing.SIG_LEN :].startswith(signing.SIG_MAGIC)
    assert responses_in(out) == 3  # still an ordinary SQLite file


def test_before_restore_copy_goes_beside_an_unreadable_database(db_file, good_backup, tmp_path):
    for extra in (Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        extra.unlink(missing_ok=True)
    db_file.write_bytes(b"\0" * 8192)
    result = restore.restore(db_file, good_backup)
    assert result.previous.parent == db_file.parent / "backups"


def test_check_names_planted_and_missing_schema_objects(filled, db_file):
    filled.execute("DROP TRIGGER case_events_no_delete")
    filled.execute("CREATE TRIGGER planted BEFORE INSERT ON responses BEGIN SELECT RAISE(ABORT, 'x'); END")
    filled.execute("CREATE VIEW v AS SELECT 1")
    problems = check.check(filled)
    assert "Cấu trúc cơ sở dữ liệu khác với của phần mềm: thừa trigger planted." in problems
    assert "Cấu trúc cơ sở dữ liệu khác với của phần mềm: thừa view v." in problems
    assert "Cấu trúc cơ sở dữ liệu khác với của phần mềm: thiếu trigger case_events_no_delete." in problems


def test_page_restore_is_for_an_administrator_only(filled, db_file):
    user = auth.create_user(filled, "thuky2", "mat-khau-dai", "clerk")
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["staff_token"] = auth.start_session(filled, user)
    at.run()
    assert not at.exception, at.exception
    assert "Chỉ tài khoản có quyền quản trị mới được khôi phục dữ liệu từ bản sao lưu." in [i.value for i in at.info]
    assert not [b for b in at.button if b.key == "restore_button"]


def test_page_asks_to_accept_a_foreign_file(clerk_page, filled, db_file, tmp_path):
    at, folder = clerk_page
    other = tmp_path / "khac" / "sipas.db"
    other.parent.mkdir()
    with closing(db.open_db(other)):
        pass
    data = backup.backup_bytes(other)
    at.file_uploader(key="restore_file").set_value(("xa-khac.db", data, "application/octet-stream"))
    at.checkbox(key="restore_confirm").check()
    at.text_input(key="restore_password").input("mat-khau-dai")
    at.run()
    at.button(key="restore_button").click().run()
    assert not at.exception, at.exception
    assert restore.msg_foreign_key("xa-khac.db") in [w.value for w in at.warning]
    assert db.count_responses(filled) == 3
    at.checkbox(key="restore_accept_foreign").check().run()
    at.button(key="restore_button").click().run()
    assert at.success[0].value.startswith("Đã khôi phục từ xa-khac.db: 0 phiếu.")
    # The restorer is still logged in (and still an administrator: accounts are the live ones).
    assert auth.check_session(filled, at.session_state["staff_token"])[0].is_admin


# ------------------------------------------------------------------------------ a copy that leaves the office


def test_a_backup_without_accounts_holds_no_hash_session_or_tablet_secret_anywhere_in_the_file(
    filled, db_file, tmp_path
):
    from conftest import PW

    from sipas import clock
    from sipas.survey import devices

    admin = auth.create_user(filled, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    token = auth.start_session(filled, admin)
    now = clock.now()
    secret = devices.enrol(filled, "quay1", devices.add(filled, "quay1", now=now, actor="test"), now=now)
    pw_hash = db.get_user(filled, "vanphong")["pw_hash"]

    out = tmp_path / "gui-tinh.db"
    r = run_cli("backup", "--out", str(out), "--without-accounts", env_db=db_file)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Đã sao lưu {db_file} vào {out} (không có tài khoản, phiên đăng nhập, máy tính bảng) (")
    raw = out.read_bytes()
    for needle in (pw_hash, secret, token, auth.token_key(token)):
        assert needle.encode() not in raw  # not in a row, not in a free page
    with closing(sqlite3.connect(out)) as c:
        for table in db.ACCOUNT_TABLES:
            assert c.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    assert responses_in(out) == 3
    assert snapshot_of(out, leave_out=db.ACCOUNT_TABLES) == snapshot_of(db_file, leave_out=db.ACCOUNT_TABLES)
    assert check.check_database(out) == []
    # The ordinary backup does keep them (it is the one for this office's own restores).
    full = backup.backup_to(db_file, tmp_path / "full.db")
    assert pw_hash.encode() in full.read_bytes()

    # Restored here, it changes nobody's rights: the live accounts and tablets stay.
    result = restore.restore(db_file, out, backup_dir=tmp_path / "kept", actor="test")
    assert result.responses == 3
    assert db.get_user(filled, "vanphong")["pw_hash"] == pw_hash
    assert db.device_row(filled, "quay1")["secret"] == secret


# ------------------------------------------------------------------------------ a clock that cannot be right


@pytest.mark.parametrize(
    "when, why",
    [
        (datetime(1990, 1, 2, 8, 0), "trước ngày phát hành phần mềm (01/12/2026)"),
        (datetime(2027, 3, 1, 8, 0), "sớm hơn phiếu mới nhất đã lưu (10/03/2027 09:00)"),
    ],
)
def test_a_wrong_clock_makes_no_daily_backup_and_check_reports_it(conn, db_file, tmp_path, when, why):
    add_response(conn, "tablet", "2027-03-10 09:00:00", 5, channel="kiosk")
    folder = tmp_path / "auto"
    with pytest.raises(ValidationError) as refused:
        backup.auto_backup_if_due(db_file, folder, 30, when)
    assert str(refused.value).startswith("Chưa sao lưu tự động vì đồng hồ máy chủ sai. Đồng hồ máy chủ đang chỉ ")
    assert why in str(refused.value)
    assert not folder.exists() or list(folder.iterdir()) == []  # no sipas-1990-01-02.db
    problems = check.check_database(db_file, now=when)
    assert len(problems) == 1 and why in problems[0] and "Hãy chỉnh lại ngày giờ của máy chủ" in problems[0]
    # A right clock: the copy is made and check is clean.
    assert backup.auto_backup_if_due(db_file, folder, 30, datetime(2027, 3, 10, 17, 0)).name == "sipas-2027-03-10.db"
    assert check.check_database(db_file, now=datetime(2027, 3, 10, 17, 0)) == []


@pytest.mark.parametrize("content", ["zz" * 32, "ab" * 16, "", "\u00e9\u00e9 không phải khóa"])
def test_a_damaged_key_file_is_named_in_vietnamese_and_left_as_it_was(filled, db_file, tmp_path, content):
    key = signing.key_path(db_file)
    key.write_bytes(content.encode("utf-8"))
    with pytest.raises(DatabaseError) as damaged:
        backup.backup_to(db_file, tmp_path / "b.db")
    assert str(damaged.value) == signing.msg_damaged_key(key)
    assert "fromhex" not in str(damaged.value) and "non-hexadecimal" not in str(damaged.value)
    assert key.read_bytes() == content.encode("utf-8")  # never overwritten: it may be recoverable
    assert not (tmp_path / "b.db").exists()


def test_the_page_shows_an_administrator_the_key_as_a_code_and_takes_it_back_on_a_new_pc(clerk_page, filled, db_file):
    at, _ = clerk_page
    at.button(key="key_show").click().run()  # no password typed: no code
    assert "key_code" not in at.session_state
    assert [c.value for c in at.code] == ["Mật khẩu không đúng."]
    at.text_input(key="key_password").input("mat-khau-dai")
    at.button(key="key_show").click().run()
    key = signing.installation_key(db_file)
    assert [c.value for c in at.code] == [signing.recovery_code(key)]
    assert signing.KEEP_ADVICE in [i.value for i in at.info]
    # The PC is replaced: a new key was made; the administrator types the code written down.
    signing.key_path(db_file).unlink()
    signing.installation_key(db_file)
    at.text_input(key="key_code_input").input(signing.recovery_code(key).lower()).run()
    at.button(key="key_restore").click().run()
    assert [s.value for s in at.success][-1].startswith("Đã khôi phục khóa ký bản sao lưu từ mã")
    assert signing.installation_key(db_file, create=False) == key
    logged = [tuple(r) for r in filled.execute("SELECT actor, action FROM audit_log WHERE action LIKE 'key-%'")]
    assert logged == [("thuky", "key-show"), ("thuky", "key-restore")]


def test_a_clerk_without_administrator_rights_never_sees_the_key_code(filled, db_file):
    user = auth.create_user(filled, "thuky3", "mat-khau-dai", "clerk")
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["staff_token"] = auth.start_session(filled, user)
    at.run()
    assert "Chỉ tài khoản có quyền quản trị mới được xem hoặc nhập mã khôi phục khóa." in [i.value for i in at.info]
    assert not [b for b in at.button if b.key in ("key_show", "key_restore")]
