"""Backups: download a fresh copy, the daily automatic copies, restore from a file, check the database.

Roles: clerk, chairman (download and restore: an administrator only, after typing the password again).
"""

import pandas as pd
import streamlit as st

import ui
from sipas import clock
from sipas.admin import auth, backup, check, download_links, restore, settings, signing
from sipas.errors import SipasError

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Sao lưu và khôi phục")

path = ui.database_path()
with ui.conn() as c:
    folder = backup.configured_backup_dir(c)
    keep = settings.get(c, "backup_keep")


def _size(n: int) -> str:
    return clock.format_number(n / 1_048_576, 1, unit=" MB") if n >= 1_048_576 else f"{n / 1024:.0f} KB"


# ------------------------------------------------------------------------------ download
st.subheader("Tải bản sao lưu")
st.write(
    "Bản sao lưu là một tệp .db chứa toàn bộ dữ liệu: phiếu, cài đặt, danh sách cán bộ, tài khoản; "
    "phần mềm ký tệp bằng khóa riêng của máy này, tệp bị sửa sau đó sẽ không khôi phục được. "
    "Có thể tạo cả khi các máy tính bảng đang nhận phiếu. Hãy cất bản sao ở nơi khác máy này "
    "(USB, ổ mạng) để còn dữ liệu khi máy hỏng."
)
if not user.is_admin:
    # The file holds every account's password hash: an administrator's only.
    st.info("Chỉ tài khoản có quyền quản trị mới được tải bản sao lưu.")
    st.session_state.pop("backup_link", None)
else:
    make_password = st.text_input(
        "Nhập lại mật khẩu của bạn để tải bản sao lưu", type="password", key="backup_make_password", autocomplete="off"
    )
    leaving = st.checkbox(
        "Bản mang ra khỏi cơ quan: không kèm tài khoản, mật khẩu (dạng băm), phiên đăng nhập và máy tính bảng",
        key="backup_without_accounts",
        help="Dùng khi gửi tệp cho nơi khác hoặc cất ngoài trụ sở. Phiếu, cài đặt, danh sách cán bộ và nhật ký "
        "vẫn đầy đủ; khôi phục bản này không đổi tài khoản của máy đang dùng.",
    )
    if st.button("Tạo liên kết tải bản sao lưu", type="primary", key="backup_make"):
        with ui.conn() as c:
            make_ok = auth.verify_password(c, user.username, make_password)
        if not make_ok:
            st.error("Mật khẩu không đúng. Chưa tạo bản sao lưu.")
            st.session_state.pop("backup_link", None)
        else:
            # The file is made when the link is opened and streamed from disk (backup_route.py):
            # Streamlit's download button would hold all of it in the server's memory.
            kind = "khong-tai-khoan-" if leaving else ""
            name = f"sipas-backup-{kind}{clock.now():%Y-%m-%d-%H%M}.db"
            token = download_links.issue(st.session_state[ui.TOKEN_KEY], user.username, name, without_accounts=leaving)
            st.session_state["backup_link"] = (name, token)
ready = st.session_state.get("backup_link") if user.is_admin else None
if ready:
    name, token = ready
    # Our own values only (a fixed name and a URL-safe token), never text a person typed.
    st.html(
        f'<a href="/api/backup/{token}" download="{name}" data-testid="sipas-backup-link" '
        'style="display:inline-block;padding:0.4rem 0.9rem;border:1px solid #d0d0d8;border-radius:0.5rem;'
        f'text-decoration:none">⬇ Tải xuống {name}</a>'
    )
    st.caption(
        "Liên kết chỉ dùng được một lần, trong 2 phút, trong phiên đăng nhập này; tệp được tạo lúc bấm tải "
        "(có thể mất vài giây với dữ liệu lớn)."
    )

# ------------------------------------------------------------------------------ the signing key
st.subheader("Khóa ký bản sao lưu")
st.write(
    "Mỗi bản sao lưu được ký bằng khóa riêng của máy này (tệp cạnh tệp dữ liệu). Nếu máy hỏng mà mất khóa, "
    "các bản sao lưu cũ sẽ bị coi là của nơi khác. Hãy ghi lại **mã khôi phục khóa** một lần và cất cùng USB "
    "sao lưu; trên máy mới, nhập mã đó ở đây trước khi khôi phục."
)
if not user.is_admin:
    st.info("Chỉ tài khoản có quyền quản trị mới được xem hoặc nhập mã khôi phục khóa.")
    st.session_state.pop("key_code", None)
else:
    key_password = st.text_input(
        "Nhập lại mật khẩu của bạn để xem hoặc nhập mã khôi phục khóa",
        type="password",
        key="key_password",
        autocomplete="off",
    )
    show_col, restore_col = st.columns(2)
    if show_col.button("Xem mã khôi phục khóa", key="key_show"):
        try:
            with ui.conn() as c:
                auth.reauthenticate(c, user.username, key_password, "key-show")
                st.session_state["key_code"] = signing.show_recovery_code(c, path, user.username)
        except SipasError as exc:
            ui.show_errors(exc)
    if st.session_state.get("key_code"):
        st.info(signing.KEEP_ADVICE)
        st.code(st.session_state["key_code"], language=None)
    typed_code = restore_col.text_input("Mã khôi phục khóa (máy mới)", key="key_code_input", autocomplete="off")
    if restore_col.button("Dùng mã này làm khóa của máy", key="key_restore", disabled=not typed_code.strip()):
        try:
            with ui.conn() as c:
                auth.reauthenticate(c, user.username, key_password, "key-restore")
                st.success(signing.restore_key_logged(c, path, typed_code, user.username))
        except SipasError as exc:
            ui.show_errors(exc)

# ------------------------------------------------------------------------------ automatic copies
st.subheader("Bản sao lưu tự động")
st.caption(
    f"Mỗi ngày một bản, trong thư mục {ui.escape_md(folder)}; giữ {keep} bản hằng ngày gần nhất. "
    'Các bản "Trước khi khôi phục" không bị xóa tự động.'
)
files = backup.list_backups(folder)
if files:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Tệp": f.name,
                    "Loại": f.kind_label,
                    "Thời gian": f.modified.strftime("%d/%m/%Y %H:%M"),
                    "Dung lượng": _size(f.size),
                }
                for f in files
            ]
        ),
        hide_index=True,
        width="stretch",
        placeholder="—",
    )
else:
    st.info("Chưa có bản sao lưu nào trong thư mục này.")

# ------------------------------------------------------------------------------ restore
st.subheader("Khôi phục từ bản sao lưu")
if not user.is_admin:
    st.info("Chỉ tài khoản có quyền quản trị mới được khôi phục dữ liệu từ bản sao lưu.")
else:
    st.warning(
        "Khôi phục thay toàn bộ dữ liệu hiện tại bằng dữ liệu trong tệp sao lưu. Tệp được kiểm tra trước; "
        'dữ liệu hiện tại được giữ lại thành một bản "Trước khi khôi phục" trong thư mục sao lưu. '
        "Tài khoản và quyền vẫn giữ như hiện tại (không lấy từ tệp sao lưu); mọi phiên đăng nhập khác "
        "sẽ kết thúc."
    )
    FROM_UPLOAD, FROM_FOLDER = "Tệp tải lên", "Một bản trong thư mục sao lưu"
    source = st.radio("Khôi phục từ", [FROM_UPLOAD, FROM_FOLDER], horizontal=True, key="restore_source")
    upload = picked = None
    if source == FROM_UPLOAD:
        upload = st.file_uploader("Chọn tệp sao lưu (.db)", type=["db", "sqlite", "sqlite3"], key="restore_file")
    else:
        picked = st.selectbox(
            "Bản sao lưu", [f.name for f in files], index=None, placeholder="Chọn một bản", key="restore_pick"
        )
    confirm = st.checkbox(
        "Tôi hiểu rằng dữ liệu hiện tại sẽ được thay bằng dữ liệu trong bản sao lưu.", key="restore_confirm"
    )
    password = st.text_input(
        "Nhập lại mật khẩu của bạn để xác nhận", type="password", key="restore_password", autocomplete="off"
    )
    foreign = st.session_state.get("restore_foreign")
    accept = False
    if foreign:
        st.warning(foreign)
        accept = st.checkbox("Tôi chấp nhận khôi phục tệp này dù nó không do máy này ký.", key="restore_accept_foreign")
    if st.button(
        "Kiểm tra tệp và khôi phục", key="restore_button", disabled=not (confirm and (upload is not None or picked))
    ):
        with ui.conn() as c:
            password_ok = auth.verify_password(c, user.username, password)
        if not password_ok:
            st.error("Mật khẩu không đúng. Chưa khôi phục gì.")
        else:
            token = st.session_state.get(ui.TOKEN_KEY)
            try:
                with st.spinner("Đang kiểm tra và khôi phục…"):
                    common = dict(backup_dir=folder, actor=user.username, keep_session=token, accept_foreign=accept)
                    if upload is not None:
                        result = restore.restore(path, upload.getvalue(), name=upload.name, **common)
                    else:
                        result = restore.restore(path, folder / picked, **common)
            except restore.UnsignedBackupError as exc:
                st.session_state["restore_foreign"] = str(exc)
                st.rerun()
            except SipasError as exc:
                ui.show_errors(exc)
            else:
                st.cache_data.clear()
                for k in ("backup_link", "restore_foreign"):
                    st.session_state.pop(k, None)
                st.success(result.message())

# ------------------------------------------------------------------------------ check
st.subheader("Kiểm tra cơ sở dữ liệu")
st.write("Kiểm tra tệp dữ liệu có bị hỏng không, và các bảng tổng hợp có khớp với từng phiếu đã lưu không.")
if st.button("Kiểm tra cơ sở dữ liệu", key="check_db"):
    try:
        with st.spinner("Đang kiểm tra…"):
            problems = check.check_database(path)
    except SipasError as exc:
        ui.show_errors(exc)
    else:
        if problems:
            st.error(f"Phát hiện {len(problems)} lỗi:")
            st.code("\n".join(problems), language=None, wrap_lines=True)
        else:
            st.success(check.OK_MESSAGE)
