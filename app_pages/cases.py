"""Complaints and corrective actions: intake, verification, root cause, measure, verified close.

Roles: clerk, chairman. Staff names in cases are visible only here and on the Chairman's page.
Decisions reserved to the Chairman (approving or returning a measure) are refused for a clerk by
``sipas.actions`` itself, not only hidden here.
"""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

import ui
from sipas import actions, clock, db, effects, intake, settings
from sipas.errors import SipasError

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
actor = actions.Actor(user.username, user.role)
st.title("Phản ánh và biện pháp khắc phục")

with ui.conn() as c:
    floor = settings.get(c, "targets")["floor"]
    staff = {m["code"]: m["full_name"] for m in db.list_staff(c)}
    cases = db.list_cases(c)


def staff_label(code):
    return f"{staff.get(code, code)} ({code})" if code else actions.UNKNOWN_STAFF


tab_list, tab_new, tab_weak, tab_public = st.tabs(
    ["Danh sách vụ việc", "Tiếp nhận phản ánh", "Tiêu chí dưới ngưỡng", "Người dân nói — chúng tôi đã làm"]
)

with tab_weak:
    year_start = clock.today().replace(month=1, day=1)
    with ui.conn() as c:
        version = settings.get(c, "active_questionnaire")
        weak = actions.criteria_below_floor(
            c, version, year_start.isoformat(), clock.today().isoformat(), floor, settings.get(c, "staff_min_n")
        )
    st.write(
        f"Tiêu chí có chỉ số dưới {floor:g}% từ đầu năm đến nay (phiếu {version}), chưa có hành động cải thiện "
        "đang mở. Mỗi tiêu chí có thể trở thành một hành động cải thiện để theo dõi đến khi kiểm chứng."
    )
    if not weak:
        st.success("Không có tiêu chí nào dưới ngưỡng cần mở hành động mới.")
    for w in weak:
        left, right = st.columns([3, 1])
        left.text(f"{w['code']}: {w['index']:.2f}% (n = {w['n']}, KTC 95% {w['ci_low']:.1f}–{w['ci_high']:.1f}%)")
        if right.button("Mở hành động cải thiện", key=f"weak_{w['code']}"):
            with ui.conn() as c:
                case_id = actions.open_from_analysis(
                    c, actor, w["code"], w["index"], floor, f"từ {year_start:%d/%m/%Y}"
                )
            st.success(f"Đã mở vụ việc số {case_id} cho tiêu chí {w['code']}.")

with tab_new:
    st.write(
        "Phản ánh nhận qua kênh khác (đường dây nóng, hệ thống của tỉnh, Cổng Dịch vụ công quốc gia, thư, "
        "trực tiếp). Phản ánh từ phiếu khảo sát được tạo tự động."
    )
    with st.form("new_case", clear_on_submit=True, enter_to_submit=False):
        kind = st.selectbox("Loại", list(actions.TYPES), format_func=actions.TYPES.get, key="nc_type")
        channel = st.selectbox(
            "Kênh tiếp nhận",
            [k for k in actions.CHANNELS if k not in ("survey", "analysis", "staffing")],
            format_func=actions.CHANNELS.get,
            key="nc_channel",
        )
        who = st.selectbox(
            "Cán bộ bị phản ánh", [""] + list(staff), format_func=lambda k: staff_label(k or None), key="nc_staff"
        )
        title = st.text_input("Tóm tắt nội dung", key="nc_title", max_chars=300)
        description = st.text_area("Nội dung chi tiết", key="nc_desc", max_chars=4000)
        received = st.date_input("Ngày tiếp nhận", clock.today(), format="DD/MM/YYYY", key="nc_received")
        deadline = st.date_input(
            "Hạn trả lời phản ánh", clock.today() + timedelta(days=10), format="DD/MM/YYYY", key="nc_deadline"
        )
        due = st.date_input(
            "Hạn xử lý xong",
            clock.today() + timedelta(days=actions.DEFAULT_DUE_DAYS),
            format="DD/MM/YYYY",
            key="nc_due",
        )
        priority = st.selectbox(
            "Mức ưu tiên", list(actions.PRIORITIES), index=1, format_func=actions.PRIORITIES.get, key="nc_priority"
        )
        consent = st.checkbox(
            "Người dân đồng ý để lại số điện thoại để được trả lời (số sẽ bị xóa khi đóng vụ việc)", key="nc_consent"
        )
        phone = st.text_input("Số điện thoại (chỉ khi người dân đồng ý)", key="nc_phone")
        if st.form_submit_button("Tạo vụ việc", type="primary"):
            try:
                with ui.conn() as c:
                    case_id = actions.open_case(
                        c,
                        actor,
                        case_type=kind,
                        origin="clerk",
                        channel=channel,
                        staff_code=who or None,
                        title=title,
                        description=description,
                        received_at=received,
                        response_deadline=deadline,
                        due_date=due,
                        priority=priority,
                        owner=user.username,
                        contact_phone=phone if consent else None,
                    )
                st.success(f"Đã tạo vụ việc số {case_id}.")
                if phone and not consent:
                    st.info("Số điện thoại không được lưu vì người dân chưa đồng ý.")
            except SipasError as exc:
                ui.show_errors(exc)

with tab_list:
    today = clock.today().isoformat()
    states = st.multiselect(
        "Trạng thái",
        list(actions.STATES),
        default=list(actions.OPEN_STATES),
        format_func=actions.STATES.get,
        key="cases_states",
    )
    shown = [c for c in cases if c["state"] in states]
    if not shown:
        st.info("Không có vụ việc nào ở các trạng thái đã chọn.")
    else:
        frame = pd.DataFrame(
            [
                {
                    "Số": c["id"],
                    "Loại": actions.TYPES[c["type"]],
                    "Cán bộ": staff_label(c["staff_code"]),
                    "Tóm tắt": c["title"],
                    "Trạng thái": actions.STATES.get(c["state"], c["state"]),
                    "Hạn xử lý": c["due_date"],
                    "Quá hạn": bool(c["due_date"] and c["due_date"] < today and c["state"] in actions.OPEN_STATES),
                    "Hiệu quả": {
                        "effective": "Có hiệu quả",
                        "not_effective": "Chưa thấy hiệu quả",
                        "insufficient": "Chưa đủ dữ liệu",
                    }.get(c["effect_flag"] or "", ""),
                }
                for c in shown
            ]
        )
        st.dataframe(frame, hide_index=True, width="stretch")
        case_id = st.selectbox("Xem và xử lý vụ việc số", [c["id"] for c in shown], key="case_pick")
        with ui.conn() as c:
            case = db.get_case(c, case_id)
            history = db.case_events(c, case_id)
            evidence = db.case_evidence(c, case_id)
        st.subheader(f"Vụ việc số {case['id']}: {actions.STATES.get(case['state'])}")
        st.text(case["title"])
        if case["description"]:
            st.text(case["description"])
        info = {
            "Loại": actions.TYPES[case["type"]],
            "Cán bộ": staff_label(case["staff_code"]),
            "Kênh": actions.CHANNELS.get(case["channel"] or "", case["origin"]),
            "Ngày tiếp nhận": case["received_at"],
            "Hạn xử lý": case["due_date"],
            "Hạn trả lời": case["response_deadline"] or "",
            "Đã trả lời": case["responded_at"] or "",
            "Nguyên nhân": case["root_cause"] or "",
            "Biện pháp": actions.MEASURES.get(case["measure"] or "", "")
            + (f" ({case['measure_detail']})" if case["measure_detail"] else ""),
            "Ngày áp dụng": case["measure_date"] or "",
            "Số điện thoại": case["contact_phone"] or "",
        }
        st.dataframe(pd.DataFrame(info.items(), columns=["Mục", "Nội dung"]), hide_index=True, width="stretch")
        if evidence:
            st.caption(f"Bằng chứng: {len(evidence)} phiếu khảo sát")
            st.dataframe(pd.DataFrame(evidence), hide_index=True, width="stretch")
        if case["state"] == "awaiting_effect":
            with ui.conn() as c:
                effect = effects.effectiveness(c, case, settings.get(c, "staff_min_n"), floor)
            (st.warning if effect.verdict == "not_effective" else st.info)(effect.message)
            if effect.difference is not None:
                st.caption(
                    f"Chênh lệch {effect.difference:+.1f} điểm %, khoảng tin cậy 95% (Newcombe) "
                    f"{effect.ci_low:+.1f} đến {effect.ci_high:+.1f}; p = {effect.p_value:.3f} "
                    "(kiểm định hai tỷ lệ)."
                )

        choices = actions.allowed_next(case["state"], user.role)
        with st.form("case_action", clear_on_submit=True, enter_to_submit=False):
            st.markdown("**Cập nhật vụ việc**")
            to = st.selectbox(
                "Chuyển sang",
                ["note", "responded"] + choices,
                key="case_to",
                format_func=lambda s: {"note": "(chỉ ghi chú)", "responded": "(đã trả lời người phản ánh)"}.get(
                    s, actions.STATES.get(s, s)
                ),
            )
            note = st.text_area("Ghi chú / lý do / ý kiến", key="case_note", max_chars=4000)
            cause = st.text_area(
                "Nguyên nhân (bắt buộc trước khi đề xuất biện pháp)",
                case["root_cause"] or "",
                key="case_cause",
                max_chars=4000,
            )
            measure = st.selectbox(
                "Biện pháp", list(actions.MEASURES), format_func=actions.MEASURES.get, key="case_measure"
            )
            detail = st.text_input("Tên biện pháp khác / chi tiết", key="case_detail")
            measure_date = st.date_input(
                "Ngày áp dụng biện pháp", clock.today(), format="DD/MM/YYYY", key="case_measure_date"
            )
            password = ""
            if user.role == "chairman":
                password = st.text_input(
                    "Mật khẩu (bắt buộc khi phê duyệt điều chuyển, thay thế, kỷ luật)",
                    type="password",
                    key="case_password",
                )
            if st.form_submit_button("Lưu", type="primary"):
                try:
                    with ui.conn() as c:
                        if to in ("note", "responded"):
                            actions.add_note(c, case_id, actor, note, responded=to == "responded")
                        else:
                            proof = ui.reauthenticate(c, user, password, actions.approve_action(case_id))
                            intake.transition(
                                c,
                                case_id,
                                to,
                                actor,
                                note or None,
                                root_cause=cause,
                                measure=measure,
                                measure_detail=detail,
                                measure_date=measure_date,
                                reauth=proof,
                            )
                    st.success("Đã lưu.")
                    st.rerun()
                except SipasError as exc:
                    ui.show_errors(exc)
        st.caption("Lịch sử (không thể sửa hay xóa)")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Lúc": e["at"],
                        "Người": e["actor"],
                        "Việc": e["kind"],
                        "Từ": actions.STATES.get(e["from_state"] or "", ""),
                        "Sang": actions.STATES.get(e["to_state"] or "", ""),
                        "Ghi chú": e["note"] or "",
                    }
                    for e in history
                ]
            ),
            hide_index=True,
            width="stretch",
        )

with tab_public:
    month = st.text_input("Tháng (YYYY-MM)", clock.today().strftime("%Y-%m"), key="public_month")
    try:
        date.fromisoformat(month + "-01")
        with ui.conn() as c:
            lines = actions.public_summary(c, month)
            on_kiosk = settings.get(c, "public_summary_on_kiosk")
        st.subheader(f"Người dân nói — chúng tôi đã làm (tháng {month[5:]}/{month[:4]})")
        if lines:
            for line in lines:
                st.text("• " + line)
        else:
            st.info("Chưa có biện pháp nào được áp dụng trong tháng này.")
        st.download_button(
            "Tải bản in cho bảng tin",
            "\n".join([f"NGƯỜI DÂN NÓI — CHÚNG TÔI ĐÃ LÀM (tháng {month[5:]}/{month[:4]})", ""] + lines).encode(
                "utf-8"
            ),
            file_name=f"nguoi-dan-noi-{month}.txt",
            mime="text/plain",
            on_click="ignore",
        )
        show = st.checkbox("Hiện bản tóm tắt này trên màn hình chào của máy tính bảng", on_kiosk, key="public_kiosk")
        if show != on_kiosk:
            with ui.conn() as c:
                settings.put(c, "public_summary_on_kiosk", show, user.username)
            st.success("Đã lưu.")
    except ValueError:
        st.error("Tháng phải có dạng YYYY-MM, ví dụ 2024-05.")
