"""One restore at a time, and a flag the tablets' sync reads: "a restore is running, not now".

The lock is ``flock`` on ``<db>-restore`` (held by the restoring process, released by the kernel if
that process dies, so a killed restore never leaves the tablets paused) plus a set of paths for the
threads of this process (and for Windows, which has no ``flock``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sipas.errors import ValidationError

try:
    import fcntl
except ImportError:  # Windows: the in-process set only (the app and the CLI rarely restore at once)
    fcntl = None

MSG_BUSY = "Đang có một lần khôi phục khác chạy trên cơ sở dữ liệu này. Hãy chờ lần đó xong rồi thử lại."

_held: set[str] = set()
_guard = threading.Lock()


def _key(db_path: str | Path) -> str:
    return str(Path(db_path).resolve())


def _lock_file(key: str) -> str:
    return key + "-restore"


@contextmanager
def hold(db_path: str | Path) -> Iterator[None]:
    """Hold the restore lock of ``db_path`` for the block; a second restore raises at once
    (:class:`ValidationError` with :data:`MSG_BUSY`)."""
    key = _key(db_path)
    with _guard:
        if key in _held:
            raise ValidationError(MSG_BUSY)
        _held.add(key)
    fd = None
    try:
        if fcntl is not None:
            try:
                fd = os.open(_lock_file(key), os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                fd = None  # a read-only folder: the restore itself will say so
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    fd = None
                    raise ValidationError(MSG_BUSY) from None
        yield
    finally:
        if fd is not None:
            os.close(fd)
        with _guard:
            _held.discard(key)


def busy(db_path: str | Path) -> bool:
    """True while a restore of ``db_path`` runs, in this process or another one."""
    key = _key(db_path)
    with _guard:
        if key in _held:
            return True
    if fcntl is None or not os.path.exists(_lock_file(key)):
        return False
    try:
        fd = os.open(_lock_file(key), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also releases the shared lock just taken
    return False
