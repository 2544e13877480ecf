"""The settings page's tablets tab (app_pages/settings.py) through AppTest: enrol a tablet (the
one-time link shown once), the list with the last sync, revoke (audited), refusals per reason, the
misuse thresholds as settings, and the suspect surveys a clerk may restore (audited)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import click, settings_page
from streamlit.testing.v1 import AppTest

from sipas import clock, db
from sipas.admin import settings
from sipas.survey import devices, tablet

pytestmark = pytest.mark.usefixtures("fast_argon2")

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "settings.py")


page = settings_page  # the settings page as the clerk of ``clerk_token`` sees it


def frame(at: AppTest, first_column: str):
    (df,) = [d.value for d in at.dataframe if first_column in d.value.columns]
    return df


def test_enrolling_a_tablet_shows_its_one_time_link_once_and_the_link_works(conn, clerk_token):
    at = page(clerk_token)
    assert "Chưa có máy tính bảng nào được đăng ký." in [i.value for i in at.info]
    at.text_input(key="tablet_name").input("quay1")
    click(at, "Tạo liên kết đăng ký")
    assert [s.value for s in at.success] == ["Đã thêm máy quay1. Mở liên kết sau MỘT LẦN trên máy tính bảng đó:"]
    (link,) = [c.value for c in at.code]
    assert "/tablet/?device=quay1&enrol=" in link
    code = link.split("enrol=")[1]
    assert any(f"Mã đăng ký: {code}" in c.value for c in at.caption)
    assert list(frame(at, "Máy")["Trạng thái"]) == ["Chờ mở liên kết đăng ký"]
    # The link gives the tablet its secret, once.
    assert devices.enrol(conn, "quay1", code, now=clock.now())
    assert devices.enrol(conn, "quay1", code, now=clock.now()) is None
    at = page(clerk_token)
    assert not at.code  # never shown again
    assert list(frame(at, "Máy")["Trạng thái"]) == ["Đang dùng"]
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE entity = 'tablet:quay1' ORDER BY id")]
    assert actions == ["tablet-add", "tablet-enrol"]


def test_a_bad_name_is_refused_in_vietnamese_and_adds_nothing(conn, clerk_token):
    at = page(clerk_token)
    at.text_input(key="tablet_name").input("quầy 1")
    click(at, "Tạo liên kết đăng ký")
    assert [e.value for e in at.error] == ["Chưa lưu được:"]
    assert "không hợp lệ" in at.code[0].value
    assert db.list_devices(conn) == []


def enrolled(conn, name="quay1"):
    code = devices.add(conn, name, now=clock.now() - timedelta(hours=1), actor="test")
    return devices.enrol(conn, name, code, now=clock.now() - timedelta(hours=1))


def signed(secret, body, device="quay1"):
    text = json.dumps(body)
    return {"device": device, "body": text, "sig": devices.sign(secret, text)}


def test_the_list_shows_the_last_sync_and_revoking_needs_a_confirmation_and_is_audited(conn, clerk_token):
    secret = enrolled(conn)
    tablet.sync(conn, signed(secret, {"pending": 0, "want_tokens": True}), now=clock.now())
    at = page(clerk_token)
    row = frame(at, "Máy").iloc[0]
    assert row["Đồng bộ lần cuối"] != "—" and (str(row["Mã phiếu còn"]), str(row["Phiếu chờ gửi"])) == ("200", "0")
    click(at, "Thu hồi máy")
    assert [e.value for e in at.error] == ["Chưa thu hồi: hãy đánh dấu ô xác nhận."]
    assert db.device_row(conn, "quay1")["revoked_at"] is None
    at.checkbox(key="revoke_ok").check()
    click(at, "Thu hồi máy")
    assert [s.value for s in at.success] == ["Đã thu hồi máy quay1."]
    assert list(frame(at, "Máy")["Trạng thái"]) == ["Đã thu hồi"]
    (actor,) = [r[0] for r in conn.execute("SELECT actor FROM audit_log WHERE action = 'tablet-revoke'")]
    assert actor == "vanphong"
    # A message from the revoked tablet is refused, and the page counts it with its reason.
    assert tablet.sync(conn, signed(secret, {"pending": 0}), now=clock.now()).refused == "revoked"
    at = page(clerk_token)
    refusals = frame(at, "Lý do")
    assert list(refusals["Lý do"]) == ["Máy đã bị thu hồi"] and list(refusals["Số lần"]) == [1]


def test_the_misuse_thresholds_are_settings_and_the_sync_uses_them(conn, clerk_token):
    at = page(clerk_token)
    at.number_input(key="misuse_seconds").set_value(3.0)
    at.number_input(key="misuse_burst_max").set_value(2)
    at.number_input(key="misuse_burst_minutes").set_value(10)
    click(at, "Lưu ngưỡng")
    assert settings.get(conn, "kiosk_min_seconds_per_answer") == 3.0
    assert (settings.get(conn, "kiosk_burst_max"), settings.get(conn, "kiosk_burst_minutes")) == (2, 10)
    misuse = tablet.Misuse.from_settings(conn)
    assert misuse == tablet.Misuse(3.0, 2, timedelta(minutes=10))
    assert tablet.Misuse.from_settings(conn, 0.0).min_seconds_per_answer == 0.0  # the tests' override


def test_a_suspect_survey_is_listed_with_its_reason_and_a_clerk_restores_it_with_a_reason(conn, clerk_token):
    secret = enrolled(conn)
    token = devices.top_up(conn, "quay1", now=clock.now() - timedelta(minutes=30))[0]
    fast = {
        "token": token,
        "questionnaire": "sipas-2023",
        "asked": ["TC3.1", "TC3.2"],
        "answers": {"TC3.1": 5, "TC3.2": 5},
        "overall": 5,
        "duration_seconds": 1.5,  # 3 answers in 1.5 s
        "completed_ago_ms": 60_000,
    }
    assert tablet.sync(conn, signed(secret, {"surveys": [fast]}), now=clock.now()).suspect == 1
    at = page(clerk_token)
    suspects = frame(at, "Số phiếu")
    assert list(suspects["Máy"]) == ["quay1"]
    assert suspects["Lý do"][0].startswith("Nghi vấn lạm dụng: hoàn thành 3 câu trong 1.5 giây")
    click(at, "Khôi phục phiếu")  # no reason: refused
    assert "Cần ghi lý do" in at.code[0].value
    assert conn.execute("SELECT excluded FROM responses").fetchone()[0] == 1
    at.text_input(key="suspect_reason").input("Người cao tuổi được con hỗ trợ bấm nhanh")
    click(at, "Khôi phục phiếu")
    assert [s.value for s in at.success] == ["Đã khôi phục phiếu số 1: phiếu được tính vào chỉ số."]
    assert conn.execute("SELECT excluded FROM responses").fetchone()[0] == 0
    assert "Không có phiếu nào đang bị đánh dấu nghi vấn." in [c.value for c in at.caption]
    (row,) = conn.execute("SELECT actor, action, note FROM audit_log WHERE action = 'include'")
    assert tuple(row) == ("vanphong", "include", "Người cao tuổi được con hỗ trợ bấm nhanh")
