"""Filtered counts for the analysis page and the monthly report."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sipas.db.responses import EXTRA_COLUMNS, _range_clause, extra_from_row

# ---------------------------------------------------------------------------------------------
# Analysis page and monthly report (filtered counts, trend, comments, data quality)
# ---------------------------------------------------------------------------------------------
# Filters are keyword arguments: questionnaire, date_from, date_to (inclusive local dates),
# channel, field, staff_code, include_excluded. Only questionnaire and dates can use the roll-up;
# anything else is aggregated from the raw rows here in SQL (never loaded row by row).


def _response_where(
    questionnaire: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    channel: str | None = None,
    field: str | None = None,
    staff_code: str | None = None,
    include_excluded: bool = False,
    alias: str = "r",
) -> tuple[str, list]:
    clauses, params = ["1 = 1"], []
    if questionnaire:
        clauses.append(f"{alias}.questionnaire = ?")
        params.append(questionnaire)
    if date_from:
        clauses.append(f"{alias}.submitted_at >= ?")
        params.append(date_from)
    if date_to:
        clauses.append(f"{alias}.submitted_at < date(?, '+1 day')")
        params.append(date_to)
    for col, value in (("channel", channel), ("field", field), ("staff_code", staff_code)):
        if value:
            clauses.append(f"{alias}.{col} = ?")
            params.append(value)
    if not include_excluded:
        clauses.append(f"{alias}.excluded = 0")
    return " AND ".join(clauses), params


def _dim_where(
    questionnaire: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    channel: str | None = None,
    field: str | None = None,
    staff_code: str | None = None,
    include_excluded: bool = False,
) -> tuple[str, list] | None:
    """WHERE clause on the dimension roll-ups (dim_counts, dim_responses), or None when the filters
    need the raw rows (excluded responses included, or no questionnaire version given)."""
    if include_excluded or not questionnaire:
        return None
    clauses, params = ["questionnaire = ?"], [questionnaire]
    for col, value in (
        ("day >= ?", date_from),
        ("day <= ?", date_to),
        ("channel = ?", channel),
        ("field = ?", field),
        ("staff = ?", staff_code),
    ):
        if value:
            clauses.append(col)
            params.append(value)
    return " AND ".join(clauses), params


def analysis_data_version(conn: sqlite3.Connection) -> tuple:
    """A cheap key that changes whenever what the analysis shows may change (for the page's cache):
    the newest response id, the count of counted responses (from the roll-up: changes on exclusion and
    deletion), and the newest audit entry about exclusions, settings, baseline, roster or demo data."""
    newest = conn.execute("SELECT max(id) FROM responses").fetchone()[0]
    count = conn.execute("SELECT sum(responses) FROM daily_responses").fetchone()[0]
    audit = conn.execute(
        "SELECT max(id) FROM audit_log WHERE action IN "
        "('exclude', 'include', 'restore', 'setting', 'baseline', 'delete-demo', 'staff', 'baseline-delete')"
    ).fetchone()[0]
    base = conn.execute("SELECT count(*), max(updated_at) FROM baseline").fetchone()
    return (newest, count, audit, base[0], base[1])


def filtered_counts(conn: sqlite3.Connection, **filters) -> tuple[dict[str, tuple[int, int, int, int, int]], int]:
    """(counts of answers 1..5 per criterion and ``'overall'``, number of responses) matching ``filters``,
    in one pass: the matching responses are selected once, then their answers are counted."""
    dim = _dim_where(**filters)
    if dim is not None:
        where, params = dim
        counts = {
            r[0]: tuple(int(x) for x in r[1:])
            for r in conn.execute(
                "SELECT criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM dim_counts "
                f"WHERE {where} GROUP BY criterion",
                params,
            )
        }
        responses = conn.execute(
            f"SELECT coalesce(sum(responses), 0) FROM dim_responses WHERE {where}", params
        ).fetchone()[0]
        return {k: v for k, v in counts.items() if any(v)}, int(responses)
    where, params = _response_where(**filters)
    sql = (
        f"WITH sel AS MATERIALIZED (SELECT r.id, r.overall FROM responses r WHERE {where}) "
        "SELECT a.criterion, a.value, count(*) FROM sel CROSS JOIN answers a ON a.response_id = sel.id "
        "WHERE a.value IS NOT NULL GROUP BY 1, 2 "
        "UNION ALL SELECT 'overall', overall, count(*) FROM sel WHERE overall IS NOT NULL GROUP BY 2 "
        "UNION ALL SELECT NULL, NULL, count(*) FROM sel"
    )
    out: dict[str, list[int]] = {}
    responses = 0
    for criterion, value, count in conn.execute(sql, params):
        if criterion is None:
            responses = int(count)
        else:
            out.setdefault(criterion, [0, 0, 0, 0, 0])[int(value) - 1] += int(count)
    return {k: tuple(v) for k, v in out.items()}, responses


def filtered_level_counts(conn: sqlite3.Connection, **filters) -> dict[str, tuple[int, int, int, int, int]]:
    """Per criterion (and ``'overall'``): counts of answers 1..5 of the responses matching ``filters``."""
    return filtered_counts(conn, **filters)[0]


def monthly_level_counts(conn: sqlite3.Connection, **filters) -> list[tuple]:
    """(month 'YYYY-MM', criterion or 'overall', n1..n5) rows; from the roll-up when the filters allow."""
    rollup = not any(filters.get(k) for k in ("channel", "field", "staff_code", "include_excluded"))
    if rollup:
        where, params = _range_clause(filters.get("date_from"), filters.get("date_to"))
        sql = (
            "SELECT substr(day, 1, 7), criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) "
            f"FROM daily_counts WHERE questionnaire = ?{where} GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = conn.execute(sql, [filters["questionnaire"], *params])
    elif (dim := _dim_where(**filters)) is not None:
        where, params = dim
        rows = conn.execute(
            "SELECT substr(day, 1, 7), criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) "
            f"FROM dim_counts WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
            params,
        )
    else:
        where, params = _response_where(**filters)
        sql = (
            "SELECT m, c, sum(v = 1), sum(v = 2), sum(v = 3), sum(v = 4), sum(v = 5) FROM ("
            "SELECT substr(r.submitted_at, 1, 7) AS m, a.criterion AS c, a.value AS v "
            f"FROM responses r JOIN answers a ON a.response_id = r.id WHERE {where} "
            "UNION ALL SELECT substr(r.submitted_at, 1, 7), 'overall', r.overall "
            f"FROM responses r WHERE {where} AND r.overall IS NOT NULL) GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = conn.execute(sql, params + params)
    return [(r[0], r[1], *(int(x or 0) for x in r[2:])) for r in rows]


def monthly_response_counts(conn: sqlite3.Connection, **filters) -> dict[str, int]:
    rollup = not any(filters.get(k) for k in ("channel", "field", "staff_code", "include_excluded"))
    if rollup:
        where, params = _range_clause(filters.get("date_from"), filters.get("date_to"))
        rows = conn.execute(
            f"SELECT substr(day, 1, 7), sum(responses) FROM daily_responses WHERE questionnaire = ?{where} GROUP BY 1",
            [filters["questionnaire"], *params],
        )
    elif (dim := _dim_where(**filters)) is not None:
        where, params = dim
        rows = conn.execute(
            f"SELECT substr(day, 1, 7), sum(responses) FROM dim_responses WHERE {where} GROUP BY 1", params
        )
    else:
        where, params = _response_where(**filters)
        rows = conn.execute(
            f"SELECT substr(r.submitted_at, 1, 7), count(*) FROM responses r WHERE {where} GROUP BY 1", params
        )
    return {r[0]: int(r[1]) for r in rows}


def weekday_hour_overall(conn: sqlite3.Connection, **filters) -> list[tuple[int, int, int, int]]:
    """(weekday 0 = Monday … 6, hour 0–23, answers to the overall question, of which 4–5) per cell."""
    where, params = _response_where(**filters)
    rows = conn.execute(
        "SELECT (CAST(strftime('%w', r.submitted_at) AS INTEGER) + 6) % 7, "
        "CAST(substr(r.submitted_at, 12, 2) AS INTEGER), count(*), sum(r.overall >= 4) "
        f"FROM responses r WHERE {where} AND r.overall IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows]


def staff_level_counts(conn: sqlite3.Connection, criteria: Iterable[str], **filters) -> dict[str, dict]:
    """Per staff code: the answers 1..5 to ``criteria`` pooled, and the number of responses."""
    codes = list(criteria)
    filters = {**filters, "staff_code": None}
    where, params = _response_where(**filters)
    marks = ", ".join("?" * len(codes))
    out: dict[str, dict] = {}
    for r in conn.execute(
        f"SELECT r.staff_code, count(*) FROM responses r WHERE {where} "
        "AND r.staff_code IS NOT NULL GROUP BY r.staff_code",
        params,
    ):
        out[r[0]] = {"responses": int(r[1]), "counts": (0, 0, 0, 0, 0)}
    for r in conn.execute(
        "SELECT r.staff_code, sum(a.value = 1), sum(a.value = 2), sum(a.value = 3), "
        f"sum(a.value = 4), sum(a.value = 5) FROM responses r JOIN answers a ON a.response_id = r.id "
        f"WHERE {where} AND r.staff_code IS NOT NULL AND a.criterion IN ({marks}) GROUP BY r.staff_code",
        [*params, *codes],
    ):
        out[r[0]]["counts"] = tuple(int(x or 0) for x in r[1:])
    return out


def comments_in_period(conn: sqlite3.Connection, limit: int | None = None, **filters) -> list[dict]:
    """Responses with a comment matching ``filters``, newest first (without their answers)."""
    where, params = _response_where(**filters)
    sql = (
        "SELECT r.id, r.submitted_at, r.channel, r.field, r.staff_code, r.overall, r.comment, r.excluded "
        f"FROM responses r WHERE {where} AND r.comment IS NOT NULL AND trim(r.comment) != '' "
        "ORDER BY r.submitted_at DESC, r.id DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, int(limit)]
    return [dict(r) for r in conn.execute(sql, params)]


def answers_for(conn: sqlite3.Connection, response_ids: Iterable[int]) -> dict[int, dict[str, int | None]]:
    """The stored answers (criterion → level, None = no opinion) of each response id."""
    ids = [int(i) for i in response_ids]
    out: dict[int, dict[str, int | None]] = {i: {} for i in ids}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for a in conn.execute(
            f"SELECT response_id, criterion, value FROM answers WHERE response_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            out[a[0]][a[1]] = a[2]
    return out


def quality_candidates(
    conn: sqlite3.Connection,
    date_from: str | None = None,
    date_to: str | None = None,
    questionnaire: str | None = None,
    min_same: int = 5,
) -> list[dict]:
    """Every response of the period (excluded ones too) with what the data-quality checks need: time,
    device, duration, the kiosk's out-of-hours mark; and, for the responses that gave one same level to
    every asked criterion (at least ``min_same`` of them), how many were asked (``asked`` = ``answered``)
    and that level (``lo`` = ``hi``). The others have None there: they cannot be straight-lining."""
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    rows = [
        dict(r)
        for r in conn.execute(
            "SELECT r.id, r.submitted_at, r.channel, r.device, r.duration_seconds, r.out_of_hours, r.excluded, "
            f"r.exclude_reason, r.comment FROM responses r WHERE {where} ORDER BY r.submitted_at, r.id",
            params,
        )
    ]
    same = {
        r[0]: r[1:]
        for r in conn.execute(
            f"WITH sel AS MATERIALIZED (SELECT r.id FROM responses r WHERE {where}) "
            "SELECT a.response_id, count(*), count(a.value), min(a.value), max(a.value) "
            "FROM sel CROSS JOIN answers a ON a.response_id = sel.id GROUP BY a.response_id "
            "HAVING count(*) >= ? AND count(a.value) = count(*) AND min(a.value) = max(a.value)",
            [*params, min_same],
        )
    }
    for r in rows:
        asked, answered, lo, hi = same.get(r["id"], (None, None, None, None))
        r.update(asked=asked, answered=answered, lo=lo, hi=hi)
    return rows


def excluded_responses(
    conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None, questionnaire: str | None = None
) -> list[dict]:
    """Excluded responses of the period with their reason and who excluded them when (last audit entry)."""
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    return [
        dict(r)
        for r in conn.execute(
            "SELECT r.id, r.submitted_at, r.channel, r.device, r.exclude_reason, r.comment, "
            "(SELECT actor FROM audit_log WHERE entity = 'response:' || r.id AND action = 'exclude' "
            " ORDER BY id DESC LIMIT 1) AS excluded_by, "
            "(SELECT at FROM audit_log WHERE entity = 'response:' || r.id AND action = 'exclude' "
            " ORDER BY id DESC LIMIT 1) AS excluded_at "
            f"FROM responses r WHERE {where} AND r.excluded = 1 ORDER BY r.submitted_at, r.id",
            params,
        )
    ]


def count_excluded(
    conn: sqlite3.Connection, date_from: str | None = None, date_to: str | None = None, questionnaire: str | None = None
) -> int:
    where, params = _response_where(
        questionnaire=questionnaire, date_from=date_from, date_to=date_to, include_excluded=True
    )
    return conn.execute(f"SELECT count(*) FROM responses r WHERE {where} AND r.excluded = 1", params).fetchone()[0]


def expectation_counts(conn: sqlite3.Connection, **filters) -> dict:
    """The expectations answers (Câu 10 of sipas-2024, "mong muốn" of older forms) of the responses
    matching ``filters``, counted in SQL from the stored JSON.

    Returns ``{"levels": {item: {level: responses}}, "raters": n, "chosen": {option: responses},
    "choosers": n}``: an answer stored as item → level (sipas-2024) counts in ``levels`` and its response
    once in ``raters``; one stored as a list of chosen options counts each option in ``chosen`` and its
    response once in ``choosers``.
    """
    where, params = _response_where(**filters)
    stored = f"FROM responses r, json_each(r.expectations) e WHERE {where} AND json_valid(r.expectations)"
    out: dict = {"levels": {}, "raters": 0, "chosen": {}, "choosers": 0}
    for item, level, n in conn.execute(
        f"SELECT e.key, e.value, count(*) {stored} AND json_type(r.expectations) = 'object' "
        "AND e.type = 'integer' GROUP BY 1, 2",
        params,
    ):
        out["levels"].setdefault(item, {})[level] = n
    for option, n in conn.execute(
        f"SELECT e.value, count(DISTINCT r.id) {stored} AND json_type(r.expectations) = 'array' GROUP BY 1", params
    ):
        out["chosen"][option] = n
    for key, kind in (("raters", "object"), ("choosers", "array")):
        out[key] = conn.execute(
            f"SELECT count(DISTINCT r.id) {stored} AND json_type(r.expectations) = ?", [*params, kind]
        ).fetchone()[0]
    return out


def extra_answer_rows(conn: sqlite3.Connection, **filters) -> list[dict]:
    """Each response matching ``filters`` that answered an extra question: its answers, code -> answer
    (:func:`sipas.db.responses.extra_from_row` reads the dedicated columns and the JSON column ``extra``)."""
    where, params = _response_where(**filters)
    given = " OR ".join(f"r.{c} IS NOT NULL" for c in (*EXTRA_COLUMNS, "extra"))
    cols = ", ".join(f"r.{c}" for c in (*EXTRA_COLUMNS, "extra"))
    cur = conn.execute(f"SELECT {cols} FROM responses r WHERE {where} AND ({given}) ORDER BY r.id", params)
    return [extra_from_row(row) for row in cur]


def raw_responses(conn: sqlite3.Connection, **filters) -> list[dict]:
    """The responses matching ``filters`` one by one (excluded ones only when the filters include them):
    their own columns, ``answers`` (criterion -> level or None) and ``extra`` (code -> answer), oldest first."""
    where, params = _response_where(**filters)
    rows = conn.execute(f"SELECT r.* FROM responses r WHERE {where} ORDER BY r.submitted_at, r.id", params).fetchall()
    answers = answers_for(conn, [r["id"] for r in rows])
    out = []
    for r in rows:
        item = {k: r[k] for k in ("id", "submitted_at", "questionnaire", "channel", "field", "staff_code")}
        item |= {k: r[k] for k in ("wait_minutes", "wait_bucket", "overall", "comment", "excluded")}
        item["answers"] = answers.get(r["id"], {})
        item["extra"] = extra_from_row(r)
        out.append(item)
    return out
