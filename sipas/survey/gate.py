"""Whether the server may accept surveys now: not during a restore, not with a clock that cannot be right.

The tablet's sync asks :func:`require_open` first. A refusal raises :class:`IntakePaused`; nothing is
acknowledged, so the tablet keeps every survey in its queue and sends it again later.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sipas import db
from sipas.admin.clock_check import CLOCK_TOLERANCE, clock_problem  # noqa: F401 - gate's API
from sipas.errors import SipasError

MSG_RESTORING = "Đang khôi phục dữ liệu từ bản sao lưu: tạm ngừng nhận phiếu, máy tính bảng giữ phiếu và gửi lại sau."


class IntakePaused(SipasError):
    """The server does not take surveys now (restore running, clock wrong); the tablets keep them."""


def refusal(conn: sqlite3.Connection, now: datetime) -> str | None:
    """Why surveys cannot be accepted now (a Vietnamese message), or None."""
    from sipas.admin import restore_lock

    path = db.database_file(conn)
    if path and restore_lock.busy(path):
        return MSG_RESTORING
    return clock_problem(conn, now)


def require_open(conn: sqlite3.Connection, now: datetime) -> None:
    """Raise :class:`IntakePaused` when surveys cannot be accepted now."""
    why = refusal(conn, now)
    if why:
        raise IntakePaused(why)
