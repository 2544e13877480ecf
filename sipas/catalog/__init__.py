"""Questionnaire versions and the survey's fixed answer options, loaded from ``data/``.

The criteria of the national form change between versions, so they live in data files
(``data/questionnaires/<code>.json``) that the commune can correct without a release. Every file is
checked when it is loaded; a broken file raises :class:`CatalogError` naming the file and the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from sipas.catalog.questions import ExtraQuestion, parse_extra_questions
from sipas.errors import CatalogError
from sipas.paths import DATA_DIR, read_json_file

CRITERION_CODE = re.compile(r"^TC(\d+)\.(\d+)$")
# The national form asked since SIPAS 2024: the version of a new database, and of any date from
# FORM_2024_FROM (settings.DATED_DEFAULTS). A database made before keeps its stored version.
DEFAULT_VERSION = "sipas-2024"
FORM_2024_FROM = "2024-01-01"
# Where a statement names the unit's one-stop office, its text says {office}: filled from the dated
# setting "office_name" (Criterion.text_for); Criterion.text has the file's generic office term.
OFFICE = "{office}"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|[{}]")
# Files in data/questionnaires that are not questionnaires (sipas.catalog.crosswalk reads them).
CROSSWALK_PREFIX = "crosswalk-"
# Staff conduct is element 3, "Công chức trực tiếp giải quyết công việc", in every version: its criteria
# (TC3.*) make the staff measure, open conduct cases and are asked of everyone at the counter.
CONDUCT_ELEMENT = "3"
CONDUCT_CRITERIA_PREFIX = f"TC{CONDUCT_ELEMENT}."


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    element: str
    topic: str | None = None  # a short line naming what the statement is about (optional)
    template: str | None = None  # the text with {office} when the statement names the office

    def text_for(self, office: str | None) -> str:
        """The statement as the citizen reads it, naming the unit's office (``office_name`` setting).

        >>> c = questionnaire("sipas-2024").criteria[0]
        >>> c.text_for("Trung tâm Phục vụ hành chính công xã Tu Bông")[:60]
        'Trung tâm Phục vụ hành chính công xã Tu Bông có biển hiệu, h'
        """
        if self.template is None or not office or not office.strip():
            return self.text
        return self.template.replace(OFFICE, office.strip())


@dataclass(frozen=True)
class Element:
    code: str
    name: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Questionnaire:
    code: str
    title: str
    source: str
    elements: tuple[Element, ...]
    label: str = ""  # what users read for the version, e.g. "Mẫu phiếu 2022–2023"
    # Every other question of the version (sipas.catalog.questions): described once, in its file.
    extra: tuple[ExtraQuestion, ...] = field(default=(), compare=False, hash=False)

    @property
    def display(self) -> str:
        """'Mẫu phiếu 2022–2023 (sipas-2023)': the label with the stored code."""
        return f"{self.label} ({self.code})" if self.label else self.code

    def texts(self, office: str | None = None) -> dict[str, str]:
        """Each criterion's statement by code, naming ``office`` where the statement names the office."""
        return {c.code: c.text_for(office) for c in self.criteria}

    # Computed once per questionnaire (immutable): the kiosk's submit path checks every answer's code.
    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for e in self.elements for c in e.criteria)

    @cached_property
    def criterion_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)

    @cached_property
    def code_set(self) -> frozenset[str]:
        return frozenset(self.criterion_codes)

    @cached_property
    def extra_by_code(self) -> dict[str, ExtraQuestion]:
        return {x.code: x for x in self.extra}

    def extra_question(self, code: str) -> ExtraQuestion:
        """The extra question ``code`` of this version (KeyError when it has none)."""
        return self.extra_by_code[code]

    def element(self, code: str) -> Element:
        for e in self.elements:
            if e.code == code:
                return e
        raise KeyError(code)


def _require(obj: dict, key: str, where: str, path: Path, kind=str):
    if not isinstance(obj, dict) or key not in obj:
        raise CatalogError(f"Tệp {path.name}, mục {where}: thiếu trường '{key}'.")
    value = obj[key]
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise CatalogError(f"Tệp {path.name}, mục {where}.{key}: giá trị không hợp lệ ({value!r}).")
    return value


def parse_questionnaire(raw: object, path: Path) -> Questionnaire:
    """Check one questionnaire document and build it; raise CatalogError naming the bad entry."""
    if not isinstance(raw, dict):
        raise CatalogError(f"Tệp {path.name}: nội dung phải là một đối tượng JSON.")
    code = _require(raw, "code", "gốc", path)
    if code != path.stem:
        raise CatalogError(f"Tệp {path.name}: mã phiên bản '{code}' phải trùng với tên tệp '{path.stem}'.")
    title = _require(raw, "title", "gốc", path)
    source = raw.get("source", "")
    label = raw.get("label", "")
    if not isinstance(label, str):
        raise CatalogError(f"Tệp {path.name}, mục gốc.label: giá trị không hợp lệ ({label!r}).")
    generic = raw.get("office_generic", "Bộ phận Một cửa")
    if not isinstance(generic, str) or not generic.strip():
        raise CatalogError(f"Tệp {path.name}, mục gốc.office_generic: giá trị không hợp lệ ({generic!r}).")
    elements_raw = _require(raw, "elements", "gốc", path, list)
    if not elements_raw:
        raise CatalogError(f"Tệp {path.name}: danh sách 'elements' trống.")
    seen: set[str] = set()
    seen_elements: set[str] = set()
    elements = []
    for i, e in enumerate(elements_raw):
        where = f"elements[{i}]"
        ecode = _require(e, "code", where, path)
        # Two elements with one code would be averaged as one and counted twice in the overall.
        if ecode in seen_elements:
            raise CatalogError(f"Tệp {path.name}, mục {where}: mã yếu tố '{ecode}' bị trùng.")
        seen_elements.add(ecode)
        name = _require(e, "name", where, path)
        crit_raw = _require(e, "criteria", where, path, list)
        if not crit_raw:
            raise CatalogError(f"Tệp {path.name}, mục {where}: yếu tố {ecode} không có tiêu chí nào.")
        criteria = []
        for j, c in enumerate(crit_raw):
            cwhere = f"{where}.criteria[{j}]"
            ccode = _require(c, "code", cwhere, path)
            text = _require(c, "text", cwhere, path)
            m = CRITERION_CODE.match(ccode)
            if not m or m.group(1) != ecode:
                raise CatalogError(f"Tệp {path.name}, mục {cwhere}: mã tiêu chí '{ccode}' phải có dạng TC{ecode}.<số>.")
            if ccode in seen:
                raise CatalogError(f"Tệp {path.name}, mục {cwhere}: mã tiêu chí '{ccode}' bị trùng.")
            seen.add(ccode)
            topic = c.get("topic")
            if topic is not None and (not isinstance(topic, str) or not topic.strip() or len(topic) > 80):
                raise CatalogError(f"Tệp {path.name}, mục {cwhere}.topic: cần một dòng ngắn (tối đa 80 ký tự).")
            text = text.strip()
            # Only {office} may appear in braces: a typo like {ofice} would reach the tablet as is.
            stray = [m for m in _PLACEHOLDER.findall(text) if m != OFFICE]
            if stray:
                raise CatalogError(
                    f"Tệp {path.name}, mục {cwhere}.text: chỗ điền '{stray[0]}' không hợp lệ (chỉ nhận {OFFICE})."
                )
            template = text if OFFICE in text else None
            shown = text.replace(OFFICE, generic.strip())
            criteria.append(Criterion(ccode, shown, ecode, topic.strip() if topic else None, template))
        elements.append(Element(ecode, name.strip(), tuple(criteria)))
    if "questions" in raw:
        raise CatalogError(
            f"Tệp {path.name}, mục questions: các câu hỏi thêm nay ghi trong danh sách 'extra_questions' "
            "(xem sipas/catalog/questions.py)."
        )
    extra = parse_extra_questions(raw.get("extra_questions"), path, frozenset(seen))
    return Questionnaire(code, title, source, tuple(elements), label.strip(), extra)


def load_questionnaire_file(path: Path) -> Questionnaire:
    return parse_questionnaire(read_json_file(path), path)


def load_questionnaires(directory: Path | None = None) -> dict[str, Questionnaire]:
    """All questionnaire versions under ``data/questionnaires`` (or ``directory``), by code.

    >>> sorted(load_questionnaires())
    ['sipas-2017', 'sipas-2023', 'sipas-2024']
    """
    directory = directory or DATA_DIR / "questionnaires"
    found = {}
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith(CROSSWALK_PREFIX):
            continue
        q = load_questionnaire_file(path)
        found[q.code] = q
    if DEFAULT_VERSION not in found and directory == DATA_DIR / "questionnaires":
        raise CatalogError(f"Thiếu tệp phiếu mặc định {DEFAULT_VERSION}.json trong {directory}.")
    return found


@lru_cache(maxsize=1)
def questionnaires() -> dict[str, Questionnaire]:
    """The shipped questionnaire versions, loaded once per process."""
    return load_questionnaires()


def questionnaire(code: str) -> Questionnaire:
    try:
        return questionnaires()[code]
    except KeyError:
        known = ", ".join(sorted(questionnaires()))
        raise CatalogError(f"Không có phiên bản phiếu '{code}'. Các phiên bản có: {known}.") from None


@lru_cache(maxsize=1)
def survey_options() -> dict:
    """Answer scale, extra questions and their Vietnamese labels (``data/survey-options.json``)."""
    path = DATA_DIR / "survey-options.json"
    opts = read_json_file(path)
    for key in ("scale", "wait", "fields", "overall_question", "field_question", "staff_question", "comment_question"):
        if key not in opts:
            raise CatalogError(f"Tệp {path.name}: thiếu mục '{key}'.")
    if [s.get("value") for s in opts["scale"]] != [1, 2, 3, 4, 5]:
        raise CatalogError(f"Tệp {path.name}, mục scale: phải có đúng 5 mức 1–5.")
    return opts


def version_label(code: str) -> str:
    """What users read for a version code: 'Mẫu phiếu 2022–2023 (sipas-2023)'; an unknown code as is."""
    q = questionnaires().get(code)
    return q.display if q else code


def wait_bucket_for_minutes(minutes: int) -> str:
    """The wait bucket code a number of whole minutes falls in.

    >>> wait_bucket_for_minutes(0), wait_bucket_for_minutes(15), wait_bucket_for_minutes(61)
    ('lt15', '15-30', 'gt60')
    """
    for b in survey_options()["wait"]["buckets"]:
        if minutes >= b["min"] and (b["max"] is None or minutes <= b["max"]):
            return b["code"]
    raise ValueError(minutes)


WAIT_BUCKETS = ("lt15", "15-30", "30-60", "gt60")
