"""The page shown for an address this visitor may not open or that does not exist.

Roles: everyone (no guard: it shows nothing but the sentence and the way back). app.py registers it,
hidden, at every address of the product that the visitor's role leaves out (and at the one asked for),
so that a bookmark such as /overview after the session ended, or a clerk's /chairman, gets this
Vietnamese page instead of Streamlit's English "Page not found" box. The role checks are unchanged:
the page asked for is not registered and does not run.
"""

import streamlit as st

import ui

NOT_ALLOWED = "Trang này không có hoặc Ông/Bà không có quyền mở."

user, _ = ui.resolve_user()
st.title("Không mở được trang này")
st.warning(NOT_ALLOWED)
if user is not None:
    st.write("Mời chọn một trang trong danh mục bên trái.")
else:
    login = st.session_state.get("login_page")
    if login is not None:
        st.write("Cán bộ cần đăng nhập trước khi mở các trang quản lý.")
        st.page_link(login, label="Cán bộ đăng nhập", icon=":material/key:")
    home = st.session_state.get("survey_page")
    if home is not None:
        st.page_link(home, label="Về màn hình khảo sát", icon=":material/sentiment_satisfied:")
