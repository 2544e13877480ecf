"""Log out: end this staff session in the database, then show the login form again.

Roles: clerk, chairman (the page is only in a logged-in user's menu).
"""

import streamlit as st

import ui
from sipas.admin import auth

token = st.session_state.pop(ui.TOKEN_KEY, None)
if token:
    with ui.conn() as c:
        auth.logout(c, token)
    st.session_state["session_end_reason"] = "ended"
    ui.forget_session_cookie()
    st.session_state["was_staff"] = True
    st.rerun()
st.info("Bạn đã đăng xuất.")
