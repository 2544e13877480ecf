"""What the domain does once data is stored: the cases that data opens and the effects it decides.

A response that rates a staff-conduct criterion 1 or 2, or whose comment is about attitude, attaches to
the open conduct case of the staff member it names, or opens one (:func:`sync_from_survey`); then the
effects of the cases waiting for them are checked again (:func:`sipas.cases.effects.flag_effects`).

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
from datetime import datetime, timedelta

from sipas import clock, db
from sipas.cases import effects, signals
from sipas.cases.workflow import DEFAULT_DUE_DAYS, OPEN_STATES, UNKNOWN_STAFF
from sipas.index import classify

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ intake from the survey

LOW_CONDUCT = (1, 2)
INTAKE_BATCH = 1000  # complaints taken in per transaction: a catch-up never holds the write lock long
# After a responses file: its own transaction has just held the write lock for seconds, and ten
# thousand complaints are a write of well under a second; 100,000 responses take 7 disk syncs, not 64.
IMPORT_BATCH = 10_000
# Responses that open nothing are passed over without a write (the pointer stays) until this many
# lie behind it: a burst of satisfied surveys costs the intake one read and no disk sync.
INTAKE_IDLE_LAG = 1000


ANSWER_LABELS = {1: "Rất không hài lòng", 2: "Không hài lòng"}


def _complaint(r: dict, judge_comment) -> str | None:
    """Why response ``r`` opens or joins a conduct case (the evidence rules in README, "Phản ánh về cán bộ:
    khi nào mở vụ việc"), quoting its answers and comment word for word; None when it does not.

    It must name a staff member, and either answer a staff-conduct criterion "Không hài lòng" or "Rất không
    hài lòng", or carry a comment that complains about a person's conduct (``judge_comment(text) -> why``,
    the reason in Vietnamese, or "" when the comment is no such complaint). "Bình thường" alone never
    does; praise never does.
    """
    if not r["staff_code"]:
        return None
    reasons = [f"{c} được trả lời “{ANSWER_LABELS[v]}” ({v})" for c, v in sorted(r.get("low_values", {}).items())]
    if not reasons and r["low"]:  # callers that pass criteria without their values
        reasons = [f"{c} ở mức không hài lòng" for c in r["low"]]
    why_comment = judge_comment(r["comment"]) if r["comment"] and judge_comment else ""
    if why_comment:
        reasons.append(f"góp ý “{r['comment']}” — {why_comment}")
    elif reasons and r["comment"]:
        reasons.append(f"góp ý kèm theo: “{r['comment']}”")
    if not reasons or (not r["low"] and not why_comment):
        return None
    return "; ".join(reasons)


def sync_from_survey(
    conn: sqlite3.Connection, tag_comment=None, now: datetime | None = None, batch_size: int = INTAKE_BATCH
) -> int:
    """Open or extend conduct cases from responses stored since the last run; return cases touched.

    A response that rates a staff-conduct criterion (element 3) 1 or 2, or whose comment is tagged as
    attitude/behaviour (``tag_comment(text) -> set of topic codes`` containing ``'conduct'``), attaches
    to the open conduct case of the staff member it names (or "chưa xác định"), or opens one.

    The responses are read and judged (comments tagged) before the write lock is taken; the write
    transaction only checks that no other intake moved the pointer meanwhile (else it reads again),
    writes the cases and events, and advances the pointer: two processes never take in the same
    response twice, and a writer waiting behind the intake waits for the inserts only.
    ``batch_size``: complaints written per transaction (small for the kiosk's worker, so that a
    submit never waits behind a long intake; large for an import's catch-up).
    """
    now = now or clock.now()
    touched = 0
    while True:
        last = int(db.get_meta(conn, "case_intake_last_response", "0"))
        upto, batch = db.intake_candidates(conn, last, limit=batch_size, low=LOW_CONDUCT)
        if upto <= last:
            break
        if hasattr(tag_comment, "prime"):
            tag_comment.prime([r["comment"] for r in batch if r["staff_code"] and r["comment"]])
        hits = [(r, reason) for r in batch if (reason := _complaint(r, tag_comment)) is not None]
        if not hits and upto - last < INTAKE_IDLE_LAG:
            break  # nothing to open: no write now, the next intake reads these few again
        with db.transaction(conn):
            # The pointer is checked and advanced under the write lock.
            if int(db.get_meta(conn, "case_intake_last_response", "0")) != last:
                continue  # another intake took this range in meanwhile: read from its pointer
            open_by_staff: dict = {}  # (staff_code, is_demo) -> open survey cases, read once a batch
            if hits:
                for c in db.list_cases(conn, states=OPEN_STATES, case_type="conduct"):
                    if c["origin"] == "survey":
                        open_by_staff.setdefault((c["staff_code"], c["is_demo"]), []).append(c)
            at = clock.format_ts(now)
            linked = db.links_in_range(conn, last, upto) if hits else set()
            links, events = [], []  # written together after the loop, in the loop's order
            for r, reason in hits:
                staff = r["staff_code"]
                open_cases = open_by_staff.get((staff, r["is_demo"]), [])
                if open_cases:
                    case_id = open_cases[0]["id"]
                    if (case_id, r["id"]) not in linked:
                        links.append((case_id, r["id"]))
                        note = f"Thêm phiếu #{r['id']} ({r['submitted_at']}): {reason}."
                        events.append((case_id, at, "hệ thống", "evidence", None, None, note))
                else:
                    who = staff or UNKNOWN_STAFF
                    fields = {
                        "type": "conduct",
                        "origin": "survey",
                        "channel": "survey",
                        "staff_code": staff,
                        "title": f"Phản ánh về thái độ phục vụ của cán bộ {who}",
                        "state": "new",
                        "priority": "normal",
                        "received_at": r["submitted_at"][:10],
                        # dated by the survey that caused it, due counted from when it is opened
                        "due_date": (now.date() + timedelta(days=DEFAULT_DUE_DAYS)).isoformat(),
                        "is_demo": r["is_demo"],
                    }
                    case_id = db.insert_case(conn, fields, at)
                    open_by_staff[(staff, r["is_demo"])] = [{"id": case_id}]
                    links.append((case_id, r["id"]))
                    note = f"Tự động từ phiếu #{r['id']} ({r['submitted_at']}): {reason}."
                    events.append((case_id, at, "hệ thống", "open", None, "new", note))
                touched += 1
            db.add_case_links_and_events(conn, links, events)
            db.set_meta(conn, "case_intake_last_response", str(upto))
    return touched


# Complaints written per intake transaction by the kiosk's worker: each is a short write (well under
# a millisecond plus its disk sync) that a submit arriving meanwhile waits for, never a long one.
WORKER_BATCH = 50


def comment_judge(conn: sqlite3.Connection):
    """``text -> why`` (Vietnamese) when a comment complains about a person's conduct, else "": the
    classifier (:mod:`sipas.index.classify`) with the clerk's label corrections."""
    corrections = db.comment_label_corrections(conn)
    verdicts: dict[str, str] = {}  # a comment typed again ("Tốt", "Không có ý kiến") is judged once

    def judge(text: str) -> str:
        why = verdicts.get(text)
        if why is None:
            if len(verdicts) > 10_000:
                verdicts.clear()
            c = classify.classify(text, corrections=corrections)
            why = verdicts[text] = c.why if c.conduct_complaint else ""
        return why

    def prime(texts: list[str]) -> None:  # a batch's comments in one pass of the model
        classify.prime([t for t in dict.fromkeys(texts) if t not in verdicts], corrections)

    judge.prime = prime
    return judge


def open_cases(conn: sqlite3.Connection, now: datetime | None = None, batch_size: int = INTAKE_BATCH) -> int:
    """Open or extend the conduct cases of the responses stored since the last intake; cases touched."""
    return sync_from_survey(conn, tag_comment=comment_judge(conn), now=now, batch_size=batch_size)


def after_responses(conn: sqlite3.Connection, now: datetime | None = None, batch_size: int = INTAKE_BATCH) -> int:
    """After responses are committed: open their cases, run the statistical signal on each staff member's
    answers (:func:`sipas.cases.signals.open_signals`), then re-check the effects they may decide.
    Never raises (the responses are stored already); returns the cases touched (0 on error)."""
    touched = 0
    try:
        touched = open_cases(conn, now, batch_size)
        touched += signals.open_signals(conn, now)
        effects.flag_effects(conn)
    except Exception:  # noqa: BLE001 - a follow-up must never fail the store that triggered it
        log.exception("case intake after storing responses failed")
    return touched


def after_tickets(conn: sqlite3.Connection) -> None:
    """After a ticket log is committed: re-check the effects of the staffing cases. Never raises."""
    try:
        effects.flag_effects(conn)
    except Exception:  # noqa: BLE001
        log.exception("effect check after storing tickets failed")


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
