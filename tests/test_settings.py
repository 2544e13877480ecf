"""The commune's settings (sipas.admin.settings) and staff roster (sipas.admin.roster): dated values, validation
that changes nothing on refusal, and the audit log (who, old → new)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from sipas import clock, db
from sipas.admin import roster, settings
from sipas.errors import ValidationError
from tests.conftest import table_snapshot

OLD_NAME = "Bộ phận Một cửa – UBND xã Vạn Phước"
NEW_NAME = "Trung tâm Phục vụ hành chính công xã Vạn Phước"
WORKING = {"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]}


def audit_rows(conn, action: str) -> list[tuple]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT actor, action, entity, old_value, new_value FROM audit_log WHERE action = ? ORDER BY id", (action,)
        )
    ]


# ------------------------------------------------------------------------------ audit, dated values


def test_each_change_writes_an_audit_row_with_the_actor_and_old_and_new_value(conn):
    settings.put(conn, "staff_min_n", 12, "vanphong")
    settings.put(conn, "staff_min_n", 20, "chutich")
    next_month = clock.month_start(clock.today(), 1).isoformat()
    settings.put(conn, "targets", {"overall": 90, "floor": 85}, "vanphong", next_month)
    assert audit_rows(conn, "setting")[-3:] == [
        # Before the first change the default was in force: it is the old value.
        ("vanphong", "setting", "staff_min_n@0001-01-01", "10", "12"),
        ("chutich", "setting", "staff_min_n@0001-01-01", "12", "20"),
        (
            "vanphong",
            "setting",
            f"targets@{next_month}",
            '{"overall": 87.0, "floor": 80.0}',
            '{"overall": 90.0, "floor": 85.0}',
        ),
    ]
    assert settings.get(conn, "staff_min_n") == 20


def test_unit_name_valid_from_1_july_2025_gives_the_old_name_before_and_the_new_name_after(conn):
    settings.put(conn, "unit_name", NEW_NAME, "vanphong", date(2025, 7, 1))
    assert settings.get(conn, "unit_name", date(2025, 6, 30)) == OLD_NAME
    assert settings.get(conn, "unit_name", "2025-06-30") == OLD_NAME
    assert settings.get(conn, "unit_name", date(2025, 7, 1)) == NEW_NAME
    assert settings.get(conn, "unit_name", date(2026, 1, 15)) == NEW_NAME
    # A stored old name (not only the default) is kept for the months before.
    settings.put(conn, "unit_name", "UBND xã Vạn Phước", "vanphong")
    assert settings.get(conn, "unit_name", date(2025, 6, 30)) == "UBND xã Vạn Phước"
    assert settings.get(conn, "unit_name", date(2025, 7, 1)) == NEW_NAME
    stored = json.loads(db.get_setting_rows(conn, "unit_name")[-1]["value"])
    assert stored == NEW_NAME


def test_a_setting_never_stored_returns_its_default(conn):
    assert settings.get(conn, "targets") == {"overall": 87.0, "floor": 80.0}
    assert settings.get(conn, "active_questionnaire") == "sipas-2023"
    assert settings.get(conn, "kiosk_devices") == []


def test_values_are_cleaned_before_they_are_stored(conn):
    assert settings.put(conn, "unit_name", "  UBND xã Vạn Phước  ", "t") == "UBND xã Vạn Phước"
    assert settings.put(conn, "kiosk_devices", [" quay1", "quay2 ", "quay1"], "t") == ["quay1", "quay2"]
    assert settings.get(conn, "kiosk_devices") == ["quay1", "quay2"]
    assert settings.put(conn, "targets", {"overall": "87.5", "floor": 80}, "t") == {"overall": 87.5, "floor": 80.0}


# ------------------------------------------------------------------------------ the plan's targets are dated


@pytest.mark.parametrize("key", sorted(settings.PLAN_KEYS))
def test_a_plan_figure_cannot_be_changed_for_a_past_month_and_nothing_is_stored(conn, key):
    today = date(2026, 12, 6)
    before = table_snapshot(conn)
    for past in ("2020-01-01", "2026-11-30"):
        with pytest.raises(ValidationError) as err:
            settings.put(conn, key, settings.DEFAULTS[key], "vanphong", past, today=today)
        assert err.value.problems == [
            f"{settings.PLAN_KEYS[key]} không áp dụng được từ {clock.format_date(past)}: tháng đã qua giữ chỉ "
            "tiêu đã dùng khi đánh giá. Hãy chọn ngày hiệu lực từ 01/12/2026 trở đi."
        ]
    assert table_snapshot(conn) == before
    # From the first day of the current month, or a later day, it is stored from that day.
    settings.put(conn, key, settings.DEFAULTS[key], "vanphong", "2026-12-01", today=today)
    settings.put(conn, key, settings.DEFAULTS[key], "vanphong", date(2027, 3, 15), today=today)
    assert [r["valid_from"] for r in db.get_setting_rows(conn, key)] == ["2026-12-01", "2027-03-15"]


def test_a_target_saved_without_a_date_applies_from_the_current_month_only(conn):
    settings.put(conn, "targets", {"overall": 92, "floor": 85}, "vanphong")
    this_month = clock.month_start(clock.today())
    assert [r["valid_from"] for r in db.get_setting_rows(conn, "targets")] == [this_month.isoformat()]
    assert settings.get(conn, "targets", this_month) == {"overall": 92.0, "floor": 85.0}
    assert settings.get(conn, "targets", clock.month_start(this_month, -1)) == settings.DEFAULTS["targets"]


def test_in_force_names_the_day_a_target_took_effect_and_the_one_before_a_change_inside_the_period(conn):
    today = date(2026, 12, 6)
    settings.put(conn, "targets", {"overall": 90, "floor": 85}, "vanphong", "2026-12-15", today=today)
    nov = settings.in_force(conn, "targets", "2026-11-01", "2026-11-30")
    assert nov == settings.InForce({"overall": 87.0, "floor": 80.0}, None, None)
    dec = settings.in_force(conn, "targets", "2026-12-01", "2026-12-31")
    assert dec == settings.InForce({"overall": 90.0, "floor": 85.0}, "2026-12-15", {"overall": 87.0, "floor": 80.0})
    jan = settings.in_force(conn, "targets", "2027-01-01", "2027-01-31")
    assert jan == settings.InForce({"overall": 90.0, "floor": 85.0}, "2026-12-15", None)


# ------------------------------------------------------------------------------ refused values

BAD_VALUES = [
    ("targets", {"overall": 101, "floor": 80}, "Chỉ tiêu phải nằm trong khoảng 0–100."),
    ("targets", {"overall": 87, "floor": -1}, "Chỉ tiêu phải nằm trong khoảng 0–100."),
    ("targets", {"overall": 87}, "Chỉ tiêu phải có 'overall' và 'floor' là số."),
    ("targets", {"overall": "nhiều", "floor": 80}, "Chỉ tiêu phải có 'overall' và 'floor' là số."),
    ("bands", [["Yếu", 0], ["Khá", 80], ["Tốt", 90]], "Ngưỡng các mức xếp loại phải giảm dần và mức cuối có ngưỡng 0."),
    ("bands", [["Tốt", 90], ["Khá", 80]], "Ngưỡng các mức xếp loại phải giảm dần và mức cuối có ngưỡng 0."),
    ("bands", [["Tốt", 80], ["Khá", 80], ["Yếu", 0]], "Ngưỡng các mức xếp loại phải giảm dần và mức cuối có ngưỡng 0."),
    ("bands", [["Tốt", 120], ["Yếu", 0]], "Ngưỡng các mức xếp loại phải nằm trong khoảng 0–100."),
    ("bands", [], "Ngưỡng các mức xếp loại phải giảm dần và mức cuối có ngưỡng 0."),
    ("bands", [["Tốt", "cao"], ["Yếu", 0]], "Các mức xếp loại phải là danh sách [tên, ngưỡng dưới]."),
    ("active_questionnaire", "sipas-2030", "Không có phiên bản phiếu 'sipas-2030'."),
    ("opening_hours", {"days": [0], "periods": [["07:00", "25:00"]]}, "Ca 1: giờ phải có dạng HH:MM (ví dụ 07:00)."),
    ("opening_hours", {"days": [0], "periods": [["7h", "11:30"]]}, "Ca 1: giờ phải có dạng HH:MM (ví dụ 07:00)."),
    (
        "opening_hours",
        {"days": [0], "periods": [["07:00", "11:30"], ["11:00", "17:00"]]},
        "Ca 2: bắt đầu 11:00 trùng hoặc trước ca trước (kết thúc 11:30).",
    ),
    (
        "opening_hours",
        {"days": [0], "periods": [["11:30", "07:00"]]},
        "Ca 1: giờ bắt đầu 11:30 phải trước giờ kết thúc 07:00.",
    ),
    (
        "opening_hours",
        {"days": [7], "periods": [["07:00", "11:30"]]},
        "Ngày làm việc chỉ nhận 0 (Thứ Hai) đến 6 (Chủ nhật).",
    ),
    (
        "opening_hours",
        {"periods": [["07:00", "11:30"]]},
        "Giờ làm việc phải có 'days' (0 = Thứ Hai … 6 = Chủ nhật) và 'periods'.",
    ),
    ("unit_name", "   ", "Tên đơn vị không được để trống (tối đa 300 ký tự)."),
    (
        "questions_per_survey",
        {"mode": "half", "rotating": 4},
        "Số câu hỏi mỗi phiếu: chế độ 'full' hoặc 'short' với 1–30 tiêu chí luân phiên.",
    ),
    ("fields", ["Hộ tịch", "Hộ tịch"], "Danh sách lĩnh vực không được trống, không có dòng trống hay trùng nhau."),
    ("staff_min_n", 0, "Số phiếu tối thiểu phải là số nguyên ≥ 1."),
    ("kiosk_devices", ["quay1", " "], "Danh sách máy tính bảng phải là các tên không trống."),
    ("no_such_key", 1, "Không có thiết lập 'no_such_key'."),
]


@pytest.mark.parametrize(
    ("key", "value", "message"), BAD_VALUES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD_VALUES)]
)
def test_an_invalid_value_is_refused_with_its_message_and_changes_nothing(conn, key, value, message):
    settings.put(conn, "targets", {"overall": 88, "floor": 82}, "vanphong")
    settings.put(conn, "opening_hours", WORKING, "vanphong")
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        settings.put(conn, key, value, "vanphong", "2026-01-01")
    assert exc.value.problems == [message]
    assert table_snapshot(conn) == before


def test_periods_typed_as_text_are_parsed_and_a_broken_one_is_named():
    assert settings.parse_periods("07:00-11:30, 13:30 – 17:00") == [["07:00", "11:30"], ["13:30", "17:00"]]
    with pytest.raises(ValidationError) as exc:
        settings.parse_periods("07:00-11:30, 13:30")
    assert exc.value.problems == ['Không hiểu ca "13:30"; cần dạng 07:00-11:30.']
    with pytest.raises(ValidationError) as exc:
        settings.parse_periods(" , ")
    assert exc.value.problems == ["Cần ít nhất một ca làm việc."]


# ------------------------------------------------------------------------------ opening hours


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2025, 4, 14, 6, 59), False),  # Monday, before opening
        (datetime(2025, 4, 14, 7, 0), True),  # opening minute
        (datetime(2025, 4, 14, 11, 29), True),
        (datetime(2025, 4, 14, 11, 30), False),  # lunch break starts
        (datetime(2025, 4, 14, 13, 30), True),
        (datetime(2025, 4, 18, 16, 59), True),  # Friday
        (datetime(2025, 4, 18, 17, 0), False),
        (datetime(2025, 4, 19, 9, 0), False),  # Saturday
        (datetime(2025, 4, 20, 9, 0), False),  # Sunday
    ],
)
def test_is_open_follows_days_and_periods(moment, expected):
    assert settings.is_open(WORKING, moment) is expected


def test_a_period_ending_at_24_00_keeps_the_counter_open_until_midnight():
    hours = {"days": [5], "periods": [["18:00", "24:00"]]}
    assert settings.validate_opening_hours(hours) == hours
    assert settings.is_open(hours, datetime(2025, 4, 19, 23, 59)) is True
    assert settings.is_open(hours, datetime(2025, 4, 19, 17, 59)) is False


def test_opening_hours_stored_are_read_back(conn):
    settings.put(conn, "opening_hours", {"days": [4, 0, 4], "periods": [["07:00", "11:30"]]}, "vanphong")
    assert settings.get(conn, "opening_hours") == {"days": [0, 4], "periods": [["07:00", "11:30"]]}


# ------------------------------------------------------------------------------ roster

MEMBER = {
    "code": "CB01",
    "full_name": "Trần Văn Bình",
    "position": "Công chức Tư pháp – Hộ tịch",
    "counter": "Quầy 1",
    "active_from": date(2024, 1, 2),
}


def test_a_member_is_saved_cleaned_and_logged(conn):
    clean = roster.save_member(conn, {**MEMBER, "full_name": "  Trần Văn Bình "}, "vanphong")
    assert clean == {
        "code": "CB01",
        "full_name": "Trần Văn Bình",
        "position": "Công chức Tư pháp – Hộ tịch",
        "counter": "Quầy 1",
        "active_from": "2024-01-02",
        "active_to": None,
        "active": 1,
    }
    (row,) = db.list_staff(conn)
    assert (row["code"], row["full_name"], row["active"]) == ("CB01", "Trần Văn Bình", 1)
    ((actor, action, entity, old, new),) = audit_rows(conn, "staff")
    assert (actor, action, entity, old) == ("vanphong", "staff", "staff:CB01", None)
    assert json.loads(new) == clean


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        ({"code": ""}, ["Mã cán bộ: 1–20 ký tự chữ không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới."]),
        ({"code": "CB 01"}, ["Mã cán bộ: 1–20 ký tự chữ không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới."]),
        ({"code": "Bình"}, ["Mã cán bộ: 1–20 ký tự chữ không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới."]),
        ({"full_name": " "}, ["Họ và tên không được để trống (tối đa 120 ký tự)."]),
        ({"active_from": "2024-13-01"}, ['Ngày bắt đầu: ngày "2024-13-01" không hợp lệ.']),
        ({"active_to": "2023-12-31"}, ["Ngày kết thúc phải sau ngày bắt đầu."]),
        (
            {"code": "", "full_name": ""},
            [
                "Mã cán bộ: 1–20 ký tự chữ không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới.",
                "Họ và tên không được để trống (tối đa 120 ký tự).",
            ],
        ),
    ],
)
def test_an_invalid_member_is_refused_with_every_problem_and_changes_nothing(conn, change, problems):
    roster.save_member(conn, {**MEMBER, "code": "CB02"}, "vanphong")
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        roster.save_member(conn, {**MEMBER, **change}, "vanphong")
    assert exc.value.problems == problems
    assert table_snapshot(conn) == before


def test_a_member_who_leaves_is_deactivated_never_deleted_and_the_change_is_logged(conn):
    roster.save_member(conn, MEMBER, "vanphong")
    roster.deactivate(conn, "CB01", date(2025, 6, 30), "chutich")
    (row,) = db.list_staff(conn)
    assert (row["code"], row["full_name"], row["active"], row["active_to"]) == (
        "CB01",
        "Trần Văn Bình",
        0,
        "2025-06-30",
    )
    assert db.list_staff(conn, active_only=True) == []
    assert "CB01" in db.staff_codes(conn)  # imports naming CB01 for earlier responses stay valid
    actor, _, entity, old, new = audit_rows(conn, "staff")[-1]
    assert (actor, entity) == ("chutich", "staff:CB01")
    assert (json.loads(old)["active"], json.loads(old)["active_to"]) == (1, None)
    assert (json.loads(new)["active"], json.loads(new)["active_to"]) == (0, "2025-06-30")


def test_deactivating_an_unknown_member_is_refused(conn):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        roster.deactivate(conn, "CB99", date(2025, 6, 30), "vanphong")
    assert exc.value.problems == ['Không có cán bộ mã "CB99".']
    assert table_snapshot(conn) == before


def test_every_setting_is_declared_with_how_it_is_checked_and_every_default_passes_its_own_check():
    assert set(settings.SETTINGS) == set(settings.DEFAULTS)
    for key in settings.DEFAULTS:
        if key not in ("unit_confirmed", "form2024_offer"):  # None until staff answer
            assert settings.validate(key, settings.default_for(key)) == settings.default_for(key), key
