"""Rating on one's own phone with a single-use QR code: the survey a phone sends, stored once with channel ``qr``.

Issuing codes, their address and state live in :mod:`sipas.survey.qr_codes` (re-exported here). The phone
runs the tablet's survey in phone layout and sends the same payload (``components/survey/src/payload.js``,
read by :func:`sipas.survey.tablet.survey_from_payload`) to ``POST /api/qr/<code>`` (``qr_route.py``).

Exactly once: the code is claimed by the phone's own survey token in one statement
(:func:`sipas.db.claim_qr_code`), and the survey is stored under ``qr:<sha256 of the code>`` (a namespace
of its own: never a kiosk token, never an imported id). The same phone sending again (its answer was lost)
is told "stored" again and nothing is added; anyone else with the same code is told it was used.

A code printed with a dossier code links its survey to that dossier (``responses.dossier_id``, a partial
UNIQUE index: one dossier, at most one rating). When the dossier is already imported and the citizen did
not name the lĩnh vực or the staff member, the survey takes the dossier's (the staff member only if in
the roster); otherwise the link alone is kept and the analysis joins on it (:mod:`sipas.index.channels`).

The same bounds and misuse checks as the tablet (:mod:`sipas.survey.tablet`): the payload's shape, too
fast to read (stored excluded, "Nghi vấn lạm dụng"), and for the codes of one tablet's screen more than
``kiosk_burst_max`` surveys within ``kiosk_burst_minutes``. Out of hours is no reason on a phone. While a
restore runs or the clock is wrong, :class:`sipas.survey.gate.IntakePaused` is raised and nothing stored.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sipas import clock, db
from sipas.errors import ValidationError
from sipas.survey import gate
from sipas.survey.qr_codes import (  # noqa: F401 - the QR API in one place
    MAX_CARDS,
    MESSAGES,
    MSG_DOSSIER_RATED,
    MSG_EXPIRED,
    MSG_UNKNOWN,
    MSG_USED,
    SHEET_SOURCE,
    TABLET_SOURCE,
    VALID_FOR,
    Card,
    CodeState,
    code_hash,
    for_tablet,
    issue_sheet,
    parse_dossier_codes,
    png_of,
    state,
    svg_of,
    url_of,
    well_formed,
)
from sipas.survey.responses import QR_PREFIX, submit_kiosk_survey, validate_kiosk_survey
from sipas.survey.tablet import MAX_AGE, Misuse, _ago, _duration, survey_from_payload, too_fast_reason

log = logging.getLogger("sipas.survey.qr")

MSG_STORED = "Cảm ơn Ông/Bà! Ý kiến của Ông/Bà đã được ghi nhận."


@dataclass(frozen=True)
class Outcome:
    """What became of a phone's survey: ``state`` stored / used / expired / unknown / refused, with the
    Vietnamese ``message`` shown on the phone; ``suspect`` when it was stored excluded as misuse."""

    state: str
    message: str
    suspect: bool = False


def response_token(code: str) -> str:
    """The token a code's survey is stored under."""
    return QR_PREFIX + code_hash(code)


def submit(conn: sqlite3.Connection, code: str, payload: object, *, now: datetime) -> Outcome:
    """Store the survey a phone sent with ``code``, exactly once (see the module's docstring).

    Raises :class:`sipas.survey.gate.IntakePaused` (nothing stored) while intake is paused; a database
    fault is raised too (nothing stored, the phone may send again)."""
    gate.require_open(conn, now)
    if not well_formed(code):
        return Outcome("unknown", MSG_UNKNOWN)
    digest = code_hash(code)
    row = db.qr_code_row(conn, digest)
    if row is None:
        return Outcome("unknown", MSG_UNKNOWN)
    client = payload.get("token") if isinstance(payload, Mapping) else None
    stored_token = QR_PREFIX + digest
    mine = isinstance(client, str) and row["used_token"] == client
    if row["used_token"] is not None and not mine:
        return Outcome("used", MSG_USED)
    if mine and db.response_token_exists(conn, stored_token):
        return Outcome("stored", MSG_STORED)  # the phone sends again: its answer was lost
    issued = clock.parse_ts(row["issued_at"]).replace(tzinfo=now.tzinfo)
    if not mine:
        if clock.parse_ts(row["expires_at"]).replace(tzinfo=now.tzinfo) <= now:
            return Outcome("expired", MSG_EXPIRED)
        if row["dossier_id"] and db.dossier_rated(conn, row["dossier_id"]):
            return Outcome("used", MSG_DOSSIER_RATED)
    try:
        survey = survey_from_payload(payload)
        problems = validate_kiosk_survey(survey)
        if problems:
            raise ValidationError(problems)
    except ValidationError as exc:
        return Outcome("refused", _refusal(exc))
    # Completed when the phone says (it may send later, from a place without signal), never before the
    # code was issued, never in the future, at most MAX_AGE ago.
    submitted = max(_ago(payload.get("completed_ago_ms"), now), issued, now - MAX_AGE)
    duration = _duration(payload)
    survey.started_at = submitted - timedelta(seconds=duration) if duration else None
    survey.token = stored_token
    _from_dossier(conn, survey, row["dossier_id"])
    if survey.staff_code is not None and survey.staff_code not in db.staff_codes(conn):
        survey.staff_code = None  # removed from the roster meanwhile: keep the answers
    suspect = _suspect(conn, survey, duration, row["source"], submitted)
    if not db.claim_qr_code(conn, digest, client, clock.format_ts(now)):
        return Outcome("used", MSG_USED)  # someone else's phone was faster
    try:
        submit_kiosk_survey(
            conn, survey, now=submitted, device=None, suspect=suspect, channel="qr", dossier_id=row["dossier_id"]
        )
    except ValidationError as exc:
        db.release_qr_code(conn, digest, client, stored_token)
        return Outcome("refused", _refusal(exc))
    except sqlite3.IntegrityError:
        # Another card of the same dossier was answered meanwhile (responses_one_per_dossier).
        db.release_qr_code(conn, digest, client, stored_token)
        return Outcome("used", MSG_DOSSIER_RATED)
    except BaseException:
        db.release_qr_code(conn, digest, client, stored_token)
        raise
    return Outcome("stored", MSG_STORED, suspect=suspect is not None)


def _refusal(exc: ValidationError) -> str:
    return "Phiếu chưa được lưu: " + " ".join(exc.problems)


def _from_dossier(conn: sqlite3.Connection, survey, dossier_id: str | None) -> None:
    """The dossier's lĩnh vực and staff member where the citizen did not name them."""
    if not dossier_id:
        return
    dossier = db.get_dossier(conn, dossier_id)
    if dossier is None:
        return
    if survey.field is None and dossier.get("field"):
        survey.field = dossier["field"]
    if survey.staff_code is None and dossier.get("staff_code") in db.staff_codes(conn):
        survey.staff_code = dossier["staff_code"]


def _suspect(conn: sqlite3.Connection, survey, duration: float | None, source: str, submitted: datetime) -> str | None:
    """The tablet's misuse checks as they apply to a phone: too fast to read; and for the codes one tablet's
    screen showed, more surveys within the burst window than a counter serves. (A printed card is handed
    to one person: the single use is its bound.)"""
    misuse = Misuse.from_settings(conn)
    fast = too_fast_reason(survey, duration, misuse.min_seconds_per_answer)
    if fast:
        return fast
    if not source.startswith(TABLET_SOURCE):
        return None
    window = misuse.burst_window
    recent = db.qr_recent_count(conn, source, clock.format_ts(submitted - window), clock.format_ts(submitted + window))
    if recent >= misuse.burst_max:
        return (
            f"Nghi vấn lạm dụng: {recent + 1} phiếu qua mã QR của máy {source[len(TABLET_SOURCE) :]} trong vòng "
            f"{int(window.total_seconds() // 60)} phút, nhiều hơn số người một quầy tiếp được"
        )
    return None
