"""Overview: the index of a period against the plan's targets and the baseline, with n and intervals.

Roles: clerk, chairman. The tests, trends, charts and comments are on the analysis page (app_pages/analysis.py).
"""

from datetime import date

import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import questionnaires, version_label
from sipas.catalog.crosswalk import counterparts
from sipas.index import baseline, comparison, criterion_tables, periods, plan_checks, scoring

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Tổng quan chỉ số hài lòng")

today = clock.today()
with ui.conn() as c:
    years = db.baseline_years(c)

versions = sorted(questionnaires())
left, right = st.columns(2)
period = left.selectbox(
    "Kỳ",
    ["Tháng trước", "Tháng này", "Quý này", "Năm nay", "Toàn bộ", "Tùy chọn"],
    key="ov_period",
    placeholder="Chọn một mục",
)
if period == "Tháng trước":  # the last complete month, as the analysis page opens on
    start = clock.month_start(today, -1)
    end = clock.month_end(start)
elif period == "Tháng này":
    start, end = clock.month_start(today), today
elif period == "Quý này":
    start, end = clock.quarter_bounds(today.year, clock.quarter_of(today))[0], today
elif period == "Năm nay":
    start, end = date(today.year, 1, 1), today
elif period == "Tùy chọn":
    picked = st.date_input("Từ ngày – đến ngày", (date(today.year, 1, 1), today), format="DD/MM/YYYY", key="ov_range")
    start, end = (picked[0], picked[-1]) if picked else (None, None)
else:
    start = end = None

with ui.conn() as c:
    default = periods.default_version(c, start and start.isoformat(), end and end.isoformat())
    form_counts = periods.version_counts(c, start and start.isoformat(), end and end.isoformat())
version = right.selectbox(
    "Phiên bản phiếu",
    versions,
    index=versions.index(default),
    key="ov_version",
    format_func=version_label,
    placeholder="Chọn một mục",
)

if any(n and v != version for v, n in form_counts.items()):
    st.info(
        periods.coverage_sentence(form_counts, version)
        + " Chọn «Phiên bản phiếu» ở trên để xem các phiếu của mẫu khác."
    )

with ui.conn() as c:
    result = scoring.index_for_period(c, version, start and start.isoformat(), end and end.isoformat())
    targets = settings.get(c, "targets", end or today)
    bands = settings.get(c, "bands", end or today)
    unit = settings.get(c, "unit_name", end or today)
    baseline_rows = []
    if years:
        options = [None, *years]
        choice = st.selectbox(
            "So với số liệu gốc",
            options,
            index=options.index(baseline.baseline_for_period(c, start and start.isoformat(), version)),
            key="ov_base",
            format_func=lambda b: "Không so sánh" if b is None else f"{b[0]} ({version_label(b[1])})",
            placeholder="Chọn một mục",
        )
        if choice is not None:
            base_version = choice[1]
            baseline_rows = db.baseline_rows(c, *choice)

st.caption(
    f"{ui.escape_md(unit)} · Chỉ số hài lòng về cung ứng dịch vụ hành chính công (phương pháp SIPAS) · "
    f"{result.responses} phiếu hợp lệ"
)

if result.responses == 0:
    st.info("Chưa có phiếu nào trong kỳ này.")
    st.stop()
if end is not None and end >= today:
    st.info(f"Kỳ này chưa kết thúc: số liệu tính đến hôm nay {clock.format_date(today)}; kết quả còn thay đổi.")

ui.index_metrics(result, criterion_tables.baseline_overall(baseline_rows), targets)

st.subheader("Ba yêu cầu của kế hoạch")
warning = plan_checks.small_sample_warning(result)
if warning:
    st.warning(warning)
for rule, ok, detail in plan_checks.rule_checklist(result, targets, bands):
    st.text(ui.rule_line(rule, ok, detail))

st.subheader("Các yếu tố")
base_el = {r["code"]: r["index_value"] for r in baseline_rows if r["level"] == "element"}
st.dataframe(
    ui.vn_frame(
        [
            {
                "Yếu tố": f"{e.code}. {e.name}",
                "Chỉ số (%)": e.index,
                "Gốc (%)": base_el.get(e.code),
                "Xếp loại": comparison.band(e.index, bands),
            }
            for e in result.elements
        ]
    ),
    hide_index=True,
    width="stretch",
    placeholder="—",
)

st.subheader("Các tiêu chí (yếu nhất trước)")
if baseline_rows and base_version != version:
    crossed = base_version in questionnaires() and counterparts(version, base_version) is not None
    st.caption(
        f"Số liệu gốc thuộc {version_label(base_version)}, khác {version_label(version)}: "
        + (
            "tiêu chí so sánh theo bảng đối chiếu (cột “So sánh với gốc”)."
            if crossed
            else "chỉ so sánh ở cấp yếu tố và chung."
        )
    )
frame = criterion_tables.criteria_table(result, baseline_rows, bands)[
    [
        "Mã",
        "Tiêu chí",
        "Chỉ số (%)",
        "n",
        "KTC 95% thấp",
        "KTC 95% cao",
        "Gốc (%)",
        "Chênh lệch (điểm %)",
        "Xếp loại",
        "So sánh với gốc",
    ]
]
st.dataframe(
    ui.vn_frame(frame, {"KTC 95% thấp": 1, "KTC 95% cao": 1}), hide_index=True, width="stretch", placeholder="—"
)
