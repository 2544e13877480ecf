"""The Chairman's page: what needs his decision, each staff member's conduct history, monthly counts.

Roles: chairman only. Decisions on điều chuyển, thay thế or kỷ luật require his password again.
"""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

import ui
from sipas import actions, clock, db, intake, settings
from sipas.errors import SipasError
from sipas.stats import proportion

user = ui.require_role("chairman")
ui.roles_caption("chairman")
actor = actions.Actor(user.username, user.role)
st.title("Việc chờ Chủ tịch quyết định")

with ui.conn() as c:
    min_n = settings.get(c, "staff_min_n")
    floor = settings.get(c, "targets")["floor"]
    queue = actions.chairman_queue(c)
    staff = {m["code"]: m["full_name"] for m in db.list_staff(c)}
    rule = settings.get(c, "repeat_offence")


def name(code):
    return f"{staff.get(code, code)} ({code})" if code else actions.UNKNOWN_STAFF


def case_rows(cases):
    return pd.DataFrame(
        [
            {
                "Số": c["id"],
                "Loại": actions.TYPES[c["type"]],
                "Cán bộ": name(c["staff_code"]),
                "Tóm tắt": c["title"],
                "Trạng thái": actions.STATES[c["state"]],
                "Hạn xử lý": c["due_date"],
                "Hạn trả lời": c["response_deadline"] or "",
            }
            for c in cases
        ]
    )


counts = {k: len(v) for k, v in queue.items()}
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
if not queue["repeat"]:
    st.success("Không có cán bộ tái phạm cần quyết định.")
for item in queue["repeat"]:
    with st.form(f"repeat_{item['staff_code']}", clear_on_submit=True, enter_to_submit=False):
        st.markdown(f"**{ui.escape_md(name(item['staff_code']))}** — vụ việc số " + ", ".join(map(str, item["cases"])))
        decision = st.radio(
            "Quyết định",
            list(actions.REPEAT_DECISIONS),
            horizontal=True,
            format_func=actions.REPEAT_DECISIONS.get,
            key=f"rd_{item['staff_code']}",
        )
        note = st.text_area(
            "Nội dung quyết định, hoặc lý do không điều chuyển, thay thế", key=f"rn_{item['staff_code']}"
        )
        password = st.text_input(
            "Mật khẩu của Chủ tịch (bắt buộc với điều chuyển, thay thế)",
            type="password",
            key=f"rp_{item['staff_code']}",
        )
        if st.form_submit_button("Ghi quyết định", type="primary"):
            try:
                with ui.conn() as c:
                    code = item["staff_code"]
                    proof = ui.reauthenticate(c, user, password, actions.repeat_action(code))
                    actions.decide_repeat(c, actor, code, decision, note, reauth=proof)
                st.success("Đã ghi quyết định.")
                st.rerun()
            except SipasError as exc:
                ui.show_errors(exc)

st.subheader("Biện pháp chờ phê duyệt")
if not queue["signoff"]:
    st.info("Không có biện pháp nào chờ phê duyệt.")
for case in queue["signoff"]:
    with st.form(f"signoff_{case['id']}", clear_on_submit=True, enter_to_submit=False):
        st.markdown(f"**Vụ việc số {case['id']}** — {ui.escape_md(name(case['staff_code']))}")
        st.text(
            f"{case['title']}\nNguyên nhân: {case['root_cause']}\nBiện pháp đề xuất: "
            f"{actions.MEASURES[case['measure']]}" + (f" ({case['measure_detail']})" if case["measure_detail"] else "")
        )
        choice = st.radio(
            "Quyết định",
            ["approve", "return"],
            horizontal=True,
            key=f"so_{case['id']}",
            format_func={"approve": "Phê duyệt", "return": "Trả lại"}.get,
        )
        note = st.text_area("Ý kiến (bắt buộc khi trả lại)", key=f"sn_{case['id']}")
        when = st.date_input("Ngày áp dụng", clock.today(), format="DD/MM/YYYY", key=f"sd_{case['id']}")
        password = ""
        if case["measure"] in actions.SEVERE_MEASURES:
            password = st.text_input(
                "Nhập lại mật khẩu để quyết định " + actions.MEASURES[case["measure"]].lower(),
                type="password",
                key=f"sp_{case['id']}",
            )
        if st.form_submit_button("Ghi quyết định", type="primary"):
            try:
                with ui.conn() as c:
                    proof = ui.reauthenticate(c, user, password, actions.approve_action(case["id"]))
                    intake.transition(
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
    if queue[key]:
        st.dataframe(case_rows(queue[key]), hide_index=True, width="stretch")
    else:
        st.success("Không có.")

st.subheader("Lịch sử ứng xử của từng cán bộ")
if staff:
    code = st.selectbox("Cán bộ", list(staff), format_func=name, key="history_staff")
    with ui.conn() as c:
        cases = db.list_cases(c, staff_code=code)
        today = clock.today()
        quarters = []
        for k in range(7, -1, -1):
            end = today - timedelta(days=91 * k)
            start = end - timedelta(days=91)
            n, sat = db.conduct_counts(c, code, start.isoformat(), (end + timedelta(days=1)).isoformat())
            quarters.append((start, end, n, sat))
    if cases:
        frame = case_rows(cases)
        frame["Biện pháp"] = [actions.MEASURES.get(c["measure"] or "", "") for c in cases]
        st.dataframe(frame, hide_index=True, width="stretch")
    else:
        st.info("Chưa có vụ việc nào.")
    rows = []
    for start, end, n, sat in quarters:
        p = proportion(sat, n)
        shown = n >= min_n
        rows.append(
            {
                "Từ": start.strftime("%d/%m/%Y"),
                "Đến": end.strftime("%d/%m/%Y"),
                "n": n,
                "Hài lòng (%)": f"{p.index:.1f}" if shown else "Chưa đủ dữ liệu",
                "KTC 95%": f"{p.ci_low:.1f}–{p.ci_high:.1f}" if shown else "",
            }
        )
    st.caption(
        f"Tỷ lệ phiếu hài lòng với mọi tiêu chí công chức (yếu tố 3) đã trả lời, theo từng quý; "
        f"chỉ hiện khi có ít nhất {min_n} phiếu."
    )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader("Số liệu cho báo cáo tháng")
month = st.text_input("Tháng (YYYY-MM)", clock.today().strftime("%Y-%m"), key="chair_month")
try:
    date.fromisoformat(month + "-01")
    with ui.conn() as c:
        m = actions.monthly_counts(c, month)
    a, b, d, e = st.columns(4)
    a.metric("Mở mới", m["opened"])
    b.metric("Đã đóng", m["closed"])
    d.metric("Quá hạn", m["overdue"])
    e.metric("Số ngày xử lý (trung vị)", "—" if m["median_days_to_close"] is None else f"{m['median_days_to_close']:g}")
    st.dataframe(pd.DataFrame(m["by_type"].items(), columns=["Loại", "Số vụ việc mở mới"]), hide_index=True)
except ValueError:
    st.error("Tháng phải có dạng YYYY-MM.")
