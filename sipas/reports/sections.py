"""The sections of the monthly report's PDF and Word file, derived from the model in one place.

:func:`sections` turns a :class:`~sipas.reports.model.MonthlyReport` into an ordered list of
:class:`Section` (a title, then paragraphs and tables of text); ``pdf`` and ``word`` only lay that list
out. The two documents differ on purpose, and only here: the PDF is the full printout (tests, trend,
exclusions, the case history, up to 100 comments), the Word file the short report a commune edits and
signs (fewer columns, 20 comments, its own order). Also here: the parts of the administrative-document
form (Nghị định 30/2020/NĐ-CP) that both print around the sections.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from sipas import clock
from sipas.catalog import version_label
from sipas.index import dossiers as dossier_figures
from sipas.index import plan_checks, staff_index, trends
from sipas.reports.model import (
    INDEX_LABEL,
    STATUS,
    MonthlyReport,
    case_count_rows,
    fmt,
    number,
    summary_rows,
    trend_frame,
)

Form = Literal["pdf", "docx"]
PDF: Form = "pdf"
WORD: Form = "docx"

# Nghị định 30/2020/NĐ-CP, Phụ lục I: quốc hiệu and tiêu ngữ as the form prints them.
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SIGNER_AUTHORITY = "TM. ỦY BAN NHÂN DÂN"
SIGNER_TITLE = "CHỦ TỊCH"
# Phụ lục I: under the issuer's name a line 1/3 to 1/2 as long as the name; under the motto a line as long
# as the motto (both centred).
ISSUER_RULE_SHARE = 0.4
PDF_COMMENTS = 100  # in the PDF (the newest); the workbook has the rest
WORD_COMMENTS = 20
PDF_LATE = 100  # late dossiers in the PDF (most overdue first); the workbook has the rest
WORD_LATE = 20
CHARTS = "charts"  # the key of the PDF's charts section: no blocks, the PDF draws the images itself

# The paragraph styles each renderer maps to a font: ``body`` text, a small ``note``, the ``legend`` of the
# table below it, an ``aside`` about what is left out, an ``emphasis`` (a warning, the index's full name).
Style = Literal["body", "note", "legend", "aside", "emphasis"]


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: Style = "body"


@dataclass(frozen=True)
class Table:
    """A table of text, header row first; widths in mm for the PDF, in cm for Word; size None: the default."""

    rows: list[list[str]]
    widths: tuple[float, ...]
    size: int | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: list[Paragraph | Table] = field(default_factory=list)


def sections(r: MonthlyReport, form: Form) -> list[Section]:
    """The sections of the ``form`` ("pdf" or "docx") of ``r``, in that document's order."""
    return [BUILDERS[key](r, form) for key in ORDER[form]]


def subtitle(r: MonthlyReport) -> str:
    """The line under the title "BÁO CÁO"."""
    return f"Kết quả khảo sát mức độ hài lòng của người dân {r.month_label}"


def recipients_lines(r: MonthlyReport) -> list[str]:
    """The "Nơi nhận" list of the form: the level above, the Chairman, the archive."""
    return [f"- {r.recipient};", "- Chủ tịch, các Phó Chủ tịch UBND;", "- Lưu: VT."]


def closing(r: MonthlyReport) -> Paragraph:
    """The body's last sentence, ending "./." as the form's content does; the signature stays with it."""
    return Paragraph(
        f"Trên đây là báo cáo kết quả khảo sát mức độ hài lòng của người dân {r.month_label} "
        f"của {r.letterhead.issuer_name}./."
    )


def balanced_lines(phrases: Sequence[str], width: Callable[[str], float], limit: float) -> list[str]:
    """``phrases`` on as few lines of at most ``limit`` wide as they fit, broken only between phrases, the
    widest line as narrow as it can be (so never one short word left alone on a line); a phrase wider than
    ``limit`` is broken between its words the same way.

    >>> balanced_lines(["ỦY BAN NHÂN DÂN", "XÃ TU BÔNG"], len, 20)
    ['ỦY BAN NHÂN DÂN', 'XÃ TU BÔNG']
    >>> balanced_lines(["TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"], len, 28)
    ['TRUNG TÂM PHỤC VỤ', 'HÀNH CHÍNH CÔNG']
    >>> balanced_lines(["UBND", "TỈNH KHÁNH HÒA"], len, 40)
    ['UBND TỈNH KHÁNH HÒA']
    >>> balanced_lines(["A BB", "CCCCCCCCCC D"], len, 6)
    ['A BB', 'CCCCCCCCCC', 'D']
    """
    units = [p.strip() for p in phrases if p.strip()]
    if any(width(u) > limit for u in units):
        units = [w for u in units for w in (u.split() if width(u) > limit else [u])]
    fewest = _wrapped(units, width, limit)
    # The narrowest width that still needs no more lines: the widest line of the most even break.
    spans = sorted({width(" ".join(units[i:j])) for i in range(len(units)) for j in range(i + 1, len(units) + 1)})
    for cap in spans:
        lines = _wrapped(units, width, cap)
        # (a line wider than ``limit`` only when it is one word that is wider by itself)
        fits = all(width(line) <= cap and (width(line) <= limit or " " not in line) for line in lines)
        if len(lines) <= len(fewest) and fits:
            return lines
    return fewest


def _wrapped(units: list[str], width: Callable[[str], float], limit: float) -> list[str]:
    """``units`` filled line by line up to ``limit`` (a unit wider than that on a line of its own)."""
    lines: list[str] = []
    for unit in units:
        if lines and width(f"{lines[-1]} {unit}") <= limit:
            lines[-1] = f"{lines[-1]} {unit}"
        else:
            lines.append(unit)
    return lines


def cell_text(value) -> str:
    """A table cell's text: missing values (None, NaN, NA) are empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


# ------------------------------------------------------------------------------------- the sections


def findings_blocks(r: MonthlyReport) -> list[Paragraph]:
    """The month's findings (sipas.index.findings), one paragraph each, before any table."""
    return [Paragraph(line) for line in r.findings]


def _summary(r: MonthlyReport, form: Form) -> Section:
    rows = [["Nội dung", "Giá trị"]]
    for label, value in summary_rows(r):
        if form == WORD and label in ("Đơn vị", "Nơi nhận"):
            continue  # the Word file names them in its letterhead and "Kính gửi"
        rows.append([label, _summary_text(value)])
    lead = findings_blocks(r)
    if form == PDF:
        return Section("summary", "Tổng hợp", [*lead, Table(rows, (70, 110))])
    return Section("summary", "Kết quả chung", [Paragraph(INDEX_LABEL + ".", "emphasis"), *lead, Table(rows, (8, 8))])


def _summary_text(value) -> str:
    """Text as it is, a count as a whole number, any other number with two decimals ("—" when missing)."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) else fmt(value)


def _checklist(r: MonthlyReport, form: Form) -> Section:
    rows = [["Yêu cầu", "Kết quả", "Chưa đạt ở" if form == PDF else "Ghi chú"]] + [
        [rule, STATUS[ok], detail if ok is not True else ""] for rule, ok, detail in r.checklist
    ]
    blocks: list[Paragraph | Table] = [Table(rows, (60, 20, 100) if form == PDF else (6, 2.5, 7.5))]
    warning = plan_checks.small_sample_warning(r.result)
    if form == WORD and warning:
        blocks.append(Paragraph(warning, "emphasis"))
    return Section("checklist", "Yêu cầu của kế hoạch", blocks)


def _elements(r: MonthlyReport, form: Form) -> Section:
    rows = [["Yếu tố", "Chỉ số (%)", "Gốc (%)", "Chênh lệch", "Xếp loại"]] + [
        [
            f"{e['Mã']}. {e['Yếu tố']}",
            fmt(e["Chỉ số (%)"]),
            fmt(e["Gốc (%)"]),
            fmt(e["Chênh lệch (điểm %)"]),
            e["Xếp loại"] or "—",
        ]
        for _, e in r.elements.iterrows()
    ]
    widths = (80, 22, 22, 24, 32) if form == PDF else (7, 2.2, 2.2, 2.3, 2.3)
    return Section("elements", "Các yếu tố", [Table(rows, widths)])


def _criteria(r: MonthlyReport, form: Form) -> Section:
    """The criteria, weakest first; the PDF adds the baseline, the tests and what the crosswalk cannot say."""
    tests = form == PDF
    rows = [["Mã", "Tiêu chí", "n", "Chỉ số (%)", "KTC 95%", *(["Gốc (%)", "p (Holm)"] if tests else []), "Kết luận"]]
    for _, c in r.criteria.iterrows():
        rows.append(
            [
                c["Mã"],
                c["Tiêu chí"],
                str(int(c["n"])),
                fmt(c["Chỉ số (%)"]),
                f"{fmt(c['KTC 95% thấp'], 1)}–{fmt(c['KTC 95% cao'], 1)}" if number(c["Chỉ số (%)"]) else "—",
                *([fmt(c["Gốc (%)"]), clock.format_p(c["p (Holm)"])] if tests else []),
                f"{c['Xếp loại'] or '—'}; {c['Kết luận']}",
            ]
        )
    title = "Các tiêu chí (yếu nhất trước)"
    if not tests:
        return Section("criteria", title, [Table(rows, (1.4, 6.6, 1.1, 1.8, 2.3, 2.8), size=10)])
    legend = (
        "KTC: khoảng tin cậy 95% (Wilson). Kiểm định: hai tỷ lệ (z, KTC Newcombe) khi số liệu gốc có số phiếu; "
        "nhị thức chính xác khi chỉ có số công bố. p đã hiệu chỉnh Holm cho nhiều tiêu chí."
    )
    table = Table(rows, (12, 62, 10, 15, 19, 14, 14, 34), size=7)
    return Section("criteria", title, [Paragraph(legend, "legend"), table, *_crosswalk_notes(r)])


def _crosswalk_notes(r: MonthlyReport) -> list[Paragraph]:
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
    return [Paragraph(line, "note") for line in lines]


def _charts(r: MonthlyReport, form: Form) -> Section:
    return Section(CHARTS, "Biểu đồ")


def _trend(r: MonthlyReport, form: Form) -> Section:
    rows = [["Tháng", "Số phiếu", "Chỉ số chung", "Câu hỏi chung", "Không hài lòng", "Giới hạn trên", "Ngoài GH"]]
    for _, x in trend_frame(r).iterrows():
        rows.append(
            [
                x["Tháng"],
                str(int(x["Số phiếu"])),
                fmt(x["Chỉ số chung (%)"]),
                fmt(x["Câu hỏi chung (%)"]),
                fmt(x.get("Tỷ lệ không hài lòng (%)")),
                fmt(x.get("Giới hạn trên (%)")),
                x.get("Ngoài giới hạn", "") or "",
            ]
        )
    changes = [
        Paragraph(f"Từ tháng {month}: đổi mẫu phiếu từ {version_label(before)} sang {version_label(now)}.", "note")
        for month, before, now in trends.version_changes(r.trend)
    ]
    return Section("trend", "Xu hướng theo tháng", [Table(rows, (22, 20, 26, 28, 28, 28, 28)), *changes])


def _comments(r: MonthlyReport, form: Form) -> Section:
    title = f"Góp ý của người dân ({r.comments_total})"
    if r.comments.empty:
        return Section("comments", title, [Paragraph("Không có góp ý trong tháng.")])
    limit = PDF_COMMENTS if form == PDF else WORD_COMMENTS
    shown = r.comments.head(limit)
    rows = [["Thời gian", "Chủ đề", "Góp ý"]] + [
        [clock.format_stored(x["Thời gian"]), x["Chủ đề"], x["Góp ý"]] for _, x in shown.iterrows()
    ]
    blocks: list[Paragraph | Table] = [Table(rows, (32, 38, 110)) if form == PDF else Table(rows, (3, 3.5, 9.5), 10)]
    if r.comments_total > len(shown):
        verb = "in" if form == PDF else "ghi"
        blocks.append(
            Paragraph(
                f"Chỉ {verb} {len(shown)} góp ý mới nhất trong {r.comments_total}; các góp ý khác có trong tệp Excel.",
                "aside",
            )
        )
    return Section("comments", title, blocks)


def _exclusions(r: MonthlyReport, form: Form) -> Section:
    title = "Chất lượng dữ liệu: phiếu đã loại khỏi chỉ số"
    if r.exclusions.empty:
        return Section("exclusions", title, [Paragraph("Không có phiếu nào bị loại trong tháng.")])
    rows = [["Mã phiếu", "Thời gian", "Lý do loại", "Người loại"]] + [
        [str(x["id"]), clock.format_stored(x["submitted_at"]), x["exclude_reason"] or "", x["excluded_by"] or ""]
        for _, x in r.exclusions.iterrows()
    ]
    return Section("exclusions", title, [Table(rows, (20, 35, 95, 30))])


def _staff(r: MonthlyReport, form: Form) -> Section:
    """Element 3 per staff member; the PDF adds the number of answers."""
    note = Paragraph(staff_index.STAFF_MEASURE_NOTE + f" Chỉ ghi kết quả khi có ít nhất {r.staff_min_n} phiếu.", "note")
    shrunk_note = Paragraph(
        staff_index.STAFF_SHRUNK_NOTE + " Cột “Đã hiệu chỉnh”: ước lượng (KTC 95%), n là số phiếu.", "note"
    )
    title = "Yếu tố 3 (công chức) theo cán bộ"
    if r.staff.empty:
        return Section("staff", title, [note, Paragraph("Chưa có phiếu nào ghi tên cán bộ trong tháng.")])
    answers = form == PDF
    rows = [["Cán bộ", "Số phiếu", *(["Câu trả lời"] if answers else []), "Chỉ số (%)", "KTC 95%", "Đã hiệu chỉnh"]]
    for _, x in r.staff.iterrows():
        shown = number(x[staff_index.STAFF_MEASURE]) is not None
        est = number(x[staff_index.STAFF_SHRUNK])
        rows.append(
            [
                f"{x['Họ tên']} ({x['Mã']})",
                str(int(x["Số phiếu"])),
                *([str(int(x["Câu trả lời"]))] if answers else []),
                fmt(x[staff_index.STAFF_MEASURE]) if shown else x["Ghi chú"],
                f"{fmt(x['KTC 95% thấp'], 1)}–{fmt(x['KTC 95% cao'], 1)}" if shown else "—",
                f"{fmt(est, 1)} ({fmt(x[staff_index.SHRUNK_LOW], 1)}–{fmt(x[staff_index.SHRUNK_HIGH], 1)})"
                if est is not None
                else "—",
            ]
        )
    widths = (56, 18, 20, 24, 26, 36) if answers else (5.5, 2, 2.5, 2.5, 3.5)
    return Section("staff", title, [note, shrunk_note, Table(rows, widths)])


def _expectations(r: MonthlyReport, form: Form) -> Section:
    """What citizens most want improved (header first); no table without answers."""
    w = r.expectations
    title = "Người dân mong muốn cải thiện"
    if w is None or not w.respondents:
        note = "Không có phiếu nào trả lời câu hỏi về mong muốn trong tháng (chỉ hỏi khi dùng phiếu đầy đủ)."
        return Section("expectations", title, [Paragraph(note, "note")])
    formula = "(Mong muốn + Rất mong muốn) / n" if w.mode == "rating" else "số người chọn / n"
    note = f"{w.respondents} phiếu trả lời. Tỷ lệ = {formula}; KTC 95%: khoảng tin cậy Wilson. Xếp từ cao xuống."
    share = "% mong muốn trở lên" if w.mode == "rating" else "% chọn"
    rows = [["Nội dung", "n", "Tỷ lệ (%)", "KTC 95%"]] + [
        [
            f"{int(x['Số'])}. {x['Nội dung']}",
            str(int(x["n"])),
            fmt(x[share], 1) if number(x[share]) is not None else "—",
            f"{fmt(x['KTC 95% thấp'], 1)}–{fmt(x['KTC 95% cao'], 1)}" if number(x[share]) is not None else "—",
        ]
        for _, x in w.frame.iterrows()
    ]
    table = Table(rows, (110, 15, 25, 30)) if form == PDF else Table(rows, (9.5, 1.5, 2.2, 2.8), 10)
    return Section("expectations", title, [Paragraph(note, "note"), table])


def _cases(r: MonthlyReport, form: Form) -> Section:
    """The month's case counts; the PDF adds the case history."""
    counts = [["Chỉ tiêu", "Số"]] + [[label, str(value)] for label, value in case_count_rows(r)]
    blocks: list[Paragraph | Table] = [Table(counts, (120, 60) if form == PDF else (12, 4))]
    if form == PDF and r.case_history.empty:
        blocks.append(Paragraph("Không có thay đổi nào về các vụ việc trong tháng."))
    elif form == PDF:
        history = [["Số", "Lúc", "Người", "Việc", "Sang", "Ghi chú"]] + [
            [str(x["Vụ việc số"]), clock.format_stored(x["Lúc"]), x["Người"], x["Việc"], x["Sang"], x["Ghi chú"]]
            for _, x in r.case_history.head(PDF_COMMENTS).iterrows()
        ]
        blocks += [
            Paragraph("Lịch sử thay đổi trong tháng (không thể sửa, xóa):", "note"),
            Table(history, (10, 30, 22, 28, 30, 60)),
        ]
    return Section("cases", "Phản ánh và biện pháp khắc phục", blocks)


DOSSIERS_TITLE = "Hồ sơ thủ tục hành chính và nhóm chỉ số hài lòng (QĐ 766)"


def _interval(low, high) -> str:
    return f"{fmt(low, 1)}–{fmt(high, 1)}" if number(low) is not None else "—"


def _dossiers(r: MonthlyReport, form: Form) -> Section:
    """The dossier log of the month: on time per lĩnh vực, the digital targets, QĐ 766, beside the survey,
    the late list (the PDF adds the early/on-time split and prints more late dossiers)."""
    v = r.dossiers
    if v is None:
        return Section("dossiers", DOSSIERS_TITLE, [Paragraph(dossier_figures.NO_DOSSIERS, "note")])
    pdf = form == PDF
    blocks: list[Paragraph | Table] = [Paragraph(dossier_figures.headline(v))]
    on_time = [["Lĩnh vực", "Tiếp nhận", "Có kết quả", *(["Trước hạn", "Đúng hạn"] if pdf else []), "Trễ hạn",
                "Trước và đúng hạn (%)", "KTC 95%", "Quá hạn chưa xong"]]  # fmt: skip
    for _, x in dossier_figures.on_time_frame(v).iterrows():
        on_time.append(
            [
                str(x["Lĩnh vực"]),
                str(x["Tiếp nhận"]),
                str(x["Đã có kết quả"]),
                *([str(x["Trước hạn"]), str(x["Đúng hạn"])] if pdf else []),
                str(x["Trễ hạn"]),
                fmt(x["Trước và đúng hạn (%)"], 1),
                _interval(x["KTC 95% thấp"], x["KTC 95% cao"]),
                str(x["Quá hạn chưa có kết quả"]),
            ]
        )
    blocks += [
        Table(on_time, (40, 18, 18, 18, 18, 16, 20, 22, 20) if pdf else (3.6, 1.8, 1.8, 1.6, 2.2, 2.6, 2.4), 8),
        Paragraph(dossier_figures.ON_TIME_NOTE, "legend"),
    ]
    targets = [["Chỉ tiêu chuyển đổi số", "Kết quả", "Số liệu"]] + [
        [t.title, t.verdict_text, t.detail] for t in v.targets
    ]
    blocks.append(Table(targets, (70, 25, 85) if pdf else (6, 2.5, 7.5)))
    group = [["Tỷ lệ (QĐ 766)", "n", "Tỷ lệ (%)", "KTC 95%", "Trọng số", "Điểm"]] + [
        [x.label, str(x.share.n), fmt(x.share.index, 1), _interval(x.share.ci_low, x.share.ci_high),
         fmt(x.weight, 1), fmt(x.points, 2)]
        for x in v.group.ratios
    ]  # fmt: skip
    blocks.append(Table(group, (80, 14, 20, 26, 20, 20) if pdf else (6.4, 1.4, 2, 2.6, 1.8, 1.8), 8))
    blocks += [Paragraph(line, "emphasis" if line == dossier_figures.OFFICIAL_766 else "note")
               for line in dossier_figures.group_lines(v)]  # fmt: skip
    beside = [["Lĩnh vực", "Hồ sơ", "Trễ hoặc quá hạn (%)", "KTC 95%", "Phiếu", "Hài lòng (%)", "KTC 95%"]] + [
        [b["field"], str(b["late"].n), fmt(b["late"].index, 1), _interval(b["late"].ci_low, b["late"].ci_high),
         str(b["satisfied"].n), fmt(b["satisfied"].index, 1),
         _interval(b["satisfied"].ci_low, b["satisfied"].ci_high)]
        for b in v.beside
    ]  # fmt: skip
    blocks += [
        Paragraph("Hồ sơ trễ hạn bên cạnh mức hài lòng của người dân (câu hỏi chung, cùng lĩnh vực, cùng tháng):"),
        Table(beside, (44, 16, 26, 24, 16, 26, 28) if pdf else (4, 1.4, 2.2, 2.4, 1.4, 2.2, 2.4), 8),
    ]
    limit = PDF_LATE if pdf else WORD_LATE
    title = f"Hồ sơ trễ hạn hoặc quá hạn ({v.late_count}):"
    if not v.late:
        return Section("dossiers", DOSSIERS_TITLE, [*blocks, Paragraph("Không có hồ sơ trễ hạn trong tháng.")])
    late = [["Mã hồ sơ", "Thủ tục", "Lĩnh vực", "Ngày hẹn trả", "Ngày có kết quả", "Tình trạng"]] + [
        [x["Mã hồ sơ"], x["Thủ tục"], x["Lĩnh vực"], x["Ngày hẹn trả"], x["Ngày có kết quả"], x["Tình trạng"]]
        for _, x in dossier_figures.late_frame(v, limit).iterrows()
    ]
    blocks += [Paragraph(title), Table(late, (24, 50, 28, 26, 26, 26) if pdf else (2.4, 4.4, 2.4, 2.2, 2.2, 2.4), 8)]
    if v.late_count > len(late) - 1:
        verb = "in" if pdf else "ghi"
        blocks.append(
            Paragraph(f"Chỉ {verb} {len(late) - 1} hồ sơ trong {v.late_count}; danh sách có trong tệp Excel.", "aside")
        )
    return Section("dossiers", DOSSIERS_TITLE, blocks)


BUILDERS = {
    "summary": _summary,
    "checklist": _checklist,
    "elements": _elements,
    "criteria": _criteria,
    CHARTS: _charts,
    "trend": _trend,
    "comments": _comments,
    "exclusions": _exclusions,
    "staff": _staff,
    "expectations": _expectations,
    "cases": _cases,
    "dossiers": _dossiers,
}
ORDER: dict[Form, tuple[str, ...]] = {
    PDF: (
        "summary",
        "checklist",
        "elements",
        "criteria",
        CHARTS,
        "trend",
        "comments",
        "exclusions",
        "staff",
        "expectations",
        "cases",
        "dossiers",
    ),
    WORD: ("summary", "checklist", "elements", "criteria", "staff", "cases", "comments", "expectations", "dossiers"),
}
