"""The phone's JSON routes for rating with a single-use QR code (served by ``app.py``'s ``st.App``).

- ``GET /api/qr/{code}``: 200 ``{"state": "ok", "survey": <sipas.survey.tablet.next_survey>, "expires_at"}``;
  410 ``{"state": "used"|"expired", "message"}``; 404 ``{"state": "unknown", "message"}``.
- ``POST /api/qr/{code}`` with ``{"survey": <the tablet's payload>}``: 200 ``{"state": "stored", "message"}``
  (also for the same phone sending again); 410/404 as above; 422 ``{"state": "refused", "message"}``;
  503 ``{"state": "paused", "message"}`` while intake is paused (a restore, a wrong clock), or
  ``{"state": "error", "message"}`` when the database cannot be read or written;
  413 ``{"state": "too-large", "message"}`` for a body over 256 KB (refused before it is read whole);
  400 ``{"state": "bad-request", "message"}`` for a body that is not JSON of that shape.

Every message is Vietnamese; every answer carries ``Cache-Control: no-store`` and
``X-Content-Type-Options: nosniff``. The phone's survey plan says ``closed: false`` (out of hours is no
reason to refuse a phone: people rate at home). Database work runs in a thread (``run_in_threadpool``).
"""

from __future__ import annotations

import json
import logging
import sqlite3

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sipas import clock, db, faults
from sipas.errors import SipasError
from sipas.paths import db_path
from sipas.survey import gate, qr, tablet

MAX_BODY = 256 * 1024
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
STATUS = {
    **{"ok": 200, "stored": 200, "used": 410, "expired": 410, "unknown": 404},
    **{"refused": 422, "paused": 503, "error": 503},
}
MSG_TOO_LARGE = "Phiếu gửi lên quá lớn (tối đa 256 KB). Phiếu chưa được lưu."
MSG_BAD_JSON = "Dữ liệu gửi lên không đúng dạng. Phiếu chưa được lưu, xin Ông/Bà thử lại."
MSG_FAULT = "Máy chủ tạm thời chưa xử lý được. Phiếu chưa được lưu, xin Ông/Bà thử gửi lại sau ít phút."

log = logging.getLogger("sipas.survey.qr")


def _json(body: dict, status: int) -> Response:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def _in_thread(fn, *args) -> dict:
    """``fn(*args)`` in a worker thread; a storage fault becomes ``{"state": "error"}`` (logged), never
    English text on a citizen's phone."""
    try:
        return await run_in_threadpool(fn, *args)
    except (sqlite3.Error, OSError, SipasError) as exc:
        log.warning("QR request failed: %s", faults.describe(exc) or exc)
        return {"state": "error", "message": MSG_FAULT}


def _look(code: str) -> dict:
    now = clock.now()
    with db.session(db_path()) as conn:
        found = qr.state(conn, code, now)
        if found.state != "ok":
            return {"state": found.state, "message": found.message}
        survey = tablet.next_survey(conn, now)
    survey["closed"] = False
    expires = clock.parse_ts(found.row["expires_at"]).replace(tzinfo=now.tzinfo)
    return {"state": "ok", "survey": survey, "expires_at": expires.isoformat()}


async def look_up(request: Request) -> Response:
    code = request.path_params["code"]
    if not qr.well_formed(code):
        return _json({"state": "unknown", "message": qr.MSG_UNKNOWN}, 404)
    body = await _in_thread(_look, code)
    return _json(body, STATUS[body["state"]])


def _submit(code: str, survey: object) -> dict:
    now = clock.now()
    with db.session(db_path()) as conn:
        try:
            out = qr.submit(conn, code, survey, now=now)
        except gate.IntakePaused as exc:
            return {"state": "paused", "message": str(exc)}
    return {"state": out.state, "message": out.message}


async def _read_body(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY (by its Content-Length, or while it arrives)."""
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > MAX_BODY:
                return None
        except ValueError:
            return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def submit(request: Request) -> Response:
    code = request.path_params["code"]
    try:
        raw = await _read_body(request)
    except ClientDisconnect:
        return _json({"state": "bad-request", "message": MSG_BAD_JSON}, 400)
    if raw is None:
        return _json({"state": "too-large", "message": MSG_TOO_LARGE}, 413)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _json({"state": "bad-request", "message": MSG_BAD_JSON}, 400)
    if not isinstance(body, dict) or not isinstance(body.get("survey"), dict):
        return _json({"state": "bad-request", "message": MSG_BAD_JSON}, 400)
    if not qr.well_formed(code):
        return _json({"state": "unknown", "message": qr.MSG_UNKNOWN}, 404)
    out = await _in_thread(_submit, code, body["survey"])
    return _json(out, STATUS[out["state"]])


ROUTES = [
    Route("/api/qr/{code}", look_up, methods=["GET"]),
    Route("/api/qr/{code}", submit, methods=["POST"]),
]
