"""Import templates: for each file type, the header row and one example row, as CSV and as XLSX.

Every template imports as it is (a test checks it), so a clerk can start from it and overwrite
the example row. The column rules are in docs/file-formats.md.
"""

from __future__ import annotations

import io

from sipas.catalog import questionnaires
from sipas.files import exports


def responses_template(version: str) -> tuple[list[str], list[str]]:
    q = questionnaires()[version]
    crits = list(q.criterion_codes)
    header = ["response_id", "submitted_at", "questionnaire", "channel", "field", "staff_code", "wait_minutes"]
    header += crits + ["overall", "comment"]
    example = ["", "15/11/2026 09:00", version, "paper", "Hộ tịch", "", "10"]
    example += [str(4 + (i % 2)) for i in range(len(crits))] + ["5", "Cán bộ hướng dẫn tận tình."]
    return header, example


def baseline_template(version: str) -> tuple[list[str], list[str]]:
    return ["year", "questionnaire", "level", "code", "index", "n", "satisfied"], [
        "2024",
        version,
        "overall",
        "",
        "87,5",
        "",
        "",
    ]


def tickets_template() -> tuple[list[str], list[str]]:
    return ["ticket_id", "service", "counter", "issued_at", "called_at", "finished_at"], [
        "A001",
        "Hộ tịch",
        "Quầy 1",
        "15/11/2026 08:02",
        "15/11/2026 08:10",
        "15/11/2026 08:21",
    ]


def template(kind: str, version: str) -> tuple[list[str], list[str]]:
    if kind == "responses":
        return responses_template(version)
    if kind == "baseline":
        return baseline_template(version)
    if kind == "tickets":
        return tickets_template()
    raise ValueError(kind)


def csv_template(kind: str, version: str) -> bytes:
    header, example = template(kind, version)
    return exports.csv_bytes(header, [example])


def xlsx_template(kind: str, version: str) -> bytes:
    """The same as an Excel workbook; every cell is text, so Excel keeps ``15/11/2026 09:00`` and ``87,5``."""
    import openpyxl

    header, example = template(kind, version)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = {"responses": "Phiếu", "baseline": "Số liệu gốc", "tickets": "Lượt lấy số"}[kind]
    ws.append(header)
    ws.append([exports.safe_cell(v) for v in example])
    for row in ws.iter_rows():
        for cell in row:
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
