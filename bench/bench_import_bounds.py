"""Bounded imports: the largest allowed XLSX (500,000 rows), its time and peak memory, and kiosk
submits while it runs in the same process (as on the server: one Python, the GIL shared).

    .venv/bin/python bench/bench_import_bounds.py [--rows N] [--out bench/out]

Writes the XLSX once (kept in --out), then in a child process: imports it on one thread while a
second thread submits one kiosk survey every 0.5 s on its own connection; prints the import time,
the child's peak RSS, and the submit latencies (p50/p95/max) before, during and after.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    from sipas.catalog import questionnaires

    crits = list(questionnaires()["sipas-2023"].criterion_codes)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["submitted_at", "channel", "field", *crits, "overall", "comment"])
    rnd = random.Random(7)
    for i in range(rows):
        day, minute = 1 + i % 28, i % 600
        ws.append(
            [f"{day:02d}/10/2026 {7 + minute // 60:02d}:{minute % 60:02d}", "paper", "Hộ tịch"]
            + [rnd.choice((3, 4, 4, 5, 5)) for _ in crits]
            + [rnd.choice((4, 5)), "tốt" if i % 10 == 0 else None]
        )
    wb.save(path)


CHILD = r"""
import json, resource, sys, threading, time, uuid
sys.path.insert(0, sys.argv[1])
from sipas import db
from sipas.survey.responses import KioskSurvey, import_responses, submit_kiosk_survey
path, xlsx = sys.argv[2], sys.argv[3]
db.open_db(path).close()
def peak_mb():
    return int([x for x in open("/proc/self/status") if x.startswith("VmHWM:")][0].split()[1]) / 1024
phase = {"name": "before"}
lat = {"before": [], "during": [], "after": []}
fails = []
stop = threading.Event()
def kiosk():
    c = db.open_db(path)
    while not stop.is_set():
        s = KioskSurvey(token=uuid.uuid4().hex, questionnaire="sipas-2023", asked=["TC1.1"], answers={"TC1.1": 5},
                        overall=5)
        t = time.perf_counter()
        try:
            submit_kiosk_survey(c, s)
        except Exception as exc:  # e.g. database is locked after the busy timeout
            fails.append(f"{phase['name']}: {exc}")
        lat[phase["name"]].append((time.perf_counter() - t) * 1000)
        time.sleep(0.5)
    c.close()
th = threading.Thread(target=kiosk); th.start()
time.sleep(6)
phase["name"] = "during"
c = db.open_db(path)
t0 = time.perf_counter()
summary = import_responses(c, open(xlsx, "rb").read(), "lon-nhat.xlsx", active_version="sipas-2023")
took = time.perf_counter() - t0
phase["name"] = "after"
time.sleep(3)
stop.set(); th.join()
print(json.dumps({"added": summary.added, "import_s": took,
                  "peak_rss_mb": peak_mb(), "lat": lat,
                  "fails": fails}))
"""


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    xlsx = out / f"import-{args.rows}.xlsx"
    if not xlsx.exists():
        t = time.perf_counter()
        make_xlsx(xlsx, args.rows)
        print(f"wrote {xlsx} ({xlsx.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.0f} s")
    dbp = out / f"import-{args.rows}.db"
    for p in (dbp, Path(f"{dbp}-wal"), Path(f"{dbp}-shm"), Path(f"{dbp}.key")):
        p.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(dbp), str(xlsx)], capture_output=True, text=True)
    if r.returncode:
        print(r.stderr)
        return 1
    res = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"imported {res['added']} rows in {res['import_s']:.1f} s, child peak RSS {res['peak_rss_mb']:.0f} MB")
    print(f"kiosk submits that failed: {len(res['fails'])} {res['fails'][:3]}")
    for phase, values in res["lat"].items():
        print(
            f"kiosk submit {phase}: n={len(values)} p50={pct(values, 50):.1f} ms p95={pct(values, 95):.1f} ms "
            f"max={max(values, default=float('nan')):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
