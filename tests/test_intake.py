"""The evidence rules on whole files: the demo data and a clerk's file of praise and complaints open conduct
cases exactly for the surveys the README's rules name ("Phản ánh về cán bộ: khi nào mở vụ việc")."""

from __future__ import annotations

from datetime import date

from sipas import db, demo
from sipas.cases import intake
from sipas.survey.responses import import_responses

ACTIVE = "sipas-2023"
# Hand-labelled: the one demo comment that complains about a person's conduct (every other one is praise or
# about waiting, papers, the room, fees or feedback).
DEMO_CONDUCT_TEXT = "Thái độ của cán bộ chưa niềm nở, nói trống không."
DEMO_PRAISE_TEXTS = {
    "Cán bộ hướng dẫn tận tình, dễ hiểu.",
    "Cảm ơn cán bộ một cửa đã hỗ trợ nhiệt tình!",
    "Trả kết quả đúng hẹn, rất hài lòng.",
}


def _linked(conn) -> dict[int, str]:
    """Every survey behind a conduct case -> the staff code of its case."""
    return {
        rid: c["staff_code"]
        for c in db.list_cases(conn, case_type="conduct")
        for rid in db.case_response_ids(conn, c["id"])
    }


def test_demo_data_open_cases_exactly_for_the_surveys_the_rules_name(conn):
    demo.generate(conn, 2500, seed=13, months=4, end=date(2024, 6, 28))
    intake.after_responses(conn)
    low = (
        "EXISTS (SELECT 1 FROM answers a WHERE a.response_id = r.id AND a.criterion LIKE 'TC3.%' AND a.value IN (1, 2))"
    )
    expected = {
        rid: staff
        for rid, staff in conn.execute(
            f"SELECT id, staff_code FROM responses r WHERE staff_code IS NOT NULL AND excluded = 0 "
            f"AND ({low} OR comment = ?)",
            (DEMO_CONDUCT_TEXT,),
        )
    }
    assert len(expected) > 100  # the check means something
    assert _linked(conn) == expected
    # one open case per person named, never one without a name
    cases = db.list_cases(conn, case_type="conduct")
    assert sorted(c["staff_code"] for c in cases) == sorted(set(expected.values()))
    # the words alone open: some surveys qualify only by the complaint in words (ratings "Bình thường" at worst)
    words_only = conn.execute(
        f"SELECT count(*) FROM responses r WHERE staff_code IS NOT NULL AND comment = ? AND NOT {low}",
        (DEMO_CONDUCT_TEXT,),
    ).fetchone()[0]
    assert words_only >= 1
    # the generator's comments agree with the answers beside them
    marks = ",".join("?" * len(DEMO_PRAISE_TEXTS))
    praise_on_low = conn.execute(
        f"SELECT count(*) FROM responses r WHERE comment IN ({marks}) AND (overall <= 3 OR EXISTS (SELECT 1 "
        "FROM answers a WHERE a.response_id = r.id AND a.criterion LIKE 'TC3.%' AND a.value <= 3))",
        tuple(DEMO_PRAISE_TEXTS),
    ).fetchone()[0]
    complaint_on_high = conn.execute(
        "SELECT count(*) FROM responses r WHERE comment = ? AND NOT EXISTS (SELECT 1 FROM answers a "
        "WHERE a.response_id = r.id AND a.criterion LIKE 'TC3.%' AND a.value <= 3)",
        (DEMO_CONDUCT_TEXT,),
    ).fetchone()[0]
    assert (praise_on_low, complaint_on_high) == (0, 0)


# A clerk's file: (response_id, staff_code, TC3.1, TC3.2, TC1.1, comment, opens a case)
MIXED = [
    ("m01", "CB01", "5", "4", "3", "Cán bộ hướng dẫn tận tình, nhưng phải chờ hơi lâu.", False),
    ("m02", "CB01", "3", "4", "3", "Nhân viên nhiệt tình. Đề nghị bố trí thêm quạt ở khu vực chờ.", False),
    ("m03", "CB01", "3", "3", "", "", False),  # "Bình thường" alone
    ("m04", "CB02", "4", "4", "2", "Phải chờ gần hai tiếng mới tới lượt", False),  # waiting, not conduct
    ("m05", "", "1", "1", "", "Cán bộ quát tháo người dân", False),  # nobody named
    ("m06", "CB02", "4", "4", "", "Chị Hồng nói chuyện hơi gắt với người lớn tuổi.", True),  # words
    ("m07", "CB02", "", "", "4", "C¸n bé th¸i ®é c¸u g¾t", True),  # words in the TCVN3 font
    ("m08", "CB03", "2", "4", "", "Cảm ơn", True),  # a rating of "Không hài lòng"
    ("m09", "CB03", "5", "5", "5", "Caùn boä höôùng daãn taän tình", False),  # praise in the VNI font
    ("m10", "CB03", "1", "5", "", "", True),  # "Rất không hài lòng"
    ("m11", "CB01", "4", "4", "4", "nv ko nhiet tinh, noi trong khong", True),  # no diacritics, abbreviations
    ("m12", "CB01", "5", "5", "5", "cb k hề gắt gỏng dù đông người", False),  # praise with a negated complaint
]


def test_a_file_of_praise_and_complaints_opens_cases_exactly_per_the_rules(conn):
    with db.transaction(conn):
        for code in ("CB01", "CB02", "CB03"):
            db.upsert_staff(conn, {"code": code, "full_name": f"Cán bộ {code}"})
    lines = ["response_id,submitted_at,staff_code,TC3.1,TC3.2,TC1.1,comment"]
    lines += [f'{r},2024-06-03 09:{i:02d},{s},{a},{b},{c},"{t}"' for i, (r, s, a, b, c, t, _) in enumerate(MIXED)]
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    import_responses(conn, data, "phieu.csv", active_version=ACTIVE, actor="test")  # runs the intake itself
    ids = {db.response_by_token(conn, r[0])["id"]: r for r in MIXED}
    expected = {rid: r[1] for rid, r in ids.items() if r[6]}
    assert _linked(conn) == expected
    # the legacy fonts were stored in Unicode, and the case quotes the converted words
    by_token = {r[0]: db.response_by_token(conn, r[0]) for r in MIXED}
    assert by_token["m07"]["comment"] == "Cán bộ thái độ cáu gắt"
    assert by_token["m09"]["comment"] == "Cán bộ hướng dẫn tận tình"
    cb02 = next(c for c in db.list_cases(conn) if c["staff_code"] == "CB02")
    notes = " ".join(e["note"] for e in db.case_events(conn, cb02["id"]))
    assert "“Cán bộ thái độ cáu gắt”" in notes and "“Chị Hồng nói chuyện hơi gắt với người lớn tuổi.”" in notes
