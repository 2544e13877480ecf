"""Backup signatures: HMAC-SHA256 with this installation's secret, appended after the last page.

A restore accepts without question only a file this installation signed and nobody changed since.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from pathlib import Path

from sipas import db
from sipas.admin.check import SQLITE_HEADER, reason
from sipas.errors import DatabaseError, ValidationError

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
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        text = None
    except OSError as exc:
        raise DatabaseError(f"Không đọc được khóa ký bản sao lưu {path}: {reason(exc)}.") from None
    if text is not None:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise DatabaseError(msg_damaged_key(path))
        return key
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


def msg_damaged_key(path: Path) -> str:
    return (
        f"Tệp khóa ký bản sao lưu {path.name} bị hỏng (không phải 64 ký tự 0–9, a–f). Không ghi đè tệp này: "
        "hãy chép lại tệp khóa từ bản cất giữ (USB, giấy ghi mã) vào cạnh tệp dữ liệu rồi thử lại. "
        "Nếu không còn bản nào, đổi tên tệp hỏng để phần mềm tạo khóa mới; các bản sao lưu cũ khi đó sẽ "
        "được coi là của cài đặt khác và phải xác nhận khi khôi phục."
    )


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


# ---- the recovery code: the key written down ---------------------------------------------------
# Why the key itself in groups and not a password-protected export: the key only signs backups (it
# decrypts nothing), so what matters is that it survives the PC; a code on paper in the office's safe
# needs nothing else to be remembered, where an export would need both a file and a password that can
# each be lost. 32 key bytes and 3 check bytes in base32 (A–Z, 2–7): 56 characters in 14 groups of 4,
# and a typing error is caught by the check bytes, never taken as another key.

_CHECK_LEN = 3
FIRST_START_ADVICE = (
    "Giữ khóa ký bản sao lưu: sau bước này, hãy mở trang Sao lưu → Khóa ký bản sao lưu, nhập lại mật khẩu, "
    "bấm “Xem mã khôi phục khóa” và chép mã ra giấy (hoặc in), cất cùng USB sao lưu. Mất khóa mà không có mã "
    "thì các bản sao lưu cũ sẽ bị coi là của nơi khác khi khôi phục trên máy mới."
)
KEEP_ADVICE = (
    "Mã khôi phục khóa ký bản sao lưu: hãy chép tay hoặc in ra, cất cùng USB sao lưu ở nơi an toàn (tủ có khóa). "
    'Trên máy mới, nhập mã bằng "python -m sipas key restore" hoặc ở trang Sao lưu trước khi khôi phục, '
    "để các bản sao lưu cũ vẫn được nhận là của cài đặt này."
)
_TYPOS = str.maketrans({"0": "O", "1": "I", "8": "B"})


def recovery_code(key: bytes) -> str:
    """The key as a code to write down: 14 groups of 4 characters (A–Z, 2–7), check bytes included.

    >>> code = recovery_code(bytes(range(32)))
    >>> code.count("-"), len(code.replace("-", "")), key_from_code(code.lower().replace("-", " ")) == bytes(range(32))
    (13, 56, True)
    """
    raw = base64.b32encode(key + hashlib.sha256(key).digest()[:_CHECK_LEN]).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def key_from_code(text: str) -> bytes:
    """The key a recovery code stands for; ValidationError (in Vietnamese, nothing echoed) when the code
    is not one: wrong length, a character outside A–Z and 2–7, or a typing error (the check fails)."""
    compact = re.sub(r"[\s\-_.]", "", str(text)[:400]).upper().translate(_TYPOS)
    if len(compact) != 56 or not re.fullmatch(r"[A-Z2-7]+", compact):
        raise ValidationError(
            f"Mã khôi phục khóa phải có 56 ký tự (A–Z, 2–7; 14 nhóm 4 ký tự), bạn nhập {len(compact)} ký tự "
            "hợp lệ. Hãy đối chiếu lại với bản đã ghi."
        )
    raw = base64.b32decode(compact)
    key, check = raw[:32], raw[32:]
    if hashlib.sha256(key).digest()[:_CHECK_LEN] != check:
        raise ValidationError("Mã khôi phục khóa có chỗ gõ sai (không khớp phần kiểm tra). Hãy đối chiếu từng nhóm.")
    return key


def restore_key(db_path: str | Path, code: str) -> str:
    """Write the key of ``code`` as ``<db>.key`` (mode 0600) on a new PC; returns what was done.

    A key file already there is never overwritten: the same key is reported as such; a different or
    damaged one is moved aside as ``<db>.key.old-<n>`` (kept, not deleted) so that backups signed with
    either key stay verifiable by hand.
    """
    key = key_from_code(code)
    path = key_path(db_path)
    try:
        current = installation_key(db_path, create=False)
    except DatabaseError:
        current = b""  # damaged: moved aside below
    if current == key:
        return "Khóa ký trên máy này đã đúng với mã khôi phục; không cần thay đổi."
    kept = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if current is not None:
            n = 1
            while Path(f"{path}.old-{n}").exists():
                n += 1
            aside = Path(f"{path}.old-{n}")
            os.replace(path, aside)
            kept = f" Khóa cũ được giữ lại ở {aside.name}."
        tmp = Path(f"{path}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key.hex())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise DatabaseError(f"Không ghi được khóa ký bản sao lưu {path}: {reason(exc, path)}.") from None
    return f"Đã khôi phục khóa ký bản sao lưu từ mã: các bản sao lưu do cài đặt này ký lại được nhận ra.{kept}"


def show_recovery_code(conn: sqlite3.Connection, db_path: str | Path, actor: str) -> str:
    """The recovery code of this installation's key, for an administrator to write down (audited)."""
    key = installation_key(db_path)
    if key is None:
        raise ValidationError(
            f"Chưa có khóa ký bản sao lưu cạnh {Path(db_path).name} và không tạo được (thư mục chỉ đọc)."
        )
    with db.transaction(conn):
        db.log_audit(conn, actor, "key-show", key_path(db_path).name, None, None, None)
    return recovery_code(key)


def restore_key_logged(conn: sqlite3.Connection, db_path: str | Path, code: str, actor: str) -> str:
    """:func:`restore_key`, written to the audit log (who put which key file in place)."""
    message = restore_key(db_path, code)
    with db.transaction(conn):
        db.log_audit(conn, actor, "key-restore", key_path(db_path).name, None, None, None)
    return message
