"""Questionnaire data files: the shipped versions load; a broken copy names the file and the entry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sipas.catalog import (
    DEFAULT_VERSION,
    load_questionnaires,
    questionnaire,
    questionnaires,
    survey_options,
    wait_bucket_for_minutes,
)
from sipas.errors import CatalogError
from sipas.paths import DATA_DIR

SHIPPED = DATA_DIR / "questionnaires"


def test_both_shipped_versions_load():
    qs = load_questionnaires()
    assert sorted(qs) == ["sipas-2017", "sipas-2023", "sipas-2024"]
    assert DEFAULT_VERSION == "sipas-2024"
    q23, q17 = qs["sipas-2023"], qs["sipas-2017"]
    assert len(q23.criteria) == 19
    assert len(q17.criteria) == 22
    for q in (q23, q17):
        assert [e.code for e in q.elements] == ["1", "2", "3", "4", "5"]
        assert all(c.code.startswith(f"TC{c.element}.") for c in q.criteria)
        assert all(c.text and c.text == c.text.strip() for c in q.criteria)
        assert len(set(q.criterion_codes)) == len(q.criterion_codes)
    assert [len(e.criteria) for e in q23.elements] == [4, 4, 5, 3, 3]
    assert [len(e.criteria) for e in q17.elements] == [4, 5, 6, 3, 4]
    assert q23.element("5").name == "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị"
    assert questionnaires()["sipas-2023"] == q23


def test_unknown_version_names_the_known_ones():
    with pytest.raises(CatalogError) as err:
        questionnaire("sipas-1999")
    assert (
        str(err.value) == "Không có phiên bản phiếu 'sipas-1999'. Các phiên bản có: sipas-2017, sipas-2023, sipas-2024."
    )
    with pytest.raises(KeyError):
        questionnaire("sipas-2023").element("9")


def _broken_copy(tmp_path: Path, edit) -> Path:
    """Copy the shipped files to tmp_path and apply ``edit`` to the parsed sipas-2023 document."""
    for f in SHIPPED.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "sipas-2023.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return tmp_path


def test_copy_without_changes_loads(tmp_path):
    qs = load_questionnaires(_broken_copy(tmp_path, lambda d: None))
    assert qs == load_questionnaires()


def test_invalid_json(tmp_path):
    for f in SHIPPED.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "sipas-2017.json").write_text('{"code": "sipas-2017",\n "title": "x",\n}', encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_questionnaires(tmp_path)
    assert str(err.value) == "Tệp sipas-2017.json: JSON không hợp lệ ở dòng 3, cột 1."


def test_not_utf8(tmp_path):
    (tmp_path / "sipas-2023.json").write_bytes('{"title": "Phiếu"}'.encode("utf-16"))
    with pytest.raises(CatalogError) as err:
        load_questionnaires(tmp_path)
    assert str(err.value) == "Tệp sipas-2023.json: không đọc được dạng UTF-8."


def _del(d, *keys):
    for k in keys[:-1]:
        d = d[k]
    del d[keys[-1]]


def _set(d, value, *keys):
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value


BROKEN = [
    (
        "missing criterion text",
        lambda d: _del(d, "elements", 0, "criteria", 1, "text"),
        "Tệp sipas-2023.json, mục elements[0].criteria[1]: thiếu trường 'text'.",
    ),
    (
        "blank criterion text",
        lambda d: _set(d, "   ", "elements", 2, "criteria", 0, "text"),
        "Tệp sipas-2023.json, mục elements[2].criteria[0].text: giá trị không hợp lệ ('   ').",
    ),
    (
        "duplicate criterion code",
        lambda d: _set(d, "TC1.1", "elements", 0, "criteria", 2, "code"),
        "Tệp sipas-2023.json, mục elements[0].criteria[2]: mã tiêu chí 'TC1.1' bị trùng.",
    ),
    (
        "criterion of another element",
        lambda d: _set(d, "TC2.9", "elements", 0, "criteria", 3, "code"),
        "Tệp sipas-2023.json, mục elements[0].criteria[3]: mã tiêu chí 'TC2.9' phải có dạng TC1.<số>.",
    ),
    (
        "criterion code without TC",
        lambda d: _set(d, "3.1", "elements", 2, "criteria", 0, "code"),
        "Tệp sipas-2023.json, mục elements[2].criteria[0]: mã tiêu chí '3.1' phải có dạng TC3.<số>.",
    ),
    (
        "missing element name",
        lambda d: _del(d, "elements", 4, "name"),
        "Tệp sipas-2023.json, mục elements[4]: thiếu trường 'name'.",
    ),
    (
        "element without criteria",
        lambda d: _set(d, [], "elements", 3, "criteria"),
        "Tệp sipas-2023.json, mục elements[3]: yếu tố 4 không có tiêu chí nào.",
    ),
    (
        "criteria not a list",
        lambda d: _set(d, "TC4.1", "elements", 3, "criteria"),
        "Tệp sipas-2023.json, mục elements[3].criteria: giá trị không hợp lệ ('TC4.1').",
    ),
    (
        "duplicate element code",
        lambda d: _set(d, "1", "elements", 1, "code"),
        "Tệp sipas-2023.json, mục elements[1]: mã yếu tố '1' bị trùng.",
    ),
    (
        "code differs from file name",
        lambda d: _set(d, "sipas-2024", "code"),
        "Tệp sipas-2023.json: mã phiên bản 'sipas-2024' phải trùng với tên tệp 'sipas-2023'.",
    ),
    ("missing title", lambda d: _del(d, "title"), "Tệp sipas-2023.json, mục gốc: thiếu trường 'title'."),
    ("no elements", lambda d: _set(d, [], "elements"), "Tệp sipas-2023.json: danh sách 'elements' trống."),
]


@pytest.mark.parametrize("edit, message", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_file_names_the_file_and_the_entry(tmp_path, edit, message):
    with pytest.raises(CatalogError) as err:
        load_questionnaires(_broken_copy(tmp_path, edit))
    assert str(err.value) == message


def test_a_document_that_is_not_an_object(tmp_path):
    (tmp_path / "sipas-2023.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_questionnaires(tmp_path)
    assert str(err.value) == "Tệp sipas-2023.json: nội dung phải là một đối tượng JSON."


def test_survey_options_and_wait_buckets():
    opts = survey_options()
    assert [s["value"] for s in opts["scale"]] == [1, 2, 3, 4, 5]
    assert opts["fields"]
    # Bucket edges: < 15, 15–30, 31–60, > 60 minutes.
    assert [wait_bucket_for_minutes(m) for m in (0, 14, 15, 30, 31, 60, 61, 600)] == [
        "lt15",
        "lt15",
        "15-30",
        "15-30",
        "30-60",
        "30-60",
        "gt60",
        "gt60",
    ]


def test_the_conduct_element_is_staff_in_every_version():
    from sipas.catalog import CONDUCT_CRITERIA_PREFIX, CONDUCT_ELEMENT

    for code, q in questionnaires().items():
        element = q.element(CONDUCT_ELEMENT)
        assert element.name == "Công chức trực tiếp giải quyết công việc", code
        assert element.criteria and all(c.code.startswith(CONDUCT_CRITERIA_PREFIX) for c in element.criteria)
        others = [c.code for e in q.elements if e.code != CONDUCT_ELEMENT for c in e.criteria]
        assert not any(c.startswith(CONDUCT_CRITERIA_PREFIX) for c in others), code
