"""The pages' script (served by app.py's st.App): page config and the pages this visitor's role may see.

Access control is the page list itself: a page that is not passed to ``st.navigation`` for this
role cannot run (Streamlit falls back to the default page, the survey). Every staff page also
checks the role again (``ui.require_role``).
"""

import sqlite3

import streamlit as st

import ui
from sipas.admin import settings
from sipas.catalog import questionnaires, survey_options
from sipas.catalog.crosswalk import crosswalks
from sipas.errors import CatalogError
from sipas.survey import devices as tablet_devices

user, reason = ui.resolve_user()

# The tablet gets one narrow column; staff pages use the width of an office screen.
st.set_page_config(
    page_title="Khảo sát mức độ hài lòng",
    page_icon="🙂",
    layout="centered" if user is None else "wide",
    initial_sidebar_state="auto",
)
ui.remove_leftovers_once()
ui.daily_backup(user)
ui.sync_session_cookie()
if user is not None:
    ui.staff_style()
else:
    ui.streamlit_in_vietnamese()  # the login page's own hints too

# The questionnaire files are checked at start: a broken file is named to staff (with the entry);
# the tablet shows only its "out of service" notice.
try:
    questionnaires()
    survey_options()
    crosswalks()
except CatalogError as exc:
    if user is not None:
        st.error(f"Tệp câu hỏi bị lỗi, cần sửa trước khi dùng: {exc}")

# A counter tablet is locked to the survey: by ?kiosk=1 in its address, or by its ?device= name, when
# that is a tablet added in Cài đặt (enrolled or waiting for its link, not revoked) or one of the names of
# the older setting kiosk_devices. It then has no way to the login page at all.
if st.query_params.get("kiosk") == "1":
    st.session_state["kiosk_device"] = True
device = st.query_params.get("device")
if device and "kiosk_device" not in st.session_state:
    with ui.conn() as c:
        st.session_state["kiosk_device"] = tablet_devices.is_counter_tablet(c, device)
locked = bool(st.session_state.get("kiosk_device"))

STAFF_PATHS = (
    "overview",
    "analysis",
    "cases",
    "chairman",
    "waiting",
    "data",
    "baseline",
    "settings",
    "backup",
    "accounts",
    "logout",
)


# Every address the product answers somewhere: the ones a visitor's role leaves out lead to the not-found page.
KNOWN_PATHS = (*STAFF_PATHS, "login", "setup", "password", "kiosk")


def with_not_found(pages: list) -> list:
    """``pages`` plus the Vietnamese not-found page (hidden) at every known address they leave out and at
    the one asked for: never Streamlit's English "Page not found" box. The pages left out still cannot run."""
    taken = {p._url_path for p in pages}  # the path hashed by st.navigation (the default page's too)
    wanted = ui.requested_path()
    missing = [p for p in dict.fromkeys((*KNOWN_PATHS, wanted)) if p and p not in taken]
    return pages + [
        st.Page("app_pages/not_found.py", title="Không mở được trang này", url_path=p, visibility="hidden")
        for p in missing
    ]


def _unit_confirmed() -> bool:
    with ui.conn() as c:
        return settings.unit_confirmed(c)


def _must_change_password() -> bool:
    from sipas.admin import auth

    with ui.conn() as c:
        return auth.must_change_password(c, user.username)


def _waiting_line() -> None:
    """On every staff page: how many things wait for the person logged in."""
    from sipas.cases import queue

    with ui.conn() as c:
        n = queue.waiting_count(c, user.role)
    where = "Việc chờ Chủ tịch" if user.role == "chairman" else "Phản ánh và khắc phục"
    st.sidebar.markdown(f"**Đang chờ {user.display_name}: {n} việc** ({where})" if n else "Không có việc nào đang chờ.")


kiosk = st.Page(
    "app_pages/kiosk.py",
    title="Khảo sát",
    icon=":material/sentiment_satisfied:",
    url_path="kiosk",
    default=user is None,
)
login = st.Page("app_pages/login.py", title="Cán bộ đăng nhập", icon=":material/key:", url_path="login")
st.session_state["login_page"] = login if user is None and not locked else None
st.session_state["survey_page"] = kiosk if user is None else None

if user is None:
    pages = [kiosk] if locked else [kiosk, login]
    if st.session_state.get("was_staff") and not locked:
        # This browser was logged in: its staff addresses now lead to the login form, not a
        # "page not found" box. A visitor who never logged in still gets the survey.
        for path in STAFF_PATHS:
            pages.append(st.Page("app_pages/login.py", title="Cán bộ đăng nhập", url_path=path, visibility="hidden"))
    st.navigation(with_not_found(pages), position="hidden").run()
elif _must_change_password():
    # The password was set by someone else (account created or reset by an administrator): its owner sets
    # a new one before anything else; every staff address leads here until then.
    st.session_state["was_staff"] = True
    own = "app_pages/change_password.py"
    pages = [st.Page(own, title="Đặt mật khẩu mới", icon=":material/key:", url_path="password", default=True)]
    pages += [st.Page(own, url_path=p, visibility="hidden") for p in (*STAFF_PATHS[:-1], "login", "setup")]
    pages.append(st.Page("app_pages/logout.py", title="Đăng xuất", icon=":material/logout:", url_path="logout"))
    st.navigation(with_not_found(pages), position="sidebar").run()
elif not (st.session_state.get("unit_confirmed") or _unit_confirmed()):
    # The first staff login: confirm the unit's names before anything else (every staff address
    # leads here until then; the tablet keeps working on the shipped names).
    st.session_state["was_staff"] = True
    setup = "app_pages/setup.py"
    pages = [
        st.Page(setup, title="Xác nhận thông tin đơn vị", icon=":material/apartment:", url_path="setup", default=True)
    ]
    pages += [st.Page(setup, url_path=p, visibility="hidden") for p in (*STAFF_PATHS[:-1], "login")]
    pages.append(st.Page("app_pages/logout.py", title="Đăng xuất", icon=":material/logout:", url_path="logout"))
    st.navigation(with_not_found(pages), position="sidebar").run()
else:
    st.session_state["was_staff"] = True
    st.session_state["unit_confirmed"] = True
    ui.form2024_offer()
    is_chairman = user.role == "chairman"  # he lands on what awaits him
    overview = st.Page(
        "app_pages/overview.py",
        title="Tổng quan",
        icon=":material/dashboard:",
        url_path="overview",
        default=not is_chairman,
    )
    analysis = st.Page(
        "app_pages/analysis.py", title="Phân tích chi tiết", icon=":material/query_stats:", url_path="analysis"
    )
    cases = st.Page("app_pages/cases.py", title="Phản ánh và khắc phục", icon=":material/assignment:", url_path="cases")
    chairman = st.Page(
        "app_pages/chairman.py",
        title="Việc chờ Chủ tịch",
        icon=":material/account_balance:",
        url_path="chairman",
        default=is_chairman,
    )
    backup = st.Page("app_pages/backup.py", title="Sao lưu", icon=":material/backup:", url_path="backup")
    waiting = st.Page(
        "app_pages/waiting.py", title="Thời gian chờ và nhân lực", icon=":material/schedule:", url_path="waiting"
    )
    data = st.Page("app_pages/data.py", title="Nhập dữ liệu", icon=":material/upload_file:", url_path="data")
    baseline = st.Page("app_pages/baseline.py", title="Số liệu gốc", icon=":material/push_pin:", url_path="baseline")
    settings_page = st.Page("app_pages/settings.py", title="Cài đặt", icon=":material/settings:", url_path="settings")
    accounts = st.Page("app_pages/accounts.py", title="Tài khoản", icon=":material/group:", url_path="accounts")
    logout = st.Page("app_pages/logout.py", title="Đăng xuất", icon=":material/logout:", url_path="logout")
    survey = st.Page("app_pages/kiosk.py", title="Xem màn hình khảo sát", icon=":material/tablet:", url_path="kiosk")
    # After logging in, the address is still /login (after confirming the unit /setup, after a new
    # password /password): lead it to the overview (the Chairman to his queue), not to "not found".
    landing = ("app_pages/chairman.py", "Việc chờ Chủ tịch") if is_chairman else ("app_pages/overview.py", "Tổng quan")
    after_login, *after_steps = (
        st.Page(landing[0], title=landing[1], url_path=path, visibility="hidden")
        for path in ("login", "setup", "password")
    )
    sections = {
        "Phân tích": [overview, analysis],
        "Khắc phục": [chairman, cases, waiting] if user.role == "chairman" else [cases, waiting],
        "Dữ liệu": [data, baseline, settings_page, backup],
        "Tài khoản": [accounts, survey, logout],
    }
    try:
        listed = [p for section in sections.values() for p in section]
        hidden = with_not_found([*listed, after_login, *after_steps])[len(listed) :]
        nav = st.navigation({**sections, "": hidden}, position="sidebar")
        _waiting_line()
        nav.run()
    except (sqlite3.Error, OSError) as exc:  # never Streamlit's English error box or a traceback
        if not ui.show_fault(exc):
            raise
