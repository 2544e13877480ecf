"""The counter tablet: one ``st.components.v2`` component runs the whole survey in the browser.

Roles: anyone (the default page for a visitor who is not logged in). Nothing here shows staff data
beyond the roster's names (and photos) in the staff picker.

The server hands the component the plan of the next survey (the rotation is chosen here) and the
tokens it has acknowledged; the component sends one trigger, ``sync``, with the surveys started
(tokens only) and the completed surveys kept in the tablet's queue. Storing happens in the
trigger's callback (before the script body, so a fast rerun cannot lose it) through the
exactly-once path. A database fault never reaches the citizen as an error box: the component shows
its calm "tạm dừng / thử lại" screen and keeps the surveys on the tablet.
"""

from __future__ import annotations

import base64
import logging
import random

import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import questionnaire, survey_options
from sipas.survey import tablet
from sipas.survey.responses import choose_criteria

log = logging.getLogger("sipas.survey.tablet")

KEY = "kiosk_survey"
IDLE_SECONDS = ui.env_seconds("SIPAS_KIOSK_IDLE_SECONDS", 90)
# Typing a comment on a tablet is slow: allow longer.
IDLE_SECONDS_COMMENT = ui.env_seconds("SIPAS_KIOSK_IDLE_SECONDS_COMMENT", 180)
THANKS_SECONDS = ui.env_seconds("SIPAS_KIOSK_THANKS_SECONDS", 8)
ADVANCE_MS = 400  # "about half a second": the citizen sees the choice, then the next question


def device_name() -> str | None:
    value = (st.query_params.get("device") or "").replace("\x00", "")  # %00 in the address: never stored
    return value[:40] or None


def acks() -> list:
    return st.session_state.setdefault("kiosk_acks", [])


def on_sync() -> None:
    """The tablet's message (starts, completed surveys, its pending count). Never raises."""
    value = st.session_state.get(KEY) or {}
    msg = value.get("sync") if hasattr(value, "get") else None
    if not isinstance(msg, dict):
        return
    now = clock.now()
    try:
        with ui.conn() as c:
            hours = settings.get(c, "opening_hours")
            result = tablet.handle_sync(
                c, msg, now=now, device=device_name(), out_of_hours=lambda t: not settings.is_open(hours, t)
            )
            pending = msg.get("pending")
            name = device_name() or f"máy {str(msg.get('tablet') or '?')[:8]}"
            if isinstance(pending, int) and not isinstance(pending, bool) and pending >= 0:
                left = max(0, pending - sum(a.startswith("r:") for a in result.acks))
                db.report_pending(c, name, left, now)
    except Exception:  # full disk, read-only, missing or locked database: the tablet keeps the surveys
        log.exception("kiosk sync failed")
        st.session_state["kiosk_paused"] = True
        return
    st.session_state["kiosk_paused"] = False
    done = acks()
    done.extend(a for a in result.acks if a not in done)
    del done[:-400]


def staff_options(c) -> list[dict]:
    photos = db.staff_photos(c)
    staff = []
    for m in db.list_staff(c, active_only=True):
        entry = {"code": m["code"], "full_name": m["full_name"]}
        if m["code"] in photos:
            data, mime = photos[m["code"]]
            entry["photo"] = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        staff.append(entry)
    return staff


def texts_data() -> dict:
    opts = survey_options()
    return {
        "texts": tablet.TEXTS,
        "scale": [{"value": s["value"], "label": s["label"]} for s in opts["scale"]],
        "no_opinion": opts["no_opinion"],
        "idle_seconds": IDLE_SECONDS,
        "comment_idle_seconds": IDLE_SECONDS_COMMENT,
        "thanks_seconds": THANKS_SECONDS,
        "advance_ms": ADVANCE_MS,
        "login": not st.session_state.get("kiosk_device") and st.session_state.get("login_page") is not None,
    }


def survey_data() -> dict:
    """Everything the component needs; raises on a database fault."""
    now = clock.now()
    opts = survey_options()
    with ui.conn() as c:
        unit = settings.get(c, "unit_name", now.date())
        office = settings.get(c, "office_name", now.date())
        hours = settings.get(c, "opening_hours")
        closed = settings.get(c, "kiosk_closed_outside_hours") and not settings.is_open(hours, now)
        version = settings.get(c, "active_questionnaire")
        per_survey = settings.get(c, "questions_per_survey")
        asked = db.asked_counts(c, version) if per_survey["mode"] == "short" else {}
        fields = settings.get(c, "fields") or opts["fields"]
        staff = staff_options(c)
        read_aloud = settings.get(c, "kiosk_read_aloud")
        promise = tablet.promise_text(tablet.median_duration(c, now))
        summary = []
        if settings.get(c, "public_summary_on_kiosk"):
            from sipas.cases import public  # only then: the tablet's page stays light

            summary = public.public_summary(c, now.strftime("%Y-%m"))[:5]
    q = questionnaire(version)
    codes = choose_criteria(q, per_survey["mode"], per_survey["rotating"], asked, random.Random())
    plan = tablet.build_plan(q, codes, opts, list(fields), staff, per_survey["mode"], office=office)
    return {
        **texts_data(),
        "unit": unit,
        "closed": bool(closed),
        "paused": bool(st.session_state.get("kiosk_paused")),
        "promise": promise,
        "summary": [str(x) for x in summary],
        "read_aloud": bool(read_aloud),
        "plan": plan,
        "acks": list(acks()),
    }


def render() -> None:
    st.html(ui.KIOSK_COMPONENT_CSS)
    try:
        data = survey_data()
    except Exception:  # never a traceback or an English box on the citizen's tablet
        log.exception("kiosk page failed")
        data = {**texts_data(), "unit": "", "closed": False, "paused": True, "promise": "", "summary": []}
        data.update(read_aloud=False, plan=None, acks=list(acks()))
    ui.survey_component()(key=KEY, data=data, on_sync_change=on_sync)


try:
    render()
except Exception:
    log.exception("kiosk component failed")
    st.info("Hệ thống khảo sát đang tạm dừng. Xin Ông/Bà vui lòng báo cán bộ tại quầy. Xin cảm ơn!")
