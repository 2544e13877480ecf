"""The commune's clock: its time zone, now and today, parsing and Vietnamese formatting.

Every module asks this one for the time; nothing else calls ``date.today()`` or a naive
``datetime.now()`` (on a server whose clock is UTC those disagree with the commune between 00:00
and 07:00 local time). Stored timestamps are naive local wall-clock text ``YYYY-MM-DD HH:MM:SS``.

>>> format_number(87.254, 2)
'87,25'
>>> format_date(date(2026, 3, 5))
'05/03/2026'
"""

from __future__ import annotations

import math
import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
DASH = "—"
# The date of this release: a server clock before it cannot be right (a dead CMOS battery shows 1990).
RELEASE_DATE = date(2026, 12, 1)


def now() -> datetime:
    """The commune's wall-clock time (Asia/Ho_Chi_Minh, no daylight saving), naive, whole seconds."""
    return datetime.now(TZ).replace(tzinfo=None, microsecond=0)


def today() -> date:
    """The commune's date (not the server's)."""
    return now().date()


def epoch() -> float:
    """Seconds since the epoch (for durations and lockout windows; zone-free)."""
    return time.time()


def month_start(day: date, months: int = 0) -> date:
    """The first day of ``day``'s month, moved by ``months`` months (negative: back): the one place
    for month steps.

    >>> month_start(date(2025, 1, 31), -1), month_start(date(2024, 12, 5), 1), month_start(date(2024, 2, 29))
    (datetime.date(2024, 12, 1), datetime.date(2025, 1, 1), datetime.date(2024, 2, 1))
    """
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month.

    >>> month_end(date(2024, 2, 10)), month_end(date(2023, 12, 31))
    (datetime.date(2024, 2, 29), datetime.date(2023, 12, 31))
    """
    return month_start(day, 1) - timedelta(days=1)


def quarter_of(day: date) -> int:
    """The calendar quarter (1–4) of ``day``.

    >>> quarter_of(date(2025, 3, 31)), quarter_of(date(2025, 4, 1))
    (1, 2)
    """
    return (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """(first day, last day) of a calendar quarter.

    >>> quarter_bounds(2024, 1)
    (datetime.date(2024, 1, 1), datetime.date(2024, 3, 31))
    """
    if not 1 <= quarter <= 4:
        raise ValueError("quarter must be 1–4")
    start = date(year, 3 * quarter - 2, 1)
    return start, month_end(month_start(start, 2))


def months_between(first: date, last: date) -> list[str]:
    """``YYYY-MM`` of every month from ``first``'s to ``last``'s, both included.

    >>> months_between(date(2024, 11, 15), date(2025, 2, 1))
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    out, month = [], month_start(first)
    while month <= last:
        out.append(month.strftime("%Y-%m"))
        month = month_start(month, 1)
    return out


def format_ts(moment: datetime) -> str:
    """Storage form of a local moment: ``2026-11-15 09:00:00``."""
    return moment.strftime(TS_FORMAT)


def now_ts() -> str:
    """Storage form of now."""
    return format_ts(now())


def parse_ts(text: str) -> datetime:
    """Parse a stored timestamp (``YYYY-MM-DD[ HH:MM[:SS]]`` or ISO with ``T``)."""
    return datetime.fromisoformat(str(text).strip().replace("T", " "))


def _as_datetime(value) -> datetime | date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (datetime, date)):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return parse_ts(text)
    except ValueError:
        return None


def format_date(value) -> str:
    """``dd/mm/yyyy`` for a date, datetime or stored text; "—" when empty or unreadable."""
    moment = _as_datetime(value)
    return moment.strftime("%d/%m/%Y") if moment is not None else DASH


def format_datetime(value, *, seconds: bool = False) -> str:
    """``dd/mm/yyyy HH:MM`` (local time as stored); "—" when empty or unreadable."""
    moment = _as_datetime(value)
    if moment is None:
        return DASH
    if not isinstance(moment, datetime):
        return moment.strftime("%d/%m/%Y")
    return moment.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def format_month(value) -> str:
    """``mm/yyyy`` for ``YYYY-MM`` text or a date."""
    if isinstance(value, str) and len(value) == 7:
        return f"{value[5:7]}/{value[:4]}"
    moment = _as_datetime(value)
    return moment.strftime("%m/%Y") if moment is not None else DASH


def format_number(value, decimals: int = 1, *, unit: str = "") -> str:
    """Vietnamese number: decimal comma, dot between thousands; "—" for None/NaN.

    >>> format_number(1234567.5, 1)
    '1.234.567,5'
    >>> format_number(None)
    '—'
    """
    if value is None:
        return DASH
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DASH
    if math.isnan(number) or math.isinf(number):
        return DASH
    text = f"{number:,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text + unit


def format_percent(value, decimals: int = 1) -> str:
    """``87,3%`` from 87.25 (a value already in percent); "—" for None/NaN."""
    text = format_number(value, decimals)
    return text if text == DASH else text + "%"


def format_signed(value, decimals: int = 1) -> str:
    """A difference with its sign: ``+2,5`` / ``-1,0``; "—" for None/NaN.

    >>> format_signed(2.5), format_signed(-1), format_signed(None)
    ('+2,5', '-1,0', '—')
    """
    text = format_number(value, decimals)
    return text if text == DASH or text.startswith("-") else "+" + text


def format_p(value) -> str:
    """A p-value for a person: 3 decimals, and "< 0,001" rather than a misleading "0,000"; "—" when missing.

    >>> format_p(0.0004), format_p(0.0234), format_p(None)
    ('< 0,001', '0,023', '—')
    """
    text = format_number(value, 3)
    return "< 0,001" if text in ("0,000", "-0,000") or (text != DASH and float(value) < 0.001) else text


def p_clause(value) -> str:
    """``p = 0,023`` or ``p < 0,001`` for a sentence.

    >>> p_clause(0.00001), p_clause(0.5)
    ('p < 0,001', 'p = 0,500')
    """
    text = format_p(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


_STORED = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2})(?:[ T](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?)?")


def format_stored(value):
    """Text stored in the ISO forms (``2026-11-30 10:53:00``, ``2026-11-30``, ``2025-12``) as a Vietnamese
    reader writes it (``30/11/2026 10:53``, ``30/11/2026``, ``12/2025``); anything else is returned as is.

    >>> format_stored("2026-11-30 10:53:00"), format_stored("2026-11-30"), format_stored("2025-12")
    ('30/11/2026 10:53', '30/11/2026', '12/2025')
    >>> format_stored("TC2.3"), format_stored(7)
    ('TC2.3', 7)
    """
    if not isinstance(value, str):
        return value
    m = _STORED.fullmatch(value.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        return value
    year, month, day, hour, minute = m.groups()
    if day is None:
        return f"{month}/{year}"
    return f"{day}/{month}/{year}" + (f" {hour}:{minute}" if hour is not None else "")


def format_plain(value, max_decimals: int = 2) -> str:
    """A setting's number as typed, without trailing zeros: ``87``, ``87,5``; "—" for None/NaN.

    >>> format_plain(87.0), format_plain(87.5), format_plain(0.125, 3)
    ('87', '87,5', '0,125')
    """
    text = format_number(value, max_decimals)
    if text == DASH or "," not in text:
        return text
    return text.rstrip("0").rstrip(",")
