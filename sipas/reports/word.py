"""The monthly report as an editable Word file (python-docx) in the administrative-document form of
Nghị định 30/2020/NĐ-CP: letterhead, title, the numbered sections of :mod:`sipas.reports.sections`,
nơi nhận and the signer's block. Communes edit and sign reports in Word.
"""

from __future__ import annotations

import io

from sipas.reports.model import TITLE, MonthlyReport
from sipas.reports.sections import (
    ISSUER_RULE_SHARE,
    MOTTO,
    NATIONAL_NAME,
    SIGNER_AUTHORITY,
    SIGNER_TITLE,
    WORD,
    Paragraph,
    Table,
    balanced_lines,
    cell_text,
    closing,
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
    # The body's end stays with the closing sentence and the signature: its last paragraph, or the last row
    # of a table that ends it (and the spacer under that table).
    if isinstance(block, Table):
        for cell in doc.tables[-1].rows[-1].cells:
            _keep_with_next(cell.paragraphs[-1])
    _keep_with_next(doc.paragraphs[-1])
    _keep_with_next(_paragraph(doc, closing(r)))
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


def _paragraph(doc, p: Paragraph):
    return _line(doc, p.text, **STYLES[p.style])


def _keep_with_next(p) -> None:
    """Word keeps ``p`` whole and on the page of what follows it (the closing paragraphs and the signature)."""
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.keep_together = True


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


# Word lays out the text itself: the names are broken where a conservative estimate of Times New Roman's
# width (in em, upper case wider) says a line would not fit, always between whole phrases.
CELL_PADDING_CM = 0.4  # a cell's default left and right margins, with room to spare
LETTERHEAD_CM = (6.5, 9.5)  # the letterhead's two columns


def _estimated_cm(text: str, size: float) -> float:
    """About how wide ``text`` is in Times New Roman of ``size`` pt (a little wider than it really is)."""
    em = sum(0.25 if c == " " else 0.74 if c.isupper() else 0.5 for c in text)
    return em * size * 2.54 / 72


def _lines(cell, phrases, cell_cm: float, size: float, *, bold: bool) -> float:
    """``phrases`` in ``cell``, centred, one paragraph with a line break between lines that end only between
    phrases; the widest line's estimated width in cm."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    lines = balanced_lines(phrases, lambda t: _estimated_cm(t, size), cell_cm - CELL_PADDING_CM)
    p = _line(cell, "", size=size, align=WD_ALIGN_PARAGRAPH.CENTER)
    p.runs[0].text = "\n".join(lines)  # python-docx writes each "\n" as a line break
    p.runs[0].bold = bold
    return max((_estimated_cm(line, size) for line in lines), default=0.0)


def _rule(cell, cell_cm: float, length_cm: float) -> None:
    """A short line of ``length_cm`` centred in ``cell``: an empty paragraph with a bottom border, indented
    from both sides (Word draws a paragraph's border between its indents)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    p = _line(cell, "", size=2, align=WD_ALIGN_PARAGRAPH.CENTER, after=4)
    indent = Cm(max((cell_cm - CELL_PADDING_CM / 2 - length_cm) / 2, 0))
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = indent
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    p._p.get_or_add_pPr().append(border)


def _letterhead(doc, r: MonthlyReport) -> None:
    """The superior body, the issuer in bold with a short line under it and the number (left); quốc hiệu,
    tiêu ngữ with a line as long as it, place and date (right); title, Kính gửi (Nghị định 30/2020,
    Phụ lục I)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    head = r.letterhead
    centre = WD_ALIGN_PARAGRAPH.CENTER
    left_cm, right_cm = LETTERHEAD_CM
    left, right = _borderless_pair(doc)
    left.width, right.width = Cm(left_cm), Cm(right_cm)
    if head.superior:
        _lines(left, head.superior, left_cm, 12, bold=False)
    issuer_cm = _lines(left, head.issuer, left_cm, 12, bold=True)
    _rule(left, left_cm, issuer_cm * ISSUER_RULE_SHARE)
    _line(left, head.number, size=13, align=centre)
    _line(right, NATIONAL_NAME, bold=True, size=12, align=centre)
    _line(right, MOTTO, bold=True, size=13, align=centre)
    _rule(right, right_cm, _estimated_cm(MOTTO, 13))
    _line(right, head.place_date, italic=True, size=13, align=centre)

    _line(doc, head.title, bold=True, size=14, align=centre)
    _line(doc, subtitle(r), bold=True, align=centre, after=6)
    _line(doc, f"Kính gửi: {r.recipient}", align=centre, after=6)


def _signature(doc, r: MonthlyReport) -> None:
    """Nơi nhận (left) and the signer's block (right), one row that never splits across pages."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement

    centre = WD_ALIGN_PARAGRAPH.CENTER
    left, right = _borderless_pair(doc)
    row = left._tc.getparent()
    row.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    _line(left, "Nơi nhận:", bold=True, italic=True, size=12)
    for text in recipients_lines(r):
        _line(left, text, size=11)
    _line(right, SIGNER_AUTHORITY, bold=True, size=13, align=centre)
    _line(right, SIGNER_TITLE, bold=True, size=13, align=centre)
    _line(right, "(Ký, ghi rõ họ tên, đóng dấu)", italic=True, size=12, align=centre, after=60)
    for cell in (left, right):
        for p in cell.paragraphs:
            _keep_with_next(p)
