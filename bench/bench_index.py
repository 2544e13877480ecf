"""Time ``python -m sipas index --json`` on a million responses, and compare it with the floor.

    python bench/bench_index.py                 # 1,000,000 responses in bench/out/bench.db (reused)
    python bench/bench_index.py --responses 200000 --db /tmp/small.db

1. Builds bench/out/bench.db with ``sipas.demo.generate`` (seed 2024) unless it already holds the
   requested number of responses (the file is built under a temporary name, so a half-built file
   is never reused).
2. Runs the product's command as a subprocess 5 times: wall time and peak RSS of each run
   (``resource.getrusage(RUSAGE_CHILDREN)`` after each, which is the maximum so far).
3. The floor: the same counts in-process from the roll-up (``db.level_counts``, what the command
   reads) and from the raw rows (``db.level_counts_direct``), the bare interpreter start-up, and,
   if the ``duckdb`` package is importable, the same aggregation in DuckDB.
Targets: < 1.5 s and < 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import db, demo

VERSION = "sipas-2023"


def build(path: Path, responses: int) -> None:
    if path.exists():
        with closing(db.open_db(path)) as conn:
            have = db.count_responses(conn)
        if have == responses:
            print(f"reusing {path} ({have:,} responses)")
            return
        print(f"{path} has {have:,} responses, not {responses:,}: rebuilding")
    tmp = path.with_name(path.name + ".building")
    for p in (path, tmp):
        for suffix in ("", "-wal", "-shm", "-lock"):
            Path(str(p) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    with closing(db.open_db(tmp)) as conn:
        demo.generate(conn, responses, seed=2024, batch=50000)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm", "-lock"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    dt = time.perf_counter() - t0
    print(
        f"generated {responses:,} responses in {dt:.1f} s ({responses / dt:,.0f}/s) "
        f"-> {path.stat().st_size / 2**20:.0f} MiB"
    )


def time_command(cmd: list[str], runs: int) -> tuple[list[float], list[float], str]:
    walls, rss = [], []
    out = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr}")
        out = r.stdout
        rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)  # KiB -> MiB
    return walls, rss, out


def best_of(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def duckdb_floor(path: Path) -> None:
    try:
        import duckdb
    except ImportError:
        print("duckdb: not installed (pip install duckdb into the venv to compare)")
        return
    con = duckdb.connect()
    try:
        con.execute("INSTALL sqlite; LOAD sqlite;")
        t, _ = best_of(
            lambda: con.execute(
                f"SELECT a.criterion, sum((a.value = 1)::INT), sum((a.value = 2)::INT), sum((a.value = 3)::INT), "
                f"sum((a.value = 4)::INT), sum((a.value = 5)::INT) FROM sqlite_scan('{path}', 'answers') a "
                f"JOIN sqlite_scan('{path}', 'responses') r ON r.id = a.response_id "
                f"WHERE r.questionnaire = '{VERSION}' AND r.excluded = 0 GROUP BY 1"
            ).fetchall(),
            3,
        )
        print(f"duckdb sqlite_scan of the file, raw rows: {t * 1000:8.1f} ms")
        return
    except Exception as exc:  # the sqlite extension is downloaded on first use
        print(f"duckdb: sqlite extension unavailable ({type(exc).__name__}: {str(exc).splitlines()[0][:90]})")
    # Fallback: copy the two tables into DuckDB once (not timed as the query), then aggregate there:
    # the floor of a columnar engine over the raw rows, with no SQLite reading in it.
    import sqlite3

    t0 = time.perf_counter()
    src = sqlite3.connect(path)
    resp = src.execute("SELECT id, questionnaire, excluded FROM responses").fetchall()
    ans = src.execute("SELECT response_id, criterion, value FROM answers").fetchall()
    src.close()
    t_read = time.perf_counter() - t0
    import pyarrow as pa

    con.register(
        "r",
        pa.table({"id": [x[0] for x in resp], "questionnaire": [x[1] for x in resp], "excluded": [x[2] for x in resp]}),
    )
    con.register(
        "a",
        pa.table({"response_id": [x[0] for x in ans], "criterion": [x[1] for x in ans], "value": [x[2] for x in ans]}),
    )
    con.execute("CREATE TABLE responses AS SELECT * FROM r; CREATE TABLE answers AS SELECT * FROM a")
    t_load = time.perf_counter() - t0
    q = (
        f"SELECT a.criterion, count(*) FILTER (a.value = 1), count(*) FILTER (a.value = 2), "
        f"count(*) FILTER (a.value = 3), count(*) FILTER (a.value = 4), count(*) FILTER (a.value = 5) "
        f"FROM answers a JOIN responses r ON r.id = a.response_id "
        f"WHERE r.questionnaire = '{VERSION}' AND r.excluded = 0 GROUP BY 1"
    )
    t, rows = best_of(lambda: con.execute(q).fetchall(), 5)
    print(
        f"duckdb (in-memory copy; reading the rows out of SQLite took {t_read:.1f} s, loading {t_load:.1f} s): "
        f"aggregation {t * 1000:8.1f} ms over {len(ans):,} answers"
    )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=str(ROOT / "bench" / "out" / "bench.db"))
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    path = Path(args.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    build(path, args.responses)

    with closing(db.connect(path)) as conn:
        answers = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        rollup_rows = conn.execute("SELECT count(*) FROM daily_counts").fetchone()[0]
    print(
        f"{args.responses:,} responses, {answers:,} answers, {rollup_rows:,} roll-up rows, "
        f"file {path.stat().st_size / 2**20:.0f} MiB"
    )

    cmd = [sys.executable, "-m", "sipas", "index", "--json", "--db", str(path)]
    walls, rss, out = time_command(cmd, args.runs)
    ok = max(walls) < 1.5 and max(rss) < 1024
    print(
        f"`python -m sipas index --json --db {path}` ({args.runs} runs): "
        f"wall {', '.join(f'{w:.3f}' for w in walls)} s (median {statistics.median(walls):.3f}, "
        f"max {max(walls):.3f}); peak RSS {max(rss):.0f} MiB -> {'OK' if ok else 'TARGET MISSED'}"
    )
    print(f"  output: {out[:110]}…")

    bare, _, _ = time_command([sys.executable, "-c", "pass"], 3)
    imports, _, _ = time_command([sys.executable, "-c", "import sipas.cli, sipas.index.scoring, sipas.catalog"], 3)
    print(f"interpreter start-up alone {min(bare) * 1000:.0f} ms; with the CLI's imports {min(imports) * 1000:.0f} ms")

    with closing(db.connect(path)) as conn:
        t_roll, roll = best_of(lambda: db.level_counts(conn, VERSION))
        t_direct, direct = best_of(lambda: db.level_counts_direct(conn, VERSION), 3)
    print(
        f"in-process, same counts: roll-up (db.level_counts) {t_roll * 1000:8.1f} ms; "
        f"raw rows (db.level_counts_direct) {t_direct * 1000:8.1f} ms; equal: {roll == direct}"
    )
    duck = duckdb_floor(path)
    if duck is not None:
        got = {r[0]: tuple(int(x) for x in r[1:]) for r in duck}
        print(f"  duckdb counts equal to the roll-up: {got == {k: v for k, v in roll.items() if k != 'overall'}}")
    return 0 if ok and roll == direct else 1


if __name__ == "__main__":
    sys.exit(main())
