"""Temporary files of a backup or restore that was killed midway, removed at the next start.

A backup is written under ``.<name>.<8 hex>.tmp`` beside its target, a restore under
``.<db>.<8 hex>.restore`` beside the live database, a recovered signing key under
``<db>.key.<8 hex>.tmp``, a download or a restore's private copy in a ``sipas-backup-*`` /
``sipas-restore-*`` folder of the system's temporary folder; each with SQLite's ``-journal`` beside
it. A killed process leaves them (200 MB and more for a large database). Removed here are exactly
those names, and only when:

* the file is older than :data:`MIN_AGE` (a backup may be running in another process right now);
* it is what its name claims: a SQLite file (or a rollback journal) by its header, a key by its shape
  (at most 64 hexadecimal characters), or empty (a process killed before writing anything);
* a temporary folder holds nothing but the files this product writes there.

Anything else with a similar name is left alone and never opened for writing. Each removal is logged.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

from sipas.admin.check import SQLITE_HEADER

MIN_AGE = 600.0  # seconds: a daily backup of a 200 MB database takes a few seconds, never ten minutes
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
_HEX8 = "[0-9a-f]{8}"
_KEY_SHAPE = re.compile(rb"[0-9a-f]{0,64}\s*")
# tempfile.TemporaryDirectory's random part: 8 characters of "abcdefghijklmnopqrstuvwxyz0123456789_".
TEMP_FOLDER = re.compile(r"^sipas-(backup|restore)-[a-z0-9_]{8}$")
_TEMP_FOLDER_FILES = {
    "backup": re.compile(rf"^(sipas\.db|\.sipas\.db\.{_HEX8}\.tmp)(-journal)?$"),
    "restore": re.compile(r"^candidate\.db(-journal|-wal|-shm)?$"),
}

log = logging.getLogger("sipas.admin.leftovers")


def _head(path: Path, n: int = 128) -> bytes | None:
    try:
        with path.open("rb") as f:
            return f.read(n)
    except OSError:
        return None


def _is_sqlite_part(path: Path) -> bool:
    """A SQLite database by its header, a rollback journal (magic or a zeroed header), or empty."""
    head = _head(path, 16)
    if head is None:
        return False
    if path.name.endswith("-journal"):
        return head == b"" or head[:8] in (JOURNAL_MAGIC, bytes(8))
    if path.name.endswith(("-wal", "-shm")):
        return True  # only inside a folder already known to be a restore's own (see _temp_folder_ok)
    return head == b"" or head == SQLITE_HEADER


def _is_key_part(path: Path) -> bool:
    head = _head(path, 80)
    return head is not None and _KEY_SHAPE.fullmatch(head) is not None


def _old_regular_file(path: Path, cutoff: float) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff


def _remove_file(path: Path, what: str) -> bool:
    try:
        path.unlink()
    except OSError as exc:
        log.warning("Không xóa được %s %s: %s", what, path, exc)
        return False
    log.warning("Đã xóa %s (sao lưu hoặc khôi phục bị ngắt): %s", what, path)
    return True


def _scan_folder(folder: Path, patterns: list[tuple[re.Pattern, str, object]], cutoff: float) -> list[Path]:
    removed = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        for pattern, what, is_shaped in patterns:
            if pattern.fullmatch(path.name) and _old_regular_file(path, cutoff) and is_shaped(path):
                if _remove_file(path, what):
                    removed.append(path)
                break
    return removed


def _temp_folder_ok(folder: Path, kind: str, cutoff: float) -> bool:
    """Only this user's folder, old, holding nothing but the product's own files, each of its shape."""
    try:
        st = folder.lstat()
        if not stat.S_ISDIR(st.st_mode) or st.st_mtime >= cutoff:
            return False
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return False
        files = list(folder.iterdir())
    except OSError:
        return False
    allowed = _TEMP_FOLDER_FILES[kind]
    return all(allowed.fullmatch(p.name) and _old_regular_file(p, cutoff) and _is_sqlite_part(p) for p in files)


def remove_leftovers(
    db_path: str | Path,
    backup_dir: str | Path | None = None,
    *,
    temp_dir: str | Path | None = None,
    now: float | None = None,
    min_age: float = MIN_AGE,
) -> list[Path]:
    """Remove what killed backups and restores of the database at ``db_path`` left behind; return it.

    Looks in ``backup_dir`` (the backup folder; skipped when None), beside the database and in
    ``temp_dir`` (default: the system's temporary folder). See the module docstring for what is
    removed; a file or folder that cannot be removed is logged and left.
    """
    live = Path(db_path)
    cutoff = (time.time() if now is None else now) - min_age
    db_name = re.escape(live.name)
    removed: list[Path] = []
    if backup_dir is not None:
        backup_tmp = re.compile(rf"^\..+\.{_HEX8}\.tmp(-journal)?$")
        removed += _scan_folder(Path(backup_dir), [(backup_tmp, "tệp sao lưu dở dang", _is_sqlite_part)], cutoff)
    beside_db = [
        (re.compile(rf"^\.{db_name}\.{_HEX8}\.restore(-journal)?$"), "tệp khôi phục dở dang", _is_sqlite_part),
        (re.compile(rf"^{db_name}\.key\.{_HEX8}\.tmp$"), "tệp khóa ghi dở", _is_key_part),
    ]
    removed += _scan_folder(live.parent, beside_db, cutoff)
    temp = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    try:
        folders = sorted(p for p in temp.iterdir() if TEMP_FOLDER.fullmatch(p.name))
    except OSError:
        folders = []
    for folder in folders:
        kind = TEMP_FOLDER.fullmatch(folder.name).group(1)
        if not _temp_folder_ok(folder, kind, cutoff):
            continue
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            log.warning("Không xóa được thư mục tạm %s: %s", folder, exc)
            continue
        log.warning(
            "Đã xóa thư mục tạm của một lần %s bị ngắt: %s", "sao lưu" if kind == "backup" else "khôi phục", folder
        )
        removed.append(folder)
    return removed


def backup_folder_of(db_path: str | Path) -> Path:
    """The backup folder the database's settings name (``backups/`` beside it when unreadable)."""
    import sqlite3
    from contextlib import closing

    from sipas.admin.backup import configured_backup_dir

    live = Path(db_path)
    if live.is_file():
        try:
            with closing(sqlite3.connect(f"{live.resolve().as_uri()}?mode=ro", uri=True)) as conn:
                return configured_backup_dir(conn)
        except (sqlite3.Error, OSError, ValueError):
            pass  # not (yet) a product database: the default folder
    return live.parent / "backups"


def remove_leftovers_at_start(db_path: str | Path, *also: str | Path) -> list[Path]:
    """:func:`remove_leftovers` for the database's backup folder (and the folders ``also``); never
    raises (a start must not fail because of a leftover), what failed is logged."""
    removed: list[Path] = []
    try:
        removed += remove_leftovers(db_path, backup_folder_of(db_path))
        for folder in also:
            removed += remove_leftovers(db_path, folder, temp_dir=os.devnull)
    except Exception:  # a cleanup must never stop the app or a command
        log.exception("Dọn tệp tạm của lần sao lưu hoặc khôi phục bị ngắt không thành công")
    return removed
