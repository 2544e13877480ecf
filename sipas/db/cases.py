"""Corrective actions (cases), their append-only history, repeat-offence decisions."""

from __future__ import annotations

import sqlite3

from sipas.catalog import CONDUCT_CRITERIA_PREFIX

# ---------------------------------------------------------------------------------------------
# Corrective actions (cases), their append-only history, repeat-offence decisions
# ---------------------------------------------------------------------------------------------

CASE_COLUMNS = (
    "type",
    "origin",
    "channel",
    "staff_code",
    "criterion",
    "title",
    "description",
    "state",
    "owner",
    "priority",
    "received_at",
    "due_date",
    "response_deadline",
    "responded_at",
    "root_cause",
    "measure",
    "measure_detail",
    "measure_date",
    "measure_approved_by",
    "substantiated",
    "close_reason",
    "effect_flag",
    "schedule",
    "contact_phone",
    "is_demo",
    "closed_at",
)


def insert_case(conn: sqlite3.Connection, fields: dict, now: str) -> int:
    cols = [c for c in CASE_COLUMNS if c in fields]
    cur = conn.execute(
        f"INSERT INTO cases ({', '.join(cols)}, created_at, updated_at) "
        f"VALUES ({', '.join(':' + c for c in cols)}, :now, :now)",
        {**{c: fields[c] for c in cols}, "now": now},
    )
    return cur.lastrowid


def update_case(conn: sqlite3.Connection, case_id: int, fields: dict, now: str) -> None:
    cols = [c for c in CASE_COLUMNS if c in fields]
    if not cols:
        return
    conn.execute(
        f"UPDATE cases SET {', '.join(f'{c} = :{c}' for c in cols)}, updated_at = :now WHERE id = :id",
        {**{c: fields[c] for c in cols}, "now": now, "id": case_id},
    )


def get_case(conn: sqlite3.Connection, case_id: int) -> dict | None:
    row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    return None if row is None else dict(row)


def list_cases(
    conn: sqlite3.Connection,
    *,
    states: tuple[str, ...] | None = None,
    staff_code: str | None = None,
    case_type: str | None = None,
) -> list[dict]:
    sql, params = "SELECT * FROM cases WHERE 1 = 1", []
    if states:
        sql += f" AND state IN ({','.join('?' * len(states))})"
        params += list(states)
    if staff_code:
        sql += " AND staff_code = ?"
        params.append(staff_code)
    if case_type:
        sql += " AND type = ?"
        params.append(case_type)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id DESC", params)]


def add_case_event(
    conn: sqlite3.Connection,
    case_id: int,
    at: str,
    actor: str | None,
    kind: str,
    from_state: str | None,
    to_state: str | None,
    note: str | None,
) -> None:
    conn.execute(
        "INSERT INTO case_events (case_id, at, actor, kind, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (case_id, at, actor, kind, from_state, to_state, note),
    )


def case_events(
    conn: sqlite3.Connection, case_id: int | None = None, date_from: str | None = None, date_to: str | None = None
) -> list[dict]:
    sql, params = "SELECT * FROM case_events WHERE 1 = 1", []
    if case_id is not None:
        sql += " AND case_id = ?"
        params.append(case_id)
    if date_from:
        sql += " AND at >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND at < date(?, '+1 day')"
        params.append(date_to)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id", params)]


def link_case_response(conn: sqlite3.Connection, case_id: int, response_id: int) -> bool:
    cur = conn.execute(
        "INSERT OR IGNORE INTO case_responses (case_id, response_id) VALUES (?, ?)", (case_id, response_id)
    )
    return cur.rowcount == 1


def links_in_range(conn: sqlite3.Connection, after_id: int, upto_id: int) -> set[tuple[int, int]]:
    """(case_id, response_id) of the links to responses ``after_id < id <= upto_id``."""
    return {
        (c, r)
        for c, r in conn.execute(
            "SELECT case_id, response_id FROM case_responses WHERE response_id > ? AND response_id <= ?",
            (after_id, upto_id),
        )
    }


def add_case_links_and_events(conn: sqlite3.Connection, links: list[tuple[int, int]], events: list[tuple]) -> None:
    """Many (case_id, response_id) links and case events (``add_case_event``'s arguments) at once."""
    conn.executemany("INSERT OR IGNORE INTO case_responses (case_id, response_id) VALUES (?, ?)", links)
    conn.executemany(
        "INSERT INTO case_events (case_id, at, actor, kind, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        events,
    )


def case_response_ids(conn: sqlite3.Connection, case_id: int) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT response_id FROM case_responses WHERE case_id = ? ORDER BY response_id", (case_id,)
        )
    ]


def evidence_ids_by_case(conn: sqlite3.Connection) -> dict[int, list[int]]:
    """Every case's evidence survey ids, in id order, read at once (cases without evidence are absent)."""
    out: dict[int, list[int]] = {}
    for case_id, response_id in conn.execute(
        "SELECT case_id, response_id FROM case_responses ORDER BY case_id, response_id"
    ):
        out.setdefault(case_id, []).append(response_id)
    return out


# criterion >= 'TC3.' AND < 'TC3/' is LIKE 'TC3.%' for these codes, read on the primary key.
_CONDUCT_FROM = CONDUCT_CRITERIA_PREFIX
_CONDUCT_TO = CONDUCT_CRITERIA_PREFIX[:-1] + chr(ord(CONDUCT_CRITERIA_PREFIX[-1]) + 1)


def intake_candidates(
    conn: sqlite3.Connection, last_id: int, limit: int = 1000, low: tuple[int, ...] = (1, 2)
) -> tuple[int, list[dict]]:
    """The responses stored after ``last_id`` that can open a conduct case, for the case intake: not
    excluded, with a staff-conduct answer (element 3, ``TC3.*``) in ``low`` or a comment; at most
    ``limit`` of them, in one query, each with ``low`` (its staff-conduct criteria answered in
    ``low``, sorted), ``low_values`` (criterion -> answer) and
    ``lowest`` (its lowest staff-conduct or overall answer, None without any).

    Returns ``(upto, rows)``: every response with ``last_id < id <= upto`` was looked at (``upto`` is
    the last row's id when ``limit`` was reached, else the newest response's id; ``last_id`` when
    nothing is newer). Ids are given under the write lock as max + 1, so no response committed later
    can fall at or below ``upto``.
    """
    newest = conn.execute("SELECT max(id) FROM responses").fetchone()[0] or 0
    if newest <= last_id:
        return last_id, []
    marks = ",".join("?" * len(low))
    conduct = f"a.response_id = r.id AND a.criterion >= '{_CONDUCT_FROM}' AND a.criterion < '{_CONDUCT_TO}'"
    out = []
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: tens of thousands of candidates after a year's file
    for rid, submitted_at, staff_code, overall, comment, is_demo, low_text, conduct_min in cursor.execute(
        "SELECT id, submitted_at, staff_code, overall, comment, is_demo, "
        "  (SELECT group_concat(a.criterion || '=' || a.value) FROM answers a "
        f"   WHERE {conduct} AND a.value IN ({marks})) AS low, "
        f"  (SELECT min(a.value) FROM answers a WHERE {conduct}) AS conduct_min "
        "FROM responses r WHERE id > ? AND id <= ? AND excluded = 0 AND ((comment IS NOT NULL AND comment <> '')"
        f"  OR EXISTS (SELECT 1 FROM answers a WHERE {conduct} AND a.value IN ({marks}))) "
        "ORDER BY id LIMIT ?",
        (*low, last_id, newest, *low, limit),
    ):
        pairs = sorted(p.split("=") for p in low_text.split(",")) if low_text else []
        if overall is None or (conduct_min is not None and conduct_min < overall):
            lowest = conduct_min
        else:
            lowest = overall
        out.append(
            {
                "id": rid,
                "submitted_at": submitted_at,
                "staff_code": staff_code,
                "overall": overall,
                "comment": comment,
                "is_demo": is_demo,
                "low": [c for c, _ in pairs],
                "low_values": {c: int(v) for c, v in pairs},
                "lowest": lowest,
            }
        )
    return (out[-1]["id"] if len(out) >= limit else newest), out


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def insert_repeat_decision(
    conn: sqlite3.Connection, staff_code: str, at: str, actor: str, decision: str, note: str
) -> None:
    conn.execute(
        "INSERT INTO repeat_decisions (staff_code, decided_at, actor, decision, note) VALUES (?, ?, ?, ?, ?)",
        (staff_code, at, actor, decision, note),
    )


def repeat_decisions(conn: sqlite3.Connection, staff_code: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM repeat_decisions", []
    if staff_code:
        sql += " WHERE staff_code = ?"
        params.append(staff_code)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id", params)]


def conduct_counts(
    conn: sqlite3.Connection,
    staff_code: str | None,
    date_from: str,
    date_to: str,
    criterion_prefix: str = CONDUCT_CRITERIA_PREFIX,
) -> tuple[int, int]:
    """(responses, satisfied responses) about the criteria starting with ``criterion_prefix`` in [from, to).

    Counted per response, not per answer, so that one citizen's five conduct answers are not taken
    as five independent observations: a response counts if it answered at least one such criterion,
    and as satisfied when every one it answered is 4–5. With a staff code: that staff member's
    responses; without: all responses. Excluded responses are out.
    """
    sql = (
        "SELECT count(*), coalesce(sum(low = 0), 0) FROM (SELECT r.id, sum(a.value <= 3) AS low "
        "FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0 AND a.criterion LIKE ? "
        "AND a.value IS NOT NULL AND r.submitted_at >= ? AND r.submitted_at < ?"
    )
    params: list = [criterion_prefix + "%", date_from, date_to]
    if staff_code:
        sql += " AND r.staff_code = ?"
        params.append(staff_code)
    n, sat = conn.execute(sql + " GROUP BY r.id)", params).fetchone()
    return int(n), int(sat)


def case_evidence(conn: sqlite3.Connection, case_id: int) -> list[dict]:
    """The survey responses linked to a case: when, staff-conduct ratings, overall, comment (as typed)."""
    out = []
    for r in conn.execute(
        "SELECT r.id, r.submitted_at, r.overall, r.comment FROM case_responses cr "
        "JOIN responses r ON r.id = cr.response_id WHERE cr.case_id = ? ORDER BY r.submitted_at",
        (case_id,),
    ):
        ratings = ", ".join(
            f"{a[0]}: {a[1]}"
            for a in conn.execute(
                "SELECT criterion, value FROM answers WHERE response_id = ? AND criterion LIKE ? "
                "AND value IS NOT NULL ORDER BY criterion",
                (r["id"], CONDUCT_CRITERIA_PREFIX + "%"),
            )
        )
        out.append(
            {
                "Phiếu": r["id"],
                "Thời điểm": r["submitted_at"],
                "Đánh giá công chức": ratings,
                "Hài lòng chung": r["overall"],
                "Góp ý": r["comment"] or "",
            }
        )
    return out


def comment_label_corrections(conn: sqlite3.Connection) -> dict[str, bool]:
    """The clerk's conduct labels of comments: prepared text -> conduct complaint."""
    return {r[0]: bool(r[1]) for r in conn.execute("SELECT prepared, conduct_complaint FROM comment_labels")}


def comment_label(conn: sqlite3.Connection, prepared: str) -> dict | None:
    row = conn.execute("SELECT * FROM comment_labels WHERE prepared = ?", (prepared,)).fetchone()
    return dict(row) if row else None


def upsert_comment_label(
    conn: sqlite3.Connection, prepared: str, text: str, conduct: bool, actor: str, at: str
) -> None:
    conn.execute(
        "INSERT INTO comment_labels (prepared, text, conduct_complaint, actor, at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (prepared) DO UPDATE SET text = excluded.text, "
        "conduct_complaint = excluded.conduct_complaint, actor = excluded.actor, at = excluded.at",
        (prepared, text, int(conduct), actor, at),
    )


def conduct_answers(conn: sqlite3.Connection, date_from: str, date_to: str) -> list[dict]:
    """Every answer to a staff-conduct criterion (element 3) of a non-excluded response in [from, to), in
    time order (response, then criterion): ``staff_code`` (None when the response names nobody),
    ``response_id``, ``submitted_at``, ``criterion``, ``value``, ``is_demo``. Input of the CUSUM."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT r.staff_code, r.id AS response_id, r.submitted_at, a.criterion, a.value, r.is_demo "
            "FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.excluded = 0 "
            f"AND a.criterion >= '{_CONDUCT_FROM}' AND a.criterion < '{_CONDUCT_TO}' AND a.value IS NOT NULL "
            "AND r.submitted_at >= ? AND r.submitted_at < ? ORDER BY r.submitted_at, r.id, a.criterion",
            (date_from, date_to),
        )
    ]
