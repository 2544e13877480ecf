"""What a killed backup or restore leaves behind is removed at the next start, and nothing else
(sipas.admin.leftovers): real SIGKILLed backups and restores, and look-alike files that must survive."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import conftest
import pytest

from sipas import db, demo
from sipas.admin import backup, check, leftovers, signing
from sipas.paths import ROOT

OLD = 3600  # seconds: leftovers are aged by this much before the "next start"

# A child that starts a real backup or restore and is SIGKILLed at the moment named by READY: the
# step right before the temporary file would be renamed into place is made to wait forever.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sipas.admin import backup, restore
    what, db_path, target = sys.argv[1:4]

    def hang(path):
        print("READY", path, flush=True)
        time.sleep(600)

    if what == "backup":
        backup.fsync_file = hang
        backup.backup_to(db_path, target)
    elif what == "download":
        backup.fsync_file = hang
        backup.backup_bytes(db_path)
    else:
        if what == "restore":  # after the before-restore copy, in the middle of the swap
            restore._carry_after_backup = lambda cand, previous, carry: hang(restore.tempfile.tempdir)
        else:  # over a live file that is no database: written beside it, then renamed
            restore.fsync_file = hang
        restore.restore(db_path, Path(target), backup_dir=Path(db_path).parent / "backups", actor="test")
    """
)


def killed(what: str, db_path: Path, target: Path, temp: Path) -> Path:
    """Run ``what`` in a child process and SIGKILL it mid-way; return the temporary file it was writing."""
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, what, str(db_path), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY "), proc.stderr.read()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return Path(line.split(" ", 1)[1].strip())


def age(*paths: Path, seconds: float = OLD) -> None:
    """Make files (and folders with everything in them) look ``seconds`` old."""
    when = time.time() - seconds
    for path in paths:
        for p in [*(sorted(path.rglob("*")) if path.is_dir() and not path.is_symlink() else []), path]:
            os.utime(p, (when, when), follow_symlinks=False)


def sqlite_file(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as c:
        c.execute("CREATE TABLE t (x)")
        c.execute("INSERT INTO t VALUES ('không phải của phần mềm')")
        c.commit()
    return path


@pytest.fixture
def big(db_file, conn):
    """A database of a few MB (so the copies take a moment) with a signing key."""
    demo.generate(conn, responses=1500, seed=3)
    signing.installation_key(db_file)
    return db_file


def test_a_killed_backup_leaves_its_temporary_file_until_the_next_start_removes_it(big, tmp_path, caplog):
    folder, temp = tmp_path / "backups", tmp_path / "systemp"
    temp.mkdir()
    tmp = killed("backup", big, folder / "sipas-2027-01-02.db", temp)
    assert tmp.parent == folder and tmp.name.startswith(".sipas-2027-01-02.db.") and tmp.name.endswith(".tmp")
    assert tmp.stat().st_size > 1_000_000 and not (folder / "sipas-2027-01-02.db").exists()

    # Ten minutes have not passed: a backup might still be running, nothing is touched.
    assert leftovers.remove_leftovers(big, folder, temp_dir=temp) == []
    assert tmp.exists()

    age(tmp)
    with caplog.at_level(logging.WARNING, logger="sipas.admin.leftovers"):
        assert leftovers.remove_leftovers(big, folder, temp_dir=temp) == [tmp]
    assert not tmp.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"Đã xóa tệp sao lưu dở dang (sao lưu hoặc khôi phục bị ngắt): {tmp}"
    ]
    assert check.check_database(big) == []  # the live database is untouched


def test_a_killed_download_leaves_a_temporary_folder_that_is_removed(big, tmp_path):
    temp = tmp_path / "systemp"
    temp.mkdir()
    tmp = killed("download", big, tmp_path / "unused", temp)
    made = tmp.parent
    assert leftovers.TEMP_FOLDER.fullmatch(made.name) and made.parent == temp
    assert leftovers.remove_leftovers(big, None, temp_dir=temp) == []
    age(made)
    assert leftovers.remove_leftovers(big, None, temp_dir=temp) == [made]
    assert list(temp.iterdir()) == []


def test_a_killed_restore_leaves_its_private_copy_in_the_temp_folder_until_the_next_start(big, tmp_path):
    good = backup.backup_to(big, tmp_path / "good.db")
    temp = tmp_path / "systemp"
    temp.mkdir()
    killed("restore", big, good, temp)
    staged = [p for p in temp.iterdir() if p.name.startswith("sipas-restore-")]
    assert len(staged) == 1 and (staged[0] / "candidate.db").stat().st_size > 1_000_000
    before = sorted(p.name for p in (big.parent / "backups").iterdir())
    assert len(before) == 1 and before[0].startswith("before-restore-")  # the product's copy: kept

    assert leftovers.remove_leftovers(big, big.parent / "backups", temp_dir=temp) == []
    age(staged[0])
    assert leftovers.remove_leftovers(big, big.parent / "backups", temp_dir=temp) == staged
    assert list(temp.iterdir()) == []
    assert sorted(p.name for p in (big.parent / "backups").iterdir()) == before
    assert check.check_database(big) == []
    assert good.is_file() and signing.key_path(big).is_file()


def test_a_restore_killed_while_writing_over_a_broken_file_leaves_a_restore_file_that_is_removed(big, tmp_path):
    good = backup.backup_to(big, tmp_path / "good.db")
    temp = tmp_path / "systemp"
    temp.mkdir()
    live = tmp_path / "broken" / "sipas.db"
    live.parent.mkdir()
    live.write_text("tệp hỏng, không còn phần đầu SQLite")
    signing.key_path(live).write_text(signing.key_path(big).read_text())
    tmp = killed("restore-broken", live, good, temp)
    assert tmp.parent == live.parent and tmp.name.startswith(".sipas.db.") and tmp.name.endswith(".restore")
    assert tmp.read_bytes()[:16] == b"SQLite format 3\x00"
    age(tmp, *temp.iterdir())
    removed = leftovers.remove_leftovers(live, live.parent / "backups", temp_dir=temp)
    assert sorted(removed) == sorted([tmp, *[p for p in removed if p.parent == temp]])
    assert not tmp.exists() and list(temp.iterdir()) == []
    assert live.read_text() == "tệp hỏng, không còn phần đầu SQLite"  # the restore never finished


def test_look_alikes_and_the_products_own_files_survive(db_file, conn, tmp_path):
    signing.installation_key(db_file)
    folder, temp = tmp_path / "backups", tmp_path / "systemp"
    folder.mkdir()
    temp.mkdir()
    daily = backup.backup_to(db_file, folder / "sipas-2027-01-02.db")
    doomed = [
        sqlite_file(folder / ".sipas-2027-01-03.db.0a1b2c3d.tmp"),
        folder / ".sipas-2027-01-03.db.0a1b2c3d.tmp-journal",
        sqlite_file(tmp_path / ".sipas.db.deadbeef.restore"),
        tmp_path / "sipas.db.key.0badf00d.tmp",
    ]
    doomed[1].write_bytes(leftovers.JOURNAL_MAGIC + bytes(100))
    doomed[3].write_text("ab" * 20)  # killed halfway through writing the key
    survivors = [
        daily,
        signing.key_path(db_file),
        db_file,
        # right name, wrong contents
        folder / ".notes.txt.0a1b2c3d.tmp",
        tmp_path / ".sipas.db.deadbeef.restore-journal",
        tmp_path / "sipas.db.key.12345678.tmp",
        # right contents, wrong name
        sqlite_file(folder / ".sipas.db.0a1b2c3z.tmp"),
        sqlite_file(folder / "sipas.db.0a1b2c3d.tmp"),
        sqlite_file(folder / ".sipas.db.0a1b2c3d.tmp.bak"),
        sqlite_file(tmp_path / ".other.db.deadbeef.restore"),
        sqlite_file(tmp_path / ".sipas.db.deadbeef.restore-old"),
        tmp_path / "other.db.key.0badf00d.tmp",
    ]
    survivors[3].write_text("ghi chú của cán bộ")
    survivors[4].write_text("không phải nhật ký SQLite")
    survivors[5].write_text("đây không phải khóa")
    survivors[11].write_text("ab" * 32)
    # temporary folders: one of the right shape but holding someone's file, one of a wrong name,
    # a link to a folder of the right shape, one of the right shape holding a non-database
    with_extra = temp / "sipas-backup-abcd1234"
    with_extra.mkdir()
    sqlite_file(with_extra / "sipas.db")
    (with_extra / "ghi-chu.txt").write_text("của người khác")
    wrong_name = temp / "sipas-backup-x"
    wrong_name.mkdir()
    sqlite_file(wrong_name / "sipas.db")
    target = tmp_path / "elsewhere"
    target.mkdir()
    sqlite_file(target / "candidate.db")
    link = temp / "sipas-restore-abcd1234"
    link.symlink_to(target, target_is_directory=True)
    not_db = temp / "sipas-restore-zz99zz99"
    not_db.mkdir()
    (not_db / "candidate.db").write_text("tệp tải lên không phải cơ sở dữ liệu")
    kept_folders = [with_extra, wrong_name, link, not_db, target]
    fresh = sqlite_file(folder / ".sipas-2027-01-04.db.11112222.tmp")  # a backup running right now

    age(*doomed, *survivors, *kept_folders)
    removed = leftovers.remove_leftovers(db_file, folder, temp_dir=temp)
    assert sorted(removed) == sorted(doomed)
    assert all(not p.exists() for p in doomed)
    assert all(p.exists() for p in [*survivors, *kept_folders, fresh])
    assert (with_extra / "ghi-chu.txt").read_text() == "của người khác"
    assert (target / "candidate.db").is_file()
    assert check.check_database(db_file) == []
    with closing(db.connect(daily)) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_check_and_backup_commands_and_the_app_start_remove_old_leftovers(db_file, conn, tmp_path, monkeypatch, caplog):
    folder = backup.configured_backup_dir(conn)
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "systemp"))
    (tmp_path / "systemp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    first = sqlite_file(folder / ".sipas-2027-01-03.db.0a1b2c3d.tmp")
    age(first)
    with caplog.at_level(logging.WARNING, logger="sipas.admin.leftovers"):
        done = conftest.run_cli("check", env_db=db_file)
    assert done.returncode == 0 and done.stdout.strip() == check.OK_MESSAGE and not first.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"Đã xóa tệp sao lưu dở dang (sao lưu hoặc khôi phục bị ngắt): {first}"
    ]

    out_dir = tmp_path / "usb"
    out_dir.mkdir()
    second = sqlite_file(out_dir / ".copy.db.0a1b2c3d.tmp")
    age(second)
    done = conftest.run_cli("backup", "--out", str(out_dir / "copy.db"), env_db=db_file)
    assert done.returncode == 0 and not second.exists() and (out_dir / "copy.db").is_file(), done

    import ui

    third = sqlite_file(tmp_path / ".sipas.db.0a1b2c3d.restore")
    age(third)
    monkeypatch.setattr(ui, "_leftovers_done", [])
    ui.remove_leftovers_once()
    assert not third.exists()
    fourth = sqlite_file(tmp_path / ".sipas.db.99998888.restore")
    age(fourth)
    ui.remove_leftovers_once()  # once per process: the next start removes it
    assert fourth.exists()
