"""Hostile text: what a citizen, a clerk or a spreadsheet might put into a comment, a name or a file.

Used by tests/test_hostile.py. Every payload must come back as the same plain text wherever it is
shown (a page, the Excel report, the PDF): never rendered as HTML or Markdown, never run as a
spreadsheet formula or followed as a link. Two kinds of characters are refused instead, with a
message, everywhere text enters (kiosk, file imports, staff forms, settings): NUL (U+0000), which
cuts text short for SQLite's own functions (``length``, ``LIKE``, the CHECK on a comment's length),
and a lone surrogate (U+D800–U+DFFF), which cannot be written as UTF-8 at all (it only comes from a
broken file name or command-line argument; a browser or a CSV/XLSX file never sends one).
"""

from __future__ import annotations

import unicodedata

MAX_COMMENT = 2000

HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</textarea><b>đậm</b>",
    "&lt;b&gt; &amp; &#x3C;script&#x3E;",
]
MARKDOWN = [
    "**bold** [link](javascript:alert(1))",
    "# heading",
    "- gạch đầu dòng\n> trích dẫn",
    "`code` _nghiêng_ ~~gạch~~ $x^2$",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    ":red[đỏ] :material/warning:",
]
FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "=1+1",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
]
UNICODE = [
    unicodedata.normalize("NFD", "Thái độ"),  # combining marks (how some keyboards send Vietnamese)
    "Thái độ",  # the same, precomposed (NFC): must stay a different string, stored as given
    "مرحبا",  # right to left
    "abc \u202edcba\u202c xyz",  # right-to-left override inside left-to-right text
    "😡👍🏽",  # emoji, one with a skin-tone modifier
    "👨\u200d👩\u200d👧",  # zero-width joiner sequence
    "a\u200bb\ufeffc",  # zero-width space and a BOM inside the text
    "Ω≈ç√∫ — “ngoặc kép” ‘đơn’ …",
    "\U0001d573\U0001d586\U0001d593",  # mathematical letters outside the BMP
    "dòng 1\ndòng 2\r\ndòng 3\ttab",
    "   khoảng trắng đầu và cuối   ",
]
OVERLONG = [
    "x" * MAX_COMMENT,  # the longest comment accepted
    "x" * (MAX_COMMENT + 1),  # one too many: refused with a message
    "ạ" * MAX_COMMENT,  # 2,000 characters, 6,000 bytes in UTF-8
]
# Refused everywhere, with a message (see the module docstring).
REFUSED = [
    "trước\x00sau",
    "\x00",
    "lỗi \ud800 mã hóa",
    "\udcff",
]

# Shown and exported unchanged.
SHOWN = HTML + MARKDOWN + FORMULAS + UNICODE
ALL = SHOWN + OVERLONG + REFUSED


def refused_character(text: str) -> bool:
    """True if ``text`` holds a character that is never stored (NUL or a lone surrogate)."""
    return any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in text)
