"""No survey left out of a period: a month mixing forms says its counts per form everywhere it is reported."""

from __future__ import annotations

from conftest import run_cli

from sipas.admin import settings
from sipas.index import periods
from sipas.reports.model import build_report, summary_rows
from sipas.survey.responses import import_responses


def _csv(rows) -> bytes:
    return ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("utf-8")


def _mixed_month(conn) -> None:
    settings.put(conn, "active_questionnaire", "sipas-2024", "test", "2026-01-01")
    rows = [["submitted_at", "questionnaire", "TC1.1", "overall"]]
    rows += [[f"2026-06-{1 + i % 28:02d} 09:{i % 60:02d}", "sipas-2024", "5", "5"] for i in range(6)]
    # The older form: 2 of 3 overall answers satisfied (4–5), TC1.1 answered 4, 2, 5.
    rows += [
        ["2026-06-10 10:00", "sipas-2023", "4", "4"],
        ["2026-06-11 10:00", "sipas-2023", "2", "2"],
        ["2026-06-12 10:00", "sipas-2023", "5", "5"],
    ]
    import_responses(conn, _csv(rows), "thang6.csv", actor="test")


def test_forms_in_period_counts_every_form_with_its_own_index(conn):
    _mixed_month(conn)
    forms = periods.forms_in_period(conn, "2026-06-01", "2026-06-30")
    assert [(f.version, f.responses) for f in forms] == [("sipas-2024", 6), ("sipas-2023", 3)]
    older = forms[1]
    assert older.result.direct_overall.n == 3 and older.result.direct_overall.satisfied == 2
    # Wilson 95% for 2/3 (by hand: centre 1.30694 / 2.28053 = 0.5731, half-width 0.3654): 20,8–93,9 %.
    assert older.text() == (
        "3 phiếu mẫu 2022–2023; chỉ số hài lòng 66,7%; câu hỏi hài lòng chung 66,7% (n = 3, KTC 95% 20,8–93,9%)."
    )


def test_the_report_of_a_mixed_month_says_both_forms_and_the_other_forms_figures(conn):
    _mixed_month(conn)
    report = build_report(conn, "2026-06")
    assert report.questionnaire == "sipas-2024" and report.result.responses == 6
    rows = dict(summary_rows(report))
    assert rows["Phiếu theo mẫu"] == (
        "Tháng này có 6 phiếu mẫu 2024–2026 và 3 phiếu mẫu 2022–2023. Các số liệu theo tiêu chí tính trên "
        "6 phiếu mẫu 2024–2026; 3 phiếu mẫu 2022–2023 được tính riêng theo mẫu của chúng."
    )
    assert rows["Phiếu mẫu 2022–2023 (tính riêng)"].startswith("3 phiếu mẫu 2022–2023; chỉ số hài lòng 66,7%")


def test_a_month_of_one_form_has_no_form_rows(conn):
    import_responses(
        conn, _csv([["submitted_at", "questionnaire", "TC1.1"], ["2026-06-02 09:00", "sipas-2024", "4"]]), "a.csv"
    )
    assert "Phiếu theo mẫu" not in dict(summary_rows(build_report(conn, "2026-06")))


def test_cli_index_says_the_other_forms(conn, db_file):
    _mixed_month(conn)
    text = run_cli("index", "--from", "2026-06-01", "--to", "2026-06-30")
    assert text.returncode == 0
    assert text.stdout.splitlines() == [
        "sipas-2024: 6 phiếu, chỉ số hài lòng 100,00%.",
        "Kỳ này có 6 phiếu mẫu 2024–2026 và 3 phiếu mẫu 2022–2023. Các số liệu theo tiêu chí tính trên "
        "6 phiếu mẫu 2024–2026; 3 phiếu mẫu 2022–2023 được tính riêng theo mẫu của chúng.",
    ]
    as_json = run_cli("index", "--from", "2026-06-01", "--to", "2026-06-30", "--json")
    assert '"responses": 6' in as_json.stdout and "3 phiếu mẫu 2022–2023" in as_json.stderr


def test_a_month_typed_only_in_the_older_form_is_not_reported_empty(conn):
    rows = [["submitted_at", "questionnaire", "TC1.1", "overall"], ["2026-06-10 10:00", "sipas-2023", "4", "4"]]
    import_responses(conn, _csv(rows), "a.csv")
    report = build_report(conn, "2026-06")
    assert (report.questionnaire, report.result.responses) == ("sipas-2023", 1)
