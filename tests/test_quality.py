"""Data-quality flags on hand-made frames, and exclusion/restore through the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from conftest import table_snapshot

from sipas import db
from sipas.admin import settings
from sipas.errors import ValidationError
from sipas.index import scoring
from sipas.survey import quality

HOURS = {"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]}


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "device": None,
        "duration_seconds": None,
        "asked": 0,
        "answered": 0,
        "lo": None,
        "hi": None,
        "out_of_hours": 0,
        "channel": "kiosk",
        "excluded": 0,
        "exclude_reason": None,
        "comment": None,
    }
    return pd.DataFrame([{**base, "id": i + 1, **r} for i, r in enumerate(rows)])


# ------------------------------------------------------------------------------------------- bursts


def test_three_from_one_tablet_within_60_seconds_are_a_burst():
    f = frame(
        [
            {"submitted_at": "2024-05-06 08:00:00", "device": "quay1"},
            {"submitted_at": "2024-05-06 08:00:30", "device": "quay1"},
            {"submitted_at": "2024-05-06 08:01:00", "device": "quay1"},  # exactly 60 s after the first
            {"submitted_at": "2024-05-06 08:03:00", "device": "quay1"},
        ]
    )
    assert quality.burst_flags(f).tolist() == [True, True, True, False]


def test_three_spread_over_61_seconds_are_not_a_burst():
    f = frame(
        [
            {"submitted_at": "2024-05-06 08:00:00", "device": "quay1"},
            {"submitted_at": "2024-05-06 08:00:30", "device": "quay1"},
            {"submitted_at": "2024-05-06 08:01:01", "device": "quay1"},
        ]
    )
    assert not quality.burst_flags(f).any()


def test_bursts_are_counted_per_device_and_unknown_devices_are_never_flagged():
    f = frame(
        [
            {"submitted_at": "2024-05-06 08:00:00", "device": "quay1"},
            {"submitted_at": "2024-05-06 08:00:10", "device": "quay2"},
            {"submitted_at": "2024-05-06 08:00:20", "device": "quay1"},
            {"submitted_at": "2024-05-06 08:00:05", "device": None},
            {"submitted_at": "2024-05-06 08:00:06", "device": None},
            {"submitted_at": "2024-05-06 08:00:07", "device": None},
        ]
    )
    assert not quality.burst_flags(f).any()


def test_a_long_burst_flags_every_response_in_it_whatever_the_row_order():
    times = [datetime(2024, 5, 6, 9, 0, 0) + timedelta(seconds=25 * i) for i in range(6)]
    rows = [{"submitted_at": t.strftime("%Y-%m-%d %H:%M:%S"), "device": "quay1"} for t in times]
    rows.append({"submitted_at": "2024-05-06 10:00:00", "device": "quay1"})
    f = frame(rows[::-1])  # newest first
    assert quality.burst_flags(f).tolist() == [False] + [True] * 6


# ------------------------------------------------------------------------------------------- straight-lining


@pytest.mark.parametrize(
    "row, flagged",
    [
        ({"asked": 5, "answered": 5, "lo": 5, "hi": 5, "duration_seconds": 19.9}, True),
        ({"asked": 5, "answered": 5, "lo": 1, "hi": 1, "duration_seconds": None}, True),  # time unknown (paper)
        ({"asked": 5, "answered": 5, "lo": 5, "hi": 5, "duration_seconds": 20.0}, False),  # not implausibly fast
        ({"asked": 4, "answered": 4, "lo": 5, "hi": 5, "duration_seconds": 5.0}, False),  # fewer than 5 criteria
        ({"asked": 6, "answered": 5, "lo": 5, "hi": 5, "duration_seconds": 5.0}, False),  # one "no opinion"
        ({"asked": 6, "answered": 6, "lo": 4, "hi": 5, "duration_seconds": 5.0}, False),  # not all the same
    ],
)
def test_straight_lining(row, flagged):
    f = frame([{"submitted_at": "2024-05-06 08:00:00", **row}])
    assert quality.straightlining_flags(f).tolist() == [flagged]


# ------------------------------------------------------------------------------------------- opening hours


def test_out_of_hours_agrees_with_settings_is_open_on_every_quarter_hour_of_a_week():
    moments = [datetime(2024, 4, 15) + timedelta(minutes=15 * i) for i in range(7 * 96)]  # Mon 15/4 … Sun
    f = frame([{"submitted_at": m.strftime("%Y-%m-%d %H:%M:%S")} for m in moments])
    expected = [not settings.is_open(HOURS, m) for m in moments]
    assert quality.out_of_hours_flags(f, HOURS).tolist() == expected
    # Hand count: 07:00–11:30 is 18 quarter hours and 13:30–17:00 is 14, so 32 open per working day.
    assert sum(expected) == 7 * 96 - 5 * 32


def test_out_of_hours_boundaries():
    f = frame(
        [
            {"submitted_at": s}
            for s in (
                "2024-04-15 07:00:00",
                "2024-04-15 06:59:59",
                "2024-04-15 11:30:00",
                "2024-04-15 16:59:59",
                "2024-04-20 09:00:00",
            )
        ]
    )
    assert quality.out_of_hours_flags(f, HOURS).tolist() == [False, True, True, False, True]


def test_the_kiosk_mark_counts_as_out_of_hours():
    f = frame([{"submitted_at": "2024-04-15 08:00:00", "out_of_hours": 1}])
    assert quality.out_of_hours_flags(f, HOURS).tolist() == [True]


def test_flag_responses_keeps_only_flagged_rows_with_reasons():
    f = frame(
        [
            {"submitted_at": "2024-04-15 08:00:00", "asked": 6, "answered": 6, "lo": 5, "hi": 5, "duration_seconds": 9},
            {"submitted_at": "2024-04-15 09:00:00", "asked": 6, "answered": 6, "lo": 3, "hi": 5},
            {"submitted_at": "2024-04-14 09:00:00"},
        ]
    )
    out = quality.flag_responses(f, HOURS)
    assert out["id"].tolist() == [1, 3]
    assert out["flags"].tolist() == [["straight"], ["hours"]]
    assert out["reasons"].tolist() == ["Chọn mức 5 cho cả 6 tiêu chí, làm trong 9 giây", "Ngoài giờ làm việc"]


# ------------------------------------------------------------------------------------------- database


def store(conn, token: str, at: str, answers: dict, *, device=None, duration=None, overall=None) -> int:
    response = {
        "token": token,
        "submitted_at": at,
        "questionnaire": "sipas-2023",
        "channel": "kiosk",
        "device": device,
        "duration_seconds": duration,
        "overall": overall,
    }
    assert db.insert_response(conn, response, answers)
    return conn.execute("SELECT id FROM responses WHERE token = ?", (token,)).fetchone()[0]


@pytest.fixture
def seeded(conn):
    fives = {f"TC3.{i}": 5 for i in range(1, 6)}
    ids = {
        "straight": store(conn, "s", "2024-04-15 08:00:00", fives, device="quay1", duration=8.0),
        "b1": store(conn, "b1", "2024-04-15 09:00:00", {"TC1.1": 4, "TC1.2": 2}, device="quay2", duration=40),
        "b2": store(conn, "b2", "2024-04-15 09:00:20", {"TC1.1": 3}, device="quay2", duration=40),
        "b3": store(conn, "b3", "2024-04-15 09:00:40", {"TC1.1": 2}, device="quay2", duration=40),
        "ok": store(conn, "ok", "2024-04-15 10:00:00", {"TC1.1": 4, "TC1.2": 5}, device="quay1", duration=60),
        "night": store(conn, "n", "2024-04-15 22:00:00", {"TC1.1": 1}, device="quay1", duration=60),
    }
    return ids


def test_load_flags_from_the_database(conn, seeded):
    out = quality.load_flags(conn, HOURS, "2024-04-15", "2024-04-15")
    by_id = dict(zip(out["id"], out["flags"], strict=True))
    assert by_id == {
        seeded["straight"]: ["straight"],
        seeded["b1"]: ["burst"],
        seeded["b2"]: ["burst"],
        seeded["b3"]: ["burst"],
        seeded["night"]: ["hours"],
    }


def test_exclusion_changes_the_index_and_is_logged_and_restore_undoes_it(conn, seeded):
    before = scoring.index_for_period(conn, "sipas-2023", "2024-04-15", "2024-04-15")
    assert before.responses == 6
    tc11 = next(c for c in before.criteria if c.code == "TC1.1")
    assert (tc11.n, tc11.satisfied) == (5, 2)
    burst = [seeded["b1"], seeded["b2"], seeded["b3"]]
    assert quality.exclude(conn, burst, "Bấm liên tục thử máy", "clerk1") == 3
    after = scoring.index_for_period(conn, "sipas-2023", "2024-04-15", "2024-04-15")
    assert after.responses == 3
    tc11 = next(c for c in after.criteria if c.code == "TC1.1")
    assert (tc11.n, tc11.satisfied) == (2, 1)  # 4 (ok) and 1 (night) remain
    assert db.count_excluded(conn, "2024-04-15", "2024-04-15") == 3
    log = [e for e in db.audit_entries(conn) if e["action"] == "exclude"]
    assert len(log) == 3 and {e["note"] for e in log} == {"Bấm liên tục thử máy"} and log[0]["actor"] == "clerk1"
    listed = db.excluded_responses(conn, "2024-04-15", "2024-04-15")
    assert [r["id"] for r in listed] == burst and listed[0]["excluded_by"] == "clerk1"
    # The flags still list the excluded rows, so they can be restored.
    assert set(quality.load_flags(conn, HOURS, "2024-04-15", "2024-04-15")["id"]) >= set(burst)

    assert quality.restore(conn, burst[:1], "Kiểm tra lại: phiếu thật", "clerk1") == 1
    again = scoring.index_for_period(conn, "sipas-2023", "2024-04-15", "2024-04-15")
    assert again.responses == 4
    assert [e["action"] for e in db.audit_entries(conn, 1)] == ["include"]
    assert db.count_excluded(conn, "2024-04-15", "2024-04-15") == 2


@pytest.mark.parametrize(
    "ids, reason, message",
    [
        ([1], "", "Cần ghi lý do (ít nhất 3 ký tự) để loại hoặc khôi phục phiếu."),
        ([1], "  x ", "Cần ghi lý do (ít nhất 3 ký tự) để loại hoặc khôi phục phiếu."),
        ([], "Lý do đủ dài", "Chưa chọn phiếu nào."),
        ([999999], "Lý do đủ dài", "Không có phiếu số 999999."),
        # A known id before an unknown one: neither is excluded (one transaction).
        ([1, 999999], "Lý do đủ dài", "Không có phiếu số 999999."),
    ],
)
def test_bad_exclusions_are_refused_and_change_nothing(conn, seeded, ids, reason, message):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        quality.exclude(conn, ids, reason, "clerk1")
    assert str(err.value) == message
    assert table_snapshot(conn) == before
