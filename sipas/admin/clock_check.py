"""A server clock that cannot be right: before this release, or behind the newest tablet survey.

Used by the tablets' gate (:mod:`sipas.survey.gate`, which stops intake), by ``check`` and by the
daily backup (which is then not made: it would be named after a wrong day).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from sipas import clock, db

# A tablet's survey may be stamped a little after the server's clock was corrected backwards.
CLOCK_TOLERANCE = timedelta(days=1)


def clock_problem(conn: sqlite3.Connection, now: datetime) -> str | None:
    """A Vietnamese message when the server's clock cannot be right, else None: a date before this
    release, or more than a day before the newest survey a tablet stored."""
    shown = clock.format_datetime(now)
    fix = "Hãy chỉnh lại ngày giờ của máy chủ (và kiểm tra pin CMOS) rồi khởi động lại phần mềm."
    if now.date() < clock.RELEASE_DATE:
        return (
            f"Đồng hồ máy chủ đang chỉ {shown}, trước ngày phát hành phần mềm "
            f"({clock.format_date(clock.RELEASE_DATE)}): chắc chắn sai. Phần mềm tạm ngừng nhận phiếu "
            f"(máy tính bảng vẫn giữ phiếu). {fix}"
        )
    newest = db.newest_tablet_survey_time(conn)
    if newest:
        try:
            newest_at = clock.parse_ts(newest)
        except ValueError:
            return None  # a malformed time is reported by check on its own
        local = now.astimezone(clock.TZ).replace(tzinfo=None) if now.tzinfo else now  # stored times are local
        if local < newest_at - CLOCK_TOLERANCE:
            return (
                f"Đồng hồ máy chủ đang chỉ {shown}, sớm hơn phiếu mới nhất đã lưu "
                f"({clock.format_datetime(newest_at)}): đồng hồ đã bị lùi. Phần mềm tạm ngừng nhận phiếu "
                f"(máy tính bảng vẫn giữ phiếu). {fix}"
            )
    return None
