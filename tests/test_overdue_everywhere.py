"""The overdue count is one number: the Chairman's header, his monthly block, the cases page and the
monthly report all show the same count of cases overdue today (queue.overdue_cases)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from sipas import clock, db, reports
from sipas.admin import auth
from sipas.cases import queue, workflow

APP = str(Path(__file__).resolve().parent.parent / "main_page.py")
PW = "mat-khau-chu-tich"
CLERK, CHAIR = workflow.Actor("thongke", "clerk"), workflow.Actor("chutich", "chairman")


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def cases(conn):
    today = clock.today()
    first = today.replace(day=1)
    auth.create_user(conn, "chutich", PW, "chairman", first_admin=True, full_name="Võ Minh Tâm")
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB02", "full_name": "Trần Văn Minh"})
    opened = datetime.combine(first - timedelta(days=20), datetime.min.time()).replace(hour=8)

    def case(due, **kw):
        return workflow.open_case(
            conn,
            CLERK,
            case_type="procedure",
            origin="clerk",
            channel="hotline",
            title="Hồ sơ chậm",
            received_at=opened.date(),
            due_date=due,
            now=opened,
            **kw,
        )

    still_late = [case(first - timedelta(days=5)), case(first - timedelta(days=2))]
    on_time = case(today + timedelta(days=10))
    approved = case(first - timedelta(days=3))
    workflow.transition(conn, approved, "verifying", CLERK)
    workflow.transition(conn, approved, "founded", CLERK)
    workflow.transition(conn, approved, "measure", CLERK, root_cause="Thiếu người", measure="training")
    workflow.transition(conn, approved, "awaiting_effect", CHAIR)  # decided: leaves the queue
    unfounded = case(first - timedelta(days=4))
    workflow.transition(conn, unfounded, "verifying", CLERK)
    workflow.transition(conn, unfounded, "unfounded", CLERK, "Không đúng sự thật")
    return {"late": still_late, "on_time": on_time, "approved": approved, "unfounded": unfounded}


def page(conn, path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["staff_token"] = auth.start_session(conn, auth.authenticate(conn, "chutich", PW))
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_overdue_count_is_the_same_wherever_it_is_shown(conn, cases):
    expected = len(cases["late"])
    assert {c["id"] for c in queue.chairman_queue(conn)["overdue"]} == set(cases["late"])

    at = page(conn, "app_pages/chairman.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Quá hạn"] == str(expected)
    (now_label,) = [k for k in metrics if k.startswith("Đang quá hạn ngày")]
    assert metrics[now_label] == str(expected)
    assert now_label.endswith(clock.format_date(clock.today()))
    # Overdue at some time this month, up to today: the two late ones, and the two handled today if
    # today is not the 1st (a case handled on a day is not overdue that day); never the case whose due
    # date is still ahead.
    today = clock.today()
    handled_today = 2 if today > today.replace(day=1) else 0
    assert metrics["Quá hạn trong tháng"] == str(expected + handled_today)
    tables = [d.value for d in at.dataframe if "Số" in d.value.columns]
    assert sorted(tables[0]["Số"]) == sorted(cases["late"])  # the first case table is the overdue one

    at = page(conn, "app_pages/cases.py")
    assert any(c.value.startswith(f"{expected} vụ việc đang quá hạn") for c in at.caption)

    report = reports.build_report(conn, clock.today().strftime("%Y-%m"))
    rows = dict(reports.model.case_count_rows(report))
    (label,) = [k for k in rows if k.startswith("Vụ việc đang quá hạn ngày")]
    assert rows[label] == expected
