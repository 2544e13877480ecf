"""Storage faults (full disk, read-only or missing database, a locked file) told in Vietnamese.

:func:`describe` turns the exception SQLite or the operating system raised into one sentence that
says what is wrong and what to do; pages and the command line show it instead of a traceback.
:func:`cause` says the same of any other file (a backup, a restore's copy, the signing key) as the end
of a message "Không ghi được tệp …: <cause>" — never SQLite's or the system's English words.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from sipas.text import excerpt

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


FILE_DISK_FULL = "ổ đĩa đã đầy; hãy giải phóng dung lượng hoặc chọn thư mục trên ổ đĩa khác rồi thử lại"
FILE_READ_ONLY = "ổ đĩa hoặc thư mục chỉ cho phép đọc; hãy chọn thư mục khác hoặc gắn lại ổ đĩa cho phép ghi"
FILE_DENIED = (
    "không có quyền đọc hoặc ghi ở đó; hãy chọn thư mục khác hoặc nhờ người quản trị máy cấp quyền cho tài khoản "
    "chạy chương trình"
)
FILE_MISSING = "tệp hoặc thư mục không tồn tại; hãy kiểm tra lại đường dẫn"
FILE_IO = 'lỗi đọc/ghi của ổ đĩa (ổ có thể bị hỏng); hãy thử ổ khác và chạy "python -m sipas check"'
FILE_LOCKED = "tệp đang bị một chương trình khác khóa; hãy đợi ít phút rồi thử lại"
FILE_DAMAGED = "tệp bị hỏng hoặc không phải cơ sở dữ liệu"
WRITE_FAULTS = (FILE_DISK_FULL, FILE_READ_ONLY, FILE_DENIED)  # where a file is written, not what is read


def cause(exc: BaseException, path=None) -> str:
    """Why a file could not be read or written, in Vietnamese with what to do (no trailing period).

    ``path``: the file being written, so that SQLite's "unable to open database file" in a folder that
    cannot be written is told as a read-only or forbidden folder.

    >>> cause(OSError(errno.ENOSPC, "No space left on device"))
    'ổ đĩa đã đầy; hãy giải phóng dung lượng hoặc chọn thư mục trên ổ đĩa khác rồi thử lại'
    >>> cause(sqlite3.OperationalError("database or disk is full")) == FILE_DISK_FULL
    True
    """
    if isinstance(exc, OSError):
        return _os_cause(exc.errno)
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        folder_fault = _folder_fault(path) if "unable to open" in text or "readonly" in text else None
        if folder_fault:
            return folder_fault
        for words, found in (
            (("full",), FILE_DISK_FULL),
            (("readonly", "read-only", "read only"), FILE_READ_ONLY),
            (("locked", "busy"), FILE_LOCKED),
            (("unable to open", "no such file"), FILE_MISSING),
            (("malformed", "not a database", "corrupt"), FILE_DAMAGED),
            (("disk i/o",), FILE_IO),
        ):
            if any(w in text for w in words):
                return found
        # Anything else (a migration step that failed): SQLite's own words, short, for a technician.
        return f"lỗi SQLite ({excerpt(str(exc), 120)})"
    return f"lỗi {type(exc).__name__}"


def _folder_fault(path) -> str | None:
    """FILE_READ_ONLY or FILE_DENIED when the folder of ``path`` exists and cannot be written."""
    if path is None:
        return None
    folder = Path(path).parent
    if not folder.is_dir() or os.access(folder, os.W_OK):
        return None
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        read_only = False
    return FILE_READ_ONLY if read_only else FILE_DENIED


def _os_cause(code: int | None) -> str:
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return FILE_DISK_FULL
    if code == errno.EROFS:
        return FILE_READ_ONLY
    if code in (errno.EACCES, errno.EPERM):
        return FILE_DENIED
    if code in (errno.ENOENT, errno.ENOTDIR):
        return FILE_MISSING
    if code == errno.EISDIR:
        return "đường dẫn là một thư mục, không phải tệp; hãy ghi rõ tên tệp"
    if code == errno.EIO:
        return FILE_IO
    name = errno.errorcode.get(code, str(code)) if code is not None else "không rõ"
    return f"lỗi của hệ điều hành (mã {name}); hãy thử lại, nếu vẫn lỗi báo người quản trị máy"
