"""Staff pages in real headless Chromium at an office screen's size (1440×900), with demo data.

What only a browser shows: that each chart's plot has a real height and marks drawn in it (Vega
sizes the plot in the page; a spec that is right in the PDF can still draw an empty plot there), and
that no English or Python word reaches the text a clerk or the Chairman reads.

One ``streamlit run`` server for the module with its own demo database. Without /usr/bin/chromium
these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import re

import pytest

from sipas import db, demo
from sipas.admin import auth, settings
from sipas.catalog import questionnaire
from tests import browser as b

pytestmark = pytest.mark.browser

PW = "matkhau-dung-1"
OFFICE = {"viewport": {"width": 1440, "height": 900}, "has_touch": False}

# Words that must never be visible on a staff page: Python values, Streamlit's English defaults,
# and the codes the database stores. Matched as whole words, case-sensitively ("open" is a code,
# "Open" is not used; "None" is Python).
FORBIDDEN = (
    "None",
    "NaN",
    "nan",
    "NaT",
    "null",
    "True",
    "False",
    "Choose an option",
    "Choose options",
    "Upload",
    "Browse files",
    "Drag and drop",
    "per file",
    "No results",
    "clerk",
    "chairman",
    "evidence",
    "transition",
    "open",
    "founded",
    "unfounded",
    "awaiting_effect",
    "closed",
    "overall",
    "element",
    "criterion",
    "kiosk",
    "import",
    "staffing",
)
FORBIDDEN_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in FORBIDDEN) + r")(?![\w-])")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("staff-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
        demo.generate(c, 3000, seed=7)
        auth.create_user(c, "chutich", PW, "chairman", full_name="Trần Văn Chủ", first_admin=True)
        auth.create_user(c, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan")
    with b.streamlit_server(path, work) as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


def login(chromium, server, username: str):
    page = b.new_tablet_page(chromium, **OFFICE)
    b.log_in(page, server, username, PW)
    page.get_by_role("link", name="Tổng quan").first.wait_for(state="visible", timeout=30_000)
    return page


def go(page, link: str) -> None:
    before = b.runs(page)
    page.get_by_role("link", name=link).first.click()
    b.wait_for_run(page, timeout=90_000, after=before)


def segment(page, text: str) -> None:
    """Pick the option ``text`` of a segmented control (a button inside a button group)."""
    before = b.runs(page)
    options = page.locator('[data-testid="stButtonGroup"] button')
    options.filter(has_text=re.compile(f"^{re.escape(text)}$")).first.click()
    b.wait_for_run(page, timeout=90_000, after=before)


CHART_STATE = """els => els.map(e => {
    const svg = e.querySelector('svg.marks');
    const plot = svg && svg.querySelector('g.mark-group.role-scope, g.role-frame');
    const shapes = 'g.role-mark path, g.role-mark line, g.role-mark rect, g.role-mark circle';
    const marks = svg ? svg.querySelectorAll(shapes).length : 0;
    const frame = svg && svg.querySelector('g.role-frame path.background, g.role-frame path.foreground');
    return {
        title: (svg && svg.querySelector('g.role-title text') || {}).textContent || '',
        height: e.getBoundingClientRect().height,
        plotHeight: frame ? frame.getBoundingClientRect().height : (plot ? plot.getBoundingClientRect().height : 0),
        marks: marks,
    };
})"""


def chart_states(page) -> list[dict]:
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.first.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
                 .every(e => e.querySelector('svg.marks, canvas.marks'))""",
        timeout=60_000,
    )
    return charts.evaluate_all(CHART_STATE)


def test_every_analysis_chart_has_a_real_plot_and_marks(chromium, server):
    page = login(chromium, server, "vanphong")
    try:
        go(page, "Phân tích chi tiết")
        # A whole year: the 12-month trend, the p-chart and a heat map with all weekdays.
        segment(page, "Năm")
        segment(page, "Biểu đồ")
        states = chart_states(page)
        titles = [s["title"] for s in states]
        assert len(states) == 5, titles
        for s in states:
            assert s["height"] > 100, s
            assert s["plotHeight"] > 100, s  # the plot area itself, not only the legend and axes
            assert s["marks"] > 0, s
        # The criteria chart names every criterion: its y axis text lists each code of the questionnaire.
        labels = page.locator('[data-testid="stVegaLiteChart"]').first.locator("g.role-axis-label text")
        codes = {t for t in labels.evaluate_all("els => els.map(e => e.textContent)") if re.fullmatch(r"TC\d\.\d", t)}
        with db.session(server.db) as c:
            expected = set(questionnaire(settings.get(c, "active_questionnaire")).criterion_codes)
        assert codes == expected
    finally:
        page.context.close()


def visible_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


# A number written with a decimal point ("88.25%"); codes such as TC1.2 are not numbers.
DECIMAL_POINT_RE = re.compile(r"(?<![\w.,/-])\d+\.\d+(?![\d.])")


def forbidden_words(text: str) -> list[str]:
    words = {m.group(1) for m in FORBIDDEN_RE.finditer(text)}
    words |= {
        f"số có dấu chấm thập phân {m.group(0)} («{text[max(0, m.start() - 30) : m.end() + 10]}»)"
        for m in DECIMAL_POINT_RE.finditer(text)
        if not re.fullmatch(r"\d{1,3}(\.\d{3})+", m.group(0))  # 3.000: a thousands dot, as Vietnamese writes
    }
    return sorted(words)


CLERK_PAGES = (
    "Tổng quan",
    "Phân tích chi tiết",
    "Phản ánh và khắc phục",
    "Thời gian chờ và nhân lực",
    "Nhập dữ liệu",
    "Số liệu gốc",
)
CHAIRMAN_PAGES = CLERK_PAGES + ("Việc chờ Chủ tịch", "Cài đặt", "Sao lưu", "Tài khoản")


def page_views(page):
    """Yield (name, text) for the page as drawn and for each of its tabs and analysis sections."""
    yield "", visible_text(page)
    tabs = page.locator('[data-baseweb="tab"]')
    for i in range(tabs.count()):
        name = tabs.nth(i).inner_text()
        tabs.nth(i).click()
        page.wait_for_timeout(300)
        b.wait_for_run(page, timeout=90_000)
        yield f"tab {name}", visible_text(page)
    sections = page.locator('[data-testid="stButtonGroup"]').last.locator("button")
    if page.get_by_text("Xem", exact=True).count():
        for i in range(sections.count()):
            name = sections.nth(i).inner_text()
            before = b.runs(page)
            sections.nth(i).click()
            try:
                b.wait_for_run(page, timeout=90_000, after=before)
            except TimeoutError:
                b.wait_for_run(page, timeout=90_000)
            yield f"section {name}", visible_text(page)


def grid_text(page) -> str:
    """The cells of every st.dataframe (drawn on a canvas; the grid keeps an accessible copy in the DOM)."""
    return "\n".join(
        page.locator('[data-testid="stDataFrame"] table').evaluate_all("els => els.map(e => e.textContent)")
    )


@pytest.mark.parametrize(("username", "pages"), [("vanphong", CLERK_PAGES), ("chutich", CHAIRMAN_PAGES)])
def test_no_english_or_python_word_on_any_staff_page(chromium, server, username, pages):
    page = login(chromium, server, username)
    found = {}
    try:
        for link in pages:
            go(page, link)
            for view, text in page_views(page):
                words = forbidden_words(text + "\n" + grid_text(page))
                if words:
                    found[f"{link} {view}".strip()] = words
    finally:
        page.context.close()
    assert not found, "\n".join(f"{where}: {', '.join(words)}" for where, words in found.items())


def input_hint(page) -> str:
    hints = page.locator('[data-testid="InputInstructions"]')
    hints.first.wait_for(state="visible", timeout=10_000)
    return hints.first.inner_text()


def test_what_streamlit_writes_while_one_types_is_vietnamese(chromium, server):
    """Streamlit writes its own English under a text box being typed in ("Press Enter to submit form")
    and in a select box's list when nothing matches ("No results"): on the login page and on the staff
    pages alike, people read them in Vietnamese."""
    page = b.new_tablet_page(chromium, **OFFICE)
    try:
        page.goto(server.url + "/login", wait_until="domcontentloaded")
        page.get_by_label("Tên đăng nhập").wait_for(state="visible", timeout=30_000)
        b.wait_for_run(page)
        page.get_by_label("Tên đăng nhập").press_sequentially("vanp")
        assert input_hint(page) == "Nhấn Enter để gửi"
        assert "Press" not in visible_text(page)
    finally:
        page.context.close()
    page = login(chromium, server, "chutich")
    try:
        go(page, "Phân tích chi tiết")
        page.locator('[data-testid="stSelectbox"] input').first.click()
        page.keyboard.type("zzzz không có")
        listed = "() => [...document.querySelectorAll('[role=listbox]')].map(e => e.innerText).join(' ')"
        page.wait_for_function(f"() => ({listed})().includes('Không có kết quả')", timeout=10_000)
        assert "No results" not in page.locator("body").inner_text()
        assert "Press" not in visible_text(page)
    finally:
        page.context.close()
