"""The ``check`` command's logic: is this database sound, the product's own, and are its roll-ups exact?

* :func:`check` runs on an open, migrated database: SQLite's ``integrity_check`` and
  ``foreign_key_check``, the schema compared object by object with the product's own, the survey
  times, every roll-up against the raw rows, and rows that point nowhere.
* :func:`check_database` opens a file (refusing one that is not of this product) and runs it.
* :func:`schema_problems` is also what a restore uses to refuse a file whose schema was altered.
"""

from __future__ import annotations

import functools
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sipas import db, faults
from sipas.errors import DatabaseError, ValidationError

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every version of the product has had (a file without application_id must still have them).
PRODUCT_TABLES = frozenset({"responses", "answers", "staff", "settings"})
MAX_LISTED = 20  # mismatches listed one by one before "… and N more"

OK_MESSAGE = "Cơ sở dữ liệu không có lỗi."


def msg_foreign(name: str) -> str:
    return f"Tệp {name} là cơ sở dữ liệu SQLite nhưng không phải của phần mềm khảo sát này."


def reason(exc: BaseException, path: Path | None = None) -> str:
    """Why a file failed, in Vietnamese with what to do (:func:`sipas.faults.cause`; ``path``: the file
    being written), to end a message with."""
    return faults.cause(exc, path)


def require_sqlite(path: Path) -> None:
    """Refuse a non-empty file without the SQLite header (SQLite itself fails later and less clearly)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(f"Không đọc được tệp {path}: {reason(exc)}.") from None
    if head and head != SQLITE_HEADER:
        raise DatabaseError(f"Tệp {path} không phải là cơ sở dữ liệu SQLite.")


def capped(lines: list[str], what: str) -> list[str]:
    """``lines``, the first :data:`MAX_LISTED` of them and "… và N <what> khác." if there are more."""
    if len(lines) <= MAX_LISTED:
        return lines
    return lines[:MAX_LISTED] + [f"… và {len(lines) - MAX_LISTED} {what} khác."]


# ---------------------------------------------------------------------------------------------
# The product's own schema
# ---------------------------------------------------------------------------------------------

_KIND = {"table": "bảng", "view": "view", "index": "chỉ mục", "trigger": "trigger"}
_ORDER = {kind: i for i, kind in enumerate(_KIND)}


def _by_kind(keys) -> list[tuple[str, str]]:
    return sorted(keys, key=lambda k: (_ORDER[k[0]], k[1]))


@functools.cache
def reference_schema(version: int) -> dict[tuple[str, str], str]:
    """The schema objects an empty database migrated to ``version`` has (the product's own)."""
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as conn:
        db.migrate(conn, target=version)
        return db.schema_objects(conn)


def schema_problems(conn: sqlite3.Connection, version: int | None = None) -> list[str]:
    """Every table, index, trigger or view that is extra, missing or different from the product's own
    schema at ``version`` (default: the file's own version), one line each (Vietnamese)."""
    version = db.schema_version(conn) if version is None else version
    if not 0 < version <= db.SCHEMA_VERSION:
        return [f"phiên bản cấu trúc {version} không phải của phần mềm"]
    want, have = reference_schema(version), db.schema_objects(conn)
    lines = []
    for kind, name in _by_kind(have.keys() - want.keys()):
        lines.append(f"thừa {_KIND[kind]} {name}")
    for kind, name in _by_kind(want.keys() - have.keys()):
        lines.append(f"thiếu {_KIND[kind]} {name}")
    for kind, name in _by_kind(want.keys() & have.keys()):
        if want[kind, name] != have[kind, name]:
            lines.append(f"{_KIND[kind]} {name} bị thay đổi định nghĩa")
    return lines


# ---------------------------------------------------------------------------------------------
# Check
# ---------------------------------------------------------------------------------------------


def _fmt_levels(counts: tuple[int, ...]) -> str:
    return ", ".join(f"mức {i}: {n}" for i, n in enumerate(counts[:5], start=1)) + f", không ý kiến: {counts[5]}"


def _where(key: tuple[str, ...]) -> str:
    """'ngày …, phiếu …[, kênh …, lĩnh vực …, cán bộ …]' for a roll-up key."""
    parts = [f"ngày {key[0]}", f"phiếu {key[1]}"]
    if len(key) >= 5:
        parts += [f"kênh {key[2]}", f"lĩnh vực {key[3] or '(không ghi)'}", f"cán bộ {key[4] or '(không ghi)'}"]
    return ", ".join(parts)


def _mismatch_line(table: str, key: tuple, kept: tuple, recounted: tuple) -> str:
    if len(kept) == 1:  # a count of responses
        return (
            f"Bảng tổng hợp {table} lệch: {_where(key)}: tổng hợp ghi {kept[0]}, "
            f"đếm lại từ phiếu gốc được {recounted[0]}."
        )
    return (
        f"Bảng tổng hợp {table} lệch: {_where(key[:-1])}, tiêu chí {key[-1]}: "
        f"tổng hợp ghi ({_fmt_levels(kept)}), đếm lại từ câu trả lời gốc được ({_fmt_levels(recounted)})."
    )


def check(conn: sqlite3.Connection) -> list[str]:
    """Problems found in an open, migrated database (an empty list: none).

    SQLite's ``integrity_check`` and ``foreign_key_check``; every roll-up (``daily_responses``,
    ``daily_counts``, ``dim_responses``, ``dim_counts``) against the counts recomputed from the raw
    rows, key by key (stricter than comparing totals: a count moved from one day, channel, lĩnh vực
    or staff member to another is found too); answers to a criterion
    that their response's questionnaire version does not have; responses naming an unknown
    questionnaire version; responses naming a staff code that is not in the roster.
    """
    from sipas.catalog import questionnaires

    problems = [f"Kiểm tra toàn vẹn (integrity_check): {p}" for p in db.integrity_problems(conn, limit=MAX_LISTED)]
    if problems:
        # The other checks would read damaged pages; fix (restore) first.
        return problems
    problems += _schema_check_lines(conn)
    problems += _timestamp_check_lines(conn)

    for table, parent, n in db.foreign_key_violations(conn):
        if (table, parent) == ("responses", "staff"):
            continue  # reported below, by staff code
        problems.append(
            f"Khóa ngoại (foreign_key_check): {n} dòng của bảng {table} "
            f"trỏ tới bảng {parent} nhưng dòng đó không tồn tại."
        )

    # Every roll-up against the raw rows, key by key (stricter than comparing totals: a count moved
    # from one day, channel, lĩnh vực or staff member to another is found too). A roll-up row
    # emptied by an exclusion stays behind at zero: missing and zero are the same.
    db.recount_rollups(conn)
    try:
        for table, what in (
            ("daily_responses", "ngày lệch"),
            ("daily_counts", "chỗ lệch"),
            ("dim_responses", "chỗ lệch"),
            ("dim_counts", "chỗ lệch"),
        ):
            problems += capped([_mismatch_line(table, *m) for m in db.rollup_mismatches(conn, table)], what)
    finally:
        db.drop_recounts(conn)

    known = questionnaires()
    for code, n in sorted(db.response_questionnaire_counts(conn).items()):
        if code not in known:
            problems.append(
                f'{n} phiếu ghi phiên bản phiếu "{code}" không có trong danh mục '
                f"(các phiên bản có: {', '.join(sorted(known))})."
            )
    for code, criterion, n in db.answer_criterion_counts(conn):
        if code in known and criterion not in known[code].criterion_codes:
            problems.append(f"{n} câu trả lời cho tiêu chí {criterion} không có trong phiếu {code}.")

    for code, n in db.unknown_staff_code_counts(conn).items():
        problems.append(f'{n} phiếu ghi mã cán bộ "{code}" không có trong danh sách cán bộ.')
    return problems


def _schema_check_lines(conn: sqlite3.Connection) -> list[str]:
    """The schema compared with the product's own for this version: every extra, missing or changed
    table, index, trigger or view (a planted trigger, a dropped one), one line each."""
    return [f"Cấu trúc cơ sở dữ liệu khác với của phần mềm: {p}." for p in schema_problems(conn)]


def _timestamp_check_lines(conn: sqlite3.Connection) -> list[str]:
    """Responses whose time is not zero-padded ISO of a year from 2000 to next year (an older version's
    import let ``0001-01-01`` in as ``1-01-01 00:00:00``)."""
    from sipas.files import parsing

    n = db.malformed_timestamp_count(conn, parsing.MIN_YEAR, parsing.max_year())
    if not n:
        return []
    return [
        f"{n} phiếu có thời điểm khảo sát không hợp lệ (không đúng dạng YYYY-MM-DD HH:MM:SS "
        f"hoặc năm ngoài khoảng {parsing.MIN_YEAR}–{parsing.max_year()})."
    ]


def check_database(db_path: str | Path, now: datetime | None = None) -> list[str]:
    """:func:`check` on the database file at ``db_path`` (an older schema is migrated first), and
    the server's clock (``now``, default the clock) against it: a clock that cannot be right is a
    problem too (:mod:`sipas.admin.clock_check`).

    Raises :class:`ValidationError` if there is no such file and :class:`DatabaseError` if it is not
    a database of this product.
    """
    path = Path(db_path)
    if not path.is_file():
        raise ValidationError(f"Không tìm thấy cơ sở dữ liệu {path}.")
    require_sqlite(path)
    with closing(db.connect(path)) as conn:
        try:
            app_id, version, tables = db.file_identity(conn)
        except sqlite3.DatabaseError as exc:
            return [f"Kiểm tra toàn vẹn (integrity_check): {reason(exc)}"]
        if app_id != db.APP_ID and not (app_id == 0 and version > 0 and PRODUCT_TABLES <= tables):
            raise DatabaseError(msg_foreign(str(path)))
        try:
            damaged = db.integrity_problems(conn, limit=MAX_LISTED)
        except sqlite3.DatabaseError as exc:
            damaged = [reason(exc)]
        if damaged:
            return [f"Kiểm tra toàn vẹn (integrity_check): {p}" for p in damaged]
        if version != db.SCHEMA_VERSION:
            # An older file is upgraded, as opening it anywhere does (a newer one is refused); a
            # current one is only read, so checking a backup file leaves it as it was.
            db.migrate(conn)
        from sipas import clock
        from sipas.admin.clock_check import clock_problem

        problems = check(conn)
        wrong_clock = clock_problem(conn, clock.now() if now is None else now)
        return problems + ([wrong_clock] if wrong_clock else [])
