"""Rating on one's own phone (sipas.survey.qr): single-use codes, 7 days, stored once, one rating per dossier."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from conftest import table_snapshot

from sipas import clock, db
from sipas.admin import settings
from sipas.errors import ValidationError
from sipas.survey import devices, gate, qr, tablet

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=clock.TZ)  # after the release date: a plausible clock
BASE = "http://192.168.1.10:8501"


def payload(token=None, **extra):
    p = {
        "token": token or str(uuid.uuid4()),
        "questionnaire": "sipas-2023",
        "asked": ["TC3.1", "TC3.2"],
        "answers": {"TC3.1": 4, "TC3.2": None},
        "overall": 5,
        "wait_bucket": "lt15",
        "comment": "<b>tốt</b> **đậm**",
        "duration_seconds": 42.5,
        "completed_ago_ms": 0,
    }
    p.update(extra)
    return p


@pytest.fixture
def on(conn):
    settings.put(conn, "qr_base_url", BASE, "test")
    return conn


def one_card(conn, now=NOW, dossiers=None):
    cards = qr.issue_sheet(conn, None if dossiers else 1, now=now, actor="vanphong", dossiers=dossiers)
    return cards[0]


def add_dossier(conn, dossier_id, *, field="Hộ tịch", staff_code=None, due="2026-12-05 17:00:00", finished=None):
    conn.execute(
        "INSERT INTO dossiers (dossier_id, field, received_at, due_at, finished_at, staff_code) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (dossier_id, field, "2026-12-01 08:00:00", due, finished, staff_code),
    )
    conn.commit()


def stored(conn):
    return [
        dict(r)
        for r in conn.execute(
            "SELECT token, channel, field, staff_code, dossier_id, device, excluded, exclude_reason, overall "
            "FROM responses ORDER BY id"
        )
    ]


# ------------------------------------------------------------------------------ codes


def test_codes_are_random_128_bits_stored_only_as_a_hash_with_7_days(on):
    cards = qr.issue_sheet(on, 3, now=NOW, actor="vanphong")
    assert len({c.code for c in cards}) == 3
    for c in cards:
        assert len(c.code) == 22 and c.url == f"{BASE}/q/{c.code}" and c.expires_at == NOW + timedelta(days=7)
    rows = [dict(r) for r in on.execute("SELECT * FROM qr_codes ORDER BY issued_at")]
    assert {r["code_hash"] for r in rows} == {qr.code_hash(c.code) for c in cards}
    dump = repr(table_snapshot(on))
    assert not any(c.code in dump for c in cards)  # the plain code is nowhere in the database
    assert {(r["source"], r["issued_by"], r["issued_at"], r["expires_at"]) for r in rows} == {
        ("sheet", "vanphong", "2026-12-10 09:30:00", "2026-12-17 09:30:00")
    }
    (audit,) = on.execute("SELECT actor, action, new_value FROM audit_log WHERE action = 'qr-cards'").fetchall()
    assert tuple(audit) == ("vanphong", "qr-cards", "3")


def test_state_ok_then_expired_at_exactly_7_days_and_unknown(on):
    card = one_card(on)
    assert qr.state(on, card.code, NOW + timedelta(days=7) - timedelta(seconds=1)).state == "ok"
    expired = qr.state(on, card.code, NOW + timedelta(days=7))
    assert (expired.state, expired.message) == ("expired", qr.MSG_EXPIRED)
    assert "hết hạn" in expired.message
    for bad in ("x" * 22, "short", "a/b" * 10, None, "<script>alert(1)</script>"):
        got = qr.state(on, bad, NOW)
        assert (got.state, got.message) == ("unknown", qr.MSG_UNKNOWN)
    assert qr.submit(on, card.code, payload(), now=NOW + timedelta(days=8)).state == "expired"
    assert stored(on) == []


def test_a_phone_survey_is_stored_once_with_channel_qr_in_its_own_namespace(on):
    card = one_card(on)
    p = payload()
    out = qr.submit(on, card.code, p, now=NOW)
    assert (out.state, out.suspect) == ("stored", False)
    (row,) = stored(on)
    assert row["token"] == "qr:" + qr.code_hash(card.code) and row["channel"] == "qr" and row["device"] is None
    assert row["excluded"] == 0 and row["overall"] == 5
    assert on.execute("SELECT comment FROM responses").fetchone()[0] == "<b>tốt</b> **đậm**"  # text, as typed
    used = qr.state(on, card.code, NOW)
    assert (used.state, used.message) == ("used", qr.MSG_USED)


def test_the_same_phone_retrying_is_told_stored_and_a_second_person_is_refused(on):
    card = one_card(on)
    p = payload()
    assert qr.submit(on, card.code, p, now=NOW).state == "stored"
    again = qr.submit(on, card.code, dict(p), now=NOW + timedelta(minutes=3))
    assert again.state == "stored"  # the answer was lost: stored once, said again
    other = qr.submit(on, card.code, payload(), now=NOW + timedelta(minutes=4))
    assert (other.state, other.message) == ("used", qr.MSG_USED)
    assert "đã được dùng" in other.message
    # Even after the 7 days the first phone's retry is still "stored" (not "expired").
    assert qr.submit(on, card.code, dict(p), now=NOW + timedelta(days=9)).state == "stored"
    assert len(stored(on)) == 1


def test_a_claimed_code_whose_survey_was_never_stored_is_stored_on_the_retry(on):
    card = one_card(on)
    p = payload()
    assert db.claim_qr_code(on, qr.code_hash(card.code), p["token"], "2026-12-10 09:30:00")  # then a crash
    assert qr.submit(on, card.code, payload(), now=NOW).state == "used"
    assert qr.submit(on, card.code, p, now=NOW).state == "stored"
    assert len(stored(on)) == 1


def test_an_invalid_survey_is_refused_in_vietnamese_and_leaves_the_code_usable(on):
    card = one_card(on)
    before = table_snapshot(on)
    for bad in (
        {},
        [],
        "x",
        payload(token="abc"),
        payload(answers={"TC3.1": "5"}),
        payload(answers={"TC3.1": None}, overall=None),
        payload(comment="x" * 2001),
        payload(answers={"TC3.1": 7}),
    ):
        out = qr.submit(on, card.code, bad, now=NOW)
        assert out.state == "refused" and out.message.startswith("Phiếu chưa được lưu: ")
    assert table_snapshot(on) == before
    assert qr.submit(on, card.code, payload(), now=NOW).state == "stored"


def test_too_fast_is_stored_excluded_as_on_the_tablet_and_out_of_hours_is_no_reason(on):
    settings.put(on, "opening_hours", {"days": [0], "periods": [["07:00", "08:00"]]}, "test")
    card = one_card(on)
    out = qr.submit(on, card.code, payload(duration_seconds=1.0), now=NOW)
    assert (out.state, out.suspect) == ("stored", True)
    (row,) = stored(on)
    assert row["excluded"] == 1 and row["exclude_reason"].startswith("Nghi vấn lạm dụng: hoàn thành 2 câu")
    assert on.execute("SELECT out_of_hours FROM responses").fetchone()[0] == 0
    # The clerk sees it among the suspect surveys (Cài đặt), like a tablet's.
    assert [r["id"] for r in db.suspect_kiosk_surveys(on, "Nghi vấn lạm dụng")] == [1]


def test_intake_paused_stores_nothing(on, monkeypatch):
    card = one_card(on)
    monkeypatch.setattr(gate, "refusal", lambda conn, now: gate.MSG_RESTORING)
    with pytest.raises(gate.IntakePaused, match="Đang khôi phục"):
        qr.submit(on, card.code, payload(), now=NOW)
    assert stored(on) == [] and qr.state(on, card.code, NOW).state == "ok"


def test_a_survey_of_a_staff_member_removed_meanwhile_keeps_its_answers(on):
    card = one_card(on)
    assert qr.submit(on, card.code, payload(staff_code="KHONGCO"), now=NOW).state == "stored"
    assert stored(on)[0]["staff_code"] is None


def test_the_phone_s_completion_time_never_precedes_the_code_nor_lies_in_the_future(on):
    card = one_card(on)
    assert qr.submit(on, card.code, payload(completed_ago_ms=10 * 86400_000), now=NOW + timedelta(hours=1)).state
    assert on.execute("SELECT submitted_at FROM responses").fetchone()[0] == "2026-12-10 09:30:00"
    card = one_card(on)
    qr.submit(on, card.code, payload(completed_ago_ms=-5000), now=NOW + timedelta(hours=2))
    assert on.execute("SELECT max(submitted_at) FROM responses").fetchone()[0] == "2026-12-10 11:30:00"


# ------------------------------------------------------------------------------ dossiers


def test_a_dossier_gives_at_most_one_rating_whatever_the_cards(on):
    first = one_card(on, dossiers=["000.00.15.H32-260301-0001"])
    second = one_card(on, dossiers=["000.00.15.H32-260301-0001"])  # reprinted before any rating
    assert first.dossier_id == "000.00.15.H32-260301-0001"
    assert qr.submit(on, first.code, payload(), now=NOW).state == "stored"
    assert stored(on)[0]["dossier_id"] == "000.00.15.H32-260301-0001"
    got = qr.state(on, second.code, NOW)
    assert (got.state, got.message) == ("used", qr.MSG_DOSSIER_RATED)
    out = qr.submit(on, second.code, payload(), now=NOW)
    assert (out.state, out.message) == ("used", qr.MSG_DOSSIER_RATED)
    assert len(stored(on)) == 1
    with pytest.raises(ValidationError, match="đã được đánh giá"):
        qr.issue_sheet(on, None, now=NOW, actor="vanphong", dossiers=["000.00.15.H32-260301-0001"])


def test_the_database_refuses_a_second_rating_of_a_dossier_even_in_a_race(on, monkeypatch):
    first = one_card(on, dossiers=["HS-1"])
    second = one_card(on, dossiers=["HS-1"])
    assert qr.submit(on, first.code, payload(), now=NOW).state == "stored"
    monkeypatch.setattr(db, "dossier_rated", lambda conn, d: False)  # both phones checked before either stored
    out = qr.submit(on, second.code, payload(), now=NOW)
    assert (out.state, out.message) == ("used", qr.MSG_DOSSIER_RATED)
    assert len(stored(on)) == 1
    assert (
        on.execute("SELECT used_at FROM qr_codes WHERE code_hash = ?", (qr.code_hash(second.code),)).fetchone()[0]
        is None
    )  # the card was given back


def test_a_known_dossier_gives_its_field_and_staff_where_the_citizen_did_not(on):
    db.upsert_staff(on, {"code": "CB01", "full_name": "Nguyễn Thị Hồng"})
    add_dossier(on, "HS-2", field="Chứng thực", staff_code="CB01")
    add_dossier(on, "HS-3", field="Chứng thực", staff_code="CB01")
    a, b = one_card(on, dossiers=["HS-2"]), one_card(on, dossiers=["HS-3"])
    qr.submit(on, a.code, payload(), now=NOW)
    qr.submit(on, b.code, payload(field="Hộ tịch"), now=NOW)
    rows = stored(on)
    assert [(r["field"], r["staff_code"]) for r in rows] == [("Chứng thực", "CB01"), ("Hộ tịch", "CB01")]


def test_dossier_codes_are_checked_line_by_line_and_nothing_is_issued(on):
    before = table_snapshot(on)
    with pytest.raises(ValidationError) as exc:
        qr.issue_sheet(on, None, now=NOW, actor="vanphong", dossiers=["HS-1", "", "HS 2", "HS-1", "x" * 65])
    assert exc.value.problems == [
        'Dòng 3: mã hồ sơ "HS 2" không hợp lệ (chỉ gồm chữ không dấu, số và . - _ / :, tối đa 64 ký tự).',
        'Dòng 4: mã hồ sơ "HS-1" trùng với dòng 1.',
        'Dòng 5: mã hồ sơ "' + "x" * 40 + '…" không hợp lệ (chỉ gồm chữ không dấu, số và . - _ / :, tối đa 64 ký tự).',
    ]
    with pytest.raises(ValidationError, match="Nhiều nhất 200"):
        qr.parse_dossier_codes("\n".join(f"HS-{i}" for i in range(201)))
    with pytest.raises(ValidationError, match="Chưa có mã hồ sơ"):
        qr.parse_dossier_codes("\n \n")
    for n in (0, 201, -1, True, 2.0, None):
        with pytest.raises(ValidationError, match="từ 1 đến 200"):
            qr.issue_sheet(on, n, now=NOW, actor="vanphong")
    assert table_snapshot(on) == before


def test_no_phone_address_no_codes(conn):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError, match="Chưa đặt địa chỉ cho điện thoại"):
        qr.issue_sheet(conn, 5, now=NOW, actor="vanphong")
    assert qr.for_tablet(conn, "quay1", now=NOW) is None
    assert table_snapshot(conn) == before


# ------------------------------------------------------------------------------ the tablet's code


def signed(secret, body, device="quay1"):
    text = json.dumps(body)
    return {"device": device, "body": text, "sig": devices.sign(secret, text)}


def enrol(conn, name="quay1"):
    code = devices.add(conn, name, now=NOW - timedelta(days=3), actor="test")
    return devices.enrol(conn, name, code, now=NOW - timedelta(days=3))


def test_the_tablet_s_code_is_reused_for_an_hour_and_never_once_used(on):
    first = qr.for_tablet(on, "quay1", now=NOW)
    assert set(first) == {"code", "url", "svg", "expires_at"}
    assert first["url"] == f"{BASE}/q/{first['code']}" and first["expires_at"] == "2026-12-17T09:30:00+07:00"
    svg = first["svg"]
    assert (
        svg.startswith("<svg")
        and svg.endswith("</svg>")
        and "<script" not in svg.lower()
        and "on" not in [a.split("=")[0][:2] for a in svg.split()]
    )
    assert qr.for_tablet(on, "quay1", now=NOW + timedelta(minutes=59))["code"] == first["code"]
    assert qr.for_tablet(on, "quay2", now=NOW)["code"] != first["code"]
    later = qr.for_tablet(on, "quay1", now=NOW + timedelta(minutes=61))
    assert later["code"] != first["code"]
    assert qr.submit(on, later["code"], payload(), now=NOW + timedelta(minutes=62)).state == "stored"
    assert qr.for_tablet(on, "quay1", now=NOW + timedelta(minutes=63))["code"] != later["code"]
    row = db.qr_code_row(on, qr.code_hash(later["code"]))
    assert row["source"] == "tablet:quay1" and row["issued_by"] is None


def test_the_sync_gives_the_code_when_asked(on):
    secret = enrol(on)
    msg = signed(secret, {"surveys": [], "starts": [], "want_qr": True})
    result = tablet.sync(on, msg, now=NOW)
    assert result.refused is None and result.qr["url"] == f"{BASE}/q/{result.qr['code']}"
    plain = tablet.sync(on, signed(secret, {"surveys": [], "starts": []}), now=NOW)
    assert plain.qr is None
    settings.put(on, "qr_base_url", "", "test")
    assert tablet.sync(on, msg, now=NOW).qr is None  # QR off


def test_a_burst_through_one_tablet_s_codes_is_suspect(on):
    settings.put(on, "kiosk_burst_max", 2, "test")
    outs = []
    for i in range(3):
        code = qr.for_tablet(on, "quay1", now=NOW + timedelta(seconds=i))["code"]
        outs.append(qr.submit(on, code, payload(), now=NOW + timedelta(seconds=i)))
    assert [o.suspect for o in outs] == [False, False, True]
    assert "qua mã QR của máy quay1" in stored(on)[2]["exclude_reason"]


def test_an_imported_response_id_may_not_take_the_qr_namespace(conn):
    from sipas.survey.responses import import_responses

    data = b"response_id,submitted_at,TC3.1\nqr:abc,2026-03-01 09:00,4\n"
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        import_responses(conn, data, "r.csv", actor="test")
    assert any('bắt đầu bằng "qr:"' in p for p in exc.value.problems)
    assert table_snapshot(conn) == before
