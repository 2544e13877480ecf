"""Accounts: change one's own password; with the admin right, manage every staff account.

Roles: clerk, chairman (own password); the account list needs the admin right.
"""

import pandas as pd
import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import auth
from sipas.errors import SipasError

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Tài khoản")
st.write(
    f"Đang đăng nhập: **{ui.escape_md(user.display_name)}** — {auth.ROLES[user.role]}"
    + (" (quản trị)" if user.is_admin else "")
)

with st.form("own_password", clear_on_submit=True, enter_to_submit=False):
    st.subheader("Đổi mật khẩu của tôi")
    old = st.text_input("Mật khẩu hiện tại", type="password", key="pw_old")
    new = st.text_input("Mật khẩu mới (ít nhất 8 ký tự)", type="password", key="pw_new")
    new2 = st.text_input("Nhập lại mật khẩu mới", type="password", key="pw_new2")
    if st.form_submit_button("Đổi mật khẩu"):
        with ui.conn() as c:
            if not auth.verify_password(c, user.username, old):
                st.error("Mật khẩu hiện tại không đúng.")
            elif new != new2:
                st.error("Hai lần nhập mật khẩu mới không khớp.")
            else:
                try:
                    auth.set_password(c, user.username, new, user.username)
                    st.success("Đã đổi mật khẩu. Vui lòng đăng nhập lại.")
                except SipasError as exc:
                    ui.show_errors(exc)

if not user.is_admin:
    st.stop()

st.subheader("Quản lý tài khoản")
if st.session_state.get("accounts_msg"):
    st.success(st.session_state.pop("accounts_msg"))
with ui.conn() as c:
    users = db.list_users(c)
st.dataframe(
    pd.DataFrame(
        [
            {
                "Tên đăng nhập": u["username"],
                "Họ và tên": u["full_name"] or "—",
                "Vai trò": auth.ROLES.get(u["role"], "—"),
                "Quyền quản trị": "Có" if u["is_admin"] else "Không",
                "Trạng thái": "Đang dùng" if u["active"] else "Đã khóa",
                "Tạo lúc": clock.format_datetime(u["created_at"]),
                "Đổi mật khẩu lúc": clock.format_datetime(u["password_changed_at"]),
            }
            for u in users
        ],
        columns=[
            "Tên đăng nhập",
            "Họ và tên",
            "Vai trò",
            "Quyền quản trị",
            "Trạng thái",
            "Tạo lúc",
            "Đổi mật khẩu lúc",
        ],
    ),
    hide_index=True,
    width="stretch",
    placeholder="—",
)

with st.form("add_user", clear_on_submit=True, enter_to_submit=False):
    st.markdown("**Thêm tài khoản**")
    name = st.text_input("Tên đăng nhập", key="new_user")
    full = st.text_input("Họ và tên", key="new_full")
    role = st.selectbox(
        "Vai trò", list(auth.ROLES), format_func=auth.ROLES.get, key="new_role", placeholder="Chọn một mục"
    )
    admin = st.checkbox("Có quyền quản trị tài khoản", key="new_admin")
    pw = st.text_input("Mật khẩu ban đầu (ít nhất 8 ký tự)", type="password", key="new_pw")
    if st.form_submit_button("Thêm tài khoản", type="primary"):
        try:
            with ui.conn() as c:
                auth.create_user(c, name, pw, role, is_admin=admin, full_name=full, actor=user.username)
            # Drawn again at once, so the list above shows the new account.
            st.session_state["accounts_msg"] = f"Đã tạo tài khoản {name.strip().lower()}."
            st.rerun()
        except SipasError as exc:
            ui.show_errors(exc)

others = [u["username"] for u in users if u["username"] != user.username]
if others:
    with st.form("manage_user", clear_on_submit=True, enter_to_submit=False):
        st.markdown("**Khóa, mở khóa hoặc đặt lại mật khẩu**")
        target = st.selectbox("Tài khoản", others, key="manage_target", placeholder="Chọn một mục")
        action = st.radio(
            "Việc cần làm",
            ["disable", "enable", "reset"],
            horizontal=True,
            key="manage_action",
            format_func={"disable": "Khóa", "enable": "Mở khóa", "reset": "Đặt lại mật khẩu"}.get,
        )
        pw = st.text_input("Mật khẩu mới (khi đặt lại)", type="password", key="manage_pw")
        if st.form_submit_button("Thực hiện"):
            try:
                with ui.conn() as c:
                    if action == "reset":
                        auth.set_password(c, target, pw, user.username)
                    else:
                        auth.set_active(c, target, action == "enable", user.username)
                st.session_state["accounts_msg"] = "Đã thực hiện. Các phiên đăng nhập của tài khoản này đã kết thúc."
                st.rerun()
            except SipasError as exc:
                ui.show_errors(exc)
