"""The backup download in real headless Chromium: an administrator types the password again, clicks
the link, and the browser saves a sound backup streamed by ``/api/backup/<token>`` (app.py's st.App
route, not Streamlit's download button); the same link then answers 404, in Vietnamese.

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from contextlib import closing

import pytest

from sipas import db, demo
from sipas.admin import auth, download_links
from tests import browser as b

pytestmark = pytest.mark.browser

PW = "matkhau-dung-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("backup-download")
    path = work / "sipas.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
        demo.generate(c, 400, seed=5)
        auth.create_user(c, "quantri", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    with b.streamlit_server(path, work) as srv:
        yield srv


def test_an_administrator_downloads_a_backup_through_the_one_time_link(server, tmp_path):
    with b.chromium() as chromium:
        page = b.new_tablet_page(
            chromium, viewport={"width": 1440, "height": 900}, has_touch=False, accept_downloads=True
        )
        b.log_in(page, server, "quantri", PW)
        b.go_to(page, "Sao lưu", timeout=60_000)

        page.get_by_label("Nhập lại mật khẩu của bạn để tải bản sao lưu").fill(PW)
        before = b.runs(page)
        page.get_by_role("button", name="Tạo liên kết tải bản sao lưu").click()
        b.wait_for_run(page, timeout=60_000, after=before)
        link = page.get_by_test_id("sipas-backup-link")
        link.wait_for(state="visible", timeout=30_000)
        href = link.get_attribute("href")
        assert href.startswith("/api/backup/") and link.inner_text().startswith("⬇ Tải xuống sipas-backup-")

        with page.expect_download(timeout=60_000) as info:
            link.click()
        download = info.value
        assert download.failure() is None
        assert download.suggested_filename.startswith("sipas-backup-") and download.suggested_filename.endswith(".db")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        with closing(sqlite3.connect(saved)) as c:
            assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert c.execute("SELECT count(*) FROM responses").fetchone() == (400,)

        # The link is spent: the same address, even from the same browser, gives no second copy.
        again = page.context.request.get(server.url + href)
        assert again.status == 404 and again.text() == download_links.GONE
    # ... and without the staff session's cookie, nothing either.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server.url + href, timeout=10)
    assert refused.value.code == 404
