"""The survey screen inside the staff pages: a staff member's preview, or the way to the tablet's own app.

Roles: anyone. The counter tablet itself is a web app of its own (``tablet_web.py``, ``/tablet/``), outside
Streamlit's session and front end; a visitor who is not logged in and lands here (the default page) is sent
there at once.

A logged-in staff member opening "Xem màn hình khảo sát" gets a preview: the survey component
(``ui.survey_component``) is told ``preview``, runs the survey without sending anything (no start, no
token, no survey) and shows "Xem thử — không lưu"; it sits in the main area beside the sidebar. This page
has no way to store anything: the component's message is not even listened to.
"""

from __future__ import annotations

import logging

import streamlit as st

import tablet_web
import ui
from sipas import clock

log = logging.getLogger("sipas.survey.tablet")

KEY = "kiosk_survey"
# The tablet's app; a script of ours (a constant, nothing typed by anyone) sends the browser there.
TO_TABLET = '<script>window.location.replace("/tablet/");</script>'


def preview_data() -> dict:
    """The next survey's data as a tablet gets it, with nothing of a tablet's (no secret, no tokens)."""
    try:
        with ui.conn() as c:
            data = tablet_web.page_data(c, clock.now())
    except Exception:  # the database cannot open: the component's calm screen, never a traceback
        log.exception("survey preview failed")
        data = tablet_web.fallback_page()
    return {**data, "preview": True, "login": False, "enrolled": None, "tokens": [], "acks": [], "refused": None}


user, _ = ui.resolve_user()
if user is None:
    st.html(TO_TABLET, unsafe_allow_javascript=True)
    st.markdown("[Mở màn hình khảo sát](/tablet/)")
else:
    st.html(ui.KIOSK_PREVIEW_CSS)
    try:
        ui.survey_component()(key=KEY, data=preview_data())
    except Exception:
        log.exception("survey preview component failed")
        st.info("Chưa xem thử được màn hình khảo sát. Xin thử lại sau.")
