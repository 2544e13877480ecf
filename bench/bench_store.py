"""Latency of storing a submitted kiosk survey while many tablets submit at once.

    python bench/bench_store.py                # threads, processes, burst: 20 writers × 100 surveys
    python bench/bench_store.py --mode threads --writers 20 --per-writer 100 --prefill 20000 --repeat 3

Every writer has its own connection (as each Streamlit session has) and calls
``sipas.survey.responses.submit_kiosk_survey`` with a full 19-criterion survey. The database is
pre-filled with demo data. Modes:
- ``threads``: 20 threads submitting back to back, released together (saturation: each survey
  queues behind the other 19 writers' surveys all the time; far beyond a commune's load);
- ``processes``: the same with 20 processes (several app processes on one file);
- ``burst``: 20 threads, rounds in which all 20 submit at the same instant, then wait for each
  other (20 tablets tapping "Gửi" together). Afterwards the script checks that exactly the submitted surveys were
stored (none lost, none doubled) and that every roll-up still equals the raw counts (``check.check``).
- ``floor`` (run with ``burst``): the same rounds of 20 surveys written by one plain ``sqlite3``
  connection, all 20 in one transaction (rows and answers with ``executemany``, no roll-ups, no
  validation, no threads), ``synchronous=FULL``: the latency a perfect group commit would give the
  last survey of each round, measured in the same run.
Target: p99 < 10 ms (burst).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import db, demo
from sipas.admin import check
from sipas.cases import intake
from sipas.catalog import questionnaire
from sipas.survey.responses import KioskSurvey, submit_kiosk_survey

VERSION = "sipas-2023"
CODES = list(questionnaire(VERSION).criterion_codes)


def make_survey(rng: random.Random, tag: str) -> KioskSurvey:
    """A full survey: all 19 criteria (a few "Không ý kiến"), the overall question, sometimes a comment."""
    answers = {c: (None if rng.random() < 0.04 else rng.choice((2, 3, 4, 4, 5, 5))) for c in CODES}
    return KioskSurvey(
        token=f"{tag}:{uuid.uuid4()}",
        questionnaire=VERSION,
        asked=list(CODES),
        answers=answers,
        overall=rng.choice((3, 4, 5)),
        wait_bucket="lt15",
        field="Hộ tịch",
        comment="Cán bộ hướng dẫn tận tình." if rng.random() < 0.1 else None,
        extra={"harassment": 1, "informal_payment": 1}
        | ({"expectations": ["Năng lực của công chức"]} if rng.random() < 0.3 else {}),
    )


def writer(path: str, n: int, seed: int, tag: str, barrier, burst: bool = False) -> list[float]:
    """Submit ``n`` surveys on a connection of its own; return each call's latency in ms.

    ``burst``: wait for every other writer before each survey (rounds of simultaneous taps)
    instead of submitting back to back.
    """
    rng = random.Random(seed)
    surveys = [make_survey(rng, tag) for _ in range(n)]
    out = []
    with closing(db.connect(path)) as conn:
        barrier.wait()
        for s in surveys:
            if burst:
                barrier.wait()
            t0 = time.perf_counter()
            stored = submit_kiosk_survey(conn, s, device=tag)
            out.append((time.perf_counter() - t0) * 1000)
            if not stored:
                raise RuntimeError(f"survey {s.token} reported as already stored")
    return out


def _proc_writer(args):
    path, n, seed, tag = args
    return writer(path, n, seed, tag, _BARRIER)


_BARRIER = None


def _init(barrier):
    global _BARRIER
    _BARRIER = barrier


def run(path: Path, mode: str, writers: int, per_writer: int) -> tuple[list[float], float]:
    tag = f"bench-{mode}"
    t0 = time.perf_counter()
    if mode in ("threads", "burst"):
        barrier = threading.Barrier(writers)
        results: list[list[float]] = [[] for _ in range(writers)]
        errors: list[BaseException] = []

        def target(i):
            try:
                results[i] = writer(str(path), per_writer, i, tag, barrier, burst=mode == "burst")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=target, args=(i,)) for i in range(writers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    else:
        ctx = mp.get_context("fork")
        barrier = ctx.Barrier(writers)
        with ctx.Pool(writers, initializer=_init, initargs=(barrier,)) as pool:
            t0 = time.perf_counter()
            results = pool.map(_proc_writer, [(str(path), per_writer, 1000 + i, tag) for i in range(writers)])
    wall = time.perf_counter() - t0
    return [x for r in results for x in r], wall


def run_floor(path: Path, writers: int, per_writer: int) -> tuple[list[float], float]:
    """Rounds of ``writers`` surveys in one plain-sqlite3 transaction each; every survey of a round
    gets the round's time as its latency (the last one waits that long)."""
    import sqlite3

    rng = random.Random(7)
    cols = ("token", "submitted_at", "questionnaire", "channel", "field", "overall", "harassment", "device")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    out = []
    t_all = time.perf_counter()
    try:
        for _ in range(per_writer):
            surveys = [make_survey(rng, "bench-floor") for _ in range(writers)]
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            for s in surveys:
                cur = conn.execute(
                    f"INSERT INTO responses ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    (s.token, "2026-11-27 09:00:00", VERSION, "kiosk", s.field, s.overall, 1, "bench-floor"),
                )
                rid = cur.lastrowid
                conn.executemany(
                    "INSERT INTO answers (response_id, criterion, value) VALUES (?, ?, ?)",
                    [(rid, c, s.answers.get(c)) for c in s.asked],
                )
            conn.execute("COMMIT")
            out += [(time.perf_counter() - t0) * 1000] * writers
    finally:
        conn.close()
    return out, time.perf_counter() - t_all


def pct(sorted_ms: list[float], p: float) -> float:
    k = max(0, min(len(sorted_ms) - 1, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=str(ROOT / "bench" / "out" / "store.db"))
    ap.add_argument("--mode", choices=["threads", "processes", "burst", "floor", "all"], default="all")
    ap.add_argument("--writers", type=int, default=20)
    ap.add_argument("--per-writer", type=int, default=100)
    ap.add_argument("--prefill", type=int, default=20000, help="demo responses stored before the run")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each mode, each on a fresh database")
    ap.add_argument(
        "--no-queue",
        action="store_true",
        help="baseline: bypass sipas.db's write queue and group commit, so that writers wait in "
        "SQLite's busy handler (the behaviour before they were added)",
    )
    ap.add_argument(
        "--no-intake",
        action="store_true",
        help="leave out the case intake that submit_kiosk_survey runs after the commit (sipas.cases.intake): "
        "the latency of storing alone",
    )
    args = ap.parse_args(argv)
    if args.no_intake:
        import sipas.survey.responses

        global CHECK_INTAKE
        CHECK_INTAKE = False
        sipas.survey.responses._after_store = lambda conn, *args, **kwargs: None
    if args.no_queue:
        connect = db.connect

        def connect_without_queue(path):
            conn = connect(path)
            conn.write_queue = None
            return conn

        db.connect = connect_without_queue

    path = Path(args.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"{'BASELINE without the write queue: ' if args.no_queue else ''}"
        f"{'without the case intake: ' if args.no_intake else ''}"
        f"{args.writers} writers × {args.per_writer} full {len(CODES)}-criterion surveys each, all started "
        f"together, on a database of {args.prefill} demo responses; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    ok = True
    modes = {"all": ["threads", "processes", "floor", "burst"], "burst": ["floor", "burst"]}.get(args.mode, [args.mode])
    for _ in range(args.repeat):
        for mode in modes:
            for suffix in ("", "-wal", "-shm", "-lock"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            with closing(db.open_db(path)) as conn:
                demo.generate(conn, args.prefill, seed=1)
                # The case intake has read the prefill, as in a running office (a first intake
                # over 20,000 responses is a one-off catch-up, not a survey's latency).
                intake.after_responses(conn)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if mode == "floor":
                lat, wall = run_floor(path, args.writers, args.per_writer)
                lat.sort()
                print(
                    f"{mode:>9}: p50 {pct(lat, 50):6.2f} ms  p95 {pct(lat, 95):6.2f} ms  p99 {pct(lat, 99):6.2f} ms  "
                    f"max {lat[-1]:7.2f} ms  | {len(lat) / wall:5.0f} surveys/s | plain sqlite3, {args.writers} "
                    "surveys per transaction"
                )
                continue
            ok &= report(path, mode, *run(path, mode, args.writers, args.per_writer), args.writers * args.per_writer)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


CHECK_INTAKE = True  # False with --no-intake


def report(path: Path, mode: str, lat: list[float], wall: float, submitted: int) -> bool:
    lat.sort()
    with closing(db.connect(path)) as conn:
        tag = f"bench-{mode}"
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT token) FROM responses WHERE device = ?", (tag,)
        ).fetchone()
        answers = conn.execute(
            "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.device = ?", (tag,)
        ).fetchone()[0]
        exact = db.level_counts(conn, VERSION) == db.level_counts_direct(conn, VERSION) and not check.check(conn)
        # The intake worker has taken every survey in, each once: a new intake finds nothing left.
        intake_ok = not CHECK_INTAKE or (intake.wait_idle() and intake.after_responses(conn) == 0)
        links = conn.execute("SELECT count(*), count(DISTINCT response_id) FROM case_responses").fetchone()
        intake_ok &= links[0] == links[1]
    good = stored[0] == stored[1] == submitted and answers == submitted * len(CODES) and exact and intake_ok
    met = pct(lat, 99) < 10
    print(
        f"{mode:>9}: p50 {pct(lat, 50):6.2f} ms  p95 {pct(lat, 95):6.2f} ms  p99 {pct(lat, 99):6.2f} ms  "
        f"max {lat[-1]:7.2f} ms  | {submitted / wall:5.0f} surveys/s | stored {stored[0]}/{submitted} "
        f"(distinct {stored[1]}), answers {answers}, every roll-up exact: {exact}, "
        f"cases linked {links[0]} (each response once, none left: {intake_ok}) "
        f"-> {('OK' if met else 'TARGET MISSED') if good else 'DATA WRONG'}"
    )
    return good and met


if __name__ == "__main__":
    sys.exit(main())
