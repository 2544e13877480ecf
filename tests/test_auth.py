"""Staff accounts (sipas.admin.auth): argon2 passwords, lockout counted in the database, revocable sessions.

Times are passed with ``now=`` (seconds since the epoch) so that the 15-minute lockout and the
30-minute idle timeout are tested without waiting.
"""

from __future__ import annotations

import time

import pytest

from sipas import db
from sipas.admin import auth
from sipas.errors import ValidationError
from tests.conftest import table_snapshot

PW = "matkhau-dung-1"
WRONG = "sai-mat-khau"
T0 = 1_750_000_000.0  # a fixed moment; only differences matter
MIN = 60

BAD_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
SHORT = "Mật khẩu phải có ít nhất 8 ký tự."
FIRST_ADMIN_REFUSED = "Đã có tài khoản; hãy đăng nhập bằng tài khoản quản trị để tạo thêm."
LAST_ADMIN = "Không thể khóa tài khoản quản trị cuối cùng."


REAL_HASHER = auth._hasher


pytestmark = pytest.mark.usefixtures("fast_argon2")  # conftest.py


def locked(minutes: int) -> str:
    return f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."


def login_message(conn, username: str, password: str, now: float) -> str:
    """The message a login attempt shows ('ok' when it succeeds)."""
    try:
        auth.authenticate(conn, username, password, now=now)
    except auth.AuthError as exc:
        return str(exc)
    return "ok"


@pytest.fixture
def admin(conn):
    return auth.create_user(conn, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)


@pytest.fixture
def clerk(conn, admin):
    return auth.create_user(conn, "thongke", PW, "clerk", actor="vanphong")


# ------------------------------------------------------------------------------ passwords, accounts


def test_a_password_shorter_than_8_characters_is_refused_and_nothing_is_stored(conn):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        auth.create_user(conn, "vanphong", "1234567", "clerk")
    assert exc.value.problems == [SHORT]
    assert table_snapshot(conn) == before
    assert auth.create_user(conn, "vanphong", "12345678", "clerk").username == "vanphong"


def test_a_short_new_password_is_refused_and_the_old_one_still_works(conn, admin):
    with pytest.raises(ValidationError) as exc:
        auth.set_password(conn, "vanphong", "ngan", "vanphong")
    assert exc.value.problems == [SHORT]
    assert auth.verify_password(conn, "vanphong", PW) is True


def test_the_password_is_stored_as_an_argon2_hash_never_as_text(conn, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", REAL_HASHER)
    auth.create_user(conn, "vanphong", PW, "clerk", first_admin=True)
    stored = conn.execute("SELECT pw_hash FROM users WHERE username = 'vanphong'").fetchone()[0]
    assert stored.startswith("$argon2")
    assert PW not in stored
    # A second account with the same password gets a different (salted) hash.
    auth.create_user(conn, "thongke", PW, "clerk")
    other = conn.execute("SELECT pw_hash FROM users WHERE username = 'thongke'").fetchone()[0]
    assert other.startswith("$argon2") and other != stored


def test_a_new_database_has_no_account_so_no_default_password_logs_in(conn):
    assert db.count_users(conn) == 0
    for name, password in (("admin", "admin"), ("admin", "admin123"), ("root", "password"), ("vanphong", PW)):
        assert login_message(conn, name, password, T0) == BAD_LOGIN


def test_the_first_admin_can_be_created_only_while_no_account_exists(conn):
    first = auth.create_user(conn, "vanphong", PW, "chairman", first_admin=True)
    assert first.is_admin and first.role == "chairman"
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        auth.create_user(conn, "keganh", PW, "clerk", first_admin=True)
    assert exc.value.problems == [FIRST_ADMIN_REFUSED]
    assert table_snapshot(conn) == before
    assert [u["username"] for u in db.list_users(conn)] == ["vanphong"]


def test_an_account_name_is_unique_whatever_its_case(conn, admin):
    with pytest.raises(ValidationError) as exc:
        auth.create_user(conn, "VanPhong", PW, "clerk")
    assert exc.value.problems == ['Tên đăng nhập "vanphong" đã được dùng.']


def test_login_with_the_right_password_returns_the_user_and_is_case_insensitive(conn, admin):
    user = auth.authenticate(conn, " VanPhong ", PW, now=T0)
    assert user == auth.StaffUser("vanphong", "Nguyễn Thị Lan", "clerk", True)
    assert login_message(conn, "vanphong", WRONG, T0) == BAD_LOGIN


# ------------------------------------------------------------------------------ lockout


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(conn, admin):
    messages = [login_message(conn, "vanphong", WRONG, T0 + i * MIN) for i in range(5)]
    assert messages == [BAD_LOGIN] * 4 + [locked(15)]
    last = T0 + 4 * MIN
    # The 6th attempt, one minute after the 5th, with the RIGHT password: refused, 14 minutes left.
    assert login_message(conn, "vanphong", PW, last + MIN) == locked(14)
    assert login_message(conn, "vanphong", PW, last + 15 * MIN - 1) == locked(1)
    # 15 minutes after the last failure the right password works again.
    assert login_message(conn, "vanphong", PW, last + 15 * MIN) == "ok"


def test_attempts_while_locked_are_not_counted_and_do_not_extend_the_lock(conn, admin):
    for i in range(5):
        login_message(conn, "vanphong", WRONG, T0 + i)
    for _ in range(10):
        assert login_message(conn, "vanphong", WRONG, T0 + 10 * MIN) == locked(6)
    assert login_message(conn, "vanphong", PW, T0 + 4 + 15 * MIN) == "ok"


def test_five_failures_spread_over_more_than_15_minutes_do_not_lock(conn, admin):
    messages = [login_message(conn, "vanphong", WRONG, T0 + i * 4 * MIN) for i in range(5)]  # 0 … 16 min
    assert messages == [BAD_LOGIN] * 5
    assert login_message(conn, "vanphong", PW, T0 + 16 * MIN + 1) == "ok"


def test_a_successful_login_resets_the_failure_count(conn, admin):
    for i in range(4):
        login_message(conn, "vanphong", WRONG, T0 + i)
    assert login_message(conn, "vanphong", PW, T0 + 5) == "ok"
    assert login_message(conn, "vanphong", WRONG, T0 + 6) == BAD_LOGIN


def test_the_lock_is_kept_in_the_database_so_a_restart_does_not_clear_it(db_file, conn, admin):
    for i in range(5):
        login_message(conn, "vanphong", WRONG, T0 + i)
    conn.close()
    fresh = db.open_db(db_file)  # as after restarting the server
    try:
        assert fresh.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 5
        assert login_message(fresh, "vanphong", PW, T0 + 2 * MIN) == locked(14)
        assert login_message(fresh, "vanphong", PW, T0 + 4 + 15 * MIN) == "ok"
    finally:
        fresh.close()


def test_an_unknown_user_name_gets_exactly_the_messages_of_a_known_one(conn, admin):
    known = [login_message(conn, "vanphong", WRONG, T0 + i * MIN) for i in range(7)]
    unknown = [login_message(conn, "khongco", WRONG, T0 + i * MIN) for i in range(7)]
    assert known == unknown == [BAD_LOGIN] * 4 + [locked(15), locked(14), locked(13)]
    # The lock of one name does not lock another.
    assert login_message(conn, "thongke2", WRONG, T0 + 7 * MIN) == BAD_LOGIN


def test_a_disabled_account_cannot_log_in_and_gets_the_ordinary_message(conn, clerk):
    auth.set_active(conn, "thongke", False, "vanphong")
    assert login_message(conn, "thongke", PW, T0) == BAD_LOGIN
    assert auth.verify_password(conn, "thongke", PW) is False
    auth.set_active(conn, "thongke", True, "vanphong")
    assert login_message(conn, "thongke", PW, T0 + 1) == "ok"


# ------------------------------------------------------------------------------ sessions


def test_a_session_lives_while_used_and_expires_after_30_idle_minutes(conn, admin):
    token = auth.start_session(conn, admin, now=T0)
    assert auth.check_session(conn, token, now=T0 + 20 * MIN) == (admin, None)
    # Each check counts as activity: 25 minutes after the last one is still fine.
    assert auth.check_session(conn, token, now=T0 + 45 * MIN) == (admin, None)
    assert auth.check_session(conn, token, now=T0 + 45 * MIN + 30 * MIN + 1) == (None, "expired")
    # An expired session stays ended, even if checked "earlier" again.
    assert auth.check_session(conn, token, now=T0 + 46 * MIN) == (None, "ended")
    row = conn.execute("SELECT end_reason FROM staff_sessions WHERE token = ?", (auth.token_key(token),)).fetchone()
    assert row[0] == "timeout"


def test_no_or_unknown_token_is_no_session(conn, admin):
    assert auth.check_session(conn, None) == (None, "none")
    assert auth.check_session(conn, "") == (None, "none")
    assert auth.check_session(conn, "not-a-token") == (None, "none")


def test_logout_ends_that_session_only(conn, admin):
    a = auth.start_session(conn, admin)
    b = auth.start_session(conn, admin)
    auth.logout(conn, a)
    assert auth.check_session(conn, a) == (None, "ended")
    assert auth.check_session(conn, b) == (admin, None)


def test_disabling_an_account_ends_its_sessions(conn, clerk):
    token = auth.start_session(conn, clerk)
    assert auth.check_session(conn, token)[0] == clerk
    auth.set_active(conn, "thongke", False, "vanphong")
    assert auth.check_session(conn, token) == (None, "ended")
    # Enabling it again does not bring the old session back.
    auth.set_active(conn, "thongke", True, "vanphong")
    assert auth.check_session(conn, token) == (None, "ended")


def test_a_password_change_ends_every_session_of_that_account_only(conn, admin, clerk):
    t1 = auth.start_session(conn, clerk)
    t2 = auth.start_session(conn, clerk)
    other = auth.start_session(conn, admin)
    auth.set_password(conn, "thongke", "mat-khau-moi-2", "vanphong")
    assert auth.check_session(conn, t1) == (None, "ended")
    assert auth.check_session(conn, t2) == (None, "ended")
    assert auth.check_session(conn, other) == (admin, None)
    assert login_message(conn, "thongke", PW, T0) == BAD_LOGIN
    assert login_message(conn, "thongke", "mat-khau-moi-2", T0 + 1) == "ok"


def test_a_password_reset_by_the_admin_unlocks_the_account(conn, clerk):
    for i in range(5):
        login_message(conn, "thongke", WRONG, T0 + i)
    auth.set_password(conn, "thongke", "mat-khau-moi-2", "vanphong")
    assert login_message(conn, "thongke", "mat-khau-moi-2", T0 + 10) == "ok"


def test_the_last_active_admin_cannot_be_disabled(conn, admin, clerk):
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as exc:
        auth.set_active(conn, "vanphong", False, "vanphong")
    assert exc.value.problems == [LAST_ADMIN]
    assert table_snapshot(conn) == before
    # A disabled second admin does not count either.
    auth.create_user(conn, "chutich", PW, "chairman", is_admin=True, actor="vanphong")
    auth.set_active(conn, "chutich", False, "vanphong")
    with pytest.raises(ValidationError):
        auth.set_active(conn, "vanphong", False, "vanphong")
    # With another active admin it can.
    auth.set_active(conn, "chutich", True, "vanphong")
    auth.set_active(conn, "vanphong", False, "chutich")
    assert db.get_user(conn, "vanphong")["active"] == 0


def test_account_changes_are_written_to_the_audit_log(conn, clerk):
    auth.set_active(conn, "thongke", False, "vanphong")
    auth.set_password(conn, "thongke", "mat-khau-moi-2", "vanphong")
    rows = [
        tuple(r)
        for r in conn.execute(
            "SELECT actor, action, entity, old_value, new_value FROM audit_log WHERE action LIKE 'user-%' ORDER BY id"
        )
    ]
    assert rows == [
        ("vanphong", "user-add", "user:vanphong", None, "role=clerk, admin=1"),
        ("vanphong", "user-add", "user:thongke", None, "role=clerk, admin=0"),
        ("vanphong", "user-disable", "user:thongke", "1", "0"),
        ("vanphong", "user-password", "user:thongke", None, None),
    ]
    assert all(PW not in str(r) and "mat-khau-moi-2" not in str(r) for r in rows)


def test_verify_password_re_authenticates_the_active_user(conn, clerk):
    assert auth.verify_password(conn, "thongke", PW) is True
    assert auth.verify_password(conn, "thongke", WRONG) is False
    assert auth.verify_password(conn, "thongke", "") is False
    assert auth.verify_password(conn, "khongco", PW) is False
    # Re-authentication does not count as a login failure nor start a session.
    assert conn.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM staff_sessions").fetchone()[0] == 0


# ------------------------------------------------------------------------------ parallel attempts


def _parallel_logins(db_file, attempts: list[tuple[str, str]], hold: str | None = None) -> list[object]:
    """Each attempt on its own connection and thread, all released at once. An attempt with the password
    ``hold`` waits until the lock's worth of failures has been counted (the others are still verifying
    their passwords then): on a loaded machine the scheduler could otherwise run it first, legitimately."""
    import threading

    barrier = threading.Barrier(len(attempts))
    results: list[object] = [None] * len(attempts)

    def attempt(i: int, username: str, password: str) -> None:
        c = db.open_db(db_file)
        try:
            barrier.wait()
            deadline = time.time() + 30
            while password == hold and time.time() < deadline:
                if c.execute("SELECT count(*) FROM login_failures").fetchone()[0] >= auth.MAX_FAILURES:
                    break
                time.sleep(0.001)
            results[i] = auth.authenticate(c, username, password)
        except auth.AuthError as exc:
            results[i] = str(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=attempt, args=(i, *a)) for i, a in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("username", ["vanphong", "khong-ai-ca"])
def test_24_parallel_wrong_logins_are_counted_and_lock_after_5(db_file, conn, admin, username):
    results = _parallel_logins(db_file, [(username, "sai-mat-khau")] * 24)
    assert all(isinstance(r, str) for r in results)
    failures = conn.execute("SELECT count(*) FROM login_failures WHERE username = ?", (username,)).fetchone()[0]
    assert failures == auth.MAX_FAILURES  # each counted before its password was checked; none past the lock
    assert results.count(locked(15)) >= 24 - auth.MAX_FAILURES
    assert login_message(conn, username, "sai-mat-khau", time.time()) == locked(15)


def test_a_burst_of_15_wrong_and_1_right_does_not_log_in(db_file, conn, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", REAL_HASHER)  # the real cost: the window the race needs
    auth.create_user(conn, "vanphong", PW, "clerk", first_admin=True)
    for _ in range(3):
        results = _parallel_logins(db_file, [("vanphong", "sai-mat-khau")] * 15 + [("vanphong", PW)], hold=PW)
        assert not any(isinstance(r, auth.StaffUser) for r in results)
        conn.execute("DELETE FROM login_failures")
