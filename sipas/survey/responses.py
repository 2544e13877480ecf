"""Survey responses: the kiosk's submission, the responses file import, and question rotation.

Both paths end in :func:`sipas.db.insert_response(s)`, where a unique token makes every write
idempotent: a double tap, a reload or a re-imported file never counts a survey twice.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import random
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from itertools import compress
from pathlib import Path

from sipas import clock, db  # intake: what follows a store (cases, effects)
from sipas.admin import settings
from sipas.cases import intake
from sipas.catalog import CONDUCT_ELEMENT, WAIT_BUCKETS, Questionnaire, questionnaires, wait_bucket_for_minutes
from sipas.catalog.questions import MULTI_SEPARATOR, answer_problem, import_columns, parse_cell
from sipas.errors import ValidationError, raise_file_problems
from sipas.files import legacy, parsing, reading
from sipas.files.table import Column, TableSpec, read_rows
from sipas.text import excerpt, text_problem

TZ = clock.TZ

MAX_COMMENT = 2000
BASE_COLUMNS = (
    "response_id",
    "submitted_at",
    "questionnaire",
    "channel",
    "field",
    "staff_code",
    "wait_minutes",
    "overall",
    "comment",
)
CHANNELS = ("kiosk", "qr", "paper")
# A kiosk survey is stored under its server-issued start token with this prefix, which an imported
# response_id may not take: the two never share a namespace.
KIOSK_PREFIX = "kiosk:"
# A phone survey answered with a single-use QR code (sipas.survey.qr) is stored as "qr:<sha256 of the
# code>": one code, at most one survey; an imported response_id may not take this prefix either.
QR_PREFIX = "qr:"


# ---------------------------------------------------------------------------------------------
# Which criteria a respondent is asked
# ---------------------------------------------------------------------------------------------


def choose_criteria(
    q: Questionnaire, mode: str, rotating: int, asked: Mapping[str, int], rng: random.Random | None = None
) -> list[str]:
    """The criteria one respondent is asked, in questionnaire order.

    ``full``: all of them. ``short``: every criterion of the staff-conduct element plus ``rotating``
    of the others, the least asked so far first (ties broken at random), so that over many surveys
    every criterion gets about the same number of answers.

    >>> from sipas.catalog import questionnaire
    >>> q = questionnaire("sipas-2023")
    >>> picked = choose_criteria(q, "short", 2, {}, random.Random(1))
    >>> [c for c in picked if c.startswith("TC3.")]
    ['TC3.1', 'TC3.2', 'TC3.3', 'TC3.4', 'TC3.5']
    >>> len(picked)
    7
    """
    codes = list(q.criterion_codes)
    if mode == "full":
        return codes
    rng = rng or random.Random()
    fixed = (
        [c.code for c in q.element(CONDUCT_ELEMENT).criteria]
        if any(e.code == CONDUCT_ELEMENT for e in q.elements)
        else []
    )
    pool = [c for c in codes if c not in fixed]
    ranked = sorted(pool, key=lambda c: (asked.get(c, 0), rng.random()))
    chosen = set(fixed) | set(ranked[: max(0, rotating)])
    return [c for c in codes if c in chosen]


# ---------------------------------------------------------------------------------------------
# Kiosk submission
# ---------------------------------------------------------------------------------------------


@dataclass
class KioskSurvey:
    """What one citizen entered on the tablet, before it is stored."""

    token: str
    questionnaire: str
    asked: list[str]
    answers: dict[str, int | None]  # criterion -> 1..5, None = "Không ý kiến"
    overall: int | None = None
    wait_bucket: str | None = None
    field: str | None = None
    staff_code: str | None = None
    comment: str | None = None
    # The version's extra questions answered (sipas.catalog.questions): code -> answer.
    extra: dict[str, object] = dataclass_field(default_factory=dict)
    started_at: datetime | None = None

    def answered_count(self) -> int:
        """Answers that carry an opinion (a level 1–5), including the overall question."""
        return sum(v is not None for v in self.answers.values()) + (self.overall is not None)


def extra_problems(q: Questionnaire | None, extra: Mapping) -> list[str]:
    """What is wrong with the answers to a version's extra questions (unknown codes, bad values, text)."""
    if not isinstance(extra, Mapping):
        return ["Câu trả lời thêm không đúng dạng."]
    problems = []
    for code, value in extra.items():
        question = q.extra_by_code.get(code) if q else None
        if question is None:
            problems.append(f"Phiếu {q.code if q else ''} không có câu hỏi {str(code)[:40]}.")
            continue
        problem = answer_problem(question, value)
        if problem is None:
            problem = text_problem(value, f"Câu {code}")
        if problem:
            problems.append(problem)
    return problems


def validate_kiosk_survey(s: KioskSurvey) -> list[str]:
    """Problems that stop a submission (Vietnamese, shown to the citizen)."""
    problems = []
    if s.answered_count() == 0:
        problems.append("Xin Ông/Bà chọn ít nhất một mức đánh giá trước khi gửi.")
    if s.comment is not None and len(s.comment) > MAX_COMMENT:
        problems.append(f"Góp ý dài quá {MAX_COMMENT} ký tự ({len(s.comment)} ký tự).")
    for code, value in s.answers.items():
        if code not in s.asked or value not in (None, 1, 2, 3, 4, 5):
            problems.append(f"Câu trả lời không hợp lệ cho {code}.")
    if s.overall not in (None, 1, 2, 3, 4, 5):
        problems.append("Câu trả lời không hợp lệ cho câu hỏi chung.")
    # What the tablet itself fills in: refused here rather than by a database constraint, so a
    # caller gets a ValidationError and never a raw sqlite3 error.
    q = questionnaires().get(s.questionnaire)
    if q is None:
        problems.append(f'Không có phiên bản phiếu "{s.questionnaire}".')
    elif not q.code_set.issuperset(s.asked):
        problems.append(f"Tiêu chí không thuộc phiếu {s.questionnaire}.")
    problems += extra_problems(q, s.extra)
    if s.wait_bucket not in (None, *WAIT_BUCKETS):
        problems.append("Câu trả lời không hợp lệ cho thời gian chờ.")
    if s.field is not None and len(s.field) > 200:
        problems.append("Lĩnh vực dài quá 200 ký tự.")
    if not isinstance(s.token, str) or not s.token:
        problems.append("Phiếu không có mã.")
    for label, value in (("Góp ý", s.comment), ("Lĩnh vực", s.field), ("Thông tin thêm", [s.token, s.staff_code])):
        problem = text_problem(value, label)
        if problem:
            problems.append(problem)
    return problems


def submit_kiosk_survey(
    conn: sqlite3.Connection,
    s: KioskSurvey,
    *,
    now: datetime | None = None,
    device: str | None = None,
    out_of_hours: bool = False,
    suspect: str | None = None,
    channel: str = "kiosk",
    dossier_id: str | None = None,
) -> bool:
    """Store a kiosk survey exactly once; True if stored now, False if its token was already stored.

    ``suspect``: why it looks like misuse; it is then stored excluded with that reason (left out of
    every figure and of the conduct cases until a clerk restores it). ``channel``: "kiosk" (the counter
    tablet) or "qr" (a phone, :mod:`sipas.survey.qr`); ``dossier_id``: the dossier the survey rates (one
    dossier, at most one survey: a second one raises ``sqlite3.IntegrityError``).
    Raises ValidationError when it cannot be submitted (no answer at all, comment too long).
    """
    if channel not in ("kiosk", "qr"):
        raise ValueError(f"not a survey channel of a device: {channel!r}")
    problems = validate_kiosk_survey(s)
    if s.staff_code is not None and s.staff_code not in db.staff_codes(conn):
        problems.append(f'Không có cán bộ mã "{s.staff_code}".')
    if problems:
        raise ValidationError(problems)
    now = now or clock.now()
    # Every asked criterion gets a row: a value, or NULL for "Không ý kiến"/skipped.
    answers = {code: s.answers.get(code) for code in s.asked}
    comment = s.comment if s.comment and s.comment.strip() else None
    response = {
        "token": s.token,
        "submitted_at": clock.format_ts(now),
        "questionnaire": s.questionnaire,
        "channel": channel,
        "field": s.field,
        "staff_code": s.staff_code,
        "wait_bucket": s.wait_bucket,
        "overall": s.overall,
        "comment": comment,
        **db.extra_to_columns(s.extra),
        "device": device,
        "duration_seconds": (now - s.started_at).total_seconds() if s.started_at else None,
        "out_of_hours": out_of_hours,
        "exclude_reason": suspect,
        "dossier_id": dossier_id,
    }
    stored = db.insert_response(conn, response, answers)
    if stored:
        _after_store(conn, now, soon=True)
    return stored


def _after_store(conn: sqlite3.Connection, now: datetime | None = None, *, soon: bool = False) -> None:
    """The domain's follow-up once responses are committed (cases, effects); never fails the store.
    ``soon``: by this process's intake worker just after the submit returns (the kiosk path); else at once,
    :data:`~sipas.cases.intake.IMPORT_BATCH` complaints per transaction (a responses file)."""
    try:
        if soon:
            intake.after_responses_soon(conn, now)
        else:
            intake.after_responses(conn, now, intake.IMPORT_BATCH)
    except Exception:  # noqa: BLE001 - the survey is stored; the next store catches up
        logging.getLogger(__name__).exception("case intake request failed")


# ---------------------------------------------------------------------------------------------
# Responses file import (CSV or XLSX), all or nothing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatSource:
    """An earlier import that already holds some of a file's surveys (same content, any file format)."""

    import_id: int | None
    filename: str | None
    imported_at: str | None
    surveys: int

    def label(self) -> str:
        if self.import_id is None:
            return "một lần nhập trước (không rõ tệp)"
        when = clock.format_datetime(self.imported_at) if self.imported_at else ""
        return f"tệp {self.filename or '(không tên)'} (lần nhập số {self.import_id}{', lúc ' + when if when else ''})"


@dataclass(frozen=True)
class ImportSummary:
    filename: str
    rows: int
    added: int
    present: int
    # Surveys of this file whose content was already imported from an earlier file (another format,
    # column order or encoding): not stored unless the clerk confirms (``allow_repeats``).
    repeats: int = 0
    repeat_sources: tuple[RepeatSource, ...] = ()
    repeats_stored: bool = False
    # What the reader noticed in the file (another encoding or separator, dates read day-first).
    notes: tuple[str, ...] = ()

    def message(self) -> str:
        text = (
            f"Đã nhập {self.added} phiếu mới từ {self.filename}"
            f" ({self.present} phiếu đã có từ trước, bỏ qua; tổng {self.rows} dòng)."
        )
        if self.repeats:
            sources = "; ".join(f"{s.surveys} phiếu từ {s.label()}" for s in self.repeat_sources)
            if self.repeats_stored:
                text += (
                    f" Theo xác nhận của người nhập, đã lưu cả {self.repeats} phiếu có nội dung trùng với phiếu"
                    f" đã nhập trước ({sources})."
                )
            else:
                text += f" {self.repeat_warning()}"
        for note in self.notes:
            text += f" {note}"
        return text

    def repeat_warning(self) -> str:
        """What the clerk is told about the repeats left out, and what to do if they are other surveys."""
        sources = "; ".join(f"{s.surveys} phiếu từ {s.label()}" for s in self.repeat_sources)
        return (
            f"{self.repeats} phiếu có nội dung giống hệt phiếu đã nhập trước ({sources}) nên chưa được lưu."
            " Nếu đó đúng là những phiếu khác (người khác trả lời giống hệt), hãy xác nhận để nhập cả"
            " (trên trang: nút «Nhập cả các phiếu trùng»; dòng lệnh: thêm --allow-repeats)."
        )


read_table = reading.read_table  # CSV/TXT, XLSX or HTML .xls rows as text (one definition: sipas.files.reading)


def parse_timestamp(text: str) -> datetime:
    """Commune-local naive datetime from ``YYYY-MM-DD HH:MM[:SS]``, ``dd/mm/yyyy[ HH:MM[:SS]]`` or
    ISO 8601 with an offset (see :mod:`sipas.files.parsing`; years outside 2000–next year refused).

    >>> parse_timestamp("2024-03-05 08:15")
    datetime.datetime(2024, 3, 5, 8, 15)
    >>> parse_timestamp("2024-03-05T01:15:00Z")
    datetime.datetime(2024, 3, 5, 8, 15)
    """
    return parsing.parse_timestamp(text)


def parse_level(text: str, top: int = 5) -> int | None:
    """'' → None; '4', '4.0' or '4,0' → 4; anything else (4.5, 0, 6, x) raises ValueError.

    >>> parse_level("4.0"), parse_level("")
    (4, None)
    """
    return parsing.parse_level(text, top)


def _picker(indexes: list[int]):
    """``cells -> tuple of cells[i] for i in indexes`` (operator.itemgetter, also for 0 or 1 index)."""
    if len(indexes) >= 2:
        return operator.itemgetter(*indexes)
    return lambda cells: tuple(cells[i] for i in indexes)


_LEVELS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}  # the usual cells, without parse_level's regex
_PLAIN_CELLS = frozenset(("", *_LEVELS))  # a criterion cell that needs no parse_level (nor a message)
_BASE_READ = tuple(c for c in BASE_COLUMNS if c != "comment")  # the comment is read as typed, unstripped
_TS_PLAIN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_WHOLE = re.compile(r"(\d+)(?:\.0+)?")
_NEVER_STORED = re.compile("[\x00\ud800-\udfff]")  # what sipas.text.text_problem refuses


def _norm_text(text: str | None) -> str:
    """Text as the fingerprint reads it: NFC, runs of white space as one space, no outer space."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


_FINGERPRINT_EXTRA = db.EXTRA_COLUMNS  # the extra answers with columns of their own, in a fixed order


def survey_fingerprint(response: Mapping, answers: Mapping[str, int | None]) -> str:
    """A survey's content fingerprint, from its parsed, normalised values (not the file's cells): the
    same survey read from a CSV, an XLSX, with its columns in another order or from another encoding has
    the same one. Its time (to the second, as stored), form, channel, lĩnh vực, staff, wait, overall,
    every answer, the extra answers and the comment (NFC, white space collapsed) all count.

    >>> r = {"submitted_at": "2026-03-05 08:15:00", "questionnaire": "sipas-2023"}
    >>> a = survey_fingerprint(r, {"TC1.1": 4, "TC1.2": 5})
    >>> b = survey_fingerprint(dict(reversed(r.items())), {"TC1.2": 5, "TC1.1": 4})
    >>> a == b, len(a)
    (True, 32)
    """
    return _fingerprint(response, repr(sorted(answers.items())))  # in C: a list of (code, level) pairs


def _fingerprint(response: Mapping, answers_repr: str) -> str:
    """:func:`survey_fingerprint` with the answers' part given (``repr`` of the sorted (code, level) pairs)."""
    get = response.get
    parts = [
        get("submitted_at") or "",
        get("questionnaire") or "",
        get("channel") or "paper",
        _norm_field(get("field")),
        get("staff_code") or "",
        str(get("wait_minutes")),
        str(get("overall")),
        answers_repr,
        _norm_text(get("comment")),
        _NO_EXTRA_REPR if (extra := list(map(get, _FINGERPRINT_EXTRA))) == _NO_EXTRA else repr(extra),
        _norm_text(get("extra")),
    ]
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


_NO_EXTRA = [None] * len(_FINGERPRINT_EXTRA)  # a row without extra answers (most), and its repr made once
_NO_EXTRA_REPR = repr(_NO_EXTRA)
_NORMED_FIELDS: dict[str, str] = {}  # a file names a handful of lĩnh vực: each normalised once


def _norm_field(text: str | None) -> str:
    """:func:`_norm_text` of a lĩnh vực, remembered."""
    if not text:
        return ""
    normed = _NORMED_FIELDS.get(text)
    if normed is None:
        if len(_NORMED_FIELDS) > 10_000:
            _NORMED_FIELDS.clear()
        normed = _NORMED_FIELDS[text] = _norm_text(text)
    return normed


class _PairReprs(dict):
    """(criterion, level) -> its ``repr``, made once: a file's answers are a few dozen distinct pairs."""

    def __missing__(self, pair: tuple[str, int]) -> str:
        text = self[pair] = repr(pair)
        return text


_PAIR_REPRS = _PairReprs()


def _answers_repr(answers: Mapping[str, int]) -> str:
    """``repr(sorted(answers.items()))`` (what :func:`survey_fingerprint` reads) for a validated row, whose
    levels are ints 1–5: a list's repr is its items' reprs joined by ", ", and each pair's is made once
    (a third of the cost of the repr; a bool or float level, equal to an int as a key, never gets here)."""
    if len(_PAIR_REPRS) > 10_000:
        _PAIR_REPRS.clear()
    return "[" + ", ".join(map(_PAIR_REPRS.__getitem__, sorted(answers.items()))) + "]"


def _row_token(cells: Sequence[str], occurrence: int) -> str:
    digest = hashlib.sha256("\x1f".join(cells).encode("utf-8") + b"#" + str(occurrence).encode()).hexdigest()
    return f"import:{digest[:32]}"


def _cell_level(text: str, idx: int, col: str, err) -> int | None:
    """A non-empty cell as a level 1–5 (``4``, ``4.0``, ``4,0``), or None with its message given to ``err``."""
    level = _LEVELS.get(text)
    if level is None:
        try:
            level = parse_level(text)
        except ValueError:
            err(f'Dòng {idx}, cột {col}: giá trị "{excerpt(text)}" không hợp lệ, chỉ nhận 1–5.')
    return level


def _criterion_answers(cells, criterion_cols, q, version, own_codes, idx, err) -> dict[str, int | None]:
    """A row's criterion cells one by one, each problem reported with its row and column."""
    answers: dict[str, int | None] = {}
    own = own_codes[version] if q else frozenset()
    for col, i in criterion_cols:
        text = cells[i]
        if text == "":
            continue
        if q and col not in own:
            err(f"Dòng {idx}, cột {col}: tiêu chí này không thuộc phiếu {version}.")
            continue
        level = _cell_level(text, idx, col, err)
        if level is not None:
            answers[col] = level
    return answers


def responses_spec(versions: Sequence[Questionnaire]) -> TableSpec:
    """The columns a responses file may have when its rows use ``versions``: the base columns, every
    criterion of those versions, and every extra question's column(s) (:func:`catalog.questions.import_columns`).

    Only the header is read through it (:func:`sipas.files.table.read_rows` checks names, repeats and the
    required ``submitted_at``); the rows take the validator's own fast path, with the same messages.
    """
    criteria = dict.fromkeys(c for q in versions for c in q.criterion_codes)
    extra = dict.fromkeys(col for q in versions for x in q.extra for col in import_columns(x))
    columns = [Column(name, required=name == "submitted_at") for name in BASE_COLUMNS]
    columns += [Column(c, "level") for c in criteria] + [Column(c) for c in extra if c not in criteria]
    return TableSpec(columns=tuple(columns))


def _extra_answers(cells: list[str], extra_cols, q: Questionnaire | None, idx: int, err) -> dict:
    """A row's answers to its version's extra questions (a grid's item cells gathered into one answer)."""
    out: dict[str, object] = {}
    for col, i, code, item in extra_cols:
        text = cells[i]
        if text == "":
            continue
        question = q.extra_by_code.get(code) if q else None
        if question is None or (item is not None and item not in question.item_codes):
            if q:
                err(f"Dòng {idx}, cột {col}: câu hỏi này không thuộc phiếu {q.code}.")
            continue
        try:
            value = parse_cell(question, text)
        except ValueError as exc:
            err(f'Dòng {idx}, cột {col}: giá trị "{excerpt(text)}" không hợp lệ, {exc}.')
            continue
        if item is None:
            out[code] = value
        else:
            out.setdefault(code, {})[item] = value
    return out


@dataclass
class _Columns:
    """Where the validator reads each kind of cell in a responses file (looked up once per file)."""

    header: list[str]
    base_cells: Callable
    text_cols: list[tuple[str, int]]
    criterion_cols: list[tuple[str, int]]
    criterion_names: list[str]
    criterion_cells: Callable
    extra_cols: list[tuple[str, int, str, str | None]]
    comment: int | None

    @classmethod
    def of(cls, header: list[str]) -> _Columns:
        n_cols = len(header)
        criterion_cols = [(col, i) for i, col in enumerate(header) if col.startswith("TC")]
        base = set(BASE_COLUMNS)
        extra_cols = []
        for i, col in enumerate(header):
            if col not in base and not col.startswith("TC"):
                code, _, item = col.partition(".")
                extra_cols.append((col, i, code, item or None))
        return cls(
            header=header,
            # The base columns in one call; a column the file lacks reads the "" appended to the row.
            base_cells=_picker([header.index(c) if c in header else n_cols for c in _BASE_READ]),
            text_cols=[(col, header.index(col)) for col in ("response_id", "field", "comment") if col in header],
            criterion_cols=criterion_cols,
            criterion_names=[col for col, _ in criterion_cols],
            criterion_cells=_picker([i for _, i in criterion_cols]),
            extra_cols=extra_cols,
            comment=header.index("comment") if "comment" in header else None,
        )


def _submitted(ts_text: str, idx: int, today, max_year: int, err) -> tuple[datetime | None, bool]:
    """The row's submitted_at (None with its message given to ``err``), and whether it was already the
    storage form (stored as typed, without reformatting)."""
    if not ts_text:
        err(f"Dòng {idx}, cột submitted_at: thiếu thời điểm khảo sát.")
        return None, False
    plain = _TS_PLAIN.fullmatch(ts_text)
    try:
        submitted = datetime(*map(int, plain.groups())) if plain else parse_timestamp(ts_text)
        if not parsing.MIN_YEAR <= submitted.year <= max_year:  # parsing.check_year, clock read once
            raise parsing.YearOutOfRange(submitted.year)
    except parsing.YearOutOfRange as exc:
        if exc.year > parsing.MIN_YEAR:
            err(f'Dòng {idx}, cột submitted_at: thời điểm "{excerpt(ts_text)}" ở trong tương lai.')
        else:
            err(f'Dòng {idx}, cột submitted_at: giá trị "{excerpt(ts_text)}" không hợp lệ, {exc}.')
        return None, False
    except ValueError:
        err(f'Dòng {idx}, cột submitted_at: giá trị "{excerpt(ts_text)}" không hợp lệ, {parsing.TS_HINT}.')
        return None, False
    if submitted.date() > today:
        err(f'Dòng {idx}, cột submitted_at: thời điểm "{excerpt(ts_text)}" ở trong tương lai.')
    return submitted, plain is not None


def _row_cells(raw: list[str], n_cols: int, idx: int, err) -> list[str] | None:
    """The row's stripped cells (None for a blank line); data right of the named columns is a problem."""
    n_raw = len(raw)
    if n_raw >= n_cols:
        cells = list(map(str.strip, raw[:n_cols]))
    else:
        cells = list(map(str.strip, raw)) + [""] * (n_cols - n_raw)
    extra = [c for c in raw[n_cols:] if c.strip()]
    if not any(cells) and not extra:
        return None  # blank line at the end of a spreadsheet
    if extra:
        err(f"Dòng {idx}: có {len(extra)} ô dữ liệu nằm ngoài các cột có tên.")
    return cells


def _base_values(base, idx: int, versions, known_staff, err) -> tuple:
    """The row's version (and its questionnaire), channel, field, staff and wait, each checked."""
    _rid, _ts, version, channel, field, staff, wait_text, _overall = base
    q = versions.get(version)
    if q is None:
        known = ", ".join(sorted(versions))
        err(f'Dòng {idx}, cột questionnaire: không có phiên bản phiếu "{excerpt(version)}" (có: {known}).')
    channel = channel or "paper"
    if channel not in CHANNELS:
        err(f'Dòng {idx}, cột channel: giá trị "{excerpt(channel)}" không hợp lệ, chỉ nhận kiosk, qr, paper.')
    field = field or None
    if field and len(field) > 200:
        err(f"Dòng {idx}, cột field: dài quá 200 ký tự.")
    staff = staff or None
    if staff and staff not in known_staff:
        err(f'Dòng {idx}, cột staff_code: mã cán bộ "{excerpt(staff)}" không có trong danh sách cán bộ.')
    wait = None
    if wait_text:
        m = _WHOLE.fullmatch(wait_text)
        if not m:
            err(
                f'Dòng {idx}, cột wait_minutes: giá trị "{excerpt(wait_text)}" không hợp lệ, '
                "chỉ nhận số phút nguyên ≥ 0."
            )
        else:
            wait = int(m.group(1))
    return q, channel, field, staff, wait


def validate_responses_table(
    rows: list[list[str]],
    filename: str,
    *,
    active_version: str,
    known_staff: set[str],
    now: datetime | None = None,
    version_on: Callable[[str], str] | None = None,
    possible_versions: Sequence[str] = (),
) -> list[tuple[dict, dict]]:
    """Check every row of a responses file; return (response, answers) pairs or raise ValidationError.

    Rows are numbered as a spreadsheet shows them (the header is row 1). Every problem is listed. The
    columns allowed are those of :func:`responses_spec` for the versions the file names (and the active one).
    A row without a ``questionnaire`` cell takes ``version_on(its local date YYYY-MM-DD)`` when given (the
    form in force that day; ``possible_versions`` are every form it may return), else ``active_version``.
    """
    versions = questionnaires()
    now = now or clock.now()
    header = parsing.header_row(rows, filename)
    q_col = header.index("questionnaire") if "questionnaire" in header else None
    named = {active_version, *(possible_versions if version_on else ())}
    if q_col is not None:
        named |= {r[q_col].strip() for r in rows[1:] if q_col < len(r) and r[q_col].strip()}
    next(
        iter(read_rows(responses_spec([versions[v] for v in sorted(named) if v in versions]), rows[:1], filename)), None
    )

    problems: list[str] = []
    err = problems.append
    out: list[tuple[dict, dict]] = []
    seen_ids: dict[str, int] = {}
    occurrences: dict[tuple, int] = {}
    cols = _Columns.of(header)
    own_codes = {v: frozenset(q.criterion_codes) for v, q in versions.items()}
    # Versions whose criteria include every criterion column of the file (no cell can be foreign).
    covers = {v: set(cols.criterion_names) <= codes for v, codes in own_codes.items()}
    today, max_year = now.date(), parsing.max_year()
    buckets: dict[int, str] = {}
    in_force: dict[str, str] = {}  # local date -> the form in force that day (version_on, asked once a day)
    for idx, raw in enumerate(rows[1:], start=2):
        row_start = len(problems)
        cells = _row_cells(raw, len(header), idx, err)
        if cells is None:
            continue
        cells.append("")  # what a column the file lacks reads as (taken off again below)
        base = cols.base_cells(cells)
        cells.pop()
        rid, ts_text, version, overall_text = base[0], base[1], base[2] or active_version, base[7]
        for col, i in cols.text_cols:
            value = raw[i] if i < len(raw) else ""
            if _NEVER_STORED.search(value):
                err(text_problem(value, f"Dòng {idx}, cột {col}"))
        if rid:
            if rid.lower().startswith(KIOSK_PREFIX):
                err(
                    f'Dòng {idx}, cột response_id: mã "{rid[:40]}" bắt đầu bằng "{KIOSK_PREFIX}", '
                    "là tiền tố dành riêng cho phiếu từ máy tính bảng."
                )
            elif rid.lower().startswith(QR_PREFIX):
                err(
                    f'Dòng {idx}, cột response_id: mã "{rid[:40]}" bắt đầu bằng "{QR_PREFIX}", '
                    "là tiền tố dành riêng cho phiếu đánh giá bằng mã QR trên điện thoại."
                )
            if rid in seen_ids:
                err(f'Dòng {idx}, cột response_id: mã "{excerpt(rid)}" trùng với dòng {seen_ids[rid]}.')
            seen_ids[rid] = idx
        submitted, plain = _submitted(ts_text, idx, today, max_year, err)
        if version_on is not None and not base[2] and submitted is not None:
            day = submitted.date().isoformat()
            version = in_force.get(day) or in_force.setdefault(day, version_on(day))
        q, channel, field, staff, wait = _base_values((*base[:2], version, *base[3:]), idx, versions, known_staff, err)
        overall = _cell_level(overall_text, idx, "overall", err) if overall_text else None
        # The usual row, at C speed: every criterion cell given belongs to the row's version and
        # holds a plain 1–5. Anything else takes the cell-by-cell path below, with its messages.
        texts = cols.criterion_cells(cells)
        if (
            q
            and _PLAIN_CELLS.issuperset(texts)
            and (covers[version] or own_codes[version].issuperset(compress(cols.criterion_names, texts)))
        ):
            levels = map(_LEVELS.__getitem__, filter(None, texts))
            answers = dict(zip(compress(cols.criterion_names, texts), levels, strict=True))
        else:
            answers = _criterion_answers(cells, cols.criterion_cols, q, version, own_codes, idx, err)
        extra = _extra_answers(cells, cols.extra_cols, q, idx, err) if cols.extra_cols else {}
        # The comment is kept as typed (not stripped), converted to Unicode when it was typed in the
        # legacy TCVN3 or VNI fonts (sipas.files.legacy: only text that reads as such is touched).
        raw_comment = raw[cols.comment] if cols.comment is not None and cols.comment < len(raw) else ""
        raw_comment = legacy.to_unicode(raw_comment) if raw_comment else raw_comment
        if raw_comment and len(raw_comment) > MAX_COMMENT:
            err(f"Dòng {idx}, cột comment: dài {len(raw_comment)} ký tự, tối đa {MAX_COMMENT}.")
        if not answers and overall is None and not _level_refused(problems[row_start:], idx):
            err(f"Dòng {idx}: không trả lời tiêu chí nào và không có câu đánh giá chung (overall).")
        if submitted is None or q is None:
            continue
        if wait is not None and wait not in buckets:
            buckets[wait] = wait_bucket_for_minutes(wait)
        key = tuple(cells)
        occurrences[key] = occurrences.get(key, 0) + 1
        response = {
            "token": rid or _row_token(cells, occurrences[key]),
            "submitted_at": ts_text if plain else clock.format_ts(submitted),
            "questionnaire": version,
            "channel": channel,
            "field": field,
            "staff_code": staff,
            "wait_minutes": wait,
            "wait_bucket": buckets[wait] if wait is not None else None,
            "overall": overall,
            "comment": raw_comment if raw_comment.strip() else None,
        }
        if extra:
            response.update(db.extra_to_columns(extra))
        response["fingerprint"] = _fingerprint(response, _answers_repr(answers))
        out.append((response, answers))
    raise_file_problems(problems, len(out), filename)
    return out


def _level_refused(row_problems: list[str], idx: int) -> bool:
    """Whether a criterion or overall cell of row ``idx`` was already refused (then no second message)."""
    prefixes = (f"Dòng {idx}, cột TC", f"Dòng {idx}, cột overall")
    return any(p.startswith(prefixes) for p in row_problems)


column_letter = parsing.col_letter  # 0 → A, 26 → AA (one definition, in sipas.files.parsing)


def import_responses(
    conn: sqlite3.Connection,
    data: bytes,
    filename: str,
    *,
    active_version: str | None = None,
    actor: str | None = None,
    is_demo: bool = False,
    allow_repeats: bool = False,
) -> ImportSummary:
    """Validate a whole responses file, then store it in one transaction (all or nothing).

    A row whose token is stored (the very same file again) is skipped and counted as present. A row
    without a ``response_id`` whose content (:func:`survey_fingerprint`) was already imported from an
    earlier file, in any format, is a *repeat*: counted, with the import it came from, and stored only
    when ``allow_repeats``
    (the clerk confirmed that they are other surveys). Identical surveys within one file all count:
    the k-th copy in a file is a repeat only when k copies are already stored.

    ``active_version``: the form of every row without a ``questionnaire`` cell; None (the page and the
    command): the form in force on each row's date (the dated setting ``active_questionnaire``).
    """
    rows = read_table(data, filename)
    staff = db.staff_codes(conn)
    by_date: dict = {}
    if active_version is None:
        active_version = settings.get(conn, "active_questionnaire")
        by_date = {
            "version_on": lambda day: settings.get(conn, "active_questionnaire", day),
            "possible_versions": settings.dated_values(conn, "active_questionnaire"),
        }
    with parsing.gc_paused():  # the rows as dicts and tuples, then their SQL parameters
        parsed = validate_responses_table(rows, filename, active_version=active_version, known_staff=staff, **by_date)
        notes = tuple(getattr(rows, "notes", ()))
        del rows
        sha = hashlib.sha256(data).hexdigest()
        with db.roomy_cache(conn), db.transaction(conn):
            present = db.existing_tokens(conn, [r["token"] for r, _ in parsed])
            repeats, sources = _repeats(conn, parsed, present)
            to_store = parsed
            if repeats and not allow_repeats:
                to_store = [row for row in parsed if id(row) not in repeats]
            import_id = db.record_import(conn, "responses", filename, sha, len(parsed), 0, 0, actor)
            for response, _ in to_store:
                response["import_id"] = import_id
                response["is_demo"] = is_demo
            added, n_present = db.insert_responses_bulk(conn, to_store, present)
            db.set_import_counts(conn, import_id, added, n_present)
        # The case intake of the new rows (tens of thousands of candidates for a year's file) with the
        # collector still off: with it on, its full passes over the heap cost ≈ 0.4 s of 9 s.
        _after_store(conn)
    return ImportSummary(
        Path(filename).name,
        len(parsed),
        added,
        n_present,
        len(repeats),
        tuple(sources),
        bool(repeats) and allow_repeats,
        notes,
    )


def _repeats(
    conn: sqlite3.Connection, parsed: list[tuple[dict, dict]], present: set[str]
) -> tuple[set[int], list[RepeatSource]]:
    """The rows (by ``id()``) of ``parsed`` whose content an earlier import already stored, and where from.

    Rows already present by token are left aside (they are the same file again, skipped anyway), and so
    are rows with their own ``response_id``: the file says which survey each is, and a different id is
    another survey."""
    candidates = [row for row in parsed if row[0]["token"].startswith("import:") and row[0]["token"] not in present]
    if not candidates:
        return set(), []
    stored = db.stored_fingerprints(conn, (r["fingerprint"] for r, _ in candidates))
    if not stored:
        return set(), []
    seen: dict[str, int] = {}
    repeats: set[int] = set()
    per_import: dict[int | None, int] = {}
    for row in candidates:
        fp = row[0]["fingerprint"]
        if fp not in stored:
            continue
        seen[fp] = seen.get(fp, 0) + 1
        count, import_id = stored[fp]
        if seen[fp] <= count:
            repeats.add(id(row))
            per_import[import_id] = per_import.get(import_id, 0) + 1
    known = db.imports_by_id(conn, [i for i in per_import if i is not None])
    sources = [
        RepeatSource(i, known.get(i, {}).get("filename"), known.get(i, {}).get("imported_at"), n)
        for i, n in sorted(per_import.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
    return repeats, sources


def export_rows(rows: list[dict], q: Questionnaire) -> tuple[list[str], list[list]]:
    """The responses of one version as the columns of a responses file (the import's own names, so a
    clerk reads them as the template says): ``id``, the base columns, every criterion, every extra question's
    column(s) (a grid one per item, a multiple choice its values joined by "; "), the comment.

    ``rows`` come from :func:`sipas.db.raw_responses`.
    """
    extra_cols = [(x, col) for x in q.extra for col in import_columns(x)]
    header = ["id", *[c for c in BASE_COLUMNS if c not in ("response_id", "comment")]]
    header += [*q.criterion_codes, *[col for _, col in extra_cols], "comment"]
    out = []
    for r in rows:
        line = [r["id"], r["submitted_at"], r["questionnaire"], r["channel"], r["field"], r["staff_code"]]
        line += [r["wait_minutes"], r["overall"], *[r["answers"].get(c) for c in q.criterion_codes]]
        for x, col in extra_cols:
            value = r["extra"].get(x.code)
            if x.kind == "grid":
                value = value.get(col.split(".", 1)[1]) if isinstance(value, dict) else None
            elif isinstance(value, list):
                value = f"{MULTI_SEPARATOR} ".join(map(str, value))
            line.append(value)
        out.append([*line, r["comment"]])
    return header, out
