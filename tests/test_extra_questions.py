"""A questionnaire version is one JSON file: a province's form with its own extra questions needs nothing else.

The test writes a new version file into data/questionnaires (removed afterwards) with one extra question
of each kind, and follows it through the tablet's plan, the tablet's payload, the store (no migration:
the answers of questions without a column of their own go into the JSON column ``extra``), the responses
import (each question under its code as a column header), the analysis tables and the workbook's raw sheet.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta

import openpyxl
import pytest

from sipas import clock, db, reports
from sipas.catalog import questionnaire, questionnaires, survey_options
from sipas.catalog.questions import parse_extra_question
from sipas.errors import CatalogError, ValidationError
from sipas.index import extra_answers
from sipas.index.selection import Filters
from sipas.paths import DATA_DIR
from sipas.survey import devices, tablet
from sipas.survey.responses import import_responses

CODE = "tinh-thu-2026"
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=clock.TZ)
PROVINCE_FORM = {
    "code": CODE,
    "label": "Mẫu phiếu của tỉnh (thử)",
    "title": "Phiếu khảo sát của tỉnh",
    "source": "Quyết định thử nghiệm",
    "elements": [
        {
            "code": "1",
            "name": "Tiếp cận dịch vụ",
            "criteria": [{"code": "TC1.1", "text": "Nơi tiếp nhận dễ tìm."}],
        },
        {
            "code": "3",
            "name": "Công chức",
            "criteria": [{"code": "TC3.1", "text": "Công chức lịch sự."}, {"code": "TC3.2", "text": "Tận tình."}],
        },
    ],
    "extra_questions": [
        {
            "code": "kenh_biet",
            "kind": "single",
            "after": "overall",
            "text": "Ông/Bà biết đến dịch vụ qua đâu?",
            "options": ["Loa phát thanh", "Zalo", "Người quen"],
        },
        {
            "code": "tien_ich",
            "kind": "multiple",
            "max": 2,
            "text": "Tiện ích nào Ông/Bà đã dùng? (chọn tối đa 2)",
            "options": [
                {"value": 1, "label": "Nước uống"},
                {"value": 2, "label": "Wi-Fi"},
                {"value": 3, "label": "Ghế chờ"},
            ],
        },
        {
            "code": "so_sanh",
            "kind": "grid",
            "heading": "So với năm trước",
            "text": "So với năm trước, nội dung sau thế nào?",
            "items": [{"code": "A", "text": "Thời gian chờ"}, {"code": "B", "text": "Thái độ"}],
            "scale": [
                {"value": 1, "label": "Kém hơn"},
                {"value": 2, "label": "Như cũ"},
                {"value": 3, "label": "Tốt hơn"},
            ],
        },
        {"code": "de_xuat", "kind": "text", "max_length": 300, "text": "Đề xuất của Ông/Bà?"},
    ],
}


@pytest.fixture
def province_form():
    path = DATA_DIR / "questionnaires" / f"{CODE}.json"
    path.write_text(json.dumps(PROVINCE_FORM, ensure_ascii=False), encoding="utf-8")
    questionnaires.cache_clear()
    try:
        yield questionnaire(CODE)
    finally:
        path.unlink()
        questionnaires.cache_clear()


def test_the_tablet_asks_every_extra_question_of_a_new_form(province_form):
    plan = tablet.build_plan(province_form, ["TC1.1", "TC3.1", "TC3.2"], survey_options(), ["Hộ tịch"], [], "full")
    assert plan["extra"] == ["kenh_biet", "tien_ich", "so_sanh", "de_xuat"]
    ids = [(s["id"], s["kind"], s.get("item")) for s in plan["screens"]]
    # "after": "overall" comes right after the overall question, the others after the staff question.
    assert ids[ids.index(("overall", "scale", None)) + 1] == ("kenh_biet", "choice", None)
    assert ("tien_ich", "multi", None) in ids and ("de_xuat", "text", None) in ids
    assert [i for i in ids if i[0] == "so_sanh"] == [("so_sanh", "choice", "A"), ("so_sanh", "choice", "B")]
    grid = [s for s in plan["screens"] if s["id"] == "so_sanh"]
    assert grid[0]["heading"] == "So với năm trước (1/2)" and grid[0]["text"] == "Thời gian chờ"
    multi = next(s for s in plan["screens"] if s["id"] == "tien_ich")
    assert multi["max"] == 2 and [o["label"] for o in multi["options"]] == ["Nước uống", "Wi-Fi", "Ghế chờ"]


def _payload(**extra):
    return {
        "token": str(uuid.uuid4()),
        "questionnaire": CODE,
        "asked": ["TC1.1", "TC3.1"],
        "answers": {"TC1.1": 4, "TC3.1": 5},
        "overall": 4,
        "completed_ago_ms": 1000,
        "duration_seconds": 60,
        "extra": extra,
    }


def _sync(conn, surveys):
    """The surveys as an enrolled tablet sends them, each under a start token the server issued to it."""
    code = devices.add(conn, "quay1", now=NOW - timedelta(days=3), actor="test")
    assert devices.enrol(conn, "quay1", code, now=NOW - timedelta(days=3))
    db.issue_tokens(conn, "quay1", [p["token"] for p in surveys], NOW - timedelta(days=2))
    return tablet.handle_sync(conn, {"surveys": surveys}, now=NOW, device="quay1", out_of_hours=lambda t: False)


def test_answers_from_the_tablet_are_stored_under_their_codes_without_a_migration(conn, province_form):
    version = db.schema_version(conn)
    good = _payload(kenh_biet="Zalo", tien_ich=[1, 3], so_sanh={"A": 3, "B": None}, de_xuat="Thêm chỗ để xe <b>đạp</b>")
    bad = [
        _payload(kenh_biet="Ti vi"),  # not an option
        _payload(tien_ich=[1, 2, 3]),  # at most 2
        _payload(tien_ich=[1, 1]),  # the same option twice
        _payload(so_sanh={"C": 1}),  # no such item
        _payload(so_sanh={"A": 4}),  # not on the scale
        _payload(de_xuat="x" * 301),  # longer than its max_length
        _payload(harassment=1),  # a question of another form
    ]
    result = _sync(conn, [good, *bad])
    assert (result.stored, result.rejected) == (1, len(bad))
    row = db.response_by_token(conn, "kiosk:" + good["token"])
    assert json.loads(row["extra"]) == {
        "kenh_biet": "Zalo",
        "tien_ich": [1, 3],
        "so_sanh": {"A": 3},
        "de_xuat": "Thêm chỗ để xe <b>đạp</b>",
    }
    assert db.extra_from_row(row)["so_sanh"] == {"A": 3}
    assert db.schema_version(conn) == version  # nothing migrated for the new questions


def test_the_import_reads_each_extra_question_under_its_code(conn, province_form):
    header = "submitted_at,questionnaire,TC1.1,TC3.1,kenh_biet,tien_ich,so_sanh.A,so_sanh.B,de_xuat,comment"
    lines = [
        header,
        f"2026-03-02 08:00,{CODE},4,5,Zalo,Nước uống; Ghế chờ,3,2,Thêm quạt,",
        f"2026-03-02 09:00,{CODE},3,4,,2,,1,,Tốt",
    ]
    summary = import_responses(conn, "\n".join(lines).encode(), "tinh.csv", active_version=CODE)
    assert summary.added == 2
    rows = db.raw_responses(conn, questionnaire=CODE)
    assert [r["extra"] for r in rows] == [
        {"kenh_biet": "Zalo", "tien_ich": [1, 3], "so_sanh": {"A": 3, "B": 2}, "de_xuat": "Thêm quạt"},
        {"tien_ich": [2], "so_sanh": {"B": 1}},
    ]
    before = db.count_responses(conn)
    wrong = [header, f"2026-03-03 08:00,{CODE},4,5,Ti vi,1; 2; 3,4,,,"]
    with pytest.raises(ValidationError) as err:
        import_responses(conn, "\n".join(wrong).encode(), "sai.csv", active_version=CODE)
    assert err.value.problems == [
        'Dòng 2, cột kenh_biet: giá trị "Ti vi" không hợp lệ, chỉ nhận Loa phát thanh, Zalo, Người quen.',
        'Dòng 2, cột tien_ich: giá trị "1; 2; 3" không hợp lệ, chọn từ 1 đến 2 phương án khác nhau, '
        "cách nhau bằng dấu ;.",
        'Dòng 2, cột so_sanh.A: giá trị "4" không hợp lệ, chỉ nhận 1, 2, 3.',
    ]
    assert db.count_responses(conn) == before


def test_the_analysis_and_the_workbook_show_the_new_questions(conn, province_form):
    lines = [
        "submitted_at,questionnaire,TC3.1,kenh_biet,tien_ich,so_sanh.A,de_xuat",
        f'2026-03-02 08:00,{CODE},4,Zalo,1; 3,3,=HYPERLINK("http://x")',
        f"2026-03-02 09:00,{CODE},5,Zalo,1,2,",
        f"2026-03-03 09:00,{CODE},2,Người quen,,1,",
    ]
    import_responses(conn, "\n".join(lines).encode(), "tinh.csv", active_version=CODE)
    f = Filters(CODE, "2026-03-01", "2026-03-31")
    tables = {t.question.code: t for t in extra_answers.extra_question_tables(conn, f)}
    heard = tables["kenh_biet"].frame.set_index("Phương án")
    assert tables["kenh_biet"].respondents == 3
    assert heard.loc["Zalo", "Số người chọn"] == 2 and heard.loc["Zalo", "% chọn"] == pytest.approx(200 / 3)
    # Wilson 95% for 2 of 3 (hand calculation: centre 0.5986, half-width 0.3753).
    assert heard.loc["Zalo", "KTC 95% thấp"] == pytest.approx(20.77, abs=0.01)
    assert heard.loc["Zalo", "KTC 95% cao"] == pytest.approx(93.85, abs=0.01)
    used = tables["tien_ich"].frame.set_index("Phương án")
    assert tables["tien_ich"].respondents == 2 and used.loc["Nước uống", "Số người chọn"] == 2
    grid = tables["so_sanh"].frame.set_index("Nội dung")
    assert grid.loc["Thời gian chờ", ["n", "Kém hơn", "Như cũ", "Tốt hơn"]].tolist() == [3, 1, 1, 1]
    assert tables["de_xuat"].frame["Câu trả lời"].tolist() == ['=HYPERLINK("http://x")']

    report = reports.build_report(conn, "2026-03")
    assert report.result.responses == 3  # the month is read in the form its surveys used
    sheet = openpyxl.load_workbook(io.BytesIO(reports.to_excel(report)))["Phiếu"]
    header = [c.value for c in sheet[1]]
    assert header[-6:] == ["kenh_biet", "tien_ich", "so_sanh.A", "so_sanh.B", "de_xuat", "comment"]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["tien_ich"] == "1; 3" and first["so_sanh.A"] == 3
    assert first["de_xuat"] == '=HYPERLINK("http://x")' and sheet.cell(2, header.index("de_xuat") + 1).data_type == "s"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"code": "x", "kind": "slider", "text": "?"}, "mục q.kind: chỉ nhận single, multiple, grid, text ('slider')."),
        ({"code": "Bad Code", "kind": "text", "text": "?"}, "mã câu hỏi chỉ gồm chữ thường, số và _ ('Bad Code')."),
        ({"code": "x", "kind": "single", "text": "?"}, "mục q: câu hỏi loại single cần trường 'options'."),
        ({"code": "x", "kind": "single", "text": "?", "options": ["A", "A"]}, "có hai phương án cùng giá trị."),
        ({"code": "x", "kind": "multiple", "text": "?", "options": ["A"], "max": 2}, "cần một số từ 1 đến 1 (2)."),
        ({"code": "harassment", "kind": "single", "text": "?", "options": ["A"]}, "phải là loại single với"),
        ({"code": "x", "kind": "text", "text": "?", "colour": "red"}, "không có trường 'colour'"),
    ],
)
def test_a_broken_extra_question_is_named_with_its_file_and_entry(tmp_path, entry, message):
    with pytest.raises(CatalogError) as err:
        parse_extra_question(entry, "q", tmp_path / "tinh.json")
    assert str(err.value).startswith("Tệp tinh.json, mục q") and message in str(err.value)
