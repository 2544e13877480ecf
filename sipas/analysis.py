"""Reading the index out of the database (the glue between db queries and pure scoring)."""

from __future__ import annotations

import sqlite3

from sipas import db
from sipas.catalog import questionnaire
from sipas.scoring import IndexResult, compute_index


def index_for_period(conn: sqlite3.Connection, version: str, date_from: str | None = None,
                     date_to: str | None = None) -> IndexResult:
    """The index of the non-excluded responses of ``version`` in [date_from, date_to] (local dates)."""
    q = questionnaire(version)
    counts = db.level_counts(conn, version, date_from, date_to)
    responses = db.responses_in_range(conn, version, date_from, date_to)
    return compute_index(q, counts, responses)
