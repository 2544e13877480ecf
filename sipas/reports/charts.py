"""Altair charts of the analysis page and the monthly report (built here, displayed elsewhere).

Vietnamese titles and axis labels, font "DejaVu Sans" (bundled in ``assets/fonts`` and registered with
vl-convert, so a PNG looks the same on every machine). Inputs are the frames of ``sipas.index`` (trends,
criterion tables); each chart gets aggregated data only (a few hundred rows at most), so exports never meet
Altair's row limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd

from sipas.paths import ROOT

FONT = "DejaVu Sans"
FONTS_DIR = ROOT / "assets" / "fonts"
LEVEL_COLORS = ["#b2182b", "#ef8a62", "#bdbdbd", "#67a9cf", "#2166ac"]  # 1 … 5, red to blue
TARGET_COLOR = "#0b6e4f"
FLOOR_COLOR = "#d95f02"


# Vega's number and date formatting in Vietnamese: decimal comma, dot for thousands, dd/mm/yyyy.
VI_LOCALE = {
    "number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]},
    "time": {
        "dateTime": "%A, %d/%m/%Y %H:%M:%S",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["SA", "CH"],
        "days": ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"],
        "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
        "months": [f"Tháng {m}" for m in range(1, 13)],
        "shortMonths": [f"Th{m}" for m in range(1, 13)],
    },
}


# Month labels on two lines ("12" over "2025"), so twelve of them fit a page's width.
MONTH_AXIS = alt.Axis(labelAngle=0, labelExpr="split(datum.label, '/')", labelOverlap=False)


def month_label(month: str) -> str:
    """ "2026-03" as a Vietnamese reader writes it.

    >>> month_label("2026-03")
    '03/2026'
    """
    return f"{month[5:7]}/{month[:4]}"


@dataclass(frozen=True)
class Reference:
    label: str
    value: float


# sipas-method.md §2, "Reference values": published SIPAS headlines (include a policy part since 2022,
# so they are context, not a like-for-like comparison).
REFERENCES: tuple[Reference, ...] = (
    Reference("Cả nước 2022", 80.08),
    Reference("Cả nước 2023", 82.66),
    Reference("Cả nước 2024", 83.94),
    Reference("Khánh Hòa 2024", 83.66),
)


def _finish(chart: alt.TopLevelMixin, title: str, subtitle: str | None = None) -> alt.TopLevelMixin:
    params = {"text": title, "anchor": "start", "fontSize": 15}
    if subtitle:
        params["subtitle"] = subtitle
    # autosize "fit-x": the width follows the page, the height given is the plot's own. Without it
    # Streamlit applies "fit", where axes, rotated labels and a bottom legend are taken out of the
    # given height, and a 260-px chart with a legend is left with a plot of zero height in the browser.
    return (
        chart.properties(title=alt.TitleParams(**params), autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
        .configure(font=FONT, locale=VI_LOCALE)
        .configure_axis(labelFont=FONT, titleFont=FONT, labelFontSize=12, titleFontSize=12)
        .configure_legend(labelFont=FONT, titleFont=FONT, labelFontSize=12, titleFontSize=12, orient="bottom")
        .configure_view(strokeWidth=0)
    )


def _rules(lines: list[tuple[str, float, str]], axis: str) -> alt.Chart | None:
    """Reference lines (label, value, colour) on the x or y axis, named in a legend (labels written on
    the plot would overlap when values are close, as 83.66 and 83.94 are)."""
    if not lines:
        return None
    frame = pd.DataFrame([{"Đường tham chiếu": label, "value": value} for label, value, _ in lines])
    enc = {axis: alt.X("value:Q") if axis == "x" else alt.Y("value:Q")}
    color = alt.Color(
        "Đường tham chiếu:N",
        sort=[label for label, _, _ in lines],
        scale=alt.Scale(domain=[label for label, _, _ in lines], range=[c for _, _, c in lines]),
        legend=alt.Legend(orient="bottom", columns=2, title="Đường tham chiếu"),
    )
    return (
        alt.Chart(frame)
        .mark_rule(strokeWidth=1.5, strokeDash=[6, 3])
        .encode(color=color, tooltip=["Đường tham chiếu"], **enc)
    )


def _reference_lines(references: tuple[Reference, ...] | list[Reference] | None) -> list[tuple[str, float, str]]:
    greys = ["#9e9e9e", "#757575", "#424242", "#8c6bb1", "#6a51a3"]
    return [(f"{r.label}: {r.value:.2f}", r.value, greys[i % len(greys)]) for i, r in enumerate(references or ())]


def criteria_chart(
    table: pd.DataFrame,
    target: float = 87.0,
    floor: float = 80.0,
    references: tuple[Reference, ...] | list[Reference] | None = None,
) -> alt.TopLevelMixin:
    """Each criterion's index (point) with its 95% Wilson interval (bar), the baseline (tick), and the
    plan's lines at ``floor`` and ``target``; criteria in the order of ``table`` (weakest first)."""
    data = table[["Mã", "Tiêu chí", "n", "Chỉ số (%)", "KTC 95% thấp", "KTC 95% cao", "Gốc (%)", "Kết luận"]].copy()
    data = data[data["Chỉ số (%)"].notna()]
    order = list(data["Mã"])
    low = min(
        [v for v in list(data["KTC 95% thấp"]) + list(data["Gốc (%)"].dropna()) if not math.isnan(v)] + [floor - 5]
    )
    domain = [max(0.0, math.floor(low / 5) * 5), 100]
    x = alt.X("Chỉ số (%):Q", title="Chỉ số hài lòng (%)", scale=alt.Scale(domain=domain, clamp=True))
    y = alt.Y("Mã:N", sort=order, title="Tiêu chí", axis=alt.Axis(labelOverlap=False))
    tooltip = [
        "Mã",
        "Tiêu chí",
        "n",
        alt.Tooltip("Chỉ số (%):Q", format=".2f"),
        alt.Tooltip("KTC 95% thấp:Q", format=".1f"),
        alt.Tooltip("KTC 95% cao:Q", format=".1f"),
        alt.Tooltip("Gốc (%):Q", format=".2f"),
        "Kết luận",
    ]
    base = alt.Chart(data)
    bars = base.mark_rule(strokeWidth=3, color="#9ecae1").encode(
        x=alt.X("KTC 95% thấp:Q", scale=alt.Scale(domain=domain, clamp=True), title="Chỉ số hài lòng (%)"),
        x2="KTC 95% cao:Q",
        y=y,
    )
    points = base.mark_point(filled=True, size=70, color="#08519c").encode(x=x, y=y, tooltip=tooltip)
    layers = [bars, points]
    if data["Gốc (%)"].notna().any():
        layers.append(
            base.transform_filter("isValid(datum['Gốc (%)'])")
            .mark_tick(color="#000000", thickness=2, size=14)
            .encode(x=alt.X("Gốc (%):Q"), y=y, tooltip=tooltip)
        )
    lines = [(f"Sàn {floor:g}%", floor, FLOOR_COLOR), (f"Chỉ tiêu {target:g}%", target, TARGET_COLOR)]
    lines += _reference_lines(references)
    layers.append(_rules(lines, "x"))
    chart = alt.layer(*layers).properties(width=560, height=max(220, 24 * len(order)))
    return _finish(
        chart,
        "Chỉ số từng tiêu chí so với số liệu gốc và chỉ tiêu",
        "Chấm: chỉ số; vạch xanh: khoảng tin cậy 95% (Wilson); vạch đen: số liệu gốc",
    )


def likert_frame(dist: pd.DataFrame) -> pd.DataFrame:
    """Segment start/end (percent) for diverging bars: levels 1–2 left of zero, 3 split across it, 4–5 right.

    >>> f = pd.DataFrame({"Mã": ["A"] * 5, "level": [1, 2, 3, 4, 5], "Mức": list("abcde"),
    ...                   "count": [1, 1, 2, 3, 3], "share": [10.0, 10.0, 20.0, 30.0, 30.0], "n": [10] * 5})
    >>> likert_frame(f)[["level", "start", "end"]].values.tolist()
    [[1.0, -30.0, -20.0], [2.0, -20.0, -10.0], [3.0, -10.0, 10.0], [4.0, 10.0, 40.0], [5.0, 40.0, 70.0]]
    """
    parts = []
    for _, g in dist.sort_values(["Mã", "level"]).groupby("Mã", sort=False):
        shares = dict(zip(g["level"], g["share"], strict=True))
        start = -(shares.get(1, 0) + shares.get(2, 0) + shares.get(3, 0) / 2)
        for _, row in g.iterrows():
            end = start + row["share"]
            parts.append({**row.to_dict(), "start": start, "end": end})
            start = end
    return pd.DataFrame(parts)


def likert_chart(dist: pd.DataFrame, order: list[str] | None = None) -> alt.TopLevelMixin:
    """Diverging stacked bars of the five answer levels per criterion (share of its answers)."""
    data = likert_frame(dist[dist["n"] > 0])
    labels = list(dist.sort_values("level")["Mức"].drop_duplicates())
    y = alt.Y(
        "Mã:N",
        sort=order or sorted(data["Mã"].unique()) if not data.empty else order,
        title="Tiêu chí",
        axis=alt.Axis(labelOverlap=False),
    )
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "start:Q",
                title="Tỷ lệ câu trả lời (%) — trái: chưa hài lòng, phải: hài lòng",
                scale=alt.Scale(domain=[-100, 100]),
                axis=alt.Axis(labelExpr="format(abs(datum.value), 'd')"),
            ),
            x2="end:Q",
            y=y,
            color=alt.Color("Mức:N", sort=labels, title="Mức", scale=alt.Scale(domain=labels, range=LEVEL_COLORS)),
            tooltip=["Mã", "Mức", "count", alt.Tooltip("share:Q", format=".1f", title="%"), "n"],
        )
    )
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#333333").encode(x="x:Q")
    chart = alt.layer(bars, zero).properties(width=560, height=max(220, 24 * data["Mã"].nunique()))
    return _finish(chart, "Phân bố năm mức trả lời theo tiêu chí")


def p_chart_chart(pc: pd.DataFrame) -> alt.TopLevelMixin:
    """The monthly p-chart (percent): share dissatisfied, centre line and limits that vary with each month's n."""
    data = pc.copy()
    for col in ("p", "center", "lcl", "ucl"):
        data[col] = data[col] * 100
    data["Trạng thái"] = data["out_of_control"].map({True: "Ngoài giới hạn", False: "Trong giới hạn"})
    data["Tháng"] = data["month"].map(month_label)
    x = alt.X("Tháng:O", title="Tháng", sort=list(data["Tháng"]), axis=MONTH_AXIS)
    base = alt.Chart(data)
    limits = base.mark_line(interpolate="step", strokeDash=[4, 3], color="#d62728").encode(
        x=x, y=alt.Y("ucl:Q", title="Tỷ lệ không hài lòng (%)")
    )
    lower = base.mark_line(interpolate="step", strokeDash=[4, 3], color="#d62728").encode(x=x, y="lcl:Q")
    centre = base.mark_line(color="#555555").encode(x=x, y="center:Q")
    line = base.mark_line(color="#1f77b4").encode(x=x, y="p:Q")
    points = base.mark_point(filled=True, size=60).encode(
        x=x,
        y="p:Q",
        color=alt.Color(
            "Trạng thái:N",
            title="",
            scale=alt.Scale(domain=["Trong giới hạn", "Ngoài giới hạn"], range=["#1f77b4", "#d62728"]),
        ),
        tooltip=[
            "Tháng",
            alt.Tooltip("n:Q", title="Số câu trả lời"),
            alt.Tooltip("dissatisfied:Q", title="Không hài lòng"),
            alt.Tooltip("p:Q", format=".1f", title="Tỷ lệ (%)"),
            alt.Tooltip("lcl:Q", format=".1f", title="Giới hạn dưới (%)"),
            alt.Tooltip("ucl:Q", format=".1f", title="Giới hạn trên (%)"),
        ],
    )
    chart = alt.layer(limits, lower, centre, line, points).properties(width=560, height=260)
    return _finish(
        chart,
        "Biểu đồ kiểm soát p: tỷ lệ không hài lòng (mức 1–2) theo tháng",
        "Câu hỏi hài lòng chung; đường đỏ: giới hạn p̄ ± 3·√(p̄(1−p̄)/n) theo n từng tháng",
    )


def heatmap_chart(table: pd.DataFrame) -> alt.TopLevelMixin:
    """Share satisfied by weekday × hour (overall question); cells with too few answers are grey."""
    data = table.copy()
    days = list(data.sort_values("weekday")["Thứ"].drop_duplicates())
    base = alt.Chart(data).encode(
        x=alt.X("Giờ:O", title="Giờ trong ngày", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("Thứ:N", sort=days, title=""),
    )
    # Cells with too few answers have no share; Vega-Lite would drop them, so they get their own grey layer.
    sparse = (
        base.transform_filter("!isValid(datum['Tỷ lệ hài lòng (%)'])")
        .mark_rect(color="#e0e0e0")
        .encode(tooltip=["Thứ", "Giờ", "n"])
    )
    cells = (
        base.transform_filter("isValid(datum['Tỷ lệ hài lòng (%)'])")
        .mark_rect()
        .encode(
            color=alt.Color(
                "Tỷ lệ hài lòng (%):Q",
                title="% hài lòng",
                scale=alt.Scale(scheme="redyellowgreen", domain=[50, 100], clamp=True),
            ),
            tooltip=["Thứ", "Giờ", "n", alt.Tooltip("Tỷ lệ hài lòng (%):Q", format=".1f")],
        )
    )
    text = base.mark_text(fontSize=10, color="#222222").encode(text="n:Q")
    chart = alt.layer(sparse, cells, text).properties(width=560, height=max(80, 32 * len(days)))
    return _finish(chart, "Mức hài lòng theo thứ và giờ", "Số trong ô: số câu trả lời; ô xám: dưới 5 câu trả lời")


def trend_chart(
    trend: pd.DataFrame,
    target: float = 87.0,
    floor: float = 80.0,
    references: tuple[Reference, ...] | list[Reference] | None = None,
) -> alt.TopLevelMixin:
    """The monthly overall index with the plan's lines and optional national/provincial reference values."""
    data = trend[["Tháng", "Số phiếu", "Chỉ số chung (%)"]].dropna()
    data = data.assign(**{"Tháng": data["Tháng"].map(month_label)})
    y = alt.Y("Chỉ số chung (%):Q", title="Chỉ số hài lòng (%)", scale=alt.Scale(zero=False))
    line = (
        alt.Chart(data)
        .mark_line(point=True, color="#08519c")
        .encode(
            x=alt.X("Tháng:O", title="Tháng", sort=list(data["Tháng"]), axis=MONTH_AXIS),
            y=y,
            tooltip=["Tháng", "Số phiếu", alt.Tooltip("Chỉ số chung (%):Q", format=".2f")],
        )
    )
    lines = [(f"Sàn {floor:g}%", floor, FLOOR_COLOR), (f"Chỉ tiêu {target:g}%", target, TARGET_COLOR)]
    lines += _reference_lines(references)
    layers = [line, _rules(lines, "y")]
    # The month the questionnaire version changed (trends.version_changes): a dashed vertical rule.
    if "Phiếu" in trend.columns:
        months, versions = list(trend["Tháng"]), list(trend["Phiếu"])
        shown = set(data["Tháng"])  # month labels, as on the x axis
        changes = [month_label(m) for m, a, b in zip(months[1:], versions, versions[1:], strict=False) if a != b]
        changes = [m for m in changes if m in shown]
        if changes:
            marks = pd.DataFrame({"Tháng": changes, "Nhãn": ["Đổi mẫu phiếu"] * len(changes)})
            rule = alt.Chart(marks).mark_rule(color="#555555", strokeDash=[4, 3]).encode(x="Tháng:O")
            label = (
                alt.Chart(marks)
                .mark_text(align="left", dx=3, dy=-120, color="#555555")
                .encode(x="Tháng:O", text="Nhãn:N")
            )
            layers += [rule, label]
    chart = alt.layer(*layers).properties(width=560, height=260)
    return _finish(chart, "Chỉ số hài lòng chung theo tháng")


_fonts_registered = False


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as PNG bytes (vl-convert), with the bundled DejaVu fonts."""
    import vl_convert

    global _fonts_registered
    if not _fonts_registered:
        vl_convert.register_font_directory(str(FONTS_DIR))
        _fonts_registered = True
    return vl_convert.vegalite_to_png(chart.to_json(), scale=scale)
