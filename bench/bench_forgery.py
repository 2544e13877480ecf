"""A script without an enrolled tablet's secret stores nothing.

    python bench/bench_forgery.py --surveys 8000

Replays the ballot-stuffing of issue 19 against the tablet's server handler
(:func:`sipas.survey.tablet.sync`, what the kiosk page calls for every message the tablet sends):
8,000 forged all-5 surveys in four forms: the old anonymous message, a message signed with a
guessed secret, one naming an enrolled tablet that was revoked, and one signed by a real enrolled
tablet but carrying tokens the server never issued to it (invented, or another tablet's). It then
checks, in the database, that not one response, start or token use was stored, and that every
refusal was counted. Also times the refusals (a forged message must be cheap to refuse).
It does not speak Streamlit's websocket: the page passes the message to this handler unchanged.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipas import clock, db  # noqa: E402
from sipas.survey import devices, tablet  # noqa: E402


def forged_survey(token: str) -> dict:
    return {
        "token": token,
        "questionnaire": "sipas-2023",
        "asked": ["TC3.1", "TC3.2"],
        "answers": {"TC3.1": 5, "TC3.2": 5},
        "overall": 5,
        "duration_seconds": 40,
        "completed_ago_ms": 1000,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--surveys", type=int, default=8000)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # one warning per refusal: counted in the database below
    with tempfile.TemporaryDirectory() as tmp, db.session(Path(tmp) / "forgery.db") as conn:
        now = clock.now()
        real_secret = devices.enrol(conn, "quay1", devices.add(conn, "quay1", now=now, actor="bench"), now=now)
        devices.enrol(conn, "quay2", devices.add(conn, "quay2", now=now, actor="bench"), now=now)
        other_tokens = devices.top_up(conn, "quay2", now=now)
        devices.add(conn, "quay3", now=now, actor="bench")
        devices.revoke(conn, "quay3", now=now, actor="bench")

        def message(kind: str, i: int) -> dict:
            token = other_tokens[i % len(other_tokens)] if kind == "stolen-token" else str(uuid.uuid4())
            body = json.dumps({"surveys": [forged_survey(token)], "starts": [{"token": token, "ago_ms": 60000}]})
            if kind == "anonymous":
                return json.loads(body)
            if kind == "guessed-secret":
                return {"device": "quay1", "body": body, "sig": devices.sign(secrets.token_hex(32), body)}
            if kind == "revoked":
                return {"device": "quay3", "body": body, "sig": devices.sign(secrets.token_hex(32), body)}
            return {"device": "quay1", "body": body, "sig": devices.sign(real_secret, body)}  # signed, bad tokens

        kinds = ["anonymous", "guessed-secret", "revoked", "invented-token", "stolen-token"]
        stored = 0
        t0 = time.perf_counter()
        for i in range(args.surveys):
            stored += tablet.sync(conn, message(kinds[i % len(kinds)], i), now=clock.now()).stored
        elapsed = time.perf_counter() - t0
        rows = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
        starts = conn.execute("SELECT count(*) FROM kiosk_starts").fetchone()[0]
        used = conn.execute("SELECT count(*) FROM kiosk_tokens WHERE used_at IS NOT NULL").fetchone()[0]
        counted = {r["reason"]: r["n"] for r in devices.refusal_counts(conn)}
    print(f"forged surveys sent: {args.surveys} in {elapsed:.1f} s ({args.surveys / elapsed:.0f}/s)")
    print(f"stored: {stored} (responses table: {rows}), starts counted: {starts}, tokens used: {used}")
    print(f"refusals counted: {counted} (total {sum(counted.values())})")
    ok = rows == 0 and starts == 0 and used == 0
    print("OK: a script without the secret stored nothing" if ok else "FAILED: something forged was stored")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
