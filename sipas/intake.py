"""What the domain does once data is stored: the cases that data opens and the effects it decides.

Called by the paths that store data — a kiosk survey (:func:`sipas.responses.submit_kiosk_survey`),
a responses file (:func:`sipas.responses.import_responses`), a ticket log
(:func:`sipas.tickets.import_tickets`) — never by a page view. The follow-up never undoes or fails
the store that triggered it: an error is logged and the next store (or ``python -m sipas intake``)
catches up, since the case intake remembers the last response it read.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from sipas import actions, comments, db, effects, settings

log = logging.getLogger(__name__)


def flag_effects(conn: sqlite3.Connection) -> list[int]:
    """Check the effect of every case waiting for it, with the settings in force."""
    return effects.flag_effects(conn, settings.get(conn, "staff_min_n"), settings.get(conn, "targets")["floor"])


def open_cases(conn: sqlite3.Connection, now: datetime | None = None) -> int:
    """Open or extend the conduct cases of the responses stored since the last intake; cases touched."""
    return actions.sync_from_survey(conn, tag_comment=comments.conduct_tagger(), now=now)


def after_responses(conn: sqlite3.Connection, now: datetime | None = None) -> int:
    """After responses are committed: open their cases, then re-check the effects they may decide.
    Never raises (the responses are stored already); returns the cases touched (0 on error)."""
    touched = 0
    try:
        touched = open_cases(conn, now)
        flag_effects(conn)
    except Exception:  # noqa: BLE001 - a follow-up must never fail the store that triggered it
        log.exception("case intake after storing responses failed")
    return touched


def after_tickets(conn: sqlite3.Connection) -> None:
    """After a ticket log is committed: re-check the effects of the staffing cases. Never raises."""
    try:
        flag_effects(conn)
    except Exception:  # noqa: BLE001
        log.exception("effect check after storing tickets failed")


def transition(conn: sqlite3.Connection, case_id: int, to_state: str, actor: actions.Actor, *args, **kwargs) -> dict:
    """:func:`sipas.actions.transition`, then, when the measure was just approved, the first check of its
    effect (a decision is a point where the data that decides the effect changes meaning)."""
    case = actions.transition(conn, case_id, to_state, actor, *args, **kwargs)
    if to_state == "awaiting_effect":
        try:
            flag_effects(conn)
        except Exception:  # noqa: BLE001 - the decision is stored; the next data brings the check
            log.exception("effect check after approving case %s failed", case_id)
        case = db.get_case(conn, case_id)
    return case
