"""Charts: what each one encodes (from its Vega-Lite spec), Vietnamese labels, font, and PNG export."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sipas.catalog import questionnaire
from sipas.index import comparison, criterion_tables
from sipas.index.scoring import compute_index
from sipas.reports import charts

Q = questionnaire("sipas-2023")
BANDS = [["Tốt", 90.0], ["Khá", 80.0], ["Trung bình", 70.0], ["Yếu", 0.0]]


@pytest.fixture(scope="module")
def result():
    counts = {c: (2, 3, 5, 40 + i, 50) for i, c in enumerate(Q.criterion_codes)}
    counts["TC5.2"] = (10, 10, 10, 30, 20)
    return compute_index(Q, counts, 120)


@pytest.fixture(scope="module")
def table(result):
    base = [
        {
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC5.2",
            "index_value": 70.0,
            "n": 100,
            "satisfied": 70,
        }
    ]
    return criterion_tables.criteria_table(result, base, BANDS)


def spec(chart) -> dict:
    return json.loads(chart.to_json())


def all_text(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def datasets(s: dict) -> list[list[dict]]:
    return list(s.get("datasets", {}).values())


def test_criteria_chart_has_rule_lines_at_floor_and_target_and_interval_bars(table):
    s = spec(charts.criteria_chart(table, target=87.0, floor=80.0))
    text = all_text(s)
    assert s["config"]["font"] == "DejaVu Sans"
    assert s["title"]["text"] == "Chỉ số từng tiêu chí so với số liệu gốc và chỉ tiêu"
    rules = [r for d in datasets(s) for r in d if "Đường tham chiếu" in r]
    assert {(r["Đường tham chiếu"], r["value"]) for r in rules} == {("Sàn 80%", 80.0), ("Chỉ tiêu 87%", 87.0)}
    assert '"x2": {"field": "KTC 95% cao"' in text
    assert "Chỉ số hài lòng (%)" in text
    # Weakest first on the y axis, as in the table.
    y_sorts = [
        layer["encoding"]["y"]["sort"]
        for layer in s["layer"]
        if "y" in layer.get("encoding", {}) and layer["encoding"]["y"].get("field") == "Mã"
    ]
    assert y_sorts[0][0] == "TC5.2"


def test_reference_values_are_optional_lines(table):
    s = spec(charts.criteria_chart(table, references=charts.REFERENCES))
    rules = {r["Đường tham chiếu"]: r["value"] for d in datasets(s) for r in d if "Đường tham chiếu" in r}
    # sipas-method.md §2: national 2022 80.08, 2023 82.66, 2024 83.94; Khánh Hòa 2024 83.66.
    assert rules["Cả nước 2022: 80.08"] == 80.08
    assert rules["Cả nước 2023: 82.66"] == 82.66
    assert rules["Cả nước 2024: 83.94"] == 83.94
    assert rules["Khánh Hòa 2024: 83.66"] == 83.66
    assert len(rules) == 6


def test_likert_segments_diverge_around_the_neutral_middle(result):
    dist = criterion_tables.level_distribution(result)
    frame = charts.likert_frame(dist).set_index(["Mã", "level"])
    # TC5.2: 10, 10, 10, 30, 20 of 80 → 12.5, 12.5, 12.5, 37.5, 25 %; the neutral bar is centred on 0.
    assert frame.loc[("TC5.2", 1), "start"] == pytest.approx(-31.25)
    assert frame.loc[("TC5.2", 3), "start"] == pytest.approx(-6.25)
    assert frame.loc[("TC5.2", 3), "end"] == pytest.approx(6.25)
    assert frame.loc[("TC5.2", 5), "end"] == pytest.approx(68.75)
    s = spec(charts.likert_chart(dist))
    assert s["layer"][0]["encoding"]["color"]["scale"]["domain"] == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ]


def test_p_chart_plots_percent_with_varying_limits():
    pc = comparison.p_chart(["2024-01", "2024-02", "2024-03"], [5, 30, 4], [100, 120, 40])
    s = spec(charts.p_chart_chart(pc))
    rows = datasets(s)[0]
    assert [round(r["p"], 6) for r in rows] == [5.0, 25.0, 10.0]
    assert len({round(r["ucl"], 6) for r in rows}) == 3  # one limit per month's n
    # Hand calculation: p̄ = 39/260 = 0.15; month 2: 0.15 + 3·√(0.1275/120) = 0.2478 < 0.25 → out;
    # month 1: lower limit 0.15 − 3·√(0.1275/100) = 0.0429 < 0.05 → in; month 3: limits 0 … 0.319 → in.
    assert [r["Trạng thái"] for r in rows] == ["Trong giới hạn", "Ngoài giới hạn", "Trong giới hạn"]
    assert rows[1]["ucl"] == pytest.approx(24.78, abs=0.01) and rows[0]["lcl"] == pytest.approx(4.29, abs=0.01)
    assert "Tỷ lệ không hài lòng (%)" in all_text(s)


def test_heatmap_greys_out_sparse_cells():
    table = pd.DataFrame(
        {
            "weekday": [0, 0, 1],
            "Thứ": ["Thứ Hai", "Thứ Hai", "Thứ Ba"],
            "Giờ": [8, 9, 8],
            "n": [20, 2, 10],
            "Hài lòng": [18, 2, 5],
            "Tỷ lệ hài lòng (%)": [90.0, None, 50.0],
        }
    )
    s = spec(charts.heatmap_chart(table))
    filters = [t["filter"] for layer in s["layer"] for t in layer.get("transform", [])]
    assert "!isValid(datum['Tỷ lệ hài lòng (%)'])" in filters
    assert s["layer"][0]["mark"]["color"] == "#e0e0e0"
    assert "Mức hài lòng theo thứ và giờ" in all_text(s)


def test_trend_chart_lines():
    trend = pd.DataFrame({"Tháng": ["2024-01", "2024-02"], "Số phiếu": [10, 12], "Chỉ số chung (%)": [84.0, 88.5]})
    s = spec(charts.trend_chart(trend, 87.0, 80.0, charts.REFERENCES[:1]))
    rules = {r["Đường tham chiếu"] for d in datasets(s) for r in d if "Đường tham chiếu" in r}
    assert rules == {"Sàn 80%", "Chỉ tiêu 87%", "Cả nước 2022: 80.08"}


def test_png_export(table):
    png = charts.to_png(charts.criteria_chart(table), scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 10_000
