"""Crashes: a thanked survey survives a killed server, and an acknowledged write survives a killed writer.

    python bench/bench_crash.py                       # all three parts; appends to bench/RESULTS.md
    python bench/bench_crash.py --part sqlite --rounds 30 --no-record
    python bench/bench_crash.py --part browser --rounds 3 --tablets 5

* ``browser``: ``streamlit run`` with tablets submitting (bench/bench_tablets.py's driver, the tablet's own
  web app at /tablet/); at a random moment the server's whole process group gets SIGKILL (``os.killpg``),
  then the server is started again on the same database and the same port. The tablets never stop: a
  survey goes on and is thanked while the server is down (it waits in the tablet's queue, IndexedDB and
  localStorage), and each tablet's sync post is answered again by the restarted server by itself.
  Checked, once every tablet's queue is empty: every survey whose thank-you screen was shown (before the
  kill, while the server was down, after the restart) is stored exactly once, and
  ``sipas.admin.check.check_database`` finds no problem (integrity_check, roll-ups equal to the raw rows).
* ``sqlite``: a child process stores surveys with ``sipas.survey.responses.submit_kiosk_survey`` from
  4 threads (group commit) and prints each token once the call has returned; the parent kills it
  with SIGKILL at a random moment, ``--rounds`` times. Every printed (acknowledged) token must be in
  the database, and the database must check clean.
* ``sync``: what synchronous=FULL costs: latency of one survey stored alone, FULL against NORMAL,
  on this machine's disk (blocks of the two interleaved).

A killed process is not a power cut: the operating system's page cache survives the kill, so even
a write that was never synced reaches the disk. What makes a committed survey survive a power cut
is synchronous=FULL in WAL mode (the WAL is fsynced at every commit), which cannot be demonstrated
without cutting the power of a machine (a VM, or dm-flakey): see bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_tablets as bt
from sipas import clock, db
from sipas.admin import check, settings
from sipas.catalog import questionnaire
from sipas.survey.responses import KioskSurvey, submit_kiosk_survey
from tests import browser as b

RESULTS = ROOT / "bench" / "RESULTS.md"
VERSION = "sipas-2023"
CODES = list(questionnaire(VERSION).criterion_codes)
CHILD_THREADS = 4


def survey(token: str, rng: random.Random) -> KioskSurvey:
    return KioskSurvey(
        token=token,
        questionnaire=VERSION,
        asked=list(CODES),
        answers={c: rng.choice((None, 3, 4, 5)) for c in CODES},
        overall=rng.choice((3, 4, 5)),
        comment=f"crash {token}",
    )


# ============================================================================ browser: kill the server


@dataclass
class CrashRound:
    thanked_before: list[str] = field(default_factory=list)
    thanked_after: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    unthanked_stored: int = 0  # tapped "Gửi" just before the kill, committed, thank-you never arrived
    shown: list[str] = field(default_factory=list)  # error boxes seen on a tablet: must stay empty
    failed: list[str] = field(default_factory=list)  # steps cut short by the kill (one survey per tablet)
    recovered: int = 0  # tablets whose sync post the restarted server answered
    thanked_while_down: int = 0  # surveys thanked between the kill and the server's restart
    db_problems: list[str] = field(default_factory=list)
    kill_at: float = 0.0
    back_after: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.doubled or self.shown or self.db_problems)


class _SamePort:
    """Restart on the port the tablets already use (their pages reconnect to it by themselves)."""

    def __init__(self, port: int):
        self.port, self.saved = port, b.free_port

    def __enter__(self):
        b.free_port = lambda: self.port
        return self

    def __exit__(self, *exc):
        b.free_port = self.saved


def crash_round(
    work: Path,
    tablets: int,
    kill_window: tuple[float, float],
    after_restart: float,
    rng: random.Random,
    min_thanked: int = 1,
    max_wait: float = 90,
) -> CrashRound:
    """One server kill with ``tablets`` tablets submitting; see the module docstring.

    The kill comes at a random moment of ``kill_window`` (s after the start), once ``min_thanked``
    surveys were thanked (waiting at most ``max_wait`` s for them). After the restart the tablets get
    ``after_restart`` s, and longer (up to ``max_wait``) until one of them has completed a survey.
    """
    path = work / "sipas.db"
    bt.prepare_database(path, clerk=False)
    out = CrashRound()
    server_cm = b.streamlit_server(path, work, thanks_seconds=60, idle_seconds=300)
    server = server_cm.__enter__()
    port = int(server.url.rsplit(":", 1)[1])
    state = {"cm": server_cm, "server": server}

    async def during(tally: bt.Tally, stop: asyncio.Event) -> None:
        # Kill at a random moment of the window, once at least ``min_thanked`` surveys were thanked.
        out.kill_at = rng.uniform(*kill_window)
        await asyncio.sleep(out.kill_at)
        give_up = time.monotonic() + max_wait
        while len(tally.thanked) < min_thanked and time.monotonic() < give_up:
            await asyncio.sleep(0.05)
        os.killpg(state["server"].process.pid, signal.SIGKILL)  # the server and anything it started
        out.thanked_before = list(tally.thanked)
        state["server"].process.wait(timeout=10)
        state["cm"].__exit__(None, None, None)  # nothing left to stop: only closes the context
        t0 = time.monotonic()
        with _SamePort(port):
            state["cm"] = b.streamlit_server(path, work, thanks_seconds=60, idle_seconds=300)
            state["server"] = await asyncio.to_thread(state["cm"].__enter__)
        out.back_after = time.monotonic() - t0
        restarted = time.monotonic()
        killed = restarted - out.back_after
        out.thanked_while_down = sum(1 for at in tally.thanked_at.values() if killed < at <= restarted)

        def recovered() -> int:
            return sum(1 for at in tally.sync_ok_at.values() if at > restarted)

        await asyncio.sleep(after_restart)
        while recovered() < tablets and time.monotonic() < restarted + max_wait:
            await asyncio.sleep(0.2)
        out.recovered = recovered()

    try:
        tally = asyncio.run(
            bt.run_tablets(
                lambda: state["server"].url, tablets, 0, db_path=path, clerk=False, during=during, timeout=20
            )
        )
    finally:
        state["cm"].__exit__(None, None, None)
    stored = bt.stored_comments(path)
    out.thanked_after = [c for c in tally.thanked if c not in out.thanked_before]
    out.missing = sorted(c for c in tally.thanked if stored[c] == 0)
    out.doubled = sorted(c for c, n in stored.items() if n > 1)
    out.unthanked_stored = sum(1 for c in stored if c not in tally.thanked)
    out.shown, out.failed = tally.shown, tally.failed + tally.undrained
    out.db_problems = check.check_database(path)
    return out


# ============================================================================ sqlite: kill the writer


def child(path: str) -> None:
    """Store surveys from CHILD_THREADS threads until killed; print each token once it is stored."""
    lock = threading.Lock()

    def work(n: int) -> None:
        rng = random.Random(n)
        with closing(db.open_db(path)) as conn:
            while True:
                token = f"{n}-{uuid.uuid4()}"
                submit_kiosk_survey(conn, survey(token, rng), device="crash")
                with lock:
                    sys.stdout.write(f"ACK {token}\n")
                    sys.stdout.flush()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(CHILD_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@dataclass
class KillRound:
    acked: int
    missing: int
    stored_unacked: int
    db_problems: list[str]
    killed_after: float


def kill_round(path: Path, rng: random.Random) -> KillRound:
    """Start a child writer, SIGKILL it at a random moment after its first acknowledgement."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,
    )
    buf = b""
    fd = proc.stdout.fileno()

    def read_for(seconds: float) -> bytes:
        got, end = b"", time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                got += chunk
        return got

    deadline = time.monotonic() + 30
    while b"\n" not in buf and time.monotonic() < deadline:
        buf += read_for(0.05)
    delay = rng.uniform(0.0, 0.6)
    buf += read_for(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    buf += proc.stdout.read()
    proc.stdout.close()
    lines = buf.decode(errors="replace").split("\n")[:-1]  # the last piece has no newline: not acknowledged
    acked = [line[4:] for line in lines if line.startswith("ACK ")]
    stored = {r[0] for r in b.db_rows(path, "SELECT token FROM responses")}
    return KillRound(
        acked=len(acked),
        missing=sum(1 for t in acked if t not in stored),
        stored_unacked=len(stored) - len(set(acked) & stored),
        db_problems=check.check_database(path),
        killed_after=delay,
    )


# ============================================================================ sync: the cost of FULL


def store_latencies(path: Path, mode: str, n: int, rng: random.Random) -> list[float]:
    """Milliseconds per survey, stored one after the other on one connection with ``synchronous=mode``."""
    with closing(db.connect(path)) as conn:
        conn.execute(f"PRAGMA synchronous={mode}")
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == {"FULL": 2, "NORMAL": 1}[mode]
        out = []
        for _ in range(n):
            s = survey(f"{mode}-{uuid.uuid4()}", rng)
            t0 = time.perf_counter()
            submit_kiosk_survey(conn, s)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def sync_cost(
    work: Path, per_block: int = 100, blocks: int = 4, rng: random.Random | None = None
) -> dict[str, list[float]]:
    rng = rng or random.Random(7)
    path = work / "sync.db"
    db.open_db(path).close()
    result: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    for i in range(blocks):
        for mode in ("FULL", "NORMAL") if i % 2 == 0 else ("NORMAL", "FULL"):
            result[mode] += store_latencies(path, mode, per_block, rng)
    return result


# ============================================================================ main


def ms_line(values: list[float]) -> str:
    return (
        f"p50 {bt.percentile(values, 50):.2f} ms, p95 {bt.percentile(values, 95):.2f} ms, "
        f"p99 {bt.percentile(values, 99):.2f} ms, max {max(values):.2f} ms (n = {len(values)})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["all", "browser", "sqlite", "sync"], default="all")
    ap.add_argument("--rounds", type=int, default=None, help="kills (browser: 3, sqlite: 30)")
    ap.add_argument("--tablets", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    ap.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    rng = random.Random(args.seed)
    lines: list[str] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="sipas-bench-crash-") as tmp:
        work = Path(tmp)
        if args.part in ("all", "browser"):
            reason = b.browser_missing_reason()
            if reason:
                print(f"browser part skipped: {reason}", file=sys.stderr)
            else:
                rounds = []
                for i in range(args.rounds or 3):
                    (work / f"r{i}").mkdir()
                    rounds.append(crash_round(work / f"r{i}", args.tablets, (10.0, 25.0), 30.0, rng, min_thanked=5))
                before = sum(len(r.thanked_before) for r in rounds)
                after = sum(len(r.thanked_after) for r in rounds)
                ok &= all(r.ok for r in rounds)
                lines.append(
                    f"- server killed (SIGKILL to its process group) {len(rounds)} times, {args.tablets} tablets "
                    f"submitting, kill {', '.join(f'{r.kill_at:.1f}' for r in rounds)} s into the run: "
                    f"**{before} surveys thanked before the kills, {sum(len(r.missing) for r in rounds)} missing, "
                    f"{sum(len(r.doubled) for r in rounds)} stored twice**; {sum(r.unthanked_stored for r in rounds)} "
                    "stored whose thank-you never reached the screen (tapped just before the kill); server "
                    f"back after {', '.join(f'{r.back_after:.1f}' for r in rounds)} s on the same port; "
                    f"{sum(r.thanked_while_down for r in rounds)} surveys thanked while it was down (kept in the "
                    f"tablets' queues); the tablets synced with the restarted server by themselves "
                    f"({', '.join(f'{r.recovered}/{args.tablets}' for r in rounds)}) and **{after} surveys were "
                    f"thanked after the kill, all stored**; "
                    f"steps cut short by the kills: {sum(len(r.failed) for r in rounds)}, errors shown on a tablet: "
                    f"**{sum(len(r.shown) for r in rounds)}**; "
                    f"check_database: {'no problem' if not any(r.db_problems for r in rounds) else 'PROBLEMS'}"
                )
        if args.part in ("all", "sqlite"):
            path = work / "kill.db"
            prepare = db.open_db(path)
            settings.put(prepare, "opening_hours", {"days": list(range(7)), "periods": [["00:00", "24:00"]]}, "bench")
            prepare.close()
            kills = [kill_round(path, rng) for _ in range(args.rounds or 30)]
            acked = sum(k.acked for k in kills)
            missing = sum(k.missing for k in kills)
            problems = [p for k in kills for p in k.db_problems]
            ok &= missing == 0 and not problems
            total = b.db_rows(path, "SELECT count(*) FROM responses")[0][0]
            lines.append(
                f"- writer killed (SIGKILL) {len(kills)} times, {CHILD_THREADS} threads storing full surveys with "
                f"`submit_kiosk_survey`, killed 0–0.6 s after its first acknowledgement: **{acked} acknowledged, "
                f"{missing} missing**; {total} stored in all ({total - acked} committed but killed before the "
                f"acknowledgement was printed); check_database after every kill: "
                f"{'no problem' if not problems else problems[:3]}"
            )
        if args.part in ("all", "sync"):
            cost = sync_cost(work, rng=rng)
            lines.append(f"- one survey stored alone, synchronous=FULL: **{ms_line(cost['FULL'])}**")
            lines.append(
                f"- the same, synchronous=NORMAL: **{ms_line(cost['NORMAL'])}**; FULL costs "
                f"{statistics.median(cost['FULL']) - statistics.median(cost['NORMAL']):+.2f} ms at the "
                f"median, {bt.percentile(cost['FULL'], 99) - bt.percentile(cost['NORMAL'], 99):+.2f} ms "
                "at p99"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record and lines:
        header = (
            f"\n### Crashes (bench/bench_crash.py)\n\n{clock.today().isoformat()}, {os.cpu_count()} CPU, ext4 "
            f"on a virtual disk, load average {os.getloadavg()[0]:.1f}. "
            f"`python bench/bench_crash.py --part {args.part}`\n\n"
        )
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(header + text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
