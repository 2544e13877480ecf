"""Backups: a year of evidence must survive a broken disk or a bad day.

* A backup is made with SQLite's online backup API (``sqlite3.Connection.backup``), never by copying
  the file: it is a consistent snapshot of the committed data even while tablets keep writing (WAL),
  and the copy is switched to ``journal_mode=DELETE`` so that it is one standalone file. A copy that
  fails ``PRAGMA integrity_check`` is not kept, so a damaged database never pushes good daily copies
  out of the folder. The copy is written under a temporary name, signed
  (:mod:`sipas.admin.signing`), synced, then renamed into place.
* One automatic copy a day, ``sipas-YYYY-MM-DD.db``, of which the newest ``backup_keep`` are kept.

Restores are in :mod:`sipas.admin.restore`, the ``check`` command in :mod:`sipas.admin.check`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sipas import db, faults
from sipas.admin.check import reason, require_sqlite
from sipas.admin.clock_check import clock_problem
from sipas.admin.signing import installation_key, sign_file
from sipas.errors import DatabaseError, ValidationError
from sipas.paths import ROOT

AUTO_NAME = re.compile(r"^sipas-(\d{4}-\d{2}-\d{2})\.db$")
BEFORE_RESTORE_PREFIX = "before-restore-"

_auto_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------


def fsync_file(path: Path) -> None:
    """Write the file's data to the disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open a directory, and does not need it."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _online_copy(src_path: Path, dst_path: Path, verify: bool = True, without_accounts: bool = False) -> None:
    """Snapshot ``src_path`` into the new file ``dst_path`` with the backup API; standalone, checked."""
    require_sqlite(src_path)
    with closing(db.connect(src_path)) as src, closing(sqlite3.connect(str(dst_path), isolation_level=None)) as dst:
        try:
            # pages=-1: the whole database in one step, i.e. one read transaction on the source.
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            if reason(exc) in faults.WRITE_FAULTS:
                raise  # the copy could not be written: backup_to names the file it was writing
            raise DatabaseError(f"Không sao lưu được {src_path}: {reason(exc)}") from None
        if db.set_journal_mode(dst, "delete") != "delete":
            raise DatabaseError(f"Không chuyển được bản sao {dst_path} sang một tệp độc lập.")
        if without_accounts:
            db.remove_account_rows(dst)
        if verify and db.integrity_problems(dst, limit=1):
            raise DatabaseError(
                f"Bản sao của {src_path} không qua được kiểm tra toàn vẹn: cơ sở dữ liệu đang dùng có thể đã hỏng. "
                'Chưa ghi bản sao lưu nào. Hãy chạy "python -m sipas check" và khôi phục từ một bản sao lưu tốt.'
            )


def backup_to(db_path: str | Path, out: str | Path, *, verify: bool = True, without_accounts: bool = False) -> Path:
    """Write a consistent, standalone copy of the database at ``db_path`` to ``out``; return ``out``.

    ``without_accounts``: a copy meant to leave the office, with no staff account (password
    hashes), failed login, session, enrolled tablet or tablet secret in it, not even in free pages;
    surveys, settings, staff list and audit are all there. A restore never takes accounts from a
    file anyway; on a new PC the first administrator is made at first start.

    Safe while the app is running. ``out`` is replaced atomically (a reader never sees half a file);
    its folder is created if needed. Raises :class:`ValidationError` for a missing database or a bad
    target, :class:`DatabaseError` when the copy cannot be made or fails the integrity check.
    """
    src, out = Path(db_path), Path(out)
    if not src.is_file():
        raise ValidationError(f"Không tìm thấy cơ sở dữ liệu {src}.")
    if out.is_dir():
        raise ValidationError(f"{out} là một thư mục; cần đường dẫn tới tệp sao lưu, ví dụ {out / 'sipas.db'}.")
    if out.exists() and out.resolve() == src.resolve():
        raise ValidationError("Tệp sao lưu không được trùng với cơ sở dữ liệu đang dùng.")
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _online_copy(src, tmp, verify=verify, without_accounts=without_accounts)
        key = installation_key(src)
        if key is not None:
            sign_file(tmp, key)
        fsync_file(tmp)
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError(f"Không ghi được tệp sao lưu {out}: {reason(exc, tmp)}") from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass  # a read-only folder says EROFS even for a file it never held: the fault is told above
    return out


def backup_bytes(db_path: str | Path, *, without_accounts: bool = False) -> bytes:
    """A fresh online backup as bytes (for a download)."""
    with tempfile.TemporaryDirectory(prefix="sipas-backup-") as tmp:
        return backup_to(db_path, Path(tmp) / "sipas.db", without_accounts=without_accounts).read_bytes()


def resolve_backup_dir(value: str | Path) -> Path:
    """The ``backup_dir`` setting as a path: relative to the project root unless absolute."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else ROOT / path


def configured_backup_dir(conn: sqlite3.Connection) -> Path:
    """The backup folder the settings name; by default ``backups/`` beside the database file
    (``data/backups`` for the default ``data/sipas.db``)."""
    from sipas.admin import settings

    value = settings.get(conn, "backup_dir")
    if not value:
        main = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
        return Path(main).parent / "backups" if main else ROOT / "data" / "backups"
    return resolve_backup_dir(value)


def local_time(now: datetime | None) -> datetime:
    """Commune wall-clock time: ``now`` if naive, converted if it carries a zone, else the clock."""
    from sipas import clock

    if now is None:
        return clock.now()
    if now.tzinfo is not None:
        return now.astimezone(clock.TZ).replace(tzinfo=None)
    return now


def auto_backup_if_due(
    db_path: str | Path, backup_dir: str | Path, keep: int, now: datetime | None = None
) -> Path | None:
    """Make today's automatic backup ``sipas-YYYY-MM-DD.db`` unless it exists; keep the newest ``keep``.

    At most one backup per local day (commune time; ``now`` defaults to the clock). Returns the new
    file's path, or None when today's backup already exists or there is no database yet. Older daily
    files beyond ``keep`` are deleted; other files in the folder (before-restore copies, downloads)
    are never touched. Cheap when not due (one ``stat``), so it may be called on every app run.
    Raises :class:`DatabaseError` when the copy cannot be written (full disk, damaged database):
    the existing backups are then left as they were; :class:`ValidationError` when the server's
    clock cannot be right (:mod:`sipas.admin.clock_check`): no copy named after a wrong day is made.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValidationError("Số bản sao lưu tự động cần giữ phải là số nguyên ≥ 1.")
    folder = Path(backup_dir)
    when = local_time(now)
    target = folder / f"sipas-{when.date().isoformat()}.db"
    if target.exists() or not Path(db_path).is_file():
        return None
    with closing(db.connect(db_path)) as conn:
        wrong_clock = clock_problem(conn, when)
    if wrong_clock:
        # Named after a wrong day, the copy would push good ones out (or sort as the oldest).
        raise ValidationError(f"Chưa sao lưu tự động vì đồng hồ máy chủ sai. {wrong_clock}")
    with _auto_lock:
        if target.exists():  # another session of this process made it meanwhile
            return None
        backup_to(db_path, target)
        prune_auto_backups(folder, keep, protect=target)
    return target


def prune_auto_backups(backup_dir: str | Path, keep: int, protect: Path | None = None) -> list[Path]:
    """Delete the oldest daily ``sipas-YYYY-MM-DD.db`` files beyond ``keep``; return those deleted."""
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    daily = sorted(
        (p for p in folder.iterdir() if AUTO_NAME.match(p.name) and p.is_file()), key=lambda p: p.name, reverse=True
    )
    removed = []
    for old in daily[keep:]:
        if protect is not None and old == protect:
            continue
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            pass  # a file in use (Windows) is pruned next time
    return removed


@dataclass(frozen=True)
class BackupFile:
    """One ``.db`` file in the backup folder."""

    path: Path
    kind: str  # "auto", "before-restore" or "other"
    size: int
    modified: datetime

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind_label(self) -> str:
        return {"auto": "Tự động hằng ngày", "before-restore": "Trước khi khôi phục"}.get(self.kind, "Khác")


def list_backups(backup_dir: str | Path) -> list[BackupFile]:
    """The ``.db`` files in the backup folder, newest first (an empty list if there is no folder)."""
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        if not p.is_file() or p.suffix != ".db" or p.name.startswith("."):
            continue
        kind = (
            "auto"
            if AUTO_NAME.match(p.name)
            else ("before-restore" if p.name.startswith(BEFORE_RESTORE_PREFIX) else "other")
        )
        st = p.stat()
        found.append(BackupFile(p, kind, st.st_size, datetime.fromtimestamp(st.st_mtime).replace(microsecond=0)))
    return sorted(found, key=lambda b: (b.modified, b.name), reverse=True)
