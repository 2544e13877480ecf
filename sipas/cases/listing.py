"""The cases as ``python -m sipas cases --json`` lists them (data-interchange.md, "Cases").

Each case has one ``kind`` of the contract, read from how it was opened:

- ``signal``: a statistical signal on a staff member's record (channel ``signal``, the CUSUM), for the
  clerk to look into — not a complaint;
- ``staffing``: a staffing recommendation of the waiting analysis (origin ``staffing``);
- ``criterion``: a criterion below its floor, from the index analysis (origin ``analysis``);
- ``conduct``: a complaint about a staff member's conduct, from a survey or received by the clerk
  (type ``conduct``);
- ``pakn``: any other citizen feedback (phản ánh, kiến nghị) received by the clerk.

``status`` is the state's Vietnamese name without diacritics (``moi`` for "Mới"); ``founded`` is true
once verified "Có cơ sở", false once "Không có cơ sở", null while not decided.
"""

from __future__ import annotations

import sqlite3

from sipas import db
from sipas.errors import ValidationError

KINDS = ("conduct", "signal", "staffing", "criterion", "pakn")
STATUS_SLUGS = {
    "new": "moi",
    "verifying": "dang_xac_minh",
    "unfounded": "khong_co_co_so",
    "founded": "co_co_so",
    "measure": "bien_phap_cho_phe_duyet",
    "awaiting_effect": "cho_danh_gia_hieu_qua",
    "closed": "da_dong",
    "reopened": "mo_lai",
}


def case_kind(case: dict) -> str:
    """The contract's kind of a stored case (see the module's docstring).

    >>> case_kind({"channel": "signal", "origin": "analysis", "type": "conduct"})
    'signal'
    >>> case_kind({"channel": "hotline", "origin": "clerk", "type": "procedure"})
    'pakn'
    """
    if case.get("channel") == "signal":
        return "signal"
    if case["origin"] == "staffing":
        return "staffing"
    if case["origin"] == "analysis":
        return "criterion"
    if case["type"] == "conduct":
        return "conduct"
    return "pakn"


def founded(case: dict) -> bool | None:
    """True when verified "Có cơ sở", False when "Không có cơ sở", None while not decided."""
    if case["substantiated"]:
        return True
    if case["state"] == "unfounded":
        return False
    return None


def list_cases_json(conn: sqlite3.Connection, status: str | None = None, kind: str | None = None) -> list[dict]:
    """The cases as the contract lists them, oldest first; ``status`` and ``kind`` filter (a bad value is
    refused with the values allowed)."""
    problems = []
    if status is not None and status not in STATUS_SLUGS.values():
        problems.append(f'Trạng thái "{status}" không hợp lệ, chỉ nhận: {", ".join(STATUS_SLUGS.values())}.')
    if kind is not None and kind not in KINDS:
        problems.append(f'Loại "{kind}" không hợp lệ, chỉ nhận: {", ".join(KINDS)}.')
    if problems:
        raise ValidationError(problems)
    evidence = db.evidence_ids_by_case(conn)
    out = []
    for c in sorted(db.list_cases(conn), key=lambda c: c["id"]):
        row = {
            "id": c["id"],
            "kind": case_kind(c),
            "staff_code": c["staff_code"],
            "status": STATUS_SLUGS.get(c["state"], c["state"]),
            "opened_at": c["created_at"],
            "founded": founded(c),
            "evidence": evidence.get(c["id"], []),
        }
        if (status is None or row["status"] == status) and (kind is None or row["kind"] == kind):
            out.append(row)
    return out
