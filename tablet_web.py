"""The counter tablet as a small web app of its own, served by ``app.py``'s ``st.App`` (issue 19).

Nothing of Streamlit's front end loads on the tablet and no Streamlit session is held for it:

* ``GET /tablet/`` — one HTML page: the survey's markup and faces (``components/survey``), with the data of
  its first screen inside it (``#sipas-page``), so the welcome shows without a round trip;
* ``GET /tablet/app.js``, ``/tablet/app.css`` — the survey's script (``src/*.js`` joined with the entry
  ``standalone.js``) and style, with their version in the address (cached for a year);
* ``GET /tablet/sw.js`` — the service worker that keeps the page for a reload while the server is down;
* ``GET /q/<code>`` — the same survey on a citizen's own phone, from a single-use QR code (its state inside:
  a used, expired or unknown code says so in Vietnamese); the phone posts its one survey to
  ``/api/qr/<code>`` (``qr_route.py``);
* ``POST /api/tablet/enrol`` — ``{"device", "code"}`` of a one-time enrolment link → ``{"name", "secret"}``;
* ``POST /api/tablet/sync`` — the tablet's signed message (``{"device", "body", "sig"}`` plus
  ``want_page``), stored through :func:`sipas.survey.tablet.sync` (exactly once, refusals counted) →
  ``{"acks", "tokens", "refused", "paused", "qr", "page"}``.

Old bookmarks (``/?kiosk=1&device=NAME``, with or without ``&enrol=``) and the bare address of a visitor
without a staff session are sent to ``/tablet/`` by :class:`TabletAddresses`. Every answer is ``no-store`` except the
versioned script and style; every page carries a strict Content-Security-Policy. A request body over
:data:`MAX_BODY` bytes is refused before it is read whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from datetime import datetime
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import ui
from sipas import clock, db
from sipas.catalog import survey_options
from sipas.paths import db_path
from sipas.survey import devices, tablet

log = logging.getLogger("sipas.survey.tablet")

MAX_BODY = 300_000  # bytes of one request: a signed message carries at most 256 KB (devices.MAX_MESSAGE_BYTES)
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
BAD_REQUEST = "Yêu cầu không hợp lệ."
TOO_LARGE = "Dữ liệu gửi lên quá lớn."


def _seconds(name: str, default: float) -> float:
    return ui.env_seconds(name, default)


def _min_seconds_per_answer() -> float | None:
    """A survey faster than this per answer is stored as suspect; tests that tap at machine speed set 0."""
    try:
        return max(0.0, float(os.environ.get("SIPAS_KIOSK_MIN_SECONDS_PER_ANSWER", "")))
    except ValueError:
        return None


# ------------------------------------------------------------------------------ assets


@functools.lru_cache(maxsize=1)
def assets() -> dict[str, str]:
    """The page's markup, script, style and service worker, and their version (a hash of all of them)."""
    html = (ui.SURVEY_DIR / "survey.html").read_text(encoding="utf-8")
    html = html.replace("<!--FACES-->", ui.faces_html())
    script = ui.assemble_script(ui.SURVEY_SRC, entry="standalone.js")
    css = (ui.SURVEY_DIR / "survey.css").read_text(encoding="utf-8") + TABLET_CSS
    version = hashlib.sha256("\x00".join((html, script, css)).encode("utf-8")).hexdigest()[:12]
    worker = (ui.SURVEY_DIR / "sw.js").read_text(encoding="utf-8").replace("__VERSION__", version)
    return {"html": html, "script": script, "css": css, "worker": worker, "version": version}


# The page is the survey alone (survey.css draws .kiosk over the whole viewport).
TABLET_CSS = "\nhtml, body { margin: 0; height: 100%; background: #fff; }\n"

SHELL = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="robots" content="noindex">
<meta name="theme-color" content="#0b6e4f">
<title>Khảo sát mức độ hài lòng</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/tablet/app.css?v={version}">
</head>
<body>
{markup}
<script type="application/json" id="sipas-page">{page}</script>
<script type="module" src="/tablet/app.js?v={version}"></script>
</body>
</html>
"""


def _json_in_html(data: dict) -> str:
    """JSON that cannot end its <script> element or open a comment (every < > & escaped)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ------------------------------------------------------------------------------ data


def _screen_basics() -> dict:
    """What every tablet screen needs whatever the database says: texts, the scale and the timings."""
    opts = survey_options()
    return {
        "texts": tablet.TEXTS,
        "scale": [{"value": s["value"], "label": s["label"]} for s in opts["scale"]],
        "no_opinion": opts["no_opinion"],
        "idle_seconds": _seconds("SIPAS_KIOSK_IDLE_SECONDS", 90),
        "comment_idle_seconds": _seconds("SIPAS_KIOSK_IDLE_SECONDS_COMMENT", 180),
        "thanks_seconds": _seconds("SIPAS_KIOSK_THANKS_SECONDS", 8),
        "advance_ms": 400,
    }


def page_data(conn, now: datetime) -> dict:
    """Everything a tablet screen needs but the tablet's own state (queue, tokens, secret)."""
    return {**_screen_basics(), "generated_at": clock.format_ts(now), **tablet.next_survey(conn, now), "paused": False}


def fallback_page() -> dict:
    """The data of the calm "tạm dừng" screen when the database cannot be read (never a traceback)."""
    empty = {"unit": "", "closed": False, "hours": "", "promise": "", "summary": [], "read_aloud": False, "plan": None}
    return {**_screen_basics(), "generated_at": "", **empty, "paused": True}


def _page_now() -> dict:
    now = clock.now()
    try:
        with db.session(db_path()) as conn:
            return page_data(conn, now)
    except Exception:  # database missing, locked or broken: the calm screen, the queue kept
        log.exception("tablet page data failed")
        return fallback_page()


# The database cannot be read when a phone opens its code: the code is untouched and still good.
PHONE_FAULT = "Hệ thống đánh giá đang tạm dừng. Mã của Ông/Bà vẫn dùng được; xin mở lại đường dẫn sau ít phút."
PHONE_IDLE_SECONDS = 1800  # at home, on one's own phone: no hurry (the tablet's idle reset is for the counter)


def _phone_now(code: str) -> dict:
    """The phone page's data: the survey as a tablet would get it (never "closed": people rate at home) and
    the state of the single-use code (its Vietnamese message when it cannot be used)."""
    from sipas.survey import qr

    now = clock.now()
    try:
        with db.session(db_path()) as conn:
            found = qr.state(conn, code, now)
            page = page_data(conn, now)
    except Exception:
        log.exception("phone page data failed")
        return {**fallback_page(), "phone": {"code": code, "state": "error", "message": PHONE_FAULT}}
    page.update(closed=False, summary=[], idle_seconds=PHONE_IDLE_SECONDS, comment_idle_seconds=PHONE_IDLE_SECONDS)
    page["phone"] = {"code": code, "state": found.state, "message": found.message}
    return page


def _sync_now(msg: dict, want_page: bool) -> tuple[int, dict]:
    now = clock.now()
    from sipas.survey import gate

    try:
        with db.session(db_path()) as conn:
            result = tablet.sync(conn, msg, now=now, min_seconds_per_answer=_min_seconds_per_answer())
            out = {
                "acks": result.acks,
                "tokens": result.tokens,
                "refused": result.refused,
                "paused": False,
                "qr": result.qr,
            }
            if want_page and not result.refused:
                out["page"] = page_data(conn, now)
            return 200, out
    except gate.IntakePaused:
        return 503, {"acks": [], "tokens": [], "refused": None, "paused": True}
    except Exception:  # full disk, read-only or locked database: the tablet keeps its queue and says so
        log.exception("tablet sync failed")
        return 503, {"acks": [], "tokens": [], "refused": None, "paused": True}


def _enrol_now(name: str, code: str) -> str | None:
    with db.session(db_path()) as conn:
        return devices.enrol(conn, name, code, now=clock.now())


# ------------------------------------------------------------------------------ handlers


def _json(data: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=NO_STORE)


async def read_json(request: Request, limit: int = MAX_BODY) -> tuple[dict | None, JSONResponse | None]:
    """The request's JSON object, or the Vietnamese answer that refuses it (413 over ``limit`` bytes, read no
    further; 400 not a JSON object)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None, _json({"message": TOO_LARGE}, 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None, _json({"message": TOO_LARGE}, 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, _json({"message": BAD_REQUEST}, 400)
    if not isinstance(data, dict):
        return None, _json({"message": BAD_REQUEST}, 400)
    return data, None


def _locked(request: Request) -> bool:
    q = request.query_params
    return bool(q.get("kiosk") or q.get("device"))


async def tablet_page(request: Request) -> Response:
    a = assets()
    page = await run_in_threadpool(_page_now)
    locked = _locked(request)
    page["login"] = not locked
    html = SHELL.format(version=a["version"], markup=a["html"], page=_json_in_html(page))
    return HTMLResponse(html, headers=PAGE_HEADERS)


async def phone_page(request: Request) -> Response:
    """``/q/<code>``: the survey on a citizen's own phone (the same app, phone layout, no service worker)."""
    code = request.path_params["code"][:100]
    page = await run_in_threadpool(_phone_now, code)
    page["login"] = False
    a = assets()
    html = SHELL.format(version=a["version"], markup=a["html"], page=_json_in_html(page))
    return HTMLResponse(html, headers=PAGE_HEADERS)


async def tablet_slash(request: Request) -> Response:
    query = request.url.query
    return RedirectResponse("/tablet/" + (f"?{query}" if query else ""), status_code=308, headers=NO_STORE)


def _asset(kind: str, media_type: str):
    async def serve(request: Request) -> Response:
        a = assets()
        headers = (
            IMMUTABLE if request.query_params.get("v") == a["version"] else {**NO_STORE, "Cache-Control": "no-cache"}
        )
        return Response(a[kind], media_type=media_type, headers=headers)

    return serve


async def service_worker(request: Request) -> Response:
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Service-Worker-Allowed": "/tablet/"}
    return Response(assets()["worker"], media_type="text/javascript", headers=headers)


async def enrol(request: Request) -> Response:
    data, refusal = await read_json(request, 4_000)
    if refusal is not None:
        return refusal
    name, code = data.get("device"), data.get("code")
    if not isinstance(name, str) or not isinstance(code, str) or not name or not code:
        return _json({"message": tablet.TEXTS["enrol_failed"]}, 403)
    try:
        secret = await run_in_threadpool(_enrol_now, name[:40], code[:200])
    except Exception:
        log.exception("tablet enrolment failed")
        secret = None
    if not secret:
        return _json({"message": tablet.TEXTS["enrol_failed"]}, 403)
    return _json({"name": name, "secret": secret})


async def sync(request: Request) -> Response:
    data, refusal = await read_json(request)
    if refusal is not None:
        return refusal
    want_page = data.pop("want_page", False) is True
    status, out = await run_in_threadpool(_sync_now, data, want_page)
    return _json(out, status)


ROUTES = [
    Route("/tablet", tablet_slash, methods=["GET"]),
    Route("/tablet/", tablet_page, methods=["GET"]),
    Route("/tablet/app.js", _asset("script", "text/javascript"), methods=["GET"]),
    Route("/tablet/app.css", _asset("css", "text/css"), methods=["GET"]),
    Route("/tablet/sw.js", service_worker, methods=["GET"]),
    Route("/q/{code}", phone_page, methods=["GET"]),
    Route("/api/tablet/enrol", enrol, methods=["POST"]),
    Route("/api/tablet/sync", sync, methods=["POST"]),
]


# ------------------------------------------------------------------------------ old addresses


def tablet_address(path: str, params, staff: bool) -> str | None:
    """Where an address now leads to the tablet's app: a tablet's bookmark of earlier versions
    (``/?kiosk=1&device=NAME[&enrol=CODE]``, also at ``/kiosk``) to ``/tablet/?device=NAME[&enrol=CODE]``
    (``kiosk=1`` kept: the page then offers no staff link), and the bare address of a browser without a
    staff session cookie (``staff``), at ``/`` or ``/kiosk``, to ``/tablet/`` (the survey is the visitor's
    page; its staff link leads to the login). None: the address stays Streamlit's."""
    if path not in ("/", "/kiosk"):
        return None
    tablet = params.get("kiosk") == "1" or params.get("device") or params.get("enrol")
    if not tablet and (staff or params):
        return None
    kept = {k: params[k] for k in ("kiosk", "device", "enrol") if params.get(k)}
    return "/tablet/" + (f"?{urlencode(kept)}" if kept else "")


class TabletAddresses:
    """Sends a counter tablet's old bookmark to its own app before Streamlit's page would load (plain ASGI:
    every other request, Streamlit's websocket included, passes through untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in ("/", "/kiosk"):
            request = Request(scope)
            target = tablet_address(request.url.path, request.query_params, bool(request.cookies.get(ui.COOKIE)))
            if target is not None:
                await RedirectResponse(target, status_code=307, headers=NO_STORE)(scope, receive, send)
                return
        await self.app(scope, receive, send)


MIDDLEWARE = [Middleware(TabletAddresses)]
