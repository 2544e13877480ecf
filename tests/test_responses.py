"""Responses: the file import (all or nothing, exact messages), question rotation, kiosk submission."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import datetime

import openpyxl
import pytest
from conftest import table_snapshot

from sipas import clock, db
from sipas.catalog import questionnaire
from sipas.errors import ValidationError
from sipas.survey.responses import KioskSurvey, choose_criteria, import_responses, submit_kiosk_survey

ACTIVE = "sipas-2023"
ALLOWED_2023 = (
    "response_id, submitted_at, questionnaire, channel, field, staff_code, wait_minutes, overall, comment, "
    "TC1.1, TC1.2, TC1.3, TC1.4, TC2.1, TC2.2, TC2.3, TC2.4, TC3.1, TC3.2, TC3.3, TC3.4, TC3.5, "
    "TC4.1, TC4.2, TC4.3, TC5.1, TC5.2, TC5.3, "
    "harassment, informal_payment, expectations, gender, age_group, education"  # the form's extra questions
)
HEADER = [
    "response_id",
    "submitted_at",
    "channel",
    "staff_code",
    "wait_minutes",
    "TC1.1",
    "TC3.2",
    "overall",
    "comment",
]
GOOD = [
    ["r1", "2024-03-04 08:15", "paper", "CB01", "12", "5", "4", "5", "Tốt"],
    ["r2", "2024-03-04 09:00:30", "kiosk", "", "", "2", "", "4", ""],
    ["r3", "2024-03-05 14:00", "qr", "CB02", "0", "", "3", "", ""],
]


def _csv(rows: list[list[str]], bom: bool = False) -> bytes:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\n') else v

    text = "\r\n".join(",".join(cell(v) for v in r) for r in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"  # text typed into the cell, not a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(conn, data: bytes, name: str = "phieu.csv"):
    return import_responses(conn, data, name, active_version=ACTIVE, actor="test")


@pytest.fixture
def staffed(conn):
    with db.transaction(conn):
        db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Thị Hồng"})
        db.upsert_staff(conn, {"code": "CB02", "full_name": "Trần Văn Minh"})
    return conn


def _stored(conn) -> dict[str, dict]:
    return {r["token"]: db.response_by_token(conn, r["token"]) for r in conn.execute("SELECT token FROM responses")}


# --------------------------------------------------------------------------- success


@pytest.mark.parametrize("bom", [False, True])
def test_csv_import_with_and_without_bom(staffed, bom):
    summary = _import(staffed, _csv([HEADER, *GOOD], bom=bom), "thang3.csv")
    assert (summary.filename, summary.rows, summary.added, summary.present) == ("thang3.csv", 3, 3, 0)
    assert summary.message() == "Đã nhập 3 phiếu mới từ thang3.csv (0 phiếu đã có từ trước, bỏ qua; tổng 3 dòng)."
    got = _stored(staffed)
    assert set(got) == {"r1", "r2", "r3"}
    r1 = got["r1"]
    assert (
        r1["submitted_at"],
        r1["questionnaire"],
        r1["channel"],
        r1["staff_code"],
        r1["wait_minutes"],
        r1["wait_bucket"],
        r1["overall"],
        r1["comment"],
    ) == ("2024-03-04 08:15:00", ACTIVE, "paper", "CB01", 12, "lt15", 5, "Tốt")
    assert r1["answers"] == {"TC1.1": 5, "TC3.2": 4}
    assert got["r2"]["answers"] == {"TC1.1": 2}  # an empty cell is not an answer
    assert (got["r2"]["submitted_at"], got["r2"]["staff_code"], got["r2"]["wait_minutes"], got["r2"]["comment"]) == (
        "2024-03-04 09:00:30",
        None,
        None,
        None,
    )
    assert got["r3"]["overall"] is None and got["r3"]["answers"] == {"TC3.2": 3}
    assert db.level_counts(staffed, ACTIVE) == {
        "TC1.1": (0, 1, 0, 0, 1),
        "TC3.2": (0, 0, 1, 1, 0),
        "overall": (0, 0, 0, 1, 1),
    }
    imports = [
        dict(r) for r in staffed.execute("SELECT kind, filename, rows_total, rows_added, rows_present FROM imports")
    ]
    assert imports == [
        {"kind": "responses", "filename": "thang3.csv", "rows_total": 3, "rows_added": 3, "rows_present": 0}
    ]


def test_reimporting_the_same_file_adds_nothing(staffed):
    data = _csv([HEADER, *GOOD])
    _import(staffed, data)
    again = _import(staffed, data)
    assert (again.rows, again.added, again.present) == (3, 0, 3)
    assert again.message() == "Đã nhập 0 phiếu mới từ phieu.csv (3 phiếu đã có từ trước, bỏ qua; tổng 3 dòng)."
    assert db.count_responses(staffed) == 3
    assert db.level_counts(staffed, ACTIVE)["TC1.1"] == (0, 1, 0, 0, 1)


def test_rows_without_response_id_are_not_counted_twice_on_reimport(conn):
    rows = [
        ["submitted_at", "TC1.1", "overall"],
        ["2024-03-04 08:00", "5", "4"],
        ["2024-03-04 08:00", "5", "4"],  # two citizens gave the same answers at the same minute
        ["2024-03-04 08:05", "1", ""],
    ]
    first = _import(conn, _csv(rows))
    assert (first.added, first.present) == (3, 0)
    second = _import(conn, _csv(rows))
    assert (second.added, second.present) == (0, 3)
    assert db.count_responses(conn) == 3
    assert db.level_counts(conn, ACTIVE)["TC1.1"] == (1, 0, 0, 0, 2)


def test_xlsx_import(staffed):
    rows = [
        HEADER + ["questionnaire"],
        ["x1", datetime(2024, 3, 4, 8, 15), "paper", "CB01", 12, 5, 4.0, 5, "  giữ nguyên  ", "sipas-2023"],
        ["x2", "2024-03-04 09:00", None, None, None, 2, None, "4.0", "=1+1", None],
    ]
    summary = _import(staffed, _xlsx(rows), "thang3.xlsx")
    assert (summary.filename, summary.rows, summary.added, summary.present) == ("thang3.xlsx", 2, 2, 0)
    got = _stored(staffed)
    assert (got["x1"]["submitted_at"], got["x1"]["wait_minutes"], got["x1"]["answers"], got["x1"]["comment"]) == (
        "2024-03-04 08:15:00",
        12,
        {"TC1.1": 5, "TC3.2": 4},
        "  giữ nguyên  ",
    )
    assert (got["x2"]["channel"], got["x2"]["overall"], got["x2"]["comment"]) == ("paper", 4, "=1+1")
    assert _import(staffed, _xlsx(rows), "thang3.xlsx").added == 0


def test_spreadsheet_4_point_0_is_accepted_as_4(conn):
    _import(conn, _csv([["submitted_at", "TC1.1", "TC1.2", "overall"], ["2024-03-04 08:00", "4.0", "5.00", "3.0"]]))
    (resp,) = _stored(conn).values()
    assert resp["answers"] == {"TC1.1": 4, "TC1.2": 5}
    assert resp["overall"] == 3


@pytest.mark.parametrize(
    "text, stored",
    [
        ("2024-03-05T01:15:00Z", "2024-03-05 08:15:00"),
        ("2024-03-05T10:00:00+09:00", "2024-03-05 08:00:00"),
        ("2024-03-05T08:00+07:00", "2024-03-05 08:00:00"),
        ("2024-03-05T23:30:00+00:00", "2024-03-06 06:30:00"),  # the next local day
        ("2024-03-05T02:00:00-05:00", "2024-03-05 14:00:00"),
    ],
)
def test_iso_8601_with_offset_becomes_commune_local_time(conn, text, stored):
    _import(conn, _csv([["submitted_at", "TC1.1"], [text, "4"]]))
    (resp,) = _stored(conn).values()
    assert resp["submitted_at"] == stored
    assert [r[0] for r in conn.execute("SELECT day FROM daily_responses")] == [stored[:10]]


def test_comments_are_kept_exactly_as_typed(conn):
    comments = ["  khoảng trắng hai đầu  ", "=1+1", "<script>alert('x')</script>", 'có "ngoặc", dấu phẩy', "hai\ndòng"]
    rows = [["response_id", "submitted_at", "overall", "comment"]] + [
        [f"c{i}", "2024-03-04 08:00", "5", text] for i, text in enumerate(comments)
    ]
    _import(conn, _csv(rows))
    got = _stored(conn)
    assert [got[f"c{i}"]["comment"] for i in range(len(comments))] == comments


def test_a_comment_of_exactly_2000_characters_is_accepted(conn):
    _import(conn, _csv([["submitted_at", "overall", "comment"], ["2024-03-04 08:00", "5", "ý" * 2000]]))
    (resp,) = _stored(conn).values()
    assert resp["comment"] == "ý" * 2000


def test_blank_trailing_lines_are_ignored(conn):
    s = _import(conn, _csv([["submitted_at", "overall"], ["2024-03-04 08:00", "5"], ["", ""], ["", ""]]))
    assert (s.rows, s.added) == (1, 1)


def test_rows_of_two_questionnaire_versions_in_one_file(conn):
    rows = [
        ["submitted_at", "questionnaire", "TC2.4", "TC2.5", "TC3.6"],
        ["2024-03-04 08:00", "sipas-2023", "4", "", ""],
        ["2024-03-04 08:00", "sipas-2017", "", "5", "1"],
    ]
    _import(conn, _csv(rows))
    assert db.level_counts(conn, "sipas-2023") == {"TC2.4": (0, 0, 0, 1, 0)}
    assert db.level_counts(conn, "sipas-2017") == {"TC2.5": (0, 0, 0, 0, 1), "TC3.6": (1, 0, 0, 0, 0)}


# --------------------------------------------------------------------------- refused files


def _bad(row_changes: dict[str, str]) -> list[list[str]]:
    row = dict(zip(HEADER, ["z1", "2024-03-04 08:15", "paper", "CB01", "12", "5", "4", "5", "ok"], strict=True))
    row.update(row_changes)
    return [HEADER, GOOD[1], [row[h] for h in HEADER]]  # the bad row is row 3 of the spreadsheet


BAD_ROWS = [
    ({"TC3.2": "6"}, 'Dòng 3, cột TC3.2: giá trị "6" không hợp lệ, chỉ nhận 1–5.'),
    ({"TC3.2": "0"}, 'Dòng 3, cột TC3.2: giá trị "0" không hợp lệ, chỉ nhận 1–5.'),
    ({"TC1.1": "4.5"}, 'Dòng 3, cột TC1.1: giá trị "4.5" không hợp lệ, chỉ nhận 1–5.'),
    ({"TC1.1": "x"}, 'Dòng 3, cột TC1.1: giá trị "x" không hợp lệ, chỉ nhận 1–5.'),
    ({"overall": "6"}, 'Dòng 3, cột overall: giá trị "6" không hợp lệ, chỉ nhận 1–5.'),
    (
        {"submitted_at": "31/02/2026 08:15"},
        'Dòng 3, cột submitted_at: giá trị "31/02/2026 08:15" không hợp lệ, '
        "cần dạng YYYY-MM-DD HH:MM, dd/mm/yyyy HH:MM hoặc ISO 8601 có múi giờ.",
    ),
    (
        {"submitted_at": "2024-02-30 08:15"},
        'Dòng 3, cột submitted_at: giá trị "2024-02-30 08:15" không hợp lệ, '
        "cần dạng YYYY-MM-DD HH:MM, dd/mm/yyyy HH:MM hoặc ISO 8601 có múi giờ.",
    ),
    (
        {"submitted_at": "0001-01-01 00:00"},
        'Dòng 3, cột submitted_at: giá trị "0001-01-01 00:00" không hợp lệ, năm 1 nằm ngoài khoảng 2000–'
        + str(clock.today().year + 1)
        + ".",
    ),
    (
        {"submitted_at": "01/01/1900 08:00"},
        'Dòng 3, cột submitted_at: giá trị "01/01/1900 08:00" không hợp lệ, năm 1900 nằm ngoài khoảng 2000–'
        + str(clock.today().year + 1)
        + ".",
    ),
    ({"submitted_at": ""}, "Dòng 3, cột submitted_at: thiếu thời điểm khảo sát."),
    ({"submitted_at": "2999-01-01 08:00"}, 'Dòng 3, cột submitted_at: thời điểm "2999-01-01 08:00" ở trong tương lai.'),
    ({"staff_code": "CB99"}, 'Dòng 3, cột staff_code: mã cán bộ "CB99" không có trong danh sách cán bộ.'),
    ({"channel": "email"}, 'Dòng 3, cột channel: giá trị "email" không hợp lệ, chỉ nhận kiosk, qr, paper.'),
    ({"wait_minutes": "-5"}, 'Dòng 3, cột wait_minutes: giá trị "-5" không hợp lệ, chỉ nhận số phút nguyên ≥ 0.'),
    ({"wait_minutes": "2.5"}, 'Dòng 3, cột wait_minutes: giá trị "2.5" không hợp lệ, chỉ nhận số phút nguyên ≥ 0.'),
    ({"comment": "a" * 2001}, "Dòng 3, cột comment: dài 2001 ký tự, tối đa 2000."),
    (
        {"TC1.1": "", "TC3.2": "", "overall": ""},
        "Dòng 3: không trả lời tiêu chí nào và không có câu đánh giá chung (overall).",
    ),
    ({"response_id": "r2"}, 'Dòng 3, cột response_id: mã "r2" trùng với dòng 2.'),
]


@pytest.mark.parametrize("change, message", BAD_ROWS, ids=[m[:40] for _, m in BAD_ROWS])
def test_a_bad_row_refuses_the_whole_file(staffed, change, message):
    _import(staffed, _csv([HEADER, GOOD[0]]), "truoc.csv")  # something already stored
    before = table_snapshot(staffed)
    with pytest.raises(ValidationError) as err:
        _import(staffed, _csv(_bad(change)))
    assert err.value.problems == [message]
    assert table_snapshot(staffed) == before


def test_unknown_questionnaire_version(conn):
    rows = [["submitted_at", "questionnaire", "TC1.1"], ["2024-03-04 08:00", "sipas-1999", "4"]]
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        _import(conn, _csv(rows))
    assert err.value.problems == [
        'Dòng 2, cột questionnaire: không có phiên bản phiếu "sipas-1999" (có: sipas-2017, sipas-2023, sipas-2024).'
    ]
    assert table_snapshot(conn) == before


def test_a_criterion_column_not_of_the_rows_version(conn):
    rows = [
        ["submitted_at", "questionnaire", "TC2.4", "TC2.5"],
        ["2024-03-04 08:00", "sipas-2017", "", "5"],
        ["2024-03-04 08:00", "sipas-2023", "4", "5"],
    ]  # TC2.5 exists only in sipas-2017
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        _import(conn, _csv(rows))
    assert err.value.problems == ["Dòng 3, cột TC2.5: tiêu chí này không thuộc phiếu sipas-2023."]
    assert table_snapshot(conn) == before


@pytest.mark.parametrize("typo", ["TC3.9", "overal", "Comment"])
def test_an_unknown_header_lists_the_allowed_names(conn, typo):
    rows = [["submitted_at", "TC1.1", typo], ["2024-03-04 08:00", "4", "5"]]
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        _import(conn, _csv(rows))
    assert err.value.problems == [f"Dòng 1, cột {typo}: tên cột không hợp lệ. Các tên được nhận: {ALLOWED_2023}."]
    assert table_snapshot(conn) == before


def test_missing_submitted_at_column(conn):
    with pytest.raises(ValidationError) as err:
        _import(conn, _csv([["TC1.1"], ["4"]]))
    assert err.value.problems == ["Dòng 1: thiếu cột bắt buộc submitted_at."]


def test_every_problem_is_listed_with_its_row(staffed):
    rows = [
        HEADER,
        GOOD[0],
        ["e1", "2024-03-04 08:15", "fax", "", "", "9", "", "", ""],
        GOOD[1],
        ["e2", "hôm qua", "", "", "", "", "4", "", ""],
    ]
    before = table_snapshot(staffed)
    with pytest.raises(ValidationError) as err:
        _import(staffed, _csv(rows))
    assert err.value.problems == [
        'Dòng 3, cột channel: giá trị "fax" không hợp lệ, chỉ nhận kiosk, qr, paper.',
        'Dòng 3, cột TC1.1: giá trị "9" không hợp lệ, chỉ nhận 1–5.',
        'Dòng 5, cột submitted_at: giá trị "hôm qua" không hợp lệ, '
        "cần dạng YYYY-MM-DD HH:MM, dd/mm/yyyy HH:MM hoặc ISO 8601 có múi giờ.",
    ]
    assert table_snapshot(staffed) == before


def test_a_file_that_is_not_a_table(conn):
    with pytest.raises(ValidationError) as err:
        _import(conn, b"x", "phieu.pdf")
    assert err.value.problems == [
        "Tệp phieu.pdf: chỉ nhận tệp .csv, .txt (văn bản ngăn cách bằng dấu phẩy, dấu chấm phẩy hoặc tab), "
        ".xlsx hoặc .xls. Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
    ]


def test_a_csv_that_is_neither_utf8_nor_windows_1258_says_what_to_do(conn):
    # 0x81 is undefined in Windows-1258 (and not UTF-8 on its own): no Vietnamese code page reads it.
    data = b"submitted_at,comment\n2024-03-04 08:00,C\x81n\n"
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        _import(conn, data)
    assert err.value.problems == [
        "Tệp phieu.csv, dòng 2: không phải văn bản UTF-8 cũng không phải bảng mã Windows-1258. "
        "Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
    ]
    assert table_snapshot(conn) == before


def test_a_broken_xlsx(conn):
    with pytest.raises(ValidationError) as err:
        _import(conn, b"PK\x03\x04 not really a zip", "phieu.xlsx")
    assert err.value.problems[0].startswith("Tệp phieu.xlsx: không mở được tệp Excel (")


def test_a_file_with_only_a_header(conn):
    with pytest.raises(ValidationError) as err:
        _import(conn, _csv([["submitted_at", "TC1.1"]]))
    assert err.value.problems == ["Tệp phieu.csv: không có dòng dữ liệu nào."]


# --------------------------------------------------------------------------- choose_criteria


@pytest.mark.parametrize("version", ["sipas-2023", "sipas-2017"])
def test_short_mode_asks_every_conduct_criterion_and_exactly_rotating_others(version):
    q = questionnaire(version)
    conduct = [c.code for c in q.element("3").criteria]
    rng = random.Random(5)
    for rotating in (1, 4, 6):
        for _ in range(50):
            picked = choose_criteria(q, "short", rotating, {}, rng)
            assert [c for c in picked if c.startswith("TC3.")] == conduct
            assert len([c for c in picked if not c.startswith("TC3.")]) == rotating
            assert picked == [c for c in q.criterion_codes if c in picked]  # questionnaire order


def test_full_mode_asks_everything():
    q = questionnaire("sipas-2023")
    assert choose_criteria(q, "full", 4, {}) == list(q.criterion_codes)


def test_short_mode_prefers_the_least_asked():
    q = questionnaire("sipas-2023")
    asked = {c: 10 for c in q.criterion_codes}
    asked["TC2.3"] = 2
    asked["TC5.1"] = 3
    picked = choose_criteria(q, "short", 2, asked, random.Random(0))
    assert picked == ["TC2.3", "TC3.1", "TC3.2", "TC3.3", "TC3.4", "TC3.5", "TC5.1"]


@pytest.mark.parametrize("version, rotating", [("sipas-2023", 4), ("sipas-2017", 5), ("sipas-2023", 3)])
def test_rotation_is_balanced_over_2000_surveys(version, rotating):
    q = questionnaire(version)
    rng = random.Random(2024)
    asked: Counter[str] = Counter()
    for _ in range(2000):
        asked.update(choose_criteria(q, "short", rotating, asked, rng))
    others = [asked[c] for c in q.criterion_codes if not c.startswith("TC3.")]
    assert max(others) - min(others) <= 1
    assert sum(others) == 2000 * rotating
    assert all(asked[c.code] == 2000 for c in q.element("3").criteria)


def test_rotation_fed_back_from_the_database(conn):
    # The kiosk reads db.asked_counts before each survey; "Không ý kiến" counts as asked.
    q = questionnaire(ACTIVE)
    rng = random.Random(1)
    for i in range(35):
        asked = choose_criteria(q, "short", 4, db.asked_counts(conn, ACTIVE), rng)
        answers = {c: (None if j == 0 else 4) for j, c in enumerate(asked)}
        assert submit_kiosk_survey(conn, KioskSurvey(f"k{i}", ACTIVE, asked, answers), now=datetime(2024, 3, 4, 9, 0))
    counts = db.asked_counts(conn, ACTIVE)
    others = [counts.get(c, 0) for c in q.criterion_codes if not c.startswith("TC3.")]
    assert sum(others) == 35 * 4
    assert max(others) - min(others) <= 1


# --------------------------------------------------------------------------- kiosk


def _survey(token="tok-1", **kw) -> KioskSurvey:
    base = dict(
        token=token,
        questionnaire=ACTIVE,
        asked=["TC1.1", "TC1.2", "TC3.1", "TC3.2"],
        answers={"TC1.1": 5, "TC1.2": None, "TC3.1": 2},
        overall=4,
    )
    base.update(kw)
    return KioskSurvey(**base)


def test_kiosk_survey_without_any_answer_is_refused(conn):
    before = table_snapshot(conn)
    for s in (_survey(answers={}, overall=None), _survey(answers={"TC1.1": None, "TC3.1": None}, overall=None)):
        with pytest.raises(ValidationError) as err:
            submit_kiosk_survey(conn, s)
        assert err.value.problems == ["Xin Ông/Bà chọn ít nhất một mức đánh giá trước khi gửi."]
    assert table_snapshot(conn) == before


def test_kiosk_comment_over_2000_characters_is_refused(conn):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        submit_kiosk_survey(conn, _survey(comment="x" * 2001))
    assert err.value.problems == ["Góp ý dài quá 2000 ký tự (2001 ký tự)."]
    assert table_snapshot(conn) == before


def test_kiosk_answer_to_a_criterion_not_asked_is_refused(conn):
    with pytest.raises(ValidationError) as err:
        submit_kiosk_survey(conn, _survey(answers={"TC5.1": 5}))
    assert err.value.problems == ["Câu trả lời không hợp lệ cho TC5.1."]
    assert db.count_responses(conn) == 0


def test_kiosk_survey_is_stored_once(conn):
    now = datetime(2024, 3, 4, 9, 30, 15)
    s = _survey(comment="  <b>Cảm ơn</b>  ", started_at=datetime(2024, 3, 4, 9, 28, 45))
    assert submit_kiosk_survey(conn, s, now=now, device="quay1") is True
    assert submit_kiosk_survey(conn, s, now=now, device="quay1") is False  # double tap / reload
    assert submit_kiosk_survey(conn, _survey(overall=1), now=now) is False  # same token, other answers
    assert db.count_responses(conn) == 1
    stored = db.response_by_token(conn, "tok-1")
    assert (
        stored["submitted_at"],
        stored["channel"],
        stored["overall"],
        stored["device"],
        stored["comment"],
        stored["duration_seconds"],
    ) == ("2024-03-04 09:30:15", "kiosk", 4, "quay1", "  <b>Cảm ơn</b>  ", 90.0)
    assert stored["answers"] == {"TC1.1": 5, "TC1.2": None, "TC3.1": 2, "TC3.2": None}


def test_no_opinion_is_stored_as_null_never_3(conn):
    submit_kiosk_survey(conn, _survey(), now=datetime(2024, 3, 4, 9, 0))
    rows = conn.execute("SELECT criterion, value FROM answers ORDER BY criterion").fetchall()
    # TC1.2 answered "Không ý kiến", TC3.2 asked and skipped: both NULL.
    assert [tuple(r) for r in rows] == [("TC1.1", 5), ("TC1.2", None), ("TC3.1", 2), ("TC3.2", None)]
    assert conn.execute("SELECT count(*) FROM answers WHERE value = 3").fetchone()[0] == 0
    assert db.level_counts(conn, ACTIVE) == {
        "TC1.1": (0, 0, 0, 0, 1),
        "TC1.2": (0, 0, 0, 0, 0),
        "TC3.1": (0, 1, 0, 0, 0),
        "TC3.2": (0, 0, 0, 0, 0),
        "overall": (0, 0, 0, 1, 0),
    }
    assert db.asked_counts(conn, ACTIVE)["TC1.2"] == 1


def test_every_criterion_cell_reads_as_parse_level_reads_it(conn):
    """The usual row is read at C speed, any other cell by parse_level: both give what parse_level
    gives cell by cell, over a file of two versions (2017 and 2023 share some criteria)."""
    from sipas.files import parsing
    from sipas.survey.responses import validate_responses_table

    rng = random.Random(7)
    v2017, v2023 = questionnaire("sipas-2017"), questionnaire("sipas-2023")
    shared = sorted(set(v2017.criterion_codes) & set(v2023.criterion_codes))
    only_2017 = sorted(set(v2017.criterion_codes) - set(v2023.criterion_codes))[:2]
    header = ["submitted_at", "questionnaire", "overall", *shared, *only_2017]
    cells = ["", "1", "2", "3", "4", "5", "4.0", "3,0", " 5 ", "2 "]
    rows = [header]
    for i in range(400):
        version = rng.choice(("sipas-2017", "sipas-2023"))
        row = [f"2024-03-{1 + i % 28:02d} 08:00", version, rng.choice(("", "4"))]
        row += [rng.choice(cells) for _ in shared]
        row += [rng.choice(cells) if version == "sipas-2017" else "" for _ in only_2017]
        if not any(row[2:]):
            row[3] = "5"
        rows.append(row)
    parsed = validate_responses_table(rows, "f.csv", active_version="sipas-2023", known_staff=set())
    assert len(parsed) == 400
    for row, (response, answers) in zip(rows[1:], parsed, strict=True):
        want = {h: parsing.parse_level(c) for h, c in zip(header[3:], row[3:], strict=True) if c.strip()}
        assert answers == want
        assert response["questionnaire"] == row[1]


def test_the_garbage_collector_is_back_on_after_an_import_even_a_refused_one(conn):
    import gc

    from sipas.files import parsing

    assert gc.isenabled()
    _import(conn, _csv([HEADER, GOOD[1]]))
    assert gc.isenabled()
    with pytest.raises(ValidationError):
        _import(conn, _csv([HEADER, [*GOOD[1][:5], "9", *GOOD[1][6:]]]))
    assert gc.isenabled()
    with parsing.gc_paused():  # nested: on again only when the outer one ends
        with parsing.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # off before: stays off
    try:
        with parsing.gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
