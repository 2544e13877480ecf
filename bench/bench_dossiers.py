"""The dossier log: import of 200,000 dossiers (two files of 100,000, the limit of one file) against a plain
``sqlite3.executemany`` of the same rows, and the month's figures on 1,000,000 dossiers.

    python bench/bench_dossiers.py [--rows 200000] [--large 1000000] [--runs 5]

Prints the lines for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipas import clock, db  # noqa: E402
from sipas.files.dossiers import import_dossiers  # noqa: E402
from sipas.index.dossiers import month_json  # noqa: E402

HEADER = (
    "STT,Mã hồ sơ,Tên thủ tục,Lĩnh vực,Họ và tên,Số điện thoại,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,"
    "Ngày trả kết quả,Trạng thái,Cán bộ tiếp nhận,Hình thức nộp,Hình thức nhận kết quả,Thanh toán trực tuyến,"
    "Đánh giá,Phản ánh"
)
FIELDS = ["Hộ tịch", "Đất đai", "Chứng thực", "Tư pháp", "Lao động – Thương binh và Xã hội"]
CHANNELS = ["Trực tiếp", "Trực tiếp", "Trực tuyến", "Bưu chính công ích"]
RATINGS = ["Rất hài lòng", "Hài lòng", "Không hài lòng", "", ""]


def _row(i: int, rng: random.Random, start: datetime, span_minutes: int) -> list[str]:
    received = start + timedelta(minutes=rng.randrange(span_minutes))
    due = received + timedelta(days=rng.choice([1, 2, 3, 5, 10]))
    finished = (
        "" if rng.random() < 0.1 else (received + timedelta(hours=rng.randrange(1, 24 * 12))).strftime("%d/%m/%Y %H:%M")
    )
    return [
        str(i + 1),
        f"H{i:07d}",
        f"Thủ tục số {rng.randrange(60)}",
        rng.choice(FIELDS),
        "Nguyễn Văn A",
        "0901234567",
        received.strftime("%d/%m/%Y %H:%M"),
        due.strftime("%d/%m/%Y"),
        finished,
        "",
        "Đã có kết quả" if finished else "Đang xử lý",
        f"CB{rng.randrange(1, 9):02d}",
        rng.choice(CHANNELS),
        rng.choice(["Trực tiếp", "Bưu chính công ích", ""]),
        rng.choice(["Có", "Không", ""]),
        rng.choice(RATINGS),
        rng.choice(["Có", "", "", "", ""]),
    ]


def _csv(rows: list[list[str]]) -> bytes:
    return ("\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n").encode()


def bench_import(rows: int, runs: int) -> None:
    rng = random.Random(1)
    half = rows // 2
    files = [
        _csv([_row(i, rng, datetime(2025, 1, 1, 7), 180 * 24 * 60) for i in range(k * half, (k + 1) * half)])
        for k in range(2)
    ]
    now = datetime(2025, 12, 31)
    totals, stores, plains = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            conn = db.open_db(Path(tmp) / "b.db")
            t0 = time.perf_counter()
            for k, data in enumerate(files):
                import_dossiers(conn, data, f"hoso{k}.csv", now=now)
            totals.append(time.perf_counter() - t0)
            assert db.count_dossiers(conn) == rows
            # The storing step alone, as a re-import that changes every status (the heaviest update).
            stored = [
                tuple(r) for r in conn.execute(f"SELECT {', '.join(db.DOSSIER_FIELDS)} FROM dossiers ORDER BY id")
            ]
            changed = [(*r[:7], (r[7] or "") + " (mới)", *r[8:]) for r in stored]
            t0 = time.perf_counter()
            with db.transaction(conn):
                db.store_dossiers(conn, changed, 1, "2025-12-31 00:00:00")
            stores.append(time.perf_counter() - t0)
            conn.close()
            # A plain executemany of the same rows into an empty table of the same shape (index included).
            cols, marks = ", ".join(db.DOSSIER_FIELDS), ", ".join("?" * len(db.DOSSIER_FIELDS))
            plain = sqlite3.connect(Path(tmp) / "plain.db")
            plain.execute("PRAGMA journal_mode=WAL")
            plain.execute(
                f"CREATE TABLE d (id INTEGER PRIMARY KEY, {', '.join(db.DOSSIER_FIELDS)}, UNIQUE (dossier_id))"
            )
            plain.execute("CREATE INDEX d_received ON d (received_at)")
            t0 = time.perf_counter()
            with plain:
                plain.executemany(
                    f"INSERT INTO d ({cols}) VALUES ({marks})",
                    stored,
                )
            plains.append(time.perf_counter() - t0)
            plain.close()
    med = statistics.median
    print(
        f"- import of {rows:,} dossiers (two CSV files of {half:,}, 17 columns with Vietnamese headers, two personal "
        f"columns dropped; read, checked, stored): median {med(totals):.2f} s, max {max(totals):.2f} s (n = {runs})"
    )
    print(
        f"- storing step alone (re-import of all {rows:,} with every status changed: stage, count, log, upsert): "
        f"median {med(stores):.2f} s; plain `executemany` of the same rows into an empty table: median "
        f"{med(plains):.2f} s; ratio {med(stores) / med(plains):.2f}× (whole import vs plain: "
        f"{med(totals) / med(plains):.1f}×)"
    )


def bench_month(large: int, runs: int) -> None:
    rng = random.Random(2)
    with tempfile.TemporaryDirectory() as tmp:
        conn = db.open_db(Path(tmp) / "m.db")
        start = datetime(2022, 1, 1, 7)
        span = 4 * 365 * 24 * 60  # four years: ≈ 21,000 dossiers a month
        batch = []
        with db.transaction(conn):
            import_id = db.record_import(conn, "dossiers", "bench", "x", large, large, 0)
            for i in range(large):
                received = start + timedelta(minutes=rng.randrange(span))
                due = received + timedelta(days=rng.choice([1, 2, 3, 5, 10]))
                fin = None if rng.random() < 0.1 else received + timedelta(hours=rng.randrange(1, 24 * 12))
                batch.append(
                    (f"H{i:07d}", f"Thủ tục số {rng.randrange(60)}", rng.choice(FIELDS),
                     received.strftime("%Y-%m-%d %H:%M:%S"), due.strftime("%Y-%m-%d 23:59:59"),
                     fin.strftime("%Y-%m-%d %H:%M:%S") if fin else None, None, "x", f"CB{rng.randrange(1, 9):02d}",
                     rng.choice(["direct", "direct", "online", "postal"]), None, rng.choice([0, 1, None]),
                     rng.choice(["satisfied", "not_satisfied", None]), rng.choice([0, 0, 0, 1]))
                )  # fmt: skip
                if len(batch) == 100_000:
                    db.store_dossiers(conn, batch, import_id, "2025-12-31 00:00:00")
                    batch = []
            if batch:
                db.store_dossiers(conn, batch, import_id, "2025-12-31 00:00:00")
        conn.execute("ANALYZE")
        assert db.count_dossiers(conn) == large
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            got = month_json(conn, "2024-11", now=datetime(2025, 12, 31))
            times.append(time.perf_counter() - t0)
        print(
            f"- `dossiers --month 2024-11 --json` figures (month_json: counts, by lĩnh vực, channels, arrivals, "
            f"QĐ 766) on {large:,} dossiers over four years ({got['received']:,} in the month): median "
            f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms (n = {runs})"
        )
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(
        f"## Dossier log (bench/bench_dossiers.py)\n\n{clock.today():%Y-%m-%d}, {os.cpu_count()} CPU, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.1f}. "
        f"`python bench/bench_dossiers.py --runs {args.runs}`\n"
    )
    bench_import(args.rows, args.runs)
    bench_month(args.large, args.runs)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
