"""The counter tablet's server side: the plan of the next survey, and what the tablet sends back.

The survey runs in the tablet's browser (``components/survey``). The server hands it the plan of
the next survey (the criteria chosen by the rotation, every screen's text) and receives one
message, ``sync``: the surveys started (tokens only, no answers) and the surveys completed (whole,
with their token). Completed surveys are stored through :func:`sipas.survey.responses.submit_kiosk_survey`
(unique token, so a survey sent twice is stored once); the tokens handled are returned so the
tablet can drop them from its queue. No Streamlit here.
"""

from __future__ import annotations

import base64
import logging
import math
import random
import sqlite3
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sipas import db
from sipas.admin import settings
from sipas.catalog import Questionnaire, questionnaire, questionnaires, survey_options
from sipas.catalog.questions import ExtraQuestion
from sipas.errors import ValidationError
from sipas.survey import devices, qr_codes
from sipas.survey.responses import KIOSK_PREFIX, KioskSurvey, choose_criteria, submit_kiosk_survey

log = logging.getLogger("sipas.survey.tablet")

PROMISE_DAYS = 30
# The welcome promise comes from at least PROMISE_MIN_SURVEYS citizens' surveys of the mode in use; before
# that, from the plan's screens at PROMISE_SECONDS_PER_SCREEN. Either way it stays between
# PROMISE_BOUNDS seconds per screen: what a person can take over this many screens (never "khoảng 50 phút"
# for ten screens, never "10 giây" for forty).
PROMISE_MIN_SURVEYS = 20
PROMISE_SECONDS_PER_SCREEN = 6.0
PROMISE_BOUNDS = (3.0, 20.0)
MAX_EXTRA_ANSWERS = 100  # extra questions answered in one survey (sipas-2024 asks 8)
MAX_SYNC_SURVEYS = 200  # one message never carries more (a tablet offline for days sends in turns)
MAX_SYNC_STARTS = 400
MAX_AGE = timedelta(days=30)
# Misuse (a survey is stored but left out of every figure until a clerk restores it):
MIN_SECONDS_PER_ANSWER = 1.0  # nobody reads a statement and chooses a face faster
BURST_WINDOW = timedelta(minutes=5)
BURST_MAX = 10  # more surveys than this from one tablet in 5 minutes: more than a counter serves
# Surveys a tablet held in its queue before it was enrolled (the release before enrolment, or before a
# re-enrolment) carry no server-issued token. The enrolled tablet sends them once, marked "legacy"; they
# are stored under their own namespace (LEGACY_PREFIX) if completed before the tablet's enrolment,
# within LEGACY_DAYS of it, and at most LEGACY_MAX per tablet. Anything else is refused and counted.
LEGACY_PREFIX = KIOSK_PREFIX + "legacy:"
LEGACY_DAYS = 14
LEGACY_MAX = 300

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
    "unenrolled_title": "Máy tính bảng này chưa được đăng ký khảo sát",
    "unenrolled_lead": (
        "Xin Ông/Bà vui lòng báo cán bộ tại quầy. Cán bộ đăng ký máy một lần bằng liên kết đăng ký "
        "(Cài đặt hoặc lệnh python -m sipas tablet add)."
    ),
    "enrol_failed": (
        "Liên kết đăng ký không đúng, đã được dùng hoặc đã hết hạn. Xin cán bộ tạo liên kết mới "
        "(python -m sipas tablet add)."
    ),
    "thanks_title": "Cảm ơn Ông/Bà!",
    "thanks_lead": "Ý kiến của Ông/Bà đã được ghi nhận. Chúc Ông/Bà một ngày tốt lành.",
    "home": "Về trang đầu",
    "cancel": "✕ Hủy",
    "back": "◀ Quay lại",
    "next": "Tiếp tục ▶",
    "submit": "Gửi đánh giá ✔",
    "preview": "Xem thử — không lưu",
    # Rating on one's own phone (SyncResult.qr): the welcome and thank-you screens' offer.
    "qr_title": "Đánh giá trên điện thoại của Ông/Bà",
    "qr_lead": "Quét mã bằng máy ảnh điện thoại. Mã dùng một lần, phiếu ẩn danh.",
    # A citizen's own phone (/q/<code>):
    "phone_done": "Ý kiến của Ông/Bà đã được ghi nhận. Ông/Bà có thể đóng trang này.",
    "phone_stop_title": "Không dùng được mã đánh giá này",
    "phone_sending": "Đang gửi phiếu của Ông/Bà…",
    "phone_offline": (
        "Chưa gửi được phiếu vì mất kết nối. Phiếu vẫn được giữ trên điện thoại này; xin Ông/Bà bấm "
        "“Thử lại” khi có mạng."
    ),
}


def promise_text(seconds: float) -> str:
    """The welcome screen's honest promise of a duration in seconds.

    >>> promise_text(38), promise_text(60), promise_text(95), promise_text(200)
    ('Chỉ mất khoảng 40 giây.', 'Chỉ mất khoảng 1 phút.', 'Chỉ mất khoảng 2 phút.', 'Chỉ mất khoảng 3 phút.')
    """
    if seconds < 55:
        return f"Chỉ mất khoảng {max(10, int(math.ceil(seconds / 10.0) * 10))} giây."
    minutes = max(1, round(seconds / 60))
    return f"Chỉ mất khoảng {minutes} phút."


def median_duration(conn: sqlite3.Connection, now: datetime, questionnaire: str, asked: int) -> float | None:
    """The median duration of the last 30 days' citizens' kiosk surveys of one mode (version
    ``questionnaire`` asking ``asked`` criteria; see :func:`sipas.db.kiosk_durations`), or None below
    PROMISE_MIN_SURVEYS of them."""
    since = (now - timedelta(days=PROMISE_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    values = db.kiosk_durations(conn, since, questionnaire, asked)
    return statistics.median(values) if len(values) >= PROMISE_MIN_SURVEYS else None


def promise_seconds(median: float | None, screens: int) -> float:
    """The duration the welcome screen promises for a plan of ``screens`` screens: the citizens' median
    of this mode, else the mode's default, bounded to what so many screens can take.

    >>> promise_seconds(None, 10), promise_seconds(38, 10), promise_seconds(3000, 10), promise_seconds(10, 40)
    (60.0, 38, 200.0, 120.0)
    """
    low, high = (bound * max(1, screens) for bound in PROMISE_BOUNDS)
    seconds = PROMISE_SECONDS_PER_SCREEN * max(1, screens) if median is None else median
    return min(high, max(low, seconds))


def build_plan(
    q: Questionnaire,
    codes: list[str],
    opts: Mapping,
    fields: list[str],
    staff: list[dict],
    mode: str,
    office: str | None = None,
) -> dict:
    """Every screen of one survey: the chosen criteria one by one, the overall question, the version's
    extra questions of this ``mode`` placed "after overall", wait, lĩnh vực and staff, then the other
    extra questions and the comment.

    Statements name the unit's ``office`` where the questionnaire says {office}. The extra questions
    are the version's own (``extra_questions`` of its file, :mod:`sipas.catalog.questions`); the plan's
    ``extra`` lists their codes, and the tablet sends their answers back as ``extra``: code -> answer.
    """
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
    asked = [x for x in q.extra if mode in x.modes]
    for x in asked:
        if x.after == "overall":
            screens += extra_screens(x)
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
    for x in asked:
        if x.after == "staff":
            screens += extra_screens(x)
    screens.append(
        {
            "kind": "comment",
            "id": "comment",
            "text": opts["comment_question"],
            "placeholder": "Nhập góp ý (không bắt buộc)",
            "max": 2000,
        }
    )
    return {"questionnaire": q.code, "asked": list(codes), "extra": [x.code for x in asked], "screens": screens}


def extra_screens(x: ExtraQuestion) -> list[dict]:
    """The tablet's screens for one extra question: one screen, or one per item of a grid.

    >>> from sipas.catalog import questionnaire
    >>> grid = extra_screens(questionnaire("sipas-2024").extra_question("expectations"))
    >>> len(grid), grid[0]["id"], grid[0]["item"], grid[0]["heading"]
    (10, 'expectations', 'MM1', 'Mong muốn cải thiện (1/10)')
    """
    skip = {"skip": "Bỏ qua"} if x.optional else {}
    base = {"id": x.code} | ({"heading": x.heading} if x.heading else {}) | ({"topic": x.topic} if x.topic else {})
    options = [{"value": o.value, "label": o.label} for o in x.options]
    if x.kind == "single":
        return [base | {"kind": "choice", "text": x.text, "options": options} | skip]
    if x.kind == "multiple":
        return [base | {"kind": "multi", "text": x.text, "options": options, "max": x.max_choices}]
    if x.kind == "text":
        return [base | {"kind": "text", "text": x.text, "placeholder": "Nhập câu trả lời (không bắt buộc)"}
                | {"max": x.max_length}]  # fmt: skip
    scale = [{"value": o.value, "label": o.label} for o in x.scale]
    n = len(x.items)
    return [
        base
        | {"kind": "choice", "item": item.code, "text": item.text, "options": scale}
        | ({"heading": f"{x.heading} ({i}/{n})"} if x.heading else {})
        | skip
        for i, item in enumerate(x.items, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# What the tablet sends
# ---------------------------------------------------------------------------------------------

_TEXT_FIELDS = ("wait_bucket", "field", "staff_code", "comment")
# What tablets sent before the plan carried ``extra`` (a survey may wait in a tablet's queue for days).
_LEGACY_EXTRA = (
    "harassment", "informal_payment", "expectations", "gender", "age_group", "education", "ethnicity", "occupation"
)  # fmt: skip


def _legacy_extra(p: Mapping) -> dict:
    """The extra answers of a survey queued by a tablet of the previous release (top-level keys); a
    "choose three" list for a version that now asks a grid is left out, not the survey."""
    extra = {k: p[k] for k in _LEGACY_EXTRA if p.get(k) not in (None, "", [], {})}
    q = questionnaires().get(p.get("questionnaire"))
    exp = extra.get("expectations")
    if isinstance(exp, list) and q is not None and "expectations" in q.extra_by_code:
        if q.extra_question("expectations").kind == "grid":
            extra.pop("expectations")
    return extra


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
        overall=level(p.get("overall")),
    )
    for attr in _TEXT_FIELDS:
        v = p.get(attr)
        if v is not None and not isinstance(v, str):
            raise ValidationError(f"Câu trả lời không hợp lệ cho {attr}.")
        setattr(survey, attr, v or None)
    extra = p.get("extra") if "extra" in p else _legacy_extra(p)
    if extra is None:
        extra = {}
    if not isinstance(extra, Mapping) or len(extra) > MAX_EXTRA_ANSWERS:
        raise ValidationError("Câu trả lời thêm không đúng dạng.")
    # Empty answers are no answers; the values themselves are checked against the version's questions.
    # A grid's items skipped after a level are not answered either.
    cleaned = {
        str(k): ({i: x for i, x in v.items() if x is not None} if isinstance(v, Mapping) else v)
        for k, v in extra.items()
    }
    survey.extra = {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
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


@dataclass(frozen=True)
class Misuse:
    """The misuse thresholds in force (settings kiosk_min_seconds_per_answer, kiosk_burst_max,
    kiosk_burst_minutes)."""

    min_seconds_per_answer: float = MIN_SECONDS_PER_ANSWER
    burst_max: int = BURST_MAX
    burst_window: timedelta = BURST_WINDOW

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection, min_seconds_per_answer: float | None = None) -> Misuse:
        """The thresholds of the settings; ``min_seconds_per_answer`` overrides that one (tests)."""
        return cls(
            settings.get(conn, "kiosk_min_seconds_per_answer")
            if min_seconds_per_answer is None
            else min_seconds_per_answer,
            settings.get(conn, "kiosk_burst_max"),
            timedelta(minutes=settings.get(conn, "kiosk_burst_minutes")),
        )


@dataclass
class SyncResult:
    acks: list[str] = field(default_factory=list)  # "s:<token>" start counted, "r:<token>" survey handled
    stored: int = 0
    rejected: int = 0
    suspect: int = 0
    refused: str | None = None  # the whole message was refused (a key of devices.REFUSALS)
    tokens: list[str] = field(default_factory=list)  # the tablet's unused start tokens, when it asked
    # When the message asked (``want_qr``): the single-use code its screens offer for rating on one's own
    # phone, {"code", "url", "svg", "expires_at"} (sipas.survey.qr_codes.for_tablet); None when no
    # phone address is set (QR off) or it did not ask.
    qr: dict | None = None


def too_fast_reason(survey: KioskSurvey, duration: float | None, min_seconds_per_answer: float) -> str | None:
    """Why a survey was completed faster than a person can read its questions, or None (the tablet's
    and the phone's first misuse check)."""
    answered = survey.answered_count() + len(survey.extra)
    if duration is not None and duration < min_seconds_per_answer * max(1, answered):
        return (
            f"Nghi vấn lạm dụng: hoàn thành {answered} câu trong {duration:.1f} giây, "
            "nhanh hơn thời gian một người đọc câu hỏi"
        )
    return None


def suspect_reason(
    conn: sqlite3.Connection,
    survey: KioskSurvey,
    duration: float | None,
    device: str | None,
    submitted: datetime,
    min_seconds_per_answer: float = MIN_SECONDS_PER_ANSWER,
    burst: tuple[int, timedelta] = (BURST_MAX, BURST_WINDOW),
) -> str | None:
    """Why a survey looks like misuse (stored, but left out of every figure until a clerk restores
    it), or None: completed faster than a person can read, or one survey too many from one tablet in
    a few minutes (``burst``: at most so many surveys within so long, either side)."""
    burst_max, burst_window = burst
    fast = too_fast_reason(survey, duration, min_seconds_per_answer)
    if fast:
        return fast
    # Surveys already stored within the window either side (a queue may arrive in any order).
    recent = db.kiosk_recent_count(conn, device, submitted - burst_window, submitted + burst_window)
    if recent >= burst_max:
        return (
            f"Nghi vấn lạm dụng: {recent + 1} phiếu từ máy {device} trong vòng "
            f"{int(burst_window.total_seconds() // 60)} phút, nhiều hơn số người một quầy tiếp được"
        )
    return None


def _own_token(conn: sqlite3.Connection, token: object, device: str | None) -> dict | None:
    """The issued token row if ``token`` was issued by this server to this tablet."""
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return None
    row = db.token_row(conn, token)
    return row if row is not None and row["device"] == device else None


def _duration(p: Mapping) -> float | None:
    try:
        duration = float(p.get("duration_seconds"))
    except (TypeError, ValueError):
        return None
    return duration if math.isfinite(duration) and 0 < duration < 86400 else None


def handle_sync(
    conn: sqlite3.Connection,
    msg: Mapping,
    *,
    now: datetime,
    device: str | None,
    out_of_hours: Callable[[datetime], bool],
    min_seconds_per_answer: float = MIN_SECONDS_PER_ANSWER,
    misuse: Misuse | None = None,
) -> SyncResult:
    """Count the starts and store the completed surveys of one (verified) message from a tablet.

    Every token must have been issued by the server to this tablet, and a survey's completion time
    must lie between the token's issue and now; what does not is refused and counted, never stored.
    A database fault (full disk, read-only, locked) is raised: nothing is acknowledged, so the
    tablet keeps every survey and sends it again. A survey that can never be stored (its shape is
    wrong) is acknowledged as handled, logged and counted, so it does not block the queue for ever.
    """
    misuse = misuse or Misuse(min_seconds_per_answer)
    result = SyncResult()
    starts = msg.get("starts") if isinstance(msg, Mapping) else None
    surveys = msg.get("surveys") if isinstance(msg, Mapping) else None
    starts = starts if isinstance(starts, list) else []
    surveys = surveys if isinstance(surveys, list) else []
    refused: dict[str, int] = {}
    rows = []
    legacy = _Legacy(conn, device, now)
    for s in starts[:MAX_SYNC_STARTS]:
        token = s.get("token") if isinstance(s, Mapping) else None
        if s.get("legacy") is True:
            reason = legacy.start(token, _ago(s.get("ago_ms"), now))
            if reason:
                refused[reason] = refused.get(reason, 0) + 1
            if isinstance(token, str) and len(token) <= 64:
                result.acks.append("s:" + token)
            continue
        issued = _own_token(conn, token, device)
        if issued is None:
            refused["bad-token"] = refused.get("bad-token", 0) + 1
            if isinstance(token, str) and len(token) <= 64:
                result.acks.append("s:" + token)  # never valid: the tablet drops it
            continue
        at = max(_ago(s.get("ago_ms"), now), _parse(issued["issued_at"], now))
        rows.append((token, at, device))
    if len(starts) > MAX_SYNC_STARTS:
        refused["bad-survey"] = refused.get("bad-survey", 0) + len(starts) - MAX_SYNC_STARTS
    for p in surveys[:MAX_SYNC_SURVEYS]:
        token = p.get("token") if isinstance(p, Mapping) else None
        if isinstance(p, Mapping) and p.get("legacy") is True:
            reason = legacy.store(p, out_of_hours, misuse, result)
        else:
            reason = _store_one(conn, p, now, device, out_of_hours, misuse, result, rows)
        if reason:
            refused[reason] = refused.get(reason, 0) + 1
            result.rejected += 1
        if isinstance(token, str) and len(token) <= 64:
            result.acks.append("r:" + token)
    if len(surveys) > MAX_SYNC_SURVEYS:
        refused["bad-survey"] = refused.get("bad-survey", 0) + len(surveys) - MAX_SYNC_SURVEYS
    db.record_starts(conn, [(KIOSK_PREFIX + t, at, d) for t, at, d in rows] + legacy.starts)
    for token, _, _ in rows:
        db.use_token(conn, token, now)
    result.acks.extend("s:" + t for t, _, _ in rows)
    for reason, n in refused.items():
        devices.refuse(conn, reason, device, now=now, n=n)
    return result


def _parse(ts: str, like: datetime) -> datetime:
    """A stored time, in the time zone of ``like`` (the caller's now)."""
    return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=like.tzinfo)


def _store_one(conn, p, now, device, out_of_hours, misuse: Misuse, result: SyncResult, rows: list) -> str | None:
    """Store one completed survey; the refusal reason if it is refused (then nothing is stored)."""
    token = p.get("token") if isinstance(p, Mapping) else None
    issued = _own_token(conn, token, device)
    if issued is None:
        return "bad-token"
    submitted = _ago(p.get("completed_ago_ms"), now)
    duration = _duration(p)
    started = submitted - timedelta(seconds=duration or 0)
    if submitted < _parse(issued["issued_at"], now):
        return "bad-time"  # completed before the server issued its token
    # The completed survey was started: count its start too (the start message may have been lost).
    rows.append((token, max(started, _parse(issued["issued_at"], now)), device))
    return _store_payload(conn, p, KIOSK_PREFIX + token, submitted, device, out_of_hours, misuse, result)


def _store_payload(conn, p, stored_token, submitted, device, out_of_hours, misuse: Misuse, result: SyncResult):
    """Store a survey whose token and time were checked; "bad-survey" if its content is refused."""
    duration = _duration(p)
    try:
        survey = survey_from_payload(p)
        survey.started_at = submitted - timedelta(seconds=duration) if duration else None
        survey.token = stored_token
        suspect = suspect_reason(
            conn,
            survey,
            duration,
            device,
            submitted,
            misuse.min_seconds_per_answer,
            (misuse.burst_max, misuse.burst_window),
        )
        try:
            stored = _submit(conn, survey, submitted, device, out_of_hours(submitted), suspect)
        except ValidationError as exc:
            if survey.staff_code is None or not any("cán bộ mã" in x for x in exc.problems):
                raise
            survey.staff_code = None  # removed from the roster meanwhile: keep the answers
            stored = _submit(conn, survey, submitted, device, out_of_hours(submitted), suspect)
        result.stored += int(stored)
        result.suspect += int(stored and suspect is not None)
    except ValidationError as exc:
        log.warning("kiosk survey %s refused: %s", stored_token, "; ".join(exc.problems))
        return "bad-survey"
    return None


class _Legacy:
    """The surveys (and starts) a tablet queued before its enrolment, sent once by the enrolled
    tablet marked "legacy": accepted while the tablet's enrolment is at most LEGACY_DAYS old, if
    completed before it (and within MAX_AGE), at most LEGACY_MAX surveys per tablet; stored under
    LEGACY_PREFIX so they never take a server token's place and stay recognisable."""

    def __init__(self, conn: sqlite3.Connection, device: str | None, now: datetime):
        self.conn, self.device, self.now = conn, device, now
        self.starts: list[tuple[str, datetime, str | None]] = []
        self._enrolled: datetime | None | bool = False  # not looked up yet
        self._count: int | None = None

    def enrolled(self) -> datetime | None:
        """The tablet's enrolment time while legacy surveys are still accepted, else None."""
        if self._enrolled is False:
            row = db.device_row(self.conn, self.device) if self.device else None
            at = _parse(row["enrolled_at"], self.now) if row and row["enrolled_at"] else None
            self._enrolled = at if at is not None and self.now - at <= timedelta(days=LEGACY_DAYS) else None
        return self._enrolled

    def _check(self, token: object, at: datetime) -> str | None:
        if not isinstance(token, str) or not 8 <= len(token) <= 64:
            return "bad-token"
        enrolled = self.enrolled()
        if enrolled is None or at >= enrolled:
            return "legacy"
        return None

    def start(self, token: object, at: datetime) -> str | None:
        reason = self._check(token, at)
        if reason is None:
            self.starts.append((LEGACY_PREFIX + token, at, self.device))
        return reason

    def store(self, p: Mapping, out_of_hours, misuse: Misuse, result: SyncResult) -> str | None:
        token = p.get("token")
        submitted = _ago(p.get("completed_ago_ms"), self.now)
        reason = self._check(token, submitted)
        if reason:
            return reason
        if db.response_token_exists(self.conn, KIOSK_PREFIX + token):
            return None  # stored before under its server token (its acknowledgement was lost)
        if self._count is None:
            self._count = db.kiosk_token_count(self.conn, self.device, LEGACY_PREFIX)
        if self._count >= LEGACY_MAX:
            return "legacy"
        before = result.stored
        reason = _store_payload(
            self.conn, p, LEGACY_PREFIX + token, submitted, self.device, out_of_hours, misuse, result
        )
        self._count += result.stored - before
        if reason is None:
            duration = _duration(p) or 0
            self.starts.append((LEGACY_PREFIX + token, submitted - timedelta(seconds=duration), self.device))
        return reason


def _submit(conn, survey: KioskSurvey, submitted: datetime, device, out_of_hours: bool, suspect: str | None) -> bool:
    return submit_kiosk_survey(conn, survey, now=submitted, device=device, out_of_hours=out_of_hours, suspect=suspect)


# ---------------------------------------------------------------------------------------------
# The tablet's two requests: the next survey, and its sync
# ---------------------------------------------------------------------------------------------


def staff_options(conn: sqlite3.Connection) -> list[dict]:
    """The active staff for the staff question, each with its photo as a data: URL where it has one."""
    photos = db.staff_photos(conn)
    staff = []
    for m in db.list_staff(conn, active_only=True):
        entry = {"code": m["code"], "full_name": m["full_name"]}
        if m["code"] in photos:
            data, mime = photos[m["code"]]
            entry["photo"] = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        staff.append(entry)
    return staff


def next_survey(conn: sqlite3.Connection, now: datetime, rng: random.Random | None = None) -> dict:
    """What the tablet shows next, from the settings in force at ``now``: the unit's name, whether the
    counter is closed, the welcome promise, the public summary (when switched on), read-aloud, and the
    plan of the next survey (the active version, the criteria the rotation picks in short mode, the
    lĩnh vực, the staff)."""
    opts = survey_options()
    office = settings.get(conn, "office_name", now.date())
    hours = settings.get(conn, "opening_hours")
    version = settings.get(conn, "active_questionnaire")
    per_survey = settings.get(conn, "questions_per_survey")
    asked = db.asked_counts(conn, version) if per_survey["mode"] == "short" else {}
    summary = []
    if settings.get(conn, "public_summary_on_kiosk"):
        from sipas.cases import public  # only then: the tablet's request stays light

        summary = [str(x) for x in public.public_summary(conn, now.strftime("%Y-%m"))[:5]]
    q = questionnaire(version)
    codes = choose_criteria(q, per_survey["mode"], per_survey["rotating"], asked, rng or random.Random())
    fields = settings.get(conn, "fields") or opts["fields"]
    plan = build_plan(q, codes, opts, list(fields), staff_options(conn), per_survey["mode"], office=office)
    median = median_duration(conn, now, q.code, len(codes))
    return {
        "unit": settings.get(conn, "unit_name", now.date()),
        "closed": bool(settings.get(conn, "kiosk_closed_outside_hours") and not settings.is_open(hours, now)),
        "hours": settings.hours_text(hours),
        "promise": promise_text(promise_seconds(median, len(plan["screens"]))),
        "summary": summary,
        "read_aloud": bool(settings.get(conn, "kiosk_read_aloud")),
        "plan": plan,
    }


def sync(
    conn: sqlite3.Connection, msg: object, *, now: datetime, min_seconds_per_answer: float | None = None
) -> SyncResult:
    """One signed message of an enrolled tablet (``{"device", "body", "sig"}``, see
    :mod:`sipas.survey.devices`): its starts and completed surveys stored (out-of-hours marked from
    the opening hours in force), the surveys it says are still waiting recorded for staff, and its
    stock of start tokens when it asks (``want_tokens``), and the single-use QR code its screens offer
    when it asks (``want_qr``: ``SyncResult.qr``, never a used or expired code). A message not signed by
    an enrolled tablet is refused and counted, and nothing of it is stored. The misuse thresholds are the settings'
    (``min_seconds_per_answer`` overrides that one).

    Raises :class:`sipas.survey.gate.IntakePaused` (nothing acknowledged: the tablet keeps its
    queue) while a restore runs or when the server's clock cannot be right."""
    from sipas.survey import gate

    try:
        verified = devices.verify(conn, msg)
    except devices.Refused as exc:
        devices.refuse(conn, exc.reason, exc.device, now=now)
        return SyncResult(refused=exc.reason)
    body, device = verified.body, verified.device
    gate.require_open(conn, now)
    hours = settings.get(conn, "opening_hours")
    result = handle_sync(
        conn,
        body,
        now=now,
        device=device,
        out_of_hours=lambda t: not settings.is_open(hours, t),
        misuse=Misuse.from_settings(conn, min_seconds_per_answer),
    )
    pending = body.get("pending")
    if isinstance(pending, int) and not isinstance(pending, bool) and pending >= 0:
        left = max(0, pending - sum(a.startswith("r:") for a in result.acks))
        db.report_pending(conn, device, left, now)
    if body.get("want_tokens"):
        result.tokens = devices.top_up(conn, device, now=now)
    if body.get("want_qr") is True:
        result.qr = qr_codes.for_tablet(conn, device, now=now)
    return result
