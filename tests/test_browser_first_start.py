"""First start in real headless Chromium: the first administrator from the server itself, no code.

The server listens on every address (``::``, IPv4 included), as on a commune's PC. A visit to
``http://127.0.0.1`` and one to ``http://localhost`` (which Chromium may send over ``::1``) are the
server itself: no code is asked. A visit to the machine's network address is "another machine":
the code is asked, wrong codes are refused and, after 5, refused even when right; the code is in
the console and in ``<db>.setup-code``, readable by the server's user only.

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import socket
import stat

import pytest

from sipas import db
from sipas.admin import first_start
from tests import browser as b

pytestmark = pytest.mark.browser

PW = "matkhau-dung-1"
FIRST_START = "Thiết lập lần đầu"
CODE_LABEL = "Mã thiết lập (in trong cửa sổ máy chủ)"


def network_address() -> str | None:
    """An address of this machine that is not loopback (the route a LAN visitor would use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.250", 9))  # no packet is sent for UDP connect
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("first-start-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
    with b.streamlit_server(path, work, address="::") as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium):
    page = b.new_tablet_page(chromium, viewport={"width": 1280, "height": 900}, has_touch=False)
    yield page
    page.context.close()


def open_login(page, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/login", wait_until="domcontentloaded")
    page.locator(b.APP).wait_for(state="attached", timeout=30_000)
    b.wait_for_run(page, timeout=30_000)
    expect(page.get_by_role("heading", name=FIRST_START)).to_be_visible(timeout=20_000)
    expect(page.get_by_label("Nhập lại mật khẩu")).to_be_visible(timeout=20_000)


def port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def fill_account(page, user: str, code: str | None = None) -> None:
    if code is not None:
        page.get_by_label(CODE_LABEL).fill(code)
    page.get_by_label("Tên đăng nhập").fill(user)
    page.get_by_label("Mật khẩu (ít nhất 8 ký tự)").fill(PW)
    page.get_by_label("Nhập lại mật khẩu").fill(PW)
    before = b.runs(page)
    page.get_by_role("button", name="Tạo tài khoản quản trị", exact=True).click()
    b.wait_for_run(page, timeout=30_000, after=before)


def test_from_another_machine_the_code_is_asked_limited_and_kept_in_a_private_file(page, server):
    ip = network_address()
    if ip is None:
        pytest.skip("this machine has no network address besides loopback")
    open_login(page, f"http://{ip}:{port(server)}")
    assert page.get_by_label(CODE_LABEL).count() == 1
    code_file = first_start.code_file(server.db)
    code = code_file.read_text(encoding="utf-8").splitlines()[1]
    assert len(code) == 8 and code.isdigit()
    assert stat.S_IMODE(code_file.stat().st_mode) == 0o600
    assert code in server.log_tail(100_000)  # the console shows the same code
    wrong = "00000000" if code != "00000000" else "11111111"
    for _ in range(5):
        fill_account(page, "khach", wrong)
        assert page.get_by_text(first_start.WRONG_CODE).count() == 1
    fill_account(page, "khach", code)  # the right code, but too many wrong ones before it
    assert page.get_by_text("Nhập sai mã thiết lập quá nhiều lần.", exact=False).count() == 1
    assert b.db_rows(server.db, "SELECT count(*) FROM users") == [(0,)]


def test_from_127_0_0_1_no_code_is_asked(page, server):
    open_login(page, f"http://127.0.0.1:{port(server)}")
    assert page.get_by_label("Tên đăng nhập").count() == 1
    assert page.get_by_label(CODE_LABEL).count() == 0
    assert "máy khác máy chủ" not in page.locator("body").inner_text()


def test_from_localhost_the_first_admin_is_made_without_a_code(page, server):
    open_login(page, f"http://localhost:{port(server)}")
    assert page.get_by_label(CODE_LABEL).count() == 0
    # The code limit reached from elsewhere does not lock out the server itself.
    fill_account(page, "vanphong")
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Tổng quan chỉ số hài lòng")).to_be_visible(timeout=20_000)
    assert b.db_rows(server.db, "SELECT username, is_admin FROM users") == [("vanphong", 1)]
    assert not first_start.code_file(server.db).exists()
