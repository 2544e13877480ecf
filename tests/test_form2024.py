"""The national form of SIPAS 2024 (sipas-2024): index, crosswalk to the 2023 baseline, baseline counts,
the 2025 reorganisation in the shipped defaults, the first-login confirmation, the migration."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import date

import pytest
from conftest import table_snapshot
from scipy.stats import binomtest, chi2_contingency

from sipas import db, reports
from sipas.admin import settings, signing
from sipas.catalog import crosswalk, load_questionnaires, questionnaire
from sipas.errors import CatalogError, ValidationError
from sipas.index import baseline, criterion_tables, scoring, selection, trends
from sipas.index.scoring import compute_index
from sipas.paths import DATA_DIR

BANDS = [["Tốt", 90.0], ["Khá", 80.0], ["Trung bình", 70.0], ["Yếu", 0.0]]
SHIPPED = DATA_DIR / "questionnaires"
TU_BONG = "Trung tâm Phục vụ hành chính công xã Tu Bông"


# ------------------------------------------------------------------------------ the questionnaire


def test_the_16_statements_word_for_word_with_the_office_of_the_unit():
    q = questionnaire("sipas-2024")
    assert q.label == "Mẫu phiếu 2024–2026"
    assert [len(e.criteria) for e in q.elements] == [3, 4, 3, 3, 3]
    texts = q.texts(TU_BONG)
    assert texts["TC1.1"] == (
        "Trung tâm Phục vụ hành chính công xã Tu Bông có biển hiệu, hướng dẫn rõ ràng, giúp người dân dễ tìm, dễ thấy."
    )
    assert texts["TC2.2"] == "Công chức yêu cầu người dân nộp hồ sơ giải quyết thủ tục hành chính đúng theo quy định."
    assert texts["TC3.2"] == (
        "Công chức ở Trung tâm Phục vụ hành chính công xã Tu Bông hướng dẫn hồ sơ dễ hiểu, đầy đủ, giúp người dân "
        "có thể hoàn thiện hồ sơ sau một lần hướng dẫn."
    )
    assert texts["TC5.3"].endswith("thông báo kết quả xử lý phản ánh kiến nghị cho người dân kịp thời.")
    # 10 of the 16 name the office (24–27, 31–33, 37–39 of the national form)
    assert sorted(c.code for c in q.criteria if c.template) == [
        "TC1.1",
        "TC1.2",
        "TC1.3",
        "TC2.1",
        "TC3.1",
        "TC3.2",
        "TC3.3",
        "TC5.1",
        "TC5.2",
        "TC5.3",
    ]
    assert all("{" not in t for t in texts.values())
    assert all(c.topic for v in ("sipas-2017", "sipas-2023", "sipas-2024") for c in questionnaire(v).criteria)
    assert questionnaire("sipas-2023").label == "Mẫu phiếu 2022–2023"


def test_the_extra_questions_of_the_2024_form_agree_with_their_answers():
    q = questionnaire("sipas-2024")
    harassment, payment = q.extra_question("harassment"), q.extra_question("informal_payment")
    assert harassment.text.startswith("Ông/Bà cảm nhận như thế nào về tình trạng công chức gây phiền hà")
    assert payment.text.startswith("Ông/Bà suy nghĩ gì về tình trạng người dân phải đưa tiền")
    assert [o.label[:12] for o in harassment.options] == ["Không có côn", "Có một số cô", "Có nhiều côn"]
    exp = q.extra_question("expectations")
    assert exp.kind == "grid" and len(exp.items) == 10 and exp.modes == ("full",)
    assert [s.label for s in exp.scale] == ["Không mong muốn", "Khá mong muốn", "Mong muốn", "Rất mong muốn"]
    demographics = [x.code for x in q.extra if x.group == "demographics"]
    assert demographics == ["gender", "ethnicity", "age_group", "education", "occupation"]
    # older versions keep "choose up to three"
    older = questionnaire("sipas-2023").extra_question("expectations")
    assert older.kind == "multiple" and older.max_choices == 3


def test_a_stray_placeholder_is_refused_with_its_entry(tmp_path):
    for f in SHIPPED.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "sipas-2024.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["elements"][0]["criteria"][1]["text"] = "{ofice} có đủ ghế ngồi chờ."
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_questionnaires(tmp_path)
    assert str(err.value) == (
        "Tệp sipas-2024.json, mục elements[0].criteria[1].text: chỗ điền '{ofice}' không hợp lệ (chỉ nhận {office})."
    )


def test_the_index_on_sipas_2024_against_hand_computed_vectors():
    q = questionnaire("sipas-2024")
    counts = {
        "TC1.1": (1, 1, 2, 3, 3),  # 6/10 = 60
        "TC1.2": (0, 0, 1, 1, 2),  # 3/4 = 75
        # TC1.3 unanswered: no index, out of the element's mean
        "TC2.1": (0, 0, 0, 5, 5),  # 100
        "TC2.2": (2, 2, 0, 0, 0),  # 0
        "TC2.3": (1, 0, 0, 0, 1),  # 50
        "TC2.4": (0, 1, 1, 1, 1),  # 50
        "TC3.1": (0, 0, 0, 0, 8),  # 100
        "TC3.2": (0, 0, 2, 2, 0),  # 50
        "TC3.3": (0, 1, 0, 1, 1),  # 66.67
        "TC4.1": (0, 0, 0, 3, 1),  # 100
        "TC4.2": (1, 0, 0, 0, 0),  # 0
        "overall": (0, 1, 1, 4, 4),  # 8/10
    }
    r = compute_index(q, counts, 10)
    by = {c.code: c.index for c in r.criteria}
    assert (by["TC1.1"], by["TC1.2"], by["TC1.3"]) == (60.0, 75.0, None)
    assert by["TC3.3"] == pytest.approx(200 / 3)
    # elements: (60+75)/2; (100+0+50+50)/4; (100+50+66.67)/3; (100+0)/2; none
    assert [e.index for e in r.elements][:2] == [67.5, 50.0]
    assert r.elements[2].index == pytest.approx(650 / 9)
    assert [e.index for e in r.elements][3:] == [50.0, None]
    assert r.overall == pytest.approx((67.5 + 50 + 650 / 9 + 50) / 4)  # 59.93
    assert r.direct_overall.index == 80.0


# ------------------------------------------------------------------------------ crosswalk


def test_every_code_of_the_shipped_crosswalk_exists_and_every_criterion_is_listed():
    cw = crosswalk.crosswalks()[frozenset(("sipas-2023", "sipas-2024"))]
    old, new = questionnaire("sipas-2023"), questionnaire("sipas-2024")
    assert sorted(p.old for p in cw.pairs if p.old) == sorted(old.criterion_codes)
    assert sorted(p.new for p in cw.pairs if p.new) == sorted(new.criterion_codes)
    mapping = cw.mapping("sipas-2024")
    assert len(mapping) == 15 and "TC1.2" not in mapping  # the seats statement is new
    assert [c for c, (_, m) in mapping.items() if m == "same"] == [
        "TC2.4",
        "TC3.1",
        "TC4.1",
        "TC4.2",
        "TC4.3",
        "TC5.1",
        "TC5.2",
        "TC5.3",
    ]
    # gone from the 2022–2023 form: many forms of information, clean premises, timely answers, devotion
    assert sorted(set(old.criterion_codes) - set(cw.mapping("sipas-2023"))) == ["TC1.1", "TC1.3", "TC3.2", "TC3.5"]


def _crosswalk_copy(tmp_path, edit):
    for f in SHIPPED.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "crosswalk-2023-2024.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return tmp_path


BROKEN = [
    (
        lambda d: d["pairs"][1].update(new="TC1.9"),
        "Tệp crosswalk-2023-2024.json, mục pairs[1].new: tiêu chí 'TC1.9' không có trong phiếu sipas-2024.",
    ),
    (
        lambda d: d["pairs"][8].update(match="giống"),
        "Tệp crosswalk-2023-2024.json, mục pairs[8].match: giá trị 'giống' không hợp lệ, chỉ nhận same hoặc reworded.",
    ),
    (
        lambda d: d["pairs"].pop(13),
        "Tệp crosswalk-2023-2024.json, mục gốc.pairs: thiếu tiêu chí TC3.5 của phiếu sipas-2023 "
        "(ghi old: null nếu không có).",
    ),
    (
        lambda d: d["pairs"][9].update(new="TC2.4"),
        "Tệp crosswalk-2023-2024.json, mục pairs[9].new: tiêu chí TC2.4 đã có ở mục pairs[8].",
    ),
    (
        lambda d: d["pairs"][9].update(new="TC4.1"),
        "Tệp crosswalk-2023-2024.json, mục pairs[9]: TC3.1 và TC4.1 phải thuộc cùng một yếu tố.",
    ),
    (
        lambda d: d.update(old="sipas-2022"),
        "Tệp crosswalk-2023-2024.json, mục gốc.old: không có phiên bản phiếu 'sipas-2022' "
        "(có: sipas-2017, sipas-2023, sipas-2024).",
    ),
]


@pytest.mark.parametrize(("edit", "message"), BROKEN, ids=[m[32:70] for _, m in BROKEN])
def test_a_broken_crosswalk_is_refused_with_its_entry_named(tmp_path, edit, message):
    directory = _crosswalk_copy(tmp_path, edit)
    with pytest.raises(CatalogError) as err:
        crosswalk.load_crosswalks(directory, load_questionnaires(directory))
    assert str(err.value) == message


def test_a_copy_of_the_shipped_crosswalk_loads_and_is_not_read_as_a_questionnaire(tmp_path):
    directory = _crosswalk_copy(tmp_path, lambda d: None)
    assert sorted(load_questionnaires(directory)) == ["sipas-2017", "sipas-2023", "sipas-2024"]
    assert crosswalk.load_crosswalks(directory, load_questionnaires(directory)) == crosswalk.crosswalks()


def _store_2024(conn, n_sat: dict[str, tuple[int, int]]) -> None:
    """Responses of March 2024 on sipas-2024: for each criterion, ``sat`` answers 5 and the rest 2."""
    rows = max(n for n, _ in n_sat.values())
    for i in range(rows):
        answers = {}
        for code, (n, sat) in n_sat.items():
            if i < n:
                answers[code] = 5 if i < sat else 2
        r = {"token": f"t{i}", "submitted_at": f"2024-03-{1 + i % 28:02d} 09:00:00", "questionnaire": "sipas-2024"}
        assert db.insert_response(conn, {**r, "channel": "paper", "overall": 4}, answers)


def test_a_2024_period_against_a_2023_baseline_tests_through_the_crosswalk_only(conn):
    q24 = questionnaire("sipas-2024")
    _store_2024(conn, {c: (40, 30) for c in q24.criterion_codes})  # 75% everywhere
    base = [
        {"year": 2023, "questionnaire": "sipas-2023", "level": "criterion", "code": c, "index_value": 90.0}
        for c in questionnaire("sipas-2023").criterion_codes
    ]
    base[1].update(n=100, satisfied=90)  # 2023 TC1.2 (signs) with counts → 2024 TC1.1, two proportions
    base += [{"year": 2023, "questionnaire": "sipas-2023", "level": "element", "code": "1", "index_value": 88.0}]
    result = scoring.index_for_period(conn, "sipas-2024", "2024-03-01", "2024-03-31")
    table = criterion_tables.criteria_table(result, base, BANDS).set_index("Mã")

    tested = table[table["Kiểm định"].notna()]
    assert len(tested) == 15 and "TC1.2" not in tested.index
    # the new statement (seats): never compared, listed apart
    seats = table.loc["TC1.2"]
    assert seats["Kết luận"] == "Không có trong mẫu phiếu năm gốc"
    assert seats["So sánh với gốc"] == "Không có trong mẫu phiếu năm gốc"
    assert pd_isna(seats["Gốc (%)"]) and pd_isna(seats["p"])
    assert criterion_tables.unmatched_criteria(result, base)[0][0] == "TC1.2"
    # reworded: compared with its counterpart, with the words
    signs = table.loc["TC1.1"]
    assert signs["Mã gốc"] == "TC1.2"
    assert signs["So sánh với gốc"] == "So sánh gần đúng: nội dung nhận định đã thay đổi (gốc: TC1.2)"
    assert signs["Kiểm định"] == criterion_tables.METHOD_LABELS["two-proportion"]
    # independent: the uncorrected chi-square test of the 2×2 table 30/40 against 90/100
    chi = chi2_contingency([[30, 10], [90, 10]], correction=False)
    assert signs["p"] == pytest.approx(chi.pvalue, rel=1e-9)
    assert signs["Chênh lệch (điểm %)"] == pytest.approx(75 - 90)
    for code in ("TC1.3", "TC2.1", "TC2.2", "TC2.3", "TC3.2", "TC3.3"):
        assert table.loc[code, "So sánh với gốc"].startswith("So sánh gần đúng: nội dung nhận định đã thay đổi")
    # same: as usual (exact binomial against the published 90%)
    polite = table.loc["TC3.1"]
    assert (polite["Mã gốc"], polite["So sánh với gốc"]) == ("TC3.1", "")
    assert polite["Kiểm định"] == criterion_tables.METHOD_LABELS["exact-binomial"]
    assert polite["p"] == pytest.approx(binomtest(30, 40, 0.9).pvalue, rel=1e-9)
    assert table.loc["TC3.3", "Mã gốc"] == "TC3.4"
    # elements compare across versions as before
    el = criterion_tables.elements_table(result, base, BANDS).set_index("Mã")
    assert el.loc["1", "Gốc (%)"] == 88.0


def test_without_a_crosswalk_no_criterion_is_compared(conn):
    _store_2024(conn, {"TC3.1": (20, 15)})
    base = [{"year": 2020, "questionnaire": "sipas-2017", "level": "criterion", "code": "TC3.1", "index_value": 90.0}]
    result = scoring.index_for_period(conn, "sipas-2024")
    table = criterion_tables.criteria_table(result, base, BANDS).set_index("Mã")
    assert table["Kiểm định"].isna().all()
    assert table.loc["TC3.1", "Kết luận"] == criterion_tables.NO_BASELINE


def test_the_report_of_a_2024_month_uses_the_2023_baseline_through_the_crosswalk(conn):
    settings.put(conn, "active_questionnaire", "sipas-2024", "test", "2024-01-01")
    _store_2024(conn, {c: (12, 10) for c in questionnaire("sipas-2024").criterion_codes})
    db.upsert_baseline_rows(
        conn,
        [
            {"year": 2023, "questionnaire": "sipas-2023", "level": "criterion", "code": "TC1.2", "index_value": 80.0},
            {"year": 2023, "questionnaire": "sipas-2023", "level": "criterion", "code": "TC3.1", "index_value": 80.0},
            {"year": 2023, "questionnaire": "sipas-2017", "level": "overall", "code": "", "index_value": 70.0},
        ],
        "test",
    )
    r = reports.build_report(conn, "2024-03")
    assert r.questionnaire == "sipas-2024"
    assert r.baseline_label == "2023 — Mẫu phiếu 2022–2023 (sipas-2023)"  # preferred: it has a crosswalk
    crit = r.criteria.set_index("Mã")
    assert crit.loc["TC1.1", "Mã gốc"] == "TC1.2" and crit.loc["TC3.1", "Mã gốc"] == "TC3.1"
    assert [code for code, _ in r.unmatched] == ["TC1.2"]
    assert r.unmatched[0][1].startswith("Bộ phận Một cửa UBND xã Vạn Phước có đủ ghế ngồi chờ")  # March 2024
    text = pdf_text(reports.to_pdf(r, with_charts=False))
    assert "So sánh gần đúng: nội dung nhận định đã thay đổi: TC1.1 (gốc TC1.2)" in text
    assert "Không có trong mẫu phiếu năm gốc (không so sánh): TC1.2" in text


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages).replace("\n", " ")


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


# ------------------------------------------------------------------------------ baseline counts

INTERCHANGE = """year,questionnaire,level,code,index,n,satisfied
2023,sipas-2023,overall,,88.12,,
2023,sipas-2023,element,1,87.31,1200,1050
2023,sipas-2023,element,3,85.50,600,480
2023,sipas-2023,criterion,TC1.1,87.5,1200,1050
2023,sipas-2023,criterion,TC3.1,80.0,200,160
"""


def test_the_data_interchange_baseline_file_with_element_counts_imports(conn):
    summary = baseline.import_baseline(conn, INTERCHANGE.encode("utf-8"), "bao-cao-2023.csv", "vanphong")
    rows = {(r["level"], r["code"]): (r["index_value"], r["n"], r["satisfied"]) for r in db.baseline_rows(conn)}
    assert rows == {
        ("overall", ""): (88.12, None, None),
        ("element", "1"): (87.31, 1200, 1050),  # kept as published
        ("element", "3"): (85.5, 600, 480),
        ("criterion", "TC1.1"): (87.5, 1200, 1050),
        ("criterion", "TC3.1"): (80.0, 200, 160),
    }
    # element 3 published 85.50 but 480/600 = 80.00: said, not refused
    assert summary.message() == (
        "Đã lưu 5 chỉ số gốc từ bao-cao-2023.csv: 2023 (sipas-2023). 2023 (sipas-2023), yếu tố 3: chỉ số công bố "
        "85,50 khác satisfied/n = 80,00; đã giữ số công bố."
    )
    # the element itself is never tested as one proportion; the criteria are, with their counts
    result = compute_index(questionnaire("sipas-2023"), {"TC3.1": (0, 0, 10, 20, 20)}, 50)
    el = criterion_tables.elements_table(result, db.baseline_rows(conn), BANDS).set_index("Mã")
    assert el.loc["3", "Kiểm định"] == criterion_tables.ELEMENT_TEST
    crit = criterion_tables.criteria_table(result, db.baseline_rows(conn), BANDS).set_index("Mã")
    assert crit.loc["TC3.1", "Kiểm định"] == criterion_tables.METHOD_LABELS["two-proportion"]


def test_a_criterion_index_that_disagrees_with_its_counts_is_still_refused(conn):
    before = table_snapshot(conn)
    bad = "year,questionnaire,level,code,index,n,satisfied\n2023,sipas-2023,criterion,TC1.1,50,10,8\n"
    with pytest.raises(ValidationError) as err:
        baseline.import_baseline(conn, bad.encode(), "x.csv")
    assert err.value.problems == ["Dòng 2, cột index: 50.0 không khớp với satisfied/n = 80.00."]
    assert table_snapshot(conn) == before


# ------------------------------------------------------------------------------ defaults, 2025


@pytest.fixture
def fresh(tmp_path):
    with closing(db.open_db(tmp_path / "new.db")) as c:
        yield c


def test_a_new_database_reports_november_2026_to_the_province_and_june_2025_to_the_district(fresh):
    nov, jun = reports.build_report(fresh, "2026-11"), reports.build_report(fresh, "2025-06")
    assert (nov.recipient, nov.unit_name) == (
        "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)",
        "Trung tâm Phục vụ hành chính công – UBND xã Tu Bông",
    )
    assert nov.office_name == TU_BONG
    assert (jun.recipient, jun.unit_name) == (
        "UBND huyện Vạn Ninh (qua Phòng Nội vụ)",
        "Bộ phận Một cửa – UBND xã Vạn Phước",
    )
    assert reports.build_report(fresh, "2025-07").recipient == "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)"
    # a new database surveys with the 2024 form from 1/1/2024
    assert (
        nov.questionnaire == "sipas-2024" and settings.get(fresh, "active_questionnaire", "2023-12-31") == "sipas-2023"
    )


def test_a_recipient_whose_validity_ended_is_never_used_for_a_later_month(fresh):
    # 2024's settings stored the district "from always": it still addresses 2024, never 2026
    settings.put(fresh, "report_recipient", "UBND huyện Vạn Ninh (qua Phòng Nội vụ)", "vanphong")
    assert reports.build_report(fresh, "2024-05").recipient == "UBND huyện Vạn Ninh (qua Phòng Nội vụ)"
    assert reports.build_report(fresh, "2026-11").recipient == "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)"
    with pytest.raises(ValidationError) as err:
        settings.put(fresh, "report_recipient", "UBND huyện Vạn Ninh (qua Phòng Nội vụ)", "vanphong", "2025-08-01")
    assert err.value.problems == [
        "Nơi nhận báo cáo “UBND huyện Vạn Ninh (qua Phòng Nội vụ)” chỉ dùng đến 30/06/2025; "
        "không đặt được từ 01/08/2025."
    ]
    # a name of the commune's own choosing is kept whatever the date
    settings.put(fresh, "report_recipient", "UBND tỉnh (Sở Nội vụ)", "vanphong", "2025-07-01")
    assert reports.build_report(fresh, "2026-11").recipient == "UBND tỉnh (Sở Nội vụ)"


def test_first_login_confirmation_stores_the_names_from_the_period_start_and_is_audited(fresh):
    assert not settings.unit_confirmed(fresh)
    stored = settings.confirm_unit(
        fresh,
        {"unit_name": "Trung tâm PVHCC xã Tu Bông", "office_name": TU_BONG, "report_recipient": "UBND tỉnh Khánh Hòa"},
        "vanphong",
        today=date(2026, 12, 1),
    )
    assert stored["unit_name"] == "Trung tâm PVHCC xã Tu Bông"
    assert settings.unit_confirmed(fresh)
    assert settings.get(fresh, "unit_name", "2025-07-01") == "Trung tâm PVHCC xã Tu Bông"
    assert settings.get(fresh, "unit_name", "2025-06-30") == "Bộ phận Một cửa – UBND xã Vạn Phước"
    assert reports.build_report(fresh, "2025-06").recipient == "UBND huyện Vạn Ninh (qua Phòng Nội vụ)"
    audit = [(a["actor"], a["entity"]) for a in db.audit_entries(fresh)]
    assert ("vanphong", "unit_confirmed@0001-01-01") in audit
    assert ("vanphong", "report_recipient@2025-07-01") in audit
    confirmed = settings.get(fresh, "unit_confirmed")
    assert (confirmed["by"], confirmed["report_recipient"]) == ("vanphong", "UBND tỉnh Khánh Hòa")


def test_a_confirmation_with_an_empty_name_stores_nothing(fresh):
    before = table_snapshot(fresh)
    with pytest.raises(ValidationError) as err:
        settings.confirm_unit(fresh, {"unit_name": " ", "office_name": "", "report_recipient": "x"}, "vanphong")
    assert err.value.problems == [
        "Tên đơn vị không được để trống (tối đa 300 ký tự).",
        f"{settings.NAME_LABELS['office_name']} không được để trống (tối đa 300 ký tự).",
    ]
    assert table_snapshot(fresh) == before


# ------------------------------------------------------------------------------ migration


def test_migrating_a_database_of_the_previous_version_keeps_every_row_and_its_active_version(tmp_path):
    path = tmp_path / "old.db"
    from sipas.db.schema import MIGRATIONS, _m9_keep_questionnaire

    previous = MIGRATIONS.index(_m9_keep_questionnaire)  # the version just before this migration
    with closing(sqlite3.connect(path)) as c:
        c.row_factory = sqlite3.Row
        db.migrate(c, previous)
        # Written as that version's code wrote it (today's insert knows columns added later).
        c.execute(
            "INSERT INTO responses (id, token, submitted_at, questionnaire, channel) "
            "VALUES (1, 'a', '2024-05-02 09:00:00', 'sipas-2023', 'kiosk')"
        )
        c.executemany("INSERT INTO answers VALUES (1, ?, ?)", [("TC3.1", 5), ("TC3.5", 4)])
        c.execute("INSERT INTO rollup_delta (first_id, last_id, sign) VALUES (1, 1, 1)")
        c.execute(
            "INSERT INTO settings (key, valid_from, value) VALUES ('targets', '2024-01-01', ?)",
            ('{"overall": 88, "floor": 80}',),
        )
        c.commit()
        before = table_snapshot(c)
    with closing(db.open_db(path)) as c:
        assert db.schema_version(c) == db.SCHEMA_VERSION
        after = table_snapshot(c)
        new_tables = set(after) - set(before)  # created empty by later migrations (e.g. the kiosk's)
        assert all(after[t] == [] for t in new_tables)
        # Every row keeps its values; a column added by a later migration (e.g. ethnicity) is empty.
        for t, rows in before.items():
            if t == "settings":
                continue
            assert len(after[t]) == len(rows), t
            for old, now in zip(rows, after[t], strict=True):
                assert now[: len(old)] == old and all(v is None for v in now[len(old) :]), t
        assert set(before["settings"]) <= set(after["settings"])
        assert settings.get(c, "active_questionnaire") == "sipas-2023"  # kept, not switched
        assert settings.form2024_offer_pending(c)
        assert scoring.index_for_period(c, "sipas-2023").responses == 1
        settings.answer_form2024_offer(c, True, "vanphong", today=date(2026, 12, 1))
        assert settings.get(c, "active_questionnaire", "2026-12-01") == "sipas-2024"
        assert settings.get(c, "active_questionnaire", "2026-11-30") == "sipas-2023"
        assert not settings.form2024_offer_pending(c)


def test_a_new_database_is_not_offered_the_switch(fresh):
    assert settings.get(fresh, "active_questionnaire") == "sipas-2024"
    assert not settings.form2024_offer_pending(fresh)


# ------------------------------------------------------------------------------ pages (AppTest)

APP = str(DATA_DIR.parent / "main_page.py")


def _staff_app(tmp_path, monkeypatch, *, old_database: bool = False):
    from streamlit.testing.v1 import AppTest

    from sipas.admin import auth

    path = tmp_path / "pages.db"
    monkeypatch.setenv("SIPAS_DB", str(path))
    with closing(db.open_db(path)) as c:
        if old_database:
            settings.put(c, "active_questionnaire", "sipas-2023", "cập nhật phần mềm")
        auth.create_user(c, "vanphong", "mat-khau-dai-1", "clerk", full_name="Lan", first_admin=True)
        token = auth.start_session(c, auth.authenticate(c, "vanphong", "mat-khau-dai-1"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["staff_token"] = token
    return at, path


def test_the_first_staff_login_shows_the_confirmation_first_until_confirmed(tmp_path, monkeypatch):
    at, path = _staff_app(tmp_path, monkeypatch)
    at.run()
    assert [t.value for t in at.title] == ["Xác nhận thông tin đơn vị"]
    assert at.text_input(key="confirm_office_name").value == TU_BONG  # the shipped name of today
    # the first administrator is told how to keep the signing key (the code on the Sao lưu page)
    assert [i.value for i in at.info] == [signing.FIRST_START_ADVICE]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/analysis.py")  # no other staff page exists for this session yet
    at.text_input(key="confirm_unit_name").input("Trung tâm PVHCC – UBND xã Tu Bông")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Tổng quan chỉ số hài lòng"]
    with closing(db.open_db(path)) as c:
        assert settings.get(c, "unit_name") == "Trung tâm PVHCC – UBND xã Tu Bông"
        assert settings.get(c, "unit_confirmed")["by"] == "vanphong"
        assert any(a["entity"] == "unit_confirmed@0001-01-01" for a in db.audit_entries(c))


def test_an_older_database_is_offered_the_2024_form_once(tmp_path, monkeypatch):
    at, path = _staff_app(tmp_path, monkeypatch, old_database=True)
    with closing(db.open_db(path)) as c:
        settings.confirm_unit(c, {k: settings.get(c, k) for k in settings.UNIT_KEYS}, "vanphong")
    at.run()
    assert any("Mẫu phiếu 2022–2023 (sipas-2023)" in i.value for i in at.info)
    (switch,) = [b for b in at.button if b.label == "Chuyển sang mẫu phiếu 2024–2026"]
    switch.click()
    at.run()
    assert not any("Chuyển sang mẫu mới" in i.value for i in at.info)
    with closing(db.open_db(path)) as c:
        assert settings.get(c, "active_questionnaire") == "sipas-2024"
        assert settings.get(c, "form2024_offer") == "switched"


def test_the_12_month_trend_runs_across_the_change_of_form_and_marks_its_month(conn):
    settings.put(conn, "active_questionnaire", "sipas-2024", "vanphong", "2024-01-01")
    for i, (day, version, answers) in enumerate(
        [
            ("2023-11-10", "sipas-2023", {"TC3.1": 5, "TC3.5": 2}),
            ("2023-12-10", "sipas-2023", {"TC3.1": 4}),
            ("2024-01-10", "sipas-2024", {"TC3.1": 2}),
            ("2024-02-10", "sipas-2024", {"TC3.1": 5, "TC1.2": 5}),
        ]
    ):
        r = {"token": f"v{i}", "submitted_at": f"{day} 09:00:00", "questionnaire": version, "channel": "paper"}
        assert db.insert_response(conn, {**r, "overall": 4}, answers)
    f = selection.Filters("sipas-2024", "2024-02-01", "2024-02-29")
    trend = trends.monthly_trend(conn, trends.trend_filters(f))
    assert list(zip(trend["Tháng"], trend["Phiếu"], trend["Chỉ số chung (%)"], strict=True)) == [
        ("2023-11", "sipas-2023", 50.0),  # element 3 = (100 + 0)/2
        ("2023-12", "sipas-2023", 100.0),
        ("2024-01", "sipas-2024", 0.0),
        ("2024-02", "sipas-2024", 100.0),
    ]
    assert trends.version_changes(trend) == [("2024-01", "sipas-2023", "sipas-2024")]
    spec = json.dumps(charts_trend(trend).to_dict(), ensure_ascii=False)
    assert "Đổi mẫu phiếu" in spec and '"strokeDash": [4, 3]' in spec
    report = reports.build_report(conn, "2024-02")
    text = pdf_text(reports.to_pdf(report, with_charts=False))
    assert "Từ tháng 2024-01: đổi mẫu phiếu từ Mẫu phiếu 2022–2023 (sipas-2023) sang Mẫu phiếu 2024–2026" in text


def charts_trend(trend):
    from sipas.reports import charts

    return charts.trend_chart(trend)


def test_the_analysis_page_compares_2024_with_the_2023_baseline_through_the_crosswalk(conn, db_file):
    from streamlit.testing.v1 import AppTest

    from sipas.admin import auth

    settings.put(conn, "active_questionnaire", "sipas-2024", "test", "2024-01-01")
    _store_2024(conn, {c: (12, 10) for c in questionnaire("sipas-2024").criterion_codes})
    db.upsert_baseline_rows(
        conn,
        [
            {"year": 2023, "questionnaire": "sipas-2023", "level": "criterion", "code": c, "index_value": 80.0}
            for c in questionnaire("sipas-2023").criterion_codes
        ],
        "test",
    )
    user = auth.create_user(conn, "vanphong", "mat-khau-dai-1", "clerk", first_admin=True)
    at = AppTest.from_file(str(DATA_DIR.parent / "app_pages" / "analysis.py"), default_timeout=60)
    at.session_state["staff_token"] = auth.start_session(conn, user)
    at.run()
    at.segmented_control(key="an_kind").set_value("Năm")
    at.selectbox(key="an_year").set_value(2024)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "phần chính sách công (23 nhận định) không hỏi tại quầy" in captions
    assert "Mẫu phiếu 2024–2026 (sipas-2024)" in captions
    assert "Số liệu gốc thuộc Mẫu phiếu 2022–2023 (sipas-2023)" in captions
    texts = [t.value for t in at.text]
    assert any(t.startswith("Không có trong mẫu phiếu năm gốc (không so sánh): TC1.2 ") for t in texts)
    key = at.dataframe[0].value.set_index("Mã")  # the key columns, with the baseline's code through the crosswalk
    assert key.loc["TC1.1", "Mã gốc"] == "TC1.2" and key.loc["TC1.2", "Kết luận"] == "Không có trong mẫu phiếu năm gốc"
    table = next(d.value for d in at.dataframe if "So sánh với gốc" in d.value.columns).set_index("Mã")  # details
    assert table.loc["TC1.1", "Mã gốc"] == "TC1.2"
    assert table.loc["TC1.1", "So sánh với gốc"].startswith("So sánh gần đúng: nội dung nhận định đã thay đổi")
    assert table.loc["TC1.2", "Kết luận"] == "Không có trong mẫu phiếu năm gốc"
    assert table.loc["TC1.1", "Tiêu chí"].startswith("Bộ phận Một cửa UBND xã Vạn Phước có biển hiệu")  # 2024's office
