"""A staff code belongs to one person forever (issue 20 item 4): never handed to a new hire, a departed
person's code stays theirs, a rename of the same person is told apart from a replacement."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from conftest import table_snapshot
from streamlit.testing.v1 import AppTest

from sipas import db
from sipas.admin import auth, roster
from sipas.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
HONG = {"code": "CB01", "full_name": "Nguyễn Thị Hồng", "counter": "Quầy 1", "active_from": date(2023, 1, 2)}
FORMER = (
    "Mã CB01 là của cán bộ Nguyễn Thị Hồng, đã nghỉ từ 30/06/2024. Một mã cán bộ chỉ thuộc về một người, "
    "kể cả khi người đó đã nghỉ: hãy cấp cho người mới một mã khác."
)
CURRENT = (
    "Mã CB01 đang là của cán bộ Nguyễn Thị Hồng. Nếu đây là người mới, hãy cấp một mã khác (một mã chỉ thuộc "
    "về một người). Nếu chính cán bộ này đổi tên hoặc tên bị gõ sai, hãy chọn “Đổi tên” và ghi lý do."
)


def _staff(conn, code: str) -> dict:
    return next(m for m in db.list_staff(conn) if m["code"] == code)


def test_a_former_members_code_is_refused_to_a_new_hire_and_nothing_changes(conn):
    roster.save_member(conn, HONG, "vanphong")
    roster.deactivate(conn, "CB01", date(2024, 6, 30), "vanphong")
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        roster.save_member(conn, {"code": "CB01", "full_name": "Trần Văn Nam", "active_from": date(2024, 7, 1)}, "x")
    assert exc.value.problems == [FORMER]
    assert table_snapshot(conn) == before
    assert (_staff(conn, "CB01")["full_name"], _staff(conn, "CB01")["active"]) == ("Nguyễn Thị Hồng", 0)
    # The new hire gets a new code.
    roster.save_member(conn, {"code": "CB10", "full_name": "Trần Văn Nam", "active_from": date(2024, 7, 1)}, "x")
    assert _staff(conn, "CB10")["active"] == 1


def test_a_current_members_code_is_not_given_to_another_name_without_saying_it_is_a_rename(conn):
    roster.save_member(conn, HONG, "vanphong")
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        roster.save_member(conn, {**HONG, "full_name": "Phạm Thị Thu"}, "vanphong")
    assert exc.value.problems == [CURRENT]
    assert table_snapshot(conn) == before


def test_a_rename_of_the_same_person_is_kept_with_its_reason_in_the_audit(conn):
    roster.save_member(conn, HONG, "vanphong")
    with pytest.raises(ValidationError) as exc:
        roster.save_member(conn, {**HONG, "full_name": "Nguyễn Thị Hồng Nhung"}, "vanphong", rename_reason="  ")
    assert exc.value.problems == ["Đổi tên: cần ghi lý do (ví dụ: đổi tên theo giấy tờ, sửa lỗi gõ tên)."]
    roster.save_member(
        conn, {**HONG, "full_name": "Nguyễn Thị Hồng Nhung"}, "vanphong", rename_reason="Đổi tên theo giấy khai sinh"
    )
    assert _staff(conn, "CB01")["full_name"] == "Nguyễn Thị Hồng Nhung"
    old, new, note = conn.execute(
        "SELECT old_value, new_value, note FROM audit_log WHERE action = 'staff' ORDER BY id DESC"
    ).fetchone()
    assert (json.loads(old)["full_name"], json.loads(new)["full_name"]) == ("Nguyễn Thị Hồng", "Nguyễn Thị Hồng Nhung")
    assert note == "Đổi tên (cùng một người): Đổi tên theo giấy khai sinh"


def test_the_same_name_in_another_unicode_form_or_spacing_is_an_edit_not_a_rename(conn):
    roster.save_member(conn, HONG, "vanphong")
    nfd = "  " + unicodedata.normalize("NFD", "Nguyễn  Thị Hồng") + " "
    roster.save_member(conn, {**HONG, "full_name": nfd, "counter": "Quầy 2"}, "vanphong")
    assert _staff(conn, "CB01")["counter"] == "Quầy 2"


def test_renaming_a_former_member_keeps_them_former(conn):
    roster.save_member(conn, HONG, "vanphong")
    roster.deactivate(conn, "CB01", date(2024, 6, 30), "vanphong")
    roster.save_member(conn, {**HONG, "full_name": "Nguyễn Thị Hồng Nhung"}, "vanphong", rename_reason="Sửa lỗi gõ tên")
    m = _staff(conn, "CB01")
    assert (m["full_name"], m["active"], m["active_to"]) == ("Nguyễn Thị Hồng Nhung", 0, "2024-06-30")


def test_the_roster_page_refuses_a_former_members_code_for_a_new_hire(conn, clerk):
    roster.save_member(conn, HONG, "vanphong")
    roster.deactivate(conn, "CB01", date(2024, 6, 30), "vanphong")
    at = AppTest.from_file(str(ROOT / "app_pages" / "settings.py"), default_timeout=90)
    at.session_state["staff_token"] = auth.start_session(conn, clerk)
    at.run()
    before = {k: v for k, v in table_snapshot(conn).items() if k != "staff_sessions"}  # last_seen moves
    at.text_input(key="staff_code").set_value("CB01")
    at.text_input(key="staff_name").set_value("Trần Văn Nam")
    next(b for b in at.button if b.label == "Lưu cán bộ").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Chưa lưu được:"]
    assert [c.value for c in at.code] == [FORMER]
    assert {k: v for k, v in table_snapshot(conn).items() if k != "staff_sessions"} == before
    # Told as a rename with its reason, the same person's name is corrected.
    at.text_input(key="staff_code").set_value("CB01")
    at.text_input(key="staff_name").set_value("Nguyễn Thị Hồng Nhung")
    at.checkbox(key="staff_rename").check()
    at.text_input(key="staff_rename_reason").set_value("Sửa lỗi gõ tên")
    next(b for b in at.button if b.label == "Lưu cán bộ").click().run()
    assert [s.value for s in at.success] == ["Đã lưu cán bộ CB01."]
    assert (_staff(conn, "CB01")["full_name"], _staff(conn, "CB01")["active"]) == ("Nguyễn Thị Hồng Nhung", 0)
