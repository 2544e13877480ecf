"""The accounts page: the list is drawn again after a change and reads in Vietnamese (roles, rights,
state, dates dd/mm/yyyy), never "clerk" or 1/0."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

import ui
from sipas.admin import auth

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "accounts.py")
PW = "mat-khau-dai-1"


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_the_list_shows_a_new_account_at_once_in_vietnamese(conn):
    admin = auth.create_user(conn, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state[ui.TOKEN_KEY] = auth.start_session(conn, admin)
    at.run()
    assert not at.exception
    assert list(at.dataframe[0].value["Tên đăng nhập"]) == ["vanphong"]

    at.text_input(key="new_user").input("thongke")
    at.text_input(key="new_full").input("Lê Văn Hùng")
    at.selectbox(key="new_role").set_value("chairman")
    at.text_input(key="new_pw").input(PW)
    next(b for b in at.button if b.label == "Thêm tài khoản").click()
    at.run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Đã tạo tài khoản thongke."]
    table = at.dataframe[0].value.set_index("Tên đăng nhập")
    assert list(table.index) == ["thongke", "vanphong"]  # drawn again: the new account is listed
    assert table.loc["thongke", "Vai trò"] == "Chủ tịch/Phó Chủ tịch UBND xã"
    assert table.loc["vanphong", "Vai trò"] == "Công chức Văn phòng – Thống kê"
    assert table.loc["vanphong", "Quyền quản trị"] == "Có" and table.loc["thongke", "Quyền quản trị"] == "Không"
    assert set(table["Trạng thái"]) == {"Đang dùng"}
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", v) for v in table["Tạo lúc"])
    assert not {"clerk", "chairman", "0", "1", "None"} & set(table.to_numpy().ravel())
