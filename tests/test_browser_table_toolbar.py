"""No staff table offers Streamlit's own "Download as CSV", in real headless Chromium.

That button (in the toolbar a table shows under the pointer) writes a citizen's ``=HYPERLINK(…)``
comment into the CSV as it is, a live formula in Excel; Streamlit 1.67 cannot turn it off, so
``ui.STAFF_CSS`` hides it and the pages offer their own safe download. Only a browser shows whether
the rule really applies (a second ``STAFF_CSS`` once replaced the first and the button came back),
so each table is hovered and the button's visibility is read, not the CSS text.

One ``streamlit run`` server for the module with its own demo database. Without /usr/bin/chromium
these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import pytest

from sipas import db, demo
from sipas.admin import auth
from tests import browser as b
from tests.test_browser_staff import PW, go, login

pytestmark = pytest.mark.browser

# The Chairman sees every page; these are the ones with tables (st.dataframe or st.data_editor).
PAGES_WITH_TABLES = (
    "Tổng quan",
    "Phân tích chi tiết",
    "Phản ánh và khắc phục",
    "Thời gian chờ và nhân lực",
    "Số liệu gốc",
    "Việc chờ Chủ tịch",
    "Cài đặt",
    "Tài khoản",
)
TABLES = '[data-testid="stDataFrame"], [data-testid="stDataEditor"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("toolbar-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
        demo.generate(c, 1500, seed=11)
        auth.create_user(c, "chutich", PW, "chairman", full_name="Trần Văn Chủ", first_admin=True)
    with b.streamlit_server(path, work) as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


def views(page):
    """Yield the name of each view of the page: as drawn, each tab, each section of the analysis."""
    yield ""
    tabs = page.locator('[data-baseweb="tab"]')
    for i in range(tabs.count()):
        name = tabs.nth(i).inner_text()
        tabs.nth(i).click()
        page.wait_for_timeout(300)
        b.wait_for_run(page, timeout=90_000)
        yield f"tab {name}"
    if page.get_by_text("Xem", exact=True).count():
        sections = page.locator('[data-testid="stButtonGroup"]').last.locator("button")
        for i in range(sections.count()):
            name = sections.nth(i).inner_text()
            before = b.runs(page)
            sections.nth(i).click()
            try:
                b.wait_for_run(page, timeout=90_000, after=before)
            except TimeoutError:
                b.wait_for_run(page, timeout=90_000)
            yield f"section {name}"


def toolbar_buttons(page) -> list[tuple[list[str], list[str]]]:
    """For each table in view, hovered in turn: (labels of the toolbar buttons it shows, labels of
    the Streamlit download buttons that are visible)."""
    out = []
    # The toolbar belongs to the table's element container (it is drawn above the grid).
    containers = page.locator('[data-testid="stElementContainer"]').filter(has=page.locator(TABLES))
    for i in range(containers.count()):
        container = containers.nth(i)
        table = container.locator(TABLES).first
        if not table.is_visible():
            continue  # in a closed expander or another tab: its own view hovers it
        table.scroll_into_view_if_needed()
        table.hover()
        toolbar = container.locator('[data-testid="stElementToolbar"] button')
        toolbar.first.wait_for(state="visible", timeout=10_000)
        shown = [
            toolbar.nth(k).get_attribute("aria-label") or ""
            for k in range(toolbar.count())
            if toolbar.nth(k).is_visible()
        ]
        download = container.locator('button[aria-label^="Download as CSV"]')
        visible = [
            download.nth(k).get_attribute("aria-label") or ""
            for k in range(download.count())
            if download.nth(k).is_visible()
        ]
        out.append((shown, visible))
    return out


def test_no_staff_table_offers_streamlits_own_csv_download(chromium, server):
    page = login(chromium, server, "chutich")
    offered, hovered = {}, 0
    try:
        for link in PAGES_WITH_TABLES:
            go(page, link)
            for view in views(page):
                for shown, downloads in toolbar_buttons(page):
                    hovered += 1
                    # The toolbar itself is there (search, full screen): the hover reached it, so a
                    # download button would have been visible too.
                    assert shown, f"{link} {view}: no toolbar under the pointer"
                    if downloads:
                        offered.setdefault(f"{link} {view}".strip(), []).extend(downloads)
    finally:
        page.context.close()
    assert hovered >= len(PAGES_WITH_TABLES)  # every page listed has at least one table in view
    assert not offered, "\n".join(f"{where}: {', '.join(labels)}" for where, labels in offered.items())
