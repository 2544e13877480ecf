"""The clerk's cases page: the staff member's explanation (giải trình) recorded word for word and shown in
the case's history; a comment that is evidence of a case relabelled by the clerk (audited, shown beside
the comment, used by the classifier from then on); bad input refused with nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sipas import clock, db
from sipas.admin import auth
from sipas.cases import intake, workflow
from sipas.index import classify
from tests.conftest import click, table_snapshot

APP = str(Path(__file__).resolve().parent.parent / "main_page.py")
PW = "mat-khau-can-bo"
# A complaint the classifier misses on its own (no conduct word); the case opens on the rating of 2.
COMMENT = "Anh ấy làm việc kiểu gì vậy"
EXPLANATION = "Tôi *không* cố ý, hôm đó [quá đông] người: xin rút kinh nghiệm."

pytestmark = pytest.mark.usefixtures("fast_argon2")  # conftest.py


@pytest.fixture
def survey_case(conn):
    """A conduct case against CB02 opened by a survey that rates TC3.1 "Không hài lòng" and comments."""
    auth.create_user(conn, "thongke", PW, "clerk", first_admin=True, full_name="Lê Văn Hùng")
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB02", "full_name": "Trần Văn Minh"})
    now = clock.now()
    db.insert_response(
        conn,
        {
            "submitted_at": f"{now.date().isoformat()} 08:00:00",
            "questionnaire": "sipas-2023",
            "channel": "kiosk",
            "staff_code": "CB02",
            "token": "r0",
            "comment": COMMENT,
        },
        {"TC3.1": 2},
    )
    conn.commit()
    intake.open_cases(conn)
    (case,) = db.list_cases(conn)
    assert (case["type"], case["staff_code"]) == ("conduct", "CB02")
    return case["id"]


def cases_page(conn) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["staff_token"] = auth.start_session(conn, auth.authenticate(conn, "thongke", PW))
    at.run()
    at.switch_page("app_pages/cases.py")
    at.run()
    assert not at.exception, at.exception
    return at


def history(at: AppTest):
    (frame,) = [d.value for d in at.dataframe if "Việc" in d.value.columns]
    return frame


def evidence(at: AppTest):
    (frame,) = [d.value for d in at.dataframe if "Góp ý" in d.value.columns]
    return frame


def stored(conn) -> dict:
    """Every table but the staff sessions (each page run notes when the clerk was last active)."""
    snapshot = table_snapshot(conn)
    del snapshot["staff_sessions"]
    return snapshot


def refusal(at: AppTest) -> str:
    assert [e.value for e in at.error] == ["Chưa lưu được:"]
    return "\n".join(c.value for c in at.code)


def test_the_clerk_records_the_explanation_word_for_word(conn, survey_case):
    at = cases_page(conn)
    assert at.text_area(key="case_explain_text").label == "Giải trình của cán bộ bị phản ánh (ghi nguyên văn)"

    for typed, message in [
        ("   ", "Cần ghi nội dung giải trình của cán bộ."),
        ("Đúng vậy", "Giải trình quá ngắn (ít nhất 10 ký tự): ghi nguyên văn lời giải trình của cán bộ."),
    ]:
        before = stored(conn)
        at.text_area(key="case_explain_text").input(typed)
        click(at, "Ghi giải trình")
        assert refusal(at) == message
        assert stored(conn) == before
        assert "Giải trình của cán bộ" not in list(history(at)["Việc"])

    at.text_area(key="case_explain_text").input(EXPLANATION)
    click(at, "Ghi giải trình")
    assert [e["note"] for e in workflow.explanations(conn, survey_case)] == [EXPLANATION]
    assert [(e["actor"], e["kind"]) for e in workflow.explanations(conn, survey_case)] == [("thongke", "explanation")]
    rows = history(at)
    shown = rows[rows["Việc"] == "Giải trình của cán bộ"]
    assert list(shown["Ghi chú"]) == [EXPLANATION]  # as typed: the asterisks and brackets kept
    assert list(shown["Người"]) == ["thongke"]


def test_the_clerk_corrects_a_comments_label_and_the_classifier_uses_it(conn, survey_case):
    assert classify.classify(COMMENT, corrections=db.comment_label_corrections(conn)).conduct_complaint is False
    at = cases_page(conn)
    assert list(evidence(at)["Góp ý"]) == [COMMENT]
    assert list(evidence(at)["Nhãn góp ý do cán bộ sửa"]) == ["—"]
    assert at.radio(key="label_value").value is None  # nothing pre-selected
    assert at.radio(key="label_value").options == [
        "Đây là phàn nàn về thái độ cán bộ",
        "Không phải phàn nàn về thái độ",
    ]

    before = stored(conn)
    click(at, "Lưu nhãn góp ý")  # no label chosen
    assert refusal(at) == "Chọn nhãn đúng của góp ý."
    assert stored(conn) == before

    (response_id,) = list(evidence(at)["Phiếu"])
    at.selectbox(key="label_pick").set_value(int(response_id))
    at.radio(key="label_value").set_value(True)
    click(at, "Lưu nhãn góp ý")
    assert not at.error
    (note,) = list(evidence(at)["Nhãn góp ý do cán bộ sửa"])
    assert note.startswith("Đây là phàn nàn về thái độ cán bộ (sửa bởi thongke, ")

    last = db.audit_entries(conn, 1)[0]
    assert (last["actor"], last["action"], last["entity"], last["old_value"], last["new_value"]) == (
        "thongke",
        "comment-label",
        COMMENT,
        None,
        "phản ánh về cán bộ",
    )
    # Next time (any typing of the same comment) the classifier gives the clerk's label.
    corrections = db.comment_label_corrections(conn)
    assert classify.classify(COMMENT, corrections=corrections).conduct_complaint is True
    assert classify.classify("anh ay lam viec kieu gi vay", corrections=corrections).conduct_complaint is True

    # Corrected back: the audit keeps both, the table shows the latest.
    at.radio(key="label_value").set_value(False)
    click(at, "Lưu nhãn góp ý")
    (note,) = list(evidence(at)["Nhãn góp ý do cán bộ sửa"])
    assert note.startswith("Không phải phàn nàn về thái độ (sửa bởi thongke, ")
    last = db.audit_entries(conn, 1)[0]
    assert (last["old_value"], last["new_value"]) == ("phản ánh về cán bộ", "không phải phản ánh")
    assert classify.classify(COMMENT, corrections=db.comment_label_corrections(conn)).conduct_complaint is False
