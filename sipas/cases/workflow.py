"""The case workflow: every complaint or improvement action followed to a verified close (ISO 9001 §10.2 shape).

A case is opened (:func:`open_case`) and moves through the states below by the one :func:`transition`;
a transition the workflow does not allow is refused with a message. A root cause is required before a
measure; the Chairman approves or returns a measure; decisions on điều chuyển, thay thế or kỷ luật
require his password again: the caller passes the :class:`sipas.admin.auth.ReauthProof` that
``auth.reauthenticate`` gave, and this module checks it itself (bound to the user and the decision,
short-lived; a forged, old or other user's proof is refused). Notes (:func:`add_note`) and the
Chairman's decisions on repeat offenders (:func:`decide_repeat`) complete the history. Every change is
written to the append-only ``case_events`` history in the same transaction.

When a measure is approved, :func:`transition` runs the first check of its effect
(:func:`sipas.cases.effects.flag_effects`). What stored surveys open is :mod:`sipas.cases.intake`, what
waits for the Chairman :mod:`sipas.cases.queue`, the public lines :mod:`sipas.cases.public`.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sipas import clock, db
from sipas.cases import effects
from sipas.errors import ValidationError
from sipas.text import text_problem

if TYPE_CHECKING:
    from sipas.admin.auth import ReauthProof

log = logging.getLogger(__name__)

STATES = {
    "new": "Mới",
    "verifying": "Đang xác minh",
    "unfounded": "Không có cơ sở",
    "founded": "Có cơ sở",
    "measure": "Biện pháp (chờ phê duyệt)",
    "awaiting_effect": "Chờ đánh giá hiệu quả",
    "closed": "Đã đóng",
    "reopened": "Mở lại",
}
OPEN_STATES = ("new", "verifying", "founded", "measure", "awaiting_effect", "reopened")
TYPES = {
    "conduct": "Thái độ, ứng xử",
    "waiting": "Chờ đợi, nhân lực",
    "procedure": "Hồ sơ, thủ tục",
    "facilities": "Cơ sở vật chất",
    "other": "Khác",
}
MEASURES = {
    "reminder": "Nhắc nhở",
    "review": "Kiểm điểm",
    "training": "Tập huấn",
    "reassign": "Điều chuyển",
    "replace": "Thay thế",
    "discipline": "Kỷ luật",
    "other": "Biện pháp khác",
    "extra_staff": "Bố trí thêm người",
}
# Decisions that need the Chairman to enter his password again.
SEVERE_MEASURES = ("reassign", "replace", "discipline")
# Measures that sanction a person: proposed only once the staff member's explanation (giải trình) is in the
# case's history (record_explanation), as the rules on civil servants' discipline ask.
SANCTIONS = ("review", "reassign", "replace", "discipline")
CHANNELS = {
    "survey": "Phiếu khảo sát tại quầy",
    "hotline": "Đường dây nóng",
    "provincial": "Hệ thống phản ánh, kiến nghị của tỉnh",
    "national_portal": "Cổng Dịch vụ công quốc gia",
    "letter": "Thư, đơn",
    "in_person": "Trực tiếp",
    "analysis": "Phân tích chỉ số",
    "staffing": "Phân tích nhân lực",
    "signal": "Tín hiệu thống kê",
}
REPEAT_DECISIONS = {"reassign": "Điều chuyển", "replace": "Thay thế", "none": "Không điều chuyển, thay thế"}
PRIORITIES = {"low": "Thấp", "normal": "Bình thường", "high": "Cao"}
ORIGINS = ("survey", "clerk", "analysis", "staffing")  # as the CHECK constraint of cases.origin
UNKNOWN_STAFF = "chưa xác định"
SIGNAL_NOT_FOUNDED = (
    "Tín hiệu thống kê không phải là phản ánh nên không kết luận “Có cơ sở” và không dẫn tới biện pháp xử lý "
    "cán bộ. Nếu khi xem xét thấy có phản ánh cụ thể, hãy tiếp nhận phản ánh đó thành một vụ việc riêng có "
    "bằng chứng; nếu không, kết luận “Không có cơ sở” và ghi điều đã xem xét."
)

# (from, to) → roles allowed. The Chairman can do everything the clerk can.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("new", "verifying"): ("clerk", "chairman"),
    ("reopened", "verifying"): ("clerk", "chairman"),
    ("verifying", "unfounded"): ("clerk", "chairman"),
    ("verifying", "founded"): ("clerk", "chairman"),
    ("founded", "measure"): ("clerk", "chairman"),
    ("measure", "awaiting_effect"): ("chairman",),  # approval of the measure
    ("measure", "founded"): ("chairman",),  # returned with a comment
    ("awaiting_effect", "closed"): ("clerk", "chairman"),
    ("awaiting_effect", "reopened"): ("clerk", "chairman"),
    ("closed", "reopened"): ("clerk", "chairman"),
    ("unfounded", "reopened"): ("clerk", "chairman"),
}

# Every kind of history entry in Vietnamese (case_events.kind).
EVENT_LABELS = {
    "open": "Tiếp nhận",
    "transition": "Chuyển trạng thái",
    "note": "Ghi chú",
    "response": "Trả lời người phản ánh",
    "evidence": "Thêm bằng chứng",
    "effect": "Đánh giá hiệu quả",
    "repeat-decision": "Quyết định về tái phạm",
    "explanation": "Giải trình của cán bộ",
}
SYSTEM_ACTOR = "hệ thống"
# Choosing one of these states closes a case or decides a measure: the page asks for a confirmation.
CONFIRM_STATES = ("unfounded", "closed", "awaiting_effect")
ORIGIN_LABELS = {
    "survey": "Phiếu khảo sát",
    "clerk": "Cán bộ tiếp nhận",
    "analysis": "Phân tích chỉ số",
    "staffing": "Phân tích nhân lực",
}


def event_label(kind: str) -> str:
    """The Vietnamese name of a history entry's kind (an unknown kind is named as such, never shown raw)."""
    return EVENT_LABELS.get(kind, "Thay đổi khác")


def grouped_history(events: list[dict]) -> list[dict]:
    """A case's history for reading: each run of consecutive evidence entries becomes one line that
    counts them (the entries themselves are kept in ``items`` for an expandable view).

    >>> ev = [{"kind": "open", "at": "2026-01-02 08:00:00", "actor": "a", "note": "x"}]
    >>> ev += [{"kind": "evidence", "at": f"2026-01-0{d} 09:00:00", "actor": "hệ thống", "note": "p"} for d in (3, 4)]
    >>> [(g["kind"], len(g["items"])) for g in grouped_history(ev)]
    [('open', 1), ('evidence', 2)]
    """
    out: list[dict] = []
    for e in events:
        if e["kind"] == "evidence" and out and out[-1]["kind"] == "evidence":
            out[-1]["items"].append(e)
            out[-1]["last_at"] = e["at"]
            continue
        out.append({**e, "items": [e], "last_at": e["at"]})
    return out


DEFAULT_DUE_DAYS = 15


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


def _now() -> datetime:
    return clock.now()


def _ts(moment: datetime) -> str:
    return clock.format_ts(moment)


def allowed_next(state: str, role: str, case: dict | None = None) -> list[str]:
    """The states a user with ``role`` may move a case in ``state`` to (a statistical signal's case,
    ``case`` with channel ``signal``, is never concluded "Có cơ sở").

    >>> allowed_next("measure", "clerk")
    []
    >>> allowed_next("measure", "chairman")
    ['awaiting_effect', 'founded']
    """
    signal = case is not None and case.get("channel") == "signal"
    return [
        to
        for (frm, to), roles in TRANSITIONS.items()
        if frm == state and role in roles and not (signal and to == "founded")
    ]


def _require_text(value: str | None, message: str, limit: int = 4000) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(message)
    if len(text) > limit:
        raise ValidationError(f"Nội dung dài quá {limit} ký tự.")
    problem = text_problem(text, "Nội dung")
    if problem:
        raise ValidationError(problem)
    return text


def _parse_date(value, label: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationError(f'{label}: ngày "{value}" không hợp lệ (cần YYYY-MM-DD).') from None


PHONE = re.compile(r"^\+?[0-9 .-]{8,15}$")


def open_case(
    conn: sqlite3.Connection,
    actor: Actor | None,
    *,
    case_type: str,
    origin: str,
    title: str,
    description: str | None = None,
    staff_code: str | None = None,
    criterion: str | None = None,
    channel: str | None = None,
    received_at=None,
    due_date=None,
    response_deadline=None,
    priority: str = "normal",
    owner: str | None = None,
    contact_phone: str | None = None,
    schedule: dict | None = None,
    response_ids: list[int] | None = None,
    is_demo: bool = False,
    now: datetime | None = None,
) -> int:
    """Open a case (validated); return its id. The first history entry records who opened it and how."""
    now = now or _now()
    problems = []
    if case_type not in TYPES:
        problems.append(f"Loại vụ việc phải là một trong: {', '.join(TYPES.values())}.")
    if channel is not None and channel not in CHANNELS:
        problems.append("Nguồn tiếp nhận không hợp lệ.")
    if origin not in ORIGINS:
        problems.append("Nguồn vụ việc không hợp lệ.")
    if priority not in PRIORITIES:
        problems.append("Mức ưu tiên không hợp lệ.")
    if not (title or "").strip():
        problems.append("Cần nhập tiêu đề (tóm tắt nội dung phản ánh).")
    for value, label in (
        (title, "Tóm tắt nội dung"),
        (description, "Nội dung chi tiết"),
        (contact_phone, "Số điện thoại"),
        (criterion, "Tiêu chí"),
    ):
        problem = text_problem(value, label)
        if problem:
            problems.append(problem)
    if staff_code and staff_code not in db.staff_codes(conn):
        problems.append(f'Không có cán bộ mã "{staff_code}".')
    if contact_phone and not PHONE.match(contact_phone.strip()):
        problems.append("Số điện thoại không hợp lệ.")
    try:
        received = _parse_date(received_at, "Ngày tiếp nhận") or now.date().isoformat()
        due = (
            _parse_date(due_date, "Hạn xử lý")
            or (date.fromisoformat(received) + timedelta(days=DEFAULT_DUE_DAYS)).isoformat()
        )
        deadline = _parse_date(response_deadline, "Hạn trả lời phản ánh")
    except ValidationError as exc:
        problems += exc.problems
        received = due = deadline = None
    if received and received > now.date().isoformat():
        problems.append("Ngày tiếp nhận không được ở tương lai.")
    if deadline and received and deadline < received:
        problems.append("Hạn trả lời phải sau ngày tiếp nhận.")
    if problems:
        raise ValidationError(problems)
    fields = {
        "type": case_type,
        "origin": origin,
        "channel": channel,
        "staff_code": staff_code or None,
        "criterion": criterion,
        "title": title.strip()[:300],
        "description": (description or "").strip() or None,
        "state": "new",
        "owner": owner,
        "priority": priority,
        "received_at": received,
        "due_date": due,
        "response_deadline": deadline,
        "contact_phone": (contact_phone or "").strip() or None,
        "schedule": json.dumps(schedule, ensure_ascii=False) if schedule else None,
        "is_demo": int(is_demo),
    }
    with db.transaction(conn):
        case_id = db.insert_case(conn, fields, _ts(now))
        for rid in response_ids or []:
            db.link_case_response(conn, case_id, rid)
        db.add_case_event(
            conn,
            case_id,
            _ts(now),
            actor.username if actor else "hệ thống",
            "open",
            None,
            "new",
            f"{CHANNELS.get(channel or origin, origin)}: {fields['title']}",
        )
    return case_id


def _proof_ok(proof, username: str, action: str) -> bool:
    from sipas.admin import auth  # argon2 set-up is not paid on the kiosk's submit path (the case intake)

    return auth.check_proof(proof, username, action)


def approve_action(case_id: int) -> str:
    """The action a re-authentication for approving case ``case_id``'s measure is bound to."""
    return f"approve-measure:{case_id}"


def repeat_action(staff_code: str) -> str:
    """The action a re-authentication for a repeat-offence decision on ``staff_code`` is bound to."""
    return f"repeat-decision:{staff_code}"


def _check_move(case: dict, to_state: str, actor: Actor) -> None:
    """Refuse a move the workflow, the actor's role or the case's kind does not allow (a statistical
    signal's case is never concluded "Có cơ sở")."""
    frm = case["state"]
    roles = TRANSITIONS.get((frm, to_state))
    if roles is None:
        raise ValidationError(
            f"Không thể chuyển vụ việc từ “{STATES.get(frm, frm)}” sang “{STATES.get(to_state, to_state)}”."
        )
    if actor.role not in roles:
        raise ValidationError(f"Chỉ Chủ tịch UBND xã được chuyển vụ việc từ “{STATES[frm]}” sang “{STATES[to_state]}”.")
    if case["channel"] == "signal" and to_state == "founded":
        raise ValidationError(SIGNAL_NOT_FOUNDED)


def transition(
    conn: sqlite3.Connection,
    case_id: int,
    to_state: str,
    actor: Actor,
    note: str | None = None,
    *,
    root_cause: str | None = None,
    measure: str | None = None,
    measure_detail: str | None = None,
    measure_date=None,
    reauth: ReauthProof | None = None,
    now: datetime | None = None,
) -> dict:
    """Move a case to ``to_state`` if the workflow and the actor's role allow it; return the case.

    Approving a measure (``awaiting_effect``) also checks its effect at once, with the settings in force
    (a failing check is logged, never undoes the decision).
    """
    now = now or _now()
    case = db.get_case(conn, case_id)
    if case is None:
        raise ValidationError(f"Không có vụ việc số {case_id}.")
    frm = case["state"]
    _check_move(case, to_state, actor)
    for value, label in ((note, "Ghi chú"), (root_cause, "Nguyên nhân"), (measure_detail, "Chi tiết biện pháp")):
        problem = text_problem(value, label)
        if problem:
            raise ValidationError(problem)
    fields: dict = {"state": to_state}
    if to_state == "unfounded":
        fields["close_reason"] = _require_text(note, "Cần ghi lý do kết luận không có cơ sở.")
        fields["closed_at"] = _ts(now)
        fields["contact_phone"] = None
        # Re-verified after a reopening and found unfounded: no longer a substantiated complaint
        # (it must not count towards a repeat offence).
        fields["substantiated"] = 0
    elif to_state == "founded" and frm == "verifying":
        fields["substantiated"] = 1
    elif to_state == "founded" and frm == "measure":
        _require_text(note, "Cần ghi ý kiến khi trả lại biện pháp.")
    elif to_state == "measure":
        cause = _require_text(root_cause or case["root_cause"], "Cần xác định nguyên nhân trước khi đề xuất biện pháp.")
        if measure not in MEASURES:
            raise ValidationError(f"Biện pháp phải là một trong: {', '.join(MEASURES.values())}.")
        if measure == "other":
            _require_text(measure_detail, "Biện pháp khác: cần ghi tên biện pháp.")
        if measure in SANCTIONS and not explanations(conn, case_id):
            raise ValidationError(f"Cần ghi giải trình của cán bộ trước khi đề xuất biện pháp “{MEASURES[measure]}”.")
        fields.update(root_cause=cause, measure=measure, measure_detail=(measure_detail or "").strip() or None)
    elif to_state == "awaiting_effect":
        if case["measure"] in SEVERE_MEASURES and not _proof_ok(reauth, actor.username, approve_action(case_id)):
            raise ValidationError("Quyết định điều chuyển, thay thế hoặc kỷ luật cần nhập lại mật khẩu.")
        fields["measure_date"] = _parse_date(measure_date, "Ngày áp dụng") or now.date().isoformat()
        fields["measure_approved_by"] = actor.username
    elif to_state == "closed":
        fields["closed_at"] = _ts(now)
        fields["close_reason"] = (note or "").strip() or "Đã kiểm chứng hiệu quả."
        fields["contact_phone"] = None  # the citizen's number is deleted when the case closes
    elif to_state == "reopened":
        _require_text(note, "Cần ghi lý do mở lại vụ việc.")
        fields.update(closed_at=None, effect_flag=None)
    with db.transaction(conn):
        db.update_case(conn, case_id, fields, _ts(now))
        detail = note
        if to_state == "measure":
            detail = (
                f"Nguyên nhân: {fields['root_cause']}. Biện pháp: {MEASURES[measure]}"
                + (f" ({fields['measure_detail']})" if fields["measure_detail"] else "")
                + (f". {note}" if note else "")
            )
        db.add_case_event(conn, case_id, _ts(now), actor.username, "transition", frm, to_state, detail)
    if to_state == "awaiting_effect":
        # A decision is a point where the data that decides the effect changes meaning: the first check now.
        try:
            effects.flag_effects(conn)
        except Exception:  # noqa: BLE001 - the decision is stored; the next data brings the check
            log.exception("effect check after approving case %s failed", case_id)
    return db.get_case(conn, case_id)


def add_note(
    conn: sqlite3.Connection,
    case_id: int,
    actor: Actor,
    note: str,
    *,
    responded: bool = False,
    now: datetime | None = None,
) -> None:
    """A note in the history (e.g. the answer sent to the citizen; ``responded`` marks the feedback answered)."""
    now = now or _now()
    text = _require_text(note, "Ghi chú trống.")
    if db.get_case(conn, case_id) is None:
        raise ValidationError(f"Không có vụ việc số {case_id}.")
    with db.transaction(conn):
        if responded:
            db.update_case(conn, case_id, {"responded_at": _ts(now)}, _ts(now))
        db.add_case_event(
            conn, case_id, _ts(now), actor.username, "response" if responded else "note", None, None, text
        )


def explanations(conn: sqlite3.Connection, case_id: int) -> list[dict]:
    """The staff member's explanations (giải trình) recorded on a case, oldest first."""
    return [e for e in db.case_events(conn, case_id) if e["kind"] == "explanation"]


# "Ok", "đồng ý" or a lone dash is no explanation: the record a sanction rests on must say something.
MIN_EXPLANATION_CHARS = 10


def record_explanation(
    conn: sqlite3.Connection, case_id: int, actor: Actor, text: str, *, now: datetime | None = None
) -> None:
    """Record, word for word, the explanation (giải trình) the staff member gave about a case that names
    them; a sanction (:data:`SANCTIONS`) and a repeat-offence decision wait for it."""
    now = now or _now()
    body = _require_text(text, "Cần ghi nội dung giải trình của cán bộ.")
    if len(body) < MIN_EXPLANATION_CHARS:
        raise ValidationError(
            f"Giải trình quá ngắn (ít nhất {MIN_EXPLANATION_CHARS} ký tự): ghi nguyên văn lời giải trình của cán bộ."
        )
    case = db.get_case(conn, case_id)
    if case is None:
        raise ValidationError(f"Không có vụ việc số {case_id}.")
    if not case["staff_code"]:
        raise ValidationError("Vụ việc không ghi tên cán bộ nào: không có ai để giải trình.")
    if actor.role not in ("clerk", "chairman"):
        raise ValidationError("Chỉ cán bộ tiếp nhận hoặc Chủ tịch UBND xã được ghi giải trình.")
    with db.transaction(conn):
        db.add_case_event(conn, case_id, _ts(now), actor.username, "explanation", None, None, body)


def decide_repeat(
    conn: sqlite3.Connection,
    actor: Actor,
    staff_code: str,
    decision: str,
    note: str,
    *,
    reauth: ReauthProof | None = None,
    now: datetime | None = None,
) -> None:
    """The Chairman's decision on a repeat offender: điều chuyển, thay thế, or why not (recorded)."""
    now = now or _now()
    if actor.role != "chairman":
        raise ValidationError("Chỉ Chủ tịch UBND xã được quyết định đối với cán bộ tái phạm.")
    if decision not in ("reassign", "replace", "none"):
        raise ValidationError("Quyết định phải là điều chuyển, thay thế hoặc không (ghi rõ lý do).")
    if decision in ("reassign", "replace") and not _proof_ok(reauth, actor.username, repeat_action(staff_code)):
        raise ValidationError("Quyết định điều chuyển, thay thế cần nhập lại mật khẩu.")
    founded = [c for c in db.list_cases(conn, staff_code=staff_code, case_type="conduct") if c["substantiated"]]
    if decision in ("reassign", "replace") and not any(explanations(conn, c["id"]) for c in founded):
        raise ValidationError(
            "Cần ghi giải trình của cán bộ (ở một vụ việc có cơ sở) trước khi quyết định điều chuyển, thay thế."
        )
    text = _require_text(note, "Cần ghi nội dung quyết định hoặc lý do không điều chuyển, thay thế.")
    with db.transaction(conn):
        db.insert_repeat_decision(conn, staff_code, _ts(now), actor.username, decision, text)
        for c in founded:
            if c["substantiated"]:
                db.add_case_event(
                    conn,
                    c["id"],
                    _ts(now),
                    actor.username,
                    "repeat-decision",
                    None,
                    None,
                    f"{REPEAT_DECISIONS[decision]}: {text}",
                )
