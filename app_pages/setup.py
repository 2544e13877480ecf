"""Xác nhận thông tin đơn vị: the first page after a staff login until the unit's names are confirmed.

Roles: clerk, chairman. The shipped names are dated (until 30/6/2025 the Bộ phận Một cửa of xã Vạn
Phước reporting to the district; from 1/7/2025 the Trung tâm Phục vụ hành chính công of xã Tu Bông
reporting to the province, to be verified): staff confirm or correct the unit's name, the office
name the statements use and the report recipient before anything else. The tablet works on the
shipped names meanwhile. Saving stores each name from the first day of its current period and the
confirmation itself, all audited (sipas.admin.settings.confirm_unit).
"""

import streamlit as st

import ui
from sipas import clock
from sipas.admin import settings, signing
from sipas.errors import SipasError

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Xác nhận thông tin đơn vị")
st.write(
    "Trước khi dùng phần mềm, xin xác nhận hoặc sửa tên đơn vị, tên nơi tiếp nhận hồ sơ (điền vào các nhận "
    "định của phiếu, ví dụ “… có biển hiệu, hướng dẫn rõ ràng …”) và nơi nhận báo cáo tháng. Giá trị có sẵn "
    "theo sắp xếp đơn vị hành chính từ 1/7/2025 (xã Tu Bông gồm Vạn Phước, Vạn Khánh, Vạn Long; báo cáo gửi "
    "UBND tỉnh Khánh Hòa qua Sở Nội vụ) cần được kiểm tra lại. Trong lúc chờ xác nhận, máy tính bảng vẫn dùng "
    "các giá trị có sẵn."
)

if user.is_admin:
    st.info(signing.FIRST_START_ADVICE)

today = clock.today()
with ui.conn() as c:
    current = {key: settings.get(c, key, today) for key in settings.UNIT_KEYS}
    starts = {key: settings.current_period_start(c, key, today) for key in settings.UNIT_KEYS}

with st.form("confirm_unit_form", enter_to_submit=False):
    values = {
        key: st.text_input(settings.NAME_LABELS[key], current[key], max_chars=300, key=f"confirm_{key}")
        for key in settings.UNIT_KEYS
    }
    first = max(starts.values())
    st.caption(
        f"Lưu có hiệu lực từ ngày {clock.format_date(first)} (đầu giai đoạn hiện tại); báo cáo các tháng "
        "trước đó vẫn dùng tên của thời gian đó. Sửa tiếp ở trang Cài đặt."
    )
    submitted = st.form_submit_button("Xác nhận thông tin đơn vị", type="primary")

if submitted:
    if not ui.may_act("clerk", "chairman"):
        st.stop()
    try:
        with ui.conn() as c:
            settings.confirm_unit(c, values, user.username)
    except SipasError as exc:
        ui.show_errors(exc)
    else:
        st.session_state["unit_confirmed"] = True
        st.rerun()
