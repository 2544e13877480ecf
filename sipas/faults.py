"""Storage faults (full disk, read-only or missing database, a locked file) told in Vietnamese.

:func:`describe` turns the exception SQLite or the operating system raised into one sentence that
says what is wrong and what to do; pages and the command line show it instead of a traceback.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

DISK_FULL = (
    "Ổ đĩa chứa cơ sở dữ liệu đã đầy, chưa ghi được dữ liệu. "
    "Hãy giải phóng dung lượng (xóa tệp không cần, chuyển bản sao lưu cũ sang ổ khác) rồi thử lại."
)
READ_ONLY = (
    "Cơ sở dữ liệu đang ở chế độ chỉ đọc, chưa ghi được dữ liệu. "
    "Hãy nhờ người quản trị máy cấp quyền ghi cho tệp và thư mục dữ liệu (hoặc gắn lại ổ đĩa cho phép ghi) rồi thử lại."
)
MISSING = (
    "Không mở được tệp cơ sở dữ liệu (tệp hoặc thư mục không còn, hoặc không có quyền truy cập). "
    "Hãy kiểm tra ổ đĩa và thư mục dữ liệu; nếu tệp đã mất, khôi phục từ bản sao lưu bằng lệnh "
    '"python -m sipas restore".'
)
LOCKED = (
    "Cơ sở dữ liệu đang bị một chương trình khác khóa, chưa ghi được. "
    "Hãy đợi ít phút rồi thử lại; nếu vẫn lỗi, đóng chương trình đang mở tệp dữ liệu (hoặc khởi động lại máy)."
)
DAMAGED = (
    "Tệp cơ sở dữ liệu bị hỏng hoặc không đọc được. "
    'Hãy chạy "python -m sipas check" và khôi phục từ bản sao lưu gần nhất.'
)
UNKNOWN = "Lỗi khi đọc hoặc ghi cơ sở dữ liệu. Hãy thử lại; nếu vẫn lỗi, báo người quản trị máy."


def _disk_full(path) -> bool:
    """True if the folder of ``path`` (or its nearest existing parent) has almost no free space."""
    if path is None:
        return False
    folder = Path(path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < 1024 * 1024
    except OSError:
        return False


def describe(exc: BaseException, path=None) -> str | None:
    """The Vietnamese sentence for a storage fault, or None if ``exc`` is not one.

    ``path``: the database file, so that SQLite's vague "disk I/O error" on a full disk is told as such.
    """
    if isinstance(exc, sqlite3.Error | OSError) and _disk_full(path):
        return DISK_FULL
    if isinstance(exc, OSError):
        code = exc.errno
        if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return DISK_FULL
        if code == errno.EROFS:
            return READ_ONLY
        if code in (errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
            return MISSING
        if code == errno.EIO:
            return DAMAGED
        return None
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "full" in text:
            return DISK_FULL
        if "readonly" in text or "read-only" in text or "read only" in text:
            return READ_ONLY
        if "locked" in text or "busy" in text:
            return LOCKED
        if "unable to open" in text or "no such file" in text:
            return MISSING
        if "malformed" in text or "not a database" in text or "disk i/o" in text or "corrupt" in text:
            return DAMAGED
        return UNKNOWN
    return None
