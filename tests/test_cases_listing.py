"""``python -m sipas cases --json``: the contract's shape (data-interchange.md, "Cases"), its filters, and
its refusals of a bad filter."""

from __future__ import annotations

import json
from datetime import datetime

from conftest import run_cli, table_snapshot

from sipas import db
from sipas.cases import intake, workflow
from sipas.cases.listing import STATUS_SLUGS
from sipas.cases.workflow import Actor

CLERK = Actor("vanphong", "clerk")
NOW = datetime(2024, 6, 15, 9, 0, 0)


def _survey(conn, token: str, at: str, staff: str, answers: dict) -> int:
    db.insert_response(
        conn,
        {"token": token, "submitted_at": at, "questionnaire": "sipas-2023", "channel": "kiosk", "staff_code": staff},
        answers,
    )
    return db.response_by_token(conn, token)["id"]


def _fill(conn) -> dict:
    for code, name in {"CB01": "Nguyễn Thị Hồng", "CB02": "Trần Văn Minh"}.items():
        db.upsert_staff(conn, {"code": code, "full_name": name})
    r1 = _survey(conn, "a", "2024-06-03 09:00:00", "CB01", {"TC3.1": 1})
    _survey(conn, "b", "2024-06-03 09:30:00", "CB02", {"TC3.1": 4})  # no complaint: opens nothing
    r3 = _survey(conn, "c", "2024-06-04 10:00:00", "CB01", {"TC3.2": 2})
    assert intake.sync_from_survey(conn, now=NOW) == 2
    conduct = next(c["id"] for c in db.list_cases(conn) if c["origin"] == "survey")
    workflow.transition(conn, conduct, "verifying", CLERK, now=NOW)
    workflow.transition(conn, conduct, "founded", CLERK, now=NOW)
    hotline = workflow.open_case(
        conn, CLERK, case_type="procedure", origin="clerk", channel="hotline", title="Hỏi về hồ sơ", now=NOW
    )
    workflow.transition(conn, hotline, "verifying", CLERK, now=NOW)
    workflow.transition(conn, hotline, "unfounded", CLERK, note="Hồ sơ đã trả đúng hạn", now=NOW)
    criterion = workflow.open_case(
        conn, CLERK, case_type="facilities", origin="analysis", channel="analysis", criterion="TC1.1",
        title="Cải thiện tiêu chí TC1.1", now=NOW,
    )  # fmt: skip
    signal = workflow.open_case(
        conn, None, case_type="conduct", origin="analysis", channel="signal", staff_code="CB02",
        title="Tín hiệu thống kê", now=NOW,
    )  # fmt: skip
    return {"conduct": conduct, "hotline": hotline, "criterion": criterion, "signal": signal, "evidence": [r1, r3]}


def test_cases_json_has_the_contract_shape(db_file):
    conn = db.open_db(db_file)
    ids = _fill(conn)
    conn.close()
    r = run_cli("cases", "--json", db_path=db_file)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [set(x) for x in rows] == [{"id", "kind", "staff_code", "status", "opened_at", "founded", "evidence"}] * 4
    by_id = {x["id"]: x for x in rows}
    assert by_id[ids["conduct"]] == {
        "id": ids["conduct"],
        "kind": "conduct",
        "staff_code": "CB01",
        "status": "co_co_so",
        "opened_at": by_id[ids["conduct"]]["opened_at"],
        "founded": True,
        "evidence": ids["evidence"],
    }
    datetime.strptime(by_id[ids["conduct"]]["opened_at"], "%Y-%m-%d %H:%M:%S")
    assert by_id[ids["hotline"]] == {
        "id": ids["hotline"], "kind": "pakn", "staff_code": None, "status": "khong_co_co_so",
        "opened_at": "2024-06-15 09:00:00", "founded": False, "evidence": [],
    }  # fmt: skip
    assert (by_id[ids["criterion"]]["kind"], by_id[ids["criterion"]]["founded"]) == ("criterion", None)
    assert (by_id[ids["signal"]]["kind"], by_id[ids["signal"]]["status"]) == ("signal", "moi")
    assert [x["id"] for x in rows] == sorted(by_id)


def test_cases_json_filters(db_file):
    conn = db.open_db(db_file)
    ids = _fill(conn)
    conn.close()
    only = json.loads(run_cli("cases", "--json", "--kind", "signal", db_path=db_file).stdout)
    assert [x["id"] for x in only] == [ids["signal"]]
    new = json.loads(run_cli("cases", "--json", "--status", "moi", db_path=db_file).stdout)
    assert sorted(x["id"] for x in new) == sorted([ids["criterion"], ids["signal"]])
    both = json.loads(run_cli("cases", "--json", "--status", "moi", "--kind", "pakn", db_path=db_file).stdout)
    assert both == []
    assert len(set(STATUS_SLUGS.values())) == len(workflow.STATES)
    assert set(STATUS_SLUGS) == set(workflow.STATES)


def test_cases_bad_filter_is_refused_in_vietnamese(db_file):
    conn = db.open_db(db_file)
    _fill(conn)
    before = table_snapshot(conn)
    conn.close()
    r = run_cli("cases", "--json", "--kind", "complaint", "--status", "new", db_path=db_file)
    assert r.returncode == 1
    assert 'Loại "complaint" không hợp lệ, chỉ nhận: conduct, signal, staffing, criterion, pakn.' in r.stderr
    assert 'Trạng thái "new" không hợp lệ' in r.stderr
    assert r.stdout == ""
    conn = db.open_db(db_file)
    assert table_snapshot(conn) == before
    conn.close()
