"""The signing key cannot be lost by surprise: the recovery code to write down (sipas.admin.signing) and
`python -m sipas key show|restore`, used on a new PC so that the old backups are recognised again."""

from __future__ import annotations

import io
import os
import stat
import sys
from contextlib import closing

import pytest

from sipas import db
from sipas.admin import signing
from sipas.errors import ValidationError
from tests.conftest import always_open, run_cli


def run_with_stdin(monkeypatch, text: str, *args, **kwargs):
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return run_cli(*args, **kwargs)


@pytest.fixture
def old_pc_backup(db_file, tmp_path):
    """A signed backup of the office PC, and its recovery code as `key show` prints it."""
    with closing(db.open_db(db_file)) as c:
        db.insert_response(
            c,
            {"token": "t1", "submitted_at": "2026-12-01 08:00:00", "questionnaire": "sipas-2023", "channel": "paper"},
            {"TC1.1": 5},
        )
    out = tmp_path / "usb" / "sipas-2026-12-01.db"
    assert run_cli("backup", "--out", str(out)).returncode == 0
    shown = run_cli("key", "show")
    assert shown.returncode == 0
    advice, code = shown.stdout.strip().splitlines()
    assert advice == signing.KEEP_ADVICE
    return out, code


def test_a_new_pc_recognises_the_old_backups_after_the_code_is_typed(old_pc_backup, tmp_path, monkeypatch):
    backup_file, code = old_pc_backup
    new_db = tmp_path / "new-pc" / "sipas.db"
    always_open(new_db)
    refused = run_cli("restore", str(backup_file), db_path=new_db)
    assert refused.returncode == 1 and "cài đặt khác" in refused.stderr
    # The administrator types the code as written on paper: lower case, spaces, 0 for O.
    typed = code.lower().replace("-", " ").replace("o", "0")
    done = run_with_stdin(monkeypatch, typed + "\n", "key", "restore", db_path=new_db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("Đã khôi phục khóa ký bản sao lưu từ mã")
    assert "Khóa cũ được giữ lại ở sipas.db.key.old-1." in done.stdout  # the new PC's own key, kept
    assert (tmp_path / "new-pc" / "sipas.db.key.old-1").is_file()
    assert stat.S_IMODE(os.stat(signing.key_path(new_db)).st_mode) == 0o600
    with closing(db.open_db(new_db)) as c:
        logged = [tuple(r) for r in c.execute("SELECT action, entity FROM audit_log WHERE action LIKE 'key-%'")]
    assert logged == [("key-restore", "sipas.db.key")]
    restored = run_cli("restore", str(backup_file), "--backup-dir", str(tmp_path / "bk"), db_path=new_db)
    assert restored.returncode == 0, restored.stderr
    with closing(db.open_db(new_db)) as c:
        assert [r[0] for r in c.execute("SELECT token FROM responses")] == ["t1"]
    again = run_with_stdin(monkeypatch, code + "\n", "key", "restore", db_path=new_db)
    assert again.stdout.strip() == "Khóa ký trên máy này đã đúng với mã khôi phục; không cần thay đổi."


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (
            lambda code: code[:-5],
            "Mã khôi phục khóa phải có 56 ký tự (A–Z, 2–7; 14 nhóm 4 ký tự), bạn nhập 52 ký tự hợp lệ. "
            "Hãy đối chiếu lại với bản đã ghi.",
        ),
        (
            lambda code: ("B" if code[0] != "B" else "C") + code[1:],
            "Mã khôi phục khóa có chỗ gõ sai (không khớp phần kiểm tra). Hãy đối chiếu từng nhóm.",
        ),
        (
            lambda code: "x" * 2_000_000,
            "Mã khôi phục khóa phải có 56 ký tự (A–Z, 2–7; 14 nhóm 4 ký tự), bạn nhập 400 ký tự hợp lệ. "
            "Hãy đối chiếu lại với bản đã ghi.",
        ),
    ],
)
def test_a_mistyped_code_is_refused_in_vietnamese_and_changes_no_key(tmp_path, mangle, message):
    key = bytes(range(32))
    path = tmp_path / "sipas.db"
    before = signing.installation_key(path)
    with pytest.raises(ValidationError) as err:
        signing.restore_key(path, mangle(signing.recovery_code(key)))
    assert err.value.problems == [message]
    assert signing.installation_key(path, create=False) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sipas.db.key"]


def test_a_damaged_key_file_is_moved_aside_not_deleted_when_the_code_is_typed(tmp_path):
    path = tmp_path / "sipas.db"
    signing.key_path(path).write_text("hỏng", encoding="utf-8")
    key = os.urandom(32)
    signing.restore_key(path, signing.recovery_code(key))
    assert signing.installation_key(path, create=False) == key
    assert (tmp_path / "sipas.db.key.old-1").read_text(encoding="utf-8") == "hỏng"
