"""The queue-ticket log of a ticket machine, imported from CSV/XLSX all or nothing.

The wait is ``called_at − issued_at``, the service time ``finished_at − called_at``; a ticket is one
per (ticket_id, issue day), so a re-imported log counts nothing twice. Once stored, the effect of the
staffing cases whose hours the new tickets cover is checked again (:mod:`sipas.cases.effects`).
No Streamlit here; SQL only through :mod:`sipas.db`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sipas import clock, db
from sipas.errors import ValidationError, raise_file_problems
from sipas.files import parsing
from sipas.survey.responses import column_letter, parse_timestamp, read_table
from sipas.text import text_problem

TICKET_COLUMNS = ("ticket_id", "service", "counter", "issued_at", "called_at", "finished_at")
REQUIRED_TICKET_COLUMNS = ("ticket_id", "issued_at", "called_at", "finished_at")
TS_HINT = "cần dạng YYYY-MM-DD HH:MM hoặc ISO 8601 có múi giờ"


@dataclass(frozen=True)
class TicketImportSummary:
    filename: str
    rows: int
    added: int
    present: int

    def message(self) -> str:
        return (
            f"Đã nhập {self.added} lượt lấy số mới từ {self.filename}"
            f" ({self.present} lượt đã có từ trước, bỏ qua; tổng {self.rows} dòng)."
        )


def _timestamp(row: dict, col: str, idx: int, problems: list[str]) -> datetime | None:
    text = row.get(col, "")
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        problems.append(f'Dòng {idx}, cột {col}: giá trị "{text}" không hợp lệ, {TS_HINT}.')
        return None


def validate_tickets_table(rows: list[list[str]], filename: str, now: datetime | None = None) -> list[dict]:
    """Check every row of a ticket log; return the tickets or raise ValidationError listing every problem.

    Rows are numbered as a spreadsheet shows them (the header is row 1).

    >>> t = validate_tickets_table([["ticket_id", "service", "issued_at", "called_at", "finished_at"],
    ...                             ["A001", "Hộ tịch", "2024-03-04 07:05", "2024-03-04 07:20", ""]], "log.csv",
    ...                            now=datetime(2024, 3, 5))
    >>> t[0]["day"], t[0]["called_at"], t[0]["finished_at"]
    ('2024-03-04', '2024-03-04 07:20:00', None)
    """
    now = now or clock.now()
    header = parsing.header_row(rows, filename)
    problems: list[str] = []
    seen_cols: set[str] = set()
    for i, name in enumerate(header):
        if name == "":
            problems.append(f"Dòng 1, cột {column_letter(i)}: tên cột trống.")
        elif name in seen_cols:
            problems.append(f"Dòng 1, cột {name}: tên cột bị lặp lại.")
        elif name not in TICKET_COLUMNS:
            problems.append(
                f"Dòng 1, cột {name}: tên cột không hợp lệ. Các tên được nhận: {', '.join(TICKET_COLUMNS)}."
            )
        seen_cols.add(name)
    for name in REQUIRED_TICKET_COLUMNS:
        if name not in header:
            problems.append(f"Dòng 1: thiếu cột bắt buộc {name}.")
    if "service" not in header and "counter" not in header:
        problems.append("Dòng 1: cần ít nhất một trong hai cột service (lĩnh vực) hoặc counter (quầy).")
    if problems:
        raise ValidationError(problems)

    out: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    for idx, raw in enumerate(rows[1:], start=2):
        cells = [(raw[i].strip() if i < len(raw) else "") for i in range(len(header))]
        extra = [c for c in raw[len(header) :] if c.strip()]
        if not any(cells) and not extra:
            continue  # blank line at the end of a spreadsheet
        if extra:
            problems.append(f"Dòng {idx}: có {len(extra)} ô dữ liệu nằm ngoài các cột có tên.")
        row = dict(zip(header, cells, strict=True))
        ticket_id = row["ticket_id"]
        if not ticket_id:
            problems.append(f"Dòng {idx}, cột ticket_id: thiếu số thứ tự.")
        elif len(ticket_id) > 40:
            problems.append(f"Dòng {idx}, cột ticket_id: dài quá 40 ký tự.")
        for col in ("service", "counter"):
            if len(row.get(col, "")) > 200:
                problems.append(f"Dòng {idx}, cột {col}: dài quá 200 ký tự.")
        for col in ("ticket_id", "service", "counter"):
            problem = text_problem(row.get(col, ""), f"Dòng {idx}, cột {col}")
            if problem:
                problems.append(problem)
        if not row["issued_at"]:
            problems.append(f"Dòng {idx}, cột issued_at: thiếu thời điểm lấy số.")
        issued = _timestamp(row, "issued_at", idx, problems)
        called = _timestamp(row, "called_at", idx, problems)
        finished = _timestamp(row, "finished_at", idx, problems)
        if issued and issued.date() > now.date():
            problems.append(f'Dòng {idx}, cột issued_at: thời điểm "{row["issued_at"]}" ở trong tương lai.')
        if issued and called and called < issued:
            problems.append(
                f'Dòng {idx}, cột called_at: thời điểm gọi số "{row["called_at"]}" trước thời điểm '
                f'lấy số "{row["issued_at"]}".'
            )
        if row["finished_at"] and not row["called_at"]:
            problems.append(f"Dòng {idx}, cột called_at: có thời điểm xong (finished_at) nhưng thiếu thời điểm gọi số.")
        if called and finished and finished < called:
            problems.append(
                f'Dòng {idx}, cột finished_at: thời điểm xong "{row["finished_at"]}" trước thời điểm '
                f'gọi số "{row["called_at"]}".'
            )
        if issued is None or not ticket_id:
            continue
        day = issued.date().isoformat()
        key = (ticket_id, day)
        if key in seen:
            problems.append(f'Dòng {idx}, cột ticket_id: số "{ticket_id}" ngày {day} trùng với dòng {seen[key]}.')
            continue
        seen[key] = idx
        out.append(
            {
                "ticket_id": ticket_id,
                "day": day,
                "service": row.get("service") or None,
                "counter": row.get("counter") or None,
                "issued_at": clock.format_ts(issued),
                "called_at": clock.format_ts(called) if called else None,
                "finished_at": clock.format_ts(finished) if finished else None,
            }
        )
    raise_file_problems(problems, len(out), filename)
    return out


def import_tickets(
    conn: sqlite3.Connection, data: bytes, filename: str, *, actor: str | None = None, now: datetime | None = None
) -> TicketImportSummary:
    """Validate a whole ticket log (CSV or XLSX), then store it in one transaction (all or nothing)."""
    tickets = validate_tickets_table(read_table(data, filename), filename, now=now)
    with db.transaction(conn):
        import_id = db.record_import(
            conn, "tickets", filename, hashlib.sha256(data).hexdigest(), len(tickets), 0, 0, actor
        )
        for t in tickets:
            t["import_id"] = import_id
        added, present = db.insert_tickets(conn, tickets)
        db.set_import_counts(conn, import_id, added, present)
    from sipas.cases import intake  # the domain's follow-up to stored data (above this module)

    intake.after_tickets(conn)
    return TicketImportSummary(Path(filename).name, len(tickets), added, present)
