"""Complaints and corrective actions: intake, verification, root cause, measure, verified close.

Roles: clerk, chairman. Staff names in cases are visible only here and on the Chairman's page.
Decisions reserved to the Chairman (approving or returning a measure) are refused for a clerk by
``sipas.cases.workflow`` itself, not only hidden here.
"""

from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import settings
from sipas.cases import effects, proposals, public, queue, workflow
from sipas.errors import SipasError
from sipas.index import classify

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
actor = workflow.Actor(user.username, user.role)
st.title("Phản ánh và biện pháp khắc phục")

with ui.conn() as c:
    floor = settings.get(c, "targets")["floor"]
    staff = {m["code"]: m["full_name"] for m in db.list_staff(c)}
    cases = db.list_cases(c)


def signed(value) -> str:
    text = clock.format_number(value, 1)
    return text if text == clock.DASH or text.startswith("-") else "+" + text


def evidence_frame(evidence: list[dict]) -> pd.DataFrame:
    """The survey responses linked to a case (already with Vietnamese column names), times dd/mm/yyyy."""
    frame = pd.DataFrame(evidence)
    if "Thời điểm" in frame:
        frame["Thời điểm"] = frame["Thời điểm"].map(clock.format_datetime)
    return frame


# The clerk's two answers about a comment that is evidence of a case (sipas.index.classify.record_correction).
COMMENT_LABELS = {True: "Đây là phàn nàn về thái độ cán bộ", False: "Không phải phàn nàn về thái độ"}


def correction_note(fix: dict | None) -> str:
    """The clerk's correction of a comment's label, shown beside the comment ("—" when none)."""
    if fix is None:
        return clock.DASH
    label = COMMENT_LABELS[bool(fix["conduct_complaint"])]
    return f"{label} (sửa bởi {fix['actor']}, {clock.format_datetime(fix['at'])})"


def staff_label(code):
    return f"{staff.get(code, code)} ({code})" if code else workflow.UNKNOWN_STAFF


tab_list, tab_new, tab_weak, tab_public = st.tabs(
    ["Danh sách vụ việc", "Tiếp nhận phản ánh", "Tiêu chí dưới ngưỡng", "Người dân nói — chúng tôi đã làm"]
)

with tab_weak:
    year_start = clock.today().replace(month=1, day=1)
    with ui.conn() as c:
        version = settings.get(c, "active_questionnaire")
        weak = queue.criteria_below_floor(
            c, version, year_start.isoformat(), clock.today().isoformat(), floor, settings.get(c, "staff_min_n")
        )
    st.write(
        f"Tiêu chí có chỉ số dưới {clock.format_plain(floor)}% từ đầu năm đến nay (phiếu {version}), "
        "chưa có hành động cải thiện "
        "đang mở. Mỗi tiêu chí có thể trở thành một hành động cải thiện để theo dõi đến khi kiểm chứng."
    )
    if not weak:
        st.success("Không có tiêu chí nào dưới ngưỡng cần mở hành động mới.")
    for w in weak:
        left, right = st.columns([3, 1])
        left.text(
            f"{w['code']}: {clock.format_percent(w['index'], 2)} (n = {w['n']}, KTC 95% "
            f"{clock.format_number(w['ci_low'], 1)}–{clock.format_percent(w['ci_high'], 1)})"
        )
        if right.button("Mở hành động cải thiện", key=f"weak_{w['code']}"):
            with ui.conn() as c:
                case_id = proposals.open_from_analysis(
                    c, actor, w["code"], w["index"], floor, f"từ {clock.format_date(year_start)}"
                )
            st.success(f"Đã mở vụ việc số {case_id} cho tiêu chí {w['code']}.")

with tab_new:
    st.write(
        "Phản ánh nhận qua kênh khác (đường dây nóng, hệ thống của tỉnh, Cổng Dịch vụ công quốc gia, thư, "
        "trực tiếp). Phản ánh từ phiếu khảo sát được tạo tự động."
    )
    with st.form("new_case", clear_on_submit=True, enter_to_submit=False):
        kind = st.selectbox(
            "Loại", list(workflow.TYPES), format_func=workflow.TYPES.get, key="nc_type", placeholder="Chọn một mục"
        )
        channel = st.selectbox(
            "Kênh tiếp nhận",
            [k for k in workflow.CHANNELS if k not in ("survey", "analysis", "staffing")],
            format_func=workflow.CHANNELS.get,
            key="nc_channel",
            placeholder="Chọn một mục",
        )
        who = st.selectbox(
            "Cán bộ bị phản ánh",
            [""] + list(staff),
            format_func=lambda k: staff_label(k or None),
            key="nc_staff",
            placeholder="Chọn một mục",
        )
        title = st.text_input("Tóm tắt nội dung", key="nc_title", max_chars=300)
        description = st.text_area("Nội dung chi tiết", key="nc_desc", max_chars=4000)
        received = st.date_input("Ngày tiếp nhận", clock.today(), format="DD/MM/YYYY", key="nc_received")
        deadline = st.date_input(
            "Hạn trả lời phản ánh", clock.today() + timedelta(days=10), format="DD/MM/YYYY", key="nc_deadline"
        )
        due = st.date_input(
            "Hạn xử lý xong",
            clock.today() + timedelta(days=workflow.DEFAULT_DUE_DAYS),
            format="DD/MM/YYYY",
            key="nc_due",
        )
        priority = st.selectbox(
            "Mức ưu tiên",
            list(workflow.PRIORITIES),
            index=1,
            format_func=workflow.PRIORITIES.get,
            key="nc_priority",
            placeholder="Chọn một mục",
        )
        consent = st.checkbox(
            "Người dân đồng ý để lại số điện thoại để được trả lời (số sẽ bị xóa khi đóng vụ việc)", key="nc_consent"
        )
        phone = st.text_input("Số điện thoại (chỉ khi người dân đồng ý)", key="nc_phone")
        if st.form_submit_button("Tạo vụ việc", type="primary"):
            try:
                with ui.conn() as c:
                    case_id = workflow.open_case(
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
    with ui.conn() as c:
        overdue_ids = {x["id"] for x in queue.overdue_cases(c, cases, clock.today(), clock.today())}
    states = st.multiselect(
        "Trạng thái",
        list(workflow.STATES),
        default=list(workflow.OPEN_STATES),
        format_func=workflow.STATES.get,
        key="cases_states",
        placeholder="Chọn trạng thái",
        select_all=False,
    )
    shown = [c for c in cases if c["state"] in states]
    if not shown:
        st.info("Không có vụ việc nào ở các trạng thái đã chọn.")
    else:
        frame = pd.DataFrame(
            [
                {
                    "Số": c["id"],
                    "Loại": workflow.TYPES[c["type"]],
                    "Cán bộ": staff_label(c["staff_code"]),
                    "Tóm tắt": c["title"],
                    "Trạng thái": workflow.STATES.get(c["state"], c["state"]),
                    "Hạn xử lý": clock.format_date(c["due_date"]),
                    "Quá hạn": "Quá hạn" if c["id"] in overdue_ids else "—",
                    "Hiệu quả": {
                        "effective": "Có hiệu quả",
                        "not_effective": "Chưa thấy hiệu quả",
                        "insufficient": "Chưa đủ dữ liệu",
                    }.get(c["effect_flag"] or "", "—"),
                }
                for c in shown
            ]
        )
        st.dataframe(frame, hide_index=True, width="stretch", placeholder="—")
        st.caption(f"{len(overdue_ids)} vụ việc đang quá hạn xử lý (cùng cách tính với trang Việc chờ Chủ tịch).")
        case_id = st.selectbox(
            "Xem và xử lý vụ việc số", [c["id"] for c in shown], key="case_pick", placeholder="Chọn một mục"
        )
        with ui.conn() as c:
            case = db.get_case(c, case_id)
            history = db.case_events(c, case_id)
            evidence = db.case_evidence(c, case_id)
            fixes = {e["Phiếu"]: classify.correction(c, e["Góp ý"]) for e in evidence}
        commented = [e for e in evidence if e["Góp ý"].strip()]
        for e in evidence:
            e["Nhãn góp ý do cán bộ sửa"] = correction_note(fixes[e["Phiếu"]]) if e["Góp ý"].strip() else clock.DASH
        st.subheader(f"Vụ việc số {case['id']}: {workflow.STATES.get(case['state'])}")
        st.text(case["title"])
        if case["description"]:
            st.text(case["description"])
        info = {
            "Loại": workflow.TYPES[case["type"]],
            "Cán bộ": staff_label(case["staff_code"]),
            "Kênh": workflow.CHANNELS.get(case["channel"] or "", workflow.ORIGIN_LABELS.get(case["origin"], "—")),
            "Ngày tiếp nhận": clock.format_date(case["received_at"]),
            "Mở lúc": clock.format_datetime(case["created_at"]),
            "Hạn xử lý": clock.format_date(case["due_date"]),
            "Hạn trả lời": clock.format_date(case["response_deadline"]),
            "Đã trả lời": clock.format_datetime(case["responded_at"]),
            "Nguyên nhân": case["root_cause"] or "—",
            "Biện pháp": workflow.MEASURES.get(case["measure"] or "", "—")
            + (f" ({case['measure_detail']})" if case["measure_detail"] else ""),
            "Ngày áp dụng": clock.format_date(case["measure_date"]),
            "Số điện thoại": case["contact_phone"] or "—",
        }
        st.dataframe(
            pd.DataFrame(info.items(), columns=["Mục", "Nội dung"]), hide_index=True, width="stretch", placeholder="—"
        )
        if evidence:
            with st.expander(f"Bằng chứng: {len(evidence)} phiếu khảo sát", expanded=False):
                st.dataframe(ui.vn_frame(evidence_frame(evidence)), hide_index=True, width="stretch", placeholder="—")
        if commented:
            with st.form("comment_label", clear_on_submit=True, enter_to_submit=False):
                st.markdown("**Sửa nhãn góp ý** (bộ phân loại dùng nhãn này cho góp ý đó từ nay về sau)")
                picked = st.selectbox(
                    "Góp ý của phiếu",
                    [e["Phiếu"] for e in commented],
                    format_func=lambda rid: next(
                        f"Phiếu {rid}: {e['Góp ý'][:100]}" for e in commented if e["Phiếu"] == rid
                    ),
                    key="label_pick",
                    placeholder="Chọn một góp ý",
                )
                conduct = st.radio(
                    "Nhãn đúng", list(COMMENT_LABELS), index=None, format_func=COMMENT_LABELS.get, key="label_value"
                )
                if st.form_submit_button("Lưu nhãn góp ý"):
                    try:
                        if conduct is None:
                            raise SipasError("Chọn nhãn đúng của góp ý.")
                        comment = next(e["Góp ý"] for e in commented if e["Phiếu"] == picked)
                        with ui.conn() as c:
                            classify.record_correction(c, comment, conduct, user.username)
                        st.success("Đã lưu nhãn góp ý.")
                        st.rerun()
                    except SipasError as exc:
                        ui.show_errors(exc)
        if case["state"] == "awaiting_effect":
            with ui.conn() as c:
                effect = effects.effectiveness(c, case, settings.get(c, "staff_min_n"), floor)
            (st.warning if effect.verdict == "not_effective" else st.info)(effect.message)
            if effect.difference is not None:
                st.caption(
                    f"Chênh lệch {signed(effect.difference)} điểm %, khoảng tin cậy 95% (Newcombe) "
                    f"{signed(effect.ci_low)} đến {signed(effect.ci_high)}; "
                    f"{clock.p_clause(effect.p_value)} (kiểm định hai tỷ lệ)."
                )

        choices = workflow.allowed_next(case["state"], user.role, case)
        # Only the fields of the steps this user can take now: the cause and measure when the case can go
        # to "measure"; the date and password when the Chairman can approve it.
        proposes = "measure" in choices
        approves = "awaiting_effect" in choices and case["state"] == "measure"
        with st.form("case_action", clear_on_submit=True, enter_to_submit=False):
            st.markdown("**Cập nhật vụ việc**")
            to = st.selectbox(
                "Việc cần làm",
                ["note", "responded"] + choices,
                key="case_to",
                format_func=lambda s: {"note": "Chỉ ghi chú", "responded": "Đã trả lời người phản ánh"}.get(
                    s, "Chuyển sang: " + workflow.STATES.get(s, s)
                ),
                placeholder="Chọn một mục",
            )
            note = st.text_area("Ghi chú / lý do / ý kiến", key="case_note", max_chars=4000)
            cause = measure = detail = None
            if proposes:
                cause = st.text_area(
                    "Nguyên nhân (bắt buộc trước khi đề xuất biện pháp)",
                    case["root_cause"] or "",
                    key="case_cause",
                    max_chars=4000,
                )
                measure = st.selectbox(
                    "Biện pháp",
                    list(workflow.MEASURES),
                    format_func=workflow.MEASURES.get,
                    key="case_measure",
                    placeholder="Chọn một mục",
                )
                detail = st.text_input("Tên biện pháp khác / chi tiết", key="case_detail")
            measure_date = None
            password = ""
            if approves:
                measure_date = st.date_input(
                    "Ngày áp dụng biện pháp", clock.today(), format="DD/MM/YYYY", key="case_measure_date"
                )
                if case["measure"] in workflow.SEVERE_MEASURES:
                    password = st.text_input(
                        "Mật khẩu (bắt buộc khi phê duyệt điều chuyển, thay thế, kỷ luật)",
                        type="password",
                        key="case_password",
                    )
            final = [s for s in choices if s in workflow.CONFIRM_STATES]
            sure = False
            if final:
                sure = st.checkbox(
                    "Tôi xác nhận khi chọn "
                    + ", ".join(f"“{workflow.STATES[s]}”" for s in final)
                    + " (đóng vụ việc hoặc quyết định biện pháp)",
                    key="case_confirm",
                )
            if st.form_submit_button("Lưu", type="primary"):
                try:
                    if to in workflow.CONFIRM_STATES and not sure:
                        raise SipasError(f"Chọn “{workflow.STATES[to]}” cần đánh dấu ô xác nhận; chưa có gì được lưu.")
                    with ui.conn() as c:
                        if to in ("note", "responded"):
                            workflow.add_note(c, case_id, actor, note, responded=to == "responded")
                        else:
                            proof = ui.reauthenticate(c, user, password, workflow.approve_action(case_id))
                            workflow.transition(
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
        if case["staff_code"]:
            ui.explanation_form(
                "case_explain",
                actor,
                case_id,
                label="Giải trình của cán bộ bị phản ánh (ghi nguyên văn)",
                text_key="case_explain_text",
            )
        st.caption("Lịch sử (không thể sửa hay xóa)")
        groups = workflow.grouped_history(history)
        rows = []
        for g in groups:
            n = len(g["items"])
            evidence = g["kind"] == "evidence" and n > 1
            rows.append(
                {
                    "Lúc": clock.format_datetime(g["at"])
                    + (f" – {clock.format_datetime(g['last_at'])}" if evidence else ""),
                    "Người": g["actor"] or "—",
                    "Việc": workflow.event_label(g["kind"]) + (f" ({n} phiếu khảo sát)" if evidence else ""),
                    "Từ": workflow.STATES.get(g["from_state"] or "", "—"),
                    "Sang": workflow.STATES.get(g["to_state"] or "", "—"),
                    "Ghi chú": "Xem danh sách bên dưới" if evidence else (g["note"] or "—"),
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", placeholder="—")
        for g in groups:
            if g["kind"] == "evidence" and len(g["items"]) > 1:
                with st.expander(
                    f"Thêm bằng chứng: {len(g['items'])} phiếu khảo sát ({clock.format_datetime(g['at'])})"
                ):
                    st.dataframe(
                        pd.DataFrame(
                            [{"Lúc": clock.format_datetime(e["at"]), "Nội dung": e["note"] or "—"} for e in g["items"]]
                        ),
                        hide_index=True,
                        width="stretch",
                        placeholder="—",
                    )

with tab_public:
    month = st.selectbox(
        "Tháng",
        ui.recent_months(clock.today(), 24),
        format_func=lambda v: f"Tháng {clock.format_month(v)}",
        key="public_month",
        placeholder="Chọn một mục",
    )
    with ui.conn() as c:
        lines = public.public_summary(c, month)
        on_kiosk = settings.get(c, "public_summary_on_kiosk")
    st.subheader(f"Người dân nói — chúng tôi đã làm (tháng {month[5:]}/{month[:4]})")
    if lines:
        for line in lines:
            st.text("• " + line)
    else:
        st.info("Chưa có biện pháp nào được áp dụng trong tháng này.")
    st.download_button(
        "Tải bản in cho bảng tin",
        "\n".join([f"NGƯỜI DÂN NÓI — CHÚNG TÔI ĐÃ LÀM (tháng {month[5:]}/{month[:4]})", ""] + lines).encode("utf-8"),
        file_name=f"nguoi-dan-noi-{month}.txt",
        mime="text/plain",
        on_click="ignore",
    )
    show = st.checkbox("Hiện bản tóm tắt này trên màn hình chào của máy tính bảng", on_kiosk, key="public_kiosk")
    if show != on_kiosk:
        with ui.conn() as c:
            settings.put(c, "public_summary_on_kiosk", show, user.username)
        st.success("Đã lưu.")
