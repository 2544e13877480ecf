"""The counter tablet as a web app of its own (tablet_web.py) and the survey on a citizen's phone from a
single-use QR code, in real headless Chromium (issue 19, items 1 and 7).

What is asserted is what the tablet loads, what survives a server that is down (a reload included: the
service worker keeps the page, IndexedDB keeps the queue), what a phone sees for a good, used or expired
code, and what the commune counts (exactly once, channel ``qr``).

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from sipas import clock, db
from sipas.admin import settings
from sipas.survey import qr_codes
from tests import browser as b

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def prepare(path, *, qr_address: str | None = None) -> None:
    with db.session(path) as c:
        db.upsert_staff(c, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
        b.keep_counter_open(c)
        if qr_address:
            settings.put(c, "qr_base_url", qr_address, actor="test")


@pytest.fixture(scope="module")
def chromium():
    b.require_browser()
    with b.chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("tablet-app")
    path = work / "sipas.db"
    prepare(path)
    with b.streamlit_server(path, work, thanks_seconds=3, idle_seconds=60) as srv:
        with db.session(path) as c:  # the phones' address is this server (known only once it runs)
            settings.put(c, "qr_base_url", srv.url, actor="test")
        yield srv


def worker_ready(page) -> None:
    """The service worker controls the page (installed on the first load, then claims it)."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller", timeout=15_000)


def count(path, sql: str, params: tuple = ()) -> int:
    with sqlite3.connect(path, timeout=15) as c:
        return c.execute(sql, params).fetchone()[0]


def finish_survey(page, comment: str) -> None:
    b.tap(b.start_button(page))
    expect(page.locator(".kiosk")).to_have_attribute("data-screen", "survey")
    while b.button(page, b.SUBMIT).count() == 0:
        old = page.locator(".kiosk").get_attribute("data-question")
        if page.locator(".kiosk .face").count():
            b.tap(page.get_by_role("radio", name="Hài lòng", exact=True))
        else:
            b.tap(page.locator('.kiosk .screen [role="radio"]').first)
        page.wait_for_function(
            "q => document.querySelector('.kiosk').getAttribute('data-question') !== q", arg=old, timeout=5000
        )
    page.locator(".kiosk textarea").fill(comment)
    b.tap(b.button(page, b.SUBMIT))
    expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()


def wait_count(path, sql: str, params: tuple, want: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    n = count(path, sql, params)
    while n < want and time.monotonic() < deadline:
        time.sleep(0.25)
        n = count(path, sql, params)
    return n


def test_the_tablet_loads_nothing_of_streamlit_and_holds_no_session(chromium, server):
    """The old bookmark leads to /tablet/; the page loads only its own three files (page, script, style) and
    talks to the server only by JSON posts; no websocket is ever opened."""
    page = b.new_tablet_page(chromium)
    requests, sockets = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        b.open_kiosk(page, server)
        assert urlparse(page.url).path == "/tablet/"
        b.wait_for_run(page)
        paths = {urlparse(u).path for u in requests if not u.startswith("data:")}
        assert paths <= {"/", "/tablet/", "/tablet/app.js", "/tablet/app.css", "/tablet/sw.js", "/api/tablet/sync"}, (
            paths
        )
        assert not [p for p in paths if p.startswith(("/_stcore", "/static"))]
        assert sockets == []
        assert page.locator(".kiosk").get_attribute("data-store") == "indexeddb"
    finally:
        page.context.close()


def open_under_worker(page, srv) -> None:
    """Open the tablet and wait until its service worker controls the page (installed on the first load)."""
    b.open_kiosk(page, srv)
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller", timeout=15_000)


def test_a_reload_while_the_server_is_down_shows_the_survey_and_nothing_is_lost(chromium, tmp_path):
    """The service worker keeps the page: with the server killed, a reload (and a new tab, as after a
    browser restart) still shows the survey; a survey done then waits in IndexedDB and is stored exactly
    once when the server is back, by itself."""
    path = tmp_path / "sipas.db"
    prepare(path)
    with b.streamlit_server(path, tmp_path, thanks_seconds=3, idle_seconds=60) as srv:
        page = b.new_tablet_page(chromium)
        try:
            open_under_worker(page, srv)
            finish_survey(page, "phiếu trước khi tải lại")
            b.stop_server(srv)
            page.reload(wait_until="domcontentloaded")
            expect(b.start_button(page)).to_be_visible(timeout=15_000)
            assert page.locator(".kiosk").get_attribute("data-screen") == "welcome"
            # A new tab of the same browser (what a restart of the tablet's browser opens).
            other = page.context.new_page()
            other.goto(srv.url + "/tablet/?device=quay-test", wait_until="domcontentloaded")
            expect(b.start_button(other)).to_be_visible(timeout=15_000)
            other.close()
            finish_survey(page, "phiếu khi máy chủ tắt")
            expect(page.locator(".kiosk .pending")).to_contain_text("phiếu chờ gửi")
            kept = page.evaluate(
                """() => new Promise(done => {
                     const r = indexedDB.open('sipas-tablet');
                     r.onsuccess = () => {
                       const g = r.result.transaction('kv').objectStore('kv').get('sipas.kiosk.queue.v1');
                       g.onsuccess = () => done(g.result || '[]');
                     };
                   })"""
            )
            assert "phiếu khi máy chủ tắt" in kept
            b.start_server_again(srv)
            expect(page.locator(".kiosk .pending")).to_be_hidden(timeout=30_000)
            sql = "SELECT count(*) FROM responses WHERE comment = ?"
            assert wait_count(path, sql, ("phiếu khi máy chủ tắt",), 1) == 1
            assert count(path, sql, ("phiếu trước khi tải lại",)) == 1
            time.sleep(2)
            assert count(path, sql, ("phiếu khi máy chủ tắt",)) == 1
        finally:
            page.context.close()


def test_the_queue_survives_a_cleared_local_storage(chromium, tmp_path):
    """A survey queued while the server is down is kept in IndexedDB too: with localStorage cleared (what
    storage pressure or a cleaning app may do) the reloaded tablet still sends it, once."""
    path = tmp_path / "sipas.db"
    prepare(path)
    with b.streamlit_server(path, tmp_path, thanks_seconds=3, idle_seconds=60) as srv:
        page = b.new_tablet_page(chromium)
        try:
            open_under_worker(page, srv)
            b.stop_server(srv)
            finish_survey(page, "chỉ còn trong IndexedDB")
            page.evaluate("() => localStorage.removeItem('sipas.kiosk.queue.v1')")
            b.start_server_again(srv)
            page.reload(wait_until="domcontentloaded")
            sql = "SELECT count(*) FROM responses WHERE comment = ?"
            assert wait_count(path, sql, ("chỉ còn trong IndexedDB",), 1) == 1
        finally:
            page.context.close()


def test_the_tablet_offers_a_single_use_code_and_a_phone_rates_with_it_once(chromium, server):
    """The welcome screen shows "Đánh giá trên điện thoại của Ông/Bà" with a QR code of this server's
    address; the phone opens it in phone layout, answers, and the survey is stored once with channel qr;
    the same code opened again says it was used, in Vietnamese."""
    tablet = b.new_tablet_page(chromium)
    try:
        b.open_kiosk(tablet, server)
        box = tablet.locator(".kiosk .qr-box")
        expect(box).to_be_visible(timeout=15_000)
        expect(box).to_contain_text("Đánh giá trên điện thoại của Ông/Bà")
        url = box.get_attribute("data-qr")
        assert re.fullmatch(re.escape(server.url) + r"/q/[A-Za-z0-9_-]{16,64}", url), url
        assert tablet.locator(".kiosk .qr-img").evaluate("i => i.naturalWidth > 0")
        tablet.screenshot(path=str(server.log.parent / "tablet-qr-800x1280.png"))
    finally:
        tablet.context.close()

    phone = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="vi-VN").new_page()
    try:
        before = count(server.db, "SELECT count(*) FROM responses WHERE channel = 'qr'")
        phone.goto(url, wait_until="domcontentloaded")
        expect(b.start_button(phone)).to_be_visible(timeout=15_000)
        assert phone.locator(".kiosk .qr-box").count() == 0  # no code on the phone itself
        phone.screenshot(path=str(server.log.parent / "phone-welcome-390x844.png"))
        finish_survey(phone, "đánh giá trên điện thoại")
        expect(phone.get_by_text("Ý kiến của Ông/Bà đã được ghi nhận")).to_be_visible(timeout=15_000)
        assert b.button(phone, "Về trang đầu").count() == 0
        sql = "SELECT count(*) FROM responses WHERE channel = 'qr' AND comment = ?"
        assert wait_count(server.db, sql, ("đánh giá trên điện thoại",), 1) == 1
        assert count(server.db, "SELECT count(*) FROM responses WHERE channel = 'qr'") == before + 1
        # Opened again (a second person, or the same after closing the page): used, said in Vietnamese.
        again = chromium.new_context(viewport=PHONE, locale="vi-VN").new_page()
        again.goto(url, wait_until="domcontentloaded")
        expect(again.get_by_role("heading", name="Không dùng được mã đánh giá này")).to_be_visible(timeout=15_000)
        expect(again.get_by_text(qr_codes.MSG_USED)).to_be_visible()
        assert b.start_button(again).count() == 0
        again.context.close()
    finally:
        phone.context.close()


def test_an_expired_or_unknown_code_says_so_and_stores_nothing(chromium, server):
    with db.session(server.db) as c:
        card = qr_codes.issue_sheet(c, 1, now=clock.now() - timedelta(days=8), actor="test")[0]
    before = count(server.db, "SELECT count(*) FROM responses")
    page = chromium.new_context(viewport=PHONE, locale="vi-VN").new_page()
    try:
        page.goto(server.url + urlparse(card.url).path, wait_until="domcontentloaded")
        expect(page.get_by_text(qr_codes.MSG_EXPIRED)).to_be_visible(timeout=15_000)
        page.goto(server.url + "/q/khong-co-ma-nay-1234567", wait_until="domcontentloaded")
        expect(page.get_by_text(qr_codes.MSG_UNKNOWN)).to_be_visible(timeout=15_000)
        assert b.start_button(page).count() == 0
    finally:
        page.context.close()
    assert count(server.db, "SELECT count(*) FROM responses") == before


def test_a_card_printed_for_a_dossier_gives_that_dossier_one_rating(chromium, server):
    """Reception prints a card carrying the dossier code (issue 23, item 6): the phone's survey is linked to
    that dossier, and a second card for the same dossier, printed before the first was used, is refused once
    the dossier is rated."""
    with db.session(server.db) as c:
        first, second = (
            qr_codes.issue_sheet(c, None, now=clock.now(), actor="test", dossiers=["000.00.12.H42-261206-0042"])[0]
            for _ in range(2)
        )
    phone = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="vi-VN").new_page()
    try:
        phone.goto(server.url + urlparse(first.url).path, wait_until="domcontentloaded")
        expect(b.start_button(phone)).to_be_visible(timeout=15_000)
        finish_survey(phone, "đánh giá hồ sơ 0042")
        expect(phone.get_by_text("Ý kiến của Ông/Bà đã được ghi nhận")).to_be_visible(timeout=15_000)
        sql = "SELECT count(*) FROM responses WHERE channel = 'qr' AND dossier_id = ?"
        assert wait_count(server.db, sql, ("000.00.12.H42-261206-0042",), 1) == 1
        phone.goto(server.url + urlparse(second.url).path, wait_until="domcontentloaded")
        expect(phone.get_by_text(qr_codes.MSG_DOSSIER_RATED)).to_be_visible(timeout=15_000)
        assert b.start_button(phone).count() == 0
    finally:
        phone.context.close()
    assert count(server.db, "SELECT count(*) FROM responses WHERE dossier_id = ?", ("000.00.12.H42-261206-0042",)) == 1
