"""Staff sessions that survive a reload and a second tab (the sipas_staff cookie), in real Chromium.

The cookie holds an opaque token; the database keeps only its SHA-256 and ends it on logout, so a
logout in one tab logs out every tab. A counter tablet never takes the staff session from the cookie.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from sipas import db
from sipas.admin import auth
from tests import browser as b

pytestmark = pytest.mark.browser

PW = "matkhau-dung-1"
OVERVIEW = "Tổng quan chỉ số hài lòng"
LOGIN = "Cán bộ đăng nhập"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("session-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
        auth.create_user(c, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    with b.streamlit_server(path, work) as srv:
        srv.db_path = path
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


def expect():
    from playwright.sync_api import expect as pw_expect

    return pw_expect


def open_at(page, server, path: str) -> None:
    b.open_path(page, server, path)


def heading(page, name):
    return page.get_by_role("heading", name=name)


def test_a_clerk_stays_logged_in_after_reload_and_in_a_new_tab_and_logout_ends_every_tab(chromium, server):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    try:
        page = context.new_page()
        b.watch_runs(page)
        open_at(page, server, "/login")
        page.get_by_label("Tên đăng nhập").fill("vanphong")
        page.get_by_label("Mật khẩu").fill(PW)
        before = b.runs(page)
        page.get_by_role("button", name="Đăng nhập", exact=True).click()
        b.wait_for_run(page, timeout=30_000, after=before)
        expect()(heading(page, OVERVIEW)).to_be_visible(timeout=30_000)

        for _ in range(50):
            cookies = {c["name"]: c for c in context.cookies()}
            if "sipas_staff" in cookies:
                break
            page.wait_for_timeout(200)
        cookie = cookies["sipas_staff"]
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        with db.session(server.db_path) as c:
            stored = [r[0] for r in c.execute("SELECT token FROM staff_sessions WHERE ended_at IS NULL")]
        assert stored == [hashlib.sha256(cookie["value"].encode()).hexdigest()]  # only its hash is kept

        # F5: a new Streamlit session, still logged in.
        page.reload(wait_until="domcontentloaded")
        page.locator(b.APP).wait_for(state="attached", timeout=30_000)
        expect()(heading(page, OVERVIEW)).to_be_visible(timeout=30_000)
        expect()(page.get_by_role("link", name=re.compile("Cài đặt"))).to_be_visible()

        # A bookmark in a second tab.
        tab = context.new_page()
        b.watch_runs(tab)
        open_at(tab, server, "/data")
        expect()(heading(tab, "Nhập dữ liệu khảo sát")).to_be_visible(timeout=30_000)

        # The counter tablet's address in the same browser shows no staff menu.
        kiosk = context.new_page()
        b.watch_runs(kiosk)
        b.as_enrolled_tablet(kiosk, server)  # this browser is also an enrolled counter tablet
        open_at(kiosk, server, "/?kiosk=1")
        expect()(kiosk.get_by_text(b.WELCOME)).to_be_visible(timeout=30_000)
        assert kiosk.get_by_role("link", name=re.compile("Cài đặt")).count() == 0
        kiosk.close()

        # Logout in the first tab ends the session everywhere.
        page.get_by_role("link", name=re.compile("Đăng xuất")).click()
        expect()(heading(page, LOGIN)).to_be_visible(timeout=30_000)
        tab.reload(wait_until="domcontentloaded")
        tab.locator(b.APP).wait_for(state="attached", timeout=30_000)
        b.wait_for_run(tab, timeout=30_000)
        assert tab.get_by_role("heading", name="Nhập dữ liệu khảo sát").count() == 0
        assert tab.get_by_role("link", name=re.compile("Cài đặt")).count() == 0
        page.reload(wait_until="domcontentloaded")
        page.locator(b.APP).wait_for(state="attached", timeout=30_000)
        b.wait_for_run(page, timeout=30_000)
        assert page.get_by_role("heading", name=OVERVIEW).count() == 0
        with db.session(server.db_path) as c:
            assert c.execute("SELECT count(*) FROM staff_sessions WHERE ended_at IS NULL").fetchone()[0] == 0
    finally:
        context.close()
