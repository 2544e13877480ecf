"""The files a Vietnamese office really makes: a folder of them (made here, one per kind) imports to the same
stored surveys as the clean UTF-8 CSV, and once; files that cannot be read are refused with what to do.

Kinds: UTF-8 with a BOM; Excel's "CSV" with the Vietnamese list separator (``;``); Excel's "Unicode Text"
(UTF-16 with a BOM, tab-separated, saved as .txt); a CSV in Windows-1258 (tone marks as separate
characters, ``;``); an HTML table saved as .xls (what web systems export); text typed in the legacy TCVN3
font in a Windows-1258 file; dates written dd/mm/yyyy.
"""

from __future__ import annotations

import unicodedata

import pytest
from conftest import table_snapshot

from sipas import db
from sipas.errors import ValidationError
from sipas.files import legacy, parsing
from sipas.survey.responses import import_responses

ACTIVE = "sipas-2023"
HEADER = ["submitted_at", "field", "staff_code", "TC1.1", "TC2.3", "overall", "comment"]
ROWS = [
    ["2026-03-04 08:15:00", "Hộ tịch", "", "5", "4", "5", "Cán bộ tận tình, hướng dẫn rõ"],
    ["2026-03-04 09:00:00", "Chứng thực", "", "2", "", "4", "Chờ lâu; quầy đông"],
    ["2026-03-05 14:00:00", "Đất đai", "", "", "3", "", ""],
]
ADVICE = "Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."


def _text(rows, sep=",") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if sep in v or '"' in v else v

    return "".join(sep.join(cell(v) for v in r) + "\r\n" for r in rows)


def _day_first(rows):
    return [rows[0]] + [[f"{r[0][8:10]}/{r[0][5:7]}/{r[0][:4]} {r[0][11:16]}", *r[1:]] for r in rows[1:]]


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258(text: str) -> bytes:
    """What Windows does: letters with a circumflex, breve or horn precomposed, the tone a separate mark."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONES))
            out += (base + "".join(p for p in parts if p in _TONES)).encode("cp1258")
    return out


_TO_TCVN3 = str.maketrans(legacy._TCVN3_DST, legacy._TCVN3_SRC)


def _html(rows) -> bytes:
    def tr(cells, tag):
        return "<tr>" + "".join(f"<{tag}>{c.replace('&', '&amp;')}</{tag}>" for c in cells) + "</tr>\n"

    body = tr(rows[0], "th") + "".join(tr(r, "td") for r in rows[1:])
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>\n'
        f'<table border="1">\n{body}</table></body></html>'
    ).encode()


def office_files() -> dict[str, bytes]:
    tcvn3 = [HEADER] + [[*r[:6], r[6].translate(_TO_TCVN3)] for r in ROWS]
    tcvn3 = [tcvn3[0]] + [[r[0], r[1].translate(_TO_TCVN3), *r[2:]] for r in tcvn3[1:]]
    return {
        "bom.csv": b"\xef\xbb\xbf" + _text([HEADER, *ROWS]).encode(),
        "champhay.csv": _text([HEADER, *ROWS], ";").encode(),
        "unicode-text.txt": _text(_day_first([HEADER, *ROWS]), "\t").encode("utf-16"),
        "windows-1258.csv": _cp1258(_text([HEADER, *ROWS], ";")),
        "xuat-tu-phan-mem.xls": _html([HEADER, *ROWS]),
        # Typed in the .VnTime font and saved by Excel as CSV: the font's bytes, one per letter.
        "tcvn3.csv": _text(tcvn3).encode("latin-1"),
        "ngay-truoc.csv": _text(_day_first([HEADER, *ROWS])).encode(),
    }


def _import(conn, data, name, **kw):
    return import_responses(conn, data, name, active_version=ACTIVE, actor="test", **kw)


def stored_surveys(conn) -> list[tuple]:
    rows = conn.execute(
        "SELECT r.submitted_at, r.questionnaire, r.field, r.overall, r.comment, r.fingerprint,"
        " (SELECT group_concat(a.criterion || '=' || a.value, ';') FROM"
        "   (SELECT * FROM answers WHERE response_id = r.id ORDER BY criterion) a)"
        " FROM responses r ORDER BY r.submitted_at"
    )
    return [tuple(r) for r in rows]


def test_the_tcvn3_and_windows_1258_files_really_hold_other_bytes():
    files = office_files()
    assert b"\xcc" in files["windows-1258.csv"] or b"\xf2" in files["windows-1258.csv"]  # separate tone marks
    assert b"C\xb8n b\xe9 t\xcbn t\xd7nh" in files["tcvn3.csv"]
    assert files["unicode-text.txt"].startswith(b"\xff\xfe")


@pytest.mark.parametrize("name", list(office_files()))
def test_an_office_file_stores_the_same_surveys_as_the_clean_csv(conn, tmp_path, name):
    folder = tmp_path / "tu-van-phong"
    folder.mkdir()
    for file, data in office_files().items():
        (folder / file).write_bytes(data)
    clean_db = db.open_db(tmp_path / "clean.db")
    try:
        clean = _import(clean_db, _text([HEADER, *ROWS]).encode(), "sach.csv")
        expected = stored_surveys(clean_db)
    finally:
        clean_db.close()
    assert clean.added == 3

    summary = _import(conn, (folder / name).read_bytes(), name)
    assert (summary.rows, summary.added) == (3, 3)
    assert stored_surveys(conn) == expected
    assert expected[0][4] == "Cán bộ tận tình, hướng dẫn rõ" and expected[0][2] == "Hộ tịch"


def test_the_whole_folder_after_the_clean_csv_adds_nothing(conn, tmp_path):
    assert _import(conn, _text([HEADER, *ROWS]).encode(), "sach.csv").added == 3
    before = stored_surveys(conn)
    for name, data in office_files().items():
        summary = _import(conn, data, name)
        assert (summary.added, summary.present + summary.repeats) == (0, 3), name
    assert stored_surveys(conn) == before
    assert db.count_responses(conn) == 3


def test_the_summary_says_how_the_file_was_read(conn):
    files = office_files()
    utf16 = _import(conn, files["unicode-text.txt"], "unicode-text.txt").message()
    assert "Tệp được đọc theo bảng mã UTF-16, các cột ngăn cách bằng dấu tab." in utf16
    assert (
        "3 ô ngày dạng dd/mm/yyyy mà ngày và tháng đều ≤ 12 (ví dụ 05/03) được đọc theo thứ tự ngày/tháng/năm,"
        " quy ước Việt Nam" in utf16
    )
    cp = _import(conn, files["windows-1258.csv"], "windows-1258.csv").message()
    assert "Tệp được đọc theo bảng mã Windows-1258, các cột ngăn cách bằng dấu chấm phẩy." in cp
    html = _import(conn, files["xuat-tu-phan-mem.xls"], "xuat-tu-phan-mem.xls").message()
    assert "Tệp .xls là một bảng HTML (xuất từ phần mềm khác); đã đọc bảng đầu tiên." in html


def test_a_day_after_the_twelfth_settles_the_order_and_nothing_is_said(conn):
    rows = [HEADER, ["25/03/2026 08:00", *ROWS[0][1:]], ["04/03/2026 09:00", *ROWS[1][1:]]]
    summary = _import(conn, _text(rows).encode(), "a.csv")
    assert summary.added == 2 and "ngày/tháng/năm" not in summary.message()
    assert [r[0] for r in stored_surveys(conn)] == ["2026-03-04 09:00:00", "2026-03-25 08:00:00"]


def test_a_file_that_can_only_be_month_first_is_refused_with_the_reason(conn):
    rows = [HEADER, ["03/04/2026 08:00", *ROWS[0][1:]], ["03/25/2026 09:00", *ROWS[1][1:]]]
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        _import(conn, _text(rows).encode(), "my.csv")
    assert err.value.problems == [
        "Tệp my.csv: ngày tháng được viết theo thứ tự tháng/ngày/năm (dòng 3, cột submitted_at: "
        '"03/25/2026 09:00" không thể là ngày/tháng/năm vì không có tháng 25), nên mọi ngày trong tệp sẽ bị đọc'
        " sai tháng. Hãy đổi định dạng ngày sang dd/mm/yyyy hoặc YYYY-MM-DD (trong Excel: Format Cells → Date,"
        " vùng Việt Nam) rồi lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
    ]
    assert table_snapshot(conn) == before


def test_a_real_excel_97_file_is_refused_with_advice(conn):
    with pytest.raises(ValidationError) as err:
        _import(conn, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "cu.xls")
    assert err.value.problems == [
        "Tệp cu.xls: là tệp Excel 97–2003 (.xls), chưa đọc được. Hãy mở tệp trong Excel và lưu lại dạng CSV"
        " UTF-8 hoặc tải tệp .xlsx."
    ]


def test_an_encoded_lone_surrogate_is_never_read_as_windows_1258(conn):
    data = _text([HEADER, *ROWS]).encode() + "2026-03-06 08:00,Hộ tịch,,5,,,x".encode() + b"\xed\xa0\x80\r\n"
    with pytest.raises(ValidationError) as err:
        _import(conn, data, "p.csv")
    assert err.value.problems == [
        "Tệp p.csv, dòng 5: không phải văn bản UTF-8 (có mã của một nửa cặp thay thế, U+D800–U+DFFF). " + ADVICE
    ]


def test_a_broken_utf8_file_is_refused_not_guessed(conn):
    data = _text([HEADER, *ROWS]).encode() + b"2026-03-06 08:00,H\xe9 t\xefch,,5,,,\r\n"
    with pytest.raises(ValidationError) as err:
        _import(conn, data, "p.csv")
    assert err.value.problems == [
        "Tệp p.csv, dòng 5: không phải văn bản UTF-8 (tệp UTF-8 bị hỏng ở dòng này). " + ADVICE
    ]


def test_a_file_past_the_row_limit_is_refused_before_the_rest_is_read(conn):
    line = "2026-03-04 08:15,Hộ tịch,,5,4,5,\r\n".encode()
    # Past the limit, a tail that would be refused if it were read (not UTF-8 and not Windows-1258).
    data = _text([HEADER]).encode() + line * (parsing.MAX_ROWS + 1000) + b"\x81 broken tail never read"
    with pytest.raises(ValidationError) as err:
        _import(conn, data, "lon.csv")
    assert err.value.problems == [
        "Tệp lon.csv: có hơn 100.000 dòng dữ liệu, vượt giới hạn 100.000 dòng mỗi tệp. Hãy chia thành nhiều tệp"
        " nhỏ hơn."
    ]
