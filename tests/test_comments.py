"""Comment topics and search: with and without diacritics, whole words, rules the clerk can extend."""

from __future__ import annotations

import json
import os

import pytest

from sipas.errors import CatalogError
from sipas.index import comments as cm


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thái độ", "thai do"),
        ("  ĐỢI   lâu!! ", "doi lau"),
        ("Hồ sơ/thủ tục", "ho so thu tuc"),
        ("đ Đ", "d d"),
    ],
)
def test_normalize_strips_diacritics_maps_d_and_casefolds(text, expected):
    assert cm.normalize(text) == expected


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("Thái độ của cán bộ chưa niềm nở", "thai do"),  # keyword typed without diacritics
        ("thai do can bo chua niem no", "thái độ"),  # comment typed without diacritics
        ("THÁI ĐỘ KHÔNG TỐT", "thái độ"),  # case
        ("Phải chờ lâu quá", "chờ lâu"),
        ("phai cho lau qua", "chờ lâu"),
        ("Máy lạnh hỏng, điều hoà không chạy", "điều hòa"),  # old and new tone placement
    ],
)
def test_keyword_found_with_and_without_diacritics(text, keyword):
    assert cm.has_keyword(text, keyword)


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("Đứng phía sau", "phí"),  # whole words only: "phía" is not "phí"
        ("chờ lâuuu", "chờ lâu"),
        ("Phòng chờ không có quạt", "quát"),  # both typed with diacritics: marks must agree
        ("Cán bộ quát người dân", "quạt"),
        ("Thủ tục thuận tiện", "tiền"),
        ("lâu chờ", "chờ lâu"),  # word order matters
    ],
)
def test_keyword_not_found(text, keyword):
    assert not cm.has_keyword(text, keyword)


def test_comment_without_any_diacritics_cannot_tell_quat_from_quat():
    # Without marks the two words are the same letters; the clerk sees both tags and decides.
    assert cm.has_keyword("can bo quat nguoi dan", "quạt")
    assert cm.has_keyword("can bo quat nguoi dan", "quát tháo") is False  # but "tháo" is missing


@pytest.mark.parametrize(
    "text, tags",
    [
        ("Thái độ của cán bộ chưa niềm nở, nói trống không.", ["Thái độ/ứng xử"]),
        ("thai do can bo chua niem no", ["Thái độ/ứng xử"]),
        ("Phải chờ lâu quá, buổi sáng thứ Hai rất đông.", ["Chờ đợi"]),
        ("Hồ sơ phải bổ sung nhiều lần", ["Hồ sơ/thủ tục"]),
        ("ho so phai bo sung nhieu lan", ["Hồ sơ/thủ tục"]),
        ("Lệ phí cao", ["Phí/lệ phí"]),
        ("Phòng chờ nóng, thiếu ghế ngồi.", ["Cơ sở vật chất"]),
        ("Cán bộ nhiệt tình nhưng phải chờ lâu", ["Thái độ/ứng xử", "Chờ đợi"]),
        ("Cảm ơn!", ["Khác"]),
        ("", ["Khác"]),
    ],
)
def test_tags_of_the_shipped_rules(text, tags):
    assert cm.tag(text) == tags


def test_shipped_rules_have_the_six_topics():
    assert cm.load_rules().labels == [
        "Thái độ/ứng xử",
        "Chờ đợi",
        "Hồ sơ/thủ tục",
        "Phí/lệ phí",
        "Cơ sở vật chất",
        "Khác",
    ]


def write_rules(path, topics, other="Khác"):
    path.write_text(json.dumps({"topics": topics, "other": other}, ensure_ascii=False), encoding="utf-8")
    return path


def test_clerk_adds_a_keyword_and_the_file_is_read_again(tmp_path):
    path = write_rules(tmp_path / "topics.json", [{"code": "wait", "label": "Chờ đợi", "keywords": ["chờ lâu"]}])
    assert cm.tag("Không có wifi", cm.rules(path)) == ["Khác"]
    write_rules(
        path,
        [
            {"code": "wait", "label": "Chờ đợi", "keywords": ["chờ lâu"]},
            {"code": "net", "label": "Mạng", "keywords": ["wifi"]},
        ],
    )
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a later modification time
    assert cm.tag("Không có wifi", cm.rules(path)) == ["Mạng"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "Tệp bad.json: JSON không hợp lệ ở dòng 1"),
        ("[]", "Tệp bad.json: nội dung phải là một đối tượng JSON."),
        ('{"topics": []}', "Tệp bad.json, mục topics: phải là danh sách chủ đề không trống."),
        ('{"topics": [{"code": "a", "label": "A"}]}', "Tệp bad.json, mục topics[0].keywords: phải là danh sách"),
        (
            '{"topics": [{"code": "a", "label": "A", "keywords": ["ok", "  "]}]}',
            "Tệp bad.json, mục topics[0].keywords[1]: từ khóa '  ' không hợp lệ",
        ),
        (
            '{"topics": [{"code": "a", "label": "A", "keywords": ["ok", 3]}]}',
            "Tệp bad.json, mục topics[0].keywords[1]: từ khóa 3 không hợp lệ",
        ),
        (
            '{"topics": [{"code": "a", "label": "A", "keywords": ["x"]}, {"code": "a", "label": "B", "keywords": ["y"]}]}',  # noqa: E501
            "Tệp bad.json, mục topics[1].code: mã chủ đề 'a' bị trùng.",
        ),
        ('{"topics": [{"label": "A", "keywords": ["x"]}]}', "Tệp bad.json, mục topics[0].code: thiếu hoặc trống."),
        (
            '{"topics": [{"code": "a", "label": "Khác", "keywords": ["x"]}]}',
            "Tệp bad.json, mục topics[0].label: tên chủ đề 'Khác' bị trùng.",
        ),
    ],
)
def test_a_broken_rules_file_names_the_file_and_the_entry(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        cm.load_rules(path)
    assert str(err.value).startswith(message)


def test_a_missing_rules_file_is_named(tmp_path):
    with pytest.raises(CatalogError, match="Không tìm thấy tệp chủ đề góp ý missing.json"):
        cm.rules(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "text, query, found",
    [
        ("Thái độ chưa niềm nở", "thai do", True),
        ("Thái độ chưa niềm nở", "THÁI", True),
        ("Thái độ chưa niềm nở", "niem", True),  # start of a word
        ("Thái độ chưa niềm nở", "iem", False),  # not inside a word
        ("Thái độ chưa niềm nở", "thài", False),  # typed with other marks
        ("thai do chua niem no", "thái độ", True),  # comment without diacritics
        ("Phòng chờ nóng", "nong cho", True),  # every word, any order
        ("Phòng chờ nóng", "nong lanh", False),
        ("anything", "", True),
    ],
)
def test_search_with_and_without_diacritics(text, query, found):
    assert cm.matches_query(text, query) is found


def test_the_compiled_tagger_agrees_with_the_word_by_word_rule():
    """tag() and the intake's conduct tagger search one compiled pattern per topic; the answer must be
    has_keyword's (word by word, marks deciding only when both sides carry them) on every comment."""
    import random

    rules = cm.rules()
    keywords = [k for t in rules.topics for k in t.keywords]
    filler = ["cán bộ", "rất", "quá", "không", "phải", "lâu", "thai", "độ", "quat", "quạt", "quát", "tiền", "tiện"]
    filler += ["thuận", "Đông", "dong", "hoà", "hòa", "lần", "niem", "nở", "xử", "ung"]
    attitude = next(t for t in rules.topics if t.code == "attitude")
    tagger = cm.conduct_tagger(rules)
    rng = random.Random(7)
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 10)):
            word = rng.choice(keywords + filler)
            word = cm.normalize(word) if rng.random() < 0.2 else word
            parts.append(word.upper() if rng.random() < 0.2 else word)
        text = rng.choice([" ", ", ", "! ", "-"]).join(parts)
        text = cm.normalize(text) if rng.random() < 0.3 else text
        expected = [t.label for t in rules.topics if any(cm.has_keyword(text, k) for k in t.keywords)]
        assert cm.tag(text, rules) == (expected or [rules.other]), text
        assert tagger(text) == ({"conduct"} if attitude.label in expected else set()), text
