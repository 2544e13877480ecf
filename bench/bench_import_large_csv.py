"""A 150 MB text file uploaded as a responses import: peak memory and time until it is refused (or read).

    .venv/bin/python bench/bench_import_large_csv.py [--mb 150] [--out bench/out]

Writes three files of about ``--mb`` MB once (kept in --out) and imports each in a fresh child process
(``import_responses`` into an empty database, as the page does with the uploaded bytes), printing the
child's peak RSS, the wall time and the first line of the answer:

* ``many-rows.csv``: UTF-8, commas, short rows (≈ 1.9 million): refused at the row limit while streaming;
* ``many-rows-1258.csv``: the same rows in Windows-1258 with ``;`` (the second, fallback pass);
* ``long-rows.csv``: 99,000 rows with long comments, under the row limit: read whole, then refused for
  its comments' length (the largest file the row limit lets through to the validation).

Goal (issue 21): under 400 MB peak for a 150 MB CSV; before streaming it took 5.08 GB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from sipas import db
from sipas.errors import ValidationError
from sipas.survey.responses import import_responses
path = Path(sys.argv[2])
conn = db.open_db(Path(tempfile.mkdtemp()) / "bench.db")
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
try:
    answer = import_responses(conn, data, path.name, active_version="sipas-2023", actor="bench").message()
except ValidationError as exc:
    answer = "refused: " + exc.problems[0]
took = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{path.name}: {len(data) / 1e6:.0f} MB, peak RSS {peak:.0f} MB (after reading the bytes {before:.0f} MB),"
      f" {took:.1f} s; {answer[:150]}")
"""

LINE = "2026-10-{d:02d} 08:{m:02d},Hộ tịch,,5,4,4,5,3,4,5,4,5,4,4,5,4,5,5,4,4,5,Cán bộ tận tình\r\n"
HEADER = "submitted_at,field,staff_code," + ",".join(
    f"TC{e}.{i}" for e, n in ((1, 4), (2, 4), (3, 3), (4, 3), (5, 3)) for i in range(1, n + 1)
)


def make(out: Path, mb: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    target = mb * 1_000_000
    paths = []
    many = out / "many-rows.csv"
    if not many.exists() or many.stat().st_size < target:
        lines = "".join(LINE.format(d=1 + i % 28, m=i % 60) for i in range(1000)).encode()
        with many.open("wb") as f:
            f.write((HEADER + ",overall,comment\r\n").encode())
            for _ in range(target // len(lines) + 1):
                f.write(lines)
    paths.append(many)
    cp = out / "many-rows-1258.csv"
    if not cp.exists():
        text = many.read_bytes().decode().replace(",", ";")
        for letter, windows in (("ộ", "ô\u0323"), ("ị", "i\u0323"), ("ậ", "â\u0323"), ("ì", "i\u0300")):
            text = text.replace(letter, windows)  # Windows-1258 writes these as a letter and a tone mark
        cp.write_bytes(text.encode("cp1258"))
    paths.append(cp)
    long = out / "long-rows.csv"
    if not long.exists() or abs(long.stat().st_size - target) > target // 10:
        phrase = "Cán bộ tận tình hướng dẫn rõ ràng "  # no comma: one cell
        comment = phrase * (target // 99_000 // len(phrase.encode()))
        with long.open("wb") as f:
            f.write((HEADER + ",overall,comment\r\n").encode())
            for i in range(99_000):
                f.write(LINE.format(d=1 + i % 28, m=i % 60).replace("Cán bộ tận tình", comment).encode())
    paths.append(long)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=150)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    paths = make(args.out, args.mb)
    for path in paths:
        # A fresh interpreter (not forked from this one, which built the files: Linux carries a
        # process's peak RSS across exec).
        r = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path)], capture_output=True, text=True)
        print(r.stdout.strip() or r.stderr.strip()[-2000:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
