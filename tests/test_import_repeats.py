"""Each survey counted once whatever the file: a re-saved file (XLSX, columns reordered, another encoding,
day-first dates) is recognised by the content of its surveys, told, and stored only when confirmed."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest
from conftest import run_cli, table_snapshot

from sipas import db
from sipas.survey.responses import import_responses

ACTIVE = "sipas-2023"
HEADER = ["submitted_at", "field", "staff_code", "TC1.1", "TC2.3", "overall", "comment"]
ROWS = [
    ["2026-03-04 08:15", "Hộ tịch", "", "5", "4", "5", "Cán bộ tận tình"],
    ["2026-03-04 09:00", "Chứng thực", "", "2", "", "4", ""],
    ["2026-03-05 14:00:00", "Đất đai", "", "", "3", "", ""],
]


def _csv(rows, *, encoding="utf-8", sep=",") -> bytes:
    return ("\r\n".join(sep.join(r) for r in rows) + "\r\n").encode(encoding)


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(conn, data, name, **kw):
    return import_responses(conn, data, name, active_version=ACTIVE, actor="test", **kw)


def _reordered(rows):
    order = [6, 5, 3, 0, 2, 4, 1]  # comment first, submitted_at in the middle
    return [[r[i] for i in order] for r in rows]


def _as_excel_values(rows):
    """What a clerk's re-saved workbook holds: real date cells and numbers, not the CSV's text."""
    out = [rows[0]]
    for r in rows[1:]:
        ts = datetime.fromisoformat(r[0])
        out.append([ts, r[1], None, *(int(v) if v else None for v in r[3:6]), r[6] or None])
    return out


def test_the_same_surveys_as_csv_then_xlsx_then_reordered_csv_are_stored_once(conn):
    first = _import(conn, _csv([HEADER, *ROWS]), "thang3.csv")
    assert (first.added, first.repeats) == (3, 0)
    first_import = conn.execute("SELECT id, imported_at FROM imports").fetchone()
    before = table_snapshot(conn)

    again = _import(conn, _xlsx(_as_excel_values([HEADER, *ROWS])), "thang3.xlsx")
    # The third row reads as the very same cells (a token already stored); the other two only match by content.
    assert (again.rows, again.added, again.present, again.repeats) == (3, 0, 1, 2)
    assert [(s.import_id, s.filename, s.surveys) for s in again.repeat_sources] == [(first_import[0], "thang3.csv", 2)]
    assert "2 phiếu có nội dung giống hệt phiếu đã nhập trước (2 phiếu từ tệp thang3.csv (lần nhập số 1, lúc " in (
        again.message()
    )
    assert "--allow-repeats" in again.message()

    third = _import(conn, _csv(_reordered([HEADER, *ROWS])), "thang3-sapxep.csv")
    assert (third.added, third.repeats) == (0, 3)
    assert db.count_responses(conn) == 3
    after = table_snapshot(conn)
    assert after["responses"] == before["responses"] and after["answers"] == before["answers"]
    assert db.level_counts(conn, ACTIVE)["TC1.1"] == (0, 1, 0, 0, 1)


def test_another_encoding_and_day_first_dates_are_the_same_surveys(conn):
    _import(conn, _csv([HEADER, *ROWS]), "thang3.csv")
    day_first = [[f"{r[0][8:10]}/{r[0][5:7]}/{r[0][:4]} {r[0][11:16]}", *r[1:]] for r in ROWS]
    again = _import(conn, _csv([HEADER, *day_first], encoding="utf-16", sep="\t"), "thang3.txt.csv")
    assert (again.added, again.repeats) == (0, 3)
    assert db.count_responses(conn) == 3


def test_a_new_survey_in_a_resaved_file_is_stored_and_the_repeats_are_not(conn):
    _import(conn, _csv([HEADER, *ROWS[:2]]), "tuan1.csv")
    summary = _import(conn, _xlsx(_as_excel_values([HEADER, *ROWS])), "thang3.xlsx")
    assert (summary.added, summary.repeats) == (1, 2)
    assert db.count_responses(conn) == 3


def test_repeats_are_stored_when_the_clerk_confirms(conn):
    _import(conn, _csv([HEADER, *ROWS]), "thang3.csv")
    data = _csv(_reordered([HEADER, *ROWS]))
    assert _import(conn, data, "b.csv").added == 0
    confirmed = _import(conn, data, "b.csv", allow_repeats=True)
    assert (confirmed.added, confirmed.repeats, confirmed.repeats_stored) == (3, 3, True)
    assert "Theo xác nhận của người nhập, đã lưu cả 3 phiếu" in confirmed.message()
    assert db.count_responses(conn) == 6
    # The very same file a third time is recognised by its rows' tokens: nothing more.
    assert _import(conn, data, "b.csv", allow_repeats=True).added == 0
    assert db.count_responses(conn) == 6


def test_identical_surveys_within_one_file_both_count_and_only_as_many_are_repeats(conn):
    twice = [HEADER, ROWS[1], ROWS[1]]
    first = _import(conn, _csv(twice), "a.csv")
    assert (first.added, first.repeats) == (2, 0)
    thrice = _import(conn, _csv(_reordered([HEADER, ROWS[1], ROWS[1], ROWS[1]])), "b.csv")
    assert (thrice.added, thrice.repeats) == (1, 2)  # two were stored already, the third is a new survey
    assert db.count_responses(conn) == 3


@pytest.mark.parametrize("change", ["TC2.3", "comment", "submitted_at"])
def test_a_survey_that_differs_in_one_value_is_not_a_repeat(conn, change):
    _import(conn, _csv([HEADER, *ROWS]), "a.csv")
    col = HEADER.index(change)
    other = [list(r) for r in ROWS]
    other[0][col] = {"TC2.3": "3", "comment": "Khác", "submitted_at": "2026-03-04 08:16"}[change]
    summary = _import(conn, _csv(_reordered([HEADER, *other])), "b.csv")
    assert (summary.added, summary.repeats) == (1, 2)


def test_cli_refuses_repeats_unless_allowed(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.xlsx"
    first.write_bytes(_csv([HEADER, *ROWS]))
    second.write_bytes(_xlsx(_as_excel_values([HEADER, *ROWS])))
    db_path = tmp_path / "x.db"
    assert run_cli("import-responses", str(first), db_path=db_path).returncode == 0
    plain = run_cli("import-responses", str(second), db_path=db_path)
    assert plain.returncode == 0
    assert "Đã nhập 0 phiếu mới từ b.xlsx" in plain.stdout and "2 phiếu có nội dung giống hệt" in plain.stdout
    allowed = run_cli("import-responses", str(second), "--allow-repeats", db_path=db_path)
    assert "Đã nhập 2 phiếu mới từ b.xlsx" in allowed.stdout
    help_text = run_cli("import-responses", "--help", db_path=db_path).stdout
    assert "--allow-repeats" in help_text


def test_rows_without_a_questionnaire_take_the_form_in_force_on_their_date(conn):
    from sipas.admin import settings

    settings.put(conn, "active_questionnaire", "sipas-2023", "test", "2026-01-01")
    settings.put(conn, "active_questionnaire", "sipas-2024", "test", "2026-06-15")
    rows = [
        ["submitted_at", "TC1.1", "overall"],
        ["14/06/2026 09:00", "5", "4"],
        ["15/06/2026 09:00", "4", "4"],
        ["2026-06-20 10:00", "", "3"],
    ]
    summary = import_responses(conn, _csv(rows), "thang6.csv", actor="test")
    assert summary.added == 3
    stored = [tuple(r) for r in conn.execute("SELECT submitted_at, questionnaire FROM responses ORDER BY submitted_at")]
    assert stored == [
        ("2026-06-14 09:00:00", "sipas-2023"),
        ("2026-06-15 09:00:00", "sipas-2024"),
        ("2026-06-20 10:00:00", "sipas-2024"),
    ]


def test_the_import_fingerprint_is_the_public_one():
    # The import makes each fingerprint with a memo of the (criterion, level) reprs; it is the very value
    # of survey_fingerprint, so a survey imported before and after that change is still recognised.
    from sipas.survey.responses import read_table, survey_fingerprint, validate_responses_table

    rows = [["TC2.3", "submitted_at", "TC1.1", "overall", "comment", "TC1.2", "field"]]
    rows += [
        ["4", "2026-03-04 08:15", "5", "3", "Cán bộ  tận tình ", "", "Hộ tịch"],
        ["", "04/03/2026", "", "4", "", "", ""],
    ]
    rows += [["4.0", "2026-03-05 14:00:00", "1", "", "", "2.0", " Đất đai "]]
    parsed = validate_responses_table(
        read_table(_csv(rows), "f.csv"), "f.csv", active_version=ACTIVE, known_staff=set()
    )
    assert len(parsed) == 3
    for response, answers in parsed:
        assert response["fingerprint"] == survey_fingerprint(response, answers)
