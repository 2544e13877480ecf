"""Staff accounts: argon2 passwords, lockout counted in the database, revocable sessions.

- Roles: ``clerk`` (công chức Văn phòng – Thống kê) and ``chairman`` (Chủ tịch/Phó Chủ tịch UBND xã);
  ``is_admin`` is a separate right (manage accounts) either may hold.
- No default password exists: the first admin account is created on first start (or by the CLI).
- 5 failed logins for one user name within 15 minutes lock that name for 15 minutes; the count lives
  in the database so a restart does not reset it, and unknown names are counted the same way so the
  message never reveals whether an account exists.
- A staff session is a random token stored in ``staff_sessions``; it ends after 30 minutes without
  activity, on logout, and when the account is disabled or its password changes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sipas import db
from sipas.errors import SipasError, ValidationError
from sipas.text import text_problem

ROLES = {"clerk": "Công chức Văn phòng – Thống kê", "chairman": "Chủ tịch/Phó Chủ tịch UBND xã"}
MIN_PASSWORD = 8
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60
LOCK_SECONDS = 15 * 60
IDLE_TIMEOUT = 30 * 60
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
BAD_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."

_hasher = PasswordHasher()
# A real hash to verify against when the user does not exist, so timing does not reveal it either.
_DUMMY_HASH = _hasher.hash("không-có-tài-khoản-này")


class AuthError(SipasError):
    """Login refused; the message is safe to show (it does not reveal whether the user exists)."""


@dataclass(frozen=True)
class StaffUser:
    username: str
    full_name: str | None
    role: str
    is_admin: bool

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.")
    if len(password) > 256:
        raise ValidationError("Mật khẩu dài quá 256 ký tự.")
    problem = text_problem(password, "Mật khẩu")
    if problem:
        raise ValidationError(problem)


def normalize_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise ValidationError(
            "Tên đăng nhập gồm 3–32 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang "
            "hoặc gạch dưới, bắt đầu bằng chữ hoặc số."
        )
    return name


def create_user(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    role: str,
    *,
    is_admin: bool = False,
    full_name: str | None = None,
    actor: str | None = None,
    first_admin: bool = False,
) -> StaffUser:
    """Create an account. With ``first_admin`` it succeeds only while no account exists at all."""
    name = normalize_username(username)
    if role not in ROLES:
        raise ValidationError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    _check_password(password)
    full_name = (full_name or "").strip() or None
    problem = text_problem(full_name, "Họ và tên")
    if problem:
        raise ValidationError(problem)
    pw_hash = _hasher.hash(password)
    with db.transaction(conn):
        if first_admin and db.count_users(conn) > 0:
            raise ValidationError("Đã có tài khoản; hãy đăng nhập bằng tài khoản quản trị để tạo thêm.")
        if db.get_user(conn, name) is not None:
            raise ValidationError(f'Tên đăng nhập "{name}" đã được dùng.')
        db.insert_user(conn, name, full_name, pw_hash, role, is_admin or first_admin)
        db.log_audit(
            conn,
            actor or name,
            "user-add",
            f"user:{name}",
            None,
            f"role={role}, admin={int(is_admin or first_admin)}",
            None,
        )
    return StaffUser(name, full_name, role, is_admin or first_admin)


def lock_remaining(conn: sqlite3.Connection, username: str, now: float, exclude: int | None = None) -> float:
    """Seconds until ``username`` may try again (0 if not locked).

    Locked when the last 5 failures fall within 15 minutes, for 15 minutes after the last of them
    (attempts while locked are refused without being counted). ``exclude``: a failure row not to
    count (the attempt being made).
    """
    failures = db.login_failures_since(conn, username, now - FAILURE_WINDOW - LOCK_SECONDS, exclude)
    if len(failures) < MAX_FAILURES:
        return 0.0
    last, fifth = failures[-1], failures[-MAX_FAILURES]
    if last - fifth > FAILURE_WINDOW:
        return 0.0
    return max(0.0, last + LOCK_SECONDS - now)


def _locked(remaining: float) -> AuthError:
    return AuthError(LOCKED.format(minutes=max(1, -(-int(remaining) // 60))))


def authenticate(conn: sqlite3.Connection, username: str, password: str, now: float | None = None) -> StaffUser:
    """Check a login; raise AuthError with a message that does not reveal whether the user exists.

    Parallel attempts cannot get past the lockout: the lock check and the counting of this attempt
    as a failure happen in one write transaction *before* the (slow) password check; a right
    password then clears the failures, unless the name got locked meanwhile by parallel attempts.
    Unknown names go the same way (a dummy hash is verified).
    """
    now = time.time() if now is None else now
    name = (username or "").strip().lower()[:64]
    if text_problem([name, password or ""], ""):  # no account can have these characters (not storable)
        raise AuthError(BAD_LOGIN)
    with db.transaction(conn):
        remaining = lock_remaining(conn, name, now)
        if remaining:
            raise _locked(remaining)
        attempt = db.add_login_failure(conn, name, now)
    user = db.get_user(conn, name) if name else None
    ok = False
    try:
        ok = _hasher.verify(user["pw_hash"] if user else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user["active"]:
        remaining = lock_remaining(conn, name, now)
        if remaining:
            raise AuthError(LOCKED.format(minutes=LOCK_SECONDS // 60))
        raise AuthError(BAD_LOGIN)
    with db.transaction(conn):
        # Attempts that started while this one was being verified: this one counts among them as a
        # failure (a burst of guesses with the right password inside must not get in). Alone, after
        # earlier failures, it does not count against itself.
        concurrent = db.login_failures_after(conn, name, attempt) > 0
        remaining = lock_remaining(conn, name, now, exclude=None if concurrent else attempt)
        if remaining:
            raise _locked(remaining)
        db.clear_login_failures(conn, name)
        if _hasher.check_needs_rehash(user["pw_hash"]):
            db.update_user(conn, name, pw_hash=_hasher.hash(password))
    return StaffUser(user["username"], user["full_name"], user["role"], bool(user["is_admin"]))


def verify_password(conn: sqlite3.Connection, username: str, password: str) -> bool:
    """Re-authentication for sensitive decisions: True if ``password`` is this active user's password."""
    user = db.get_user(conn, username)
    if not user or not user["active"]:
        return False
    try:
        return _hasher.verify(user["pw_hash"], password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ------------------------------------------------------------------------------ re-authentication

REAUTH_SECONDS = 120  # a proof is used within the request that made it
WRONG_PASSWORD = "Mật khẩu không đúng."
_proof_key = secrets.token_bytes(32)  # per process: a proof never outlives the server that signed it


@dataclass(frozen=True)
class ReauthProof:
    """Proof that ``username`` typed their password again for ``action`` at ``issued_at`` (epoch).

    Signed with a per-process key; only :func:`reauthenticate` makes valid ones, and the domain checks
    them itself with :func:`check_proof` (bound to the user and the action, short-lived).
    """

    username: str
    action: str
    issued_at: float
    signature: str

    @staticmethod
    def _sign(username: str, action: str, issued_at: float) -> str:
        message = f"{username}\x00{action}\x00{issued_at!r}".encode()
        return hmac.new(_proof_key, message, hashlib.sha256).hexdigest()


def reauthenticate(
    conn: sqlite3.Connection, username: str, password: str, action: str, now: float | None = None
) -> ReauthProof:
    """Check ``username``'s password again for one sensitive ``action``; a proof, or ValidationError."""
    if not password or not verify_password(conn, username, password):
        raise ValidationError(WRONG_PASSWORD)
    issued = time.time() if now is None else now
    return ReauthProof(username, action, issued, ReauthProof._sign(username, action, issued))


def check_proof(proof: object, username: str, action: str, now: float | None = None) -> bool:
    """True when ``proof`` is a genuine, fresh proof that ``username`` re-authenticated for ``action``."""
    if not isinstance(proof, ReauthProof):
        return False
    now = time.time() if now is None else now
    if proof.username != username or proof.action != action:
        return False
    if not (0 <= now - proof.issued_at <= REAUTH_SECONDS):
        return False
    expected = ReauthProof._sign(proof.username, proof.action, proof.issued_at)
    return hmac.compare_digest(expected, str(proof.signature))


def token_key(token: str) -> str:
    """What ``staff_sessions.token`` stores for a session token: its SHA-256 (a copy of the database
    or of a backup gives nobody a usable token)."""
    return hashlib.sha256(str(token).encode("utf-8", "surrogatepass")).hexdigest()


def start_session(conn: sqlite3.Connection, user: StaffUser, now: float | None = None) -> str:
    token = secrets.token_urlsafe(32)
    with db.transaction(conn):
        db.insert_staff_session(conn, token_key(token), user.username, time.time() if now is None else now)
        db.log_audit(conn, user.username, "login", f"user:{user.username}", None, None, None)
    return token


def check_session(
    conn: sqlite3.Connection, token: str | None, now: float | None = None
) -> tuple[StaffUser | None, str | None]:
    """(user, None) for a live session (and marks it active now), or (None, reason) if it ended.

    Reasons: ``'none'``, ``'expired'`` (30 minutes idle), ``'ended'`` (logout, password change,
    account disabled).
    """
    if not token or not isinstance(token, str):
        return None, "none"
    now = time.time() if now is None else now
    token = token_key(token)
    s = db.get_staff_session(conn, token)
    if s is None:
        return None, "none"
    if s["ended_at"] is not None or not s["active"]:
        return None, "ended"
    if now - s["last_seen"] > IDLE_TIMEOUT:
        with db.transaction(conn):
            db.end_staff_sessions(conn, now, "timeout", token=token)
        return None, "expired"
    with db.transaction(conn):
        db.touch_staff_session(conn, token, now)
    return StaffUser(s["username"], s["full_name"], s["role"], bool(s["is_admin"])), None


def logout(conn: sqlite3.Connection, token: str) -> None:
    with db.transaction(conn):
        db.end_staff_sessions(conn, time.time(), "logout", token=token_key(token))


def set_password(conn: sqlite3.Connection, username: str, password: str, actor: str | None) -> None:
    """Change a password and end every session of that account."""
    _check_password(password)
    name = normalize_username(username)
    pw_hash = _hasher.hash(password)
    with db.transaction(conn):
        if db.get_user(conn, name) is None:
            raise ValidationError(f'Không có tài khoản "{name}".')
        db.update_user(conn, name, pw_hash=pw_hash)
        db.clear_login_failures(conn, name)
        db.end_staff_sessions(conn, time.time(), "password", username=name)
        db.log_audit(conn, actor, "user-password", f"user:{name}", None, None, None)


def must_change_password(conn: sqlite3.Connection, username: str) -> bool:
    """True when the account's password was last set by someone else (an administrator creating the account
    or resetting it, the command line): its owner must choose a new one at the next login, since the
    password is the proof of the Chairman's decisions. Read from the audit log, the record of who set it."""
    name = normalize_username(username)
    setter = db.last_password_setter(conn, name)
    return setter is not None and setter.lower() != name


def change_own_password(conn: sqlite3.Connection, user: StaffUser, current: str, new: str, new2: str) -> str:
    """The owner sets a new password (forced after someone else set it): checks the current one, the two
    entries and that it differs; ends the account's sessions and returns a new session token."""
    if new != new2:
        raise ValidationError("Hai lần nhập mật khẩu mới không khớp.")
    if not verify_password(conn, user.username, current):
        raise ValidationError("Mật khẩu hiện tại không đúng.")
    if new == current:
        raise ValidationError("Mật khẩu mới phải khác mật khẩu do người khác đặt.")
    set_password(conn, user.username, new, user.username)
    return start_session(conn, user)


def set_active(conn: sqlite3.Connection, username: str, active: bool, actor: str | None) -> None:
    """Disable (ending its sessions) or re-enable an account. The last active admin cannot be disabled."""
    name = normalize_username(username)
    with db.transaction(conn):
        user = db.get_user(conn, name)
        if user is None:
            raise ValidationError(f'Không có tài khoản "{name}".')
        if not active and user["is_admin"]:
            admins = [u for u in db.list_users(conn) if u["is_admin"] and u["active"] and u["username"] != name]
            if not admins:
                raise ValidationError("Không thể khóa tài khoản quản trị cuối cùng.")
        db.update_user(conn, name, active=int(active))
        if not active:
            db.end_staff_sessions(conn, time.time(), "disabled", username=name)
        db.log_audit(
            conn,
            actor,
            "user-enable" if active else "user-disable",
            f"user:{name}",
            str(user["active"]),
            str(int(active)),
            None,
        )
