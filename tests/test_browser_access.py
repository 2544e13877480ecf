"""Staff access in real headless Chromium: typed addresses, the locked tablet, the real login form.

Every ``page.goto`` is a new Streamlit session (an anonymous visitor), so typing a staff page's
address must give the survey and nothing of the staff page. One ``streamlit run`` server for the
module with its own database, seeded with a staff name and a setting value that no anonymous
visitor may ever see.

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlparse

import pytest

from sipas import db
from sipas.admin import auth, roster, settings
from tests import browser as b

pytestmark = pytest.mark.browser

PW = "matkhau-dung-1"
# Every page file's name as an address (the staff pages use their file names as url_path), so a new
# staff page is covered by default; kiosk and login are the public ones.
STAFF_PATHS = sorted(p.stem for p in (b.ROOT / "app_pages").glob("*.py") if p.stem not in ("kiosk", "login"))
STAFF_TITLES = (
    "Tổng quan chỉ số hài lòng",
    "Nhập dữ liệu khảo sát",
    "Số liệu gốc để so sánh",
    "Cài đặt",
    "Tài khoản",
    "Đăng xuất",
    "Bạn đã đăng xuất",
)
SECRET_STAFF = "Phạm Thị Bí Mật"
SECRET_RECIPIENT = "Phòng Nội vụ thử nghiệm Zeta-42"
LOGIN_LINK = "Cán bộ đăng nhập"
OVERVIEW = "Tổng quan chỉ số hài lòng"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("access-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
        auth.create_user(c, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
        roster.save_member(c, {"code": "CB07", "full_name": SECRET_STAFF, "active_from": date(2024, 1, 2)}, "test")
        settings.put(c, "report_recipient", SECRET_RECIPIENT, "test")
    with b.streamlit_server(path, work) as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium, server):
    page = b.new_tablet_page(chromium, viewport={"width": 1280, "height": 900}, has_touch=False)
    b.as_enrolled_tablet(page, server)  # the counter's own browser: an enrolled tablet
    yield page
    page.context.close()


def expect():
    from playwright.sync_api import expect as pw_expect

    return pw_expect


def open_at(page, server, path: str) -> None:
    """Load ``path`` as a new visitor and wait until the first run has finished."""
    b.open_path(page, server, path)


def page_text(page) -> str:
    return page.locator("body").inner_text()


@pytest.mark.parametrize("path", STAFF_PATHS)
def test_an_anonymous_visitor_typing_a_staff_address_is_told_in_vietnamese_and_sees_nothing_else(page, server, path):
    open_at(page, server, "/" + path)
    expect()(page.get_by_role("heading", name="Không mở được trang này")).to_be_visible(timeout=20_000)
    b.wait_for_run(page)
    text = page_text(page)
    assert "Trang này không có hoặc Ông/Bà không có quyền mở." in text and "Page not found" not in text
    expect()(page.get_by_role("link", name=LOGIN_LINK)).to_be_visible()
    for secret in (*STAFF_TITLES, SECRET_STAFF, SECRET_RECIPIENT, "vanphong", "Nguyễn Thị Lan"):
        assert secret not in text, secret
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def test_the_staff_link_is_on_the_survey_but_not_on_a_locked_tablet(page, server, chromium):
    """A browser that is no counter tablet (a staff computer at the bare address) gets the survey's screen
    with the staff link; an enrolled tablet never shows it, whatever its address."""
    visitor = b.new_tablet_page(chromium)
    try:
        open_at(visitor, server, "/")
        assert urlparse(visitor.url).path == "/tablet/"
        expect()(visitor.get_by_role("heading", name="Máy tính bảng này chưa được đăng ký khảo sát")).to_be_visible()
        b.settled(visitor)  # a tap in a screen's first 350 ms is taken as a phantom (taps.js)
        visitor.get_by_role("link", name=LOGIN_LINK).click()
        expect()(visitor.get_by_label("Mật khẩu")).to_be_visible(timeout=30_000)
    finally:
        visitor.context.close()

    open_at(page, server, "/")
    expect()(page.get_by_role("heading", name=b.WELCOME)).to_be_visible(timeout=20_000)
    assert page.get_by_role("link", name=LOGIN_LINK).count() == 0

    open_at(page, server, "/?kiosk=1")
    expect()(page.get_by_role("heading", name=b.WELCOME)).to_be_visible(timeout=20_000)
    b.wait_for_run(page)
    assert page.get_by_role("link", name=LOGIN_LINK).count() == 0
    assert LOGIN_LINK not in page_text(page)


def test_a_locked_tablet_typing_the_login_address_gets_no_way_to_the_login(page, server):
    open_at(page, server, "/login?kiosk=1")
    expect()(page.get_by_role("heading", name="Không mở được trang này")).to_be_visible(timeout=20_000)
    b.wait_for_run(page)
    assert page.get_by_label("Mật khẩu").count() == 0
    assert page.get_by_role("link", name=LOGIN_LINK).count() == 0
    page.get_by_role("link", name="Về màn hình khảo sát").click()  # the only way out: back to the survey
    expect()(page.get_by_role("heading", name=b.WELCOME)).to_be_visible(timeout=20_000)


def test_logging_in_through_the_real_form_shows_the_overview(page, server):
    open_at(page, server, "/login")
    expect()(page.get_by_role("heading", name=LOGIN_LINK)).to_be_visible(timeout=20_000)
    page.get_by_label("Tên đăng nhập").fill("vanphong")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    before = b.runs(page)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    b.wait_for_run(page, timeout=30_000, after=before)
    expect()(page.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng.")).to_be_visible()
    assert OVERVIEW not in page_text(page)

    page.get_by_label("Mật khẩu").fill(PW)
    before = b.runs(page)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    b.wait_for_run(page, timeout=30_000, after=before)
    expect()(page.get_by_role("heading", name=OVERVIEW)).to_be_visible(timeout=30_000)
    # The staff menu is there now, and the password is not left in the page.
    expect()(page.get_by_role("link", name=re.compile("Cài đặt"))).to_be_visible()
    assert PW not in page.content()
    # Streamlit's own hidden link for keyboard users is said in Vietnamese, and the page says it is Vietnamese.
    expect()(page.locator("html")).to_have_attribute("lang", "vi")
    expect()(page.get_by_text("Chuyển đến nội dung chính")).to_have_count(1)
    assert page.get_by_text("Skip to main content").count() == 0
