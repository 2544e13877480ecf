"""The monthly report as an editable Word file (python-docx) in the administrative-document form of
Nghị định 30/2020/NĐ-CP: letterhead, title, the numbered sections of :mod:`sipas.reports.sections`,
nơi nhận and the signer's block. Communes edit and sign reports in Word.
"""

from __future__ import annotations

import io

from sipas.reports.model import TITLE, MonthlyReport
from sipas.reports.sections import (
    MOTTO,
    NATIONAL_NAME,
    SIGNER_AUTHORITY,
    SIGNER_TITLE,
    WORD,
    Paragraph,
    Table,
    cell_text,
    recipients_lines,
    sections,
    subtitle,
)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
# Each paragraph style as keyword arguments of _line (font size None: the document's 13 pt).
STYLES = {
    "body": {"after": 3},
    "note": {"size": 11, "after": 3},
    "legend": {"size": 11, "after": 3},
    "aside": {"italic": True, "size": 11},
    "emphasis": {"italic": True, "after": 3},
}
TABLE_SIZE = 11


def to_docx(r: MonthlyReport) -> bytes:
    """The report as an editable Word file in the administrative-document form (Nghị định 30/2020/NĐ-CP):
    letterhead, title, the figures with their criteria statements, nơi nhận and the signer's block.
    Every number is written with a decimal comma."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)  # NĐ 30: left 30–35 mm, right 15–20 mm
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    doc.core_properties.title = f"{TITLE} {r.month_label}"
    doc.core_properties.author = r.unit_name

    _letterhead(doc, r)
    for i, part in enumerate(sections(r, WORD)):
        _line(doc, f"{ROMAN[i]}. {part.title.upper()}", bold=True, after=3)
        for block in part.blocks:
            if isinstance(block, Table):
                _table(doc, block)
            else:
                _paragraph(doc, block)
    _signature(doc, r)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _line(cell_or_doc, text: str, *, bold=False, italic=False, size=None, align=None, after=0):
    from docx.shared import Pt

    p = cell_or_doc.add_paragraph()
    run = p.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(after)
    return p


def _paragraph(doc, p: Paragraph) -> None:
    _line(doc, p.text, **STYLES[p.style])


def _table(doc, t: Table) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=len(t.rows), cols=len(t.rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, values in enumerate(t.rows):
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.text = ""
            run = cell.paragraphs[0].add_run(cell_text(value))
            run.font.size = Pt(t.size or TABLE_SIZE)
            run.bold = i == 0
            cell.width = Cm(t.widths[j])
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _borderless_pair(doc):
    """A one-row, two-column table without borders (the letterhead's and the signature's layout)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = doc.add_table(rows=1, cols=2)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    right.paragraphs[0].text = ""
    return left, right


def _letterhead(doc, r: MonthlyReport) -> None:
    """Authority, unit and number (left), quốc hiệu, tiêu ngữ, place and date (right); title, Kính gửi."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    head = r.letterhead
    centre = WD_ALIGN_PARAGRAPH.CENTER
    left, right = _borderless_pair(doc)
    left.width, right.width = Cm(6.5), Cm(9.5)
    _line(left, head.authority, size=12, align=centre)
    if head.unit:
        _line(left, head.unit, bold=True, size=12, align=centre)
    _line(left, head.number, size=13, align=centre)
    _line(right, NATIONAL_NAME, bold=True, size=12, align=centre)
    _line(right, MOTTO, bold=True, size=13, align=centre)
    _line(right, head.place_date, italic=True, size=13, align=centre)

    _line(doc, head.title, bold=True, size=14, align=centre)
    _line(doc, subtitle(r), bold=True, align=centre, after=6)
    _line(doc, f"Kính gửi: {r.recipient}", align=centre, after=6)


def _signature(doc, r: MonthlyReport) -> None:
    """Nơi nhận (left) and the signer's block (right)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    centre = WD_ALIGN_PARAGRAPH.CENTER
    left, right = _borderless_pair(doc)
    _line(left, "Nơi nhận:", bold=True, italic=True, size=12)
    for text in recipients_lines(r):
        _line(left, text, size=11)
    _line(right, SIGNER_AUTHORITY, bold=True, size=13, align=centre)
    _line(right, SIGNER_TITLE, bold=True, size=13, align=centre)
    _line(right, "(Ký, ghi rõ họ tên, đóng dấu)", italic=True, size=12, align=centre, after=60)
