"""Waiting time and staffing: waits and satisfaction by weekday × hour, counters needed (Erlang C),
a recommendation that becomes a staffing case for the Chairman, and before/after once it is applied.

Roles: clerk, chairman. Every number comes from ``sipas.staffing.waiting``; this page only draws it
(the Vietnamese display tables below) and turns the settings into the tables the clerk edits and back.
A recommendation becomes a case through ``sipas.cases.proposals``.
"""

from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from sipas import clock
from sipas.admin import settings
from sipas.admin.settings import WEEKDAYS
from sipas.cases import effects, proposals, workflow
from sipas.errors import SipasError
from sipas.files import tickets
from sipas.staffing import erlang, waiting

# ------------------------------------------------------------------ the tables as shown (page layer)


def slot_display(slots: pd.DataFrame, target_minutes: float) -> pd.DataFrame:
    """The weekday × hour table with Vietnamese headings, numbers rounded for reading."""
    t = f"{target_minutes:g}"
    return pd.DataFrame(
        {
            "Thứ": [WEEKDAYS[w] for w in slots["weekday"]],
            "Giờ": [f"{h}:00" for h in slots["hour"]],
            "Số ngày quan sát": slots["days_observed"],
            "Lượt đến TB/giờ": slots["arrivals_mean"].round(2),
            "Lượt chờ đo được": slots["waits_n"],
            "Chờ trung vị (phút)": slots["wait_median"].round(1),
            "Chờ P90 (phút)": slots["wait_p90"].round(1),
            f"Chờ quá {t} phút (%)": (100 * slots["share_over_target"]).round(1),
            "Không được gọi": slots["not_called"],
            "Phiếu khảo sát (n)": slots["survey_n"],
            "Hài lòng (%)": slots["satisfaction"].round(1),
            "KTC 95% thấp": slots["sat_ci_low"].round(1),
            "KTC 95% cao": slots["sat_ci_high"].round(1),
            "Báo chờ từ 15 phút (%)": (100 * waiting.reported_long_wait_share(slots)).round(1),
        }
    )


def bucket_display(buckets: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Thời gian chờ (người dân trả lời)": buckets["label"],
            "Phiếu (n)": buckets["n"],
            "Hài lòng (4–5)": buckets["satisfied"],
            "Hài lòng (%)": buckets["index"].round(1),
            "KTC 95% thấp": buckets["ci_low"].round(1),
            "KTC 95% cao": buckets["ci_high"].round(1),
        }
    )


def staffing_display(staffing: pd.DataFrame, target_minutes: float) -> pd.DataFrame:
    t = f"{target_minutes:g}"
    return pd.DataFrame(
        {
            "Thứ": [WEEKDAYS[w] for w in staffing["weekday"]],
            "Giờ": [f"{h}:00" for h in staffing["hour"]],
            "Lượt đến/giờ": staffing["arrivals_per_hour"].round(2),
            "Phút phục vụ TB": staffing["service_minutes"].round(1),
            "Quầy đang mở": staffing["counters_open"],
            "Số quầy theo": staffing["counters_measured"].map({True: "Nhật ký số thứ tự", False: "Cài đặt"}),
            "Quầy cần (Erlang C)": staffing["counters_needed"],
            "Thiếu": staffing["shortfall"],
            "Xác suất phải chờ (%)": (100 * staffing["p_wait"]).round(1),
            "Chờ TB theo mô hình (phút)": staffing["mean_wait_minutes"].round(2),
            "Công suất quầy (%)": (100 * staffing["occupancy"]).round(1),
            "Đạt mục tiêu với quầy đang mở (%)": (100 * staffing["service_level_open"]).round(1),
            "Chờ trung vị đo được (phút)": staffing["measured_median"].round(1),
            f"Đo được: chờ quá {t} phút (%)": (100 * staffing["measured_share_over_target"]).round(1),
            "Thiếu người": staffing["understaffed"],
        }
    )


def understaffed_styles(display: pd.DataFrame) -> pd.DataFrame:
    """CSS per cell: understaffed rows in a pale red (for ``DataFrame.style.apply(axis=None)``)."""
    css = "background-color: #fde2e1"
    mask = display["Thiếu người"].astype(bool)
    return pd.DataFrame(
        [[css if m else "" for _ in display.columns] for m in mask], index=display.index, columns=display.columns
    )


def service_display(services: pd.DataFrame) -> pd.DataFrame:
    source = {"ticket": "Đo từ máy lấy số", "setting": "Theo cài đặt", "default": "Mặc định trong cài đặt"}
    return pd.DataFrame(
        {
            "Lĩnh vực / quầy": services["key"].replace("", "(không ghi)"),
            "Lượt đã xong": services["tickets"],
            "Đo được (phút)": services["measured_minutes"].round(1),
            "Dùng để tính (phút)": services["minutes"].round(1),
            "Nguồn": services["source"].map(source),
        }
    )


# ------------------------------------------------------------------ the settings as edited (page layer)


def counters_open_grid(setting: dict, opening_hours: dict) -> pd.DataFrame:
    """Counters open as a table: a row per open hour ("Giờ"), a column per open weekday."""
    hours = waiting.open_hours(opening_hours)
    frame = pd.DataFrame({"Giờ": hours})
    for w in opening_hours["days"]:
        frame[WEEKDAYS[w]] = pd.array([waiting.counters_open_at(setting, w, h) for h in hours], dtype="Int64")
    return frame


def counters_open_from_grid(grid: pd.DataFrame, old: dict, default: int) -> dict:
    """The setting value from the edited table (see :func:`sipas.staffing.waiting.counters_open_value`)."""
    cells: dict[tuple[int, int], object] = {}
    for _, r in grid.iterrows():
        for w, name in enumerate(WEEKDAYS):
            if name in grid.columns:
                value = r[name]
                cells[(w, int(r["Giờ"]))] = None if value is None or pd.isna(value) else value
    return waiting.counters_open_value(cells, old, default)


def service_minutes_frame(setting: dict, fields: list[str]) -> pd.DataFrame:
    """Mean service time per lĩnh vực as a table (empty: the default)."""
    names = list(dict.fromkeys([*fields, *setting["fields"]]))
    return pd.DataFrame(
        {"Lĩnh vực": names, "Phút": pd.array([setting["fields"].get(n) for n in names], dtype="Float64")}
    )


def service_minutes_from_frame(frame: pd.DataFrame, default: float) -> dict:
    """The setting value from the edited table (rows with no minutes use the default)."""
    fields = {}
    for _, r in frame.iterrows():
        name, minutes = r["Lĩnh vực"], r["Phút"]
        if name is None or pd.isna(name) or minutes is None or pd.isna(minutes):
            continue
        fields[str(name)] = float(minutes)
    return {"default": default, "fields": fields}


def parse_names(text: str) -> list[str]:
    """The counters typed as "Quầy 1, Quầy 2;Hộ tịch": split at commas and semicolons, blanks dropped
    (the names are checked when the setting is saved)."""
    return [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]


user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
actor = workflow.Actor(user.username, user.role)
st.title("Thời gian chờ và nhân lực")

today = clock.now().date()
left, right = st.columns(2)
date_from = left.date_input("Từ ngày", today - timedelta(weeks=12), format="DD/MM/YYYY", key="wait_from")
date_to = right.date_input("Đến ngày", today, format="DD/MM/YYYY", key="wait_to")

try:
    with ui.conn() as c:
        report = waiting.build_report(c, date_from, date_to)
        staff_effects = effects.staffing_effects(c, report.target_minutes, today)
        existing = {rec: proposals.open_case_for(c, rec) for rec in report.recommendations}
        fields = settings.get(c, "fields")
        counter_names = settings.get(c, "counter_names")
except SipasError as exc:
    st.error(str(exc))
    st.stop()

target = f"{clock.format_plain(report.target_minutes)}"
s = report.summary
m1, m2, m3, m4 = st.columns(4)
m1.metric("Lượt lấy số", s["tickets"])
m2.metric("Chờ trung vị (phút)", "—" if s["median"] is None else f"{clock.format_number(s['median'], 1)}")
m3.metric(
    f"Chờ quá {target} phút",
    "—" if s["share_over_target"] is None else f"{clock.format_percent(100 * s['share_over_target'], 1)}",
)
m4.metric("Ngày nhập tay (không có máy lấy số)", report.typed_days)
st.caption(
    "Nguồn lượt đến, theo thứ tự ưu tiên: nhật ký máy lấy số, rồi hồ sơ nộp trực tiếp trong danh sách hồ sơ "
    f"của hệ thống một cửa ({report.dossier_days} ngày không có máy lấy số), rồi số liệu nhập tay "
    f"({report.typed_days} ngày)."
)

tab_slots, tab_staff, tab_input, tab_settings = st.tabs(
    ["Theo thứ và giờ", "Số quầy cần (Erlang C)", "Nhập số liệu", "Thiết lập"]
)

with tab_slots:
    if report.slots.empty:
        st.info("Chưa có số liệu về lượt đến, thời gian chờ hay phiếu khảo sát trong giai đoạn này.")
    else:
        st.dataframe(
            ui.vn_frame(slot_display(report.slots, report.target_minutes), default=None),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )
        st.caption(
            "Lượt đến TB/giờ: tổng lượt đến trong khung giờ chia cho số ngày cùng thứ có số liệu. Thời gian chờ: "
            "từ lúc lấy số đến lúc được gọi (máy lấy số); P90: 90% người chờ không quá mức này. Hài lòng: tỷ lệ "
            "trả lời 4–5 ở câu hỏi chung của các phiếu gửi trong khung giờ đó, với khoảng tin cậy 95% (Wilson)."
        )
    st.subheader("Mức hài lòng theo thời gian chờ người dân trả lời")
    st.dataframe(
        ui.vn_frame(bucket_display(report.buckets), default=None), hide_index=True, width="stretch", placeholder="—"
    )
    if report.cost is not None:
        st.caption(
            f"Chờ dưới 15 phút: {clock.format_percent(report.cost.estimate, 1)} hài lòng (n = {report.cost.n}); "
            "chờ từ 15 phút "
            f"trở lên: {clock.format_percent(report.cost.baseline, 1)} (n = {report.cost.baseline_n}). Chênh lệch "
            f"{clock.format_signed(report.cost.difference, 1)} điểm %, "
            f"KTC 95% {clock.format_signed(report.cost.ci_low, 1)} đến "
            f"{clock.format_signed(report.cost.ci_high, 1)}; {clock.p_clause(report.cost.p_value)}."
        )


def create_case(rec: waiting.Recommendation) -> None:
    if not ui.may_act("clerk", "chairman"):  # a callback runs before this page's guard
        return
    try:
        with ui.conn() as c:
            case_id = proposals.open_staffing_case(
                c,
                actor,
                rec,
                target_minutes=report.target_minutes,
                service_level=report.service_level,
                period=(report.date_from, report.date_to),
            )
        st.session_state["wait_case_msg"] = (
            f"Đã tạo vụ việc số {case_id}: {rec.text}. Tiếp tục ở trang “Phản ánh và khắc phục” (biện pháp "
            "“Bố trí thêm người”) để trình Chủ tịch phê duyệt."
        )
    except SipasError as exc:
        st.session_state["wait_case_msg"] = exc


with tab_staff:
    st.info(waiting.ASSUMPTIONS)
    if not report.has_arrivals:
        st.info("Chưa có số lượt đến (máy lấy số hoặc số hồ sơ nhập tay) trong giai đoạn này.")
    else:
        st.caption(
            f"Mục tiêu: {clock.format_percent(100 * report.service_level, 0)} người dân được tiếp nhận "
            f"trong vòng {target} phút. "
            "Xác suất phải chờ, thời gian chờ trung bình và công suất là của số quầy cần; các dòng tô đỏ là "
            "giờ đang thiếu quầy."
        )
        shown = staffing_display(report.staffing, report.target_minutes)
        st.dataframe(
            ui.vn_frame(shown, default=None).style.apply(lambda _: understaffed_styles(shown), axis=None),
            hide_index=True,
            width="stretch",
            key="staffing_table",
            placeholder="—",
        )
        with st.expander("Thời gian phục vụ dùng để tính"):
            st.dataframe(
                ui.vn_frame(service_display(report.services), default=None),
                hide_index=True,
                width="stretch",
                placeholder="—",
            )

        st.subheader("Đề xuất bố trí thêm người")
        message = st.session_state.pop("wait_case_msg", None)
        if isinstance(message, SipasError):
            ui.show_errors(message)
        elif message:
            st.success(message)
        if not report.recommendations:
            st.success("Số quầy đang mở đáp ứng mục tiêu ở mọi khung giờ có số liệu.")
        else:
            total = report.recommendations[0].counters_total or 0
            # The minutes and counters the table used (measured where the log has them), never the defaults.
            basis = report.basis
            st.caption(
                erlang.assumption_text(basis.service_minutes, report.target_minutes, report.service_level, total)
                + " "
                + " ".join(basis.sentences())
            )
        for i, rec in enumerate(report.recommendations):
            text_col, button_col = st.columns([3, 1])
            text_col.markdown(f"**{rec.title}**")
            text_col.caption("; ".join(f"{h}:00 đang mở {o} quầy, mô hình cần {n}" for h, o, n in rec.detail))
            if existing[rec] is not None:
                button_col.caption(f"Đã có vụ việc số {existing[rec]}")
            elif rec.extra <= 0:
                button_col.caption("Không còn quầy để mở thêm")
            else:
                button_col.button("Tạo vụ việc trình Chủ tịch", key=f"wait_rec_{i}", on_click=create_case, args=(rec,))

    st.subheader("Sau khi bố trí thêm người")
    if not staff_effects:
        st.caption("Chưa có đề xuất nào được phê duyệt và áp dụng.")
    for case, effect in staff_effects:
        st.markdown(f"**Vụ việc số {case['id']}** — áp dụng từ {clock.format_date(case['measure_date'])}")
        st.text(case["title"])
        st.dataframe(
            ui.vn_frame(effects.effect_rows(effect), default=None), hide_index=True, width="stretch", placeholder="—"
        )
        st.text(effect.message)
        if effect.test is not None:
            st.caption(
                f"Chênh lệch hài lòng {clock.format_signed(effect.test.difference, 1)} điểm %, KTC 95% (Newcombe) "
                f"{clock.format_signed(effect.test.ci_low, 1)} đến {clock.format_signed(effect.test.ci_high, 1)}; "
                f"{clock.p_clause(effect.test.p_value)} "
                "(kiểm định hai tỷ lệ)."
            )

with tab_input:
    st.subheader("Nhật ký máy lấy số")
    st.caption(
        "Tệp .csv hoặc .xlsx với các cột ticket_id, service, counter, issued_at, called_at, finished_at "
        "(thời điểm dạng YYYY-MM-DD HH:MM). Có lỗi ở bất kỳ dòng nào thì không nhập dòng nào; nhập lại "
        "cùng tệp không bị tính hai lần."
    )
    upload = st.file_uploader("Tệp nhật ký", type=["csv", "txt", "tsv", "xlsx", "xls"], key="ticket_file")
    if upload is not None and st.button("Nhập nhật ký", type="primary", key="ticket_import"):
        try:
            with ui.conn() as c:
                summary = tickets.import_tickets(c, upload.getvalue(), upload.name, actor=user.username)
            st.success(summary.message())
        except SipasError as exc:
            ui.show_errors(exc)

    st.subheader("Số hồ sơ tiếp nhận theo giờ (khi không có máy lấy số)")
    day = st.date_input("Ngày", today, format="DD/MM/YYYY", key="typed_day")
    with ui.conn() as c:
        grid = waiting.daily_counts_grid(c, day, counter_names, report.opening_hours)
    edited = st.data_editor(
        grid, disabled=["Giờ"], hide_index=True, key=f"typed_grid_{day.isoformat()}", placeholder=""
    )
    if st.button("Lưu số hồ sơ của ngày", key="typed_save"):
        try:
            with ui.conn() as c:
                total = waiting.save_daily_counts(c, day, edited, user.username)
            st.success(f"Đã lưu {total} hồ sơ của ngày {day.strftime('%d/%m/%Y')}.")
        except SipasError as exc:
            ui.show_errors(exc)

with tab_settings:
    with st.form("wait_settings", enter_to_submit=False):
        a, b = st.columns(2)
        new_target = a.number_input(
            "Thời gian chờ mục tiêu (phút)", 1, 240, int(report.target_minutes), key="set_target"
        )
        new_level = b.number_input(
            "Tỷ lệ người dân được phục vụ trong thời gian đó (%)",
            50,
            99,
            int(round(100 * report.service_level)),
            key="set_level",
        )
        default_minutes = st.number_input(
            "Thời gian phục vụ trung bình mặc định (phút)",
            1.0,
            480.0,
            float(report.service_setting["default"]),
            format="%g",
            key="set_service_default",
        )
        st.caption(
            "Thời gian phục vụ theo lĩnh vực (để trống: dùng mặc định). Khi máy lấy số có đủ lượt đã xong "
            f"({waiting.MIN_SERVICE_TICKETS} lượt trở lên), thời gian đo được sẽ được dùng."
        )
        service_frame = st.data_editor(
            service_minutes_frame(report.service_setting, fields),
            hide_index=True,
            num_rows="dynamic",
            key="set_service_fields",
            placeholder="",
        )
        names = st.text_input("Các quầy (ngăn cách bằng dấu phẩy)", ", ".join(counter_names), key="set_counters")
        default_open = st.number_input(
            "Số quầy mở mặc định",
            0,
            settings.MAX_COUNTERS,
            int(report.counters_setting["default"]),
            key="set_open_default",
        )
        st.caption("Số quầy mở theo giờ trong tuần (ô khác mặc định được lưu riêng).")
        open_grid = st.data_editor(
            counters_open_grid(report.counters_setting, report.opening_hours),
            disabled=["Giờ"],
            hide_index=True,
            key="set_open_grid",
            placeholder="",
        )
        if st.form_submit_button("Lưu thiết lập", type="primary"):
            try:
                with ui.conn() as c:
                    settings.put_many(
                        c,
                        {
                            "wait_target_minutes": new_target,
                            "service_level_target": new_level / 100,
                            "service_minutes": service_minutes_from_frame(service_frame, default_minutes),
                            "counter_names": parse_names(names),
                            "counters_open": counters_open_from_grid(open_grid, report.counters_setting, default_open),
                        },
                        user.username,
                    )
                st.success("Đã lưu.")
            except SipasError as exc:
                ui.show_errors(exc)
