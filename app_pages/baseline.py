"""The baseline (e.g. the 2023 report): typed in, uploaded, or computed from stored responses.

Roles: clerk, chairman.
"""

import pandas as pd
import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import questionnaires, version_label
from sipas.errors import SipasError
from sipas.index import baseline

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Số liệu gốc để so sánh")
st.write(
    "Nhập các chỉ số đã công bố của một năm trước (ví dụ báo cáo năm 2023) ở bất kỳ cấp nào: chung, "
    "yếu tố, tiêu chí; có số phiếu (n) và số phiếu hài lòng thì nhập thêm để kiểm định chính xác hơn. "
    "Số liệu gốc của phiếu khác phiên bản chỉ được so sánh ở cấp yếu tố và chung."
)

with ui.conn() as c:
    active = settings.get(c, "active_questionnaire")
    sets = db.baseline_years(c)

LEVEL_LABELS = {"overall": "Chỉ số chung", "element": "Yếu tố", "criterion": "Tiêu chí"}
SOURCE_LABELS = {"manual": "Nhập tay", "computed": "Tính từ phiếu", "file": "Tệp", "import": "Tệp"}

tab_type, tab_file, tab_compute = st.tabs(["Gõ vào bảng", "Tải tệp lên", "Tính từ phiếu đã lưu"])
versions = sorted(questionnaires())

with tab_type:
    template = pd.DataFrame(
        [
            {
                "year": 2023,
                "questionnaire": active,
                "level": "overall",
                "code": "",
                "index": None,
                "n": None,
                "satisfied": None,
            },
        ]
        + [
            {
                "year": 2023,
                "questionnaire": active,
                "level": "element",
                "code": str(i),
                "index": None,
                "n": None,
                "satisfied": None,
            }
            for i in range(1, 6)
        ]
    )
    edited = st.data_editor(
        template,
        num_rows="dynamic",
        key="baseline_editor",
        width="stretch",
        hide_index=True,
        column_config={
            "year": st.column_config.NumberColumn("Năm", format="%d"),
            "questionnaire": st.column_config.SelectboxColumn("Phiếu", options=versions),
            "level": st.column_config.SelectboxColumn(
                "Cấp",
                options=list(baseline.LEVELS),
                format_func=lambda v: LEVEL_LABELS.get(v, v),
                width="medium",  # "Chỉ số chung" in full
            ),
            "code": st.column_config.TextColumn("Mã (TC3.1, 3 hoặc trống)"),
            "index": st.column_config.NumberColumn("Chỉ số (%)", min_value=0.0, max_value=100.0),
            "n": st.column_config.NumberColumn("n", min_value=0, format="%d"),
            "satisfied": st.column_config.NumberColumn("Số hài lòng", min_value=0, format="%d"),
        },
        placeholder="",
    )
    if st.button("Lưu bảng", type="primary", key="save_typed"):
        # A row without an index is left out as an empty line (skipped by the validation), so the
        # problems still name the row numbers the clerk sees in the table.
        records = [
            r if r.get("index") is not None and r["index"] == r["index"] else {} for r in edited.to_dict("records")
        ]
        try:
            rows = baseline.validate_baseline_table(baseline.table_from_records(records), "bảng nhập tay")
            with ui.conn() as c:
                st.success(baseline.save_baseline(c, rows, "manual", user.username, "bảng nhập tay").message())
        except SipasError as exc:
            ui.show_errors(exc)

with tab_file:
    st.write("Tệp CSV/XLSX với các cột `year, questionnaire, level, code, index` và tùy chọn `n, satisfied`.")
    upload = st.file_uploader("Chọn tệp số liệu gốc", type=["csv", "txt", "tsv", "xlsx", "xls"], key="baseline_file")
    if upload is not None and st.button("Nhập tệp này", type="primary", key="import_baseline"):
        try:
            with ui.conn() as c:
                st.success(baseline.import_baseline(c, upload.getvalue(), upload.name, user.username).message())
        except SipasError as exc:
            ui.show_errors(exc)

with tab_compute:
    year = st.number_input(
        "Năm", min_value=2000, max_value=clock.today().year, value=clock.today().year - 1, step=1, key="compute_year"
    )
    version = st.selectbox(
        "Phiếu",
        versions,
        index=versions.index(active),
        key="compute_version",
        format_func=version_label,
        placeholder="Chọn một mục",
    )
    if st.button("Tính và lưu làm số liệu gốc", type="primary", key="compute_baseline"):
        try:
            with ui.conn() as c:
                rows = baseline.baseline_from_responses(c, int(year), version)
                st.success(baseline.save_baseline(c, rows, "computed", user.username).message())
        except SipasError as exc:
            ui.show_errors(exc)

st.subheader("Số liệu gốc đã lưu")
with ui.conn() as c:
    stored = db.baseline_rows(c)
if not stored:
    st.info("Chưa có số liệu gốc.")
else:
    st.dataframe(
        ui.vn_frame(
            pd.DataFrame(
                [
                    {
                        "Năm": r["year"],
                        "Phiếu": r["questionnaire"],
                        "Cấp": LEVEL_LABELS.get(r["level"], r["level"]),
                        "Mã": r["code"] or "—",
                        "Chỉ số (%)": r["index_value"],
                        "n": r["n"],
                        "Số hài lòng": r["satisfied"],
                        "Nguồn": SOURCE_LABELS.get(r["source"], r["source"] or "—"),
                        "Cập nhật": clock.format_datetime(r["updated_at"]),
                    }
                    for r in stored
                ]
            ),
            {"n": 0, "Số hài lòng": 0},
        ),
        hide_index=True,
        width="stretch",
        placeholder="—",
    )
