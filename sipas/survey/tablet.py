"""The counter tablet's server side: the plan of the next survey, and what the tablet sends back.

The survey runs in the tablet's browser (``components/survey``). The server hands it the plan of
the next survey (the criteria chosen by the rotation, every screen's text) and receives one
message, ``sync``: the surveys started (tokens only, no answers) and the surveys completed (whole,
with their token). Completed surveys are stored through :func:`sipas.survey.responses.submit_kiosk_survey`
(unique token, so a survey sent twice is stored once); the tokens handled are returned so the
tablet can drop them from its queue. No Streamlit here.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sipas import db
from sipas.catalog import Questionnaire, survey_questions
from sipas.errors import ValidationError
from sipas.survey.responses import KioskSurvey, submit_kiosk_survey

log = logging.getLogger("sipas.survey.tablet")

DEFAULT_PROMISE_SECONDS = 60  # before there is data: a short survey of ~10 screens
PROMISE_DAYS = 30
MAX_EXPECTATION_ITEMS = 50  # items of a rating-mode expectations question (sipas-2024 has 10)
MAX_SYNC_SURVEYS = 200  # one message never carries more (a tablet offline for days sends in turns)
MAX_AGE = timedelta(days=30)

TEXTS = {
    "welcome_title": "Ông/Bà hài lòng với sự phục vụ hôm nay chứ?",
    "welcome_lead": "mong nhận ý kiến của Ông/Bà để phục vụ tốt hơn.",
    "start": "Bắt đầu đánh giá",
    "anonymous": "Phiếu khảo sát ẩn danh: không hỏi họ tên, số điện thoại hay giấy tờ tùy thân.",
    "summary_title": "Người dân nói — chúng tôi đã làm",
    "login": "Cán bộ đăng nhập",
    "closed_title": "Đã hết giờ làm việc",
    "closed_lead": "hiện không tiếp nhận hồ sơ. Xin mời Ông/Bà quay lại trong giờ làm việc. Xin cảm ơn!",
    "paused_title": "Hệ thống khảo sát đang tạm dừng",
    "paused_lead": (
        "Xin Ông/Bà vui lòng báo cán bộ tại quầy. Phiếu đã làm được giữ trên máy này và sẽ được gửi khi "
        "hệ thống hoạt động lại. Xin cảm ơn!"
    ),
    "retry": "Thử lại",
    "thanks_title": "Cảm ơn Ông/Bà!",
    "thanks_lead": "Ý kiến của Ông/Bà đã được ghi nhận. Chúc Ông/Bà một ngày tốt lành.",
    "home": "Về trang đầu",
    "cancel": "✕ Hủy",
    "back": "◀ Quay lại",
    "next": "Tiếp tục ▶",
    "submit": "Gửi đánh giá ✔",
    # sipas-2024, Câu 10, asked one item a screen (the paper form asks it as a table).
    "expectations_heading": "Mong muốn cải thiện",
    "expectations_topic": "Ông/Bà mong muốn chính quyền địa phương cải thiện nội dung sau ở mức nào?",
}


def promise_text(seconds: float | None) -> str:
    """The welcome screen's honest promise, from the median duration.

    >>> promise_text(38), promise_text(None), promise_text(95), promise_text(200)
    ('Chỉ mất khoảng 40 giây.', 'Chỉ mất khoảng 1 phút.', 'Chỉ mất khoảng 2 phút.', 'Chỉ mất khoảng 3 phút.')
    """
    s = DEFAULT_PROMISE_SECONDS if seconds is None else seconds
    if s < 55:
        return f"Chỉ mất khoảng {max(10, int(math.ceil(s / 10.0) * 10))} giây."
    minutes = max(1, round(s / 60))
    return f"Chỉ mất khoảng {minutes} phút."


def median_duration(conn: sqlite3.Connection, now: datetime) -> float | None:
    since = (now - timedelta(days=PROMISE_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    values = db.kiosk_durations(conn, since)
    return statistics.median(values) if len(values) >= 5 else None


def build_plan(
    q: Questionnaire,
    codes: list[str],
    opts: Mapping,
    fields: list[str],
    staff: list[dict],
    mode: str,
    office: str | None = None,
) -> dict:
    """Every screen of one survey: the chosen criteria one by one, then the other questions.

    Statements name the unit's ``office`` where the questionnaire says {office}; the harassment,
    informal-payment, expectation and demographic questions are the version's own wording
    (:func:`sipas.catalog.survey_questions`), else those of ``data/survey-options.json``.
    """
    own = survey_questions(q.code)
    screens: list[dict] = []
    for element in q.elements:
        for crit in element.criteria:
            if crit.code in codes:
                screens.append(
                    {
                        "kind": "scale",
                        "id": crit.code,
                        "heading": element.name,
                        "topic": crit.topic,
                        "text": crit.text_for(office),
                    }
                )
    screens.append({"kind": "scale", "id": "overall", "heading": "Đánh giá chung", "text": opts["overall_question"]})
    for attr in ("harassment", "informal_payment"):
        spec = own[attr]
        screens.append(
            {
                "kind": "choice",
                "id": attr,
                "text": spec["question"],
                "options": [{"value": o["value"], "label": o["label"]} for o in spec["options"]],
                "skip": "Bỏ qua",
            }
        )
    wait = opts["wait"]
    screens.append(
        {
            "kind": "choice",
            "id": "wait_bucket",
            "text": wait["question"],
            "options": [{"value": b["code"], "label": b["label"]} for b in wait["buckets"]],
            "skip": "Bỏ qua",
        }
    )
    screens.append(
        {
            "kind": "choice",
            "id": "field",
            "text": opts["field_question"],
            "options": [{"value": f, "label": f} for f in fields],
            "skip": "Bỏ qua",
        }
    )
    if staff:
        options = [{"value": m["code"], "label": m["full_name"], "photo": m.get("photo")} for m in staff]
        options.append({"value": None, "label": opts["staff_unknown"]})
        screens.append({"kind": "choice", "id": "staff_code", "text": opts["staff_question"], "options": options})
    if mode == "full":
        exp = own["expectations"]
        if exp["mode"] == "rating":  # sipas-2024, Câu 10: every item on the 4-level scale of wishes
            items = exp["items"]
            for i, item in enumerate(items, start=1):  # one item a screen: big buttons, one tap each
                screens.append(
                    {
                        "kind": "choice",
                        "id": "expectations",
                        "item": item["code"],
                        "heading": f"{TEXTS['expectations_heading']} ({i}/{len(items)})",
                        "topic": TEXTS["expectations_topic"],
                        "text": item["text"],
                        "options": [{"value": s["value"], "label": s["label"]} for s in exp["scale"]],
                        "skip": "Bỏ qua",
                    }
                )
        else:  # older versions: up to three of the options
            screens.append(
                {
                    "kind": "multi",
                    "id": "expectations",
                    "text": exp["question"],
                    "options": _plain(exp["options"]),
                    "max": exp.get("max", 3),
                }
            )
        for attr, spec in own["demographics"].items():  # the version's own (2024: five, in its order)
            screens.append(
                {
                    "kind": "choice",
                    "id": attr,
                    "heading": "Thông tin thêm về Ông/Bà (không bắt buộc)",
                    "text": spec["question"],
                    "options": _plain(spec["options"]),
                    "skip": "Bỏ qua",
                }
            )
    screens.append(
        {
            "kind": "comment",
            "id": "comment",
            "text": opts["comment_question"],
            "placeholder": "Nhập góp ý (không bắt buộc)",
            "max": 2000,
        }
    )
    return {"questionnaire": q.code, "asked": list(codes), "screens": screens}


def _plain(options: list[str]) -> list[dict]:
    return [{"value": o, "label": o} for o in options]


# ---------------------------------------------------------------------------------------------
# What the tablet sends
# ---------------------------------------------------------------------------------------------

_TEXT_FIELDS = (
    "wait_bucket", "field", "staff_code", "comment", "gender", "age_group", "education", "ethnicity", "occupation"
)  # fmt: skip
_INT_FIELDS = ("overall", "harassment", "informal_payment")


def survey_from_payload(p: Mapping) -> KioskSurvey:
    """A completed survey as the tablet sent it; ValidationError when its shape is wrong."""
    if not isinstance(p, Mapping):
        raise ValidationError("Phiếu không đúng dạng.")
    token, version, asked, answers = p.get("token"), p.get("questionnaire"), p.get("asked"), p.get("answers")
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        raise ValidationError("Phiếu không có mã hợp lệ.")
    if not isinstance(version, str) or not isinstance(asked, list) or not all(isinstance(c, str) for c in asked):
        raise ValidationError("Phiếu không ghi phiên bản hoặc danh sách tiêu chí.")
    if not isinstance(answers, Mapping):
        raise ValidationError("Phiếu không có câu trả lời.")

    def level(v):
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValidationError("Câu trả lời không hợp lệ.")
        return v

    survey = KioskSurvey(
        token=token,
        questionnaire=version,
        asked=list(asked),
        answers={str(k): level(v) for k, v in answers.items()},
    )
    for attr in _INT_FIELDS:
        setattr(survey, attr, level(p.get(attr)))
    for attr in _TEXT_FIELDS:
        v = p.get(attr)
        if v is not None and not isinstance(v, str):
            raise ValidationError(f"Câu trả lời không hợp lệ cho {attr}.")
        setattr(survey, attr, v or None)
    # Up to three options chosen (older versions), or item code -> level (sipas-2024, Câu 10).
    exp = p.get("expectations")
    if exp is not None and not (
        (isinstance(exp, list) and len(exp) <= 3) or (isinstance(exp, Mapping) and len(exp) <= MAX_EXPECTATION_ITEMS)
    ):
        raise ValidationError("Câu trả lời không hợp lệ cho mong muốn.")
    if isinstance(exp, Mapping):
        exp = {str(k): level(v) for k, v in exp.items() if v is not None}
    survey.expectations = exp or None
    return survey


def _ago(value, now: datetime) -> datetime:
    """A moment the tablet gives as "so many ms ago" (its own clock may be wrong; ours is not)."""
    try:
        ms = float(value)
    except (TypeError, ValueError):
        ms = 0.0
    if not math.isfinite(ms) or ms < 0:
        ms = 0.0
    return now - min(timedelta(milliseconds=ms), MAX_AGE)


@dataclass
class SyncResult:
    acks: list[str] = field(default_factory=list)  # "s:<token>" start counted, "r:<token>" survey handled
    stored: int = 0
    rejected: int = 0


def handle_sync(
    conn: sqlite3.Connection,
    msg: Mapping,
    *,
    now: datetime,
    device: str | None,
    out_of_hours: Callable[[datetime], bool],
) -> SyncResult:
    """Count the starts and store the completed surveys of one message from a tablet.

    A database fault (full disk, read-only, locked) is raised: nothing is acknowledged, so the
    tablet keeps every survey and sends it again. A survey that can never be stored (its shape is
    wrong) is acknowledged as handled and logged, so it does not block the queue for ever.
    """
    result = SyncResult()
    starts = msg.get("starts") if isinstance(msg, Mapping) else None
    surveys = msg.get("surveys") if isinstance(msg, Mapping) else None
    rows = []
    for s in starts if isinstance(starts, list) else []:
        token = s.get("token") if isinstance(s, Mapping) else None
        if isinstance(token, str) and 8 <= len(token) <= 64:
            rows.append((token, _ago(s.get("ago_ms"), now), device))
    for p in (surveys if isinstance(surveys, list) else [])[:MAX_SYNC_SURVEYS]:
        token = p.get("token") if isinstance(p, Mapping) else None
        if not isinstance(token, str) or not 8 <= len(token) <= 64:
            result.rejected += 1
            continue
        submitted = _ago(p.get("completed_ago_ms"), now)
        try:
            duration = float(p.get("duration_seconds"))
        except (TypeError, ValueError):
            duration = float("nan")
        if not math.isfinite(duration) or not 0 < duration < 86400:
            duration = None
        # The completed survey was started: count its start too (the start message may have been lost).
        rows.append((token, submitted - timedelta(seconds=duration or 0), device))
        try:
            survey = survey_from_payload(p)
            survey.started_at = submitted - timedelta(seconds=duration) if duration else None
            try:
                stored = _submit(conn, survey, submitted, device, out_of_hours(submitted))
            except ValidationError as exc:
                if survey.staff_code is None or not any("cán bộ mã" in x for x in exc.problems):
                    raise
                survey.staff_code = None  # removed from the roster meanwhile: keep the answers
                stored = _submit(conn, survey, submitted, device, out_of_hours(submitted))
            result.stored += int(stored)
        except ValidationError as exc:
            log.warning("kiosk survey %s refused: %s", token, "; ".join(exc.problems))
            result.rejected += 1
        result.acks.append("r:" + token)
    db.record_starts(conn, rows)
    result.acks.extend("s:" + t for t, _, _ in rows)
    return result


def _submit(conn, survey: KioskSurvey, submitted: datetime, device, out_of_hours: bool) -> bool:
    return submit_kiosk_survey(conn, survey, now=submitted, device=device, out_of_hours=out_of_hours)
