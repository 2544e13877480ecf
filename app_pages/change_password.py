"""First login after someone else set this account's password: its owner sets a new one before anything else.

Roles: any logged-in staff member whose password was set by someone else (app.py leads every staff address
here until it is changed).
"""

import streamlit as st

import ui
from sipas.admin import auth
from sipas.errors import SipasError

user = ui.require_role("clerk", "chairman")
st.title("Đặt mật khẩu mới")
st.info(
    "Mật khẩu của tài khoản này do người khác đặt. Trước khi làm việc, Ông/Bà cần đặt mật khẩu mới mà chỉ mình "
    "biết: mật khẩu là bằng chứng cho các quyết định ký bằng tài khoản này."
)
with st.form("own_password", clear_on_submit=True, enter_to_submit=False):
    current = st.text_input("Mật khẩu hiện tại", type="password", key="own_current")
    new = st.text_input(f"Mật khẩu mới (ít nhất {auth.MIN_PASSWORD} ký tự)", type="password", key="own_new")
    new2 = st.text_input("Nhập lại mật khẩu mới", type="password", key="own_new2")
    if st.form_submit_button("Đặt mật khẩu mới", type="primary"):
        try:
            with ui.conn() as c:
                st.session_state[ui.TOKEN_KEY] = auth.change_own_password(c, user, current, new, new2)
            st.session_state["password_changed"] = True
            st.rerun()
        except SipasError as exc:
            ui.show_errors(exc)
