"""Waiting time and staffing (sipas.staffing.waiting): the ticket-log import (all or nothing, exact messages),
the weekday × hour aggregation on a hand-made log, the hourly dossier counts, Erlang C per hour, the
recommendation and its staffing case, and before/after once the measure is applied.

Erlang C itself is checked against published tables in test_staffing.py; here it is only used.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from conftest import table_snapshot

from sipas import clock, db
from sipas.admin import settings
from sipas.cases import effects, proposals, queue, workflow
from sipas.cli import main as cli_main
from sipas.errors import ValidationError
from sipas.files import tickets
from sipas.index.comparison import two_proportion_test
from sipas.index.stats import proportion
from sipas.staffing import waiting
from sipas.staffing.erlang import counters_needed

NOW = datetime(2024, 4, 1, 12, 0)
HEADER = ["ticket_id", "service", "counter", "issued_at", "called_at", "finished_at"]

# A hand-made log. Mondays 4 and 11 March 2024, Tuesday 5 March.
LOG = [
    # Monday 4 March, 8:00–9:00: waits 5, 20, 25 minutes; A004 was never called.
    ["A001", "Hộ tịch", "Quầy 1", "2024-03-04 08:00", "2024-03-04 08:05", "2024-03-04 08:15"],
    ["A002", "Hộ tịch", "Quầy 1", "2024-03-04 08:10", "2024-03-04 08:30", "2024-03-04 08:40"],
    ["A003", "Chứng thực", "Quầy 2", "2024-03-04 08:20", "2024-03-04 08:45", "2024-03-04 09:00"],
    ["A004", "Chứng thực", "Quầy 2", "2024-03-04 08:40", "", ""],
    # Monday 4 March, 9:00–10:00: wait 2.
    ["A005", "Hộ tịch", "Quầy 1", "2024-03-04 09:05", "2024-03-04 09:07", "2024-03-04 09:17"],
    # Monday 11 March, 8:00–9:00: waits 10 and 40 (the machine starts again at A001 every day).
    ["A001", "Hộ tịch", "Quầy 1", "2024-03-11 08:02", "2024-03-11 08:12", "2024-03-11 08:22"],
    ["A002", "Đất đai", "Quầy 2", "2024-03-11 08:30", "2024-03-11 09:10", "2024-03-11 09:40"],
    # Tuesday 5 March, 8:00–9:00: wait 1.
    ["A001", "Hộ tịch", "Quầy 1", "2024-03-05 08:00", "2024-03-05 08:01", "2024-03-05 08:11"],
]
HOURS = {"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]}
SERVICE = {"default": 20, "fields": {"Hộ tịch": 10, "Chứng thực": 15}}


def _csv(rows: list[list[str]]) -> bytes:
    return ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("utf-8")


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(conn, rows, name="may-lay-so.csv"):
    return tickets.import_tickets(conn, _csv(rows), name, actor="test", now=NOW)


def _survey(conn, token: str, at: str, overall: int | None, bucket: str | None = None) -> None:
    db.insert_response(
        conn,
        {
            "token": token,
            "submitted_at": at,
            "questionnaire": "sipas-2023",
            "channel": "kiosk",
            "overall": overall,
            "wait_bucket": bucket,
        },
        {},
    )


@pytest.fixture
def seeded(conn):
    """The hand-made log, typed counts for a day without tickets, survey answers, and the settings."""
    _import(conn, [HEADER, *LOG])
    # Wednesday 6 March had no ticket machine: the clerk typed the counts (8:00 → 4 + 2, 9:00 → 0).
    waiting.save_daily_counts(
        conn, date(2024, 3, 6), pd.DataFrame({"Giờ": [8, 9], "Quầy 1": [4, 0], "Quầy 2": [2, 0]}), "test", now=NOW
    )
    # Counts typed for a day that has tickets are not used: the tickets are.
    waiting.save_daily_counts(conn, date(2024, 3, 4), pd.DataFrame({"Giờ": [8], "Quầy 1": [100]}), "test", now=NOW)
    # Monday 8:00–9:00 surveys: overall 5, 4, 2 (two satisfied of three); waits reported lt15, 15-30, 30-60.
    _survey(conn, "s1", "2024-03-04 08:20:00", 5, "lt15")
    _survey(conn, "s2", "2024-03-04 08:50:00", 4, "15-30")
    _survey(conn, "s3", "2024-03-11 08:45:00", 2, "30-60")
    # Tuesday 8:00–9:00: one satisfied, no wait given. Excluded responses never count.
    _survey(conn, "s4", "2024-03-05 08:30:00", 5)
    _survey(conn, "s5", "2024-03-05 08:40:00", 1, "gt60")
    rid = conn.execute("SELECT id FROM responses WHERE token = 's5'").fetchone()[0]
    db.set_excluded(conn, rid, True, "thử", "test")
    settings.put(conn, "opening_hours", HOURS, "test")
    settings.put(conn, "counters_open", {"default": 1, "hours": []}, "test")
    settings.put(conn, "service_minutes", SERVICE, "test")
    return conn


def _report(conn):
    return waiting.build_report(conn, date(2024, 3, 1), date(2024, 3, 31))


def _slot(frame, weekday, hour):
    rows = frame[(frame["weekday"] == weekday) & (frame["hour"] == hour)]
    assert len(rows) == 1, (weekday, hour)
    return rows.iloc[0]


# ============================================================================ ticket-log import


def test_a_good_log_is_imported_and_a_reimport_adds_nothing(conn):
    summary = _import(conn, [HEADER, *LOG])
    assert summary.message() == (
        "Đã nhập 8 lượt lấy số mới từ may-lay-so.csv (0 lượt đã có từ trước, bỏ qua; tổng 8 dòng)."
    )
    assert db.count_tickets(conn) == 8
    stored = db.ticket_rows(conn, "2024-03-04", "2024-03-04")
    assert [(t["ticket_id"], t["issued_at"], t["called_at"], t["finished_at"]) for t in stored][3:5] == [
        ("A004", "2024-03-04 08:40:00", None, None),
        ("A005", "2024-03-04 09:05:00", "2024-03-04 09:07:00", "2024-03-04 09:17:00"),
    ]
    before = table_snapshot(conn)["tickets"]
    again = _import(conn, [HEADER, *LOG])
    assert (again.added, again.present, again.rows) == (0, 8, 8)
    assert table_snapshot(conn)["tickets"] == before
    # A longer log of the same days adds only its new ticket.
    more = _import(conn, [HEADER, *LOG, ["A006", "Hộ tịch", "Quầy 1", "2024-03-04 10:00", "", ""]])
    assert (more.added, more.present) == (1, 8)
    imports = [tuple(r) for r in conn.execute("SELECT kind, rows_total, rows_added, rows_present FROM imports")]
    assert imports == [("tickets", 8, 8, 0), ("tickets", 8, 0, 8), ("tickets", 9, 1, 8)]


def test_an_xlsx_log_with_real_date_cells_is_read_the_same(conn):
    rows = [HEADER, ["B1", "Hộ tịch", "Quầy 1", datetime(2024, 3, 4, 8, 0), datetime(2024, 3, 4, 8, 12), None]]
    summary = tickets.import_tickets(conn, _xlsx(rows), "log.xlsx", now=NOW)
    assert summary.added == 1
    assert db.ticket_rows(conn)[0]["called_at"] == "2024-03-04 08:12:00"


def test_iso_timestamps_with_an_offset_become_commune_time(conn):
    _import(conn, [HEADER, ["C1", "Hộ tịch", "", "2024-03-04T01:00:00Z", "2024-03-04T08:10:00+07:00", ""]])
    t = db.ticket_rows(conn)[0]
    assert (t["day"], t["issued_at"], t["called_at"]) == ("2024-03-04", "2024-03-04 08:00:00", "2024-03-04 08:10:00")


TS = "cần dạng YYYY-MM-DD HH:MM hoặc ISO 8601 có múi giờ"
ALLOWED = "ticket_id, service, counter, issued_at, called_at, finished_at"
BAD_FILES = [
    pytest.param(
        [["ticket_id", "service", "issued_at", "finished_at"], ["A1", "Hộ tịch", "2024-03-04 08:00", ""]],
        ["Dòng 1: thiếu cột bắt buộc called_at."],
        id="missing-column",
    ),
    pytest.param(
        [
            ["ticket_id", "service", "issued_at", "called_at", "finished_at", "quay"],
            ["A1", "Hộ tịch", "2024-03-04 08:00", "", "", "1"],
        ],
        [f"Dòng 1, cột quay: tên cột không hợp lệ. Các tên được nhận: {ALLOWED}."],
        id="unknown-header",
    ),
    pytest.param(
        [["ticket_id", "issued_at", "called_at", "finished_at"], ["A1", "2024-03-04 08:00", "", ""]],
        ["Dòng 1: cần ít nhất một trong hai cột service (lĩnh vực) hoặc counter (quầy)."],
        id="neither-service-nor-counter",
    ),
    pytest.param(
        [HEADER, LOG[0], ["A002", "Hộ tịch", "", "04/03/2024 8h", "", ""]],
        [f'Dòng 3, cột issued_at: giá trị "04/03/2024 8h" không hợp lệ, {TS}.'],
        id="bad-timestamp",
    ),
    pytest.param(
        [HEADER, ["A002", "Hộ tịch", "", "2024-03-04 08:10", "2024-03-04 08:5", ""]],
        [f'Dòng 2, cột called_at: giá trị "2024-03-04 08:5" không hợp lệ, {TS}.'],
        id="bad-called-timestamp",
    ),
    pytest.param(
        [HEADER, LOG[0], ["A002", "Hộ tịch", "", "2024-03-04 08:10", "2024-03-04 08:05", ""]],
        ['Dòng 3, cột called_at: thời điểm gọi số "2024-03-04 08:05" trước thời điểm lấy số "2024-03-04 08:10".'],
        id="called-before-issued",
    ),
    pytest.param(
        [HEADER, ["A002", "Hộ tịch", "", "2024-03-04 08:10", "2024-03-04 08:20", "2024-03-04 08:15"]],
        ['Dòng 2, cột finished_at: thời điểm xong "2024-03-04 08:15" trước thời điểm gọi số "2024-03-04 08:20".'],
        id="finished-before-called",
    ),
    pytest.param(
        [HEADER, ["A002", "Hộ tịch", "", "2024-03-04 08:10", "", "2024-03-04 08:15"]],
        ["Dòng 2, cột called_at: có thời điểm xong (finished_at) nhưng thiếu thời điểm gọi số."],
        id="finished-without-called",
    ),
    pytest.param(
        [HEADER, LOG[0], LOG[1], ["A001", "Hộ tịch", "", "2024-03-04 11:00", "", ""]],
        ['Dòng 4, cột ticket_id: số "A001" ngày 2024-03-04 trùng với dòng 2.'],
        id="duplicate-in-file",
    ),
    pytest.param(
        [HEADER, ["", "Hộ tịch", "", "2024-03-04 08:00", "", ""]],
        ["Dòng 2, cột ticket_id: thiếu số thứ tự."],
        id="no-ticket-id",
    ),
    pytest.param(
        [HEADER, ["A1", "Hộ tịch", "", "", "", ""]],
        ["Dòng 2, cột issued_at: thiếu thời điểm lấy số."],
        id="no-issued-at",
    ),
    pytest.param(
        [HEADER, ["A1", "Hộ tịch", "", "2024-04-02 08:00", "", ""]],
        ['Dòng 2, cột issued_at: thời điểm "2024-04-02 08:00" ở trong tương lai.'],
        id="future",
    ),
    pytest.param([HEADER], ["Tệp may-lay-so.csv: không có dòng dữ liệu nào."], id="no-rows"),
]


@pytest.mark.parametrize(("rows", "messages"), BAD_FILES)
def test_a_bad_log_is_refused_with_row_and_column_and_changes_nothing(conn, rows, messages):
    _import(conn, [HEADER, LOG[0]], name="truoc.csv")  # something already there, which must stay as it is
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        _import(conn, rows)
    assert exc.value.problems == messages
    assert table_snapshot(conn) == before


def test_every_problem_of_a_file_is_listed_at_once_and_nothing_is_written(conn):
    rows = [
        HEADER,
        LOG[0],
        ["A002", "Hộ tịch", "", "hôm qua", "", ""],
        ["A003", "Hộ tịch", "", "2024-03-04 08:10", "2024-03-04 08:00", ""],
        ["A001", "Hộ tịch", "", "2024-03-04 09:00", "2024-03-04 09:10", "2024-03-04 09:05"],
    ]
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        _import(conn, rows)
    assert exc.value.problems == [
        f'Dòng 3, cột issued_at: giá trị "hôm qua" không hợp lệ, {TS}.',
        'Dòng 4, cột called_at: thời điểm gọi số "2024-03-04 08:00" trước thời điểm lấy số "2024-03-04 08:10".',
        'Dòng 5, cột finished_at: thời điểm xong "2024-03-04 09:05" trước thời điểm gọi số "2024-03-04 09:10".',
        'Dòng 5, cột ticket_id: số "A001" ngày 2024-03-04 trùng với dòng 2.',
    ]
    assert table_snapshot(conn) == before


def test_the_import_tickets_command(db_file, tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_bytes(_csv([HEADER, *LOG]))
    assert cli_main(["import-tickets", str(path), "--db", str(db_file)]) == 0
    assert capsys.readouterr().out == (
        "Đã nhập 8 lượt lấy số mới từ log.csv (0 lượt đã có từ trước, bỏ qua; tổng 8 dòng).\n"
    )
    path.write_bytes(_csv([HEADER, ["A1", "Hộ tịch", "", "2024-03-04 08:10", "2024-03-04 08:00", ""]]))
    assert cli_main(["import-tickets", str(path), "--db", str(db_file)]) == 1
    assert capsys.readouterr().err == (
        'Dòng 2, cột called_at: thời điểm gọi số "2024-03-04 08:00" trước thời điểm lấy số "2024-03-04 08:10".\n'
    )


# ============================================================================ hourly dossier counts


def test_the_clerk_types_a_day_of_counts_and_gets_them_back(conn):
    settings.put(conn, "counter_names", ["Quầy 1", "Quầy 2"], "test")
    grid = waiting.daily_counts_grid(conn, date(2024, 3, 6), ["Quầy 1", "Quầy 2"], HOURS)
    assert list(grid.columns) == ["Giờ", "Quầy 1", "Quầy 2"]
    assert list(grid["Giờ"]) == [7, 8, 9, 10, 11, 13, 14, 15, 16]
    assert grid[["Quầy 1", "Quầy 2"]].sum().sum() == 0
    grid.loc[grid["Giờ"] == 8, "Quầy 1"] = 4
    grid.loc[grid["Giờ"] == 8, "Quầy 2"] = pd.NA  # an emptied cell counts as 0
    assert waiting.save_daily_counts(conn, date(2024, 3, 6), grid, "thongke", now=NOW) == 4
    again = waiting.daily_counts_grid(conn, date(2024, 3, 6), ["Quầy 1", "Quầy 2"], HOURS)
    assert again.loc[again["Giờ"] == 8, ["Quầy 1", "Quầy 2"]].values.tolist() == [[4, 0]]
    assert len(db.hourly_dossier_rows(conn, "2024-03-06", "2024-03-06")) == 18  # zeros are kept: a day observed
    (entry,) = [e for e in db.audit_entries(conn) if e["action"] == "hourly-dossiers"]
    assert (entry["actor"], entry["entity"]) == ("thongke", "hourly_dossiers@2024-03-06")


def test_bad_counts_are_refused_with_the_hour_and_counter_and_change_nothing(conn):
    waiting.save_daily_counts(conn, date(2024, 3, 6), pd.DataFrame({"Giờ": [8], "Quầy 1": [3]}), "test", now=NOW)
    before = table_snapshot(conn)
    grid = pd.DataFrame({"Giờ": [8, 9], "Quầy 1": [-1, 2.5], "Quầy 2": ["ba", 1]})
    with pytest.raises(ValidationError) as exc:
        waiting.save_daily_counts(conn, date(2024, 3, 6), grid, "test", now=NOW)
    assert exc.value.problems == [
        'Giờ 8:00, Quầy 1: giá trị "-1" không hợp lệ, chỉ nhận số nguyên ≥ 0.',
        'Giờ 8:00, Quầy 2: giá trị "ba" không hợp lệ, chỉ nhận số nguyên ≥ 0.',
        'Giờ 9:00, Quầy 1: giá trị "2.5" không hợp lệ, chỉ nhận số nguyên ≥ 0.',
    ]
    with pytest.raises(ValidationError) as exc:
        waiting.save_daily_counts(conn, date(2024, 4, 2), pd.DataFrame({"Giờ": [8], "Quầy 1": [1]}), "test", now=NOW)
    assert exc.value.problems == ["Ngày 02/04/2024 ở trong tương lai."]
    assert table_snapshot(conn) == before


# ============================================================================ weekday × hour, by hand


def test_weekday_hour_aggregation_of_the_hand_made_log(seeded):
    r = _report(seeded)
    slots = r.slots
    # Rows: Mon 8, Mon 9, Tue 8, Wed 8, Wed 9 (Wednesday from the typed counts; zeros at 9:00 are a slot).
    assert list(zip(slots["weekday"], slots["hour"], strict=True)) == [(0, 8), (0, 9), (1, 8), (2, 8), (2, 9)]

    mon8 = _slot(slots, 0, 8)
    # Arrivals: 4 tickets on 4 March + 2 on 11 March = 6 over 2 Mondays observed → 3.0 per hour (the 100
    # typed for 4 March are ignored: that day has tickets).
    assert (mon8.days_observed, mon8.arrivals_mean) == (2, 3.0)
    # Waits of the called tickets: 5, 20, 25 (4 March), 10, 40 (11 March) → sorted 5, 10, 20, 25, 40.
    # Median 20. P90 (linear): position 0.9 × (5 − 1) = 3.6 → 25 + 0.6 × (40 − 25) = 34.
    # Longer than 15 minutes: 20, 25, 40 → 3 of 5 = 0.6. A004 was never called.
    assert (mon8.waits_n, mon8.wait_median, mon8.wait_p90, mon8.share_over_target, mon8.not_called) == (
        5,
        20.0,
        pytest.approx(34.0),
        pytest.approx(0.6),
        1,
    )
    # Survey: overall 5, 4, 2 → 2 of 3 satisfied = 66.67%, Wilson 95% 20.77–93.85 (stats.wilson_interval,
    # Newcombe's reference example is in test_stats); reported waits lt15, 15-30, 30-60 → 2 of 3 from 15 min.
    assert (mon8.survey_n, mon8.survey_satisfied) == (3, 2)
    assert (round(mon8.satisfaction, 2), round(mon8.sat_ci_low, 2), round(mon8.sat_ci_high, 2)) == (66.67, 20.77, 93.85)
    assert (mon8.reported_n, mon8.reported_15plus) == (3, 2)
    shares = waiting.reported_long_wait_share(slots.set_index(["weekday", "hour"]))
    assert shares[(0, 8)] == pytest.approx(2 / 3)

    mon9 = _slot(slots, 0, 9)
    # One ticket over 2 Mondays → 0.5 an hour; one wait of 2 minutes: median = P90 = 2, none over 15.
    assert (mon9.arrivals_mean, mon9.waits_n, mon9.wait_median, mon9.wait_p90, mon9.share_over_target) == (
        0.5,
        1,
        2.0,
        2.0,
        0.0,
    )
    assert mon9.survey_n == 0 and math.isnan(mon9.satisfaction)

    tue8 = _slot(slots, 1, 8)
    # One ticket on one Tuesday, wait 1; one satisfied survey (the excluded one does not count).
    assert (tue8.days_observed, tue8.arrivals_mean, tue8.wait_median, tue8.survey_n, tue8.survey_satisfied) == (
        1,
        1.0,
        1.0,
        1,
        1,
    )
    assert tue8.reported_n == 0
    assert math.isnan(shares[(1, 8)])  # nobody reported a wait: no share, not 0 %

    wed8, wed9 = _slot(slots, 2, 8), _slot(slots, 2, 9)
    # Typed counts 4 + 2 on one Wednesday; no ticket, so no measured wait.
    assert (wed8.days_observed, wed8.arrivals_mean, wed8.waits_n) == (1, 6.0, 0)
    assert math.isnan(wed8.wait_median)
    assert wed9.arrivals_mean == 0.0

    # The whole period: 8 tickets, 7 called, waits 1, 2, 5, 10, 20, 25, 40: median 10, 3 of 7 over 15.
    assert r.summary == {
        "tickets": 8,
        "called": 7,
        "median": 10.0,
        "p90": pytest.approx(31.0),
        "share_over_target": pytest.approx(3 / 7),
    }
    assert r.typed_days == 1


def test_satisfaction_by_reported_wait_with_wilson_intervals(seeded):
    b = _report(seeded).buckets
    assert list(b["bucket"]) == ["lt15", "15-30", "30-60", "gt60"]
    assert list(b["label"]) == ["Dưới 15 phút", "15–30 phút", "30–60 phút", "Trên 60 phút"]
    assert list(b["n"]) == [1, 1, 1, 0]  # the excluded "gt60" answer is left out
    assert list(b["satisfied"]) == [1, 1, 0, 0]
    p = proportion(1, 1)
    assert (b["index"][0], b["ci_low"][0], b["ci_high"][0]) == (100.0, p.ci_low, 100.0)
    assert math.isnan(b["index"][3])
    cost = waiting.cost_of_waiting(b)
    assert cost == two_proportion_test(1, 1, 1, 2)


def test_a_threshold_other_than_15_minutes_moves_the_share_over_target(seeded):
    settings.put(seeded, "wait_target_minutes", 22, "test")
    mon8 = _slot(_report(seeded).slots, 0, 8)
    assert mon8.share_over_target == pytest.approx(0.4)  # 25 and 40 of 5, 34 P90 unchanged
    assert mon8.wait_p90 == pytest.approx(34.0)


# ============================================================================ Erlang C per hour


def test_counters_needed_per_hour_beside_the_counters_open(seeded):
    r = _report(seeded)
    st = r.staffing
    # Every open hour of the working days (7–11 and 13–16), and nothing on the weekend.
    assert len(st) == 5 * 9 and set(st["weekday"]) == {0, 1, 2, 3, 4}
    mon8 = _slot(st, 0, 8)
    # Service time of the slot: 3 Hộ tịch (10 min, settings: fewer than 5 finished tickets), 2 Chứng thực (15)
    # and 1 Đất đai (default 20) → (30 + 30 + 20) / 6 = 13.33 minutes; 3 an hour → A = 0.667 Erlang.
    assert mon8.service_minutes == pytest.approx(80 / 6)
    expected = counters_needed(3.0, 80 / 6, 15, 0.8)
    assert (mon8.counters_needed, expected.counters) == (2, 2)
    assert (mon8.p_wait, mon8.mean_wait_minutes, mon8.occupancy) == (
        expected.p_wait,
        expected.mean_wait_minutes,
        expected.occupancy,
    )
    # One counter open: C(1, A) = A, SL = 1 − A·e^(−(1 − A)·15/13.33) = 1 − 0.667·e^(−0.375) = 0.542.
    assert (mon8.counters_open, mon8.shortfall, bool(mon8.understaffed)) == (1, 1, True)
    assert mon8.service_level_open == pytest.approx(1 - (2 / 3) * math.exp(-0.375))
    # The measured waits of the slot sit beside the model's floor.
    assert (mon8.measured_median, mon8.measured_n) == (20.0, 5)

    wed8 = _slot(st, 2, 8)
    # Typed counts: counters are not lĩnh vực, so the default 20 minutes; 6 an hour → A = 2 → 4 counters.
    assert (wed8.arrivals_per_hour, wed8.service_minutes, wed8.counters_needed) == (
        6.0,
        20.0,
        counters_needed(6, 20, 15).counters,
    )
    assert wed8.counters_needed == 4 and wed8.service_level_open == 0.0 and wed8.mean_wait_open == math.inf

    # A weekday never observed (Thursday) has no answer and is not understaffed; an observed hour with no
    # arrival needs no counter.
    thu8 = _slot(st, 3, 8)
    assert pd.isna(thu8.counters_needed) and not thu8.understaffed
    mon7 = _slot(st, 0, 7)
    assert (mon7.arrivals_per_hour, mon7.counters_needed, bool(mon7.understaffed)) == (0.0, 0, False)


def test_service_times_measured_by_the_machine_replace_the_settings_once_there_are_enough(conn):
    rows = [HEADER] + [
        [f"H{i}", "Hộ tịch", "", f"2024-03-04 08:{i:02d}", f"2024-03-04 08:{i + 1:02d}", f"2024-03-04 08:{i + 7:02d}"]
        for i in range(5)
    ]
    _import(conn, rows)
    settings.put(conn, "service_minutes", SERVICE, "test")
    services = _report(conn).services
    hotich = services[services["key"] == "Hộ tịch"].iloc[0]
    assert (hotich.tickets, hotich.measured_minutes, hotich.minutes, hotich.source) == (5, 6.0, 6.0, "ticket")
    chungthuc = services[services["key"] == "Chứng thực"].iloc[0]
    assert (chungthuc.tickets, chungthuc.minutes, chungthuc.source) == (0, 15.0, "setting")


def test_a_half_open_hour_counts_its_arrivals_at_an_hourly_rate(conn):
    # Three arrivals between 11:00 and 11:30 on the one Monday observed = 6 an hour.
    _import(conn, [HEADER] + [[f"B{i}", "Hộ tịch", "", f"2024-03-04 11:{10 * i:02d}", "", ""] for i in range(3)])
    settings.put(conn, "opening_hours", HOURS, "test")
    mon11 = _slot(_report(conn).staffing, 0, 11)
    assert (mon11.open_fraction, mon11.arrivals_per_hour) == (0.5, 6.0)


def test_counters_open_come_from_the_log_where_it_shows_them_else_the_settings(seeded):
    settings.put(seeded, "counters_open", {"default": 1, "hours": [[0, 8, 2], [2, 8, 3]]}, "test")
    st = _report(seeded).staffing
    # Monday 8:00: two counters served on 4 March, one on 11 March; the median 1,5 rounded down is 1 —
    # the log, not the setting's 2.
    assert (_slot(st, 0, 8).counters_open, bool(_slot(st, 0, 8).counters_measured)) == (1, True)
    assert bool(_slot(st, 0, 8).understaffed)
    # Wednesday had no ticket machine (typed counts): the setting's 3.
    assert (_slot(st, 2, 8).counters_open, bool(_slot(st, 2, 8).counters_measured), _slot(st, 2, 8).shortfall) == (
        3,
        False,
        1,
    )
    assert _slot(st, 1, 8).counters_open == 1


def three_counters_log() -> list[list[str]]:
    """Two Mondays, 8:00–10:00: Quầy 1, 2 and 3 each serve a citizen every 9 minutes (8 min 54 s of service)."""
    rows = [HEADER]
    for day in ("2024-03-04", "2024-03-11"):
        for counter in (1, 2, 3):
            for i in range(13):
                start = 8 * 60 + 9 * i
                call = f"{day} {start // 60:02d}:{start % 60:02d}"
                issued = f"{day} {max(start - 10, 8 * 60) // 60:02d}:{max(start - 10, 8 * 60) % 60:02d}"
                end = start + 8
                rows.append([f"Q{counter}-{i}", "Hộ tịch", f"Quầy {counter}", issued, call,
                             f"{day} {end // 60:02d}:{end % 60:02d}:54"])  # fmt: skip
    return rows


def test_the_advice_says_what_it_measured_three_counters_and_the_measured_minutes(conn):
    """Issue 21: with a log showing three counters serving at once the advice never says "đang mở 2 quầy" from
    the default setting, nor "15 phút mỗi hồ sơ" beside a table that uses the measured time."""
    _import(conn, three_counters_log())
    settings.put(conn, "opening_hours", HOURS, "test")
    settings.put(conn, "counters_open", {"default": 2, "hours": []}, "test")
    settings.put(conn, "service_minutes", {"default": 15, "fields": {}}, "test")
    settings.put(conn, "counter_names", ["Quầy 1", "Quầy 2", "Quầy 3", "Quầy 4"], "test")
    r = _report(conn)
    mon8, mon9 = _slot(r.staffing, 0, 8), _slot(r.staffing, 0, 9)
    assert (mon8.counters_open, bool(mon8.counters_measured)) == (3, True)
    assert (mon9.counters_open, bool(mon9.counters_measured)) == (3, True)
    assert _slot(r.staffing, 0, 14).counters_open == 2  # no one served: the setting
    # 78 finished tickets of 8 min 54 s: 8,9 minutes, in the table and in the words beside it.
    assert mon8.service_minutes == pytest.approx(8.9)
    assert r.basis.sentences() == [
        "Thời gian phục vụ: trung bình 8,9 phút mỗi hồ sơ, đo từ 78 lượt đã phục vụ trong nhật ký số thứ tự.",
        "Số quầy đang mở: đo từ nhật ký số thứ tự (số quầy cùng phục vụ trong giờ, trung vị các ngày) "
        "ở cả 2 khung giờ có người đến.",  # Monday 8:00 and 9:00
    ]
    from sipas.staffing import erlang

    words = erlang.assumption_text(r.basis.service_minutes, r.target_minutes, r.service_level, 4)
    assert "8,9 phút mỗi hồ sơ" in words and "15 phút mỗi hồ sơ" not in words
    for rec in r.recommendations:
        assert all(open_ == 3 for hour, open_, _ in rec.detail if rec.weekday == 0 and hour in (8, 9))


def test_without_a_log_the_advice_says_it_used_the_settings(seeded):
    # The seeded log has 5 finished Hộ tịch tickets (timed from the log), fewer for the other lĩnh vực, and
    # Wednesday's counts were typed per counter (timed from the settings); (6 × 10 + 3 × 15 + 6 × 20) / … .
    basis = _report(seeded).basis
    assert basis.sentences()[0] == (
        f"Thời gian phục vụ: trung bình {clock.format_plain(basis.service_minutes, 1)} phút mỗi hồ sơ: 1 lĩnh vực "
        "đo từ 5 lượt đã phục vụ trong nhật ký số thứ tự, 4 lĩnh vực hoặc quầy theo cài đặt (dưới 5 lượt)."
    )
    settings.put(seeded, "service_minutes", {"default": 20, "fields": {}}, "test")
    seeded.execute("DELETE FROM tickets")
    alone = _report(seeded).basis
    assert alone.sentences() == [
        "Thời gian phục vụ: trung bình 20 phút mỗi hồ sơ, theo cài đặt (nhật ký số thứ tự không có đủ 5 lượt mỗi "
        "lĩnh vực).",
        "Số quầy đang mở: theo cài đặt (không có nhật ký số thứ tự ghi quầy phục vụ).",
    ]
    assert basis.slots_measured >= 1 and basis.slots_from_settings >= 1
    assert basis.sentences()[1].startswith(f"Số quầy đang mở: đo từ nhật ký số thứ tự ở {basis.slots_measured} khung")


def test_the_new_settings_are_checked():
    with pytest.raises(ValidationError) as exc:
        settings.validate("counters_open", {"default": -1, "hours": [[7, 8, 1], [0, 8, 2.5], [0, 9, 1], [0, 9, 2]]})
    assert exc.value.problems == [
        "Số quầy mở mặc định phải là số nguyên từ 0 đến 50.",
        "Số quầy mở: thứ 7 (0–6) hoặc giờ 8 (0–23) không hợp lệ.",
        "Số quầy mở Thứ Hai 8:00: phải là số nguyên từ 0 đến 50.",
        "Số quầy mở Thứ Hai 9:00: bị nhập hai lần.",
    ]
    with pytest.raises(ValidationError) as exc:
        settings.validate("service_minutes", {"default": 0, "fields": {"Hộ tịch": "mười"}})
    assert exc.value.problems == [
        "Thời gian phục vụ mặc định: phải là số phút lớn hơn 0, tối đa 480.",
        'Thời gian phục vụ lĩnh vực "Hộ tịch": phải là số phút lớn hơn 0, tối đa 480.',
    ]
    for key, value in (("wait_target_minutes", 0), ("service_level_target", 1.0), ("counter_names", ["A", "A"])):
        with pytest.raises(ValidationError):
            settings.validate(key, value)
    assert settings.validate("wait_target_minutes", 20.0) == 20


def test_put_many_stores_nothing_if_any_value_is_refused(conn):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError):
        settings.put_many(conn, {"wait_target_minutes": 20, "service_level_target": 1.5}, "test")
    assert table_snapshot(conn) == before
    settings.put_many(conn, {"wait_target_minutes": 20, "service_level_target": 0.9}, "test")
    assert (settings.get(conn, "wait_target_minutes"), settings.get(conn, "service_level_target")) == (20, 0.9)


# ============================================================================ recommendations


def _staffing_rows(rows):
    return pd.DataFrame(
        [
            {
                "weekday": w,
                "hour": h,
                "counters_open": o,
                "counters_needed": n,
                "shortfall": max(0, n - o),
                "understaffed": o < n,
            }
            for w, h, o, n in rows
        ]
    )


def test_consecutive_understaffed_hours_of_one_weekday_merge_into_one_recommendation():
    frame = _staffing_rows(
        [
            (0, 7, 1, 2),
            (0, 8, 1, 3),
            (0, 9, 2, 3),
            (0, 10, 2, 2),
            (0, 11, 1, 2),
            (0, 13, 1, 1),
            (1, 7, 1, 2),
            (1, 16, 1, 2),
            (2, 16, 1, 2),
        ]
    )
    recs = waiting.recommendations(frame, HOURS)
    assert [r.text for r in recs] == [
        "Thứ Hai 7–10 giờ: mở thêm 2 quầy",
        "Thứ Hai 11–11:30 giờ: mở thêm 1 quầy",  # clipped to the closing time
        "Thứ Ba 7–8 giờ: mở thêm 1 quầy",
        "Thứ Ba 16–17 giờ: mở thêm 1 quầy",
        "Thứ Tư 16–17 giờ: mở thêm 1 quầy",  # not merged with Tuesday 16:00
    ]
    assert recs[0].hours == (7, 8, 9) and recs[0].detail == ((7, 1, 2), (8, 1, 3), (9, 2, 3))


def test_the_hand_made_log_gives_its_recommendations(seeded):
    recs = _report(seeded).recommendations
    assert [r.text for r in recs] == [
        "Thứ Hai 8–9 giờ: mở thêm 1 quầy",
        # The model wants 4 counters on Wednesday 8:00 (1 open), but the commune has 2: never more.
        "Thứ Tư 8–9 giờ: mở thêm 1 quầy (mở hết 2 quầy hiện có; vẫn thiếu khoảng 2 quầy theo mô hình)",
    ]
    assert [(r.extra, r.still_short, r.counters_total) for r in recs] == [(1, 0, 2), (1, 2, 2)]


def test_advice_is_bounded_by_the_counters_that_exist():
    frame = _staffing_rows([(0, 8, 2, 7)])  # 2 open, the model needs 7
    (rec,) = waiting.recommendations(frame, HOURS, counters_total=2)
    assert (rec.extra, rec.still_short) == (0, 5)
    assert rec.text.startswith("Thứ Hai 8–9 giờ: đã mở hết 2 quầy hiện có, vẫn thiếu khoảng 5 quầy")
    (rec,) = waiting.recommendations(frame, HOURS, counters_total=9)
    assert (rec.extra, rec.still_short, rec.text) == (5, 0, "Thứ Hai 8–9 giờ: mở thêm 5 quầy")


# ============================================================================ the staffing case


def _to_measure(conn, case_id):
    clerk = workflow.Actor("thongke", "clerk")
    workflow.transition(conn, case_id, "verifying", clerk)
    workflow.transition(conn, case_id, "founded", clerk)
    workflow.transition(
        conn, case_id, "measure", clerk, root_cause="Thiếu người giờ cao điểm sáng thứ Hai", measure="extra_staff"
    )


def test_a_recommendation_becomes_a_staffing_case_for_the_chairman(seeded):
    rec = _report(seeded).recommendations[0]
    clerk = workflow.Actor("thongke", "clerk")
    case_id = proposals.open_staffing_case(
        seeded, clerk, rec, target_minutes=15, service_level=0.8, period=("2024-03-01", "2024-03-31")
    )
    case = db.get_case(seeded, case_id)
    assert (case["state"], case["type"], case["origin"], case["channel"]) == ("new", "waiting", "staffing", "staffing")
    assert case["title"] == "Thứ Hai 8–9 giờ: mở thêm 1 quầy"
    assert json.loads(case["schedule"]) == {
        "weekday": 0,
        "weekday_name": "Thứ Hai",
        "start": "8:00",
        "end": "9:00",
        "hours": [8],
        "extra_staff": 1,
        "detail": [{"hour": 8, "counters_open": 1, "counters_needed": 2}],
        "target_wait_minutes": 15,
        "service_level": 0.8,
        "period": ["2024-03-01", "2024-03-31"],
    }
    assert "8:00: đang mở 1 quầy, cần 2 quầy" in case["description"]
    assert proposals.open_case_for(seeded, rec) == case_id
    # A second click does not open a second case for the same hours.
    before = table_snapshot(seeded)
    with pytest.raises(ValidationError) as exc:
        proposals.open_staffing_case(seeded, clerk, rec, target_minutes=15, service_level=0.8)
    assert exc.value.problems == [f"Đã có vụ việc số {case_id} (đang mở) cho Thứ Hai 8:00–9:00."]
    assert table_snapshot(seeded) == before
    # Not for the Chairman yet; once the measure is proposed it waits for his approval.
    assert case_id not in [c["id"] for c in queue.chairman_queue(seeded)["signoff"]]
    _to_measure(seeded, case_id)
    assert [c["id"] for c in queue.chairman_queue(seeded)["signoff"]] == [case_id]
    assert effects.staffing_effects(seeded, 15) == []  # no measure date yet


def test_after_the_measure_waits_and_satisfaction_at_those_hours_before_and_after(seeded):
    rec = _report(seeded).recommendations[0]
    case_id = proposals.open_staffing_case(
        seeded, workflow.Actor("thongke", "clerk"), rec, target_minutes=15, service_level=0.8
    )
    _to_measure(seeded, case_id)
    workflow.transition(
        seeded, case_id, "awaiting_effect", workflow.Actor("chutich", "chairman"), measure_date=date(2024, 3, 18)
    )
    # After: Mondays 18 and 25 March at 8:00 waits 3 and 5 minutes, four surveys all satisfied; a Monday
    # 10:00 ticket and a Tuesday survey are other hours and do not count.
    _import(
        seeded,
        [
            HEADER,
            ["A001", "Hộ tịch", "", "2024-03-18 08:00", "2024-03-18 08:03", ""],
            ["A001", "Hộ tịch", "", "2024-03-25 08:10", "2024-03-25 08:15", ""],
            ["A002", "Hộ tịch", "", "2024-03-25 10:10", "2024-03-25 11:15", ""],
        ],
        name="sau.csv",
    )
    for i, day in enumerate(["2024-03-18", "2024-03-18", "2024-03-25", "2024-03-25"]):
        _survey(seeded, f"after{i}", f"{day} 08:30:00", 5, "lt15")
    _survey(seeded, "other", "2024-03-19 08:30:00", 1)
    ((case, effect),) = effects.staffing_effects(seeded, 15, today=date(2024, 4, 1))
    assert case["id"] == case_id
    b, a = effect.before, effect.after
    # Before: 8 weeks up to 17 March; after: 18 March to today (1 April).
    assert (b.date_from, b.date_to, a.date_from, a.date_to) == ("2024-01-22", "2024-03-17", "2024-03-18", "2024-04-01")
    assert (b.satisfaction.n, b.satisfaction.satisfied, a.satisfaction.n, a.satisfaction.satisfied) == (3, 2, 4, 4)
    assert (b.waits_n, b.wait_median, a.waits_n, a.wait_median) == (5, 20.0, 2, 4.0)
    assert (b.share_over_target, a.share_over_target) == (pytest.approx(0.6), 0.0)
    assert (b.reported_n, b.reported_15plus, a.reported_n, a.reported_15plus) == (3, 2, 4, 0)
    assert effect.test == two_proportion_test(4, 4, 2, 3)
    assert effect.verdict == "Chưa đủ dữ liệu"  # fewer than 10 answers on a side
    assert effect.message == (
        "Hài lòng trước 66.7% (n = 3), sau 100.0% (n = 4): chưa đủ dữ liệu; thời gian chờ "
        "trung vị trước 20.0 phút (n = 5), sau 4.0 phút (n = 2)."
    )
    shown = effects.effect_rows(effect)
    assert shown[["Giai đoạn", "Phiếu (n)", "Hài lòng (%)", "Chờ trung vị (phút)"]].values.tolist() == [
        ["Trước", 3, pytest.approx(200 / 3), 20.0],
        ["Sau", 4, 100.0, 4.0],
    ]
    # The corrective-action tracker judges this case by its own hours, not by staff-conduct ratings.
    tracked = effects.effectiveness(seeded, case, min_n=10, floor=80, today=date(2024, 4, 1))
    assert (tracked.verdict, tracked.message) == ("insufficient", effect.message)
    assert (tracked.before_n, tracked.after_n) == (3, 4)
