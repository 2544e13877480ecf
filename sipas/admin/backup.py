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

import functools
import hashlib
import hmac
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
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


def msg_altered(name: str) -> str:
    return (
        f"Tệp {name} đã bị sửa sau khi phần mềm này sao lưu (chữ ký không khớp). "
        "Không khôi phục tệp này; hãy chọn một bản sao lưu khác."
    )


def msg_unsigned(name: str) -> str:
    return (
        f"Tệp {name} không có chữ ký của hệ thống này (tệp của một cài đặt khác, của phiên bản cũ, hoặc đã bị sửa). "
        "Chỉ khôi phục nếu chắc chắn tệp đến từ nguồn tin cậy: quản trị viên phải xác nhận chấp nhận tệp này."
    )


def msg_foreign_key(name: str) -> str:
    return (
        f"Tệp {name} được ký bởi một cài đặt khác của phần mềm (không phải máy này). "
        "Chỉ khôi phục nếu chắc chắn tệp đến từ nguồn tin cậy: quản trị viên phải xác nhận chấp nhận tệp này."
    )


def msg_schema(name: str, version: int, problems: list[str]) -> str:
    return (
        f"Tệp {name} có cấu trúc khác với cấu trúc của phần mềm ở phiên bản {version}, nên không được khôi phục: "
        + "; ".join(problems)
        + "."
    )


def msg_check_failed(name: str, problems: list[str]) -> str:
    return f"Tệp {name} không qua được kiểm tra cơ sở dữ liệu, nên không được khôi phục: " + " ".join(
        _capped(problems, "lỗi")
    )


OK_MESSAGE = "Cơ sở dữ liệu không có lỗi."


class UnsignedBackupError(ValidationError):
    """The file is not signed by this installation: restorable only when an administrator accepts it."""


# ---------------------------------------------------------------------------------------------
# Signatures: HMAC-SHA256 with this installation's secret, appended after the last page
# ---------------------------------------------------------------------------------------------
# The trailer (magic, key id, MAC over every byte before it) sits past the database's last page:
# SQLite reads only the pages its header counts, so a signed backup is still an ordinary SQLite
# file; any edit changes the bytes the MAC covers (or, growing the file, overwrites the trailer).

SIG_MAGIC = b"\nSIPAS-HMAC-SHA256-v1\n"
SIG_LEN = len(SIG_MAGIC) + 16 + 32
_CHUNK = 1 << 20


def key_path(db_path: str | Path) -> Path:
    """The secret of the installation whose database is ``db_path``: ``<db>.key`` beside it."""
    return Path(f"{db_path}.key")


def installation_key(db_path: str | Path, create: bool = True) -> bytes | None:
    """The 32-byte secret kept beside the database (created, mode 0600, at first use)."""
    path = key_path(db_path)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise DatabaseError(f"Không đọc được khóa ký bản sao lưu {path}: {_reason(exc)}.") from None
    if not create:
        return None
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return installation_key(db_path, create=False)
    except OSError:
        return None  # a read-only folder: backups are written unsigned
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex())
        f.flush()
        os.fsync(f.fileno())
    return key


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"sipas-backup-key-id:" + key).digest()[:16]


def _mac(key: bytes, path: Path, length: int) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    with path.open("rb") as f:
        left = length
        while left > 0:
            chunk = f.read(min(_CHUNK, left))
            if not chunk:
                break
            mac.update(chunk)
            left -= len(chunk)
    return mac.digest()


def sign_file(path: Path, key: bytes) -> None:
    """Append the signature trailer to the backup file ``path``."""
    size = path.stat().st_size
    trailer = SIG_MAGIC + _key_id(key) + _mac(key, path, size)
    with path.open("ab") as f:
        f.write(trailer)


def _read_trailer(path: Path) -> tuple[int, bytes, bytes] | None:
    """(length of the signed content, key id, MAC) if the file ends with a signature trailer."""
    size = path.stat().st_size
    if size < SIG_LEN + len(SQLITE_HEADER):
        return None
    with path.open("rb") as f:
        f.seek(size - SIG_LEN)
        tail = f.read(SIG_LEN)
    if not tail.startswith(SIG_MAGIC):
        return None
    rest = tail[len(SIG_MAGIC) :]
    return size - SIG_LEN, rest[:16], rest[16:]


def signature_status(path: Path, key: bytes | None) -> str:
    """``"signed"`` (by ``key``, unchanged), ``"altered"`` (by ``key``, changed since), ``"foreign"``
    (another installation's key) or ``"unsigned"``. The trailer, if any, is cut off ``path``."""
    trailer = _read_trailer(path)
    if trailer is None:
        return "unsigned"
    length, key_id, mac = trailer
    if key is None or not hmac.compare_digest(key_id, _key_id(key)):
        status = "foreign"
    else:
        status = "signed" if hmac.compare_digest(mac, _mac(key, path, length)) else "altered"
    os.truncate(path, length)
    return status


# ---------------------------------------------------------------------------------------------
# The product's own schema
# ---------------------------------------------------------------------------------------------

_KIND = {"table": "bảng", "view": "view", "index": "chỉ mục", "trigger": "trigger"}
_ORDER = {kind: i for i, kind in enumerate(_KIND)}


def _by_kind(keys) -> list[tuple[str, str]]:
    return sorted(keys, key=lambda k: (_ORDER[k[0]], k[1]))


@functools.cache
def reference_schema(version: int) -> dict[tuple[str, str], str]:
    """The schema objects an empty database migrated to ``version`` has (the product's own)."""
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as conn:
        db.migrate(conn, target=version)
        return db.schema_objects(conn)


def schema_problems(conn: sqlite3.Connection, version: int | None = None) -> list[str]:
    """Every table, index, trigger or view that is extra, missing or different from the product's own
    schema at ``version`` (default: the file's own version), one line each (Vietnamese)."""
    version = db.schema_version(conn) if version is None else version
    if not 0 < version <= db.SCHEMA_VERSION:
        return [f"phiên bản cấu trúc {version} không phải của phần mềm"]
    want, have = reference_schema(version), db.schema_objects(conn)
    lines = []
    for kind, name in _by_kind(have.keys() - want.keys()):
        lines.append(f"thừa {_KIND[kind]} {name}")
    for kind, name in _by_kind(want.keys() - have.keys()):
        lines.append(f"thiếu {_KIND[kind]} {name}")
    for kind, name in _by_kind(want.keys() & have.keys()):
        if want[kind, name] != have[kind, name]:
            lines.append(f"{_KIND[kind]} {name} bị thay đổi định nghĩa")
    return lines


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
        key = installation_key(src)
        if key is not None:
            sign_file(tmp, key)
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
    from sipas.admin import settings

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


def _open_candidate(
    staged: Path, label: str, live_page_size: int | None, key: bytes | None, accept_foreign: bool
) -> tuple[sqlite3.Connection, int]:
    """Check the staged file (identity, integrity, signature, exact schema) and migrate it; return
    (connection, schema version it had). Any refusal raises :class:`ValidationError`."""
    with staged.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        raise ValidationError(msg_not_sqlite(label))
    signature = signature_status(staged, key)  # cuts the trailer off the private copy
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
        except sqlite3.DatabaseError:
            raise ValidationError(msg_corrupt(label)) from None
        if signature == "altered":
            raise ValidationError(msg_altered(label))
        if signature != "signed" and not accept_foreign:
            raise UnsignedBackupError(msg_foreign_key(label) if signature == "foreign" else msg_unsigned(label))
        try:
            differences = schema_problems(conn, version)
        except sqlite3.Error as exc:
            raise ValidationError(msg_corrupt(label) + f" ({_reason(exc)})") from None
        if differences:
            raise ValidationError(msg_schema(label, version, differences))
        try:
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
        differences = schema_problems(conn, db.SCHEMA_VERSION)
        if differences:
            raise ValidationError(msg_schema(label, db.SCHEMA_VERSION, differences))
        return conn, version
    except BaseException:
        conn.close()
        raise


def _live_accounts(live: Path) -> dict:
    """The live installation's accounts, failed logins and sessions (none if it is unreadable)."""
    if not live.is_file() or _header_page_size(live) is None:
        return {}
    try:
        with closing(db.connect(live)) as c:
            return db.account_rows(c)
    except sqlite3.Error:
        return {}


def _adopt_live_accounts(
    cand: sqlite3.Connection, label: str, accounts: dict, keep_token: str | None, now: float
) -> None:
    """Accounts never come from a restored file: put the live ones in, end every other session,
    and run the full check on the result (still in the private copy)."""
    try:
        with db.transaction(cand):
            db.replace_account_rows(cand, accounts)
            db.end_sessions_except(cand, now, "restore", keep_token)
    except sqlite3.Error as exc:
        raise ValidationError(msg_not_migratable(label, _reason(exc))) from None
    try:
        problems = check(cand)
    except sqlite3.Error as exc:
        problems = [_reason(exc)]
    if problems:
        raise ValidationError(msg_check_failed(label, problems))


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
    keep_session: str | None = None,
    accept_foreign: bool = False,
) -> RestoreResult:
    """Replace the database at ``db_path`` with the backup ``source`` (a path, or uploaded bytes).

    The file is checked on a private copy first: SQLite file of this product, sound, signed by this
    installation (a file signed elsewhere or unsigned only with ``accept_foreign``; a file altered
    since it was signed never), schema objects exactly the product's own for its version, migrated,
    the live accounts put in (accounts, roles and sessions never come from the file; every session
    but ``keep_session``, the restorer's token, is ended), and :func:`check` without a problem. A
    refused file raises :class:`ValidationError` (:class:`UnsignedBackupError` for an unsigned or
    foreign one) and the live database is not touched. The replaced database is kept beside it (in
    ``backup_dir``, default: the folder the settings name, or ``backups/`` beside the database)
    before the checked copy is written into the live path with the backup API.
    """
    from sipas.admin import auth

    live = Path(db_path)
    live_page_size = _header_page_size(live) if live.is_file() else None
    key = installation_key(live)
    moment = _local(now)
    with tempfile.TemporaryDirectory(prefix="sipas-restore-") as tmp:
        staged = Path(tmp) / "candidate.db"
        label = _stage(source, staged, name)
        cand, schema_from = _open_candidate(staged, label, live_page_size, key, accept_foreign)
        with closing(cand):
            keep_token = auth.token_key(keep_session) if keep_session else None
            _adopt_live_accounts(cand, label, _live_accounts(live), keep_token, time.time())
            # Every check has passed: from here on the live database changes.
            previous, raw = None, False
            if live.is_file():
                folder = Path(backup_dir) if backup_dir is not None else _configured_dir_or_default(live)
                previous, raw = _keep_previous(live, folder, moment)
            with db.transaction(cand):
                db.log_audit(
                    cand,
                    actor,
                    "restore",
                    "database",
                    None,
                    label,
                    None if previous is None else f"trước đó: {previous}",
                )
            responses = db.count_responses(cand)
            kept = f" Bản trước khi khôi phục ở {previous}." if previous else ""
            try:
                if live.is_file() and live_page_size is None:
                    # Its header is gone: SQLite cannot write into it; a new file takes its place.
                    _replace_file(cand, live)
                else:
                    live.parent.mkdir(parents=True, exist_ok=True)
                    with closing(db.connect(live)) as dst:
                        cand.backup(dst)  # one transaction: all of it or, on failure, none of it
                        try:
                            db.checkpoint(dst)
                        except sqlite3.OperationalError:
                            pass  # busy readers: the WAL is checkpointed later
            except (sqlite3.Error, OSError) as exc:
                raise DatabaseError(f"Không ghi được dữ liệu khôi phục vào {live}: {_reason(exc)}.{kept}") from None
    return RestoreResult(label, schema_from, db.SCHEMA_VERSION, responses, previous, raw)


def _configured_dir_or_default(live: Path) -> Path:
    try:
        with closing(db.connect(live)) as c:
            return configured_backup_dir(c)
    except sqlite3.Error:  # an unreadable database: its settings too; the copy still goes beside it
        return live.parent / "backups"


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


def _mismatch_line(table: str, key: tuple, kept: tuple, recounted: tuple) -> str:
    if len(kept) == 1:  # a count of responses
        return (
            f"Bảng tổng hợp {table} lệch: {_where(key)}: tổng hợp ghi {kept[0]}, "
            f"đếm lại từ phiếu gốc được {recounted[0]}."
        )
    return (
        f"Bảng tổng hợp {table} lệch: {_where(key[:-1])}, tiêu chí {key[-1]}: "
        f"tổng hợp ghi ({_fmt_levels(kept)}), đếm lại từ câu trả lời gốc được ({_fmt_levels(recounted)})."
    )


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
    problems += _schema_check_lines(conn)
    problems += _timestamp_check_lines(conn)

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
    db.recount_rollups(conn)
    try:
        for table, what in (
            ("daily_responses", "ngày lệch"),
            ("daily_counts", "chỗ lệch"),
            ("dim_responses", "chỗ lệch"),
            ("dim_counts", "chỗ lệch"),
        ):
            problems += _capped([_mismatch_line(table, *m) for m in db.rollup_mismatches(conn, table)], what)
    finally:
        db.drop_recounts(conn)

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


def _schema_check_lines(conn: sqlite3.Connection) -> list[str]:
    """The schema compared with the product's own for this version: every extra, missing or changed
    table, index, trigger or view (a planted trigger, a dropped one), one line each."""
    return [f"Cấu trúc cơ sở dữ liệu khác với của phần mềm: {p}." for p in schema_problems(conn)]


def _timestamp_check_lines(conn: sqlite3.Connection) -> list[str]:
    """Responses whose time is not zero-padded ISO of a year from 2000 to next year (an older version's
    import let ``0001-01-01`` in as ``1-01-01 00:00:00``)."""
    from sipas.files import parsing

    n = db.malformed_timestamp_count(conn, parsing.MIN_YEAR, parsing.max_year())
    if not n:
        return []
    return [
        f"{n} phiếu có thời điểm khảo sát không hợp lệ (không đúng dạng YYYY-MM-DD HH:MM:SS "
        f"hoặc năm ngoài khoảng {parsing.MIN_YEAR}–{parsing.max_year()})."
    ]


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
