"""Enrolled tablets (sipas.survey.devices) and the signed sync (sipas.survey.tablet.sync): only an
enrolled tablet's signed message stores anything; refusals are counted; tokens are the server's."""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from datetime import datetime, timedelta

import pytest

from sipas import clock, db
from sipas.errors import ValidationError
from sipas.survey import devices, tablet

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=clock.TZ)  # after the release date: the server's clock is plausible


def enrolled(conn, name="quay1", at=NOW - timedelta(days=1)):
    code = devices.add(conn, name, now=at, actor="test")
    secret = devices.enrol(conn, name, code, now=at)
    assert secret
    return secret


def survey(token, **extra):
    p = {
        "token": token,
        "questionnaire": "sipas-2023",
        "asked": ["TC3.1", "TC3.2"],
        "answers": {"TC3.1": 4, "TC3.2": 5},
        "overall": 5,
        "duration_seconds": 40.0,
        "completed_ago_ms": 30_000,
    }
    p.update(extra)
    return p


def signed(secret, body, device="quay1"):
    text = json.dumps(body)
    return {"device": device, "body": text, "sig": devices.sign(secret, text)}


def tokens_of(conn, device="quay1", at=NOW - timedelta(hours=2)):
    return devices.top_up(conn, device, now=at)


def responses(conn):
    return conn.execute("SELECT count(*) FROM responses").fetchone()[0]


def refusals(conn):
    return {r["reason"]: r["n"] for r in devices.refusal_counts(conn)}


def test_an_enrolled_tablet_stores_a_signed_survey_under_its_own_namespace(conn):
    secret = enrolled(conn)
    token = tokens_of(conn)[0]
    result = tablet.sync(conn, signed(secret, {"surveys": [survey(token)], "pending": 1}), now=NOW)
    assert (result.stored, result.refused) == (1, None)
    row = conn.execute("SELECT token, device, excluded, submitted_at FROM responses").fetchone()
    assert tuple(row) == ("kiosk:" + token, "quay1", 0, "2026-12-10 09:29:30")
    assert db.token_row(conn, token)["used_at"] == "2026-12-10 09:30:00"
    again = tablet.sync(conn, signed(secret, {"surveys": [survey(token)]}), now=NOW + timedelta(minutes=1))
    assert again.stored == 0 and "r:" + token in again.acks and responses(conn) == 1  # used once


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s, t: {"surveys": [survey(t)]}, "unsigned"),  # the old anonymous message
        (lambda s, t: signed("0" * 64, {"surveys": [survey(t)]}), "bad-signature"),
        (lambda s, t: signed(s, {"surveys": [survey(t)]}, device="quay9"), "unknown-device"),
        (lambda s, t: {"device": "quay1", "body": "x" * (256 * 1024 + 1), "sig": ""}, "too-large"),
        (lambda s, t: {"device": "quay1", "body": "[1]", "sig": devices.sign(s, "[1]")}, "malformed"),
    ],
)
def test_a_message_not_signed_by_an_enrolled_tablet_stores_nothing_and_is_counted(conn, make, reason):
    secret = enrolled(conn)
    token = tokens_of(conn)[0]
    result = tablet.sync(conn, make(secret, token), now=NOW)
    assert result.refused == reason and result.stored == 0 and result.acks == []
    assert responses(conn) == 0 and conn.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0] == 0
    assert refusals(conn) == {reason: 1}
    assert devices.refusal_summary(conn)[0]["Lý do"] == devices.REFUSALS[reason]


def test_a_revoked_tablet_is_refused_and_its_unused_tokens_are_gone(conn):
    secret = enrolled(conn)
    token = tokens_of(conn)[0]
    devices.revoke(conn, "quay1", now=NOW - timedelta(minutes=5), actor="clerk")
    result = tablet.sync(conn, signed(secret, {"surveys": [survey(token)]}), now=NOW)
    assert result.refused == "revoked" and responses(conn) == 0
    assert db.unused_tokens(conn, "quay1") == []
    actions = [r["action"] for r in db.audit_entries(conn)]
    assert actions[:3] == ["tablet-revoke", "tablet-enrol", "tablet-add"]


def test_the_enrolment_code_works_once_and_expires(conn):
    code = devices.add(conn, "quay2", now=NOW, actor="test")
    assert devices.enrol(conn, "quay2", "sai-ma", now=NOW) is None
    assert devices.enrol(conn, "quay2", code, now=NOW + timedelta(days=8)) is None  # 7 days
    assert devices.enrol(conn, "quay2", code, now=NOW)
    assert devices.enrol(conn, "quay2", code, now=NOW) is None  # used
    with pytest.raises(ValidationError, match="đã được đăng ký"):
        devices.add(conn, "quay2", now=NOW, actor="test")
    with pytest.raises(ValidationError, match="không hợp lệ"):
        devices.add(conn, "quầy 3", now=NOW, actor="test")


def test_a_token_of_another_tablet_or_invented_is_refused_and_counted(conn):
    secret = enrolled(conn)
    enrolled(conn, "quay2")
    other = tokens_of(conn, "quay2")[0]
    invented = str(uuid.uuid4())
    body = {"surveys": [survey(other), survey(invented)], "starts": [{"token": invented, "ago_ms": 1}]}
    result = tablet.sync(conn, signed(secret, body), now=NOW)
    assert (result.stored, result.rejected) == (0, 2) and responses(conn) == 0
    assert refusals(conn) == {"bad-token": 3}
    assert conn.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0] == 0


def test_a_completion_time_before_the_token_was_issued_is_refused(conn):
    secret = enrolled(conn)
    token = tokens_of(conn, at=NOW - timedelta(hours=1))[0]
    late = survey(token, completed_ago_ms=2 * 3600 * 1000)  # dated into a period before the token existed
    result = tablet.sync(conn, signed(secret, {"surveys": [late]}), now=NOW)
    assert result.stored == 0 and refusals(conn) == {"bad-time": 1} and responses(conn) == 0


def test_the_stock_is_topped_up_when_asked_and_an_offline_tablet_can_use_it_for_days(conn):
    secret = enrolled(conn)
    first = tablet.sync(conn, signed(secret, {"want_tokens": True}), now=NOW - timedelta(days=5))
    assert len(first.tokens) == devices.TOKEN_STOCK and len(set(first.tokens)) == devices.TOKEN_STOCK
    # Five days offline, then the surveys arrive (completed over those days, each after its issue).
    body = {"surveys": [survey(t, completed_ago_ms=(4 - i) * 86_400_000) for i, t in enumerate(first.tokens[:4])]}
    result = tablet.sync(conn, signed(secret, body | {"want_tokens": True}), now=NOW)
    assert result.stored == 4 and len(result.tokens) == devices.TOKEN_STOCK
    assert not set(first.tokens[:4]) & set(result.tokens)


def test_a_survey_faster_than_reading_is_stored_as_suspect_out_of_the_figures_and_restorable(conn):
    from sipas.survey import quality

    secret = enrolled(conn)
    fast, normal = tokens_of(conn)[:2]
    body = {"surveys": [survey(fast, duration_seconds=1.5), survey(normal)]}
    result = tablet.sync(conn, signed(secret, body), now=NOW)
    assert (result.stored, result.suspect) == (2, 1)
    rid, excluded, reason = conn.execute(
        "SELECT id, excluded, exclude_reason FROM responses WHERE token = ?", ("kiosk:" + fast,)
    ).fetchone()
    assert excluded == 1 and "3 câu trong 1.5 giây" in reason
    day = conn.execute("SELECT responses FROM daily_responses WHERE day = '2026-12-10'").fetchone()[0]
    assert day == 1  # only the normal survey counts
    quality.restore(conn, [rid], "Đã xem lại, hợp lệ", "clerk1")
    assert conn.execute("SELECT responses FROM daily_responses WHERE day = '2026-12-10'").fetchone()[0] == 2
    assert db.audit_entries(conn)[0]["action"] == "include"


def test_more_surveys_than_a_counter_serves_in_five_minutes_are_suspect(conn):
    secret = enrolled(conn)
    stock = tokens_of(conn)
    body = {"surveys": [survey(t, completed_ago_ms=1000 * i) for i, t in enumerate(stock[:14])]}
    result = tablet.sync(conn, signed(secret, body), now=NOW)
    assert (result.stored, result.suspect) == (14, 14 - tablet.BURST_MAX)
    counted = conn.execute("SELECT count(*) FROM responses WHERE excluded = 0").fetchone()[0]
    assert counted == tablet.BURST_MAX


def test_lists_are_bounded_and_an_oversized_field_is_refused(conn):
    secret = enrolled(conn)
    stock = tokens_of(conn)
    body = {"starts": [{"token": str(i) * 8, "ago_ms": 1} for i in range(tablet.MAX_SYNC_STARTS + 50)]}
    result = tablet.sync(conn, signed(secret, body), now=NOW)
    assert refusals(conn)["bad-token"] == tablet.MAX_SYNC_STARTS and refusals(conn)["bad-survey"] == 50
    long = survey(stock[0], comment="a" * 2001)
    assert tablet.sync(conn, signed(secret, {"surveys": [long]}), now=NOW).stored == 0
    assert responses(conn) == 0 and result.stored == 0


def test_an_import_id_cannot_take_the_kiosk_namespace(conn):
    from sipas.survey.responses import import_responses

    data = b"response_id,submitted_at,questionnaire,channel,overall\nkiosk:abc,2026-03-01 09:00,sipas-2023,paper,5\n"
    with pytest.raises(ValidationError) as exc:
        import_responses(conn, data, "phieu.csv", active_version="sipas-2023", actor="clerk")
    assert any("Dòng 2, cột response_id" in p and "kiosk:" in p for p in exc.value.problems)
    assert responses(conn) == 0


def test_the_cli_adds_lists_and_revokes_a_tablet(db_file, capsys):
    from sipas.cli import main

    assert main(["tablet", "add", "quay1", "--db", str(db_file)]) == 0
    out = capsys.readouterr().out
    assert "/tablet/?device=quay1&enrol=" in out
    assert main(["tablet", "list", "--db", str(db_file)]) == 0
    assert "quay1\tchờ mở liên kết đăng ký" in capsys.readouterr().out
    assert main(["tablet", "revoke", "quay1", "--db", str(db_file)]) == 0
    assert main(["tablet", "revoke", "quay9", "--db", str(db_file)]) == 1
    assert 'Không có máy "quay9".' in capsys.readouterr().err


# ------------------------------------------------------------------ surveys queued before enrolment


def legacy(token, ago_ms, **extra):
    return survey(token, completed_ago_ms=ago_ms, legacy=True, **extra)


def test_a_survey_queued_before_enrolment_is_stored_once_marked_and_its_start_counted(conn):
    secret = enrolled(conn)  # enrolled a day before NOW
    old = str(uuid.uuid4())  # the previous release's own token
    body = {"surveys": [legacy(old, 2 * 86_400_000)], "starts": [{"token": "abandoned-1", "ago_ms": 2 * 86_400_000,
            "legacy": True}], "pending": 1}  # fmt: skip
    result = tablet.sync(conn, signed(secret, body), now=NOW)
    assert (result.stored, result.rejected) == (1, 0)
    assert {"r:" + old, "s:abandoned-1"} <= set(result.acks)
    row = conn.execute("SELECT token, device, exclude_reason, overall FROM responses").fetchone()
    assert tuple(row) == (tablet.LEGACY_PREFIX + old, "quay1", None, 5)
    starts = {r[0] for r in conn.execute("SELECT token FROM kiosk_starts")}
    assert starts == {tablet.LEGACY_PREFIX + old, tablet.LEGACY_PREFIX + "abandoned-1"}
    # Sent again (the acknowledgement was lost): still one.
    again = tablet.sync(conn, signed(secret, body), now=NOW + timedelta(minutes=1))
    assert again.stored == 0 and "r:" + old in again.acks
    assert responses(conn) == 1
    assert refusals(conn) == {}


def test_a_legacy_survey_completed_after_enrolment_or_sent_too_late_is_refused_and_counted(conn):
    secret = enrolled(conn)
    after = tablet.sync(conn, signed(secret, {"surveys": [legacy(str(uuid.uuid4()), 60_000)]}), now=NOW)
    assert (after.stored, after.rejected) == (0, 1)
    late = NOW + timedelta(days=tablet.LEGACY_DAYS + 1)
    old = legacy(str(uuid.uuid4()), int(timedelta(days=tablet.LEGACY_DAYS + 3).total_seconds() * 1000))
    too_late = tablet.sync(conn, signed(secret, {"surveys": [old]}), now=late)
    assert (too_late.stored, too_late.rejected) == (0, 1)
    assert responses(conn) == 0
    assert sum(r["n"] for r in devices.refusal_counts(conn) if r["reason"] == "legacy") == 2  # on two days


def test_legacy_surveys_are_bounded_per_tablet(conn, monkeypatch):
    monkeypatch.setattr(tablet, "LEGACY_MAX", 3)
    secret = enrolled(conn)
    batch = [legacy(str(uuid.uuid4()), 86_400_000 + i * 600_000) for i in range(5)]
    result = tablet.sync(conn, signed(secret, {"surveys": batch}), now=NOW)
    assert (result.stored, result.rejected) == (3, 2)
    assert responses(conn) == 3
    assert refusals(conn) == {"legacy": 2}


def test_a_legacy_survey_already_stored_under_its_server_token_is_not_stored_again(conn):
    secret = enrolled(conn)
    token = tokens_of(conn)[0]
    tablet.sync(conn, signed(secret, {"surveys": [survey(token)]}), now=NOW)
    # The tablet is revoked and enrolled again before it heard the acknowledgement.
    devices.revoke(conn, "quay1", now=NOW + timedelta(minutes=1), actor="test")
    secret2 = enrolled(conn, at=NOW + timedelta(minutes=2))
    again = tablet.sync(conn, signed(secret2, {"surveys": [legacy(token, 5 * 60_000)]}), now=NOW + timedelta(minutes=3))
    assert again.stored == 0 and "r:" + token in again.acks
    assert responses(conn) == 1


def test_a_legacy_mark_does_not_open_the_door_to_an_unsigned_message(conn):
    enrolled(conn)
    body = json.dumps({"surveys": [legacy(str(uuid.uuid4()), 2 * 86_400_000)]})
    result = tablet.sync(conn, {"device": "quay1", "body": body, "sig": "0" * 64}, now=NOW)
    assert result.refused == "bad-signature"
    assert responses(conn) == 0


def _written(path):
    """kiosk_refusals as another connection (another process) reads it, nothing flushed first."""
    with closing(sqlite3.connect(path)) as other:
        return dict(other.execute("SELECT reason, sum(n) FROM kiosk_refusals GROUP BY reason").fetchall())


def test_a_flood_of_forged_messages_costs_a_write_every_few_seconds_not_one_each(conn, monkeypatch):
    """500 unsigned messages in a burst: the first is written at once (a lone forgery is on the settings page
    at once), the other 499 are added up in memory and written together, by the timer, with nothing else
    sent; a flood takes the write lock about once per FLUSH_SECONDS instead of once per message."""
    import time

    monkeypatch.setattr(devices, "FLUSH_SECONDS", 0.5)
    path = db.database_file(conn)
    writes = []
    count = db.count_refusals
    monkeypatch.setattr(db, "count_refusals", lambda c, rows: writes.append(len(rows)) or count(c, rows))
    for i in range(500):
        result = tablet.sync(conn, {"surveys": [survey(f"t{i}")]}, now=NOW)
        assert result.refused == "unsigned" and result.stored == 0
    assert _written(path) == {"unsigned": 1} and len(writes) == 1
    deadline = time.monotonic() + 10
    while _written(path).get("unsigned") != 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _written(path) == {"unsigned": 500}  # the tail, by the timer
    assert len(writes) == 2 and responses(conn) == 0
    row = conn.execute("SELECT last_at, last_device FROM kiosk_refusals").fetchone()
    assert tuple(row) == ("2026-12-10 09:30:00", None)


def test_refusals_still_held_are_written_before_they_are_read(conn, monkeypatch):
    monkeypatch.setattr(devices, "FLUSH_SECONDS", 60)
    secret = enrolled(conn)
    tablet.sync(conn, signed("0" * 64, {"surveys": []}), now=NOW)  # written at once
    for _ in range(3):
        tablet.sync(conn, signed("0" * 64, {"surveys": []}), now=NOW + timedelta(seconds=1))
        tablet.sync(conn, signed(secret, {"surveys": []}, device="quay9"), now=NOW + timedelta(seconds=2))
    assert _written(db.database_file(conn)) == {"bad-signature": 1}
    assert refusals(conn) == {"bad-signature": 4, "unknown-device": 3}  # the page reads them all
    assert _written(db.database_file(conn)) == {"bad-signature": 4, "unknown-device": 3}
    rows = {r["Lý do"]: r["Số lần"] for r in devices.refusal_summary(conn)}
    assert rows == {devices.REFUSALS["bad-signature"]: 4, devices.REFUSALS["unknown-device"]: 3}
    last = conn.execute("SELECT last_at, last_device FROM kiosk_refusals WHERE reason = 'unknown-device'").fetchone()
    assert tuple(last) == ("2026-12-10 09:30:02", "quay9")


def test_counts_a_failed_write_could_not_store_are_kept_for_the_next(conn, monkeypatch):
    monkeypatch.setattr(devices, "FLUSH_SECONDS", 60)
    tablet.sync(conn, {"surveys": []}, now=NOW)
    tablet.sync(conn, {"surveys": []}, now=NOW)
    count = db.count_refusals

    def locked(c, rows):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(db, "count_refusals", locked)
    with pytest.raises(sqlite3.OperationalError):
        devices.flush_refusals(conn)
    monkeypatch.setattr(db, "count_refusals", count)
    assert refusals(conn) == {"unsigned": 2}
