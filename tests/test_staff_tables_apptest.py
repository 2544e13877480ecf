"""Every table on every staff page, for the clerk and the Chairman, with demo data: no empty cell
drawn as "None"/"NaN" and no stored code shown raw (the grid is drawn on a canvas, so the browser
walk in test_browser_staff.py cannot read it; AppTest reads the data the grid receives)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from sipas import demo
from sipas.admin import auth

ROOT = Path(__file__).resolve().parent.parent
PW = "mat-khau-dai-1"
PAGES = ["overview", "analysis", "cases", "chairman", "waiting", "baseline", "settings", "accounts"]
CODES = {"clerk", "chairman", "open", "evidence", "transition", "overall", "element", "criterion", "True", "False"}


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from sipas import db
    from tests.conftest import always_open

    path = tmp_path_factory.mktemp("tables") / "sipas.db"
    always_open(path)
    with db.session(path) as c:
        demo.generate(c, 1500, seed=5)
        auth.create_user(c, "chutich", PW, "chairman", full_name="Trần Văn Chủ", first_admin=True)
        auth.create_user(c, "vanphong", PW, "clerk", full_name="Nguyễn Thị Lan")
    return path


def bad_cells(frame: pd.DataFrame) -> list[str]:
    out = []
    for col in frame.columns:
        for value in frame[col]:
            if value is None or (isinstance(value, float) and value != value):
                out.append(f"{col}: ô trống hiện là None")
            elif isinstance(value, str) and value.strip() in CODES:
                out.append(f"{col}: {value}")
    return sorted(set(out))


@pytest.mark.parametrize("username", ["vanphong", "chutich"])
@pytest.mark.parametrize("name", PAGES)
def test_no_table_shows_none_or_a_raw_code(demo_db, monkeypatch, username, name):
    from sipas import db

    if name == "chairman" and username == "vanphong":
        pytest.skip("the clerk has no Chairman page")
    monkeypatch.setenv("SIPAS_DB", str(demo_db))
    with db.session(demo_db) as c:
        token = auth.start_session(c, auth.authenticate(c, username, PW))
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=120)
    at.session_state["staff_token"] = token
    at.run()
    assert not at.exception, at.exception
    found = {}
    for i, df in enumerate(at.dataframe):
        if {"level", "index", "satisfied"} <= set(df.value.columns):
            continue  # the baseline editor: empty cells to type into; its "Cấp" shows Vietnamese labels
        problems = bad_cells(df.value)
        if problems:
            found[i] = problems
    assert not found, found
