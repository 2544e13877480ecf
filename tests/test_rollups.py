"""The roll-ups (daily_counts, dim_counts and their response counts, kept by one set-based rule)
always equal counts from the raw rows, through inserts, exclusions, restores and deletions, for every
filter the analysis page offers; and `check` finds any of them altered."""

from __future__ import annotations

import itertools

import pytest

from sipas import db, demo


def raw_counts(conn, questionnaire, date_from=None, date_to=None, channel=None, field=None, staff=None):
    """Independent recount straight from responses and answers (non-excluded only)."""
    clauses, params = ["r.questionnaire = ?", "r.excluded = 0"], [questionnaire]
    for sql, value in (
        ("substr(r.submitted_at, 1, 10) >= ?", date_from),
        ("substr(r.submitted_at, 1, 10) <= ?", date_to),
        ("r.channel = ?", channel),
        ("r.field = ?", field),
        ("r.staff_code = ?", staff),
    ):
        if value:
            clauses.append(sql)
            params.append(value)
    where = " AND ".join(clauses)
    out = {}
    for crit, value, n in conn.execute(
        f"SELECT a.criterion, a.value, count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
        f"WHERE {where} AND a.value IS NOT NULL GROUP BY 1, 2",
        params,
    ):
        out.setdefault(crit, [0] * 5)[value - 1] += n
    for value, n in conn.execute(
        f"SELECT overall, count(*) FROM responses r WHERE {where} AND overall IS NOT NULL GROUP BY 1", params
    ):
        out.setdefault("overall", [0] * 5)[value - 1] += n
    responses = conn.execute(f"SELECT count(*) FROM responses r WHERE {where}", params).fetchone()[0]
    return {k: tuple(v) for k, v in out.items()}, responses


FILTERS = [
    {},
    {"date_from": "2025-03-01", "date_to": "2025-08-31"},
    {"channel": "kiosk"},
    {"channel": "paper", "date_from": "2025-01-01", "date_to": "2025-12-31"},
    {"field": "Hộ tịch"},
    {"staff": "CB02"},
    {"staff": "CB02", "channel": "kiosk", "date_from": "2025-06-01", "date_to": "2026-05-31"},
]


def assert_rollups_match(conn):
    for f in FILTERS:
        expected = raw_counts(conn, "sipas-2023", **f)
        got = db.filtered_counts(
            conn,
            questionnaire="sipas-2023",
            date_from=f.get("date_from"),
            date_to=f.get("date_to"),
            channel=f.get("channel"),
            field=f.get("field"),
            staff_code=f.get("staff"),
        )
        assert got == expected, f
        if not any(f.get(k) for k in ("channel", "field", "staff")):
            levels = {
                k: v
                for k, v in db.level_counts(conn, "sipas-2023", f.get("date_from"), f.get("date_to")).items()
                if any(v)
            }
            assert levels == expected[0]
            assert db.responses_in_range(conn, "sipas-2023", f.get("date_from"), f.get("date_to")) == expected[1]


def test_rollups_equal_raw_counts_through_exclusions_and_deletions(conn):
    from datetime import date

    demo.generate(conn, 1500, seed=11, end=date(2026, 6, 30), months=20)
    assert_rollups_match(conn)
    ids = [r[0] for r in conn.execute("SELECT id FROM responses ORDER BY id")]
    for rid in itertools.islice(ids, 0, None, 7):
        db.set_excluded(conn, rid, True, "kiểm tra", "test")
    assert_rollups_match(conn)
    for rid in itertools.islice(ids, 0, None, 14):
        db.set_excluded(conn, rid, False, "khôi phục", "test")
    assert_rollups_match(conn)
    with db.transaction(conn):
        conn.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses WHERE id % 5 = 0)")
    assert_rollups_match(conn)
    db.delete_demo_data(conn, "vanphong")
    assert db.filtered_counts(conn, questionnaire="sipas-2023") == ({}, 0)


def test_the_roll_up_keys_of_a_response_cannot_change(conn):
    import sqlite3

    import pytest

    assert db.insert_response(
        conn,
        {"token": "t1", "submitted_at": "2025-01-02 08:00:00", "questionnaire": "sipas-2023", "channel": "kiosk"},
        {"TC1.1": 4},
    )
    for column, value in (("channel", "'paper'"), ("field", "'Đất đai'"), ("staff_code", "NULL")):
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute(f"UPDATE responses SET {column} = {value} WHERE token = 't1'")


# --------------------------------------------------------------------------- check of every roll-up


def _three_responses(conn):
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Văn A"})
    base = {"questionnaire": "sipas-2023", "channel": "kiosk"}
    db.insert_response(
        conn,
        {**base, "token": "a", "submitted_at": "2024-03-04 08:00:00", "overall": 5, "staff_code": "CB01"},
        {"TC1.1": 5, "TC1.2": 4},
    )
    db.insert_response(
        conn,
        {**base, "token": "b", "submitted_at": "2024-03-04 15:30:00", "overall": 2, "field": "Hộ tịch"},
        {"TC1.1": 2, "TC2.1": None},
    )
    db.insert_response(
        conn, {**base, "token": "c", "submitted_at": "2024-03-05 09:00:00", "channel": "paper"}, {"TC3.1": 3}
    )


def _check_cli(db_file, capsys):
    from sipas import cli

    code = cli.main(["check", "--db", str(db_file)])
    out = capsys.readouterr()
    return code, out.out, out.err


TAMPERED = {
    "dim_counts": (
        "UPDATE dim_counts SET n4 = n4 + 1 WHERE day = '2024-03-04' AND staff = 'CB01' AND criterion = 'TC1.2'",
        "Bảng tổng hợp dim_counts lệch: ngày 2024-03-04, phiếu sipas-2023, kênh kiosk, lĩnh vực (không ghi), "
        "cán bộ CB01, tiêu chí TC1.2: tổng hợp ghi (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 2, mức 5: 0, "
        "không ý kiến: 0), đếm lại từ câu trả lời gốc được (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 1, mức 5: 0, "
        "không ý kiến: 0).",
    ),
    "dim_responses": (
        "UPDATE dim_responses SET responses = 3 WHERE field = 'Hộ tịch'",
        "Bảng tổng hợp dim_responses lệch: ngày 2024-03-04, phiếu sipas-2023, kênh kiosk, lĩnh vực Hộ tịch, "
        "cán bộ (không ghi): tổng hợp ghi 3, đếm lại từ phiếu gốc được 1.",
    ),
    "daily_counts": (
        "UPDATE daily_counts SET n_na = 0 WHERE day = '2024-03-04' AND criterion = 'TC2.1'",
        "Bảng tổng hợp daily_counts lệch: ngày 2024-03-04, phiếu sipas-2023, tiêu chí TC2.1: tổng hợp ghi "
        "(mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 0, mức 5: 0, không ý kiến: 0), đếm lại từ câu trả lời gốc "
        "được (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 0, mức 5: 0, không ý kiến: 1).",
    ),
    "daily_responses": (
        "DELETE FROM daily_responses WHERE day = '2024-03-05'",
        "Bảng tổng hợp daily_responses lệch: ngày 2024-03-05, phiếu sipas-2023: tổng hợp ghi 0, "
        "đếm lại từ phiếu gốc được 1.",
    ),
}


def test_check_passes_on_the_untouched_database(conn, db_file, capsys):
    _three_responses(conn)
    assert _check_cli(db_file, capsys) == (0, "Cơ sở dữ liệu không có lỗi.\n", "")


@pytest.mark.parametrize("table", sorted(TAMPERED))
def test_check_finds_every_roll_up_table_altered_by_hand(conn, db_file, capsys, table):
    _three_responses(conn)
    sql, message = TAMPERED[table]
    assert conn.execute(sql).rowcount == 1
    assert _check_cli(db_file, capsys) == (1, "", message + "\n")


def test_check_finds_a_count_moved_between_staff_members_of_the_same_day(conn, db_file, capsys):
    # Every daily total and the day's dimension totals stay the same: only the key-by-key comparison
    # of the dimension roll-up sees it (the filtered analysis by staff member would show it).
    _three_responses(conn)
    conn.execute(
        "UPDATE dim_counts SET n5 = n5 - 1 WHERE day = '2024-03-04' AND staff = 'CB01' AND criterion = 'TC1.1'"
    )
    conn.execute(
        "INSERT INTO dim_counts (day, questionnaire, channel, field, staff, criterion, n5) "
        "VALUES ('2024-03-04', 'sipas-2023', 'kiosk', '', 'CB02', 'TC1.1', 1)"
    )
    assert db.level_counts(conn, "sipas-2023") == db.level_counts_direct(conn, "sipas-2023")
    code, out, err = _check_cli(db_file, capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "Bảng tổng hợp dim_counts lệch: ngày 2024-03-04, phiếu sipas-2023, kênh kiosk, lĩnh vực (không ghi), "
        "cán bộ CB01, tiêu chí TC1.1: tổng hợp ghi (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 0, mức 5: 0, "
        "không ý kiến: 0), đếm lại từ câu trả lời gốc được (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 0, mức 5: 1, "
        "không ý kiến: 0).",
        "Bảng tổng hợp dim_counts lệch: ngày 2024-03-04, phiếu sipas-2023, kênh kiosk, lĩnh vực (không ghi), "
        "cán bộ CB02, tiêu chí TC1.1: tổng hợp ghi (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 0, mức 5: 1, "
        "không ý kiến: 0), đếm lại từ câu trả lời gốc được (mức 1: 0, mức 2: 0, mức 3: 0, mức 4: 0, mức 5: 0, "
        "không ý kiến: 0).",
    ]


# --------------------------------------------------------------------------- migration 8


def test_a_database_kept_by_the_old_triggers_migrates_with_every_row_and_the_same_roll_ups(tmp_path):
    from contextlib import closing

    from sipas.admin import check

    path = tmp_path / "v7.db"
    with closing(db.connect(path)) as c:
        assert db.migrate(c, target=7) == 7
        # Rows written by plain SQL: the per-answer triggers of migrations 2 and 6 keep the roll-ups.
        rows = [
            (1, "a", "2024-03-04 08:00:00", "kiosk", "Hộ tịch", 5, 0),
            (2, "b", "2024-03-04 15:30:00", "paper", None, 2, 0),
            (3, "c", "2024-03-05 09:00:00", "kiosk", "Hộ tịch", None, 0),
            (4, "d", "2024-03-05 10:00:00", "qr", None, 1, 0),
        ]
        c.executemany(
            "INSERT INTO responses (id, token, submitted_at, questionnaire, channel, field, overall, excluded) "
            "VALUES (?, ?, ?, 'sipas-2023', ?, ?, ?, ?)",
            rows,
        )
        c.executemany(
            "INSERT INTO answers VALUES (?, ?, ?)",
            [(1, "TC1.1", 4), (1, "TC1.2", None), (2, "TC1.1", 5), (3, "TC1.1", 1), (4, "TC2.1", 3)],
        )
        c.execute("UPDATE responses SET excluded = 1 WHERE id = 4")
        tables = ("responses", "answers", "daily_counts", "daily_responses", "dim_counts", "dim_responses")
        before = {t: [tuple(r) for r in c.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3")] for t in tables}
        columns = {t: ", ".join(col[1] for col in c.execute(f"PRAGMA table_info({t})")) for t in tables}
    with closing(db.open_db(path)) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
        # Every column the old file had keeps its values (later migrations only add columns).
        after = {t: [tuple(r) for r in conn.execute(f"SELECT {columns[t]} FROM {t} ORDER BY 1, 2, 3")] for t in tables}
        assert after == before
        # Hand count, response 4 excluded: TC1.1 answers 4, 5, 1; TC1.2 one "Không ý kiến"; overall 5, 2.
        assert db.level_counts(conn, "sipas-2023") == {
            "TC1.1": (1, 0, 0, 1, 1),
            "TC1.2": (0, 0, 0, 0, 0),
            "overall": (0, 1, 0, 0, 1),
        }
        assert db.filtered_counts(conn, questionnaire="sipas-2023", field="Hộ tịch") == (
            {"TC1.1": (1, 0, 0, 1, 0), "overall": (0, 0, 0, 0, 1)},
            2,
        )
        # No per-answer trigger is left: the one rule is the view's.
        triggers = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'").fetchall())
        assert "answers" not in {t for n, t in triggers.items() if n != "answers_immutable"}
        assert triggers["rollup_delta_apply"] == "rollup_delta"
        # Writes, restores and deletions after the migration keep every roll-up exact.
        assert db.insert_response(
            conn,
            {"token": "e", "submitted_at": "2024-03-05 14:00:00", "questionnaire": "sipas-2023", "channel": "qr"},
            {"TC2.1": 2},
        )
        db.set_excluded(conn, 4, False, "khôi phục", "test")
        db.set_excluded(conn, 1, True, "trùng", "test")
        with db.transaction(conn):
            conn.execute("DELETE FROM responses WHERE id = 2")
        assert_rollups_match(conn)
        assert check.check(conn) == []
        assert db.filtered_counts(conn, questionnaire="sipas-2023", channel="qr") == (
            {"TC2.1": (0, 1, 1, 0, 0), "overall": (1, 0, 0, 0, 0)},
            2,
        )


def test_an_imported_file_lands_in_every_roll_up(conn):
    from datetime import date

    from sipas.admin import check
    from sipas.survey.responses import import_responses

    db.upsert_staff(conn, {"code": "CB02", "full_name": "Trần Thị B"})
    demo.generate(conn, 300, seed=5, end=date(2025, 12, 31), months=14)
    lines = ["submitted_at,channel,field,staff_code,overall,TC1.1,TC1.2,TC3.1"]
    for i in range(60):
        lines.append(
            f"2025-{1 + i % 12:02d}-{1 + i % 27:02d} 0{8 + i % 2}:{i % 60:02d}:00,"
            f"{('paper', 'qr', 'kiosk')[i % 3]},{('Hộ tịch', '', 'Đất đai')[i % 3]},{('CB02', '')[i % 2]},"
            f"{'' if i % 7 == 0 else 1 + i % 5},{1 + i % 5},{'' if i % 4 == 0 else 5 - i % 5},{2 + i % 4}"
        )
    summary = import_responses(conn, "\n".join(lines).encode(), "phieu.csv", active_version="sipas-2023", actor="test")
    assert (summary.added, summary.present) == (60, 0)
    assert_rollups_match(conn)
    assert check.check(conn) == []
    # A second import of the same file adds nothing and leaves every roll-up as it was.
    before = {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall() for t in ("dim_counts", "daily_counts")
    }
    again = import_responses(conn, "\n".join(lines).encode(), "phieu.csv", active_version="sipas-2023")
    assert (again.added, again.present) == (0, 60)
    after = {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall() for t in ("dim_counts", "daily_counts")
    }
    assert [[tuple(r) for r in v] for v in after.values()] == [[tuple(r) for r in v] for v in before.values()]


def test_a_file_of_many_groups_lands_key_by_key_as_a_python_tally(conn):
    """Migration 11 counts a range's answers per (dimension group, criterion) before adding them: every
    key of dim_counts, dim_responses and daily_counts equals a tally made here in Python from the file."""
    import random
    from collections import Counter, defaultdict
    from datetime import date

    from sipas.admin import check
    from sipas.catalog import questionnaire
    from sipas.survey.responses import import_responses

    staff = ["CB01", "CB02", "CB03"]
    for code in staff:
        db.upsert_staff(conn, {"code": code, "full_name": f"Cán bộ {code}"})
    demo.generate(conn, 200, seed=3, end=date(2025, 6, 30), months=6)  # some keys are there already
    before = {
        tuple(r[:6]): tuple(r[6:]) for r in conn.execute("SELECT * FROM dim_counts WHERE questionnaire = 'sipas-2023'")
    }
    dims_before = Counter(
        {tuple(r[:5]): r[5] for r in conn.execute("SELECT * FROM dim_responses WHERE questionnaire = 'sipas-2023'")}
    )
    codes = list(questionnaire("sipas-2023").criterion_codes)
    rng = random.Random(11)
    lines = [",".join(["submitted_at", "channel", "field", "staff_code", "overall", *codes])]
    tally: dict[tuple, list[int]] = defaultdict(lambda: [0] * 6)
    responses: Counter = Counter()
    for i in range(3000):
        day = f"2025-{1 + rng.randrange(6):02d}-{1 + rng.randrange(28):02d}"
        channel, field, who = (
            rng.choice(("paper", "qr", "kiosk")),
            rng.choice(("Hộ tịch", "", "Đất đai")),
            rng.choice(["", *staff]),
        )
        overall = rng.choice(("", "1", "3", "5"))
        cells = [rng.choice(("", "1", "2", "3", "4", "5")) for _ in codes]
        if not overall and not any(cells):
            overall = "4"
        lines.append(",".join([f"{day} 08:{i % 60:02d}:{i % 59:02d}", channel, field, who, overall, *cells]))
        key = (day, "sipas-2023", channel, field, who)
        responses[key] += 1
        if overall:
            tally[(*key, "overall")][int(overall) - 1] += 1
        for code, cell in zip(codes, cells, strict=True):
            if cell:
                tally[(*key, code)][int(cell) - 1] += 1
            # an empty cell is not an answer: no n_na (that is a "Không ý kiến" given on the tablet)
    import_responses(conn, "\n".join(lines).encode(), "f.csv", active_version="sipas-2023", actor="test")
    got = {
        tuple(r[:6]): tuple(r[6:]) for r in conn.execute("SELECT * FROM dim_counts WHERE questionnaire = 'sipas-2023'")
    }
    want = dict(before)
    for key, counts in tally.items():
        old = want.get(key, (0,) * 6)
        want[key] = tuple(a + b for a, b in zip(old, counts, strict=True))
    assert got == want
    dims = {tuple(r[:5]): r[5] for r in conn.execute("SELECT * FROM dim_responses WHERE questionnaire = 'sipas-2023'")}
    assert dims == dims_before + responses
    assert check.check(conn) == []


def _bulk_batch(rng, codes_by_version, n, prefix):
    """``n`` random (response, answers) rows for insert_responses_bulk: several forms, days, channels,
    lĩnh vực and staff (None too), answers 1–5 or None ("Không ý kiến"), overall or not."""
    rows = []
    for i in range(n):
        version = rng.choice(sorted(codes_by_version))
        response = {
            "token": f"{prefix}{i}",
            "submitted_at": f"2025-{1 + rng.randrange(3):02d}-{1 + rng.randrange(28):02d} 08:{i % 60:02d}:00",
            "questionnaire": version,
            "channel": rng.choice(("paper", "qr", "kiosk")),
            "field": rng.choice((None, "Hộ tịch", "Đất đai", "Chứng thực")),
            "staff_code": rng.choice((None, "CB01", "CB02")),
            "overall": rng.choice((None, 1, 2, 3, 4, 5)),
            "is_demo": False,
        }
        codes = codes_by_version[version]
        answers = {c: rng.choice((None, 1, 2, 3, 4, 5)) for c in rng.sample(codes, rng.randrange(len(codes) + 1))}
        rows.append((response, answers))
    return rows


def test_a_bulk_insert_counts_its_roll_ups_as_the_trigger_would(tmp_path, monkeypatch):
    """insert_responses_bulk counts a large batch's roll-ups itself (numpy) instead of by the trigger
    rollup_delta_apply: on the same rows, into a database with earlier rows (some days touched before,
    rows left at zero by an exclusion), every row of the four roll-up tables is the same either way."""
    import random

    from sipas.admin import check
    from sipas.catalog import questionnaire
    from sipas.db import responses as store

    codes_by_version = {v: list(questionnaire(v).criterion_codes) for v in ("sipas-2023", "sipas-2024")}
    tables = ("dim_counts", "dim_responses", "daily_counts", "daily_responses")
    got = {}
    counted = []
    count = store._add_counted_to_rollups
    monkeypatch.setattr(store, "_add_counted_to_rollups", lambda *a: counted.append(count(*a)) or counted[-1])
    for how, threshold in (("trigger", 10**9), ("counted", 1)):
        monkeypatch.setattr(store, "_COUNTED_FROM", threshold)
        rng = random.Random(7)
        conn = db.open_db(tmp_path / f"{how}.db")
        for code in ("CB01", "CB02"):
            db.upsert_staff(conn, {"code": code, "full_name": code})
        earlier = _bulk_batch(rng, codes_by_version, 150, "old")
        for response, answers in earlier:  # one by one, through the trigger, in both databases
            db.insert_response(conn, response, answers)
        for rid in range(1, 151, 9):
            db.set_excluded(conn, rid, True, "kiểm tra", "test")
        batch = _bulk_batch(rng, codes_by_version, 2500, "new")
        batch += [batch[3], earlier[5], batch[10]]  # a token twice in the batch, one already stored
        with db.transaction(conn):
            assert db.insert_responses_bulk(conn, batch) == (2500, 3)
        assert check.check(conn) == []
        got[how] = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
        conn.close()
    assert counted == [True]  # the second database's batch was counted by numpy, the first's by the trigger
    for t in tables:
        assert sorted(map(tuple, got["counted"][t])) == sorted(map(tuple, got["trigger"][t])), t
    assert any(r[-1] > 0 for r in got["counted"]["dim_counts"])  # "Không ý kiến" counted too


def test_a_bulk_insert_of_values_it_cannot_count_leaves_them_to_the_trigger(conn, monkeypatch):
    from sipas.admin import check
    from sipas.db import responses as store

    monkeypatch.setattr(store, "_COUNTED_FROM", 1)
    base = {"submitted_at": "2025-02-03 09:00:00", "questionnaire": "sipas-2023", "channel": "paper"}
    rows = [({**base, "token": "a", "overall": 4}, {"TC1.1": "4"}), ({**base, "token": "b"}, {"TC1.1": 2})]
    counted = []
    count = store._add_counted_to_rollups
    monkeypatch.setattr(store, "_add_counted_to_rollups", lambda *a: counted.append(count(*a)) or counted[-1])
    with db.transaction(conn):
        assert db.insert_responses_bulk(conn, rows) == (2, 0)
    assert counted == [False]
    assert check.check(conn) == []
    assert db.level_counts(conn, "sipas-2023")["TC1.1"] == (0, 1, 0, 1, 0)


def _answers_of(conn):
    return conn.execute(
        "SELECT response_id, criterion, value, typeof(value) FROM answers ORDER BY response_id, criterion"
    ).fetchall()


def test_a_bulk_insert_stores_the_same_answers_through_json_as_row_by_row(tmp_path, monkeypatch):
    """insert_responses_bulk hands SQLite each response's answers as one JSON object (json_each):
    the answers table holds exactly what the (rid, code, value) rows give, INTEGER levels and NULL
    "Không ý kiến" alike, for the same 2,500 random rows in two forms."""
    import random

    from sipas.catalog import questionnaire
    from sipas.db import responses as store

    codes_by_version = {v: list(questionnaire(v).criterion_codes) for v in ("sipas-2023", "sipas-2024")}
    got, paths = {}, []
    as_json = store._answers_as_json
    for how in ("tuples", "json"):
        if how == "tuples":
            monkeypatch.setattr(store, "_answers_as_json", lambda rows: paths.append(False) or False)
        else:
            monkeypatch.setattr(store, "_answers_as_json", lambda rows: paths.append(as_json(rows)) or paths[-1])
        conn = db.open_db(tmp_path / f"{how}.db")
        for code in ("CB01", "CB02"):
            db.upsert_staff(conn, {"code": code, "full_name": code})
        batch = _bulk_batch(random.Random(11), codes_by_version, 2500, "r")
        with db.transaction(conn):
            assert db.insert_responses_bulk(conn, batch) == (2500, 0)
        got[how] = _answers_of(conn)
        conn.close()
    assert paths == [False, True]
    assert got["json"] == got["tuples"]
    assert {t for *_, t in got["json"]} == {"integer", "null"}
    assert len(got["json"]) == sum(len(a) for _, a in _bulk_batch(random.Random(11), codes_by_version, 2500, "r"))


@pytest.mark.parametrize(
    "odd",
    [4.0, True, "4", 7],  # what only the tuple path stores as SQLite makes of it (or refuses, as before)
)
def test_answers_json_only_takes_plain_levels(odd):
    from sipas.db import responses as store

    plain = [({}, {"TC1.1": 4, "TC1.2": None}), ({}, {"TC1.1": 5})]
    assert store._answers_as_json(plain)
    assert not store._answers_as_json([*plain, ({}, {"TC1.3": odd})])
    assert not store._answers_as_json([*plain, ({}, {"a\x00b": 3})])  # SQLite's JSON would cut the key
    assert not store._answers_as_json([*plain, ({}, {1: 3})])


def test_answers_json_is_the_rows_dict_as_json():
    import json

    from sipas.db import responses as store

    answers = {"TC1.1": 4, "Tiêu chí “x”\\": None, "TC3.2": 1}
    assert json.loads(store._answers_json(answers)) == answers
    assert store._answers_json({}) == "{}"


def test_a_bulk_insert_of_rows_naming_different_columns_stores_what_one_by_one_stores(tmp_path):
    """insert_responses_bulk writes only the columns some row names: a row that names a column another
    lacks, a column named None, and the flags stored as 0/1, exactly as db.insert_response stores them."""
    base = {"submitted_at": "2025-02-03 09:00:00", "questionnaire": "sipas-2023", "channel": "paper"}
    rows = [
        ({**base, "token": "a", "overall": 4, "gender": "Nữ", "is_demo": True}, {"TC1.1": 4}),
        ({**base, "token": "b", "comment": "Tốt", "duration_seconds": 41.5, "field": None}, {"TC1.1": None}),
        ({**base, "token": "c", "wait_minutes": 12, "wait_bucket": "lt15", "out_of_hours": 1}, {}),
    ]
    got = {}
    for how in ("one_by_one", "bulk"):
        conn = db.open_db(tmp_path / f"{how}.db")
        if how == "bulk":
            with db.transaction(conn):
                assert db.insert_responses_bulk(conn, [(dict(r), dict(a)) for r, a in rows]) == (3, 0)
        else:
            for r, a in rows:
                db.insert_response(conn, dict(r), dict(a))
        cols = ", ".join(db.RESPONSE_COLUMNS)
        got[how] = conn.execute(f"SELECT id, {cols} FROM responses ORDER BY id").fetchall()
        conn.close()
    assert [tuple(r) for r in got["bulk"]] == [tuple(r) for r in got["one_by_one"]]
    assert got["bulk"][0]["gender"] == "Nữ" and got["bulk"][0]["is_demo"] == 1
    assert got["bulk"][1]["duration_seconds"] == 41.5 and got["bulk"][2]["out_of_hours"] == 1
