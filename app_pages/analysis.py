"""Phân tích chỉ số hài lòng: the clerk's full analysis (the Chairman sees it too).

Filters → headline against the plan's targets and the baseline → one section at a time (criteria with
tests, charts, comments, expectations, staff, data quality, monthly report). Only the chosen section is computed, and
every loader is cached by small explicit values: the database path, a data version (newest response,
counted responses, newest relevant audit entry, baseline) and the filters. No SQL and no formulas here.
Citizens' text is only ever shown as plain text (st.dataframe / st.text), never as Markdown.
"""

import json
from datetime import date

import streamlit as st

import ui
from sipas import clock, db, reports
from sipas.admin import settings
from sipas.catalog import questionnaires, version_label
from sipas.catalog.crosswalk import counterparts
from sipas.errors import SipasError
from sipas.files import parsing
from sipas.index import (
    channels,
    comment_list,
    criterion_tables,
    expectations,
    extra_answers,
    findings,
    periods,
    plan_checks,
    selection,
    staff_index,
    trends,
)
from sipas.index import dossiers as dossier_figures
from sipas.index.baseline import default_baseline
from sipas.index.comparison import NOT_ENOUGH_DATA
from sipas.reports import charts
from sipas.survey import quality

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Phân tích chỉ số hài lòng")

PATH = ui.database_path()
SECTIONS = [
    "Tiêu chí",
    "Biểu đồ",
    "Góp ý",
    "Mong muốn",
    "Câu hỏi thêm",
    "Hồ sơ",
    "Kênh",
    "Cán bộ",
    "Chất lượng dữ liệu",
    "Báo cáo tháng",
]
# Decimals shown per column (ui.vn_frame writes them with a decimal comma; the rest get 2).
DECIMALS = {
    **{c: 1 for c in ("KTC 95% thấp", "KTC 95% cao", "KTC chênh lệch thấp", "KTC chênh lệch cao")},
    "p": "p",  # ui.vn_frame: 3 decimals, "< 0,001" below
    "p (Holm)": "p",
}
MONTHS, QUARTERS = list(range(1, 13)), [1, 2, 3, 4]
MAX_CHOICES = 2000  # flagged responses offered in the exclude/restore box


# ------------------------------------------------------------------------------ cached loaders


def data_version() -> tuple[tuple, int]:
    """(the analysis data version, the newest import id): the cache keys of this run."""
    with ui.conn() as c:
        return db.analysis_data_version(c), db.last_import_id(c)


@st.cache_data(max_entries=8, show_spinner=False)
def load_context(path: str, version: tuple, on_date: str) -> dict:
    with db.session(path) as c:
        return {
            "active": settings.get(c, "active_questionnaire", on_date),
            "staff": db.list_staff(c),
            "fields": settings.get(c, "fields", on_date),
            "baselines": db.baseline_years(c),
            "days": db.response_day_range(c),
        }


@st.cache_data(max_entries=16, show_spinner=False)
def load_period_settings(path: str, version: tuple, on_date: str) -> dict:
    """The settings in force at the end of the chosen period (targets, bands and names change with time)."""
    with db.session(path) as c:
        return {
            key: settings.get(c, key, on_date)
            for key in ("targets", "bands", "unit_name", "office_name", "staff_min_n", "opening_hours")
        }


@st.cache_data(max_entries=16, show_spinner=False)
def load_version_counts(path: str, version: tuple, date_from: str, date_to: str) -> tuple[dict, str]:
    """Responses of each questionnaire version in the period, and the version the period opens in."""
    with db.session(path) as c:
        return periods.version_counts(c, date_from, date_to), periods.default_version(c, date_from, date_to)


@st.cache_data(max_entries=4, show_spinner=False)
def load_imported_fields(path: str, last_import: int) -> list[str]:
    """Free-text fields of imported files (the kiosk offers only the settings' list): changes only on import."""
    with db.session(path) as c:
        return db.imported_fields(c)[1]


@st.cache_data(max_entries=8, show_spinner=False)
def load_dossiers(path: str, last_import: int, date_from: str, date_to: str, minute: str):
    """The period's dossier figures (None: no dossier imported for it); open overdue as of ``minute``."""
    with db.session(path) as c:
        period = dossier_figures.range_period(date_from, date_to, clock.parse_ts(minute))
        return dossier_figures.dossier_view(c, period)


@st.cache_data(max_entries=8, show_spinner=False)
def load_channels(path: str, version: tuple, f: selection.Filters, minute: str):
    """Kiosk, QR and paper side by side (the channel filter aside), and the ratings linked to dossiers."""
    with db.session(path) as c:
        comparison = channels.compare_channels(
            c,
            questionnaire=f.questionnaire,
            date_from=f.date_from,
            date_to=f.date_to,
            field=f.field,
            staff_code=f.staff_code,
            include_excluded=f.include_excluded,
        )
        return comparison, channels.dossier_ratings(c, f.date_from, f.date_to, clock.parse_ts(minute))


@st.cache_data(max_entries=8, show_spinner=False)
def load_baseline(path: str, version: tuple, year: int, questionnaire: str) -> list[dict]:
    with db.session(path) as c:
        return db.baseline_rows(c, year, questionnaire)


@st.cache_data(max_entries=32, show_spinner=False)
def load_index(path: str, version: tuple, f: selection.Filters):
    with db.session(path) as c:
        return selection.index_for_filters(c, f)


@st.cache_data(max_entries=32, show_spinner=False)
def load_criteria(
    path: str,
    version: tuple,
    f: selection.Filters,
    baseline: tuple | None,
    bands_key: str,
    hide_below: int | None,
    office: str | None = None,
):
    with db.session(path) as c:
        rows = db.baseline_rows(c, *baseline) if baseline else []
    result = load_index(path, version, f)
    return criterion_tables.criteria_table(result, rows, json.loads(bands_key), hide_below=hide_below, office=office)


@st.cache_data(max_entries=16, show_spinner=False)
def load_target(path: str, version: tuple, f: selection.Filters, year: int, target: float, today: str):
    with db.session(path) as c:
        return plan_checks.year_target_status(c, f, year, target, date.fromisoformat(today))


@st.cache_data(max_entries=16, show_spinner=False)
def load_trend(path: str, version: tuple, f: selection.Filters):
    with db.session(path) as c:
        trend = trends.monthly_trend(c, trends.trend_filters(f))
    return trend, (trends.monthly_p_chart(trend) if not trend.empty else None)


@st.cache_data(max_entries=16, show_spinner=False)
def load_heatmap(path: str, version: tuple, f: selection.Filters):
    with db.session(path) as c:
        return trends.weekday_hour_table(c, f)


@st.cache_data(max_entries=16, show_spinner=False)
def load_staff(path: str, version: tuple, f: selection.Filters, min_n: int):
    with db.session(path) as c:
        return staff_index.staff_table(c, f, db.list_staff(c), min_n)


@st.cache_data(max_entries=16, show_spinner=False)
def load_comments(path: str, version: tuple, f: selection.Filters, query: str, topic: str | None):
    with db.session(path) as c:
        return comment_list.comments_table(c, f, query=query, topic=topic)


@st.cache_data(max_entries=16, show_spinner=False)
def load_expectations(path: str, version: tuple, f: selection.Filters):
    with db.session(path) as c:
        return expectations.expectations_table(c, f)


@st.cache_data(max_entries=16, show_spinner=False)
def load_extra_questions(path: str, version: tuple, f: selection.Filters):
    with db.session(path) as c:
        return extra_answers.extra_question_tables(c, f)


@st.cache_data(max_entries=8, show_spinner=False)
def load_flags(
    path: str, version: tuple, hours_key: str, date_from: str | None, date_to: str | None, questionnaire: str
):
    with db.session(path) as c:
        return quality.load_flags(c, json.loads(hours_key), date_from, date_to, questionnaire)


@st.cache_data(max_entries=8, show_spinner=False)
def load_excluded(path: str, version: tuple, date_from: str | None, date_to: str | None, questionnaire: str):
    with db.session(path) as c:
        return db.excluded_responses(c, date_from, date_to, questionnaire)


# ------------------------------------------------------------------------------ filters

today = clock.now().date()
version_key, import_key = data_version()
ctx = load_context(PATH, version_key, today.isoformat())
first_day, last_day = ctx["days"]
first_year = parsing.stored_year(first_day, today.year)
last_year = max(today.year, parsing.stored_year(last_day, today.year))
years = list(range(last_year, first_year - 1, -1))

# The page opens on the last complete month: one day of a new month is no basis for a first reading.
last_full = clock.month_start(today, -1)
c1, c2, c3 = st.columns([2, 1, 1])
kind = c1.segmented_control("Kỳ", ["Tháng", "Quý", "Năm", "Tùy chọn"], default="Tháng", key="an_kind") or "Tháng"
year = c2.selectbox(
    "Năm",
    years,
    index=years.index(last_full.year) if last_full.year in years else 0,
    key="an_year",
    placeholder="Chọn một mục",
)
if kind == "Tháng":
    month = c3.selectbox(
        "Tháng",
        MONTHS,
        index=MONTHS.index(last_full.month if year == last_full.year else (today.month if year == today.year else 12)),
        format_func=lambda m: f"Tháng {m}",
        key="an_month",
        placeholder="Chọn một mục",
    )
    date_from, date_to = selection.period_bounds("month", year, month)
elif kind == "Quý":
    quarter = c3.selectbox(
        "Quý",
        QUARTERS,
        index=QUARTERS.index(clock.quarter_of(today) if year == today.year else 4),
        format_func=lambda q: f"Quý {q}",
        key="an_quarter",
        placeholder="Chọn một mục",
    )
    date_from, date_to = selection.period_bounds("quarter", year, quarter)
elif kind == "Năm":
    date_from, date_to = selection.period_bounds("year", year)
else:
    picked = st.date_input("Từ ngày – đến ngày", (date(today.year, 1, 1), today), format="DD/MM/YYYY", key="an_range")
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info("Chọn cả ngày bắt đầu và ngày kết thúc.")
        st.stop()
    date_from, date_to = selection.period_bounds("custom", year, custom=picked)

versions = sorted(questionnaires())
staff_names = {s["code"]: f"{s['code']} – {s['full_name']}" for s in ctx["staff"]}
# The form in force, unless the period's responses were all given on another one (sipas.index.periods).
period_counts, default_version = load_version_counts(PATH, version_key, date_from, date_to)
with st.expander("Lọc thêm: phiên bản phiếu, kênh, lĩnh vực, cán bộ", expanded=False):
    f1, f2 = st.columns(2)
    version = f1.selectbox(
        "Phiên bản phiếu",
        versions,
        index=versions.index(default_version),
        key="an_version",
        format_func=version_label,
        placeholder="Chọn một mục",
    )
    channel = f2.selectbox(
        "Kênh",
        [None, *selection.CHANNEL_LABELS],
        key="an_channel",
        format_func=lambda c: "Tất cả" if c is None else selection.CHANNEL_LABELS[c],
        placeholder="Chọn một mục",
    )
    f3, f4 = st.columns(2)
    fields = set(ctx["fields"]) | set(load_imported_fields(PATH, import_key))
    if st.session_state.get("an_field"):
        fields.add(st.session_state["an_field"])  # keep the choice when the period changes
    field = f3.selectbox(
        "Lĩnh vực",
        [None, *sorted(fields)],
        format_func=lambda v: "Tất cả" if v is None else v,
        key="an_field",
        placeholder="Chọn một mục",
    )
    staff_code = f4.selectbox(
        "Cán bộ",
        [None, *staff_names],
        key="an_staff",
        format_func=lambda v: "Tất cả" if v is None else staff_names[v],
        placeholder="Chọn một mục",
    )
    include_excluded = st.checkbox(
        "Tính cả phiếu đã loại",
        value=False,
        key="an_include_excluded",
        help="Mặc định các phiếu đã loại (dữ liệu đáng ngờ) không được tính vào chỉ số.",
    )
    base_options = [None, *ctx["baselines"]]
    default_base = base_options.index(default_baseline(ctx["baselines"], int(date_from[:4]), version))
    baseline_choice = st.selectbox(
        "So với số liệu gốc",
        base_options,
        index=default_base,
        key="an_baseline",
        format_func=lambda b: "Không so sánh" if b is None else f"Năm {b[0]} ({version_label(b[1])})",
        placeholder="Chọn một mục",
    )
    show_refs = st.checkbox("Hiện giá trị tham chiếu cả nước / Khánh Hòa trên biểu đồ", value=False, key="an_refs")

f = selection.Filters(version, date_from, date_to, channel, field, staff_code, include_excluded)
if version != ctx["active"] and default_version == version:
    st.caption(f"Các phiếu của kỳ này dùng mẫu {version_label(version)}: trang mở theo mẫu đó.")
if any(n and v != version for v, n in period_counts.items()):
    # Surveys of another form in the period: said, with where to read them (never silently left out).
    st.info(
        periods.coverage_sentence(period_counts, version)
        + " Chọn «Phiên bản phiếu» trong «Lọc thêm» để xem các phiếu của mẫu khác."
    )
if date_from <= today.isoformat() <= date_to:
    st.info(f"Kỳ này chưa kết thúc: số liệu tính đến hôm nay {clock.format_date(today)}; kết quả còn thay đổi.")
period = load_period_settings(PATH, version_key, min(date_to, today.isoformat()))
targets, bands = period["targets"], period["bands"]
baseline_rows = load_baseline(PATH, version_key, *baseline_choice) if baseline_choice else []
result = load_index(PATH, version_key, f)

st.caption(
    f"{ui.escape_md(period['unit_name'])} · Chỉ số hài lòng về cung ứng dịch vụ hành chính công "
    f"(phương pháp SIPAS) · {ui.escape_md(f.describe())}"
)  # a field name from a file is free text
st.caption(
    "Chỉ số của phần mềm chỉ gồm phần cung ứng dịch vụ hành chính công của mẫu phiếu quốc gia; phần chính sách "
    "công (23 nhận định) không hỏi tại quầy, nên chỉ số này không phải chỉ số SIPAS chính thức của xã."
)

# ------------------------------------------------------------------------------ headline

if staff_code and result.responses < period["staff_min_n"]:
    st.info(
        f"{NOT_ENOUGH_DATA}: {ui.escape_md(staff_names.get(staff_code, staff_code))} có {result.responses} "
        f"phiếu trong kỳ, cần ít nhất {period['staff_min_n']} phiếu để xem kết quả riêng của một cán bộ."
    )
    st.stop()
if result.responses == 0:
    st.info("Chưa có phiếu nào trong kỳ và bộ lọc này.")
    st.stop()

hide_below = period["staff_min_n"] if staff_code else None


def criteria_frame():
    return load_criteria(PATH, version_key, f, baseline_choice, json.dumps(bands), hide_below, period["office_name"])


# The finding first, in sentences a clerk can copy into a report (sipas.index.findings); the tables follow.
st.subheader("Điểm chính của kỳ")
lines = findings.findings(result, criteria_frame(), targets, baseline_choice[0] if baseline_choice else None)
st.markdown("\n".join(f"- {ui.escape_md(line)}" for line in lines))

ui.index_metrics(result, criterion_tables.baseline_overall(baseline_rows), targets, detailed=True)

cols = st.columns(len(result.elements))
for col, e in zip(cols, result.elements, strict=True):
    col.metric(f"Yếu tố {e.code}", "—" if e.index is None else f"{clock.format_percent(e.index, 2)}", help=e.name)

st.subheader("Ba yêu cầu của kế hoạch")
warning = plan_checks.small_sample_warning(result)
if warning:
    st.warning(warning)
for rule, ok, detail in plan_checks.rule_checklist(result, targets, bands):
    st.text(ui.rule_line(rule, ok, detail))

with st.expander("Cỡ mẫu và khả năng đạt chỉ tiêu năm", expanded=False):
    dossiers = st.number_input(
        "Số hồ sơ tiếp nhận trong kỳ (nếu biết, để hiệu chỉnh quần thể hữu hạn)",
        min_value=0,
        value=0,
        step=10,
        key="an_dossiers",
    )
    s = plan_checks.sample_status(result, population=int(dossiers) or None)
    if s.code:
        st.text(
            f"Để sai số ±{clock.format_plain(s.margin * 100)}% (tin cậy 95%) mỗi tiêu chí cần {s.required} câu trả lời"
            + (f" (đã hiệu chỉnh với {int(dossiers)} hồ sơ)" if dossiers else "")
            + f". Tiêu chí ít câu trả lời nhất là {s.code} với {s.n}: "
            + ("đã đủ." if s.needed == 0 else f"còn thiếu {s.needed} câu trả lời.")
        )
    # The plan's target is the commune's: checked on all responses of the version, whatever the filters.
    t = load_target(
        PATH, version_key, selection.Filters(version), int(date_to[:4]), float(targets["overall"]), today.isoformat()
    )
    if t.share is None:
        st.text(f"Năm {t.year}: chưa có câu trả lời để ước tính.")
    else:
        verdict = (
            "vẫn có thể đạt" if t.reachable else "không còn đạt được"
        ) + f" chỉ tiêu {clock.format_plain(targets['overall'])}%"
        need = (
            ""
            if t.needed_share is None
            else f"; cần {clock.format_percent(t.needed_share, 1)} số câu trả lời còn lại là hài lòng"
        )
        st.text(
            f"Năm {t.year}: {clock.format_percent(t.share, 2)} câu trả lời tiêu chí là hài lòng (n = {t.n}); "
            "ước tính cả năm "
            f"{t.expected_total} câu trả lời theo nhịp hiện nay: {verdict}{need}."
        )
        st.caption(
            "Toàn đơn vị (không theo bộ lọc kênh, lĩnh vực, cán bộ). Ước tính theo tổng các câu trả lời "
            "tiêu chí (gộp), gần đúng với chỉ số chung."
        )

# ------------------------------------------------------------------------------ sections

section = st.segmented_control("Xem", SECTIONS, default=SECTIONS[0], key="an_section") or SECTIONS[0]
references = charts.REFERENCES if show_refs else None


def png_button(label: str, chart, name: str) -> None:
    st.download_button(
        f"Tải {label} (PNG)",
        data=lambda: charts.to_png(chart),
        file_name=f"{name}.png",
        mime="image/png",
        on_click="ignore",
        key=f"an_png_{name}",
    )


if section == "Tiêu chí":
    st.subheader("Các tiêu chí (yếu nhất trước)")
    if baseline_choice and baseline_choice[1] != version:
        crossed = counterparts(version, baseline_choice[1]) if baseline_choice[1] in versions else None
        if crossed is None:
            st.caption(
                f"Số liệu gốc thuộc {version_label(baseline_choice[1])}, khác {version_label(version)}: "
                "chỉ so sánh được ở cấp yếu tố và chỉ số chung."
            )
        else:
            st.caption(
                f"Số liệu gốc thuộc {version_label(baseline_choice[1])}, khác {version_label(version)}: tiêu chí "
                "chỉ được so sánh với nhận định tương ứng theo bảng đối chiếu (cột “Mã gốc”); nhận định đã đổi "
                "lời ghi “So sánh gần đúng: nội dung nhận định đã thay đổi”."
            )
            apart = criterion_tables.unmatched_criteria(result, baseline_rows)
            if apart:
                st.text(
                    "Không có trong mẫu phiếu năm gốc (không so sánh): "
                    + "; ".join(f"{code} {text}" for code, text in apart)
                )
    # The key columns fit a 1366 px screen; the tests and p-values are one click away, in the expander.
    st.dataframe(
        ui.vn_frame(criterion_tables.key_table(criteria_frame(), version), DECIMALS),
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "Mã": st.column_config.TextColumn(width=60),
            "Nội dung": st.column_config.TextColumn(width=230),
            "n": st.column_config.TextColumn(width=55),
            "Chỉ số (%)": st.column_config.TextColumn(width=80),
            "KTC 95%": st.column_config.TextColumn(width=95),
            "Gốc (%)": st.column_config.TextColumn(width=70),
            "Chênh lệch (điểm %)": st.column_config.TextColumn("Chênh lệch", width=85),
            "Kết luận": st.column_config.TextColumn(width=190),
        },
    )
    st.caption(
        "KTC 95%: khoảng tin cậy 95% (Wilson). Chênh lệch: điểm phần trăm so với số liệu gốc. Kết luận dựa "
        "trên kiểm định đã hiệu chỉnh cho nhiều tiêu chí cùng lúc (Holm, p < 0,05)."
    )
    with st.expander("Chi tiết kiểm định: tên kiểm định, p, p (Holm), khoảng tin cậy của chênh lệch"):
        st.dataframe(ui.vn_frame(criteria_frame(), DECIMALS), hide_index=True, width="stretch", placeholder="—")
        st.caption(
            "Kiểm định: hai tỷ lệ với khoảng tin cậy Newcombe khi số liệu gốc có số phiếu; nhị thức chính xác "
            "so với số công bố khi chỉ có tỷ lệ. p (Holm): đã hiệu chỉnh cho nhiều tiêu chí cùng lúc; kết "
            "luận dựa trên p (Holm) < 0,05."
        )
    st.subheader("Các yếu tố")
    st.dataframe(
        ui.vn_frame(criterion_tables.elements_table(result, baseline_rows, bands)),
        hide_index=True,
        width="stretch",
        placeholder="—",
    )

elif section == "Biểu đồ":
    table = criteria_frame()
    if table["Chỉ số (%)"].notna().any():
        chart = charts.criteria_chart(table, targets["overall"], targets["floor"], references)
        st.altair_chart(chart, width="stretch")
        png_button("biểu đồ tiêu chí", chart, "tieu-chi")
        chart = charts.likert_chart(criterion_tables.level_distribution(result), list(table["Mã"]))
        st.altair_chart(chart, width="stretch")
        png_button("biểu đồ phân bố", chart, "phan-bo")
    # The 12 months come from a roll-up (daily, or by channel, field and staff), a sum over a few
    # thousand rows, so the trend is always drawn; only with excluded responses counted in are they
    # recounted from the raw answers (seconds to tens of seconds on a large database): on request.
    wants_trend = not f.include_excluded or st.toggle(
        "Tính xu hướng 12 tháng gồm cả phiếu đã loại (đếm lại từ phiếu gốc, có thể chậm)", key="an_trend_filtered"
    )
    trend, pc = load_trend(PATH, version_key, f) if wants_trend else (None, None)
    if trend is not None and not trend.empty and trend["Chỉ số chung (%)"].notna().any():
        chart = charts.trend_chart(trend, targets["overall"], targets["floor"], references)
        st.altair_chart(chart, width="stretch")
        png_button("biểu đồ xu hướng", chart, "xu-huong")
    if pc is not None and pc["n"].sum() > 0:
        chart = charts.p_chart_chart(pc)
        st.altair_chart(chart, width="stretch")
        png_button("biểu đồ kiểm soát p", chart, "bieu-do-p")
        out = pc[pc["out_of_control"]]
        if not out.empty:
            st.text("Tháng ngoài giới hạn kiểm soát: " + ", ".join(out["month"]))
    heat = load_heatmap(PATH, version_key, f)
    if not heat.empty:
        chart = charts.heatmap_chart(heat)
        st.altair_chart(chart, width="stretch")
        png_button("bản đồ nhiệt", chart, "thu-gio")

elif section == "Góp ý":
    from sipas.index import comments as cm

    try:
        labels = cm.rules().labels
    except SipasError as exc:
        ui.show_errors(exc)
        st.stop()
    g1, g2 = st.columns([2, 1])
    query = g1.text_input("Tìm trong góp ý (có dấu hoặc không dấu)", key="an_comment_query").strip()
    topic = g2.selectbox(
        "Chủ đề",
        [None, *labels],
        format_func=lambda v: "Tất cả" if v is None else v,
        key="an_comment_topic",
        placeholder="Chọn một mục",
    )
    frame, total = load_comments(PATH, version_key, f, query, topic)
    st.text(f"{total} góp ý" + (f" (hiện {len(frame)} mới nhất)" if total > len(frame) else ""))
    if not frame.empty:
        counts = comment_list.topic_counts(frame)
        st.text("Theo chủ đề: " + "; ".join(f"{k}: {v}" for k, v in counts.items()))
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={
                "Góp ý": st.column_config.TextColumn(width="large"),
                "Đánh giá": st.column_config.TextColumn(width="medium"),
            },
            placeholder="—",
        )
        ui.safe_csv_download(frame, "Tải bảng góp ý (CSV)", "gop-y.csv", "an_comments_csv")
        st.caption(
            "Đánh giá: mức 1–5 người đó chọn cho từng tiêu chí của cùng phiếu (KYK: không ý kiến). "
            "Chủ đề gán theo từ khóa trong data/comment-topics.json."
        )

elif section == "Mong muốn":
    st.subheader("Người dân mong muốn cải thiện điều gì")
    wishes = load_expectations(PATH, version_key, f)
    if wishes is None:
        st.info("Mẫu phiếu này không có câu hỏi về mong muốn của người dân.")
        st.stop()
    st.text(wishes.question)
    if wishes.respondents == 0:
        st.info(
            "Chưa có phiếu nào trả lời câu hỏi này trong kỳ đã chọn. Máy tính bảng chỉ hỏi câu này khi "
            "dùng phiếu đầy đủ (Cài đặt → Số câu hỏi mỗi phiếu)."
        )
    else:
        st.text(f"{wishes.respondents} phiếu trả lời câu hỏi này.")
        shares = {c: 1 for c in ("% mong muốn trở lên", "% chọn", "KTC 95% thấp", "KTC 95% cao")}
        st.dataframe(
            ui.vn_frame(wishes.frame, shares),
            hide_index=True,
            width="stretch",
            column_config={"Nội dung": st.column_config.TextColumn(width="medium")},
            placeholder="—",
        )
        if wishes.mode == "rating":
            st.caption(
                "Mỗi nội dung: số phiếu chọn từng mức; % mong muốn trở lên = (Mong muốn + Rất mong muốn) / n, "
                "n là số phiếu trả lời nội dung đó; KTC 95%: khoảng tin cậy Wilson. Xếp từ được mong muốn "
                "nhiều nhất; cột Số là số thứ tự trên phiếu."
            )
        else:
            st.caption(
                "Mỗi người chọn tối đa 3 nội dung: % chọn = số người chọn / n, n là số phiếu trả lời câu hỏi "
                "này; KTC 95%: khoảng tin cậy Wilson."
            )

elif section == "Câu hỏi thêm":
    st.subheader("Các câu hỏi khác của mẫu phiếu")
    tables = load_extra_questions(PATH, version_key, f)
    if not tables:
        st.info("Mẫu phiếu này không có câu hỏi thêm.")
    for t in tables:
        st.markdown(f"**{ui.escape_md(t.question.text)}**")
        if t.respondents == 0:
            st.text("Chưa có phiếu nào trả lời câu hỏi này trong kỳ đã chọn.")
            continue
        st.text(f"{t.respondents} phiếu trả lời câu hỏi này.")
        st.dataframe(
            ui.vn_frame(t.frame, {c: 1 for c in ("% chọn", "KTC 95% thấp", "KTC 95% cao")}),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )
    if tables:
        st.caption(
            "% chọn = số phiếu chọn phương án / n, n là số phiếu trả lời câu hỏi đó; KTC 95%: khoảng tin cậy "
            "Wilson. Câu hỏi nhiều lựa chọn: một phiếu có thể chọn nhiều phương án."
        )

elif section == "Hồ sơ":
    st.subheader("Hồ sơ thủ tục hành chính bên cạnh khảo sát")
    view = load_dossiers(PATH, import_key, date_from, date_to, clock.format_ts(clock.now())[:16] + ":00")
    if view is None:
        st.info(dossier_figures.NO_DOSSIERS)
        st.stop()
    st.caption("Cả đơn vị trong kỳ đã chọn: danh sách hồ sơ không theo bộ lọc kênh, cán bộ, phiên bản phiếu.")
    st.text(dossier_figures.headline(view))
    st.markdown("**Giải quyết đúng hạn theo lĩnh vực**")
    interval = {c: 1 for c in ("Trước và đúng hạn (%)", "KTC 95% thấp", "KTC 95% cao")}
    st.dataframe(
        ui.vn_frame(dossier_figures.on_time_frame(view), interval), hide_index=True, width="stretch", placeholder="—"
    )
    st.caption(dossier_figures.ON_TIME_NOTE)
    st.markdown("**Hồ sơ trễ hạn bên cạnh mức hài lòng (câu hỏi chung, cùng lĩnh vực)**")
    st.dataframe(
        ui.vn_frame(dossier_figures.beside_frame(view), None, 1), hide_index=True, width="stretch", placeholder="—"
    )
    st.caption("Trễ hoặc quá hạn: trên số hồ sơ tiếp nhận; hài lòng: trả lời 4–5 trên số phiếu trả lời câu hỏi chung.")
    st.markdown("**Chỉ tiêu chuyển đổi số của kế hoạch**")
    for t in view.targets:
        st.text(ui.rule_line(t.title, t.verdict, t.detail))
    st.markdown("**Nhóm chỉ số hài lòng (QĐ 766/QĐ-TTg), ước tính từ dữ liệu của xã**")
    st.dataframe(
        ui.vn_frame(dossier_figures.group_frame(view), {"Tỷ lệ (%)": 1, "KTC 95% thấp": 1, "KTC 95% cao": 1}),
        hide_index=True,
        width="stretch",
        placeholder="—",
    )
    lines = dossier_figures.group_lines(view)
    for line in lines:
        (st.info if line == dossier_figures.OFFICIAL_766 else st.text)(line)
    st.markdown(f"**Hồ sơ trễ hạn hoặc quá hạn ({view.late_count})**")
    if view.late:
        st.dataframe(ui.vn_frame(dossier_figures.late_frame(view)), hide_index=True, width="stretch", placeholder="—")
        if view.late_count > len(view.late):
            st.caption(f"Chỉ hiện {len(view.late)} hồ sơ trễ hạn lâu nhất trong {view.late_count}.")
    else:
        st.text("Không có hồ sơ trễ hạn trong kỳ.")

elif section == "Kênh":
    st.subheader("Tại quầy và trên điện thoại")
    comparison, linked = load_channels(PATH, version_key, f, clock.format_ts(clock.now())[:16] + ":00")
    st.caption(channels.WHY)
    interval = {"Tỷ lệ hài lòng (%)": 1, "KTC 95% thấp": 1, "KTC 95% cao": 1}
    st.dataframe(
        ui.vn_frame(channels.channel_frame(comparison), interval), hide_index=True, width="stretch", placeholder="—"
    )
    st.caption(
        "Câu hỏi đánh giá chung: hài lòng là trả lời 4–5 trên số phiếu trả lời câu hỏi đó; KTC 95%: khoảng tin cậy "
        "Wilson. Không theo bộ lọc kênh."
    )
    st.text(comparison.sentence)
    st.markdown("**Phiếu gắn với hồ sơ (mã QR in kèm mã hồ sơ)**")
    st.text(channels.dossier_sentence(linked))
    if linked.late.n or linked.on_time.n:
        st.dataframe(
            ui.vn_frame(channels.dossier_frame(linked), interval), hide_index=True, width="stretch", placeholder="—"
        )

elif section == "Cán bộ":
    st.subheader("Yếu tố 3 (công chức) theo cán bộ")
    frame = load_staff(PATH, version_key, f, period["staff_min_n"])
    st.dataframe(ui.vn_frame(frame, DECIMALS), hide_index=True, width="stretch", placeholder="—")
    st.caption(
        f"Chỉ hiện kết quả của cán bộ có ít nhất {period['staff_min_n']} phiếu trong kỳ "
        f'("{NOT_ENOUGH_DATA}" nếu ít hơn), để một ý kiến đơn lẻ không bị đọc thành kết luận.'
    )
    st.caption(f"{staff_index.STAFF_SHRUNK_NOTE} Cột “{staff_index.STAFF_SHRUNK}”: n là số phiếu.")

elif section == "Chất lượng dữ liệu":
    hours_key = json.dumps(period["opening_hours"], sort_keys=True)
    flags = load_flags(PATH, version_key, hours_key, date_from, date_to, version)
    excluded = load_excluded(PATH, version_key, date_from, date_to, version)
    st.text(f"Trong kỳ: {len(flags)} phiếu bị đánh dấu; {len(excluded)} phiếu đã loại khỏi chỉ số.")
    if not flags.empty:
        view = flags.assign(**{"Trạng thái": flags["excluded"].map({1: "Đã loại", 0: "Đang tính"})})
        view = view[["id", "submitted_at", "channel", "device", "reasons", "Trạng thái", "exclude_reason"]].rename(
            columns={
                "id": "Mã phiếu",
                "submitted_at": "Thời gian",
                "channel": "Kênh",
                "device": "Máy",
                "reasons": "Lý do đánh dấu",
                "exclude_reason": "Lý do loại/khôi phục",
            }
        )
        view["Thời gian"] = view["Thời gian"].map(clock.format_datetime)
        view["Kênh"] = view["Kênh"].map(lambda c: selection.CHANNEL_LABELS.get(c, c))
        st.dataframe(ui.vn_frame(view), hide_index=True, width="stretch", placeholder="—")
    if excluded:
        st.subheader("Phiếu đã loại")
        st.dataframe(
            [
                {
                    "Mã phiếu": e["id"],
                    "Thời gian": clock.format_datetime(e["submitted_at"]),
                    "Lý do": e["exclude_reason"] or "—",
                    "Người loại": e["excluded_by"] or "—",
                    "Lúc": clock.format_datetime(e["excluded_at"]),
                }
                for e in excluded
            ],
            hide_index=True,
            width="stretch",
            placeholder="—",
        )
    candidates = sorted({int(e["id"]) for e in excluded} | set(int(i) for i in flags["id"][:MAX_CHOICES]))
    if candidates:
        st.subheader("Loại hoặc khôi phục")
        if len(flags) > MAX_CHOICES:
            st.caption(
                f"Chỉ chọn được trong {MAX_CHOICES} phiếu bị đánh dấu đầu tiên; thu hẹp kỳ để xem các phiếu khác."
            )
        st.multiselect(
            "Phiếu", candidates, key="an_quality_ids", placeholder="Chọn một hoặc nhiều mục", select_all=False
        )
        st.text_input("Lý do (bắt buộc, được ghi vào nhật ký)", key="an_quality_reason")
        b1, b2 = st.columns(2)

        def act(fn, done: str) -> None:
            if not ui.may_act("clerk", "chairman"):  # the session ended since this page was drawn
                return
            try:
                with ui.conn() as c:
                    n = fn(
                        c,
                        st.session_state.get("an_quality_ids") or [],
                        st.session_state.get("an_quality_reason", ""),
                        user.username,
                    )
                st.session_state["an_quality_msg"] = f"{done} {n} phiếu."
                st.session_state["an_quality_ids"] = []
                st.session_state["an_quality_reason"] = ""
            except SipasError as exc:
                st.session_state["an_quality_msg"] = None
                st.session_state["an_quality_err"] = str(exc)

        b1.button("Loại khỏi chỉ số", key="an_exclude", on_click=act, args=(quality.exclude, "Đã loại"))
        b2.button("Khôi phục", key="an_restore", on_click=act, args=(quality.restore, "Đã khôi phục"))
        if st.session_state.get("an_quality_msg"):
            st.success(st.session_state.pop("an_quality_msg"))
        if st.session_state.get("an_quality_err"):
            st.error(st.session_state.pop("an_quality_err"))
    st.caption(
        "Đánh dấu: ≥ 3 phiếu từ một máy trong 60 giây; cùng một mức cho mọi tiêu chí (≥ 5 tiêu chí) làm dưới "
        "20 giây hoặc không rõ thời gian; gửi ngoài giờ làm việc. Đánh dấu chỉ là gợi ý: cán bộ quyết định "
        "loại hay không, và mọi thay đổi được ghi nhật ký."
    )

elif section == "Báo cáo tháng":
    st.subheader("Báo cáo tháng")
    months = []
    y, m = today.year, today.month
    for _ in range(24):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        months.append(f"{y:04d}-{m:02d}")
    months.insert(0, f"{today.year:04d}-{today.month:02d}")
    month_pick = st.selectbox(
        "Tháng",
        months,
        index=1,
        key="an_report_month",
        format_func=lambda s: f"Tháng {int(s[5:])}/{s[:4]}",
        placeholder="Chọn một mục",
    )
    st.caption(
        "Báo cáo dùng phiên bản phiếu, tên đơn vị và nơi nhận theo cài đặt có hiệu lực trong tháng đó; "
        "không tính phiếu đã loại. Tệp được lập khi bấm tải."
    )

    still_logged_in = ui.session_check("clerk", "chairman")

    def build(kind_: str) -> bytes:
        still_logged_in()  # called on click, outside any script run: no page guard in between
        with ui.conn() as c:
            report = reports.build_report(c, month_pick)
        return {"xlsx": reports.to_excel, "pdf": reports.to_pdf, "docx": reports.to_docx}[kind_](report)

    formats = (
        ("xlsx", "Tải báo cáo Excel", reports.XLSX_MIME),
        ("pdf", "Tải báo cáo PDF", reports.PDF_MIME),
        ("docx", "Tải báo cáo Word (sửa và ký)", reports.DOCX_MIME),
    )
    for column, (kind, label, mime) in zip(st.columns(len(formats)), formats, strict=True):
        column.download_button(
            label,
            data=lambda kind=kind: build(kind),
            file_name=f"bao-cao-hai-long-{month_pick}.{kind}",
            mime=mime,
            on_click="ignore",
            key=f"an_report_{kind}",
        )
