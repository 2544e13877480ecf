"""Enrolled counter tablets: only a tablet staff enrolled may store a survey.

Staff add a tablet (``python -m sipas tablet add NAME``): that prints a one-time enrolment link,
valid :data:`ENROL_DAYS` days. Opened on the tablet, the link gives it a device secret (kept in its
browser); from then on every message the tablet sends is signed with HMAC-SHA256 over its exact
body. The server also issues the tablet's start tokens (bound to it, used once), a stock of
:data:`TOKEN_STOCK` so that it can run surveys offline for days. A message that is not signed by an
enrolled tablet, or comes from a revoked one, is refused and counted (:func:`refuse`), never stored.
No Streamlit here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sipas import db
from sipas.admin import settings
from sipas.errors import ValidationError

log = logging.getLogger("sipas.survey.devices")

ENROL_DAYS = 7
TOKEN_STOCK = 200  # about a week of surveys at a busy counter, offline
MAX_MESSAGE_BYTES = 256 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

# Why a message or a survey was refused, as the settings page names it.
REFUSALS = {
    "unsigned": "Không có chữ ký của máy đã đăng ký",
    "unknown-device": "Máy chưa đăng ký",
    "revoked": "Máy đã bị thu hồi",
    "bad-signature": "Chữ ký sai",
    "too-large": "Tin nhắn quá 256 KB",
    "malformed": "Tin nhắn không đúng dạng",
    "bad-token": "Mã phiếu không do máy chủ cấp cho máy này",
    "bad-time": "Thời điểm hoàn thành ngoài khoảng cho phép",
    "bad-survey": "Phiếu sai dạng hoặc vượt giới hạn",
    "legacy": "Phiếu cũ (làm trước khi đăng ký máy) ngoài giới hạn được nhận",
}


class Refused(Exception):
    """A message the server will not handle; ``reason`` is a key of :data:`REFUSALS`."""

    def __init__(self, reason: str, device: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.device = device


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """A tablet's name as it appears in its address (letters, digits, - and _; at most 40)."""
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ValidationError(
            f'Tên máy "{name[:40]}" không hợp lệ: chỉ dùng chữ không dấu, số, dấu - hoặc _ (tối đa 40 ký tự).'
        )
    return name


def add(conn: sqlite3.Connection, name: str, *, now: datetime, actor: str) -> str:
    """Add a tablet (or re-enrol one): return its one-time enrolment code (valid ENROL_DAYS days)."""
    name = check_name(name)
    found = db.device_row(conn, name)
    if found and found["secret"] and not found["revoked_at"]:
        raise ValidationError(f'Máy "{name}" đã được đăng ký. Thu hồi máy trước khi đăng ký lại.')
    code = secrets.token_urlsafe(18)
    db.add_device(conn, name, _hash(code), now + timedelta(days=ENROL_DAYS), now, actor)
    return code


def enrolment_path(name: str, code: str) -> str:
    """The address (after the server's) a tablet opens once to enrol; its bookmark afterwards is
    :func:`tablet_path` (the tablet's own app, ``tablet_web.py``)."""
    return f"{tablet_path(name)}&enrol={code}"


def tablet_path(name: str) -> str:
    """The tablet's address (after the server's): its own app, named (``/?kiosk=1&device=NAME`` of earlier
    versions leads there too)."""
    return f"/tablet/?device={name}"


def enrol(conn: sqlite3.Connection, name: str, code: str, *, now: datetime) -> str | None:
    """The device secret for a tablet opening its enrolment link, or None (wrong, used or expired code)."""
    if not isinstance(name, str) or not NAME_RE.match(name) or not isinstance(code, str) or len(code) > 100:
        return None
    secret = secrets.token_hex(32)
    return secret if db.enrol_device(conn, name, _hash(code), secret, now) else None


def revoke(conn: sqlite3.Connection, name: str, *, now: datetime, actor: str) -> None:
    if not db.revoke_device(conn, name, now, actor):
        raise ValidationError(f'Không có máy "{str(name)[:40]}".')


def sign(secret: str, body: str) -> str:
    """HMAC-SHA256 of the message body (UTF-8) with the device secret, hex (what the tablet computes).

    >>> sign("k", "{}")  # the same as Python's hmac and Node's crypto.createHmac
    'add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff'
    """
    return hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Verified:
    device: str
    body: dict


def verify(conn: sqlite3.Connection, msg: object) -> Verified:
    """The enrolled tablet and its message body, or :class:`Refused` (nothing is stored then)."""
    if not isinstance(msg, Mapping) or not {"device", "body", "sig"} <= set(msg):
        raise Refused("unsigned")
    device, body, sig = msg.get("device"), msg.get("body"), msg.get("sig")
    claimed = device[:40] if isinstance(device, str) else None
    if not isinstance(body, str) or not isinstance(sig, str) or not claimed:
        raise Refused("malformed", claimed)
    if len(body) > MAX_MESSAGE_BYTES or len(body.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise Refused("too-large", claimed)
    row = db.device_row(conn, device) if NAME_RE.match(device) else None
    if row is None or (not row["secret"] and not row["revoked_at"]):
        raise Refused("unknown-device", claimed)
    if row["revoked_at"] or not row["secret"]:
        raise Refused("revoked", claimed)
    if not hmac.compare_digest(sign(row["secret"], body), sig):
        raise Refused("bad-signature", claimed)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise Refused("malformed", claimed) from None
    if not isinstance(parsed, dict):
        raise Refused("malformed", claimed)
    return Verified(device, parsed)


# A flood of forged messages must not cost a write each (a transaction and its disk sync under the write
# lock that real tablets' surveys queue for): the first refusal after a quiet spell is written at once, the
# others of the next FLUSH_SECONDS are added up in memory and written together, by the next refusal after
# that or by a timer. A refused message then costs no write and, unsigned, no read either
# (bench/bench_forgery.py). What the process holds when it is killed is lost: at most FLUSH_SECONDS of
# refusal counts, never a survey.
FLUSH_SECONDS = 2.0


class _Tally:
    """Refusals not yet written, per database file: (day, reason) -> [n, last moment, last device]."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, dict[tuple[str, str], list]] = {}
        self.flushed_at: dict[str, float] = {}
        self.timers: dict[str, threading.Timer] = {}

    def add(self, path: str, reason: str, device: str | None, now: datetime, n: int) -> bool:
        """Count; True when the caller should write now (quiet spell), else a timer will."""
        with self.lock:
            rows = self.pending.setdefault(path, {})
            row = rows.setdefault((now.strftime("%Y-%m-%d"), reason), [0, now, device])
            row[0] += n
            row[1], row[2] = now, device
            if time.monotonic() - self.flushed_at.get(path, float("-inf")) >= FLUSH_SECONDS:
                return True
            if path not in self.timers:
                timer = threading.Timer(FLUSH_SECONDS, _flush_from_timer, (path,))
                timer.daemon = True
                self.timers[path] = timer
                timer.start()
            return False

    def take(self, path: str) -> dict[tuple[str, str], list]:
        with self.lock:
            self.flushed_at[path] = time.monotonic()
            timer = self.timers.pop(path, None)
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            return self.pending.pop(path, {})

    def put_back(self, path: str, rows: dict[tuple[str, str], list]) -> None:
        """Rows a write could not store (the database busy or paused): counted again with the next ones."""
        with self.lock:
            mine = self.pending.setdefault(path, {})
            for key, (n, at, device) in rows.items():
                row = mine.setdefault(key, [0, at, device])
                row[0] += n
                if at > row[1]:
                    row[1], row[2] = at, device


_TALLY = _Tally()


def refuse(conn: sqlite3.Connection, reason: str, device: str | None, *, now: datetime, n: int = 1) -> None:
    """Count a refusal (shown on the settings page): written at once after a quiet spell, else added up
    with the others of the next :data:`FLUSH_SECONDS` and written once (:func:`flush_refusals`)."""
    path = db.database_file(conn)
    if not path:  # an in-memory database: no other connection could write it later
        log.warning("kiosk message refused (%s) from %r", reason, device)
        db.count_refusal(conn, reason, device, now, n)
        return
    if _TALLY.add(path, reason, device, now, n):
        flush_refusals(conn)


def flush_refusals(conn: sqlite3.Connection) -> int:
    """Write the refusals this process has counted for ``conn``'s database; how many were written."""
    path = db.database_file(conn)
    rows = _TALLY.take(path) if path else {}
    if not rows:
        return 0
    try:
        db.count_refusals(conn, [(day, reason, n, at, device) for (day, reason), (n, at, device) in rows.items()])
    except Exception:
        _TALLY.put_back(path, rows)
        raise
    total = sum(n for n, _, _ in rows.values())
    for (_day, reason), (n, _at, device) in rows.items():
        log.warning("%d kiosk message(s) refused (%s), the last from %r", n, reason, device)
    return total


def _flush_from_timer(path: str) -> None:
    if not Path(path).exists():  # the database went away (a test's folder): nothing to count into
        _TALLY.take(path)
        return
    try:
        with closing(db.connect(path)) as conn:
            flush_refusals(conn)
    except Exception:  # noqa: BLE001 - counts only: kept for the next write, never a crash
        log.exception("writing the refusal counts failed")


def is_counter_tablet(conn: sqlite3.Connection, name: str) -> bool:
    """Whether a browser naming itself ``name`` (``?device=``) is a counter tablet, kept away from the staff
    login: a tablet added in Cài đặt (enrolled, waiting for its link, or revoked: a lost tablet is no staff
    computer either), or one of the names of the older setting ``kiosk_devices``."""
    return db.device_row(conn, name) is not None or name in settings.get(conn, "kiosk_devices")


def top_up(conn: sqlite3.Connection, device: str, *, now: datetime) -> list[str]:
    """The tablet's unused start tokens, topped up to TOKEN_STOCK (new ones issued now)."""
    have = db.unused_tokens(conn, device)
    missing = TOKEN_STOCK - len(have)
    if missing > 0:
        new = [secrets.token_hex(16) for _ in range(missing)]
        db.issue_tokens(conn, device, new, now)
        have += new
    return have


def refusal_counts(conn: sqlite3.Connection, since: str | None = None) -> list[dict]:
    """Refusals per day and reason, newest first; those this process still holds are written first."""
    flush_refusals(conn)
    return db.refusal_counts(conn, since)


def refusal_summary(conn: sqlite3.Connection, since: str | None = None) -> list[dict]:
    """Refusals per day, with the reason in Vietnamese (for the settings page)."""
    return [
        {"Ngày": r["day"], "Lý do": REFUSALS.get(r["reason"], r["reason"]), "Số lần": r["n"], "Máy": r["last_device"]}
        for r in refusal_counts(conn, since)
    ]


def tablet_state(d: Mapping) -> str:
    """A tablet's state in Vietnamese, from its row of :func:`sipas.db.list_devices`."""
    if d.get("revoked_at"):
        return "Đã thu hồi"
    if d.get("enrolled_at"):
        return "Đang dùng"
    return "Chờ mở liên kết đăng ký"


def tablet_overview(conn: sqlite3.Connection) -> list[dict]:
    """Every tablet for the settings page: state, enrolment, last sync, surveys it still holds, start
    tokens left."""
    return [
        {
            "Máy": d["name"],
            "Trạng thái": tablet_state(d),
            "Đăng ký lúc": d["enrolled_at"],
            "Đồng bộ lần cuối": d["last_sync"],
            "Phiếu chờ gửi": d["pending"],
            "Mã phiếu còn": d["tokens"] if d["enrolled_at"] and not d["revoked_at"] else None,
            "Thu hồi lúc": d["revoked_at"],
        }
        for d in db.list_devices(conn)
    ]
