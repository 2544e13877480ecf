"""Many counter tablets at once in real headless Chromium, with a clerk reading the analysis page.

    python bench/bench_tablets.py                          # 20 tablets for 60 s; appends to RESULTS.md
    python bench/bench_tablets.py --tablets 5 --seconds 20 --no-record

N browser contexts (one Chromium, one context per tablet, each an enrolled tablet on the tablet's own web
app at /tablet/, reached through its old bookmark /?kiosk=1) submit surveys in a loop, by tapping:
"Bắt đầu đánh giá", a face or an option on each screen (each moves on by itself) up to the last screen,
a comment that names the survey ("tablet-3 survey-17"), then "Gửi đánh giá ✔"; the time from that tap
until "Cảm ơn Ông/Bà!" is visible is the submit latency. The thank-you shows once the survey is in the
tablet's queue; the server's part is the sync post that carries it (``POST /api/tablet/sync``, timed by
the browser), and the tablet sends it again until the server acknowledges it.
The database is set to short surveys (the staff-conduct element + 1 rotating criterion: 5 screens).
A clerk logs in through the real form at /login, opens "Phân tích chi tiết" from the menu, and
switches its period (quarter ↔ month) every few seconds: each switch reruns the page on the newest data.

Checked afterwards (once every tablet's queue is empty): every survey whose thank-you screen was shown
is in the database exactly once (by its comment), none is there twice, no screen showed an error or an
exception, the server log has no traceback, and ``sipas.admin.check.check_database`` finds nothing wrong.

The tablet driver (:func:`run_tablets`) is also used by tests/test_browser_stress.py and
bench/bench_crash.py. Playwright's async API drives all pages from one thread; the page helpers of
tests/browser.py (the kiosk's texts, the script-run counter of the clerk's Streamlit page) are reused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sipas import clock, db
from sipas.admin import (
    auth,
    check,
    settings,
)
from tests import browser as b

RESULTS = ROOT / "bench" / "RESULTS.md"
CLERK, CLERK_PW = "thongke", "matkhau-thongke-1"
ANALYSIS_TITLE = "Phân tích chỉ số hài lòng"
OVERVIEW_TITLE = "Tổng quan chỉ số hài lòng"
# Exceptions and error boxes. The clerk's pages now carry expected notices ("Kỳ này chưa kết thúc …",
# "Chỉ có 9 phiếu trong kỳ (cần ít nhất 30) …" with a few surveys): those are not problems.
PROBLEM_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE_JS = """() => { const a = document.querySelector('[data-testid="stApp"]');
                     return a && a.getAttribute('data-test-connection-state') === 'CONNECTED'
                              && a.getAttribute('data-test-script-state') === 'notRunning'; }"""


def prepare_database(path: Path, clerk: bool = True) -> None:
    """A fresh database: counter open around the clock, short surveys, a staff member, a clerk account."""
    with db.session(path) as c:
        b.keep_counter_open(c)
        settings.put(c, "questions_per_survey", {"mode": "short", "rotating": 1}, "bench")
        db.upsert_staff(c, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
        if clerk:
            auth.create_user(c, CLERK, CLERK_PW, "clerk", full_name="Lê Văn Hùng", first_admin=True)


@dataclass
class Tally:
    """What the browsers saw. ``thanked``: comment → submit latency (s), only after "Cảm ơn" was visible."""

    thanked: dict[str, float] = field(default_factory=dict)
    thanked_at: dict[str, float] = field(default_factory=dict)  # comment → time.monotonic() when seen
    # comment → s of the sync post that carried the completed survey (the browser's timing of the request):
    # the server's share, queueing included. The thank-you shows before it: the survey is in the tablet's
    # queue first, and the queue is sent until the server acknowledges it.
    server_rt: dict[str, float] = field(default_factory=dict)
    sync_ok_at: dict[int, float] = field(default_factory=dict)  # tablet → time.monotonic() of its last answered sync
    undrained: list[str] = field(default_factory=list)  # tablets whose queue still held surveys at the end
    tapped: list[str] = field(default_factory=list)  # "Gửi" tapped (thanked or not)
    shown: list[str] = field(default_factory=list)  # error boxes or exceptions seen on a screen
    failed: list[str] = field(default_factory=list)  # steps that did not complete (timeouts, lost server)
    clerk_reruns: list[float] = field(default_factory=list)
    clerk_counts: list[str] = field(default_factory=list)
    ready: int = 0  # pages loaded and waiting for the start
    started_at: float | None = None  # time.monotonic() when the timed run began

    @property
    def latencies(self) -> list[float]:
        return list(self.thanked.values())

    @property
    def problems(self) -> list[str]:
        return self.shown + self.failed + self.undrained


# ------------------------------------------------------------------------------ async page helpers


SYNC_PATH = "/api/tablet/sync"


def watch_syncs(page, tally: Tally | None = None, tablet: int | None = None) -> None:
    """Record the tablet's sync posts (``/api/tablet/sync``): the tablet's app has no websocket, its one
    message to the server is this POST. Each finished post is kept as (body text, round trip in s, status):
    the round trip is the browser's own timing of the request (``requestStart`` → ``responseEnd``), so
    Playwright's event delivery adds nothing to it. With ``tally``, the time of every answered post (status
    200) is kept per ``tablet`` (a tablet that reached its server again after a restart)."""
    syncs: list[tuple[str, float, int]] = []

    async def finished(request) -> None:
        if not request.url.endswith(SYNC_PATH) or request.method != "POST":
            return
        try:
            response = await request.response()
            status = response.status if response is not None else 0
            t = request.timing
            start = t.get("requestStart", -1)
            end = t.get("responseEnd", -1)
            rt = (end - (start if start >= 0 else 0)) / 1000 if end >= 0 else None
        except Exception:  # noqa: BLE001 - the page is closing
            return
        if rt is not None:
            syncs.append((request.post_data or "", rt, status))
        if tally is not None and tablet is not None and status == 200:
            tally.sync_ok_at[tablet] = time.monotonic()

    page.on("requestfinished", finished)
    page.sipas_syncs = syncs


def server_round_trip(page, comment: str) -> float | None:
    """Seconds of the first answered sync post that carried the survey with ``comment`` (the tablet sends a
    completed survey at once after the thank-you shows; the same survey is sent again until acknowledged)."""
    needle = json.dumps(comment, ensure_ascii=False)[1:-1]
    for text, rt, status in page.sipas_syncs:
        if status == 200 and needle in text:
            try:
                body = json.loads(json.loads(text)["body"])
            except (ValueError, KeyError, TypeError):
                continue
            if any(s.get("comment") == comment for s in body.get("surveys", [])):
                return rt
    return None


async def tablet_syncs(page) -> int:
    """Async twin of tests.browser.runs on the tablet's app: its sync posts answered so far."""
    return int(await page.locator(".kiosk").get_attribute("data-syncs", timeout=5_000) or 0)


async def connected(page) -> bool:
    """Whether the page is in touch with its server: Streamlit's connection state on a staff page; on the
    tablet's app, the answer to its last sync (it carries on offline all the same)."""
    if b.on_tablet_app(page):
        return await page.locator(".kiosk").get_attribute("data-connection", timeout=5_000) != "down"
    state = await page.locator(b.APP).get_attribute("data-test-connection-state", timeout=5_000)
    return state == "CONNECTED"


async def wait_for_run(page, after: int | None = None, timeout: float = 30) -> None:
    """Async twin of tests.browser.wait_for_run. On a Streamlit page: a full run finished since ``after``, and
    idle now; raises ConnectionError as soon as the page has lost its server (rather than waiting out
    ``timeout``). On the tablet's app: a sync post answered since ``after`` (the answer of a server that is
    down counts: the page carries on with its queue), and none in flight now."""
    if b.on_tablet_app(page):
        if after is not None:
            await page.wait_for_function(
                "n => Number(document.querySelector('.kiosk')?.getAttribute('data-syncs') || 0) > n",
                arg=after,
                timeout=timeout * 1000,
                polling=50,
            )
        await page.wait_for_selector('.kiosk[data-ready="1"]:not([data-sending])', timeout=timeout * 1000)
        return
    if after is not None:
        deadline = time.monotonic() + timeout
        checked = time.monotonic()
        while b.runs(page) <= after:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script run finished within {timeout:.0f} s")
            if time.monotonic() - checked > 0.5:
                if not await connected(page):
                    raise ConnectionError("the page lost its server")
                checked = time.monotonic()
            await asyncio.sleep(0.015)
    await page.wait_for_function(IDLE_JS, timeout=timeout * 1000, polling=50)  # not every frame in 20 pages


async def wait_visible(page, locator, timeout: float = 30) -> None:
    """``locator.wait_for()`` (event driven, so the time is exact). On a Streamlit page it is given up at once
    if the server is lost; the tablet's app needs no server to go on."""
    if b.on_tablet_app(page):
        await locator.wait_for(state="visible", timeout=timeout * 1000)
        return
    task = asyncio.ensure_future(locator.wait_for(state="visible", timeout=timeout * 1000))
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if done:
            task.result()
            return
        if not await connected(page):
            task.cancel()
            raise ConnectionError("the page lost its server")


TAP_TIMEOUT = 10  # s: the element is on the screen already (the run that drew it has finished)


async def settled(page, timeout: float = TAP_TIMEOUT) -> None:
    """Wait until the tablet's screen takes taps: a tap in its first 350 ms is a phantom and ignored
    (components/survey/src/taps.js), as a person's eyes would need that long to see it."""
    await page.wait_for_selector('.kiosk[data-settled="1"]', timeout=timeout * 1000)


async def tap(page, locator, timeout: float = TAP_TIMEOUT) -> None:
    """Tap a control of the tablet like a person: once its screen has been seen."""
    await settled(page, timeout)
    await locator.tap(timeout=timeout * 1000)


async def runs(page) -> int:
    """Async twin of tests.browser.runs: Streamlit runs finished (a staff page), sync posts answered (the
    tablet's app)."""
    return await tablet_syncs(page) if b.on_tablet_app(page) else b.runs(page)


async def tap_and_wait(page, locator, timeout: float = 30) -> None:
    """Tap and wait for the rerun (the sync post on the tablet's app). A missing element fails after
    TAP_TIMEOUT, not ``timeout``."""
    before = await runs(page)
    await settled(page, min(timeout, TAP_TIMEOUT))
    await locator.tap(timeout=min(timeout, TAP_TIMEOUT) * 1000)
    await wait_for_run(page, after=before, timeout=timeout)


async def shown_problems(page) -> list[str]:
    """Error boxes or exceptions on the screen (the kiosk normally shows none)."""
    boxes = page.locator(PROBLEM_SELECTOR)
    return [await boxes.nth(i).inner_text() for i in range(await boxes.count())]


async def open_kiosk(page, url: str, timeout: float = 60) -> None:
    await page.goto(url + b.KIOSK_PATH, wait_until="domcontentloaded", timeout=timeout * 1000)
    await b.start_button(page).wait_for(state="visible", timeout=timeout * 1000)
    await wait_for_run(page, timeout=timeout)


async def one_survey(page, comment: str, tally: Tally, timeout: float = 30) -> None:
    """Tap through one short survey with ``comment``; record it in ``tally`` once thanked.

    The survey runs in the tablet's browser (its own web app at /tablet/): a tap on a face moves on by
    itself after 400 ms without a server round trip; only the start and the completed survey reach the
    server (sync posts). The thank-you shows as soon as the survey is in the tablet's queue.
    """
    await tap_and_wait(page, b.start_button(page), timeout)
    submit = b.button(page, b.SUBMIT)
    answers = iter(("Hài lòng", "Rất hài lòng"))
    while not await submit.count():
        screen = await page.locator(".kiosk").get_attribute("data-question")
        faces = page.locator(".kiosk .face")
        if await faces.count():
            label = next(answers, "Hài lòng")
            await tap(page, page.get_by_role("radio", name=label, exact=True))
        else:
            await tap(page, page.locator('.kiosk .screen [role="radio"]').first)
        await page.wait_for_function(
            "q => document.querySelector('.kiosk').getAttribute('data-question') !== q",
            arg=screen,
            timeout=timeout * 1000,
        )
    box = page.locator(".kiosk textarea")
    await box.fill(comment)
    problems = await shown_problems(page)
    if problems:
        tally.shown.append(f"{comment}: before submitting: {problems}")
    tally.tapped.append(comment)
    before = await runs(page)
    await settled(page, min(timeout, TAP_TIMEOUT))
    t0 = time.perf_counter()
    await submit.tap(timeout=min(timeout, TAP_TIMEOUT) * 1000)
    await wait_visible(page, page.get_by_text(b.THANKS, exact=True), timeout)
    tally.thanked[comment] = time.perf_counter() - t0
    tally.thanked_at[comment] = time.monotonic()
    await wait_for_run(page, after=before, timeout=timeout)  # the sync post that sent it (answered or not)
    await asyncio.sleep(0)  # lets the request's "finished" event be handled
    rt = server_round_trip(page, comment)
    if rt is not None:
        tally.server_rt[comment] = rt
    problems = await shown_problems(page)
    if problems:
        tally.shown.append(f"{comment}: on the thank-you screen: {problems}")
    await tap(page, b.button(page, "Về trang đầu"))
    await b.start_button(page).wait_for(state="visible", timeout=timeout * 1000)


async def tablet_loop(
    browser,
    url: Callable[[], str],
    db_path: Path,
    number: int,
    go: asyncio.Event,
    stop: asyncio.Event,
    tally: Tally,
    timeout: float = 30,
    max_surveys: int | None = None,
) -> None:
    """One tablet: load the kiosk, wait for ``go``, then surveys back to back until ``stop`` is set. After a
    failed step (a server that went away) it waits for the page to come back by itself, else reloads it.
    Each simulated tablet is enrolled (its own device, ``bench-N``) and its browser holds that device's
    secret before the kiosk opens, as after its one-time enrolment link: only an enrolled tablet stores."""
    tablet = b.enrol_tablet(db_path, f"bench-{number}")
    context = await browser.new_context(**b.TABLET)
    await context.add_init_script(script=enrolled_script(tablet))
    page = await context.new_page()
    watch_syncs(page, tally, number)
    try:
        await open_kiosk(page, url(), timeout=120)  # 20 cold loads at once take a while on 2 CPUs
        tally.ready += 1
        await go.wait()
        n = 0
        while not stop.is_set() and (max_surveys is None or n < max_surveys):
            n += 1
            comment = f"tablet-{number} survey-{n}"
            try:
                await one_survey(page, comment, tally, timeout)
            except Exception as exc:  # noqa: BLE001 - recorded, then the tablet carries on
                if stop.is_set():
                    break
                tally.failed.append(f"{comment}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
                await recover(page, url, stop)
    finally:
        left = await drain_queue(page)
        if left:
            tally.undrained.append(f"tablet-{number}: {left} thanked surveys still queued at the end")
        await context.close()


def enrolled_script(tablet: dict) -> str:
    """The init script that puts an enrolled tablet's device secret in the browser's storage."""
    value = json.dumps(json.dumps(tablet))
    return f"window.localStorage.setItem('sipas.kiosk.device', {value});"


# The tablet's outbox (components/survey/src/queue.js, QUEUE_KEY).
PENDING_JS = """() => { try { return JSON.parse(localStorage.getItem('sipas.kiosk.queue.v1') || '[]')
                                    .filter(e => e.survey).length; } catch (e) { return -1; } }"""


async def drain_queue(page, timeout: float = 30) -> int:
    """Like a real tablet, which stays on: give the page time to send the completed surveys it still
    holds (thanked, kept in IndexedDB and localStorage, re-sent until the server acknowledges them) before
    closing. How many it still holds after ``timeout`` (0: all acknowledged; -1: could not be read)."""
    deadline = time.monotonic() + timeout
    left = -1
    while time.monotonic() < deadline:
        try:
            left = await page.evaluate(PENDING_JS)
            if left == 0:
                return 0
        except Exception:  # noqa: BLE001 - a page being reloaded; try again
            pass
        await asyncio.sleep(0.25)
    return left


async def recover(page, url: Callable[[], str], stop: asyncio.Event) -> None:
    """Back to the welcome screen: the reconnected page shows it by itself; else a fresh load."""
    while not stop.is_set():
        try:
            await b.start_button(page).wait_for(state="visible", timeout=5_000)
            await wait_for_run(page, timeout=10)
            return
        except Exception:  # noqa: BLE001
            try:
                await open_kiosk(page, url(), timeout=20)
                return
            except Exception:  # noqa: BLE001 - the server may still be down
                await asyncio.sleep(1)


async def clerk_loop(
    browser, url: str, go: asyncio.Event, stop: asyncio.Event, tally: Tally, every: float = 4.0
) -> None:
    """The clerk: log in through the form, open the analysis page, switch its period every ``every`` s."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = await context.new_page()
    b.watch_runs(page)
    try:
        await page.goto(url + "/login", wait_until="domcontentloaded")
        await page.get_by_label("Tên đăng nhập").fill(CLERK, timeout=60_000)
        await page.get_by_label("Mật khẩu").fill(CLERK_PW)
        before = b.runs(page)
        await page.get_by_role("button", name="Đăng nhập", exact=True).click()
        await wait_for_run(page, after=before, timeout=60)
        await page.get_by_role("heading", name=OVERVIEW_TITLE).wait_for(timeout=60_000)
        before = b.runs(page)
        await page.get_by_role("link", name="Phân tích chi tiết").click()  # same session: stays logged in
        await wait_for_run(page, after=before, timeout=60)
        await page.get_by_role("heading", name=ANALYSIS_TITLE).wait_for(timeout=60_000)
        tally.ready += 1
        await go.wait()
        # The period control is always there (the sections only once the period has a survey):
        # each switch reruns the page on the newest data (its caches are keyed by the data version).
        periods = ["Quý", "Tháng"]
        i = 0
        while not stop.is_set():
            await asyncio.sleep(every)
            before = b.runs(page)
            t0 = time.perf_counter()
            await page.locator('[data-testid="stButtonGroup"]').get_by_text(periods[i % 2], exact=True).click()
            await wait_for_run(page, after=before, timeout=60)
            tally.clerk_reruns.append(time.perf_counter() - t0)
            i += 1
            problems = await shown_problems(page)
            # "Chưa có phiếu nào" before the first survey is an info box, not a problem.
            problems = [p for p in problems if "Chưa có phiếu nào" not in p]
            if problems:
                tally.shown.append(f"clerk: {problems}")
            metric = page.locator('[data-testid="stMetric"]', has_text="Số phiếu hợp lệ")
            if await metric.count():
                tally.clerk_counts.append(await metric.locator('[data-testid="stMetricValue"]').inner_text())
    except Exception as exc:  # noqa: BLE001
        tally.failed.append(f"clerk: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()


async def run_tablets(
    url: Callable[[], str] | str,
    tablets: int,
    seconds: float,
    *,
    db_path: Path,
    clerk: bool = True,
    tally: Tally | None = None,
    during: Callable | None = None,
    timeout: float = 30,
    stagger: float = 0.3,
) -> Tally:
    """Drive ``tablets`` tablets (and the clerk) for ``seconds``, each enrolled in the database ``db_path``;
    ``during(tally, stop)`` is an optional coroutine run alongside (the crash benchmark kills the server
    from there)."""
    from playwright.async_api import async_playwright

    url_of = url if callable(url) else (lambda: url)
    tally = tally or Tally()
    go, stop = asyncio.Event(), asyncio.Event()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(b.CHROMIUM), args=b.CHROMIUM_ARGS)
        try:
            tasks = []
            if clerk:
                tasks.append(asyncio.create_task(clerk_loop(browser, url_of(), go, stop, tally)))
            for i in range(1, tablets + 1):
                tasks.append(asyncio.create_task(tablet_loop(browser, url_of, db_path, i, go, stop, tally, timeout)))
                await asyncio.sleep(stagger)
            # The clock starts once every page is loaded (cold loads are bench_browser.py's subject).
            deadline = time.monotonic() + 180
            while tally.ready < len(tasks) and time.monotonic() < deadline and not all(t.done() for t in tasks):
                await asyncio.sleep(0.2)
            tally.started_at = time.monotonic()
            go.set()
            if during is not None:
                await during(tally, stop)
            else:
                await asyncio.sleep(seconds)
            stop.set()
            # A survey in progress is finished (bounded by the step timeouts).
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout + 30)
        finally:
            await browser.close()
    return tally


# ------------------------------------------------------------------------------ checks


def stored_comments(path: Path) -> Counter:
    return Counter(r[0] for r in b.db_rows(path, "SELECT comment FROM responses WHERE comment LIKE 'tablet-%'"))


def check_stored(path: Path, tally: Tally) -> dict[str, list]:
    """Thanked surveys missing from the database, or stored more than once; surveys stored that no
    tablet ever sent."""
    stored = stored_comments(path)
    return {
        "missing": sorted(c for c in tally.thanked if stored[c] == 0),
        "doubled": sorted(c for c, n in stored.items() if n > 1),
        "unknown": sorted(c for c in stored if c not in tally.tapped),
    }


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_line(values: list[float]) -> str:
    if not values:
        return "no survey thanked"
    return (
        f"p50 {percentile(values, 50):.2f} s, p95 {percentile(values, 95):.2f} s, "
        f"p99 {percentile(values, 99):.2f} s, max {max(values):.2f} s (n = {len(values)})"
    )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its finished children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def log_problems(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if "Traceback" in line or "could not store" in line]


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tablets", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--no-clerk", action="store_true", help="no clerk on the analysis page")
    ap.add_argument(
        "--server-nice",
        type=int,
        default=0,
        metavar="N",
        help="run the server at this nice value (e.g. -10, as root): it then gets the CPU before the "
        "browsers, roughly as if the tablets rendered on their own hardware",
    )
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = ap.parse_args(argv)
    reason = b.browser_missing_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sipas-bench-tablets-") as tmp:
        work = Path(tmp)
        path = work / "sipas.db"
        prepare_database(path)
        with b.streamlit_server(path, work, thanks_seconds=60, idle_seconds=300) as server:
            if args.server_nice:
                os.setpriority(os.PRIO_PGRP, server.process.pid, args.server_nice)
            cpu: list[float] = []
            counted: list[int] = []

            async def timed(tally: Tally, stop: asyncio.Event) -> None:
                # The server's own CPU time over the timed run, against the surveys thanked meanwhile.
                cpu.append(cpu_seconds(server.process.pid))
                counted.append(len(tally.thanked))
                await asyncio.sleep(args.seconds)
                cpu.append(cpu_seconds(server.process.pid))
                counted.append(len(tally.thanked))

            t0 = time.monotonic()
            tally = asyncio.run(
                run_tablets(
                    server.url,
                    args.tablets,
                    args.seconds,
                    db_path=path,
                    clerk=not args.no_clerk,
                    timeout=60,
                    during=timed,
                )
            )
            elapsed = time.monotonic() - t0
            server_log = log_problems(server.log)
        result = check_stored(path, tally)
        db_problems = check.check_database(path)
        total = b.db_rows(path, "SELECT count(*) FROM responses")[0][0]
    load_after = os.getloadavg()[0]
    ok = not any(result.values()) and not tally.problems and not server_log and not db_problems
    clerk = (
        (
            f"clerk: {len(tally.clerk_reruns)} period switches on /analysis, rerun p50 "
            f"{statistics.median(tally.clerk_reruns):.2f} s, max {max(tally.clerk_reruns):.2f} s; "
            f'"Số phiếu hợp lệ" went {tally.clerk_counts[0] if tally.clerk_counts else "—"} → '
            f"{tally.clerk_counts[-1] if tally.clerk_counts else '—'}"
        )
        if tally.clerk_reruns
        else "no clerk"
    )
    lines = [
        f"- {args.tablets} tablets for {args.seconds:g} s (after {tally.started_at - t0:.0f} s loading the pages; "
        f"{elapsed:.0f} s in all): "
        f"**{len(tally.thanked)} surveys thanked**, {total} stored; thanked but missing: "
        f"**{len(result['missing'])}**, stored twice: **{len(result['doubled'])}**, stored but never sent: "
        f"{len(result['unknown'])}; problems on screen: **{len(tally.problems)}**; tracebacks in the server log: "
        f"{len(server_log)}; check_database: {'no problem' if not db_problems else db_problems[:3]}",
        f'- submit latency (tap on "{b.SUBMIT}" → "{b.THANKS}" visible): **{latency_line(tally.latencies)}**',
        f"- the server's part, the sync post that carried the survey (browser timing, request sent → answer "
        f"received, queueing included; the thank-you does not wait for it): "
        f"{latency_line(list(tally.server_rt.values()))}",
        f"- the server process used {cpu[1] - cpu[0]:.1f} CPU-seconds in the {args.seconds:g} s "
        f"({100 * (cpu[1] - cpu[0]) / args.seconds:.0f} % of one CPU) while {counted[1] - counted[0]} surveys were "
        f"thanked: {1000 * (cpu[1] - cpu[0]) / max(1, counted[1] - counted[0]):.0f} ms per survey (its start and "
        "its survey synced, the tablets' resends, the clerk's page); the rest of the two CPUs went to the browsers",
        f"- {clerk}",
    ]
    lines += [f"  - problem: {p}" for p in tally.problems[:10]]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        header = (
            f"\n### Many tablets (bench/bench_tablets.py)\n\n{clock.today().isoformat()}, {os.cpu_count()} CPU, "
            f"one headless Chromium with {args.tablets} tablet contexts (800×1280, touch) + "
            f"{'1 clerk context' if not args.no_clerk else 'no clerk'}, server and browsers on the same "
            f"machine, load average {load_before:.1f} before / {load_after:.1f} after. "
            f"`python bench/bench_tablets.py --tablets {args.tablets} --seconds {args.seconds:g}"
            f"{f' --server-nice {args.server_nice}' if args.server_nice else ''}`\n\n"
        )
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(header + text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
