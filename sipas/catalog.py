"""Questionnaire versions and the survey's fixed answer options, loaded from ``data/``.

The criteria of the national form change between versions, so they live in data files
(``data/questionnaires/<code>.json``) that the commune can correct without a release. Every file is
checked when it is loaded; a broken file raises :class:`CatalogError` naming the file and the entry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from sipas.errors import CatalogError
from sipas.paths import DATA_DIR

CRITERION_CODE = re.compile(r"^TC(\d+)\.(\d+)$")
DEFAULT_VERSION = "sipas-2023"


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    element: str
    topic: str | None = None  # optional short line shown above the statement on the tablet


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
            if topic is not None and (not isinstance(topic, str) or not topic.strip() or len(topic) > 120):
                raise CatalogError(f"Tệp {path.name}, mục {cwhere}.topic: giá trị không hợp lệ ({topic!r}).")
            criteria.append(Criterion(ccode, text.strip(), ecode, topic.strip() if topic else None))
        elements.append(Element(ecode, name.strip(), tuple(criteria)))
    return Questionnaire(code, title, source, tuple(elements))


def load_questionnaire_file(path: Path) -> Questionnaire:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogError(f"Tệp {path.name}: JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}.") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"Tệp {path.name}: không đọc được dạng UTF-8.") from exc
    return parse_questionnaire(raw, path)


def load_questionnaires(directory: Path | None = None) -> dict[str, Questionnaire]:
    """All questionnaire versions under ``data/questionnaires`` (or ``directory``), by code.

    >>> sorted(load_questionnaires())
    ['sipas-2017', 'sipas-2023']
    """
    directory = directory or DATA_DIR / "questionnaires"
    found = {}
    for path in sorted(directory.glob("*.json")):
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
    try:
        opts = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogError(f"Tệp {path.name}: JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}.") from exc
    for key in ("scale", "harassment", "informal_payment", "wait", "fields", "demographics"):
        if key not in opts:
            raise CatalogError(f"Tệp {path.name}: thiếu mục '{key}'.")
    if [s.get("value") for s in opts["scale"]] != [1, 2, 3, 4, 5]:
        raise CatalogError(f"Tệp {path.name}, mục scale: phải có đúng 5 mức 1–5.")
    return opts


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
