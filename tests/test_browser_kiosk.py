"""The counter tablet in real headless Chromium: taps, timers, double taps and the tablet layout.

What only a browser shows: the thank-you screen returning to the welcome screen by itself, the
idle reset driven by the page's own timer, a double tap reaching the server twice, and sizes at
the 800×1280 tablet viewport. One ``streamlit run`` server for the module (thank-you 3 s, idle
6 s), one database; each test compares counts before and after, so the order does not matter.

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from sipas import db
from tests import browser as b

pytestmark = pytest.mark.browser

THANKS_SECONDS = 3
IDLE_SECONDS = 6
IDLE_TICK = 5  # the page checks for idleness every 5 s (st.fragment(run_every=5))
STAFF = ("CB01", "Nguyễn Thị Lan")
OUT = b.ROOT / "bench" / "out"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reason = b.browser_missing_reason()
    if reason:
        if b.browser_required():
            pytest.fail(f"SIPAS_REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("kiosk-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        db.upsert_staff(c, {"code": STAFF[0], "full_name": STAFF[1]})
        b.keep_counter_open(c)
    with b.streamlit_server(path, work, thanks_seconds=THANKS_SECONDS, idle_seconds=IDLE_SECONDS) as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium, server):
    page = b.new_tablet_page(chromium)
    b.open_kiosk(page, server)
    yield page
    page.context.close()


def counts(server) -> dict[str, int]:
    return {
        "responses": b.db_rows(server.db, "SELECT count(*) FROM responses")[0][0],
        "answers": b.db_rows(server.db, "SELECT count(*) FROM answers")[0][0],
        "abandoned": b.db_rows(server.db, "SELECT count(*) FROM kiosk_events WHERE kind = 'abandoned'")[0][0],
    }


def step_is(page, n: int, total: int = 8) -> None:
    expect(page.get_by_text(f"Bước {n}/{total}", exact=True)).to_be_visible()


def tap_option(page, question: int, label: str, multi: bool = False) -> None:
    """Tap ``label`` in the ``question``-th pills widget on the screen and check it took."""
    b.tap_and_wait(page, b.pill(b.pill_groups(page).nth(question), label, multi))
    expect(b.pill(b.pill_groups(page).nth(question), label, multi)).to_have_attribute(
        "aria-pressed" if multi else "aria-checked", "true"
    )


def tap_next(page, to_step: int) -> None:
    b.tap_and_wait(page, b.button(page, b.NEXT))
    step_is(page, to_step)


def start(page) -> None:
    b.tap_and_wait(page, b.start_button(page))
    step_is(page, 1)


def answers_of(server, response_id: int) -> dict[str, int | None]:
    return dict(b.db_rows(server.db, "SELECT criterion, value FROM answers WHERE response_id = ?", (response_id,)))


def no_horizontal_scroll(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")


# ------------------------------------------------------------------------------ tests


def test_a_survey_completed_by_tapping_is_stored_and_the_tablet_resets_itself(page, server):
    before = b.max_response_id(server.db)
    levels = {
        1: "Rất không hài lòng",
        2: "Không hài lòng",
        3: "Bình thường",
        4: "Hài lòng",
        5: "Rất hài lòng",
        None: "Không ý kiến",
    }
    plan = [5, 4, None, 3, 2, 1]  # tapped in turn, criterion after criterion
    expected: dict[str, int | None] = {}
    elements = db_questionnaire(server).elements
    start(page)
    i = 0
    for step, element in enumerate(elements, start=1):
        expect(page.get_by_text(element.name, exact=True)).to_be_visible()
        expect(b.pill_groups(page)).to_have_count(len(element.criteria))
        for q, criterion in enumerate(element.criteria):
            level = plan[i % len(plan)]
            tap_option(page, q, levels[level])
            expected[criterion.code] = level
            i += 1
        tap_next(page, step + 1)
    assert len(expected) == len(db_questionnaire(server).criteria) == 16  # sipas-2024, a new database's form
    tap_option(page, 0, "Hài lòng")  # overall
    tap_option(page, 1, "Không có công chức nào gây phiền hà, sách nhiễu")
    tap_option(page, 2, "Không có người dân nào phải đưa tiền ngoài quy định")
    tap_next(page, 7)
    tap_option(page, 0, "Dưới 15 phút")
    tap_option(page, 1, "Hộ tịch")
    tap_option(page, 2, STAFF[1])
    tap_next(page, 8)
    tap_option(page, 0, "Thái độ phục vụ của công chức", multi=True)  # expectations (pick up to 3)

    b.tap_and_wait(page, b.button(page, b.SUBMIT))
    expect(page.get_by_text(b.THANKS, exact=True)).to_be_visible()
    thanked = time.monotonic()
    expect(b.start_button(page)).to_be_visible(timeout=(THANKS_SECONDS + 4) * 1000)
    shown = time.monotonic() - thanked
    # By itself and not at once (the countdown ticks every second; allow for a slow machine).
    assert 1.0 <= shown <= THANKS_SECONDS + 4, f"thank-you screen shown {shown:.1f} s"
    expect(page.get_by_text(b.WELCOME, exact=True)).to_be_visible()

    rows = b.db_rows(
        server.db,
        "SELECT id, overall, harassment, informal_payment, wait_bucket, field, staff_code, "
        "expectations, channel FROM responses WHERE id > ?",
        (before,),
    )
    assert len(rows) == 1
    rid, *values = rows[0]
    assert values == [
        4,
        1,
        1,
        "lt15",
        "Hộ tịch",
        STAFF[0],
        json.dumps(["Thái độ phục vụ của công chức"], ensure_ascii=False),
        "kiosk",
    ]
    assert answers_of(server, rid) == expected


def test_a_double_tap_on_submit_stores_one_survey(page, server):
    start(page)
    tap_option(page, 0, "Rất hài lòng")
    for step in range(2, 9):
        tap_next(page, step)
    before = counts(server)
    submit = b.button(page, b.SUBMIT)
    # Tap where the button is once the screen has stopped moving: Streamlit loads some components'
    # code on first use, and the layout can still shift for a moment after the step appears.
    box, previous = submit.bounding_box(), None
    for _ in range(30):
        if box == previous:
            break
        time.sleep(0.1)
        previous, box = box, submit.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    runs = b.runs(page)
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)  # the same finger again, before the first tap's rerun is back
    b.wait_for_run(page, after=runs)
    expect(page.get_by_text(b.THANKS, exact=True)).to_be_visible()
    expect(page.get_by_text("Xin Ông/Bà chọn ít nhất một mức", exact=False)).to_have_count(0)
    after = counts(server)
    assert after["responses"] - before["responses"] == 1
    assert after["answers"] - before["answers"] == len(db_questionnaire(server).criteria)  # one row per criterion


def test_an_idle_survey_returns_to_welcome_and_is_counted(page, server):
    start(page)
    tap_option(page, 0, "Bình thường")
    before = counts(server)
    touched = time.monotonic()
    expect(b.start_button(page)).to_be_visible(timeout=(IDLE_SECONDS + IDLE_TICK + 4) * 1000)
    waited = time.monotonic() - touched
    assert waited >= IDLE_SECONDS - 0.5, f"reset after only {waited:.1f} s"
    expect(page.get_by_text(b.WELCOME, exact=True)).to_be_visible()
    after = counts(server)
    assert after["abandoned"] - before["abandoned"] == 1
    assert (after["responses"], after["answers"]) == (before["responses"], before["answers"])


def test_the_layout_fits_a_tablet_with_big_touch_targets(page, server):
    scroll, width = no_horizontal_scroll(page)
    assert scroll <= width, f"welcome screen scrolls sideways: {scroll} > {width}"
    assert b.start_button(page).bounding_box()["height"] >= 60
    for testid in (
        "stToolbar",
        "stMainMenu",
        "stHeader",
        "stSidebar",
        "stSidebarCollapsedControl",
        "stSidebarNav",
        "stDecoration",
    ):
        assert not page.locator(f'[data-testid="{testid}"]').is_visible(), f"{testid} is visible"

    start(page)
    for step in range(1, 9):
        if step > 1:
            tap_next(page, step)
        if step == 8:  # the demographics sit in an expander: open it to measure them too
            page.get_by_text("Thông tin thêm về Ông/Bà").tap()
            expect(page.get_by_role("radio", name="Trên 60", exact=True)).to_be_visible()
        scroll, width = no_horizontal_scroll(page)
        assert scroll <= width, f"step {step} scrolls sideways: {scroll} > {width}"
        options = page.locator('[data-testid="stButtonGroup"] button')
        expect(options.first).to_be_visible()
        heights = [box["height"] for box in (options.nth(i).bounding_box() for i in range(options.count()))]
        assert min(heights) >= 48, f"step {step}: answer buttons {min(heights)} px tall"
        for label in (b.BACK if step > 1 else "✕ Hủy", b.SUBMIT if step == 8 else b.NEXT):
            assert b.button(page, label).bounding_box()["height"] >= 60, label


def test_screenshots_of_the_welcome_and_a_criterion_screen(page, server):
    """Pictures at the tablet size for a person to look at (bench/out/, not committed)."""
    OUT.mkdir(parents=True, exist_ok=True)
    welcome = OUT / "kiosk-welcome.png"
    page.screenshot(path=welcome)
    start(page)
    tap_option(page, 0, "Hài lòng")
    tap_option(page, 1, "Không ý kiến")
    criterion = OUT / "kiosk-criterion.png"
    page.screenshot(path=criterion)
    # A chosen answer stands out: filled with the theme colour, not a pale tint.
    chosen = b.pill(b.pill_groups(page).nth(0), "Hài lòng")
    other = b.pill(b.pill_groups(page).nth(0), "Rất hài lòng")
    assert chosen.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 110, 79)"
    assert other.evaluate("e => getComputedStyle(e).backgroundColor") != "rgb(11, 110, 79)"
    for step in range(2, 9):
        tap_next(page, step)
        if step in (6, 7):
            page.screenshot(path=OUT / f"kiosk-step{step}.png")
    page.get_by_text("Thông tin thêm về Ông/Bà").tap()
    expect(page.get_by_role("radio", name="Trên 60", exact=True)).to_be_visible()
    page.screenshot(path=OUT / "kiosk-step8.png", full_page=True)
    b.tap_and_wait(page, b.button(page, b.SUBMIT))
    expect(page.get_by_text(b.THANKS, exact=True)).to_be_visible()
    page.screenshot(path=OUT / "kiosk-thanks.png")
    for shot in (welcome, criterion):
        assert shot.stat().st_size > 10_000  # a real picture, not a blank page
    assert page.viewport_size == {"width": 800, "height": 1280}


def db_questionnaire(server):
    from sipas import settings
    from sipas.catalog import questionnaire

    with db.session(server.db) as c:
        return questionnaire(settings.get(c, "active_questionnaire"))
