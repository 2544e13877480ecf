"""Import paper/QR responses from a file, see what is stored, delete demo data.

Roles: clerk, chairman.
"""

import streamlit as st

import ui
from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import version_label
from sipas.errors import SipasError
from sipas.survey.responses import import_responses

user = ui.require_role("clerk", "chairman")
ui.roles_caption("clerk", "chairman")
st.title("Nhập dữ liệu khảo sát")

with ui.conn() as c:
    total = db.count_responses(c)
    demo = db.count_responses(c, demo=True)
    abandoned = db.count_abandoned(c)
    version = settings.get(c, "active_questionnaire")

a, b, d = st.columns(3)
a.metric("Phiếu đã lưu", f"{total:,}".replace(",", "."))
b.metric("Trong đó dữ liệu mẫu", f"{demo:,}".replace(",", "."))
d.metric("Phiếu bỏ dở (không lưu câu trả lời)", f"{abandoned:,}".replace(",", "."))

st.subheader("Nhập từ tệp CSV hoặc Excel")
st.write(
    "Mỗi dòng là một phiếu. Cột bắt buộc: `submitted_at`; các cột tiêu chí `TC1.1` … theo phiếu "
    f"đang dùng ({version_label(version)}). Nếu có một dòng lỗi, không dòng nào được lưu; nhập lại cùng một tệp "
    "không bị đếm hai lần."
)
st.caption(
    "Ngày giờ viết dạng 15/11/2026 09:00 (như Excel tiếng Việt) hoặc 2026-11-15 09:00; số có thể dùng dấu phẩy "
    "thập phân (4,0). Mỗi tệp tối đa 100.000 dòng; tệp Excel tối đa 100 MB khi giải nén, ô không được chứa công thức."
)
with st.expander("Tải tệp mẫu (dòng tiêu đề và một dòng ví dụ)"):
    from sipas.files import exports, templates

    TEMPLATE_FORMATS = (
        ("CSV", templates.csv_template, "csv", "text/csv"),
        ("Excel", templates.xlsx_template, "xlsx", exports.XLSX_MIME),
    )

    for kind, label in (
        ("responses", "Phiếu khảo sát"),
        ("baseline", "Số liệu gốc (trang Số liệu gốc)"),
        ("tickets", "Lượt lấy số (trang Thời gian chờ)"),
    ):
        for column, (fmt, make, ext, mime) in zip(st.columns(2), TEMPLATE_FORMATS, strict=True):
            column.download_button(
                f"{label}: mẫu {fmt}",
                data=make(kind, version),
                file_name=f"mau-{kind}.{ext}",
                mime=mime,
                on_click="ignore",
                key=f"tpl_{kind}_{ext}",
            )
    st.caption("Mô tả đầy đủ các cột: tệp docs/file-formats.md trong thư mục phần mềm.")
upload = st.file_uploader("Chọn tệp", type=["csv", "txt", "tsv", "xlsx", "xls"], key="responses_file")


def _import(allow_repeats: bool) -> None:
    try:
        with ui.conn() as c:
            summary = import_responses(
                c,
                upload.getvalue(),
                upload.name,
                actor=user.username,
                allow_repeats=allow_repeats,
            )
    except SipasError as exc:
        ui.show_errors(exc)
        return
    st.success(summary.message())
    # Surveys whose content an earlier file already brought: stored only when the clerk confirms.
    st.session_state["repeats_pending"] = (
        (upload.file_id, summary.repeats) if summary.repeats and not summary.repeats_stored else None
    )


if upload is not None and st.button("Nhập tệp này", type="primary", key="do_import"):
    _import(allow_repeats=False)
pending = st.session_state.get("repeats_pending")
if upload is not None and pending and pending[0] == upload.file_id:
    st.warning(
        f"{pending[1]} phiếu của tệp này có nội dung giống hệt phiếu đã nhập từ một tệp trước nên chưa được lưu "
        "(xem thông báo ở trên). Chỉ nhập cả khi chắc chắn đó là những phiếu khác nhau."
    )
    if st.button(f"Nhập cả {pending[1]} phiếu trùng", key="do_import_repeats"):
        st.session_state["repeats_pending"] = None
        _import(allow_repeats=True)

_KEPT = " Giữ lại {} vụ việc mẫu đã có người xử lý, cùng các phiếu làm bằng chứng của chúng."

if demo:
    st.subheader("Dữ liệu mẫu")
    st.write(f"Có {clock.format_number(demo, 0)} phiếu được tạo tự động để dùng thử. Xóa chúng trước khi dùng thật.")
    confirm = st.checkbox("Tôi muốn xóa toàn bộ dữ liệu mẫu", key="confirm_demo")
    if st.button("Xóa dữ liệu mẫu", disabled=not confirm, key="delete_demo"):
        with ui.conn() as c:
            n = db.delete_demo_data(c, user.username)
            kept = db.demo_cases_kept(c)
        st.success(f"Đã xóa {n} phiếu dữ liệu mẫu." + (_KEPT.format(kept) if kept else ""))
