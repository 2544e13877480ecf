"""Backups, restores and the database check: a year of evidence must survive a broken disk or a bad day.

* A backup is made with SQLite's online backup API (``sqlite3.Connection.backup``), never by copying
  the file: it is a consistent snapshot of the committed data even while tablets keep writing (WAL),
  and the copy is switched to ``journal_mode=DELETE`` so that it is one standalone file. A copy that
  fails ``PRAGMA integrity_check`` is not kept, so a damaged database never pushes good daily copies
  out of the folder. The copy is written under a temporary name, synced, then renamed into place.
* A restore first checks the file on a private copy (an SQLite file of this product, sound, of a
  known schema version, migratable), keeps the database it replaces as
  ``<backup_dir>/before-restore-<timestamp>.db``, then copies the checked file into the live path with
  the backup API (one transaction, safe while other connections are open) and migrates it. Anything
  refused leaves the live database untouched.
* :func:`check` compares the roll-up tables with the raw rows and looks for rows that point nowhere.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import threading
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sipas import db
from sipas.errors import DatabaseError, ValidationError
from sipas.paths import ROOT

SQLITE_HEADER = b"SQLite format 3\x00"
AUTO_NAME = re.compile(r"^sipas-(\d{4}-\d{2}-\d{2})\.db$")
BEFORE_RESTORE_PREFIX = "before-restore-"
# Tables every version of the product has had (a file without application_id must still have them).
PRODUCT_TABLES = frozenset({"responses", "answers", "staff", "settings"})
MAX_LISTED = 20  # mismatches listed one by one before "… and N more"

_auto_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------
# Messages (Vietnamese, shown as they are by the CLI and the page)
# ---------------------------------------------------------------------------------------------


def msg_not_found(path: Path | str) -> str:
    return f"Không tìm thấy tệp {path}."


def msg_not_sqlite(name: str) -> str:
    return f"Tệp {name} không phải là cơ sở dữ liệu SQLite. Hãy chọn một tệp sao lưu .db của phần mềm."


def msg_foreign(name: str) -> str:
    return f"Tệp {name} là cơ sở dữ liệu SQLite nhưng không phải của phần mềm khảo sát này."


def msg_corrupt(name: str) -> str:
    return f"Tệp {name} bị hỏng (không qua được kiểm tra toàn vẹn của SQLite). Hãy chọn một bản sao lưu khác."


def msg_newer(name: str, version: int) -> str:
    return (
        f"Tệp {name} có phiên bản cấu trúc {version}, mới hơn phần mềm này ({db.SCHEMA_VERSION}). "
        "Hãy cập nhật phần mềm trước khi khôi phục."
    )


def msg_not_migratable(name: str, reason: str) -> str:
    return f"Tệp {name} không nâng cấp được lên phiên bản cấu trúc {db.SCHEMA_VERSION}: {reason}"


def msg_open_wal(name: str) -> str:
    return (
        f"Tệp {name} đang được một chương trình khác mở (có tệp {name}-wal đi kèm). "
        'Hãy tạo bản sao lưu bằng lệnh "python -m sipas backup" rồi khôi phục từ bản đó.'
    )


OK_MESSAGE = "Cơ sở dữ liệu không có lỗi."


# ---------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open a directory, and does not need it."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _require_sqlite(path: Path) -> None:
    """Refuse a non-empty file without the SQLite header (SQLite itself fails later and less clearly)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(f"Không đọc được tệp {path}: {_reason(exc)}.") from None
    if head and head != SQLITE_HEADER:
        raise DatabaseError(f"Tệp {path} không phải là cơ sở dữ liệu SQLite.")


def _online_copy(src_path: Path, dst_path: Path, verify: bool = True) -> None:
    """Snapshot ``src_path`` into the new file ``dst_path`` with the backup API; standalone, checked."""
    _require_sqlite(src_path)
    with closing(db.connect(src_path)) as src, closing(sqlite3.connect(str(dst_path), isolation_level=None)) as dst:
        try:
            # pages=-1: the whole database in one step, i.e. one read transaction on the source.
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"Không sao lưu được {src_path}: {_reason(exc)}") from None
        if db.set_journal_mode(dst, "delete") != "delete":
            raise DatabaseError(f"Không chuyển được bản sao {dst_path} sang một tệp độc lập.")
        if verify and db.integrity_problems(dst, limit=1):
            raise DatabaseError(
                f"Bản sao của {src_path} không qua được kiểm tra toàn vẹn: cơ sở dữ liệu đang dùng có thể đã hỏng. "
                'Chưa ghi bản sao lưu nào. Hãy chạy "python -m sipas check" và khôi phục từ một bản sao lưu tốt.'
            )


def backup_to(db_path: str | Path, out: str | Path, *, verify: bool = True) -> Path:
    """Write a consistent, standalone copy of the database at ``db_path`` to ``out``; return ``out``.

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
        _online_copy(src, tmp, verify=verify)
        _fsync_file(tmp)
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    except OSError as exc:
        raise DatabaseError(f"Không ghi được tệp sao lưu {out}: {_reason(exc)}") from None
    except sqlite3.Error as exc:
        raise DatabaseError(f"Không ghi được tệp sao lưu {out}: {_reason(exc)}") from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)
    return out


def backup_bytes(db_path: str | Path) -> bytes:
    """A fresh online backup as bytes (for a download)."""
    with tempfile.TemporaryDirectory(prefix="sipas-backup-") as tmp:
        return backup_to(db_path, Path(tmp) / "sipas.db").read_bytes()


def resolve_backup_dir(value: str | Path) -> Path:
    """The ``backup_dir`` setting as a path: relative to the project root unless absolute."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else ROOT / path


def configured_backup_dir(conn: sqlite3.Connection) -> Path:
    """The backup folder the settings name; by default ``backups/`` beside the database file
    (``data/backups`` for the default ``data/sipas.db``)."""
    from sipas import settings

    value = settings.get(conn, "backup_dir")
    if not value:
        main = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
        return Path(main).parent / "backups" if main else ROOT / "data" / "backups"
    return resolve_backup_dir(value)


def _local(now: datetime | None) -> datetime:
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
    the existing backups are then left as they were.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValidationError("Số bản sao lưu tự động cần giữ phải là số nguyên ≥ 1.")
    folder = Path(backup_dir)
    target = folder / f"sipas-{_local(now).date().isoformat()}.db"
    if target.exists() or not Path(db_path).is_file():
        return None
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


# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    source: str
    schema_from: int
    schema_to: int
    responses: int
    previous: Path | None  # where the replaced database was kept
    previous_is_raw_copy: bool  # the replaced database was unreadable: its files were copied as they were

    def message(self) -> str:
        upgraded = (
            f", đã nâng cấp cấu trúc từ phiên bản {self.schema_from} lên {self.schema_to}"
            if self.schema_from != self.schema_to
            else ""
        )
        kept = "" if self.previous is None else f" Cơ sở dữ liệu trước đó được giữ tại {self.previous}."
        return f"Đã khôi phục từ {self.source}: {self.responses} phiếu{upgraded}.{kept}"


def _header_page_size(path: Path) -> int | None:
    """The page size written in an SQLite file's header, or None if it is not a readable SQLite file."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError:
        return None
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        return None
    size = int.from_bytes(head[16:18], "big")
    return 65536 if size == 1 else size


def _stage(source: str | Path | bytes, staged: Path, name: str | None) -> str:
    """Copy the candidate into a private file (the user's file is never opened by SQLite)."""
    if isinstance(source, bytes | bytearray | memoryview):
        staged.write_bytes(bytes(source))
        return name or "tải lên"
    path = Path(source)
    label = name or path.name
    if not path.is_file():
        raise ValidationError(msg_not_found(path))
    wal = Path(f"{path}-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        # Committed data may still sit in the -wal file: a plain copy of the main file would lose it.
        raise ValidationError(msg_open_wal(label))
    try:
        shutil.copyfile(path, staged)
    except OSError as exc:
        raise ValidationError(f"Không đọc được tệp {path}: {_reason(exc)}.") from None
    return label


def _open_candidate(staged: Path, label: str, live_page_size: int | None) -> tuple[sqlite3.Connection, int]:
    """Check the staged file and migrate it; return (connection, schema version it had)."""
    with staged.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        raise ValidationError(msg_not_sqlite(label))
    conn = sqlite3.connect(str(staged), isolation_level=None, check_same_thread=False)
    try:
        try:
            app_id, version, tables = db.file_identity(conn)
        except sqlite3.DatabaseError:
            raise ValidationError(msg_corrupt(label)) from None
        if app_id != db.APP_ID and not (app_id == 0 and version > 0 and PRODUCT_TABLES <= tables):
            raise ValidationError(msg_foreign(label))
        if version > db.SCHEMA_VERSION:
            raise ValidationError(msg_newer(label, version))
        try:
            if db.integrity_problems(conn, limit=1):
                raise ValidationError(msg_corrupt(label))
            if live_page_size and db.page_size(conn) != live_page_size:
                db.set_journal_mode(conn, "delete")
                db.rebuild_with_page_size(conn, live_page_size)
        except sqlite3.DatabaseError:
            raise ValidationError(msg_corrupt(label)) from None
        try:
            db.migrate(conn)
        except DatabaseError as exc:
            raise ValidationError(msg_not_migratable(label, str(exc))) from None
        except sqlite3.Error as exc:
            raise ValidationError(msg_not_migratable(label, _reason(exc))) from None
        return conn, version
    except BaseException:
        conn.close()
        raise


def _unique(path: Path) -> Path:
    candidate, i = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{i}{path.suffix}")
        i += 1
    return candidate


def _keep_previous(live: Path, backup_dir: Path, now: datetime) -> tuple[Path, bool]:
    """Keep the database about to be replaced: an online copy, or its raw files if it is unreadable."""
    target = _unique(backup_dir / f"{BEFORE_RESTORE_PREFIX}{now:%Y%m%d-%H%M%S}.db")
    try:
        # Not verified: the database being replaced may well be the damaged one; keep it as it is.
        return backup_to(live, target, verify=False), False
    except DatabaseError:
        pass
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(live, target)
        wal = Path(f"{live}-wal")
        if wal.is_file():
            shutil.copy2(wal, Path(f"{target}-wal"))
    except OSError as exc:
        raise DatabaseError(
            f"Không giữ lại được cơ sở dữ liệu hiện tại vào {target}: {_reason(exc)}. Chưa khôi phục gì."
        ) from None
    return target, True


def restore(
    db_path: str | Path,
    source: str | Path | bytes,
    *,
    name: str | None = None,
    backup_dir: str | Path | None = None,
    now: datetime | None = None,
    actor: str | None = None,
) -> RestoreResult:
    """Replace the database at ``db_path`` with the backup ``source`` (a path, or uploaded bytes).

    The file is checked first (see the module docstring); a refused file raises
    :class:`ValidationError` with a Vietnamese message and the live database is not touched. The
    replaced database is kept in ``backup_dir`` (default: the folder the settings name) before the
    checked copy is written into the live path with the backup API and migrated. The restore is
    recorded in the restored database's audit log.
    """
    live = Path(db_path)
    live_page_size = _header_page_size(live) if live.is_file() else None
    with tempfile.TemporaryDirectory(prefix="sipas-restore-") as tmp:
        staged = Path(tmp) / "candidate.db"
        label = _stage(source, staged, name)
        cand, schema_from = _open_candidate(staged, label, live_page_size)
        with closing(cand):
            # Every check has passed: from here on the live database changes.
            previous, raw = None, False
            if live.is_file():
                folder = Path(backup_dir) if backup_dir is not None else _configured_dir_or_default(live)
                previous, raw = _keep_previous(live, folder, _local(now))
            kept = f" Bản trước khi khôi phục ở {previous}." if previous else ""
            try:
                if live.is_file() and live_page_size is None:
                    # Its header is gone: SQLite cannot write into it; a new file takes its place.
                    _replace_file(cand, live)
                else:
                    live.parent.mkdir(parents=True, exist_ok=True)
                    with closing(db.connect(live)) as dst:
                        cand.backup(dst)  # one transaction: all of it or, on failure, none of it
            except (sqlite3.Error, OSError) as exc:
                raise DatabaseError(f"Không ghi được dữ liệu khôi phục vào {live}: {_reason(exc)}.{kept}") from None
    with closing(db.connect(live)) as dst:
        db.migrate(dst)
        with db.transaction(dst):
            db.log_audit(
                dst, actor, "restore", "database", None, label, None if previous is None else f"trước đó: {previous}"
            )
        responses = db.count_responses(dst)
        try:
            db.checkpoint(dst)
        except sqlite3.OperationalError:
            pass  # busy readers: the WAL is checkpointed later
    return RestoreResult(label, schema_from, db.SCHEMA_VERSION, responses, previous, raw)


def _configured_dir_or_default(live: Path) -> Path:
    from sipas import settings

    try:
        with closing(db.connect(live)) as c:
            return configured_backup_dir(c)
    except sqlite3.Error:  # an unreadable database: its settings too
        return resolve_backup_dir(settings.DEFAULTS["backup_dir"])


def _replace_file(cand: sqlite3.Connection, live: Path) -> None:
    tmp = live.with_name(f".{live.name}.{uuid.uuid4().hex[:8]}.restore")
    try:
        with closing(sqlite3.connect(str(tmp), isolation_level=None)) as out:
            cand.backup(out)
            db.set_journal_mode(out, "delete")
        _fsync_file(tmp)
        for stale in (Path(f"{live}-wal"), Path(f"{live}-shm")):
            stale.unlink(missing_ok=True)
        os.replace(tmp, live)
        _fsync_dir(live.parent)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Check
# ---------------------------------------------------------------------------------------------


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return lines[:MAX_LISTED] + [f"… và {len(lines) - MAX_LISTED} {what} khác."]


def _fmt_levels(counts: tuple[int, ...]) -> str:
    return ", ".join(f"mức {i}: {n}" for i, n in enumerate(counts[:5], start=1)) + f", không ý kiến: {counts[5]}"


def _where(key: tuple[str, ...]) -> str:
    """'ngày …, phiếu …[, kênh …, lĩnh vực …, cán bộ …]' for a roll-up key."""
    parts = [f"ngày {key[0]}", f"phiếu {key[1]}"]
    if len(key) >= 5:
        parts += [f"kênh {key[2]}", f"lĩnh vực {key[3] or '(không ghi)'}", f"cán bộ {key[4] or '(không ghi)'}"]
    return ", ".join(parts)


def _response_mismatches(table: str, stored: dict, direct: dict) -> list[str]:
    return [
        f"Bảng tổng hợp {table} lệch: {_where(key)}: tổng hợp ghi {stored.get(key, 0)}, "
        f"đếm lại từ phiếu gốc được {direct.get(key, 0)}."
        for key in sorted(stored.keys() | direct.keys())
        if stored.get(key, 0) != direct.get(key, 0)
    ]


def _level_mismatches(table: str, stored: dict, direct: dict) -> list[str]:
    zero = (0,) * 6
    return [
        f"Bảng tổng hợp {table} lệch: {_where(key[:-1])}, tiêu chí {key[-1]}: "
        f"tổng hợp ghi ({_fmt_levels(stored.get(key, zero))}), "
        f"đếm lại từ câu trả lời gốc được ({_fmt_levels(direct.get(key, zero))})."
        for key in sorted(stored.keys() | direct.keys())
        if stored.get(key, zero) != direct.get(key, zero)
    ]


def check(conn: sqlite3.Connection) -> list[str]:
    """Problems found in an open, migrated database (an empty list: none).

    SQLite's ``integrity_check`` and ``foreign_key_check``; every roll-up (``daily_responses``,
    ``daily_counts``, ``dim_responses``, ``dim_counts``) against the counts recomputed from the raw
    rows, key by key (stricter than comparing totals: a count moved from one day, channel, lĩnh vực
    or staff member to another is found too); answers to a criterion
    that their response's questionnaire version does not have; responses naming an unknown
    questionnaire version; responses naming a staff code that is not in the roster.
    """
    from sipas.catalog import questionnaires

    problems = [f"Kiểm tra toàn vẹn (integrity_check): {p}" for p in db.integrity_problems(conn, limit=MAX_LISTED)]
    if problems:
        # The other checks would read damaged pages; fix (restore) first.
        return problems

    for table, parent, n in db.foreign_key_violations(conn):
        if (table, parent) == ("responses", "staff"):
            continue  # reported below, by staff code
        problems.append(
            f"Khóa ngoại (foreign_key_check): {n} dòng của bảng {table} "
            f"trỏ tới bảng {parent} nhưng dòng đó không tồn tại."
        )

    # Every roll-up against the raw rows, key by key (stricter than comparing totals: a count moved
    # from one day, channel, lĩnh vực or staff member to another is found too). A roll-up row
    # emptied by an exclusion stays behind at zero: missing and zero are the same.
    direct_dims = db.direct_level_counts_by_dims(conn)  # one pass over the answers serves both
    problems += _capped(
        _response_mismatches("daily_responses", db.rollup_responses_by_day(conn), db.direct_responses_by_day(conn)),
        "ngày lệch",
    )
    problems += _capped(
        _level_mismatches("daily_counts", db.rollup_level_counts_by_day(conn), db.by_day_from_dims(direct_dims)),
        "chỗ lệch",
    )
    problems += _capped(
        _response_mismatches("dim_responses", db.rollup_responses_by_dims(conn), db.direct_responses_by_dims(conn)),
        "chỗ lệch",
    )
    problems += _capped(_level_mismatches("dim_counts", db.rollup_level_counts_by_dims(conn), direct_dims), "chỗ lệch")

    known = questionnaires()
    for code, n in sorted(db.response_questionnaire_counts(conn).items()):
        if code not in known:
            problems.append(
                f'{n} phiếu ghi phiên bản phiếu "{code}" không có trong danh mục '
                f"(các phiên bản có: {', '.join(sorted(known))})."
            )
    for code, criterion, n in db.answer_criterion_counts(conn):
        if code in known and criterion not in known[code].criterion_codes:
            problems.append(f"{n} câu trả lời cho tiêu chí {criterion} không có trong phiếu {code}.")

    for code, n in db.unknown_staff_code_counts(conn).items():
        problems.append(f'{n} phiếu ghi mã cán bộ "{code}" không có trong danh sách cán bộ.')
    return problems


def check_database(db_path: str | Path) -> list[str]:
    """:func:`check` on the database file at ``db_path`` (an older schema is migrated first).

    Raises :class:`ValidationError` if there is no such file and :class:`DatabaseError` if it is not
    a database of this product.
    """
    path = Path(db_path)
    if not path.is_file():
        raise ValidationError(f"Không tìm thấy cơ sở dữ liệu {path}.")
    _require_sqlite(path)
    with closing(db.connect(path)) as conn:
        try:
            app_id, version, tables = db.file_identity(conn)
        except sqlite3.DatabaseError as exc:
            return [f"Kiểm tra toàn vẹn (integrity_check): {_reason(exc)}"]
        if app_id != db.APP_ID and not (app_id == 0 and version > 0 and PRODUCT_TABLES <= tables):
            raise DatabaseError(msg_foreign(str(path)))
        try:
            damaged = db.integrity_problems(conn, limit=MAX_LISTED)
        except sqlite3.DatabaseError as exc:
            damaged = [_reason(exc)]
        if damaged:
            return [f"Kiểm tra toàn vẹn (integrity_check): {p}" for p in damaged]
        if version != db.SCHEMA_VERSION:
            # An older file is upgraded, as opening it anywhere does (a newer one is refused); a
            # current one is only read, so checking a backup file leaves it as it was.
            db.migrate(conn)
        return check(conn)
