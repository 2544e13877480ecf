"""First start: who may create the first administrator account, and the one-time setup code.

From the server itself (a loopback connection) no code is asked. From any other machine the
one-time code is needed: it is printed in the server's console and also written to
``<db>.setup-code``, a file only the user the server runs as can read (a Windows or Linux service
has no console anyone sees). Wrong codes are counted in the database like wrong passwords: after 5
within 15 minutes, no code is accepted for 15 minutes, whoever tries.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import sqlite3
import time
from pathlib import Path

from sipas import db
from sipas.admin import auth
from sipas.admin.auth import AuthError

# Not a possible username (usernames start with a letter or digit): the failures of the setup code
# are counted under this name in login_failures, with the login's window and lock.
CODE_ATTEMPTS = "#setup-code"
WRONG_CODE = (
    "Mã thiết lập không đúng. Mã được in trong cửa sổ máy chủ khi phần mềm chạy và ghi trong tệp có đuôi "
    ".setup-code cạnh tệp dữ liệu (chỉ tài khoản chạy máy chủ đọc được)."
)
LOCKED_CODE = (
    "Nhập sai mã thiết lập quá nhiều lần. Vui lòng thử lại sau {minutes} phút, hoặc tạo tài khoản ngay trên máy chủ."
)


def is_loopback(remote_ip: str | None) -> bool:
    """True for a TCP peer on the machine itself: 127.0.0.0/8, ``::1`` and their IPv4-mapped forms.

    >>> [is_loopback(a) for a in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "127.4.5.6", "192.0.2.2", None, "")]
    [True, True, True, True, False, False, False]
    """
    if not remote_ip:
        return False
    try:
        ip = ipaddress.ip_address(remote_ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def code_file(db_path: str | os.PathLike) -> Path:
    """Where the one-time code is written for the server's own user: next to the database."""
    return Path(f"{os.fspath(db_path)}.setup-code")


def new_code(db_path: str | os.PathLike) -> str:
    """Make an 8-digit code and write it to :func:`code_file`, readable by this user only (0600).

    Returns the code; an unwritable folder leaves the console as the only place it is shown.
    """
    code = f"{secrets.randbelow(10**8):08d}"
    path = code_file(db_path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(
                "Mã thiết lập lần đầu của SIPAS (tạo tài khoản quản trị đầu tiên từ một máy khác máy chủ):\n"
                f"{code}\n"
                "Tệp này tự xóa khi tài khoản quản trị đầu tiên được tạo.\n"
            )
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
    return code


def remove_code_file(db_path: str | os.PathLike) -> None:
    """The code is of no use once an account exists."""
    try:
        code_file(db_path).unlink(missing_ok=True)
    except OSError:
        pass


def check_code(conn: sqlite3.Connection, given: str, expected: str, now: float | None = None) -> None:
    """Raise AuthError unless ``given`` is the code; every attempt counts, 5 wrong in 15 min lock it.

    The lock check and the counting happen in one write transaction before the comparison, as for
    logins, so parallel guesses cannot get past it.
    """
    now = time.time() if now is None else now
    with db.transaction(conn):
        remaining = auth.lock_remaining(conn, CODE_ATTEMPTS, now)
        if remaining:
            raise AuthError(LOCKED_CODE.format(minutes=max(1, -(-int(remaining) // 60))))
        attempt = db.add_login_failure(conn, CODE_ATTEMPTS, now)
    if not hmac.compare_digest(str(given or "").strip().encode()[:64], expected.encode()):
        raise AuthError(WRONG_CODE)
    with db.transaction(conn):
        if db.login_failures_after(conn, CODE_ATTEMPTS, attempt) == 0 and not auth.lock_remaining(
            conn, CODE_ATTEMPTS, now, exclude=attempt
        ):
            db.clear_login_failures(conn, CODE_ATTEMPTS)
            return
    raise AuthError(LOCKED_CODE.format(minutes=auth.LOCK_SECONDS // 60))
