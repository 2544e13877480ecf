"""The analysis page through AppTest on a seeded database: the numbers shown, filters, staff guard,
comments as plain text, and excluding a flagged response."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date

import pytest
from conftest import ROOT, always_open
from streamlit.testing.v1 import AppTest

from sipas import clock, db, demo
from sipas.admin import auth, settings
from sipas.cli import main
from sipas.index import selection

PAGE = str(ROOT / "app_pages" / "analysis.py")
SCRIPT = "<script>alert('x')</script> Thái độ cán bộ chưa niềm nở **đậm** [link](http://x)"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """1,500 generated responses over the year to June 2024, plus rows this test controls."""
    path = tmp_path_factory.mktemp("analysis") / "template.db"
    always_open(path)
    conn = db.open_db(path)
    try:
        demo.generate(conn, 1500, seed=31, months=12, end=date(2024, 6, 28))
        db.upsert_staff(conn, {"code": "CB99", "full_name": "Cán bộ mới"})
        rows = []
        for i in range(3):
            rows.append(
                (
                    {
                        "token": f"cb99-{i}",
                        "submitted_at": f"2024-06-1{i} 09:00:00",
                        "questionnaire": "sipas-2023",
                        "channel": "paper",
                        "staff_code": "CB99",
                        "overall": 2,
                    },
                    {"TC3.1": 2},
                )
            )
        rows.append(
            (
                {
                    "token": "script",
                    "submitted_at": "2024-06-27 10:00:00",
                    "questionnaire": "sipas-2023",
                    "channel": "kiosk",
                    "overall": 3,
                    "comment": SCRIPT,
                },
                {"TC3.1": 2, "TC3.2": 3},
            )
        )
        rows.append(
            (
                {
                    "token": "straight",
                    "submitted_at": "2024-06-26 10:00:00",
                    "questionnaire": "sipas-2023",
                    "channel": "kiosk",
                    "overall": 5,
                    "device": "quay9",
                    "duration_seconds": 6.0,
                },
                {f"TC3.{i}": 5 for i in range(1, 6)},
            )
        )
        with db.transaction(conn):
            db.insert_responses(conn, rows)
        db.upsert_baseline_rows(
            conn,
            [
                {"year": 2023, "questionnaire": "sipas-2023", "level": "overall", "code": "", "index_value": 84.0},
                {
                    "year": 2023,
                    "questionnaire": "sipas-2023",
                    "level": "criterion",
                    "code": "TC3.1",
                    "index_value": 80.0,
                    "n": 300,
                    "satisfied": 240,
                },
            ],
            "test",
        )
        settings.put(conn, "unit_name", "Trung tâm Phục vụ hành chính công xã Tu Bông", "test", valid_from="2025-07-01")
        auth.create_user(conn, "clerk1", "mat-khau-dai", "clerk", is_admin=True)
        auth.create_user(conn, "chutich", "mat-khau-dai", "chairman")
    finally:
        conn.close()
    return path


@pytest.fixture
def db_copy(template, tmp_path, monkeypatch):
    path = tmp_path / "sipas.db"
    shutil.copy(template, path)
    monkeypatch.setenv("SIPAS_DB", str(path))
    return path


def logged_in(path, username: str = "clerk1") -> AppTest:
    conn = db.open_db(path)
    try:
        token = auth.start_session(conn, auth.authenticate(conn, username, "mat-khau-dai"))
    finally:
        conn.close()
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["staff_token"] = token
    return at


def year_2024(at: AppTest) -> AppTest:
    at.run()
    at.segmented_control(key="an_kind").set_value("Năm")
    at.selectbox(key="an_year").set_value(2024)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def cli_index(capsys, *args: str) -> dict:
    assert main(["index", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_anonymous_visitor_sees_nothing(db_copy):
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert [w.value for w in at.warning] == ["Bạn không có quyền xem trang này."]
    assert not at.title and not at.metric


def test_overall_index_shown_equals_the_index_command(db_copy, capsys):
    at = year_2024(logged_in(db_copy))
    assert at.title[0].value == "Phân tích chỉ số hài lòng"
    # The unit's name in force in 2024, not today's.
    assert at.caption[1].value.startswith("Bộ phận Một cửa – UBND xã Vạn Phước · Chỉ số hài lòng")
    expected = cli_index(capsys, "--from", "2024-01-01", "--to", "2024-12-31")
    assert metric(at, "Chỉ số chung") == f"{clock.format_percent(expected['overall'], 2)}"
    assert metric(at, "Số phiếu hợp lệ") == str(expected["responses"])
    assert metric(at, "Câu hỏi hài lòng chung") == f"{clock.format_percent(expected['direct_overall']['index'], 2)}"
    for e in expected["elements"]:
        assert metric(at, f"Yếu tố {e['code']}") == f"{clock.format_percent(e['index'], 2)}"
    delta = next(m for m in at.metric if m.label == "Chỉ số chung").delta
    assert delta == f"{clock.format_signed(expected['overall'] - 84.0, 2)} điểm so với gốc"
    texts = [t.value for t in at.text]
    overall_rule = next(t for t in texts if "Chỉ số chung ≥ 87%" in t)
    if expected["overall"] >= 87:
        assert overall_rule == "Đạt — Chỉ số chung ≥ 87%"
    else:
        shown = clock.format_percent(expected["overall"], 2)
        assert overall_rule == f"Chưa đạt — Chỉ số chung ≥ 87%: Chỉ số chung {shown}."
    floor_rule = next(t for t in texts if "Không yếu tố, tiêu chí nào dưới 80%" in t)
    weak = [c for c in expected["criteria"] if c["index"] is not None and c["index"] < 80]
    assert floor_rule.startswith("Chưa đạt — " if weak else "Đạt — ")
    for c in weak:
        assert f"{c['code']} ({clock.format_percent(c['index'], 2)})" in floor_rule


def vn_number(text: str) -> float | None:
    """A number as the page shows it ("84,40", "1.234,5", "—") read back."""
    return None if text == "—" else float(text.replace(".", "").replace(",", "."))


def test_criteria_table_weakest_first_with_n_and_tests(db_copy, capsys):
    at = year_2024(logged_in(db_copy))
    table = at.dataframe[0].value.copy()
    # The page writes numbers with a decimal comma (and "—" when there is none): read them back.
    for col in ("Chỉ số (%)", "Gốc (%)"):
        table[col] = table[col].map(vn_number)
    expected = cli_index(capsys, "--from", "2024-01-01", "--to", "2024-12-31")
    by_code = {c["code"]: c for c in expected["criteria"]}
    assert list(table["Chỉ số (%)"]) == sorted(table["Chỉ số (%)"])
    for _, row in table.iterrows():
        assert row["n"] == by_code[row["Mã"]]["n"]
        assert row["Chỉ số (%)"] == pytest.approx(by_code[row["Mã"]]["index"], abs=0.005)  # shown to 2 decimals
    # The key columns first (they fit 1366 px); the test and the p-values in the expander's full table.
    assert list(table.columns) == [
        "Mã", "Nội dung", "n", "Chỉ số (%)", "KTC 95%", "Gốc (%)", "Chênh lệch (điểm %)", "Kết luận"
    ]  # fmt: skip
    tc31 = table.set_index("Mã").loc["TC3.1"]
    assert tc31["Nội dung"] == "Thái độ lịch sự, tôn trọng" and tc31["Gốc (%)"] == 80.0
    assert tc31["Kết luận"] in {"Tăng có ý nghĩa thống kê", "Giảm có ý nghĩa thống kê", "Chưa khác biệt rõ"}
    assert [e.label for e in at.expander if e.label.startswith("Chi tiết kiểm định")]
    full = at.dataframe[1].value.set_index("Mã")
    assert full.loc["TC3.1", "Kiểm định"] == "Hai tỷ lệ (z) + KTC Newcombe"
    assert full.loc["TC3.1", "Kết luận"] == tc31["Kết luận"]


def test_the_page_leads_with_its_findings_in_sentences(db_copy, capsys):
    """Before any table: the overall against the target, the floor, and the baseline comparison in words."""
    at = year_2024(logged_in(db_copy))
    assert at.subheader[0].value == "Điểm chính của kỳ"
    shown = re.sub(r"\\(.)", r"\1", at.markdown[0].value).replace("\u2060", "")  # as the reader sees it
    lines = [line[2:] for line in shown.split("\n")]
    expected = cli_index(capsys, "--from", "2024-01-01", "--to", "2024-12-31")
    overall = clock.format_percent(expected["overall"], 2)
    assert lines[0].startswith(f"Chỉ số chung {overall} trên {expected['responses']} phiếu, ")
    assert ("đạt chỉ tiêu 87%" in lines[0]) == (expected["overall"] >= 87)
    weak = [c["code"] for c in expected["criteria"] if c["index"] is not None and c["n"] >= 30 and c["index"] < 80]
    assert lines[1].startswith("Dưới mức sàn 80%" if weak else "Không yếu tố, tiêu chí nào dưới mức sàn 80%")
    assert all(f"{code} (" in lines[1] for code in weak)
    table = at.dataframe[0].value.set_index("Mã")
    verdict = table.loc["TC3.1", "Kết luận"]
    if verdict == "Chưa khác biệt rõ":
        assert lines[2] == (
            "Không tiêu chí nào thay đổi có ý nghĩa thống kê so với năm 2023 (1 tiêu chí được so sánh, "
            "đã hiệu chỉnh cho nhiều tiêu chí cùng lúc)."
        )
    else:
        assert lines[2].startswith(f"TC3.1 (Thái độ lịch sự, tôn trọng) {verdict.lower()} so với năm 2023: 80,00 → ")


def test_a_channel_filter_changes_the_numbers(db_copy):
    at = year_2024(logged_in(db_copy))
    at.selectbox(key="an_channel").set_value("kiosk").run()
    conn = db.open_db(db_copy)
    try:
        expected = selection.index_for_filters(
            conn, selection.Filters("sipas-2023", "2024-01-01", "2024-12-31", channel="kiosk")
        )
    finally:
        conn.close()
    assert metric(at, "Chỉ số chung") == f"{clock.format_percent(expected.overall, 2)}"
    assert metric(at, "Số phiếu hợp lệ") == str(expected.responses)
    assert "kênh Máy tính bảng" in at.caption[1].value


def test_a_staff_member_with_few_answers_is_not_judged(db_copy):
    at = year_2024(logged_in(db_copy))
    at.selectbox(key="an_staff").set_value("CB99").run()
    assert at.info[0].value.startswith("Chưa đủ dữ liệu: CB99 – Cán bộ mới có 3 phiếu trong kỳ")
    assert not at.metric


def test_comments_are_plain_text_and_searchable_without_diacritics(db_copy):
    at = year_2024(logged_in(db_copy))
    at.segmented_control(key="an_section").set_value("Góp ý").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame.iloc[0]["Góp ý"] == SCRIPT  # newest first, exactly as typed
    assert frame.iloc[0]["Đánh giá"] == "TC3.1: 2, TC3.2: 3"
    assert "Thái độ/ứng xử" in frame.iloc[0]["Chủ đề"]
    for element in list(at.markdown) + list(at.caption) + list(at.text):
        assert "<script>" not in element.value
    at.text_input(key="an_comment_query").set_value("thai do can bo").run()
    found = at.dataframe[0].value
    assert SCRIPT in list(found["Góp ý"])
    assert all("thái độ" in c.lower() or "thai do" in c.lower() for c in found["Góp ý"])


def test_excluding_a_flagged_response_from_the_quality_section(db_copy):
    conn = db.open_db(db_copy)
    rid = conn.execute("SELECT id FROM responses WHERE token = 'straight'").fetchone()[0]
    conn.close()
    at = year_2024(logged_in(db_copy))
    before = metric(at, "Số phiếu hợp lệ")
    at.segmented_control(key="an_section").set_value("Chất lượng dữ liệu").run()
    flags = at.dataframe[0].value
    assert rid in list(flags["Mã phiếu"])
    assert "Chọn mức 5 cho cả 5 tiêu chí, làm trong 6 giây" in flags.set_index("Mã phiếu").loc[rid, "Lý do đánh dấu"]
    at.multiselect(key="an_quality_ids").set_value([rid])
    at.text_input(key="an_quality_reason").set_value("Bấm thử một mạch")
    at.button(key="an_exclude").click().run()
    assert [s.value for s in at.success] == ["Đã loại 1 phiếu."]
    assert metric(at, "Số phiếu hợp lệ") == str(int(before) - 1)  # the cache saw the change
    conn = db.open_db(db_copy)
    try:
        row = conn.execute("SELECT excluded, exclude_reason FROM responses WHERE id = ?", (rid,)).fetchone()
        assert tuple(row) == (1, "Bấm thử một mạch")
        assert db.audit_entries(conn, 1)[0]["actor"] == "clerk1"
    finally:
        conn.close()


def test_excluding_without_a_reason_is_refused(db_copy):
    at = year_2024(logged_in(db_copy))
    at.segmented_control(key="an_section").set_value("Chất lượng dữ liệu").run()
    rid = int(at.dataframe[0].value.iloc[0]["Mã phiếu"])
    at.multiselect(key="an_quality_ids").set_value([rid])
    at.button(key="an_exclude").click().run()
    assert [e.value for e in at.error] == ["Cần ghi lý do (ít nhất 3 ký tự) để loại hoặc khôi phục phiếu."]


@pytest.mark.parametrize(
    "section", ["Biểu đồ", "Mong muốn", "Câu hỏi thêm", "Hồ sơ", "Kênh", "Cán bộ", "Báo cáo tháng"]
)
def test_every_section_renders_for_the_chairman(db_copy, section):
    at = year_2024(logged_in(db_copy, "chutich"))
    at.segmented_control(key="an_section").set_value(section).run()
    assert not at.exception, [e.value for e in at.exception]
    if section == "Cán bộ":
        staff = at.dataframe[0].value.set_index("Mã")
        assert staff.loc["CB99", "Ghi chú"] == "Chưa đủ dữ liệu"
        assert staff.loc["CB99", "Chỉ số yếu tố 3 (%)"] == "—"
        measure = staff["Chỉ số yếu tố 3 (%)"].map(vn_number)
        assert measure["CB02"] < measure["CB01"]
        # beside it the shrunk estimate with its interval, for CB99 too (3 responses: mostly the commune's rate)
        shrunk = staff["Ước lượng đã hiệu chỉnh theo số phiếu (%)"].map(vn_number)
        low = staff["Hiệu chỉnh: KTC 95% thấp"].map(vn_number)
        high = staff["Hiệu chỉnh: KTC 95% cao"].map(vn_number)
        assert (low <= shrunk).all() and (shrunk <= high).all()
        assert (high - low)["CB99"] > (high - low)["CB01"]  # 3 responses know less than CB01's many
        assert any("Ước lượng đã hiệu chỉnh (Bayes thực nghiệm" in c.value for c in at.caption)


def test_what_citizens_want_improved_is_shown_with_n_and_interval(db_copy):
    import uuid
    from datetime import datetime

    from sipas import clock
    from sipas.survey.responses import KioskSurvey, submit_kiosk_survey

    conn = db.open_db(db_copy)
    try:
        for chosen in (["Thái độ phục vụ của công chức", "Năng lực của công chức"], ["Thái độ phục vụ của công chức"]):
            survey = KioskSurvey(
                token=str(uuid.uuid4()),
                questionnaire="sipas-2023",
                asked=["TC3.1"],
                answers={"TC3.1": 4},
                extra={"expectations": chosen},
            )
            submit_kiosk_survey(conn, survey, now=datetime(2024, 6, 20, 9, 0, tzinfo=clock.TZ))
    finally:
        conn.close()
    at = year_2024(logged_in(db_copy))
    at.segmented_control(key="an_section").set_value("Mong muốn").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "2 phiếu trả lời câu hỏi này." in [t.value for t in at.text]
    frame = at.dataframe[0].value.set_index("Nội dung")
    assert frame.index[0] == "Thái độ phục vụ của công chức"
    assert (frame.iloc[0]["Số người chọn"], frame.iloc[0]["% chọn"], frame.iloc[0]["n"]) == (2, "100,0", 2)
    assert frame.loc["Năng lực của công chức", "% chọn"] == "50,0"


def test_the_forms_other_questions_are_shown_with_n_and_interval(db_copy):
    import math
    import uuid
    from datetime import datetime

    from scipy.stats import norm

    from sipas import clock
    from sipas.survey.responses import KioskSurvey, submit_kiosk_survey

    conn = db.open_db(db_copy)
    try:
        for harassment in (1, 1, 2):
            survey = KioskSurvey(
                token=str(uuid.uuid4()),
                questionnaire="sipas-2023",
                asked=["TC3.1"],
                answers={"TC3.1": 4},
                extra={"harassment": harassment, "gender": "Nữ"},
            )
            submit_kiosk_survey(conn, survey, now=datetime(2024, 6, 20, 9, 0, tzinfo=clock.TZ))
        where = "questionnaire = 'sipas-2023' AND excluded = 0 AND submitted_at LIKE '2024-%' AND harassment"
        n = conn.execute(f"SELECT count(*) FROM responses WHERE {where} IS NOT NULL").fetchone()[0]
        none = conn.execute(f"SELECT count(*) FROM responses WHERE {where} = 1").fetchone()[0]
    finally:
        conn.close()
    at = year_2024(logged_in(db_copy))
    at.segmented_control(key="an_section").set_value("Câu hỏi thêm").run()
    assert not at.exception, [e.value for e in at.exception]
    harassment = at.dataframe[0].value.set_index("Phương án")
    first = "Không có công chức nào gây phiền hà, sách nhiễu cho người dân."
    assert harassment.index.tolist()[0] == first
    # Independent numbers: the counts by SQL, the Wilson interval by its formula with scipy's normal quantile.
    z, p = norm.ppf(0.975), none / n
    centre, half = (p + z * z / (2 * n)), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = 100 * (centre - half) / (1 + z * z / n), 100 * (centre + half) / (1 + z * z / n)
    shown = harassment.loc[first, ["n", "Số người chọn", "% chọn", "KTC 95% thấp", "KTC 95% cao"]].tolist()
    assert shown == [n, none, *(f"{v:.1f}".replace(".", ",") for v in (100 * p, low, high))]
    assert f"{n} phiếu trả lời câu hỏi này." in [t.value for t in at.text]


# June 2024: Hộ tịch D1 early, D2 on time; Đất đai D3 late (not satisfied, complaint), D4 open overdue.
DOSSIERS = (
    "STT,Mã hồ sơ,Tên thủ tục,Lĩnh vực,Họ và tên,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Hình thức nộp,"
    "Thanh toán trực tuyến,Đánh giá,Phản ánh\n"
    "1,D1,Đăng ký khai sinh,Hộ tịch,Nguyễn Văn An,03/06/2024 08:00,05/06/2024,04/06/2024 10:00,Trực tiếp,Có,,\n"
    "2,D2,Đăng ký khai tử,Hộ tịch,Trần Thị Bình,03/06/2024 09:00,05/06/2024,05/06/2024 15:00,Trực tuyến,Có,,\n"
    "3,D3,Cấp giấy chứng nhận QSDĐ,Đất đai,Lê Văn Cường,04/06/2024 08:00,07/06/2024,12/06/2024 09:00,Trực tiếp,"
    "Không,Không hài lòng,Có\n"
    "4,D4,Cấp giấy chứng nhận QSDĐ,Đất đai,Phạm Thị Dung,05/06/2024 08:00,14/06/2024,,Trực tiếp,,,\n"
).encode()


def test_the_dossier_section_beside_the_survey(db_copy):
    from datetime import datetime

    from sipas.files.dossiers import import_dossiers
    from sipas.index.dossiers import NO_DOSSIERS, OFFICIAL_766

    at = year_2024(logged_in(db_copy))
    at.segmented_control(key="an_section").set_value("Hồ sơ").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [i.value for i in at.info if i.value == NO_DOSSIERS] == [NO_DOSSIERS]
    assert not at.dataframe

    conn = db.open_db(db_copy)
    try:
        import_dossiers(conn, DOSSIERS, "ds.csv", now=datetime(2024, 7, 1))
    finally:
        conn.close()
    at = year_2024(logged_in(db_copy))
    at.segmented_control(key="an_section").set_value("Hồ sơ").run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [t.value for t in at.text]
    assert (
        "Tiếp nhận 4 hồ sơ; 3 đã có kết quả, 66,7% trước hoặc đúng hạn (n = 3, KTC 95% 20,8–93,9%); 1 trễ hạn; "
        "1 quá hạn chưa có kết quả." in texts
    )
    on_time = at.dataframe[0].value.set_index("Lĩnh vực")
    assert on_time.loc["Hộ tịch", "Trước và đúng hạn (%)"] == "100,0"
    assert (on_time.loc["Đất đai", "Trễ hạn"], on_time.loc["Đất đai", "Quá hạn chưa có kết quả"]) == (1, 1)
    beside = at.dataframe[1].value.set_index("Lĩnh vực")
    assert (beside.loc["Đất đai", "Hồ sơ tiếp nhận"], beside.loc["Đất đai", "Trễ hoặc quá hạn (%)"]) == (2, "100,0")
    # Paid online: D1, D2 of D1–D3 with a fee, 2/3 < 90 %; postal: none of 4 < 15 %.
    assert any(t.startswith("Chưa đạt — Hồ sơ có phí được thanh toán trực tuyến ≥ 90%: 2/3") for t in texts)
    assert OFFICIAL_766 in [i.value for i in at.info]
    ratios = at.dataframe[2].value.set_index("Tỷ lệ")
    third = ratios.iloc[2]
    assert (third["n"], third["Đạt"], third["Tỷ lệ (%)"]) == (4, 2, "50,0")  # D3 and D4 pull it down
    late = at.dataframe[3].value
    assert list(late["Mã hồ sơ"]) == ["D3", "D4"]
    assert list(late["Tình trạng"]) == ["Có kết quả trễ hạn", "Quá hạn, chưa có kết quả"]
    assert "Nguyễn Văn An" not in " ".join(texts)
