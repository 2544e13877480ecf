"""Corrective actions (sipas.cases: workflow, intake, queue, public, proposals, effects): the workflow,
intake from the survey, repeat offences, the effectiveness check, the append-only history, and the monthly figures.

Every moment is passed with ``now=`` / ``today=`` so that the tests do not depend on the day they run.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from scipy.stats import chi2_contingency

from sipas import clock, db
from sipas.admin import auth, settings
from sipas.cases import effects, intake, proposals, public, queue, workflow
from sipas.cases.workflow import Actor
from sipas.errors import ValidationError
from sipas.index import comments
from sipas.survey.responses import KioskSurvey, submit_kiosk_survey
from tests.conftest import table_snapshot

CLERK = Actor("vanphong", "clerk")
CHAIR = Actor("chutich", "chairman")
NOW = datetime(2024, 6, 15, 9, 0, 0)
STAFF = {"CB01": "Nguyễn Thị Hồng", "CB02": "Trần Văn Minh", "CB03": "Lê Văn Tâm", "CB04": "Phạm Thị Thu"}

CHAIRMAN_ONLY = "Chỉ Chủ tịch UBND xã được chuyển vụ việc từ “{}” sang “{}”."
NO_ROOT_CAUSE = "Cần xác định nguyên nhân trước khi đề xuất biện pháp."
BAD_MEASURE = (
    "Biện pháp phải là một trong: Nhắc nhở, Kiểm điểm, Tập huấn, Điều chuyển, Thay thế, Kỷ luật, "
    "Biện pháp khác, Bố trí thêm người."
)
OTHER_NEEDS_NAME = "Biện pháp khác: cần ghi tên biện pháp."
NEEDS_PASSWORD = "Quyết định điều chuyển, thay thế hoặc kỷ luật cần nhập lại mật khẩu."
REPEAT_NEEDS_PASSWORD = "Quyết định điều chuyển, thay thế cần nhập lại mật khẩu."
REPEAT_CHAIRMAN_ONLY = "Chỉ Chủ tịch UBND xã được quyết định đối với cán bộ tái phạm."


def refused(frm: str, to: str) -> str:
    return f"Không thể chuyển vụ việc từ “{workflow.STATES[frm]}” sang “{workflow.STATES.get(to, to)}”."


@pytest.fixture
def staffed(conn):
    for code, name in STAFF.items():
        db.upsert_staff(conn, {"code": code, "full_name": name})
    return conn


def _open(conn, now: datetime = NOW, **kw) -> int:
    args = {
        "case_type": "conduct",
        "origin": "clerk",
        "channel": "hotline",
        "staff_code": "CB01",
        "title": "Công dân phản ánh qua đường dây nóng",
        **kw,
    }
    return workflow.open_case(conn, CLERK, now=now, **args)


PASSWORD = "mat-khau-dung-2024"


_PW_HASH = PasswordHasher().hash(PASSWORD)  # argon2 once per module, not once per test


@pytest.fixture(autouse=True)
def accounts(conn):
    """The clerk's and the Chairman's accounts, so that they can type their password again."""
    with db.transaction(conn):
        for actor in (CLERK, CHAIR):
            db.insert_user(conn, actor.username, None, _PW_HASH, actor.role, False)


def _proof(conn, actor: Actor, action: str):
    """What the page gets when ``actor`` types the password again for ``action``."""
    return auth.reauthenticate(conn, actor.username, PASSWORD, action)


def _move(conn, case_id: int, to: str, actor: Actor = CLERK, **kw) -> dict:
    kw.setdefault("now", NOW)
    return workflow.transition(conn, case_id, to, actor, **kw)


# The shortest path from "new" to every state, with what each step needs.
PATH = [
    ("verifying", CLERK, {}),
    ("founded", CLERK, {}),
    ("measure", CLERK, {"root_cause": "Thiếu kỹ năng giao tiếp", "measure": "reminder"}),
    ("awaiting_effect", CHAIR, {}),
    ("closed", CLERK, {}),
    ("reopened", CLERK, {"note": "Công dân phản ánh lại"}),
]


def _case_in(conn, state: str, **kw) -> int:
    case_id = _open(conn, **kw)
    if state == "unfounded":
        _move(conn, case_id, "verifying")
        _move(conn, case_id, "unfounded", note="Không đúng sự thật")
    elif state != "new":
        for to, actor, extra in PATH:
            _move(conn, case_id, to, actor, **extra)
            if to == state:
                break
    assert db.get_case(conn, case_id)["state"] == state
    return case_id


def _refusal(call) -> str:
    with pytest.raises(ValidationError) as exc:
        call()
    return str(exc.value)


def _events(conn, case_id: int) -> list[tuple]:
    return [(e["actor"], e["kind"], e["from_state"], e["to_state"], e["note"]) for e in db.case_events(conn, case_id)]


# ------------------------------------------------------------------------------ the workflow


def test_allowed_next_by_role():
    assert workflow.allowed_next("new", "clerk") == ["verifying"]
    assert workflow.allowed_next("verifying", "clerk") == ["unfounded", "founded"]
    assert workflow.allowed_next("measure", "clerk") == []
    assert workflow.allowed_next("measure", "chairman") == ["awaiting_effect", "founded"]
    assert workflow.allowed_next("awaiting_effect", "clerk") == ["closed", "reopened"]


def test_walk_through_the_whole_graph(staffed):
    conn = staffed
    case_id = _open(conn, contact_phone="0912 345 678")
    case = db.get_case(conn, case_id)
    assert (case["state"], case["contact_phone"], case["substantiated"]) == ("new", "0912 345 678", 0)
    assert (case["received_at"], case["due_date"]) == ("2024-06-15", "2024-06-30")  # 15 days by default

    _move(conn, case_id, "verifying")
    case = _move(conn, case_id, "founded")
    assert (case["state"], case["substantiated"]) == ("founded", 1)

    # A measure needs a root cause, a known measure, and a name when it is "other"; refusals change nothing.
    before = table_snapshot(conn)
    assert _refusal(lambda: _move(conn, case_id, "measure", measure="reminder")) == NO_ROOT_CAUSE
    assert _refusal(lambda: _move(conn, case_id, "measure", root_cause="   ", measure="reminder")) == NO_ROOT_CAUSE
    assert _refusal(lambda: _move(conn, case_id, "measure", root_cause="Quá tải", measure="fine")) == BAD_MEASURE
    assert _refusal(lambda: _move(conn, case_id, "measure", root_cause="Quá tải", measure=None)) == BAD_MEASURE
    assert _refusal(lambda: _move(conn, case_id, "measure", root_cause="Quá tải", measure="other")) == OTHER_NEEDS_NAME
    assert table_snapshot(conn) == before

    case = _move(
        conn,
        case_id,
        "measure",
        root_cause="Quá tải giờ cao điểm",
        measure="other",
        measure_detail="Luân phiên nghỉ giữa ca",
    )
    assert (case["state"], case["root_cause"], case["measure"], case["measure_detail"]) == (
        "measure",
        "Quá tải giờ cao điểm",
        "other",
        "Luân phiên nghỉ giữa ca",
    )

    # Only the Chairman approves or returns a measure; a return needs his comment.
    before = table_snapshot(conn)
    assert _refusal(
        lambda: _move(conn, case_id, "awaiting_effect", reauth=_proof(conn, CLERK, workflow.approve_action(case_id)))
    ) == CHAIRMAN_ONLY.format("Biện pháp (chờ phê duyệt)", "Chờ đánh giá hiệu quả")
    assert _refusal(lambda: _move(conn, case_id, "founded", note="Chưa phù hợp")) == CHAIRMAN_ONLY.format(
        "Biện pháp (chờ phê duyệt)", "Có cơ sở"
    )
    assert _refusal(lambda: _move(conn, case_id, "founded", CHAIR)) == "Cần ghi ý kiến khi trả lại biện pháp."
    assert table_snapshot(conn) == before
    assert _move(conn, case_id, "founded", CHAIR, note="Cần biện pháp mạnh hơn")["state"] == "founded"

    # A sanction waits for the staff member's explanation (giải trình), recorded word for word.
    before = table_snapshot(conn)
    assert _refusal(lambda: _move(conn, case_id, "measure", measure="reassign")) == (
        "Cần ghi giải trình của cán bộ trước khi đề xuất biện pháp “Điều chuyển”."
    )
    assert _refusal(lambda: workflow.record_explanation(conn, case_id, CLERK, "  ")) == (
        "Cần ghi nội dung giải trình của cán bộ."
    )
    assert _refusal(lambda: workflow.record_explanation(conn, case_id, CLERK, " Đồng ý. ")) == (
        "Giải trình quá ngắn (ít nhất 10 ký tự): ghi nguyên văn lời giải trình của cán bộ."
    )
    assert table_snapshot(conn) == before
    workflow.record_explanation(conn, case_id, CLERK, "Tôi nhận thiếu sót, hôm đó quá đông người.", now=NOW)
    assert [e["note"] for e in workflow.explanations(conn, case_id)] == ["Tôi nhận thiếu sót, hôm đó quá đông người."]
    # The root cause found earlier is kept; a severe measure needs the password again.
    case = _move(conn, case_id, "measure", measure="reassign")
    assert (case["root_cause"], case["measure"], case["measure_detail"]) == ("Quá tải giờ cao điểm", "reassign", None)
    before = table_snapshot(conn)
    assert _refusal(lambda: _move(conn, case_id, "awaiting_effect", CHAIR)) == NEEDS_PASSWORD
    assert table_snapshot(conn) == before
    case = _move(
        conn,
        case_id,
        "awaiting_effect",
        CHAIR,
        reauth=_proof(conn, CHAIR, workflow.approve_action(case_id)),
        measure_date="2024-06-20",
    )
    assert (case["state"], case["measure_date"], case["measure_approved_by"]) == (
        "awaiting_effect",
        "2024-06-20",
        "chutich",
    )
    assert case["contact_phone"] == "0912 345 678"

    # Closing deletes the citizen's phone number.
    case = _move(conn, case_id, "closed", now=datetime(2024, 8, 20, 10, 0))
    assert (case["state"], case["closed_at"], case["close_reason"], case["contact_phone"]) == (
        "closed",
        "2024-08-20 10:00:00",
        "Đã kiểm chứng hiệu quả.",
        None,
    )

    # Reopening needs a reason and clears the close.
    before = table_snapshot(conn)
    assert _refusal(lambda: _move(conn, case_id, "reopened", note="  ")) == "Cần ghi lý do mở lại vụ việc."
    assert table_snapshot(conn) == before
    case = _move(conn, case_id, "reopened", note="Công dân phản ánh lại")
    assert (case["state"], case["closed_at"], case["effect_flag"]) == ("reopened", None, None)

    # Re-verified and found unfounded: a reason is required; it closes.
    _move(conn, case_id, "verifying")
    before = table_snapshot(conn)
    assert _refusal(lambda: _move(conn, case_id, "unfounded")) == "Cần ghi lý do kết luận không có cơ sở."
    assert table_snapshot(conn) == before
    case = _move(conn, case_id, "unfounded", note="Camera cho thấy không có việc này", now=datetime(2024, 9, 1, 8, 0))
    assert (case["state"], case["close_reason"], case["closed_at"]) == (
        "unfounded",
        "Camera cho thấy không có việc này",
        "2024-09-01 08:00:00",
    )
    # Found unfounded on re-verification: it no longer counts as a substantiated complaint.
    assert case["substantiated"] == 0

    assert [(e[2], e[3]) for e in _events(conn, case_id)] == [
        (None, "new"),
        ("new", "verifying"),
        ("verifying", "founded"),
        ("founded", "measure"),
        ("measure", "founded"),
        (None, None),  # the staff member's explanation, before the sanction
        ("founded", "measure"),
        ("measure", "awaiting_effect"),
        (None, None),  # the effect checked at the approval ("Chưa đủ dữ liệu")
        ("awaiting_effect", "closed"),
        ("closed", "reopened"),
        ("reopened", "verifying"),
        ("verifying", "unfounded"),
    ]


def test_unfounded_deletes_the_phone_number(staffed):
    case_id = _open(staffed, contact_phone="+84 912 345 678")
    _move(staffed, case_id, "verifying")
    case = _move(staffed, case_id, "unfounded", note="Không đúng sự thật")
    assert (case["contact_phone"], case["substantiated"]) == (None, 0)
    # Reopened from "unfounded", the case can be investigated again.
    assert _move(staffed, case_id, "reopened", note="Có thêm nhân chứng")["state"] == "reopened"
    assert _move(staffed, case_id, "verifying")["state"] == "verifying"


@pytest.mark.parametrize("measure", workflow.SEVERE_MEASURES)
def test_severe_measures_need_the_password_again(staffed, measure):
    case_id = _case_in(staffed, "founded")
    workflow.record_explanation(staffed, case_id, CLERK, "Cán bộ giải trình bằng văn bản.", now=NOW)
    _move(staffed, case_id, "measure", root_cause="Vi phạm nhiều lần", measure=measure)
    before = table_snapshot(staffed)
    assert _refusal(lambda: _move(staffed, case_id, "awaiting_effect", CHAIR)) == NEEDS_PASSWORD
    assert table_snapshot(staffed) == before
    assert (
        _move(
            staffed, case_id, "awaiting_effect", CHAIR, reauth=_proof(staffed, CHAIR, workflow.approve_action(case_id))
        )["state"]
        == "awaiting_effect"
    )


@pytest.mark.parametrize("measure", ["reminder", "review", "training", "extra_staff"])
def test_ordinary_measures_are_approved_without_the_password(staffed, measure):
    case_id = _case_in(staffed, "founded")
    if measure in workflow.SANCTIONS:
        workflow.record_explanation(staffed, case_id, CLERK, "Cán bộ giải trình bằng văn bản.", now=NOW)
    _move(staffed, case_id, "measure", root_cause="Thiếu kỹ năng", measure=measure)
    case = _move(staffed, case_id, "awaiting_effect", CHAIR)
    assert (case["state"], case["measure_date"]) == ("awaiting_effect", "2024-06-15")  # defaults to today


def test_every_pair_not_in_the_workflow_is_refused(staffed):
    conn = staffed
    cases = {state: _case_in(conn, state) for state in workflow.STATES}
    refusals = 0
    for frm, case_id in cases.items():
        for to in [*workflow.STATES, "deleted"]:
            if (frm, to) in workflow.TRANSITIONS:
                continue
            before = table_snapshot(conn)
            # The Chairman, with every detail a transition could ask for: only the graph refuses.
            message = _refusal(
                lambda case_id=case_id, to=to: _move(
                    conn,
                    case_id,
                    to,
                    CHAIR,
                    note="Lý do",
                    root_cause="Nguyên nhân",
                    measure="reminder",
                    reauth=_proof(conn, CHAIR, workflow.approve_action(case_id)),
                )
            )
            assert message == refused(frm, to), (frm, to)
            assert table_snapshot(conn) == before, (frm, to)
            refusals += 1
    # 8 states × 9 targets (the 8 states and an unknown one) − 11 allowed transitions.
    assert refusals == 8 * 9 - 11
    assert refused("new", "closed") == "Không thể chuyển vụ việc từ “Mới” sang “Đã đóng”."
    assert _refusal(lambda: _move(conn, 999, "verifying")) == "Không có vụ việc số 999."


@pytest.mark.parametrize("pair", [p for p, roles in workflow.TRANSITIONS.items() if "clerk" not in roles])
def test_clerk_cannot_take_a_chairman_decision(staffed, pair):
    frm, to = pair
    case_id = _case_in(staffed, frm)
    before = table_snapshot(staffed)
    message = _refusal(
        lambda: _move(
            staffed, case_id, to, CLERK, note="Ý kiến", reauth=_proof(staffed, CLERK, workflow.approve_action(case_id))
        )
    )
    assert message == CHAIRMAN_ONLY.format(workflow.STATES[frm], workflow.STATES[to])
    assert table_snapshot(staffed) == before


# ------------------------------------------------------------------------------ intake from the survey


def _kiosk(conn, token: str, at: datetime, staff: str | None, answers: dict, comment: str | None = None) -> int:
    survey = KioskSurvey(
        token=token, questionnaire="sipas-2023", asked=list(answers), answers=answers, staff_code=staff, comment=comment
    )
    assert submit_kiosk_survey(conn, survey, now=at)
    assert intake.wait_idle()  # the case intake runs just after the submit, in the worker
    return db.response_by_token(conn, token)["id"]


def _response(
    conn, token: str, at: str, staff: str | None, answers: dict, *, demo: bool = False, comment: str | None = None
) -> int:
    assert db.insert_response(
        conn,
        {
            "token": token,
            "submitted_at": at,
            "questionnaire": "sipas-2023",
            "channel": "kiosk",
            "staff_code": staff,
            "is_demo": demo,
            "comment": comment,
        },
        answers,
    )
    return db.response_by_token(conn, token)["id"]


def test_a_submitted_low_conduct_rating_opens_a_case_and_a_second_one_attaches(staffed):
    conn = staffed
    r1 = _kiosk(conn, "k1", datetime(2024, 6, 3, 9, 0), "CB01", {"TC1.1": 5, "TC3.1": 4, "TC3.2": 2})
    assert intake.sync_from_survey(conn, now=NOW) == 0  # the submit itself opened or extended it
    [case] = db.list_cases(conn)
    assert {
        k: case[k] for k in ("type", "origin", "channel", "staff_code", "state", "received_at", "due_date", "title")
    } == {
        "type": "conduct",
        "origin": "survey",
        "channel": "survey",
        "staff_code": "CB01",
        "state": "new",
        "received_at": "2024-06-03",
        "due_date": "2024-06-18",  # 3 June + 15 days
        "title": "Phản ánh về thái độ phục vụ của cán bộ CB01",
    }
    assert db.case_response_ids(conn, case["id"]) == [r1]
    assert _events(conn, case["id"]) == [
        (
            "hệ thống",
            "open",
            None,
            "new",
            f"Tự động từ phiếu #{r1} (2024-06-03 09:00:00): TC3.2 được trả lời “Không hài lòng” (2).",
        )
    ]

    # A second low rating for the same staff member is evidence on the same open case.
    r2 = _kiosk(conn, "k2", datetime(2024, 6, 4, 10, 30), "CB01", {"TC3.1": 1, "TC3.4": 2})
    assert intake.sync_from_survey(conn, now=NOW) == 0  # the submit itself opened or extended it
    assert [c["id"] for c in db.list_cases(conn)] == [case["id"]]
    assert db.case_response_ids(conn, case["id"]) == [r1, r2]
    events = _events(conn, case["id"])
    assert len(events) == 2
    assert events[-1] == (
        "hệ thống",
        "evidence",
        None,
        None,
        f"Thêm phiếu #{r2} (2024-06-04 10:30:00): TC3.1 được trả lời “Rất không hài lòng” (1); "
        "TC3.4 được trả lời “Không hài lòng” (2).",
    )

    # Without a staff code nothing opens (the rules need a named person); "Bình thường" (3) opens nothing.
    _kiosk(conn, "k3", datetime(2024, 6, 5, 8, 0), None, {"TC3.3": 1})
    _kiosk(conn, "k4", datetime(2024, 6, 5, 9, 0), "CB02", {"TC3.1": 3, "TC3.2": 4, "TC3.3": 5, "TC1.1": 1})
    assert intake.sync_from_survey(conn, now=NOW) == 0  # the submit itself opened or extended it
    assert [c["id"] for c in db.list_cases(conn)] == [case["id"]]

    # Running again touches nothing.
    before = table_snapshot(conn)
    assert intake.sync_from_survey(conn, now=NOW) == 0
    assert table_snapshot(conn) == before

    # Once the case is closed, the next low rating opens a new one.
    _move(conn, case["id"], "verifying")
    _move(conn, case["id"], "unfounded", note="Không có cơ sở")
    r5 = _kiosk(conn, "k5", datetime(2024, 6, 10, 9, 0), "CB01", {"TC3.5": 2})
    assert intake.sync_from_survey(conn, now=NOW) == 0  # the submit itself opened or extended it
    newest = db.list_cases(conn, staff_code="CB01")[0]
    assert newest["id"] != case["id"]
    assert db.case_response_ids(conn, newest["id"]) == [r5]


def test_excluded_responses_open_nothing(staffed):
    rid = _response(staffed, "x1", "2024-06-03 09:00:00", "CB01", {"TC3.1": 1})
    db.set_excluded(staffed, rid, True, "Phiếu thử", "vanphong")
    assert intake.sync_from_survey(staffed, now=NOW) == 0
    assert db.list_cases(staffed) == []


def test_comment_tagged_as_conduct_opens_a_case(staffed):
    def tag(text):
        return "chê cán bộ" if "hách dịch" in text else ""

    _response(staffed, "c1", "2024-06-03 09:00:00", "CB02", {"TC3.1": 3}, comment="Phòng chờ hơi nóng")
    # Praise is about attitude too: a satisfied response (every rating 4–5) opens nothing.
    _response(
        staffed,
        "c2",
        "2024-06-03 09:30:00",
        "CB02",
        {"TC3.1": 5, "TC3.2": 4},
        comment="Cán bộ có thái độ rất tận tình",
    )
    r3 = _response(
        staffed,
        "c3",
        "2024-06-03 10:00:00",
        "CB02",
        {"TC3.1": 3, "TC3.2": 4},
        comment="Cán bộ có thái độ hách dịch",
    )
    assert intake.sync_from_survey(staffed, tag_comment=tag, now=NOW) == 1
    [case] = db.list_cases(staffed)
    assert (case["staff_code"], case["origin"], case["type"]) == ("CB02", "survey", "conduct")
    assert db.case_response_ids(staffed, case["id"]) == [r3]
    assert _events(staffed, case["id"])[0][4] == (
        f"Tự động từ phiếu #{r3} (2024-06-03 10:00:00): góp ý “Cán bộ có thái độ hách dịch” — chê cán bộ."
    )


def test_comments_are_ignored_without_a_tagger(staffed):
    _response(staffed, "c1", "2024-06-03 09:00:00", "CB02", {"TC3.1": 4}, comment="Cán bộ có thái độ hách dịch")
    assert intake.sync_from_survey(staffed, now=NOW) == 0
    assert db.list_cases(staffed) == []


def test_a_case_opened_later_is_dated_by_its_survey_and_due_from_its_opening(staffed):
    """A response stored without the intake (e.g. before an upgrade) is taken in by the next intake run: the
    case carries the survey's date, its deadline counts from the day it was opened."""
    rid = _response(staffed, "late", "2024-06-03 09:00:00", "CB01", {"TC3.1": 1})
    assert intake.sync_from_survey(staffed, now=NOW) == 1  # NOW is 15 June
    [case] = db.list_cases(staffed)
    assert (case["received_at"], case["due_date"]) == ("2024-06-03", "2024-06-30")
    assert db.case_response_ids(staffed, case["id"]) == [rid]


def test_a_submit_opens_the_case_with_the_real_comment_rules(staffed):
    _kiosk(staffed, "att", datetime(2024, 6, 3, 9, 0), "CB02", {"TC3.1": 3}, comment="Cán bộ có thái độ hách dịch")
    [case] = db.list_cases(staffed)
    assert (case["staff_code"], case["received_at"], case["due_date"]) == ("CB02", "2024-06-03", "2024-06-18")


def test_a_failing_intake_never_fails_the_submit(staffed, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(intake, "sync_from_survey", broken)
    _kiosk(staffed, "ok", datetime(2024, 6, 3, 9, 0), "CB01", {"TC3.1": 1})
    assert db.count_responses(staffed) == 1 and db.list_cases(staffed) == []
    assert "case intake after storing responses failed" in caplog.text
    monkeypatch.undo()
    assert intake.after_responses(staffed) == 1  # the next intake catches up


def test_an_imported_responses_file_opens_its_cases(staffed):
    from sipas.survey.responses import import_responses

    data = (
        b"response_id,submitted_at,questionnaire,channel,staff_code,TC3.1\n"
        b"f1,2024-06-03 09:00:00,sipas-2023,paper,CB01,1\n"
        b"f2,2024-06-03 10:00:00,sipas-2023,paper,CB01,5\n"
    )
    import_responses(staffed, data, "phieu.csv", active_version="sipas-2023")
    [case] = db.list_cases(staffed)
    assert (case["staff_code"], case["received_at"]) == ("CB01", "2024-06-03")
    assert case["due_date"] == (clock.today() + timedelta(days=workflow.DEFAULT_DUE_DAYS)).isoformat()


# ------------------------------------------------------------------------------ repeat offences


def _substantiated(conn, staff: str, received: str) -> int:
    moment = datetime.fromisoformat(received + " 09:00:00")
    case_id = _open(conn, now=moment, staff_code=staff, received_at=received)
    _move(conn, case_id, "verifying", now=moment)
    _move(conn, case_id, "founded", now=moment)
    return case_id


def test_repeat_offence_within_the_window(staffed):
    # today − round(12 × 30.44) = 365 days → the window starts 2023-12-16 (2024 has 29 February).
    a = _substantiated(staffed, "CB01", "2024-01-10")
    b = _substantiated(staffed, "CB01", "2024-12-10")  # 11 months later
    assert queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15)) == [{"staff_code": "CB01", "cases": [a, b]}]
    # Count 3 needs a third case.
    assert queue.repeat_offenders(staffed, 3, 12, today=date(2024, 12, 15)) == []


def test_repeat_offence_13_months_apart_is_not_flagged(staffed):
    _substantiated(staffed, "CB01", "2023-11-10")
    latest = _substantiated(staffed, "CB01", "2024-12-10")  # 13 months later
    assert queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15)) == []
    # At the edge of the window (it starts 2023-12-16, 365 days before 2024-12-15): 12 months and a day
    # before today is out, a day less than 12 months is in.
    outside = _substantiated(staffed, "CB01", "2023-12-14")
    assert queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15)) == []
    inside = _substantiated(staffed, "CB01", "2023-12-16")
    assert queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15)) == [
        {"staff_code": "CB01", "cases": [latest, inside]}
    ]
    assert outside not in queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15))[0]["cases"]


def test_an_unfounded_case_does_not_count(staffed):
    _substantiated(staffed, "CB01", "2024-03-10")
    other = _open(staffed, now=datetime(2024, 9, 1, 9, 0), received_at="2024-09-01")
    _move(staffed, other, "verifying")
    _move(staffed, other, "unfounded", note="Không đúng sự thật")
    assert queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15)) == []


def test_a_case_found_unfounded_after_reopening_does_not_count(staffed):
    _substantiated(staffed, "CB01", "2024-03-10")
    later = _substantiated(staffed, "CB01", "2024-09-01")
    assert len(queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15))) == 1
    for to, actor, extra in PATH[2:]:  # measure → … → closed → reopened
        _move(staffed, later, to, actor, **extra)
    _move(staffed, later, "verifying")
    _move(staffed, later, "unfounded", note="Xác minh lại: không có cơ sở")
    assert queue.repeat_offenders(staffed, 2, 12, today=date(2024, 12, 15)) == []


def test_chairman_decision_clears_the_flag_until_a_new_case(staffed):
    conn = staffed
    today = date(2024, 12, 15)
    a = _substantiated(conn, "CB01", "2024-01-10")
    b = _substantiated(conn, "CB01", "2024-12-10")
    assert queue.chairman_queue(conn, today)["repeat"] == [{"staff_code": "CB01", "cases": [a, b]}]

    # Refused: điều chuyển without the password again, and any decision by the clerk.
    before = table_snapshot(conn)
    assert (
        _refusal(
            lambda: workflow.decide_repeat(conn, CHAIR, "CB01", "reassign", "Điều chuyển sang bộ phận khác", now=NOW)
        )
        == REPEAT_NEEDS_PASSWORD
    )
    assert (
        _refusal(
            lambda: workflow.decide_repeat(
                conn,
                CLERK,
                "CB01",
                "none",
                "Đã nhắc nhở",
                reauth=_proof(conn, CLERK, workflow.repeat_action("CB01")),
                now=NOW,
            )
        )
        == REPEAT_CHAIRMAN_ONLY
    )
    assert _refusal(lambda: workflow.decide_repeat(conn, CHAIR, "CB01", "none", " ", now=NOW)) == (
        "Cần ghi nội dung quyết định hoặc lý do không điều chuyển, thay thế."
    )
    assert table_snapshot(conn) == before

    # "Không điều chuyển" needs no password; it is recorded on every substantiated case.
    decided = datetime(2024, 12, 15, 14, 0)
    workflow.decide_repeat(conn, CHAIR, "CB01", "none", "Cán bộ đã nhận lỗi, theo dõi thêm", now=decided)
    assert queue.repeat_offenders(conn, 2, 12, today=today) == []
    assert [(d["staff_code"], d["decided_at"], d["actor"], d["decision"]) for d in db.repeat_decisions(conn)] == [
        ("CB01", "2024-12-15 14:00:00", "chutich", "none")
    ]
    for case_id in (a, b):
        assert _events(conn, case_id)[-1] == (
            "chutich",
            "repeat-decision",
            None,
            None,
            "Không điều chuyển, thay thế: Cán bộ đã nhận lỗi, theo dõi thêm",
        )

    # A new substantiated case received after the decision raises the flag again.
    c = _substantiated(conn, "CB01", "2024-12-20")
    assert queue.repeat_offenders(conn, 2, 12, today=date(2024, 12, 21)) == [{"staff_code": "CB01", "cases": [a, b, c]}]


def test_repeat_rule_follows_the_settings(staffed):
    conn = staffed
    a = _substantiated(conn, "CB01", "2024-01-10")
    b = _substantiated(conn, "CB01", "2024-12-10")
    # From 2025 the commune counts 3 cases: the rule in force on the day asked is used.
    settings.put(conn, "repeat_offence", {"count": 3, "months": 12}, "chutich", valid_from="2025-01-01")
    assert queue.chairman_queue(conn, date(2024, 12, 15))["repeat"] == [{"staff_code": "CB01", "cases": [a, b]}]
    assert queue.chairman_queue(conn, date(2025, 1, 2))["repeat"] == []
    settings.put(conn, "repeat_offence", {"count": 3, "months": 12}, "chutich")
    assert queue.chairman_queue(conn, date(2024, 12, 15))["repeat"] == []


# ------------------------------------------------------------------------------ effectiveness

MEASURE_DAY = "2024-03-01"  # before: [2024-01-05, 2024-03-01); after: [2024-03-01, 2024-04-26) (8 weeks)
TODAY = date(2024, 4, 30)


def _ratings(conn, staff: str, first_day: str, values: list[int]) -> None:
    """One response a day from ``first_day``, each with one staff-conduct answer (plus answers that must not
    count: another element, and "Không ý kiến")."""
    start = date.fromisoformat(first_day)
    for i, v in enumerate(values):
        day = (start + timedelta(days=i)).isoformat()
        _response(conn, f"{staff}-{day}", f"{day} 09:00:00", staff, {"TC3.1": v, "TC3.2": None, "TC1.1": 1})


def _approved_case(conn, staff: str, measure: str = "training") -> dict:
    moment = datetime(2024, 2, 25, 9, 0)
    case_id = _open(conn, now=moment, staff_code=staff, received_at="2024-02-25")
    _move(conn, case_id, "verifying", now=moment)
    _move(conn, case_id, "founded", now=moment)
    if measure in workflow.SANCTIONS:
        workflow.record_explanation(conn, case_id, CLERK, "Cán bộ giải trình bằng văn bản.", now=moment)
    _move(conn, case_id, "measure", root_cause="Thiếu kỹ năng giao tiếp", measure=measure, now=moment)
    return _move(conn, case_id, "awaiting_effect", CHAIR, measure_date=MEASURE_DAY, now=moment)


def _noise(conn) -> None:
    """Answers the check must leave out: just outside both windows, excluded, another staff member."""
    _response(conn, "edge-before", "2024-01-04 16:00:00", "CB01", {"TC3.1": 1})
    _response(conn, "edge-after", "2024-04-26 08:00:00", "CB01", {"TC3.1": 1})
    rid = _response(conn, "excluded", "2024-03-10 09:00:00", "CB01", {"TC3.1": 1, "TC3.2": 1})
    db.set_excluded(conn, rid, True, "Phiếu trùng", "vanphong")
    _response(conn, "other-staff", "2024-03-10 10:00:00", "CB03", {"TC3.1": 1})


def test_a_measure_that_did_not_work_is_flagged(staffed):
    case = _approved_case(staffed, "CB01")
    _ratings(staffed, "CB01", "2024-02-01", [5] * 18 + [2] * 2)  # before: 18 of 20 satisfied (4–5)
    _ratings(staffed, "CB01", "2024-03-01", [4] * 10 + [3] * 10)  # after: 10 of 20
    _noise(staffed)
    effect = effects.effectiveness(staffed, case, min_n=10, floor=80.0, today=TODAY)
    assert (effect.before_n, effect.before_index, effect.after_n, effect.after_index) == (20, 90.0, 20, 50.0)
    assert effect.difference == pytest.approx(-40.0)
    # Independent: the uncorrected chi-square test on the 2×2 table equals the pooled z test.
    # By hand: pooled 28/40 = 0.7, se = √(0.7·0.3·(1/20 + 1/20)) = 0.1449, z = −0.4/0.1449 = −2.760, p = 0.0058.
    p = chi2_contingency([[10, 10], [18, 2]], correction=False)[1]
    assert effect.p_value == pytest.approx(p, rel=1e-9)
    assert effect.p_value == pytest.approx(0.00578, abs=5e-5)
    assert effect.ci_low < effect.difference < effect.ci_high < 0
    assert effect.verdict == "not_effective"
    assert effect.message == (
        "Chưa thấy hiệu quả: sau biện pháp 50,0% (n = 20), trước 90,0% (n = 20). "
        "(Tỷ lệ phiếu hài lòng với mọi tiêu chí công chức, chặt hơn chỉ số yếu tố 3.)"
    )


def test_a_significant_fall_is_flagged_even_above_the_floor(staffed):
    case = _approved_case(staffed, "CB01")
    _ratings(staffed, "CB01", "2024-01-05", [5] * 40)  # before: 40 of 40
    _ratings(staffed, "CB01", "2024-03-01", [4] * 34 + [1] * 6)  # after: 34 of 40 = 85 % ≥ floor 80
    effect = effects.effectiveness(staffed, case, min_n=10, floor=80.0, today=TODAY)
    # pooled 74/80, se = √(0.925·0.075·(2/40)) = 0.0589, z = −0.15/0.0589 = −2.55, p ≈ 0.011 < 0.05.
    p = chi2_contingency([[34, 6], [40, 0]], correction=False)[1]
    assert (effect.after_index, effect.p_value) == (85.0, pytest.approx(p, rel=1e-9))
    assert effect.p_value == pytest.approx(0.0108, abs=5e-4)
    assert effect.verdict == "not_effective"


def test_an_improvement_is_effective(staffed):
    case = _approved_case(staffed, "CB02")
    _ratings(staffed, "CB02", "2024-02-01", [4] * 10 + [2] * 10)  # before: 10 of 20
    _ratings(staffed, "CB02", "2024-03-01", [5] * 19 + [3])  # after: 19 of 20
    effect = effects.effectiveness(staffed, case, min_n=10, floor=80.0, today=TODAY)
    p = chi2_contingency([[19, 1], [10, 10]], correction=False)[1]
    assert (effect.before_index, effect.after_index, effect.difference) == (50.0, 95.0, pytest.approx(45.0))
    assert effect.p_value == pytest.approx(p, rel=1e-9)
    assert effect.verdict == "effective"
    assert effect.message == (
        "Có hiệu quả: sau biện pháp 95,0% (n = 20), trước 50,0% (n = 20). "
        "(Tỷ lệ phiếu hài lòng với mọi tiêu chí công chức, chặt hơn chỉ số yếu tố 3.)"
    )


def test_too_few_answers_after_is_insufficient(staffed):
    case = _approved_case(staffed, "CB04")
    _ratings(staffed, "CB04", "2024-02-01", [5] * 20)
    _ratings(staffed, "CB04", "2024-03-01", [1] * 9)  # 9 answers < min_n 10
    effect = effects.effectiveness(staffed, case, min_n=10, floor=80.0, today=TODAY)
    assert (effect.after_n, effect.after_index, effect.p_value, effect.verdict) == (9, 0.0, None, "insufficient")
    assert effect.message == (
        "Chưa đủ dữ liệu để đánh giá hiệu quả: 9 phiếu trong 60 ngày sau quyết định (cần ít nhất 10 phiếu và 14 ngày)."
    )
    # Only what has happened by ``today`` counts, and nothing is judged within 14 days of the decision:
    # on 4 March only 4 answers exist after the measure, and it is 3 days old.
    early = effects.effectiveness(staffed, case, min_n=1, floor=80.0, today=date(2024, 3, 4))
    assert (early.after_n, early.verdict) == (4, "insufficient")
    assert early.message.startswith("Chưa đủ dữ liệu để đánh giá hiệu quả: 4 phiếu trong 3 ngày")


def test_the_after_window_starts_at_the_decision_and_waits_for_14_days_and_30_answers(staffed):
    conn = staffed
    moment = datetime(2024, 6, 3, 14, 0)  # approved on 3 June at 14:00, applied the same day
    case_id = _open(conn, now=moment, staff_code="CB01", received_at="2024-06-01")
    _move(conn, case_id, "verifying", now=moment)
    _move(conn, case_id, "founded", now=moment)
    _move(conn, case_id, "measure", root_cause="Thiếu kỹ năng", measure="training", now=moment)
    # That morning's surveys come before the decision: they are "before", never "after".
    for i in range(13):
        _response(conn, f"morning-{i}", f"2024-06-03 08:{i:02d}:00", "CB01", {"TC3.1": 2 if i < 6 else 5})
    case = _move(conn, case_id, "awaiting_effect", CHAIR, measure_date="2024-06-03", now=moment)
    first = effects.effectiveness(conn, case, min_n=30, floor=80.0, today=date(2024, 6, 3))
    assert (first.before_n, first.after_n, first.verdict) == (13, 0, "insufficient")
    # 40 satisfied answers over the next 10 days: enough answers, too soon.
    _ratings(conn, "CB01", "2024-06-04", [5] * 40)
    soon = effects.effectiveness(conn, case, min_n=30, floor=80.0, today=date(2024, 6, 13))
    assert (soon.after_n, soon.verdict) == (10, "insufficient")
    on_day_14 = effects.effectiveness(conn, case, min_n=30, floor=80.0, today=date(2024, 6, 17))
    assert (on_day_14.after_n, on_day_14.verdict) == (14, "insufficient")  # 14 days, 14 answers < 30
    later = effects.effectiveness(conn, case, min_n=30, floor=80.0, today=date(2024, 7, 14))
    assert (later.before_n, later.after_n, later.after_index, later.verdict) == (13, 40, 100.0, "effective")
    # The stored check uses at least 30 answers, whatever the staff setting says (10 by default).
    effects.flag_effects(conn, today=date(2024, 6, 17))
    assert db.get_case(conn, case_id)["effect_flag"] == "insufficient"


def test_flag_effects_stores_the_verdict_and_the_queue_shows_it(staffed):
    conn = staffed
    bad = _approved_case(conn, "CB01")["id"]
    good = _approved_case(conn, "CB02")["id"]
    _ratings(conn, "CB01", "2024-02-01", [5] * 18 + [2] * 2)
    _ratings(conn, "CB01", "2024-03-01", [4] * 10 + [3] * 10)
    _ratings(conn, "CB02", "2024-02-01", [4] * 10 + [2] * 10)
    _ratings(conn, "CB02", "2024-03-01", [5] * 19 + [3])
    events_before = {c: len(db.case_events(conn, c)) for c in (bad, good)}

    assert effects.flag_effects(conn, 10, 80.0, today=TODAY) == [bad]
    assert (db.get_case(conn, bad)["effect_flag"], db.get_case(conn, good)["effect_flag"]) == (
        "not_effective",
        "effective",
    )
    assert _events(conn, bad)[-1] == (
        "hệ thống",
        "effect",
        None,
        None,
        "Chưa thấy hiệu quả: sau biện pháp 50,0% (n = 20), trước 90,0% (n = 20). "
        "(Tỷ lệ phiếu hài lòng với mọi tiêu chí công chức, chặt hơn chỉ số yếu tố 3.)",
    )
    assert {c: len(db.case_events(conn, c)) for c in (bad, good)} == {c: n + 1 for c, n in events_before.items()}
    # Run again: the same answer, no new history.
    before = table_snapshot(conn)
    assert effects.flag_effects(conn, 10, 80.0, today=TODAY) == [bad]
    assert table_snapshot(conn) == before

    assert [c["id"] for c in queue.chairman_queue(conn, TODAY)["not_effective"]] == [bad]


def test_chairman_queue(staffed):
    conn = staffed
    today = date(2024, 4, 30)
    moment = datetime(2024, 4, 25, 9, 0)
    overdue = _open(conn, now=moment, received_at="2024-04-01", due_date="2024-04-29")
    on_time = _open(conn, now=moment, received_at="2024-04-01", due_date="2024-04-30")
    closed_late = _open(conn, now=moment, received_at="2024-04-01", due_date="2024-04-10")
    _move(conn, closed_late, "verifying")
    _move(conn, closed_late, "unfounded", note="Không có cơ sở")
    unanswered = _open(conn, now=moment, received_at="2024-04-25", response_deadline="2024-04-29")
    answered = _open(conn, now=moment, received_at="2024-04-25", response_deadline="2024-04-29")
    workflow.add_note(conn, answered, CLERK, "Đã trả lời công dân qua điện thoại", responded=True, now=moment)
    signoff = _case_in(conn, "measure", now=moment, received_at="2024-04-25")

    pending = queue.chairman_queue(conn, today)
    assert [c["id"] for c in pending["overdue"]] == [overdue]
    assert [c["id"] for c in pending["deadline"]] == [unanswered]
    assert [c["id"] for c in pending["signoff"]] == [signoff]
    assert pending["not_effective"] == [] and pending["repeat"] == []
    assert on_time not in [c["id"] for c in pending["overdue"]]


# ------------------------------------------------------------------------------ history


def test_every_change_writes_exactly_one_history_entry(staffed):
    conn = staffed
    case_id = _open(conn)
    assert _events(conn, case_id) == [
        ("vanphong", "open", None, "new", "Đường dây nóng: Công dân phản ánh qua đường dây nóng")
    ]
    steps = [
        (
            lambda: _move(conn, case_id, "verifying", note="Giao ông Tâm xác minh"),
            ("vanphong", "transition", "new", "verifying", "Giao ông Tâm xác minh"),
        ),
        (
            lambda: workflow.add_note(conn, case_id, CLERK, "Đã gọi điện cho công dân", now=NOW),
            ("vanphong", "note", None, None, "Đã gọi điện cho công dân"),
        ),
        (
            lambda: workflow.add_note(conn, case_id, CLERK, "Trả lời: đang xác minh", responded=True, now=NOW),
            ("vanphong", "response", None, None, "Trả lời: đang xác minh"),
        ),
        (lambda: _move(conn, case_id, "founded"), ("vanphong", "transition", "verifying", "founded", None)),
        (
            lambda: _move(conn, case_id, "measure", root_cause="Thiếu kỹ năng", measure="training", note="Khóa 2 ngày"),
            (
                "vanphong",
                "transition",
                "founded",
                "measure",
                "Nguyên nhân: Thiếu kỹ năng. Biện pháp: Tập huấn. Khóa 2 ngày",
            ),
        ),
        (
            lambda: _move(conn, case_id, "awaiting_effect", CHAIR, note="Đồng ý"),
            ("chutich", "transition", "measure", "awaiting_effect", "Đồng ý"),
        ),
        (
            lambda: _move(conn, case_id, "closed", note="Đã cải thiện"),
            ("vanphong", "transition", "awaiting_effect", "closed", "Đã cải thiện"),
        ),
    ]
    for act, expected in steps:
        n = len(db.case_events(conn, case_id))
        act()
        new = _events(conn, case_id)[n:]
        assert new[0] == expected
        # The approval is followed by the system's first check of the effect, an entry of its own.
        follow_up = [("hệ thống", "effect")] if expected[3] == "awaiting_effect" else []
        assert [e[:2] for e in new[1:]] == follow_up
    assert db.get_case(conn, case_id)["responded_at"] == "2024-06-15 09:00:00"
    # A refused step and an empty note leave no trace.
    before = table_snapshot(conn)
    assert _refusal(lambda: workflow.add_note(conn, case_id, CLERK, "  ", now=NOW)) == "Ghi chú trống."
    assert _refusal(lambda: _move(conn, case_id, "founded", CHAIR, note="x")) == refused("closed", "founded")
    assert table_snapshot(conn) == before


def test_history_cannot_be_changed_or_deleted(staffed):
    conn = staffed
    case_id = _open(conn)
    _move(conn, case_id, "verifying")
    before = table_snapshot(conn)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE case_events SET note = 'sửa' WHERE case_id = ?", (case_id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM case_events WHERE case_id = ?", (case_id,))
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        conn.execute("DELETE FROM cases WHERE id = ?", (case_id,))
    assert table_snapshot(conn) == before


def test_demo_cases_go_with_the_demo_data_except_those_a_person_worked_on(staffed):
    conn = staffed
    real = _open(conn)
    demo_r1 = _response(conn, "demo-1", "2024-06-03 09:00:00", "CB02", {"TC3.1": 1}, demo=True)
    _response(conn, "real-1", "2024-06-03 10:00:00", "CB02", {"TC3.1": 2})
    demo_r2 = _response(conn, "demo-2", "2024-06-03 11:00:00", "CB03", {"TC3.1": 1}, demo=True)
    assert intake.sync_from_survey(conn, now=NOW) == 3  # two demo cases and a real case: never mixed
    by_staff = {(c["staff_code"], c["is_demo"]): c["id"] for c in db.list_cases(conn) if c["origin"] == "survey"}
    untouched, worked = by_staff[("CB02", 1)], by_staff[("CB03", 1)]
    hand_opened = _open(conn, staff_code="CB02", is_demo=True)  # opened by the clerk: a person's work
    _move(conn, worked, "verifying")  # the clerk started verifying the survey's complaint
    worked_history = _events(conn, worked)
    kept = sorted(c["id"] for c in db.list_cases(conn) if c["id"] != untouched)

    assert db.delete_demo_data(conn, "vanphong") == 1  # demo-1 only: demo-2 is the evidence of a worked case
    assert sorted(c["id"] for c in db.list_cases(conn)) == kept
    assert db.demo_cases_kept(conn) == 2
    assert _events(conn, worked) == worked_history  # its history whole
    assert db.case_response_ids(conn, worked) == [demo_r2]  # and its evidence, word for word
    assert db.response_by_token(conn, "demo-2")["staff_code"] == "CB03"
    assert db.response_by_token(conn, "demo-1") is None
    assert demo_r1 not in db.case_response_ids(conn, untouched)
    assert conn.execute("SELECT count(*) FROM case_events WHERE case_id = ?", (untouched,)).fetchone()[0] == 0
    assert len(db.case_events(conn, real)) == 1
    assert len(db.case_events(conn, hand_opened)) == 1
    audit = conn.execute("SELECT note FROM audit_log WHERE action = 'delete-demo'").fetchone()
    assert audit[0] == "giữ 2 vụ việc mẫu đã xử lý"


# ------------------------------------------------------------------------------ monthly figures


def test_monthly_counts(staffed):
    conn = staffed

    def closed(kind: str, received: str, closed_on: str, **kw) -> int:
        case_id = _open(
            conn, now=datetime.fromisoformat(received + " 08:00:00"), case_type=kind, received_at=received, **kw
        )
        at = datetime.fromisoformat(closed_on + " 16:00:00")
        _move(conn, case_id, "verifying", now=at)
        _move(conn, case_id, "unfounded", note="Không có cơ sở", now=at)
        return case_id

    closed("conduct", "2024-05-02", "2024-05-04")  # 2 days
    closed("conduct", "2024-05-06", "2024-05-11")  # 5 days
    closed("procedure", "2024-05-10", "2024-05-19")  # 9 days
    _open(
        conn, now=datetime(2024, 5, 20, 8, 0), case_type="waiting", received_at="2024-05-20", due_date="2024-05-25"
    )  # still open past its due date at the end of May
    _open(
        conn, now=datetime(2024, 4, 28, 8, 0), case_type="facilities", received_at="2024-04-28", due_date="2024-05-31"
    )  # due on the last day: not overdue in May
    closed("other", "2024-03-20", "2024-04-10", due_date="2024-03-25")  # late, but closed in April

    may = queue.monthly_counts(conn, "2024-05", today=date(2024, 7, 1))
    assert may == {
        "opened": 4,
        "closed": 3,
        "overdue": 1,
        "overdue_at_end": 1,  # the waiting case, on 31/05
        "as_of": "2024-05-31",
        "by_type": {"Thái độ, ứng xử": 2, "Chờ đợi, nhân lực": 1, "Hồ sơ, thủ tục": 1, "Cơ sở vật chất": 0, "Khác": 0},
        "median_days_to_close": 5.0,  # median of 2, 5, 9
    }
    april = queue.monthly_counts(conn, "2024-04", today=date(2024, 7, 1))
    # Opened in April: the facilities case; closed: the late one (21 days), which was overdue in April.
    assert (april["opened"], april["closed"], april["overdue"], april["median_days_to_close"]) == (1, 1, 1, 21.0)
    assert queue.monthly_counts(conn, "2024-07")["median_days_to_close"] is None


def test_public_summary_names_no_one(staffed):
    conn = staffed
    name = STAFF["CB01"]
    moment = datetime(2024, 5, 10, 9, 0)
    case_id = _open(conn, now=moment, title=f"Bà {name} quát người dân", description=f"{name} không hướng dẫn")
    _move(conn, case_id, "verifying", note=f"Đã làm việc với {name}", now=moment)
    _move(conn, case_id, "founded", now=moment)
    _move(
        conn,
        case_id,
        "measure",
        root_cause=f"{name} quá tải",
        measure="other",
        measure_detail=f"{name} xin lỗi công dân",
        note=f"Đề nghị {name} viết tường trình",
        now=moment,
    )
    _move(conn, case_id, "awaiting_effect", CHAIR, measure_date="2024-05-15", note=f"Đồng ý với {name}", now=moment)
    other = _open(
        conn,
        now=moment,
        case_type="procedure",
        origin="analysis",
        channel="analysis",
        criterion="TC2.1",
        staff_code=None,
        title="Cải thiện tiêu chí TC2.1",
    )
    _move(conn, other, "verifying", now=moment)
    _move(conn, other, "founded", now=moment)
    _move(conn, other, "measure", root_cause="Thiếu người giờ cao điểm", measure="extra_staff", now=moment)
    _move(conn, other, "awaiting_effect", CHAIR, measure_date="2024-05-20", now=moment)
    outside = _case_in(conn, "awaiting_effect", now=moment)  # measure dated 2024-06-15: another month

    lines = public.public_summary(conn, "2024-05")
    assert lines == [  # newest case first
        "Người dân phản ánh về tiêu chí TC2.1 — phản ánh đã được xem xét, xử lý; bố trí thêm người tiếp nhận "
        "hồ sơ vào giờ đông.",
        "Người dân phản ánh về thái độ, ứng xử — phản ánh đã được xem xét, xử lý; việc tiếp đón, hướng dẫn "
        "người dân tại quầy được theo dõi hằng tháng qua phiếu khảo sát.",
    ]
    for line in lines:
        assert name not in line and "CB01" not in line
        assert "Hồng" not in line
    assert db.get_case(conn, outside)["measure_date"] == "2024-06-15"


# ------------------------------------------------------------------------------ open_case validation


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"contact_phone": "09ab123"}, "Số điện thoại không hợp lệ."),
        ({"contact_phone": "12345"}, "Số điện thoại không hợp lệ."),
        ({"staff_code": "CB99"}, 'Không có cán bộ mã "CB99".'),
        ({"received_at": "2024-06-16"}, "Ngày tiếp nhận không được ở tương lai."),
        ({"received_at": "2024-06-10", "response_deadline": "2024-06-09"}, "Hạn trả lời phải sau ngày tiếp nhận."),
        ({"received_at": "2024-13-01"}, 'Ngày tiếp nhận: ngày "2024-13-01" không hợp lệ (cần YYYY-MM-DD).'),
        ({"title": "   "}, "Cần nhập tiêu đề (tóm tắt nội dung phản ánh)."),
        (
            {"case_type": "noise"},
            "Loại vụ việc phải là một trong: Thái độ, ứng xử, Chờ đợi, nhân lực, Hồ sơ, thủ tục, Cơ sở vật chất, Khác.",
        ),
        ({"origin": "email"}, "Nguồn vụ việc không hợp lệ."),
        ({"channel": "zalo"}, "Nguồn tiếp nhận không hợp lệ."),
        ({"priority": "urgent"}, "Mức ưu tiên không hợp lệ."),
    ],
)
def test_open_case_refuses_bad_input(staffed, kw, message):
    before = table_snapshot(staffed)
    assert _refusal(lambda: _open(staffed, **kw)) == message
    assert table_snapshot(staffed) == before


def test_open_case_lists_every_problem(staffed):
    before = table_snapshot(staffed)
    with pytest.raises(ValidationError) as exc:
        _open(staffed, contact_phone="abc", staff_code="CB99", received_at="2024-07-01")
    assert exc.value.problems == [
        'Không có cán bộ mã "CB99".',
        "Số điện thoại không hợp lệ.",
        "Ngày tiếp nhận không được ở tương lai.",
    ]
    assert table_snapshot(staffed) == before


def test_open_case_stores_what_was_entered(staffed):
    case_id = _open(
        staffed,
        received_at="2024-06-10",
        due_date="2024-06-20",
        response_deadline="2024-06-12",
        contact_phone=" 0912.345.678 ",
        priority="high",
        schedule={"check": "2024-07-01"},
    )
    case = db.get_case(staffed, case_id)
    assert {
        k: case[k]
        for k in (
            "received_at",
            "due_date",
            "response_deadline",
            "contact_phone",
            "priority",
            "schedule",
            "state",
            "is_demo",
            "created_at",
        )
    } == {
        "received_at": "2024-06-10",
        "due_date": "2024-06-20",
        "response_deadline": "2024-06-12",
        "contact_phone": "0912.345.678",
        "priority": "high",
        "schedule": '{"check": "2024-07-01"}',
        "state": "new",
        "is_demo": 0,
        "created_at": "2024-06-15 09:00:00",
    }


def test_effectiveness_counts_responses_not_answers(staffed):
    """One citizen's five conduct answers are one observation: a response with any conduct answer 1–3
    is one unsatisfied response, whatever its other answers."""
    conn = staffed
    _response(conn, "p1", "2024-03-04 09:00:00", "CB01", {"TC3.1": 5, "TC3.2": 5, "TC3.3": 2})
    _response(conn, "p2", "2024-03-04 10:00:00", "CB01", {"TC3.1": 4, "TC3.2": 5})
    _response(conn, "p3", "2024-03-04 11:00:00", "CB01", {"TC3.1": None, "TC1.1": 1})  # no conduct opinion
    _response(conn, "p4", "2024-03-04 12:00:00", "CB02", {"TC3.1": 1})  # another staff member
    # CB01: 2 responses with a conduct answer, 1 of them satisfied with every conduct criterion.
    assert db.conduct_counts(conn, "CB01", "2024-03-01", "2024-03-31") == (2, 1)
    # Everyone: 3 responses, 1 satisfied.
    assert db.conduct_counts(conn, None, "2024-03-01", "2024-03-31") == (3, 1)


def test_a_criterion_below_the_floor_becomes_one_improvement_action(staffed):
    """From the analysis: TC5.2 at 2/4 = 50% < 80% with n ≥ 4 is offered once; after its action is open it
    is no longer offered; TC1.1 at 4/4 = 100% never is."""
    conn = staffed
    for i, (v52, v11) in enumerate([(5, 5), (4, 4), (2, 5), (1, 4)]):
        _response(conn, f"w{i}", f"2024-05-0{i + 1} 09:00:00", None, {"TC5.2": v52, "TC1.1": v11})
    weak = queue.criteria_below_floor(conn, "sipas-2023", "2024-01-01", "2024-12-31", 80, min_n=4)
    assert [(w["code"], w["index"], w["n"]) for w in weak] == [("TC5.2", 50.0, 4)]
    assert queue.criteria_below_floor(conn, "sipas-2023", "2024-01-01", "2024-12-31", 80, min_n=5) == []
    case_id = proposals.open_from_analysis(conn, CLERK, "TC5.2", 50.0, 80, "năm 2024")
    case = db.get_case(conn, case_id)
    assert (case["type"], case["origin"], case["criterion"], case["title"]) == (
        "other",
        "analysis",
        "TC5.2",
        "Cải thiện tiêu chí TC5.2: 50.00% dưới mức 80% (năm 2024)",
    )
    assert queue.criteria_below_floor(conn, "sipas-2023", "2024-01-01", "2024-12-31", 80, min_n=4) == []


# ------------------------------------------------------------------------------ re-authentication proof


def _severe_case(conn) -> int:
    case_id = _case_in(conn, "founded")
    workflow.record_explanation(conn, case_id, CLERK, "Cán bộ giải trình bằng văn bản.", now=NOW)
    _move(conn, case_id, "measure", root_cause="Vi phạm nhiều lần", measure="reassign")
    return case_id


def test_a_wrong_or_empty_password_gives_no_proof(staffed):
    _proof(staffed, CHAIR, "warm-up")  # makes the account
    for wrong in ("", "sai-mat-khau", PASSWORD.upper()):
        with pytest.raises(ValidationError, match="Mật khẩu không đúng."):
            auth.reauthenticate(staffed, CHAIR.username, wrong, workflow.approve_action(1))


def test_the_domain_refuses_a_forged_old_or_borrowed_proof(staffed):
    import dataclasses
    import time

    conn = staffed
    case_id = _severe_case(conn)
    other_case = _severe_case(conn)
    good = _proof(conn, CHAIR, workflow.approve_action(case_id))
    deputy = Actor("phochutich", "chairman")
    refused = {
        "forged signature": dataclasses.replace(good, signature="0" * 64),
        "edited user": dataclasses.replace(good, username=deputy.username),
        "another case": _proof(conn, CHAIR, workflow.approve_action(other_case)),
        "another kind of decision": _proof(conn, CHAIR, workflow.repeat_action("CB01")),
        "too old": auth.reauthenticate(
            conn, CHAIR.username, PASSWORD, workflow.approve_action(case_id), now=time.time() - auth.REAUTH_SECONDS - 5
        ),
        "from the future": auth.reauthenticate(
            conn, CHAIR.username, PASSWORD, workflow.approve_action(case_id), now=time.time() + 600
        ),
        "not a proof at all": True,
    }
    before = table_snapshot(conn)
    for why, proof in refused.items():
        assert _refusal(lambda proof=proof: _move(conn, case_id, "awaiting_effect", CHAIR, reauth=proof)) == (
            NEEDS_PASSWORD
        ), why
    # Another Chairman's account cannot use this Chairman's proof either.
    assert _refusal(lambda: _move(conn, case_id, "awaiting_effect", deputy, reauth=good)) == NEEDS_PASSWORD
    assert table_snapshot(conn) == before
    # The genuine, fresh proof of this user for this case is accepted.
    assert _move(conn, case_id, "awaiting_effect", CHAIR, reauth=good)["state"] == "awaiting_effect"


def test_a_repeat_offence_decision_checks_its_own_proof(staffed):
    conn = staffed
    wrong = _proof(conn, CHAIR, workflow.repeat_action("CB02"))
    assert (
        _refusal(lambda: workflow.decide_repeat(conn, CHAIR, "CB01", "reassign", "Điều chuyển", reauth=wrong, now=NOW))
        == REPEAT_NEEDS_PASSWORD
    )
    right = _proof(conn, CHAIR, workflow.repeat_action("CB01"))
    a = _substantiated(conn, "CB01", "2024-01-10")
    # The right proof is not enough before the staff member's explanation is on one of the founded cases.
    assert (
        _refusal(lambda: workflow.decide_repeat(conn, CHAIR, "CB01", "reassign", "Điều chuyển", reauth=right, now=NOW))
        == "Cần ghi giải trình của cán bộ (ở một vụ việc có cơ sở) trước khi quyết định điều chuyển, thay thế."
    )
    workflow.record_explanation(conn, a, CHAIR, "Giải trình của cán bộ CB01.", now=NOW)
    workflow.decide_repeat(conn, CHAIR, "CB01", "reassign", "Điều chuyển", reauth=right, now=NOW)


def test_two_intakes_at_once_take_each_response_in_once(staffed, db_file):
    """The worker of one app process and an import in another run the intake at the same time."""
    import threading

    ids = [_response(staffed, f"p{i}", f"2024-06-03 09:{i:02d}:00", "CB01", {"TC3.1": 1}) for i in range(40)]
    touched, conns = [], [db.connect(db_file) for _ in range(4)]
    threads = [threading.Thread(target=lambda c=c: touched.append(intake.sync_from_survey(c, now=NOW))) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in conns:
        c.close()
    assert sum(touched) == 40
    [case] = db.list_cases(staffed)
    assert db.case_response_ids(staffed, case["id"]) == ids
    assert len(db.case_events(staffed, case["id"])) == 40  # one "open", 39 "evidence": none twice


@pytest.mark.parametrize("measure", ["reminder", "review", "reassign", "replace", "discipline"])
def test_public_summary_never_states_a_measure_against_a_person(staffed, measure):
    conn = staffed
    moment = datetime(2024, 5, 10, 9, 0)
    case_id = _open(conn, now=moment)
    _move(conn, case_id, "verifying", now=moment)
    _move(conn, case_id, "founded", now=moment)
    if measure in workflow.SANCTIONS:
        workflow.record_explanation(conn, case_id, CLERK, "Cán bộ giải trình bằng văn bản.", now=moment)
    _move(conn, case_id, "measure", root_cause="Thiếu kỹ năng", measure=measure, now=moment)
    _move(
        conn,
        case_id,
        "awaiting_effect",
        CHAIR,
        measure_date="2024-05-15",
        now=moment,
        reauth=_proof(conn, CHAIR, workflow.approve_action(case_id)),
    )
    (line,) = public.public_summary(conn, "2024-05")
    assert "đã được xem xét, xử lý" in line
    for word in public.FORBIDDEN_PUBLIC_WORDS:
        assert word not in line.lower()


def test_overdue_is_one_definition_and_approved_cases_leave_the_queue(staffed):
    conn = staffed
    moment = datetime(2024, 4, 1, 9, 0)
    late = _open(conn, now=moment, received_at="2024-04-01", due_date="2024-04-10")
    approved = _case_in(conn, "measure", now=moment, received_at="2024-04-01", due_date="2024-04-10")
    today = date(2024, 4, 20)
    assert {c["id"] for c in queue.chairman_queue(conn, today)["overdue"]} == {late, approved}
    _move(conn, approved, "awaiting_effect", CHAIR, now=datetime(2024, 4, 20, 10, 0))
    pending = queue.chairman_queue(conn, today)
    assert [c["id"] for c in pending["overdue"]] == [late]
    april = queue.monthly_counts(conn, "2024-04", today=today)
    assert april["overdue_at_end"] == len(pending["overdue"]) == 1
    assert april["overdue"] == 2  # both were overdue on some day of April


def test_satisfied_responses_cost_the_intake_no_write(staffed):
    """Responses that open nothing are passed over without a write transaction (the pointer stays
    until intake.INTAKE_IDLE_LAG lie behind it); a complaint after them is still taken in, once."""
    for i in range(30):
        _response(staffed, f"ok{i}", f"2024-06-03 09:{i:02d}:00", "CB01", {"TC3.1": 4}, comment="Cảm ơn")
    changes = staffed.total_changes
    assert intake.sync_from_survey(staffed, tag_comment=comments.conduct_tagger(), now=NOW) == 0
    assert staffed.total_changes == changes  # nothing written, not even the pointer
    rid = _response(staffed, "bad", "2024-06-03 10:00:00", "CB01", {"TC3.1": 1})
    assert intake.sync_from_survey(staffed, now=NOW) == 1
    [case] = db.list_cases(staffed)
    assert db.case_response_ids(staffed, case["id"]) == [rid]
    assert intake.sync_from_survey(staffed, now=NOW) == 0
    assert int(db.get_meta(staffed, "case_intake_last_response")) == rid


def test_a_long_catch_up_is_taken_in_small_transactions(staffed):
    """An intake of many complaints writes them batch_size at a time, each exactly once."""
    ids = [
        _response(staffed, f"b{i}", f"2024-06-03 09:{i % 60:02d}:00", f"CB0{1 + i % 2}", {"TC3.2": 2})
        for i in range(25)
    ]
    assert intake.sync_from_survey(staffed, now=NOW, batch_size=4) == 25
    linked = sorted(r for c in db.list_cases(staffed) for r in db.case_response_ids(staffed, c["id"]))
    assert linked == ids
    assert sum(len(db.case_events(staffed, c["id"])) for c in db.list_cases(staffed)) == 25


def test_the_intake_and_a_conduct_effect_check_import_neither_pandas_nor_scipy(staffed, db_file):
    """The kiosk's worker runs the intake and the effect checks in the app process after every burst;
    a conduct case's two-proportion test needs no pandas or scipy (seconds to import)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sipas import db\nfrom sipas.cases import intake\n"
        "conn = db.connect(sys.argv[1])\n"
        "intake.after_responses(conn)\n"
        "assert db.list_cases(conn, states=('awaiting_effect',)), 'no case waiting for its effect'\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'numpy') if m in sys.modules))\n"
    )
    for i in range(5):
        _response(staffed, f"before{i}", f"2024-05-{20 + i:02d} 09:00:00", "CB01", {"TC3.1": 4, "TC3.2": 5})
    for i in range(30):  # the effect is judged from 30 answers on (effects.EFFECT_MIN_ANSWERS)
        day = (date(2024, 6, 3) + timedelta(days=i)).isoformat()
        _response(staffed, f"e{i}", f"{day} 09:00:00", "CB01", {"TC3.1": 5, "TC3.2": 1 + i % 5})
    case_id = _open(staffed, now=datetime(2024, 6, 1, 9, 0))
    staffed.execute("UPDATE cases SET state = 'awaiting_effect', measure_date = '2024-06-02' WHERE id = ?", (case_id,))
    out = subprocess.run([sys.executable, "-c", code, str(db_file)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    [checked] = [c for c in db.list_cases(staffed) if c["id"] == case_id]
    assert checked["effect_flag"] in ("effective", "not_effective")
