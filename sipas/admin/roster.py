"""The staff roster: members are added, edited and deactivated, never deleted (their history stays).

A staff code belongs to one person forever: a new hire gets a new code, a departed person's code stays
theirs in the history (their ratings, their cases). Saving under an existing code with another name is
therefore refused unless it is said to be the same person renamed (``rename_reason``: a changed name, a
typing error), which is audited with its reason; a former member's code is never given to anyone else.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from datetime import date

from sipas import clock, db
from sipas.errors import ValidationError
from sipas.text import text_problem

CODE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")


def _same_name(a: str, b: str) -> bool:
    """The same name as typed, whatever the Unicode form or the spacing."""

    def norm(x: str) -> str:
        return " ".join(unicodedata.normalize("NFC", x).split())

    return norm(a) == norm(b)


def _former(member: dict) -> bool:
    return not member["active"] or bool(member["active_to"] and member["active_to"] <= clock.today().isoformat())


def _identity_problem(old: dict, name: str, rename_reason: str | None) -> str | None:
    """Why saving ``name`` under ``old``'s code would hand the code to another person, or None."""
    if _same_name(old["full_name"], name):
        return None
    code, who = old["code"], old["full_name"]
    if _former(old):
        since = f", đã nghỉ từ {clock.format_date(old['active_to'])}" if old["active_to"] else ", đã nghỉ"
        if rename_reason is None:
            return (
                f"Mã {code} là của cán bộ {who}{since}. Một mã cán bộ chỉ thuộc về một người, kể cả khi người đó "
                "đã nghỉ: hãy cấp cho người mới một mã khác."
            )
        return None
    if rename_reason is None:
        return (
            f"Mã {code} đang là của cán bộ {who}. Nếu đây là người mới, hãy cấp một mã khác (một mã chỉ thuộc "
            "về một người). Nếu chính cán bộ này đổi tên hoặc tên bị gõ sai, hãy chọn “Đổi tên” và ghi lý do."
        )
    return None


def save_member(conn: sqlite3.Connection, member: dict, actor: str | None, *, rename_reason: str | None = None) -> dict:
    """Add or update one staff member after validation; log old → new in the audit log.

    Under an existing code the name may change only when ``rename_reason`` says why (the same person
    renamed); otherwise the code would pass to another person, which is refused (see the module).
    A renamed former member stays former."""
    code = str(member.get("code") or "").strip()
    name = str(member.get("full_name") or "").strip()
    problems = []
    if not CODE.match(code):
        problems.append("Mã cán bộ: 1–20 ký tự chữ không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới.")
    if not name or len(name) > 120:
        problems.append("Họ và tên không được để trống (tối đa 120 ký tự).")
    for key, label in (("full_name", "Họ và tên"), ("position", "Chức danh"), ("counter", "Quầy")):
        problem = text_problem(str(member.get(key) or ""), label)
        if problem:
            problems.append(problem)
    dates = {}
    for key, label in (("active_from", "Ngày bắt đầu"), ("active_to", "Ngày kết thúc")):
        value = member.get(key)
        if value in (None, ""):
            dates[key] = None
            continue
        try:
            dates[key] = (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
        except ValueError:
            problems.append(f'{label}: ngày "{value}" không hợp lệ.')
    if dates.get("active_from") and dates.get("active_to") and dates["active_to"] < dates["active_from"]:
        problems.append("Ngày kết thúc phải sau ngày bắt đầu.")
    if rename_reason is not None:
        rename_reason = rename_reason.strip()
        if not rename_reason:
            problems.append("Đổi tên: cần ghi lý do (ví dụ: đổi tên theo giấy tờ, sửa lỗi gõ tên).")
        elif text_problem(rename_reason, "Lý do đổi tên"):
            problems.append(text_problem(rename_reason, "Lý do đổi tên"))
    old = next((m for m in db.list_staff(conn) if m["code"] == code), None) if CODE.match(code) else None
    if old is not None and name and not problems:
        problem = _identity_problem(old, name, rename_reason)
        if problem:
            problems.append(problem)
    if problems:
        raise ValidationError(problems)
    renamed = old is not None and not _same_name(old["full_name"], name)
    if renamed and _former(old):  # a rename never brings a departed person back
        member = {**member, "active": False}
        dates["active_to"] = dates["active_to"] or old["active_to"] or clock.today().isoformat()
    clean = {
        "code": code,
        "full_name": name,
        "position": (str(member.get("position") or "").strip() or None),
        "counter": (str(member.get("counter") or "").strip() or None),
        "active_from": dates["active_from"],
        "active_to": dates["active_to"],
        # An end date in the future keeps the member active until then.
        "active": 1
        if member.get("active", True) and (not dates["active_to"] or dates["active_to"] > clock.today().isoformat())
        else 0,
    }
    with db.transaction(conn):
        old = next((m for m in db.list_staff(conn) if m["code"] == code), None)
        db.upsert_staff(conn, clean)
        db.log_audit(
            conn,
            actor,
            "staff",
            f"staff:{code}",
            None if old is None else json.dumps({k: old[k] for k in clean}, ensure_ascii=False),
            json.dumps(clean, ensure_ascii=False),
            f"Đổi tên (cùng một người): {rename_reason}" if renamed else None,
        )
    return clean


def deactivate(conn: sqlite3.Connection, code: str, on: date, actor: str | None) -> None:
    """A staff member who leaves: inactive from ``on``; never deleted."""
    member = next((m for m in db.list_staff(conn) if m["code"] == code), None)
    if member is None:
        raise ValidationError(f'Không có cán bộ mã "{code}".')
    save_member(conn, {**member, "active": False, "active_to": on.isoformat()}, actor)


PHOTO_MAX_BYTES = 300_000
_PHOTO_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def photo_type(data: bytes) -> str | None:
    """The image type by its first bytes (PNG, JPEG or WebP), never by the file name."""
    for magic, mime in _PHOTO_TYPES:
        if data.startswith(magic):
            return mime
    if len(data) > 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def set_photo(conn: sqlite3.Connection, code: str, data: bytes | None, actor: str | None) -> None:
    """A staff member's photo for the tablet's staff picker (None removes it); checked type and size."""
    if not any(m["code"] == code for m in db.list_staff(conn)):
        raise ValidationError(f'Không có cán bộ mã "{code}".')
    mime = None
    if data is not None:
        if len(data) > PHOTO_MAX_BYTES:
            raise ValidationError(
                f"Ảnh quá lớn ({len(data):,} byte); tối đa {PHOTO_MAX_BYTES:,} byte.".replace(",", ".")
            )
        mime = photo_type(data)
        if mime is None:
            raise ValidationError("Ảnh phải là tệp PNG, JPEG hoặc WebP.")
    with db.transaction(conn):
        db.set_staff_photo(conn, code, data, mime)
        db.log_audit(conn, actor, "staff_photo", f"staff:{code}", None, mime or "xóa ảnh", None)
