"""What the clerk picked, read out of the database: the filters (one questionnaire version, a date range,
optionally a channel, lĩnh vực or staff member), the period bounds, and the index of the matching responses.

Only version and dates are answered from the daily roll-up; any other filter is aggregated in SQL.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import date

from sipas import clock, db
from sipas.catalog import questionnaire, version_label
from sipas.index.scoring import IndexResult, compute_index

CHANNEL_LABELS = {"kiosk": "Máy tính bảng", "qr": "Mã QR", "paper": "Phiếu giấy"}


@dataclass(frozen=True)
class Filters:
    """What the clerk picked: one questionnaire version and a date range, optionally narrowed."""

    questionnaire: str
    date_from: str | None = None
    date_to: str | None = None
    channel: str | None = None
    field: str | None = None
    staff_code: str | None = None
    include_excluded: bool = False

    @property
    def uses_rollup(self) -> bool:
        """Only version and dates can be answered from the daily roll-up."""
        return not (self.channel or self.field or self.staff_code or self.include_excluded)

    def as_kwargs(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """The filters in words, for captions and reports."""
        parts = [version_label(self.questionnaire)]
        if self.date_from or self.date_to:
            parts.append(f"từ {_vn_date(self.date_from) or '…'} đến {_vn_date(self.date_to) or '…'}")
        if self.channel:
            parts.append(f"kênh {CHANNEL_LABELS.get(self.channel, self.channel)}")
        if self.field:
            parts.append(f"lĩnh vực {self.field}")
        if self.staff_code:
            parts.append(f"cán bộ {self.staff_code}")
        parts.append("gồm cả phiếu đã loại" if self.include_excluded else "không tính phiếu đã loại")
        return ", ".join(parts)


def _vn_date(iso: str | None) -> str | None:
    if not iso:
        return None
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def period_bounds(
    kind: str, year: int, number: int | None = None, custom: tuple[date, date] | None = None
) -> tuple[str, str]:
    """(first day, last day) ISO dates of a month, quarter, year, or a custom range.

    >>> period_bounds("month", 2024, 2), period_bounds("quarter", 2024, 4), period_bounds("year", 2023)
    (('2024-02-01', '2024-02-29'), ('2024-10-01', '2024-12-31'), ('2023-01-01', '2023-12-31'))
    """
    if kind == "month":
        if number is None or not 1 <= number <= 12:
            raise ValueError("month must be 1–12")
        return date(year, number, 1).isoformat(), clock.month_end(date(year, number, 1)).isoformat()
    if kind == "quarter":
        if number is None or not 1 <= number <= 4:
            raise ValueError("quarter must be 1–4")
        first, last = clock.quarter_bounds(year, number)
        return first.isoformat(), last.isoformat()
    if kind == "year":
        return date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
    if kind == "custom":
        if not custom:
            raise ValueError("custom needs (from, to)")
        a, b = sorted(custom)
        return a.isoformat(), b.isoformat()
    raise ValueError(f"unknown period kind {kind!r}")


def history_quarters(today: date, count: int = 8) -> list[tuple[date, date]]:
    """The last ``count`` calendar quarters up to ``today`` (the current one ends today), oldest first.

    >>> history_quarters(date(2026, 2, 10), 2)
    [(datetime.date(2025, 10, 1), datetime.date(2025, 12, 31)), (datetime.date(2026, 1, 1), datetime.date(2026, 2, 10))]
    """
    out = []
    start = clock.quarter_bounds(today.year, clock.quarter_of(today))[0]
    for _ in range(count):
        out.append((start, min(clock.month_end(clock.month_start(start, 2)), today)))
        start = clock.month_start(start, -3)
    return out[::-1]


def level_counts_for(conn: sqlite3.Connection, f: Filters) -> tuple[dict, int]:
    """(counts per criterion and 'overall', responses): roll-up when possible, else aggregated in SQL."""
    if f.uses_rollup:
        return (
            db.level_counts(conn, f.questionnaire, f.date_from, f.date_to),
            db.responses_in_range(conn, f.questionnaire, f.date_from, f.date_to),
        )
    return db.filtered_counts(conn, **f.as_kwargs())


def index_for_filters(conn: sqlite3.Connection, f: Filters) -> IndexResult:
    """The index of the responses matching ``f``."""
    counts, responses = level_counts_for(conn, f)
    return compute_index(questionnaire(f.questionnaire), counts, responses)
