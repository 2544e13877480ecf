"""The findings in sentences (sipas.index.findings) on a hand-made month, and the report leading with them:
the PDF (pypdf), the Word file and the workbook's first sheet (openpyxl)."""

from __future__ import annotations

import io
import math

import docx
import openpyxl
from pypdf import PdfReader

from sipas import db, reports
from sipas.catalog import questionnaire
from sipas.index import criterion_tables, findings
from sipas.index.comparison import DEFAULT_BANDS
from sipas.index.scoring import compute_index

Z = 1.959963984540054
TARGETS = {"overall": 87.0, "floor": 80.0}
BASELINE = [
    # TC2.3 published 2023 with its counts: 933 of 1000 satisfied (93,30); TC1.1 990 of 1000.
    {"year": 2023, "questionnaire": "sipas-2023", "level": "criterion", "code": "TC2.3", "index_value": 93.3,
     "n": 1000, "satisfied": 933},
    {"year": 2023, "questionnaire": "sipas-2023", "level": "criterion", "code": "TC1.1", "index_value": 99.0,
     "n": 1000, "satisfied": 990},
]  # fmt: skip


def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson's score interval written out here (Newcombe 1998, method 3), independent of sipas.index.stats."""
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def vn(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def month_counts(tc23_satisfied: int, n: int = 138) -> dict:
    """Every criterion of sipas-2023 all "Rất hài lòng" but TC2.3; the overall question 128 of 138 satisfied."""
    counts = {code: (0, 0, 0, 0, n) for code in questionnaire("sipas-2023").criterion_codes}
    counts["TC2.3"] = (0, n - tc23_satisfied, 0, 0, tc23_satisfied)
    counts["overall"] = (0, 0, n - 128, 0, 128)
    return counts


def expected_sentences() -> list[str]:
    lo, hi = wilson(128, 138)
    l1, u1 = wilson(110, 138)
    l2, u2 = wilson(933, 1000)
    p1, p2 = 110 / 138, 0.933
    d_lo = (p1 - p2) - math.hypot(p1 - l1, u2 - p2)
    d_hi = (p1 - p2) + math.hypot(u1 - p1, p2 - l2)
    # Overall: elements 1, 3, 4, 5 at 100; element 2 = (3 × 100 + 79,71) / 4 = 94,93; mean 98,99.
    return [
        f"Chỉ số chung 98,99% trên 138 phiếu, đạt chỉ tiêu 87%. Câu hỏi hài lòng chung: 92,75% (n = 138, "
        f"KTC 95% {vn(100 * lo, 1)}–{vn(100 * hi, 1)}).",
        f"Dưới mức sàn 80% của kế hoạch: TC2.3 (Phí, lệ phí đúng quy định) 79,71% (n = 138, "
        f"KTC 95% {vn(100 * l1, 1)}–{vn(100 * u1, 1)}).",
        "TC2.3 (Phí, lệ phí đúng quy định) giảm có ý nghĩa thống kê so với năm 2023: 93,30 → 79,71 (−13,59 điểm; "
        f"n = 138, KTC 95% của chênh lệch −{vn(-100 * d_lo, 1)} đến −{vn(-100 * d_hi, 1)}).",
        "1 tiêu chí khác được so sánh chưa khác biệt rõ so với năm 2023.",
    ]


def sentences(tc23_satisfied: int, responses: int = 138, baseline_year: int | None = 2023) -> list[str]:
    result = compute_index(questionnaire("sipas-2023"), month_counts(tc23_satisfied), responses)
    rows = BASELINE if baseline_year else []
    table = criterion_tables.criteria_table(result, rows, list(DEFAULT_BANDS))
    return findings.findings(result, table, TARGETS, baseline_year)


def test_a_significant_fall_is_said_with_both_values_and_the_change():
    assert sentences(110) == expected_sentences()


def test_nothing_changed_and_nothing_below_the_floor_is_said_too():
    lines = sentences(130)  # 94,20 against 93,30: no clear difference
    assert lines[1] == "Không yếu tố, tiêu chí nào dưới mức sàn 80% của kế hoạch."
    assert lines[2:] == [
        "Không tiêu chí nào thay đổi có ý nghĩa thống kê so với năm 2023 (2 tiêu chí được so sánh, "
        "đã hiệu chỉnh cho nhiều tiêu chí cùng lúc)."
    ]


def test_without_a_baseline_the_sentence_says_so():
    assert sentences(110, baseline_year=None)[-1] == "Chưa có số liệu gốc để so sánh với năm trước."


def test_below_the_target_the_gap_is_given():
    result = compute_index(questionnaire("sipas-2023"), {"TC1.1": (0, 40, 0, 0, 60)}, 100)
    table = criterion_tables.criteria_table(result, [], list(DEFAULT_BANDS))
    lines = findings.findings(result, table, TARGETS, None)
    assert lines[0] == "Chỉ số chung 60,00% trên 100 phiếu, dưới chỉ tiêu 87% (−27,00 điểm)."
    assert lines[1].startswith("Dưới mức sàn 80% của kế hoạch: yếu tố 1 (")
    assert "TC1.1 (Thông tin nhiều hình thức) 60,00% (n = 100, KTC 95% 50,2–69,1)" in lines[1]  # R: 50,20–69,06


def test_too_few_responses_are_not_judged():
    assert sentences(20, responses=25) == ["Chỉ có 25 phiếu trong kỳ (cần ít nhất 30): chưa đủ phiếu để kết luận."]


def stored_month(conn) -> None:
    """The hand-made month stored: 138 paper surveys of June 2024 on the 2022–2023 form, the 2023 baseline."""
    codes = questionnaire("sipas-2023").criterion_codes
    rows = []
    for i in range(138):
        answers = {code: 5 for code in codes}
        answers["TC2.3"] = 5 if i < 110 else 2
        survey = {
            "token": f"june-{i}",
            "submitted_at": f"2024-06-{3 + i % 25:02d} {8 + i % 8:02d}:{i % 60:02d}:00",
            "questionnaire": "sipas-2023",
            "channel": "paper",
            "overall": 5 if i < 128 else 3,
        }
        rows.append((survey, answers))
    with db.transaction(conn):
        db.insert_responses(conn, rows)
    db.upsert_baseline_rows(conn, BASELINE, "test")


def test_the_report_leads_with_the_findings_in_pdf_word_and_workbook(conn):
    stored_month(conn)
    report = reports.build_report(conn, "2024-06")
    assert report.findings == expected_sentences()
    first = report.findings[2]

    pdf = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(reports.to_pdf(report, False)))
                            .pages).split())  # fmt: skip
    at = pdf.find(" ".join(first.split()))
    assert at > 0 and at < pdf.find("Nội dung Giá trị"), "the sentences come before the summary table"

    document = docx.Document(io.BytesIO(reports.to_docx(report)))
    texts = [p.text for p in document.paragraphs]
    assert first in texts
    # Before any table of figures (the letterhead is a layout table of its own): the summary is the first.
    body = list(document.element.body)
    tables = [i for i, el in enumerate(body) if el.tag.endswith("}tbl") and "Nội dung" in el.xpath("string(.)")]
    assert tables[0] > next(i for i, el in enumerate(body) if el.xpath("string(.)") == first)

    sheet = openpyxl.load_workbook(io.BytesIO(reports.to_excel(report))).worksheets[0]
    assert [sheet.cell(row=4 + i, column=1).value for i in range(4)] == report.findings
