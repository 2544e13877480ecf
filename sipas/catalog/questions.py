"""A questionnaire version's extra questions, described once in its JSON file (``extra_questions``).

Besides the criteria (answered on the five-level scale and scored), a form asks other questions: the
national form's harassment and informal-payment questions, what citizens want improved, demographics; a
province's form may add its own. Each is one entry of the version's ``extra_questions`` list::

    {"code": "gender", "kind": "single", "text": "Giới tính", "options": ["Nam", "Nữ"], "modes": ["full"]}

* ``code``: the question's name everywhere: the key the tablet sends, the import's column header (a grid:
  ``<code>.<item>``), the key it is stored under. Lower-case letters, digits and ``_``.
* ``kind``: ``single`` (one option), ``multiple`` (up to ``max`` options), ``grid`` (every one of ``items``
  on the same ``scale``, asked one item a screen) or ``text`` (free text, up to ``max_length`` characters).
* ``options``: strings (the label is the stored value) or ``{"value": …, "label": …}``; ``scale`` likewise.
* ``optional`` (default true: the tablet offers "Bỏ qua"), ``modes`` (``short``/``full``: the survey modes
  that ask it, default both), ``after`` (``overall``: asked right after the overall question; ``staff``,
  the default: after the staff question), ``heading`` and ``topic`` (the lines above the question).

Nothing else in the product names a version's extra questions: the tablet asks them from this
description (:func:`sipas.survey.tablet.build_plan`), :func:`answer_problem` checks what it sends, the
import reads the columns :func:`import_columns` lists, and the store keeps the answers under their codes
(:data:`sipas.db.responses.EXTRA_COLUMNS` for the few the analysis reads from columns, one JSON object for
the rest), so a new form needs one new JSON file and no migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sipas.errors import CatalogError

KINDS = ("single", "multiple", "grid", "text")
MODES = ("short", "full")
PLACES = ("overall", "staff")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ITEM_CODE = re.compile(r"^[A-Za-z0-9_]{1,20}$")
MAX_TEXT = 1000  # the longest free-text answer a question may allow (the comment has its own limit)
MAX_OPTIONS = 50
MAX_LABEL = 400
# The built-in questions whose stored values the analysis reads with a meaning: their shape is fixed.
FIXED_SHAPES = {
    "harassment": ("single", (1, 2, 3)),  # none, some, many: the same meaning in every version
    "informal_payment": ("single", (1, 2, 3)),
}


@dataclass(frozen=True)
class Option:
    value: int | str
    label: str
    short: str | None = None


@dataclass(frozen=True)
class Item:
    code: str
    text: str


@dataclass(frozen=True)
class ExtraQuestion:
    """One extra question of a questionnaire version (see the module's docstring for the JSON)."""

    code: str
    kind: str
    text: str
    options: tuple[Option, ...] = ()
    items: tuple[Item, ...] = ()
    scale: tuple[Option, ...] = ()
    optional: bool = True
    modes: tuple[str, ...] = MODES
    after: str = "staff"
    heading: str | None = None
    topic: str | None = None
    group: str | None = None  # e.g. "demographics": questions shown together
    other: str | None = None  # the paper form's "other (write in)" line (not asked on the tablet)
    max_choices: int = 1
    max_length: int = MAX_TEXT

    @property
    def values(self) -> tuple:
        return tuple(o.value for o in (self.scale if self.kind == "grid" else self.options))

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)

    def label_of(self, value) -> str:
        """The label of an option or scale value (the value itself when unknown)."""
        for o in self.scale if self.kind == "grid" else self.options:
            if o.value == value:
                return o.label
        return str(value)


def _fail(path: Path, where: str, what: str) -> CatalogError:
    return CatalogError(f"Tệp {path.name}, mục {where}: {what}")


def _text(raw: dict, key: str, where: str, path: Path, *, required: bool = True, limit: int = 2000) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _fail(path, f"{where}.{key}", f"cần một đoạn chữ không trống, tối đa {limit} ký tự ({value!r}).")
    return value.strip()


def _options(raw: object, where: str, path: Path) -> tuple[Option, ...]:
    """Strings (value = label) or {value, label[, short]} objects; values unique, all of one type."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_OPTIONS:
        raise _fail(path, where, f"cần một danh sách từ 1 đến {MAX_OPTIONS} phương án.")
    out = []
    for k, o in enumerate(raw):
        at = f"{where}[{k}]"
        if isinstance(o, str):
            if not o.strip() or len(o) > MAX_LABEL:
                raise _fail(path, at, f"giá trị không hợp lệ ({o!r}).")
            out.append(Option(o.strip(), o.strip()))
            continue
        if not isinstance(o, dict):
            raise _fail(path, at, "cần một chuỗi hoặc một đối tượng có value và label.")
        value = o.get("value")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | str)
            or (isinstance(value, str) and not value.strip())
        ):
            raise _fail(path, f"{at}.value", f"cần một số nguyên hoặc một chuỗi ({value!r}).")
        label = _text(o, "label", at, path, limit=MAX_LABEL)
        short = _text(o, "short", at, path, required=False, limit=80)
        out.append(Option(value, label, short))
    values = [o.value for o in out]
    if len(set(values)) != len(values):
        raise _fail(path, where, "có hai phương án cùng giá trị.")
    if len({type(v) for v in values}) != 1:
        raise _fail(path, where, "các giá trị phải cùng kiểu (cùng là số hoặc cùng là chữ).")
    return tuple(out)


def _items(raw: object, where: str, path: Path) -> tuple[Item, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_OPTIONS:
        raise _fail(path, where, f"cần một danh sách từ 1 đến {MAX_OPTIONS} nội dung.")
    items = []
    for k, it in enumerate(raw):
        at = f"{where}[{k}]"
        if not isinstance(it, dict):
            raise _fail(path, at, "cần một đối tượng có code và text.")
        code = it.get("code")
        if not isinstance(code, str) or not ITEM_CODE.match(code):
            raise _fail(path, f"{at}.code", f"mã nội dung chỉ gồm chữ, số và _ (tối đa 20 ký tự) ({code!r}).")
        items.append(Item(code, _text(it, "text", at, path)))
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise _fail(path, where, "có hai nội dung cùng mã.")
    return tuple(items)


def _choice_list(raw: dict, key: str, allowed: tuple[str, ...], default: tuple[str, ...], where: str, path: Path):
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not value or not set(value) <= set(allowed) or len(set(value)) != len(value):
        raise _fail(path, f"{where}.{key}", f"chỉ nhận một danh sách trong {', '.join(allowed)} ({value!r}).")
    return tuple(v for v in allowed if v in value)


def parse_extra_question(raw: object, where: str, path: Path) -> ExtraQuestion:
    """One entry of ``extra_questions``, checked; CatalogError names the file and the entry."""
    if not isinstance(raw, dict):
        raise _fail(path, where, "cần một đối tượng JSON.")
    known = {
        "code", "kind", "text", "options", "items", "scale", "optional", "modes", "after", "heading", "topic",
        "group", "other", "max", "max_length",
    }  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise _fail(path, where, f"không có trường '{unknown[0]}' (các trường: {', '.join(sorted(known))}).")
    code = raw.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        raise _fail(path, f"{where}.code", f"mã câu hỏi chỉ gồm chữ thường, số và _ ({code!r}).")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _fail(path, f"{where}.kind", f"chỉ nhận {', '.join(KINDS)} ({kind!r}).")
    optional = raw.get("optional", True)
    if not isinstance(optional, bool):
        raise _fail(path, f"{where}.optional", f"chỉ nhận true hoặc false ({optional!r}).")
    after = raw.get("after", "staff")
    if after not in PLACES:
        raise _fail(path, f"{where}.after", f"chỉ nhận {', '.join(PLACES)} ({after!r}).")
    fields = {
        "code": code,
        "kind": kind,
        "text": _text(raw, "text", where, path),
        "optional": optional,
        "modes": _choice_list(raw, "modes", MODES, MODES, where, path),
        "after": after,
        "heading": _text(raw, "heading", where, path, required=False, limit=200),
        "topic": _text(raw, "topic", where, path, required=False, limit=400),
        "group": _text(raw, "group", where, path, required=False, limit=40),
        "other": _text(raw, "other", where, path, required=False, limit=200),
    }
    for key, kinds in (("options", ("single", "multiple")), ("items", ("grid",)), ("scale", ("grid",))):
        if (key in raw) != (kind in kinds):
            need = "cần" if kind in kinds else "không dùng"
            raise _fail(path, where, f"câu hỏi loại {kind} {need} trường '{key}'.")
    if kind in ("single", "multiple"):
        fields["options"] = _options(raw["options"], f"{where}.options", path)
    if kind == "grid":
        fields["items"] = _items(raw["items"], f"{where}.items", path)
        fields["scale"] = _options(raw["scale"], f"{where}.scale", path)
        if not all(isinstance(o.value, int) for o in fields["scale"]):
            raise _fail(path, f"{where}.scale", "các mức phải là số nguyên.")
    if kind == "multiple":
        top = raw.get("max", len(fields["options"]))
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(fields["options"]):
            raise _fail(path, f"{where}.max", f"cần một số từ 1 đến {len(fields['options'])} ({top!r}).")
        fields["max_choices"] = top
    elif "max" in raw:
        raise _fail(path, where, f"câu hỏi loại {kind} không dùng trường 'max'.")
    if kind == "text":
        top = raw.get("max_length", 500)
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TEXT:
            raise _fail(path, f"{where}.max_length", f"cần một số từ 1 đến {MAX_TEXT} ({top!r}).")
        fields["max_length"] = top
    elif "max_length" in raw:
        raise _fail(path, where, f"câu hỏi loại {kind} không dùng trường 'max_length'.")
    question = ExtraQuestion(**fields)
    shape = FIXED_SHAPES.get(code)
    if shape and (kind != shape[0] or question.values != shape[1]):
        raise _fail(path, where, f"câu hỏi '{code}' phải là loại {shape[0]} với các giá trị {list(shape[1])}.")
    return question


def parse_extra_questions(raw: object, path: Path, criterion_codes: frozenset[str]) -> tuple[ExtraQuestion, ...]:
    """The version's ``extra_questions`` list (may be absent: no extra question)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(path, "extra_questions", "cần một danh sách câu hỏi.")
    questions = tuple(parse_extra_question(q, f"extra_questions[{i}]", path) for i, q in enumerate(raw))
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.code in seen or q.code in RESERVED or q.code.upper() in criterion_codes:
            raise _fail(path, f"extra_questions[{i}].code", f"mã '{q.code}' bị trùng hoặc đã dùng cho cột khác.")
        seen.add(q.code)
    return questions


# Codes the product itself uses for a response's own columns: no extra question may take them.
RESERVED = frozenset(
    {
        "response_id", "submitted_at", "questionnaire", "channel", "field", "staff_code", "wait_minutes",
        "wait_bucket", "overall", "comment", "token", "asked", "answers", "extra", "duration_seconds", "device",
    }
)  # fmt: skip


def answer_problem(q: ExtraQuestion, value: object) -> str | None:
    """Why ``value`` cannot be an answer to ``q`` (Vietnamese), or None when it can.

    An answer is an option's value (single), a list of distinct option values up to ``max`` (multiple),
    item code → a scale value (grid; any subset of the items), or a string (text).
    """
    values = q.values
    if q.kind == "single":
        ok = not isinstance(value, bool) and value in values
    elif q.kind == "multiple":
        ok = (
            isinstance(value, list)
            and 0 < len(value) <= q.max_choices
            and len(set(map(repr, value))) == len(value)
            and all(not isinstance(v, bool) and v in values for v in value)
        )
    elif q.kind == "grid":
        items = set(q.item_codes)
        ok = (
            isinstance(value, dict)
            and 0 < len(value) <= len(items)
            and all(k in items and type(v) is int and v in values for k, v in value.items())
        )
    else:
        ok = isinstance(value, str) and 0 < len(value) <= q.max_length
        if isinstance(value, str) and len(value) > q.max_length:
            return f"Câu trả lời cho {q.code} dài quá {q.max_length} ký tự."
    return None if ok else f"Câu trả lời không hợp lệ cho {q.code}."


def import_columns(q: ExtraQuestion) -> tuple[str, ...]:
    """The column headers a responses file uses for ``q``: its code, or ``<code>.<item>`` per item of a grid.

    >>> from sipas.catalog import questionnaire
    >>> import_columns(questionnaire("sipas-2024").extra_question("expectations"))[:2]
    ('expectations.MM1', 'expectations.MM2')
    """
    if q.kind == "grid":
        return tuple(f"{q.code}.{i.code}" for i in q.items)
    return (q.code,)


MULTI_SEPARATOR = ";"


def parse_cell(q: ExtraQuestion, text: str) -> object:
    """A non-empty import cell as an answer to ``q`` (a grid: one item's cell); ValueError when it is not one.

    single: an option's value or its label (``2`` or ``Có một số …``); multiple: values or labels separated
    by ``;``; a grid's cell: a scale value or label; text: as typed.

    >>> from sipas.catalog import questionnaire
    >>> q = questionnaire("sipas-2024")
    >>> parse_cell(q.extra_question("harassment"), "2"), parse_cell(q.extra_question("gender"), "Nữ")
    (2, 'Nữ')
    """
    if q.kind == "text":
        if len(text) > q.max_length:
            raise ValueError(f"dài quá {q.max_length} ký tự")
        return text
    choices = q.scale if q.kind == "grid" else q.options
    if q.kind == "multiple":
        parts = [p.strip() for p in text.split(MULTI_SEPARATOR) if p.strip()]
        picked = [_option_value(choices, p) for p in parts]
        if not picked or len(picked) > q.max_choices or len(set(map(repr, picked))) != len(picked):
            raise ValueError(f"chọn từ 1 đến {q.max_choices} phương án khác nhau, cách nhau bằng dấu ;")
        return picked
    return _option_value(choices, text)


def _option_value(choices: tuple[Option, ...], text: str):
    for o in choices:
        if text == str(o.value) or text.casefold() == o.label.casefold():
            return o.value
    if text.endswith(".0") and text[:-2].isdigit():  # a spreadsheet's 2.0
        return _option_value(choices, text[:-2])
    allowed = ", ".join(str(o.value) for o in choices)
    raise ValueError(f"chỉ nhận {allowed}")
