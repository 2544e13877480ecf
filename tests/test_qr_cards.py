"""QR cards: the PDF sheet (pypdf reads its texts), the command line, the settings page (address, print)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from conftest import click, run_cli, settings_page, table_snapshot

from sipas import clock, db
from sipas.admin import settings
from sipas.errors import ValidationError
from sipas.reports import qr_cards
from sipas.survey import qr

pytestmark = pytest.mark.usefixtures("fast_argon2")

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=clock.TZ)
PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "settings.py")
UNIT = "Trung tâm Phục vụ hành chính công – UBND xã Tu Bông"


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return len(reader.pages), " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_the_sheet_has_ten_cards_a_page_with_every_text_and_the_dossier_code():
    cards = [
        qr.Card(
            f"c{i:021d}",
            f"https://khaosat.example.vn/q/c{i:021d}",
            NOW + timedelta(days=7),
            "HS-0001" if i == 0 else None,
        )
        for i in range(12)
    ]
    pages, text = text_of(qr_cards.to_pdf(cards, UNIT))
    assert pages == 2
    for phrase in (
        UNIT,
        "Đánh giá sự phục vụ trên điện thoại của Ông/Bà",
        "Quét mã bằng máy ảnh điện thoại",
        "Mã dùng một lần, hết hạn ngày 17/12/2026",
        "Phiếu ẩn danh",
        "Hồ sơ: HS-0001",
    ):
        assert phrase in text, phrase
    assert text.count("Phiếu ẩn danh") == 12 and text.count("Hồ sơ:") == 1
    reader = pypdf.PdfReader(io.BytesIO(qr_cards.to_pdf(cards, UNIT)))
    assert sum(len(p.images) for p in reader.pages) == 12  # one QR image per card


def test_the_qr_image_encodes_the_card_s_address():
    import segno

    url = "https://khaosat.example.vn/q/AbCdEfGhIjKlMnOpQrStUv"
    png = qr.png_of(url)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # segno made it from exactly this address (the same path as a fresh encoding), as a document with its
    # namespace (the tablet shows it as an image from a data: URL, which needs one).
    svg = qr.svg_of(url)
    fresh = segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff", svgclass="sipas-qr")
    path = re.compile(r'<path class="qrline"[^>]*d="([^"]+)"')
    assert path.search(svg).group(1) == path.search(fresh).group(1)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<script" not in svg


def test_the_command_line_prints_cards_by_count_and_by_dossier_file(db_file, tmp_path):
    c = db.open_db(db_file)
    settings.put(c, "qr_base_url", "https://khaosat.example.vn", "test")
    out = tmp_path / "cards.pdf"
    r = run_cli("qr-cards", "--count", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Đã in 3 phiếu mã QR vào {out}")
    assert text_of(out.read_bytes())[1].count("Phiếu ẩn danh") == 3
    codes = tmp_path / "hoso.txt"
    codes.write_text("\ufeffHS-1\n\nHS-2\n", encoding="utf-8")
    r = run_cli("qr-cards", "--dossiers", str(codes), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Hồ sơ: HS-1" in text_of(out.read_bytes())[1]
    assert c.execute("SELECT count(*), count(dossier_id) FROM qr_codes").fetchone()[:] == (5, 2)
    actions = [r[0] for r in c.execute("SELECT actor FROM audit_log WHERE action = 'qr-cards'")]
    assert len(actions) == 2 and all(actions)
    before = table_snapshot(c)
    codes.write_text("HS 3\nHS-1\n", encoding="utf-8")
    r = run_cli("qr-cards", "--dossiers", str(codes), "--out", str(tmp_path / "x.pdf"))
    assert r.returncode == 1 and 'Dòng 1: mã hồ sơ "HS 3" không hợp lệ' in r.stderr
    assert run_cli("qr-cards", "--count", "0", "--out", str(tmp_path / "x.pdf")).returncode == 1
    assert run_cli("qr-cards", "--count", "2").returncode == 2  # --out is required
    assert run_cli("qr-cards", "--count", "2", "--dossiers", str(codes), "--out", "x.pdf").returncode == 2
    assert table_snapshot(c) == before and not (tmp_path / "x.pdf").exists()
    c.close()


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("http://192.168.1.10:8501", "http://192.168.1.10:8501"),
        (" https://KhaoSat.Example.vn/ ", "https://khaosat.example.vn"),
        ("", ""),
    ],
)
def test_the_phone_address_setting_takes_a_scheme_and_host(conn, value, clean):
    assert settings.put(conn, "qr_base_url", value, "test") == clean
    assert settings.get(conn, "qr_base_url") == clean


@pytest.mark.parametrize(
    "value",
    ["ftp://a.vn", "http://a.vn/khaosat", "http://a.vn?x=1", "http://a.vn#x", "http://u:p@a.vn", "javascript:alert(1)",
     "http://a .vn", "http://xã.vn", "http://a.vn:99999", "a.vn", 5, None, "http://" + "a" * 200 + ".vn"],
)  # fmt: skip
def test_a_bad_phone_address_is_refused_in_vietnamese_and_changes_nothing(conn, value):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        settings.put(conn, "qr_base_url", value, "test")
    assert exc.value.problems == [settings.QR_BASE_URL_MESSAGE]
    assert table_snapshot(conn) == before


page = settings_page  # the settings page as the clerk of ``clerk_token`` sees it


def test_the_settings_page_sets_the_address_and_prints_cards(conn, clerk_token):
    at = page(clerk_token)
    at.text_input(key="qr_base_url").set_value("http://192.168.1.10:8501/khaosat")
    click(at, "Lưu địa chỉ")
    assert settings.get(conn, "qr_base_url") == ""
    assert [e.value for e in at.error] == ["Chưa lưu được:"]
    at.text_input(key="qr_base_url").set_value("http://192.168.1.10:8501")
    click(at, "Lưu địa chỉ")
    assert settings.get(conn, "qr_base_url") == "http://192.168.1.10:8501"
    at.number_input(key="qr_cards_count").set_value(4)
    click(at, "Tạo phiếu in (PDF)")
    assert [s.value for s in at.success][-1].startswith("Đã tạo 4 phiếu mã QR")
    assert (
        conn.execute("SELECT count(*) FROM qr_codes WHERE source = 'sheet' AND issued_by = 'vanphong'").fetchone()[0]
        == 4
    )
    assert conn.execute("SELECT actor FROM audit_log WHERE action = 'qr-cards'").fetchone()[0] == "vanphong"
    # By dossier codes: a bad line is refused with its line number, nothing issued.
    at.radio(key="qr_cards_how").set_value("Theo mã hồ sơ")
    at.text_area(key="qr_cards_dossiers").set_value("HS-1\n<b>x</b>")
    click(at, "Tạo phiếu in (PDF)")
    assert any('Dòng 2: mã hồ sơ "<b>x</b>" không hợp lệ' in c.value for c in at.code)
    assert conn.execute("SELECT count(*) FROM qr_codes").fetchone()[0] == 4
    at.text_area(key="qr_cards_dossiers").set_value("HS-1\nHS-2")
    click(at, "Tạo phiếu in (PDF)")
    assert conn.execute("SELECT count(dossier_id) FROM qr_codes").fetchone()[0] == 2
