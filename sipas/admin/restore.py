"""Restores: put a backup back in place of the live database, only once it has been checked.

A restore first checks the file on a private copy (an SQLite file of this product, sound, signed by
this installation or accepted by an administrator, of a known schema version, migratable, passing
:func:`sipas.admin.check.check`), keeps the database it replaces as
``<backup_dir>/before-restore-<timestamp>.db``, then copies the checked file into the live path with
the backup API (one transaction, safe while other connections are open). Anything refused leaves the
live database untouched.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sipas import db
from sipas.admin import restore_lock
from sipas.admin.backup import (
    BEFORE_RESTORE_PREFIX,
    backup_to,
    configured_backup_dir,
    fsync_dir,
    fsync_file,
    local_time,
)
from sipas.admin.check import (
    PRODUCT_TABLES,
    SQLITE_HEADER,
    capped,
    check,
    msg_foreign,
    reason,
    schema_problems,
)
from sipas.admin.signing import installation_key, signature_status
from sipas.errors import DatabaseError, ValidationError

# ---------------------------------------------------------------------------------------------
# Messages (Vietnamese, shown as they are by the CLI and the page)
# ---------------------------------------------------------------------------------------------


def msg_not_found(path: Path | str) -> str:
    return f"Không tìm thấy tệp {path}."


def msg_not_sqlite(name: str) -> str:
    return f"Tệp {name} không phải là cơ sở dữ liệu SQLite. Hãy chọn một tệp sao lưu .db của phần mềm."


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
        capped(problems, "lỗi")
    )


class UnsignedBackupError(ValidationError):
    """The file is not signed by this installation: restorable only when an administrator accepts it."""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    source: str
    schema_from: int
    schema_to: int
    responses: int
    previous: Path | None  # where the replaced database was kept
    previous_is_raw_copy: bool  # the replaced database was unreadable: its files were copied as they were
    carried: int = 0  # tablet surveys received after the backup, carried into the restored database
    left_surveys: int = 0  # other surveys received after the backup (-1: the replaced database was damaged)
    left_audit: int = 0  # audit entries after the backup: only in the before-restore copy

    def message(self) -> str:
        upgraded = (
            f", đã nâng cấp cấu trúc từ phiên bản {self.schema_from} lên {self.schema_to}"
            if self.schema_from != self.schema_to
            else ""
        )
        kept = "" if self.previous is None else f" Cơ sở dữ liệu trước đó được giữ tại {self.previous}."
        carried = (
            f" {self.carried} phiếu từ máy tính bảng nhận sau thời điểm sao lưu đã được chuyển sang dữ liệu khôi phục."
            if self.carried
            else ""
        )
        return f"Đã khôi phục từ {self.source}: {self.responses} phiếu{upgraded}.{carried}{kept}{self.left_message()}"

    def left_message(self) -> str:
        """What the live database received after the backup and the restored one does not hold."""
        if not (self.left_surveys or self.left_audit) or self.previous is None:
            return ""
        if self.left_surveys < 0:
            return (
                " Chú ý: cơ sở dữ liệu bị thay thế đã hỏng nên không chuyển được phiếu nhận sau thời điểm "
                f"sao lưu; nó vẫn được giữ nguyên ở {self.previous.name}."
            )
        parts = []
        if self.left_surveys:
            parts.append(f"{self.left_surveys} phiếu")
        if self.left_audit:
            parts.append(f"{self.left_audit} thao tác trong nhật ký")
        return (
            f" Chú ý: {' và '.join(parts)} ghi nhận sau thời điểm sao lưu không có trong dữ liệu khôi phục; "
            f"chúng vẫn nằm trong bản {self.previous.name}. Hãy nhập lại các tệp phiếu đó "
            "(phiếu đã có không bị nhập đôi), hoặc khôi phục lại bản đó nếu cần toàn bộ."
        )


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
        raise ValidationError(f"Không đọc được tệp {path}: {reason(exc)}.") from None
    return label


def _open_candidate(
    staged: Path, label: str, live_page_size: int | None, key: bytes | None, accept_foreign: bool
) -> tuple[sqlite3.Connection, int, bool]:
    """Check the staged file (identity, integrity, signature, exact schema) and migrate it; return
    (connection, schema version it had, signed by this installation). Any refusal raises :class:`ValidationError`."""
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
            raise ValidationError(msg_corrupt(label) + f" ({reason(exc)})") from None
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
            raise ValidationError(msg_not_migratable(label, reason(exc))) from None
        differences = schema_problems(conn, db.SCHEMA_VERSION)
        if differences:
            raise ValidationError(msg_schema(label, db.SCHEMA_VERSION, differences))
        return conn, version, signature == "signed"
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
        raise ValidationError(msg_not_migratable(label, reason(exc))) from None
    try:
        problems = check(cand)
    except sqlite3.Error as exc:
        problems = [reason(exc)]
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
            f"Không giữ lại được cơ sở dữ liệu hiện tại vào {target}: {reason(exc)}. Chưa khôi phục gì."
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
    with restore_lock.hold(live):
        live_page_size = _header_page_size(live) if live.is_file() else None
        key = installation_key(live)
        moment = local_time(now)
        with tempfile.TemporaryDirectory(prefix="sipas-restore-") as tmp:
            staged = Path(tmp) / "candidate.db"
            label = _stage(source, staged, name)
            cand, schema_from, own = _open_candidate(staged, label, live_page_size, key, accept_foreign)
            with closing(cand):
                keep_token = auth.token_key(keep_session) if keep_session else None
                _adopt_live_accounts(cand, label, _live_accounts(live), keep_token, time.time())
                # Every check has passed: from here on the live database changes.
                folder = None
                if live.is_file():
                    folder = Path(backup_dir) if backup_dir is not None else _configured_dir_or_default(live)
                # Only a file of this installation shares the live database's history: surveys are
                # carried into it; into another's, they are only listed.
                return _swap(cand, live, folder, live_page_size, moment, actor, label, schema_from, own)


def _swap(
    cand: sqlite3.Connection,
    live: Path,
    folder: Path | None,
    live_page_size: int | None,
    moment: datetime,
    actor: str | None,
    label: str,
    schema_from: int,
    carry: bool,
) -> RestoreResult:
    """Keep the live database, carry what it received after the backup, write the restored one in.

    All of it under the live database's write queue: no survey can be committed between the
    before-restore copy and the overwrite (a sync waiting there is stored in the restored database)."""
    existed = live.is_file()
    live.parent.mkdir(parents=True, exist_ok=True)
    with db.writers_held(live):
        previous, raw = None, False
        if folder is not None:
            previous, raw = _keep_previous(live, folder, moment)
        carried, left, audit = 0, 0, 0
        if previous is not None and not raw:
            carried, left, audit = _carry_after_backup(cand, previous, carry)
        with db.transaction(cand):
            note = None if previous is None else f"trước đó: {previous}"
            if carried or left or audit:
                note = f"{note}; chuyển sang {carried} phiếu máy tính bảng; để lại {left} phiếu khác, {audit} nhật ký"
            db.log_audit(cand, actor, "restore", "database", None, label, note)
        responses = db.count_responses(cand)
        kept = f" Bản trước khi khôi phục ở {previous}." if previous else ""
        try:
            if existed and live_page_size is None:
                # Its header is gone: SQLite cannot write into it; a new file takes its place.
                _replace_file(cand, live)
            else:
                with closing(db.connect(live)) as dst:
                    cand.backup(dst)  # one transaction: all of it or, on failure, none of it
                    try:
                        db.checkpoint(dst)
                    except sqlite3.OperationalError:
                        pass  # busy readers: the WAL is checkpointed later
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(f"Không ghi được dữ liệu khôi phục vào {live}: {reason(exc)}.{kept}") from None
    return RestoreResult(label, schema_from, db.SCHEMA_VERSION, responses, previous, raw, carried, left, audit)


def _carry_after_backup(cand: sqlite3.Connection, previous: Path, carry: bool) -> tuple[int, int, int]:
    """Tablet surveys the replaced database received after the backup was taken go into the restored
    one (with ``carry``; else they are only counted); (carried, surveys left behind, audit entries
    left behind)."""
    try:
        with closing(db.connect(previous)) as old:
            if db.integrity_problems(old, limit=1):
                return 0, -1, 0  # damaged: nothing is read from it; the message says where it is
    except sqlite3.DatabaseError:
        return 0, -1, 0
    try:
        since = db.newest_record_time(cand)
        rows, left, audit = db.responses_received_after(cand, str(previous), since)
        if not carry:
            return 0, left + len(rows), audit
        if rows:
            # Stored as they were: a survey left out (suspect, or by a clerk) stays left out, with its reason.
            left_out = {}
            for response, _answers in rows:
                flag, why = response.pop("excluded", 0), response.pop("exclude_reason", None)
                if flag:
                    left_out[response["token"]] = why
            with db.transaction(cand):
                db.insert_responses_bulk(cand, rows)
                db.exclude_by_token(cand, left_out)
    except sqlite3.Error as exc:
        raise DatabaseError(
            f"Không chuyển được các phiếu nhận sau thời điểm sao lưu vào dữ liệu khôi phục: {reason(exc)}. "
            f"Chưa khôi phục gì; cơ sở dữ liệu hiện tại vẫn như cũ (một bản sao ở {previous})."
        ) from None
    return len(rows), left, audit


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
        fsync_file(tmp)
        for stale in (Path(f"{live}-wal"), Path(f"{live}-shm")):
            stale.unlink(missing_ok=True)
        os.replace(tmp, live)
        fsync_dir(live.parent)
    finally:
        tmp.unlink(missing_ok=True)
