"""Shared fixtures: a fresh database file per test, pointed to by SIPAS_DB."""

from __future__ import annotations

import sys
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
    from sipas import settings

    c = db.open_db(path)
    try:
        settings.put(c, "opening_hours", {"days": list(range(7)), "periods": [["00:00", "24:00"]]}, "test")
        settings.put(c, "active_questionnaire", "sipas-2023", "test")
        settings.put(c, "form2024_offer", "kept", "test")
        confirm_names(c)
    finally:
        c.close()


def confirm_names(c) -> None:
    """Staff have confirmed the shipped names (the first-login step has tests of its own)."""
    from sipas import settings

    names = {key: settings.get(c, key) for key in settings.UNIT_KEYS}
    settings.put(c, "unit_confirmed", {"by": "test", "at": "2024-01-02 08:00:00", **names}, "test")


@pytest.fixture
def conn(db_file):
    c = db.open_db(db_file)
    yield c
    c.close()


def table_snapshot(c) -> dict[str, list[tuple]]:
    """Every row of every table, to prove that a refused input changed nothing."""
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: [tuple(r) for r in c.execute(f'SELECT * FROM "{n}" ORDER BY 1')] for n in names}
