"""Storage and file faults told in Vietnamese with what to do, and messages that never echo more than a
short excerpt of the input (sipas.faults, sipas.text.excerpt, the import readers, ValidationError)."""

from __future__ import annotations

import io
import subprocess
from contextlib import closing

import openpyxl
import pytest

from sipas import db, faults
from sipas.admin import backup, settings
from sipas.errors import DatabaseError, ValidationError
from sipas.survey.responses import import_responses
from sipas.text import EXCERPT_CHARS, MESSAGE_CHARS, excerpt
from tests.conftest import fill_disk, run_cli, table_snapshot

ENGLISH = ("disk is full", "No space", "Read-only", "readonly", "Permission denied", "field limit", "Errno")


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if w.lower() in text.lower()]


# ------------------------------------------------------------------------------ a huge cell


def test_a_csv_cell_over_the_field_limit_is_named_with_its_line_and_what_to_do(conn):
    data = b"submitted_at,TC1.1,comment\n2026-12-01 08:00,4,ok\n2026-12-01 08:05,5," + b"x" * 300_000 + b"\n"
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        import_responses(conn, data, "phieu.csv")
    assert err.value.problems == [
        "Tệp phieu.csv, dòng 3: có một ô dài hơn 131.072 ký tự, vượt giới hạn một ô. Thường do một dấu ngoặc kép "
        '(") mở mà không đóng, làm nhiều dòng dính vào một ô. Hãy mở tệp, sửa hoặc rút ngắn ô đó rồi tải lại. '
        "Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
    ]
    assert table_snapshot(conn) == before


def test_an_unclosed_quote_in_a_csv_is_told_in_vietnamese(conn):
    # 200,000 characters after an opening quote: Python's reader says "field larger than field limit".
    data = b'submitted_at,TC1.1,comment\n2026-12-01 08:00,4,"ch\xc6\xb0a \xc4\x91\xc3\xb3ng\n' + b"y" * 200_000
    with pytest.raises(ValidationError) as err:
        import_responses(conn, data, "phieu.csv")
    (problem,) = err.value.problems
    assert problem.startswith("Tệp phieu.csv, dòng ") and "dấu ngoặc kép" in problem and not english_in(problem)


def test_200_rows_of_100_kb_values_give_short_messages_not_20_mb(conn):
    """Before: each refused cell was quoted whole, 200 of them made a 20 MB message."""
    huge = "9" * 100_000
    rows = "".join(f"2026-12-01 08:{i % 60:02d},{huge}\n" for i in range(250))
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        import_responses(conn, ("submitted_at,TC1.1\n" + rows).encode(), "phieu.csv")
    problems = err.value.problems
    assert len(problems) == 201 and problems[-1] == "… và 50 lỗi khác."
    assert problems[0] == (
        f'Dòng 2, cột TC1.1: giá trị "{"9" * EXCERPT_CHARS}… (100.000 ký tự)" không hợp lệ, chỉ nhận 1–5.'
    )
    assert max(len(p) for p in problems) < 200
    assert len(str(err.value)) < 40_000
    assert table_snapshot(conn) == before


def test_a_huge_header_in_an_excel_file_is_quoted_as_an_excerpt(conn):
    wb = openpyxl.Workbook()
    wb.active.append(["submitted_at", "Z" * 30_000])
    wb.active.append(["2026-12-01 08:00", "4"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ValidationError) as err:
        import_responses(conn, buf.getvalue(), "phieu.xlsx")
    (problem,) = [p for p in err.value.problems if "ZZZ" in p]
    assert problem.startswith(f"Dòng 1, cột {'Z' * EXCERPT_CHARS}… (30.000 ký tự): tên cột không hợp lệ.")
    assert len(problem) < 1000


def test_every_validation_message_is_cut_whatever_its_source_builds(conn):
    # The settings' own messages quote the value ("Không có phiên bản phiếu '{value}'."): the net cuts it.
    with pytest.raises(ValidationError) as err:
        settings.put(conn, "active_questionnaire", "x" * 5_000_000, "vanphong")
    (problem,) = err.value.problems
    assert len(problem) <= MESSAGE_CHARS
    assert problem.startswith("Không có phiên bản phiếu 'xxx") and problem.endswith("xxx'.")


def test_excerpt_keeps_short_values_and_cuts_long_ones_to_one_line():
    assert excerpt("Hộ tịch") == "Hộ tịch"
    assert excerpt("a\nb\tc") == "a b c"
    assert excerpt("x" * 61) == "x" * 60 + "… (61 ký tự)"


# ------------------------------------------------------------------------------ a full disk, a read-only folder


def test_a_backup_to_a_full_disk_says_so_in_vietnamese_and_leaves_no_temporary_file(db_file, small_disk):
    fill_disk(small_disk)
    out = small_disk / "sipas-backup.db"
    with pytest.raises(DatabaseError) as err:
        backup.backup_to(db_file, out)
    assert str(err.value) == f"Không ghi được tệp sao lưu {out}: {faults.FILE_DISK_FULL}"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    result = run_cli("backup", "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Không ghi được tệp sao lưu {out}: {faults.FILE_DISK_FULL}"
    assert not english_in(result.stderr)


def test_a_backup_into_a_read_only_folder_says_so_in_vietnamese(db_file, small_disk):
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    out = small_disk / "sipas-backup.db"
    with pytest.raises(DatabaseError) as err:
        backup.backup_to(db_file, out)
    assert str(err.value) == f"Không ghi được tệp sao lưu {out}: {faults.FILE_READ_ONLY}"


def test_an_import_into_a_database_on_a_full_disk_is_told_in_vietnamese_and_stores_nothing(small_disk, tmp_path):
    path = small_disk / "sipas.db"
    with closing(db.open_db(path)) as c:
        settings.put(c, "active_questionnaire", "sipas-2023", "test")
        db.checkpoint(c)
    rows = "".join(f"2026-12-01 08:{i % 60:02d},{1 + i % 5},{'Góp ý dài ' * 40}\n" for i in range(3000))
    src = tmp_path / "phieu.csv"
    src.write_text("submitted_at,TC1.1,comment\n" + rows, encoding="utf-8")
    fill_disk(small_disk)
    result = run_cli("import-responses", str(src), db_path=path)
    assert result.returncode == 1
    assert result.stderr.strip() == faults.DISK_FULL
    (small_disk / "filler").unlink()
    with closing(db.open_db(path)) as c:
        assert c.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0


def test_cause_names_each_fault_in_vietnamese():
    import errno
    import sqlite3

    assert faults.cause(OSError(errno.EROFS, "Read-only file system")) == faults.FILE_READ_ONLY
    assert faults.cause(OSError(errno.EACCES, "Permission denied")) == faults.FILE_DENIED
    assert faults.cause(sqlite3.OperationalError("attempt to write a readonly database")) == faults.FILE_READ_ONLY
    assert faults.cause(sqlite3.DatabaseError("file is not a database")) == faults.FILE_DAMAGED
    assert faults.cause(OSError(errno.EMLINK, "Too many links")).startswith("lỗi của hệ điều hành (mã EMLINK)")
