"""The provincial one-stop system's dossier list, imported from CSV/XLSX all or nothing.

Columns as in data-interchange.md §Dossiers, with the Vietnamese headers of the provincial systems
accepted as aliases (compared without regard to case or spacing), and a column mapping the clerk sets
once per source (setting ``dossier_column_maps``: the file's header → the column, ``""`` to ignore it,
``"personal"`` to drop it as personal data). **No personal data is stored**: the applicant's name,
address, phone, e-mail and ID number columns are dropped before any cell is read, and the summary names
them. A re-import adds nothing twice: a known ``dossier_id`` is updated where its values differ, and a
status that changed is kept with the time it was seen (:func:`sipas.db.store_dossiers`).

A due time of midnight (or a due date with no time) means the end of that day: offices do not set a
dossier due at 00:00, and the provincial exports often give only the day.
No Streamlit here; SQL only through :mod:`sipas.db`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from operator import itemgetter, le, lt
from pathlib import Path

from sipas import clock, db
from sipas.errors import ValidationError, raise_file_problems
from sipas.files.parsing import TS_HINT, gc_paused
from sipas.files.reading import read_table
from sipas.files.table import Column, TableSpec, line_reader, moment_parser
from sipas.text import excerpt


@functools.lru_cache(maxsize=4096)  # the same few values (channels, ratings) on every line
def _key(text: str) -> str:
    """A header or value compared loosely: NFC, case-folded, inner spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


# The headers the provincial systems write, per column (compared with _key).
ALIASES: dict[str, tuple[str, ...]] = {
    "dossier_id": ("Mã hồ sơ", "Số hồ sơ", "Mã số hồ sơ"),
    "procedure": ("Tên thủ tục", "Thủ tục", "Tên thủ tục hành chính", "Thủ tục hành chính"),
    "field": ("Lĩnh vực", "Tên lĩnh vực"),
    "received_at": ("Ngày tiếp nhận", "Ngày nhận", "Thời gian tiếp nhận", "Ngày nộp"),
    "due_at": ("Ngày hẹn trả", "Hạn xử lý", "Ngày hẹn trả kết quả", "Hạn giải quyết"),
    "finished_at": ("Ngày có kết quả", "Ngày hoàn thành", "Ngày xử lý xong", "Ngày kết thúc xử lý"),
    "returned_at": ("Ngày trả kết quả", "Ngày trả"),
    "status": ("Trạng thái", "Tình trạng", "Trạng thái hồ sơ"),
    "staff_code": ("Cán bộ tiếp nhận", "Người tiếp nhận", "Mã cán bộ"),
    "submit_channel": ("Hình thức nộp", "Kênh nộp", "Hình thức tiếp nhận"),
    "return_channel": ("Hình thức nhận kết quả", "Hình thức trả kết quả"),
    "paid_online": ("Thanh toán trực tuyến", "Thanh toán trực tuyến (có/không)"),
    "rating": ("Đánh giá", "Đánh giá mức độ hài lòng", "Mức độ hài lòng"),
    "complaint": ("Phản ánh", "Phản ánh, kiến nghị", "Có phản ánh"),
}
# The applicant's personal data: dropped at the door, never read nor stored.
PERSONAL_HEADERS = (
    "applicant_name",
    "address",
    "phone",
    "id_number",
    "email",
    "Họ tên",
    "Họ và tên",
    "Tên người nộp",
    "Người nộp",
    "Người nộp hồ sơ",
    "Chủ hồ sơ",
    "Tên công dân",
    "Tên tổ chức, cá nhân",
    "Tổ chức, cá nhân",
    "Địa chỉ",
    "Địa chỉ thường trú",
    "Số điện thoại",
    "Điện thoại",
    "SĐT",
    "Email",
    "Thư điện tử",
    "Số CCCD",
    "CCCD",
    "Số CMND",
    "CMND",
    "Số CCCD/CMND",
    "CCCD/CMND",
    "Số giấy tờ",
    "Số giấy tờ tùy thân",
    "Số định danh",
    "Số định danh cá nhân",
    "Ngày sinh",
)
# Columns of the exports that carry nothing the product uses (a row number).
IGNORED_HEADERS = ("STT", "Số TT", "Số thứ tự")
# An unknown header this close to a known one (diacritics and spacing aside) is taken for a typo and
# refused: a typo must not silently drop a column. Any other unknown header ("Ghi chú", "Người ký", …:
# the provincial exports carry many) is left unread and named in the summary.
TYPO_SIMILARITY = 0.85

CHANNELS = {"direct": "direct", "online": "online", "postal": "postal", "trực tiếp": "direct",
            "trực tuyến": "online", "qua mạng": "online", "bưu chính công ích": "postal", "bưu chính": "postal",
            "bcci": "postal", "qua bưu chính công ích": "postal"}  # fmt: skip
YES_NO = {"yes": 1, "có": 1, "no": 0, "không": 0}
RATINGS = {"very_satisfied": "very_satisfied", "satisfied": "satisfied", "not_satisfied": "not_satisfied",
           "rất hài lòng": "very_satisfied", "hài lòng": "satisfied", "không hài lòng": "not_satisfied"}  # fmt: skip
COMPLAINT = {"yes": 1, "có": 1, "no": 0, "không": 0}


def _lookup(table: dict, allowed: str):
    def check(value, _row) -> str | None:
        if value is None or _key(value) in table:
            return None
        return f'giá trị "{excerpt(value)}" không hợp lệ, chỉ nhận {allowed}.'

    return check


def _text(name: str, limit: int, **kw) -> Column:
    return Column(name, max_length=limit, too_long=f"dài quá {limit} ký tự.", plain_text=True, **kw)


def _moment(name: str, missing: str | None = None) -> Column:
    return Column(
        name,
        "datetime",
        required=missing is not None,
        allow_empty=missing is None,
        missing=missing,
        invalid=f'giá trị "{{value}}" không hợp lệ, {TS_HINT}.',
    )


CHANNEL_HINT = "direct, online, postal (Trực tiếp, Trực tuyến, Bưu chính công ích) hoặc để trống"
DOSSIER_SPEC = TableSpec(
    columns=(
        _text("dossier_id", 100, required=True, allow_empty=False, missing="thiếu mã hồ sơ."),
        _text("procedure", 500),
        _text("field", 200, required=True, allow_empty=False, missing="thiếu lĩnh vực."),
        _text("status", 200),
        _text("staff_code", 100),
        _moment("received_at", "thiếu ngày tiếp nhận."),
        _moment("due_at", "thiếu ngày hẹn trả."),
        _moment("finished_at"),
        _moment("returned_at"),
        Column("submit_channel", check=_lookup(CHANNELS, CHANNEL_HINT)),
        Column("return_channel", check=_lookup(CHANNELS, CHANNEL_HINT)),
        Column("paid_online", check=_lookup(YES_NO, "yes, no (Có, Không) hoặc để trống")),
        Column(
            "rating",
            check=_lookup(RATINGS, "very_satisfied, satisfied, not_satisfied (Rất hài lòng, Hài lòng, Không hài lòng)"),
        ),
        Column("complaint", check=_lookup(COMPLAINT, "yes (Có), no (Không) hoặc để trống")),
    ),
)


@dataclass(frozen=True)
class DossierImportSummary:
    filename: str
    rows: int
    added: int
    updated: int
    unchanged: int
    status_changes: int
    personal_dropped: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=())

    unknown: tuple[str, ...] = ()

    def message(self) -> str:
        text = (
            f"Đã nhập {self.filename}: {self.added} hồ sơ mới, {self.updated} hồ sơ cập nhật "
            f"({self.status_changes} đổi trạng thái), {self.unchanged} hồ sơ đã có và không đổi; tổng {self.rows} dòng."
        )
        if self.personal_dropped:
            text += (
                " Không lưu dữ liệu cá nhân: đã bỏ các cột " + ", ".join(self.personal_dropped) + " ngay khi đọc tệp."
            )
        else:
            text += " Tệp không có cột dữ liệu cá nhân; không dữ liệu cá nhân nào được lưu."
        if self.ignored:
            text += " Bỏ qua các cột " + ", ".join(self.ignored) + "."
        if self.unknown:
            text += " Không đọc, không lưu các cột không thuộc danh sách hồ sơ: " + ", ".join(self.unknown) + "."
        return text


@dataclass(frozen=True)
class _Header:
    keep: list[int]  # positions of the kept columns in the file
    names: list[str]  # their canonical names (or the file's header when unknown: refused by the reader)
    labels: dict[str, str]  # canonical name → how the file names it, for messages
    personal: tuple[str, ...]
    ignored: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    typos: dict[str, str] = field(default_factory=dict)  # a kept unknown header → the known one it is close to


def _bare(key: str) -> str:
    """A header key without diacritics (đ as d) nor spaces: how a typo is recognised."""
    text = unicodedata.normalize("NFD", key.replace("đ", "d"))
    return "".join(ch for ch in text if not unicodedata.combining(ch) and not ch.isspace())


@functools.cache
def _known_headers() -> dict[str, str]:
    """Every header the import knows, bare (see :func:`_bare`) → how to name it in a message."""
    known = {_bare(_key(c)): c for c in ALIASES}
    for column, aliases in ALIASES.items():
        known.update({_bare(_key(a)): f"{a} ({column})" for a in aliases})
    known.update({_bare(_key(h)): h for h in (*PERSONAL_HEADERS, *IGNORED_HEADERS)})
    return known


def _near_miss(cell: str) -> str | None:
    """The known header ``cell`` is probably a typo of, or None."""
    import difflib

    known = _known_headers()
    close = difflib.get_close_matches(_bare(_key(cell)), list(known), n=1, cutoff=TYPO_SIMILARITY)
    return known[close[0]] if close else None


def _plan_header(header: list[str], mapping: dict[str, str]) -> _Header:
    canonical = {_key(c): c for c in ALIASES}
    for column, aliases in ALIASES.items():
        canonical.update({_key(a): column for a in aliases})
    personal_keys = {_key(h) for h in PERSONAL_HEADERS}
    ignored_keys = {_key(h) for h in IGNORED_HEADERS}
    mapped = {_key(k): v for k, v in mapping.items()}
    keep, names, labels, personal, ignored, unknown, typos = [], [], {}, [], [], [], {}
    for i, cell in enumerate(header):
        k = _key(cell)
        target = mapped.get(k, canonical.get(k))
        if target == "personal" or (target is None and k in personal_keys):
            personal.append(cell)
        elif target == "" or (target is None and k in ignored_keys):
            ignored.append(cell)
        elif target is None and cell and not (near := _near_miss(cell)):
            unknown.append(cell)  # never read: its cells are left behind with the personal ones
        else:
            if target is None and cell:
                typos[cell.strip()] = near  # kept, so the reader refuses it by name
            keep.append(i)
            names.append(target or cell.strip())
            if target and cell.strip() != target:
                labels[target] = f"{cell.strip()} ({target})"
    return _Header(keep, names, labels, tuple(personal), tuple(ignored), tuple(unknown), typos)


def _end_of_day_if_midnight(moment: datetime | None) -> datetime | None:
    if moment is not None and (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment + timedelta(hours=23, minutes=59, seconds=59)
    return moment


def _ts(moment: datetime | None) -> str | None:
    return moment.isoformat(" ", "seconds") if moment is not None else None


def validate_dossiers_table(
    rows: list[list[str]], filename: str, mapping: dict[str, str] | None = None, now: datetime | None = None
) -> tuple[list[tuple], _Header]:
    """Check every row of a dossier list; return (rows in :data:`sipas.db.DOSSIER_FIELDS` order, the header
    plan) or raise ValidationError listing every problem (row, column as the file names it, value).

    >>> rows, plan = validate_dossiers_table(
    ...     [["Mã hồ sơ", "Lĩnh vực", "Họ tên", "Ngày tiếp nhận", "Ngày hẹn trả", "Hình thức nộp"],
    ...      ["H1", "Hộ tịch", "Nguyễn Văn A", "04/03/2024 08:05", "06/03/2024", "Trực tiếp"]], "ds.csv",
    ...     now=datetime(2024, 3, 7))
    >>> rows[0][:5], rows[0][9], plan.personal
    (('H1', None, 'Hộ tịch', '2024-03-04 08:05:00', '2024-03-06 23:59:59'), 'direct', ('Họ tên',))
    """
    now = now or clock.now()
    if not rows or not any(c.strip() for c in rows[0]):
        raise ValidationError(f"Tệp {filename}: không có dòng tiêu đề.")
    plan = _plan_header([c.strip() for c in rows[0]], mapping or {})
    keep = plan.keep
    width = len(rows[0])
    try:
        read_line = line_reader(DOSSIER_SPEC, [plan.names], filename)
    except ValidationError as e:
        raise ValidationError([_hinted(p, plan.typos) for p in e.problems]) from None
    fast = _FastLine.of(plan, width, now)
    if fast is not None:
        whole = fast.whole_file(rows, width)
        if whole:
            return whole, plan
    problems: list[str] = []
    out: list[tuple] = []
    seen: dict[str, int] = {}
    label = plan.labels.get
    for line, raw in enumerate(islice(rows, 1, None), start=2):
        # The usual line at C speed (every kept cell plain and valid, no duplicate); any other line is read
        # cell by cell by the table reader, with its messages. Personal cells are never picked.
        if fast is not None and len(raw) == width:
            values = fast.values(raw)
            if values is not None:
                dossier_id = values[0]
                if dossier_id not in seen:
                    seen[dossier_id] = line
                    if not problems:
                        out.append(values)
                    continue
        row = read_line(_kept(raw, keep, width), line)
        if row is None:
            continue  # a blank line (personal cells aside) at the end of a spreadsheet
        if row.problems:
            problems += [
                f"Dòng {p.row}, cột {label(p.column, p.column)}: {p.detail}" if p.column else str(p)
                for p in row.problems
            ]
        v = row.values
        received, due, finished, returned = v["received_at"], v["due_at"], v["finished_at"], v["returned_at"]
        due = _end_of_day_if_midnight(due)
        if received and received > now:
            problems.append(
                f"Dòng {line}, cột {label('received_at', 'received_at')}: "
                f'"{row.cells["received_at"]}" ở trong tương lai.'
            )
        for name, moment in (("due_at", due), ("finished_at", finished), ("returned_at", returned)):
            if moment and received and moment < received:
                problems.append(
                    f'Dòng {line}, cột {label(name, name)}: "{row.cells[name]}" trước ngày tiếp nhận '
                    f'"{row.cells["received_at"]}".'
                )
        dossier_id = v["dossier_id"]
        if dossier_id:
            if dossier_id in seen:
                problems.append(
                    f'Dòng {line}, cột {label("dossier_id", "dossier_id")}: mã hồ sơ "{excerpt(dossier_id)}" '
                    f"trùng với dòng {seen[dossier_id]}."
                )
                continue
            seen[dossier_id] = line
        if problems:
            continue  # nothing will be stored: do not build rows
        out.append(
            (
                dossier_id,
                v["procedure"],
                v["field"],
                _ts(received),
                _ts(due),
                _ts(finished),
                _ts(returned),
                v["status"],
                v["staff_code"],
                CHANNELS[_key(v["submit_channel"])] if v["submit_channel"] else None,
                CHANNELS[_key(v["return_channel"])] if v["return_channel"] else None,
                YES_NO[_key(v["paid_online"])] if v["paid_online"] else None,
                RATINGS[_key(v["rating"])] if v["rating"] else None,
                COMPLAINT[_key(v["complaint"])] if v["complaint"] else 0,
            )
        )
    raise_file_problems(problems, len(out) or len(seen), filename)
    return out, plan


_REFUSED = object()  # a cell the fast path leaves to the table reader


class _Memo(dict):
    """Raw cell → its stored value (or :data:`_REFUSED`), each distinct cell worked out once per file."""

    def __init__(self, work):
        super().__init__()
        self.work = work

    def __missing__(self, raw: str):
        value = self[raw] = self.work(raw.strip())
        return value


def _lookup_memo(table: dict, empty) -> _Memo:
    return _Memo(lambda text: table.get(_key(text), _REFUSED) if text else empty)


def _moment_memo(parse, days: _Memo, due: bool = False) -> _Memo:
    """Stored moments (text) of a column's cells. The usual cell (``dd/mm/yyyy HH:MM[:SS]`` or
    ``YYYY-MM-DD HH:MM[:SS]``) is its day and its time of day, each worked out once per file: a day of a
    valid moment is a valid day, a time one of 00:00:00–23:59:59, as ``parse`` (the reader's) decides."""

    def work(text: str):
        if not text:
            return None
        if _PLAIN_MOMENT.fullmatch(text):
            day, time = days[text[:10]], _CLOCK.get(text[11:]) or _clock(text[11:])
            if day is _REFUSED or time is _REFUSED:
                return _REFUSED
            return f"{day} 23:59:59" if due and time == "00:00:00" else f"{day} {time}"
        try:
            moment = parse(text)
        except ValueError:
            return _REFUSED
        stored = _ts(_end_of_day_if_midnight(moment) if due else moment)
        # Compared as text below: only the plain stored form (no offset) may take the fast path.
        return stored if moment.tzinfo is None and len(stored) == 19 else _REFUSED

    return _Memo(work)


def _day_memo(parse) -> _Memo:
    """``dd/mm/yyyy`` or ``YYYY-MM-DD`` → the stored day, as the reader reads that day at 00:00."""

    def work(text: str):
        if not _PLAIN_DAY.fullmatch(text):
            return _REFUSED
        try:
            return parse(f"{text} 00:00").isoformat()[:10]
        except ValueError:
            return _REFUSED

    memo = _Memo(work)
    memo[""] = None  # an empty cell
    return memo


_PLAIN_MOMENT = re.compile(r"(?:[0-9]{2}/[0-9]{2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}) [0-9]{2}:[0-9]{2}(?::[0-9]{2})?")
_CLOCK: dict[str, str] = {}  # "HH:MM[:SS]" → "HH:MM:SS" (valid ones only)
_PLAIN_DAY = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2})?")
_DAY_PART, _SEPARATOR, _TIME_PART = itemgetter(slice(0, 10)), itemgetter(slice(10, 11)), itemgetter(slice(11, None))


def _clock(text: str):
    h, m, s = int(text[:2]), int(text[3:5]), int(text[6:8] or 0)
    if h > 23 or m > 59 or s > 59:
        return _REFUSED
    stored = _CLOCK[text] = f"{text[:5]}:{s:02d}"
    return stored


def _clock_memo(due: bool) -> _Memo:
    """A plain cell's time of day as stored (a due time of midnight: the end of that day)."""

    def work(text: str):
        if not _PLAIN_CLOCK.fullmatch(text):
            return _REFUSED
        time = _CLOCK.get(text) or _clock(text)
        return "23:59:59" if due and time == "00:00:00" else time

    memo = _Memo(work)
    memo[""] = None
    return memo


def _joined(day, time):
    """A plain cell's stored moment from its day and time of day; refused when either is not plain or valid
    (or the cell is a day alone): then the column is read cell by cell."""
    if day is None:
        return None  # an empty cell
    return _REFUSED if day is _REFUSED or time is _REFUSED or time is None else f"{day} {time}"


def _never_stored(text: str) -> bool:
    """Whether ``text`` holds NUL or a lone surrogate (what :data:`_BAD_CHARACTER` finds), at C speed."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _before(moment, received) -> bool:
    return moment is not None and moment < received


_TEXT_FIELDS = ("dossier_id", "procedure", "field", "status", "staff_code")


@dataclass(frozen=True)
class _FastLine:
    """The usual dossier line read without the table reader: the same values, or None when any cell
    (or the line's times) would draw a message, so that the reader reads it instead."""

    pick: Callable[[list[str]], tuple]  # the kept cells in DOSSIER_FIELDS order
    pad: bool  # a column the file lacks reads as an empty cell appended to the line
    limits: tuple[int, ...]  # max length of each text column (_TEXT_FIELDS order)
    now: str
    received: _Memo
    due: _Memo
    moment: _Memo
    channel: _Memo
    yes_no: _Memo
    rating: _Memo
    complaint: _Memo
    days: _Memo
    clocks: _Memo
    due_clocks: _Memo

    @staticmethod
    def of(plan: _Header, width: int, now: datetime) -> _FastLine | None:
        if "" in plan.names or now.tzinfo is not None:
            return None  # an empty header cell shifts the reader's columns: every line cell by cell
        where = dict(zip(plan.names, plan.keep, strict=True))
        pick = itemgetter(*[where.get(name, width) for name in db.DOSSIER_FIELDS])
        columns = {c.name: c for c in DOSSIER_SPEC.columns}
        parse = moment_parser("datetime")
        days = _day_memo(parse)
        return _FastLine(
            pick,
            any(name not in where for name in db.DOSSIER_FIELDS),
            tuple(columns[name].max_length for name in _TEXT_FIELDS),
            _ts(now),
            _moment_memo(parse, days),
            _moment_memo(parse, days, due=True),
            _moment_memo(parse, days),
            _lookup_memo(CHANNELS, None),
            _lookup_memo(YES_NO, None),
            _lookup_memo(RATINGS, None),
            _lookup_memo(COMPLAINT, 0),
            days,
            _clock_memo(due=False),
            _clock_memo(due=True),
        )

    def whole_file(self, rows: list[list[str]], width: int) -> list[tuple] | None:
        """Every line of a file with only usual lines, column by column at C speed (the same values as
        :meth:`values` line by line); None when any line is not usual (then line by line)."""
        lines = rows[1:]
        if self.pad or not lines or set(map(len, lines)) != {width}:
            return None
        (did, procedure, fld, received, due, finished, returned, status, staff, submit, ret_channel, paid, rating,
         complaint) = zip(*map(self.pick, lines), strict=True)  # fmt: skip
        texts = [list(map(str.strip, column)) for column in (did, procedure, fld, status, staff)]
        if (
            not all(texts[0])
            or not all(texts[2])
            or any(max(map(len, column)) > limit for column, limit in zip(texts, self.limits, strict=True))
            or any(_never_stored("".join(column)) for column in texts)
            or len(set(texts[0])) != len(texts[0])
        ):
            return None
        received = self._moments(received, self.received, self.clocks)
        due = self._moments(due, self.due, self.due_clocks)
        finished = self._moments(finished, self.moment, self.clocks)
        returned = self._moments(returned, self.moment, self.clocks)
        if (
            None in received
            or None in due
            or any(_REFUSED in column for column in (received, due, finished, returned))
            or max(received) > self.now
            or any(map(lt, due, received))
            or any(map(_before, finished, received))
            or any(map(_before, returned, received))
        ):
            return None
        stored = [
            list(map(memo.__getitem__, column))
            for memo, column in (
                (self.channel, submit),
                (self.channel, ret_channel),
                (self.yes_no, paid),
                (self.rating, rating),
                (self.complaint, complaint),
            )
        ]
        if any(_REFUSED in column for column in stored):
            return None
        procedure, status, staff = ([text or None for text in column] for column in (texts[1], texts[3], texts[4]))
        return list(
            zip(texts[0], procedure, texts[2], received, due, finished, returned, status, staff, *stored, strict=True)
        )

    def _moments(self, cells: tuple[str, ...], memo: _Memo, clocks: _Memo) -> list:
        """A column of moments as stored: the plain cells split into their day and time of day (each checked
        and converted once per file) at C speed; a column with any other cell, cell by cell (``memo``)."""
        stripped = list(map(str.strip, cells))
        if set(map(_SEPARATOR, stripped)) <= {" ", ""}:
            days = map(self.days.__getitem__, map(_DAY_PART, stripped))
            moments = list(map(_joined, days, map(clocks.__getitem__, map(_TIME_PART, stripped))))
            if _REFUSED not in moments:
                return moments
        return list(map(memo.__getitem__, cells))

    def values(self, raw: list[str]) -> tuple | None:
        """The line as stored (DOSSIER_FIELDS order), or None to leave it to the table reader."""
        (did, procedure, fld, received, due, finished, returned, status, staff, submit, ret_channel, paid, rating,
         complaint) = self.pick(raw + [""] if self.pad else raw)  # fmt: skip
        texts = (did.strip(), procedure.strip(), fld.strip(), status.strip(), staff.strip())
        if (
            not texts[0]
            or not texts[2]
            or not all(map(le, map(len, texts), self.limits))
            or _BAD_CHARACTER.search("".join(texts))
        ):
            return None
        received, finished, returned = self.received[received], self.moment[finished], self.moment[returned]
        due = self.due[due]
        if (
            received is None
            or received is _REFUSED
            or due is None
            or due is _REFUSED
            or finished is _REFUSED
            or returned is _REFUSED
            or received > self.now
            or due < received
            or (finished is not None and finished < received)
            or (returned is not None and returned < received)
        ):
            return None
        stored = (
            self.channel[submit],
            self.channel[ret_channel],
            self.yes_no[paid],
            self.rating[rating],
            self.complaint[complaint],
        )
        if _REFUSED in stored:
            return None
        return (texts[0], texts[1] or None, texts[2], received, due, finished, returned, texts[3] or None,
                texts[4] or None, *stored)  # fmt: skip


# NUL and the lone surrogates: what the table reader refuses in a plain-text column (sipas.text).
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def _hinted(problem: str, typos: dict[str, str]) -> str:
    """A header problem, with the known header a refused one is close to."""
    for cell, near in typos.items():
        if problem.startswith(f"Dòng 1, cột {cell}: tên cột không hợp lệ."):
            return f'{problem} Tên này gần giống "{near}": hãy sửa tên cột, hoặc đặt bảng đối chiếu cột cho nguồn.'
    return problem


def _kept(raw: list[str], keep: list[int], width: int) -> list[str]:
    """The kept cells of a line (personal ones left behind), then any cell right of the header's last
    column (kept, so the reader reports data outside named columns)."""
    if len(raw) == width:
        return [raw[i] for i in keep]
    return [raw[i] if i < len(raw) else "" for i in keep] + raw[width:]


def import_dossiers(
    conn: sqlite3.Connection,
    data: bytes,
    filename: str,
    *,
    source: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
) -> DossierImportSummary:
    """Validate a whole dossier list (CSV or XLSX), then store it in one transaction (all or nothing).

    ``source`` names the column mapping (setting ``dossier_column_maps``) to apply to the file's headers."""
    from sipas.admin import settings  # the settings module sits above the files layer

    mapping = {}
    if source:
        maps = settings.get(conn, "dossier_column_maps") or {}
        if source not in maps:
            known = ", ".join(sorted(maps)) or "chưa có nguồn nào"
            raise ValidationError(f'Không có bảng đối chiếu cột cho nguồn "{excerpt(source)}" ({known}).')
        mapping = maps[source]
    table = read_table(data, filename)
    with gc_paused():  # the rows as tuples, then their SQL parameters (none in a cycle)
        rows, plan = validate_dossiers_table(table, filename, mapping, now=now)
        del table
        stamp = clock.format_ts(now or clock.now())
        with db.transaction(conn):
            import_id = db.record_import(
                conn, "dossiers", filename, hashlib.sha256(data).hexdigest(), len(rows), 0, 0, actor
            )
            added, updated, unchanged, changes = db.store_dossiers(conn, rows, import_id, stamp)
            db.set_import_counts(conn, import_id, added, updated + unchanged)
    return DossierImportSummary(
        Path(filename).name, len(rows), added, updated, unchanged, changes, plan.personal, plan.ignored, plan.unknown
    )
