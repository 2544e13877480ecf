"""The tablet's server side (sipas.survey.tablet): what the browser component sends, stored exactly once."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

import pytest

from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import questionnaire, survey_options
from sipas.survey import devices, tablet
from sipas.survey.responses import KioskSurvey, choose_criteria, submit_kiosk_survey

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=clock.TZ)


def payload(token=None, **extra):
    q = questionnaire("sipas-2023")
    asked = ["TC3.1", "TC3.2"]
    p = {
        "token": token or str(uuid.uuid4()),
        "questionnaire": q.code,
        "asked": asked,
        "answers": {"TC3.1": 4, "TC3.2": None},
        "overall": 5,
        "harassment": 1,
        "informal_payment": 1,
        "wait_bucket": "lt15",
        "comment": "**đậm** ![a](http://example.invalid/x.png)",
        "duration_seconds": 42.5,
        "completed_ago_ms": 60_000,
    }
    p.update(extra)
    return p


def issue(conn, tokens, device="quay1", at=None):
    """The server issues these start tokens to an enrolled tablet (two days before NOW by default)."""
    if db.device_row(conn, device) is None:
        code = devices.add(conn, device, now=NOW - timedelta(days=3), actor="test")
        assert devices.enrol(conn, device, code, now=NOW - timedelta(days=3))
    new = [t for t in tokens if isinstance(t, str) and db.token_row(conn, t) is None]
    db.issue_tokens(conn, device, new, at or NOW - timedelta(days=2))


def sync(conn, surveys=(), starts=()):
    issue(conn, [p.get("token") for p in [*surveys, *starts]])
    return tablet.handle_sync(
        conn, {"surveys": list(surveys), "starts": list(starts)}, now=NOW, device="quay1", out_of_hours=lambda t: False
    )


def test_a_completed_survey_is_stored_with_its_answers_duration_and_time(conn):
    p = payload()
    result = sync(conn, [p])
    assert result.stored == 1 and result.acks == ["r:" + p["token"], "s:" + p["token"]]
    row = conn.execute(
        "SELECT submitted_at, duration_seconds, overall, comment, device FROM responses WHERE token = ?",
        ("kiosk:" + p["token"],),
    ).fetchone()
    assert tuple(row) == ("2026-03-10 09:29:00", 42.5, 5, p["comment"], "quay1")  # completed a minute ago
    rid = conn.execute("SELECT id FROM responses WHERE token = ?", ("kiosk:" + p["token"],)).fetchone()[0]
    answers = dict(conn.execute("SELECT criterion, value FROM answers WHERE response_id = ?", (rid,)).fetchall())
    assert answers == {"TC3.1": 4, "TC3.2": None}  # "Không ý kiến" is not answered


def test_the_same_payload_sent_twice_stores_one_row(conn):
    p = payload()
    first, second = sync(conn, [p]), sync(conn, [p, dict(p)])
    assert first.stored == 1 and second.stored == 0
    assert "r:" + p["token"] in second.acks  # acknowledged again, so the tablet drops it
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0] == 1


def test_started_and_never_completed_is_abandoned_and_completed_is_not(conn):
    done, left = str(uuid.uuid4()), str(uuid.uuid4())
    sync(conn, starts=[{"token": done, "ago_ms": 90_000}, {"token": left, "ago_ms": 80_000}])
    sync(conn, starts=[{"token": left, "ago_ms": 1}])  # a start sent again counts once
    assert db.count_abandoned(conn) == 2
    sync(conn, [payload(done)])
    assert db.count_abandoned(conn) == 1
    assert db.count_abandoned(conn, "2026-03-11", "2026-03-12") == 0


def test_a_survey_whose_start_was_lost_still_counts_as_started(conn):
    p = payload()
    sync(conn, [p])
    assert conn.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0] == 1
    assert db.count_abandoned(conn) == 0


def test_a_malformed_survey_is_acknowledged_and_not_stored_but_others_are(conn):
    bad = payload(answers={"TC3.1": "4"})
    good = payload()
    result = sync(conn, [bad, good, {"token": 5}])
    assert result.stored == 1 and result.rejected == 2
    assert "r:" + bad["token"] in result.acks
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 1


def test_a_staff_member_removed_meanwhile_keeps_the_answers(conn):
    p = payload(staff_code="GONE")
    assert sync(conn, [p]).stored == 1
    assert conn.execute("SELECT staff_code FROM responses").fetchone()[0] is None


def test_a_database_fault_is_raised_so_nothing_is_acknowledged(conn):
    conn.execute("PRAGMA query_only = ON")
    with pytest.raises(Exception):  # noqa: B017 - whatever sqlite raises, the tablet keeps the survey
        sync(conn, [payload()])


def test_a_tablet_clock_far_off_never_dates_a_survey_in_the_future(conn):
    p = payload(completed_ago_ms=-5_000_000)
    sync(conn, [p])
    assert conn.execute("SELECT submitted_at FROM responses").fetchone()[0] == "2026-03-10 09:30:00"


def citizens(conn, durations, device="quay1", **extra) -> None:
    """Surveys of enrolled tablet ``device``, completed 10 minutes apart (no burst of misuse)."""
    issue(conn, [], device=device)
    surveys = [
        payload(duration_seconds=d, completed_ago_ms=(i + 1) * 600_000, **extra) for i, d in enumerate(durations)
    ]
    issue(conn, [p["token"] for p in surveys], device=device)
    result = tablet.handle_sync(conn, {"surveys": surveys}, now=NOW, device=device, out_of_hours=lambda t: False)
    assert result.stored == len(surveys), result


def test_the_promise_is_the_median_of_at_least_20_citizens_surveys_of_the_mode(conn):
    # payload() asks 2 criteria of sipas-2023: that is the mode measured here.
    assert tablet.median_duration(conn, NOW, "sipas-2023", 2) is None  # no data yet: the default
    citizens(conn, [30 + i for i in range(19)])
    assert tablet.median_duration(conn, NOW, "sipas-2023", 2) is None  # 19 are too few
    citizens(conn, [300], device="quay2")
    # 20 surveys: 30..48 and 300; the median of 20 values is the mean of the 10th and 11th (39, 40).
    assert tablet.median_duration(conn, NOW, "sipas-2023", 2) == 39.5
    assert tablet.promise_text(tablet.promise_seconds(39.5, 12)) == "Chỉ mất khoảng 40 giây."
    # Another mode (more criteria asked) or another version has no data of its own yet.
    assert tablet.median_duration(conn, NOW, "sipas-2023", 3) is None
    assert tablet.median_duration(conn, NOW, "sipas-2024", 2) is None


def test_the_promise_leaves_out_suspect_legacy_unenrolled_and_other_mode_surveys(conn):
    citizens(conn, [40] * 19)
    # Suspect (faster than 1 s per answer: stored excluded), left out.
    citizens(conn, [2] * 5, device="quay3")
    assert conn.execute("SELECT count(*) FROM responses WHERE excluded = 1").fetchone()[0] == 5
    # The other mode: three criteria asked.
    citizens(conn, [900] * 5, device="quay4", asked=["TC3.1", "TC3.2", "TC3.3"])
    # Staff test runs of the release before enrolment: no enrolled tablet.
    for i in range(5):
        survey = KioskSurvey(f"kiosk:old-{i}", "sipas-2023", ["TC3.1", "TC3.2"], {"TC3.1": 5}, overall=5)
        survey.started_at = NOW - timedelta(hours=1, seconds=3000)
        submit_kiosk_survey(conn, survey, now=NOW - timedelta(hours=1), device=None)
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 34
    assert tablet.median_duration(conn, NOW, "sipas-2023", 2) is None  # still only 19 citizens' surveys
    citizens(conn, [44], device="quay5")
    assert tablet.median_duration(conn, NOW, "sipas-2023", 2) == 40
    # Older than 30 days: left out.
    assert tablet.median_duration(conn, NOW + timedelta(days=31), "sipas-2023", 2) is None


def test_the_promise_is_bounded_to_what_the_mode_can_take():
    # Before 20 surveys: the mode's default, 6 s a screen (a short survey of 10 screens: 1 minute).
    assert tablet.promise_text(tablet.promise_seconds(None, 10)) == "Chỉ mất khoảng 1 phút."
    assert tablet.promise_text(tablet.promise_seconds(None, 37)) == "Chỉ mất khoảng 4 phút."
    # Pushed to 50 minutes: at most 20 s a screen; pushed to 1 s: at least 3 s a screen.
    assert tablet.promise_text(tablet.promise_seconds(3000, 10)) == "Chỉ mất khoảng 3 phút."
    assert tablet.promise_text(tablet.promise_seconds(10, 14)) == "Chỉ mất khoảng 50 giây."
    assert tablet.promise_text(tablet.promise_seconds(38, 10)) == "Chỉ mất khoảng 40 giây."


def test_the_welcome_promise_follows_the_mode_in_use(conn):
    short = tablet.next_survey(conn, NOW, random.Random(1))
    n_short = len(short["plan"]["screens"])
    assert short["promise"] == tablet.promise_text(6.0 * n_short)
    settings.put(conn, "questions_per_survey", {"mode": "full", "rotating": 4}, actor="test")
    full = tablet.next_survey(conn, NOW, random.Random(1))
    n_full = len(full["plan"]["screens"])
    assert n_full > n_short
    assert full["promise"] == tablet.promise_text(6.0 * n_full)
    assert full["promise"] != short["promise"]
    # 20 citizens' full surveys of 20 minutes each (all criteria of the version asked): bounded by the
    # full survey's screens, never "khoảng 20 phút".
    version = full["plan"]["questionnaire"]
    asked = list(full["plan"]["asked"])
    citizens(conn, [1200] * 20, questionnaire=version, asked=asked, answers=dict.fromkeys(asked, 4))
    assert tablet.median_duration(conn, NOW, version, len(asked)) == 1200
    again = tablet.next_survey(conn, NOW, random.Random(1))
    assert again["promise"] == tablet.promise_text(20.0 * n_full)
    assert again["promise"] != "Chỉ mất khoảng 20 phút."
    # The short mode keeps its own default: the full surveys are not its data.
    settings.put(conn, "questions_per_survey", {"mode": "short", "rotating": 4}, actor="test")
    assert tablet.next_survey(conn, NOW, random.Random(1))["promise"] == short["promise"]


def test_pending_counts_per_tablet(conn):
    db.report_pending(conn, "quay1", 3, NOW)
    db.report_pending(conn, "quay1", 0, NOW)
    db.report_pending(conn, "quay2", 2, NOW)
    assert {r["tablet"]: r["pending"] for r in db.tablet_reports(conn)} == {"quay1": 0, "quay2": 2}


def test_short_mode_is_the_default_of_a_new_database(conn):
    assert settings.get(conn, "questions_per_survey")["mode"] == "short"
    assert settings.get(conn, "kiosk_read_aloud") is True


def test_the_plan_has_one_screen_per_question_with_national_wording():
    q = questionnaire("sipas-2023")
    opts = survey_options()
    codes = choose_criteria(q, "short", 4, {}, random.Random(3))
    plan = tablet.build_plan(q, codes, opts, ["Hộ tịch"], [{"code": "CB01", "full_name": "A"}], "short")
    kinds = [s["id"] for s in plan["screens"]]
    assert kinds[: len(codes)] == codes
    assert kinds[len(codes) :] == [
        "overall", "harassment", "informal_payment", "wait_bucket", "field", "staff_code", "comment"
    ]  # fmt: skip
    harassment = next(s for s in plan["screens"] if s["id"] == "harassment")
    assert harassment["text"].startswith("Ông/Bà cảm nhận như thế nào về tình trạng công chức")
    assert all("công chức" in o["label"] for o in harassment["options"])
    payment = next(s for s in plan["screens"] if s["id"] == "informal_payment")
    assert payment["text"].startswith("Ông/Bà suy nghĩ gì về tình trạng người dân phải đưa tiền")
    assert all("người dân" in o["label"] for o in payment["options"])
    staff = next(s for s in plan["screens"] if s["id"] == "staff_code")
    assert staff["options"][-1] == {"value": None, "label": "Không nhớ"}


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def test_a_staff_photo_is_checked_by_content_and_size_and_audited(conn):
    from sipas.admin import roster
    from sipas.errors import ValidationError

    roster.save_member(conn, {"code": "CB01", "full_name": "Nguyễn Thị Lan"}, "clerk")
    roster.set_photo(conn, "CB01", PNG_1PX, "clerk")
    assert db.staff_photos(conn) == {"CB01": (PNG_1PX, "image/png")}
    for bad in (b"GIF89a....", b"<svg onload=alert(1)>", PNG_1PX + b"\0" * roster.PHOTO_MAX_BYTES):
        with pytest.raises(ValidationError):
            roster.set_photo(conn, "CB01", bad, "clerk")
    with pytest.raises(ValidationError):
        roster.set_photo(conn, "NOBODY", PNG_1PX, "clerk")
    assert db.staff_photos(conn) == {"CB01": (PNG_1PX, "image/png")}  # unchanged by the refusals
    roster.set_photo(conn, "CB01", None, "clerk")
    assert db.staff_photos(conn) == {}
    assert [e["action"] for e in db.audit_entries(conn)][:2] == ["staff_photo", "staff_photo"]


def test_a_database_in_use_keeps_the_full_survey_after_the_upgrade(tmp_path):
    from sipas.db import schema
    from sipas.db.connection import connect

    path = tmp_path / "old.db"
    # A database as the release before the kiosk component left it: migrated up to just before it, in use.
    kiosk_step = [m.__name__ for m in schema.MIGRATIONS].index("_m10_kiosk_component")
    conn = connect(path)
    try:
        schema.migrate(conn, kiosk_step)
        conn.execute("DELETE FROM settings WHERE key = 'questions_per_survey'")
        conn.execute(
            "INSERT INTO responses (token, submitted_at, questionnaire, channel, overall) "
            "VALUES ('old-1', '2024-05-02 09:00:00', 'sipas-2023', 'kiosk', 5)"
        )
    finally:
        conn.close()
    with db.session(path) as c:
        assert db.schema_version(c) == db.SCHEMA_VERSION
        assert settings.get(c, "questions_per_survey")["mode"] == "full"


def test_an_optional_topic_line_per_criterion_is_read_and_checked(tmp_path):
    from sipas.catalog import parse_questionnaire
    from sipas.errors import CatalogError

    doc = {
        "code": "x",
        "title": "X",
        "elements": [{"code": "1", "name": "A", "criteria": [{"code": "TC1.1", "text": "B", "topic": " Biển hiệu "}]}],
    }
    q = parse_questionnaire(doc, tmp_path / "x.json")
    assert q.criteria[0].topic == "Biển hiệu"
    doc["elements"][0]["criteria"][0]["topic"] = 5
    with pytest.raises(CatalogError, match="topic"):
        parse_questionnaire(doc, tmp_path / "x.json")
    del doc["elements"][0]["criteria"][0]["topic"]
    assert parse_questionnaire(doc, tmp_path / "x.json").criteria[0].topic is None  # optional


def test_the_2024_full_survey_asks_cau_10_item_by_item_on_its_own_scale():
    q = questionnaire("sipas-2024")
    plan = tablet.build_plan(q, list(q.criterion_codes), survey_options(), ["Hộ tịch"], [], "full")
    wishes = [s for s in plan["screens"] if s["id"] == "expectations"]
    assert [s["item"] for s in wishes] == [f"MM{i}" for i in range(1, 11)]
    assert wishes[6]["text"].startswith("Nâng cao tinh thần, thái độ phục vụ của cán bộ, công chức")
    assert wishes[0]["heading"] == "Mong muốn cải thiện (1/10)"
    assert [o["label"] for o in wishes[0]["options"]] == [
        "Không mong muốn",
        "Khá mong muốn",
        "Mong muốn",
        "Rất mong muốn",
    ]
    assert [o["value"] for o in wishes[0]["options"]] == [1, 2, 3, 4]
    assert all(s["kind"] == "choice" and s["skip"] == "Bỏ qua" for s in wishes)
    # The 2022–2023 form keeps its "choose up to three" question; the short survey asks neither.
    q23 = questionnaire("sipas-2023")
    old = tablet.build_plan(q23, list(q23.criterion_codes), survey_options(), ["Hộ tịch"], [], "full")
    assert [(s["kind"], s.get("max")) for s in old["screens"] if s["id"] == "expectations"] == [("multi", 3)]
    short = tablet.build_plan(q, list(q.criterion_codes)[:4], survey_options(), ["Hộ tịch"], [], "short")
    assert not [s for s in short["screens"] if s["id"] == "expectations"]


def _payload_2024(**extra):
    return payload(questionnaire="sipas-2024", asked=["TC3.1"], answers={"TC3.1": 4}, **extra)


def test_cau_10_levels_are_stored_as_given_and_anything_else_is_refused(conn):
    import json

    def wish(value):
        return _payload_2024(extra={"expectations": value})

    good = wish({"MM1": 4, "MM7": 1, "MM10": 3})
    # Queued by a tablet of the previous release (top-level keys): stored; a "choose three" list for a
    # version that now asks a grid is the one answer left out.
    legacy = _payload_2024(expectations=["Thái độ phục vụ"], harassment=2)
    bad = [
        wish({"MM11": 2}),  # no such item
        wish({"MM1": 5}),  # the scale is 1–4
        wish({"MM1": True}),
        wish({"MM1": "4"}),
        wish(["Thái độ phục vụ"]),  # not a grid's answer
        payload(extra={"expectations": {"TC3.1": 2}}),  # sipas-2023 asks no rating
        payload(extra={"cau_khong_co": 1}),  # no such question
        payload(extra={"harassment": 4}),  # 1–3
        payload(extra=["harassment", 1]),
    ]
    result = sync(conn, [good, legacy, *bad])
    assert (result.stored, result.rejected) == (2, len(bad))
    stored = {r[0]: r[1:] for r in conn.execute("SELECT token, expectations, harassment FROM responses")}
    assert json.loads(stored["kiosk:" + good["token"]][0]) == {"MM1": 4, "MM7": 1, "MM10": 3}
    assert stored["kiosk:" + legacy["token"]] == (None, 2)
    skipped = wish({"MM2": None})  # an item skipped after a level: not answered
    assert sync(conn, [skipped]).stored == 1
    assert (
        conn.execute("SELECT expectations FROM responses WHERE token = ?", ("kiosk:" + skipped["token"],)).fetchone()[0]
        is None
    )


def test_the_2024_full_survey_asks_its_five_demographic_questions_and_stores_them(conn):
    q = questionnaire("sipas-2024")
    plan = tablet.build_plan(q, list(q.criterion_codes), survey_options(), ["Hộ tịch"], [], "full")
    asked = [s for s in plan["screens"] if s.get("heading") == "Thông tin thêm về Ông/Bà (không bắt buộc)"]
    assert [s["id"] for s in asked] == ["gender", "ethnicity", "age_group", "education", "occupation"]
    education = next(s for s in asked if s["id"] == "education")
    assert [o["label"] for o in education["options"]][:2] == ["Tiểu học (cấp I)", "THCS (cấp II)"]
    assert all(s["skip"] == "Bỏ qua" for s in asked)
    p = _payload_2024(ethnicity="Kinh", occupation="Sinh viên", education="THPT (cấp III)")
    assert sync(conn, [p]).stored == 1
    row = conn.execute(
        "SELECT ethnicity, occupation, education FROM responses WHERE token = ?", ("kiosk:" + p["token"],)
    )
    assert tuple(row.fetchone()) == ("Kinh", "Sinh viên", "THPT (cấp III)")
    assert sync(conn, [_payload_2024(occupation="x" * 201)]).rejected == 1
    # The 2022–2023 form keeps its three.
    q23 = questionnaire("sipas-2023")
    old = tablet.build_plan(q23, list(q23.criterion_codes), survey_options(), ["Hộ tịch"], [], "full")
    assert [s["id"] for s in old["screens"] if s.get("heading", "").startswith("Thông tin thêm")] == [
        "gender", "age_group", "education"
    ]  # fmt: skip


def test_the_closed_screen_gives_the_opening_hours_in_force(conn):
    settings.put(conn, "opening_hours", {"days": [0, 1, 2, 3, 4, 5], "periods": [["07:30", "11:00"]]}, "test")
    evening = datetime(2026, 3, 10, 19, 0, tzinfo=clock.TZ)  # a Tuesday evening
    shown = tablet.next_survey(conn, evening)
    assert shown["closed"] is True
    assert shown["hours"] == "Giờ làm việc: Thứ Hai đến Thứ Bảy, 07:30–11:00."
