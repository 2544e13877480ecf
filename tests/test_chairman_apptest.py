"""The Chairman's page: approving a severe measure needs his password again; a wrong password changes
nothing; a clerk never gets the page (and the domain refuses the decision anyway)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sipas import db
from sipas.admin import auth
from sipas.cases import workflow

APP = str(Path(__file__).resolve().parent.parent / "main_page.py")
PW = "mat-khau-chu-tich"


pytestmark = pytest.mark.usefixtures("fast_argon2")  # conftest.py


@pytest.fixture
def case_awaiting_signoff(conn):
    auth.create_user(conn, "chutich", PW, "chairman", first_admin=True, full_name="Võ Minh Tâm")
    auth.create_user(conn, "thongke", PW, "clerk", full_name="Lê Văn Hùng")
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB02", "full_name": "Trần Văn Minh"})
    clerk = workflow.Actor("thongke", "clerk")
    case_id = workflow.open_case(
        conn,
        clerk,
        case_type="conduct",
        origin="clerk",
        channel="hotline",
        staff_code="CB02",
        title="Cán bộ quát tháo người dân",
    )
    workflow.transition(conn, case_id, "verifying", clerk)
    workflow.transition(conn, case_id, "founded", clerk, "Có người làm chứng")
    workflow.record_explanation(conn, case_id, clerk, "Cán bộ nhận đã nói to vì phòng quá ồn.")
    workflow.transition(conn, case_id, "measure", clerk, root_cause="Áp lực công việc giờ cao điểm", measure="reassign")
    return case_id


def chairman_page(conn, username: str = "chutich") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    user = auth.authenticate(conn, username, PW)
    at.session_state["staff_token"] = auth.start_session(conn, user)
    at.run()
    at.switch_page("app_pages/chairman.py")
    at.run()
    assert not at.exception, at.exception
    return at


def decide(at: AppTest, case_id: int, password: str, confirm: bool = True) -> AppTest:
    at.radio(key=f"so_{case_id}").set_value("approve")
    at.text_input(key=f"sp_{case_id}").input(password)
    at.checkbox(key=f"sc_{case_id}").set_value(confirm)
    (button,) = [b for b in at.button if b.label == "Ghi quyết định"]
    button.click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_reassignment_needs_the_chairmans_password_again(conn, case_awaiting_signoff):
    case_id = case_awaiting_signoff
    at = chairman_page(conn)
    assert [t.value for t in at.title] == ["Việc chờ Chủ tịch quyết định"]
    events_before = len(db.case_events(conn, case_id))

    decide(at, case_id, PW, confirm=False)  # the right password, but the decision not confirmed
    assert db.get_case(conn, case_id)["state"] == "measure"
    assert any("xác nhận" in c.value for c in at.code)

    at = chairman_page(conn)
    decide(at, case_id, "")  # no password
    assert db.get_case(conn, case_id)["state"] == "measure"
    assert any("cần nhập lại mật khẩu" in c.value for c in at.code)

    at = chairman_page(conn)
    decide(at, case_id, "mat-khau-sai")  # wrong password
    assert db.get_case(conn, case_id)["state"] == "measure"
    assert any("Mật khẩu không đúng." in c.value for c in at.code)
    assert len(db.case_events(conn, case_id)) == events_before

    at = chairman_page(conn)
    decide(at, case_id, PW)
    case = db.get_case(conn, case_id)
    assert (case["state"], case["measure_approved_by"]) == ("awaiting_effect", "chutich")
    last = [e for e in db.case_events(conn, case_id) if e["kind"] == "transition"][-1]
    assert (last["actor"], last["from_state"], last["to_state"]) == ("chutich", "measure", "awaiting_effect")
    # Waiting for its effect, the case is now checked against the data (not enough answers yet).
    assert db.case_events(conn, case_id)[-1]["kind"] == "effect"


def test_a_clerk_has_no_chairman_page_and_cannot_decide(conn, case_awaiting_signoff):
    at = AppTest.from_file(APP, default_timeout=30)
    user = auth.authenticate(conn, "thongke", PW)
    at.session_state["staff_token"] = auth.start_session(conn, user)
    at.run()
    with pytest.raises(ValueError):
        at.switch_page("app_pages/chairman.py")
    with pytest.raises(Exception, match="Chỉ Chủ tịch UBND xã"):
        workflow.transition(conn, case_awaiting_signoff, "awaiting_effect", workflow.Actor("thongke", "clerk"))
    assert db.get_case(conn, case_awaiting_signoff)["state"] == "measure"


@pytest.fixture
def repeat_offender(conn):
    """CB02 with two founded conduct cases: one opened by a survey (its evidence quoted), one by a phone call."""
    from sipas import clock
    from sipas.cases import intake

    auth.create_user(conn, "chutich", PW, "chairman", first_admin=True, full_name="Võ Minh Tâm")
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB02", "full_name": "Trần Văn Minh"})
    response = {"submitted_at": "", "questionnaire": "sipas-2023", "channel": "kiosk", "staff_code": "CB02"}
    now = clock.now()
    for i in range(12):
        db.insert_response(
            conn,
            {**response, "token": f"r{i}", "submitted_at": f"{now.date().isoformat()} 08:{i:02d}:00"},
            {"TC3.1": 2 if i == 0 else 5},
        )
    conn.execute("UPDATE responses SET comment = 'Anh Minh quát tháo người già.' WHERE token = 'r0'")
    conn.commit()
    intake.open_cases(conn)
    chair = workflow.Actor("chutich", "chairman")
    survey_case = db.list_cases(conn)[0]["id"]
    phone_case = workflow.open_case(
        conn, chair, case_type="conduct", origin="clerk", channel="hotline", staff_code="CB02", title="Gọi điện"
    )
    for cid in (survey_case, phone_case):
        workflow.transition(conn, cid, "verifying", chair)
        workflow.transition(conn, cid, "founded", chair)
    return survey_case, phone_case


def test_the_repeat_decision_shows_the_evidence_and_waits_for_the_explanation(conn, repeat_offender):
    survey_case, _ = repeat_offender
    at = chairman_page(conn)
    assert at.radio(key="rd_CB02").value is None  # no sanction pre-selected
    texts = [t.value for t in at.text]
    assert any("TC3.1 được trả lời “Không hài lòng” (2)" in t and "“Anh Minh quát tháo người già.”" in t for t in texts)
    assert any("n = 12 phiếu" in t and "ước lượng đã hiệu chỉnh" in t for t in texts)
    assert "Chưa có giải trình của cán bộ ở vụ việc này." in [w.value for w in at.warning]

    def decide_reassign(at):
        at.radio(key="rd_CB02").set_value("reassign")
        at.text_area(key="rn_CB02").input("Điều chuyển sang bộ phận văn thư")
        at.text_input(key="rp_CB02").input(PW)
        at.checkbox(key="rc_CB02").set_value(True)
        (button,) = [b for b in at.button if b.label == "Ghi quyết định"]
        button.click()
        at.run()
        assert not at.exception, at.exception

    decide_reassign(at)
    assert db.repeat_decisions(conn, "CB02") == []
    assert any("Cần ghi giải trình của cán bộ" in c.value for c in at.code)

    at = chairman_page(conn)
    at.selectbox(key="ec_CB02").set_value(survey_case)
    at.text_area(key="et_CB02").input("Tôi nhận đã nói to, xin rút kinh nghiệm.")
    (button,) = [b for b in at.button if b.label == "Ghi giải trình"]
    button.click()
    at.run()
    assert [e["note"] for e in workflow.explanations(conn, survey_case)] == ["Tôi nhận đã nói to, xin rút kinh nghiệm."]
    at = chairman_page(conn)
    decide_reassign(at)
    assert [d["decision"] for d in db.repeat_decisions(conn, "CB02")] == ["reassign"]
