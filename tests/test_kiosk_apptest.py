"""The counter tablet page through AppTest (main_page.py as an anonymous visitor).

The survey itself now runs in the tablet's browser (one st.components.v2 component), which AppTest
cannot run: the old step-by-step AppTest tests of the Streamlit widgets are gone with those widgets;
the browser tests (test_browser_kiosk.py) tap through the real component, and test_kiosk.py covers
what the component sends. What stays here: the page runs without an error box or a traceback, also
when the database cannot be opened, and shows no staff page.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "main_page.py")


def test_the_kiosk_page_runs_without_any_error_box(db_file):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert not at.error and not at.warning
    assert not at.info  # the fallback notice appears only if the component itself failed


def test_an_unopenable_database_gives_no_traceback_and_no_english(tmp_path, monkeypatch):
    bad = tmp_path / "sipas.db"
    bad.write_bytes(b"this is not a database " * 100)
    monkeypatch.setenv("SIPAS_DB", str(bad))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert not at.error
