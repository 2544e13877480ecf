"""What waits for the Chairman and what the month counts: repeat offences, overdue cases, measures to
sign off or without effect, criteria below the floor with no action yet, and the monthly case counts.

The one definition of "quá hạn" (:func:`overdue_cases`) serves the Chairman's header, his monthly block,
the cases page and the report. Read only: every change goes through :mod:`sipas.cases.workflow`.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from sipas import clock, db
from sipas.admin import settings
from sipas.cases.workflow import OPEN_STATES, TYPES
from sipas.index import staff_index
from sipas.index.scoring import index_for_period
from sipas.index.selection import Filters


def criteria_below_floor(
    conn: sqlite3.Connection, version: str, date_from: str, date_to: str, floor: float, min_n: int
) -> list[dict]:
    """Criteria of the period whose index is below the floor (with at least ``min_n`` answers) and that
    have no open improvement action yet."""
    result = index_for_period(conn, version, date_from, date_to)
    open_on = {c["criterion"] for c in db.list_cases(conn, states=OPEN_STATES) if c["criterion"]}
    return [
        {"code": c.code, "index": c.index, "n": c.n, "ci_low": c.ci_low, "ci_high": c.ci_high}
        for c in sorted(result.criteria, key=lambda c: (c.index is None, c.index))
        if c.index is not None and c.index < floor and c.n >= min_n and c.code not in open_on
    ]


def repeat_offenders(
    conn: sqlite3.Connection, count: int = 2, months: int = 12, today: date | None = None
) -> list[dict]:
    """Staff with ≥ ``count`` substantiated conduct cases received within ``months`` months, and no
    Chairman decision recorded since the latest of them."""
    today = today or clock.today()
    since = (today - timedelta(days=round(months * 30.44))).isoformat()
    by_staff: dict[str, list[dict]] = {}
    for c in db.list_cases(conn, case_type="conduct"):
        if c["substantiated"] and c["staff_code"] and c["received_at"] and c["received_at"] >= since:
            by_staff.setdefault(c["staff_code"], []).append(c)
    out = []
    for staff, cases in by_staff.items():
        if len(cases) < count:
            continue
        # A decision counts if it was taken after the latest of these complaints was received.
        latest = max(c["received_at"] for c in cases)
        decided = [d for d in db.repeat_decisions(conn, staff) if d["decided_at"][:10] >= latest]
        if not decided:
            out.append({"staff_code": staff, "cases": sorted(c["id"] for c in cases)})
    return out


def repeat_dossier(conn: sqlite3.Connection, staff_code: str, case_ids: list[int], today: date | None = None) -> dict:
    """What the Chairman reads before deciding on a repeat offender, the same evidence as the case history:

    * ``cases``: each counted (founded) case with ``evidence`` (its surveys: answers and comment word for
      word, :func:`sipas.db.case_evidence`), ``reasons`` (why each survey qualified, as the intake wrote
      it) and ``explanations`` (the staff member's giải trình);
    * ``earlier``: every other case that names the person, newest first;
    * ``estimate``: the person's element-3 index over the last 12 months, raw and shrunk toward the
      commune's rate (:func:`sipas.index.staff_index.shrunk_measures`; None when no survey names them),
      with ``period`` (from, to) and ``questionnaire``.
    """
    today = today or clock.today()
    counted = []
    for cid in case_ids:
        events = db.case_events(conn, cid)
        counted.append(
            {
                "case": db.get_case(conn, cid),
                "evidence": db.case_evidence(conn, cid),
                "reasons": [e["note"] for e in events if e["kind"] in ("open", "evidence") and e["note"]],
                "explanations": [e for e in events if e["kind"] == "explanation"],
            }
        )
    earlier = [c for c in db.list_cases(conn, staff_code=staff_code) if c["id"] not in set(case_ids)]
    start = (today - timedelta(days=365)).isoformat()
    version = settings.get(conn, "active_questionnaire", today)
    f = Filters(version, start, today.isoformat())
    return {
        "cases": counted,
        "earlier": earlier,
        "estimate": staff_index.shrunk_measures(conn, f).get(staff_code),
        "period": (start, today.isoformat()),
        "questionnaire": version,
    }


# States in which someone still owes work on a case. A measure approved by the Chairman
# ("awaiting_effect") waits for data, not for a person: it is no longer overdue.
PENDING_STATES = ("new", "verifying", "founded", "measure", "reopened")


def handled_on(conn: sqlite3.Connection, case: dict) -> str | None:
    """ISO date on which the case stopped owing work (approved, closed or found unfounded); None while
    work is still owed."""
    if case["state"] in PENDING_STATES:
        return None
    days = [
        e["at"][:10]
        for e in db.case_events(conn, case["id"])
        if e["kind"] == "transition" and e["to_state"] not in PENDING_STATES
    ]
    return days[-1] if days else (case["closed_at"] or case["updated_at"] or case["created_at"])[:10]


def overdue_cases(conn: sqlite3.Connection, cases: list[dict], first: date, last: date) -> list[dict]:
    """The one definition of "quá hạn": cases past their due date on at least one day of [first, last]
    while work on them was still owed (a case handled on a day is not overdue that day).

    The Chairman's header and the cases page ask for today (first = last = today); the monthly report
    asks for the month ("quá hạn trong tháng") and for its last day ("đang quá hạn cuối kỳ").
    """
    out = []
    for c in cases:
        if not c["due_date"] or c["created_at"][:10] > last.isoformat():
            continue
        day = max(first, date.fromisoformat(c["due_date"]) + timedelta(days=1))
        if day > last:
            continue
        done = handled_on(conn, c)
        if done is None or done > day.isoformat():
            out.append(c)
    return out


def chairman_queue(conn: sqlite3.Connection, today: date | None = None) -> dict[str, list]:
    """What needs the Chairman: repeat offences, overdue cases, past feedback deadlines, measures to sign off,
    and measures whose effect did not show."""
    today = today or clock.today()
    iso = today.isoformat()
    rule = settings.get(conn, "repeat_offence", today)  # the rule in force on that day
    open_cases = db.list_cases(conn, states=OPEN_STATES)
    return {
        "repeat": repeat_offenders(conn, rule["count"], rule["months"], today),
        "overdue": overdue_cases(conn, open_cases, today, today),
        "deadline": [
            c for c in open_cases if c["response_deadline"] and c["response_deadline"] < iso and not c["responded_at"]
        ],
        "signoff": [c for c in open_cases if c["state"] == "measure"],
        "not_effective": [c for c in open_cases if c["effect_flag"] == "not_effective"],
    }


CLERK_STATES = ("new", "verifying", "founded", "reopened")  # the clerk owes the next step


def waiting_count(conn: sqlite3.Connection, role: str, today: date | None = None) -> int:
    """How many things wait for a person of ``role``: for the Chairman, each repeat offender and each case
    in his queue (:func:`chairman_queue`, a case counted once); for the clerk, each case whose next step is
    the clerk's (to verify, to propose a measure, reopened) or whose effect check has a verdict to act on."""
    if role == "chairman":
        pending = chairman_queue(conn, today)
        ids = {c["id"] for key in ("overdue", "deadline", "signoff", "not_effective") for c in pending[key]}
        return len(pending["repeat"]) + len(ids)
    return sum(
        1
        for c in db.list_cases(conn, states=OPEN_STATES)
        if c["state"] in CLERK_STATES or (c["state"] == "awaiting_effect" and c["effect_flag"])
    )


def monthly_counts(conn: sqlite3.Connection, month: str, today: date | None = None) -> dict:
    """Counts for the monthly report: cases opened, closed, overdue during the month and still overdue
    at its end (or today, for the month in progress), by type, median days to close."""
    start = date.fromisoformat(month + "-01")
    end = clock.month_start(start, 1)
    today = today or clock.today()
    cases = db.list_cases(conn)
    opened = [c for c in cases if start.isoformat() <= c["created_at"][:10] < end.isoformat()]
    closed = [c for c in cases if c["closed_at"] and start.isoformat() <= c["closed_at"][:10] < end.isoformat()]
    last_day = end - timedelta(days=1)
    as_of = min(last_day, today)
    days = sorted(
        (date.fromisoformat(c["closed_at"][:10]) - date.fromisoformat(c["received_at"] or c["created_at"][:10])).days
        for c in closed
    )
    median = None
    if days:
        mid = len(days) // 2
        median = float(days[mid]) if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    by_type = {TYPES[t]: sum(1 for c in opened if c["type"] == t) for t in TYPES}
    return {
        "opened": len(opened),
        "closed": len(closed),
        # Up to today for the month in progress: a due date still ahead is not overdue yet.
        "overdue": len(overdue_cases(conn, cases, start, as_of)) if as_of >= start else 0,
        "overdue_at_end": len(overdue_cases(conn, cases, as_of, as_of)) if as_of >= start else 0,
        "as_of": as_of.isoformat(),
        "by_type": by_type,
        "median_days_to_close": median,
    }
