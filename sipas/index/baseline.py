"""The baseline: published figures of an earlier year (typed in, imported, or computed).

A baseline row is (year, questionnaire, level, code, index, optional n and satisfied) at any level.
Any subset of levels may be given. A baseline of one questionnaire version is compared criterion by
criterion with the same version, or with another version through its crosswalk (``sipas.catalog.crosswalk``);
the element and overall levels compare across versions. Element and overall counts are kept as
published, but never tested as one proportion: those indices are means of indices, and one person's
answers to several criteria are not independent answers.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sipas import clock, db
from sipas.catalog import questionnaires
from sipas.catalog.crosswalk import counterparts
from sipas.errors import ValidationError, raise_file_problems
from sipas.files import parsing, reading
from sipas.files.table import Column, TableSpec, read_rows
from sipas.index.scoring import index_for_period
from sipas.text import excerpt

COLUMNS = ("year", "questionnaire", "level", "code", "index", "n", "satisfied")
LEVELS = ("criterion", "element", "overall")
LEVEL_LABELS = {"overall": "Chung", "element": "Yếu tố", "criterion": "Tiêu chí"}


@dataclass(frozen=True)
class BaselineSummary:
    filename: str
    rows: int
    years: tuple[tuple[int, str], ...]
    notes: tuple[str, ...] = ()  # published figures kept although their counts disagree

    def message(self) -> str:
        sets = ", ".join(f"{y} ({q})" for y, q in self.years)
        text = f"Đã lưu {self.rows} chỉ số gốc từ {self.filename}: {sets}."
        return " ".join([text, *self.notes])


TOLERANCE = 0.51  # percentage points: a published index rounded to whole numbers still agrees


def count_disagreements(rows: list[dict]) -> tuple[str, ...]:
    """Element and overall rows whose published index differs from satisfied/n by more than rounding.

    Not an error: an element's index is the mean of its criteria's indices, not the share of pooled
    answers, so the two may differ; the published figure is kept and compared, and the summary says so.

    >>> count_disagreements([{"year": 2023, "questionnaire": "sipas-2023", "level": "element", "code": "1",
    ...                       "index_value": 85.5, "n": 200, "satisfied": 160}])
    ('2023 (sipas-2023), yếu tố 1: chỉ số công bố 85,50 khác satisfied/n = 80,00; đã giữ số công bố.',)
    """
    notes = []
    for r in rows:
        n, sat, index = r.get("n"), r.get("satisfied"), r.get("index_value")
        if r["level"] == "criterion" or not n or sat is None or index is None:
            continue
        share = 100 * sat / n
        if abs(share - index) > TOLERANCE:
            what = f"yếu tố {r['code']}" if r["level"] == "element" else "chỉ số chung"
            notes.append(
                f"{r['year']} ({r['questionnaire']}), {what}: chỉ số công bố {clock.format_number(index, 2)} "
                f"khác satisfied/n = {clock.format_number(share, 2)}; đã giữ số công bố."
            )
    return tuple(notes)


def baseline_spec(versions: dict, last_year: int) -> TableSpec:
    """The columns of a baseline file; ``versions`` the questionnaires, ``last_year`` the latest year allowed."""

    def not_in_future(year: int, _row: dict) -> str | None:
        # Published figures of a year that has begun: 2093 for 2023 is a typo, not a baseline.
        return f"năm {year} ở trong tương lai." if year > last_year else None

    def code_of_level(code: str | None, row: dict) -> str | None:
        level, version, code = row["level"], row["questionnaire"], code or ""
        if level == "overall" and code:
            return "dòng overall phải để trống mã."
        if level == "element" and version in versions and code not in {e.code for e in versions[version].elements}:
            return f'yếu tố "{excerpt(code)}" không có trong phiếu {version} (nhận 1–5).'
        if level == "criterion" and version in versions and code not in versions[version].criterion_codes:
            return f'tiêu chí "{excerpt(code)}" không có trong phiếu {version}.'
        return None

    count = 'giá trị "{value}" không hợp lệ, cần số nguyên ≥ 0.'
    return TableSpec(
        columns=(
            Column(
                "year",
                "int",
                required=True,
                allow_empty=False,
                low=2000,
                high=2100,
                invalid='giá trị "{value}" không hợp lệ, cần năm dạng YYYY.',
                check=not_in_future,
            ),
            Column(
                "questionnaire",
                "choice",
                required=True,
                allow_empty=False,
                choices=tuple(sorted(versions)),
                invalid='không có phiên bản phiếu "{value}" (có: {choices}).',
            ),
            Column(
                "level",
                "choice",
                required=True,
                allow_empty=False,
                choices=LEVELS,
                invalid='giá trị "{value}" không hợp lệ, chỉ nhận criterion, element, overall.',
            ),
            Column("code", check=code_of_level),
            Column(
                "index",
                "decimal",
                required=True,
                allow_empty=False,
                low=0,
                high=100,
                invalid='giá trị "{value}" không hợp lệ, cần số từ 0 đến 100.',
            ),
            Column("n", "int", invalid=count),
            Column("satisfied", "int", invalid=count),
        ),
        header_messages="summary",
        extra_cells=False,
    )


def validate_baseline_table(rows: list[list[str]], filename: str, max_year: int | None = None) -> list[dict]:
    """Check every row of a baseline table; return clean rows or raise ValidationError (all problems)."""
    spec = baseline_spec(questionnaires(), max_year or clock.today().year)
    problems: list[str] = []
    out: list[dict] = []
    seen: dict[tuple, int] = {}
    for row in read_rows(spec, rows, filename):
        problems += map(str, row.problems)
        idx, values, cells = row.line, row.values, row.cells
        year, index, n, satisfied = values["year"], values["index"], values["n"], values["satisfied"]
        version, level, code = cells["questionnaire"], cells["level"], cells["code"]
        if satisfied is not None and n is None and cells["n"] == "":
            problems.append(f"Dòng {idx}, cột n: có satisfied thì phải có n.")
        if n == 0:
            problems.append(
                f"Dòng {idx}, cột n: n = 0 (không có phiếu nào) nên không thể có chỉ số {cells['index']}. "
                "Hãy ghi số phiếu thật của năm đó, hoặc để trống n và satisfied nếu không biết."
            )
        elif n is not None and satisfied is not None:
            if satisfied > n:
                problems.append(f"Dòng {idx}, cột satisfied: {satisfied} lớn hơn n = {n}.")
            # A criterion's index is satisfied/n: a disagreement is a typo. An element's (or the
            # overall) is a mean of indices: kept as published, the import summary notes it.
            elif level == "criterion" and n > 0 and index is not None and abs(100 * satisfied / n - index) > TOLERANCE:
                problems.append(
                    f"Dòng {idx}, cột index: {index} không khớp với satisfied/n = {100 * satisfied / n:.2f}."
                )
        key = (year, version, level, code)
        if year is not None and key in seen:
            problems.append(f"Dòng {idx}: trùng với dòng {seen[key]} ({year}, {version}, {level}, {code or 'chung'}).")
        seen[key] = idx
        out.append(
            {
                "year": year,
                "questionnaire": version,
                "level": level,
                "code": code,
                "index_value": index,
                "n": n,
                "satisfied": satisfied,
            }
        )
    raise_file_problems(problems, len(out), filename)
    return out


def _store(conn: sqlite3.Connection, rows: list[dict], source: str, actor: str | None, filename: str) -> tuple:
    db.upsert_baseline_rows(conn, rows, source)
    years = tuple(sorted({(r["year"], r["questionnaire"]) for r in rows}))
    db.log_audit(
        conn,
        actor,
        "baseline",
        ", ".join(f"{y}/{q}" for y, q in years),
        None,
        f"{len(rows)} dòng ({source})",
        filename or None,
    )
    return years


def save_baseline(
    conn: sqlite3.Connection, rows: list[dict], source: str, actor: str | None, filename: str = ""
) -> BaselineSummary:
    """Store validated rows in one transaction (insert or replace by year, version, level, code)."""
    with db.transaction(conn):
        years = _store(conn, rows, source, actor, filename)
    return BaselineSummary(filename or source, len(rows), years, count_disagreements(rows))


def import_baseline(conn: sqlite3.Connection, data: bytes, filename: str, actor: str | None = None) -> BaselineSummary:
    """Validate a whole baseline file (CSV/XLSX), then store it and its import record in one transaction."""
    rows = validate_baseline_table(reading.read_table(data, filename), filename)
    name = Path(filename).name
    with db.transaction(conn):
        years = _store(conn, rows, "import", actor, name)
        db.record_import(conn, "baseline", name, hashlib.sha256(data).hexdigest(), len(rows), len(rows), 0, actor)
    return BaselineSummary(name, len(rows), years, count_disagreements(rows))


def table_from_records(records: list[dict]) -> list[list[str]]:
    """A typed-in table (list of dicts from the page's editor) as rows with a header, for validation."""
    header = list(COLUMNS)
    out = [header]
    for r in records:
        out.append(
            [
                "" if r.get(c) is None or (isinstance(r.get(c), float) and r.get(c) != r.get(c)) else _fmt(r.get(c))
                for c in header
            ]
        )
    return out


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def baseline_from_responses(conn: sqlite3.Connection, year: int, version: str) -> list[dict]:
    """That year's index computed from the responses in the database, as baseline rows (with counts)."""
    result = index_for_period(conn, version, f"{year}-01-01", f"{year}-12-31")
    if result.responses == 0:
        raise ValidationError(f"Không có phiếu nào của phiếu {version} trong năm {year} để tính chỉ số gốc.")
    rows = []
    if result.overall is not None:
        rows.append(
            {
                "year": year,
                "questionnaire": version,
                "level": "overall",
                "code": "",
                "index_value": result.overall,
                "n": None,
                "satisfied": None,
            }
        )
    rows += [
        {
            "year": year,
            "questionnaire": version,
            "level": "element",
            "code": e.code,
            "index_value": e.index,
            "n": None,
            "satisfied": None,
        }
        for e in result.elements
        if e.index is not None
    ]
    rows += [
        {
            "year": year,
            "questionnaire": version,
            "level": "criterion",
            "code": c.code,
            "index_value": c.index,
            "n": c.n,
            "satisfied": c.satisfied,
        }
        for c in result.criteria
        if c.n
    ]
    return rows


def comparable(rows: list[dict], current_version: str) -> list[dict]:
    """The baseline rows that may be compared with results of ``current_version``.

    Criterion rows only when the versions match; element and overall rows always.

    >>> rows = [{"questionnaire": "sipas-2017", "level": "criterion", "code": "TC1.1"},
    ...         {"questionnaire": "sipas-2017", "level": "element", "code": "1"}]
    >>> [r["level"] for r in comparable(rows, "sipas-2023")]
    ['element']
    """
    return [r for r in rows if r["level"] != "criterion" or r["questionnaire"] == current_version]


def default_baseline(sets: list[tuple[int, str]], year: int, version: str) -> tuple[int, str] | None:
    """The baseline a period of ``year`` answered on ``version`` is compared with, unless staff pick another.

    ``sets`` are the stored (year, questionnaire) baselines. The rule, one for every page and the report:

    1. only a year **before** the period's year: a year's own published figures appear after it ends,
       and figures computed from this year's responses would compare the period with itself (the 2024
       plan compares 2024 with the 2023 report);
    2. of those, the **most recent** year (last year's figures, not an older one on the same form);
    3. within that year, the same questionnaire version (criteria compare one by one), else a version
       with a crosswalk to it (criteria through the crosswalk), else any other (elements and overall only);
    4. None when no baseline is older than the period: nothing is compared.

    >>> sets = [(2025, "sipas-2024"), (2024, "sipas-2023"), (2024, "sipas-2024"), (2023, "sipas-2023")]
    >>> default_baseline(sets, 2025, "sipas-2024"), default_baseline(sets, 2024, "sipas-2024")
    ((2024, 'sipas-2024'), (2023, 'sipas-2023'))
    >>> default_baseline(sets, 2023, "sipas-2023") is None
    True
    """
    earlier = [(y, q) for y, q in sets if y < year]
    if not earlier:
        return None
    latest = max(y for y, _ in earlier)
    candidates = sorted(q for y, q in earlier if y == latest)
    known = questionnaires()

    def rank(q: str) -> int:
        if q == version:
            return 0
        if q in known and version in known and counterparts(version, q):
            return 1
        return 2

    return latest, min(candidates, key=rank)


def baseline_for_period(conn: sqlite3.Connection, date_from: str | None, version: str) -> tuple[int, str] | None:
    """:func:`default_baseline` for a period starting on ``date_from`` (ISO); a period without a start
    (all the data) starts with the first counted response, or this year when there is none."""
    year = clock.today().year
    first = date_from or db.response_day_range(conn)[0]
    if first:
        year = parsing.stored_year(first, year)
    return default_baseline(db.baseline_years(conn), year, version)
