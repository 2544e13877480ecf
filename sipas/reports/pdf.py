"""The monthly report as a PDF on A4 (fpdf2): the administrative-document form of Nghị định 30/2020/NĐ-CP
around the sections of :mod:`sipas.reports.sections`, with the charts as PNG images.

The PDF uses the bundled DejaVu fonts (``assets/fonts``), never the machine's.
"""

from __future__ import annotations

import io
import struct

from sipas.index import criterion_tables
from sipas.paths import ROOT
from sipas.reports.model import INDEX_LABEL, TITLE, MonthlyReport
from sipas.reports.sections import (
    CHARTS,
    MOTTO,
    NATIONAL_NAME,
    PDF,
    SIGNER_AUTHORITY,
    SIGNER_TITLE,
    Paragraph,
    Table,
    cell_text,
    recipients_lines,
    sections,
    subtitle,
)

FONTS_DIR = ROOT / "assets" / "fonts"
PDF_MIME = "application/pdf"
CHART_SCALE = 1.5
SIZES = {"body": 9, "note": 8, "legend": 8, "aside": 8, "emphasis": 9}  # font size of each paragraph style
TABLE_SIZE = 8


def to_pdf(r: MonthlyReport, with_charts: bool = True) -> bytes:
    """The same content as the workbook, on A4, with the charts as PNG images."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(FONTS_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{TITLE} {r.month_label}")
    pdf.set_author(r.unit_name)
    pdf.add_page()
    _letterhead(pdf, r)
    for section in sections(r, PDF):
        if section.key == CHARTS:
            if with_charts:
                _charts(pdf, section.title, _chart_pngs(r))
            continue
        _heading(pdf, section.title)
        for block in section.blocks:
            if isinstance(block, Table):
                _table(pdf, block)
            else:
                _paragraph(pdf, block)
    _signature(pdf, r)
    return bytes(pdf.output())


def _width(pdf) -> float:
    return pdf.w - pdf.l_margin - pdf.r_margin


def _heading(pdf, text: str) -> None:
    # A heading never stays alone at the foot of a page: it goes with what follows.
    if pdf.get_y() > pdf.h - pdf.b_margin - 45:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(_width(pdf), 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)


def _text(pdf, text: str, size: int) -> None:
    pdf.set_font("DejaVu", "", size)
    pdf.multi_cell(_width(pdf), 5, text, new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf, p: Paragraph) -> None:
    _text(pdf, p.text, SIZES[p.style])
    if p.style == "legend":
        pdf.ln(1)  # the legend sits just above its table


def _table(pdf, t: Table) -> None:
    from fpdf.fonts import FontFace

    heading = FontFace(emphasis="BOLD", fill_color=(221, 235, 247))
    pdf.set_font("DejaVu", "", t.size or TABLE_SIZE)
    with pdf.table(
        col_widths=t.widths, headings_style=heading, line_height=4.5, text_align="LEFT", width=_width(pdf)
    ) as table:
        for values in t.rows:
            line = table.row()
            for v in values:
                line.cell(cell_text(v))


def _letterhead(pdf, r: MonthlyReport) -> None:
    """The form's top: authority, unit and number (left), quốc hiệu, tiêu ngữ, place and date (right),
    then the title, the subtitle, the recipient and the index's full name."""
    head = r.letterhead
    width = _width(pdf)
    top = pdf.get_y()
    left_w, right_w = width * 0.42, width * 0.58
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(left_w, 5, head.authority, align="C", new_x="LMARGIN", new_y="NEXT")
    if head.unit:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(left_w, 5, head.unit, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(left_w, 6, head.number, align="C", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left_w, top)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(right_w, 5, NATIONAL_NAME, align="C", new_x="LEFT", new_y="NEXT")
    pdf.multi_cell(right_w, 5, MOTTO, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(right_w, 6, head.place_date, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 4)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, head.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(width, 6, subtitle(r), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _text(pdf, f"Kính gửi: {r.recipient}", 10)
    _text(pdf, INDEX_LABEL, 9)


def _signature(pdf, r: MonthlyReport) -> None:
    """Nơi nhận (left) and the signer (right), kept together on one page."""
    width = _width(pdf)
    if pdf.get_y() + 30 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(width * 0.5, 5, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for line in recipients_lines(r):
        pdf.multi_cell(width * 0.5, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + width * 0.5, top)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width * 0.5, 5, f"{SIGNER_AUTHORITY}\n{SIGNER_TITLE}", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width * 0.5, 5, "(Ký, ghi rõ họ tên, đóng dấu)", align="C", new_x="LMARGIN", new_y="NEXT")


def _charts(pdf, title: str, pngs: list[bytes]) -> None:
    """The charts, two to a page, the heading on the page of the first one."""
    width = _width(pdf)
    chart_w = width * 0.8  # two charts fit on a page; full width would leave one per page

    def chart_height(png: bytes) -> float:
        px_w, px_h = struct.unpack(">II", png[16:24])  # the PNG header's IHDR width and height
        return chart_w * px_h / px_w

    if pngs and pdf.get_y() + 12 + chart_height(pngs[0]) > pdf.h - pdf.b_margin:
        pdf.add_page()  # the heading goes with its first chart
    _heading(pdf, title)
    for png in pngs:
        if pdf.get_y() + chart_height(png) > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.image(io.BytesIO(png), w=chart_w, x=pdf.l_margin + (width - chart_w) / 2)
        pdf.ln(3)


def _chart_pngs(r: MonthlyReport) -> list[bytes]:
    from sipas.reports import charts

    out = []
    floor, target = r.targets["floor"], r.targets["overall"]
    if r.criteria["Chỉ số (%)"].notna().any():
        out.append(charts.to_png(charts.criteria_chart(r.criteria, target, floor), CHART_SCALE))
        out.append(
            charts.to_png(
                charts.likert_chart(criterion_tables.level_distribution(r.result), list(r.criteria["Mã"])), CHART_SCALE
            )
        )
    if not r.trend.empty and r.trend["Chỉ số chung (%)"].notna().any():
        out.append(charts.to_png(charts.trend_chart(r.trend, target, floor), CHART_SCALE))
    if not r.pchart.empty and r.pchart["n"].sum() > 0:
        out.append(charts.to_png(charts.p_chart_chart(r.pchart), CHART_SCALE))
    return out
