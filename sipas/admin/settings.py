"""The commune's own settings: dated values with defaults, validated before they are stored.

Every setting may carry a valid-from date (the unit changed name and superior level in 2025), so
``get(conn, key, on_date)`` returns the value in force on that date. A change is written with the
audit log entry (who, when, old → new) in the same transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sipas import clock, db
from sipas.catalog import DEFAULT_VERSION, FORM_2024_FROM, questionnaires, survey_options
from sipas.errors import ValidationError
from sipas.text import text_problem

EARLIEST = "0001-01-01"
REORGANISATION = "2025-07-01"  # districts abolished; xã Vạn Phước part of xã Tu Bông [verify]

# Shipped values that change on a date: [(valid from, value), ...] in date order. A database row of
# the setting in force on a date wins over these; with none, the shipped value of that date applies.
DATED_DEFAULTS: dict[str, list[tuple[str, Any]]] = {
    "unit_name": [
        (EARLIEST, "Bộ phận Một cửa – UBND xã Vạn Phước"),
        (REORGANISATION, "Trung tâm Phục vụ hành chính công – UBND xã Tu Bông"),
    ],
    # The one-stop office as the statements name it ("… có biển hiệu, hướng dẫn rõ ràng …").
    "office_name": [
        (EARLIEST, "Bộ phận Một cửa UBND xã Vạn Phước"),
        (REORGANISATION, "Trung tâm Phục vụ hành chính công xã Tu Bông"),
    ],
    "report_recipient": [
        (EARLIEST, "UBND huyện Vạn Ninh (qua Phòng Nội vụ)"),
        (REORGANISATION, "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)"),
    ],
    # A new database: the 2022–2023 form before 2024, the national form of SIPAS 2024 after. A database
    # made before this version keeps its active version (migration _m9_keep_questionnaire stores it).
    "active_questionnaire": [(EARLIEST, "sipas-2023"), (FORM_2024_FROM, DEFAULT_VERSION)],
}
# Names of bodies that stop existing: a stored shipped name is not used after its shipped validity
# (a report for November 2026 is never addressed to the abolished district, even if 2024's settings
# stored its name "from always"). The active questionnaire is not a name: a stored one is kept.
NAME_KEYS = ("unit_name", "office_name", "report_recipient")
UNIT_KEYS = NAME_KEYS  # confirmed by staff at the first login (confirm_unit)
# The plan's figures a month is judged against: a change applies from a date the clerk gives, never
# before the first day of the current month (a month already reported keeps the figures it was judged
# by); without a date, from the first day of the current month.
PLAN_KEYS = {
    "targets": "Chỉ tiêu",
    "bands": "Mức xếp loại",
    "digital_targets": "Chỉ tiêu chuyển đổi số",
}

DEFAULTS: dict[str, Any] = {
    **{key: entries[0][1] for key, entries in DATED_DEFAULTS.items()},
    "targets": {"overall": 87.0, "floor": 80.0},
    "bands": [["Tốt", 90.0], ["Khá", 80.0], ["Trung bình", 70.0], ["Yếu", 0.0]],
    # "full": every criterion; "short": overall + element 3 for everyone, `rotating` others at random.
    # Short is the default of a new database (a database already in use kept "full": the kiosk migration).
    "questions_per_survey": {"mode": "short", "rotating": 4},
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
    # Misuse on the counter tablet (sipas.survey.tablet.suspect_reason): a survey completed faster than
    # this many seconds per answer, or one more than `kiosk_burst_max` from one tablet within
    # `kiosk_burst_minutes`, is stored as suspect (left out of every figure until a clerk restores it).
    "kiosk_min_seconds_per_answer": 1.0,
    "kiosk_burst_max": 10,
    "kiosk_burst_minutes": 5,
    # The tablet's "🔊 Nghe" button (shown only where the device has a Vietnamese voice).
    "kiosk_read_aloud": True,
    # Daily automatic backups (sipas.admin.backup): the folder, relative to the project root unless
    # absolute ("" = a "backups" folder beside the database file), and how many daily copies to keep.
    "backup_dir": "",
    "backup_keep": 30,
    # Waiting time and staffing (sipas.staffing.waiting): the wait the counter aims at, the share of citizens
    # to serve within it, the mean service time per lĩnh vực (minutes; "default" for any other), the
    # counters open in each hour the counter is open ("default", and [weekday, hour, counters]
    # exceptions, Monday = 0), and the counters' names for the clerk's hourly dossier counts.
    "wait_target_minutes": 15,
    "service_level_target": 0.8,
    "service_minutes": {"default": 15.0, "fields": {}},
    "counters_open": {"default": 2, "hours": []},
    "counter_names": ["Quầy 1", "Quầy 2"],
    # {"by", "at", and the three names}: set when staff confirmed the unit at the first login.
    "unit_confirmed": None,
    # "switched" or "kept": the answer to the one-time offer of the 2024 form on an older database.
    "form2024_offer": None,
    # The dossier log (sipas.files.dossiers): per source (a name the clerk gives a provincial system's
    # export), the file's header → the column it holds ("" to ignore a column, "personal" to drop it as
    # personal data).
    "dossier_column_maps": {},
    # The plan's digital targets (Kế hoạch 200/KH-UBND, appendix; dated: a new plan sets new ones):
    # procedures offered online that received an online dossier, dossiers paid online of those with a
    # fee, dossiers sent or returned by public postal service (BCCI). Fractions 0–1.
    "digital_targets": {"online_procedures": 1.0, "paid_online": 0.9, "postal": 0.15},
    # The procedures offered online (None: those that received an online dossier in the period).
    "online_procedures": None,
    # QĐ 766/QĐ-TTg's satisfaction group (18 of 100 points) and the points of its three ratios [cần xác minh:
    # the split below is an assumption until checked against the decision's appendix].
    "s766_weights": {"pakn_on_time": 6.0, "pakn_satisfied": 6.0, "dossiers_satisfied": 6.0, "verified": False},
    # Rating on one's own phone (sipas.survey.qr): the address a phone opens a QR code at, scheme and host
    # (and port) only, e.g. "http://192.168.1.10:8501" on the office Wi-Fi or "https://khaosat.example.vn"
    # for a public one. "" = no QR codes offered or printed.
    "qr_base_url": "",
}


def validate(key: str, value: Any) -> Any:
    """The clean value of setting ``key``, or ValidationError naming what is wrong (nothing stored)."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise ValidationError(f"Không có thiết lập '{key}'.")
    return setting.clean(value)


@dataclass(frozen=True)
class Setting:
    """One setting as declared in :data:`SETTINGS`: its kind, bounds and the message for a refused value.

    Kinds: ``text`` (a string, stripped; not blank when ``required``; at most ``max_length``),
    ``flag`` (anything, as a bool), ``whole`` (an int within ``low``–``high``; a bool only when
    ``allow_bool``), ``number`` (a finite int or float within the bounds, ``low_open``/``high_open``
    excluding the bound itself; a whole one as an int when ``whole_if_integral``), ``choice`` (one of
    ``choices()``; ``message`` may use ``{value}``) and ``structured`` (``check`` cleans the value or
    raises ValidationError with its own messages).
    """

    key: str
    kind: Literal["text", "flag", "whole", "number", "choice", "structured"]
    message: str = ""
    required: bool = False
    max_length: int | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_bool: bool = False
    whole_if_integral: bool = False
    choices: Callable[[], Iterable[str]] = tuple
    check: Callable[[Any], Any] | None = None

    def clean(self, value: Any) -> Any:
        return _CLEANERS[self.kind](self, value)

    def within(self, number: float) -> bool:
        above = self.low is None or (number > self.low if self.low_open else number >= self.low)
        below = self.high is None or (number < self.high if self.high_open else number <= self.high)
        return above and below


def _clean_text(s: Setting, value: Any) -> str:
    too_long = s.max_length is not None and isinstance(value, str) and len(value) > s.max_length
    if not isinstance(value, str) or (s.required and not value.strip()) or too_long:
        raise ValidationError(s.message)
    return value.strip()


def _clean_whole(s: Setting, value: Any) -> int:
    if (isinstance(value, bool) and not s.allow_bool) or not isinstance(value, int) or not s.within(value):
        raise ValidationError(s.message)
    return value


def _clean_number(s: Setting, value: Any) -> float | int:
    number = _finite(value)
    if number is None or not s.within(number):
        raise ValidationError(s.message)
    return int(number) if s.whole_if_integral and number.is_integer() else number


def _clean_choice(s: Setting, value: Any) -> Any:
    if value not in s.choices():
        raise ValidationError(s.message.format(value=value))
    return value


def _clean_structured(s: Setting, value: Any) -> Any:
    return s.check(value)


_CLEANERS: dict[str, Callable[[Setting, Any], Any]] = {
    "text": _clean_text,
    "flag": lambda _s, value: bool(value),
    "whole": _clean_whole,
    "number": _clean_number,
    "choice": _clean_choice,
    "structured": _clean_structured,
}


def _unit_confirmed(value: Any) -> dict:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("by", "at", *NAME_KEYS)):
        raise ValidationError("Xác nhận thông tin đơn vị không hợp lệ.")
    return value


def _targets(value: Any) -> dict:
    try:
        overall, floor = float(value["overall"]), float(value["floor"])
    except (KeyError, TypeError, ValueError):
        raise ValidationError("Chỉ tiêu phải có 'overall' và 'floor' là số.") from None
    if not (0 <= floor <= 100 and 0 <= overall <= 100):
        raise ValidationError("Chỉ tiêu phải nằm trong khoảng 0–100.")
    return {"overall": overall, "floor": floor}


def _bands(value: Any) -> list:
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


def _questions_per_survey(value: Any) -> dict:
    mode = value.get("mode") if isinstance(value, dict) else None
    rotating = value.get("rotating", 4) if isinstance(value, dict) else None
    if mode not in ("full", "short") or not isinstance(rotating, int) or not 1 <= rotating <= 30:
        raise ValidationError("Số câu hỏi mỗi phiếu: chế độ 'full' hoặc 'short' với 1–30 tiêu chí luân phiên.")
    return {"mode": mode, "rotating": rotating}


def _fields(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = [str(v).strip() for v in value]
    if not items or any(not v for v in items) or len(set(items)) != len(items):
        raise ValidationError("Danh sách lĩnh vực không được trống, không có dòng trống hay trùng nhau.")
    return items


def _kiosk_devices(value: Any) -> list[str]:
    if not isinstance(value, list) or any(not isinstance(v, str) or not v.strip() for v in value):
        raise ValidationError("Danh sách máy tính bảng phải là các tên không trống.")
    return sorted({v.strip()[:40] for v in value})


def _repeat_offence(value: Any) -> dict:
    try:
        count, months = int(value["count"]), int(value["months"])
    except (KeyError, TypeError, ValueError):
        raise ValidationError("Quy tắc tái phạm cần 'count' và 'months' là số nguyên.") from None
    if not 2 <= count <= 20 or not 1 <= months <= 60:
        raise ValidationError("Tái phạm: số vụ việc từ 2 đến 20, trong 1 đến 60 tháng.")
    return {"count": count, "months": months}


def _backup_dir(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 500 or "\0" in value:
        raise ValidationError("Thư mục sao lưu không hợp lệ (tối đa 500 ký tự).")
    return value.strip()


# ---- waiting time and staffing (sipas.staffing.waiting) ----------------------------------------------

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


def _service_minutes(value: Any) -> dict:
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


def _counters_open(value: Any) -> dict:
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


def _counter_names(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError("Danh sách quầy phải là các tên quầy.")
    names = [str(v).strip() for v in value]
    if not names or any(not n or len(n) > 40 for n in names) or len(set(names)) != len(names):
        raise ValidationError("Danh sách quầy không được trống, tên không trống (tối đa 40 ký tự), không trùng.")
    return names


# ---- end waiting time and staffing ------------------------------------------------------------


# ---- the dossier log (sipas.files.dossiers, sipas.index.dossiers) ------------------------------------------

DOSSIER_TARGETS = db.DOSSIER_FIELDS  # the dossier columns a mapping may name (one list: sipas.db.dossiers)


def _dossier_column_maps(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValidationError("Bảng đối chiếu cột phải là: nguồn → {tên cột trong tệp → cột của phần mềm}.")
    allowed = (*DOSSIER_TARGETS, "", "personal")
    out: dict[str, dict[str, str]] = {}
    problems = []
    for source, mapping in value.items():
        name = str(source).strip()
        if not name or len(name) > 100 or not isinstance(mapping, dict):
            problems.append(f'Nguồn "{source}": cần tên (tối đa 100 ký tự) và bảng đối chiếu cột.')
            continue
        clean = {}
        for header, target in mapping.items():
            if not str(header).strip() or target not in allowed:
                problems.append(
                    f'Nguồn "{name}", cột "{header}": phải đối chiếu sang một trong {", ".join(DOSSIER_TARGETS)}, '
                    '"personal" (dữ liệu cá nhân, bỏ đi) hoặc "" (bỏ qua).'
                )
            else:
                clean[str(header).strip()] = target
        out[name] = clean
    if problems:
        raise ValidationError(problems)
    return out


def _fractions(value: Any, keys: tuple[str, ...], label: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(f"{label}: cần các khóa {', '.join(keys)}.")
    out = {}
    for key in keys:
        number = _finite(value.get(key))
        if number is None or not 0 <= number <= 1:
            raise ValidationError(f"{label} {key}: phải là tỷ lệ từ 0 đến 1 (ví dụ 0.9).")
        out[key] = number
    return out


def _s766_weights(value: Any) -> dict:
    keys = ("pakn_on_time", "pakn_satisfied", "dossiers_satisfied")
    if not isinstance(value, dict):
        raise ValidationError(f"Trọng số nhóm QĐ 766: cần các khóa {', '.join(keys)}.")
    out: dict[str, Any] = {}
    for key in keys:
        number = _finite(value.get(key))
        if number is None or not 0 <= number <= 18:
            raise ValidationError(f"Trọng số nhóm QĐ 766, {key}: phải là số điểm từ 0 đến 18.")
        out[key] = number
    if sum(out[k] for k in keys) > 18 + 1e-9:
        raise ValidationError("Trọng số nhóm QĐ 766: tổng không quá 18 điểm.")
    out["verified"] = bool(value.get("verified", False))
    return out


def _online_procedures(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(not isinstance(v, str) or not v.strip() for v in value):
        raise ValidationError("Danh sách thủ tục trực tuyến phải là các tên thủ tục không trống.")
    return sorted({v.strip() for v in value})


# ---- end the dossier log ----------------------------------------------------------------------

QR_BASE_URL_MESSAGE = (
    "Địa chỉ cho điện thoại phải có dạng http://địa-chỉ[:cổng] hoặc https://tên-miền (không có đường dẫn, "
    "dấu ? hay #, tối đa 200 ký tự), ví dụ http://192.168.1.10:8501; để trống để tắt mã QR."
)


def _qr_base_url(value: Any) -> str:
    """The phones' address: "" (QR off) or scheme://host[:port], without path, query or fragment.

    >>> _qr_base_url(" https://KhaoSat.example.vn/ "), _qr_base_url("http://192.168.1.10:8501"), _qr_base_url("")
    ('https://khaosat.example.vn', 'http://192.168.1.10:8501', '')
    """
    from urllib.parse import urlsplit

    if not isinstance(value, str) or len(value.strip()) > 200:
        raise ValidationError(QR_BASE_URL_MESSAGE)
    text = value.strip()
    if not text:
        return ""
    if any(c.isspace() or ord(c) < 32 or c in "\\<>\"'`" for c in text):
        raise ValidationError(QR_BASE_URL_MESSAGE)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError(QR_BASE_URL_MESSAGE) from None
    host = parts.hostname or ""
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or not host.isascii()
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "?" in text
        or "#" in text
        or not all(label and (label.replace("-", "").isalnum() or ":" in host) for label in host.split("."))
    ):
        raise ValidationError(QR_BASE_URL_MESSAGE)
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{netloc.lower()}" + (f":{port}" if port is not None else "")


NAME_LABELS = {
    "unit_name": "Tên đơn vị",
    "office_name": "Tên nơi tiếp nhận hồ sơ (Bộ phận Một cửa / Trung tâm Phục vụ hành chính công)",
    "report_recipient": "Nơi nhận báo cáo",
}


def _structured(key: str, check: Callable[[Any], Any]) -> Setting:
    return Setting(key, "structured", check=check)


# Every setting of DEFAULTS, with how a new value is checked (validate).
SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        *(
            Setting(key, "text", f"{label} không được để trống (tối đa 300 ký tự).", required=True, max_length=300)
            for key, label in NAME_LABELS.items()
        ),
        _structured("unit_confirmed", _unit_confirmed),
        Setting(
            "form2024_offer",
            "choice",
            "Trả lời đề nghị đổi mẫu phiếu chỉ nhận 'switched' hoặc 'kept'.",
            choices=lambda: ("switched", "kept"),
        ),
        _structured("targets", _targets),
        _structured("bands", _bands),
        Setting("active_questionnaire", "choice", "Không có phiên bản phiếu '{value}'.", choices=questionnaires),
        _structured("questions_per_survey", _questions_per_survey),
        _structured("fields", _fields),
        _structured("opening_hours", lambda value: validate_opening_hours(value)),
        _structured("kiosk_devices", _kiosk_devices),
        Setting("kiosk_closed_outside_hours", "flag"),
        Setting("public_summary_on_kiosk", "flag"),
        Setting("kiosk_read_aloud", "flag"),
        Setting(
            "kiosk_min_seconds_per_answer",
            "number",
            "Số giây tối thiểu cho mỗi câu trả lời phải là số từ 0 đến 30 (0: không kiểm tra).",
            low=0,
            high=30,
        ),
        Setting(
            "kiosk_burst_max",
            "whole",
            "Số phiếu tối đa từ một máy trong khoảng thời gian phải là số nguyên từ 2 đến 1000.",
            low=2,
            high=1000,
        ),
        Setting(
            "kiosk_burst_minutes",
            "whole",
            "Khoảng thời gian xét gửi dồn dập phải là số phút nguyên từ 1 đến 120.",
            low=1,
            high=120,
        ),
        _structured("repeat_offence", _repeat_offence),
        # A bool is an int to Python: True has always been taken as 1 here (not for backup_keep).
        Setting("staff_min_n", "whole", "Số phiếu tối thiểu phải là số nguyên ≥ 1.", low=1, allow_bool=True),
        _structured("backup_dir", _backup_dir),
        Setting(
            # At least a week of daily copies: a bad day found on Monday still has Friday's copy.
            "backup_keep",
            "whole",
            "Số bản sao lưu tự động cần giữ phải là số nguyên từ 7 đến 3650.",
            low=7,
            high=3650,
        ),
        Setting(
            "wait_target_minutes",
            "number",
            "Thời gian chờ mục tiêu phải là số phút lớn hơn 0, tối đa 240.",
            low=0,
            low_open=True,
            high=240,
            whole_if_integral=True,
        ),
        Setting(
            "service_level_target",
            "number",
            "Tỷ lệ người dân được phục vụ trong thời gian chờ mục tiêu phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0.8).",
            low=0,
            low_open=True,
            high=1,
            high_open=True,
        ),
        _structured("service_minutes", _service_minutes),
        _structured("counters_open", _counters_open),
        _structured("counter_names", _counter_names),
        _structured("dossier_column_maps", _dossier_column_maps),
        _structured(
            "digital_targets",
            lambda v: _fractions(v, ("online_procedures", "paid_online", "postal"), "Chỉ tiêu chuyển đổi số"),
        ),
        _structured("online_procedures", _online_procedures),
        _structured("s766_weights", _s766_weights),
        _structured("qr_base_url", _qr_base_url),
    )
}


def _iso(day: date | str | None) -> str:
    day = day or clock.today()
    return day if isinstance(day, str) else day.isoformat()


def default_for(key: str, on_date: date | str | None = None) -> Any:
    """The shipped value of ``key`` on ``on_date`` (default today).

    >>> default_for("report_recipient", "2025-06-30"), default_for("report_recipient", "2026-11-30")
    ('UBND huyện Vạn Ninh (qua Phòng Nội vụ)', 'UBND tỉnh Khánh Hòa (qua Sở Nội vụ)')
    """
    day = _iso(on_date)
    entries = DATED_DEFAULTS.get(key)
    if not entries:
        return DEFAULTS[key]
    return [value for start, value in entries if start <= day][-1]


def shipped_period_start(key: str, on_date: date | str | None = None) -> str:
    """The first day of the shipped value's period that ``on_date`` falls in (EARLIEST if never dated)."""
    day = _iso(on_date)
    return [start for start, _ in DATED_DEFAULTS.get(key, [(EARLIEST, None)]) if start <= day][-1]


def ended_on(key: str, value: Any) -> str | None:
    """The last day a shipped name was valid, if a later shipped value replaced it (else None).

    >>> ended_on("report_recipient", "UBND huyện Vạn Ninh (qua Phòng Nội vụ)")
    '2025-06-30'
    """
    entries = DATED_DEFAULTS.get(key, [])
    for (_, old), (start, _) in zip(entries, entries[1:], strict=False):
        if old == value:
            return (date.fromisoformat(start) - timedelta(days=1)).isoformat()
    return None


def get(conn: sqlite3.Connection, key: str, on_date: date | str | None = None) -> Any:
    """The value of ``key`` in force on ``on_date`` (default today): the database row in force then,
    else the shipped value of that date (``DATED_DEFAULTS``, ``DEFAULTS``)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    day = _iso(on_date)
    raw = db.get_setting_value(conn, key, day)
    if raw is None:
        value = default_for(key, day)
    else:
        value = json.loads(raw)
        end = ended_on(key, value) if key in NAME_KEYS else None
        if end is not None and end < day:
            value = default_for(key, day)  # a shipped name after its body stopped existing
    if key == "fields" and value is None:
        return list(survey_options()["fields"])
    return value


@dataclass(frozen=True)
class InForce:
    """A dated setting over a period: the value in force on its last day, the day it took effect (None:
    the shipped value, never changed; EARLIEST: stored for every date) and, when it changed inside the
    period, the value before."""

    value: Any
    since: str | None
    before: Any = None


def in_force(conn: sqlite3.Connection, key: str, date_from: date | str, date_to: date | str) -> InForce:
    """The value of ``key`` a report of [date_from, date_to] states, with the day it applies from."""
    start, end = _iso(date_from), _iso(date_to)
    rows = [r["valid_from"] for r in db.get_setting_rows(conn, key) if r["valid_from"] <= end]
    since = rows[-1] if rows else None
    value = get(conn, key, end)
    before = None
    if since is not None and since > start:
        earlier = get(conn, key, (date.fromisoformat(since) - timedelta(days=1)).isoformat())
        before = earlier if earlier != value else None
    return InForce(value, since, before)


def dated_values(conn: sqlite3.Connection, key: str) -> list:
    """Every value ``key`` has had or may take on some date: the stored ones and the shipped ones, once each."""
    values = [json.loads(r["value"]) for r in db.get_setting_rows(conn, key)]
    values += [value for _, value in DATED_DEFAULTS.get(key, [])] or [DEFAULTS[key]]
    return list(dict.fromkeys(values))


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


def recipient_for(conn: sqlite3.Connection, date_from: date | str, date_to: date | str) -> str:
    """Who a report of [date_from, date_to] is addressed to: the recipient in force on the last day,
    never one whose validity ended before the period began."""
    value = get(conn, "report_recipient", date_to)
    end = ended_on("report_recipient", value)
    if end is not None and end < _iso(date_from):
        return default_for("report_recipient", date_to)
    return value


def put(
    conn: sqlite3.Connection,
    key: str,
    value: Any,
    actor: str | None,
    valid_from: date | str | None = None,
    today: date | None = None,
) -> Any:
    """Validate and store a setting (from ``valid_from``, default: always — for a plan figure of
    :data:`PLAN_KEYS` the first day of the current month, and never before it), logging old → new."""
    clean, vf = _checked(key, value, valid_from, today)
    with db.transaction(conn):
        _write(conn, key, clean, vf, actor)
    return clean


def earliest_plan_date(today: date | None = None) -> date:
    """The first day a change of a plan figure (:data:`PLAN_KEYS`) may apply from: this month's first."""
    return clock.month_start(today or clock.today())


def _checked(key: str, value: Any, valid_from: date | str | None, today: date | None = None) -> tuple[Any, str]:
    clean = validate(key, value)
    problem = text_problem(clean, "Giá trị")
    if problem:
        raise ValidationError(problem)
    if key in PLAN_KEYS:
        first = earliest_plan_date(today).isoformat()
        vf = _iso(valid_from) if valid_from else first
        if vf < first:
            raise ValidationError(
                f"{PLAN_KEYS[key]} không áp dụng được từ {clock.format_date(vf)}: tháng đã qua giữ chỉ tiêu đã "
                f"dùng khi đánh giá. Hãy chọn ngày hiệu lực từ {clock.format_date(first)} trở đi."
            )
        return clean, vf
    vf = valid_from or EARLIEST
    vf = vf if isinstance(vf, str) else vf.isoformat()
    end = ended_on(key, clean) if key in NAME_KEYS else None
    if end is not None and vf > end:
        raise ValidationError(
            f"{NAME_LABELS[key]} “{clean}” chỉ dùng đến {clock.format_date(end)}; "
            f"không đặt được từ {clock.format_date(vf)}."
        )
    return clean, vf


def _write(conn: sqlite3.Connection, key: str, clean: Any, vf: str, actor: str | None) -> None:
    # The audit log shows the value in force before the change, the default included.
    before = json.dumps(default_for(key, vf), ensure_ascii=False)
    db.put_setting_value(conn, key, json.dumps(clean, ensure_ascii=False), vf, actor, old_json=before)


# ---- the unit's names, confirmed at the first staff login ---------------------------------------


def unit_confirmed(conn: sqlite3.Connection) -> bool:
    """Whether staff have confirmed the unit's name, office name and recipient (confirm_unit)."""
    return get(conn, "unit_confirmed") is not None


def current_period_start(conn: sqlite3.Connection, key: str, on_date: date | str | None = None) -> str:
    """The first day of the period of the value in force on ``on_date``: the later of the stored
    row's valid_from and the start of the shipped value's period."""
    day = _iso(on_date)
    rows = [r["valid_from"] for r in db.get_setting_rows(conn, key) if r["valid_from"] <= day]
    return max([shipped_period_start(key, day), *rows])


def confirm_unit(
    conn: sqlite3.Connection,
    values: dict[str, str],
    actor: str,
    valid_from: date | str | None = None,
    today: date | None = None,
) -> dict[str, str]:
    """Staff confirm (or correct) the unit's name, office name and recipient in force today.

    Each is stored from ``valid_from`` (default: the first day of the period in force today, so
    1/7/2025 for the shipped names: months before keep the former names), and the confirmation
    itself (who, when, what) is stored and audited, all in one transaction. Every problem is reported
    at once; nothing is stored then.
    """
    today = today or clock.today()
    problems, clean = [], {}
    for key in UNIT_KEYS:
        start = valid_from or current_period_start(conn, key, today)
        try:
            clean[key] = _checked(key, values.get(key, ""), start)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    record = {"by": actor, "at": clock.now_ts(), **{k: v for k, (v, _) in clean.items()}}
    with db.transaction(conn):
        for key, (value, start) in clean.items():
            _write(conn, key, value, start, actor)
        _write(conn, "unit_confirmed", record, EARLIEST, actor)
    return {k: v for k, (v, _) in clean.items()}


def form2024_offer_pending(conn: sqlite3.Connection, today: date | None = None) -> bool:
    """Whether to offer the national form of SIPAS 2024: the active version today is another one and
    nobody has answered the offer yet (it is shown once)."""
    return get(conn, "active_questionnaire", today) != DEFAULT_VERSION and get(conn, "form2024_offer") is None


def answer_form2024_offer(conn: sqlite3.Connection, switch: bool, actor: str, today: date | None = None) -> None:
    """Record the answer to the offer; switching makes sipas-2024 the active version from ``today``
    (months before keep the version they were surveyed with)."""
    today = today or clock.today()
    with db.transaction(conn):
        if switch:
            _write(conn, "active_questionnaire", DEFAULT_VERSION, today.isoformat(), actor)
        _write(conn, "form2024_offer", "switched" if switch else "kept", EARLIEST, actor)


WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def hours_text(hours: dict) -> str:
    """The opening hours as the closed tablet screen says them.

    >>> hours_text({"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]})
    'Giờ làm việc: Thứ Hai đến Thứ Sáu, 07:00–11:30 và 13:30–17:00.'
    >>> hours_text({"days": [0, 2, 5], "periods": [["07:30", "11:00"]]})
    'Giờ làm việc: Thứ Hai, Thứ Tư, Thứ Bảy, 07:30–11:00.'
    """
    days = sorted(set(hours.get("days") or []))
    if not days or not hours.get("periods"):
        return ""
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        when = f"{WEEKDAYS[days[0]]} đến {WEEKDAYS[days[-1]]}"
    else:
        when = ", ".join(WEEKDAYS[d] for d in days)
    periods = " và ".join(f"{a}–{b}" for a, b in hours["periods"])
    return f"Giờ làm việc: {when}, {periods}."


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
