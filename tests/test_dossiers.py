"""The dossier log: import (aliases, mapping per source, personal data dropped, re-import), the month's
figures against a hand count of a small file and pandas on a large one, QĐ 766, digital targets, CLI."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pandas as pd
import pytest

from sipas import db
from sipas.admin import settings
from sipas.cli import main as cli_main
from sipas.errors import ValidationError
from sipas.files.dossiers import import_dossiers
from sipas.index import dossiers as figures
from sipas.index.stats import wilson_interval

NOW = datetime(2024, 4, 15, 12, 0)
HEADER = (
    "STT,Mã hồ sơ,Tên thủ tục,Lĩnh vực,Họ và tên,Địa chỉ,Số điện thoại,Số CCCD,Ngày tiếp nhận,Ngày hẹn trả,"
    "Ngày có kết quả,Ngày trả kết quả,Trạng thái,Cán bộ tiếp nhận,Hình thức nộp,Hình thức nhận kết quả,"
    "Thanh toán trực tuyến,Đánh giá,Phản ánh"
)
# March 2024: 4 Mon 08:xx ... Hand count below each line: E early, O on time, L late, V open overdue, P open.
SMALL = [
    # Mon 4/3 08:10, due 6/3 (end of day), finished 5/3: early
    "1,HS001,Đăng ký khai sinh,Hộ tịch,Nguyễn Văn An,12 Lê Lợi,0901234567,079123456789,04/03/2024 08:10,06/03/2024,"
    "05/03/2024 10:00,05/03/2024 15:00,Đã trả kết quả,CB01,Trực tiếp,Trực tiếp,Có,Rất hài lòng,",
    # Mon 4/3 08:40, due 6/3, finished 6/3 16:00: on time (the due day)
    "2,HS002,Đăng ký khai tử,Hộ tịch,Trần Thị Bình,34 Trần Phú,0912345678,079987654321,04/03/2024 08:40,06/03/2024,"
    "06/03/2024 16:00,,Đã có kết quả,CB01,Trực tuyến,Bưu chính công ích,Không,Hài lòng,",
    # Tue 5/3 09:05, due 7/3 17:00, finished 8/3: late, not satisfied, complaint
    "3,HS003,Cấp giấy chứng nhận QSDĐ,Đất đai,Lê Văn Cường,5 Hùng Vương,0923456789,079111222333,05/03/2024 09:05,"
    "07/03/2024 17:00,08/03/2024 09:00,,Đã có kết quả,CB02,Trực tiếp,,Có,Không hài lòng,Có",
    # Mon 11/3 08:20, due 20/3, open at report end (31/3): open overdue
    "4,HS004,Cấp giấy chứng nhận QSDĐ,Đất đai,Phạm Thị Dung,7 Nguyễn Huệ,0934567890,079444555666,11/03/2024 08:20,"
    "20/03/2024,,,Đang xử lý,CB02,Trực tiếp,,,,",
    # Wed 27/3 14:00, due 10/4: open, not overdue at 31/3 (the report's end of March)
    "5,HS005,Đăng ký kết hôn,Hộ tịch,Hoàng Văn Em,9 Bạch Đằng,0945678901,079777888999,27/03/2024 14:00,"
    "10/04/2024,,,Đang xử lý,CB01,Bưu chính công ích,,,,",
    # Mon 18/3 08:55, due 18/3 17:00, finished 18/3 16:59: on time
    "6,HS006,Chứng thực bản sao,Chứng thực,Vũ Thị Gấm,1 Lý Thường Kiệt,0956789012,079000111222,18/03/2024 08:55,"
    "18/03/2024 17:00,18/03/2024 16:59,18/03/2024 17:00,Đã trả kết quả,CB03,Trực tiếp,Trực tiếp,,Hài lòng,",
    # April: not in March's figures
    "7,HS007,Đăng ký khai sinh,Hộ tịch,Đỗ Văn Hùng,2 Pasteur,0967890123,079333444555,01/04/2024 08:00,"
    "03/04/2024,02/04/2024 09:00,,Đã trả kết quả,CB01,Trực tiếp,,,,",
]
PERSONAL = ("Nguyễn Văn An", "Trần Thị Bình", "0901234567", "079123456789", "12 Lê Lợi", "Phạm Thị Dung")


def small_csv(lines=SMALL) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


@pytest.fixture
def conn(db_file):
    c = db.open_db(db_file)
    settings.put(
        c, "opening_hours", {"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]}, "t"
    )
    yield c
    c.close()


def test_import_hand_count_and_no_personal_data(conn, db_file):
    summary = import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    assert (summary.rows, summary.added, summary.updated, summary.unchanged) == (7, 7, 0, 0)
    assert summary.personal_dropped == ("Họ và tên", "Địa chỉ", "Số điện thoại", "Số CCCD")
    assert "Không lưu dữ liệu cá nhân: đã bỏ các cột Họ và tên, Địa chỉ, Số điện thoại, Số CCCD" in summary.message()
    assert summary.ignored == ("STT",)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in db_file.parent.glob("sipas.db*"))
    for text in PERSONAL:
        assert text.encode() not in raw, text

    got = figures.month_json(conn, "2024-03", now=NOW)
    # Hand count of March: HS001–HS006 received; finished HS001 (early), HS002, HS006 (on time), HS003 (late).
    assert (got["received"], got["finished"], got["early"], got["on_time"], got["late"], got["open_overdue"]) == (
        6, 4, 1, 2, 1, 1,
    )  # fmt: skip
    assert got["by_field"] == [
        {"field": "Hộ tịch", "received": 3, "late": 0},
        {"field": "Đất đai", "received": 2, "late": 1},
        {"field": "Chứng thực", "received": 1, "late": 0},
    ]
    assert got["channels"] == {"direct": 4, "online": 1, "postal": 1}
    assert got["paid_online_share"] == 2 / 3  # HS001 Có, HS002 Không, HS003 Có
    # In person: Mon 4/3 08h (HS001; HS002 is online), Tue 5/3 09h, Mon 11/3 08h, Mon 18/3 08h; March 2024
    # has 4 Mondays (4, 11, 18, 25) and 4 Tuesdays.
    assert got["arrivals"] == [
        {"weekday": 0, "hour": 8, "mean": 3 / 4},
        {"weekday": 1, "hour": 9, "mean": 1 / 4},
    ]
    # Bad: HS003 (late, not satisfied, complaint), HS004 (open overdue) → (6 − 2) / 6; no PAKN: null.
    assert got["s766"] == {"pakn_on_time": None, "pakn_satisfied": None, "dossiers_satisfied": 4 / 6}
    assert list(got) == [
        "month", "received", "finished", "early", "on_time", "late", "open_overdue", "by_field", "channels",
        "paid_online_share", "arrivals", "s766",
    ]  # fmt: skip


def test_reimport_adds_nothing_twice_and_keeps_when_status_changed(conn):
    import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    again = import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    assert (again.added, again.updated, again.unchanged, again.status_changes) == (0, 0, 7, 0)
    lines = list(SMALL)
    lines[3] = lines[3].replace("20/03/2024,,,Đang xử lý", "20/03/2024,02/04/2024 10:00,,Đã có kết quả")
    later = datetime(2024, 4, 16, 9, 30)
    changed = import_dossiers(conn, small_csv(lines), "ds2.csv", now=later)
    assert (changed.added, changed.updated, changed.unchanged, changed.status_changes) == (0, 1, 6, 1)
    assert db.count_dossiers(conn) == 7
    row = db.get_dossier(conn, "HS004")
    assert (row["status"], row["finished_at"], row["status_changed_at"]) == (
        "Đã có kết quả", "2024-04-02 10:00:00", "2024-04-16 09:30:00",
    )  # fmt: skip
    history = db.dossier_status_history(conn, "HS004")
    assert [(h["old_status"], h["new_status"], h["changed_at"]) for h in history] == [
        ("Đang xử lý", "Đã có kết quả", "2024-04-16 09:30:00")
    ]
    # HS004 is now late (finished after its due day), no longer open overdue.
    got = figures.month_json(conn, "2024-03", now=later)
    assert (got["late"], got["open_overdue"], got["finished"]) == (2, 0, 5)


def test_bad_file_lists_row_column_value_and_changes_nothing(conn):
    import_dossiers(conn, small_csv(SMALL[:2]), "ok.csv", now=NOW)
    imports_before = conn.execute("SELECT count(*) FROM imports").fetchone()[0]
    bad = list(SMALL)
    bad[2] = bad[2].replace("05/03/2024 09:05", "31/02/2024 09:05")
    bad[4] = bad[4].replace("Bưu chính công ích,,,,", "Fax,,,,")
    bad[5] = bad[5].replace("HS006", "HS001")
    with pytest.raises(ValidationError) as exc:
        import_dossiers(conn, small_csv(bad), "bad.csv", now=NOW)
    assert exc.value.problems == [
        'Dòng 4, cột Ngày tiếp nhận (received_at): giá trị "31/02/2024 09:05" không hợp lệ, cần dạng YYYY-MM-DD HH:MM, '
        "dd/mm/yyyy HH:MM hoặc ISO 8601 có múi giờ.",
        'Dòng 6, cột Hình thức nộp (submit_channel): giá trị "Fax" không hợp lệ, chỉ nhận direct, online, postal '
        "(Trực tiếp, Trực tuyến, Bưu chính công ích) hoặc để trống.",
        'Dòng 7, cột Mã hồ sơ (dossier_id): mã hồ sơ "HS001" trùng với dòng 2.',
    ]
    assert db.count_dossiers(conn) == 2
    assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == imports_before


def test_time_order_and_unknown_header(conn):
    lines = [SMALL[0].replace("05/03/2024 10:00", "01/03/2024 10:00")]
    with pytest.raises(ValidationError) as exc:
        import_dossiers(conn, small_csv(lines), "t.csv", now=NOW)
    assert exc.value.problems == [
        'Dòng 2, cột Ngày có kết quả (finished_at): "01/03/2024 10:00" trước ngày tiếp nhận "04/03/2024 08:10".'
    ]
    # A header close to a known one is a typo: refused by name with the header it resembles, nothing stored.
    data = "Mã hồ sơ,Lĩnh vực,Ngày tiếp nhận,Ngày hẹn trả,Ngay co ket qua\nA,Hộ tịch,04/03/2024,05/03/2024,x\n"
    with pytest.raises(ValidationError) as exc:
        import_dossiers(conn, data.encode(), "u.csv", now=NOW)
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith("Dòng 1, cột Ngay co ket qua: tên cột không hợp lệ. Các tên được nhận:")
    assert exc.value.problems[0].endswith(
        'Tên này gần giống "Ngày có kết quả (finished_at)": hãy sửa tên cột, hoặc đặt bảng đối chiếu cột cho nguồn.'
    )
    data = "Mã hồ sơ,Lĩnh vực,Ngày tiep nhan,Ngày hẹn trả\nA,Hộ tịch,04/03/2024,05/03/2024\n"
    with pytest.raises(ValidationError) as exc:
        import_dossiers(conn, data.encode(), "u.csv", now=NOW)
    assert exc.value.problems[1:] == ["Dòng 1: thiếu cột bắt buộc received_at."]
    assert 'gần giống "Ngày tiếp nhận (received_at)"' in exc.value.problems[0]
    assert db.count_dossiers(conn) == 0


def test_columns_the_product_does_not_know_are_left_unread_and_named(conn, db_file):
    """Provincial exports carry extra columns (Ghi chú, Người ký, …): not read, not stored, named in the summary."""
    data = (
        "STT,Mã hồ sơ,Ghi chú,Lĩnh vực,Ngày tiếp nhận,Ngày hẹn trả,Người ký duyệt,Mã vạch\n"
        "1,A1,Gọi số 0988777666 khi có kết quả,Hộ tịch,04/03/2024 08:00,05/03/2024,Ông Trần Văn Ký,=1+1\n"
    ).encode()
    summary = import_dossiers(conn, data, "u.csv", now=NOW)
    assert (summary.added, summary.ignored, summary.unknown) == (1, ("STT",), ("Ghi chú", "Người ký duyệt", "Mã vạch"))
    assert summary.message().endswith(
        "Bỏ qua các cột STT. Không đọc, không lưu các cột không thuộc danh sách hồ sơ: "
        "Ghi chú, Người ký duyệt, Mã vạch."
    )
    assert db.get_dossier(conn, "A1")["field"] == "Hộ tịch"
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in db_file.parent.glob("sipas.db*"))
    for text in ("0988777666", "Trần Văn Ký"):
        assert text.encode() not in raw, text
    # A bad cell in a known column is still reported by its row and the file's header (31 February).
    bad = data.replace(b"04/03/2024 08:00", b"31/02/2024 08:00")
    with pytest.raises(ValidationError) as exc:
        import_dossiers(conn, bad, "u.csv", now=NOW)
    assert exc.value.problems[0].startswith('Dòng 2, cột Ngày tiếp nhận (received_at): giá trị "31/02/2024 08:00"')


def test_column_mapping_per_source(conn):
    settings.put(
        conn,
        "dossier_column_maps",
        {"Hệ thống tỉnh": {"Số biên nhận": "dossier_id", "Nhóm thủ tục": "field", "Người đứng tên": "personal",
                           "Ghi chú": "", "Thời điểm nhận": "received_at", "Hạn": "due_at"}},
        "t",
    )  # fmt: skip
    data = (
        "Số biên nhận,Nhóm thủ tục,Người đứng tên,Ghi chú,Thời điểm nhận,Hạn\n"
        "BN-1,Hộ tịch,Nguyễn Văn An,gấp,04/03/2024 08:00,05/03/2024\n"
    ).encode()
    summary = import_dossiers(conn, data, "tinh.csv", source="Hệ thống tỉnh", now=NOW)
    assert (summary.added, summary.personal_dropped, summary.ignored) == (1, ("Người đứng tên",), ("Ghi chú",))
    assert db.get_dossier(conn, "BN-1")["field"] == "Hộ tịch"
    with pytest.raises(ValidationError, match='Không có bảng đối chiếu cột cho nguồn "Khác"'):
        import_dossiers(conn, data, "tinh.csv", source="Khác", now=NOW)
    with pytest.raises(ValidationError, match="phải đối chiếu sang một trong"):
        settings.put(conn, "dossier_column_maps", {"X": {"Tên": "applicant_name"}}, "t")


def test_on_time_tables_and_late_list(conn):
    import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    period = figures.month_period("2024-03", now=NOW)
    by_staff = {r.group: r for r in figures.on_time(conn, period, "staff_code")}
    # CB02: HS003 late (finished), HS004 open overdue.
    cb02 = by_staff["CB02"]
    assert (cb02.received, cb02.finished, cb02.late.satisfied, cb02.late.n) == (2, 1, 1, 1)
    assert (cb02.open_overdue.satisfied, cb02.open_overdue.n) == (1, 2)
    lo, hi = wilson_interval(1, 2)
    assert cb02.open_overdue.ci_low == pytest.approx(100 * lo) and cb02.open_overdue.ci_high == pytest.approx(100 * hi)
    cb01 = by_staff["CB01"]  # HS001 early, HS002 on time, HS005 open not overdue
    assert (cb01.received, cb01.early.satisfied, cb01.on_time.satisfied, cb01.on_time.n) == (3, 1, 1, 2)
    late = figures.late_list(conn, period)
    assert [(d["dossier_id"], d["still_open"]) for d in late] == [("HS003", 0), ("HS004", 1)]
    side = {r["field"]: r for r in figures.beside_survey(conn, period)}
    assert (side["Đất đai"]["late"].satisfied, side["Đất đai"]["late"].n) == (2, 2)
    assert side["Đất đai"]["satisfied"].n == 0  # no survey in this database


def test_digital_targets_checklist(conn):
    import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    period = figures.month_period("2024-03", now=NOW)
    checks = figures.digital_targets(conn, period, settings.get(conn, "digital_targets"), None)
    # Online: the only procedure with an online dossier (inferred) is "Đăng ký khai tử", which has one: 1/1.
    # Paid online: 2 of 3 with a fee, 66.7 % < 90 %. Postal: HS002 (returned), HS005 (sent): 2/6 ≥ 15 %.
    assert [(c.verdict_text, c.share.satisfied, c.share.n) for c in checks] == [
        ("Đạt", 1, 1), ("Chưa đạt", 2, 3), ("Đạt", 2, 6),
    ]  # fmt: skip
    settings.put(conn, "online_procedures", ["Đăng ký khai tử", "Đăng ký khai sinh"], "t")
    checks = figures.digital_targets(
        conn, period, settings.get(conn, "digital_targets"), ["Đăng ký khai tử", "Đăng ký khai sinh"]
    )
    assert (checks[0].verdict_text, checks[0].share.satisfied, checks[0].share.n) == ("Chưa đạt", 1, 2)
    empty = figures.digital_targets(
        conn, figures.month_period("2024-01", now=NOW), settings.get(conn, "digital_targets"), None
    )
    assert [c.verdict_text for c in empty] == ["Chưa kết luận"] * 3


def test_group_766_with_pakn(conn):
    import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    now = "2024-03-01 08:00:00"
    for received, deadline, responded in (
        ("2024-03-02", "2024-03-10", "2024-03-08 10:00:00"),  # on time
        ("2024-03-05", "2024-03-12", "2024-03-15 10:00:00"),  # late
        ("2024-03-20", "2024-03-25", None),  # unhandled after its deadline (report end 31/3): late
        ("2024-03-28", "2024-04-10", None),  # unhandled, not due yet: neither
    ):
        db.insert_case(
            conn,
            {"type": "procedure", "origin": "clerk", "title": "PAKN", "state": "new", "received_at": received,
             "due_date": deadline, "response_deadline": deadline, "responded_at": responded},
            now,
        )  # fmt: skip
    db.insert_case(conn, {"type": "waiting", "origin": "staffing", "title": "x", "received_at": "2024-03-03"}, now)
    period = figures.month_period("2024-03", now=NOW)
    group = figures.group_766(conn, period, settings.get(conn, "s766_weights"))
    shares = {r.key: (r.share.satisfied, r.share.n) for r in group.ratios}
    assert shares == {"pakn_on_time": (1, 4), "pakn_satisfied": (2, 4), "dossiers_satisfied": (4, 6)}
    assert group.points == pytest.approx(6 * 1 / 4 + 6 * 2 / 4 + 6 * 4 / 6)
    assert group.verified is False and len(group.late_pakn) == 2
    assert (group.late_dossiers, group.not_satisfied_dossiers, group.complained_dossiers) == (2, 1, 1)


def _random_rows(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    fields = ["Hộ tịch", "Đất đai", "Chứng thực", "Tư pháp"]
    rows = []
    for i in range(n):
        received = datetime(2024, 1, 1, 7) + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        days = rng.choice([0, 1, 2, 3, 5])
        # 00:00 means the end of the day (the only choice on the day of reception, never before it).
        due = (received + timedelta(days=days)).replace(hour=0 if days == 0 else rng.choice([0, 17]), minute=0)
        finished = None if rng.random() < 0.15 else received + timedelta(hours=rng.randrange(1, 24 * 8))
        rows.append(
            {
                "dossier_id": f"D{i:06d}",
                "field": rng.choice(fields),
                "received_at": received,
                "due_at": due,
                "finished_at": finished,
                "submit_channel": rng.choice(["direct", "direct", "online", "postal", ""]),
                "paid_online": rng.choice(["yes", "no", ""]),
                "rating": rng.choice(["very_satisfied", "satisfied", "not_satisfied", ""]),
                "complaint": rng.choice(["yes", "", "", ""]),
            }
        )
    return rows


def test_month_figures_against_pandas_on_a_large_file(conn):
    rows = _random_rows(20_000)
    fmt = "%d/%m/%Y %H:%M"
    lines = ["dossier_id,field,received_at,due_at,finished_at,submit_channel,paid_online,rating,complaint"]
    for r in rows:
        lines.append(
            f"{r['dossier_id']},{r['field']},{r['received_at'].strftime(fmt)},{r['due_at'].strftime(fmt)},"
            f"{r['finished_at'].strftime(fmt) if r['finished_at'] else ''},{r['submit_channel']},{r['paid_online']},"
            f"{r['rating']},{r['complaint']}"
        )
    now = datetime(2024, 6, 1)
    import_dossiers(conn, ("\n".join(lines) + "\n").encode(), "big.csv", now=now)
    got = figures.month_json(conn, "2024-02", now=now)

    # Independent: pandas on the raw rows, with the rules of data-interchange.md §Dossiers.
    df = pd.DataFrame(rows)
    due = df["due_at"].where(df["due_at"].dt.hour != 0, df["due_at"] + pd.Timedelta(hours=23, minutes=59, seconds=59))
    df = df.assign(due=due)
    m = df[(df["received_at"] >= "2024-02-01") & (df["received_at"] < "2024-03-01")]
    fin = m[m["finished_at"].notna()]
    early = (fin["finished_at"].dt.normalize() < fin["due"].dt.normalize()).sum()
    late = (fin["finished_at"] > fin["due"]).sum()
    open_overdue = (m["finished_at"].isna() & (m["due"] < pd.Timestamp("2024-03-01"))).sum()
    assert got["received"] == len(m) and got["finished"] == len(fin)
    assert (got["early"], got["late"], got["open_overdue"]) == (early, late, open_overdue)
    assert got["on_time"] == len(fin) - early - late
    by_field = (
        m.assign(late=m["finished_at"] > m["due"])
        .groupby("field")
        .agg(received=("dossier_id", "size"), late=("late", "sum"))
    )
    assert {r["field"]: (r["received"], r["late"]) for r in got["by_field"]} == {
        f: (int(v.received), int(v.late)) for f, v in by_field.iterrows()
    }
    paid = m[m["paid_online"] != ""]
    assert got["paid_online_share"] == pytest.approx((paid["paid_online"] == "yes").mean(), abs=1e-12)
    bad = (
        (m["rating"] == "not_satisfied")
        | (m["complaint"] == "yes")
        | (m["finished_at"] > m["due"])
        | (m["finished_at"].isna() & (m["due"] < pd.Timestamp("2024-03-01")))
    )
    assert got["s766"]["dossiers_satisfied"] == pytest.approx(1 - bad.mean(), abs=1e-12)
    direct = m[m["submit_channel"] == "direct"]
    assert got["channels"]["direct"] == len(direct)
    # Arrivals: every day of February 2024 is open (the test's hours are Mon–Fri, the random times fall on every
    # day, and a day with an in-person dossier counts as open).
    days = pd.Series(pd.date_range("2024-02-01", "2024-02-29"))
    open_days = days[(days.dt.weekday < 5) | days.isin(direct["received_at"].dt.normalize())]
    per_weekday = open_days.dt.weekday.value_counts()
    counts = direct.groupby([direct["received_at"].dt.weekday, direct["received_at"].dt.hour]).size()
    expected = [(int(w), int(h), pytest.approx(n / per_weekday[w])) for (w, h), n in counts.items()]
    assert [(a["weekday"], a["hour"], a["mean"]) for a in got["arrivals"]] == expected


def test_cli_import_and_month_json(conn, db_file, tmp_path, capsys):
    path = tmp_path / "hoso.csv"
    path.write_bytes(small_csv())
    assert cli_main(["import-dossiers", str(path), "--db", str(db_file)]) == 0
    assert "7 hồ sơ mới" in capsys.readouterr().out
    assert cli_main(["dossiers", "--month", "2024-03", "--json", "--db", str(db_file)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["month"], got["received"], got["late"], got["open_overdue"]) == ("2024-03", 6, 1, 1)
    assert cli_main(["dossiers", "--month", "2024-13", "--db", str(db_file)]) == 1
    assert 'Tháng "2024-13" không hợp lệ' in capsys.readouterr().err
    path.write_bytes(small_csv([SMALL[0].replace("HS001", "")]))
    assert cli_main(["import-dossiers", str(path), "--db", str(db_file)]) == 1
    assert "Dòng 2, cột Mã hồ sơ (dossier_id): thiếu mã hồ sơ." in capsys.readouterr().err


def test_staffing_arrivals_ticket_log_first_then_dossiers_then_typed(conn):
    from datetime import date

    from sipas.files.tickets import import_tickets
    from sipas.staffing import waiting

    import_dossiers(conn, small_csv(), "ds.csv", now=NOW)
    # Tickets on Mon 4/3 only: that day's two in-person dossiers (HS001 08h; HS002 was online) are not counted.
    tickets = (
        "ticket_id,service,issued_at,called_at,finished_at\n"
        "A1,Hộ tịch,2024-03-04 07:30,2024-03-04 07:35,2024-03-04 07:50\n"
        "A2,Hộ tịch,2024-03-04 07:40,2024-03-04 07:52,2024-03-04 08:05\n"
    )
    import_tickets(conn, tickets.encode(), "t.csv", now=NOW)
    # Typed counts on Tue 5/3 (a dossier day: ignored) and Wed 6/3 (no other source: used).
    waiting.save_daily_counts(conn, date(2024, 3, 5), pd.DataFrame({"Giờ": [9], "Quầy 1": [7]}), "t", now=NOW)
    waiting.save_daily_counts(conn, date(2024, 3, 6), pd.DataFrame({"Giờ": [10], "Quầy 1": [3]}), "t", now=NOW)
    report = waiting.build_report(conn, date(2024, 3, 4), date(2024, 3, 8))
    got = sorted((r.day, r.hour, r.key, r.arrivals) for r in report.arrivals.itertuples(index=False))
    assert got == [
        ("2024-03-04", 7, "Hộ tịch", 2),  # ticket log
        ("2024-03-05", 9, "Đất đai", 1),  # HS003 in person (typed 7 ignored)
        ("2024-03-06", 10, "Quầy 1", 3),  # typed counts
    ]
    assert (report.dossier_days, report.typed_days) == (1, 1)
