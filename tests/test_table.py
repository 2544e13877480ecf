"""The typed table reader shared by the file imports (sipas.files.table)."""

from __future__ import annotations

from datetime import date

import pytest

from sipas.errors import ValidationError
from sipas.files.table import Column, TableSpec, read_rows

SPEC = TableSpec(
    columns=(
        Column("code", required=True, allow_empty=False, missing="thiếu mã.", max_length=4, plain_text=True),
        Column("day", "date", aliases=("ngay",), invalid='giá trị "{value}" không hợp lệ, cần ngày.'),
        Column("minutes", "int", low=1, high=60, invalid='giá trị "{value}" không hợp lệ, cần {low}–{high} phút.'),
        Column("share", "decimal", low=0, high=1),
        Column("level", "level", invalid='giá trị "{value}" không hợp lệ, chỉ nhận 1–5.'),
        Column("kind", "choice", choices=("a", "b"), invalid='"{value}" không hợp lệ, chỉ nhận {choices}.'),
    ),
)


def read(spec: TableSpec, *rows: list[str]) -> list:
    return list(read_rows(spec, [*rows], "t.csv"))


def test_cells_become_typed_values_and_an_alias_names_its_column():
    (row,) = read(
        SPEC, ["code", "ngay", "minutes", "share", "level", "kind"], [" A1 ", "05/03/2024", "15", "0,8", "4.0", "b"]
    )
    assert row.line == 2
    assert row.values == {"code": "A1", "day": date(2024, 3, 5), "minutes": 15, "share": 0.8, "level": 4, "kind": "b"}
    assert row.problems == []


def test_every_bad_cell_of_a_line_is_named_in_column_order_and_blank_lines_are_skipped():
    rows = read(SPEC, ["code", "day", "minutes", "share", "level", "kind"], [], ["", "31/02/2024", "90", "x", "6", "c"])
    assert [r.line for r in rows] == [3]
    assert [str(p) for p in rows[0].problems] == [
        "Dòng 3, cột code: thiếu mã.",
        'Dòng 3, cột day: giá trị "31/02/2024" không hợp lệ, cần ngày.',
        'Dòng 3, cột minutes: giá trị "90" không hợp lệ, cần 1–60 phút.',
        'Dòng 3, cột share: giá trị "x" không hợp lệ.',
        'Dòng 3, cột level: giá trị "6" không hợp lệ, chỉ nhận 1–5.',
        'Dòng 3, cột kind: "c" không hợp lệ, chỉ nhận a, b.',
    ]
    # A number out of bounds is kept (the import's own rules may still use it); an unreadable one is None.
    assert rows[0].values["minutes"] == 90
    assert rows[0].values["share"] is None


def test_too_long_text_extra_cells_and_a_character_never_stored_are_refused():
    (row,) = read(SPEC, ["code", "kind"], ["ABCDE\x00", "a", "", "x"])
    assert [str(p) for p in row.problems] == [
        "Dòng 2: có 1 ô dữ liệu nằm ngoài các cột có tên.",
        "Dòng 2, cột code: dài quá 4 ký tự.",
        "Dòng 2, cột code: có ký tự không hợp lệ (U+0000); hãy xóa ký tự đó.",
    ]
    assert (row.problems[-1].row, row.problems[-1].column, row.problems[-1].value) == (2, "code", "ABCDE\x00")


def test_a_check_sees_the_columns_declared_before_it():
    spec = TableSpec(
        columns=(
            Column("low", "int"),
            Column("high", "int", check=lambda v, row: f"nhỏ hơn low = {row['low']}." if v < row["low"] else None),
        )
    )
    (row,) = read(spec, ["low", "high"], ["5", "3"])
    assert [str(p) for p in row.problems] == ["Dòng 2, cột high: nhỏ hơn low = 5."]


@pytest.mark.parametrize(
    ("spec", "header", "problems"),
    [
        (
            SPEC,
            ["code", "", "code", "x"],
            [
                "Dòng 1, cột B: tên cột trống.",
                "Dòng 1, cột code: tên cột bị lặp lại.",
                "Dòng 1, cột x: tên cột không hợp lệ. Các tên được nhận: code, day, minutes, share, level, kind.",
            ],
        ),
        (SPEC, ["day"], ["Dòng 1: thiếu cột bắt buộc code."]),
        (
            TableSpec(columns=(Column("a", required=True), Column("b")), header_messages="summary"),
            ["a", "", "a"],
            [
                "Dòng 1, cột (trống): tên cột không hợp lệ. Các tên được nhận: a, b.",
                "Dòng 1: có tên cột bị lặp lại.",
            ],
        ),
        (
            TableSpec(
                columns=(Column("a"), Column("b")), at_least_one=("a", "b"), at_least_one_message="cần a hoặc b."
            ),
            ["c"],
            ["Dòng 1, cột c: tên cột không hợp lệ. Các tên được nhận: a, b.", "Dòng 1: cần a hoặc b."],
        ),
    ],
)
def test_a_bad_header_is_refused_before_any_line_is_read(spec, header, problems):
    with pytest.raises(ValidationError) as exc:
        read_rows(spec, [header, ["1"]], "t.csv")
    assert exc.value.problems == problems


@pytest.mark.parametrize("kind", ["date", "datetime"])
def test_the_fast_moment_path_agrees_with_the_general_parser(kind):
    """The reader's fast path for the usual cells gives what parsing.parse_timestamp / parse_date give,
    value for value, and refuses what they refuse (the message is the column's, whatever the path)."""
    from sipas.files import parsing
    from sipas.files.table import _moment_parser

    general = parsing.parse_date if kind == "date" else parsing.parse_timestamp
    fast = _moment_parser(kind)
    top = parsing.max_year()
    cells = [
        "2024-03-05 08:15", "2024-03-05 08:15:09", "2024-03-05", "05/03/2024", "05/03/2024 08:15",
        "05/03/2024 08:15:09", "5/3/2024 8:15", "31/02/2024", "2024-02-30 10:00", "01/01/1999 08:00",
        f"01/01/{top} 08:00", f"01/01/{top + 1} 08:00", "2024-03-05 24:00", "2024-03-05T08:15:00+07:00",
        "05/03/2024 08:61", "2024-3-5 08:15",
    ]  # fmt: skip
    for text in cells:
        try:
            expected = general(text)
        except ValueError:
            with pytest.raises(ValueError):
                fast(text)
        else:
            assert fast(text) == expected, text
