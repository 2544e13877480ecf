"""Benchmark of the analysis page's data functions and the monthly report on 1,000,000 responses.

    python bench/bench_analysis.py [--db PATH] [--responses 1000000] [--no-record]

Database: ``--db``, else ``bench/out/bench.db`` when it already holds ≥ the wanted responses (made by
bench_index.py), else ``bench/out/analysis-bench.db``, generated here with sipas.demo.generate (~5 min).

Timed, as the page runs them (same functions, same order):
- first render: settings/context, the index of this month, the year-target check (the headline) and the
  criteria table (the default section);
- filter change: the same with a channel filter (the dimension roll-up dim_counts, migration 6);
  and the trend/p-chart and heat-map of the "Biểu đồ" section for a year;
- cached rerun: AppTest reruns of the real page with warm caches (includes Streamlit's own overhead);
- report: ``python -m sipas report`` for a month, .xlsx and .pdf (a fresh process each, so imports count).
Results are appended to bench/RESULTS.md under "## Analysis".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import closing
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import clock, db, demo
from sipas.admin import settings
from sipas.index import comment_list, criterion_tables, plan_checks, selection, staff_index, trends
from sipas.survey import quality

OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
TARGETS = {"first render": 3.0, "filter change": 1.0, "cached rerun": 0.3, "report": 10.0}


def pick_db(explicit: str | None, wanted: int) -> Path:
    if explicit:
        return Path(explicit)
    shared = OUT / "bench.db"
    if shared.exists():
        with closing(db.open_db(shared)) as c:
            if db.count_responses(c) >= wanted:
                return shared
    return OUT / "analysis-bench.db"


def ensure_data(path: Path, wanted: int) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with closing(db.open_db(path)) as c:
        have = db.count_responses(c)
        if have < wanted:
            print(f"generating {wanted - have} responses into {path} …", flush=True)
            t = time.perf_counter()
            demo.generate(c, wanted - have, seed=1000 + have, end=clock.today())
            print(f"  done in {time.perf_counter() - t:.0f} s", flush=True)
        return db.count_responses(c)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t


def first_render(path: Path, f: selection.Filters, today: date) -> float:
    """What the page computes on its first run (empty caches) for the default section (criteria)."""
    t = time.perf_counter()
    with closing(db.open_db(path)) as c:
        db.analysis_data_version(c)
        on = today.isoformat()
        for key in ("active_questionnaire", "targets", "bands", "unit_name", "staff_min_n", "opening_hours", "fields"):
            settings.get(c, key, on)
        db.list_staff(c)
        db.baseline_years(c)
        db.response_day_range(c)
        db.last_import_id(c)
        db.imported_fields(c)  # cached by the newest import id: paid once per server process and import
        targets = settings.get(c, "targets", on)
        plan_checks.year_target_status(
            c, selection.Filters(f.questionnaire), int(f.date_to[:4]), targets["overall"], today
        )
    return time.perf_counter() - t + filter_change(path, f)


def filter_change(path: Path, f: selection.Filters) -> float:
    """What a new filter value recomputes (settings, staff, target … stay cached): index, tables."""
    t = time.perf_counter()
    with closing(db.open_db(path)) as c:
        db.analysis_data_version(c)
        bands = settings.get(c, "bands")
        result = selection.index_for_filters(c, f)
        rows = db.baseline_rows(c)
        plan_checks.rule_checklist(result, settings.get(c, "targets"), bands)
        plan_checks.sample_status(result)
        criterion_tables.criteria_table(result, rows, bands)
        criterion_tables.elements_table(result, rows, bands)
    return time.perf_counter() - t


def apptest_runs(path: Path, version: str, month_to: str, runs: int = 5) -> dict[str, float]:
    """The real page through AppTest. AppTest compiles the script afresh on every run (a new ScriptCache
    each time, ~0.2 s for this page's AST); the server compiles it once, so share one cache as it does."""
    import streamlit.testing.v1.local_script_runner as lsr
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest

    from sipas.admin import auth

    shared = ScriptCache()
    lsr.ScriptCache = lambda: shared
    os.environ["SIPAS_DB"] = str(path)
    with closing(db.open_db(path)) as c:
        if db.get_user(c, "bench-clerk") is None:
            auth.create_user(c, "bench-clerk", "bench-password-1", "clerk")
        token = auth.start_session(c, auth.authenticate(c, "bench-clerk", "bench-password-1"))
    at = AppTest.from_file(str(ROOT / "app_pages" / "analysis.py"), default_timeout=300)
    at.session_state["staff_token"] = token
    out: dict[str, float] = {}

    def run(label: str) -> float:
        t = time.perf_counter()
        at.run()
        took = time.perf_counter() - t
        if at.exception:
            raise RuntimeError(at.exception[0].value)
        out[label] = took
        return took

    run("first")
    year, month = int(month_to[:4]), int(month_to[5:7])
    if (at.selectbox(key="an_year").value, at.selectbox(key="an_month").value) != (year, month):
        at.selectbox(key="an_year").set_value(year)
        at.selectbox(key="an_month").set_value(month)
        run("first")
    out["rerun"] = sorted(run("r") for _ in range(runs))[runs // 2]
    at.selectbox(key="an_channel").set_value("kiosk")
    run("channel")
    at.selectbox(key="an_channel").set_value(None)
    at.selectbox(key="an_staff").set_value("CB02")
    run("staff")
    at.selectbox(key="an_staff").set_value(None)
    at.segmented_control(key="an_kind").set_value("Năm")
    run("year")
    at.selectbox(key="an_channel").set_value("kiosk")
    run("year_channel")
    return out


def report(path: Path, month: str, suffix: str) -> float:
    out = OUT / f"bench-report-{month}{suffix}"
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sipas", "report", "--month", month, "--out", str(out), "--db", str(path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db")
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = ap.parse_args(argv)

    path = pick_db(args.db, args.responses)
    n = ensure_data(path, args.responses)
    if args.generate_only:
        print(f"{path}: {n} responses")
        return 0
    today = clock.today()
    with closing(db.open_db(path)) as c:
        version = settings.get(c, "active_questionnaire")
        last = db.response_day_range(c)[1] or today.isoformat()
    end = date.fromisoformat(last)
    m_from, m_to = selection.period_bounds("month", end.year, end.month)
    y_from, y_to = selection.period_bounds("year", end.year)
    prev = date(end.year - (end.month == 1), (end.month - 2) % 12 + 1, 1)
    month = f"{prev.year:04d}-{prev.month:02d}"
    f = selection.Filters(version, m_from, m_to)
    rows: list[tuple[str, float, float | None]] = []

    rows.append(
        (
            "first render: page data functions, this month, empty caches",
            first_render(path, f, today),
            TARGETS["first render"],
        )
    )
    rows.append(
        (
            "filter change: channel = kiosk, this month (dimension roll-up)",
            filter_change(path, selection.Filters(version, m_from, m_to, channel="kiosk")),
            TARGETS["filter change"],
        )
    )
    rows.append(
        (
            "filter change: staff CB02, this month (dimension roll-up)",
            filter_change(path, selection.Filters(version, m_from, m_to, staff_code="CB02")),
            TARGETS["filter change"],
        )
    )
    rows.append(
        (
            "filter change: whole year (roll-up)",
            filter_change(path, selection.Filters(version, y_from, y_to)),
            TARGETS["filter change"],
        )
    )
    rows.append(
        (
            "filter change: whole year, channel = kiosk (dimension roll-up)",
            filter_change(path, selection.Filters(version, y_from, y_to, channel="kiosk")),
            TARGETS["filter change"],
        )
    )
    with closing(db.open_db(path)) as c:
        _, t_trend = timed(lambda: trends.monthly_p_chart(trends.monthly_trend(c, trends.trend_filters(f))))
        rows.append(("section Biểu đồ: 12-month trend + p-chart (roll-up)", t_trend, None))
        _, t_trend_k = timed(
            lambda: trends.monthly_trend(
                c, trends.trend_filters(selection.Filters(version, m_from, m_to, channel="kiosk"))
            )
        )
        rows.append(("section Biểu đồ: 12-month trend, channel = kiosk (dimension roll-up)", t_trend_k, None))
        _, t_heat = timed(trends.weekday_hour_table, c, f)
        rows.append(("section Biểu đồ: weekday × hour, this month", t_heat, None))
        _, t_comments = timed(comment_list.comments_table, c, f, "cho lau")
        rows.append(("section Góp ý: comments of the month, search 'cho lau'", t_comments, None))
        hours = settings.get(c, "opening_hours")
        _, t_flags = timed(quality.load_flags, c, hours, m_from, m_to, version)
        rows.append(("section Chất lượng dữ liệu: flags of the month", t_flags, None))
        _, t_staff = timed(staff_index.staff_table, c, f, db.list_staff(c), 10)
        rows.append(("section Cán bộ: staff table of the month", t_staff, None))

    at = apptest_runs(path, version, m_to)
    rows.append(("AppTest: first run of the page (imports + cold caches)", at["first"], None))
    rows.append(("cached rerun: AppTest rerun, median of 5", at["rerun"], TARGETS["cached rerun"]))
    rows.append(("AppTest: filter change channel = kiosk, this month", at["channel"], TARGETS["filter change"]))
    rows.append(("AppTest: filter change staff CB02, this month", at["staff"], TARGETS["filter change"]))
    rows.append(("AppTest: filter change to the whole year", at["year"], TARGETS["filter change"]))
    rows.append(("AppTest: whole year with channel = kiosk", at["year_channel"], TARGETS["filter change"]))
    rows.append(
        (
            f"report: python -m sipas report --month {month} --out ….xlsx",
            report(path, month, ".xlsx"),
            TARGETS["report"],
        )
    )
    rows.append(
        (f"report: python -m sipas report --month {month} --out ….pdf", report(path, month, ".pdf"), TARGETS["report"])
    )

    lines = [
        f"- {name}: **{sec:.2f} s**"
        + ("" if target is None else f" (target < {target:g} s: {'met' if sec < target else 'MISSED'})")
        for name, sec, target in rows
    ]
    header = (
        f"\n## Analysis\n\n{clock.today().isoformat()}, {os.cpu_count()} CPU, {n:,} responses in "
        f"`{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}` (month {m_from[:7]}, "
        f"report month {month}). `python bench/bench_analysis.py`\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
