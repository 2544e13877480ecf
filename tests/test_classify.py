"""The comment classifier, the legacy-font converter, `python -m sipas classify`, and the evidence rules
that decide which surveys open a conduct case (README, "Phản ánh về cán bộ: khi nào mở vụ việc")."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from sipas import db
from sipas.cases import intake
from sipas.errors import ValidationError
from sipas.files.legacy import legacy_encoding, to_unicode
from sipas.index import classify as cl

ROOT = Path(__file__).resolve().parents[1]
NOW = __import__("datetime").datetime(2024, 6, 15, 12, 0)


@pytest.mark.parametrize(
    ("legacy", "unicode_", "encoding"),
    [
        ("C¸n bé th¸i ®é c¸u g¾t", "Cán bộ thái độ cáu gắt", "TCVN3"),
        (
            "ChÞ Hång nãi chuyÖn h¬i g¾t víi ng\xadêi lín tuæi.",
            "Chị Hồng nói chuyện hơi gắt với người lớn tuổi.",
            "TCVN3",
        ),
        ("Caùn boä höôùng daãn taän tình", "Cán bộ hướng dẫn tận tình", "VNI"),
        ("Ñeà nghò boá trí theâm quaït", "Đề nghị bố trí thêm quạt", "VNI"),
    ],
)
def test_legacy_fonts_are_converted(legacy, unicode_, encoding):
    assert to_unicode(legacy) == unicode_
    assert legacy_encoding(legacy) == encoding


@pytest.mark.parametrize("text", ["Cán bộ hoà nhã", "Thủ tục nhanh", "can bo tan tinh", "Phí 50.000đ", "Café"])
def test_unicode_and_plain_text_are_left_alone(text):
    assert to_unicode(text) == text and legacy_encoding(text) is None


# (comment, topics, conduct complaint): the examples and the ways citizens type them
CASES = [
    ("Cán bộ hướng dẫn tận tình, nhưng phải chờ hơi lâu.", {"thai_do": "khen", "cho_doi": "che"}, False),
    (
        "Nhân viên nhiệt tình. Đề nghị bố trí thêm quạt ở khu vực chờ.",
        {"thai_do": "khen", "co_so_vat_chat": "gop_y"},
        False,
    ),
    ("Chị Hồng nói chuyện hơi gắt với người lớn tuổi.", {"thai_do": "che"}, True),
    ("C¸n bé th¸i ®é c¸u g¾t", {"thai_do": "che"}, True),
    ("nv ko nhiet tinh", {"thai_do": "che"}, True),
    ("cb k hề gắt gỏng dù đông người", {"thai_do": "khen"}, False),
    ("Phòng chờ nóng, không có quạt", {"co_so_vat_chat": "che"}, False),
    ("Lệ phí hơi cao", {"phi_tieu_cuc": "che"}, False),
    ("Cán bộ gợi ý bồi dưỡng thì làm nhanh", {"thai_do": "che", "phi_tieu_cuc": "che"}, True),
]


@pytest.mark.parametrize(("text", "topics", "conduct"), CASES)
def test_topics_polarity_and_conduct(text, topics, conduct):
    c = cl.classify(text)
    assert c.conduct_complaint == conduct
    assert {t: c.topics.get(t) for t in topics} == topics  # the named topics with their polarity
    # the same comment without diacritics and decomposed (NFD) gets the same verdict
    bare = "".join(ch for ch in unicodedata.normalize("NFD", to_unicode(text)) if not unicodedata.combining(ch))
    assert cl.classify(bare.replace("đ", "d")).conduct_complaint == conduct
    assert cl.classify(unicodedata.normalize("NFD", to_unicode(text))).conduct_complaint == conduct


def test_the_corpus_has_its_guide_and_enough_comments():
    rows = cl.read_corpus()
    assert len(rows) >= 600
    assert {r["conduct_complaint"] for r in rows} == {"0", "1"}
    assert all(r[t] in ("", *cl.POLARITIES) for r in rows for t in cl.TOPICS)
    assert (ROOT / "data" / "comments" / "GUIDE.md").is_file()


def test_cli_classify_prints_one_json_object_per_line(tmp_path):
    lines = ["Chị Hồng nói chuyện hơi gắt với người lớn tuổi.", "Cán bộ hướng dẫn tận tình, nhưng phải chờ hơi lâu."]
    out = subprocess.run(
        [sys.executable, "-m", "sipas", "classify", "--db", str(tmp_path / "none.db")],
        input="\n".join(lines).encode(),
        capture_output=True,
        cwd=ROOT,
        check=True,
    ).stdout.decode()
    got = [json.loads(x) for x in out.splitlines()]
    assert got == [
        {"text": lines[0], "topics": {"thai_do": "che"}, "conduct_complaint": True},
        {"text": lines[1], "topics": {"thai_do": "khen", "cho_doi": "che"}, "conduct_complaint": False},
    ]


def test_a_clerk_correction_is_kept_audited_and_used(conn):
    text = "Anh ấy làm việc kiểu gì vậy"
    assert cl.classify(text).conduct_complaint is False
    cl.record_correction(conn, text, True, "vanphong")
    corrections = db.comment_label_corrections(conn)
    assert cl.classify(text, corrections=corrections).conduct_complaint is True
    assert cl.classify("anh ay lam viec kieu gi vay", corrections=corrections).conduct_complaint is True
    last = db.audit_entries(conn, 1)[0]
    assert (last["actor"], last["action"], last["new_value"]) == ("vanphong", "comment-label", "phản ánh về cán bộ")
    with pytest.raises(ValidationError, match="Góp ý trống"):
        cl.record_correction(conn, "  ", True, "vanphong")


# --------------------------------------------------------------------------- the evidence rules


def _response(conn, token, staff, answers, comment=None):
    db.insert_response(
        conn,
        {
            "token": token,
            "submitted_at": "2024-06-03 09:00:00",
            "questionnaire": "sipas-2023",
            "channel": "kiosk",
            "staff_code": staff,
            "is_demo": False,
            "comment": comment,
        },
        answers,
    )
    return db.response_by_token(conn, token)["id"]


def test_conduct_cases_open_exactly_per_the_written_rules(conn):
    for code in ("CB01", "CB02", "CB03"):
        db.upsert_staff(conn, {"code": code, "full_name": f"Cán bộ {code}"})
    # praise with "Bình thường" somewhere: never
    _response(conn, "p1", "CB01", {"TC3.1": 5, "TC1.1": 3}, "Cán bộ hướng dẫn tận tình, nhưng phải chờ hơi lâu.")
    _response(conn, "p2", "CB01", {"TC3.2": 3}, "Nhân viên nhiệt tình. Đề nghị bố trí thêm quạt ở khu vực chờ.")
    # "Bình thường" alone, or a complaint about waiting: never
    _response(conn, "p3", "CB01", {"TC3.1": 3, "TC3.2": 3})
    _response(conn, "p4", "CB02", {"TC3.1": 4}, "Phải chờ gần hai tiếng")
    # a complaint without a named staff member: no case
    _response(conn, "p5", None, {"TC3.1": 1}, "Cán bộ quát tháo người dân")
    # a complaint in words (ratings fine), one in TCVN3, one by a rating of 2
    words = _response(conn, "c1", "CB02", {"TC3.1": 4}, "Chị Hồng nói chuyện hơi gắt với người lớn tuổi.")
    legacy = _response(conn, "c2", "CB02", {}, "C¸n bé th¸i ®é c¸u g¾t")
    rating = _response(conn, "c3", "CB03", {"TC3.4": 2}, "Cảm ơn")
    assert intake.open_cases(conn, now=NOW) == 3
    cases = {c["staff_code"]: c for c in db.list_cases(conn)}
    assert set(cases) == {"CB02", "CB03"}
    assert db.case_response_ids(conn, cases["CB02"]["id"]) == [words, legacy]
    assert db.case_response_ids(conn, cases["CB03"]["id"]) == [rating]
    notes = [e["note"] for e in db.case_events(conn, cases["CB02"]["id"])]
    # the evidence word for word, with why it qualified
    assert any("“Chị Hồng nói chuyện hơi gắt với người lớn tuổi.”" in n and "chê thái độ" in n for n in notes)
    note3 = db.case_events(conn, cases["CB03"]["id"])[0]["note"]
    assert "TC3.4 được trả lời “Không hài lòng” (2)" in note3 and "“Cảm ơn”" in note3


def _model_inputs() -> list[str]:
    """The corpus's comments and recombinations of their words, as the model reads them."""
    texts = [r["text"] for r in cl.read_corpus()]
    vocabulary = " ".join(texts).split()
    mixed = [
        " ".join(vocabulary[(i * 7919 + k * 104729) % len(vocabulary)] for k in range(1 + i % 20)) for i in range(800)
    ]
    return [cl.features(cl.prepare(t)) for t in texts + mixed] + ["", "r_conduct"]


def test_the_weights_score_bit_for_bit_as_the_scikit_learn_pipeline():
    rows = cl.read_corpus()
    m = cl.fit([r["text"] for r in rows], [r["conduct_complaint"] == "1" for r in rows], {"cb hơi gắt": False})
    x = _model_inputs()
    assert m.weights.probabilities(x) == [float(p) for p in m.pipeline.predict_proba(x)[:, 1]]


def test_the_default_model_is_fitted_once_and_a_damaged_file_is_fitted_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SIPAS_CACHE_DIR", str(tmp_path))
    x = _model_inputs()
    cl._default_model.cache_clear()
    try:
        fitted = cl.default_model({"Cán bộ hơi gắt": False})
        assert fitted.pipeline is not None
        (kept,) = tmp_path.glob("conduct-model-*.json")
        cl._default_model.cache_clear()
        read = cl.default_model({"Cán bộ hơi gắt": False})
        assert read.pipeline is None  # from the file, without scikit-learn
        assert read.weights == fitted.weights and read.corrections == fitted.corrections
        assert read.weights.probabilities(x) == fitted.weights.probabilities(x)
        # other corrections: another model, another file
        cl._default_model.cache_clear()
        assert cl.default_model({}).pipeline is not None and len(list(tmp_path.glob("*.json"))) == 2
        good = kept.read_text(encoding="utf-8")
        payload = json.loads(good)
        for damaged in (
            good[: len(good) // 2],
            "",
            json.dumps({**payload, "key": "0" * 32}),
            json.dumps({**payload, "coef": payload["coef"][:-1]}),
            json.dumps({**payload, "intercept": "1.0"}),
            json.dumps({**payload, "coef": [*payload["coef"][:-1], None]}),
        ):
            kept.write_text(damaged, encoding="utf-8")
            cl._default_model.cache_clear()
            again = cl.default_model({"Cán bộ hơi gắt": False})
            assert again.pipeline is not None  # ignored and fitted again ...
            assert again.weights.probabilities(x) == fitted.weights.probabilities(x)
            assert json.loads(kept.read_text(encoding="utf-8")) == payload  # ... and written again
        assert not list(tmp_path.glob("*.tmp"))
    finally:
        cl._default_model.cache_clear()
