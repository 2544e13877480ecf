"""The Chairman's page: what needs his decision, each staff member's conduct history, monthly counts.

Roles: chairman only. Decisions on điều chuyển, thay thế or kỷ luật require his password again.
"""

import pandas as pd
import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import settings
from sipas.cases import queue, workflow
from sipas.catalog import questionnaires
from sipas.errors import SipasError
from sipas.index import selection, staff_index
from sipas.index.comparison import NOT_ENOUGH_DATA

user = ui.require_role("chairman")
ui.roles_caption("chairman")
actor = workflow.Actor(user.username, user.role)
st.title("Việc chờ Chủ tịch quyết định")

with ui.conn() as c:
    min_n = settings.get(c, "staff_min_n")
    floor = settings.get(c, "targets")["floor"]
    pending = queue.chairman_queue(c)
    staff = {m["code"]: m["full_name"] for m in db.list_staff(c)}
    rule = settings.get(c, "repeat_offence")


def name(code):
    return f"{staff.get(code, code)} ({code})" if code else workflow.UNKNOWN_STAFF


def case_rows(cases):
    return pd.DataFrame(
        [
            {
                "Số": c["id"],
                "Loại": workflow.TYPES[c["type"]],
                "Cán bộ": name(c["staff_code"]),
                "Tóm tắt": c["title"],
                "Trạng thái": workflow.STATES[c["state"]],
                "Hạn xử lý": clock.format_date(c["due_date"]),
                "Hạn trả lời": clock.format_date(c["response_deadline"]),
            }
            for c in cases
        ]
    )


counts = {k: len(v) for k, v in pending.items()}
cols = st.columns(5)
for col, (key, label) in zip(
    cols,
    [
        ("repeat", "Tái phạm"),
        ("signoff", "Chờ phê duyệt"),
        ("overdue", "Quá hạn"),
        ("deadline", "Quá hạn trả lời"),
        ("not_effective", "Chưa hiệu quả"),
    ],
    strict=True,
):
    col.metric(label, counts[key])

st.subheader(f"Cán bộ tái phạm ({rule['count']} vụ việc có cơ sở trong {rule['months']} tháng)")
if not pending["repeat"]:
    st.success("Không có cán bộ tái phạm cần quyết định.")
for item in pending["repeat"]:
    code = item["staff_code"]
    with ui.conn() as c:
        dossier = queue.repeat_dossier(c, code, item["cases"])
    st.markdown(f"**{ui.escape_md(name(code))}** — vụ việc có cơ sở số " + ", ".join(map(str, item["cases"])))
    est = dossier["estimate"]
    if est is None:
        st.info("Chưa có phiếu khảo sát nào ghi tên cán bộ này trong 12 tháng qua.")
    else:
        st.caption(staff_index.STAFF_SHRUNK_NOTE)
        st.text(
            f"12 tháng qua ({clock.format_date(dossier['period'][0])}–{clock.format_date(dossier['period'][1])}), "
            f"n = {int(est.n)} phiếu: chỉ số yếu tố 3 {clock.format_percent(est.raw, 1)}; ước lượng đã hiệu chỉnh "
            f"{clock.format_percent(est.estimate, 1)} (KTC 95% {clock.format_number(est.ci_low, 1)}–"
            f"{clock.format_number(est.ci_high, 1)} %)."
        )
    for entry in dossier["cases"]:
        case = entry["case"]
        with st.expander(f"Vụ việc số {case['id']}: {case['title']}"):
            for reason in entry["reasons"]:
                st.text(reason)
            if entry["evidence"]:
                st.dataframe(pd.DataFrame(entry["evidence"]), hide_index=True, width="stretch", placeholder="—")
            if entry["explanations"]:
                for e in entry["explanations"]:
                    st.text(f"Giải trình ({clock.format_date(e['at'][:10])}, ghi bởi {e['actor']}): {e['note']}")
            else:
                st.warning("Chưa có giải trình của cán bộ ở vụ việc này.")
    if dossier["earlier"]:
        st.markdown("Các vụ việc khác của cán bộ")
        st.dataframe(case_rows(dossier["earlier"]), hide_index=True, width="stretch", placeholder="—")
    ui.explanation_form(
        f"explain_{code}",
        actor,
        None,
        cases=item["cases"],
        label="Giải trình của cán bộ (ghi nguyên văn)",
        text_key=f"et_{code}",
        pick_key=f"ec_{code}",
    )
    with st.form(f"repeat_{code}", clear_on_submit=True, enter_to_submit=False):
        decision = st.radio(
            "Quyết định",
            list(workflow.REPEAT_DECISIONS),
            index=None,  # nothing pre-selected: the Chairman chooses
            horizontal=True,
            format_func=workflow.REPEAT_DECISIONS.get,
            key=f"rd_{code}",
        )
        note = st.text_area("Nội dung quyết định, hoặc lý do không điều chuyển, thay thế", key=f"rn_{code}")
        password = st.text_input(
            "Mật khẩu của Chủ tịch (bắt buộc với điều chuyển, thay thế)", type="password", key=f"rp_{code}"
        )
        sure = st.checkbox("Tôi xác nhận quyết định này (được ghi vào hồ sơ, không sửa được)", key=f"rc_{code}")
        if st.form_submit_button("Ghi quyết định", type="primary"):
            try:
                if decision is None:
                    raise SipasError("Chọn một quyết định.")
                if not sure:
                    raise SipasError("Đánh dấu ô xác nhận trước khi ghi quyết định.")
                with ui.conn() as c:
                    proof = ui.reauthenticate(c, user, password, workflow.repeat_action(code))
                    workflow.decide_repeat(c, actor, code, decision, note, reauth=proof)
                st.success("Đã ghi quyết định.")
                st.rerun()
            except SipasError as exc:
                ui.show_errors(exc)

st.subheader("Biện pháp chờ phê duyệt")
if not pending["signoff"]:
    st.info("Không có biện pháp nào chờ phê duyệt.")
for case in pending["signoff"]:
    with st.form(f"signoff_{case['id']}", clear_on_submit=True, enter_to_submit=False):
        st.markdown(f"**Vụ việc số {case['id']}** — {ui.escape_md(name(case['staff_code']))}")
        st.text(
            f"{case['title']}\nNguyên nhân: {case['root_cause']}\nBiện pháp đề xuất: "
            f"{workflow.MEASURES[case['measure']]}" + (f" ({case['measure_detail']})" if case["measure_detail"] else "")
        )
        choice = st.radio(
            "Quyết định",
            ["approve", "return"],
            index=None,  # nothing pre-selected
            horizontal=True,
            key=f"so_{case['id']}",
            format_func={"approve": "Phê duyệt", "return": "Trả lại"}.get,
        )
        note = st.text_area("Ý kiến (bắt buộc khi trả lại)", key=f"sn_{case['id']}")
        when = st.date_input("Ngày áp dụng", clock.today(), format="DD/MM/YYYY", key=f"sd_{case['id']}")
        password = ""
        if case["measure"] in workflow.SEVERE_MEASURES:
            password = st.text_input(
                "Nhập lại mật khẩu để quyết định " + workflow.MEASURES[case["measure"]].lower(),
                type="password",
                key=f"sp_{case['id']}",
            )
        sure = st.checkbox(
            "Tôi xác nhận phê duyệt biện pháp này (hoặc trả lại khi đã chọn Trả lại)", key=f"sc_{case['id']}"
        )
        if st.form_submit_button("Ghi quyết định", type="primary"):
            try:
                if choice is None:
                    raise SipasError("Chọn Phê duyệt hoặc Trả lại.")
                if choice == "approve" and not sure:
                    raise SipasError("Đánh dấu ô xác nhận trước khi phê duyệt biện pháp.")
                with ui.conn() as c:
                    proof = ui.reauthenticate(c, user, password, workflow.approve_action(case["id"]))
                    workflow.transition(
                        c,
                        case["id"],
                        "awaiting_effect" if choice == "approve" else "founded",
                        actor,
                        note or None,
                        measure_date=when,
                        reauth=proof,
                    )
                st.success("Đã ghi quyết định.")
                st.rerun()
            except SipasError as exc:
                ui.show_errors(exc)

for key, title in (
    ("overdue", "Vụ việc quá hạn xử lý"),
    ("deadline", "Phản ánh quá hạn trả lời"),
    ("not_effective", "Biện pháp chưa thấy hiệu quả (cân nhắc mở lại)"),
):
    st.subheader(title)
    if pending[key]:
        st.dataframe(case_rows(pending[key]), hide_index=True, width="stretch", placeholder="—")
    else:
        st.success("Không có.")

st.subheader("Lịch sử ứng xử của từng cán bộ")
if staff:
    code = st.selectbox("Cán bộ", list(staff), format_func=name, key="history_staff", placeholder="Chọn một mục")
    with ui.conn() as c:
        cases = db.list_cases(c, staff_code=code)
        quarters = []
        for start, end in selection.history_quarters(clock.today()):
            active = settings.get(c, "active_questionnaire", end.isoformat())
            versions = [active, *sorted(v for v in questionnaires() if v != active)]
            version, measure = staff_index.staff_measure_in_period(
                c, code, start.isoformat(), end.isoformat(), min_n, versions
            )
            period_f = selection.Filters(version, start.isoformat(), end.isoformat())
            shrunk = staff_index.shrunk_measures(c, period_f).get(code)
            quarters.append((start, end, measure, shrunk))
    if cases:
        frame = case_rows(cases)
        frame["Biện pháp"] = [workflow.MEASURES.get(c["measure"] or "", "—") for c in cases]
        st.dataframe(frame, hide_index=True, width="stretch", placeholder="—")
    else:
        st.info("Chưa có vụ việc nào.")
    rows = []
    for start, end, m, est in quarters:
        rows.append(
            {
                "Từ": clock.format_date(start),
                "Đến": clock.format_date(end),
                "Số phiếu": m.responses,
                "Câu trả lời": m.answers,
                staff_index.STAFF_MEASURE: clock.format_number(m.index, 2) if m.shown else NOT_ENOUGH_DATA,
                "KTC 95%": f"{clock.format_number(m.ci_low, 1)}–{clock.format_number(m.ci_high, 1)}"
                if m.shown
                else "—",
                staff_index.STAFF_SHRUNK: "—" if est is None else clock.format_number(est.estimate, 1),
                "Hiệu chỉnh: KTC 95%": "—"
                if est is None
                else f"{clock.format_number(est.ci_low, 1)}–{clock.format_number(est.ci_high, 1)}",
            }
        )
    st.caption(f"{staff_index.STAFF_SHRUNK_NOTE} n là số phiếu.")
    st.caption(
        f"{staff_index.STAFF_MEASURE_NOTE} Cùng một số với trang Phân tích (mục Cán bộ) và báo cáo tháng; "
        f"theo từng quý, chỉ hiện khi có ít nhất {min_n} phiếu."
    )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", placeholder="—")

st.subheader("Số liệu cho báo cáo tháng")
months = ui.recent_months(clock.today(), 24)
month = st.selectbox(
    "Tháng",
    months,
    format_func=lambda v: f"Tháng {clock.format_month(v)}",
    key="chair_month",
    placeholder="Chọn một mục",
)
with ui.conn() as c:
    m = queue.monthly_counts(c, month, today=clock.today())
a, b, d, d2, e = st.columns(5)
a.metric("Mở mới", m["opened"])
b.metric("Đã đóng", m["closed"])
d.metric("Quá hạn trong tháng", m["overdue"], help="Vụ việc đã có lúc quá hạn xử lý trong tháng.")
d2.metric(
    f"Đang quá hạn ngày {clock.format_date(m['as_of'])}",
    m["overdue_at_end"],
    help="Cùng cách tính với ô Quá hạn ở đầu trang và với báo cáo tháng.",
)
e.metric(
    "Số ngày xử lý (trung vị)",
    "—" if m["median_days_to_close"] is None else clock.format_number(m["median_days_to_close"], 1),
)
st.dataframe(
    pd.DataFrame(m["by_type"].items(), columns=["Loại", "Số vụ việc mở mới"]), hide_index=True, placeholder="—"
)
