"""What a period is read in by default: the questionnaire version shown first for a period."""

from __future__ import annotations

import sqlite3

from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import questionnaires


def version_counts(conn: sqlite3.Connection, date_from: str | None, date_to: str | None) -> dict[str, int]:
    """Responses of each questionnaire version in the period (excluded ones left out)."""
    return {v: db.responses_in_range(conn, v, date_from, date_to) for v in sorted(questionnaires())}


def default_version(conn: sqlite3.Connection, date_from: str | None, date_to: str | None) -> str:
    """The version a period is read in by default (the overview, the analysis page and the report alike).

    The form in force on the period's last day (the dated setting ``active_questionnaire``; today for an
    open-ended period), unless the period holds no response of that form while it holds some of another:
    then the form with the most responses, so a month typed in the older form is never shown empty.
    """
    in_force = settings.get(conn, "active_questionnaire", date_to or clock.today().isoformat())
    counts = version_counts(conn, date_from, date_to)
    if counts.get(in_force) or not any(counts.values()):
        return in_force
    return max(counts, key=lambda v: (counts[v], v))
