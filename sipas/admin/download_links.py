"""One-time links for downloading a backup (``/api/backup/<token>``, served by ``backup_route.py``).

A link is made only after an administrator typed the password again on the backup page; it is
bound to that staff session (the SHA-256 of its token), works once, and expires after
:data:`TTL` seconds. The links live in this process's memory only: a restarted server knows none.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from sipas.admin.auth import token_key

TTL = 120.0  # seconds

# What the route answers (plain text, Vietnamese) when it gives no file.
GONE = (
    "Liên kết tải bản sao lưu này không còn dùng được: mỗi liên kết chỉ tải được một lần và trong 2 phút. "
    "Hãy mở trang Sao lưu, nhập lại mật khẩu và tạo bản sao lưu mới."
)
REFUSED = (
    "Không được tải bản sao lưu bằng liên kết này: liên kết chỉ dùng được trong phiên đăng nhập của quản trị "
    "viên đã tạo nó, trên cùng trình duyệt. Hãy đăng nhập, mở trang Sao lưu và tạo bản sao lưu mới."
)


@dataclass(frozen=True)
class Grant:
    """What a link allows: a fresh backup of this database, for this session, under this name."""

    username: str
    session: str  # token_key of the staff session
    file_name: str
    without_accounts: bool
    expires: float


_grants: dict[str, Grant] = {}
_lock = threading.Lock()


def issue(
    staff_token: str, username: str, file_name: str, *, without_accounts: bool = False, now: float | None = None
) -> str:
    """A new link token for the staff session ``staff_token`` (valid :data:`TTL` seconds, once)."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(32)
    with _lock:
        for old in [t for t, g in _grants.items() if g.expires <= now]:
            del _grants[old]
        _grants[token] = Grant(username, token_key(staff_token), file_name, without_accounts, now + TTL)
    return token


def take(token: str, staff_token: str | None, now: float | None = None) -> tuple[Grant | None, int]:
    """Use the link ``token`` presented with the staff session ``staff_token``: (grant, 200), or
    (None, 404) for an unknown, used or expired link, (None, 403) for another session's. A link is
    spent by the first attempt, whoever makes it."""
    now = time.time() if now is None else now
    with _lock:
        grant = _grants.pop(token, None)
    if grant is None or grant.expires <= now:
        return None, 404
    if not staff_token or token_key(staff_token) != grant.session:
        return None, 403
    return grant, 200
