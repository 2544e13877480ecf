"""The counter tablet's own web app, server side (tablet_web.py): its page, files, JSON endpoints and the
redirect of old addresses, through Starlette without a network (tests/conftest.py ``asgi_request``)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from conftest import asgi_get, asgi_request

import tablet_web
from sipas import clock, db
from sipas.survey import devices

TAG = '<script type="application/json" id="sipas-page">'


@pytest.fixture
def tablet(conn, db_file):
    """An enrolled tablet: (name, secret)."""
    now = clock.now()
    code = devices.add(conn, "quay1", now=now, actor="test")
    return "quay1", devices.enrol(conn, "quay1", code, now=now)


def page_json(html: str) -> dict:
    start = html.index(TAG) + len(TAG)
    return json.loads(html[start : html.index("</script>", start)])


def post(path: str, data, **kw):
    body = data if isinstance(data, bytes) else json.dumps(data).encode("utf-8")
    return asgi_request(tablet_web.ROUTES, "POST", path, body=body, headers={"content-type": "application/json"}, **kw)


def signed(name: str, secret: str, body: dict) -> dict:
    text = json.dumps(body)
    return {"device": name, "body": text, "sig": devices.sign(secret, text)}


def test_the_page_carries_its_first_screen_and_a_strict_policy(conn, db_file):
    # Staff text that tries to end the script element: it stays data.
    db.upsert_staff(conn, {"code": "CB09", "full_name": "Lê </script><script>alert(1)</script> Văn"})
    status, headers, body = asgi_get(tablet_web.ROUTES, "/tablet/")
    assert status == 200
    html = body.decode("utf-8")
    assert html.count("<script") == 2 and "alert(1)</script>" not in html
    data = page_json(html)
    assert data["texts"]["start"] == "Bắt đầu đánh giá" and data["plan"]["screens"]
    assert "Lê </script><script>alert(1)</script> Văn" in json.dumps(data["plan"], ensure_ascii=False)
    assert data["login"] is True  # a browser that is no counter tablet: the staff link
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-cache"
    version = tablet_web.assets()["version"]
    assert f'/tablet/app.js?v={version}"' in html and f'/tablet/app.css?v={version}"' in html
    assert '<html lang="vi">' in html and "_stcore" not in html and "streamlit" not in html.lower()


def test_a_tablet_address_offers_no_staff_link(conn, db_file):
    status, _, body = asgi_request(tablet_web.ROUTES, "GET", "/tablet/", query="kiosk=1&device=quay1")
    assert status == 200 and page_json(body.decode("utf-8"))["login"] is False


def test_a_broken_database_gives_the_calm_screen_not_a_traceback(tmp_path, monkeypatch):
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is no database" * 100)
    monkeypatch.setenv("SIPAS_DB", str(bad))
    status, _, body = asgi_get(tablet_web.ROUTES, "/tablet/")
    assert status == 200
    data = page_json(body.decode("utf-8"))
    assert data["paused"] is True and data["plan"] is None
    assert "Traceback" not in body.decode("utf-8")
    # A phone opening its code meanwhile is told the code is still good, not that it does not exist.
    status, _, body = asgi_get(tablet_web.ROUTES, "/q/khong-co-ma-nay-1234567")
    phone = page_json(body.decode("utf-8"))["phone"]
    assert status == 200 and phone["state"] == "error" and phone["message"] == tablet_web.PHONE_FAULT


def test_the_script_and_style_are_cached_only_under_their_version(db_file):
    version = tablet_web.assets()["version"]
    status, headers, body = asgi_request(tablet_web.ROUTES, "GET", "/tablet/app.js", query=f"v={version}")
    assert status == 200 and "immutable" in headers["cache-control"]
    assert headers["content-type"].startswith("text/javascript")
    assert b"export default function launch" in body and b"\nimport " not in body
    _, headers, _ = asgi_request(tablet_web.ROUTES, "GET", "/tablet/app.css", query="v=old")
    assert "immutable" not in headers["cache-control"]
    _, headers, worker = asgi_get(tablet_web.ROUTES, "/tablet/sw.js")
    assert headers["service-worker-allowed"] == "/tablet/"
    assert f'const VERSION = "{version}";'.encode() in worker and b"__VERSION__" not in worker


def test_old_bookmarks_and_a_visitors_bare_address_lead_to_the_tablet():
    addr = tablet_web.tablet_address
    assert addr("/", {"kiosk": "1", "device": "quay1"}, False) == "/tablet/?kiosk=1&device=quay1"
    assert addr("/", {"kiosk": "1", "device": "quay 1", "enrol": "AB"}, True) == (
        "/tablet/?kiosk=1&device=quay+1&enrol=AB"
    )
    assert addr("/kiosk", {"device": "quay1"}, False) == "/tablet/?device=quay1"
    assert addr("/", {}, False) == "/tablet/"
    assert addr("/", {}, True) is None  # a staff browser: the overview
    assert addr("/login", {"kiosk": "1"}, False) is None  # a locked tablet typing /login: Streamlit's not-found
    assert addr("/overview", {}, False) is None


def test_the_middleware_redirects_before_streamlit_and_lets_everything_else_through(db_file):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def streamlit(request):
        return PlainTextResponse("streamlit")

    routes = [Route("/", streamlit), Route("/overview", streamlit)]
    mw = tablet_web.MIDDLEWARE
    status, headers, _ = asgi_request(routes, "GET", "/", query="kiosk=1&device=quay1", middleware=mw)
    assert status == 307 and headers["location"] == "/tablet/?kiosk=1&device=quay1"
    status, _, body = asgi_request(routes, "GET", "/", cookies={"sipas_staff": "x"}, middleware=mw)
    assert (status, body) == (200, b"streamlit")
    status, _, body = asgi_request(routes, "GET", "/overview", middleware=mw)
    assert (status, body) == (200, b"streamlit")


def test_enrolment_gives_the_secret_once(conn, db_file):
    code = devices.add(conn, "quay2", now=clock.now(), actor="test")
    status, headers, body = post("/api/tablet/enrol", {"device": "quay2", "code": code})
    assert status == 200 and headers["cache-control"] == "no-store"
    secret = json.loads(body)["secret"]
    assert db.device_row(conn, "quay2")["secret"] == secret
    status, _, body = post("/api/tablet/enrol", {"device": "quay2", "code": code})
    assert status == 403 and "Liên kết đăng ký không đúng" in json.loads(body)["message"]
    assert post("/api/tablet/enrol", {"device": "quay2"})[0] == 403


def test_a_sync_gives_tokens_stores_a_survey_once_and_the_next_page(conn, db_file, tablet):
    name, secret = tablet
    status, _, body = post("/api/tablet/sync", signed(name, secret, {"starts": [], "surveys": [], "want_tokens": True}))
    out = json.loads(body)
    assert status == 200 and len(out["tokens"]) == 200 and out["refused"] is None and "page" not in out
    token = out["tokens"][0]
    plan = tablet_web.page_data(conn, clock.now())["plan"]
    survey = {
        "token": token,
        "questionnaire": plan["questionnaire"],
        "asked": plan["asked"],
        "answers": dict.fromkeys(plan["asked"], 4),
        "overall": 5,
        "comment": "qua điểm cuối JSON",
        "duration_seconds": 60,
        "completed_ago_ms": 0,  # completed after its token was issued (a moment ago)
    }
    msg = signed(name, secret, {"starts": [{"token": token, "ago_ms": 0}], "surveys": [survey]})
    for _ in range(2):  # sent twice (the answer was lost): stored once, acknowledged both times
        status, _, body = post("/api/tablet/sync", {**msg, "want_page": True})
        out = json.loads(body)
        assert status == 200 and f"r:{token}" in out["acks"]
        assert out["page"]["plan"]["screens"] and out["page"]["texts"]["start"] == "Bắt đầu đánh giá"
    rows = conn.execute("SELECT count(*) FROM responses WHERE comment = 'qua điểm cuối JSON'").fetchone()[0]
    assert rows == 1


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda m: {**m, "sig": "0" * 64}, "bad-signature"),
        (lambda m: {**m, "device": "may-la"}, "unknown-device"),
        (lambda m: {"body": m["body"]}, "unsigned"),
    ],
)
def test_a_message_without_the_tablets_secret_stores_nothing_and_is_counted(conn, db_file, tablet, mangle, reason):
    name, _secret = tablet
    before = conn.execute("SELECT count(*) FROM kiosk_tokens").fetchone()[0]
    msg = mangle(signed(name, "khong-phai-bi-mat", {"starts": [{"token": "x", "ago_ms": 1}], "want_tokens": True}))
    if reason == "bad-signature":
        msg["device"] = name
    status, _, body = post("/api/tablet/sync", {**msg, "want_page": True})
    out = json.loads(body)
    assert status == 200 and out["refused"] == reason and out["acks"] == [] and out["tokens"] == []
    assert "page" not in out
    assert conn.execute("SELECT count(*) FROM kiosk_tokens").fetchone()[0] == before
    assert conn.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0] == 0
    assert [r["n"] for r in devices.refusal_counts(conn, None) if r["reason"] == reason] == [1]


def test_a_body_too_large_or_not_json_is_refused_in_vietnamese_before_anything(conn, db_file):
    status, _, body = post("/api/tablet/sync", b"x" * (tablet_web.MAX_BODY + 1))
    assert status == 413 and json.loads(body)["message"] == "Dữ liệu gửi lên quá lớn."
    # A false Content-Length: refused from the header alone, the body never read.
    status, _, _ = asgi_request(tablet_web.ROUTES, "POST", "/api/tablet/sync", headers={"content-length": "999999999"})
    assert status == 413
    for bad in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        status, _, body = post("/api/tablet/sync", bad)
        assert status == 400 and json.loads(body)["message"] == "Yêu cầu không hợp lệ."
    assert conn.execute("SELECT count(*) FROM kiosk_refusals").fetchone()[0] == 0


def test_a_database_fault_answers_paused_and_acknowledges_nothing(conn, db_file, tablet, monkeypatch):
    """SQLite's "database is locked" after its busy timeout (or a full disk): the tablet keeps its queue and
    shows its calm screen; nothing is acknowledged."""
    name, secret = tablet

    def locked(*_args, **_kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(tablet_web.tablet, "sync", locked)
    status, _, body = post("/api/tablet/sync", signed(name, secret, {"starts": [], "surveys": []}))
    assert status == 503 and json.loads(body) == {"acks": [], "tokens": [], "refused": None, "paused": True}


def test_the_phone_page_says_the_codes_state(conn, db_file):
    status, _, body = asgi_get(tablet_web.ROUTES, "/q/khong-co-ma-nay-1234567")
    data = page_json(body.decode("utf-8"))
    assert status == 200 and data["phone"]["state"] == "unknown" and data["login"] is False
    assert re.search("Không tìm thấy mã đánh giá này", data["phone"]["message"])
    assert data["closed"] is False and data["idle_seconds"] >= 600
