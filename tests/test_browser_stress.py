"""Many tablets at once, and a server killed while they submit, in real headless Chromium.

Short versions of bench/bench_tablets.py (20 tablets, 60 s) and bench/bench_crash.py, whose driver
they use: one Chromium, one browser context per tablet (an enrolled tablet on its own web app at
/tablet/, no Streamlit session), each tapping short surveys in a loop with a comment that names the
survey ("tablet-3 survey-17"), and a clerk logged in through the real form who keeps rerunning the
analysis page. What is asserted is what a citizen and the commune would notice: every survey whose
thank-you screen was shown is in the database exactly once (once the tablets' queues are empty), no
screen showed an error, and after a crash the database checks clean and the tablets carry on: they go on
thanking surveys while the server is down and send them to the restarted server by themselves.
The last test kills a writer process without any browser (every acknowledged survey must be stored).

Without /usr/bin/chromium these tests skip, unless SIPAS_REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bench import bench_crash as bc
from bench import bench_tablets as bt
from sipas.admin import check
from tests import browser as b

pytestmark = pytest.mark.browser

TABLETS = 5
SECONDS = 20


@pytest.fixture(autouse=True)
def browser_available():
    b.require_browser()


def test_tablets_submitting_together_store_every_thanked_survey_exactly_once(tmp_path):
    path = tmp_path / "sipas.db"
    bt.prepare_database(path)
    with b.streamlit_server(path, tmp_path, thanks_seconds=60, idle_seconds=300) as server:
        tally = asyncio.run(bt.run_tablets(server.url, TABLETS, SECONDS, db_path=path, clerk=True, timeout=30))
        log = bt.log_problems(server.log)
    print(
        f"{len(tally.thanked)} surveys thanked; submit latency {bt.latency_line(tally.latencies)}; "
        f"its sync post {bt.latency_line(list(tally.server_rt.values()))}; clerk reruns {len(tally.clerk_reruns)}"
    )
    assert tally.failed == [] and tally.shown == []  # no step failed, no error box on any screen
    assert tally.undrained == []  # every tablet's queue was acknowledged by the server
    assert len({c.split()[0] for c in tally.thanked}) == TABLETS  # every tablet got through
    assert len(tally.thanked) >= TABLETS
    assert bt.check_stored(path, tally) == {"missing": [], "doubled": [], "unknown": []}
    assert len(tally.clerk_reruns) >= 2  # the clerk's page kept rerunning on the newest data, without error
    assert log == []
    assert check.check_database(path) == []


def test_a_killed_server_loses_no_thanked_survey_and_the_tablets_carry_on(tmp_path):
    r = bc.crash_round(
        tmp_path, tablets=3, kill_window=(2.0, 5.0), after_restart=15.0, rng=random.Random(7), min_thanked=2
    )
    print(
        f"kill at {r.kill_at:.1f} s, back after {r.back_after:.1f} s; thanked before {len(r.thanked_before)}, "
        f"after {len(r.thanked_after)} ({r.thanked_while_down} while down); synced again {r.recovered}/3; "
        f"cut short: {r.failed}"
    )
    assert len(r.thanked_before) >= 2
    assert r.missing == [] and r.doubled == []  # every thanked survey is there, once
    assert r.db_problems == []  # integrity_check and the roll-ups, after SIGKILL
    assert r.shown == []  # no error box on any tablet, before or after
    # The tablet's app needs no server to run a survey: nothing was cut short by the kill.
    assert r.failed == []
    assert r.recovered == 3 and r.thanked_after  # every tablet synced again by itself and carried on


def test_a_killed_writer_loses_no_acknowledged_survey(tmp_path):
    """Not a browser: a child process stores surveys from 4 threads and prints each token once stored;
    SIGKILL at a random moment, 5 times (bench/bench_crash.py does 30)."""
    path = tmp_path / "kill.db"
    rng = random.Random(11)
    kills = [bc.kill_round(path, rng) for _ in range(5)]
    assert sum(k.acked for k in kills) >= 5
    assert [k.missing for k in kills] == [0] * 5
    assert [k.db_problems for k in kills] == [[]] * 5
