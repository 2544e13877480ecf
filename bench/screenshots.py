"""Screenshots of every screen at tablet size, for a person to look at (bench/out/*.png).

    .venv/bin/python bench/screenshots.py

Starts the app on a demo database with a clerk and a Chairman account, then walks the kiosk
(portrait 800×1280) and the staff pages (landscape 1280×800) in headless Chromium.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import db, demo
from sipas.admin import auth
from tests.browser import APP, TABLET, as_enrolled_tablet, chromium, on_tablet_app, streamlit_server, tap
from tests.conftest import always_open

OUT = ROOT / "bench" / "out"


def settle(page) -> None:
    """Wait until the screen is drawn: the tablet's own app (/tablet/) has taken its screen's taps and sent
    nothing that waits; a staff page's Streamlit run has finished."""
    time.sleep(0.3)
    if on_tablet_app(page):
        page.wait_for_selector('.kiosk[data-ready="1"][data-settled="1"]:not([data-sending])', timeout=30000)
    else:
        page.wait_for_selector(f'{APP}[data-test-script-state="notRunning"]', timeout=30000)
    time.sleep(0.5)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    path = work / "shots.db"
    always_open(path)
    conn = db.open_db(path)
    demo.generate(conn, 3000, seed=7)
    auth.create_user(conn, "chutich", "matkhau123", "chairman", first_admin=True, full_name="Chủ tịch")
    conn.close()
    with streamlit_server(path, work) as server, chromium() as browser:
        page = browser.new_context(**TABLET).new_page()
        as_enrolled_tablet(page, server)  # the counter's tablet holds its device secret
        page.goto(server.url + "/?kiosk=1")  # the old bookmark: sent on to the tablet's app at /tablet/
        settle(page)
        page.screenshot(path=str(OUT / "kiosk-welcome.png"), full_page=True)
        tap(page.get_by_role("button", name="Bắt đầu đánh giá"))
        settle(page)
        page.screenshot(path=str(OUT / "kiosk-step1.png"), full_page=True)
        for _ in range(2):  # a face tap moves on by itself (400 ms), once its screen takes taps (350 ms)
            question = page.locator(".kiosk").get_attribute("data-question")
            tap(page.get_by_role("radio", name="Hài lòng", exact=True))
            page.wait_for_function(
                "q => document.querySelector('.kiosk').getAttribute('data-question') !== q", arg=question
            )
        settle(page)
        page.screenshot(path=str(OUT / "kiosk-step3.png"), full_page=True)

        staff = browser.new_context(viewport={"width": 1440, "height": 900}, locale="vi-VN").new_page()
        staff.goto(server.url + "/login")
        settle(staff)
        staff.get_by_label("Tên đăng nhập").fill("chutich")
        staff.get_by_label("Mật khẩu").fill("matkhau123")
        staff.get_by_role("button", name="Đăng nhập").click()
        settle(staff)
        staff.screenshot(path=str(OUT / "staff-overview.png"), full_page=True)
        for name in (
            "Phân tích chi tiết",
            "Việc chờ Chủ tịch",
            "Phản ánh và khắc phục",
            "Thời gian chờ",
            "Cài đặt",
            "Số liệu gốc",
            "Nhập dữ liệu",
            "Tài khoản",
            "Sao lưu",
        ):
            link = staff.get_by_role("link", name=name)
            if link.count() == 0:
                continue
            link.first.click()
            settle(staff)
            time.sleep(1.5)
            staff.screenshot(path=str(OUT / f"staff-{name.split()[0].lower()}-{len(name)}.png"), full_page=True)
    print("screenshots in", OUT)


if __name__ == "__main__":
    main()
