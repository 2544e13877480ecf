"""Who may open which page, through AppTest: the real entry point (main_page.py, under app.py) and each page alone.

Access control is the page list given to ``st.navigation`` (a page not in it cannot run), plus a
role check at the top of every staff page (``ui.require_role``). The login goes through the real
form; session expiry and disabling are driven through the database, as they happen in production.
"""

from __future__ import annotations

import ast
import json
import time
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from conftest import own_password
from google.protobuf.json_format import MessageToJson
from streamlit.testing.v1 import AppTest

import ui
from sipas import clock, db
from sipas.admin import auth, roster, settings

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "main_page.py")
PW = "matkhau-dung-1"

NO_RIGHT = "Bạn không có quyền xem trang này."
BAD_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
EXPIRED = "Phiên làm việc đã hết hạn sau 30 phút không thao tác. Vui lòng đăng nhập lại."
ENDED = "Phiên làm việc đã kết thúc (đăng xuất, đổi mật khẩu hoặc tài khoản bị khóa)."
OUT_OF_ORDER = "Hệ thống khảo sát đang tạm dừng"
WELCOME = "Ông/Bà hài lòng với sự phục vụ hôm nay chứ?"
LOGIN_TITLE = "Cán bộ đăng nhập"
FIRST_START = "Thiết lập lần đầu"

# Staff page file → the title it shows.
STAFF_PAGES = {
    "overview.py": "Tổng quan chỉ số hài lòng",
    "data.py": "Nhập dữ liệu khảo sát",
    "baseline.py": "Số liệu gốc để so sánh",
    "settings.py": "Cài đặt",
    "accounts.py": "Tài khoản",
}
ALL_PAGES = sorted(p.name for p in (ROOT / "app_pages").glob("*.py") if not p.name.startswith("_"))


def page_roles(page: str) -> set[str] | None:
    """The roles a page's ``ui.require_role(...)`` guard admits (None: the page has no guard)."""
    tree = ast.parse((ROOT / "app_pages" / page).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "require_role":
            return {a.value for a in node.args}
    return None


# Every page but the public ones (survey, login, logout) is guarded; a new page is covered by default.
GUARDED_PAGES = [p for p in ALL_PAGES if page_roles(p) is not None]

# Values seeded into the database that no anonymous visitor may ever see.
SECRET_STAFF = "Phạm Thị Bí Mật"
SECRET_UNIT = "Đơn vị thử nghiệm Zeta-42"


# ------------------------------------------------------------------------------ helpers


pytestmark = pytest.mark.usefixtures("fast_argon2")  # conftest.py


@pytest.fixture
def users(conn):
    """An admin clerk (vanphong), a clerk without the admin right (thongke), the Chairman (chutich)."""
    admin = auth.create_user(conn, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    clerk = auth.create_user(conn, "thongke", PW, "clerk", full_name="Lê Văn Hùng", actor="vanphong")
    chairman = auth.create_user(conn, "chutich", PW, "chairman", full_name="Võ Minh Tâm", actor="vanphong")
    for name in ("thongke", "chutich"):
        own_password(conn, name, PW)
    return admin, clerk, chairman


@pytest.fixture
def secrets_seeded(conn):
    roster.save_member(conn, {"code": "CB07", "full_name": SECRET_STAFF, "active_from": date(2024, 1, 2)}, "test")
    settings.put(conn, "unit_name", SECRET_UNIT, "test")


def new_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def registered(at: AppTest) -> list[str]:
    """File names of the pages this run passed to st.navigation (AppTest's own registry)."""
    return sorted(Path(str(info["script_path"])).name for info in at._registered_pages.values())


def pages_that_run(at: AppTest) -> list[str]:
    """The registered pages but the Vietnamese not-found page (registered at the addresses left out)."""
    return [p for p in registered(at) if p != "not_found.py"]


def open_address(at: AppTest, path: str) -> AppTest:
    """What typing http://host/<path> (a bookmark) asks for: the page registered at that address."""
    (page_hash,) = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == path]
    at._page_hash = page_hash  # what the browser's address resolves to (AppTest has no public call for it)
    return run(at)


def kiosk_data(at: AppTest) -> dict | None:
    """The data the survey component (the whole tablet screen, drawn in the browser) was given."""
    for n in at._tree:
        if getattr(n, "type", None) == "bidi_component" and n.proto.WhichOneof("data") == "json":
            data = json.loads(n.proto.json)
            if isinstance(data, dict) and "texts" in data:
                return data
    return None


# What an anonymous visitor's survey page is inside Streamlit: the way to the tablet's own app (tablet_web.py),
# which draws the welcome screen.
TO_TABLET = "→ /tablet/"


def titles(at: AppTest) -> list[str]:
    """Page titles; the staff preview's welcome title is drawn by its component, from the data it is given;
    a visitor's survey page leads to the tablet's own app (``TO_TABLET``)."""
    found = [t.value for t in at.title]
    data = kiosk_data(at)
    if data is not None:
        found.append(data["texts"]["welcome_title"])
    if any("](/tablet/)" in m.value for m in at.markdown):
        found.append(TO_TABLET)
    return found


def login_links(at: AppTest) -> list[str]:
    links = [link.label for link in at.page_link]
    data = kiosk_data(at)
    if data is not None and data["login"]:
        links.append(data["texts"]["login"])
    return links


def all_text(at: AppTest) -> str:
    """Every element's content as text (protobuf JSON, non-ASCII kept)."""
    return "\n".join(
        MessageToJson(n.proto, ensure_ascii=False) for n in at._tree if getattr(n, "proto", None) is not None
    )


def login_form(at: AppTest, username: str, password: str) -> AppTest:
    """Open the login page, type into the real form, press Đăng nhập."""
    at.switch_page("app_pages/login.py")
    run(at)
    assert titles(at) == [LOGIN_TITLE]
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(password)
    (submit,) = [b for b in at.button if b.label == "Đăng nhập"]
    submit.click()
    return run(at)


def logged_in_as(at: AppTest, username: str) -> AppTest:
    """Log in through the form and check the overview is shown."""
    run(at)
    login_form(at, username, PW)
    assert titles(at) == [STAFF_PAGES["overview.py"]], [e.value for e in at.error]
    return at


def assert_anonymous(at: AppTest) -> None:
    for page in STAFF_PAGES:
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{page}")


# ------------------------------------------------------------------------------ anonymous visitors


def test_an_anonymous_visitor_gets_only_the_survey_and_the_login(db_file, users):
    at = run(new_app())
    assert pages_that_run(at) == ["kiosk.py", "login.py"]
    assert titles(at) == [TO_TABLET]
    # The staff link is on the tablet app's page for such a browser (tests/test_tablet_web.py); the login
    # page itself is one this visitor may open.
    assert login_links(at) == []
    for page in [*STAFF_PAGES, "logout.py"]:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}")


@pytest.mark.parametrize("query", [{"kiosk": "1"}, {"device": "quay1"}])
def test_a_locked_counter_tablet_cannot_reach_the_login_either(conn, users, query):
    settings.put(conn, "kiosk_devices", ["quay1"], "vanphong")
    at = run(new_app(**query))
    assert pages_that_run(at) == ["kiosk.py"]
    assert titles(at) == [TO_TABLET]
    assert login_links(at) == []
    for page in [*STAFF_PAGES, "login.py", "logout.py"]:
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{page}")


def test_a_tablet_name_that_is_not_listed_is_not_locked(conn, users):
    settings.put(conn, "kiosk_devices", ["quay1"], "vanphong")
    at = run(new_app(device="quay9"))
    assert pages_that_run(at) == ["kiosk.py", "login.py"]


# ------------------------------------------------------------------------------ addresses left out

NOT_FOUND_TITLE = "Không mở được trang này"
NOT_FOUND = "Trang này không có hoặc Ông/Bà không có quyền mở."


@pytest.mark.parametrize("path", ["overview", "analysis", "chairman", "accounts", "logout", "setup"])
def test_a_bookmark_of_a_staff_page_without_a_session_says_so_in_vietnamese(db_file, users, secrets_seeded, path):
    at = open_address(run(new_app()), path)
    assert titles(at) == [NOT_FOUND_TITLE]
    assert [w.value for w in at.warning] == [NOT_FOUND]
    assert [link.label for link in at.page_link] == [LOGIN_TITLE, "Về màn hình khảo sát"]
    text = all_text(at)
    assert SECRET_STAFF not in text and SECRET_UNIT not in text  # the staff page did not run
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"app_pages/{path}.py" if path != "setup" else "app_pages/setup.py")


def test_a_locked_tablet_typing_a_staff_address_gets_no_way_to_the_login(conn, users):
    settings.put(conn, "kiosk_devices", ["quay1"], "vanphong")
    at = open_address(run(new_app(device="quay1")), "login")
    assert titles(at) == [NOT_FOUND_TITLE]
    assert [link.label for link in at.page_link] == ["Về màn hình khảo sát"]


def test_the_clerk_opening_the_chairmans_address_gets_the_vietnamese_page_not_his_queue(db_file, users):
    at = logged_in_as(new_app(), "thongke")
    open_address(at, "chairman")
    assert titles(at) == [NOT_FOUND_TITLE]
    assert [w.value for w in at.warning] == [NOT_FOUND]
    assert "Mời chọn một trang trong danh mục bên trái." in [m.value for m in at.markdown]
    with pytest.raises(ValueError):
        at.switch_page("app_pages/chairman.py")
    open_address(at, "data")  # his own pages still open by address
    assert titles(at) == [STAFF_PAGES["data.py"]]


# ------------------------------------------------------------------------------ logging in


def test_a_clerk_logs_in_through_the_form_and_reaches_every_staff_page(db_file, users):
    at = logged_in_as(new_app(), "thongke")
    assert "logout.py" in registered(at)
    for page, title in STAFF_PAGES.items():
        at.switch_page(f"app_pages/{page}")
        run(at)
        assert titles(at) == [title], page
        assert NO_RIGHT not in [w.value for w in at.warning]


def test_a_wrong_password_shows_the_message_and_stays_anonymous(conn, users):
    at = run(new_app())
    login_form(at, "thongke", "sai-mat-khau")
    assert [e.value for e in at.error] == [BAD_LOGIN]
    assert titles(at) == [LOGIN_TITLE]
    assert at.text_input(key="login_password").value == ""  # the password does not linger
    assert_anonymous(at)
    login_form(at, "khongco", "sai-mat-khau")
    assert [e.value for e in at.error] == [BAD_LOGIN]
    assert conn.execute("SELECT count(*) FROM staff_sessions").fetchone()[0] == 0


def test_first_start_with_no_account_creates_the_admin_and_logs_in(conn):
    at = run(new_app())
    at.switch_page("app_pages/login.py")
    run(at)
    assert titles(at) == [FIRST_START]
    # AppTest has no request address: the page asks for the code printed in the server console.
    at.text_input(key="first_code").input(ui.setup_code())
    at.text_input(key="first_user").input("vanphong")
    at.text_input(key="first_name").input("Nguyễn Thị Lan")
    at.selectbox(key="first_role").set_value("chairman")
    at.text_input(key="first_password").input(PW)
    at.text_input(key="first_password2").input(PW + "x")
    (create,) = [b for b in at.button if b.label == "Tạo tài khoản quản trị"]
    create.click()
    run(at)
    assert [e.value for e in at.error] == ["Hai lần nhập mật khẩu không khớp."]
    assert db.count_users(conn) == 0
    at.text_input(key="first_password").input(PW)
    at.text_input(key="first_password2").input(PW)
    (create,) = [b for b in at.button if b.label == "Tạo tài khoản quản trị"]
    create.click()
    run(at)
    assert titles(at) == ["Việc chờ Chủ tịch quyết định"]  # a Chairman lands on what awaits him
    assert db.list_users(conn) == [
        {
            **db.list_users(conn)[0],
            "username": "vanphong",
            "full_name": "Nguyễn Thị Lan",
            "role": "chairman",
            "is_admin": 1,
            "active": 1,
        }
    ]
    # The first-start form is gone once an account exists, for everyone.
    other = run(new_app())
    other.switch_page("app_pages/login.py")
    run(other)
    assert titles(other) == [LOGIN_TITLE]


# ------------------------------------------------------------------------------ sessions end


def test_after_30_idle_minutes_the_next_rerun_is_anonymous_again(conn, users):
    at = logged_in_as(new_app(), "thongke")
    conn.execute("UPDATE staff_sessions SET last_seen = ?", (time.time() - 31 * 60,))
    run(at)
    assert titles(at) == [LOGIN_TITLE]
    assert [i.value for i in at.info] == [EXPIRED]
    assert STAFF_PAGES["overview.py"] not in all_text(at)
    assert_anonymous(at)
    assert conn.execute("SELECT end_reason FROM staff_sessions").fetchone()[0] == "timeout"


def test_disabling_the_account_ends_its_session_at_the_next_rerun(conn, users):
    at = logged_in_as(new_app(), "thongke")
    at.switch_page("app_pages/settings.py")
    run(at)
    assert titles(at) == [STAFF_PAGES["settings.py"]]
    auth.set_active(conn, "thongke", False, "vanphong")
    run(at)
    assert titles(at) == [LOGIN_TITLE]
    assert [i.value for i in at.info] == [ENDED]
    assert_anonymous(at)


def test_the_logout_page_ends_the_session_in_the_database(conn, users):
    at = logged_in_as(new_app(), "thongke")
    at.switch_page("app_pages/logout.py")
    run(at)
    assert titles(at) == [LOGIN_TITLE]
    assert_anonymous(at)
    assert conn.execute("SELECT end_reason FROM staff_sessions").fetchone()[0] == "logout"


# ------------------------------------------------------------------------------ page files run alone


def page_alone(page: str, token: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=30)
    if token is not None:
        at.session_state[ui_token_key()] = token
    return run(at)


def ui_token_key() -> str:
    import ui

    return ui.TOKEN_KEY


@pytest.mark.parametrize("page", GUARDED_PAGES)
def test_a_staff_page_run_without_a_live_session_shows_nothing(conn, users, secrets_seeded, page):
    logged_out = auth.start_session(conn, users[1])
    auth.logout(conn, logged_out)
    for token in (None, "khong-phai-phien-that", logged_out):
        at = page_alone(page, token)
        assert [w.value for w in at.warning] == [NO_RIGHT], token
        assert titles(at) == []
        assert list(at.dataframe) == [] and list(at.metric) == [] and list(at.text_input) == []
        text = all_text(at)
        for secret in (SECRET_STAFF, SECRET_UNIT, "vanphong", "thongke", "chutich", *STAFF_PAGES.values()):
            assert secret not in text


def test_the_admin_part_of_accounts_is_not_shown_to_a_clerk_without_the_admin_right(conn, users):
    at = page_alone("accounts.py", auth.start_session(conn, users[1]))
    assert titles(at) == ["Tài khoản"]
    assert [s.value for s in at.subheader] == ["Đổi mật khẩu của tôi"]
    assert list(at.dataframe) == []
    assert [t.key for t in at.text_input] == ["pw_old", "pw_new", "pw_new2"]
    assert "vanphong" not in all_text(at)
    # The admin sees the account list and the management forms.
    admin = page_alone("accounts.py", auth.start_session(conn, users[0]))
    assert [s.value for s in admin.subheader] == ["Đổi mật khẩu của tôi", "Quản lý tài khoản"]
    assert len(admin.dataframe) == 1
    assert list(admin.dataframe[0].value["Tên đăng nhập"]) == ["chutich", "thongke", "vanphong"]
    assert {"new_user", "new_pw", "manage_pw"} <= {t.key for t in admin.text_input}


# ------------------------------------------------------------------------------ audit through a page


def test_changing_the_unit_name_on_the_settings_page_writes_the_audit_log(conn, users):
    at = logged_in_as(new_app(), "thongke")
    at.switch_page("app_pages/settings.py")
    run(at)
    at.text_input(key="unit_name").input("Trung tâm Phục vụ hành chính công xã Vạn Phước")
    at.date_input(key="unit_from").set_value(date(2025, 7, 1))
    (save,) = [b for b in at.button if b.label == "Lưu tên đơn vị và nơi nhận"]
    save.click()
    run(at)
    assert [s.value for s in at.success] == ["Đã lưu.", "Đã lưu."]
    rows = [
        tuple(r)
        for r in conn.execute(
            "SELECT actor, action, entity, old_value, new_value FROM audit_log "
            "WHERE entity LIKE 'unit_name@%' ORDER BY id"
        )
    ]
    # The old value is the name in force before (here the shipped name of that date).
    assert rows == [
        (
            "thongke",
            "setting",
            "unit_name@2025-07-01",
            json.dumps(settings.default_for("unit_name", "2025-07-01"), ensure_ascii=False),
            '"Trung tâm Phục vụ hành chính công xã Vạn Phước"',
        )
    ]
    assert settings.get(conn, "unit_name", date(2025, 6, 30)) == settings.DEFAULTS["unit_name"]
    assert settings.get(conn, "unit_name", date(2025, 7, 1)) == "Trung tâm Phục vụ hành chính công xã Vạn Phước"


def test_targets_on_the_settings_page_apply_from_the_date_given_never_before_this_month(conn, users):
    at = logged_in_as(new_app(), "thongke")
    at.switch_page("app_pages/settings.py")
    run(at)
    first = clock.month_start(clock.today())
    assert at.date_input(key="targets_from").value == first
    assert at.date_input(key="targets_from").proto.min == first.isoformat()
    at.date_input(key="targets_from").set_value(clock.month_start(first, 1))
    at.number_input(key="target_overall").set_value(92.0)
    (save,) = [b for b in at.button if b.label == "Lưu chỉ tiêu và mức xếp loại"]
    save.click()
    run(at)
    assert [s.value for s in at.success] == ["Đã lưu.", "Đã lưu."]
    rows = [(r["valid_from"], json.loads(r["value"])) for r in db.get_setting_rows(conn, "targets")]
    assert rows == [(clock.month_start(first, 1).isoformat(), {"overall": 92.0, "floor": 80.0})]
    assert settings.get(conn, "targets", first) == settings.DEFAULTS["targets"]


def test_an_invalid_opening_hours_entry_on_the_settings_page_is_refused(conn, users):
    at = logged_in_as(new_app(), "thongke")
    at.switch_page("app_pages/settings.py")
    run(at)
    before = settings.get(conn, "opening_hours")
    at.text_input(key="hours_periods").input("07:00-25:00")
    (save,) = [b for b in at.button if b.label == "Lưu" and "hours" in str(b.proto.form_id)]
    save.click()
    run(at)
    assert "Ca 1: giờ phải có dạng HH:MM (ví dụ 07:00)." in [c.value for c in at.code]
    assert settings.get(conn, "opening_hours") == before


def test_the_typed_baseline_table_names_the_rows_the_clerk_sees_and_saves(conn, users):
    at = new_app()
    at.session_state[ui_token_key()] = auth.start_session(conn, users[1])
    run(at)
    at.switch_page("app_pages/baseline.py")
    run(at)
    # The template: row 1 overall, rows 2–6 elements 1–5 (header = row 1 as in a spreadsheet).
    # Rows left without an index are not saved, and must not shift the numbers of the others.
    at.session_state["baseline_editor"] = {
        "edited_rows": {2: {"index": 85.0}, 4: {"code": "6", "index": 70.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    (save,) = [b for b in at.button if b.label == "Lưu bảng"]
    save.click()
    run(at)
    assert [c.value for c in at.code] == ['Dòng 6, cột code: yếu tố "6" không có trong phiếu sipas-2023 (nhận 1–5).']
    assert db.baseline_rows(conn) == []
    at.session_state["baseline_editor"] = {
        "edited_rows": {0: {"index": 86.4}, 2: {"index": 85.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    (save,) = [b for b in at.button if b.label == "Lưu bảng"]
    save.click()
    run(at)
    assert [s.value for s in at.success] == ["Đã lưu 2 chỉ số gốc từ bảng nhập tay: 2023 (sipas-2023)."]
    assert [(r["level"], r["code"], r["index_value"], r["source"]) for r in db.baseline_rows(conn)] == [
        ("overall", "", 86.4, "manual"),
        ("element", "2", 85.0, "manual"),
    ]


# ------------------------------------------------------------------------------ smoke

SMOKE = [(p, "clerk") for p in ALL_PAGES] + [(p, "chairman") for p in GUARDED_PAGES if "clerk" not in page_roles(p)]


@pytest.mark.parametrize(("page", "role"), SMOKE)
def test_every_page_runs_without_an_exception_for_a_logged_in_user(conn, users, page, role):
    user = {"clerk": users[1], "chairman": users[2]}[role]
    at = new_app()
    at.session_state[ui_token_key()] = auth.start_session(conn, user)
    run(at)
    if page == "login.py":
        # A logged-in user has no login page (/login leads to the overview).
        with pytest.raises(ValueError):
            at.switch_page("app_pages/login.py")
        return
    if page in registered(at):
        at.switch_page(f"app_pages/{page}")
        run(at)
    else:
        # Not in this role's menu: the page file run with this session must still not fail, and
        # must refuse a role it does not admit.
        at = page_alone(page, auth.start_session(conn, user))
    assert not any(OUT_OF_ORDER in i.value for i in at.info), [i.value for i in at.info]
    assert [e.value for e in at.error] == []
    roles = page_roles(page)
    if roles is not None and role not in roles:
        assert [w.value for w in at.warning] == [NO_RIGHT]
        assert titles(at) == []
        return
    assert NO_RIGHT not in [w.value for w in at.warning]
    if page in STAFF_PAGES:
        assert titles(at) == [STAFF_PAGES[page]]


def test_first_start_from_another_machine_needs_the_console_code(conn):
    at = run(new_app())
    at.switch_page("app_pages/login.py")
    run(at)
    assert titles(at) == [FIRST_START]
    at.text_input(key="first_code").input("00000000" if ui.setup_code() != "00000000" else "11111111")
    at.text_input(key="first_user").input("khach")
    at.text_input(key="first_password").input(PW)
    at.text_input(key="first_password2").input(PW)
    (create,) = [b for b in at.button if b.label == "Tạo tài khoản quản trị"]
    create.click()
    run(at)
    from sipas.admin import first_start

    assert [e.value for e in at.error] == [first_start.WRONG_CODE]
    assert db.count_users(conn) == 0


def test_a_missing_database_folder_is_told_in_vietnamese_at_login(tmp_path, monkeypatch):
    from sipas import faults

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("SIPAS_DB", str(blocker / "sipas.db"))  # its folder cannot exist
    at = run(new_app())
    at.switch_page("app_pages/login.py")
    run(at)
    assert not at.exception
    assert [e.value for e in at.error] == [faults.MISSING]


def test_a_full_disk_is_told_in_vietnamese_at_login(small_disk, monkeypatch):
    from sipas import faults

    path = small_disk / "sipas.db"
    monkeypatch.setenv("SIPAS_DB", str(path))
    with closing(db.open_db(path)) as c:
        auth.create_user(c, "vanphong", PW, "clerk", first_admin=True)
        db.checkpoint(c)
    at = run(new_app())
    at.switch_page("app_pages/login.py")
    run(at)
    filler = small_disk / "filler"  # the disk fills up while the login form is open
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    at.text_input(key="login_user").input("vanphong")
    at.text_input(key="login_password").input("sai-mat-khau")
    (submit,) = [b for b in at.button if b.label == "Đăng nhập"]
    submit.click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [faults.DISK_FULL]


def test_the_data_page_offers_every_template_as_csv_and_excel(db_file, users):
    at = logged_in_as(new_app(), "thongke")
    at.switch_page("app_pages/data.py")
    run(at)
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        f"{label}: mẫu {fmt}"
        for label in ("Phiếu khảo sát", "Số liệu gốc (trang Số liệu gốc)", "Lượt lấy số (trang Thời gian chờ)")
        for fmt in ("CSV", "Excel")
    ]


# ------------------------------------------------------------------------------ issue 20 item 7


def _sidebar_text(at: AppTest) -> list[str]:
    return [m.value for m in at.sidebar.markdown]


def test_a_password_set_by_someone_else_must_be_changed_at_first_login_then_the_chairman_lands_on_his_queue(
    db_file, conn
):
    auth.create_user(conn, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    auth.create_user(conn, "chutich", PW, "chairman", full_name="Võ Minh Tâm", actor="vanphong")
    assert auth.must_change_password(conn, "chutich") and not auth.must_change_password(conn, "vanphong")
    at = run(new_app())
    login_form(at, "chutich", PW)
    assert titles(at) == ["Đặt mật khẩu mới"]
    for page in ("chairman.py", "cases.py", "accounts.py"):  # every staff address leads to the change
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{page}")
    at.text_input(key="own_current").input("sai-mat-khau")
    at.text_input(key="own_new").input("mat-khau-rieng-2026")
    at.text_input(key="own_new2").input("mat-khau-rieng-2026")
    next(b for b in at.button if b.label == "Đặt mật khẩu mới").click()
    run(at)
    assert [c.value for c in at.code] == ["Mật khẩu hiện tại không đúng."]
    assert auth.must_change_password(conn, "chutich")
    at.text_input(key="own_current").input(PW)
    at.text_input(key="own_new").input(PW)
    at.text_input(key="own_new2").input(PW)
    next(b for b in at.button if b.label == "Đặt mật khẩu mới").click()
    run(at)
    assert [c.value for c in at.code] == ["Mật khẩu mới phải khác mật khẩu do người khác đặt."]
    at.text_input(key="own_current").input(PW)
    at.text_input(key="own_new").input("mat-khau-rieng-2026")
    at.text_input(key="own_new2").input("mat-khau-rieng-2026")
    next(b for b in at.button if b.label == "Đặt mật khẩu mới").click()
    run(at)
    assert titles(at) == ["Việc chờ Chủ tịch quyết định"]  # he lands on his queue
    assert not auth.must_change_password(conn, "chutich")
    assert auth.verify_password(conn, "chutich", "mat-khau-rieng-2026")
    assert "Không có việc nào đang chờ." in _sidebar_text(at)
    # An administrator's reset makes the change due again.
    auth.set_password(conn, "chutich", "mat-khau-tam-2026", "vanphong")
    assert auth.must_change_password(conn, "chutich")


def test_every_staff_page_shows_what_waits_for_the_person_logged_in(db_file, conn, users):
    from sipas.cases import workflow

    clerk = workflow.Actor("thongke", "clerk")
    chair = workflow.Actor("chutich", "chairman")
    a = workflow.open_case(conn, clerk, case_type="procedure", origin="clerk", channel="hotline", title="Hồ sơ chậm")
    workflow.open_case(conn, clerk, case_type="facilities", origin="clerk", channel="hotline", title="Thiếu ghế")
    workflow.transition(conn, a, "verifying", clerk)
    workflow.transition(conn, a, "founded", clerk)
    workflow.transition(conn, a, "measure", clerk, root_cause="Thiếu người", measure="training")
    # The clerk owes the next step on one case (the other waits for the Chairman's approval).
    at = logged_in_as(new_app(), "thongke")
    for page in STAFF_PAGES:
        at.switch_page(f"app_pages/{page}")
        run(at)
        assert "**Đang chờ Lê Văn Hùng: 1 việc** (Phản ánh và khắc phục)" in _sidebar_text(at), page
    at = run(new_app())
    login_form(at, "chutich", PW)
    assert titles(at) == ["Việc chờ Chủ tịch quyết định"]
    assert "**Đang chờ Võ Minh Tâm: 1 việc** (Việc chờ Chủ tịch)" in _sidebar_text(at)
    workflow.transition(conn, a, "awaiting_effect", chair)
    at.switch_page("app_pages/overview.py")
    run(at)
    assert "Không có việc nào đang chờ." in _sidebar_text(at)


def test_a_tablet_added_in_the_settings_is_locked_without_listing_its_name(conn, users):
    """A tablet added under Cài đặt → Máy khảo sát đã đăng ký (even one whose link is not yet opened, or a
    revoked one: a lost tablet is no staff computer) is locked to the survey by its ?device= name alone."""
    from sipas import clock
    from sipas.survey import devices

    devices.add(conn, "quay2", now=clock.now(), actor="vanphong")
    devices.add(conn, "quay3", now=clock.now(), actor="vanphong")
    devices.revoke(conn, "quay3", now=clock.now(), actor="vanphong")
    assert settings.get(conn, "kiosk_devices") == []
    for name in ("quay2", "quay3"):
        at = open_address(run(new_app(device=name)), "login")
        assert titles(at) == [NOT_FOUND_TITLE]
        assert [link.label for link in at.page_link] == ["Về màn hình khảo sát"]
    at = run(new_app(device="quay9"))
    assert pages_that_run(at) == ["kiosk.py", "login.py"]
