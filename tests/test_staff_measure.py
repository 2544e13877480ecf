"""The one staff measure (element-3 index per staff member and period, with n and Wilson interval):
equal to a count made here from the raw answers, and the same number on the analysis page's table,
the Chairman's conduct history and the monthly report. Below the minimum n nothing is shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from scipy.stats import binomtest
from streamlit.testing.v1 import AppTest

from sipas import clock, db, demo, reports
from sipas.admin import auth, settings
from sipas.catalog import questionnaire
from sipas.index import selection, staff_index

APP = str(Path(__file__).resolve().parent.parent / "main_page.py")
PW = "mat-khau-chu-tich"
END = date(2026, 5, 20)


@pytest.fixture
def demo_conn(conn):
    demo.generate(conn, 1500, seed=11, months=6, end=END)
    return conn


def raw_measure(conn, code: str, date_from: str, date_to: str) -> tuple[int, int, int]:
    """(responses, answers, satisfied) counted straight from the tables, without sipas code."""
    crit = [c.code for c in questionnaire("sipas-2023").element("3").criteria]
    marks = ",".join("?" * len(crit))
    where = (
        "r.staff_code = ? AND r.excluded = 0 AND r.questionnaire = 'sipas-2023' "
        "AND substr(r.submitted_at, 1, 10) BETWEEN ? AND ?"
    )
    responses = conn.execute(f"SELECT count(*) FROM responses r WHERE {where}", (code, date_from, date_to)).fetchone()[
        0
    ]
    answers, satisfied = conn.execute(
        f"SELECT count(*), coalesce(sum(a.value >= 4), 0) FROM responses r JOIN answers a ON a.response_id = r.id "
        f"WHERE {where} AND a.criterion IN ({marks}) AND a.value BETWEEN 1 AND 5",
        (code, date_from, date_to, *crit),
    ).fetchone()
    return responses, answers, satisfied


def test_staff_measure_equals_a_count_from_raw_answers_and_scipy_wilson(demo_conn):
    f = selection.Filters("sipas-2023", "2026-01-01", "2026-03-31")
    measures = staff_index.staff_measures(demo_conn, f, min_n=10)
    assert measures
    for code, m in measures.items():
        responses, answers, satisfied = raw_measure(demo_conn, code, f.date_from, f.date_to)
        assert (m.responses, m.answers, m.satisfied) == (responses, answers, satisfied)
        if responses >= 10:
            ci = binomtest(satisfied, answers).proportion_ci(confidence_level=0.95, method="wilson")
            assert m.shown
            assert m.index == pytest.approx(100 * satisfied / answers)
            assert (m.ci_low, m.ci_high) == (pytest.approx(100 * ci.low), pytest.approx(100 * ci.high))
    hidden = staff_index.staff_measures(demo_conn, f, min_n=10_000)
    assert all(not m.shown and m.index is None and m.ci_low is None for m in hidden.values())


def test_analysis_table_and_report_show_the_same_staff_number(demo_conn):
    settings.put(demo_conn, "active_questionnaire", "sipas-2023", "test")
    min_n = settings.get(demo_conn, "staff_min_n")
    f = selection.Filters("sipas-2023", "2026-04-01", "2026-04-30")
    table = staff_index.staff_table(demo_conn, f, db.list_staff(demo_conn), min_n).set_index("Mã")
    report = reports.build_report(demo_conn, "2026-04")
    in_report = report.staff.set_index("Mã")
    shown = 0
    for code, m in staff_index.staff_measures(demo_conn, f, min_n).items():
        assert table.loc[code, staff_index.STAFF_MEASURE] == pytest.approx(m.index, nan_ok=True)
        assert in_report.loc[code, staff_index.STAFF_MEASURE] == pytest.approx(m.index, nan_ok=True)
        shown += m.shown
    assert shown > 0
    # the shrunk estimate beside it, the same in the table, the report and its PDF section
    shrunk = staff_index.shrunk_measures(demo_conn, f)
    assert shrunk
    for code, est in shrunk.items():
        for frame in (table, in_report):
            assert frame.loc[code, staff_index.STAFF_SHRUNK] == pytest.approx(est.estimate)
            assert frame.loc[code, staff_index.SHRUNK_LOW] == pytest.approx(est.ci_low)
            assert frame.loc[code, staff_index.SHRUNK_HIGH] == pytest.approx(est.ci_high)
    from sipas.reports import sections

    (section,) = [x for x in sections.sections(report, sections.PDF) if x.key == "staff"]
    header, *rows = next(b for b in section.blocks if isinstance(b, sections.Table)).rows
    assert header[-1] == "Đã hiệu chỉnh"
    code = next(iter(shrunk))
    est = shrunk[code]
    row = next(r for r in rows if r[0].endswith(f"({code})"))
    assert row[-1] == (
        f"{clock.format_number(est.estimate, 1)} ({clock.format_number(est.ci_low, 1)}–"
        f"{clock.format_number(est.ci_high, 1)})"
    )
    assert any("Bayes thực nghiệm" in b.text for b in section.blocks if isinstance(b, sections.Paragraph))


@pytest.fixture
def fast_argon2(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_chairman_history_shows_the_same_measure(demo_conn, fast_argon2, monkeypatch):
    # The Chairman's page counts quarters up to today: pin the commune's clock to the demo's last day.
    monkeypatch.setattr(clock, "today", lambda: END)
    auth.create_user(demo_conn, "chutich", PW, "chairman", first_admin=True, full_name="Võ Minh Tâm")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["staff_token"] = auth.start_session(demo_conn, auth.authenticate(demo_conn, "chutich", PW))
    at.run()
    at.switch_page("app_pages/chairman.py")
    at.run()
    assert not at.exception, at.exception
    code = at.selectbox(key="history_staff").value
    history = at.dataframe[-2].value  # the quarters' table (the last one is the monthly counts)
    row = history[history["Từ"] == "01/04/2026"].iloc[0]
    m = staff_index.staff_measure(
        demo_conn,
        selection.Filters("sipas-2023", "2026-04-01", END.isoformat()),
        code,
        settings.get(demo_conn, "staff_min_n"),
    )
    assert int(row["Số phiếu"]) == m.responses
    expected = clock.format_number(m.index, 2) if m.shown else "Chưa đủ dữ liệu"
    assert row[staff_index.STAFF_MEASURE] == expected
    est = staff_index.shrunk_measures(demo_conn, selection.Filters("sipas-2023", "2026-04-01", END.isoformat()))[code]
    assert row[staff_index.STAFF_SHRUNK] == clock.format_number(est.estimate, 1)
    assert row["Hiệu chỉnh: KTC 95%"] == f"{clock.format_number(est.ci_low, 1)}–{clock.format_number(est.ci_high, 1)}"
    assert any("Ước lượng đã hiệu chỉnh (Bayes thực nghiệm" in c.value for c in at.caption)
