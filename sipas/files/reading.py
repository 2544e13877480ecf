"""The text files Vietnamese offices make, read as rows of text cells, in memory bounded by the row limit.

What is read (every refusal says what to do: :data:`ADVICE`):

* **Encodings**: UTF-8 with or without a BOM (tried first: the common file costs one streaming pass);
  UTF-16 with a BOM (Excel's "Unicode Text"); Windows-1258, the Vietnamese Windows code page, only when
  the bytes are not UTF-8, normalised to NFC (its tone marks are separate characters). Bytes that encode
  a lone surrogate (``ED A0``–``ED BF``, what a broken encoder writes) are refused, never re-read as
  Windows-1258; so are bytes Windows-1258 does not define.
* **Separator**: ``,``, ``;`` (Excel with the Vietnamese list separator) or a tab, whichever the header line
  holds most of outside quotes (a comma on a tie).
* **An HTML table saved as .xls** (what many government systems export): the first ``<table>``'s rows;
  its charset from its ``<meta>``, else UTF-8, else Windows-1258. A real Excel 97–2003 file is refused
  with advice.
* **Legacy TCVN3 text in a Windows-1258 file**: a cell holding characters Vietnamese never uses is read as
  the 8-bit TCVN3/VNI bytes they were (:mod:`sipas.files.legacy`) when that reads as Vietnamese.

Rows are read as a stream and reading stops one row past :data:`sipas.files.parsing.MAX_ROWS`, so a
file of any size costs its bytes plus at most the row limit's rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from itertools import chain, islice

from sipas.errors import ValidationError
from sipas.files import legacy, parsing
from sipas.text import excerpt

ADVICE = "Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
SEPARATORS = (",", ";", "\t")
SEPARATOR_NAMES = {",": "dấu phẩy", ";": "dấu chấm phẩy", "\t": "dấu tab"}
_QUOTED = re.compile(r'"[^"]*"')
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")
# Vietnamese letters as UTF-8 (Latin Extended Additional, and Ă Đ Ơ Ư): a file holding them is UTF-8 that
# is broken somewhere, never Windows-1258.
_UTF8_VIETNAMESE = re.compile(rb"\xe1[\xba\xbb][\x80-\xbf]|\xc4[\x82\x83\x90\x91]|\xc6[\xa0\xa1\xaf\xb0]")
_STRAY_MARK = re.compile("[\u0300\u0301\u0303\u0309\u0323]")  # left after NFC: on no Vietnamese vowel
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
_FOREIGN = re.compile("[" + "".join(sorted(legacy._FOREIGN)) + "]")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Rows(list):
    """The rows of a file (header first), with what the reader noticed and the clerk should know."""

    notes: list[str]
    encoding: str = "UTF-8"
    separator: str = ","

    def __init__(self, rows: Iterable[list[str]] = ()):
        super().__init__(rows)
        self.notes = []


def sniff_separator(line: str) -> str:
    """The separator a header line uses: the most frequent of ``,`` ``;`` tab outside quotes (``,`` on a tie).

    >>> sniff_separator("submitted_at;field;TC1.1"), sniff_separator('a,"b;c",d'), sniff_separator("a\\tb")
    (';', ',', '\\t')
    """
    bare = _QUOTED.sub("", line)
    counts = [(bare.count(sep), -i, sep) for i, sep in enumerate(SEPARATORS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def too_many_rows(filename: str) -> ValidationError:
    n = f"{parsing.MAX_ROWS:,}".replace(",", ".")
    return ValidationError(
        f"Tệp {filename}: có hơn {n} dòng dữ liệu, vượt giới hạn {n} dòng mỗi tệp. Hãy chia thành nhiều tệp nhỏ hơn."
    )


def _bounded(rows: Iterator[list[str]], filename: str) -> list[list[str]]:
    """At most the header and :data:`MAX_ROWS` rows; one more means the file is refused (nothing more read)."""
    out = list(islice(rows, parsing.MAX_ROWS + 2))
    if len(out) > parsing.MAX_ROWS + 1:
        raise too_many_rows(filename)
    return out


def _csv_rows(lines: Iterator[str], filename: str) -> tuple[list[list[str]], str]:
    first = next(lines, "")
    sep = sniff_separator(first)
    reader = csv.reader(chain([first], lines), delimiter=sep)
    try:
        return _bounded(reader, filename), sep
    except csv.Error as exc:
        raise csv_problem(exc, filename, reader.line_num) from None


def csv_problem(exc: csv.Error, filename: str, line: int) -> ValidationError:
    """Python's CSV reader's fault (in English, with no line) told in Vietnamese with the line and what to do."""
    where = f"Tệp {excerpt(filename)}, dòng {line}"
    if "field larger than field limit" in str(exc):
        limit = f"{csv.field_size_limit():,}".replace(",", ".")
        return ValidationError(
            f'{where}: có một ô dài hơn {limit} ký tự, vượt giới hạn một ô. Thường do một dấu ngoặc kép (") '
            "mở mà không đóng, làm nhiều dòng dính vào một ô. Hãy mở tệp, sửa hoặc rút ngắn ô đó rồi tải lại. " + ADVICE
        )
    return ValidationError(
        f"{where}: tệp CSV sai định dạng (dấu ngoặc kép hoặc ký tự ngăn cách đặt sai chỗ). "
        f"Hãy mở tệp bằng Excel, kiểm tra dòng này rồi lưu lại. {ADVICE}"
    )


def _not_text(filename: str, data: bytes, offset: int, why: str = "") -> ValidationError:
    line = data[:offset].count(b"\n") + 1
    return ValidationError(f"Tệp {filename}, dòng {line}: không phải văn bản UTF-8{why}. {ADVICE}")


def _utf8_error_offset(data: bytes) -> int | None:
    """Where the first byte that is not UTF-8 is (None when all of it is), without copying the file."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    for start in range(0, len(data), step):
        try:
            decoder.decode(data[start : start + step], final=start + step >= len(data))
        except UnicodeDecodeError as exc:
            return max(0, start + exc.start - len(decoder.getstate()[0]))
    return None


def read_text_table(data: bytes, filename: str) -> Rows:
    """A CSV/TSV file's rows (see the module docstring); ValidationError with advice when it cannot be read."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-16", newline="")
        try:
            rows, sep = _csv_rows(iter(lines), filename)
        except UnicodeDecodeError:
            raise ValidationError(
                f"Tệp {filename}: tệp UTF-16 bị hỏng (có ký tự không hợp lệ, ví dụ nửa cặp thay thế). {ADVICE}"
            ) from None
        return _result(rows, "UTF-16", sep)
    try:
        rows, sep = _csv_rows(iter(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")), filename)
        return _result(rows, "UTF-8", sep)
    except UnicodeDecodeError:
        pass
    offset = _utf8_error_offset(data) or 0
    surrogate = _SURROGATE_UTF8.search(data)
    if surrogate:
        raise _not_text(filename, data, surrogate.start(), " (có mã của một nửa cặp thay thế, U+D800–U+DFFF)")
    if _UTF8_VIETNAMESE.search(data):
        raise _not_text(filename, data, offset, " (tệp UTF-8 bị hỏng ở dòng này)")
    try:
        rows, sep = _csv_rows(iter(io.TextIOWrapper(io.BytesIO(data), encoding="cp1258", newline="")), filename)
    except UnicodeDecodeError:
        raise _not_text(filename, data, offset, " cũng không phải bảng mã Windows-1258") from None
    return _result([[_from_cp1258(c) for c in row] for row in rows], "Windows-1258", sep)


def _from_cp1258(cell: str) -> str:
    """A Windows-1258 cell in NFC; one that does not read as Vietnamese (characters Vietnamese never uses,
    or a tone mark left on no vowel) is read as the legacy TCVN3/VNI bytes it was, when that reads as such."""
    if cell.isascii():
        return cell
    nfc = unicodedata.normalize("NFC", cell)
    if _FOREIGN.search(nfc) or _STRAY_MARK.search(nfc):
        latin = cell.encode("cp1258").decode("latin-1")
        converted = legacy.to_unicode(latin)
        if converted != latin:
            return converted
    return nfc


def _result(rows: list[list[str]], encoding: str, sep: str) -> Rows:
    out = Rows(rows)
    out.encoding, out.separator = encoding, sep
    if encoding != "UTF-8" or sep != ",":
        out.notes.append(f"Tệp được đọc theo bảng mã {encoding}, các cột ngăn cách bằng {SEPARATOR_NAMES[sep]}.")
    return out


# ---------------------------------------------------------------------------------------------
# An HTML table saved as .xls
# ---------------------------------------------------------------------------------------------


class _TooManyRows(Exception):
    pass


class _TableParser(HTMLParser):
    """The cells of the first ``<table>`` (nested tables' text goes into the enclosing cell)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._depth = 0  # table nesting
        self._done = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if self._done:
            return
        if tag == "table":
            self._depth += 1
        elif self._depth == 1 and tag == "tr":
            self._end_row()
            self._row = []
        elif self._depth == 1 and tag in ("td", "th") and self._row is not None:
            self._end_cell()
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._done:
            return
        if tag == "table":
            self._depth -= 1
            if self._depth == 0:
                self._end_row()
                self._done = True
        elif self._depth == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self._depth == 1 and tag == "tr":
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._done:
            self._cell.append(_HTML_SPACE.sub(" ", data))

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip(" "))
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None:
            self.rows.append(self._row)
            if len(self.rows) > parsing.MAX_ROWS + 1:
                raise _TooManyRows
        self._row = None


def looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<"))


def read_html_table(data: bytes, filename: str) -> Rows:
    """The first ``<table>`` of an HTML file (a ".xls" exported by a web system), bounded by the row limit."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        m = _META_CHARSET.search(data[:4096])
        declared = m.group(1).decode("ascii").lower() if m else "utf-8"
        encodings = ["utf-8-sig" if declared in ("utf-8", "utf8") else declared, "cp1258"]
    for encoding in dict.fromkeys(encodings):
        if encoding == "cp1258" and (bad := _SURROGATE_UTF8.search(data) or _UTF8_VIETNAMESE.search(data)):
            raise _not_text(filename, data, bad.start())
        parser = _TableParser()
        try:
            decoder = codecs.getincrementaldecoder(encoding)()
            step = 1 << 20
            for start in range(0, len(data), step):
                parser.feed(decoder.decode(data[start : start + step], final=start + step >= len(data)))
            parser.close()
            parser._end_row()
        except (UnicodeDecodeError, LookupError):
            continue
        except _TooManyRows:
            raise too_many_rows(filename) from None
        if not parser.rows:
            raise ValidationError(f"Tệp {filename}: tệp HTML không có bảng nào. {ADVICE}")
        rows = [[unicodedata.normalize("NFC", c) for c in row] for row in parser.rows]
        out = Rows(rows)
        out.encoding, out.separator = encoding.removesuffix("-sig").upper(), ""
        out.notes.append("Tệp .xls là một bảng HTML (xuất từ phần mềm khác); đã đọc bảng đầu tiên.")
        return out
    raise ValidationError(f"Tệp {filename}: không đọc được bảng mã của tệp HTML. {ADVICE}")


TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
ACCEPTED = "chỉ nhận tệp .csv, .txt (văn bản ngăn cách bằng dấu phẩy, dấu chấm phẩy hoặc tab), .xlsx hoặc .xls"


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """Rows of a text table or the first sheet of a workbook, as text cells (every import's reader).

    CSV/TXT/TSV in the encodings and with the separators this module reads; XLSX
    (bounded, see above); ``.xls``: an HTML table (what web systems export) or, when it is one, an XLSX
    or a text table under that name. Then the file's date order is decided from all its rows
    (:func:`check_date_order`). The result is a list of rows with ``notes`` for the import's summary.
    """
    name = filename.lower()
    if name.endswith(".xlsx") or (name.endswith(".xls") and data.startswith(b"PK\x03\x04")):
        rows = Rows(parsing.read_xlsx(data, filename))
        rows.encoding = "XLSX"
    elif name.endswith(".xls"):
        if data.startswith(OLE2_MAGIC):
            raise ValidationError(
                f"Tệp {filename}: là tệp Excel 97–2003 (.xls), chưa đọc được. Hãy mở tệp trong Excel và "
                "lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
            )
        reader = read_html_table if looks_like_html(data) else read_text_table
        rows = reader(data, filename)
    elif name.endswith(TEXT_SUFFIXES):
        with parsing.gc_paused():  # 100,000 rows are 100,000 new lists: ≈ 0.1 s of collector passes
            rows = read_text_table(data, filename)
    else:
        raise ValidationError(f"Tệp {filename}: {ACCEPTED}. {ADVICE}")
    check_date_order(rows, filename, scan=_may_hold_slash_dates(data, rows))
    return rows


_SLASH_DATE_BYTES = re.compile(rb"\d/\d{1,2}/\d{4}")
_SLASH_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*$")


def _may_hold_slash_dates(data: bytes, rows) -> bool:
    """A cheap gate for the common file (ISO dates): only a file whose bytes hold ``d/m/yyyy`` is scanned."""
    if getattr(rows, "encoding", "UTF-8") in ("UTF-8", "Windows-1258"):
        return _SLASH_DATE_BYTES.search(data) is not None
    return True


def check_date_order(rows, filename: str, *, scan: bool = True) -> None:
    """Decide the file's date order from every ``dd/mm/yyyy``-like cell of every row.

    A cell whose first number is over 12 can only be day-first; one whose second is over 12 only
    month-first. A file that can only be month-first is refused (read day-first it would put its
    surveys in the wrong months); an ambiguous one is read day-first, the Vietnamese convention, and
    a note says so (``rows.notes``). A file with both kinds is read day-first: its month-first cells
    are refused row by row as impossible dates.
    """
    if not scan:
        return
    month_first = None
    ambiguous = 0
    for r, row in enumerate(rows[1:], start=2):
        for c, cell in enumerate(row):
            if "/" not in cell:
                continue
            m = _SLASH_DATE.match(cell)
            if not m:
                continue
            first, second = int(m.group(1)), int(m.group(2))
            if first > 12 and second <= 12:
                return  # day-first for sure: neither refused nor noted, whatever the other cells hold
            elif second > 12 and first <= 12:
                month_first = month_first or (r, c, cell, second)
            elif first <= 12 and second <= 12:
                ambiguous += 1
    if month_first:
        r, c, cell, second = month_first
        header = rows[0] if rows else []
        column = header[c].strip() if c < len(header) and header[c].strip() else parsing.col_letter(c)
        raise ValidationError(
            f"Tệp {filename}: ngày tháng được viết theo thứ tự tháng/ngày/năm (dòng {r}, cột {column}: "
            f'"{cell.strip()}" không thể là ngày/tháng/năm vì không có tháng {second}), nên mọi ngày trong tệp '
            "sẽ bị đọc sai tháng. Hãy đổi định dạng ngày sang dd/mm/yyyy hoặc YYYY-MM-DD (trong Excel: "
            "Format Cells → Date, vùng Việt Nam) rồi lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
        )
    if ambiguous and not month_first and hasattr(rows, "notes"):
        rows.notes.append(
            f"{ambiguous} ô ngày dạng dd/mm/yyyy mà ngày và tháng đều ≤ 12 (ví dụ 05/03) được đọc theo thứ tự "
            "ngày/tháng/năm, quy ước Việt Nam; không dòng nào trong tệp cho biết thứ tự khác. "
            "Nếu tệp ghi tháng trước, hãy sửa ngày sang YYYY-MM-DD rồi nhập lại."
        )
