"""The baseline (sipas.index.baseline): import of published figures (all or nothing, every problem named by
row and column), re-import, computing a baseline from stored responses, version comparability,
and the ``import-baseline`` command."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import conftest
import openpyxl
import pytest

from sipas import db
from sipas.errors import ValidationError
from sipas.index import baseline
from sipas.survey.responses import import_responses
from tests.conftest import table_snapshot

ROOT = Path(__file__).resolve().parent.parent
HEADER = "year,questionnaire,level,code,index,n,satisfied"
GOOD_ROW = "2023,sipas-2023,overall,,86.4,,"
NEXT_YEAR = date.today().year + 1


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def stored(conn) -> list[tuple]:
    return [
        (r["year"], r["questionnaire"], r["level"], r["code"], r["index_value"], r["n"], r["satisfied"], r["source"])
        for r in db.baseline_rows(conn)
    ]


# ------------------------------------------------------------------------------ good files


def test_a_csv_with_only_the_overall_and_element_figures_is_stored(conn):
    data = csv_bytes(
        "year,questionnaire,level,code,index",
        "2023,sipas-2023,overall,,86.4",
        *(f"2023,sipas-2023,element,{e},{80 + e}" for e in range(1, 6)),
    )
    summary = baseline.import_baseline(conn, data, "bao-cao-2023.csv", actor="vanphong")
    assert summary.message() == "Đã lưu 6 chỉ số gốc từ bao-cao-2023.csv: 2023 (sipas-2023)."
    assert stored(conn) == [(2023, "sipas-2023", "overall", "", 86.4, None, None, "import")] + [
        (2023, "sipas-2023", "element", str(e), 80.0 + e, None, None, "import") for e in range(1, 6)
    ]
    audit = conn.execute(
        "SELECT actor, action, entity, new_value, note FROM audit_log WHERE action = 'baseline'"
    ).fetchall()
    assert [tuple(r) for r in audit] == [
        ("vanphong", "baseline", "2023/sipas-2023", "6 dòng (import)", "bao-cao-2023.csv")
    ]


def test_an_xlsx_with_only_criterion_figures_and_counts_is_stored(conn):
    data = xlsx_bytes(
        [
            ["year", "questionnaire", "level", "code", "index", "n", "satisfied"],
            [2022, "sipas-2017", "criterion", "TC2.5", 87.5, 120, 105],  # a 2017-only criterion
            [2022, "sipas-2017", "criterion", "TC1.1", 90, 200, 180],
            [2022, "sipas-2017", "element", 3, 91.25, None, None],  # a number cell for the code
            [None, None, None, None, None, None, None],  # blank line at the end
        ]
    )
    summary = baseline.import_baseline(conn, data, "2022.xlsx")
    assert summary.rows == 3
    assert stored(conn) == [
        (2022, "sipas-2017", "element", "3", 91.25, None, None, "import"),
        (2022, "sipas-2017", "criterion", "TC1.1", 90.0, 200, 180, "import"),
        (2022, "sipas-2017", "criterion", "TC2.5", 87.5, 120, 105, "import"),
    ]


def test_a_decimal_comma_and_spreadsheet_whole_numbers_are_accepted(conn):
    baseline.import_baseline(conn, csv_bytes(HEADER, '2023.0,sipas-2023,criterion,TC3.1,"87,5",40.0,35'), "a.csv")
    assert stored(conn) == [(2023, "sipas-2023", "criterion", "TC3.1", 87.5, 40, 35, "import")]


def test_reimporting_replaces_the_figures_without_duplicates(conn):
    baseline.import_baseline(conn, csv_bytes(HEADER, GOOD_ROW, "2023,sipas-2023,element,1,80,,"), "a.csv")
    baseline.import_baseline(conn, csv_bytes(HEADER, GOOD_ROW, "2023,sipas-2023,element,1,80,,"), "a.csv")
    assert len(stored(conn)) == 2
    baseline.import_baseline(
        conn, csv_bytes(HEADER, "2023,sipas-2023,overall,,88.1,,", "2023,sipas-2023,element,2,79,,"), "b.csv"
    )
    assert stored(conn) == [
        (2023, "sipas-2023", "overall", "", 88.1, None, None, "import"),
        (2023, "sipas-2023", "element", "1", 80.0, None, None, "import"),
        (2023, "sipas-2023", "element", "2", 79.0, None, None, "import"),
    ]
    assert db.baseline_years(conn) == [(2023, "sipas-2023")]


# ------------------------------------------------------------------------------ bad files

COLS = "year, questionnaire, level, code, index, n, satisfied"
BAD_ROWS = [
    ("2023,sipas-2023,element,1,101,,", 'Dòng 3, cột index: giá trị "101" không hợp lệ, cần số từ 0 đến 100.'),
    ("2023,sipas-2023,element,1,-1,,", 'Dòng 3, cột index: giá trị "-1" không hợp lệ, cần số từ 0 đến 100.'),
    ("2023,sipas-2023,element,1,,,", 'Dòng 3, cột index: giá trị "" không hợp lệ, cần số từ 0 đến 100.'),
    ("2023,sipas-2023,criterion,TC1.1,100,10,12", "Dòng 3, cột satisfied: 12 lớn hơn n = 10."),
    (
        "2023,sipas-2023,tieu-chi,TC1.1,80,,",
        'Dòng 3, cột level: giá trị "tieu-chi" không hợp lệ, chỉ nhận criterion, element, overall.',
    ),
    ("2023,sipas-2023,criterion,TC2.5,80,,", 'Dòng 3, cột code: tiêu chí "TC2.5" không có trong phiếu sipas-2023.'),
    ("2023,sipas-2023,criterion,,80,,", 'Dòng 3, cột code: tiêu chí "" không có trong phiếu sipas-2023.'),
    ("2023,sipas-2023,element,6,80,,", 'Dòng 3, cột code: yếu tố "6" không có trong phiếu sipas-2023 (nhận 1–5).'),
    ("2023,sipas-2023,overall,1,80,,", "Dòng 3, cột code: dòng overall phải để trống mã."),
    ("2023,sipas-2023,overall,,80,,", "Dòng 3: trùng với dòng 2 (2023, sipas-2023, overall, chung)."),
    ("2023,sipas-2023,criterion,TC1.1,80,,8", "Dòng 3, cột n: có satisfied thì phải có n."),
    ("23,sipas-2023,element,1,80,,", 'Dòng 3, cột year: giá trị "23" không hợp lệ, cần năm dạng YYYY.'),
    ("2023.5,sipas-2023,element,1,80,,", 'Dòng 3, cột year: giá trị "2023.5" không hợp lệ, cần năm dạng YYYY.'),
    (f"{NEXT_YEAR},sipas-2023,element,1,80,,", f"Dòng 3, cột year: năm {NEXT_YEAR} ở trong tương lai."),
    (
        "2023,sipas-2030,element,1,80,,",
        'Dòng 3, cột questionnaire: không có phiên bản phiếu "sipas-2030" (có: sipas-2017, sipas-2023, sipas-2024).',
    ),
    ("2023,sipas-2023,criterion,TC1.1,80,12.5,", 'Dòng 3, cột n: giá trị "12.5" không hợp lệ, cần số nguyên ≥ 0.'),
    ("2023,sipas-2023,criterion,TC1.1,50,10,8", "Dòng 3, cột index: 50.0 không khớp với satisfied/n = 80.00."),
    (
        "2023,sipas-2023,element,2,95,0,",  # "Gốc 95, Gốc n 0" was compared before
        "Dòng 3, cột n: n = 0 (không có phiếu nào) nên không thể có chỉ số 95. Hãy ghi số phiếu thật của năm đó,"
        " hoặc để trống n và satisfied nếu không biết.",
    ),
    (
        "2023,sipas-2023,criterion,TC1.1,95,0,3",
        "Dòng 3, cột n: n = 0 (không có phiếu nào) nên không thể có chỉ số 95. Hãy ghi số phiếu thật của năm đó,"
        " hoặc để trống n và satisfied nếu không biết.",
    ),
    ("2023,sipas-2023,element,1,cao,,", 'Dòng 3, cột index: giá trị "cao" không hợp lệ, cần số từ 0 đến 100.'),
]


@pytest.mark.parametrize(("bad_row", "message"), BAD_ROWS, ids=[m[:40] for _, m in BAD_ROWS])
def test_a_bad_row_is_named_with_row_and_column_and_nothing_is_stored(conn, bad_row, message):
    baseline.import_baseline(conn, csv_bytes(HEADER, "2022,sipas-2023,overall,,85,,"), "old.csv")
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        baseline.import_baseline(conn, csv_bytes(HEADER, GOOD_ROW, bad_row), "moi.csv", actor="vanphong")
    assert exc.value.problems == [message]
    assert table_snapshot(conn) == before


@pytest.mark.parametrize(
    ("header", "problems"),
    [
        (
            "year,questionnaire,level,code,chi_so",
            [
                f"Dòng 1, cột chi_so: tên cột không hợp lệ. Các tên được nhận: {COLS}.",
                "Dòng 1: thiếu cột bắt buộc index.",
            ],
        ),
        (
            "year,questionnaire,level,code,index,ghi_chu",
            [f"Dòng 1, cột ghi_chu: tên cột không hợp lệ. Các tên được nhận: {COLS}."],
        ),
        ("year,questionnaire,level,code,index,index", ["Dòng 1: có tên cột bị lặp lại."]),
    ],
)
def test_an_unknown_header_is_refused_and_nothing_is_stored(conn, header, problems):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        baseline.import_baseline(conn, csv_bytes(header, "2023,sipas-2023,overall,,80,x"), "moi.csv")
    assert exc.value.problems == problems
    assert table_snapshot(conn) == before


def test_every_problem_of_a_file_is_listed_at_once(conn):
    data = csv_bytes(
        HEADER,
        GOOD_ROW,
        "2023,sipas-2023,element,6,80,,",
        "2023,sipas-2023,element,2,101,,",
        "2023,sipas-2023,criterion,TC9.9,80,5,6",
    )
    with pytest.raises(ValidationError) as exc:
        baseline.import_baseline(conn, data, "moi.csv")
    assert exc.value.problems == [
        'Dòng 3, cột code: yếu tố "6" không có trong phiếu sipas-2023 (nhận 1–5).',
        'Dòng 4, cột index: giá trị "101" không hợp lệ, cần số từ 0 đến 100.',
        'Dòng 5, cột code: tiêu chí "TC9.9" không có trong phiếu sipas-2023.',
        "Dòng 5, cột satisfied: 6 lớn hơn n = 5.",
    ]
    assert db.baseline_rows(conn) == []


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "trong.csv", "Tệp trong.csv: không có dòng tiêu đề."),
        (csv_bytes(HEADER), "chi-tieu-de.csv", "Tệp chi-tieu-de.csv: không có dòng dữ liệu nào."),
        (
            csv_bytes(HEADER, GOOD_ROW),
            "bao-cao.pdf",
            "Tệp bao-cao.pdf: chỉ nhận tệp .csv, .txt (văn bản ngăn cách bằng dấu phẩy, dấu chấm phẩy hoặc tab), "
            ".xlsx hoặc .xls. Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx.",
        ),
        (
            b"\xff\xfe" + "year".encode("utf-16-le") + b"\x00\xd8",  # a lone high surrogate
            "utf16.csv",
            "Tệp utf16.csv: tệp UTF-16 bị hỏng (có ký tự không hợp lệ, ví dụ nửa cặp thay thế). "
            "Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx.",
        ),
    ],
)
def test_an_empty_or_unreadable_file_is_refused(conn, data, filename, message):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        baseline.import_baseline(conn, data, filename)
    assert exc.value.problems == [message]
    assert table_snapshot(conn) == before


# ------------------------------------------------------------------------------ computed baseline

RESPONSES = (
    "\n".join(
        [
            "submitted_at,questionnaire,TC1.1,TC1.2,TC3.1,TC5.1,overall",
            "2024-02-01 08:00,sipas-2023,5,4,2,,5",
            "2024-05-10 09:30,sipas-2023,3,4,5,,",
            "2024-08-20 14:00,sipas-2023,4,,4,1,",
            "2024-12-31 16:59,sipas-2023,1,,5,,4",
            # Not part of 2024 / of sipas-2023: must not count.
            "2023-12-31 23:59,sipas-2023,1,1,1,1,1",
            "2025-01-01 07:00,sipas-2023,1,1,1,1,1",
            "2024-06-01 08:00,sipas-2017,1,1,1,1,1",
        ]
    )
    + "\n"
)


def test_the_baseline_computed_from_imported_responses_equals_the_hand_computed_index(conn):
    import_responses(conn, RESPONSES.encode(), "giay-2024.csv", active_version="sipas-2023")
    rows = baseline.baseline_from_responses(conn, 2024, "sipas-2023")
    got = {(r["level"], r["code"]): (round(r["index_value"], 10), r["n"], r["satisfied"]) for r in rows}
    # By hand (sipas-method.md §2): criterion = 100 × answers 4–5 / answers 1–5;
    # TC1.1: 5,3,4,1 → 2/4; TC1.2: 4,4 → 2/2; TC3.1: 2,5,4,5 → 3/4; TC5.1: 1 → 0/1.
    # Element = mean of its criteria: 1 → (50 + 100)/2 = 75; 3 → 75; 5 → 0; 2 and 4 have none.
    # Overall = mean of the elements that have an index: (75 + 75 + 0)/3 = 50.
    assert got == {
        ("overall", ""): (50.0, None, None),
        ("element", "1"): (75.0, None, None),
        ("element", "3"): (75.0, None, None),
        ("element", "5"): (0.0, None, None),
        ("criterion", "TC1.1"): (50.0, 4, 2),
        ("criterion", "TC1.2"): (100.0, 2, 2),
        ("criterion", "TC3.1"): (75.0, 4, 3),
        ("criterion", "TC5.1"): (0.0, 1, 0),
    }
    summary = baseline.save_baseline(conn, rows, "computed", "vanphong")
    assert summary.message() == "Đã lưu 8 chỉ số gốc từ computed: 2024 (sipas-2023)."
    assert {r["source"] for r in db.baseline_rows(conn, 2024, "sipas-2023")} == {"computed"}


def test_no_responses_in_that_year_is_a_clear_error(conn):
    import_responses(conn, RESPONSES.encode(), "giay-2024.csv", active_version="sipas-2023")
    with pytest.raises(ValidationError) as exc:
        baseline.baseline_from_responses(conn, 2022, "sipas-2023")
    assert exc.value.problems == ["Không có phiếu nào của phiếu sipas-2023 trong năm 2022 để tính chỉ số gốc."]


def test_a_typed_table_goes_through_the_same_validation():
    records = [
        {
            "year": 2023.0,
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.1",
            "index": 80.0,
            "n": 10.0,
            "satisfied": 8.0,
        },
        {
            "year": 2023,
            "questionnaire": "sipas-2023",
            "level": "element",
            "code": "6",
            "index": 70.0,
            "n": float("nan"),
            "satisfied": None,
        },
    ]
    with pytest.raises(ValidationError) as exc:
        baseline.validate_baseline_table(baseline.table_from_records(records), "bảng nhập tay")
    assert exc.value.problems == ['Dòng 3, cột code: yếu tố "6" không có trong phiếu sipas-2023 (nhận 1–5).']
    rows = baseline.validate_baseline_table(baseline.table_from_records(records[:1]), "bảng nhập tay")
    assert rows == [
        {
            "year": 2023,
            "questionnaire": "sipas-2023",
            "level": "criterion",
            "code": "TC1.1",
            "index_value": 80.0,
            "n": 10,
            "satisfied": 8,
        }
    ]


# ------------------------------------------------------------------------------ comparability


def test_criterion_rows_of_another_version_are_not_comparable(conn):
    baseline.import_baseline(
        conn,
        csv_bytes(
            HEADER,
            "2022,sipas-2017,overall,,84,,",
            "2022,sipas-2017,element,2,81,,",
            "2022,sipas-2017,criterion,TC2.5,70,,",
            "2022,sipas-2017,criterion,TC1.1,80,,",
            "2023,sipas-2023,overall,,86,,",
            "2023,sipas-2023,criterion,TC1.1,90,,",
        ),
        "two.csv",
    )
    rows = db.baseline_rows(conn)
    keep = {(r["year"], r["level"], r["code"]) for r in baseline.comparable(rows, "sipas-2023")}
    assert keep == {(2022, "overall", ""), (2022, "element", "2"), (2023, "overall", ""), (2023, "criterion", "TC1.1")}
    keep_2017 = {(r["year"], r["level"], r["code"]) for r in baseline.comparable(rows, "sipas-2017")}
    assert keep_2017 == {
        (2022, "overall", ""),
        (2022, "element", "2"),
        (2022, "criterion", "TC2.5"),
        (2022, "criterion", "TC1.1"),
        (2023, "overall", ""),
    }


# ------------------------------------------------------------------------------ command line


def run_cli(*args: str):
    """The command in this process (``cli.main``), with the test's SIPAS_DB."""
    return conftest.run_cli(*args)


def test_the_import_baseline_command_exits_0_with_a_summary(db_file, tmp_path):
    path = tmp_path / "bao-cao-2023.csv"
    path.write_bytes(csv_bytes(HEADER, GOOD_ROW, "2023,sipas-2023,element,3,88.2,,"))
    result = run_cli("import-baseline", str(path), "--db", str(db_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Đã lưu 2 chỉ số gốc từ bao-cao-2023.csv: 2023 (sipas-2023).\n"
    c = db.open_db(db_file)
    try:
        assert [(r["level"], r["code"], r["index_value"]) for r in db.baseline_rows(c)] == [
            ("overall", "", 86.4),
            ("element", "3", 88.2),
        ]
    finally:
        c.close()


def test_the_import_baseline_command_exits_1_on_a_bad_file_and_changes_nothing(db_file, tmp_path):
    path = tmp_path / "sai.csv"
    path.write_bytes(csv_bytes(HEADER, GOOD_ROW, "2023,sipas-2023,element,6,80,,", "2023,sipas-2023,element,1,101,,"))
    c = db.open_db(db_file)
    before = table_snapshot(c)
    result = run_cli("import-baseline", str(path), "--db", str(db_file))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'Dòng 3, cột code: yếu tố "6" không có trong phiếu sipas-2023 (nhận 1–5).',
        'Dòng 4, cột index: giá trị "101" không hợp lệ, cần số từ 0 đến 100.',
    ]
    assert table_snapshot(c) == before
    missing = run_cli("import-baseline", str(tmp_path / "khong-co.csv"), "--db", str(db_file))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"Không tìm thấy tệp {tmp_path / 'khong-co.csv'}."
    assert table_snapshot(c) == before
    c.close()


SETS = [(2025, "sipas-2024"), (2024, "sipas-2017"), (2024, "sipas-2023"), (2023, "sipas-2023"), (2022, "sipas-2024")]


@pytest.mark.parametrize(
    ("year", "version", "expected"),
    [
        # The plan's case: 2024 on the 2024 form is compared with the 2023 report (through the crosswalk).
        (2024, "sipas-2024", (2023, "sipas-2023")),
        # May 2025 is never compared with 2025's own figures: last year's, the form with a crosswalk first.
        (2025, "sipas-2024", (2024, "sipas-2023")),
        # Last year on another form beats an older year on the same form (2022, sipas-2024).
        (2025, "sipas-2023", (2024, "sipas-2023")),
        # No crosswalk from sipas-2017 to sipas-2023 in 2024: the same version wins within the year.
        (2025, "sipas-2017", (2024, "sipas-2017")),
        (2026, "sipas-2023", (2025, "sipas-2024")),
        (2023, "sipas-2024", (2022, "sipas-2024")),
        (2022, "sipas-2024", None),
    ],
)
def test_default_baseline_is_the_latest_earlier_year_same_form_first(year, version, expected):
    assert baseline.default_baseline(SETS, year, version) == expected


def test_a_period_without_start_takes_the_year_of_its_first_response(conn):
    db.upsert_baseline_rows(
        conn,
        [
            {"year": y, "questionnaire": "sipas-2023", "level": "overall", "code": "", "index_value": 80.0}
            for y in (2023, 2024)
        ],
        "test",
    )
    with db.transaction(conn):
        db.insert_responses(
            conn,
            [
                (
                    {
                        "token": "t1",
                        "submitted_at": "2024-03-05 09:00:00",
                        "questionnaire": "sipas-2023",
                        "channel": "paper",
                        "overall": 4,
                    },
                    {"TC1.1": 4},
                )
            ],
        )
    assert baseline.baseline_for_period(conn, None, "sipas-2023") == (2023, "sipas-2023")
    assert baseline.baseline_for_period(conn, "2025-05-01", "sipas-2023") == (2024, "sipas-2023")
