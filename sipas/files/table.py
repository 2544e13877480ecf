"""A file's columns declared once, and one reader that turns its raw rows into typed rows and problems.

An import (baseline, ticket log, …) declares its columns as :class:`Column` values in a
:class:`TableSpec`: the name (and aliases), the kind of value, whether the column must be in the
header and whether a cell may be empty, the bounds, and the Vietnamese message for a bad value. The
raw rows come from :func:`sipas.files.reading.read_table` (CSV or XLSX as ``list[list[str]]``,
header first); :func:`read_rows` checks the header (raising :class:`ValidationError` at once, as
every import did) and then yields one :class:`TableRow` per non-blank line, numbered as a
spreadsheet shows it (the header is row 1), with the line's problems in column order. The import
adds the checks that involve several columns or rows (a time before another, a duplicate) to the
same list and ends with :func:`sipas.errors.raise_file_problems`.

Kinds, and what a non-empty cell must hold (every cell is stripped first; an empty cell is None):

* ``text``: anything, at most ``max_length`` characters (``too_long``), without a character that is
  never stored (NUL, a lone surrogate) when ``plain_text`` is set (checked after every column);
* ``int``: a whole number ≥ 0 (``4``, ``4.0``, ``4,0``) within ``low``–``high``;
* ``decimal``: a number with a decimal point or comma within ``low``–``high``;
* ``level``: an answer level 1–``high`` (default 5), ``4.0`` accepted;
* ``date`` / ``datetime``: ``YYYY-MM-DD``, ``dd/mm/yyyy`` (with a time for ``datetime``) or ISO 8601
  with an offset, within the years :mod:`sipas.files.parsing` accepts;
* ``choice``: one of ``choices``.

A bad value is reported as
``Dòng {row}, cột {column}: {invalid}`` where ``invalid`` may use ``{value}``, ``{choices}``, ``{low}``
and ``{high}``. ``check`` is a column's own rule on a value that parsed (or an allowed empty cell): it
gets the value and the row's values so far (the columns declared before it) and returns the message's
tail, or None. Problems come column by column in declared order; the characters of the ``plain_text``
columns are checked together, right after the last of them. A value that parsed is kept in the row
even when it is refused (out of bounds, too long, by its check); one that could not be read is None.

>>> spec = TableSpec(
...     columns=(
...         Column("submitted_at", "datetime", required=True, allow_empty=False,
...                missing="thiếu thời điểm khảo sát."),
...         Column("channel", "choice", choices=("kiosk", "qr", "paper"), aliases=("kenh",),
...                invalid='giá trị "{value}" không hợp lệ, chỉ nhận {choices}.'),
...         Column("overall", "level", invalid='giá trị "{value}" không hợp lệ, chỉ nhận 1–5.'),
...     ),
... )
>>> rows = [["submitted_at", "kenh", "overall"], ["2024-03-05 08:15", "qr", "4,0"], [], ["", "fax", "6"]]
>>> for row in read_rows(spec, rows, "phieu.csv"):
...     print(row.line, row.values, [str(p) for p in row.problems])
2 {'submitted_at': datetime.datetime(2024, 3, 5, 8, 15), 'channel': 'qr', 'overall': 4} []
4 {'submitted_at': None, 'channel': None, 'overall': None} ['Dòng 4, cột submitted_at: thiếu thời điểm khảo sát.', \
'Dòng 4, cột channel: giá trị "fax" không hợp lệ, chỉ nhận kiosk, qr, paper.', \
'Dòng 4, cột overall: giá trị "6" không hợp lệ, chỉ nhận 1–5.']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any, Literal

from sipas.errors import ValidationError
from sipas.files import parsing
from sipas.text import excerpt, text_problem

Kind = Literal["text", "int", "decimal", "level", "date", "datetime", "choice"]
INVALID = 'giá trị "{value}" không hợp lệ.'


@dataclass(frozen=True)
class Column:
    """One declared column of an imported file (see the module docstring)."""

    name: str
    kind: Kind = "text"
    required: bool = False  # the header must name it
    allow_empty: bool = True  # an empty cell is None; otherwise ``missing`` (or ``invalid`` with "")
    aliases: tuple[str, ...] = ()  # other header names read as this column
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    invalid: str = INVALID
    missing: str | None = None
    max_length: int | None = None
    too_long: str | None = None
    plain_text: bool = False  # refuse the characters that are never stored (sipas.text)
    check: Callable[[Any, dict[str, Any]], str | None] | None = None


@dataclass(frozen=True)
class TableSpec:
    """The columns of one kind of file, and how its header is judged.

    ``header_messages``: ``"per-column"`` names each empty, repeated or unknown header cell;
    ``"summary"`` names unknown ones (an empty one as "(trống)") and says once that a name repeats.
    ``at_least_one``: column names of which the header must hold one (``at_least_one_message``).
    ``extra_cells``: report data in cells right of the last named column.
    """

    columns: tuple[Column, ...]
    header_messages: Literal["per-column", "summary"] = "per-column"
    at_least_one: tuple[str, ...] = ()
    at_least_one_message: str = ""
    extra_cells: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Problem:
    """One refused cell or line: its row (as a spreadsheet numbers it), column, value and what is allowed."""

    row: int
    column: str | None
    value: str
    detail: str

    def __str__(self) -> str:
        where = f"Dòng {self.row}, cột {self.column}" if self.column else f"Dòng {self.row}"
        return f"{where}: {self.detail}"


@dataclass
class TableRow:
    """A non-blank line: typed ``values`` (None when empty or refused), the stripped ``cells`` as text."""

    line: int
    values: dict[str, Any]
    cells: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def read_rows(spec: TableSpec, rows: list[list[str]], filename: str) -> Iterator[TableRow]:
    """Check the header of ``rows`` now (ValidationError listing every header problem), then yield its lines."""
    read = line_reader(spec, rows, filename)
    return (row for row in map(read, rows[1:], count(2)) if row is not None)


def line_reader(spec: TableSpec, rows: list[list[str]], filename: str) -> Callable[[list[str], int], TableRow | None]:
    """Check the header ``rows[0]`` now (as :func:`read_rows`), and return the reader of one line:
    ``read(raw, line)`` gives the line's :class:`TableRow` (None for a blank line), exactly as
    :func:`read_rows` would. For an import that reads its usual lines faster itself and hands only
    the others (a problem, an unusual cell) to this reader, keeping their messages."""
    header = _checked_header(spec, rows, filename)
    return _LineReader(spec, header)


def _canonical(spec: TableSpec) -> dict[str, str]:
    names = {c.name: c.name for c in spec.columns}
    for c in spec.columns:
        names.update({alias: c.name for alias in c.aliases})
    return names


def _checked_header(spec: TableSpec, rows: list[list[str]], filename: str) -> list[str]:
    canonical = _canonical(spec)
    header = [canonical.get(name, name) for name in parsing.header_row(rows, filename)]
    known = ", ".join(spec.names)
    problems: list[str] = []
    if spec.header_messages == "summary":
        for name in header:
            if name not in canonical:
                problems.append(
                    f"Dòng 1, cột {excerpt(name) or '(trống)'}: tên cột không hợp lệ. Các tên được nhận: {known}."
                )
    else:
        seen: set[str] = set()
        for i, name in enumerate(header):
            if name == "":
                problems.append(f"Dòng 1, cột {parsing.col_letter(i)}: tên cột trống.")
            elif name in seen:
                problems.append(f"Dòng 1, cột {excerpt(name)}: tên cột bị lặp lại.")
            elif name not in canonical:
                problems.append(f"Dòng 1, cột {excerpt(name)}: tên cột không hợp lệ. Các tên được nhận: {known}.")
            seen.add(name)
    problems += [f"Dòng 1: thiếu cột bắt buộc {c.name}." for c in spec.columns if c.required and c.name not in header]
    if spec.at_least_one and not any(name in header for name in spec.at_least_one):
        problems.append(f"Dòng 1: {spec.at_least_one_message}")
    if spec.header_messages == "summary" and len(set(header)) != len(header):
        problems.append("Dòng 1: có tên cột bị lặp lại.")
    if problems:
        raise ValidationError(problems)
    return header


class _LineReader:
    """One file's line reader: each column's reading decided once (see :func:`line_reader`)."""

    def __init__(self, spec: TableSpec, header: list[str]) -> None:
        self.width = len(header)
        position = {name: header.index(name) for name in spec.names if name in header}
        self.where = [(name, position.get(name)) for name in spec.names]
        self.readers = [_Reader.of(column, position.get(column.name)) for column in spec.columns]
        self.plain = [c for c in spec.columns if c.plain_text]
        self.plain_positions = [position[c.name] for c in self.plain if c.name in position]
        self.last_plain = max((i for i, c in enumerate(spec.columns) if c.plain_text), default=-1)
        self.extra_cells = spec.extra_cells

    def __call__(self, raw: list[str], line: int) -> TableRow | None:
        width = self.width
        stripped = [c.strip() for c in raw[:width]]
        if len(stripped) < width:
            stripped += [""] * (width - len(stripped))
        extra = [c for c in raw[width:] if c.strip()] if self.extra_cells and len(raw) > width else []
        if not any(stripped) and not extra:
            return None  # a blank line at the end of a spreadsheet
        cells = {name: ("" if i is None else stripped[i]) for name, i in self.where}
        row = TableRow(line, {}, cells)
        if extra:
            row.problems.append(Problem(line, None, "", f"có {len(extra)} ô dữ liệu nằm ngoài các cột có tên."))
        values = row.values
        last_plain, plain_positions = self.last_plain, self.plain_positions
        for i, reader in enumerate(self.readers):
            values[reader.name] = reader.read(stripped, row)
            # The characters of every plain-text column in one search; the messages only when one is found.
            if i == last_plain and _BAD_CHARACTER.search("".join([stripped[j] for j in plain_positions])):
                _check_characters(self.plain, row)
        return row


# NUL and the lone surrogates: the characters sipas.text never stores (its message names them).
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
# The usual moments of a spreadsheet, read without the general parser: a strict subset of what
# sipas.files.parsing.parse_timestamp accepts, giving the same value; anything else goes to it.
_ISO_MOMENT = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?")
_VN_MOMENT = re.compile(r"(\d{2})/(\d{2})/(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?")


def _moment_parser(kind: str) -> Callable[[str], Any]:
    """A parser of ``date`` or ``datetime`` cells with a fast path for ``YYYY-MM-DD HH:MM[:SS]`` and
    ``dd/mm/yyyy[ HH:MM[:SS]]``; the year bound is read once per file (it is next year)."""
    top = parsing.max_year()
    general = parsing.parse_date if kind == "date" else parsing.parse_timestamp
    time_required = kind == "datetime"

    def parse(text: str) -> Any:
        m = _ISO_MOMENT.fullmatch(text)
        if m:
            y, mo, d, h, mi, sec = m.groups()
            if h is None and time_required:
                return general(text)  # refused there, as ever
        else:
            m = _VN_MOMENT.fullmatch(text)
            if not m:
                return general(text)
            d, mo, y, h, mi, sec = m.groups()
        year = int(y)
        if not parsing.MIN_YEAR <= year <= top:
            return general(text)  # YearOutOfRange there
        moment = datetime(year, int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))  # ValueError: 31/02
        return moment.date() if kind == "date" else moment

    return parse


moment_parser = _moment_parser  # for an import's own fast path (the same values as the reader)


@dataclass(frozen=True)
class _Reader:
    """One column's reading, decided once per file: where its cell is and how a non-empty one parses."""

    column: Column
    name: str
    position: int | None
    parse: Callable[[str], Any] | None  # None: the text itself
    bounded: bool  # a number with a bound

    @staticmethod
    def of(column: Column, position: int | None) -> _Reader:
        kind = column.kind
        parse: Callable[[str], Any] | None
        if kind == "text":
            parse = None
        elif kind == "choice":
            choices = frozenset(column.choices)

            def parse(text: str) -> str:
                if text not in choices:
                    raise ValueError(text)
                return text
        elif kind == "level":
            high = int(column.high or 5)

            def parse(text: str) -> int:
                return parsing.parse_level(text, high)
        elif kind in ("date", "datetime"):
            parse = _moment_parser(kind)
        else:
            parse = parsing.parse_whole if kind == "int" else parsing.parse_number
        bounded = kind in ("int", "decimal") and (column.low is not None or column.high is not None)
        return _Reader(column, column.name, position, parse, bounded)

    def read(self, stripped: list[str], row: TableRow) -> Any:
        """The typed value of this column's cell in ``row``, by the rules of :func:`_cell` (kept there for
        one cell) without deciding the column's kind again for every cell."""
        text = "" if self.position is None else stripped[self.position]
        column = self.column
        if text:
            if self.parse is None:
                value = text
            else:
                try:
                    value = self.parse(text)
                except ValueError:
                    row.problems.append(Problem(row.line, self.name, text, _format(column.invalid, column, text)))
                    return None
                if self.bounded and not _within(column, value):
                    row.problems.append(Problem(row.line, self.name, text, _format(column.invalid, column, text)))
            if column.max_length is not None and len(text) > column.max_length:
                detail = column.too_long or f"dài quá {column.max_length} ký tự."
                row.problems.append(Problem(row.line, self.name, text, detail))
        elif not column.allow_empty:
            row.problems.append(
                Problem(row.line, self.name, text, column.missing or _format(column.invalid, column, text))
            )
            return None
        else:
            value = None
        if column.check is not None:
            detail = column.check(value, row.values)
            if detail:
                row.problems.append(Problem(row.line, self.name, text, detail))
        return value


def _check_characters(columns: list[Column], row: TableRow) -> None:
    for column in columns:
        text = row.cells[column.name]
        message = text_problem(text, f"Dòng {row.line}, cột {column.name}")
        if message:
            row.problems.append(Problem(row.line, column.name, text, message.split(": ", 1)[1]))


def _cell(column: Column, text: str, row: TableRow, parse: Callable[[str], Any] | None = None) -> Any:
    """The typed value of one cell (None when empty or unreadable); each problem is added to ``row.problems``.

    A value that parsed is kept also when it is out of bounds, too long or refused by its ``check``, so
    the import's own rules (a duplicate, say) still see it; the file is refused anyway."""

    def refuse(detail: str) -> None:
        row.problems.append(Problem(row.line, column.name, text, detail))

    value = None
    if text == "":
        if not column.allow_empty:
            refuse(column.missing or _format(column.invalid, column, text))
            return None
    else:
        try:
            value = text if parse is None and column.kind == "text" else (parse or _parser(column))(text)
        except ValueError:
            refuse(_format(column.invalid, column, text))
            return None
        if not _within(column, value):
            refuse(_format(column.invalid, column, text))
        if column.max_length is not None and len(text) > column.max_length:
            refuse(column.too_long or f"dài quá {column.max_length} ký tự.")
    if column.check is not None:
        detail = column.check(value, row.values)
        if detail:
            refuse(detail)
    return value


def _parser(column: Column) -> Callable[[str], Any]:
    """``text`` (not empty) as the column's kind within its bounds; ValueError when it is not one."""
    return _Reader.of(column, None).parse or str


def _within(column: Column, value: Any) -> bool:
    """Whether a number is within the column's bounds (other kinds are bounded while parsed)."""
    if column.kind not in ("int", "decimal"):
        return True
    return (column.low is None or value >= column.low) and (column.high is None or value <= column.high)


def _format(template: str, column: Column, text: str) -> str:
    return template.format(value=excerpt(text), choices=", ".join(column.choices), low=column.low, high=column.high)
