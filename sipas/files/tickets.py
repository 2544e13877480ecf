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
from sipas.errors import raise_file_problems
from sipas.files import reading
from sipas.files.table import Column, TableSpec, read_rows
from sipas.text import excerpt

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


def _timestamp(name: str, missing: str | None = None) -> Column:
    return Column(
        name,
        "datetime",
        required=True,
        allow_empty=missing is None,
        missing=missing,
        invalid=f'giá trị "{{value}}" không hợp lệ, {TS_HINT}.',
    )


TICKET_SPEC = TableSpec(
    columns=(
        Column(
            "ticket_id",
            required=True,
            allow_empty=False,
            missing="thiếu số thứ tự.",
            max_length=40,
            too_long="dài quá 40 ký tự.",
            plain_text=True,
        ),
        Column("service", max_length=200, too_long="dài quá 200 ký tự.", plain_text=True),
        Column("counter", max_length=200, too_long="dài quá 200 ký tự.", plain_text=True),
        _timestamp("issued_at", missing="thiếu thời điểm lấy số."),
        _timestamp("called_at"),
        _timestamp("finished_at"),
    ),
    at_least_one=("service", "counter"),
    at_least_one_message="cần ít nhất một trong hai cột service (lĩnh vực) hoặc counter (quầy).",
)
TICKET_COLUMNS = TICKET_SPEC.names
REQUIRED_TICKET_COLUMNS = tuple(c.name for c in TICKET_SPEC.columns if c.required)


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
    problems: list[str] = []
    out: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    for row in read_rows(TICKET_SPEC, rows, filename):
        problems += map(str, row.problems)
        idx, cells = row.line, row.cells
        values = row.values
        ticket_id, issued, called, finished = (
            values[c] for c in ("ticket_id", "issued_at", "called_at", "finished_at")
        )
        if issued and issued.date() > now.date():
            problems.append(f'Dòng {idx}, cột issued_at: thời điểm "{cells["issued_at"]}" ở trong tương lai.')
        if issued and called and called < issued:
            problems.append(
                f'Dòng {idx}, cột called_at: thời điểm gọi số "{cells["called_at"]}" trước thời điểm '
                f'lấy số "{cells["issued_at"]}".'
            )
        if cells["finished_at"] and not cells["called_at"]:
            problems.append(f"Dòng {idx}, cột called_at: có thời điểm xong (finished_at) nhưng thiếu thời điểm gọi số.")
        if called and finished and finished < called:
            problems.append(
                f'Dòng {idx}, cột finished_at: thời điểm xong "{cells["finished_at"]}" trước thời điểm '
                f'gọi số "{cells["called_at"]}".'
            )
        if issued is None or not ticket_id:
            continue
        day = issued.date().isoformat()
        key = (ticket_id, day)
        if key in seen:
            problems.append(
                f'Dòng {idx}, cột ticket_id: số "{excerpt(ticket_id)}" ngày {day} trùng với dòng {seen[key]}.'
            )
            continue
        seen[key] = idx
        out.append(
            {
                "ticket_id": ticket_id,
                "day": day,
                "service": values["service"],
                "counter": values["counter"],
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
    tickets = validate_tickets_table(reading.read_table(data, filename), filename, now=now)
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
