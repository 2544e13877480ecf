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
    ISSUER_RULE_SHARE,
    MOTTO,
    NATIONAL_NAME,
    PDF,
    SIGNER_AUTHORITY,
    SIGNER_TITLE,
    Paragraph,
    Section,
    Table,
    balanced_lines,
    cell_text,
    closing,
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
    parts = sections(r, PDF)
    last = parts[-1]
    kept = _kept_with_signature(last)
    for section in parts:
        if section.key == CHARTS:
            if with_charts:
                _charts(pdf, section.title, _chart_pngs(r))
            continue
        blocks = section.blocks[: len(section.blocks) - len(kept)] if section is last else section.blocks
        if section is not last or blocks:
            _heading(pdf, section.title)
        for block in blocks:
            if isinstance(block, Table):
                _table(pdf, block)
            else:
                _paragraph(pdf, block)
    _closing(pdf, r, last.title if len(kept) == len(last.blocks) else None, [*kept, closing(r)])
    return bytes(pdf.output())


def _width(pdf) -> float:
    return pdf.w - pdf.l_margin - pdf.r_margin


def _heading(pdf, text: str, keep_with: float = 45) -> None:
    # A heading never stays alone at the foot of a page: it goes with what follows (``keep_with`` mm of it).
    if keep_with and pdf.get_y() > pdf.h - pdf.b_margin - keep_with:
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
    """The form's top (Nghị định 30/2020, Phụ lục I): the superior body, the issuer in bold with a short line
    under it and the number (left); quốc hiệu, tiêu ngữ with a line as long as it, place and date (right);
    then the title, the subtitle, the recipient and the index's full name. Names break only between whole
    phrases, on lines as even as they can be."""
    head = r.letterhead
    width = _width(pdf)
    top = pdf.get_y()
    left_w, right_w = width * 0.42, width * 0.58
    left_x, right_x = pdf.l_margin, pdf.l_margin + left_w
    if head.superior:
        pdf.set_font("DejaVu", "", 10)
        _centred(pdf, left_x, left_w, head.superior, 5)
    pdf.set_font("DejaVu", "B", 10)
    issuer_w = _centred(pdf, left_x, left_w, head.issuer, 5)
    _rule(pdf, left_x, left_w, issuer_w * ISSUER_RULE_SHARE)
    pdf.set_font("DejaVu", "", 10)
    pdf.set_x(left_x)
    pdf.multi_cell(left_w, 6, head.number, align="C", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_y(top)
    pdf.set_font("DejaVu", "B", 10)
    _centred(pdf, right_x, right_w, [NATIONAL_NAME], 5)
    motto_w = _centred(pdf, right_x, right_w, [MOTTO], 5)
    _rule(pdf, right_x, right_w, motto_w)
    pdf.set_font("DejaVu", "", 10)
    pdf.set_x(right_x)
    pdf.multi_cell(right_w, 6, head.place_date, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 4)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, head.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(width, 6, subtitle(r), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _text(pdf, f"Kính gửi: {r.recipient}", 10)
    _text(pdf, INDEX_LABEL, 9)


def _centred(pdf, x: float, w: float, phrases, h: float) -> float:
    """``phrases`` centred in the column [x, x + w], broken only between phrases; the widest line's width."""
    lines = balanced_lines(phrases, pdf.get_string_width, w - 2 * pdf.c_margin)
    for line in lines:
        pdf.set_x(x)
        pdf.multi_cell(w, h, line, align="C", new_x="LEFT", new_y="NEXT")
    return max((pdf.get_string_width(line) for line in lines), default=0.0)


def _rule(pdf, x: float, w: float, length: float) -> None:
    """A thin line of ``length`` centred in the column [x, x + w], just under the text above."""
    y = pdf.get_y() + 0.6
    pdf.set_line_width(0.3)
    pdf.line(x + (w - length) / 2, y, x + (w + length) / 2, y)
    pdf.set_line_width(0.2)  # fpdf2's default, which the tables use
    pdf.set_y(y + 1.4)


SIGNING_SPACE = 22  # mm left under the signer's block for the signature, the seal and the name


def _kept_with_signature(last: Section) -> list[Paragraph]:
    """The end of the last section that goes onto the signature's page: its last block, when a paragraph."""
    return [last.blocks[-1]] if last.blocks and isinstance(last.blocks[-1], Paragraph) else []


def _closing(pdf, r: MonthlyReport, heading: str | None, paragraphs: list[Paragraph]) -> None:
    """The last paragraphs (and their heading, when they are all its section holds), nơi nhận and the signer,
    on one page: when they do not fit under what is already there, they start a new page together, so no
    page holds only the signature block."""
    with pdf.offset_rendering() as trial:
        _closing_block(trial, r, heading, paragraphs)
    if trial.page_break_triggered:
        pdf.add_page()
    _closing_block(pdf, r, heading, paragraphs)


def _closing_block(pdf, r: MonthlyReport, heading: str | None, paragraphs: list[Paragraph]) -> None:
    if heading:
        _heading(pdf, heading, keep_with=0)
    for p in paragraphs:
        _paragraph(pdf, p)
    _signature(pdf, r)


def _signature(pdf, r: MonthlyReport) -> None:
    """Nơi nhận (left) and the signer (right) with room to sign under it."""
    width = _width(pdf)
    pdf.ln(6)
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(width * 0.5, 5, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for line in recipients_lines(r):
        pdf.multi_cell(width * 0.5, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width * 0.5, top)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width * 0.5, 5, f"{SIGNER_AUTHORITY}\n{SIGNER_TITLE}", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width * 0.5, 5, "(Ký, ghi rõ họ tên, đóng dấu)", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y() + SIGNING_SPACE))


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
