"""Statistical signals on a staff member's record: the Bernoulli CUSUM of :mod:`sipas.index.cusum` run
over each person's staff-criterion answers, and a case of its own kind when it signals.

A signal is not a complaint. It opens a case with channel ``signal`` ("Tín hiệu thống kê", origin
``analysis``, type ``other``: the contract's kind ``signal``) for the clerk to look into. Such a case is never
a conduct case: it never counts towards a repeat offence, cannot be concluded "Có cơ sở" and carries no
sanction (:mod:`sipas.cases.workflow` refuses both); what the clerk finds is recorded on it, and a real
complaint is received as one, with its own evidence.

The chart runs over the last :data:`WINDOW_DAYS` days, and for a person with an earlier signal case only
over the answers after the last survey of that case, so a closed signal does not fire again on the same
answers. One open signal case per person at a time: while one is open nothing else is opened
(:func:`open_signals` is idempotent).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from sipas import clock, db
from sipas.cases.workflow import DEFAULT_DUE_DAYS, OPEN_STATES, SYSTEM_ACTOR
from sipas.index import cusum

WINDOW_DAYS = 365
SIGNAL_CHANNEL = "signal"
ANSWER_LABELS = {1: "Rất không hài lòng", 2: "Không hài lòng", 3: "Bình thường", 4: "Hài lòng", 5: "Rất hài lòng"}
DISSATISFIED = (1, 2)


def is_signal(case: dict) -> bool:
    """True for a case opened by the statistical signal (channel ``signal``)."""
    return case.get("channel") == SIGNAL_CHANNEL


def commune_rate(rows: list[dict]) -> float | None:
    """The share of dissatisfied answers (levels 1–2) among ``rows``, rounded to 3 decimals (None without
    any): p0 of the chart."""
    if not rows:
        return None
    return round(sum(r["value"] in DISSATISFIED for r in rows) / len(rows), 3)


def _after_last_signal(conn: sqlite3.Connection, staff: str, rows: list[dict]) -> tuple[list[dict], bool]:
    """(the person's answers after the last survey of their latest signal case, whether one is open)."""
    cases = [c for c in db.list_cases(conn, staff_code=staff) if is_signal(c)]
    if any(c["state"] in OPEN_STATES for c in cases):
        return [], True
    if not cases:
        return rows, False
    ids = set(db.case_response_ids(conn, cases[0]["id"]))  # list_cases: newest first
    keys = [(r["submitted_at"], r["response_id"]) for r in rows if r["response_id"] in ids]
    if not keys:
        return rows, False
    cut = max(keys)
    return [r for r in rows if (r["submitted_at"], r["response_id"]) > cut], False


def evidence_text(rows: list[dict], d: cusum.Design, statistic: float) -> str:
    """The evidence of a signal word for word: every answer since the statistic last left 0, with n, the
    dissatisfied count and share, p0 and the statistic against its threshold."""
    k = sum(r["value"] in DISSATISFIED for r in rows)
    head = (
        f"Tín hiệu thống kê (CUSUM Bernoulli): từ {clock.format_datetime(rows[0]['submitted_at'])} đến "
        f"{clock.format_datetime(rows[-1]['submitted_at'])}, {k} trên n = {len(rows)} câu trả lời các tiêu chí "
        f"về công chức là “Không hài lòng” hoặc “Rất không hài lòng” ({clock.format_percent(100 * k / len(rows))}),"
        f" trong khi tỷ lệ chung của xã là p0 = {clock.format_percent(100 * d.p0)}; thống kê CUSUM "
        f"{clock.format_number(statistic, 2)} ≥ ngưỡng h = {clock.format_number(d.h, 2)} (ngưỡng chọn để báo "
        f"nhầm trung bình không quá một lần trong {clock.format_number(d.arl0, 0)} câu trả lời). Đây không phải "
        "phản ánh, không phải kết luận về cán bộ: cần xem xét các phiếu dưới đây."
    )
    lines = [
        f"Phiếu #{r['response_id']} ({clock.format_datetime(r['submitted_at'])}): {r['criterion']} = "
        f"“{ANSWER_LABELS[r['value']]}” ({r['value']})"
        for r in rows
    ]
    return head + "\n" + "\n".join(lines)


def _open_one(conn: sqlite3.Connection, staff: str, rows: list[dict], d, statistic: float, now: datetime) -> bool:
    """Open the signal case of ``staff`` with ``rows`` as its evidence, unless one opened meanwhile."""
    at = clock.format_ts(now)
    with db.transaction(conn):
        if any(is_signal(c) for c in db.list_cases(conn, staff_code=staff, states=OPEN_STATES)):
            return False
        fields = {
            "type": "other",
            "origin": "analysis",
            "channel": SIGNAL_CHANNEL,
            "staff_code": staff,
            "title": f"Tín hiệu thống kê: tỷ lệ không hài lòng về cán bộ {staff} cao hơn mức chung của xã",
            "description": evidence_text(rows, d, statistic),
            "state": "new",
            "priority": "normal",
            "received_at": now.date().isoformat(),
            "due_date": (now.date() + timedelta(days=DEFAULT_DUE_DAYS)).isoformat(),
            "is_demo": int(all(r["is_demo"] for r in rows)),
        }
        case_id = db.insert_case(conn, fields, at)
        for rid in dict.fromkeys(r["response_id"] for r in rows):
            db.link_case_response(conn, case_id, rid)
        db.add_case_event(conn, case_id, at, SYSTEM_ACTOR, "open", None, "new", fields["description"])
    return True


def open_signals(conn: sqlite3.Connection, now: datetime | None = None) -> int:
    """Run the chart over every staff member's answers of the last :data:`WINDOW_DAYS` days and open a
    signal case for each person it signals on who has none open; return the cases opened. Demo and
    real answers are charted apart (each against its own commune rate)."""
    now = now or clock.now()
    since = (now.date() - timedelta(days=WINDOW_DAYS)).isoformat()
    until = (now.date() + timedelta(days=1)).isoformat()
    rows = db.conduct_answers(conn, since, until)
    opened = 0
    for demo in (0, 1):
        group = [r for r in rows if r["is_demo"] == demo]
        p0 = commune_rate(group)
        if p0 is None or not cusum.P0_MIN <= p0 <= cusum.P0_MAX:
            continue
        d = cusum.design(p0)
        by_staff: dict[str, list[dict]] = {}
        for r in group:
            if r["staff_code"]:
                by_staff.setdefault(r["staff_code"], []).append(r)
        for staff, answers in sorted(by_staff.items()):
            todo, has_open = _after_last_signal(conn, staff, answers)
            if has_open or not todo:
                continue
            chart = cusum.run([r["value"] in DISSATISFIED for r in todo], d)
            if chart.signal_at is None:
                continue
            evidence = todo[chart.rise_start : chart.signal_at + 1]
            opened += _open_one(conn, staff, evidence, d, chart.statistic[chart.signal_at], now)
    return opened
