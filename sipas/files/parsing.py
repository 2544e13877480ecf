"""Cell parsing shared by every file import (responses, baseline, tickets) and the bounded XLSX reader.

* Dates: ``YYYY-MM-DD HH:MM[:SS]``, ISO 8601 with an offset, and the Vietnamese spreadsheet form
  ``dd/mm/yyyy[ HH:MM[:SS]]``; years before :data:`MIN_YEAR` or after next year are refused
  (:class:`YearOutOfRange`), so a stored timestamp is always zero-padded ISO text of a sane year.
* Numbers: a decimal point or a decimal comma (``4.0``, ``4,0``).
* Large files: :func:`gc_paused` while their rows are built.
* XLSX: the zip's declared sizes, the sheet's declared dimension and the row and column counts are
  checked before and while reading (streaming, ``read_only``), so no file can take unbounded memory
  or time; a cell holding a formula is refused with its row and column.
"""

from __future__ import annotations

import gc
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

from sipas import clock
from sipas.errors import ValidationError

MIN_YEAR = 2000
# Measured (bench/bench_import_bounds.py, bench/RESULTS.md): 240,000 full rows took 1.3 GB and held
# the write lock for 80 s (kiosk submits timed out); 100,000 rows stay near 650 MB.
MAX_ROWS = 100_000  # data rows of one imported file
MAX_COLUMNS = 200
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024  # every part of the zip together, as declared
MAX_SHARED_STRINGS = 64 * 1024 * 1024  # the shared-strings part is held in memory by openpyxl
MAX_ZIP_ENTRIES = 10_000
TS_HINT = "cần dạng YYYY-MM-DD HH:MM, dd/mm/yyyy HH:MM hoặc ISO 8601 có múi giờ"


def max_year() -> int:
    return clock.today().year + 1


class YearOutOfRange(ValueError):
    """A well-formed date whose year is before 2000 or after next year."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(f"năm {year} nằm ngoài khoảng {MIN_YEAR}–{max_year()}")


_TS = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
_TS_VN = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TS_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def check_year(moment: datetime | date) -> None:
    if not MIN_YEAR <= moment.year <= max_year():
        raise YearOutOfRange(moment.year)


def parse_timestamp(text: str, *, time_required: bool = True) -> datetime:
    """Commune-local naive datetime; ValueError (or :class:`YearOutOfRange`) when it is not one.

    >>> parse_timestamp("2024-03-05 08:15"), parse_timestamp("15/11/2024 09:00")
    (datetime.datetime(2024, 3, 5, 8, 15), datetime.datetime(2024, 11, 15, 9, 0))
    """
    text = (text or "").strip()
    if _TS_OFFSET.match(text):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment.astimezone(clock.TZ).replace(tzinfo=None)
        check_year(moment)
        return moment
    m = _TS.match(text)
    if m:
        y, mo, d, h, mi, s = m.groups()
    else:
        m = _TS_VN.match(text)
        if not m:
            raise ValueError(text)
        d, mo, y, h, mi, s = m.groups()
    if h is None and time_required and m.re is _TS:
        raise ValueError(text)
    year = int(y)
    if not MIN_YEAR <= year <= max_year():
        raise YearOutOfRange(year)
    # datetime() refuses 31/02 and 25:00 with ValueError.
    return datetime(year, int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))


def stored_year(text: str | None, default: int) -> int:
    """The year of a stored ``YYYY-MM-DD…`` text, kept within 2000–next year; ``default`` if none can be
    read (a value an older version stored, such as ``1-01-01``, must never break a page)."""
    m = re.match(r"^\s*(\d{1,4})-", text or "")
    if not m:
        return default
    return min(max(int(m.group(1)), MIN_YEAR), max_year())


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` or ``dd/mm/yyyy``; the same year bounds (the table reader's ``date`` columns)."""
    return parse_timestamp(text, time_required=False).date()


_NUMBER = re.compile(r"^[+-]?(\d+)(?:[.,](\d+))?$")


def parse_number(text: str) -> float:
    """``4``, ``4.5``, ``4,5`` → float (a decimal point or a decimal comma, no thousands separator)."""
    text = (text or "").strip()
    if not _NUMBER.match(text):
        raise ValueError(text)
    return float(text.replace(",", "."))


def parse_whole(text: str) -> int:
    """``4``, ``4.0``, ``4,0`` → 4; ``4.5``, ``x``, ``-1`` raise ValueError."""
    m = re.fullmatch(r"(\d+)(?:[.,]0+)?", (text or "").strip())
    if not m:
        raise ValueError(text)
    return int(m.group(1))


def parse_level(text: str, top: int = 5) -> int | None:
    """'' → None; '4', '4.0' or '4,0' → 4; anything else (4.5, 0, 6, x) raises ValueError."""
    if (text or "").strip() == "":
        return None
    value = parse_whole(text)
    if not 1 <= value <= top:
        raise ValueError(text)
    return value


def header_row(rows: list[list[str]], filename: str) -> list[str]:
    """The column names of a table read from a file (row 1), stripped, without empty trailing cells."""
    if not rows or not any(c.strip() for c in rows[0]):
        raise ValidationError(f"Tệp {filename}: không có dòng tiêu đề.")
    header = [c.strip() for c in rows[0]]
    while header and header[-1] == "":
        header.pop()
    return header


# ---------------------------------------------------------------------------------------------
# XLSX, bounded
# ---------------------------------------------------------------------------------------------


def _int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letter(i: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def check_xlsx_bounds(data: bytes, filename: str) -> None:
    """Refuse a workbook whose zip or sheet declares more than the limits, before openpyxl reads it."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(f"Tệp {filename}: không mở được tệp Excel (không phải tệp .xlsx hợp lệ).") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise ValidationError(f"Tệp {filename}: tệp Excel có quá nhiều phần ({len(infos)}).")
        total = sum(i.file_size for i in infos)
        if total > MAX_XLSX_UNCOMPRESSED:
            raise ValidationError(
                f"Tệp {filename}: khi giải nén tệp Excel chiếm {_mb(total)}, vượt giới hạn "
                f"{_mb(MAX_XLSX_UNCOMPRESSED)}. Hãy chia tệp thành nhiều tệp nhỏ hơn "
                f"(tối đa {_int(MAX_ROWS)} dòng mỗi tệp) hoặc lưu dạng CSV."
            )
        for info in infos:
            if info.filename.lower().endswith("sharedstrings.xml") and info.file_size > MAX_SHARED_STRINGS:
                raise ValidationError(
                    f"Tệp {filename}: phần văn bản của tệp Excel chiếm {_mb(info.file_size)}, vượt giới hạn "
                    f"{_mb(MAX_SHARED_STRINGS)}. Hãy chia tệp thành nhiều tệp nhỏ hơn hoặc lưu dạng CSV."
                )
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                try:
                    with zf.open(info) as f:
                        head = f.read(4096)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                    raise ValidationError(f"Tệp {filename}: tệp Excel bị hỏng.") from None
                m = _DIMENSION.search(head)
                if m and (m.group(4) or m.group(2)):
                    rows = int(m.group(4) or m.group(2))
                    cols = _col_number((m.group(3) or m.group(1) or b"A").decode("ascii"))
                    _check_shape(filename, rows - 1, cols)


def _check_shape(filename: str, data_rows: int, cols: int) -> None:
    if data_rows > MAX_ROWS:
        raise ValidationError(
            f"Tệp {filename}: có {_int(data_rows)} dòng dữ liệu, vượt giới hạn {_int(MAX_ROWS)} dòng mỗi tệp. "
            "Hãy chia thành nhiều tệp nhỏ hơn."
        )
    if cols > MAX_COLUMNS:
        raise ValidationError(f"Tệp {filename}: có {cols} cột, vượt giới hạn {MAX_COLUMNS} cột.")


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.year >= 1000 else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes, filename: str) -> list[list[str]]:
    """The first sheet as text cells, bounded (see the module docstring); formula cells refused."""
    check_xlsx_bounds(data, filename)
    import openpyxl  # lazy: the kiosk never needs it

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationError(f"Tệp {filename}: không mở được tệp Excel ({type(exc).__name__}).") from None
    rows: list[list[str]] = []
    formulas: list[str] = []
    try:
        # Read-only mode parses the sheet while iterating: a damaged sheet fails here, not on opening.
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # a lying <dimension> must not bound (or widen) what is read
        for r, row in enumerate(ws.iter_rows(), start=1):
            if r > MAX_ROWS + 1:
                _check_shape(filename, r - 1, 0)
            cells = []
            for c, cell in enumerate(row):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f":
                    if len(formulas) < 200:
                        formulas.append(
                            f"Dòng {r}, cột {col_letter(c)}: ô chứa công thức ({str(value)[:60]}); "
                            "chỉ nhận giá trị. Hãy sao chép rồi dán dạng giá trị (Paste Values)."
                        )
                    value = None
                cells.append(cell_text(value))
            while cells and cells[-1] == "":
                cells.pop()  # no padding to the widest row: ragged rows cost no memory
            if len(cells) > MAX_COLUMNS:
                _check_shape(filename, 0, len(cells))
            rows.append(cells)
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(f"Tệp {filename}: không đọc được trang tính đầu tiên ({type(exc).__name__}).") from None
    finally:
        wb.close()
    if formulas:
        raise ValidationError(formulas)
    return rows


def check_csv_rows(rows: list[list[str]], filename: str) -> None:
    """Refuse a table of more than :data:`MAX_ROWS` data rows (the readers stop one row past it)."""
    if len(rows) - 1 > MAX_ROWS:
        _check_shape(filename, len(rows) - 1, 0)


# ---------------------------------------------------------------------------------------------
# Building a large file's rows
# ---------------------------------------------------------------------------------------------

_gc_mutex = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a file's rows are built and stored.

    A file of 100,000 responses builds millions of small lists, dicts and tuples, none of them in a
    cycle; each allocation burst makes the collector walk every object built so far again
    (≈ 0.5 s of an 8.5 s import, bench/RESULTS.md). Reference counting still frees everything. Nested
    or concurrent imports are counted: the collector is on again when the last one ends, and only
    if it was on before the first. Not around reading an XLSX: with the collector off there, kiosk
    submits served by the same process while it reads waited 2–3× longer (p50 0.56–0.63 s against
    0.18–0.26 s, bench/bench_import_bounds.py).
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_mutex:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_mutex:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()
