"""The figures over time: the monthly trend (across a change of questionnaire version), where the form
changed, the p-chart of the dissatisfied share, and satisfaction by weekday × hour (the heat map).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date

import pandas as pd

from sipas import clock, db
from sipas.admin import settings
from sipas.admin.settings import WEEKDAYS
from sipas.catalog import questionnaire, questionnaires
from sipas.index import comparison
from sipas.index.scoring import compute_index
from sipas.index.selection import Filters

MIN_CELL_N = 5  # heat-map cells with fewer answers show no share


def trend_filters(f: Filters, months: int = 12) -> Filters:
    """The months shown in the trend: the period itself if it spans ≥ ``months`` months, else the
    ``months`` months ending with the period's last month."""
    end = date.fromisoformat(f.date_to) if f.date_to else clock.today()
    y, m = end.year, end.month - (months - 1)
    while m <= 0:
        m += 12
        y -= 1
    start = date(y, m, 1)
    if f.date_from and date.fromisoformat(f.date_from) < start:
        start = date.fromisoformat(f.date_from)
    return replace(f, date_from=start.isoformat(), date_to=end.isoformat())


def monthly_trend(conn: sqlite3.Connection, f: Filters):
    """One row per month: responses, overall index, element indices, and the overall question's
    answers (n, satisfied 4–5, dissatisfied 1–2), and the questionnaire version ("Phiếu").

    A month without answers on ``f.questionnaire`` but with answers on the version in force that
    month (the settings) is shown with that version: the overall, the elements and the overall
    question compare across versions, so the 12 months run across a change of form, and
    :func:`version_changes` marks the month it changed.
    """
    versions = [f.questionnaire]
    in_force: dict[str, str] = {}
    if f.date_from and f.date_to:
        for month in _months(f.date_from, f.date_to):
            last = clock.month_end(date.fromisoformat(month + "-01")).isoformat()
            in_force[month] = settings.get(conn, "active_questionnaire", last)
        versions += [v for v in dict.fromkeys(in_force.values()) if v != f.questionnaire and v in questionnaires()]
    by_version: dict[str, tuple[dict, dict]] = {}
    for v in versions:
        g = replace(f, questionnaire=v)
        by_month: dict[str, dict] = {}
        for month, criterion, *counts in db.monthly_level_counts(conn, **g.as_kwargs()):
            by_month.setdefault(month, {})[criterion] = tuple(counts)
        by_version[v] = (by_month, db.monthly_response_counts(conn, **g.as_kwargs()))
    rows = []
    months = sorted({m for by_month, responses in by_version.values() for m in (*by_month, *responses)})
    for month in months:
        version = f.questionnaire
        if not by_version[version][1].get(month) and in_force.get(month) in by_version:
            version = in_force[month]
        by_month, responses = by_version[version]
        if month not in by_month and month not in responses:
            continue
        counts = by_month.get(month, {})
        r = compute_index(questionnaire(version), counts, responses.get(month, 0))
        ov = counts.get("overall", (0, 0, 0, 0, 0))
        row = {
            "Tháng": month,
            "Số phiếu": responses.get(month, 0),
            "Chỉ số chung (%)": r.overall,
            "Câu hỏi chung n": sum(ov),
            "Câu hỏi chung hài lòng": ov[3] + ov[4],
            "Không hài lòng (1–2)": ov[0] + ov[1],
            "Câu hỏi chung (%)": r.direct_overall.index,
        }
        for e in r.elements:
            row[f"Yếu tố {e.code} (%)"] = e.index
        row["Phiếu"] = version
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "Tháng",
                "Số phiếu",
                "Chỉ số chung (%)",
                "Câu hỏi chung n",
                "Câu hỏi chung hài lòng",
                "Không hài lòng (1–2)",
                "Câu hỏi chung (%)",
            ]
        )
    return frame


def _months(date_from: str, date_to: str) -> list[str]:
    """'YYYY-MM' of every month from date_from's to date_to's (inclusive)."""
    return clock.months_between(date.fromisoformat(date_from[:10]), date.fromisoformat(date_to[:10]))


def version_changes(trend) -> list[tuple[str, str, str]]:
    """(month, version before, version from then on) for each month of ``trend`` whose "Phiếu"
    differs from the month before: where the 12-month trend changes form.

    >>> import pandas as pd
    >>> version_changes(pd.DataFrame({"Tháng": ["2023-12", "2024-01"], "Phiếu": ["sipas-2023", "sipas-2024"]}))
    [('2024-01', 'sipas-2023', 'sipas-2024')]
    """
    if "Phiếu" not in getattr(trend, "columns", ()):
        return []
    pairs = list(zip(trend["Tháng"], trend["Phiếu"], strict=True))
    return [(month, before, now) for (_, before), (month, now) in zip(pairs, pairs[1:], strict=False) if before != now]


def monthly_p_chart(trend):
    """The p-chart of the monthly share of dissatisfied answers (1–2) to the overall question.

    The overall question is answered once per citizen, so the binomial limits apply; pooled criterion
    answers of one person are not independent and would give limits that are too narrow.
    """
    return comparison.p_chart(
        list(trend["Tháng"]),
        [int(x) for x in trend["Không hài lòng (1–2)"]],
        [int(x) for x in trend["Câu hỏi chung n"]],
    )


def weekday_hour_table(conn: sqlite3.Connection, f: Filters, min_cell_n: int = MIN_CELL_N):
    """Share satisfied (4–5) with the overall question per weekday × hour; cells under ``min_cell_n`` have none."""

    rows = []
    for wd, hour, n, sat in db.weekday_hour_overall(conn, **f.as_kwargs()):
        rows.append(
            {
                "weekday": wd,
                "Thứ": WEEKDAYS[wd],
                "Giờ": hour,
                "n": n,
                "Hài lòng": sat,
                "Tỷ lệ hài lòng (%)": (100.0 * sat / n) if n >= min_cell_n else None,
            }
        )
    frame = pd.DataFrame(rows, columns=["weekday", "Thứ", "Giờ", "n", "Hài lòng", "Tỷ lệ hài lòng (%)"])
    frame["Tỷ lệ hài lòng (%)"] = frame["Tỷ lệ hài lòng (%)"].astype("float64")
    return frame
