"""The commune's settings (dated where the law changes them), the staff roster and the audit log.

Roles: clerk, chairman. Every change is written to the audit log (who, when, old → new).
"""

import pandas as pd
import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import auth, roster, settings
from sipas.catalog import questionnaires, version_label
from sipas.db import audit
from sipas.errors import SipasError
from sipas.reports import qr_cards
from sipas.survey import devices as tablet_devices
from sipas.survey import qr, quality

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Cài đặt")


def save(key, value, valid_from=None, message="Đã lưu."):
    try:
        with ui.conn() as c:
            settings.put(c, key, value, user.username, valid_from)
        st.success(message)
    except SipasError as exc:
        ui.show_errors(exc)


with ui.conn() as c:
    current = {k: settings.get(c, k) for k in settings.DEFAULTS}
    history = {k: db.get_setting_rows(c, k) for k in ("unit_name", "office_name", "report_recipient", "targets")}

tab_unit, tab_survey, tab_staff, tab_hours, tab_tablets, tab_log = st.tabs(
    [
        "Đơn vị và chỉ tiêu",
        "Phiếu khảo sát",
        "Cán bộ",
        "Giờ làm việc và máy tính bảng",
        "Máy khảo sát đã đăng ký",
        "Nhật ký thay đổi",
    ]
)

with tab_unit:
    st.write(
        "Tên đơn vị và nơi nhận báo cáo có **ngày hiệu lực**: từ 1/7/2025 xã mới và Trung tâm Phục vụ "
        "hành chính công thay cho tên cũ; báo cáo các tháng trước vẫn dùng tên cũ."
    )
    with st.form("unit_form", enter_to_submit=False):
        unit = st.text_input("Tên đơn vị", current["unit_name"], key="unit_name")
        office = st.text_input(
            settings.NAME_LABELS["office_name"],
            current["office_name"],
            key="office_name",
            help="Điền vào các nhận định nêu nơi tiếp nhận hồ sơ, ví dụ “… có biển hiệu, hướng dẫn rõ ràng …”.",
        )
        recipient = st.text_input("Nơi nhận báo cáo", current["report_recipient"], key="report_recipient")
        valid_from = st.date_input("Có hiệu lực từ ngày", clock.today(), format="DD/MM/YYYY", key="unit_from")
        if st.form_submit_button("Lưu tên đơn vị và nơi nhận", type="primary"):
            save("unit_name", unit, valid_from)
            if office != current["office_name"]:
                save("office_name", office, valid_from)
            save("report_recipient", recipient, valid_from)
    for key, label in (
        ("unit_name", "Tên đơn vị"),
        ("office_name", "Nơi tiếp nhận hồ sơ"),
        ("report_recipient", "Nơi nhận báo cáo"),
    ):
        if history[key]:
            st.caption(label + " theo thời gian")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Từ ngày": clock.format_date(h["valid_from"]),
                            "Giá trị": ui.readable_value(h["value"]),
                            "Người sửa": h["changed_by"] or "—",
                            "Lúc sửa": clock.format_datetime(h["changed_at"]),
                        }
                        for h in history[key]
                    ]
                ),
                hide_index=True,
                width="stretch",
                placeholder="—",
            )

    st.subheader("Chỉ tiêu")
    first_day = settings.earliest_plan_date()
    st.caption(
        "Chỉ tiêu và mức xếp loại áp dụng từ ngày bạn chọn, sớm nhất là ngày đầu tháng này: báo cáo các tháng "
        "trước vẫn giữ chỉ tiêu đã dùng khi đánh giá."
    )
    with st.form("targets_form", enter_to_submit=False):
        targets_from = st.date_input(
            "Áp dụng từ ngày", first_day, min_value=first_day, format="DD/MM/YYYY", key="targets_from"
        )
        overall = st.number_input(
            "Chỉ số chung tối thiểu (%)",
            0.0,
            100.0,
            float(current["targets"]["overall"]),
            key="target_overall",
            format="%g",
        )
        floor = st.number_input(
            "Không chỉ số nào dưới (%)", 0.0, 100.0, float(current["targets"]["floor"]), key="target_floor", format="%g"
        )
        bands = st.data_editor(
            pd.DataFrame(current["bands"], columns=["Mức", "Từ (%)"]),
            key="bands_editor",
            hide_index=True,
            num_rows="dynamic",
            placeholder="",
        )
        if st.form_submit_button("Lưu chỉ tiêu và mức xếp loại", type="primary"):
            save("targets", {"overall": overall, "floor": floor}, targets_from)
            save(
                "bands",
                [[r["Mức"], r["Từ (%)"]] for r in bands.to_dict("records") if r.get("Mức")],
                targets_from,
            )
    if history["targets"]:
        st.caption("Chỉ tiêu theo thời gian")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Từ ngày": clock.format_date(h["valid_from"]) if h["valid_from"] > settings.EARLIEST else "—",
                        "Giá trị": ui.readable_value(h["value"]),
                        "Người sửa": h["changed_by"] or "—",
                        "Lúc sửa": clock.format_datetime(h["changed_at"]),
                    }
                    for h in history["targets"]
                ]
            ),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )

with tab_survey:
    versions = sorted(questionnaires())
    with st.form("survey_form", enter_to_submit=False):
        version = st.selectbox(
            "Phiên bản phiếu đang dùng",
            versions,
            index=versions.index(current["active_questionnaire"]),
            key="active_version",
            format_func=version_label,
            placeholder="Chọn một mục",
        )
        mode = st.radio(
            "Số câu hỏi mỗi phiếu",
            ["full", "short"],
            horizontal=True,
            index=["full", "short"].index(current["questions_per_survey"]["mode"]),
            format_func={
                "full": "Đầy đủ mọi tiêu chí",
                "short": "Rút gọn: yếu tố công chức + một số tiêu chí luân phiên",
            }.get,
            key="qps_mode",
        )
        rotating = st.number_input(
            "Số tiêu chí luân phiên (chế độ rút gọn)",
            1,
            30,
            int(current["questions_per_survey"]["rotating"]),
            key="qps_rotating",
        )
        fields = st.text_area(
            "Các lĩnh vực hiển thị trên máy tính bảng (mỗi dòng một lĩnh vực)",
            "\n".join(current["fields"]),
            key="fields_text",
        )
        min_n = st.number_input(
            "Số phiếu tối thiểu trước khi hiện kết quả của một cán bộ",
            1,
            1000,
            int(current["staff_min_n"]),
            key="staff_min_n",
        )
        if st.form_submit_button("Lưu", type="primary"):
            save("active_questionnaire", version)
            save("questions_per_survey", {"mode": mode, "rotating": int(rotating)})
            save("fields", [f for f in fields.splitlines() if f.strip()])
            save("staff_min_n", int(min_n))

with tab_staff:
    with ui.conn() as c:
        staff = db.list_staff(c)
    if staff:
        st.dataframe(
            ui.vn_frame(
                pd.DataFrame(
                    [
                        {
                            "Mã": m["code"],
                            "Họ và tên": m["full_name"],
                            "Chức danh": m["position"] or "—",
                            "Quầy": m["counter"] or "—",
                            "Từ ngày": clock.format_date(m["active_from"]),
                            "Đến ngày": clock.format_date(m["active_to"]) if m["active_to"] else "đang làm",
                            "Đang làm": "Có" if m["active"] else "Không",
                        }
                        for m in staff
                    ]
                )
            ),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )
    st.subheader("Thêm hoặc sửa cán bộ")
    st.caption(
        "Mỗi mã cán bộ thuộc về một người mãi mãi: người mới được cấp mã mới, mã của người đã nghỉ không cấp lại. "
        "Cùng một cán bộ đổi tên (hoặc tên bị gõ sai): chọn “Đổi tên” và ghi lý do."
    )
    with st.form("staff_form", clear_on_submit=True, enter_to_submit=False):
        code = st.text_input("Mã cán bộ", key="staff_code")
        name = st.text_input("Họ và tên", key="staff_name")
        position = st.text_input("Chức danh", key="staff_position")
        counter = st.text_input("Quầy", key="staff_counter")
        start = st.date_input("Bắt đầu làm tại bộ phận", clock.today(), format="DD/MM/YYYY", key="staff_from")
        rename = st.checkbox("Đổi tên: vẫn là cán bộ đang giữ mã này, không phải người mới", key="staff_rename")
        reason = st.text_input("Lý do đổi tên", key="staff_rename_reason")
        if st.form_submit_button("Lưu cán bộ", type="primary"):
            try:
                with ui.conn() as c:
                    roster.save_member(
                        c,
                        {
                            "code": code,
                            "full_name": name,
                            "position": position,
                            "counter": counter,
                            "active_from": start,
                        },
                        user.username,
                        rename_reason=reason if rename else None,
                    )
                st.success(f"Đã lưu cán bộ {code}.")
            except SipasError as exc:
                ui.show_errors(exc)
    active_codes = [m["code"] for m in staff if m["active"]]
    if active_codes:
        st.subheader("Cán bộ nghỉ hoặc chuyển công tác")
        st.caption("Cán bộ không bị xóa: lịch sử đánh giá vẫn được giữ.")
        with st.form("staff_leave", enter_to_submit=False):
            leaving = st.selectbox("Cán bộ", active_codes, key="leave_code", placeholder="Chọn một mục")
            on = st.date_input("Từ ngày", clock.today(), format="DD/MM/YYYY", key="leave_on")
            if st.form_submit_button("Ngừng hoạt động"):
                with ui.conn() as c:
                    roster.deactivate(c, leaving, on, user.username)
                st.success(f"Cán bộ {leaving} ngừng hoạt động từ {on:%d/%m/%Y}.")

    if active_codes:
        st.subheader("Ảnh cán bộ trên máy tính bảng (không bắt buộc)")
        st.caption("Ảnh PNG, JPEG hoặc WebP, tối đa 300 KB; chỉ hiện ở câu “Ai đã phục vụ Ông/Bà?”.")
        with st.form("staff_photo", clear_on_submit=True, enter_to_submit=False):
            photo_code = st.selectbox("Cán bộ", active_codes, key="photo_code", placeholder="Chọn một mục")
            photo = st.file_uploader("Ảnh", type=["png", "jpg", "jpeg", "webp"], key="photo_file")
            remove = st.checkbox("Xóa ảnh hiện có", key="photo_remove")
            if st.form_submit_button("Lưu ảnh"):
                try:
                    with ui.conn() as c:
                        roster.set_photo(
                            c, photo_code, None if remove or photo is None else photo.getvalue(), user.username
                        )
                    st.success(f"Đã lưu ảnh của cán bộ {photo_code}." if photo and not remove else "Đã xóa ảnh.")
                except SipasError as exc:
                    ui.show_errors(exc)

with tab_hours:
    hours = current["opening_hours"]
    with st.form("hours_form", enter_to_submit=False):
        days = st.multiselect(
            "Ngày làm việc",
            list(range(7)),
            hours["days"],
            format_func=lambda d: settings.WEEKDAYS[d],
            key="hours_days",
            placeholder="Chọn một hoặc nhiều mục",
            select_all=False,
        )
        periods = st.text_input(
            "Các ca (HH:MM-HH:MM, cách nhau bằng dấu phẩy)",
            ", ".join(f"{a}-{b}" for a, b in hours["periods"]),
            key="hours_periods",
        )
        closed = st.checkbox(
            "Ngoài giờ làm việc, máy tính bảng hiện thông báo “Đã hết giờ làm việc”",
            current["kiosk_closed_outside_hours"],
            key="closed_outside",
        )
        read_aloud = st.checkbox(
            "Nút “🔊 Nghe” đọc câu hỏi (chỉ hiện trên máy có giọng đọc tiếng Việt)",
            current["kiosk_read_aloud"],
            key="read_aloud",
        )
        if st.form_submit_button("Lưu", type="primary"):
            try:
                save("opening_hours", {"days": days, "periods": settings.parse_periods(periods)})
            except SipasError as exc:
                ui.show_errors(exc)
            save("kiosk_closed_outside_hours", closed)
            save("kiosk_read_aloud", read_aloud)
    with ui.conn() as c:
        tablets = db.tablet_reports(c)
    st.markdown("**Phiếu đang chờ gửi trên từng máy tính bảng**")
    if tablets:
        st.dataframe(
            ui.vn_frame(
                pd.DataFrame(tablets).rename(
                    columns={"tablet": "Máy tính bảng", "pending": "Phiếu chờ gửi", "reported_at": "Báo lúc"}
                )
            ),
            hide_index=True,
            placeholder="—",
        )
    else:
        st.caption("Chưa có máy tính bảng nào báo về.")
    if not user.is_admin:
        st.info("Chỉ tài khoản có quyền quản trị mới được đổi thư mục và số bản sao lưu tự động cần giữ.")
    else:
        with st.form("backup_form", enter_to_submit=False):
            st.markdown("**Sao lưu tự động mỗi ngày**")
            folder = st.text_input(
                "Thư mục sao lưu (để trống: thư mục “backups” cạnh tệp cơ sở dữ liệu)",
                current["backup_dir"],
                key="backup_dir",
            )
            keep = st.number_input(
                "Số bản sao lưu hằng ngày cần giữ (ít nhất 7)", 7, 3650, int(current["backup_keep"]), key="backup_keep"
            )
            password = st.text_input(
                "Nhập lại mật khẩu của bạn để xác nhận", type="password", key="backup_password", autocomplete="off"
            )
            if st.form_submit_button("Lưu"):
                with ui.conn() as c:
                    password_ok = auth.verify_password(c, user.username, password)
                if not password_ok:
                    st.error("Mật khẩu không đúng. Chưa lưu thay đổi nào về sao lưu.")
                else:
                    save("backup_dir", folder)
                    save("backup_keep", int(keep))
    st.caption(
        "Địa chỉ của máy tính bảng (/tablet/?device=…) không có đường vào trang đăng nhập của cán bộ. "
        "Hãy bật chế độ ghim màn hình (Android) hoặc Truy cập có hướng dẫn (iPad) để người dân "
        "không gõ được địa chỉ khác."
    )


def server_address() -> str:
    """This server's address as the staff browser reaches it (scheme, host and port)."""
    from urllib.parse import urlsplit

    parts = urlsplit(st.context.url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return "http://<địa-chỉ-máy-chủ>:8501"


def tablets_table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in ("Đăng ký lúc", "Đồng bộ lần cuối", "Thu hồi lúc"):
        frame[col] = [clock.format_datetime(v) for v in frame[col]]
    return ui.vn_frame(frame, default=None)


with tab_tablets:
    if flash := st.session_state.pop("tablet_flash", None):
        st.success(flash)
    st.write(
        "Chỉ máy tính bảng đã đăng ký mới gửi được phiếu khảo sát. Mỗi máy mở liên kết đăng ký **một lần** "
        f"(hết hạn sau {tablet_devices.ENROL_DAYS} ngày); sau đó máy giữ khóa riêng và ký mọi phiếu gửi về. "
        "Máy đã thêm ở đây chỉ dùng để khảo sát: từ máy đó không mở được trang đăng nhập của cán bộ."
    )
    with st.form("tablet_add", clear_on_submit=True, enter_to_submit=False):
        new_name = st.text_input("Tên máy (chữ không dấu, số, - hoặc _), ví dụ quay1", key="tablet_name")
        if st.form_submit_button("Tạo liên kết đăng ký", type="primary"):
            try:
                with ui.conn() as c:
                    code = tablet_devices.add(c, new_name, now=clock.now(), actor=user.username)
                name = tablet_devices.check_name(new_name)
                st.success(f"Đã thêm máy {name}. Mở liên kết sau MỘT LẦN trên máy tính bảng đó:")
                st.code(server_address() + tablet_devices.enrolment_path(name, code), language=None, wrap_lines=True)
                st.caption(
                    f"Mã đăng ký: {code} (chỉ hiện lần này). Sau khi đăng ký, dấu trang của máy là "
                    f"{server_address()}{tablet_devices.tablet_path(name)}"
                )
            except SipasError as exc:
                ui.show_errors(exc)
    with ui.conn() as c:
        tablet_rows = tablet_devices.tablet_overview(c)
        refusals = tablet_devices.refusal_summary(c)
        suspects = quality.suspect_surveys(c)
    st.subheader("Các máy đã thêm")
    if tablet_rows:
        st.dataframe(tablets_table(tablet_rows), hide_index=True, width="stretch", placeholder="—")
    else:
        st.info("Chưa có máy tính bảng nào được đăng ký.")
    live = [r["Máy"] for r in tablet_rows if r["Trạng thái"] != "Đã thu hồi"]
    if live:
        with st.form("tablet_revoke", enter_to_submit=False):
            gone = st.selectbox(
                "Thu hồi máy (mất, hỏng hoặc không dùng nữa)", live, key="revoke_name", placeholder="Chọn một mục"
            )
            sure = st.checkbox("Tôi hiểu: mọi phiếu từ máy này sẽ bị từ chối cho đến khi đăng ký lại", key="revoke_ok")
            if st.form_submit_button("Thu hồi máy"):
                if not sure:
                    st.error("Chưa thu hồi: hãy đánh dấu ô xác nhận.")
                else:
                    try:
                        with ui.conn() as c:
                            tablet_devices.revoke(c, gone, now=clock.now(), actor=user.username)
                        st.session_state["tablet_flash"] = f"Đã thu hồi máy {gone}."
                        st.rerun()
                    except SipasError as exc:
                        ui.show_errors(exc)

    st.subheader("Tin nhắn và phiếu bị từ chối")
    if refusals:
        st.dataframe(pd.DataFrame(refusals), hide_index=True, width="stretch", placeholder="—")
    else:
        st.caption("Chưa có tin nhắn hay phiếu nào bị từ chối.")

    st.subheader("Ngưỡng nghi vấn lạm dụng")
    with st.form("misuse_form", enter_to_submit=False):
        min_sec = st.number_input(
            "Số giây tối thiểu cho mỗi câu trả lời (nhanh hơn: phiếu bị đánh dấu nghi vấn; 0: không kiểm tra)",
            0.0,
            30.0,
            float(current["kiosk_min_seconds_per_answer"]),
            step=0.5,
            format="%g",  # "2" or "2.5", never "2.00"
            key="misuse_seconds",
        )
        burst_max = st.number_input(
            "Số phiếu tối đa từ một máy trong khoảng thời gian dưới đây",
            2,
            1000,
            int(current["kiosk_burst_max"]),
            key="misuse_burst_max",
        )
        burst_minutes = st.number_input(
            "Khoảng thời gian (phút)", 1, 120, int(current["kiosk_burst_minutes"]), key="misuse_burst_minutes"
        )
        if st.form_submit_button("Lưu ngưỡng", type="primary"):
            save("kiosk_min_seconds_per_answer", float(min_sec))
            save("kiosk_burst_max", int(burst_max))
            save("kiosk_burst_minutes", int(burst_minutes))

    st.subheader("Phiếu nghi vấn lạm dụng")
    st.caption("Các phiếu này đã được lưu nhưng không tính vào chỉ số cho đến khi cán bộ khôi phục.")
    if suspects:
        st.dataframe(ui.vn_frame(pd.DataFrame(suspects), default=1), hide_index=True, width="stretch", placeholder="—")
        with st.form("suspect_restore", clear_on_submit=True, enter_to_submit=False):
            rid = st.selectbox(
                "Phiếu số", [r["Số phiếu"] for r in suspects], key="suspect_id", placeholder="Chọn một mục"
            )
            why = st.text_input("Lý do khôi phục (bắt buộc)", key="suspect_reason")
            if st.form_submit_button("Khôi phục phiếu"):
                try:
                    with ui.conn() as c:
                        quality.restore_suspect(c, int(rid), why, user.username)
                    st.session_state["tablet_flash"] = f"Đã khôi phục phiếu số {rid}: phiếu được tính vào chỉ số."
                    st.rerun()
                except SipasError as exc:
                    ui.show_errors(exc)
    else:
        st.caption("Không có phiếu nào đang bị đánh dấu nghi vấn.")

with tab_tablets:
    st.subheader("Đánh giá trên điện thoại (mã QR dùng một lần)")
    st.write(
        "Người dân có thể đánh giá riêng trên điện thoại của mình: màn hình chào và màn hình cảm ơn của máy tính "
        "bảng hiện một mã QR, và cán bộ có thể in phiếu mã QR phát kèm giấy hẹn trả kết quả. Mỗi mã dùng một lần, "
        f"hết hạn sau {qr.VALID_FOR.days} ngày."
    )
    st.caption(
        "Địa chỉ cho điện thoại: địa chỉ Wi-Fi của cơ quan (ví dụ http://192.168.1.10:8501) chỉ mở được khi "
        "điện thoại bắt Wi-Fi của cơ quan, nên hợp với mã trên máy tính bảng; địa chỉ công khai (ví dụ "
        "https://khaosat.tenxa.gov.vn) mở được từ bất cứ đâu, nên cần cho phiếu in mang về nhà. Để trống để tắt mã QR."
    )
    with st.form("qr_address", enter_to_submit=False):
        address = st.text_input("Địa chỉ cho điện thoại", value=current["qr_base_url"], key="qr_base_url")
        if st.form_submit_button("Lưu địa chỉ", type="primary"):
            save("qr_base_url", address, message="Đã lưu địa chỉ cho điện thoại.")
    with st.form("qr_cards_form", enter_to_submit=False):
        how = st.radio("In phiếu", ["Theo số lượng", "Theo mã hồ sơ"], horizontal=True, key="qr_cards_how")
        count = st.number_input(f"Số phiếu (1–{qr.MAX_CARDS})", 1, qr.MAX_CARDS, 10, key="qr_cards_count")
        dossier_text = st.text_area(
            f"Mã hồ sơ, mỗi dòng một mã (tối đa {qr.MAX_CARDS}; mỗi hồ sơ chỉ được đánh giá một lần)",
            key="qr_cards_dossiers",
            max_chars=20000,
        )
        if st.form_submit_button("Tạo phiếu in (PDF)"):
            try:
                with ui.conn() as c:
                    dossier_codes = qr.parse_dossier_codes(dossier_text) if how == "Theo mã hồ sơ" else None
                    now = clock.now()
                    cards = qr.issue_sheet(
                        c, None if dossier_codes else int(count), now=now, actor=user.username, dossiers=dossier_codes
                    )
                    unit = settings.get(c, "unit_name", now.date())
                st.session_state["qr_cards_pdf"] = (qr_cards.to_pdf(cards, unit), qr_cards.file_name(now.date()))
                st.success(f"Đã tạo {len(cards)} phiếu mã QR. Bấm nút dưới đây để tải tệp PDF về và in.")
            except SipasError as exc:
                st.session_state.pop("qr_cards_pdf", None)
                ui.show_errors(exc)
    if made := st.session_state.get("qr_cards_pdf"):
        st.download_button(
            "Tải phiếu mã QR (PDF)", made[0], file_name=made[1], mime="application/pdf", key="qr_cards_download"
        )


with tab_log:
    with ui.conn() as c:
        entries = db.audit_entries(c, 500)
    if entries:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Lúc": clock.format_datetime(e["at"]),
                        "Người": e["actor"] or "hệ thống",
                        "Việc": audit.label(e["action"], e["entity"]),
                        "Đối tượng": e["entity"] or "—",
                        "Cũ": ui.readable_value(e["old_value"]),
                        "Mới": ui.readable_value(e["new_value"]),
                        "Ghi chú": e["note"] or "—",
                    }
                    for e in entries
                ]
            ),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )
    else:
        st.info("Chưa có thay đổi nào.")
