"""Staff login (and, on first start with no account at all, creation of the first admin account).

Roles: anyone may open it; it shows no staff data. On a locked counter tablet it is not reachable.
"""

import sqlite3

import streamlit as st

import ui
from sipas import db, faults
from sipas.admin import auth, first_start
from sipas.errors import DatabaseError, SipasError


def do_login() -> None:
    username = st.session_state.get("login_user", "")
    password = st.session_state.get("login_password", "")
    st.session_state["login_password"] = ""
    try:
        with ui.conn() as c:
            user = auth.authenticate(c, username, password)
            st.session_state[ui.TOKEN_KEY] = auth.start_session(c, user)
        st.session_state.pop("session_end_reason", None)
        st.session_state.pop("login_error", None)
    except SipasError as exc:
        st.session_state["login_error"] = str(exc)
    except (sqlite3.Error, OSError) as exc:
        message = faults.describe(exc, ui.database_path())
        if message is None:
            raise
        st.session_state["login_error"] = message


def create_first_admin() -> None:
    f = st.session_state
    if not ui.from_this_machine():
        try:
            with ui.conn() as c:
                first_start.check_code(c, f.get("first_code", ""), ui.setup_code())
        except SipasError as exc:
            f["first_error"] = str(exc)
            f["first_password"] = f["first_password2"] = f["first_code"] = ""
            return
    if f.get("first_password") != f.get("first_password2"):
        f["first_error"] = "Hai lần nhập mật khẩu không khớp."
        return
    try:
        with ui.conn() as c:
            user = auth.create_user(
                c,
                f.get("first_user", ""),
                f.get("first_password", ""),
                f.get("first_role"),
                full_name=f.get("first_name"),
                first_admin=True,
            )
            st.session_state[ui.TOKEN_KEY] = auth.start_session(c, user)
        f.pop("first_error", None)
        first_start.remove_code_file(ui.database_path())
    except SipasError as exc:
        f["first_error"] = str(exc)
    except (sqlite3.Error, OSError) as exc:
        message = faults.describe(exc, ui.database_path())
        if message is None:
            raise
        f["first_error"] = message
    finally:
        f["first_password"] = f["first_password2"] = ""


try:
    with ui.conn() as c:
        has_users = db.count_users(c) > 0
except (sqlite3.Error, OSError, DatabaseError) as exc:
    st.title("Cán bộ đăng nhập")
    st.error(faults.describe(exc, ui.database_path()) or str(exc))
    st.stop()

if not has_users:
    st.title("Thiết lập lần đầu")
    st.write(
        "Chưa có tài khoản cán bộ nào. Hãy tạo tài khoản quản trị đầu tiên "
        "(người này sẽ tạo tài khoản cho những người khác). Không có mật khẩu mặc định."
    )
    local = ui.from_this_machine()
    if not local:
        ui.setup_code()  # printed in the server console
        st.info(
            "Trang này đang được mở từ một máy khác máy chủ. Chỉ người quản lý máy chủ mới tạo được tài khoản "
            "quản trị đầu tiên: hãy mở trang này ngay trên máy chủ (http://localhost:8501), hoặc nhập mã thiết lập "
            "in trong cửa sổ máy chủ và ghi trong tệp có đuôi .setup-code cạnh tệp dữ liệu (khi máy chủ chạy "
            "như một dịch vụ, chỉ tài khoản chạy dịch vụ đọc được tệp này)."
        )
    with st.form("first_admin", enter_to_submit=False):
        if not local:
            st.text_input("Mã thiết lập (in trong cửa sổ máy chủ)", key="first_code", type="password")
        st.text_input("Tên đăng nhập", key="first_user", placeholder="ví dụ: vanphong")
        st.text_input("Họ và tên", key="first_name")
        st.selectbox(
            "Chức vụ", list(auth.ROLES), format_func=auth.ROLES.get, key="first_role", placeholder="Chọn một mục"
        )
        st.text_input("Mật khẩu (ít nhất 8 ký tự)", type="password", key="first_password")
        st.text_input("Nhập lại mật khẩu", type="password", key="first_password2")
        st.form_submit_button("Tạo tài khoản quản trị", type="primary", on_click=create_first_admin)
    if st.session_state.get("first_error"):
        st.error(st.session_state["first_error"])
else:
    first_start.remove_code_file(ui.database_path())
    st.title("Cán bộ đăng nhập")
    reason = st.session_state.get("session_end_reason")
    if reason == "expired":
        st.info("Phiên làm việc đã hết hạn sau 30 phút không thao tác. Vui lòng đăng nhập lại.")
    elif reason == "ended":
        st.info("Phiên làm việc đã kết thúc (đăng xuất, đổi mật khẩu hoặc tài khoản bị khóa).")
    with st.form("login", clear_on_submit=False, enter_to_submit=True):
        st.text_input("Tên đăng nhập", key="login_user", autocomplete="username")
        st.text_input("Mật khẩu", type="password", key="login_password", autocomplete="current-password")
        st.form_submit_button("Đăng nhập", type="primary", on_click=do_login)
    if st.session_state.get("login_error"):
        st.error(st.session_state["login_error"])
    st.page_link("app_pages/kiosk.py", label="← Về màn hình khảo sát")
