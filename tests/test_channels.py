"""Kiosk beside QR (sipas.index.channels): shares with n and Wilson intervals, kiosk − QR tested; the numbers
checked against scipy called directly and a hand calculation."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from scipy import stats as sps

from sipas import clock, db
from sipas.index import channels

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=clock.TZ)


def add(conn, channel, overalls, *, day="2026-11-10", dossier=None, excluded=False):
    for i, overall in enumerate(overalls):
        token = f"{channel}-{day}-{i}-{dossier}"
        response = {
            "token": token,
            "submitted_at": f"{day} 09:{i % 60:02d}:00",
            "questionnaire": "sipas-2023",
            "channel": channel,
            "overall": overall,
            "dossier_id": dossier,
            "exclude_reason": "Nghi vấn lạm dụng: thử" if excluded else None,
        }
        db.insert_response(conn, response, {"TC3.1": overall})


def compare(conn):
    return channels.compare_channels(conn, questionnaire="sipas-2023", date_from="2026-11-01", date_to="2026-11-30")


def test_kiosk_higher_than_qr_is_a_social_pressure_signal_with_the_numbers_of_scipy(conn):
    add(conn, "kiosk", [5] * 90 + [2] * 10)  # 90 / 100
    add(conn, "qr", [4] * 28 + [1] * 12)  # 28 / 40
    add(conn, "kiosk", [1] * 20, excluded=True)  # excluded: counted nowhere
    add(conn, "kiosk", [1] * 5, day="2026-12-01")  # another month
    c = compare(conn)
    by = {s.channel: s.overall for s in c.shares}
    assert [s.channel for s in c.shares] == ["kiosk", "qr"]  # no paper answers: no paper row
    assert (by["kiosk"].n, by["kiosk"].satisfied, by["qr"].n, by["qr"].satisfied) == (100, 90, 40, 28)
    # Wilson 95% for 28/40 from scipy's own implementation.
    ci = sps.binomtest(28, 40).proportion_ci(confidence_level=0.95, method="wilson")
    assert by["qr"].ci_low == pytest.approx(100 * ci.low) and by["qr"].ci_high == pytest.approx(100 * ci.high)
    # Pooled z-test by hand: p = 118/140, z = (0.9 − 0.7) / sqrt(p(1−p)(1/100 + 1/40)); equals the chi-square
    # test without continuity correction (scipy).
    pooled = 118 / 140
    z = 0.2 / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 40))
    chi2 = sps.chi2_contingency([[90, 10], [28, 12]], correction=False)
    assert c.test.p_value == pytest.approx(2 * sps.norm.sf(z)) == pytest.approx(chi2.pvalue)
    assert c.test.difference == pytest.approx(20.0)
    assert c.sentence.startswith("Tỷ lệ hài lòng tại quầy cao hơn trên điện thoại (chênh lệch +20,0 điểm phần trăm")
    assert "áp lực xã hội" in c.sentence and "p = 0,003" in c.sentence
    frame = channels.channel_frame(c)
    assert list(frame["Kênh"]) == ["Tại quầy (máy tính bảng)", "Trên điện thoại (mã QR)"]
    assert list(frame["n"]) == [100, 40]


def test_few_qr_answers_give_no_verdict(conn):
    add(conn, "kiosk", [5] * 100)
    add(conn, "qr", [1] * 29)
    add(conn, "paper", [4, 4, 2])
    c = compare(conn)
    assert c.test is None
    assert c.sentence == (
        "Chưa đủ dữ liệu để so sánh: 100 câu trả lời tại quầy và 29 qua mã QR trên điện thoại "
        "(cần ít nhất 30 mỗi bên). Chưa kết luận."
    )
    paper = c.shares[2].overall
    assert (c.shares[2].channel, paper.n, paper.satisfied) == ("paper", 3, 2)


def test_no_difference_is_said_as_such(conn):
    add(conn, "kiosk", [5] * 40 + [1] * 10)
    add(conn, "qr", [5] * 41 + [1] * 9)
    c = compare(conn)
    assert c.test.p_value > 0.05 and c.sentence.startswith("Chưa thấy khác biệt có ý nghĩa thống kê")


def test_ratings_linked_to_dossiers_late_beside_on_time(conn):
    rows = [
        ("HS-1", "2026-11-05 17:00:00", "2026-11-07 10:00:00"),  # late
        ("HS-2", "2026-11-05 17:00:00", "2026-11-04 10:00:00"),  # on time
        ("HS-3", "2026-11-05 17:00:00", None),  # open after its due time: late
        ("HS-4", "2026-12-30 17:00:00", None),  # open, not due yet: on time
    ]
    for dossier_id, due, finished in rows:
        conn.execute(
            "INSERT INTO dossiers (dossier_id, field, received_at, due_at, finished_at) VALUES (?, 'Hộ tịch', ?, ?, ?)",
            (dossier_id, "2026-11-01 08:00:00", due, finished),
        )
    conn.commit()
    add(conn, "qr", [2], dossier="HS-1")
    add(conn, "qr", [5], dossier="HS-2")
    add(conn, "qr", [5], dossier="HS-3")
    add(conn, "qr", [4], dossier="HS-4")
    add(conn, "qr", [4], dossier="HS-9")  # not imported yet
    d = channels.dossier_ratings(conn, "2026-11-01", "2026-11-30", NOW)
    assert (d.linked, d.unknown) == (5, 1)
    assert (d.late.n, d.late.satisfied, d.on_time.n, d.on_time.satisfied) == (2, 1, 2, 2)
    assert channels.dossier_sentence(d) == (
        "5 phiếu gắn với hồ sơ trong kỳ, trong đó 1 phiếu của hồ sơ chưa có trong danh sách hồ sơ đã nhập."
    )
    with pytest.raises(Exception, match="UNIQUE"):
        add(conn, "qr", [3], dossier="HS-1", day="2026-11-11")  # one rating per dossier, by the database
