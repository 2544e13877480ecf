"""The commune's own settings: dated values with defaults, validated before they are stored.

Every setting may carry a valid-from date (the unit changed name and superior level in 2025), so
``get(conn, key, on_date)`` returns the value in force on that date. A change is written with the
audit log entry (who, when, old → new) in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from sipas import db
from sipas.catalog import DEFAULT_VERSION, questionnaires, survey_options
from sipas.errors import ValidationError

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
    "kiosk_enforce_hours": False,
}


def _validate(key: str, value: Any) -> Any:
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
        if not bands or lowers != sorted(lowers, reverse=True) or lowers[-1] != 0:
            raise ValidationError("Ngưỡng các mức xếp loại phải giảm dần và mức cuối có ngưỡng 0.")
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
    if key == "staff_min_n":
        if not isinstance(value, int) or value < 1:
            raise ValidationError("Số phiếu tối thiểu phải là số nguyên ≥ 1.")
        return value
    return value


def get(conn: sqlite3.Connection, key: str, on_date: date | str | None = None) -> Any:
    """The value of ``key`` in force on ``on_date`` (default today), or its default."""
    if key not in DEFAULTS:
        raise KeyError(key)
    day = (on_date or date.today())
    day = day if isinstance(day, str) else day.isoformat()
    raw = db.get_setting_value(conn, key, day)
    if raw is None:
        value = DEFAULTS[key]
    else:
        value = json.loads(raw)
    if key == "fields" and value is None:
        return list(survey_options()["fields"])
    return value


def put(conn: sqlite3.Connection, key: str, value: Any, actor: str | None,
        valid_from: date | str | None = None) -> Any:
    """Validate and store a setting (from ``valid_from``, default: always), logging old → new."""
    clean = _validate(key, value)
    vf = valid_from or EARLIEST
    vf = vf if isinstance(vf, str) else vf.isoformat()
    with db.transaction(conn):
        db.put_setting_value(conn, key, json.dumps(clean, ensure_ascii=False), vf, actor)
    return clean
