"""What issue 14 adds to the analysis path: the crosswalk in the criteria table, the trend across a form change.

    python bench/bench_form2024.py [--responses 50000] [--repeat 20] [--no-record]

Generates a database with sipas.demo (the 2022–2023 form before 2024-01-01 and sipas-2024 after, by
making the 2024 form active from that date before generating each half), then times, best of
``--repeat``:
- criteria_table of a 2024 year against a 2023 baseline of the other version (crosswalk) and against
  a baseline of the same version;
- monthly_trend of the 12 months around the change (two versions read) and of 12 months on one version.
Results are appended to bench/RESULTS.md under "## Form 2024 (issue 14)".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import closing
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import db, demo
from sipas.admin import settings
from sipas.index import (
    analysis,
    baseline,
)

RESULTS = ROOT / "bench" / "RESULTS.md"
BANDS = settings.DEFAULTS["bands"]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=50000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, closing(db.open_db(Path(tmp) / "f.db")) as c:
        half = args.responses // 2
        settings.put(c, "active_questionnaire", "sipas-2023", "bench")
        demo.generate(c, half, seed=1, months=12, end=date(2023, 12, 31))
        settings.put(c, "active_questionnaire", "sipas-2024", "bench", "2024-01-01")
        demo.generate(c, half, seed=2, months=12, end=date(2024, 12, 31))
        base23 = baseline.baseline_from_responses(c, 2023, "sipas-2023")
        base24 = baseline.baseline_from_responses(c, 2024, "sipas-2024")
        result = analysis.index_for_period(c, "sipas-2024", "2024-01-01", "2024-12-31")
        cross = best(lambda: analysis.criteria_table(result, base23, BANDS), args.repeat)
        same = best(lambda: analysis.criteria_table(result, base24, BANDS), args.repeat)
        around = analysis.Filters("sipas-2024", "2023-07-01", "2024-06-30")
        one = analysis.Filters("sipas-2024", "2024-01-01", "2024-12-31")
        trend_two = best(lambda: analysis.monthly_trend(c, around), args.repeat)
        trend_one = best(lambda: analysis.monthly_trend(c, one), args.repeat)
        changes = analysis.version_changes(analysis.monthly_trend(c, around))
    load = os.getloadavg()[0]
    lines = [
        f"- criteria_table, 2024 against a 2023 baseline of sipas-2023 (crosswalk): **{cross:.1f} ms**; "
        f"against a sipas-2024 baseline: {same:.1f} ms",
        f"- monthly_trend, 12 months across the change (two versions read): **{trend_two:.1f} ms**; "
        f"12 months on one version: {trend_one:.1f} ms; change marked at {changes[0][0] if changes else '—'}",
    ]
    print("\n".join(lines))
    if not args.no_record:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        head = (
            f"\n## Form 2024 (issue 14)\n\n{stamp}, {args.responses:,} demo responses (half 2023 on sipas-2023, "
            f"half 2024 on sipas-2024), best of {args.repeat}, load average {load:.1f} on 2 shared cores:\n"
        )
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(head + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
