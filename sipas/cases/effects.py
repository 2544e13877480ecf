"""Whether a case's measure worked: before vs after the measure date, for every kind of case.

* conduct and criterion cases (:func:`effectiveness`): the share satisfied with the staff member (or
  the criterion) ``EFFECT_WEEKS`` weeks before vs after the measure date;
* staffing cases (:func:`staffing_effect`): waits and satisfaction at the case's own weekday and
  hours, before vs after;
* :func:`flag_effects` stores each case's verdict when it changes (called by the domain when data
  that decides it arrives, never by a page view).

This module sits below :mod:`sipas.cases.workflow` (whose :func:`~sipas.cases.workflow.transition` runs
the first check when a measure is approved) and above :mod:`sipas.staffing.waiting` (the waiting figures),
which does not import it. No Streamlit here; SQL only through :mod:`sipas.db`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import CONDUCT_CRITERIA_PREFIX
from sipas.index.stats import Proportion, proportion

if TYPE_CHECKING:
    import pandas as pd

    from sipas.index.comparison import TestResult

# pandas (sipas.staffing.waiting, for a staffing case's ticket waits) is imported only where a check needs
# it: the kiosk's submit path imports this module and must stay light. sipas.index.comparison's
# two-proportion test needs neither pandas nor scipy (comparison imports them lazily too).

EFFECT_WEEKS = 8
# No verdict on a measure before this many days after the decision and this many responses about the
# person (or criterion) since then: a measure decided today is not judged by today's few surveys.
EFFECT_MIN_DAYS = 14
EFFECT_MIN_ANSWERS = 30
NOT_YET = "Chưa đủ dữ liệu để đánh giá hiệu quả"

# The stricter measure used to judge a measure's effect has its own name (it is not the element-3
# index of sipas.index.staff_index.staff_measures): the share of responses satisfied with EVERY staff criterion.
STRICT_MEASURE = "Tỷ lệ phiếu hài lòng với mọi tiêu chí công chức"
STRICT_MEASURE_NOTE = f"({STRICT_MEASURE}, chặt hơn chỉ số yếu tố 3.)"


# ============================================================================ conduct and criterion cases


@dataclass(frozen=True)
class Effect:
    before_n: int
    before_index: float | None
    after_n: int
    after_index: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str  # 'effective', 'not_effective', 'insufficient'
    message: str

    @classmethod
    def of(cls, before_n, before_index, after_n, after_index, test, verdict: str, message: str) -> Effect:
        """An effect whose difference, interval and p come from ``test`` (a two-proportion test, or None)."""
        if test is None:
            return cls(before_n, before_index, after_n, after_index, None, None, None, None, verdict, message)
        return cls(
            before_n, before_index, after_n, after_index,
            test.difference, test.ci_low, test.ci_high, test.p_value, verdict, message,
        )  # fmt: skip


def effectiveness(
    conn: sqlite3.Connection, case: dict, min_n: int, floor: float, weeks: int = EFFECT_WEEKS, today: date | None = None
) -> Effect:
    """Satisfaction with the staff member (or criterion) ``weeks`` before vs after the measure date.

    'not_effective' when the share after is below the floor or significantly lower than before;
    'effective' when enough answers exist after and neither holds; 'insufficient' below ``min_n``.
    """
    today = today or clock.today()
    if case.get("origin") == "staffing" and case.get("measure_date") and case.get("schedule"):
        return _staffing_effectiveness(conn, case, weeks, today)
    if not case.get("measure_date"):
        return Effect(0, None, 0, None, None, None, None, None, "insufficient", "Chưa áp dụng biện pháp.")
    start = _after_start(conn, case)
    prefix = case["criterion"] or CONDUCT_CRITERIA_PREFIX
    staff = case["staff_code"] if not case["criterion"] else None
    begin = clock.format_ts(start)
    before = db.conduct_counts(conn, staff, (start - timedelta(weeks=weeks)).date().isoformat(), begin, prefix)
    after_end = min(today + timedelta(days=1), start.date() + timedelta(weeks=weeks))
    after = db.conduct_counts(conn, staff, begin, after_end.isoformat(), prefix)
    pb, pa = proportion(before[1], before[0]), proportion(after[1], after[0])
    days = (today - start.date()).days
    if after[0] < min_n or days < EFFECT_MIN_DAYS:
        return Effect.of(
            before[0],
            pb.index,
            after[0],
            pa.index,
            None,
            "insufficient",
            f"{NOT_YET}: {after[0]} phiếu trong {max(days, 0)} ngày sau quyết định "
            f"(cần ít nhất {min_n} phiếu và {EFFECT_MIN_DAYS} ngày).",
        )
    from sipas.index.comparison import two_proportion_test

    test = two_proportion_test(after[1], after[0], before[1], before[0]) if before[0] else None
    worse = test is not None and test.p_value < 0.05 and test.difference < 0
    verdict = "not_effective" if pa.index < floor or worse else "effective"
    message = (
        f"{'Chưa thấy hiệu quả' if verdict == 'not_effective' else 'Có hiệu quả'}: "
        f"sau biện pháp {clock.format_percent(pa.index, 1)} (n = {after[0]})"
        + (f", trước {clock.format_percent(pb.index, 1)} (n = {before[0]})" if before[0] else "")
        + f". {STRICT_MEASURE_NOTE}"
    )
    return Effect.of(before[0], pb.index, after[0], pa.index, test, verdict, message)


def _after_start(conn: sqlite3.Connection, case: dict) -> datetime:
    """When the "after" window opens: the moment the measure was approved (its history's last move to
    "Chờ đánh giá hiệu quả"), or the start of its date of application when that is later."""
    applied = datetime.combine(date.fromisoformat(case["measure_date"]), datetime.min.time())
    events = db.case_events(conn, case["id"])
    approvals = [e["at"] for e in events if e["kind"] == "transition" and e["to_state"] == "awaiting_effect"]
    decided = datetime.fromisoformat(approvals[-1]) if approvals else applied
    return max(applied, decided)


def _staffing_effectiveness(conn: sqlite3.Connection, case: dict, weeks: int, today: date) -> Effect:
    """A staffing case is judged at its own weekday and hours, not by conduct ratings."""
    target = settings.get(conn, "wait_target_minutes")
    w = staffing_effect(conn, case, target_minutes=target, weeks=weeks, today=today)
    kind = {"Giảm có ý nghĩa thống kê": "not_effective", "Chưa đủ dữ liệu": "insufficient"}.get(w.verdict, "effective")
    b, a, t = w.before.satisfaction, w.after.satisfaction, w.test
    return Effect.of(b.n, b.index, a.n, a.index, t, kind, w.message)


def flag_effects(
    conn: sqlite3.Connection, min_n: int | None = None, floor: float | None = None, today: date | None = None
) -> list[int]:
    """Check every case waiting for its effect; store and return the ids whose effect did not show.

    ``min_n`` and ``floor`` default to the settings in force (``staff_min_n``, the target's floor).
    """
    if min_n is None:
        min_n = max(settings.get(conn, "staff_min_n"), EFFECT_MIN_ANSWERS)
    if floor is None:
        floor = settings.get(conn, "targets")["floor"]
    flagged = []
    for case in db.list_cases(conn, states=("awaiting_effect",)):
        effect = effectiveness(conn, case, min_n, floor, today=today)
        if effect.verdict != (case["effect_flag"] or ""):
            with db.transaction(conn):
                db.update_case(conn, case["id"], {"effect_flag": effect.verdict}, clock.now_ts())
                db.add_case_event(conn, case["id"], clock.now_ts(), "hệ thống", "effect", None, None, effect.message)
        if effect.verdict == "not_effective":
            flagged.append(case["id"])
    return flagged


# ============================================================================ staffing cases


@dataclass(frozen=True)
class PeriodFigures:
    """Waits and satisfaction at the case's hours in one period (inclusive dates)."""

    date_from: str
    date_to: str
    satisfaction: Proportion
    waits_n: int
    wait_median: float | None
    share_over_target: float | None
    reported_n: int
    reported_15plus: int


@dataclass(frozen=True)
class WaitEffect:
    case_id: int
    weekday: int
    hours: tuple[int, ...]
    before: PeriodFigures
    after: PeriodFigures
    test: TestResult | None
    verdict: str
    message: str


def _period_figures(
    conn: sqlite3.Connection, weekday: int, hours: set[int], start: date, end: date, target_minutes: float
) -> PeriodFigures:
    a, b = start.isoformat(), end.isoformat()
    if end < start:
        return PeriodFigures(a, b, proportion(0, 0), 0, None, None, 0, 0)
    n = sat = 0
    for w, h, cn, cs in db.weekday_hour_overall(conn, date_from=a, date_to=b):
        if w == weekday and h in hours:
            n, sat = n + cn, sat + cs
    rn = r15 = 0
    for w, h, cn, c15 in db.weekday_hour_reported_waits(conn, date_from=a, date_to=b):
        if w == weekday and h in hours:
            rn, r15 = rn + cn, r15 + c15
    from sipas.staffing import waiting

    t = waiting.ticket_frame(db.ticket_rows(conn, a, b))
    waits = t[(t["weekday"] == weekday) & t["hour"].isin(hours)]["wait_minutes"].dropna()
    return PeriodFigures(
        a,
        b,
        proportion(sat, n),
        len(waits),
        float(waits.median()) if len(waits) else None,
        float((waits > target_minutes).mean()) if len(waits) else None,
        rn,
        r15,
    )


def staffing_effect(
    conn: sqlite3.Connection, case: dict, *, target_minutes: float, weeks: int = EFFECT_WEEKS, today: date | None = None
) -> WaitEffect | None:
    """Waits and satisfaction at the case's weekday and hours, ``weeks`` before the measure date against
    the weeks after (up to today); None while the case has no measure date or no schedule.

    Satisfaction: two-proportion test (after vs before) with Newcombe's interval; the verdict is
    "Chưa đủ dữ liệu" under comparison.MIN_N answers on either side.
    """
    if not case.get("measure_date") or not case.get("schedule"):
        return None
    today = today or clock.today()
    sched = json.loads(case["schedule"])
    weekday, hours = int(sched["weekday"]), tuple(int(h) for h in sched["hours"])
    start = date.fromisoformat(case["measure_date"])
    before = _period_figures(
        conn, weekday, set(hours), start - timedelta(weeks=weeks), start - timedelta(days=1), target_minutes
    )
    after = _period_figures(
        conn, weekday, set(hours), start, min(today, start + timedelta(weeks=weeks) - timedelta(days=1)), target_minutes
    )
    pa, pb = after.satisfaction, before.satisfaction
    from sipas.index.comparison import two_proportion_test, verdict

    test = two_proportion_test(pa.satisfied, pa.n, pb.satisfied, pb.n) if pa.n and pb.n else None
    v = verdict(test)
    parts = [f"Hài lòng trước {_pct(pb.index)} (n = {pb.n}), sau {_pct(pa.index)} (n = {pa.n}): {v.lower()}"]
    if before.wait_median is not None or after.wait_median is not None:
        parts.append(
            f"thời gian chờ trung vị trước {_min(before.wait_median)} (n = {before.waits_n}), "
            f"sau {_min(after.wait_median)} (n = {after.waits_n})"
        )
    return WaitEffect(case["id"], weekday, hours, before, after, test, v, "; ".join(parts) + ".")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}%"


def _min(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} phút"


def effect_rows(effect: WaitEffect) -> pd.DataFrame:
    """Before and after side by side, for the page."""
    rows = []
    for label, p in (("Trước", effect.before), ("Sau", effect.after)):
        s = p.satisfaction
        rows.append(
            {
                "Giai đoạn": label,
                "Từ": p.date_from,
                "Đến": p.date_to,
                "Phiếu (n)": s.n,
                "Hài lòng (%)": s.index,
                "KTC 95% thấp": s.ci_low,
                "KTC 95% cao": s.ci_high,
                "Lượt chờ đo được": p.waits_n,
                "Chờ trung vị (phút)": p.wait_median,
                "Chờ quá mục tiêu (%)": None if p.share_over_target is None else 100 * p.share_over_target,
                "Báo chờ từ 15 phút (%)": 100 * p.reported_15plus / p.reported_n if p.reported_n else None,
            }
        )
    import pandas as pd

    frame = pd.DataFrame(rows)
    for col in frame.columns[4:]:
        if col != "Lượt chờ đo được":
            frame[col] = frame[col].astype("float64")
    return frame


def staffing_effects(
    conn: sqlite3.Connection, target_minutes: float, today: date | None = None
) -> list[tuple[dict, WaitEffect]]:
    """Every staffing case whose measure has been applied, newest first, with its before/after."""
    out = []
    for c in db.list_cases(conn, case_type="waiting"):
        if c["origin"] != "staffing":
            continue
        effect = staffing_effect(conn, c, target_minutes=target_minutes, today=today)
        if effect is not None:
            out.append((c, effect))
    return out
