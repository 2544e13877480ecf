"""Streamlit helpers shared by the pages: the database connection, the role guard, kiosk styling.

Kept outside ``sipas/`` so the domain package never imports Streamlit.
"""

from __future__ import annotations

import logging
import os
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from sipas import db
from sipas.paths import db_path


def database_path() -> str:
    return str(db_path())


@contextmanager
def conn() -> Iterator:
    """A short-lived connection for this request (each Streamlit session runs in its own thread)."""
    with db.session(database_path()) as c:
        yield c


def env_seconds(name: str, default: float) -> float:
    """A timing knob that tests may shorten through the environment (never below 1 s)."""
    try:
        return max(1.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


KIOSK_CSS = """
<style>
/* One column, big type and big touch targets for a 10-inch tablet. Only data-testid selectors. */
[data-testid="stMainBlockContainer"] { max-width: 860px; padding-top: 1.5rem; padding-bottom: 4rem; }
[data-testid="stHeader"] { display: none; }
[data-testid="stToolbar"] { display: none; }
[data-testid="stMarkdownContainer"] p { font-size: 1.35rem; line-height: 1.5; }
[data-testid="stWidgetLabel"] p { font-size: 1.35rem !important; font-weight: 600; line-height: 1.45; }
[data-testid="stButtonGroup"] button { min-height: 64px; min-width: 64px; font-size: 1.25rem;
  padding: 0.6rem 1.1rem; margin: 0.2rem 0.1rem; }
[data-testid="stButtonGroup"] button p { font-size: 1.25rem !important; }
/* The faces carry the meaning for readers who struggle with text: as big as the words. A chosen
   answer must be obvious at a glance (the default pale tint is hard to see for older eyes). */
[data-testid="stButtonGroup"] [data-testid="stIconEmoji"] { font-size: 1.75rem; line-height: 1; margin-right: 0.4rem; }
[data-testid="stButtonGroup"] button[aria-checked="true"], [data-testid="stButtonGroup"] button[aria-pressed="true"] {
  background: #0b6e4f !important; border-color: #0b6e4f !important; }
[data-testid="stButtonGroup"] button[aria-checked="true"] p,
[data-testid="stButtonGroup"] button[aria-pressed="true"] p { color: #ffffff !important; font-weight: 600; }
/* Captions (instructions, the anonymity note, the countdown) default to small, faded grey. */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1.15rem; color: #3d3d3d;
  opacity: 1 !important; }
[data-testid="stBaseButton-primary"], [data-testid="stBaseButton-secondary"] { min-height: 72px;
  font-size: 1.4rem; padding: 0.8rem 1.4rem; }
[data-testid="stBaseButton-primary"] p, [data-testid="stBaseButton-secondary"] p { font-size: 1.4rem !important; }
[data-testid="stTextArea"] textarea { font-size: 1.3rem; min-height: 8rem; }
[data-testid="stVerticalBlock"] { gap: 1.1rem; }
.kiosk-criterion { border-top: 1px solid #e6e6e6; }
</style>
"""


def kiosk_style() -> None:
    st.html(KIOSK_CSS)


# ------------------------------------------------------------------------------ staff sessions

TOKEN_KEY = "staff_token"
STAFF_ROLES = ("clerk", "chairman")


def resolve_user():
    """The logged-in staff user of this browser session, checked against the database every run.

    Returns (user or None, reason). A session that timed out, was logged out, or whose account was
    disabled or had its password changed is cleared here.
    """
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None, "none"
    from sipas import auth  # argon2 is only needed once someone has logged in

    with conn() as c:
        user, reason = auth.check_session(c, token)
    if user is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state["session_end_reason"] = reason
    return user, reason


def require_role(*roles: str):
    """Guard at the top of every staff page: stop (showing nothing) unless the role may open it."""
    user, _ = resolve_user()
    if user is None or user.role not in roles:
        st.warning("Bạn không có quyền xem trang này.")
        st.stop()
    return user


def may_act(*roles: str) -> bool:
    """Check again inside a widget callback (``on_click``/``on_change``) before it writes anything.

    Streamlit runs a callback at the start of the next run, before app.py and before the page's
    :func:`require_role`: a click on a page drawn before the session ended (logout elsewhere,
    30 minutes idle, account disabled) would otherwise still act.
    """
    user, _ = resolve_user()
    return user is not None and user.role in roles


def session_check(*roles: str):
    """For a download button's ``data=`` callable: a function that raises unless this session is still live.

    Streamlit calls such a callable when the button is clicked, outside any script run (no guard,
    no ``st.session_state``): the token is taken now and checked against the database then.
    """
    token = st.session_state.get(TOKEN_KEY)

    def check() -> None:
        from sipas import auth

        with conn() as c:
            user, _ = auth.check_session(c, token)
        if user is None or user.role not in roles:
            raise PermissionError("Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.")

    return check


def require_admin():
    user = require_role(*STAFF_ROLES)
    if not user.is_admin:
        st.warning("Trang này chỉ dành cho tài khoản có quyền quản trị.")
        st.stop()
    return user


def escape_md(text) -> str:
    """Text typed by someone (a name, a unit, a path), shown literally inside Markdown.

    Every ASCII punctuation character gets a backslash (CommonMark shows it as itself), so ``**``,
    ``[link](…)``, ``#``, ``$math$``, ``:red[…]``, ``:material/…:`` and ``&amp;`` stay as typed;
    HTML is never rendered by Streamlit's Markdown anyway.
    """
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in str(text))


def show_errors(exc) -> None:
    """Show a domain error's problems as plain text (never Markdown or HTML)."""
    problems = getattr(exc, "problems", None) or [str(exc)]
    st.error(f"Có {len(problems)} lỗi, chưa có gì được lưu:" if len(problems) > 1 else "Chưa lưu được:")
    st.code("\n".join(problems), language=None, wrap_lines=True)


def roles_caption(*roles: str) -> None:
    from sipas.auth import ROLES

    st.caption("Trang dành cho: " + "; ".join(ROLES[r] for r in roles))


def reauthenticate(conn, user, password: str, action: str):
    """The password typed again for a sensitive decision, as the proof the domain checks itself.

    No password typed: None (the domain refuses the decisions that need one, with its message); a wrong
    one: ``ValidationError("Mật khẩu không đúng.")`` for the page's usual error display.
    """
    from sipas import auth

    if not password:
        return None
    return auth.reauthenticate(conn, user.username, password, action)


_backup_lock = threading.Lock()
_backup_state: dict = {"day": None, "error": None}


def daily_backup(user) -> None:
    """Start today's automatic backup in the background if it is due, so no citizen waits for it.

    At most one runs at a time and the check is made once per process and day; a failure is shown
    to staff (never on the kiosk) until a later attempt succeeds.
    """
    from sipas import clock

    today = clock.now().date().isoformat()
    if _backup_state["day"] != today and _backup_lock.acquire(blocking=False):
        _backup_state["day"] = today
        threading.Thread(target=_run_backup, args=(database_path(),), daemon=True, name="sipas-daily-backup").start()
    if user is not None and _backup_state["error"]:
        st.warning(f"Chưa sao lưu tự động được: {escape_md(_backup_state['error'])}")


def _run_backup(path: str) -> None:
    from sipas import backup, clock, db, settings

    try:
        with db.session(path) as c:
            folder, keep = backup.configured_backup_dir(c), settings.get(c, "backup_keep")
        backup.auto_backup_if_due(path, folder, keep, clock.now())
        _backup_state["error"] = None
    except Exception as exc:  # reported to staff; a failed backup must never stop the app
        logging.getLogger("sipas.backup").exception("daily backup failed")
        _backup_state["error"] = str(exc)
        _backup_state["day"] = None  # try again on a later run
    finally:
        _backup_lock.release()
