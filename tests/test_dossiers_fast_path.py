"""The dossier import's fast path for the usual line gives exactly what the table reader gives: the same
stored rows, or the same messages in the same order, on lines mixing usual and unusual cells."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from sipas.errors import ValidationError
from sipas.files import dossiers

NOW = datetime(2025, 1, 3, 7, 5, 0, 500_000)  # the usual line was received at this second
HEADER = [
    "STT", "Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Họ và tên", "Ngày tiếp nhận", "Ngày hẹn trả",
    "Ngày có kết quả", "Ngày trả kết quả", "Trạng thái", "Cán bộ tiếp nhận", "Hình thức nộp",
    "Hình thức nhận kết quả", "Thanh toán trực tuyến", "Đánh giá", "Phản ánh",
]  # fmt: skip
MOMENTS = [
    "03/01/2025 07:05", " 03/01/2025 07:05:09 ", "2025-01-03 07:05", "2025-01-03 07:05:30", "03/01/2025",
    "2025-01-03", "31/02/2025 08:00", "03/01/2025 24:00", "03/01/2025 23:60", "2025-01-03T07:05:00+07:00",
    "2025-01-03T07:05", "01/01/1999 08:00", "01/01/2090 08:00", "30/06/2025 12:00:01", "30/06/2025 12:00",
    "٠٣/٠١/٢٠٢٥ 07:05", "3/1/2025 7:05", "05/01/2025 00:00", "2025-01-05 00:00:00", "x", "",
    "02/01/2025 10:00", "03/01/2025 07:04", "03/01/2025 07:05:00", "2025-01-03 00:00", "29/02/2024 08:00",
]  # fmt: skip
POOLS = {
    "Mã hồ sơ": ["H1", "H2", "H3", " H4 ", "", "H\x00", "H" * 101, "H5", "H6", "H7", "H8"],
    "Tên thủ tục": ["Khai sinh", "", "  ", "T" * 501, "Thủ tục\ud800"],
    "Lĩnh vực": ["Hộ tịch", "Đất đai", "", " Tư pháp "],
    "Họ và tên": ["Nguyễn Văn A", "", "\x00"],
    "Ngày tiếp nhận": MOMENTS,
    "Ngày hẹn trả": MOMENTS,
    "Ngày có kết quả": MOMENTS,
    "Ngày trả kết quả": MOMENTS,
    "Trạng thái": ["Đã có kết quả", "", "S" * 201],
    "Cán bộ tiếp nhận": ["CB01", "", "C" * 101],
    "Hình thức nộp": ["Trực tiếp", "trực  TIẾP", "online", "BCCI", "", "fax"],
    "Hình thức nhận kết quả": ["Bưu chính công ích", "", "Qua mạng", "thư"],
    "Thanh toán trực tuyến": ["Có", "Không", "", "yes", "có lẽ"],
    "Đánh giá": ["Rất hài lòng", "Hài lòng", "không hài lòng", "", "tạm"],
    "Phản ánh": ["Có", "", "no", "khác"],
}
USUAL = {"Ngày tiếp nhận": "03/01/2025 07:05", "Ngày hẹn trả": "06/01/2025", "Ngày có kết quả": "05/01/2025 10:00"}


def _line(rng: random.Random, header: list[str], odd: float) -> list[str]:
    """A usual line with, at rate ``odd``, one to three cells drawn from the pools of odd values."""
    line = [USUAL.get(name, POOLS.get(name, ["1"])[0]) for name in header]
    line[header.index("Mã hồ sơ")] = f"H{rng.random()}"
    if rng.random() < odd:
        for name in rng.sample(header, rng.choice([1, 1, 2, 3])):
            line[header.index(name)] = rng.choice(POOLS.get(name, ["", "x"]))
    shape = rng.random() if odd else 1.0
    if shape < 0.03:
        return line[: rng.randrange(len(line))]  # short
    if shape < 0.06:
        return [*line, rng.choice(["", "thừa", " "])]  # a cell right of the header
    if shape < 0.08:
        return [""] * len(line)  # blank
    return line


def _both(rows: list[list[str]], monkeypatch) -> tuple:
    def run():
        try:
            out, plan = dossiers.validate_dossiers_table([list(r) for r in rows], "ds.csv", now=NOW)
            return "ok", out, plan
        except ValidationError as e:
            return "refused", e.problems

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(dossiers._FastLine, "of", staticmethod(lambda *a: None))
        slow = run()
    return fast, slow


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_agrees_with_the_table_reader(seed, monkeypatch):
    rng = random.Random(seed)
    header = list(HEADER)
    if seed % 4 == 1:
        header = [h for h in header if h not in ("Ngày trả kết quả", "Phản ánh")]  # columns the file lacks
    if seed % 4 == 2:
        rng.shuffle(header)
    odd = 0.0 if seed % 5 == 0 else rng.choice([0.02, 0.1, 0.4])
    rows = [header] + [_line(rng, header, odd) for _ in range(rng.randrange(1, 60))]
    if seed % 7 == 3 and len(rows) > 2:
        rows.append(list(rows[1]))  # a duplicate line
    fast, slow = _both(rows, monkeypatch)
    assert fast == slow
    if odd == 0.0 and seed % 7 != 3:
        assert fast[0] == "ok" and len(fast[1]) == len(rows) - 1


def test_a_usual_file_is_stored_the_same_both_ways(monkeypatch):
    rng = random.Random(7)
    rows = [HEADER] + [_line(rng, HEADER, 0.0) for _ in range(200)]
    fast, slow = _both(rows, monkeypatch)
    assert fast[0] == "ok" and len(fast[1]) == 200
    assert fast == slow


@pytest.mark.parametrize("seed", range(10))
def test_fast_path_agrees_line_by_line(seed, monkeypatch):
    """Each line alone in a file: the same stored values for every line taken, the same messages otherwise."""
    rng = random.Random(1000 + seed)
    header = list(HEADER) if seed % 2 else rng.sample(HEADER, len(HEADER))
    for _ in range(80):
        rows = [header, _line(rng, header, 1.0)]
        fast, slow = _both(rows, monkeypatch)
        assert fast == slow, rows[1]
