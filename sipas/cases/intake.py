"""What the domain does once data is stored: the cases that data opens and the effects it decides.

Called by the paths that store data — a responses file (:func:`sipas.survey.responses.import_responses`)
and a ticket log (:func:`sipas.files.tickets.import_tickets`) right after their commit; a kiosk survey
(:func:`sipas.survey.responses.submit_kiosk_survey`) through :func:`after_responses_soon`, a worker thread
of this process that runs the intake just after the submit returns (coalescing the surveys of 20
tablets tapping "Gửi" together into one run), so that the submit itself is not slowed. Never by a
page view. The follow-up never undoes or fails the store that triggered it: an error is logged and
the next store catches up, since the case intake remembers the last response it read (read and
advanced under the write lock, so two processes never take in the same response twice).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import closing
from datetime import datetime

from sipas import db
from sipas.admin import settings
from sipas.cases import effects, workflow
from sipas.index import comments

log = logging.getLogger(__name__)


def flag_effects(conn: sqlite3.Connection) -> list[int]:
    """Check the effect of every case waiting for it, with the settings in force."""
    return effects.flag_effects(conn, settings.get(conn, "staff_min_n"), settings.get(conn, "targets")["floor"])


# Complaints written per intake transaction by the kiosk's worker: each is a short write (well under
# a millisecond plus its disk sync) that a submit arriving meanwhile waits for, never a long one.
WORKER_BATCH = 50


def open_cases(conn: sqlite3.Connection, now: datetime | None = None, batch_size: int = workflow.INTAKE_BATCH) -> int:
    """Open or extend the conduct cases of the responses stored since the last intake; cases touched."""
    return workflow.sync_from_survey(conn, tag_comment=comments.conduct_tagger(), now=now, batch_size=batch_size)


def after_responses(
    conn: sqlite3.Connection, now: datetime | None = None, batch_size: int = workflow.INTAKE_BATCH
) -> int:
    """After responses are committed: open their cases, then re-check the effects they may decide.
    Never raises (the responses are stored already); returns the cases touched (0 on error)."""
    touched = 0
    try:
        touched = open_cases(conn, now, batch_size)
        flag_effects(conn)
    except Exception:  # noqa: BLE001 - a follow-up must never fail the store that triggered it
        log.exception("case intake after storing responses failed")
    return touched


def after_tickets(conn: sqlite3.Connection) -> None:
    """After a ticket log is committed: re-check the effects of the staffing cases. Never raises."""
    try:
        flag_effects(conn)
    except Exception:  # noqa: BLE001
        log.exception("effect check after storing tickets failed")


def transition(conn: sqlite3.Connection, case_id: int, to_state: str, actor: workflow.Actor, *args, **kwargs) -> dict:
    """:func:`sipas.cases.workflow.transition`, then, when the measure was just approved, the first check of its
    effect (a decision is a point where the data that decides the effect changes meaning)."""
    case = workflow.transition(conn, case_id, to_state, actor, *args, **kwargs)
    if to_state == "awaiting_effect":
        try:
            flag_effects(conn)
        except Exception:  # noqa: BLE001 - the decision is stored; the next data brings the check
            log.exception("effect check after approving case %s failed", case_id)
        case = db.get_case(conn, case_id)
    return case


# ------------------------------------------------------------------------------ after a kiosk submit

DEBOUNCE_SECONDS = 0.2  # a burst of submits (20 tablets together) is taken in by one run, after it
_cv = threading.Condition()
_pending: dict[str, datetime | None] = {}  # database file -> the submit's explicit "now", if any
_running = 0
_worker: threading.Thread | None = None


def _db_file(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else ""


def after_responses_soon(conn: sqlite3.Connection, now: datetime | None = None) -> None:
    """Ask this process's intake worker to run :func:`after_responses` on ``conn``'s database; return at
    once. An in-memory database (no file another connection could open) is served inline."""
    global _worker
    path = _db_file(conn)
    if not path:
        after_responses(conn, now)
        return
    with _cv:
        _pending[path] = now if now is not None else _pending.get(path)
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="sipas-intake", daemon=True)
            _worker.start()
        _cv.notify_all()


def _work() -> None:
    global _running
    while True:
        with _cv:
            while not _pending:
                _cv.wait()
            _running += 1
        time.sleep(DEBOUNCE_SECONDS)  # let the burst's other submits arrive (and finish) first
        with _cv:
            path, now = next(iter(_pending.items()))
            del _pending[path]
        try:
            with closing(db.connect(path)) as conn:
                after_responses(conn, now, WORKER_BATCH)
        except Exception:  # noqa: BLE001 - e.g. the file was removed meanwhile
            log.exception("case intake worker failed on %s", path)
        finally:
            with _cv:
                _running -= 1
                _cv.notify_all()


def wait_idle(timeout: float = 30.0) -> bool:
    """Block until the worker has nothing pending or running (tests, shutdown); False on time-out."""
    with _cv:
        return _cv.wait_for(lambda: not _pending and not _running, timeout)
