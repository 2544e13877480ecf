"""The counter tablet page through AppTest: what the citizen sees and what ends up in the database.

AppTest runs the real entry point (app.py) as an anonymous visitor, so the survey is the page it
lands on. It never ticks ``st.fragment(run_every=…)`` timers, so the idle reset is driven by moving
the survey's last activity into the past (or by a 1 s limit from the environment) and rerunning.
The browser tests (test_browser_kiosk.py) cover the real timers, taps and layout.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from sipas import clock, db, settings
from sipas.catalog import questionnaire
from sipas.responses import submit_kiosk_survey

WELCOME = "Ông/Bà hài lòng với sự phục vụ hôm nay chứ?"
START = "Bắt đầu đánh giá"
NEXT = "Tiếp tục ▶"
BACK = "◀ Quay lại"
SUBMIT = "Gửi đánh giá ✔"
THANKS = "Cảm ơn Ông/Bà!"
NOTHING_ANSWERED = "Xin Ông/Bà chọn ít nhất một mức đánh giá trước khi gửi."
OUT_OF_ORDER = "Hệ thống khảo sát đang tạm dừng"
NO_OPINION = 0
APP = str(Path(__file__).resolve().parent.parent / "app.py")
FULL_STEPS = 8  # 5 elements + overall + context + comment


# ------------------------------------------------------------------------------ helpers


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not any(OUT_OF_ORDER in i.value for i in at.info), [i.value for i in at.info]
    return at


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, f"{label!r} not shown once: {[b.label for b in at.button]}"
    return found[0]


def tap(at: AppTest, label: str) -> AppTest:
    button(at, label).click()
    return run(at)


def progress_text(at: AppTest) -> str:
    bars = at.get("progress")
    assert len(bars) == 1
    return bars[0].proto.text


def pill(at: AppTest, attr: str):
    """The pills widget for a criterion code or survey field (its key ends in ``:<attr>``)."""
    found = [p for p in at.pills if p.key.endswith(":" + attr)]
    assert len(found) == 1, f"no single pills for {attr}: {[p.key for p in at.pills]}"
    return found[0]


def shown_criteria(at: AppTest) -> list[str]:
    return [p.key.rsplit(":", 1)[1] for p in at.pills if p.key.rsplit(":", 1)[1].startswith("TC")]


def choose(at: AppTest, attr: str, value) -> AppTest:
    pill(at, attr).set_value(value)
    return run(at)


def start(at: AppTest) -> AppTest:
    run(at)
    return tap(at, START)


def go_to_last_step(at: AppTest) -> None:
    while progress_text(at) != f"Bước {FULL_STEPS}/{FULL_STEPS}":
        tap(at, NEXT)


def rows(path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(path) as c:
        return [tuple(r) for r in c.execute(sql, params)]


def stored_responses(path) -> list[dict]:
    with sqlite3.connect(path) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute("SELECT * FROM responses ORDER BY id")]


def stored_answers(path, response_id: int) -> dict[str, int | None]:
    return dict(rows(path, "SELECT criterion, value FROM answers WHERE response_id = ?", (response_id,)))


ALWAYS_OPEN = {"days": [0, 1, 2, 3, 4, 5, 6], "periods": [["00:00", "24:00"]]}


@pytest.fixture
def at(conn) -> AppTest:
    # Outside opening hours the tablet shows a "closed" screen: keep the counter open for these tests.
    settings.put(conn, "opening_hours", ALWAYS_OPEN, actor="test")
    return AppTest.from_file(APP, default_timeout=30)


# ------------------------------------------------------------------------------ screens


def test_welcome_screen_invites_and_promises_anonymity(at):
    run(at)
    assert [t.value for t in at.title] == [WELCOME]
    # The unit's name in force today: since 1/7/2025 the shipped one is the Trung tâm of xã Tu Bông.
    assert settings.default_for("unit_name", clock.today()) in at.markdown[0].value
    assert button(at, START).label == START
    assert any("ẩn danh" in c.value for c in at.caption)
    assert not at.pills


def test_outside_opening_hours_the_tablet_shows_closed_and_no_survey(at, conn):
    settings.put(conn, "opening_hours", {"days": [], "periods": [["07:00", "11:30"]]}, actor="test")
    run(at)
    assert [t.value for t in at.title] == ["Đã hết giờ làm việc"]
    assert not [b for b in at.button if b.label == START]


def test_start_shows_step_one_of_eight_with_the_first_element(at):
    start(at)
    assert progress_text(at) == f"Bước 1/{FULL_STEPS}"
    assert at.subheader[0].value == "Tiếp cận dịch vụ hành chính công"
    assert shown_criteria(at) == ["TC1.1", "TC1.2", "TC1.3", "TC1.4"]
    # 1..5 with their faces, then "Không ý kiến"; nothing chosen yet.
    assert pill(at, "TC1.1").options == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
        "Không ý kiến",
    ]
    assert pill(at, "TC1.1").value is None
    assert button(at, "✕ Hủy") and button(at, NEXT)


def test_a_tapped_answer_is_kept_in_the_survey(at):
    start(at)
    choose(at, "TC1.2", 4)
    assert pill(at, "TC1.2").value == 4
    assert at.session_state["kiosk"]["survey"].answers == {"TC1.2": 4}


def test_back_and_forward_keep_the_answers(at):
    start(at)
    choose(at, "TC1.1", 5)
    choose(at, "TC1.3", NO_OPINION)
    tap(at, NEXT)
    assert progress_text(at) == f"Bước 2/{FULL_STEPS}"
    choose(at, "TC2.1", 2)
    tap(at, BACK)
    assert progress_text(at) == f"Bước 1/{FULL_STEPS}"
    assert pill(at, "TC1.1").value == 5
    assert pill(at, "TC1.3").value == NO_OPINION
    assert pill(at, "TC1.2").value is None
    tap(at, NEXT)
    assert pill(at, "TC2.1").value == 2


def test_cancel_goes_back_to_welcome_and_stores_nothing(at, db_file):
    start(at)
    choose(at, "TC1.1", 5)
    tap(at, "✕ Hủy")
    assert [t.value for t in at.title] == [WELCOME]
    assert stored_responses(db_file) == []


# ------------------------------------------------------------------------------ submitting


def test_no_opinion_is_stored_as_null_not_as_a_level(at, db_file):
    start(at)
    choose(at, "TC1.1", NO_OPINION)
    choose(at, "TC1.2", 4)
    go_to_last_step(at)
    tap(at, SUBMIT)
    [row] = stored_responses(db_file)
    answers = stored_answers(db_file, row["id"])
    assert answers["TC1.1"] is None
    assert answers["TC1.2"] == 4
    # Every asked criterion has a row; the untouched ones are NULL as well.
    assert set(answers) == set(questionnaire(row["questionnaire"]).criterion_codes)
    assert sum(v is not None for v in answers.values()) == 1


@pytest.mark.parametrize("answer", [None, NO_OPINION], ids=["nothing", "only-no-opinion"])
def test_submitting_without_any_opinion_warns_and_stores_nothing(at, db_file, answer):
    start(at)
    if answer is not None:
        choose(at, "TC1.1", answer)
    go_to_last_step(at)
    tap(at, SUBMIT)
    assert [w.value for w in at.warning] == [NOTHING_ANSWERED]
    assert progress_text(at) == f"Bước {FULL_STEPS}/{FULL_STEPS}"  # still on the survey
    assert stored_responses(db_file) == []
    assert rows(db_file, "SELECT count(*) FROM answers") == [(0,)]


def test_a_complete_survey_stores_one_row_with_every_value(at, db_file, conn):
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
    cycle = [5, 4, 3, 2, 1, NO_OPINION]
    expected: dict[str, int | None] = {}
    start(at)
    for step in range(1, 6):
        assert progress_text(at) == f"Bước {step}/{FULL_STEPS}"
        for code in shown_criteria(at):
            value = cycle[len(expected) % len(cycle)]
            choose(at, code, value)
            expected[code] = None if value == NO_OPINION else value
        tap(at, NEXT)
    assert progress_text(at) == f"Bước 6/{FULL_STEPS}"
    choose(at, "overall", 4)
    choose(at, "harassment", 1)
    choose(at, "informal_payment", 1)
    tap(at, NEXT)
    choose(at, "wait_bucket", "15-30")
    choose(at, "field", "Đất đai")
    choose(at, "staff_code", "CB01")
    tap(at, NEXT)
    at.text_area[0].input("Cán bộ rất nhiệt tình, cảm ơn!")
    run(at)
    at.pills(key=[p.key for p in at.pills if p.key.endswith(":expectations")][0]).set_value(
        ["Trụ sở, trang thiết bị", "Năng lực của công chức"]
    )
    run(at)
    choose(at, "gender", "Nữ")
    choose(at, "age_group", "Trên 60")
    choose(at, "education", "THCS")
    tap(at, SUBMIT)

    assert [t.value for t in at.title] == [THANKS]
    [row] = stored_responses(db_file)
    assert {
        k: row[k]
        for k in (
            "channel",
            "questionnaire",
            "overall",
            "harassment",
            "informal_payment",
            "wait_bucket",
            "field",
            "staff_code",
            "comment",
            "gender",
            "age_group",
            "education",
            "excluded",
            "is_demo",
        )
    } == {
        "channel": "kiosk",
        "questionnaire": "sipas-2023",
        "overall": 4,
        "harassment": 1,
        "informal_payment": 1,
        "wait_bucket": "15-30",
        "field": "Đất đai",
        "staff_code": "CB01",
        "comment": "Cán bộ rất nhiệt tình, cảm ơn!",
        "gender": "Nữ",
        "age_group": "Trên 60",
        "education": "THCS",
        "excluded": 0,
        "is_demo": 0,
    }
    assert json.loads(row["expectations"]) == ["Trụ sở, trang thiết bị", "Năng lực của công chức"]
    assert len(expected) == 19
    assert stored_answers(db_file, row["id"]) == expected
    assert row["duration_seconds"] is not None and row["duration_seconds"] >= 0


def test_a_double_tap_on_submit_stores_the_survey_once(at, db_file, conn):
    start(at)
    choose(at, "TC1.1", 5)
    go_to_last_step(at)
    survey = at.session_state["kiosk"]["survey"]
    submit = button(at, SUBMIT)
    submit.click().run()  # first tap
    assert [t.value for t in at.title] == [THANKS]
    # Second tap on the button the citizen still saw: the browser sends its trigger once more.
    # (AppTest cannot rerun the old screen as a whole, its other widgets are gone, so send only
    # what the tap sends.)
    second_tap = WidgetStates()
    second_tap.widgets.append(submit._widget_state)
    at._run(second_tap)
    assert not at.exception
    assert [t.value for t in at.title] == [THANKS]
    assert not at.warning
    # And if the submit callback itself ran twice (a retried request), the token stops a copy.
    assert submit_kiosk_survey(conn, survey) is False
    assert rows(db_file, "SELECT count(*) FROM responses") == [(1,)]
    assert rows(db_file, "SELECT count(*) FROM answers WHERE value IS NOT NULL") == [(1,)]


def test_a_second_survey_after_the_first_gets_its_own_row(at, db_file):
    for level in (5, 2):
        start(at)
        choose(at, "TC1.1", level)
        go_to_last_step(at)
        tap(at, SUBMIT)
        tap(at, "Về trang đầu")
    assert rows(
        db_file,
        "SELECT a.value FROM answers a JOIN responses r ON r.id = a.response_id "
        "WHERE a.criterion = 'TC1.1' ORDER BY r.id",
    ) == [(5,), (2,)]


def test_short_mode_asks_every_staff_conduct_criterion_and_four_others(at, db_file, conn):
    settings.put(conn, "questions_per_survey", {"mode": "short", "rotating": 4}, actor="test")
    start(at)
    survey = at.session_state["kiosk"]["survey"]
    assert len(survey.asked) == 9
    n_elements = len(at.session_state["kiosk"]["steps"]) - 3
    seen: list[str] = []
    for step in range(1, n_elements + 1):
        assert progress_text(at) == f"Bước {step}/{n_elements + 3}"
        codes = shown_criteria(at)
        assert codes, "an element screen without a question"
        for code in codes:
            choose(at, code, 4)
        seen += codes
        tap(at, NEXT)
    assert seen == survey.asked
    assert {"TC3.1", "TC3.2", "TC3.3", "TC3.4", "TC3.5"} <= set(seen)
    assert len([c for c in seen if not c.startswith("TC3.")]) == 4
    assert progress_text(at) == f"Bước {n_elements + 1}/{n_elements + 3}"  # overall comes next
    tap(at, NEXT)
    tap(at, NEXT)
    tap(at, SUBMIT)
    [row] = stored_responses(db_file)
    assert stored_answers(db_file, row["id"]) == {c: 4 for c in seen}


# ------------------------------------------------------------------------------ idle reset


def test_an_idle_survey_returns_to_welcome_and_is_counted_as_abandoned(at, db_file):
    start(at)
    choose(at, "TC1.1", 5)
    tap(at, NEXT)
    at.session_state["kiosk"]["last_activity"] = time.monotonic() - 30  # under the 90 s default
    run(at)
    assert progress_text(at) == f"Bước 2/{FULL_STEPS}"
    assert rows(db_file, "SELECT count(*) FROM kiosk_events") == [(0,)]

    at.session_state["kiosk"]["last_activity"] = time.monotonic() - 10_000
    run(at)
    assert [t.value for t in at.title] == [WELCOME]
    assert rows(db_file, "SELECT kind, step FROM kiosk_events") == [("abandoned", 2)]
    assert stored_responses(db_file) == []
    assert rows(db_file, "SELECT count(*) FROM answers") == [(0,)]
    # The next citizen starts a clean survey.
    tap(at, START)
    assert pill(at, "TC1.1").value is None


def test_idle_limit_comes_from_the_environment(at, db_file, monkeypatch):
    monkeypatch.setenv("SIPAS_KIOSK_IDLE_SECONDS", "1")  # read each time the page script runs
    start(at)
    choose(at, "TC1.1", 5)
    time.sleep(1.2)
    run(at)
    assert [t.value for t in at.title] == [WELCOME]
    assert rows(db_file, "SELECT kind, step FROM kiosk_events") == [("abandoned", 1)]
    assert stored_responses(db_file) == []


# ------------------------------------------------------------------------------ citizen text


def test_a_comment_is_stored_exactly_as_typed(at, db_file):
    typed = "<script>alert(1)</script>\n=1+1"
    start(at)
    choose(at, "TC1.1", 3)
    go_to_last_step(at)
    at.text_area[0].input(typed)
    run(at)
    tap(at, BACK)
    tap(at, NEXT)
    assert at.text_area[0].value == typed  # kept when going back and forth
    tap(at, SUBMIT)
    [row] = stored_responses(db_file)
    assert row["comment"] == typed


def test_welcome_screen_shows_the_public_summary_only_when_turned_on(db_file):
    """ "Người dân nói — chúng tôi đã làm": this month's measures, in fixed wording, never a staff name."""
    from sipas import actions, clock

    conn = db.open_db(db_file)
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB09", "full_name": "Nguyễn Văn Riêng"})
    clerk, chair = actions.Actor("thongke", "clerk"), actions.Actor("chutich", "chairman")
    case_id = actions.open_case(
        conn,
        clerk,
        case_type="conduct",
        origin="clerk",
        channel="hotline",
        staff_code="CB09",
        title="Nguyễn Văn Riêng nói trống không",
    )
    actions.transition(conn, case_id, "verifying", clerk)
    actions.transition(conn, case_id, "founded", clerk)
    actions.transition(
        conn,
        case_id,
        "measure",
        clerk,
        root_cause="Thiếu kỹ năng giao tiếp",
        measure="training",
        measure_detail="Tập huấn riêng cho Nguyễn Văn Riêng",
    )
    actions.transition(conn, case_id, "awaiting_effect", chair, measure_date=clock.now().date())

    at = run(AppTest.from_file(str(APP), default_timeout=30))
    assert "Người dân nói — chúng tôi đã làm" not in [m.value for m in at.markdown]

    settings.put(conn, "public_summary_on_kiosk", True, "thongke")
    conn.close()
    at = run(AppTest.from_file(str(APP), default_timeout=30))
    assert "**Người dân nói — chúng tôi đã làm**" in [m.value for m in at.markdown]
    shown = [t.value for t in at.text]
    assert shown == [
        "• Người dân phản ánh về thái độ, ứng xử — phản ánh đã được xem xét, xử lý; cán bộ tại quầy được "
        "tập huấn thêm về giao tiếp và hướng dẫn người dân."
    ]
    assert not any("Riêng" in t for t in shown)
