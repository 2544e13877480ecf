"""The monthly report (due by the 20th to the level above): an Excel workbook and a PDF with the same content.

:func:`build_report` gathers everything for one month from the database (through ``sipas.index.analysis``);
:func:`to_excel` and :func:`to_pdf` only lay it out. The unit's name, the recipient, the targets and the
questionnaire version are the settings in force on the month's last day.

Safety: text typed by citizens or staff never becomes a formula or a link in Excel — every string is
written with ``write_string`` and the workbook refuses to convert strings (a comment "=1+1" stays the
text "=1+1"). The PDF uses the bundled DejaVu fonts (``assets/fonts``), never the machine's.
"""

from __future__ import annotations

import io
import math
import re
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from sipas import clock, db
from sipas.admin import settings
from sipas.cases import workflow
from sipas.catalog import questionnaires, version_label
from sipas.errors import ValidationError
from sipas.files import exports
from sipas.index import analysis
from sipas.index.scoring import IndexResult
from sipas.paths import ROOT

FONTS_DIR = ROOT / "assets" / "fonts"
XLSX_MIME = exports.XLSX_MIME
PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUFFIXES = (".xlsx", ".pdf", ".docx")
# Nghị định 30/2020/NĐ-CP, Phụ lục I: quốc hiệu and tiêu ngữ as the form prints them.
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOC_NUMBER = "Số: ....../BC-UBND"  # filled in by the office when the report is registered
SIGNER_AUTHORITY = "TM. ỦY BAN NHÂN DÂN"
SIGNER_TITLE = "CHỦ TỊCH"
TITLE = "Báo cáo kết quả khảo sát mức độ hài lòng"
INDEX_LABEL = "Chỉ số hài lòng về cung ứng dịch vụ hành chính công (phương pháp SIPAS)"
SHEETS = (
    "Tổng hợp",
    "Tiêu chí",
    "Xu hướng theo tháng",
    "Góp ý",
    "Chất lượng dữ liệu",
    "Phản ánh và khắc phục",
    "Cán bộ",
    "Mong muốn",
)
MAX_COMMENTS = 2000  # in the workbook
PDF_COMMENTS = 100  # in the PDF (the newest); the workbook has the rest
CHART_SCALE = 1.5
STATUS = {True: "Đạt", False: "Chưa đạt", None: "Chưa rõ"}


@dataclass
class MonthlyReport:
    month: str
    date_from: str
    date_to: str
    unit_name: str
    recipient: str
    questionnaire: str
    targets: dict
    bands: list
    result: IndexResult
    baseline_label: str | None
    baseline_overall: float | None
    checklist: list[tuple[str, bool | None, str]]
    elements: pd.DataFrame
    criteria: pd.DataFrame
    trend: pd.DataFrame
    pchart: pd.DataFrame
    comments: pd.DataFrame
    comments_total: int
    exclusions: pd.DataFrame
    sample: analysis.SampleStatus
    # Criteria of this version without a counterpart in the baseline's version: (code, statement).
    unmatched: list = field(default_factory=list)
    office_name: str = ""
    cases: dict = field(default_factory=dict)  # workflow.monthly_counts
    case_history: pd.DataFrame = field(default_factory=pd.DataFrame)  # the month's case_events
    staff: pd.DataFrame = field(default_factory=pd.DataFrame)  # analysis.staff_table: the one staff measure
    staff_min_n: int = 10
    expectations: analysis.ExpectationsTable | None = None  # what citizens most want improved
    generated_at: datetime = field(default_factory=lambda: clock.now())

    @property
    def month_label(self) -> str:
        y, m = self.month.split("-")
        return f"tháng {int(m)}/{y}"

    @property
    def filename_stem(self) -> str:
        return f"bao-cao-hai-long-{self.month}"

    @property
    def letterhead(self) -> Letterhead:
        return letterhead(self.unit_name, self.generated_at.date())


@dataclass(frozen=True)
class Letterhead:
    """The administrative-document form's top and bottom (Nghị định 30/2020/NĐ-CP): issuing authority,
    the unit under it, số/ký hiệu, place and date, title; recipients and the signer below."""

    authority: str  # tên cơ quan chủ quản / ban hành, upper case
    unit: str | None  # the unit under it (the one-stop counter), upper case, if any
    number: str
    place_date: str
    title: str


def letterhead(unit_name: str, on: date) -> Letterhead:
    """The letterhead of a report by ``unit_name`` dated ``on``.

    >>> h = letterhead("Bộ phận Một cửa – UBND xã Vạn Phước", date(2026, 5, 8))
    >>> h.authority, h.unit, h.place_date
    ('ỦY BAN NHÂN DÂN XÃ VẠN PHƯỚC', 'BỘ PHẬN MỘT CỬA', 'Vạn Phước, ngày 08 tháng 5 năm 2026')
    """
    m = re.search(r"\b(xã|phường|thị trấn|đặc khu)\s+([^–,()-]+?)\s*$", unit_name, flags=re.IGNORECASE)
    place = m.group(2).strip() if m else ""
    kind = m.group(1).lower() if m else ""
    authority = f"ỦY BAN NHÂN DÂN {kind} {place}".upper() if m else unit_name.upper()
    parts = [p.strip() for p in re.split(r"\s+[–-]\s+", unit_name) if p.strip()]
    unit = parts[0].upper() if len(parts) > 1 else None
    if unit is None and m and not re.match(r"(UBND|Ủy ban nhân dân)", unit_name, flags=re.IGNORECASE):
        unit = unit_name[: m.start()].strip().upper() or None
    day = f"ngày {on.day:02d} tháng {on.month} năm {on.year}"
    return Letterhead(
        authority=authority,
        unit=unit,
        number=DOC_NUMBER,
        place_date=f"{place}, {day}" if place else day.capitalize(),
        title="BÁO CÁO",
    )


def parse_month(text: str) -> tuple[int, int]:
    """'2024-05' → (2024, 5); anything else raises ValidationError with what is expected.

    >>> parse_month("2024-05")
    (2024, 5)
    """
    m = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ValidationError(f'Tháng "{text}" không hợp lệ, cần dạng YYYY-MM (ví dụ 2024-05).')
    return int(m.group(1)), int(m.group(2))


def choose_baseline(conn: sqlite3.Connection, year: int, version: str) -> tuple[int, str] | None:
    """The most recent baseline before ``year``: of the same questionnaire version if there is one
    (comparable criterion by criterion), else of a version with a crosswalk to it (criteria through
    the crosswalk), else of another version (elements and overall only)."""
    from sipas.catalog.crosswalk import counterparts

    sets = [(y, q) for y, q in db.baseline_years(conn) if y < year]
    same = [s for s in sets if s[1] == version]
    crossed = [s for s in sets if s[1] != version and s[1] in questionnaires() and counterparts(version, s[1])]
    return (same or crossed or sets or [None])[0]


def build_report(
    conn: sqlite3.Connection, month: str, *, today: date | None = None, baseline: tuple[int, str] | None = None
) -> MonthlyReport:
    """Everything the monthly report shows, for the responses of ``month`` (YYYY-MM), excluded ones left out."""
    year, mon = parse_month(month)
    date_from, date_to = analysis.period_bounds("month", year, mon)
    version = settings.get(conn, "active_questionnaire", date_to)
    targets = settings.get(conn, "targets", date_to)
    bands = settings.get(conn, "bands", date_to)
    office = settings.get(conn, "office_name", date_to)
    f = analysis.Filters(version, date_from, date_to)
    result = analysis.index_for_filters(conn, f)
    chosen = baseline or choose_baseline(conn, year, version)
    rows = db.baseline_rows(conn, chosen[0], chosen[1]) if chosen else []
    trend = analysis.monthly_trend(conn, analysis.trend_filters(f))
    comments, total = analysis.comments_table(conn, f, limit=MAX_COMMENTS)
    exclusions = pd.DataFrame(
        db.excluded_responses(conn, date_from, date_to),
        columns=["id", "submitted_at", "channel", "device", "exclude_reason", "comment", "excluded_by", "excluded_at"],
    )
    return MonthlyReport(
        month=f"{year:04d}-{mon:02d}",
        date_from=date_from,
        date_to=date_to,
        unit_name=settings.get(conn, "unit_name", date_to),
        recipient=settings.recipient_for(conn, date_from, date_to),
        questionnaire=version,
        targets=targets,
        bands=bands,
        result=result,
        baseline_label=f"{chosen[0]} — {version_label(chosen[1])}" if chosen else None,
        baseline_overall=analysis.baseline_overall(rows),
        checklist=analysis.rule_checklist(result, targets, bands),
        elements=analysis.elements_table(result, rows, bands),
        criteria=analysis.criteria_table(result, rows, bands, office=office),
        unmatched=analysis.unmatched_criteria(result, rows, office),
        office_name=office,
        trend=trend,
        pchart=analysis.monthly_p_chart(trend) if not trend.empty else pd.DataFrame(),
        comments=comments,
        comments_total=total,
        exclusions=exclusions,
        sample=analysis.sample_status(result),
        cases=workflow.monthly_counts(conn, f"{year:04d}-{mon:02d}"),
        case_history=case_history_frame(conn, date_from, date_to),
        staff=analysis.staff_table(conn, f, db.list_staff(conn), settings.get(conn, "staff_min_n", date_to)),
        staff_min_n=settings.get(conn, "staff_min_n", date_to),
        expectations=analysis.expectations_table(conn, f),
    )


def case_history_frame(conn: sqlite3.Connection, date_from: str, date_to: str) -> pd.DataFrame:
    """Every change to a case in the period (the append-only history), oldest first."""
    rows = [
        {
            "Vụ việc số": e["case_id"],
            "Lúc": clock.format_datetime(e["at"]),
            "Người": e["actor"] or "",
            "Việc": workflow.event_label(e["kind"]),
            "Từ": workflow.STATES.get(e["from_state"] or "", ""),
            "Sang": workflow.STATES.get(e["to_state"] or "", ""),
            "Ghi chú": e["note"] or "",
        }
        for e in db.case_events(conn, None, date_from, date_to)
    ]
    return pd.DataFrame(rows, columns=["Vụ việc số", "Lúc", "Người", "Việc", "Từ", "Sang", "Ghi chú"])


EVENT_LABELS = workflow.EVENT_LABELS  # kept for callers of reports.EVENT_LABELS


def _case_count_rows(r: MonthlyReport) -> list[tuple[str, object]]:
    c = r.cases
    rows = [
        ("Vụ việc mở mới", c.get("opened", 0)),
        ("Vụ việc đã đóng", c.get("closed", 0)),
        ("Vụ việc quá hạn trong tháng", c.get("overdue", 0)),
        (
            f"Vụ việc đang quá hạn ngày {clock.format_date(c['as_of'])}" if c.get("as_of") else "Vụ việc đang quá hạn",
            c.get("overdue_at_end", 0),
        ),
        (
            "Số ngày xử lý (trung vị)",
            clock.format_number(c.get("median_days_to_close"), 1),
        ),
    ]
    rows += [(f"Mở mới — {label}", n) for label, n in c.get("by_type", {}).items()]
    return rows


# ------------------------------------------------------------------------------------- helpers


def _num(value) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _fmt(value, digits: int = 2, suffix: str = "") -> str:
    """A number as the PDF and the Word file print it: decimal comma, "—" when missing."""
    v = _num(value)
    return "—" if v is None else clock.format_number(v, digits) + suffix


def _summary_rows(r: MonthlyReport) -> list[tuple[str, object]]:
    d = r.result.direct_overall
    diff = None
    if r.baseline_overall is not None and r.result.overall is not None:
        diff = r.result.overall - r.baseline_overall
    s = r.sample
    sample_text = (
        f"Tiêu chí ít câu trả lời nhất {s.code}: n = {s.n}; cần {s.required} cho ±{s.margin * 100:g}% "
        f"— còn thiếu {s.needed}"
        if s.code
        else "Chưa có câu trả lời"
    )
    return [
        ("Đơn vị", r.unit_name),
        ("Nơi nhận", r.recipient),
        ("Kỳ báo cáo", f"{r.month_label} ({_vn(r.date_from)} – {_vn(r.date_to)})"),
        ("Phiên bản phiếu", version_label(r.questionnaire)),
        ("Số phiếu hợp lệ", r.result.responses),
        (INDEX_LABEL + " (%)", r.result.overall),
        ("Chỉ tiêu (%)", r.targets["overall"]),
        ("Số liệu gốc", r.baseline_label or "Chưa có"),
        ("Chỉ số chung của số liệu gốc (%)", r.baseline_overall),
        ("Chênh lệch so với gốc (điểm %)", diff),
        ("Câu hỏi hài lòng chung (%)", d.index),
        ("Câu hỏi hài lòng chung: n", d.n),
        (
            "Câu hỏi hài lòng chung: KTC 95% (Wilson)",
            f"{_fmt(d.ci_low, 1)} – {_fmt(d.ci_high, 1)}" if d.index is not None else "—",
        ),
        ("Cỡ mẫu", sample_text),
        ("Phiếu đã loại khỏi chỉ số", len(r.exclusions)),
        ("Lập lúc", clock.format_datetime(r.generated_at)),
    ]


def _crosswalk_lines(r: MonthlyReport) -> list[str]:
    """What the criteria table cannot say in a column: approximate comparisons, criteria not compared."""
    from sipas.catalog.crosswalk import APPROXIMATE, NOT_IN_BASELINE

    lines = []
    approx = [
        f"{row['Mã']} (gốc {row['Mã gốc']})"
        for _, row in r.criteria.iterrows()
        if str(row.get("So sánh với gốc") or "").startswith(APPROXIMATE)
    ]
    if approx:
        lines.append(f"{APPROXIMATE}: {', '.join(approx)}.")
    if r.unmatched:
        lines.append(f"{NOT_IN_BASELINE} (không so sánh): " + "; ".join(f"{code} {text}" for code, text in r.unmatched))
    return lines


def _text(value) -> str:
    """A table cell's text: missing values (None, NaN, NA) are empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _vn(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def _trend_frame(r: MonthlyReport) -> pd.DataFrame:
    t = r.trend.copy()
    if not r.pchart.empty:
        t["Tỷ lệ không hài lòng (%)"] = r.pchart["p"].to_numpy() * 100
        t["Đường trung tâm (%)"] = r.pchart["center"].to_numpy() * 100
        t["Giới hạn dưới (%)"] = r.pchart["lcl"].to_numpy() * 100
        t["Giới hạn trên (%)"] = r.pchart["ucl"].to_numpy() * 100
        t["Ngoài giới hạn"] = r.pchart["out_of_control"].map({True: "Có", False: ""}).to_numpy()
    return t


def _exclusions_frame(r: MonthlyReport) -> pd.DataFrame:
    e = r.exclusions
    return pd.DataFrame(
        {
            "Mã phiếu": e["id"],
            "Thời gian": e["submitted_at"],
            "Kênh": e["channel"].map(lambda c: analysis.CHANNEL_LABELS.get(c, c)),
            "Máy": e["device"],
            "Lý do loại": e["exclude_reason"],
            "Người loại": e["excluded_by"],
            "Lúc loại": e["excluded_at"],
            "Góp ý": e["comment"],
        }
    )


# ------------------------------------------------------------------------------------- Excel


def to_excel(r: MonthlyReport) -> bytes:
    """The workbook: summary + rule checklist, criteria, monthly trend, comments, data-quality exclusions."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top", "border": 1})
    num2 = wb.add_format({"num_format": "0.00"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    def cell(ws, row: int, col: int, value, fmt=None) -> None:
        if isinstance(value, bool):
            ws.write_string(row, col, "Có" if value else "Không", fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)  # never a formula, a link or a number
        elif _num(value) is not None and not isinstance(value, str):
            v = float(value)
            ws.write_number(row, col, v, fmt or (num2 if not v.is_integer() else None))
        else:
            ws.write_blank(row, col, None, fmt)

    def table(ws, top: int, frame: pd.DataFrame, widths: dict[str, int] | None = None) -> int:
        for j, name in enumerate(frame.columns):
            ws.write_string(top, j, str(name), head)
            ws.set_column(
                j,
                j,
                (widths or {}).get(name, max(10, min(40, len(str(name)) + 2))),
                wrap if (widths or {}).get(name, 0) >= 40 else None,
            )
        for i, row in enumerate(frame.itertuples(index=False), start=top + 1):
            for j, value in enumerate(row):
                cell(ws, i, j, value)
        return top + len(frame) + 1

    ws = wb.add_worksheet(SHEETS[0])
    ws.set_column(0, 0, 48)
    ws.set_column(1, 1, 60)
    ws.write_string(0, 0, f"{TITLE} {r.month_label}", title)
    ws.write_string(1, 0, INDEX_LABEL)
    row = 3
    for label, value in _summary_rows(r):
        ws.write_string(row, 0, label, bold)
        cell(ws, row, 1, value)
        row += 1
    row += 1
    ws.write_string(row, 0, "Yêu cầu của kế hoạch", title)
    row += 1
    for j, name in enumerate(("Yêu cầu", "Kết quả", "Chưa đạt ở")):
        ws.write_string(row, j, name, head)
    ws.set_column(2, 2, 60)
    for rule, ok, detail in r.checklist:
        row += 1
        ws.write_string(row, 0, rule)
        ws.write_string(row, 1, STATUS[ok])
        ws.write_string(row, 2, detail if ok is not True else "", wrap)
    row += 2
    ws.write_string(row, 0, "Các yếu tố", title)
    table(ws, row + 1, r.elements)

    ws = wb.add_worksheet(SHEETS[1])
    table(ws, 0, r.criteria, {"Tiêu chí": 60, "Kiểm định": 30, "Kết luận": 26})
    ws.freeze_panes(1, 1)

    ws = wb.add_worksheet(SHEETS[2])
    table(ws, 0, _trend_frame(r))
    ws.freeze_panes(1, 1)

    ws = wb.add_worksheet(SHEETS[3])
    end = table(ws, 0, r.comments, {"Góp ý": 70, "Đánh giá": 45, "Chủ đề": 28, "Thời gian": 20})
    if r.comments_total > len(r.comments):
        ws.write_string(end + 1, 0, f"Chỉ ghi {len(r.comments)} góp ý mới nhất trong tổng số {r.comments_total}.")
    ws.freeze_panes(1, 0)

    ws = wb.add_worksheet(SHEETS[4])
    table(ws, 0, _exclusions_frame(r), {"Lý do loại": 40, "Góp ý": 50, "Thời gian": 20})

    ws = wb.add_worksheet(SHEETS[5])
    ws.set_column(0, 0, 32)
    for i, (label, value) in enumerate(_case_count_rows(r)):
        ws.write_string(i, 0, label, bold)
        cell(ws, i, 1, value)
    top = len(_case_count_rows(r)) + 1
    ws.write_string(top, 0, "Lịch sử thay đổi trong tháng (không thể sửa, xóa)", title)
    table(ws, top + 1, r.case_history, {"Ghi chú": 70, "Lúc": 20, "Việc": 22, "Từ": 22, "Sang": 22})

    ws = wb.add_worksheet(SHEETS[6])
    end = table(ws, 0, r.staff, {"Họ tên": 28, "Ghi chú": 20})
    ws.write_string(end + 1, 0, analysis.STAFF_MEASURE_NOTE)
    ws.write_string(end + 2, 0, f"Chỉ ghi kết quả của cán bộ có ít nhất {r.staff_min_n} phiếu trong tháng.")

    ws = wb.add_worksheet(SHEETS[7])
    wishes = r.expectations
    if wishes is not None:
        ws.write_string(0, 0, wishes.question)
        ws.write_string(1, 0, f"{wishes.respondents} phiếu trả lời câu hỏi này trong tháng.")
        if wishes.respondents:
            end = table(ws, 3, wishes.frame, {"Nội dung": 70})
            share = "(Mong muốn + Rất mong muốn) / n" if wishes.mode == "rating" else "số người chọn / n"
            ws.write_string(end + 1, 0, f"Tỷ lệ = {share}; KTC 95%: khoảng tin cậy Wilson.")
    wb.close()
    return buf.getvalue()


# ------------------------------------------------------------------------------------- PDF


def _chart_pngs(r: MonthlyReport) -> list[bytes]:
    from sipas.reports import charts

    out = []
    floor, target = r.targets["floor"], r.targets["overall"]
    if r.criteria["Chỉ số (%)"].notna().any():
        out.append(charts.to_png(charts.criteria_chart(r.criteria, target, floor), CHART_SCALE))
        out.append(
            charts.to_png(
                charts.likert_chart(analysis.level_distribution(r.result), list(r.criteria["Mã"])), CHART_SCALE
            )
        )
    if not r.trend.empty and r.trend["Chỉ số chung (%)"].notna().any():
        out.append(charts.to_png(charts.trend_chart(r.trend, target, floor), CHART_SCALE))
    if not r.pchart.empty and r.pchart["n"].sum() > 0:
        out.append(charts.to_png(charts.p_chart_chart(r.pchart), CHART_SCALE))
    return out


def _element_rows(r: MonthlyReport) -> list[list[str]]:
    """The elements table of the PDF and the Word file (header first), as the reader sees it."""
    return [["Yếu tố", "Chỉ số (%)", "Gốc (%)", "Chênh lệch", "Xếp loại"]] + [
        [
            f"{e['Mã']}. {e['Yếu tố']}",
            _fmt(e["Chỉ số (%)"]),
            _fmt(e["Gốc (%)"]),
            _fmt(e["Chênh lệch (điểm %)"]),
            e["Xếp loại"] or "—",
        ]
        for _, e in r.elements.iterrows()
    ]


def _expectation_rows(r: MonthlyReport) -> list[list[str]]:
    """What citizens most want improved, for the PDF and the Word file (header first); [] without answers."""
    w = r.expectations
    if w is None or not w.respondents:
        return []
    share = "% mong muốn trở lên" if w.mode == "rating" else "% chọn"
    return [["Nội dung", "n", "Tỷ lệ (%)", "KTC 95%"]] + [
        [
            f"{int(x['Số'])}. {x['Nội dung']}",
            str(int(x["n"])),
            _fmt(x[share], 1) if _num(x[share]) is not None else "—",
            f"{_fmt(x['KTC 95% thấp'], 1)}–{_fmt(x['KTC 95% cao'], 1)}" if _num(x[share]) is not None else "—",
        ]
        for _, x in w.frame.iterrows()
    ]


def _expectation_note(r: MonthlyReport) -> str:
    w = r.expectations
    if w is None or not w.respondents:
        return "Không có phiếu nào trả lời câu hỏi về mong muốn trong tháng (chỉ hỏi khi dùng phiếu đầy đủ)."
    share = "(Mong muốn + Rất mong muốn) / n" if w.mode == "rating" else "số người chọn / n"
    return f"{w.respondents} phiếu trả lời. Tỷ lệ = {share}; KTC 95%: khoảng tin cậy Wilson. Xếp từ cao xuống."


def to_pdf(r: MonthlyReport, with_charts: bool = True) -> bytes:  # noqa: C901
    """The same content as the workbook, on A4, with the charts as PNG images."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(FONTS_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{TITLE} {r.month_label}")
    pdf.set_author(r.unit_name)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    heading = FontFace(emphasis="BOLD", fill_color=(221, 235, 247))

    def h2(text: str) -> None:
        # A heading never stays alone at the foot of a page: it goes with what follows.
        if pdf.get_y() > pdf.h - pdf.b_margin - 45:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(width, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def para(text: str, size: int = 9) -> None:
        pdf.set_font("DejaVu", "", size)
        pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")

    def grid(rows: list[list[str]], widths: tuple[float, ...], size: int = 8) -> None:
        pdf.set_font("DejaVu", "", size)
        with pdf.table(col_widths=widths, headings_style=heading, line_height=4.5, text_align="LEFT", width=width) as t:
            for values in rows:
                line = t.row()
                for v in values:
                    line.cell(_text(v))

    head = r.letterhead
    top = pdf.get_y()
    left_w, right_w = width * 0.42, width * 0.58
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(left_w, 5, head.authority, align="C", new_x="LMARGIN", new_y="NEXT")
    if head.unit:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(left_w, 5, head.unit, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(left_w, 6, head.number, align="C", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left_w, top)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(right_w, 5, NATIONAL_NAME, align="C", new_x="LEFT", new_y="NEXT")
    pdf.multi_cell(right_w, 5, MOTTO, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(right_w, 6, head.place_date, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 4)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, head.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(
        width,
        6,
        f"Kết quả khảo sát mức độ hài lòng của người dân {r.month_label}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    para(f"Kính gửi: {r.recipient}", 10)
    para(INDEX_LABEL, 9)

    h2("Tổng hợp")
    summary = [["Nội dung", "Giá trị"]]
    for label, value in _summary_rows(r):
        if isinstance(value, str):
            text = value
        elif isinstance(value, int):
            text = str(value)
        else:
            text = _fmt(value)
        summary.append([label, text])
    grid(summary, (70, 110))

    h2("Yêu cầu của kế hoạch")
    grid(
        [["Yêu cầu", "Kết quả", "Chưa đạt ở"]]
        + [[rule, STATUS[ok], detail if ok is not True else ""] for rule, ok, detail in r.checklist],
        (60, 20, 100),
    )

    h2("Các yếu tố")
    grid(
        _element_rows(r),
        (80, 22, 22, 24, 32),
    )

    h2("Các tiêu chí (yếu nhất trước)")
    para(
        "KTC: khoảng tin cậy 95% (Wilson). Kiểm định: hai tỷ lệ (z, KTC Newcombe) khi số liệu gốc có số phiếu; "
        "nhị thức chính xác khi chỉ có số công bố. p đã hiệu chỉnh Holm cho nhiều tiêu chí.",
        8,
    )
    pdf.ln(1)
    crit = [["Mã", "Tiêu chí", "n", "Chỉ số (%)", "KTC 95%", "Gốc (%)", "p (Holm)", "Kết luận"]]
    for _, c in r.criteria.iterrows():
        crit.append(
            [
                c["Mã"],
                c["Tiêu chí"],
                str(int(c["n"])),
                _fmt(c["Chỉ số (%)"]),
                f"{_fmt(c['KTC 95% thấp'], 1)}–{_fmt(c['KTC 95% cao'], 1)}" if _num(c["Chỉ số (%)"]) else "—",
                _fmt(c["Gốc (%)"]),
                _fmt(c["p (Holm)"], 3),
                f"{c['Xếp loại'] or '—'}; {c['Kết luận']}",
            ]
        )
    grid(crit, (12, 62, 10, 15, 19, 14, 14, 34), size=7)
    for line in _crosswalk_lines(r):
        para(line, 8)

    if with_charts:
        pngs = _chart_pngs(r)
        chart_w = width * 0.8  # two charts fit on a page; full width would leave one per page

        def chart_height(png: bytes) -> float:
            px_w, px_h = struct.unpack(">II", png[16:24])  # the PNG header's IHDR width and height
            return chart_w * px_h / px_w

        if pngs and pdf.get_y() + 12 + chart_height(pngs[0]) > pdf.h - pdf.b_margin:
            pdf.add_page()  # the heading goes with its first chart
        h2("Biểu đồ")
        for png in pngs:
            if pdf.get_y() + chart_height(png) > pdf.h - pdf.b_margin:
                pdf.add_page()
            pdf.image(io.BytesIO(png), w=chart_w, x=pdf.l_margin + (width - chart_w) / 2)
            pdf.ln(3)

    h2("Xu hướng theo tháng")
    t = _trend_frame(r)
    rows = [["Tháng", "Số phiếu", "Chỉ số chung", "Câu hỏi chung", "Không hài lòng", "Giới hạn trên", "Ngoài GH"]]
    for _, x in t.iterrows():
        rows.append(
            [
                x["Tháng"],
                str(int(x["Số phiếu"])),
                _fmt(x["Chỉ số chung (%)"]),
                _fmt(x["Câu hỏi chung (%)"]),
                _fmt(x.get("Tỷ lệ không hài lòng (%)")),
                _fmt(x.get("Giới hạn trên (%)")),
                x.get("Ngoài giới hạn", "") or "",
            ]
        )
    grid(rows, (22, 20, 26, 28, 28, 28, 28))
    for month, before, now in analysis.version_changes(r.trend):
        para(f"Từ tháng {month}: đổi mẫu phiếu từ {version_label(before)} sang {version_label(now)}.", 8)

    h2(f"Góp ý của người dân ({r.comments_total})")
    if r.comments.empty:
        para("Không có góp ý trong tháng.")
    else:
        shown = r.comments.head(PDF_COMMENTS)
        grid(
            [["Thời gian", "Chủ đề", "Góp ý"]]
            + [[x["Thời gian"], x["Chủ đề"], x["Góp ý"]] for _, x in shown.iterrows()],
            (32, 38, 110),
        )
        if r.comments_total > len(shown):
            para(f"Chỉ in {len(shown)} góp ý mới nhất trong {r.comments_total}; các góp ý khác có trong tệp Excel.", 8)

    h2("Chất lượng dữ liệu: phiếu đã loại khỏi chỉ số")
    if r.exclusions.empty:
        para("Không có phiếu nào bị loại trong tháng.")
    else:
        grid(
            [["Mã phiếu", "Thời gian", "Lý do loại", "Người loại"]]
            + [
                [str(x["id"]), x["submitted_at"], x["exclude_reason"] or "", x["excluded_by"] or ""]
                for _, x in r.exclusions.iterrows()
            ],
            (20, 35, 95, 30),
        )

    h2("Yếu tố 3 (công chức) theo cán bộ")
    para(analysis.STAFF_MEASURE_NOTE + f" Chỉ ghi kết quả khi có ít nhất {r.staff_min_n} phiếu.", 8)
    if r.staff.empty:
        para("Chưa có phiếu nào ghi tên cán bộ trong tháng.")
    else:
        grid(
            [["Cán bộ", "Số phiếu", "Câu trả lời", "Chỉ số (%)", "KTC 95%"]]
            + [
                [
                    f"{x['Họ tên']} ({x['Mã']})",
                    str(int(x["Số phiếu"])),
                    str(int(x["Câu trả lời"])),
                    _fmt(x[analysis.STAFF_MEASURE]) if _num(x[analysis.STAFF_MEASURE]) is not None else x["Ghi chú"],
                    f"{_fmt(x['KTC 95% thấp'], 1)}–{_fmt(x['KTC 95% cao'], 1)}"
                    if _num(x[analysis.STAFF_MEASURE]) is not None
                    else "—",
                ]
                for _, x in r.staff.iterrows()
            ],
            (70, 22, 26, 30, 32),
        )

    h2("Người dân mong muốn cải thiện")
    para(_expectation_note(r), 8)
    if _expectation_rows(r):
        grid(_expectation_rows(r), (110, 15, 25, 30))

    h2("Phản ánh và biện pháp khắc phục")
    grid([["Chỉ tiêu", "Số"]] + [[label, str(value)] for label, value in _case_count_rows(r)], (120, 60))
    if r.case_history.empty:
        para("Không có thay đổi nào về các vụ việc trong tháng.")
    else:
        para("Lịch sử thay đổi trong tháng (không thể sửa, xóa):", 8)
        grid(
            [["Số", "Lúc", "Người", "Việc", "Sang", "Ghi chú"]]
            + [
                [str(x["Vụ việc số"]), x["Lúc"], x["Người"], x["Việc"], x["Sang"], x["Ghi chú"]]
                for _, x in r.case_history.head(PDF_COMMENTS).iterrows()
            ],
            (10, 30, 22, 28, 30, 60),
        )

    # Nơi nhận (left) and the signer (right), kept together on one page.
    if pdf.get_y() + 30 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(width * 0.5, 5, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for line in recipients_lines(r):
        pdf.multi_cell(width * 0.5, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + width * 0.5, top)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width * 0.5, 5, f"{SIGNER_AUTHORITY}\n{SIGNER_TITLE}", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width * 0.5, 5, "(Ký, ghi rõ họ tên, đóng dấu)", align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def recipients_lines(r: MonthlyReport) -> list[str]:
    """The "Nơi nhận" list of the form: the level above, the Chairman, the archive."""
    return [f"- {r.recipient};", "- Chủ tịch, các Phó Chủ tịch UBND;", "- Lưu: VT."]


# ------------------------------------------------------------------------------------- Word


def to_docx(r: MonthlyReport) -> bytes:
    """The report as an editable Word file in the administrative-document form (Nghị định 30/2020/NĐ-CP):
    letterhead, title, the figures with their criteria statements, nơi nhận and the signer's block.
    Communes edit and sign reports in Word; every number is written with a decimal comma."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)  # NĐ 30: left 30–35 mm, right 15–20 mm
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    doc.core_properties.title = f"{TITLE} {r.month_label}"
    doc.core_properties.author = r.unit_name

    def line(cell_or_doc, text: str, *, bold=False, italic=False, size=None, align=None, after=0):
        p = cell_or_doc.add_paragraph()
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        p.paragraph_format.space_after = Pt(after)
        return p

    def no_borders(table) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), "nil")
            borders.append(el)
        table._tbl.tblPr.append(borders)

    head = r.letterhead
    centre = WD_ALIGN_PARAGRAPH.CENTER
    top = doc.add_table(rows=1, cols=2)
    no_borders(top)
    left, right = top.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    left.paragraphs[0].text = ""
    right.paragraphs[0].text = ""
    line(left, head.authority, size=12, align=centre)
    if head.unit:
        line(left, head.unit, bold=True, size=12, align=centre)
    line(left, head.number, size=13, align=centre)
    line(right, NATIONAL_NAME, bold=True, size=12, align=centre)
    line(right, MOTTO, bold=True, size=13, align=centre)
    line(right, head.place_date, italic=True, size=13, align=centre)

    line(doc, head.title, bold=True, size=14, align=centre)
    line(doc, f"Kết quả khảo sát mức độ hài lòng của người dân {r.month_label}", bold=True, align=centre, after=6)
    line(doc, f"Kính gửi: {r.recipient}", align=centre, after=6)

    def heading(text: str) -> None:
        line(doc, text, bold=True, after=3)

    def table(rows: list[list[str]], widths_cm: list[float] | None = None, size: int = 11) -> None:
        t = doc.add_table(rows=len(rows), cols=len(rows[0]))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for i, values in enumerate(rows):
            for j, value in enumerate(values):
                cell = t.cell(i, j)
                cell.text = ""
                run = cell.paragraphs[0].add_run(_text(value))
                run.font.size = Pt(size)
                run.bold = i == 0
                if widths_cm:
                    cell.width = Cm(widths_cm[j])
        doc.add_paragraph().paragraph_format.space_after = Pt(0)

    heading("I. KẾT QUẢ CHUNG")
    line(doc, INDEX_LABEL + ".", italic=True, after=3)
    summary = [["Nội dung", "Giá trị"]]
    for label, value in _summary_rows(r):
        if label in ("Đơn vị", "Nơi nhận"):
            continue
        summary.append(
            [label, value if isinstance(value, str) else (str(value) if isinstance(value, int) else _fmt(value))]
        )
    table(summary, [8, 8])

    heading("II. YÊU CẦU CỦA KẾ HOẠCH")
    table(
        [["Yêu cầu", "Kết quả", "Ghi chú"]]
        + [[rule, STATUS[ok], detail if ok is not True else ""] for rule, ok, detail in r.checklist],
        [6, 2.5, 7.5],
    )
    warning = analysis.small_sample_warning(r.result)
    if warning:
        line(doc, warning, italic=True, after=3)

    heading("III. CÁC YẾU TỐ")
    table(
        _element_rows(r),
        [7, 2.2, 2.2, 2.3, 2.3],
    )

    heading("IV. CÁC TIÊU CHÍ (YẾU NHẤT TRƯỚC)")
    table(
        [["Mã", "Tiêu chí", "n", "Chỉ số (%)", "KTC 95%", "Kết luận"]]
        + [
            [
                c["Mã"],
                c["Tiêu chí"],
                str(int(c["n"])),
                _fmt(c["Chỉ số (%)"]),
                f"{_fmt(c['KTC 95% thấp'], 1)}–{_fmt(c['KTC 95% cao'], 1)}" if _num(c["Chỉ số (%)"]) else "—",
                f"{c['Xếp loại'] or '—'}; {c['Kết luận']}",
            ]
            for _, c in r.criteria.iterrows()
        ],
        [1.4, 6.6, 1.1, 1.8, 2.3, 2.8],
        size=10,
    )

    heading("V. YẾU TỐ 3 (CÔNG CHỨC) THEO CÁN BỘ")
    line(doc, analysis.STAFF_MEASURE_NOTE + f" Chỉ ghi kết quả khi có ít nhất {r.staff_min_n} phiếu.", size=11, after=3)
    if r.staff.empty:
        line(doc, "Chưa có phiếu nào ghi tên cán bộ trong tháng.", after=3)
    else:
        shown = _num
        table(
            [["Cán bộ", "Số phiếu", "Chỉ số (%)", "KTC 95%"]]
            + [
                [
                    f"{x['Họ tên']} ({x['Mã']})",
                    str(int(x["Số phiếu"])),
                    _fmt(x[analysis.STAFF_MEASURE]) if shown(x[analysis.STAFF_MEASURE]) is not None else x["Ghi chú"],
                    f"{_fmt(x['KTC 95% thấp'], 1)}–{_fmt(x['KTC 95% cao'], 1)}"
                    if shown(x[analysis.STAFF_MEASURE]) is not None
                    else "—",
                ]
                for _, x in r.staff.iterrows()
            ],
            [7, 2.5, 3, 3.5],
        )

    heading("VI. PHẢN ÁNH VÀ BIỆN PHÁP KHẮC PHỤC")
    table([["Chỉ tiêu", "Số"]] + [[label, str(value)] for label, value in _case_count_rows(r)], [12, 4])

    heading(f"VII. GÓP Ý CỦA NGƯỜI DÂN ({r.comments_total})")
    if r.comments.empty:
        line(doc, "Không có góp ý trong tháng.", after=3)
    else:
        table(
            [["Thời gian", "Chủ đề", "Góp ý"]]
            + [[x["Thời gian"], x["Chủ đề"], x["Góp ý"]] for _, x in r.comments.head(20).iterrows()],
            [3, 3.5, 9.5],
            size=10,
        )
        if r.comments_total > 20:
            line(
                doc,
                f"Chỉ ghi 20 góp ý mới nhất trong {r.comments_total}; các góp ý khác có trong tệp Excel.",
                italic=True,
                size=11,
            )

    heading("VIII. NGƯỜI DÂN MONG MUỐN CẢI THIỆN")
    line(doc, _expectation_note(r), size=11, after=3)
    if _expectation_rows(r):
        table(_expectation_rows(r), [9.5, 1.5, 2.2, 2.8], size=10)

    sign = doc.add_table(rows=1, cols=2)
    no_borders(sign)
    left, right = sign.rows[0].cells
    left.paragraphs[0].text = ""
    right.paragraphs[0].text = ""
    p = line(left, "Nơi nhận:", bold=True, italic=True, size=12)
    for text in recipients_lines(r):
        line(left, text, size=11)
    line(right, SIGNER_AUTHORITY, bold=True, size=13, align=centre)
    line(right, SIGNER_TITLE, bold=True, size=13, align=centre)
    line(right, "(Ký, ghi rõ họ tên, đóng dấu)", italic=True, size=12, align=centre, after=60)
    del p

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------------- files


def write_report(conn: sqlite3.Connection, month: str, out: str | Path) -> Path:
    """Build the report of ``month`` and write it to ``out`` (.xlsx, .pdf or .docx, by its extension)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(f'Tệp "{path.name}": chỉ nhận đuôi .xlsx, .pdf hoặc .docx.')
    parse_month(month)
    report = build_report(conn, month)
    data = {".xlsx": to_excel, ".pdf": to_pdf, ".docx": to_docx}[suffix](report)
    path.write_bytes(data)
    return path
