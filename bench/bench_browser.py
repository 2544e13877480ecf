"""How quickly the counter tablet answers, measured in real headless Chromium at 800×1280.

    python bench/bench_browser.py                 # 10 page loads, 10 surveys; appends to RESULTS.md
    python bench/bench_browser.py --runs 20 --no-record

(i)  first screen usable: from ``page.goto`` until the "Bắt đầu đánh giá" button is visible and
     enabled. Each load is a new browser context (empty cache, new Streamlit session), which is
     what a tablet sees after it slept past the session timeout; a reload in the same context
     (warm cache) is measured too. Target: < 2 s.
(ii) submit: from the tap on "Gửi đánh giá ✔" until "Cảm ơn Ông/Bà!" is visible, over full
     surveys (every criterion answered by tapping). Target: < 1 s.

The app runs with ``streamlit run app.py`` on a free port and a fresh database in a temporary
folder; Debian's /usr/bin/chromium is driven by Playwright (tests/browser.py has the helpers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import clock, db  # noqa: E402
from tests import browser as b  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
TARGET_LOAD = 2.0
TARGET_SUBMIT = 1.0


def first_screen(browser, server, warm: bool) -> tuple[float, float, float]:
    """Seconds from ``goto`` until the start button is usable, DOMContentLoaded, websocket opened."""
    page = b.new_tablet_page(browser)
    opened: list[float] = []
    try:
        if warm:  # load once so the static files are cached, then measure the reload
            b.open_kiosk(page, server)
        page.on("websocket", lambda ws: opened.append(time.perf_counter()))
        t0 = time.perf_counter()
        page.goto(server.url + b.KIOSK_PATH, wait_until="domcontentloaded")
        t_dcl = time.perf_counter() - t0
        start = b.start_button(page)
        start.wait_for(state="visible", timeout=30_000)
        page.wait_for_function("(e) => !e.disabled", arg=start.element_handle(), timeout=30_000)
        return time.perf_counter() - t0, t_dcl, opened[-1] - t0
    finally:
        page.context.close()


def one_survey(page) -> float:
    """Tap through a full survey; return the seconds from the submit tap to the thank-you text."""
    b.tap_and_wait(page, b.start_button(page))
    page.get_by_text("Bước 1/8", exact=True).wait_for()
    for step in range(1, 9):
        if step <= 6:  # the five elements: every criterion; then the overall question
            groups = b.pill_groups(page)
            groups.first.wait_for()
            for q in range(groups.count() if step <= 5 else 1):
                b.tap_and_wait(page, b.pill(groups.nth(q), "Hài lòng"))
        if step < 8:
            b.tap_and_wait(page, b.button(page, b.NEXT))
            page.get_by_text(f"Bước {step + 1}/8", exact=True).wait_for()
    submit = b.button(page, b.SUBMIT)
    submit.wait_for()
    t0 = time.perf_counter()
    submit.tap()
    page.get_by_text(b.THANKS, exact=True).wait_for(state="visible", timeout=30_000)
    elapsed = time.perf_counter() - t0
    b.wait_for_run(page)
    b.tap_and_wait(page, b.button(page, "Về trang đầu"))
    return elapsed


def summary(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.2f} s, max {max(values):.2f} s (n = {len(values)})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10, help="page loads and surveys to time (default 10)")
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = ap.parse_args(argv)
    reason = b.browser_missing_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sipas-bench-browser-") as tmp:
        work = Path(tmp)
        path = work / "sipas.db"
        with db.session(path) as c:
            b.keep_counter_open(c)
        with b.streamlit_server(path, work, thanks_seconds=8, idle_seconds=90) as server, b.chromium() as browser:
            first_screen(browser, server, warm=False)  # not timed: the server's first run imports the pages
            cold = [first_screen(browser, server, warm=False) for _ in range(args.runs)]
            warm = [first_screen(browser, server, warm=True) for _ in range(args.runs)]
            page = b.new_tablet_page(browser)
            b.open_kiosk(page, server)
            submits = [one_survey(page) for _ in range(args.runs)]
            stored = b.db_rows(path, "SELECT count(*) FROM responses")[0][0]
            page.context.close()
            version = f"Chromium {browser.version}"
        if stored != args.runs:
            print(f"expected {args.runs} stored surveys, found {stored}", file=sys.stderr)
            return 1

    load, dcl, ws = ([run[i] for run in cold] for i in range(3))
    warm_load, warm_ws = [run[0] for run in warm], [run[2] for run in warm]
    lines = [
        f"- (i) first screen usable after `page.goto` (new context, empty cache): **{summary(load)}** "
        f"(target < {TARGET_LOAD:g} s: {'met' if max(load) < TARGET_LOAD else 'MISSED'}); "
        f"of which DOMContentLoaded p50 {statistics.median(dcl):.2f} s, websocket opened p50 "
        f"{statistics.median(ws):.2f} s",
        f"- (i') same, reload with a warm cache: {summary(warm_load)}; websocket opened p50 "
        f"{statistics.median(warm_ws):.2f} s",
        f'- (ii) tap on "{b.SUBMIT}" → "{b.THANKS}" visible, full 19-criterion surveys: '
        f"**{summary(submits)}** (target < {TARGET_SUBMIT:g} s: "
        f"{'met' if max(submits) < TARGET_SUBMIT else 'MISSED'})",
    ]
    header = (
        f"\n## Browser (bench/bench_browser.py)\n\n{clock.today().isoformat()}, {os.cpu_count()} CPU, "
        f"{version}, headless, viewport 800×1280 with touch, server and browser on the same machine, "
        f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after. "
        f"`python bench/bench_browser.py --runs {args.runs}`\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
