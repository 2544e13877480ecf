"""One default baseline: the overview, the analysis page and the monthly report compare the same period
with the same baseline (``sipas.index.baseline.default_baseline``)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import PW, ROOT
from streamlit.testing.v1 import AppTest

from sipas import db, reports
from sipas.admin import auth

pytestmark = pytest.mark.usefixtures("fast_argon2")


@pytest.fixture
def may_2025(conn, clerk):
    """Responses of May 2025 on sipas-2023; baselines of 2023 (the plan's) and of 2025 itself."""
    rows = [
        (
            {
                "token": f"may-{i}",
                "submitted_at": f"2025-05-{10 + i} 09:00:00",
                "questionnaire": "sipas-2023",
                "channel": "paper",
                "overall": 4,
            },
            {"TC1.1": 4, "TC3.1": 5},
        )
        for i in range(3)
    ]
    with db.transaction(conn):
        db.insert_responses(conn, rows)
    db.upsert_baseline_rows(
        conn,
        [
            {"year": y, "questionnaire": "sipas-2023", "level": "overall", "code": "", "index_value": v}
            for y, v in ((2023, 84.0), (2025, 90.0))
        ],
        "test",
    )
    return conn


def page(name: str, conn, state: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / name), default_timeout=90)
    at.session_state["staff_token"] = auth.start_session(conn, auth.authenticate(conn, "thongke", PW))
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_overview_analysis_and_report_compare_may_2025_with_2023(may_2025):
    overview = page(
        "overview.py", may_2025, {"ov_period": "Tùy chọn", "ov_range": (date(2025, 5, 1), date(2025, 5, 31))}
    )
    analysis = page("analysis.py", may_2025, {"an_kind": "Tháng", "an_year": 2025, "an_month": 5})
    report = reports.build_report(may_2025, "2025-05", today=date(2025, 6, 5))

    # Not 2025: May 2025 would be compared with its own year's figures.
    assert overview.selectbox(key="ov_base").value == (2023, "sipas-2023")
    assert analysis.selectbox(key="an_baseline").value == (2023, "sipas-2023")
    assert report.baseline_label == "2023 — Mẫu phiếu 2022–2023 (sipas-2023)" and report.baseline_overall == 84.0
    # What the pages show follows the choice: the overall's delta is against 84.
    for at in (overview, analysis):
        delta = next(m for m in at.metric if m.label == "Chỉ số chung").delta
        assert delta.startswith("+16,00"), delta
