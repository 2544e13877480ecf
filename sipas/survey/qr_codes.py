"""Single-use QR codes for rating on one's own phone: issuing, the phone's address, what a code's state is.

A code is random (``secrets.token_urlsafe``, 128 bits); only its sha256 is stored (table ``qr_codes``). A
phone opens ``{qr_base_url}/q/{code}`` (setting ``qr_base_url``, *Cài đặt*). A code is valid for 7 days
from its issue and stores one survey (:func:`sipas.survey.qr.submit`). Codes come from two sources:

- ``tablet:<name>``: the code the counter tablet's welcome and thank-you screens show
  (:func:`for_tablet`, asked for in the tablet's sync). Because only the hash is stored, the tablet's
  current code is also held in this process's memory so that it can be shown again for an hour; after
  a restart of the server, or once it is used, a new code is issued (the old one just expires).
- ``sheet``: a printed sheet of cards (:func:`issue_sheet`), each optionally carrying a dossier code.

Kept apart from :mod:`sipas.survey.qr` (storing the phone's survey, which needs :mod:`sipas.survey.tablet`)
so that the tablet's sync can ask for its code without an import cycle. No Streamlit here.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sipas import clock, db
from sipas.admin import settings
from sipas.errors import ValidationError

VALID_FOR = timedelta(days=7)
REUSE_FOR = timedelta(hours=1)  # a tablet's screen shows the same unused code for up to an hour
CODE_BYTES = 16  # 128 bits
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what a code in an address may look like
SHEET_SOURCE = "sheet"
TABLET_SOURCE = "tablet:"
MAX_CARDS = 200
MAX_DOSSIER_LENGTH = 64
DOSSIER_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/:-]*")

MSG_UNKNOWN = "Không tìm thấy mã đánh giá này. Xin Ông/Bà kiểm tra lại đường dẫn hoặc quét lại mã."
MSG_USED = "Mã này đã được dùng để đánh giá. Mỗi mã chỉ dùng được một lần. Xin cảm ơn Ông/Bà!"
MSG_EXPIRED = (
    "Mã này đã hết hạn (mã có giá trị 7 ngày kể từ khi phát). Xin Ông/Bà quét mã mới tại quầy "
    "hoặc xin cán bộ phiếu mới."
)
MSG_DOSSIER_RATED = "Hồ sơ này đã được đánh giá. Mỗi hồ sơ chỉ được đánh giá một lần. Xin cảm ơn Ông/Bà!"
MSG_NO_ADDRESS = (
    "Chưa đặt địa chỉ cho điện thoại (Cài đặt → Đánh giá trên điện thoại): chưa tạo được mã QR. "
    "Hãy nhập địa chỉ Wi-Fi của cơ quan hoặc địa chỉ công khai trước."
)
MESSAGES = {"unknown": MSG_UNKNOWN, "used": MSG_USED, "expired": MSG_EXPIRED}

_held: dict[tuple[str, str], str] = {}  # (database file, source) -> the tablet's current code (plain)
_held_lock = threading.Lock()


def code_hash(code: str) -> str:
    """The stored form of a code: its sha256 in hex."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def new_code() -> str:
    """A fresh random code (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(CODE_BYTES)


def well_formed(code: object) -> bool:
    """Whether ``code`` can be a code at all (checked before any lookup)."""
    return isinstance(code, str) and CODE_PATTERN.fullmatch(code) is not None


def base_url(conn: sqlite3.Connection) -> str:
    """The phones' address in force (setting ``qr_base_url``), "" when QR is off."""
    return settings.get(conn, "qr_base_url") or ""


def url_of(base: str, code: str) -> str:
    """The address a phone opens for ``code``.

    >>> url_of("http://192.168.1.10:8501", "AbC-_x")
    'http://192.168.1.10:8501/q/AbC-_x'
    """
    return f"{base.rstrip('/')}/q/{code}"


def svg_of(url: str) -> str:
    """The QR code of ``url`` as an SVG document with its namespace (segno: paths only, no script, no XML
    declaration), black on white with its quiet zone, so a phone reads it on any screen."""
    import segno

    out = io.BytesIO()
    # With its namespace: the tablet shows it as an image (a data: URL), which needs one.
    segno.make(url, error="m").save(
        out, kind="svg", xmldecl=False, svgns=True, scale=4, dark="#000", light="#fff", svgclass="sipas-qr"
    )
    return out.getvalue().decode("utf-8").strip()


def png_of(url: str, scale: int = 10) -> bytes:
    """The QR code of ``url`` as a PNG (for the printed cards)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2, dark="#000", light="#fff")
    return out.getvalue()


def _ts(moment: datetime) -> str:
    return clock.format_ts(moment)


def _parse(ts: str, like: datetime) -> datetime:
    return clock.parse_ts(ts).replace(tzinfo=like.tzinfo)


@dataclass(frozen=True)
class Card:
    """One issued code: its plain text (shown once, never stored), address and expiry."""

    code: str
    url: str
    expires_at: datetime
    dossier_id: str | None = None


def parse_dossier_codes(text: str) -> list[str]:
    """Dossier codes typed one per line (blank lines skipped): each checked, none twice, at most
    MAX_CARDS; ValidationError listing every problem by line."""
    if not isinstance(text, str):
        raise ValidationError("Danh sách mã hồ sơ không đúng dạng.")
    problems, codes, seen = [], [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value:
            continue
        if len(value) > MAX_DOSSIER_LENGTH or DOSSIER_PATTERN.fullmatch(value) is None:
            shown = value[:40] + ("…" if len(value) > 40 else "")
            problems.append(
                f'Dòng {number}: mã hồ sơ "{shown}" không hợp lệ (chỉ gồm chữ không dấu, số và . - _ / :, '
                f"tối đa {MAX_DOSSIER_LENGTH} ký tự)."
            )
            continue
        if value in seen:
            problems.append(f'Dòng {number}: mã hồ sơ "{value}" trùng với dòng {seen[value]}.')
            continue
        seen[value] = number
        codes.append(value)
    if not problems and not codes:
        problems.append("Chưa có mã hồ sơ nào (mỗi dòng một mã).")
    if len(codes) > MAX_CARDS:
        problems.append(f"Nhiều nhất {MAX_CARDS} mã hồ sơ mỗi lần in (đã nhập {len(codes)}).")
    if problems:
        raise ValidationError(problems)
    return codes


def issue_sheet(
    conn: sqlite3.Connection, n: int | None, *, now: datetime, actor: str, dossiers: list[str] | None = None
) -> list[Card]:
    """Issue the codes of a printed sheet of cards: ``n`` cards (1–MAX_CARDS), or one per dossier code of
    ``dossiers`` (checked like :func:`parse_dossier_codes`; a dossier already rated is refused). Stored
    (hashes only) with the audit entry ``qr-cards`` in one transaction. ValidationError, nothing stored,
    when the phones' address is not set or the input is wrong."""
    base = base_url(conn)
    if not base:
        raise ValidationError(MSG_NO_ADDRESS)
    if dossiers is not None:
        dossiers = parse_dossier_codes("\n".join(str(d) for d in dossiers))
        rated = [d for d in dossiers if db.dossier_rated(conn, d)]
        if rated:
            raise ValidationError(
                [f'Hồ sơ "{d}" đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần.' for d in rated]
            )
        wanted: list[str | None] = list(dossiers)
    else:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CARDS:
            raise ValidationError(f"Số phiếu in phải là số nguyên từ 1 đến {MAX_CARDS}.")
        wanted = [None] * n
    if not (actor or "").strip():
        raise ValidationError("Cần tên người in phiếu.")
    expires = now + VALID_FOR
    cards = [Card(code, url_of(base, code), expires, d) for code, d in ((new_code(), d) for d in wanted)]
    db.insert_qr_codes(
        conn,
        [
            {
                "code_hash": code_hash(c.code),
                "issued_at": _ts(now),
                "expires_at": _ts(expires),
                "source": SHEET_SOURCE,
                "issued_by": actor,
                "dossier_id": c.dossier_id,
            }
            for c in cards
        ],
        printed_by=actor,
        note=f"{len(cards)} phiếu" + (f", {len(dossiers)} mã hồ sơ" if dossiers else ""),
    )
    return cards


def for_tablet(conn: sqlite3.Connection, device: str, *, now: datetime) -> dict | None:
    """The code an enrolled tablet's screens offer: its latest unused, unexpired code issued within the
    last hour (held by this process), else a new one. ``{"code", "url", "svg", "expires_at"}``
    (``expires_at`` ISO 8601 with the commune's offset), or None when no phones' address is set."""
    base = base_url(conn)
    if not base or not device:
        return None
    source = TABLET_SOURCE + device
    key = (db.database_file(conn), source)
    with _held_lock:
        held = _held.get(key)
        row = db.latest_unused_qr_code(conn, source, _ts(now - REUSE_FOR), _ts(now))
        if held is not None and row is not None and row["code_hash"] == code_hash(held):
            code, expires = held, _parse(row["expires_at"], now)
        else:
            code, expires = new_code(), now + VALID_FOR
            db.insert_qr_codes(
                conn,
                [
                    {
                        "code_hash": code_hash(code),
                        "issued_at": _ts(now),
                        "expires_at": _ts(expires),
                        "source": source,
                        "issued_by": None,
                        "dossier_id": None,
                    }
                ],
            )
            _held[key] = code
    url = url_of(base, code)
    return {"code": code, "url": url, "svg": svg_of(url), "expires_at": expires.isoformat()}


@dataclass(frozen=True)
class CodeState:
    """What a code is now: ``state`` ok / used / expired / unknown, the Vietnamese ``message`` of a state
    that is not ok, and the stored row (None when unknown)."""

    state: str
    message: str | None = None
    row: dict | None = None


def state(conn: sqlite3.Connection, code: object, now: datetime) -> CodeState:
    """Whether ``code`` can still store a survey at ``now``. A code whose dossier was already rated (with
    another card) counts as used."""
    if not well_formed(code):
        return CodeState("unknown", MSG_UNKNOWN)
    row = db.qr_code_row(conn, code_hash(code))
    if row is None:
        return CodeState("unknown", MSG_UNKNOWN)
    if row["used_at"] is not None:
        return CodeState("used", MSG_USED, row)
    if _parse(row["expires_at"], now) <= now:
        return CodeState("expired", MSG_EXPIRED, row)
    if row["dossier_id"] and db.dossier_rated(conn, row["dossier_id"]):
        return CodeState("used", MSG_DOSSIER_RATED, row)
    return CodeState("ok", None, row)
