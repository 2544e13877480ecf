"""The phone's JSON routes (qr_route.py): states, status codes, the body limit, bad JSON, no-store."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from conftest import asgi_request, table_snapshot

from qr_route import MSG_BAD_JSON, MSG_TOO_LARGE, ROUTES
from sipas import clock
from sipas.admin import settings
from sipas.survey import gate, qr


def payload(**extra):
    p = {
        "token": str(uuid.uuid4()),
        "questionnaire": "sipas-2023",
        "asked": ["TC3.1", "TC3.2"],
        "answers": {"TC3.1": 4, "TC3.2": 5},
        "overall": 5,
        "duration_seconds": 40.0,
        "completed_ago_ms": 0,
    }
    p.update(extra)
    return p


@pytest.fixture
def code(conn):
    settings.put(conn, "qr_base_url", "https://khaosat.example.vn", "test")
    return qr.issue_sheet(conn, 1, now=clock.now(), actor="vanphong")[0].code


def get(code):
    status, headers, body = asgi_request(ROUTES, "GET", f"/api/qr/{code}")
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    return status, json.loads(body)


def post(code, body: bytes, **kw):
    status, headers, out = asgi_request(ROUTES, "POST", f"/api/qr/{code}", body=body, **kw)
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    return status, json.loads(out)


def send(code, survey):
    return post(code, json.dumps({"survey": survey}).encode())


def test_get_gives_the_survey_plan_of_a_valid_code_and_never_the_closed_screen(conn, code):
    settings.put(conn, "opening_hours", {"days": [0], "periods": [["07:00", "07:01"]]}, "test")
    status, body = get(code)
    assert status == 200 and body["state"] == "ok"
    assert body["survey"]["closed"] is False and body["survey"]["plan"]["screens"]
    assert body["survey"]["unit"] == settings.get(conn, "unit_name", clock.today())


def test_post_stores_once_retry_is_stored_a_second_person_gets_410(conn, code):
    p = payload()
    assert send(code, p) == (200, {"state": "stored", "message": qr.MSG_STORED})
    assert send(code, p) == (200, {"state": "stored", "message": qr.MSG_STORED})
    assert send(code, payload()) == (410, {"state": "used", "message": qr.MSG_USED})
    assert get(code) == (410, {"state": "used", "message": qr.MSG_USED})
    assert [tuple(r) for r in conn.execute("SELECT channel, count(*) FROM responses GROUP BY 1")] == [("qr", 1)]


def test_unknown_and_expired_codes(conn, code):
    assert get("A" * 22) == (404, {"state": "unknown", "message": qr.MSG_UNKNOWN})
    assert send("A" * 22, payload()) == (404, {"state": "unknown", "message": qr.MSG_UNKNOWN})
    assert get("not..a..code") == (404, {"state": "unknown", "message": qr.MSG_UNKNOWN})
    conn.execute("UPDATE qr_codes SET expires_at = ?", (clock.format_ts(clock.now() - timedelta(seconds=1)),))
    conn.commit()
    assert get(code) == (410, {"state": "expired", "message": qr.MSG_EXPIRED})
    assert send(code, payload()) == (410, {"state": "expired", "message": qr.MSG_EXPIRED})


def test_an_invalid_survey_is_422_in_vietnamese_and_changes_nothing(conn, code):
    before = table_snapshot(conn)
    status, body = send(code, payload(answers={"TC3.1": 9}))
    assert status == 422 and body["state"] == "refused" and body["message"].startswith("Phiếu chưa được lưu")
    assert table_snapshot(conn) == before


@pytest.mark.parametrize(
    "raw",
    [b"{", b"\xff\xfe", b"[]", b'{"survey": 1}', b'{"other": {}}', b"null", b"[" * 100_000 + b"]" * 100_000],
)
def test_bad_json_is_400_with_a_vietnamese_message(conn, code, raw):
    before = table_snapshot(conn)
    status, body = post(code, raw[: 256 * 1024])
    assert (status, body) == (400, {"state": "bad-request", "message": MSG_BAD_JSON})
    assert table_snapshot(conn) == before


def test_a_body_over_256_kb_is_413_before_it_is_read(conn, code):
    before = table_snapshot(conn)
    big = json.dumps({"survey": payload(comment="x" * (256 * 1024))}).encode()
    assert post(code, big) == (413, {"state": "too-large", "message": MSG_TOO_LARGE})
    # Told by its Content-Length alone: the body itself is never read.
    assert post(code, b"", headers={"content-length": str(300 * 1024)})[0] == 413
    assert table_snapshot(conn) == before


def test_paused_intake_is_503_and_stores_nothing(conn, code, monkeypatch):
    monkeypatch.setattr(gate, "refusal", lambda c, now: gate.MSG_RESTORING)
    assert send(code, payload()) == (503, {"state": "paused", "message": gate.MSG_RESTORING})
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 0


def test_a_database_fault_is_a_vietnamese_503_not_a_traceback(conn, code, monkeypatch):
    def broken(*a, **k):
        raise __import__("sqlite3").OperationalError("disk I/O error")

    monkeypatch.setattr(qr, "submit", broken)
    status, body = send(code, payload())
    assert status == 503 and body["state"] == "error" and "chưa được lưu" in body["message"]


def test_the_app_serves_the_qr_routes_beside_the_tablets_and_the_backups():
    import app

    paths = {r.path for r in app.ALL_ROUTES}
    assert {"/api/qr/{code}", "/q/{code}", "/tablet/", "/api/tablet/sync", "/api/backup/{token}"} <= paths
    served = [(r.path, m) for r in app.ALL_ROUTES for m in r.methods]
    assert len(served) == len(set(served))  # no path and method served twice
