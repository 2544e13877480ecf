"""Shared helpers for the real-browser tests and the browser benchmark.

A ``streamlit run`` server on a free port (polled through ``/_stcore/health``, never a fixed
sleep), headless Debian Chromium through Playwright, and small helpers that wait for Streamlit to
finish a rerun before anything is asserted. No browser is downloaded: without /usr/bin/chromium
the browser tests skip, unless ``SIPAS_REQUIRE_BROWSER=1`` (CI), where they fail instead.

Imported by ``tests/test_browser_kiosk.py`` (fixtures are declared there) and by
``bench/bench_browser.py``; conftest.py stays free of browser code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"viewport": {"width": 800, "height": 1280}, "has_touch": True, "is_mobile": False, "locale": "vi-VN"}

# Visible texts of the kiosk page (the tests assert what a citizen sees).
WELCOME = "Ông/Bà hài lòng với sự phục vụ hôm nay chứ?"
START = "Bắt đầu đánh giá"
NEXT = "Tiếp tục ▶"
BACK = "◀ Quay lại"
SUBMIT = "Gửi đánh giá ✔"
THANKS = "Cảm ơn Ông/Bà!"

APP = '[data-testid="stApp"]'
# The tablet's address: ?kiosk=1 locks this browser to the survey (no way to the login page).
KIOSK_PATH = "/?kiosk=1"


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def browser_required() -> bool:
    """CI sets SIPAS_REQUIRE_BROWSER=1: a missing browser is then a failure, not a skip."""
    return os.environ.get("SIPAS_REQUIRE_BROWSER") == "1"


def require_browser() -> None:
    """Skip the calling test (fixture) when Chromium or Playwright is missing; fail instead under CI."""
    import pytest

    reason = browser_missing_reason()
    if reason:
        if browser_required():
            pytest.fail(f"SIPAS_REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    db: Path
    log: Path
    process: subprocess.Popen
    tablet: dict | None = None  # {"name", "secret"}: the tablet enrolled for the tests
    cmd: list | None = None  # how it was started, so that a test can start it again on the same port
    env: dict | None = None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextmanager
def streamlit_server(
    db: Path,
    workdir: Path,
    *,
    thanks_seconds: float = 3,
    idle_seconds: float = 6,
    startup_timeout: float = 60,
    min_seconds_per_answer: float = 0,
    address: str = "127.0.0.1",
) -> Iterator[Server]:
    """``streamlit run app.py`` on a free port with its own database and one enrolled tablet
    (:func:`enrol_tablet`); stopped on exit. ``address``: where the server listens
    (``"::"`` listens on every address, IPv4 included, for a test that visits from another address).
    Tests tap at machine speed: the misuse check's minimum
    time per answer is 0 unless a test asks for the real one."""
    port = free_port()
    tablet = enrol_tablet(db)
    env = dict(os.environ)
    env.update(
        SIPAS_KIOSK_MIN_SECONDS_PER_ANSWER=str(min_seconds_per_answer),
        SIPAS_DB=str(db),
        SIPAS_KIOSK_THANKS_SECONDS=str(thanks_seconds),
        SIPAS_KIOSK_IDLE_SECONDS=str(idle_seconds),
        PYTHONUNBUFFERED="1",
    )
    log = workdir / f"streamlit-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    proc = _spawn(cmd, env, log)
    server = Server(url=f"http://127.0.0.1:{port}", db=db, log=log, process=proc, tablet=tablet, cmd=cmd, env=env)
    try:
        _wait_healthy(server, startup_timeout)
        yield server
    finally:
        _stop(server.process)


def _spawn(cmd: list, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        # Own process group, so teardown stops the server and nothing else.
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(server: Server, sig: int = signal.SIGKILL) -> None:
    """The server dies (SIGKILL by default: no goodbye to the browsers) and stays down."""
    os.killpg(server.process.pid, sig)
    server.process.wait(timeout=15)


def start_server_again(server: Server, startup_timeout: float = 60) -> None:
    """The same server (port, database, settings) started again after :func:`stop_server`."""
    server.process = _spawn(server.cmd, server.env, server.log)
    _wait_healthy(server, startup_timeout)


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s:\n{server.log_tail()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@contextmanager
def chromium() -> Iterator:
    """A headless Debian Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# ------------------------------------------------------------------------------ page helpers


def new_tablet_page(browser, **overrides):
    """A fresh context at the tablet viewport whose page counts finished script runs."""
    context = browser.new_context(**{**TABLET, **overrides})
    page = context.new_page()
    watch_runs(page)
    return page


def watch_runs(page) -> None:
    """Count the server's "script finished" messages on the page's websocket.

    The DOM attribute data-test-script-state alone cannot tell a rerun that already finished from
    one that has not started: a fast rerun (~0.1 s) may go running → notRunning within one React
    render, so a check right after a tap can pass on the old screen. The message that ends each
    run cannot be missed.
    """
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    counts = {"full": 0, "fragment": 0}

    def on_frame(payload) -> None:
        if isinstance(payload, str):
            return
        msg = ForwardMsg()
        try:
            msg.ParseFromString(payload)
        except Exception:  # not a ForwardMsg: not ours to count
            return
        if msg.WhichOneof("type") != "script_finished":
            return
        if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            counts["full"] += 1
        elif msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
            counts["fragment"] += 1

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.sipas_runs = counts


def on_tablet_app(page) -> bool:
    """The page is the tablet's own app (tablet_web.py): no Streamlit, no websocket."""
    path = urlparse(page.url).path
    return path.startswith("/tablet/") or path.startswith("/q/")


def runs(page) -> int:
    """Full script runs finished so far on this page (fragment timer runs not included); on the tablet's own
    app, the answers to its sync messages so far."""
    if on_tablet_app(page):
        return int(page.locator(".kiosk").get_attribute("data-syncs") or 0)
    return page.sipas_runs["full"]


def wait_for_run(page, timeout: float = 15_000, after: int | None = None) -> None:
    """Wait until the websocket is connected and no script run is in progress.

    With ``after`` (a value of :func:`runs` taken before an action), first wait until a full run
    has finished since then, so the check cannot pass on the screen from before the action.
    """
    if on_tablet_app(page):
        if after is not None:
            page.wait_for_function(
                "n => Number(document.querySelector('.kiosk')?.getAttribute('data-syncs') || 0) > n",
                arg=after,
                timeout=timeout,
            )
        page.wait_for_selector('.kiosk[data-ready="1"]:not([data-sending])', timeout=timeout)
        return
    if after is not None:
        deadline = time.monotonic() + timeout / 1000
        while runs(page) <= after:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script run finished within {timeout / 1000:.0f} s")
            page.wait_for_timeout(15)  # lets Playwright deliver the websocket events
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-connection-state') === 'CONNECTED'
                            && a.getAttribute('data-test-script-state') === 'notRunning'; }""",
        timeout=timeout,
    )


def enrol_tablet(path: Path, name: str = "quay-test") -> dict:
    """Enrol a tablet in the database as its one-time link would (sipas.survey.devices); its secret."""
    from sipas import clock
    from sipas import db as sipas_db
    from sipas.survey import devices

    with sipas_db.session(path) as c:
        found = sipas_db.device_row(c, name)
        if found and found["secret"]:
            return {"name": name, "secret": found["secret"]}
        now = clock.now()
        secret = devices.enrol(c, name, devices.add(c, name, now=now, actor="test"), now=now)
    return {"name": name, "secret": secret}


def as_enrolled_tablet(page, server: Server) -> None:
    """This browser holds the test tablet's device secret, as after opening its enrolment link."""
    value = json.dumps(json.dumps(server.tablet))
    page.context.add_init_script(f"window.localStorage.setItem('sipas.kiosk.device', {value});")


def open_kiosk(page, server: Server, timeout: float = 20_000, enrolled: bool = True) -> None:
    if enrolled and not getattr(page, "sipas_enrolled", False):
        as_enrolled_tablet(page, server)
        page.sipas_enrolled = True
    page.goto(server.url + KIOSK_PATH, wait_until="domcontentloaded")
    start_button(page).wait_for(state="visible", timeout=timeout)
    wait_for_run(page)


def open_path(page, server: Server, path: str, timeout: float = 30_000) -> None:
    """Load ``path`` as a visitor and wait for its first screen: the first finished run of a Streamlit page,
    or the tablet's own app (where the bare address of a visitor without a staff session leads) ready."""
    page.goto(server.url + path, wait_until="domcontentloaded")
    if on_tablet_app(page):
        page.wait_for_selector('.kiosk[data-ready="1"]', timeout=timeout)
    else:
        page.locator(APP).wait_for(state="attached", timeout=timeout)
    wait_for_run(page, timeout=timeout)


def log_in(page, server: Server, username: str, password: str, timeout: float = 60_000) -> None:
    """Open the login page, sign in as ``username`` and wait for the first page of the session."""
    page.goto(server.url + "/login", wait_until="domcontentloaded")
    page.get_by_label("Tên đăng nhập").wait_for(state="visible", timeout=timeout)
    wait_for_run(page)
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    before = runs(page)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    wait_for_run(page, timeout=timeout, after=before)


def go_to(page, link: str, timeout: float = 90_000) -> None:
    """Click the sidebar link ``link`` and wait for that page's run."""
    page.get_by_role("link", name=link).first.wait_for(state="visible", timeout=timeout)
    before = runs(page)
    page.get_by_role("link", name=link).first.click()
    wait_for_run(page, timeout=timeout, after=before)


def start_button(page):
    return page.get_by_role("button", name=START, exact=True)


def button(page, label: str):
    return page.get_by_role("button", name=label, exact=True)


def pill_groups(page):
    """The pills widgets on the screen, in order (one per question)."""
    return page.locator('[data-testid="stButtonGroup"]')


def pill(group, label: str, multi: bool = False):
    """The option ``label`` inside one pills widget (its face emoji is aria-hidden, not in the name).

    Single-choice pills are radios (``aria-checked``); multi-choice ones are toggle buttons
    (``aria-pressed``).
    """
    return group.get_by_role("button" if multi else "radio", name=label, exact=True)


def settled(page, timeout: float = 10_000) -> None:
    """Wait until the tablet's screen has been visible long enough to take a tap (a tap in its first
    350 ms is taken as a phantom and ignored, components/survey/src/taps.js)."""
    page.wait_for_selector('.kiosk[data-settled="1"]', timeout=timeout)


def tap(locator) -> None:
    """Tap a control of the tablet like a person: once its screen has been seen."""
    settled(locator.page)
    locator.tap()


def tap_and_wait(page, locator) -> None:
    """Tap like a finger and wait for the rerun that the tap starts to finish."""
    before = runs(page)
    locator.tap()
    wait_for_run(page, after=before)


# ------------------------------------------------------------------------------ database


def db_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db, timeout=15) as c:
        return [tuple(r) for r in c.execute(sql, params)]


def keep_counter_open(conn) -> None:
    """Outside opening hours the tablet shows a "closed" screen; open the counter around the clock."""
    from sipas.admin import settings

    settings.put(conn, "opening_hours", {"days": list(range(7)), "periods": [["00:00", "24:00"]]}, actor="test")
    # ... and staff have confirmed the shipped names (else the first staff page is that step).
    names = {key: settings.get(conn, key) for key in settings.UNIT_KEYS}
    settings.put(conn, "unit_confirmed", {"by": "test", "at": "2024-01-02 08:00:00", **names}, "test")


def max_response_id(db: Path) -> int:
    return db_rows(db, "SELECT coalesce(max(id), 0) FROM responses")[0][0]
