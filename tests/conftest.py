"""Shared fixtures: a fresh database file per test, pointed to by SIPAS_DB."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sipas import db  # noqa: E402


@pytest.fixture
def db_file(tmp_path, monkeypatch) -> Path:
    """Path of a new, migrated database; SIPAS_DB points at it (the app and CLI use it)."""
    path = tmp_path / "sipas.db"
    monkeypatch.setenv("SIPAS_DB", str(path))
    always_open(path)
    return path


def always_open(path) -> None:
    """Migrate the database at ``path`` and open the counter around the clock, so that tests do not
    depend on the hour they run at (the closed screen has tests of its own).

    The suite's data is on the 2022–2023 form (sipas-2023, the default before sipas-2024): it stays
    the active version here; the tests of the new default (tests/test_form2024.py) open their own file."""
    from sipas.admin import settings

    c = db.open_db(path)
    try:
        settings.put(c, "opening_hours", {"days": list(range(7)), "periods": [["00:00", "24:00"]]}, "test")
        settings.put(c, "active_questionnaire", "sipas-2023", "test")
        settings.put(c, "form2024_offer", "kept", "test")
        confirm_names(c)
    finally:
        c.close()


PW = "matkhau-dung-1"  # the staff password of the test accounts


@pytest.fixture
def fast_argon2(monkeypatch):
    """Cheap argon2 parameters for the accounts a test creates and logs in with (an app under AppTest runs
    in this process, so it uses them too); test_auth.py checks the real hash. Used per module with
    ``pytestmark = pytest.mark.usefixtures("fast_argon2")``."""
    from argon2 import PasswordHasher

    from sipas.admin import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def clerk(conn):
    """The first account: a clerk (thongke, admin by being first), password ``PW``."""
    from sipas.admin import auth

    return auth.create_user(conn, "thongke", PW, "clerk", full_name="Lê Văn Hùng", first_admin=True)


@pytest.fixture
def chairman(conn, clerk):
    """The Chairman (chutich), created by the clerk, password ``PW``."""
    from sipas.admin import auth

    user = auth.create_user(conn, "chutich", PW, "chairman", full_name="Võ Minh Tâm", actor="thongke")
    own_password(conn, "chutich")
    return user


def own_password(conn, username: str, password: str = PW) -> None:
    """The account's owner has set their own password (the forced first change has tests of its own)."""
    from sipas.admin import auth

    auth.set_password(conn, username, password, username)


def confirm_names(c) -> None:
    """Staff have confirmed the shipped names (the first-login step has tests of its own)."""
    from sipas.admin import settings

    names = {key: settings.get(c, key) for key in settings.UNIT_KEYS}
    settings.put(c, "unit_confirmed", {"by": "test", "at": "2024-01-02 08:00:00", **names}, "test")


@pytest.fixture
def conn(db_file):
    c = db.open_db(db_file)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def intake_settled():
    """Every test ends with the case-intake worker idle (it may still be taking in the test's last
    kiosk survey, on a database that is about to be deleted)."""
    yield
    from sipas.cases import intake

    intake.wait_idle()


def table_snapshot(c) -> dict[str, list[tuple]]:
    """Every row of every table, to prove that a refused input changed nothing (once the case-intake
    worker has taken in the surveys already stored)."""
    from sipas.cases import intake

    intake.wait_idle()
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: [tuple(r) for r in c.execute(f'SELECT * FROM "{n}" ORDER BY 1')] for n in names}


@dataclass
class CliResult:
    """What ``python -m sipas …`` would give: exit code and the text it printed."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, db_path: Path | None = None, env_db: Path | None | bool = True) -> CliResult:
    """Run the command line in this process (``cli.main(argv)``), capturing what it prints.

    ``env_db``: True keeps SIPAS_DB as the test set it, None removes it, a path sets it; ``db_path`` adds
    ``--db PATH``. A usage error (argparse's SystemExit) becomes its exit code, as in a shell.
    """
    from sipas.cli import main

    argv = [*map(str, args), *(["--db", str(db_path)] if db_path is not None else [])]
    saved = os.environ.get("SIPAS_DB")
    if env_db is None:
        os.environ.pop("SIPAS_DB", None)
    elif env_db is not True:
        os.environ["SIPAS_DB"] = str(env_db)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        if saved is None:
            os.environ.pop("SIPAS_DB", None)
        else:
            os.environ["SIPAS_DB"] = saved
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root and mount rights; skipped otherwise)."""
    import subprocess

    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def fill_disk(folder: Path) -> None:
    """Write zeros into ``folder`` until its disk is full."""
    with (folder / "filler").open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def asgi_get(routes, path: str, cookies: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` from a Starlette app of ``routes`` (no network, no httpx): status, headers, body."""
    return asgi_request(routes, "GET", path, cookies=cookies)


def asgi_request(
    routes,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    query: str = "",
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    middleware: list | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request to a Starlette app of ``routes`` (and ``middleware``), no network, no httpx: status,
    headers (lower-case names), body. ``body`` arrives in one message with its Content-Length."""
    import asyncio

    from starlette.applications import Starlette

    cookie = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    head = [(b"host", b"localhost")] + ([(b"cookie", cookie.encode())] if cookie else [])
    if body:
        head.append((b"content-length", str(len(body)).encode()))
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": head,
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8501),
    }
    sent: list[dict] = []
    asked: list[bool] = []

    async def receive():
        if asked:  # the client stays connected until the response is sent (Starlette then cancels this)
            await asyncio.Event().wait()
        asked.append(True)
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(Starlette(routes=routes, middleware=middleware)(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    out = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], out, data


# ------------------------------------------------------------------------------ AppTest helpers

SETTINGS_PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "settings.py")


@pytest.fixture
def clerk_token(conn):
    """A clerk account (the first, an administrator) with a session: the token a logged-in page holds."""
    from sipas.admin import auth

    user = auth.create_user(conn, "vanphong", "matkhau-dung-1", "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    return auth.start_session(conn, user)


def settings_page(token):
    """The settings page run once (AppTest) under the session ``token``."""
    from streamlit.testing.v1 import AppTest

    import ui

    at = AppTest.from_file(SETTINGS_PAGE, default_timeout=30)
    at.session_state[ui.TOKEN_KEY] = token
    at.run()
    assert not at.exception, at.exception
    return at


def click(at, label: str):
    """Click the one button labelled ``label`` and run the page again (no exception allowed)."""
    (button,) = [b for b in at.button if b.label == label]
    button.click()
    at.run()
    assert not at.exception, at.exception
    return at
