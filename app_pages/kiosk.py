"""The counter tablet: one ``st.components.v2`` component runs the whole survey in the browser.

Roles: anyone (the default page for a visitor who is not logged in). Nothing here shows staff data
beyond the roster's names (and photos) in the staff picker.

The server hands the component the plan of the next survey (:func:`sipas.survey.tablet.next_survey`) and the
tokens it has acknowledged; the component sends one trigger, ``sync``, with the surveys started
(tokens only) and the completed surveys kept in the tablet's queue. Storing happens in the
trigger's callback (before the script body, so a fast rerun cannot lose it) through the
exactly-once path. A database fault never reaches the citizen as an error box: the component shows
its calm "tạm dừng / thử lại" screen and keeps the surveys on the tablet.

A logged-in staff member opening "Xem màn hình khảo sát" gets a preview: the component is told
(``preview``), runs the survey without sending anything and shows "Xem thử — không lưu", sits in the
main area beside the sidebar; and this side ignores any message of a preview session (nothing stored,
no start counted, no token used, no enrolment link consumed).
"""

from __future__ import annotations

import logging
import os

import streamlit as st

import ui
from sipas import clock
from sipas.catalog import survey_options
from sipas.survey import devices, tablet

log = logging.getLogger("sipas.survey.tablet")

KEY = "kiosk_survey"
IDLE_SECONDS = ui.env_seconds("SIPAS_KIOSK_IDLE_SECONDS", 90)
# Typing a comment on a tablet is slow: allow longer.
IDLE_SECONDS_COMMENT = ui.env_seconds("SIPAS_KIOSK_IDLE_SECONDS_COMMENT", 180)
THANKS_SECONDS = ui.env_seconds("SIPAS_KIOSK_THANKS_SECONDS", 8)
ADVANCE_MS = 400  # "about half a second": the citizen sees the choice, then the next question
# A survey faster than the setting kiosk_min_seconds_per_answer per answer is stored as suspect (left
# out of the figures until a clerk restores it); browser tests that tap at machine speed override it.
try:
    MIN_SECONDS_PER_ANSWER = max(0.0, float(os.environ.get("SIPAS_KIOSK_MIN_SECONDS_PER_ANSWER", "")))
except ValueError:
    MIN_SECONDS_PER_ANSWER = None


def device_name() -> str | None:
    value = (st.query_params.get("device") or "").replace("\x00", "")  # %00 in the address: never stored
    return value[:40] or None


def is_preview() -> bool:
    """A logged-in staff member looking at the survey screen: a preview that stores nothing."""
    user, _ = ui.resolve_user()
    return user is not None


def enrol_once() -> None:
    """The one-time enrolment link (``&enrol=CODE``): the device secret goes to this browser once, and
    the code leaves the address so that a bookmark never carries it."""
    code = st.query_params.get("enrol")
    if not code:
        return
    name = device_name()
    with ui.conn() as c:
        secret = devices.enrol(c, name or "", code, now=clock.now())
    if secret:
        st.session_state["kiosk_enrolled"] = {"name": name, "secret": secret}
    else:
        st.session_state["kiosk_enrol_failed"] = True
    del st.query_params["enrol"]


def acks() -> list:
    return st.session_state.setdefault("kiosk_acks", [])


def on_sync() -> None:
    """The tablet's message (starts, completed surveys, its pending count). Never raises."""
    value = st.session_state.get(KEY) or {}
    msg = value.get("sync") if hasattr(value, "get") else None
    if not isinstance(msg, dict):
        return
    if is_preview():  # a staff preview never stores, counts or uses anything, whatever it sends
        log.info("kiosk message of a staff preview ignored")
        return
    try:
        with ui.conn() as c:
            result = tablet.sync(c, msg, now=clock.now(), min_seconds_per_answer=MIN_SECONDS_PER_ANSWER)
    except Exception:  # full disk, read-only, missing or locked database: the tablet keeps the surveys
        log.exception("kiosk sync failed")
        st.session_state["kiosk_paused"] = True
        return
    st.session_state["kiosk_paused"] = False
    st.session_state["kiosk_refused"] = result.refused
    if result.tokens:
        st.session_state["kiosk_tokens"] = result.tokens
    done = acks()
    done.extend(a for a in result.acks if a not in done)
    del done[:-400]


def texts_data(preview: bool = False) -> dict:
    opts = survey_options()
    data = {
        "texts": tablet.TEXTS,
        "scale": [{"value": s["value"], "label": s["label"]} for s in opts["scale"]],
        "no_opinion": opts["no_opinion"],
        "idle_seconds": IDLE_SECONDS,
        "comment_idle_seconds": IDLE_SECONDS_COMMENT,
        "thanks_seconds": THANKS_SECONDS,
        "advance_ms": ADVANCE_MS,
        "login": not st.session_state.get("kiosk_device") and st.session_state.get("login_page") is not None,
        "enrolled": st.session_state.get("kiosk_enrolled"),
        "enrol_failed": bool(st.session_state.get("kiosk_enrol_failed")),
        "tokens": st.session_state.get("kiosk_tokens") or [],
        "refused": st.session_state.get("kiosk_refused"),
        "preview": preview,
    }
    if preview:  # nothing of a tablet's: no secret, no start tokens, no acknowledgements
        data.update(enrolled=None, enrol_failed=False, tokens=[], refused=None, login=False)
    return data


def survey_data(preview: bool = False) -> dict:
    """Everything the component needs; raises on a database fault."""
    with ui.conn() as c:
        nxt = tablet.next_survey(c, clock.now())
    paused = bool(st.session_state.get("kiosk_paused")) and not preview
    return {**texts_data(preview), **nxt, "paused": paused, "acks": [] if preview else list(acks())}


def render() -> None:
    preview = is_preview()
    # The tablet hides Streamlit's chrome; a staff preview keeps the sidebar and the header.
    st.html(ui.KIOSK_PREVIEW_CSS if preview else ui.KIOSK_COMPONENT_CSS)
    try:
        if not preview:  # an enrolment link opened by a logged-in staff browser enrols nothing
            enrol_once()
    except Exception:  # the database cannot open: the calm screen below, never a traceback
        log.exception("kiosk enrolment failed")
    try:
        data = survey_data(preview)
    except Exception:  # never a traceback or an English box on the citizen's tablet
        log.exception("kiosk page failed")
        data = {**texts_data(preview), "unit": "", "closed": False, "paused": True, "promise": "", "summary": []}
        data.update(read_aloud=False, plan=None, acks=[] if preview else list(acks()))
    ui.survey_component()(key=KEY, data=data, on_sync_change=on_sync)


try:
    render()
except Exception:
    log.exception("kiosk component failed")
    st.info("Hệ thống khảo sát đang tạm dừng. Xin Ông/Bà vui lòng báo cán bộ tại quầy. Xin cảm ơn!")
