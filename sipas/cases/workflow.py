"""Corrective actions: every staff-conduct complaint followed to a verified close (ISO 9001 §10.2 shape).

A case moves through the states below; a transition the workflow does not allow is refused with a
message. A root cause is required before a measure; the Chairman approves or returns a measure;
decisions on điều chuyển, thay thế or kỷ luật require his password again: the caller passes the
:class:`sipas.admin.auth.ReauthProof` that ``auth.reauthenticate`` gave, and this module checks it itself (bound
to the user and the decision, short-lived; a forged, old or other user's proof is refused). Every change is written to
the append-only ``case_events`` history in the same transaction.

Effectiveness is checked from the data: the satisfaction with the staff member (or criterion) in the
weeks after the measure against the weeks before, with Newcombe's interval and the two-proportion test.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import CONDUCT_ELEMENT
from sipas.errors import ValidationError
from sipas.text import text_problem

if TYPE_CHECKING:
    from sipas.admin.auth import ReauthProof

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
CHANNELS = {
    "survey": "Phiếu khảo sát tại quầy",
    "hotline": "Đường dây nóng",
    "provincial": "Hệ thống phản ánh, kiến nghị của tỉnh",
    "national_portal": "Cổng Dịch vụ công quốc gia",
    "letter": "Thư, đơn",
    "in_person": "Trực tiếp",
    "analysis": "Phân tích chỉ số",
    "staffing": "Phân tích nhân lực",
}
REPEAT_DECISIONS = {"reassign": "Điều chuyển", "replace": "Thay thế", "none": "Không điều chuyển, thay thế"}
PRIORITIES = {"low": "Thấp", "normal": "Bình thường", "high": "Cao"}
ORIGINS = ("survey", "clerk", "analysis", "staffing")  # as the CHECK constraint of cases.origin
UNKNOWN_STAFF = "chưa xác định"

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


LOW_CONDUCT = (1, 2)
DEFAULT_DUE_DAYS = 15
INTAKE_BATCH = 1000  # complaints taken in per transaction: a catch-up never holds the write lock long
# Responses that open nothing are passed over without a write (the pointer stays) until this many
# lie behind it: a burst of satisfied surveys costs the intake one read and no disk sync.
INTAKE_IDLE_LAG = 1000


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


def _now() -> datetime:
    return clock.now()


def _ts(moment: datetime) -> str:
    return clock.format_ts(moment)


def allowed_next(state: str, role: str) -> list[str]:
    """The states a user with ``role`` may move a case in ``state`` to.

    >>> allowed_next("measure", "clerk")
    []
    >>> allowed_next("measure", "chairman")
    ['awaiting_effect', 'founded']
    """
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == state and role in roles]


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
    """Move a case to ``to_state`` if the workflow and the actor's role allow it; return the case."""
    now = now or _now()
    case = db.get_case(conn, case_id)
    if case is None:
        raise ValidationError(f"Không có vụ việc số {case_id}.")
    frm = case["state"]
    roles = TRANSITIONS.get((frm, to_state))
    if roles is None:
        raise ValidationError(
            f"Không thể chuyển vụ việc từ “{STATES.get(frm, frm)}” sang “{STATES.get(to_state, to_state)}”."
        )
    if actor.role not in roles:
        raise ValidationError(f"Chỉ Chủ tịch UBND xã được chuyển vụ việc từ “{STATES[frm]}” sang “{STATES[to_state]}”.")
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


# ------------------------------------------------------------------------------ intake from the survey


def _complaint(r: dict, tag_comment) -> str | None:
    """Why response ``r`` attaches to a conduct case, or None when it does not."""
    low = r["low"]
    # A comment about attitude counts as a complaint when the same response is not satisfied
    # (a praise such as "cán bộ rất tận tình" is about attitude too).
    tagged = False
    if r["comment"] and tag_comment and (r["lowest"] is None or r["lowest"] <= 3):
        tagged = "conduct" in tag_comment(r["comment"])
    if not low and not tagged:
        return None
    reason = ("đánh giá " + ", ".join(low) + " ở mức không hài lòng") if low else ""
    if tagged:
        reason = (reason + "; " if reason else "") + "góp ý về thái độ"
    return reason


def sync_from_survey(
    conn: sqlite3.Connection, tag_comment=None, now: datetime | None = None, batch_size: int = INTAKE_BATCH
) -> int:
    """Open or extend conduct cases from responses stored since the last run; return cases touched.

    A response that rates a staff-conduct criterion (element 3) 1 or 2, or whose comment is tagged as
    attitude/behaviour (``tag_comment(text) -> set of topic codes`` containing ``'conduct'``), attaches
    to the open conduct case of the staff member it names (or "chưa xác định"), or opens one.

    The responses are read and judged (comments tagged) before the write lock is taken; the write
    transaction only checks that no other intake moved the pointer meanwhile (else it reads again),
    writes the cases and events, and advances the pointer: two processes never take in the same
    response twice, and a writer waiting behind the intake waits for the inserts only.
    ``batch_size``: complaints written per transaction (small for the kiosk's worker, so that a
    submit never waits behind a long intake; large for an import's catch-up).
    """
    now = now or _now()
    touched = 0
    while True:
        last = int(db.get_meta(conn, "case_intake_last_response", "0"))
        upto, batch = db.intake_candidates(conn, last, limit=batch_size, low=LOW_CONDUCT)
        if upto <= last:
            break
        hits = [(r, reason) for r in batch if (reason := _complaint(r, tag_comment)) is not None]
        if not hits and upto - last < INTAKE_IDLE_LAG:
            break  # nothing to open: no write now, the next intake reads these few again
        with db.transaction(conn):
            # The pointer is checked and advanced under the write lock.
            if int(db.get_meta(conn, "case_intake_last_response", "0")) != last:
                continue  # another intake took this range in meanwhile: read from its pointer
            open_by_staff: dict = {}  # (staff_code, is_demo) -> open survey cases, read once a batch
            if hits:
                for c in db.list_cases(conn, states=OPEN_STATES, case_type="conduct"):
                    if c["origin"] == "survey":
                        open_by_staff.setdefault((c["staff_code"], c["is_demo"]), []).append(c)
            at = _ts(now)
            linked = db.links_in_range(conn, last, upto) if hits else set()
            links, events = [], []  # written together after the loop, in the loop's order
            for r, reason in hits:
                staff = r["staff_code"]
                open_cases = open_by_staff.get((staff, r["is_demo"]), [])
                if open_cases:
                    case_id = open_cases[0]["id"]
                    if (case_id, r["id"]) not in linked:
                        links.append((case_id, r["id"]))
                        note = f"Thêm phiếu #{r['id']} ({r['submitted_at']}): {reason}."
                        events.append((case_id, at, "hệ thống", "evidence", None, None, note))
                else:
                    who = staff or UNKNOWN_STAFF
                    fields = {
                        "type": "conduct",
                        "origin": "survey",
                        "channel": "survey",
                        "staff_code": staff,
                        "title": f"Phản ánh về thái độ phục vụ của cán bộ {who}",
                        "state": "new",
                        "priority": "normal",
                        "received_at": r["submitted_at"][:10],
                        # dated by the survey that caused it, due counted from when it is opened
                        "due_date": (now.date() + timedelta(days=DEFAULT_DUE_DAYS)).isoformat(),
                        "is_demo": r["is_demo"],
                    }
                    case_id = db.insert_case(conn, fields, at)
                    open_by_staff[(staff, r["is_demo"])] = [{"id": case_id}]
                    links.append((case_id, r["id"]))
                    note = f"Tự động từ phiếu #{r['id']} ({r['submitted_at']}): {reason}."
                    events.append((case_id, at, "hệ thống", "open", None, "new", note))
                touched += 1
            db.add_case_links_and_events(conn, links, events)
            db.set_meta(conn, "case_intake_last_response", str(upto))
    return touched


ELEMENT_CASE_TYPE = {"1": "facilities", "2": "procedure", CONDUCT_ELEMENT: "conduct", "4": "procedure", "5": "other"}


def open_from_analysis(
    conn: sqlite3.Connection, actor: Actor, criterion: str, index: float, floor: float, period: str
) -> int:
    """A criterion below the floor becomes an improvement action on that criterion."""
    element = criterion[2:].split(".")[0]
    return open_case(
        conn,
        actor,
        case_type=ELEMENT_CASE_TYPE.get(element, "other"),
        origin="analysis",
        channel="analysis",
        criterion=criterion,
        title=f"Cải thiện tiêu chí {criterion}: {index:.2f}% dưới mức {floor:g}% ({period})",
    )


def criteria_below_floor(
    conn: sqlite3.Connection, version: str, date_from: str, date_to: str, floor: float, min_n: int
) -> list[dict]:
    """Criteria of the period whose index is below the floor (with at least ``min_n`` answers) and that
    have no open improvement action yet."""
    from sipas.index.scoring import index_for_period

    result = index_for_period(conn, version, date_from, date_to)
    open_on = {c["criterion"] for c in db.list_cases(conn, states=OPEN_STATES) if c["criterion"]}
    return [
        {"code": c.code, "index": c.index, "n": c.n, "ci_low": c.ci_low, "ci_high": c.ci_high}
        for c in sorted(result.criteria, key=lambda c: (c.index is None, c.index))
        if c.index is not None and c.index < floor and c.n >= min_n and c.code not in open_on
    ]


# ------------------------------------------------------------------------------ repeat offences and queue


def repeat_offenders(
    conn: sqlite3.Connection, count: int = 2, months: int = 12, today: date | None = None
) -> list[dict]:
    """Staff with ≥ ``count`` substantiated conduct cases received within ``months`` months, and no
    Chairman decision recorded since the latest of them."""
    today = today or _now().date()
    since = (today - timedelta(days=round(months * 30.44))).isoformat()
    by_staff: dict[str, list[dict]] = {}
    for c in db.list_cases(conn, case_type="conduct"):
        if c["substantiated"] and c["staff_code"] and c["received_at"] and c["received_at"] >= since:
            by_staff.setdefault(c["staff_code"], []).append(c)
    out = []
    for staff, cases in by_staff.items():
        if len(cases) < count:
            continue
        # A decision counts if it was taken after the latest of these complaints was received.
        latest = max(c["received_at"] for c in cases)
        decided = [d for d in db.repeat_decisions(conn, staff) if d["decided_at"][:10] >= latest]
        if not decided:
            out.append({"staff_code": staff, "cases": sorted(c["id"] for c in cases)})
    return out


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
    text = _require_text(note, "Cần ghi nội dung quyết định hoặc lý do không điều chuyển, thay thế.")
    with db.transaction(conn):
        db.insert_repeat_decision(conn, staff_code, _ts(now), actor.username, decision, text)
        for c in db.list_cases(conn, staff_code=staff_code, case_type="conduct"):
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


# States in which someone still owes work on a case. A measure approved by the Chairman
# ("awaiting_effect") waits for data, not for a person: it is no longer overdue.
PENDING_STATES = ("new", "verifying", "founded", "measure", "reopened")


def handled_on(conn: sqlite3.Connection, case: dict) -> str | None:
    """ISO date on which the case stopped owing work (approved, closed or found unfounded); None while
    work is still owed."""
    if case["state"] in PENDING_STATES:
        return None
    days = [
        e["at"][:10]
        for e in db.case_events(conn, case["id"])
        if e["kind"] == "transition" and e["to_state"] not in PENDING_STATES
    ]
    return days[-1] if days else (case["closed_at"] or case["updated_at"] or case["created_at"])[:10]


def overdue_cases(conn: sqlite3.Connection, cases: list[dict], first: date, last: date) -> list[dict]:
    """The one definition of "quá hạn": cases past their due date on at least one day of [first, last]
    while work on them was still owed (a case handled on a day is not overdue that day).

    The Chairman's header and the cases page ask for today (first = last = today); the monthly report
    asks for the month ("quá hạn trong tháng") and for its last day ("đang quá hạn cuối kỳ").
    """
    out = []
    for c in cases:
        if not c["due_date"] or c["created_at"][:10] > last.isoformat():
            continue
        day = max(first, date.fromisoformat(c["due_date"]) + timedelta(days=1))
        if day > last:
            continue
        done = handled_on(conn, c)
        if done is None or done > day.isoformat():
            out.append(c)
    return out


def chairman_queue(conn: sqlite3.Connection, today: date | None = None) -> dict[str, list]:
    """What needs the Chairman: repeat offences, overdue cases, past feedback deadlines, measures to sign off,
    and measures whose effect did not show."""
    today = today or _now().date()
    iso = today.isoformat()
    rule = settings.get(conn, "repeat_offence", today)  # the rule in force on that day
    open_cases = db.list_cases(conn, states=OPEN_STATES)
    return {
        "repeat": repeat_offenders(conn, rule["count"], rule["months"], today),
        "overdue": overdue_cases(conn, open_cases, today, today),
        "deadline": [
            c for c in open_cases if c["response_deadline"] and c["response_deadline"] < iso and not c["responded_at"]
        ],
        "signoff": [c for c in open_cases if c["state"] == "measure"],
        "not_effective": [c for c in open_cases if c["effect_flag"] == "not_effective"],
    }


def monthly_counts(conn: sqlite3.Connection, month: str, today: date | None = None) -> dict:
    """Counts for the monthly report: cases opened, closed, overdue during the month and still overdue
    at its end (or today, for the month in progress), by type, median days to close."""
    start = date.fromisoformat(month + "-01")
    end = clock.month_start(start, 1)
    today = today or _now().date()
    cases = db.list_cases(conn)
    opened = [c for c in cases if start.isoformat() <= c["created_at"][:10] < end.isoformat()]
    closed = [c for c in cases if c["closed_at"] and start.isoformat() <= c["closed_at"][:10] < end.isoformat()]
    last_day = end - timedelta(days=1)
    as_of = min(last_day, today)
    days = sorted(
        (date.fromisoformat(c["closed_at"][:10]) - date.fromisoformat(c["received_at"] or c["created_at"][:10])).days
        for c in closed
    )
    median = None
    if days:
        mid = len(days) // 2
        median = float(days[mid]) if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    by_type = {TYPES[t]: sum(1 for c in opened if c["type"] == t) for t in TYPES}
    return {
        "opened": len(opened),
        "closed": len(closed),
        # Up to today for the month in progress: a due date still ahead is not overdue yet.
        "overdue": len(overdue_cases(conn, cases, start, as_of)) if as_of >= start else 0,
        "overdue_at_end": len(overdue_cases(conn, cases, as_of, as_of)) if as_of >= start else 0,
        "as_of": as_of.isoformat(),
        "by_type": by_type,
        "median_days_to_close": median,
    }


# Measures taken against a person are never published: in a small commune they name him or her.
PERSONAL_MEASURES = ("reminder", "review", "reassign", "replace", "discipline")
# What changed for citizens, by the kind of measure (fixed wording only).
PUBLIC_MEASURE = {
    "training": "cán bộ tại quầy được tập huấn thêm về giao tiếp và hướng dẫn người dân",
    "extra_staff": "bố trí thêm người tiếp nhận hồ sơ vào giờ đông",
}
PUBLIC_CHANGE = {
    "conduct": "việc tiếp đón, hướng dẫn người dân tại quầy được theo dõi hằng tháng qua phiếu khảo sát",
    "waiting": "thời gian chờ được theo dõi theo từng khung giờ để bố trí người phù hợp",
    "procedure": "hồ sơ, thủ tục liên quan được rà soát để hướng dẫn rõ hơn",
    "facilities": "cơ sở vật chất tại quầy được kiểm tra và khắc phục",
    "other": "nội dung phản ánh được theo dõi đến khi có kết quả",
}
FORBIDDEN_PUBLIC_WORDS = ("nhắc nhở", "kiểm điểm", "điều chuyển", "thay thế", "kỷ luật")


def public_line(case: dict) -> str:
    """One line of "Người dân nói — chúng tôi đã làm" for a case whose measure was applied.

    It says that the complaint was handled and what changed for citizens, never a measure taken
    against a person (nhắc nhở, kiểm điểm, điều chuyển, thay thế, kỷ luật), a name or free text.

    >>> line = public_line({"type": "conduct", "criterion": None, "measure": "reassign"})
    >>> line.startswith("Người dân phản ánh về thái độ, ứng xử — phản ánh đã được xem xét, xử lý;")
    True
    >>> "điều chuyển" in line
    False
    """
    topic = f"tiêu chí {case['criterion']}" if case.get("criterion") else TYPES[case["type"]].lower()
    change = PUBLIC_MEASURE.get(case.get("measure") or "") or PUBLIC_CHANGE[case["type"]]
    return f"Người dân phản ánh về {topic} — phản ánh đã được xem xét, xử lý; {change}."


def public_summary(conn: sqlite3.Connection, month: str) -> list[str]:
    """ "Người dân nói — chúng tôi đã làm": the month's handled complaints in fixed plain words (newest
    first), without any staff name or measure against a person; identical lines are given once."""
    start = date.fromisoformat(month + "-01")
    end = clock.month_start(start, 1)
    lines: list[str] = []
    for c in db.list_cases(conn):
        if c["measure"] and c["measure_date"] and start.isoformat() <= c["measure_date"] < end.isoformat():
            line = public_line(c)
            if line not in lines:
                lines.append(line)
    return lines
