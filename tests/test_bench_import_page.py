"""bench/bench_import_page.py in small: the clerk uploads a responses file on *Nhập dữ liệu* in headless Chromium
and imports it; the bench's own verdict (every row stored once, the roll-ups equal to the raw rows) must hold.
Its 100,000-row figure is for bench/RESULTS.md, not for a test."""

from __future__ import annotations

from bench import bench_import_page
from tests import browser as b


def test_the_page_imports_an_uploaded_file_and_says_so(capsys, tmp_path):
    b.require_browser()
    rc = bench_import_page.main(["--rows", "1500", "--repeat", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    print(out)
    assert rc == 0, out
    assert "click → 'Đã nhập 1500 phiếu mới'" in out and "stored 1500, check: no problem" in out
