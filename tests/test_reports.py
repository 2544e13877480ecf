"""The monthly report: Excel read back with openpyxl, PDF text extracted with pypdf, the report command."""

from __future__ import annotations

import io
import json
import re

import docx
import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from sipas import clock, db, reports
from sipas.admin import settings
from sipas.cases import workflow
from sipas.cli import main
from sipas.errors import ValidationError
from sipas.index import comment_list, criterion_tables, scoring, staff_index
from sipas.index.stats import proportion

HOSTILE = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", '=HYPERLINK("http://x","y")', "<script>alert(1)</script>"]


def store(conn, token, at, answers, *, overall=None, comment=None, staff=None) -> int:
    r = {
        "token": token,
        "submitted_at": at,
        "questionnaire": "sipas-2023",
        "channel": "paper",
        "overall": overall,
        "comment": comment,
        "staff_code": staff,
    }
    assert db.insert_response(conn, r, answers)
    return conn.execute("SELECT id FROM responses WHERE token = ?", (token,)).fetchone()[0]


@pytest.fixture
def seeded(conn):
    q = ["TC1.1", "TC2.1", "TC3.1", "TC4.1", "TC5.1"]
    for i in range(30):
        store(
            conn,
            f"may{i}",
            f"2024-05-{1 + i % 28:02d} 08:{i:02d}:00",
            {c: 5 if i % 4 else 2 for c in q},
            overall=4 if i % 5 else 1,
        )
    for i, text in enumerate(HOSTILE):
        store(conn, f"h{i}", f"2024-05-20 09:0{i}:00", {"TC3.1": 4}, overall=5, comment=text)
    store(conn, "viet", "2024-05-21 10:00:00", {"TC3.1": 2}, overall=2, comment="Thái độ cán bộ chưa niềm nở")
    bad = store(conn, "bad", "2024-05-22 10:00:00", {c: 1 for c in q}, overall=1, comment="thử máy")
    db.set_excluded(conn, bad, True, "Thử máy lúc lắp đặt", "clerk1")
    store(conn, "june", "2024-06-03 08:00:00", {"TC1.1": 4}, overall=4)
    settings.put(conn, "unit_name", "Trung tâm Phục vụ hành chính công xã Tu Bông", "admin", valid_from="2024-06-01")
    settings.put(conn, "report_recipient", "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)", "admin", valid_from="2024-06-01")
    db.upsert_baseline_rows(
        conn,
        [{"year": 2023, "questionnaire": "sipas-2023", "level": "overall", "code": "", "index_value": 85.0}],
        "test",
    )
    return conn


@pytest.fixture
def may(seeded):
    return reports.build_report(seeded, "2024-05")


def workbook(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_report_content_for_the_month(may, seeded):
    assert may.result.responses == 37  # 30 + 6 + 1, the excluded one left out
    expected = scoring.index_for_period(seeded, "sipas-2023", "2024-05-01", "2024-05-31")
    assert may.result.overall == pytest.approx(expected.overall)
    assert may.unit_name == settings.DEFAULTS["unit_name"]
    assert may.baseline_label == "2023 — Mẫu phiếu 2022–2023 (sipas-2023)" and may.baseline_overall == 85.0
    assert len(may.exclusions) == 1 and may.exclusions.iloc[0]["exclude_reason"] == "Thử máy lúc lắp đặt"
    assert may.comments_total == 7


def test_unit_and_recipient_come_from_the_settings_in_force_that_month(seeded):
    june = reports.build_report(seeded, "2024-06")
    assert june.unit_name == "Trung tâm Phục vụ hành chính công xã Tu Bông"
    assert june.recipient == "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)"
    summary = {row[0].value: row[1].value for row in workbook(reports.to_excel(june))["Tổng hợp"].iter_rows()}
    assert summary["Đơn vị"] == "Trung tâm Phục vụ hành chính công xã Tu Bông"


def test_excel_sheets_and_vietnamese_headers(may):
    wb = workbook(reports.to_excel(may))
    assert wb.sheetnames == [
        "Tổng hợp",
        "Tiêu chí",
        "Xu hướng theo tháng",
        "Góp ý",
        "Chất lượng dữ liệu",
        "Phản ánh và khắc phục",
        "Cán bộ",
        "Mong muốn",
        "Hồ sơ và QĐ 766",
        "Phiếu",
    ]
    assert wb["Mong muốn"]["A2"].value == "0 phiếu trả lời câu hỏi này trong tháng."
    assert [c.value for c in wb["Cán bộ"][1]][:5] == [
        "Mã",
        "Họ tên",
        "Số phiếu",
        "Câu trả lời",
        staff_index.STAFF_MEASURE,
    ]
    assert [c.value for c in wb["Tiêu chí"][1]] == criterion_tables.CRITERIA_COLUMNS
    assert [c.value for c in wb["Góp ý"][1]] == comment_list.COMMENT_COLUMNS
    assert [c.value for c in wb["Chất lượng dữ liệu"][1]][:3] == ["Mã phiếu", "Thời gian", "Kênh"]
    assert wb["Xu hướng theo tháng"]["A1"].value == "Tháng"
    summary = {row[0].value: row[1].value for row in wb["Tổng hợp"].iter_rows(min_row=4, max_row=30)}
    # The sheet opens with the findings in sentences (sipas.index.findings), then the summary.
    assert [wb["Tổng hợp"].cell(row=4 + i, column=1).value for i in range(len(may.findings))] == may.findings
    assert summary["Số phiếu hợp lệ"] == 37
    assert summary["Chỉ số hài lòng về cung ứng dịch vụ hành chính công (phương pháp SIPAS) (%)"] == pytest.approx(
        may.result.overall
    )
    rules = [row[0].value for row in wb["Tổng hợp"].iter_rows() if row[0].value and "%" in str(row[0].value)]
    assert "Chỉ số chung ≥ 87%" in rules and "Không yếu tố, tiêu chí nào dưới 80%" in rules
    criteria = {row[0].value: row for row in wb["Tiêu chí"].iter_rows(min_row=2)}
    assert criteria["TC3.1"][3].value == next(c.n for c in may.result.criteria if c.code == "TC3.1")
    assert wb["Chất lượng dữ liệu"]["E2"].value == "Thử máy lúc lắp đặt"


def test_citizen_text_never_becomes_a_formula(may):
    wb = workbook(reports.to_excel(may))
    ws = wb["Góp ý"]
    column = comment_list.COMMENT_COLUMNS.index("Góp ý") + 1
    cells = {ws.cell(row=r, column=column).value: ws.cell(row=r, column=column) for r in range(2, ws.max_row + 1)}
    for text in HOSTILE:
        assert text in cells, text
        assert cells[text].data_type == "s"
    assert cells["=1+1"].value == "=1+1"
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row), sheet.title
    assert not any(sheet._hyperlinks for sheet in wb.worksheets)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_has_the_vietnamese_headings_with_diacritics(may):
    data = reports.to_pdf(may, with_charts=False)
    assert data[:5] == b"%PDF-"
    text = pdf_text(data)
    for heading in (
        # The administrative-document form (Nghị định 30/2020/NĐ-CP): the superior body, the issuer, số,
        # quốc hiệu, tiêu ngữ, place and date, title, recipient.
        "UBND HUYỆN VẠN NINH",
        "ỦY BAN NHÂN DÂN XÃ VẠN PHƯỚC",
        "Số: ....../BC-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Vạn Phước, ngày",
        "BÁO CÁO",
        "Kết quả khảo sát mức độ hài lòng của người dân tháng 5/2024",
        "Kính gửi: UBND huyện Vạn Ninh (qua Phòng Nội vụ)",
        "Nơi nhận:",
        "TM. ỦY BAN NHÂN DÂN",
        "Tổng hợp",
        "Yêu cầu của kế hoạch",
        "Các yếu tố",
        "Các tiêu chí (yếu nhất trước)",
        "Xu hướng theo tháng",
        "Góp ý của người dân (7)",
        "Chất lượng dữ liệu: phiếu đã loại khỏi chỉ số",
        "Thái độ cán bộ chưa niềm nở",
        "Thử máy lúc lắp đặt",
    ):
        assert heading in text, heading
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for f in page["/Resources"]["/Font"].values():
            fonts.add(str(f.get_object()["/BaseFont"]))
    assert fonts and all("DejaVu" in f for f in fonts)  # the bundled fonts, embedded


def test_pdf_with_charts_embeds_images(may):
    reader = PdfReader(io.BytesIO(reports.to_pdf(may)))
    assert sum(len(page.images) for page in reader.pages) >= 3


def test_report_command_writes_excel_and_pdf(seeded, db_file, tmp_path, capsys):
    out = tmp_path / "bc.xlsx"
    assert main(["report", "--month", "2024-05", "--out", str(out), "--db", str(db_file)]) == 0
    assert "Đã lập báo cáo tháng 2024-05" in capsys.readouterr().out
    assert workbook(out.read_bytes()).sheetnames[0] == "Tổng hợp"
    pdf = tmp_path / "bc.pdf"
    assert main(["report", "--month", "2024-05", "--out", str(pdf)]) == 0  # SIPAS_DB points at db_file
    assert "Kết quả khảo sát mức độ hài lòng của người dân tháng 5/2024" in pdf_text(pdf.read_bytes())


def docx_text(data: bytes) -> str:
    """Every paragraph of a Word file, body and tables, read back with python-docx."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def test_word_report_opens_with_python_docx_and_holds_unit_recipient_month_and_index(seeded, db_file, tmp_path, capsys):
    out = tmp_path / "bc.docx"
    assert main(["report", "--month", "2024-05", "--out", str(out), "--db", str(db_file)]) == 0
    assert "Đã lập báo cáo tháng 2024-05" in capsys.readouterr().out
    text = docx_text(out.read_bytes())
    may = reports.build_report(seeded, "2024-05")
    for expected in (
        "UBND HUYỆN VẠN NINH",  # the level above …
        "ỦY BAN NHÂN DÂN\nXÃ VẠN PHƯỚC",  # … the issuer (the commune's committee, on two lines) …
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: ....../BC-UBND",
        "Kính gửi: UBND huyện Vạn Ninh (qua Phòng Nội vụ)",  # … the recipient …
        "- UBND huyện Vạn Ninh (qua Phòng Nội vụ);",
        "tháng 5/2024",  # … the month …
        "Nơi nhận:",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
    ):
        assert expected in text, expected
    # … and the overall index, written with a decimal comma, as the PDF shows it.
    overall = f"{may.result.overall:.2f}".replace(".", ",")
    assert overall in text
    assert f"{may.result.overall:.2f}" not in text
    # Criteria with their statements, not only their codes.
    first = may.criteria.iloc[0]
    assert first["Tiêu chí"] in text


@pytest.mark.parametrize(
    "month, name, message",
    [
        ("2024-13", "bc.xlsx", 'Tháng "2024-13" không hợp lệ, cần dạng YYYY-MM (ví dụ 2024-05).'),
        ("05/2024", "bc.pdf", 'Tháng "05/2024" không hợp lệ, cần dạng YYYY-MM (ví dụ 2024-05).'),
        ("2024-05", "bc.doc", "--out bc.doc: chỉ nhận tệp .xlsx, .pdf hoặc .docx."),
        ("2024-05", "bc", "--out bc: chỉ nhận tệp .xlsx, .pdf hoặc .docx."),
    ],
)
def test_report_command_refuses_bad_input(db_file, tmp_path, capsys, month, name, message):
    out = tmp_path / name
    assert main(["report", "--month", month, "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip() == message
    assert not out.exists()


def test_write_report_refuses_other_extensions(seeded, tmp_path):
    from sipas.errors import ValidationError

    with pytest.raises(ValidationError, match=r"chỉ nhận đuôi \.xlsx, \.pdf hoặc \.docx"):
        reports.write_report(seeded, "2024-05", tmp_path / "x.csv")


def test_the_report_counts_cases_and_includes_their_history(seeded):
    """The month's corrective actions: counts and every change to a case (the append-only history)."""
    from datetime import datetime

    clerk = workflow.Actor("thongke", "clerk")
    case_id = workflow.open_case(
        seeded,
        clerk,
        case_type="conduct",
        origin="clerk",
        channel="hotline",
        title="=Phản ánh qua đường dây nóng",
        received_at="2024-05-10",
        now=datetime(2024, 5, 10, 9, 0),
    )
    workflow.transition(
        seeded, case_id, "verifying", clerk, "Đang xác minh với người phản ánh", now=datetime(2024, 5, 11, 9, 0)
    )
    workflow.transition(seeded, case_id, "unfounded", clerk, "Không đúng sự thật", now=datetime(2024, 5, 12, 9, 0))
    r = reports.build_report(seeded, "2024-05")
    assert (r.cases["opened"], r.cases["closed"], r.cases["median_days_to_close"]) == (1, 1, 2.0)
    assert r.case_history[["Vụ việc số", "Việc", "Sang"]].values.tolist() == [
        [case_id, "Tiếp nhận", "Mới"],
        [case_id, "Chuyển trạng thái", "Đang xác minh"],
        [case_id, "Chuyển trạng thái", "Không có cơ sở"],
    ]
    ws = workbook(reports.to_excel(r))["Phản ánh và khắc phục"]
    assert (ws["A1"].value, ws["B1"].value) == ("Vụ việc mở mới", 1)
    notes = [c.value for c in ws["G"] if c.value]
    assert "=Phản ánh qua đường dây nóng" in " ".join(notes)
    assert all(c.data_type == "s" for c in ws["G"] if c.value)
    assert "Phản ánh và biện pháp khắc phục" in pdf_text(reports.to_pdf(r, with_charts=False))


def test_the_workbook_says_what_citizens_want_improved_with_n_and_interval(seeded):
    for i, chosen in enumerate(
        (["Thái độ phục vụ của công chức"], ["Thái độ phục vụ của công chức", "Trụ sở, trang thiết bị"])
    ):
        r = {
            "token": f"wish{i}",
            "submitted_at": f"2024-05-1{i} 10:00:00",
            "questionnaire": "sipas-2023",
            "channel": "kiosk",
            "expectations": json.dumps(chosen, ensure_ascii=False),
        }
        assert db.insert_response(seeded, r, {"TC3.1": 4})
    report = reports.build_report(seeded, "2024-05")
    sheet = workbook(reports.to_excel(report))["Mong muốn"]
    assert sheet["A1"].value.startswith("Ông/Bà mong muốn")
    assert sheet["A2"].value == "2 phiếu trả lời câu hỏi này trong tháng."
    header = [c.value for c in sheet[4]]
    assert header == ["Số", "Nội dung", "n", "Số người chọn", "% chọn", "KTC 95% thấp", "KTC 95% cao"]
    first = [c.value for c in sheet[5]]
    assert first[1:5] == ["Thái độ phục vụ của công chức", 2, 2, 100]
    lo, hi = proportion(1, 2).ci_low, proportion(1, 2).ci_high
    second = [c.value for c in sheet[6]]
    assert second[1:5] == ["Trụ sở, trang thiết bị", 2, 1, 50] and second[5:7] == pytest.approx([lo, hi])
    # The PDF and the Word file carry the same rows, written with a decimal comma.
    interval = f"{lo:.1f}–{hi:.1f}".replace(".", ",")
    pdf = " ".join(pdf_text(reports.to_pdf(report, with_charts=False)).split())
    word = docx_text(reports.to_docx(report))
    assert "Người dân mong muốn cải thiện" in pdf and "VIII. NGƯỜI DÂN MONG MUỐN CẢI THIỆN" in word
    for text in (pdf, word):
        assert "2 phiếu trả lời. Tỷ lệ = số người chọn / n" in text
        assert "Thái độ phục vụ của công chức" in text and "100,0" in text and interval in text


def test_a_month_without_expectations_answers_says_so_in_the_pdf_and_word(may):
    note = "Không có phiếu nào trả lời câu hỏi về mong muốn trong tháng"
    assert note in " ".join(pdf_text(reports.to_pdf(may, with_charts=False)).split())
    assert note in docx_text(reports.to_docx(may))


# May 2024: Hộ tịch D1 early, D2 on time; Đất đai D3 late (not satisfied, complaint), D4 open overdue on 31/5.
DOSSIERS = (
    "Mã hồ sơ,Tên thủ tục,Lĩnh vực,Họ và tên,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Hình thức nộp,"
    "Thanh toán trực tuyến,Đánh giá,Phản ánh\n"
    "D1,Đăng ký khai sinh,Hộ tịch,Nguyễn Văn An,06/05/2024 08:00,08/05/2024,07/05/2024 10:00,Trực tiếp,Có,Hài lòng,\n"
    "D2,Đăng ký khai tử,Hộ tịch,Trần Thị Bình,06/05/2024 09:00,08/05/2024,08/05/2024 15:00,Trực tuyến,Có,,\n"
    "D3,Cấp giấy chứng nhận QSDĐ,Đất đai,Lê Văn Cường,07/05/2024 08:00,10/05/2024,14/05/2024 09:00,Trực tiếp,"
    "Không,Không hài lòng,Có\n"
    "D4,Cấp giấy chứng nhận QSDĐ,Đất đai,Phạm Thị Dung,08/05/2024 08:00,20/05/2024,,Trực tiếp,,,\n"
).encode()


def test_the_report_has_the_dossier_section_in_excel_pdf_and_word(seeded):
    from datetime import datetime

    from sipas.files.dossiers import import_dossiers
    from sipas.index.dossiers import NO_DOSSIERS, OFFICIAL_766
    from sipas.index.stats import wilson_interval

    import_dossiers(seeded, DOSSIERS, "ds.csv", now=datetime(2024, 6, 10))
    report = reports.build_report(seeded, "2024-05")
    sheet = workbook(reports.to_excel(report))["Hồ sơ và QĐ 766"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    # Hand count: 4 received, 3 finished, 2 in time (D1, D2), 1 late (D3), 1 open overdue (D4).
    assert cells[0][0] == (
        "Tiếp nhận 4 hồ sơ; 3 đã có kết quả, 66,7% trước hoặc đúng hạn (n = 3, KTC 95% 20,8–93,9%); 1 trễ hạn; "
        "1 quá hạn chưa có kết quả."
    )
    lo, hi = wilson_interval(2, 3)
    assert (round(100 * lo, 1), round(100 * hi, 1)) == (20.8, 93.9)
    by_field = {row[0]: row[:7] + [row[9]] for row in cells[3:6]}
    assert by_field["Hộ tịch"] == ["Hộ tịch", 2, 2, 1, 1, 0, 100, 0]
    assert by_field["Đất đai"] == ["Đất đai", 2, 1, 0, 0, 1, 0, 1]
    assert by_field["Tổng"][:3] == ["Tổng", 4, 3]
    flat = [str(v) for row in cells for v in row if v is not None]
    assert OFFICIAL_766 in flat
    # QĐ 766, third ratio: (4 − D3 − D4) / 4; no PAKN in this database.
    dossier_ratio = next(row for row in cells if str(row[0]).startswith("(Tổng số hồ sơ"))
    assert dossier_ratio[1:4] == [4, 2, 50]
    assert "Hồ sơ trễ hạn hoặc quá hạn (2)" in flat
    late = [row[0] for row in cells if row[0] in ("D1", "D2", "D3", "D4")]
    assert late == ["D3", "D4"]
    assert "Quá hạn, chưa có kết quả" in flat and "Có kết quả trễ hạn" in flat
    assert "Nguyễn Văn An" not in flat  # personal data never stored, so never reported

    pdf = " ".join(pdf_text(reports.to_pdf(report, with_charts=False)).split())
    word = docx_text(reports.to_docx(report))
    assert "Hồ sơ thủ tục hành chính và nhóm chỉ số hài lòng (QĐ 766)" in pdf
    assert "IX. HỒ SƠ THỦ TỤC HÀNH CHÍNH VÀ NHÓM CHỈ SỐ HÀI LÒNG (QĐ 766)" in word
    for text in (pdf, " ".join(word.split())):
        assert "Tiếp nhận 4 hồ sơ; 3 đã có kết quả, 66,7% trước hoặc đúng hạn (n = 3" in text
        assert (
            "Điểm chính thức của nhóm chỉ số hài lòng (QĐ 766/QĐ-TTg) là số liệu do Cổng Dịch vụ công quốc gia" in text
        )
        assert "Chưa đạt" in text  # paid online: 2 of 3 with a fee < 90 %
        assert NO_DOSSIERS[:40] not in text

    june = reports.build_report(seeded, "2024-06")
    assert workbook(reports.to_excel(june))["Hồ sơ và QĐ 766"]["A1"].value == NO_DOSSIERS
    assert NO_DOSSIERS in docx_text(reports.to_docx(june))
    assert "Chưa nhập danh sách hồ sơ của kỳ này" in pdf_text(reports.to_pdf(june, with_charts=False))


def test_a_report_for_an_earlier_month_keeps_its_old_target_after_a_change(seeded):
    before = reports.build_report(seeded, "2024-05")
    # The clerk cannot reach back into 2024 …
    with pytest.raises(ValidationError):
        settings.put(seeded, "targets", {"overall": 95, "floor": 90}, "thongke", "2024-01-01")
    # … and a change from the current month leaves May 2024 judged as it was.
    this_month = clock.month_start(clock.today())
    settings.put(seeded, "targets", {"overall": 95, "floor": 90}, "thongke", this_month)
    after = reports.build_report(seeded, "2024-05")
    assert after.targets == before.targets == {"overall": 87.0, "floor": 80.0}
    assert after.checklist == before.checklist
    old_note = "Chỉ số chung ≥ 87% và không chỉ số nào dưới 80% (mức mặc định, chưa thay đổi)"
    assert dict(reports.model.summary_rows(after))["Chỉ tiêu áp dụng"] == old_note
    sheet = workbook(reports.to_excel(after))["Tổng hợp"]
    cells = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert (cells["Chỉ tiêu (%)"], cells["Chỉ tiêu áp dụng"]) == (87, old_note)
    assert old_note in docx_text(reports.to_docx(after))
    # The current month's report states the new target and the day it applies from.
    current = reports.build_report(seeded, this_month.strftime("%Y-%m"))
    new_note = f"Chỉ số chung ≥ 95% và không chỉ số nào dưới 90%, áp dụng từ {clock.format_date(this_month)}"
    assert current.targets == {"overall": 95.0, "floor": 90.0}
    assert dict(reports.model.summary_rows(current))["Chỉ tiêu áp dụng"] == new_note
    assert new_note in docx_text(reports.to_docx(current))
    assert "áp dụng từ" in pdf_text(reports.to_pdf(current, with_charts=False))


def test_times_in_the_pdf_and_the_workbook_are_written_the_vietnamese_way(may):
    """A stored time "2024-05-21 10:00:00" reads "21/05/2024 10:00" in the PDF's comments and the workbook's
    comments and exclusions; the sheet of responses keeps the import's ISO columns (it reads back)."""
    text = pdf_text(reports.to_pdf(may, with_charts=False))
    assert "21/05/2024 10:00" in text
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text), re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    wb = workbook(reports.to_excel(may))
    comments = [row[1].value for row in wb["Góp ý"].iter_rows(min_row=2)]
    assert "21/05/2024 10:00" in comments
    assert wb["Chất lượng dữ liệu"]["B2"].value == "22/05/2024 10:00"
    for name in wb.sheetnames[:-1]:
        for row in wb[name].iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2}( .*)?)?", value)), (
                    name,
                    value,
                )
    header = [c.value for c in wb["Phiếu"][1]]
    stored = wb["Phiếu"].cell(row=2, column=header.index("submitted_at") + 1).value
    assert re.fullmatch(r"2024-05-\d{2} \d{2}:\d{2}:\d{2}", stored)


# ------------------------------------------------------ the form's header and end (Nghị định 30/2020/NĐ-CP)

MM = 72 / 25.4  # PDF points per millimetre


def header_lines(data: bytes) -> list[str]:
    """The lines of the PDF's left header block: everything the first page prints before "Số:"."""
    lines = PdfReader(io.BytesIO(data)).pages[0].extract_text().splitlines()
    return lines[: next(i for i, line in enumerate(lines) if line.startswith("Số:"))]


def text_positions(page) -> dict[str, tuple[float, float]]:
    """Each piece of text on ``page`` → where it starts (x, baseline y), in points from the bottom left."""
    found: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.setdefault(text.strip(), (tm[4], tm[5]))

    page.extract_text(visitor_text=visit)
    return found


def drawn_lines(reader, page) -> list[tuple[float, float, float]]:
    """The horizontal straight lines drawn on ``page`` ("x1 y m x2 y l" in its content) as (x1, x2, y)."""
    from pypdf.generic import ContentStream

    ops = ContentStream(page.get_contents(), reader).operations
    return [
        (float(a[0]), float(b[0]), float(a[1]))
        for (a, op1), (b, op2) in zip(ops, ops[1:], strict=False)
        if op1 == b"m" and op2 == b"l" and abs(float(a[1]) - float(b[1])) < 0.01
    ]


def string_width_mm(text: str, bold: bool, size: float) -> float:
    """``text``'s width in the bundled DejaVu font, measured apart from the report."""
    from fpdf import FPDF

    from sipas.reports.pdf import FONTS_DIR

    pdf = FPDF()
    pdf.add_font("DejaVu", "B" if bold else "", str(FONTS_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")))
    pdf.set_font("DejaVu", "B" if bold else "", size)
    return pdf.get_string_width(text)


def test_the_issuer_is_the_commune_committee_under_the_level_above_as_the_number_and_signature_say(seeded):
    """After the 2025 kind of reorganisation (a Centre, addressed to the province) and before it (the one-stop
    office, addressed to the district): the Centre is never the issuer beside "BC-UBND" and "TM. ỦY BAN NHÂN DÂN"."""
    june = reports.build_report(seeded, "2024-06")  # unit "Trung tâm Phục vụ hành chính công xã Tu Bông"
    data = reports.to_pdf(june, with_charts=False)
    assert header_lines(data) == ["UBND TỈNH KHÁNH HÒA", "ỦY BAN NHÂN DÂN XÃ TU BÔNG"]
    text = pdf_text(data)
    assert "Số: ....../BC-UBND" in text and "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH" in text
    assert "TRUNG TÂM" not in text  # the Centre is named in the body ("Đơn vị"), never as the issuer
    assert "của Ủy ban nhân dân xã Tu Bông./." in " ".join(text.split())
    may = reports.build_report(seeded, "2024-05")  # unit "Bộ phận Một cửa – UBND xã Vạn Phước"
    before = ["UBND HUYỆN VẠN NINH", "ỦY BAN NHÂN DÂN XÃ VẠN PHƯỚC"]
    assert header_lines(reports.to_pdf(may, with_charts=False)) == before

    document = docx.Document(io.BytesIO(reports.to_docx(june)))
    left, right = document.tables[0].rows[0].cells
    lines = [p.text for p in left.paragraphs if p.text]
    assert lines == ["UBND TỈNH KHÁNH HÒA", "ỦY BAN NHÂN DÂN\nXÃ TU BÔNG", "Số: ....../BC-UBND"]
    issuer = next(p for p in left.paragraphs if p.text.startswith("ỦY BAN"))
    assert all(run.bold for run in issuer.runs)
    signer = [p.text for p in document.tables[-1].rows[0].cells[1].paragraphs if p.text]
    assert signer[:2] == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]


@pytest.mark.parametrize(
    "unit_name, expected",
    [
        # No commune in the name: the name as it is, on two even lines, never "CÔNG" alone.
        ("Trung tâm Phục vụ hành chính công", ["TRUNG TÂM PHỤC VỤ", "HÀNH CHÍNH CÔNG"]),
        # Too long for one line: broken between "ỦY BAN NHÂN DÂN" and the commune's name, never inside either.
        ("Bộ phận Một cửa – UBND xã Vạn Phước Thượng Đông Nam", ["ỦY BAN NHÂN DÂN", "XÃ VẠN PHƯỚC THƯỢNG ĐÔNG NAM"]),
    ],
)
def test_the_agency_name_breaks_only_between_whole_phrases(seeded, unit_name, expected):
    settings.put(seeded, "unit_name", unit_name, "admin", valid_from="2024-06-01")
    lines = header_lines(reports.to_pdf(reports.build_report(seeded, "2024-06"), with_charts=False))
    assert lines == ["UBND TỈNH KHÁNH HÒA", *expected]
    assert "CÔNG" not in lines


def test_short_lines_under_the_issuer_and_the_motto(may):
    """Phụ lục I: under the motto a line as long as it, under the issuer one 1/3 to 1/2 as long; both centred."""
    from sipas.reports.sections import MOTTO

    reader = PdfReader(io.BytesIO(reports.to_pdf(may, with_charts=False)))
    page = reader.pages[0]
    at = text_positions(page)
    lines = drawn_lines(reader, page)
    motto_x, motto_y = at[MOTTO]
    width = 210 - 2 * 10  # A4 less fpdf2's default margins (mm); the left column is 42 % of it
    columns = (10 + width * 0.42) * MM
    place_y = at[may.letterhead.place_date][1]
    under_motto = [(x1, x2, y) for x1, x2, y in lines if place_y < y < motto_y and x1 > columns]
    assert len(under_motto) == 1, lines
    x1, x2, _ = under_motto[0]
    motto_w = string_width_mm(MOTTO, True, 10) * MM
    assert x1 == pytest.approx(motto_x, abs=0.5) and x2 - x1 == pytest.approx(motto_w, abs=0.5)
    right_centre = (10 + width * 0.42 + width * 0.58 / 2) * MM
    assert (x1 + x2) / 2 == pytest.approx(right_centre, abs=0.5)

    issuer = "ỦY BAN NHÂN DÂN XÃ VẠN PHƯỚC"
    issuer_y, number_y = at[issuer][1], at["Số: ....../BC-UBND"][1]
    under_issuer = [(x1, x2, y) for x1, x2, y in lines if number_y < y < issuer_y and x2 < columns]
    assert len(under_issuer) == 1, lines
    x1, x2, _ = under_issuer[0]
    issuer_w = string_width_mm(issuer, True, 10) * MM
    assert issuer_w / 3 <= x2 - x1 <= issuer_w / 2
    assert (x1 + x2) / 2 == pytest.approx((10 + width * 0.42 / 2) * MM, abs=0.5)


def test_no_page_holds_only_the_recipients_and_the_signature(may):
    """However long the body, the signature block shares its page with the body's last paragraph (here the
    dossier section's note, with its heading) and the closing sentence: comments are added four at a time
    so that the end falls at heights all down a page, several times where it no longer fits under the body
    (with 12 to 24 added here, the end starts the fourth page)."""
    from sipas.index import dossiers as dossier_figures

    first = may.comments.iloc[[0]]
    moved = 0
    for extra in range(4, 32, 4):
        may.comments = pd.concat([first] * (1 + extra), ignore_index=True)
        reader = PdfReader(io.BytesIO(reports.to_pdf(may, with_charts=False)))
        last = " ".join(reader.pages[-1].extract_text().split())
        assert "Nơi nhận:" in last and "TM. ỦY BAN NHÂN DÂN" in last
        assert " ".join(dossier_figures.NO_DOSSIERS.split())[:60] in last, (extra, last[:200])
        assert "Trên đây là báo cáo kết quả khảo sát" in last
        moved += last.startswith(reports.sections.DOSSIERS_TITLE)
    assert moved, "some length must have pushed the end onto a page of its own"


def test_word_keeps_the_last_paragraphs_with_the_signature_and_draws_the_short_lines(seeded):
    from docx.oxml.ns import qn

    june = reports.build_report(seeded, "2024-06")
    document = docx.Document(io.BytesIO(reports.to_docx(june)))
    paragraphs = document.paragraphs
    closing = next(i for i, p in enumerate(paragraphs) if p.text.startswith("Trên đây là báo cáo"))
    assert paragraphs[closing].text.endswith("của Ủy ban nhân dân xã Tu Bông./.")
    for p in paragraphs[closing - 1 : closing + 1]:  # the body's last paragraph and the closing sentence
        assert p.paragraph_format.keep_with_next and p.paragraph_format.keep_together, p.text
    assert not paragraphs[closing - 3].paragraph_format.keep_with_next  # only the end is kept together
    signature = document.tables[-1]
    assert signature.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None
    for cell in signature.rows[0].cells:
        assert all(p.paragraph_format.keep_with_next for p in cell.paragraphs)
    # The short lines: an empty paragraph with a bottom border under the issuer and under the motto.
    left, right = document.tables[0].rows[0].cells
    for cell, above in ((left, "ỦY BAN NHÂN DÂN\nXÃ TU BÔNG"), (right, "Độc lập - Tự do - Hạnh phúc")):
        texts = [p.text for p in cell.paragraphs]
        rule = cell.paragraphs[texts.index(above) + 1]
        assert rule.text == "" and rule._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")) is not None
        assert rule.paragraph_format.left_indent == rule.paragraph_format.right_indent > 0
