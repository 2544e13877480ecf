"""A printable A4 sheet of single-use QR cards (fpdf2, the report's bundled DejaVu fonts): 10 cards a page,
two columns of five, with dashed cut lines. Each card: the QR code of its address, the unit's name, what
to do, the expiry date, "Phiếu ẩn danh", and the dossier code where the card carries one.

The codes come from :func:`sipas.survey.qr.issue_sheet` (issued, hashed and audited there); this module
only draws them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from sipas import clock
from sipas.reports.pdf import FONTS_DIR
from sipas.survey.qr import Card, png_of

TITLE = "Đánh giá sự phục vụ trên điện thoại của Ông/Bà"
SCAN = "Quét mã bằng máy ảnh điện thoại"
ANONYMOUS = "Phiếu ẩn danh"
COLUMNS, ROWS = 2, 5
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 10.0
CARD_W = (PAGE_W - 2 * MARGIN) / COLUMNS  # 95 mm
CARD_H = (PAGE_H - 2 * MARGIN) / ROWS  # 55.4 mm
QR_SIZE = 42.0


def expiry_line(card: Card) -> str:
    """The card's expiry sentence (the commune's date, day first)."""
    return f"Mã dùng một lần, hết hạn ngày {card.expires_at.strftime('%d/%m/%Y')}"


def to_pdf(cards: Sequence[Card], unit_name: str) -> bytes:
    """The sheet of ``cards`` as a PDF (A4, ten cards a page)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("DejaVu", "", str(FONTS_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Phiếu mã QR đánh giá trên điện thoại")
    pdf.set_author(unit_name)
    per_page = COLUMNS * ROWS
    for start in range(0, len(cards), per_page):
        pdf.add_page()
        page = cards[start : start + per_page]
        _cut_lines(pdf, len(page))
        for i, card in enumerate(page):
            x = MARGIN + (i % COLUMNS) * CARD_W
            y = MARGIN + (i // COLUMNS) * CARD_H
            _card(pdf, card, unit_name, x, y)
    if not cards:
        pdf.add_page()
    return bytes(pdf.output())


def _cut_lines(pdf, n: int) -> None:
    rows = (n + COLUMNS - 1) // COLUMNS
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    bottom = MARGIN + rows * CARD_H
    for r in range(rows + 1):
        y = MARGIN + r * CARD_H
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    for c in range(COLUMNS + 1):
        x = MARGIN + c * CARD_W
        pdf.line(x, MARGIN, x, bottom)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)


def _card(pdf, card: Card, unit_name: str, x: float, y: float) -> None:
    pad = 3.0
    pdf.image(io.BytesIO(png_of(card.url)), x=x + pad, y=y + (CARD_H - QR_SIZE) / 2, w=QR_SIZE, h=QR_SIZE)
    tx = x + pad + QR_SIZE + 2.5
    tw = CARD_W - (tx - x) - pad
    pdf.set_xy(tx, y + pad + 1)
    pdf.set_font("DejaVu", "B", 7.5)
    pdf.multi_cell(tw, 3.4, unit_name, new_x="LEFT", new_y="NEXT", align="L")
    pdf.ln(1)
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(tw, 4.0, TITLE, new_x="LEFT", new_y="NEXT", align="L")
    pdf.ln(1)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(tw, 3.6, SCAN, new_x="LEFT", new_y="NEXT", align="L")
    pdf.multi_cell(tw, 3.6, expiry_line(card), new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", "B", 8)
    pdf.multi_cell(tw, 3.6, ANONYMOUS, new_x="LEFT", new_y="NEXT", align="L")
    if card.dossier_id:
        pdf.set_font("DejaVu", "", 7.5)
        pdf.multi_cell(tw, 3.4, f"Hồ sơ: {card.dossier_id}", new_x="LEFT", new_y="NEXT", align="L")


def file_name(today=None) -> str:
    """The download's file name, e.g. ``phieu-qr-2026-12-06.pdf``."""
    return f"phieu-qr-{(today or clock.today()).isoformat()}.pdf"
