"""The monthly report as an Excel workbook (xlsxwriter), one sheet per part of the report.

Safety: text typed by citizens or staff never becomes a formula or a link — every string is written with
``write_string`` and the workbook refuses to convert strings (a comment "=1+1" stays the text "=1+1").
"""

from __future__ import annotations

import io

import pandas as pd

from sipas import clock
from sipas.files import exports
from sipas.index import dossiers as dossier_figures
from sipas.index import staff_index
from sipas.reports.model import (
    INDEX_LABEL,
    STATUS,
    TITLE,
    MonthlyReport,
    case_count_rows,
    exclusions_frame,
    number,
    summary_rows,
    trend_frame,
)

XLSX_MIME = exports.XLSX_MIME
SHEETS = (
    "Tổng hợp",
    "Tiêu chí",
    "Xu hướng theo tháng",
    "Góp ý",
    "Chất lượng dữ liệu",
    "Phản ánh và khắc phục",
    "Cán bộ",
    "Mong muốn",
    "Hồ sơ và QĐ 766",
    "Phiếu",
)


def to_excel(r: MonthlyReport) -> bytes:
    """The workbook: summary + rule checklist, criteria, monthly trend, comments, data-quality exclusions."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top", "border": 1})
    num2 = wb.add_format({"num_format": "0.00"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    def cell(ws, row: int, col: int, value, fmt=None) -> None:
        if isinstance(value, bool):
            ws.write_string(row, col, "Có" if value else "Không", fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)  # never a formula, a link or a number
        elif number(value) is not None and not isinstance(value, str):
            v = float(value)
            ws.write_number(row, col, v, fmt or (num2 if not v.is_integer() else None))
        else:
            ws.write_blank(row, col, None, fmt)

    def table(ws, top: int, frame: pd.DataFrame, widths: dict[str, int] | None = None, *, vietnamese=True) -> int:
        """Write ``frame`` from row ``top``; stored times, dates and months in the Vietnamese way unless
        ``vietnamese=False`` (the sheet of responses keeps the import's ISO columns, so it reads back)."""
        for j, name in enumerate(frame.columns):
            ws.write_string(top, j, str(name), head)
            ws.set_column(
                j,
                j,
                (widths or {}).get(name, max(10, min(40, len(str(name)) + 2))),
                wrap if (widths or {}).get(name, 0) >= 40 else None,
            )
        for i, row in enumerate(frame.itertuples(index=False), start=top + 1):
            for j, value in enumerate(row):
                cell(ws, i, j, clock.format_stored(value) if vietnamese else value)
        return top + len(frame) + 1

    ws = wb.add_worksheet(SHEETS[0])
    ws.set_column(0, 0, 48)
    ws.set_column(1, 1, 60)
    ws.write_string(0, 0, f"{TITLE} {r.month_label}", title)
    ws.write_string(1, 0, INDEX_LABEL)
    # The findings first, in sentences, each in one merged row across the two columns.
    row = 3
    for line in r.findings:
        ws.merge_range(row, 0, row, 1, "", wrap)
        ws.write_string(row, 0, line, wrap)
        ws.set_row(row, 15 * (1 + len(line) // 100))
        row += 1
    row += 1 if r.findings else 0
    for label, value in summary_rows(r):
        ws.write_string(row, 0, label, bold)
        cell(ws, row, 1, value)
        row += 1
    row += 1
    ws.write_string(row, 0, "Yêu cầu của kế hoạch", title)
    row += 1
    for j, name in enumerate(("Yêu cầu", "Kết quả", "Chưa đạt ở")):
        ws.write_string(row, j, name, head)
    ws.set_column(2, 2, 60)
    for rule, ok, detail in r.checklist:
        row += 1
        ws.write_string(row, 0, rule)
        ws.write_string(row, 1, STATUS[ok])
        ws.write_string(row, 2, detail if ok is not True else "", wrap)
    row += 2
    ws.write_string(row, 0, "Các yếu tố", title)
    table(ws, row + 1, r.elements)

    ws = wb.add_worksheet(SHEETS[1])
    table(ws, 0, r.criteria, {"Tiêu chí": 60, "Kiểm định": 30, "Kết luận": 26})
    ws.freeze_panes(1, 1)

    ws = wb.add_worksheet(SHEETS[2])
    table(ws, 0, trend_frame(r))
    ws.freeze_panes(1, 1)

    ws = wb.add_worksheet(SHEETS[3])
    end = table(ws, 0, r.comments, {"Góp ý": 70, "Đánh giá": 45, "Chủ đề": 28, "Thời gian": 20})
    if r.comments_total > len(r.comments):
        ws.write_string(end + 1, 0, f"Chỉ ghi {len(r.comments)} góp ý mới nhất trong tổng số {r.comments_total}.")
    ws.freeze_panes(1, 0)

    ws = wb.add_worksheet(SHEETS[4])
    table(ws, 0, exclusions_frame(r), {"Lý do loại": 40, "Góp ý": 50, "Thời gian": 20})

    ws = wb.add_worksheet(SHEETS[5])
    ws.set_column(0, 0, 32)
    for i, (label, value) in enumerate(case_count_rows(r)):
        ws.write_string(i, 0, label, bold)
        cell(ws, i, 1, value)
    top = len(case_count_rows(r)) + 1
    ws.write_string(top, 0, "Lịch sử thay đổi trong tháng (không thể sửa, xóa)", title)
    table(ws, top + 1, r.case_history, {"Ghi chú": 70, "Lúc": 20, "Việc": 22, "Từ": 22, "Sang": 22})

    ws = wb.add_worksheet(SHEETS[6])
    end = table(ws, 0, r.staff, {"Họ tên": 28, "Ghi chú": 20})
    ws.write_string(end + 1, 0, staff_index.STAFF_MEASURE_NOTE)
    ws.write_string(end + 2, 0, f"Chỉ ghi kết quả của cán bộ có ít nhất {r.staff_min_n} phiếu trong tháng.")
    ws.write_string(end + 3, 0, staff_index.STAFF_SHRUNK_NOTE + " n là số phiếu.")

    ws = wb.add_worksheet(SHEETS[7])
    wishes = r.expectations
    if wishes is not None:
        ws.write_string(0, 0, wishes.question)
        ws.write_string(1, 0, f"{wishes.respondents} phiếu trả lời câu hỏi này trong tháng.")
        if wishes.respondents:
            end = table(ws, 3, wishes.frame, {"Nội dung": 70})
            share = "(Mong muốn + Rất mong muốn) / n" if wishes.mode == "rating" else "số người chọn / n"
            ws.write_string(end + 1, 0, f"Tỷ lệ = {share}; KTC 95%: khoảng tin cậy Wilson.")

    ws = wb.add_worksheet(SHEETS[8])
    _dossier_sheet(ws, r, table, title)

    # Every response of the month with the columns of a responses file (criteria and extra questions by code).
    ws = wb.add_worksheet(SHEETS[9])
    table(ws, 0, r.raw, {"submitted_at": 19, "comment": 60}, vietnamese=False)
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


def _dossier_sheet(ws, r: MonthlyReport, table, title) -> None:
    """The dossier log of the month: on time per lĩnh vực, digital targets, QĐ 766, beside the survey, late list."""
    v = r.dossiers
    ws.set_column(0, 0, 40)
    if v is None:
        ws.write_string(0, 0, dossier_figures.NO_DOSSIERS)
        return
    ws.write_string(0, 0, dossier_figures.headline(v))
    end = table(ws, 2, dossier_figures.on_time_frame(v), {"Lĩnh vực": 30})
    ws.write_string(end, 0, dossier_figures.ON_TIME_NOTE)
    row = end + 2
    ws.write_string(row, 0, "Chỉ tiêu chuyển đổi số", title)
    targets = pd.DataFrame(
        [[t.title, t.verdict_text, t.share.satisfied, t.share.n, t.detail] for t in v.targets],
        columns=["Chỉ tiêu", "Kết quả", "Đạt", "n", "Số liệu"],
    )
    row = table(ws, row + 1, targets, {"Chỉ tiêu": 40}) + 1
    ws.write_string(row, 0, "Nhóm chỉ số hài lòng (QĐ 766/QĐ-TTg), ước tính tháng", title)
    row = table(ws, row + 1, dossier_figures.group_frame(v), {"Tỷ lệ": 40})
    for line in dossier_figures.group_lines(v):
        ws.write_string(row, 0, line)
        row += 1
    row += 1
    ws.write_string(row, 0, "Hồ sơ trễ hạn bên cạnh mức hài lòng (câu hỏi chung, cùng lĩnh vực, cùng tháng)", title)
    row = table(ws, row + 1, dossier_figures.beside_frame(v), {"Lĩnh vực": 40}) + 1
    ws.write_string(row, 0, f"Hồ sơ trễ hạn hoặc quá hạn ({v.late_count})", title)
    end = table(ws, row + 1, dossier_figures.late_frame(v), {"Thủ tục": 40})
    if v.late_count > len(v.late):
        ws.write_string(end + 1, 0, f"Chỉ ghi {len(v.late)} hồ sơ trong tổng số {v.late_count}.")
