"""The monthly report (due by the 20th to the level above) and the charts it shares with the analysis page.

One model, three renderers: :func:`build_report` (``model``) gathers everything for one month from the
database; :func:`to_excel` (``excel``), :func:`to_pdf` (``pdf``) and :func:`to_docx` (``word``) only lay it
out, the PDF and the Word file from the same list of sections (``sections``). ``charts`` builds the
Altair charts. Callers write ``from sipas import reports`` and ``reports.build_report(...)``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sipas.errors import ValidationError
from sipas.reports.excel import XLSX_MIME, to_excel
from sipas.reports.model import MonthlyReport, build_report, letterhead, parse_month
from sipas.reports.pdf import PDF_MIME, to_pdf
from sipas.reports.word import DOCX_MIME, to_docx

SUFFIXES = (".xlsx", ".pdf", ".docx")

__all__ = [
    "DOCX_MIME",
    "PDF_MIME",
    "SUFFIXES",
    "XLSX_MIME",
    "MonthlyReport",
    "build_report",
    "letterhead",
    "parse_month",
    "to_docx",
    "to_excel",
    "to_pdf",
    "write_report",
]


def write_report(conn: sqlite3.Connection, month: str, out: str | Path) -> Path:
    """Build the report of ``month`` and write it to ``out`` (.xlsx, .pdf or .docx, by its extension)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(f'Tệp "{path.name}": chỉ nhận đuôi .xlsx, .pdf hoặc .docx.')
    parse_month(month)
    report = build_report(conn, month)
    data = {".xlsx": to_excel, ".pdf": to_pdf, ".docx": to_docx}[suffix](report)
    path.write_bytes(data)
    return path
