"""Cases the analyses propose: a criterion below the floor becomes an improvement action
(:func:`open_from_analysis`, from the cases page) and a staffing recommendation a staffing case for the
Chairman (:func:`open_staffing_case`, from the waiting page). Both are opened by
:func:`sipas.cases.workflow.open_case`.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from sipas import db
from sipas.admin.settings import WEEKDAYS
from sipas.cases.workflow import OPEN_STATES, Actor, open_case
from sipas.catalog import CONDUCT_ELEMENT
from sipas.errors import ValidationError
from sipas.staffing.waiting import ASSUMPTIONS, Recommendation

ELEMENT_CASE_TYPE = {"1": "facilities", "2": "procedure", CONDUCT_ELEMENT: "conduct", "4": "procedure", "5": "other"}


def open_from_analysis(
    conn: sqlite3.Connection, actor: Actor, criterion: str, index: float, floor: float, period: str
) -> int:
    """A criterion below the floor becomes an improvement action on that criterion."""
    element = criterion[2:].split(".")[0]
    return open_case(
        conn,
        actor,
        case_type=ELEMENT_CASE_TYPE.get(element, "other"),
        origin="analysis",
        channel="analysis",
        criterion=criterion,
        title=f"Cải thiện tiêu chí {criterion}: {index:.2f}% dưới mức {floor:g}% ({period})",
    )


def open_case_for(conn: sqlite3.Connection, rec: Recommendation) -> int | None:
    """The id of an open staffing case for the same weekday and time span, if any."""
    for c in db.list_cases(conn, states=OPEN_STATES, case_type="waiting"):
        sched = json.loads(c["schedule"]) if c["schedule"] else {}
        if c["origin"] == "staffing" and (sched.get("weekday"), sched.get("start"), sched.get("end")) == (
            rec.weekday,
            rec.start,
            rec.end,
        ):
            return c["id"]
    return None


def open_staffing_case(
    conn: sqlite3.Connection,
    actor: Actor | None,
    rec: Recommendation,
    *,
    target_minutes: float,
    service_level: float,
    period: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> int:
    """Open the staffing case of a recommendation in the corrective-action tracker; return its id.

    Refused when an open staffing case already covers the same weekday and hours.
    """
    existing = open_case_for(conn, rec)
    if existing is not None:
        raise ValidationError(
            f"Đã có vụ việc số {existing} (đang mở) cho {WEEKDAYS[rec.weekday]} {rec.start}–{rec.end}."
        )
    schedule = rec.schedule(target_minutes, service_level)
    if period:
        schedule["period"] = list(period)
    lines = [f"{h}:00: đang mở {o} quầy, cần {n} quầy" for h, o, n in rec.detail]
    description = (
        f"Theo mô hình Erlang C, để {service_level:.0%} người dân được tiếp nhận trong vòng {target_minutes:g} phút"
        + (f" (số liệu từ {period[0]} đến {period[1]})" if period else "")
        + ":\n"
        + "\n".join(lines)
        + "\n\n"
        + ASSUMPTIONS
    )
    return open_case(
        conn,
        actor,
        case_type="waiting",
        origin="staffing",
        channel="staffing",
        title=rec.title,
        description=description,
        schedule=schedule,
        priority="normal",
        now=now,
    )
