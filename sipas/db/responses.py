"""Responses: storing a survey (write queue, group commit), bulk import, exclusion, index counts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from itertools import repeat

from sipas import clock
from sipas.db.config import log_audit
from sipas.db.connection import _Job, _WriteQueue, transaction
from sipas.db.schema import schema_version

# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------

RESPONSE_COLUMNS = (
    "token",
    "submitted_at",
    "questionnaire",
    "channel",
    "field",
    "staff_code",
    "wait_minutes",
    "wait_bucket",
    "overall",
    "harassment",
    "informal_payment",
    "expectations",
    "comment",
    "gender",
    "age_group",
    "education",
    "ethnicity",
    "occupation",
    "extra",
    "device",
    "duration_seconds",
    "fingerprint",
    "import_id",
    "is_demo",
    "out_of_hours",
    "dossier_id",
)
# Extra questions (sipas.catalog.questions) whose answers have a column of their own, because the
# analysis reads them there; the answers to every other extra question go into ``extra``, one JSON
# object keyed by question code. A list or an object (a multiple choice, a grid) is stored as JSON.
EXTRA_COLUMNS = (
    "harassment",
    "informal_payment",
    "expectations",
    "gender",
    "age_group",
    "education",
    "ethnicity",
    "occupation",
)


def extra_to_columns(extra: dict) -> dict:
    """The response columns that hold ``extra`` (question code -> answer): its own column where it has
    one, else a key of the JSON column ``extra``.

    >>> extra_to_columns({"harassment": 2, "expectations": {"MM1": 4}, "hoi_them": ["a", "b"]})
    {'harassment': 2, 'expectations': '{"MM1": 4}', 'extra': '{"hoi_them": ["a", "b"]}'}
    """
    out: dict = {}
    rest = {}
    for code, value in extra.items():
        if value is None:
            continue
        if code in EXTRA_COLUMNS:
            out[code] = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
        else:
            rest[code] = value
    if rest:
        out["extra"] = json.dumps(rest, ensure_ascii=False)
    return out


def extra_from_row(row) -> dict:
    """A stored response's answers to extra questions (code -> answer), from its columns and ``extra``."""
    keys = row.keys()
    out = {}
    for code in EXTRA_COLUMNS:
        value = row[code] if code in keys else None
        if value is None:
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[code] = value
    if "extra" in keys and row["extra"]:
        out.update(json.loads(row["extra"]))
    return out


_INSERT_RESPONSE = (
    f"INSERT INTO responses ({', '.join(RESPONSE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in RESPONSE_COLUMNS)}) ON CONFLICT (token) DO NOTHING"
)
# A survey marked as suspect on arrival (sipas.survey.tablet): stored already excluded, so it never
# enters a roll-up (the roll-up delta adds only the rows not excluded) until a clerk restores it.
_INSERT_SUSPECT = (
    f"INSERT INTO responses ({', '.join(RESPONSE_COLUMNS)}, excluded, exclude_reason) "
    f"VALUES ({', '.join(':' + c for c in RESPONSE_COLUMNS)}, 1, :exclude_reason) ON CONFLICT (token) DO NOTHING"
)


def _insert_one(conn: sqlite3.Connection, response: dict, answers: dict[str, int | None]) -> int | None:
    """Insert one response and its answers (not yet in the roll-ups); its id, or None if its token
    is already stored."""
    row = {c: response.get(c) for c in RESPONSE_COLUMNS}
    row["is_demo"] = int(bool(row["is_demo"]))
    row["out_of_hours"] = int(bool(row["out_of_hours"]))
    if response.get("exclude_reason"):
        row["exclude_reason"] = str(response["exclude_reason"])
        cur = conn.execute(_INSERT_SUSPECT, row)
    else:
        cur = conn.execute(_INSERT_RESPONSE, row)
    if cur.rowcount == 0:
        return None
    rid = cur.lastrowid
    # Plain executemany, not sqlite-utils: this is the survey store's hot path (group commit under the
    # write lock); sqlite-utils' insert_all would re-read the table's columns and build its SQL per call.
    conn.executemany(
        _INSERT_ANSWERS,
        [(rid, code, value) for code, value in answers.items()],
    )
    return rid


def _add_to_rollups(conn: sqlite3.Connection, first_id: int, last_id: int) -> None:
    """Add the responses with ids ``first_id``..``last_id`` (all inserted by the current transaction)
    to every roll-up in a few set-based statements (the one rule: the trigger ``rollup_delta_apply``
    of migration 8). Every insertion path of this module ends with it, inside the same transaction
    as the rows, so a reader never sees rows without their counts."""
    if last_id >= first_id:
        conn.execute("INSERT INTO rollup_delta (first_id, last_id, sign) VALUES (?, ?, 1)", (first_id, last_id))


def _next_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM responses").fetchone()[0]


def insert_response(conn: sqlite3.Connection, response: dict, answers: dict[str, int | None]) -> bool:
    """Store one survey exactly once: False when its token is already stored (a double tap).

    ``answers`` maps each criterion that was *asked* to its value 1–5, or None for "Không ý kiến".
    Returns only after the survey is committed (and synced to disk).

    Group commit: surveys submitted at the same moment by other threads of this process are
    written in the same transaction, each in its own savepoint (one survey's error is raised to
    its own caller only), so that one disk sync and one roll-up update serve them all. With 20
    tablets submitting at once this halves the p99 latency (bench/RESULTS.md).
    """
    queue = getattr(conn, "write_queue", None)
    if queue is None or conn.in_transaction:
        with transaction(conn):
            rid = _insert_one(conn, response, answers)
            if rid is not None:
                _add_to_rollups(conn, rid, rid)
            return rid is not None
    job = _Job(response, answers)
    with queue.jobs_mutex:
        queue.jobs.append(job)
        if not queue.leader_busy:
            queue.leader_busy = job.leader = True
    if not job.leader:
        job.done.wait()  # set when written by a leader, or when this thread becomes the leader
    if job.leader:
        _write_jobs(conn, queue)
    if job.error is not None:
        raise job.error
    return bool(job.result)


def _write_jobs(conn: sqlite3.Connection, queue: _WriteQueue) -> None:
    """As the leader: write every waiting survey in one transaction, then pass the lead on."""
    with queue.jobs_mutex:
        batch, queue.jobs = queue.jobs, []
    try:
        with transaction(conn):
            # Ids are max(id) + 1 in turn under the write lock (a survey rolled back to its
            # savepoint frees its id for the next one): the batch's rows are exactly the ids from
            # the first to the last one stored.
            first = last = None
            for job in batch:
                conn.execute("SAVEPOINT survey")
                try:
                    rid = _insert_one(conn, job.response, job.answers)
                    job.result = rid is not None
                    if rid is not None:
                        first, last = first or rid, rid
                except Exception as exc:
                    conn.execute("ROLLBACK TO survey")
                    job.error = exc
                conn.execute("RELEASE survey")
            if first is not None:
                _add_to_rollups(conn, first, last)
    except BaseException as exc:  # nothing of the batch was committed
        for job in batch:
            job.result, job.error = None, exc
    finally:
        with queue.jobs_mutex:
            if queue.jobs:
                successor = queue.jobs[0]
                successor.leader = True
                successor.done.set()
            else:
                queue.leader_busy = False
        for job in batch:
            job.leader = False
            job.done.set()


def insert_responses(conn: sqlite3.Connection, rows: Iterable[tuple[dict, dict]]) -> tuple[int, int]:
    """Store many responses in one transaction (the caller's, or one of its own); return (added,
    already present)."""
    if not conn.in_transaction:
        with transaction(conn):
            return insert_responses(conn, rows)
    first = _next_id(conn)
    added = present = 0
    for response, answers in rows:
        if _insert_one(conn, response, answers) is not None:
            added += 1
        else:
            present += 1
    _add_to_rollups(conn, first, _next_id(conn) - 1)
    return added, present


def insert_responses_bulk(
    conn: sqlite3.Connection, rows: list[tuple[dict, dict]], present: set[str] | None = None
) -> tuple[int, int]:
    """Like :func:`insert_responses` (inside the caller's transaction), much faster for many rows:
    rows and answers with ``executemany`` and explicit ids, then the roll-ups once for the whole
    range (from ``_COUNTED_FROM`` rows on counted here, :func:`_add_counted_to_rollups`, with the same
    result as the trigger). Used for responses files, demo data, a restore's merge and benchmarks.
    ``present``: the rows' tokens already stored, when the caller has just looked them up
    (:func:`existing_tokens`)."""
    if not conn.in_transaction:
        raise RuntimeError("insert_responses_bulk must run inside a transaction")
    present = existing_tokens(conn, [r["token"] for r, _ in rows]) if present is None else set(present)
    first_id = _next_id(conn)
    # Only the columns some row names (a file's rows name about half of them): the others are NULL
    # either way, and 12 fewer parameters a row take ≈ 0.3 s off 100,000 rows. The two flags always.
    named = {"is_demo", "out_of_hours"}
    for response, _ in rows:
        named.update(response)
    columns = [c for c in RESPONSE_COLUMNS if c in named]
    i_demo, i_hours = columns.index("is_demo"), columns.index("out_of_hours")
    new_rows, answer_rows, stored, skipped = [], [], [], 0
    as_json = _answers_as_json(rows)
    if len(_JSON_PAIRS) > 10_000:
        _JSON_PAIRS.clear()
    for response, answers in rows:
        token = response["token"]
        if token in present:
            skipped += 1
            continue
        present.add(token)
        rid = first_id + len(new_rows)
        values = [rid, *map(response.get, columns)]
        values[1 + i_demo] = int(bool(values[1 + i_demo]))
        values[1 + i_hours] = int(bool(values[1 + i_hours]))
        new_rows.append(values)
        stored.append((response, answers))
        if as_json:
            answer_rows.append((rid, _answers_json(answers)))  # one parameter for all the row's answers
        else:
            answer_rows += zip(repeat(rid), answers.keys(), answers.values())  # (rid, code, value) tuples
    # Plain executemany, not sqlite-utils' insert_all: a year's import is millions of answers, and
    # tuples straight into one prepared statement avoid a dict per row and per-batch SQL building.
    conn.executemany(f"INSERT INTO responses (id, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})", new_rows)
    conn.executemany(_INSERT_ANSWERS_JSON if as_json else _INSERT_ANSWERS, answer_rows)
    del answer_rows
    last_id = first_id + len(new_rows) - 1
    if len(new_rows) < _COUNTED_FROM or not _add_counted_to_rollups(conn, stored, first_id, last_id):
        _add_to_rollups(conn, first_id, last_id)
    return len(new_rows), skipped


_INSERT_ANSWERS = "INSERT INTO answers (response_id, criterion, value) VALUES (?, ?, ?)"
# A response's answers as one JSON object, unpacked by SQLite (in C): 19 criteria cost one bound row
# instead of 19, which takes about a third off the 1.8 million answers of 100,000 imported surveys
# (bench/RESULTS.md, issue 18 item 9, third round). The same rows: a key is the criterion's code as
# typed, an integer stays an INTEGER and JSON null is NULL (tests/test_rollups.py compares both paths).
_INSERT_ANSWERS_JSON = "INSERT INTO answers (response_id, criterion, value) SELECT ?, key, value FROM json_each(?)"


def _answers_as_json(rows: list[tuple[dict, dict]]) -> bool:
    """Whether every answer of ``rows`` is a text code with None or an int 1–5 (what a file's or a
    tablet's rows hold): anything else (1.0, "1", True …) goes through the tuple path, whatever SQLite
    makes of it."""
    codes, levels, kinds = set(), set(), set()
    for _, answers in rows:
        codes.update(answers)
        levels.update(answers.values())
        kinds.update(map(type, answers.values()))
    return kinds <= _JSON_KINDS and levels <= _JSON_LEVELS and all(type(c) is str and "\x00" not in c for c in codes)


_JSON_KINDS = {int, type(None)}
_JSON_LEVELS = {None, 1, 2, 3, 4, 5}


class _JsonPairs(dict):
    """(criterion, level) -> ``"code":level`` as JSON, made once: a file's answers are a few dozen
    distinct pairs, and joining them is twice as fast as ``json.dumps`` of each row's dict."""

    def __missing__(self, pair: tuple[str, int | None]) -> str:
        text = self[pair] = f"{json.dumps(pair[0])}:{json.dumps(pair[1])}"
        return text


_JSON_PAIRS = _JsonPairs()


def _answers_json(answers: dict[str, int | None]) -> str:
    """``json.dumps(answers)`` (without its spaces) for answers :func:`_answers_as_json` accepted."""
    return "{" + ",".join(map(_JSON_PAIRS.__getitem__, answers.items())) + "}"


# From this many new rows the bulk insert counts its roll-ups itself (below); fewer go through the trigger.
_COUNTED_FROM = 1000
_LEVEL_SLOT = {None: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}  # an answer's place in (n_na, n1, …, n5)
_COUNTED_TEMP = (
    ("rollup_groups", "g INTEGER PRIMARY KEY, day, questionnaire, channel, field, staff"),
    ("rollup_criteria", "c INTEGER PRIMARY KEY, criterion"),
    ("rollup_cells", "cell INTEGER, n1, n2, n3, n4, n5, n_na"),
)
_DIM_FROM_CELLS = (
    "INSERT INTO dim_counts (day, questionnaire, channel, field, staff, criterion, n1, n2, n3, n4, n5, n_na) "
    "SELECT g.day, g.questionnaire, g.channel, g.field, g.staff, c.criterion, x.n1, x.n2, x.n3, x.n4, x.n5, x.n_na "
    "FROM temp.rollup_cells x JOIN temp.rollup_groups g ON g.g = x.cell / ? "
    "JOIN temp.rollup_criteria c ON c.c = x.cell % ? ORDER BY x.rowid "
    "ON CONFLICT (day, questionnaire, channel, field, staff, criterion) DO UPDATE SET "
    "n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3, n4 = n4 + excluded.n4, "
    "n5 = n5 + excluded.n5, n_na = n_na + excluded.n_na"
)
_DIM_RESPONSES_UPSERT = (
    "INSERT INTO dim_responses (day, questionnaire, channel, field, staff, responses) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, questionnaire, channel, field, staff) DO UPDATE SET responses = responses + excluded.responses"
)
_HAS_DIM_COUNTS = "SELECT 1 FROM dim_counts WHERE day = ? AND questionnaire = ? LIMIT 1"
_HAS_DIM_RESPONSES = "SELECT 1 FROM dim_responses WHERE day = ? AND questionnaire = ? LIMIT 1"
_DAILY_COUNTS_SET = (
    "INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET "
    "n1 = excluded.n1, n2 = excluded.n2, n3 = excluded.n3, n4 = excluded.n4, n5 = excluded.n5, n_na = excluded.n_na"
)
_DAILY_RESPONSES_SET = (
    "INSERT INTO daily_responses (day, questionnaire, responses) VALUES (?, ?, ?) "
    "ON CONFLICT (day, questionnaire) DO UPDATE SET responses = excluded.responses"
)
# The daily roll-ups re-summed from the dimension ones for the days in temp.rollup_days, as the
# trigger rollup_delta_apply (migration 11) does for the days its range touches.
_DAILY_RESUM = {
    "dim_responses": "INSERT INTO daily_responses (day, questionnaire, responses) "
    "SELECT day, questionnaire, sum(responses) FROM dim_responses "
    "WHERE (day, questionnaire) IN (SELECT day, questionnaire FROM temp.rollup_days) "
    "GROUP BY 1, 2 ON CONFLICT (day, questionnaire) DO UPDATE SET responses = excluded.responses",
    "dim_counts": "INSERT INTO daily_counts (day, questionnaire, criterion, n1, n2, n3, n4, n5, n_na) "
    "SELECT day, questionnaire, criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n_na) FROM dim_counts "
    "WHERE (day, questionnaire) IN (SELECT day, questionnaire FROM temp.rollup_days) GROUP BY 1, 2, 3 "
    "ON CONFLICT (day, questionnaire, criterion) DO UPDATE SET n1 = excluded.n1, n2 = excluded.n2, "
    "n3 = excluded.n3, n4 = excluded.n4, n5 = excluded.n5, n_na = excluded.n_na",
}


def _add_counted_to_rollups(
    conn: sqlite3.Connection, rows: list[tuple[dict, dict]], first_id: int, last_id: int
) -> bool:
    """What ``INSERT INTO rollup_delta (first_id, last_id, 1)`` adds, counted here from the rows just
    inserted (``rows``, with the ids ``first_id``..``last_id`` in turn, none excluded) instead
    of by the trigger: the trigger's grouping sorts every answer of the range (≈ 2 s of a 100,000-row
    file); here each answer is one slot of a numpy ``bincount``, and only the sums are upserted, in key
    order. The same keys and sums as the trigger (``tests/test_rollups.py`` compares both on the same
    rows); the daily roll-ups are re-summed by the trigger's own statements. False, with nothing
    written, for a row whose keys or values are not the plain types the store writes (the caller then
    lets the trigger count)."""
    import numpy as np

    groups: dict[tuple, int] = {}
    group_of, sizes, codes, values, overall = [], [], [], [], []
    for response, answers in rows:
        day, q, channel = response.get("submitted_at"), response.get("questionnaire"), response.get("channel")
        field, staff = response.get("field"), response.get("staff_code")
        if not (type(day) is str and type(q) is str and type(channel) is str):
            return False
        key = (day[:10], q, channel, "" if field is None else field, "" if staff is None else staff)
        group_of.append(groups.setdefault(key, len(groups)))
        sizes.append(len(answers))
        codes += answers
        values += answers.values()
        overall.append(response.get("overall"))
    if len(group_of) != last_id - first_id + 1 or any(type(k[3]) is not str or type(k[4]) is not str for k in groups):
        return False
    names = sorted(set(codes) | {"overall"})
    if not all(type(c) is str for c in names):
        return False
    slot = {c: i for i, c in enumerate(names)}
    try:
        crit = np.fromiter(map(slot.__getitem__, codes), np.int64, len(codes))
        level = np.fromiter(map(_LEVEL_SLOT.__getitem__, values), np.int64, len(values))
        top = np.fromiter(map(_LEVEL_SLOT.__getitem__, overall), np.int64, len(overall))
    except (KeyError, TypeError):
        return False  # a value the trigger would compare by SQLite's rules (1.0, "1", True …)
    # Groups in key order (SQLite's BINARY order of UTF-8 is Python's order of code points).
    keys = sorted(groups)
    rank = np.empty(len(keys), np.int64)
    rank[[groups[k] for k in keys]] = np.arange(len(keys))
    g = rank[np.asarray(group_of, np.int64)]
    n_crit = len(names)
    flat = (np.repeat(g, np.asarray(sizes, np.int64)) * n_crit + crit) * 6 + level
    has_overall = top > 0
    flat = np.concatenate((flat, (g[has_overall] * n_crit + slot["overall"]) * 6 + top[has_overall]))
    counts = np.bincount(flat, minlength=len(keys) * n_crit * 6).reshape(-1, 6)
    per_group = np.bincount(g, minlength=len(keys))
    # The days (with their form) the rows touch; those with no dimension roll-up row yet have the new
    # sums as their whole daily roll-up, the others are re-summed by the trigger's statements.
    days = list(dict.fromkeys(k[:2] for k in keys))
    had_counts = {d for d in days if conn.execute(_HAS_DIM_COUNTS, d).fetchone()}
    had_responses = {d for d in days if conn.execute(_HAS_DIM_RESPONSES, d).fetchone()}
    # Into SQLite as integers only (binding the six text keys of each of 400,000 rows costs more than
    # the upsert): the groups and criteria by number in temporary tables, joined back in key order.
    for table, columns in _COUNTED_TEMP:
        conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        conn.execute(f"CREATE TEMP TABLE {table} ({columns})")
    conn.executemany("INSERT INTO temp.rollup_groups VALUES (?, ?, ?, ?, ?, ?)", [(i, *k) for i, k in enumerate(keys)])
    conn.executemany("INSERT INTO temp.rollup_criteria VALUES (?, ?)", enumerate(names))
    cells = np.flatnonzero(counts.any(axis=1))  # (group, criterion) pairs that got at least one answer
    levels = (counts[cells, i].tolist() for i in (1, 2, 3, 4, 5, 0))  # n1 … n5, n_na
    conn.executemany(
        "INSERT INTO temp.rollup_cells VALUES (?, ?, ?, ?, ?, ?, ?)", zip(cells.tolist(), *levels, strict=True)
    )
    conn.execute(_DIM_FROM_CELLS, (n_crit, n_crit))
    conn.executemany(_DIM_RESPONSES_UPSERT, [(*k, n) for k, n in zip(keys, per_group.tolist(), strict=True) if n])
    for table, _ in _COUNTED_TEMP:
        conn.execute(f"DROP TABLE temp.{table}")
    # Groups are in key order, so each day's groups are consecutive: its sums are one reduceat.
    starts = np.flatnonzero([i == 0 or keys[i][:2] != keys[i - 1][:2] for i in range(len(keys))])
    day_counts = np.add.reduceat(counts.reshape(len(keys), n_crit, 6), starts, axis=0)
    day_responses = np.add.reduceat(per_group, starts).tolist()
    daily, daily_n = [], []
    for d, sums, n in zip(days, day_counts.tolist(), day_responses, strict=True):
        if d not in had_counts:
            daily += [(*d, name, *c[1:], c[0]) for name, c in zip(names, sums, strict=True) if any(c)]
        if d not in had_responses:
            daily_n.append((*d, n))
    conn.executemany(_DAILY_COUNTS_SET, daily)
    conn.executemany(_DAILY_RESPONSES_SET, daily_n)
    if had_counts or had_responses:
        conn.execute("DROP TABLE IF EXISTS temp.rollup_days")
        conn.execute("CREATE TEMP TABLE rollup_days (day, questionnaire)")
        for table, had in (("dim_responses", had_responses), ("dim_counts", had_counts)):
            conn.execute("DELETE FROM temp.rollup_days")
            conn.executemany("INSERT INTO temp.rollup_days VALUES (?, ?)", sorted(had))
            conn.execute(_DAILY_RESUM[table])
        conn.execute("DROP TABLE temp.rollup_days")
    return True


def existing_tokens(conn: sqlite3.Connection, tokens: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(tokens), 500):
        chunk = tokens[i : i + 500]
        q = f"SELECT token FROM responses WHERE token IN ({','.join('?' * len(chunk))})"
        found.update(r[0] for r in conn.execute(q, chunk))
    return found


def stored_fingerprints(conn: sqlite3.Connection, fingerprints: Iterable[str]) -> dict[str, tuple[int, int | None]]:
    """Of these survey fingerprints, those already stored: fingerprint -> (how many responses carry it,
    the first import they came from)."""
    wanted = list(dict.fromkeys(fingerprints))
    found: dict[str, tuple[int, int | None]] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        q = (
            "SELECT fingerprint, count(*), min(import_id) FROM responses "
            f"WHERE fingerprint IN ({','.join('?' * len(chunk))}) GROUP BY fingerprint"
        )
        found.update((r[0], (int(r[1]), r[2])) for r in conn.execute(q, chunk))
    return found


def imports_by_id(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, dict]:
    """The recorded imports with these ids: id -> {filename, imported_at, kind}."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = conn.execute(
        f"SELECT id, filename, imported_at, kind FROM imports WHERE id IN ({','.join('?' * len(wanted))})", wanted
    )
    return {r[0]: {"filename": r[1], "imported_at": r[2], "kind": r[3]} for r in rows}


def record_import(
    conn: sqlite3.Connection,
    kind: str,
    filename: str,
    sha256: str,
    total: int,
    added: int,
    present: int,
    actor: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO imports (kind, filename, sha256, imported_at, rows_total, rows_added, rows_present, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, filename, sha256, clock.now_ts(), total, added, present, actor),
    )
    return cur.lastrowid


def count_responses(conn: sqlite3.Connection, *, demo: bool | None = None) -> int:
    if demo is None:
        return conn.execute("SELECT count(*) FROM responses").fetchone()[0]
    return conn.execute("SELECT count(*) FROM responses WHERE is_demo = ?", (int(demo),)).fetchone()[0]


def response_by_token(conn: sqlite3.Connection, token: str) -> dict | None:
    row = conn.execute("SELECT * FROM responses WHERE token = ?", (token,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["answers"] = {
        r["criterion"]: r["value"]
        for r in conn.execute("SELECT criterion, value FROM answers WHERE response_id = ?", (row["id"],))
    }
    return out


def set_excluded(
    conn: sqlite3.Connection, response_id: int, excluded: bool, reason: str | None, actor: str | None
) -> None:
    """Exclude or restore one response; the roll-up follows through the trigger; logged."""
    set_excluded_many(conn, [response_id], excluded, reason, actor)


def exclude_by_token(conn: sqlite3.Connection, reasons: dict[str, str | None]) -> None:
    """Leave out the responses of these tokens, each with its reason, inside the caller's transaction (the
    roll-ups follow through the ``responses_exclusion`` trigger). For surveys carried across a restore, left
    out before it: no new audit entry (the one of the original exclusion is in the replaced database)."""
    conn.executemany(
        "UPDATE responses SET excluded = 1, exclude_reason = ? WHERE token = ? AND excluded = 0",
        [(why, token) for token, why in reasons.items()],
    )


def set_excluded_many(
    conn: sqlite3.Connection, response_ids: list[int], excluded: bool, reason: str | None, actor: str | None
) -> None:
    """Exclude or restore responses in one transaction (all or none); raise KeyError for an unknown id."""
    with transaction(conn):
        for response_id in response_ids:
            old = conn.execute("SELECT excluded FROM responses WHERE id = ?", (response_id,)).fetchone()
            if old is None:
                raise KeyError(response_id)
            conn.execute(
                "UPDATE responses SET excluded = ?, exclude_reason = ? WHERE id = ?",
                (int(excluded), reason, response_id),
            )
            log_audit(
                conn,
                actor,
                "exclude" if excluded else "include",
                f"response:{response_id}",
                str(old[0]),
                str(int(excluded)),
                reason,
            )


# A demo case a person worked on (any history entry not written by the system: opened by hand, moved,
# noted, explained) is kept when the demo data goes, with the surveys behind it: the history of what was
# decided about a person is never deleted.
_WORKED_DEMO_CASES = (
    "SELECT id FROM cases WHERE is_demo = 1 AND id IN (SELECT case_id FROM case_events WHERE actor IS NOT 'hệ thống')"
)


def delete_demo_data(conn: sqlite3.Connection, actor: str) -> int:
    """Delete every generated (demo) response, its answers and demo staff; return responses deleted.

    Demo cases go too, except those a person worked on (:func:`demo_cases_kept`): they stay with their
    history and the demo surveys that are their evidence, and so does the staff member they name.
    ``actor``: who asked (the logged-in user, or the command line and its OS user)."""
    with transaction(conn):
        kept_evidence = ""
        if schema_version(conn) >= 4:
            doomed = f"SELECT id FROM cases WHERE is_demo = 1 AND id NOT IN ({_WORKED_DEMO_CASES})"
            kept_evidence = (
                f" AND id NOT IN (SELECT response_id FROM case_responses WHERE case_id IN ({_WORKED_DEMO_CASES}))"
            )
            conn.execute(
                "DELETE FROM case_responses WHERE case_id IN (" + doomed + ") OR (response_id IN "
                "(SELECT id FROM responses WHERE is_demo = 1) AND case_id NOT IN (" + _WORKED_DEMO_CASES + "))"
            )
            conn.execute(f"DELETE FROM case_events WHERE case_id IN ({doomed})")
            conn.execute(f"DELETE FROM cases WHERE id IN ({doomed})")
        n = conn.execute("DELETE FROM responses WHERE is_demo = 1" + kept_evidence).rowcount
        in_use = "SELECT staff_code FROM responses WHERE staff_code IS NOT NULL"
        if schema_version(conn) >= 4:
            in_use += (
                " UNION SELECT staff_code FROM cases WHERE staff_code IS NOT NULL"
                " UNION SELECT staff_code FROM repeat_decisions"
            )
        conn.execute(f"DELETE FROM staff WHERE is_demo = 1 AND code NOT IN ({in_use})")
        conn.execute("DELETE FROM kiosk_events WHERE device = 'demo'")
        kept = demo_cases_kept(conn)
        note = f"giữ {kept} vụ việc mẫu đã xử lý" if kept else None
        log_audit(conn, actor, "delete-demo", "responses", None, str(n), note)
    return n


def demo_cases_kept(conn: sqlite3.Connection) -> int:
    """How many demo cases a person worked on, which deleting the demo data keeps."""
    if schema_version(conn) < 4:
        return 0
    return conn.execute(f"SELECT count(*) FROM ({_WORKED_DEMO_CASES})").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Counts for the index (from the roll-up)
# ---------------------------------------------------------------------------------------------


def _range_clause(date_from: str | None, date_to: str | None) -> tuple[str, list]:
    sql, params = "", []
    if date_from:
        sql += " AND day >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND day <= ?"
        params.append(date_to)
    return sql, params


def level_counts(
    conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None, date_to: str | None = None
) -> dict[str, tuple[int, int, int, int, int]]:
    """Per criterion (and ``'overall'``): counts of answers 1..5 among non-excluded responses."""
    where, params = _range_clause(date_from, date_to)
    rows = conn.execute(
        "SELECT criterion, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM daily_counts "
        # Rows emptied by an exclusion or a demo deletion stay behind at zero: leave them out, as
        # the raw rows (level_counts_direct) would.
        f"WHERE questionnaire = ?{where} GROUP BY criterion HAVING sum(n1 + n2 + n3 + n4 + n5 + n_na) > 0",
        [questionnaire, *params],
    )
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


def responses_in_range(
    conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None, date_to: str | None = None
) -> int:
    where, params = _range_clause(date_from, date_to)
    row = conn.execute(
        f"SELECT coalesce(sum(responses), 0) FROM daily_responses WHERE questionnaire = ?{where}",
        [questionnaire, *params],
    ).fetchone()
    return int(row[0])


def level_counts_direct(
    conn: sqlite3.Connection, questionnaire: str, date_from: str | None = None, date_to: str | None = None
) -> dict[str, tuple[int, int, int, int, int]]:
    """The same counts as :func:`level_counts`, computed from the raw rows (check and benchmark)."""
    clauses, params = ["r.questionnaire = ?", "r.excluded = 0"], [questionnaire]
    if date_from:
        clauses.append("r.submitted_at >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("r.submitted_at < date(?, '+1 day')")
        params.append(date_to)
    where = " AND ".join(clauses)
    out: dict[str, tuple[int, ...]] = {}
    for r in conn.execute(
        "SELECT a.criterion, sum(a.value = 1), sum(a.value = 2), sum(a.value = 3), sum(a.value = 4), "
        f"sum(a.value = 5) FROM answers a JOIN responses r ON r.id = a.response_id WHERE {where} "
        "GROUP BY a.criterion",
        params,
    ):
        out[r[0]] = tuple(int(x or 0) for x in r[1:])
    row = conn.execute(
        "SELECT sum(overall = 1), sum(overall = 2), sum(overall = 3), sum(overall = 4), sum(overall = 5) "
        f"FROM responses r WHERE {where} AND overall IS NOT NULL",
        params,
    ).fetchone()
    if row[0] is not None:
        out["overall"] = tuple(int(x) for x in row)
    return out


def asked_counts(conn: sqlite3.Connection, questionnaire: str) -> dict[str, int]:
    """How often each criterion has been asked (answered or "Không ý kiến"), for balanced rotation."""
    rows = conn.execute(
        "SELECT criterion, sum(n1 + n2 + n3 + n4 + n5 + n_na) FROM daily_counts "
        "WHERE questionnaire = ? GROUP BY criterion",
        (questionnaire,),
    )
    return {r[0]: int(r[1]) for r in rows}
