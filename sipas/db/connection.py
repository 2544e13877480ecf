"""Connections, the write queue and transactions: the bottom layer of :mod:`sipas.db`.

Connections are short-lived and per thread (Streamlit runs each session in its own thread):
``connect(path)`` opens one with a busy timeout, foreign keys and ``synchronous=FULL`` (a committed
survey survives a power cut, not only a killed process); the file itself is switched to WAL once,
when :func:`sipas.db.schema.migrate` first opens it (the mode is kept in the file). Writes go through
:func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``) so that concurrent
tablets queue instead of failing with "database is locked" on a lock upgrade. Writers wait in
order in a queue of this module (threads, and other processes through ``flock`` on ``<db>-lock``)
rather than in SQLite's sleeping busy handler, and surveys submitted at the same moment share one
commit (:func:`sipas.db.responses.insert_response`, through this module's queue): see
bench/RESULTS.md for the latencies.

The schema, its migrations (``PRAGMA user_version``) and the roll-up triggers are in
:mod:`sipas.db.schema`; the queries in one module per group of tables (see :mod:`sipas.db`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 15000
APP_ID = 0x53495041  # "SIPA": marks a database file as this product's


try:
    import fcntl
except ImportError:  # Windows: writers of several processes queue on SQLite's busy timeout only
    fcntl = None


class _FifoLock:
    """A reentrant lock handed to the longest waiter on release (``threading.RLock`` lets the
    releasing thread, which still holds the GIL, take it again at once: waiters could starve)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._count = 0
        self._waiters: deque[tuple[int, threading.Lock]] = deque()

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._count += 1
                return True
            if self._owner is None:
                self._owner, self._count = me, 1
                return True
            wake = threading.Lock()
            wake.acquire()
            self._waiters.append((me, wake))
        wake.acquire(timeout=timeout)
        with self._mutex:
            if self._owner == me:  # handed over (possibly just as the wait timed out)
                self._count = 1
                return True
            self._waiters.remove((me, wake))
            return False

    def release(self) -> None:
        with self._mutex:
            self._count -= 1
            if self._count:
                return
            if self._waiters:
                self._owner, wake = self._waiters.popleft()
                wake.release()
            else:
                self._owner = None


class _Job:
    __slots__ = ("response", "answers", "done", "result", "error", "leader")

    def __init__(self, response: dict, answers: dict[str, int | None]):
        self.response, self.answers = response, answers
        self.done = threading.Event()
        self.result: bool | None = None
        self.error: BaseException | None = None
        self.leader = False


class _WriteQueue:
    """Writers to one database file wait here, in order, before ``BEGIN IMMEDIATE``.

    SQLite's own busy handler polls with sleeps that grow to 100 ms, so under 20 simultaneous
    writers a waiting tablet could sleep through many free moments and wait seconds (p99 ≈ 0.3 s,
    max ≈ 3 s in bench/bench_store.py). Here a waiter is woken as soon as the previous write
    commits: a reentrant lock for the threads of this process, and ``flock`` on ``<db>-lock`` for
    other processes (not on Windows). SQLite's locking still guards the data: this only orders the
    waiting.
    """

    def __init__(self, path: str):
        self.path = path
        self.lock = _FifoLock()
        self.depth = 0
        self.fd: int | None = None
        # Group commit of single surveys (see insert_response).
        self.jobs_mutex = threading.Lock()
        self.jobs: list[_Job] = []
        self.leader_busy = False

    def __enter__(self) -> None:
        if not self.lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked")
        self.depth += 1
        if self.depth == 1 and fcntl is not None:
            # Opened per write (a few µs) rather than kept: no file descriptor per database ever
            # opened stays behind in a long-running process.
            # Any OSError (a read-only folder, no locks on this file system): fall back to
            # SQLite's busy timeout alone.
            try:
                fd = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                fd = None
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:
                    os.close(fd)
                    fd = None
                except BaseException:  # interrupted while waiting
                    os.close(fd)
                    self.depth -= 1
                    self.lock.release()
                    raise
            self.fd = fd

    def __exit__(self, *exc) -> None:
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            os.close(self.fd)  # releases the flock
            self.fd = None
        self.lock.release()


_write_queues: dict[str, _WriteQueue] = {}
_write_queues_guard = threading.Lock()


def _forget_write_queues() -> None:
    # A forked child starts with fresh queues (a lock or a lock file held by a parent's thread at
    # the fork must not be inherited).
    global _write_queues_guard
    _write_queues.clear()
    _write_queues_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_write_queues)


def _write_queue(path: str) -> _WriteQueue:
    with _write_queues_guard:
        q = _write_queues.get(path)
        if q is None:
            q = _write_queues[path] = _WriteQueue(path)
        return q


def writers_held(path: str | Path) -> _WriteQueue:
    """The write queue of the database file at ``path``, to hold as a context manager: while it is
    held, no other writer of this process (nor, with ``flock``, of another) can commit to the file."""
    return _write_queue(str(Path(path).resolve()))


class _Connection(sqlite3.Connection):
    """A connection that knows its file, so :func:`transaction` can queue its writes."""

    write_queue: _WriteQueue | None = None


def connect(path: str | Path) -> sqlite3.Connection:
    """A new connection with the product's pragmas (autocommit; use :func:`transaction`)."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False, factory=_Connection
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=FULL")
    # Large sorts (the roll-up of an imported file) may merge on a second core; small ones never
    # start a thread.
    conn.execute("PRAGMA threads=2")
    if str(path) != ":memory:" and not str(path).startswith("file:"):
        conn.write_queue = _write_queue(str(Path(path).resolve()))
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    queue = getattr(conn, "write_queue", None)
    with queue if queue is not None else _no_queue():
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # also when COMMIT itself failed (e.g. disk full)
                conn.execute("ROLLBACK")
            raise


@contextmanager
def _no_queue() -> Iterator[None]:
    yield


# Page cache for a bulk write (an import of a year's surveys): 64 MiB instead of SQLite's 2 MiB, so
# that the random inserts into the token and fingerprint indexes of 100,000 new rows stay in memory
# instead of spilling pages to the WAL mid-transaction and reading them back (≈ 0.4 s of a 9–10 s
# import, bench/RESULTS.md, issue 18 item 9, third round). Given back when the bulk write ends.
BULK_CACHE_KIB = 65536


@contextmanager
def roomy_cache(conn: sqlite3.Connection, kib: int = BULK_CACHE_KIB) -> Iterator[sqlite3.Connection]:
    """The connection's page cache raised to ``kib`` KiB while the block runs, then set back."""
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size={-int(kib)}")
    try:
        yield conn
    finally:
        conn.execute(f"PRAGMA cache_size={int(before)}")
