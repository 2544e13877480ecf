"""Shared import parsing (sipas.files.parsing): Vietnamese dates and decimal commas, year bounds, bounded XLSX."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile

import openpyxl
import pytest

from sipas import clock, db
from sipas.errors import ValidationError
from sipas.files import parsing
from sipas.paths import ROOT
from sipas.survey.responses import import_responses


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_vietnamese_dates_and_decimal_commas_are_imported_as_zero_padded_iso(conn):
    data = csv_bytes(
        "submitted_at,TC1.1,overall",
        '15/11/2025 09:00,"4,0",5',
        '5/3/2024 8:05:07,3,"5,0"',
        "2000-01-01 00:00,2,",
    )
    summary = import_responses(conn, data, "vn.csv", active_version="sipas-2023")
    assert summary.added == 3
    stored = sorted(r[0] for r in conn.execute("SELECT submitted_at FROM responses"))
    assert stored == ["2000-01-01 00:00:00", "2024-03-05 08:05:07", "2025-11-15 09:00:00"]
    assert sorted(r[0] for r in conn.execute("SELECT value FROM answers WHERE criterion = 'TC1.1'")) == [2, 3, 4]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("31/02/2026 08:00", "không hợp lệ, cần dạng"),
        ("0001-01-01 00:00", "năm 1 nằm ngoài khoảng 2000–"),
        ("1900-06-01 08:00", "năm 1900 nằm ngoài khoảng 2000–"),
        ("31/12/1999 23:59", "năm 1999 nằm ngoài khoảng 2000–"),
    ],
)
def test_impossible_dates_and_years_out_of_range_are_refused_with_row_and_column(conn, text, why):
    with pytest.raises(ValidationError) as exc:
        import_responses(
            conn,
            csv_bytes("submitted_at,TC1.1", "2024-01-02 08:00,4", f"{text},4"),
            "x.csv",
            active_version="sipas-2023",
        )
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith(f'Dòng 3, cột submitted_at: giá trị "{text}" không hợp lệ, ')
    assert why in exc.value.problems[0]
    assert db.count_responses(conn) == 0


def test_year_bounds():
    assert parsing.parse_timestamp("01/01/2000").year == 2000
    assert parsing.parse_timestamp(f"31/12/{clock.today().year + 1} 23:59:59").year == clock.today().year + 1
    with pytest.raises(parsing.YearOutOfRange):
        parsing.parse_timestamp(f"01/01/{clock.today().year + 2} 00:00")
    with pytest.raises(parsing.YearOutOfRange):
        parsing.parse_timestamp("1999-12-31T23:59:59+07:00")
    assert parsing.parse_whole("4,0") == 4 and parsing.parse_number("87,25") == 87.25
    for bad in ("4,5", "x", "1.000,5"):
        with pytest.raises(ValueError):
            parsing.parse_whole(bad)


def test_formula_cells_in_an_xlsx_are_refused_with_row_and_column(conn):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["submitted_at", "TC1.1", "comment"])
    ws.append(["2024-03-04 08:00", 4, "tốt"])
    ws.append(["2024-03-04 09:00", "=2+2", '=HYPERLINK("http://x.example","bấm")'])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ValidationError) as exc:
        import_responses(conn, buf.getvalue(), "cong-thuc.xlsx", active_version="sipas-2023")
    assert [p.split(":")[0] for p in exc.value.problems] == ["Dòng 3, cột B", "Dòng 3, cột C"]
    assert "ô chứa công thức" in exc.value.problems[0]
    assert db.count_responses(conn) == 0


def _sheet_zip(path, sheet_rows, dimension: str | None = None) -> None:
    """A minimal XLSX whose first sheet's rows come from the iterable ``sheet_rows`` (XML strings)."""
    base = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["submitted_at", "TC1.1"])
    wb.save(base)
    src = zipfile.ZipFile(base)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info))
                continue
            with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
                f.write(b'<?xml version="1.0" encoding="UTF-8"?>')
                f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
                if dimension:
                    f.write(f'<dimension ref="{dimension}"/>'.encode())
                f.write(b"<sheetData>")
                for chunk in sheet_rows:
                    f.write(chunk)
                f.write(b"</sheetData></worksheet>")


def _bomb_rows(total_bytes: int):
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 4000 + b"</t></is></c></row>"
    block = row * 256
    for _ in range(total_bytes // len(block) + 1):
        yield block


def _import_in_subprocess(path) -> tuple[str, int]:
    """Import ``path`` in a fresh process; return (its output, its own peak RSS in MB)."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        from sipas import db
        from sipas.errors import ValidationError
        from sipas.survey.responses import import_responses
        conn = db.open_db({str(path.parent / "bomb.db")!r})
        try:
            import_responses(conn, open({str(path)!r}, "rb").read(), {path.name!r}, active_version="sipas-2023")
            print("IMPORTED")
        except ValidationError as exc:
            print(exc)
        # VmHWM: this process's own peak (ru_maxrss would keep the forking pytest's, Linux keeps it on exec)
        hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
        peak = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("RSS", peak // 1024)
        """
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out, rss = r.stdout.rsplit("RSS", 1)
    return out.strip(), int(rss)


def test_an_xlsx_bomb_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bom.xlsx"
    _sheet_zip(bomb, _bomb_rows(parsing.MAX_XLSX_UNCOMPRESSED + 10 * 1024 * 1024))
    assert bomb.stat().st_size < 2 * 1024 * 1024  # a small file on disk
    message, rss = _import_in_subprocess(bomb)
    assert message.startswith("Tệp bom.xlsx: khi giải nén tệp Excel chiếm ")
    assert "vượt giới hạn 100 MB" in message
    assert rss < 300, f"peak RSS {rss} MB"


def test_a_sheet_declaring_too_many_rows_is_refused_before_reading(tmp_path):
    big = tmp_path / "nhieu-dong.xlsx"
    _sheet_zip(big, [], dimension="A1:B100002")
    message, rss = _import_in_subprocess(big)
    assert message == "Tệp nhieu-dong.xlsx: có 100.001 dòng dữ liệu, vượt giới hạn 100.000 dòng mỗi tệp. " + (
        "Hãy chia thành nhiều tệp nhỏ hơn."
    )


def test_a_sheet_hiding_its_rows_is_stopped_while_streaming(tmp_path):
    hidden = tmp_path / "giau-dong.xlsx"
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    _sheet_zip(hidden, (row * 1000 for _ in range(parsing.MAX_ROWS // 1000 + 2)), dimension="A1")
    message, rss = _import_in_subprocess(hidden)
    assert "vượt giới hạn 100.000 dòng mỗi tệp" in message
    assert rss < 1024, f"peak RSS {rss} MB"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["responses", "baseline", "tickets"])
def test_every_template_imports_as_it_is(conn, kind, fmt):
    from sipas.files import templates, tickets
    from sipas.index import baseline

    make = templates.csv_template if fmt == "csv" else templates.xlsx_template
    data = make(kind, "sipas-2023")
    header, example = templates.template(kind, "sipas-2023")
    name = f"mau-{kind}.{fmt}"
    if kind == "responses":
        assert import_responses(conn, data, name, active_version="sipas-2023").added == 1
        row = conn.execute("SELECT submitted_at, channel, comment FROM responses").fetchone()
        assert tuple(row) == ("2026-11-15 09:00:00", "paper", "Cán bộ hướng dẫn tận tình.")
    elif kind == "baseline":
        baseline.import_baseline(conn, data, name)
        assert conn.execute("SELECT year, level, index_value FROM baseline").fetchone()[:] == (2024, "overall", 87.5)
    else:
        assert tickets.import_tickets(conn, data, name).added == 1
    from sipas.files.reading import read_table

    padded = [r + [""] * (len(header) - len(r)) for r in read_table(data, name)]
    assert padded == [header, example]


def test_the_analysis_page_never_fails_on_a_stored_time_at_or_beyond_the_bounds(conn, db_file):
    """Responses at the first and last instants allowed, and one an older version stored as
    '1-01-01 00:00:00': the page still runs, and check names the bad one."""
    from streamlit.testing.v1 import AppTest

    from sipas.admin import auth, check

    last = clock.today().year + 1
    data = csv_bytes(
        "submitted_at,TC1.1,overall",
        "01/01/2000 00:00,4,5",
        f"{clock.today():%d/%m/%Y} 23:59:59,5,4",  # the latest a response may be (later is the future)
    )
    assert import_responses(conn, data, "bien.csv", active_version="sipas-2023").added == 2
    assert check.check(conn) == []
    with db.transaction(conn):  # what the old import stored for 0001-01-01 00:00
        db.insert_responses(
            conn,
            [
                (
                    {
                        "token": "old",
                        "submitted_at": "1-01-01 00:00:00",
                        "questionnaire": "sipas-2023",
                        "channel": "paper",
                        "overall": 3,
                    },
                    {"TC1.1": 3},
                )
            ],
        )
    assert check.check(conn) == [
        "1 phiếu có thời điểm khảo sát không hợp lệ (không đúng dạng YYYY-MM-DD HH:MM:SS "
        f"hoặc năm ngoài khoảng 2000–{last})."
    ]
    user = auth.create_user(conn, "clerk1", "mat-khau-dai", "clerk")
    at = AppTest.from_file(str(ROOT / "app_pages" / "analysis.py"), default_timeout=90)
    at.session_state["staff_token"] = auth.start_session(conn, user)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert parsing.stored_year("1-01-01 00:00:00", 2026) == 2000
    assert parsing.stored_year(f"{last + 5}-01-01", 2026) == last
