"""The counter tablet in real headless Chromium (touch): the survey component of issue 11.

One ``streamlit run`` server for the module (thank-you 3 s, idle 6 s), one new database (so the
short survey is the default). Each test compares counts before and after, so the order does not
matter. What is asserted is what a citizen sees and what the commune counts: five faces in one row
and every screen inside the viewport at four sizes, a second tap that keeps the answer, automatic
advance, taps per survey, no English, "Hủy" asking first, abandonment counted for a reload, the
idle reset and "Hủy", and nothing lost offline (exactly one row once the connection returns).

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from sipas import db
from sipas.admin import auth
from tests import browser as b

pytestmark = pytest.mark.browser

THANKS_SECONDS = 3
IDLE_SECONDS = 6
STAFF = ("CB01", "Nguyễn Thị Lan")
# Staff-typed text with Markdown and an image link: must show as typed, and load nothing.
HOSTILE_STAFF = ("CB02", "Trần **Văn** Bình ![a](http://example.invalid/x.png)")
CLERK, CLERK_PW = "vanphong", "matkhau-dung-1"
SIZES = [(800, 1280), (1280, 800), (390, 844), (1920, 1080)]
# Words that may appear on the tablet although they look English: none of them is.
ALLOWED = {"TTHC", "UBND", "CB01", "CB02", "http", "example", "invalid", "png", "x"}
ENGLISH = re.compile(
    r"\b(the|and|or|of|to|is|are|you|your|press|enter|apply|open|close|submit|cancel|back|next|"
    r"loading|running|stop|error|please|keyboard|arrow|right|left|select|choose|menu|button|"
    r"image|survey|yes|no|ok|deploy|rerun|settings|connecting|connection|page|found|app)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_browser()
    work = tmp_path_factory.mktemp("kiosk-browser")
    path = work / "sipas.db"
    with db.session(path) as c:
        db.upsert_staff(c, {"code": STAFF[0], "full_name": STAFF[1]})
        db.upsert_staff(c, {"code": HOSTILE_STAFF[0], "full_name": HOSTILE_STAFF[1]})
        b.keep_counter_open(c)
        auth.create_user(c, CLERK, CLERK_PW, "clerk", full_name="Nguyễn Thị Lan")
    with b.streamlit_server(path, work, thanks_seconds=THANKS_SECONDS, idle_seconds=IDLE_SECONDS) as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium(server):
    with b.chromium() as browser:
        yield browser


def open_page(chromium, server, width=800, height=1280):
    page = b.new_tablet_page(chromium, viewport={"width": width, "height": height})
    page.sipas_requests = []
    page.on("request", lambda r: page.sipas_requests.append(r.url))
    b.open_kiosk(page, server)
    return page


@pytest.fixture
def page(chromium, server):
    page = open_page(chromium, server)
    yield page
    page.context.close()


def counts(server) -> dict[str, int]:
    with sqlite3.connect(server.db, timeout=15) as c:
        return {
            "responses": c.execute("SELECT count(*) FROM responses").fetchone()[0],
            "started": c.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0],
            "abandoned": db.count_abandoned(c),
        }


def question(page) -> str | None:
    return page.locator(".kiosk").get_attribute("data-question")


def wait_question_change(page, old: str | None, timeout: float = 5000) -> None:
    page.wait_for_function(
        "q => { const k = document.querySelector('.kiosk');"
        " return k.getAttribute('data-screen') !== 'survey' || k.getAttribute('data-question') !== q; }",
        arg=old,
        timeout=timeout,
    )


def start(page) -> None:
    before = b.runs(page)
    b.tap(b.start_button(page))
    expect(page.locator(".kiosk")).to_have_attribute("data-screen", "survey")
    b.wait_for_run(page, after=before)  # the start reached the server


def tap_first_answer(page, face: str = "Hài lòng") -> None:
    """One tap that answers the screen: a face, else the first option; then wait for the next screen."""
    old = question(page)
    faces = page.locator(".kiosk .face")
    if faces.count():
        b.tap(page.get_by_role("radio", name=face, exact=True))
    else:
        b.tap(page.locator('.kiosk .screen [role="radio"]').first)
    wait_question_change(page, old)


def until_last_screen(page, taps: list) -> None:
    while b.button(page, b.SUBMIT).count() == 0:
        tap_first_answer(page)
        taps.append(1)


def visible_texts(page) -> list[str]:
    """Every text node and accessible name (aria-label, alt, title, placeholder) on the page."""
    return page.evaluate(
        """() => {
          const out = [];
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const n = walk.currentNode, p = n.parentElement;
            if (!p || p.closest('script,style,noscript,svg')) continue;
            const t = n.textContent.trim(); if (t) out.push(t);
          }
          for (const el of document.querySelectorAll('[aria-label],[alt],[title],[placeholder]'))
            for (const a of ['aria-label', 'alt', 'title', 'placeholder']) {
              const v = el.getAttribute(a); if (v && v.trim()) out.push(v.trim());
            }
          return out;
        }"""
    )


def english_words(page) -> list[str]:
    found = []
    for text in visible_texts(page):
        for m in ENGLISH.finditer(text):
            if m.group(0) not in ALLOWED:
                found.append(f"{m.group(0)!r} in {text[:80]!r}")
    return found


def check_fits(page, width: int, height: int) -> None:
    """No scrolling: the document and the survey's screen are no taller than the viewport, and
    every button is inside it."""
    sizes = page.evaluate(
        """() => { const s = document.querySelector('.kiosk .screen');
          const btns = [...document.querySelectorAll('.kiosk .screen button')].map(b => b.getBoundingClientRect());
          return {doc: document.scrollingElement.scrollHeight, inner: innerHeight,
                  screen: s.scrollHeight, screenBox: s.clientHeight,
                  lowest: Math.max(...btns.map(r => r.bottom)), right: Math.max(...btns.map(r => r.right))}; }"""
    )
    assert sizes["doc"] <= height, sizes
    assert sizes["screen"] <= sizes["screenBox"] + 1, (question(page), sizes)
    assert sizes["lowest"] <= height and sizes["right"] <= width, (question(page), sizes)


def check_faces(page) -> None:
    boxes = [page.locator(".kiosk .face").nth(i).bounding_box() for i in range(5)]
    tops = [bx["y"] for bx in boxes]
    assert max(tops) - min(tops) <= 3, tops  # one row
    assert all(bx["width"] >= 64 and bx["height"] >= 64 for bx in boxes), boxes
    lefts = [bx["x"] for bx in boxes]
    assert lefts == sorted(lefts)  # red on the left to green on the right
    labels = page.locator(".kiosk .face .label").all_inner_texts()
    assert labels == ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
    # Readable at arm's length: at least 20 px on a tablet, 16 px on a phone.
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.kiosk .face .label')).fontSize)")
    assert size >= (20 if page.viewport_size["width"] >= 600 else 16), size
    # The "Không ý kiến" button is below the row, not a sixth face.
    none = page.get_by_role("radio", name="Không ý kiến", exact=True).bounding_box()
    assert none["y"] > max(bx["y"] + bx["height"] for bx in boxes)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_screen_fits_faces_in_one_row_no_english_and_few_taps(chromium, server, width, height):
    page = open_page(chromium, server, width, height)
    try:
        before = counts(server)
        problems = english_words(page)
        check_fits(page, width, height)
        start(page)
        taps = [1]
        seen = 0
        while b.button(page, b.SUBMIT).count() == 0:
            check_fits(page, width, height)
            problems += english_words(page)
            if page.locator(".kiosk .face").count():
                check_faces(page)
            tap_first_answer(page)
            taps.append(1)
            seen += 1
        check_fits(page, width, height)
        problems += english_words(page)
        total = int(re.search(r"/(\d+)", page.locator(".kiosk .progress-text").inner_text()).group(1))
        b.tap(b.button(page, b.SUBMIT))
        taps.append(1)
        expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()
        problems += english_words(page)
        check_fits(page, width, height)
        assert sorted(set(problems)) == []
        assert seen == total - 1
        assert len(taps) <= total + 3  # start + one tap per screen + send
        deadline = time.monotonic() + 15
        while counts(server)["responses"] < before["responses"] + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        after = counts(server)
        assert after["responses"] - before["responses"] == 1
        assert after["started"] - before["started"] == 1
        assert after["abandoned"] == before["abandoned"]
        page.screenshot(path=str(server.log.parent / f"thanks-{width}x{height}.png"))
    finally:
        page.context.close()


def test_a_second_tap_keeps_the_answer_and_one_tap_advances(page, server):
    start(page)
    first = question(page)
    face = page.get_by_role("radio", name="Hài lòng", exact=True)
    b.tap(face)
    expect(face).to_have_attribute("aria-checked", "true")
    b.tap(face)  # the elderly tap twice to be sure
    expect(face).to_have_attribute("aria-checked", "true")
    t0 = time.monotonic()
    wait_question_change(page, first)
    assert 0.3 <= time.monotonic() - t0 <= 1.5  # moved on by itself, after the citizen saw the choice
    assert question(page) != first
    b.tap(b.button(page, b.BACK))
    assert question(page) == first
    expect(page.get_by_role("radio", name="Hài lòng", exact=True)).to_have_attribute("aria-checked", "true")
    # Tapping the chosen face again keeps it and moves on again.
    b.tap(page.get_by_role("radio", name="Hài lòng", exact=True))
    wait_question_change(page, first)
    b.tap(b.button(page, b.BACK))
    expect(page.get_by_role("radio", name="Hài lòng", exact=True)).to_have_attribute("aria-checked", "true")


def test_no_opinion_is_stored_as_not_answered_and_the_answers_as_tapped(page, server):
    before_id = b.max_response_id(server.db)
    start(page)
    first = question(page)
    b.tap(page.get_by_role("radio", name="Không ý kiến", exact=True))
    wait_question_change(page, first)
    second = question(page)
    b.tap(page.get_by_role("radio", name="Rất hài lòng", exact=True))
    wait_question_change(page, second)
    until_last_screen(page, [])
    page.locator(".kiosk textarea").fill("Cán bộ **rất** nhiệt tình <b>x</b>")
    b.tap(b.button(page, b.SUBMIT))
    expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()
    deadline = time.monotonic() + 15
    while b.max_response_id(server.db) == before_id and time.monotonic() < deadline:
        time.sleep(0.1)
    (rid, comment, duration) = b.db_rows(
        server.db, "SELECT id, comment, duration_seconds FROM responses WHERE id > ?", (before_id,)
    )[0]
    answers = dict(b.db_rows(server.db, "SELECT criterion, value FROM answers WHERE response_id = ?", (rid,)))
    assert answers[first] is None and answers[second] == 5
    assert comment == "Cán bộ **rất** nhiệt tình <b>x</b>"
    assert 0 < duration < 120


def test_cancel_asks_first_and_counts_the_survey_as_abandoned(page, server):
    before = counts(server)
    start(page)
    tap_first_answer(page)
    here = question(page)
    b.tap(b.button(page, "✕ Hủy"))
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Hủy phiếu này?")).to_be_visible()
    b.tap(b.button(page, "Không"))
    expect(dialog).to_be_hidden()
    assert question(page) == here  # still in the survey, answers kept
    b.tap(b.button(page, "✕ Hủy"))
    b.tap(b.button(page, "Có"))
    expect(b.start_button(page)).to_be_visible()
    after = counts(server)
    assert after["responses"] == before["responses"]
    assert after["abandoned"] - before["abandoned"] == 1


def test_a_reload_mid_survey_is_counted_as_abandoned(page, server):
    before = counts(server)
    start(page)
    tap_first_answer(page)
    page.reload()
    b.start_button(page).wait_for(timeout=20_000)
    b.wait_for_run(page)
    after = counts(server)
    assert after["responses"] == before["responses"]
    assert after["started"] - before["started"] == 1
    assert after["abandoned"] - before["abandoned"] == 1


def test_an_idle_survey_returns_to_welcome_by_itself(page, server):
    before = counts(server)
    start(page)
    tap_first_answer(page)
    expect(b.start_button(page)).to_be_visible(timeout=(IDLE_SECONDS + 4) * 1000)
    assert counts(server)["abandoned"] - before["abandoned"] == 1


def wait_rows(server, n: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = counts(server)["responses"]
        if got >= n:
            return got
        time.sleep(0.2)
    return counts(server)["responses"]


def test_offline_mid_survey_and_at_submit_stores_exactly_one_row_once_online(page, server):
    before = counts(server)
    start(page)
    tap_first_answer(page)
    page.context.set_offline(True)
    until_last_screen(page, [])
    page.locator(".kiosk textarea").fill("gửi khi mất mạng")
    b.tap(b.button(page, b.SUBMIT))
    expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()  # at once, offline
    expect(page.locator(".kiosk .pending")).to_have_text("• 1 phiếu chờ gửi")
    time.sleep(2)
    assert counts(server)["responses"] == before["responses"]
    assert english_words(page) == []  # nor Streamlit's own words about the lost connection
    page.context.set_offline(False)
    assert wait_rows(server, before["responses"] + 1) == before["responses"] + 1
    expect(page.locator(".kiosk .pending")).to_be_hidden(timeout=15_000)
    time.sleep(5)  # a resend after the acknowledgement would add nothing
    rows = b.db_rows(server.db, "SELECT count(*) FROM responses WHERE comment = 'gửi khi mất mạng'")
    assert rows == [(1,)]
    assert counts(server)["responses"] == before["responses"] + 1


def test_a_survey_sent_twice_is_stored_once(page, server):
    before = counts(server)
    start(page)
    until_last_screen(page, [])
    page.locator(".kiosk textarea").fill("gửi hai lần")
    b.tap(b.button(page, b.SUBMIT))
    assert wait_rows(server, before["responses"] + 1) == before["responses"] + 1
    # The same payload again: put the acknowledged entry back in the tablet's queue and reload.
    page.evaluate(
        """() => { const q = JSON.parse(localStorage.getItem('sipas.survey.tablet.queue.v1') || '[]');
                   window.__last = q; }"""
    )
    token = b.db_rows(server.db, "SELECT token FROM responses WHERE comment = 'gửi hai lần'")[0][0]
    page.evaluate(
        """t => localStorage.setItem('sipas.survey.tablet.queue.v1', JSON.stringify([{token: t, at: Date.now(),
             survey: {token: t, questionnaire: 'sipas-2023', asked: [], answers: {}, overall: 4,
                      comment: 'gửi hai lần', duration_seconds: 20}}]))""",
        token,
    )
    page.reload()
    b.start_button(page).wait_for(timeout=20_000)
    expect(page.locator(".kiosk .pending")).to_be_hidden(timeout=15_000)
    assert b.db_rows(server.db, "SELECT count(*) FROM responses WHERE token = ?", (token,)) == [(1,)]
    assert counts(server)["responses"] == before["responses"] + 1


def test_staff_names_show_as_typed_and_nothing_loads_from_outside(page, server):
    start(page)
    while page.locator(".kiosk").get_attribute("data-question") != "staff_code":
        tap_first_answer(page)
    expect(page.get_by_text(HOSTILE_STAFF[1], exact=True)).to_be_visible()
    expect(page.get_by_text(STAFF[1], exact=True)).to_be_visible()
    expect(page.get_by_text("Không nhớ", exact=True)).to_be_visible()
    assert page.locator(".kiosk strong, .kiosk b, .kiosk img").count() == page.locator(".kiosk .lead strong").count()
    outside = [u for u in page.sipas_requests if urlparse(u).hostname not in ("127.0.0.1", "localhost", None)]
    outside = [u for u in outside if not u.startswith("data:")]
    assert outside == []
    page.screenshot(path=str(server.log.parent / "staff-800x1280.png"))


def test_a_database_fault_shows_the_calm_screen_and_keeps_the_survey(page, server):
    """The database stays locked by another writer at submit (SQLite's "database is locked" after the
    15 s busy timeout): thank-you at once, then the calm "tạm dừng" screen, nothing English, no error
    box; the survey waits on the tablet and is stored once the database is free and "Thử lại" is tapped."""
    before = counts(server)
    start(page)
    until_last_screen(page, [])
    page.locator(".kiosk textarea").fill("gửi khi cơ sở dữ liệu bị khóa")
    blocker = sqlite3.connect(server.db, isolation_level=None, timeout=15)
    blocker.execute("BEGIN IMMEDIATE")
    paused = page.get_by_role("heading", name="Hệ thống khảo sát đang tạm dừng")
    try:
        b.tap(b.button(page, b.SUBMIT))
        expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()
        expect(paused).to_be_visible(timeout=40_000)
        expect(page.locator(".kiosk .pending")).to_have_text("• 1 phiếu chờ gửi")
        assert english_words(page) == []
        assert page.locator('[data-testid="stException"], [data-testid="stAlert"]').count() == 0
        # "Thử lại" while the database is still locked: a new attempt, answered "tạm dừng" again.
        before_retry = b.runs(page)
        b.tap(b.button(page, "Thử lại"))
        page.wait_for_function(  # answered (the tablet also tries again by itself: one is always in flight)
            "n => Number(document.querySelector('.kiosk').getAttribute('data-syncs') || 0) > n",
            arg=before_retry,
            timeout=40_000,
        )
        expect(paused).to_be_visible()
    finally:
        blocker.rollback()
        blocker.close()
    # Once the database is free the tablet recovers by itself (it tries again every 4 s).
    expect(b.start_button(page)).to_be_visible(timeout=40_000)
    expect(page.locator(".kiosk .pending")).to_be_hidden(timeout=40_000)
    assert wait_rows(server, before["responses"] + 1) == before["responses"] + 1
    rows = b.db_rows(server.db, "SELECT count(*) FROM responses WHERE comment = 'gửi khi cơ sở dữ liệu bị khóa'")
    assert rows == [(1,)]


FAKE_VOICE = """() => {
  window.__spoken = [];
  const synth = { getVoices: () => [{ lang: 'vi-VN', name: 'Giọng Việt' }], speak: u => window.__spoken.push(u.text),
                  cancel() {}, addEventListener() {} };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = class { constructor(t) { this.text = t; } };
}"""


def test_read_aloud_only_where_a_vietnamese_voice_exists(chromium, server):
    page = open_page(chromium, server)
    try:
        start(page)
        assert page.get_by_role("button", name="Nghe đọc câu hỏi").count() == 0  # headless Chromium: no voice
    finally:
        page.context.close()
    context = chromium.new_context(**b.TABLET)
    context.add_init_script(f"({FAKE_VOICE})()")
    page = context.new_page()
    b.watch_runs(page)
    try:
        b.open_kiosk(page, server)
        start(page)
        statement = page.locator(".kiosk .question").inner_text()
        listen = page.get_by_role("button", name="Nghe đọc câu hỏi")
        expect(listen).to_have_text("🔊 Nghe")
        b.tap(listen)
        spoken = page.evaluate("() => window.__spoken")
        assert spoken == [
            ". ".join([statement, "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"])
        ]
        assert question(page) is not None and b.button(page, b.SUBMIT).count() == 0  # listening answers nothing
        with db.session(server.db) as c:
            from sipas.admin import settings

            settings.put(c, "kiosk_read_aloud", False, actor="test")
        page.reload()
        b.start_button(page).wait_for(timeout=20_000)
        b.wait_for_run(page)
        start(page)
        assert page.get_by_role("button", name="Nghe đọc câu hỏi").count() == 0  # turned off in the settings
    finally:
        with db.session(server.db) as c:
            from sipas.admin import settings

            settings.put(c, "kiosk_read_aloud", True, actor="test")
        context.close()


def test_the_2024_full_survey_asks_cau_10_item_by_item_and_stores_the_levels_tapped(chromium, tmp_path):
    """sipas-2024 in full mode: Câu 10's ten items, one screen each with its four levels of wish; the
    levels tapped are stored by item, a skipped item is not answered; every screen fits the tablet."""
    from sipas.admin import settings

    path = tmp_path / "full.db"
    with db.session(path) as c:
        b.keep_counter_open(c)
        settings.put(c, "questions_per_survey", {"mode": "full", "rotating": 4}, "test")
        assert settings.get(c, "active_questionnaire") == "sipas-2024"
    with b.streamlit_server(path, tmp_path, thanks_seconds=THANKS_SECONDS, idle_seconds=IDLE_SECONDS) as srv:
        page = open_page(chromium, srv)
        try:
            start(page)
            seen = []
            while b.button(page, b.SUBMIT).count() == 0:
                q = question(page)
                if q.startswith("expectations:"):
                    seen.append(q)
                    check_fits(page, 800, 1280)
                    expect(page.locator(".kiosk .element")).to_have_text(f"Mong muốn cải thiện ({len(seen)}/10)")
                    levels = page.locator('.kiosk .screen [role="radio"]')
                    assert levels.count() == 4
                    if q == "expectations:MM2":
                        b.tap(b.button(page, "Bỏ qua"))
                        wait_question_change(page, q)
                        continue
                    name = {"expectations:MM1": "Rất mong muốn", "expectations:MM7": "Không mong muốn"}.get(
                        q, "Mong muốn"
                    )
                    b.tap(page.get_by_role("radio", name=name, exact=True))
                    wait_question_change(page, q)
                else:
                    tap_first_answer(page)
            assert seen == [f"expectations:MM{i}" for i in range(1, 11)]
            b.tap(b.button(page, b.SUBMIT))
            expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()
            deadline = time.monotonic() + 15
            while b.max_response_id(srv.db) == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            ((stored, version),) = b.db_rows(srv.db, "SELECT expectations, questionnaire FROM responses")
        finally:
            page.context.close()
    want = {f"MM{i}": 3 for i in range(3, 11)} | {"MM1": 4, "MM7": 1}
    assert version == "sipas-2024"
    assert json.loads(stored) == want


def test_a_browser_not_enrolled_runs_no_survey_and_the_enrolment_link_enrols_it_once(chromium, server):
    from sipas import clock
    from sipas.survey import devices

    page = b.new_tablet_page(chromium)
    try:
        page.goto(server.url + b.KIOSK_PATH, wait_until="domcontentloaded")
        page.get_by_text("Máy tính bảng này chưa được đăng ký khảo sát").wait_for(timeout=20_000)
        assert b.start_button(page).count() == 0
        with db.session(server.db) as c:
            code = devices.add(c, "quay-moi", now=clock.now(), actor="test")
        page.goto(server.url + devices.enrolment_path("quay-moi", code), wait_until="domcontentloaded")
        b.start_button(page).wait_for(state="visible", timeout=20_000)
        page.wait_for_function("() => !location.search.includes('enrol=')", timeout=10_000)
        held = json.loads(page.evaluate("() => localStorage.getItem('sipas.kiosk.device')"))
        assert held["name"] == "quay-moi" and len(held["secret"]) == 64
        # The stock of start tokens arrives with the first signed sync.
        page.wait_for_function(
            "() => (JSON.parse(localStorage.getItem('sipas.kiosk.tokens') || '{}').tokens || []).length >= 100",
            timeout=15_000,
        )
        other = b.new_tablet_page(chromium)  # the same link a second time: used
        other.goto(server.url + devices.enrolment_path("quay-moi", code), wait_until="domcontentloaded")
        other.get_by_text("Liên kết đăng ký không đúng, đã được dùng hoặc đã hết hạn", exact=False).wait_for(
            timeout=20_000
        )
        other.context.close()
    finally:
        page.context.close()


# ------------------------------------------------------------------ phantom taps (issue 19, item 5)


def double_tap(page, locator, gap_ms: int) -> float:
    """Two touches on the centre of ``locator``, ``gap_ms`` apart (the second lands on whatever the
    first one brought up); the gap measured by the page between the two touches, in ms."""
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(
        "() => { window.__downs = []; if (!window.__watching) { window.__watching = true;"
        " window.addEventListener('pointerdown', e => __downs.push(e.timeStamp), {capture: true}); } }"
    )
    page.touchscreen.tap(x, y)
    page.wait_for_timeout(gap_ms)
    page.touchscreen.tap(x, y)
    downs = sorted(set(page.evaluate("() => window.__downs")))  # a touch may report its pointer twice
    assert len(downs) == 2
    gap = downs[1] - downs[0]
    assert gap_ms - 5 <= gap < 600, f"the test's double tap took {gap:.0f} ms"
    return gap


def checked(page) -> int:
    return page.locator('.kiosk .screen [aria-checked="true"]').count()


@pytest.mark.parametrize("gap_ms", [80, 250, 550])
def test_a_double_tap_never_answers_or_starts_anything_unseen(page, server, gap_ms):
    # "Bắt đầu đánh giá": the first question appears, unanswered.
    b.settled(page)
    double_tap(page, b.start_button(page), gap_ms)
    page.wait_for_timeout(1200)
    assert page.locator(".kiosk").get_attribute("data-screen") == "survey"
    assert page.locator(".progress-text").inner_text().startswith("Câu 1/")
    assert checked(page) == 0
    # A face: answers this question once; the next question appears unanswered.
    first = question(page)
    b.settled(page)
    double_tap(page, page.get_by_role("radio", name="Hài lòng", exact=True), gap_ms)
    page.wait_for_timeout(1200)
    assert question(page) != first and page.locator(".progress-text").inner_text().startswith("Câu 2/")
    assert checked(page) == 0
    # "Có" (cancel this survey): the welcome screen, and no new survey started under the finger.
    b.tap(b.button(page, "✕ Hủy"))
    b.settled(page)
    double_tap(page, b.button(page, "Có"), gap_ms)
    page.wait_for_timeout(1200)
    assert page.locator(".kiosk").get_attribute("data-screen") == "welcome"
    # "Về trang đầu" after a survey: the welcome screen stays.
    start(page)
    until_last_screen(page, [])
    b.tap(b.button(page, b.SUBMIT))
    expect(page.locator(".kiosk")).to_have_attribute("data-screen", "thanks")
    b.settled(page)
    double_tap(page, b.button(page, "Về trang đầu"), gap_ms)
    page.wait_for_timeout(1200)
    assert page.locator(".kiosk").get_attribute("data-screen") == "welcome"


# ------------------------------------------------------------------ the server stops (issue 19, item 6)


def test_the_server_stopped_mid_survey_the_survey_goes_on_no_english_and_it_reconnects_by_itself(chromium, tmp_path):
    """The server is killed (SIGKILL) on question 2 and stays down for longer than Streamlit takes to
    show its English "Connection error … streamlit run yourscript.py" box (6 failed pings, about 6 s).
    The citizen finishes the survey all the same, sees the thank-you screen and a Vietnamese mark of
    what waits; nothing English and no dialog on the page; the next citizen can start. The server comes
    back on the same port: the tablet reconnects by itself and the surveys are stored exactly once."""
    path = tmp_path / "sipas.db"
    with db.session(path) as c:
        db.upsert_staff(c, {"code": STAFF[0], "full_name": STAFF[1]})
        b.keep_counter_open(c)
    with b.streamlit_server(path, tmp_path, thanks_seconds=THANKS_SECONDS, idle_seconds=60) as srv:
        page = b.new_tablet_page(chromium)
        try:
            b.open_kiosk(page, srv)
            start(page)
            tap_first_answer(page)
            b.stop_server(srv)
            page.wait_for_timeout(9_000)  # Streamlit's own box would have been up by now
            assert english_words(page) == []
            assert page.locator('[role="dialog"]:visible, [data-testid="stDialog"]:visible').count() == 0
            until_last_screen(page, [])
            page.locator(".kiosk textarea").fill("gửi khi máy chủ tắt")
            b.tap(b.button(page, b.SUBMIT))
            expect(page.get_by_role("heading", name=b.THANKS)).to_be_visible()
            expect(page.locator(".kiosk .pending")).to_have_text("• 1 phiếu chờ gửi")
            expect(page.locator(".kiosk")).to_have_attribute("data-connection", "down")  # its send failed
            # The next citizen starts and finishes a survey while the server is still down.
            expect(b.start_button(page)).to_be_visible(timeout=(THANKS_SECONDS + 4) * 1000)
            b.tap(b.start_button(page))
            until_last_screen(page, [])
            page.locator(".kiosk textarea").fill("phiếu thứ hai khi máy chủ tắt")
            b.tap(b.button(page, b.SUBMIT))
            expect(page.locator(".kiosk .pending")).to_have_text("• 2 phiếu chờ gửi")
            assert english_words(page) == []
            assert page.locator('[role="dialog"]:visible, [data-testid="stDialog"]:visible').count() == 0
            page.screenshot(path=str(tmp_path / "server-down.png"))
            assert b.db_rows(path, "SELECT count(*) FROM responses") == [(0,)]
            b.start_server_again(srv)
            # Nobody touches the tablet: it reconnects and sends what waits by itself, at once (not
            # after the 30 s a lost send waits, queue.js LOST_MS).
            expect(page.locator(".kiosk .pending")).to_be_hidden(timeout=25_000)
            expect(page.locator(".kiosk")).to_have_attribute("data-connection", "up")
            assert wait_rows(srv, 2) == 2
            time.sleep(3)
            rows = b.db_rows(path, "SELECT comment, count(*) FROM responses GROUP BY comment ORDER BY comment")
            assert rows == [("gửi khi máy chủ tắt", 1), ("phiếu thứ hai khi máy chủ tắt", 1)]
            assert english_words(page) == []
            expect(b.start_button(page)).to_be_visible()
        finally:
            page.context.close()


def tablet_tables(server) -> dict:
    """Everything a survey, a start, a token or a refusal would change."""
    return {
        table: b.db_rows(server.db, f"SELECT * FROM {table} ORDER BY 1, 2")  # noqa: S608 (fixed names)
        for table in ("responses", "kiosk_starts", "kiosk_tokens", "kiosk_refusals", "kiosk_devices")
    }


def test_the_staff_preview_stores_nothing_and_sits_beside_the_sidebar(chromium, server):
    """ "Xem màn hình khảo sát" for a logged-in clerk: the whole survey runs, the thank-you shows, and
    nothing is stored, started, used or refused. The browser also holds the enrolled tablet's secret,
    so only the preview keeps the survey from being stored."""
    page = b.new_tablet_page(chromium, viewport={"width": 1440, "height": 900})
    b.as_enrolled_tablet(page, server)
    page.goto(server.url + "/login", wait_until="domcontentloaded")
    page.get_by_label("Tên đăng nhập").wait_for(state="visible", timeout=30_000)
    b.wait_for_run(page)
    page.get_by_label("Tên đăng nhập").fill(CLERK)
    page.get_by_label("Mật khẩu").fill(CLERK_PW)
    before_run = b.runs(page)
    page.get_by_role("button", name="Đăng nhập").click()
    b.wait_for_run(page, timeout=60_000, after=before_run)
    link = page.get_by_role("link", name="Xem màn hình khảo sát").first
    link.wait_for(state="visible", timeout=60_000)
    before = tablet_tables(server)
    before_run = b.runs(page)
    link.click()
    b.wait_for_run(page, timeout=60_000, after=before_run)
    b.start_button(page).wait_for(state="visible", timeout=20_000)

    mark = page.locator(".kiosk .preview-mark")
    expect(mark).to_be_visible()
    expect(mark).to_have_text("Xem thử — không lưu")
    # In the main area: the survey starts right of the sidebar and the sidebar stays visible.
    sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
    kiosk = page.locator(".kiosk").bounding_box()
    assert sidebar["width"] > 100, sidebar
    assert kiosk["x"] >= sidebar["x"] + sidebar["width"] - 1, (sidebar, kiosk)
    assert page.evaluate("() => getComputedStyle(document.querySelector('.kiosk')).position") == "relative"
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('[data-testid=stSidebar]') !== null",
        [sidebar["x"] + sidebar["width"] / 2, sidebar["y"] + sidebar["height"] / 2],
    )
    assert hit  # the sidebar is not covered

    b.tap(b.start_button(page))
    expect(page.locator(".kiosk")).to_have_attribute("data-screen", "survey")
    until_last_screen(page, [])
    b.tap(b.button(page, b.SUBMIT))
    expect(page.get_by_text(b.THANKS, exact=True)).to_be_visible()
    page.wait_for_timeout(3000)  # the tablet's tick (1 s) would have sent a queued survey by now
    b.wait_for_run(page)
    assert tablet_tables(server) == before
    # Nor kept in the browser to be sent later (the tablet's outbox), nor a start token spent.
    assert page.evaluate("() => JSON.parse(localStorage.getItem('sipas.kiosk.queue.v1') || '[]')") == []
    assert page.evaluate("() => localStorage.getItem('sipas.kiosk.tokens')") is None
    expect(page.locator(".kiosk .pending")).to_be_hidden()
    page.context.close()
