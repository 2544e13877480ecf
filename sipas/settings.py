"""The commune's own settings: dated values with defaults, validated before they are stored.

Every setting may carry a valid-from date (the unit changed name and superior level in 2025), so
``get(conn, key, on_date)`` returns the value in force on that date. A change is written with the
audit log entry (who, when, old → new) in the same transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime
from typing import Any

from sipas import clock, db
from sipas.catalog import DEFAULT_VERSION, questionnaires, survey_options
from sipas.errors import ValidationError
from sipas.text import text_problem

EARLIEST = "0001-01-01"

DEFAULTS: dict[str, Any] = {
    "unit_name": "Bộ phận Một cửa – UBND xã Vạn Phước",
    "report_recipient": "UBND huyện Vạn Ninh (qua Phòng Nội vụ)",
    "targets": {"overall": 87.0, "floor": 80.0},
    "bands": [["Tốt", 90.0], ["Khá", 80.0], ["Trung bình", 70.0], ["Yếu", 0.0]],
    "active_questionnaire": DEFAULT_VERSION,
    # "full": every criterion; "short": overall + element 3 for everyone, `rotating` others at random.
    "questions_per_survey": {"mode": "full", "rotating": 4},
    "fields": None,  # None: the list in data/survey-options.json
    "opening_hours": {
        "days": [0, 1, 2, 3, 4],  # Monday = 0
        "periods": [["07:00", "11:30"], ["13:30", "17:00"]],
    },
    "staff_min_n": 10,
    # Outside opening hours the kiosk shows a "closed" screen; answers stored then are flagged.
    "kiosk_closed_outside_hours": True,
    # Tablet names (?device=…) locked to the survey, with no way to the staff login.
    "kiosk_devices": [],
    # Repeat offence (tái phạm): this many substantiated conduct cases within this many months.
    "repeat_offence": {"count": 2, "months": 12},
    # Show the month's "Người dân nói — chúng tôi đã làm" summary on the kiosk's welcome screen.
    "public_summary_on_kiosk": False,
    # Daily automatic backups (sipas.backup): the folder, relative to the project root unless
    # absolute ("" = a "backups" folder beside the database file), and how many daily copies to keep.
    "backup_dir": "",
    "backup_keep": 30,
    # Waiting time and staffing (sipas.waiting): the wait the counter aims at, the share of citizens
    # to serve within it, the mean service time per lĩnh vực (minutes; "default" for any other), the
    # counters open in each hour the counter is open ("default", and [weekday, hour, counters]
    # exceptions, Monday = 0), and the counters' names for the clerk's hourly dossier counts.
    "wait_target_minutes": 15,
    "service_level_target": 0.8,
    "service_minutes": {"default": 15.0, "fields": {}},
    "counters_open": {"default": 2, "hours": []},
    "counter_names": ["Quầy 1", "Quầy 2"],
}


def validate(key: str, value: Any) -> Any:
    """The clean value of setting ``key``, or ValidationError naming what is wrong (nothing stored)."""
    if key not in DEFAULTS:
        raise ValidationError(f"Không có thiết lập '{key}'.")
    if key in ("unit_name", "report_recipient"):
        if not isinstance(value, str) or not value.strip() or len(value) > 300:
            raise ValidationError("Tên đơn vị / nơi nhận báo cáo không được để trống (tối đa 300 ký tự).")
        return value.strip()
    if key == "targets":
        try:
            overall, floor = float(value["overall"]), float(value["floor"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError("Chỉ tiêu phải có 'overall' và 'floor' là số.") from None
        if not (0 <= floor <= 100 and 0 <= overall <= 100):
            raise ValidationError("Chỉ tiêu phải nằm trong khoảng 0–100.")
        return {"overall": overall, "floor": floor}
    if key == "bands":
        try:
            bands = [[str(name), float(lower)] for name, lower in value]
        except (TypeError, ValueError):
            raise ValidationError("Các mức xếp loại phải là danh sách [tên, ngưỡng dưới].") from None
        lowers = [b[1] for b in bands]
        # Strictly: two bands with one threshold would make one of them unreachable (NaN fails too).
        if not bands or not all(a > b for a, b in zip(lowers, lowers[1:], strict=False)) or lowers[-1] != 0:
            raise ValidationError("Ngưỡng các mức xếp loại phải giảm dần và mức cuối có ngưỡng 0.")
        if lowers[0] > 100:
            raise ValidationError("Ngưỡng các mức xếp loại phải nằm trong khoảng 0–100.")
        return bands
    if key == "active_questionnaire":
        if value not in questionnaires():
            raise ValidationError(f"Không có phiên bản phiếu '{value}'.")
        return value
    if key == "questions_per_survey":
        mode = value.get("mode") if isinstance(value, dict) else None
        rotating = value.get("rotating", 4) if isinstance(value, dict) else None
        if mode not in ("full", "short") or not isinstance(rotating, int) or not 1 <= rotating <= 30:
            raise ValidationError("Số câu hỏi mỗi phiếu: chế độ 'full' hoặc 'short' với 1–30 tiêu chí luân phiên.")
        return {"mode": mode, "rotating": rotating}
    if key == "fields":
        if value is None:
            return None
        items = [str(v).strip() for v in value]
        if not items or any(not v for v in items) or len(set(items)) != len(items):
            raise ValidationError("Danh sách lĩnh vực không được trống, không có dòng trống hay trùng nhau.")
        return items
    if key == "opening_hours":
        return validate_opening_hours(value)
    if key == "kiosk_devices":
        if not isinstance(value, list) or any(not isinstance(v, str) or not v.strip() for v in value):
            raise ValidationError("Danh sách máy tính bảng phải là các tên không trống.")
        return sorted({v.strip()[:40] for v in value})
    if key in ("kiosk_closed_outside_hours", "public_summary_on_kiosk"):
        return bool(value)
    if key == "repeat_offence":
        try:
            count, months = int(value["count"]), int(value["months"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError("Quy tắc tái phạm cần 'count' và 'months' là số nguyên.") from None
        if not 2 <= count <= 20 or not 1 <= months <= 60:
            raise ValidationError("Tái phạm: số vụ việc từ 2 đến 20, trong 1 đến 60 tháng.")
        return {"count": count, "months": months}
    if key == "staff_min_n":
        if not isinstance(value, int) or value < 1:
            raise ValidationError("Số phiếu tối thiểu phải là số nguyên ≥ 1.")
        return value
    if key == "backup_dir":
        if not isinstance(value, str) or len(value) > 500 or "\0" in value:
            raise ValidationError("Thư mục sao lưu không hợp lệ (tối đa 500 ký tự).")
        return value.strip()
    if key == "backup_keep":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
            raise ValidationError("Số bản sao lưu tự động cần giữ phải là số nguyên từ 1 đến 3650.")
        return value
    if key in _WAITING_KEYS:
        return _validate_waiting(key, value)
    return value


# ---- waiting time and staffing (sipas.waiting) ----------------------------------------------

_WAITING_KEYS = ("wait_target_minutes", "service_level_target", "service_minutes", "counters_open", "counter_names")
MAX_COUNTERS = 50


def _finite(value: Any) -> float | None:
    """value as a float if it is a finite real number (not bool), else None."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value in (float("inf"), float("-inf"))
    ):
        return None
    return float(value)


def _count(value: Any) -> int | None:
    """value as an int if it is a whole number 0..MAX_COUNTERS (4.0 accepted), else None."""
    number = _finite(value)
    if number is None or not number.is_integer() or not 0 <= number <= MAX_COUNTERS:
        return None
    return int(number)


def _validate_waiting(key: str, value: Any) -> Any:
    if key == "wait_target_minutes":
        number = _finite(value)
        if number is None or not 0 < number <= 240:
            raise ValidationError("Thời gian chờ mục tiêu phải là số phút lớn hơn 0, tối đa 240.")
        return int(number) if number.is_integer() else number
    if key == "service_level_target":
        number = _finite(value)
        if number is None or not 0 < number < 1:
            raise ValidationError(
                "Tỷ lệ người dân được phục vụ trong thời gian chờ mục tiêu phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0.8)."
            )
        return number
    if key == "service_minutes":
        if not isinstance(value, dict) or not isinstance(value.get("fields", {}), dict):
            raise ValidationError("Thời gian phục vụ phải có 'default' và 'fields' (lĩnh vực → số phút).")
        out: dict[str, float] = {}
        problems = []
        for name, minutes in [("default", value.get("default")), *value.get("fields", {}).items()]:
            number = _finite(minutes)
            label = "mặc định" if name == "default" else f'lĩnh vực "{name}"'
            if not str(name).strip():
                problems.append("Thời gian phục vụ: tên lĩnh vực không được trống.")
            elif number is None or not 0 < number <= 480:
                problems.append(f"Thời gian phục vụ {label}: phải là số phút lớn hơn 0, tối đa 480.")
            else:
                out[str(name).strip()] = number
        if problems:
            raise ValidationError(problems)
        default = out.pop("default")
        return {"default": default, "fields": out}
    if key == "counters_open":
        if not isinstance(value, dict) or not isinstance(value.get("hours", []), list):
            raise ValidationError("Số quầy mở phải có 'default' và 'hours' ([thứ, giờ, số quầy]).")
        default = _count(value.get("default"))
        problems = [] if default is not None else [f"Số quầy mở mặc định phải là số nguyên từ 0 đến {MAX_COUNTERS}."]
        hours: dict[tuple[int, int], int] = {}
        for item in value.get("hours", []):
            try:
                weekday, hour, counters = item
            except (TypeError, ValueError):
                problems.append(f"Số quầy mở: mục {item!r} phải có dạng [thứ, giờ, số quầy].")
                continue
            w, h, n = _count(weekday), _count(hour), _count(counters)
            if w is None or w > 6 or h is None or h > 23:
                problems.append(f"Số quầy mở: thứ {weekday!r} (0–6) hoặc giờ {hour!r} (0–23) không hợp lệ.")
            elif n is None:
                problems.append(f"Số quầy mở {WEEKDAYS[w]} {h}:00: phải là số nguyên từ 0 đến {MAX_COUNTERS}.")
            elif (w, h) in hours:
                problems.append(f"Số quầy mở {WEEKDAYS[w]} {h}:00: bị nhập hai lần.")
            else:
                hours[(w, h)] = n
        if problems:
            raise ValidationError(problems)
        return {"default": default, "hours": [[w, h, n] for (w, h), n in sorted(hours.items())]}
    if key == "counter_names":
        if not isinstance(value, list):
            raise ValidationError("Danh sách quầy phải là các tên quầy.")
        names = [str(v).strip() for v in value]
        if not names or any(not n or len(n) > 40 for n in names) or len(set(names)) != len(names):
            raise ValidationError("Danh sách quầy không được trống, tên không trống (tối đa 40 ký tự), không trùng.")
        return names
    raise ValidationError(f"Không có thiết lập '{key}'.")


# ---- end waiting time and staffing ------------------------------------------------------------


def get(conn: sqlite3.Connection, key: str, on_date: date | str | None = None) -> Any:
    """The value of ``key`` in force on ``on_date`` (default today), or its default."""
    if key not in DEFAULTS:
        raise KeyError(key)
    day = on_date or clock.today()
    day = day if isinstance(day, str) else day.isoformat()
    raw = db.get_setting_value(conn, key, day)
    if raw is None:
        value = DEFAULTS[key]
    else:
        value = json.loads(raw)
    if key == "fields" and value is None:
        return list(survey_options()["fields"])
    return value


def put_many(conn: sqlite3.Connection, values: dict, actor: str | None) -> None:
    """Check every value first, then store them all (none is stored if any is refused)."""
    problems: list[str] = []
    for key, value in values.items():
        try:
            validate(key, value)
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    for key, value in values.items():
        put(conn, key, value, actor)


def put(conn: sqlite3.Connection, key: str, value: Any, actor: str | None, valid_from: date | str | None = None) -> Any:
    """Validate and store a setting (from ``valid_from``, default: always), logging old → new."""
    clean = validate(key, value)
    problem = text_problem(clean, "Giá trị")
    if problem:
        raise ValidationError(problem)
    vf = valid_from or EARLIEST
    vf = vf if isinstance(vf, str) else vf.isoformat()
    with db.transaction(conn):
        # The audit log shows the value in force before the change, the default included.
        before = json.dumps(DEFAULTS[key], ensure_ascii=False)
        db.put_setting_value(conn, key, json.dumps(clean, ensure_ascii=False), vf, actor, old_json=before)
    return clean


WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def validate_opening_hours(value: Any) -> dict:
    """{"days": [0..6], "periods": [["07:00", "11:30"], ...]} with periods in order, not overlapping."""
    try:
        days = sorted({int(d) for d in value["days"]})
        periods = [[str(a).strip(), str(b).strip()] for a, b in value["periods"]]
    except (KeyError, TypeError, ValueError):
        raise ValidationError("Giờ làm việc phải có 'days' (0 = Thứ Hai … 6 = Chủ nhật) và 'periods'.") from None
    if any(d < 0 or d > 6 for d in days):
        raise ValidationError("Ngày làm việc chỉ nhận 0 (Thứ Hai) đến 6 (Chủ nhật).")
    last = "00:00"
    for i, (a, b) in enumerate(periods, start=1):
        if not _HHMM.match(a) or not _HHMM.match(b):
            raise ValidationError(f"Ca {i}: giờ phải có dạng HH:MM (ví dụ 07:00).")
        if not a < b:
            raise ValidationError(f"Ca {i}: giờ bắt đầu {a} phải trước giờ kết thúc {b}.")
        if a < last:
            raise ValidationError(f"Ca {i}: bắt đầu {a} trùng hoặc trước ca trước (kết thúc {last}).")
        last = b
    return {"days": days, "periods": periods}


def parse_periods(text: str) -> list[list[str]]:
    """'07:00-11:30, 13:30-17:00' → [['07:00', '11:30'], ['13:30', '17:00']] (validated later).

    >>> parse_periods("07:00-11:30, 13:30–17:00")
    [['07:00', '11:30'], ['13:30', '17:00']]
    """
    out = []
    for part in re.split(r"[,;\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        bits = re.split(r"\s*[-–]\s*", part)
        if len(bits) != 2:
            raise ValidationError(f'Không hiểu ca "{part}"; cần dạng 07:00-11:30.')
        out.append(bits)
    if not out:
        raise ValidationError("Cần ít nhất một ca làm việc.")
    return out


def is_open(hours: dict, moment: datetime) -> bool:
    """Whether the counter is open at ``moment`` (commune local time).

    >>> h = {"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]}
    >>> is_open(h, datetime(2024, 4, 15, 8, 0)), is_open(h, datetime(2024, 4, 15, 12, 0))
    (True, False)
    >>> is_open(h, datetime(2024, 4, 14, 8, 0))  # a Sunday
    False
    """
    if moment.weekday() not in hours["days"]:
        return False
    hhmm = moment.strftime("%H:%M")
    return any(a <= hhmm < b for a, b in hours["periods"])
