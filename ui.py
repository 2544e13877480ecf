"""Streamlit helpers shared by the pages: the database connection, the role guard, kiosk styling.

Kept outside ``sipas/`` so the domain package never imports Streamlit.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


# The tablet's survey is one st.components.v2 component whose HTML, CSS, JS and face images are
# files of the project (components/survey/); they are read here and registered once per process.
SURVEY_DIR = Path(__file__).resolve().parent / "components" / "survey"
SURVEY_COMPONENT = "sipas_survey"

# A staff member's preview of the survey: the page keeps its sidebar and header; the survey sits in the
# main area (survey.css, .kiosk.preview) with a little room at the top.
KIOSK_PREVIEW_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3rem !important; padding-bottom: 1rem !important; }
</style>
"""


# The survey's JavaScript is ES modules (components/survey/src/, unit-tested with `node --test`), but a v2
# component takes one module, loaded from a blob: URL where relative imports cannot resolve. So the modules
# are joined here, in the order of their imports, into one script: the same files give the same script.
# They keep to a small subset that makes joining them safe: imports only as `import { a, b } from "./m.js";`,
# exports only as `export function|const|let|class NAME` (and `export default function` in the entry), and
# top-level names unique across the modules (a duplicate, a SyntaxError once joined, is refused here).
SURVEY_SRC = SURVEY_DIR / "src"
_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([\w-]+\.js)";[ \t]*\n?', re.MULTILINE)
_EXPORT = re.compile(r"^export (?=(?:async )?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*))", re.MULTILINE)
_DEFAULT = re.compile(r"^export default function\b", re.MULTILINE)
_TOP_NAME = re.compile(
    r"^(?:export (?:default )?)?(?:async )?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)", re.MULTILINE
)


class ScriptAssemblyError(ValueError):
    """A survey module uses a form of import or export that :func:`assemble_script` cannot join."""


def assemble_script(src: Path, entry: str = "main.js") -> str:
    """One script from the ES modules of ``src``: each module once, after the modules it imports."""
    order: list[str] = []
    bodies: dict[str, str] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in bodies:
            return
        if name in visiting:
            raise ScriptAssemblyError(f"{name}: circular import ({' -> '.join([*visiting, name])})")
        path = src / name
        if not path.is_file():
            raise ScriptAssemblyError(f"{visiting[-1] if visiting else name}: imports {name}, which does not exist")
        text = path.read_text(encoding="utf-8")
        visiting.append(name)
        imports = [
            (m.group(2), [n.strip() for n in m.group(1).split(",") if n.strip()]) for m in _IMPORT.finditer(text)
        ]
        body = _IMPORT.sub("", text)
        if re.search(r"^\s*import\b", body, re.MULTILINE):
            raise ScriptAssemblyError(f'{name}: only `import {{ a, b }} from "./module.js";` can be joined')
        for module, names in imports:
            visit(module)
            exported = set(_EXPORT.findall(bodies[module]))
            for n in names:
                if n not in exported:
                    raise ScriptAssemblyError(f"{name}: imports {n!r} from {module}, which does not export it")
        if _DEFAULT.search(body) and name != entry:
            raise ScriptAssemblyError(f"{name}: only the entry module {entry} has a default export")
        rest = _DEFAULT.sub("", _EXPORT.sub("", body))
        if re.search(r"^\s*export\b", rest, re.MULTILINE):
            raise ScriptAssemblyError(f"{name}: only `export function|const|let|class NAME` can be joined")
        visiting.pop()
        bodies[name] = body
        order.append(name)

    visit(entry)
    declared: dict[str, str] = {}
    for name in order:
        for top in _TOP_NAME.findall(bodies[name]):
            if top in declared:
                raise ScriptAssemblyError(f"{name}: {top} is already declared in {declared[top]}")
            declared[top] = name
    if not _DEFAULT.search(bodies[entry]):
        raise ScriptAssemblyError(f"{entry}: the entry module needs `export default function`")
    parts = [f"// Joined by ui.assemble_script from {', '.join(order)}: edit those files, not this script.\n"]
    for name in order:
        body = _EXPORT.sub("", bodies[name])
        parts.append(f"\n// ---- {name}\n{body.strip()}\n")
    return "".join(parts)


def faces_html() -> str:
    """The five faces (components/survey/faces/*.svg, files of the project) in the hidden holder the survey
    copies them from (dom.js ``faceSvg``)."""
    faces = "".join(
        f'<span data-face="{v}">{(SURVEY_DIR / "faces" / f"face{v}.svg").read_text(encoding="utf-8")}</span>'
        for v in range(1, 6)
    )
    return f'<div class="faces-src" hidden aria-hidden="true">{faces}</div>'


@functools.lru_cache(maxsize=1)
def survey_component():
    html = (SURVEY_DIR / "survey.html").read_text(encoding="utf-8").replace("<!--FACES-->", faces_html())
    return st.components.v2.component(
        SURVEY_COMPONENT,
        html=html,
        css=(SURVEY_DIR / "survey.css").read_text(encoding="utf-8"),
        js=assemble_script(SURVEY_SRC),
        # In the page's own DOM (the CSS is scoped under .kiosk): screen readers, text search and
        # the tests see the survey like any other text.
        isolate_styles=False,
    )


# The staff pages' CSS, one string (a second assignment once replaced the first and switched the
# download defence off):
# * Streamlit's table toolbar offers "Download as CSV" (aria-label "Download as CSV" or
#   "Download as CSV: <table>"), which writes =HYPERLINK(…) or +1+1 typed by a citizen as they are (a
#   formula in Excel). Streamlit 1.67 has no parameter to turn it off, so the button is hidden on
#   staff pages; pages offer their own safe download (:func:`safe_csv_download`).
# * Streamlit 1.67 has no parameter for the file uploader's own words ("Upload", "200MB per file •
#   CSV"); they are hidden (visibility, so neither seen nor read out) and replaced by Vietnamese.
STAFF_CSS = """<style>
[data-testid="stElementToolbar"] button[aria-label^="Download as CSV"],
[data-testid="stElementToolbarButton"]:has(button[aria-label^="Download as CSV"]) { display: none !important; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {
  visibility: hidden; font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  visibility: visible; content: "Chọn tệp"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { visibility: hidden; font-size: 0; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  visibility: visible; content: "Tối đa 200 MB mỗi tệp"; font-size: 0.875rem; }
</style>"""


# Streamlit 1.67's page has English words of its own (no setting for them) and says lang="en": the hidden
# "Skip to main content" link read out by screen readers, the hint under a text box being typed in, a select
# box's list when nothing matches. Its front end writes them as plain text nodes; a constant script of ours
# (nothing typed by anyone) sets lang="vi" and rewrites each one as it appears (a MutationObserver), on the
# login page as on staff pages.
STREAMLIT_WORDS = {
    "Skip to main content": "Chuyển đến nội dung chính",
    "No results": "Không có kết quả",
    "Press Enter to apply": "Nhấn Enter để áp dụng",
    "Press Enter to submit form": "Nhấn Enter để gửi",
    "Press Ctrl+Enter to apply": "Nhấn Ctrl+Enter để áp dụng",
    "Press Ctrl+Enter to submit form": "Nhấn Ctrl+Enter để gửi",
    "Press ⌘+Enter to apply": "Nhấn ⌘+Enter để áp dụng",
    "Press ⌘+Enter to submit form": "Nhấn ⌘+Enter để gửi",
}
STREAMLIT_WORDS_SCRIPT = """<script>
(() => {
  document.documentElement.lang = "vi";
  if (window.__sipasWords) return;  // one observer per page, however often Streamlit draws this
  const words = __WORDS__;
  window.__sipasWords = words;
  const fixText = (node) => {
    const t = (node.nodeValue || "").trim();
    if (Object.hasOwn(words, t)) node.nodeValue = node.nodeValue.replace(t, words[t]);
  };
  const fixTree = (root) => {
    if (root.nodeType === Node.TEXT_NODE) return fixText(root);
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) fixText(n);
  };
  fixTree(document.body);
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") fixText(r.target);
      else for (const n of r.addedNodes) fixTree(n);
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})();
</script>""".replace("__WORDS__", json.dumps(STREAMLIT_WORDS, ensure_ascii=False))


def staff_style() -> None:
    st.html(STAFF_CSS)
    streamlit_in_vietnamese()


def streamlit_in_vietnamese() -> None:
    """Streamlit's own English words on this page said in Vietnamese (:data:`STREAMLIT_WORDS`)."""
    st.html(STREAMLIT_WORDS_SCRIPT, unsafe_allow_javascript=True)


def index_metrics(result, base_overall: float | None, targets: dict, *, detailed: bool = False) -> None:
    """The period's headline figures in one row, the same on the overview and the analysis page: the index
    (with its change against the baseline's), the direct overall question, the target; under them the
    direct question's n and Wilson interval. ``detailed`` (the analysis page): also the valid surveys and
    the baseline's index."""
    from sipas import clock

    cols = st.columns(4 if detailed else 3)
    delta = None
    if base_overall is not None and result.overall is not None:
        delta = f"{clock.format_signed(result.overall - base_overall, 2)} điểm so với gốc"
    cols[0].metric(
        "Chỉ số chung",
        "—" if result.overall is None else clock.format_percent(result.overall, 2),
        delta,
        help="Trung bình không trọng số của 5 yếu tố (mỗi yếu tố là trung bình các tiêu chí).",
    )
    d = result.direct_overall
    cols[1].metric(
        "Câu hỏi hài lòng chung",
        "—" if d.index is None else clock.format_percent(d.index, 2),
        help="Tỷ lệ trả lời Hài lòng hoặc Rất hài lòng ở câu hỏi chung.",
    )
    if detailed:
        cols[2].metric("Số phiếu hợp lệ", f"{result.responses}")
    cols[-1].metric(
        "Chỉ tiêu",
        f"≥ {clock.format_plain(targets['overall'])}%",
        help=f"Không yếu tố, tiêu chí nào dưới {clock.format_plain(targets['floor'])}%.",
    )
    if d.index is not None:
        base = ""
        if detailed and base_overall is not None:
            base = f" Số liệu gốc: chỉ số chung {clock.format_percent(base_overall, 2)}."
        st.caption(
            f"Câu hỏi chung: n = {d.n}, khoảng tin cậy 95% (Wilson) "
            f"{clock.format_number(d.ci_low, 1)}–{clock.format_percent(d.ci_high, 1)}.{base}"
        )


def explanation_form(
    form_key: str, actor: str, case_id: int | None, *, label: str, text_key: str, cases=(), pick_key: str = ""
) -> None:
    """The form that records a staff member's explanation (giải trình) word for word, on the case page (one
    case: ``case_id``) and in the Chairman's queue (``case_id`` None: one of ``cases`` picked in the select
    box ``pick_key``). :func:`sipas.cases.workflow.record_explanation` checks it."""
    from sipas.cases import workflow
    from sipas.errors import SipasError

    with st.form(form_key, clear_on_submit=True, enter_to_submit=False):
        if case_id is None:
            case_id = st.selectbox(
                "Ghi giải trình vào vụ việc",
                list(cases),
                key=pick_key,
                placeholder="Chọn một mục",
            )
        text = st.text_area(label, key=text_key, max_chars=4000)
        if st.form_submit_button("Ghi giải trình"):
            try:
                with conn() as c:
                    workflow.record_explanation(c, case_id, actor, text)
                st.success("Đã ghi giải trình.")
                st.rerun()
            except SipasError as exc:
                show_errors(exc)


def safe_csv_download(frame, label: str, file_name: str, key: str) -> None:
    """A download of ``frame`` as CSV where no cell can become a formula (see sipas.files.exports)."""
    from sipas.files import exports

    st.download_button(
        label,
        data=exports.frame_csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        on_click="ignore",
        key=key,
    )


# ------------------------------------------------------------------------------ staff sessions

TOKEN_KEY = "staff_token"
STAFF_ROLES = ("clerk", "chairman")


COOKIE = "sipas_staff"
_COOKIE_DONE = "_sipas_cookie_written"
_COOKIE_CLEAR = "_sipas_cookie_clear"
_cookie_component: dict = {}


def _on_kiosk_device() -> bool:
    """A counter tablet (``?kiosk=1`` or ``?device=``): it never takes a staff session from a cookie."""
    try:
        return st.query_params.get("kiosk") == "1" or bool(st.query_params.get("device"))
    except Exception:
        return False


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no request (a bare script run)
        return None
    return value if isinstance(value, str) and value else None  # AppTest gives a mock


def resolve_user():
    """The logged-in staff user of this browser session, checked against the database every run.

    Returns (user or None, reason). A session that timed out, was logged out, or whose account was
    disabled or had its password changed is cleared here. A new browser session (F5, a bookmark, a
    second tab) takes the staff token from the ``sipas_staff`` cookie when it is still a live
    session on the server; a counter tablet never does.
    """
    token = st.session_state.get(TOKEN_KEY)
    from_cookie = False
    if not token and not _on_kiosk_device():
        token = _cookie_token()
        from_cookie = token is not None
    if not token:
        return None, "none"
    from sipas.admin import auth  # argon2 is only needed once someone has logged in

    with conn() as c:
        user, reason = auth.check_session(c, token)
    if user is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state["session_end_reason"] = reason
        if from_cookie:
            st.session_state[_COOKIE_CLEAR] = True
    elif from_cookie:
        st.session_state[TOKEN_KEY] = token
        st.session_state[_COOKIE_DONE] = token
    return user, reason


def _mount_cookie(data: dict, key: str) -> None:
    if "mount" not in _cookie_component:
        from pathlib import Path

        js = (Path(__file__).resolve().parent / "assets" / "session_cookie.js").read_text(encoding="utf-8")
        _cookie_component["mount"] = st.components.v2.component(
            "sipas_session_cookie", html="<span hidden></span>", js=js
        )
    _cookie_component["mount"](data={"name": COOKIE, **data}, key=key, height=0)


def sync_session_cookie() -> None:
    """Write the staff token into the browser's cookie once per login; clear it after a logout."""
    token = st.session_state.get(TOKEN_KEY)
    if token and st.session_state.get(_COOKIE_DONE) != token:
        _mount_cookie({"action": "set", "token": token}, key="sipas_cookie_set")
        st.session_state[_COOKIE_DONE] = token
        st.session_state.pop(_COOKIE_CLEAR, None)
    elif not token and st.session_state.pop(_COOKIE_CLEAR, False):
        _mount_cookie({"action": "clear"}, key="sipas_cookie_clear")
        st.session_state.pop(_COOKIE_DONE, None)


def forget_session_cookie() -> None:
    """After a logout: the next run clears the cookie in this browser."""
    st.session_state[_COOKIE_CLEAR] = True
    st.session_state.pop(_COOKIE_DONE, None)


def show_fault(exc: BaseException) -> bool:
    """Tell staff a storage fault (full disk, read-only or missing database, locked file) in
    Vietnamese, with what to do; False if ``exc`` is not one (the caller re-raises it)."""
    from sipas import faults

    message = faults.describe(exc, database_path())
    if message is None:
        return False
    logging.getLogger("sipas.faults").warning("storage fault on a staff page: %s", exc)
    st.error(message)
    return True


_PATH = re.compile(r"[A-Za-z0-9_-]{1,60}")


def requested_path() -> str | None:
    """The address (the part after the host's "/") this run was asked for, when it is a plain page name.

    Streamlit answers an address missing from ``st.navigation`` with its English "Page not found" box;
    app.py registers the not-found page at this one too. Read from the script run context (the page
    manager's intended page), which Streamlit has no public API for: None whenever it is not there.
    """
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        name = get_script_run_ctx().pages_manager.intended_page_name
    except Exception:  # noqa: BLE001 - an internal of Streamlit: without it only the known addresses are covered
        return None
    return name if isinstance(name, str) and _PATH.fullmatch(name) else None


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
        from sipas.admin import auth

        with conn() as c:
            user, _ = auth.check_session(c, token)
        if user is None or user.role not in roles:
            raise PermissionError("Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.")

    return check


# ------------------------------------------------------------------------------ first start

_setup = {"code": None}
_setup_lock = threading.Lock()


def setup_code() -> str:
    """The one-time code for creating the first administrator from another machine: made once per
    server process, printed in the server's console and written to ``<db>.setup-code`` (readable by
    the server's user only; :mod:`sipas.admin.first_start`), never shown in a page."""
    import sys

    from sipas.admin import first_start

    with _setup_lock:
        if _setup["code"] is None:
            _setup["code"] = first_start.new_code(database_path())
            print(
                f"[sipas] Mã thiết lập lần đầu (tạo tài khoản quản trị từ máy khác): {_setup['code']} "
                f"(cũng ghi trong {first_start.code_file(database_path())})",
                file=sys.stderr,
                flush=True,
            )
        return _setup["code"]


def _peer_ip() -> str | None:
    """The TCP peer of this session's WebSocket, as the server saw it.

    ``st.context.ip_address`` reports ``None`` for a loopback peer, the same as for no peer at all,
    so the raw address is read from the session's client context (None when there is none).
    """
    try:
        from streamlit.runtime import exists, get_instance
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not exists():
            return None
        client = get_instance().get_client(ctx.session_id)
        context = getattr(client, "client_context", None) if client is not None else None
        return getattr(context, "remote_ip", None)
    except Exception:  # another Streamlit version: not recognised, the code is asked
        return None


def from_this_machine() -> bool:
    """True when this browser session's connection comes from the server machine itself (loopback)."""
    from sipas.admin import first_start

    try:
        headers = st.context.headers
        forwarded = any(headers.get(h) for h in ("X-Forwarded-For", "Forwarded", "X-Real-Ip"))
    except Exception:  # no request context
        return False
    # Behind a reverse proxy on the same PC every request comes from 127.0.0.1: a forwarded request
    # is from somewhere else, whatever its address.
    return first_start.is_loopback(_peer_ip()) and not forwarded


# Streamlit's Markdown turns bare www.…, http://… and a@b.vn in the *text* into links (GFM autolink
# literals, found after escapes are resolved): an invisible WORD JOINER (U+2060) before ".", ":" and "@"
# breaks those patterns without changing what the reader sees.
_NO_AUTOLINK = {".": "\u2060\\.", ":": "\u2060\\:", "@": "\u2060\\@"}


def escape_md(text) -> str:
    """Text typed by someone (a name, a unit, a path), shown literally inside Markdown.

    Every ASCII punctuation character gets a backslash (CommonMark shows it as itself), so ``**``,
    ``[link](…)``, ``#``, ``$math$``, ``:red[…]``, ``:material/…:`` and ``&amp;`` stay as typed;
    ``.``, ``:`` and ``@`` also get an invisible word joiner before them so that a bare URL or e-mail
    address is not made a link; HTML is never rendered by Streamlit's Markdown anyway.
    """
    return "".join(_NO_AUTOLINK.get(ch) or ("\\" + ch if ch in string.punctuation else ch) for ch in str(text))


def show_errors(exc) -> None:
    """Show a domain error's problems as plain text (never Markdown or HTML)."""
    problems = getattr(exc, "problems", None) or [str(exc)]
    st.error(f"Có {len(problems)} lỗi, chưa có gì được lưu:" if len(problems) > 1 else "Chưa lưu được:")
    st.code("\n".join(problems), language=None, wrap_lines=True)


def roles_caption(*roles: str) -> None:
    """Who the page is for (in Vietnamese), and the staff pages' small CSS (every staff page calls this)."""
    from sipas.admin.auth import ROLES

    st.html(STAFF_CSS)
    st.caption("Trang dành cho: " + "; ".join(ROLES[r] for r in roles))


def reauthenticate(conn, user, password: str, action: str):
    """The password typed again for a sensitive decision, as the proof the domain checks itself.

    No password typed: None (the domain refuses the decisions that need one, with its message); a wrong
    one: ``ValidationError("Mật khẩu không đúng.")`` for the page's usual error display.
    """
    from sipas.admin import auth

    if not password:
        return None
    return auth.reauthenticate(conn, user.username, password, action)


_leftovers_done: list[bool] = []


def remove_leftovers_once() -> None:
    """Once per process, at its first run: remove what a killed backup or restore left behind
    (``sipas.admin.leftovers``: only old files of the product's own names and shapes)."""
    if _leftovers_done:
        return
    _leftovers_done.append(True)
    from sipas.admin import leftovers

    leftovers.remove_leftovers_at_start(database_path())


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
    from sipas import clock, db
    from sipas.admin import backup, settings

    try:
        with db.session(path) as c:
            folder, keep = backup.configured_backup_dir(c), settings.get(c, "backup_keep")
        backup.auto_backup_if_due(path, folder, keep, clock.now())
        _backup_state["error"] = None
    except Exception as exc:  # reported to staff; a failed backup must never stop the app
        logging.getLogger("sipas.admin.backup").exception("daily backup failed")
        _backup_state["error"] = str(exc)
        _backup_state["day"] = None  # try again on a later run
    finally:
        _backup_lock.release()


def form2024_offer() -> None:
    """The one-time offer, on a database that surveys with an older form, to switch to the national
    form of SIPAS 2024 (sipas-2024); shown at the top of staff pages until someone answers it."""
    from sipas.admin import settings
    from sipas.catalog import version_label

    with conn() as c:
        if not settings.form2024_offer_pending(c):
            return
        active = settings.get(c, "active_questionnaire")
    with st.container(border=True):
        st.info(
            f"Phiếu đang dùng là {version_label(active)}. Từ SIPAS 2024, mẫu phiếu quốc gia có 16 nhận định "
            f"({version_label('sipas-2024')}). Chuyển sang mẫu mới từ hôm nay? Số liệu đã có giữ nguyên phiên bản "
            "cũ; so sánh với số liệu gốc năm 2023 đi qua bảng đối chiếu tiêu chí."
        )
        left, right = st.columns(2)
        left.button("Chuyển sang mẫu phiếu 2024–2026", key="form2024_switch", on_click=_answer_offer, args=(True,))
        right.button("Giữ phiếu đang dùng", key="form2024_keep", on_click=_answer_offer, args=(False,))


def _answer_offer(switch: bool) -> None:
    from sipas.admin import settings

    if not may_act(*STAFF_ROLES):
        return
    user, _ = resolve_user()
    with conn() as c:
        if settings.form2024_offer_pending(c):
            settings.answer_form2024_offer(c, switch, user.username)


# ------------------------------------------------------------------------------ display helpers


def recent_months(today, count: int = 24) -> list[str]:
    """``YYYY-MM`` of the current month and the ``count`` before it, newest first."""
    from sipas import clock

    return [clock.month_start(today, -back).strftime("%Y-%m") for back in range(count + 1)]


def vn_frame(frame, decimals: dict[str, int | str] | None = None, default: int | None = 2):
    """A table as a Vietnamese reader expects it: decimal comma, "—" for a missing value, "Có"/"Không"
    for flags, stored times, dates and months as dd/mm/yyyy hh:mm, dd/mm/yyyy and mm/yyyy. Numbers
    become text, so the table shows exactly what the PDF shows. ``default=None`` keeps each number's own
    decimals (up to 2: tables already rounded by the domain); ``"p"`` for a column of p-values
    ("< 0,001" below 0,001)."""
    import math

    import pandas as pd

    from sipas import clock

    decimals = decimals or {}
    out = pd.DataFrame(frame).copy()

    def cell(value, digits: int):
        if value is None or value is pd.NA or value is pd.NaT:
            return clock.DASH
        if isinstance(value, bool):
            return "Có" if value else "Không"
        if isinstance(value, int):
            return str(value)  # counts and ids: no thousands dot (a case number is not a quantity)
        if isinstance(value, float):
            if math.isnan(value):
                return clock.DASH
            if digits == "p":
                return clock.format_p(value)
            return clock.format_plain(value, 2) if digits is None else clock.format_number(value, digits)
        text = clock.format_stored(str(value))
        return text if text.strip() else clock.DASH

    for col in out.columns:
        digits = decimals.get(col, default)
        series = out[col]
        if pd.api.types.is_bool_dtype(series):
            out[col] = series.map(lambda v: "Có" if v else "Không")
        elif pd.api.types.is_integer_dtype(series):
            continue  # counts and ids: a whole number reads the same in both conventions
        else:
            out[col] = series.map(lambda v, d=digits: cell(v.item() if hasattr(v, "item") else v, d)).astype(object)
    return out


VALUE_KEYS = {
    "overall": "chung",
    "floor": "sàn",
    "days": "ngày",
    "periods": "giờ",
    "mode": "chế độ",
    "rotating": "số tiêu chí luân phiên",
    "default": "mặc định",
    "hours": "theo giờ",
    "fields": "theo lĩnh vực",
    "count": "số vụ việc",
    "months": "số tháng",
}


def readable_value(text) -> str:
    """A value from the change log (stored as JSON) in words: "chung: 87; sàn: 80", never raw JSON."""
    import json

    from sipas import clock

    if text is None or (isinstance(text, float) and text != text):
        return clock.DASH
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return str(text) or clock.DASH

    def words(v) -> str:
        if v is None:
            return clock.DASH
        if isinstance(v, bool):
            return "Có" if v else "Không"
        if isinstance(v, (int, float)):
            return clock.format_plain(v)
        if isinstance(v, dict):
            return "; ".join(f"{VALUE_KEYS.get(k, k)}: {words(x)}" for k, x in v.items()) or clock.DASH
        if isinstance(v, list):
            return ", ".join(words(x) for x in v) or clock.DASH
        return str(v)

    return words(value)


def rule_line(rule: str, ok: bool | None, detail: str | None) -> str:
    """One of the plan's three rules as a line of text: the verdict in words first (no emoji: a PC or
    tablet without an emoji font shows empty boxes, and the words are what the Chairman reads)."""
    if ok:
        return f"Đạt — {rule}"
    if ok is None:
        return f"Chưa kết luận — {rule}" + (f": {detail}" if detail else "")
    return f"Chưa đạt — {rule}" + (f": {detail}" if detail else "")
