"""The Bernoulli CUSUM on a staff member's dissatisfied answers (sipas.index.cusum) against hand
calculations, a dense linear solve and a fixed-seed simulation; the signal cases it opens
(sipas.cases.signals): their own kind, the evidence word for word, idempotent, never founded."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pytest
from conftest import run_cli

from sipas import db
from sipas.cases import intake, queue, signals, workflow
from sipas.cases.listing import case_kind
from sipas.cases.workflow import Actor
from sipas.errors import ValidationError
from sipas.index import cusum

CLERK = Actor("vanphong", "clerk")
NOW = datetime(2024, 6, 28, 17, 0, 0)


def test_weights_are_the_log_likelihood_ratios():
    w1, w0 = cusum.weights(0.1, 0.2)
    assert w1 == pytest.approx(math.log(2))  # hand: ln(0.2 / 0.1)
    assert w0 == pytest.approx(math.log(0.8 / 0.9))  # hand: −0.117783
    up, unit = cusum.integer_weights(0.1, 0.2)
    assert unit * cusum.DOWN_UNITS == pytest.approx(-w0)
    assert up == round(math.log(2) / (-w0 / 10)) == 59  # 0.6931 / 0.0117783 = 58.85


def test_run_length_matches_hand_solutions():
    # h = 1 unit: the first dissatisfied answer signals, a geometric run length with mean 1/p
    assert cusum.average_run_length(0.25, 1, 1, 1) == pytest.approx(4.0)
    # h = 2, steps ±1: L0 = 1 + p L1 + (1−p) L0, L1 = 1 + (1−p) L0  →  L0 = (1 + p) / p²
    assert cusum.average_run_length(0.3, 1, 2, 1) == pytest.approx(1.3 / 0.09)


def test_run_length_matches_a_dense_solve():
    p, up, h, down = 0.1, 59, 241, 10
    transient = np.zeros((h, h))
    for s in range(h):
        if s + up < h:
            transient[s, s + up] += p
        transient[s, max(0, s - down)] += 1 - p
    dense = np.linalg.solve(np.eye(h) - transient, np.ones(h))[0]
    assert cusum.average_run_length(p, up, h, down) == pytest.approx(dense, rel=1e-9)


def _simulated_arl(p: float, d: cusum.Design, runs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    s = np.zeros(runs, dtype=np.int64)
    length = np.zeros(runs, dtype=np.int64)
    alive = np.ones(runs, dtype=bool)
    while alive.any():
        x = rng.random(alive.sum()) < p
        s[alive] = np.maximum(0, s[alive] + np.where(x, d.up_units, -cusum.DOWN_UNITS))
        length[alive] += 1
        alive &= s < d.h_units
    return float(length.mean())


def test_design_meets_its_targets_and_a_fixed_seed_simulation_agrees():
    d = cusum.tune(0.1)
    assert d.arl0 >= 500 and cusum.average_run_length(0.1, d.up_units, d.h_units - 1) < 500  # the smallest h
    assert d.arl1 == pytest.approx(49.0, abs=0.5)  # a doubling (p1 = 0.2) is seen within about 50 answers
    # 3000 simulated charts: standard error ≈ ARL / √3000 ≈ 1.8 %
    assert _simulated_arl(0.1, d, 3000, seed=20) == pytest.approx(d.arl0, rel=0.06)
    assert _simulated_arl(0.2, d, 3000, seed=21) == pytest.approx(d.arl1, rel=0.06)


def test_the_shipped_table_is_the_tuning():
    assert len(cusum._table()) == len(cusum.grid()) == 449
    for p0 in (0.002, 0.013, 0.05, 0.092, 0.1, 0.237, 0.45):
        assert cusum.design(p0) == cusum.tune(p0)
    assert all(d["arl0"] >= 500 for d in cusum._table().values())


def test_run_finds_the_signal_and_where_the_rise_began():
    d = cusum.design(0.1)
    flags = [True, False, False, False, False, False, False] + [False] * 10 + [True] * 5
    r = cusum.run(flags, d)
    # the first True climbs to 59 and falls back to 0 after 6 answers; from index 17, 5 × 59 = 295 ≥ 241
    assert r.statistic[0] == pytest.approx(59 * d.unit)
    assert r.statistic[6] == 0
    assert (r.signal_at, r.rise_start) == (21, 17)
    assert cusum.run([False] * 100, d).signal_at is None
    with pytest.raises(ValueError):
        cusum.design(0.6)


# ------------------------------------------------------------------------------ the signal cases


def _survey(conn, token: str, at: str, staff: str, value: int) -> int:
    db.insert_response(
        conn,
        {"token": token, "submitted_at": at, "questionnaire": "sipas-2023", "channel": "kiosk", "staff_code": staff},
        {"TC3.1": value, "TC3.2": value},
    )
    return db.response_by_token(conn, token)["id"]


def _fill(conn) -> list[int]:
    """Four staff, 60 surveys each over June, commune p0 = 10 %: CB01..CB03 one dissatisfied survey in
    ten, CB04 like them until 20 June and then every survey dissatisfied. Returns CB04's late ids."""
    for code in ("CB01", "CB02", "CB03", "CB04"):
        db.upsert_staff(conn, {"code": code, "full_name": f"Cán bộ {code}"})
    late = []
    for i in range(60):
        at = f"2024-06-{1 + i // 3:02d} {8 + i % 3:02d}:00:00"
        for code in ("CB01", "CB02", "CB03"):
            _survey(conn, f"{code}-{i}", at, code, 2 if i % 10 == 0 else 4)
        bad = i >= 57
        rid = _survey(conn, f"CB04-{i}", at, "CB04", 1 if bad or i % 10 == 0 else 5)
        if bad:
            late.append(rid)
    return late


def test_a_signal_opens_its_own_case_with_the_evidence_once(conn):
    late = _fill(conn)
    rows = db.conduct_answers(conn, "2024-01-01", "2024-07-01")
    p0 = signals.commune_rate(rows)
    assert p0 == round((3 * 6 + 9) * 2 / 480, 3) == 0.113  # hand: 27 dissatisfied surveys × 2 answers of 480
    assert signals.open_signals(conn, now=NOW) == 1
    (case,) = [c for c in db.list_cases(conn) if signals.is_signal(c)]
    kind = (case["staff_code"], case["origin"], case["type"], case_kind(case))
    assert kind == ("CB04", "analysis", "other", "signal")
    assert workflow.CHANNELS[case["channel"]] == "Tín hiệu thống kê"
    # the evidence: the answers since the statistic last left 0, each quoted, and n, p0, the statistic
    evidence = db.case_response_ids(conn, case["id"])
    assert evidence == late[: len(evidence)] and len(evidence) >= 2
    text = case["description"]
    assert f"Phiếu #{late[0]} (20/06/2024 08:00): TC3.1 = “Rất không hài lòng” (1)" in text
    assert "tỷ lệ chung của xã là p0 = 11,3%" in text and "n = " in text and "≥ ngưỡng h = " in text
    assert "Đây không phải phản ánh" in text
    # idempotent: a second run, and the intake after a store, open nothing more
    assert signals.open_signals(conn, now=NOW) == 0
    intake.after_responses(conn, now=NOW)
    assert len([c for c in db.list_cases(conn) if signals.is_signal(c)]) == 1
    # never a conduct case, never founded, never a repeat offence
    # (the intake opened CB04's conduct case from the answers 1 itself; the signal is none of them)
    assert [c["origin"] for c in db.list_cases(conn, case_type="conduct", staff_code="CB04")] == ["survey"]
    workflow.transition(conn, case["id"], "verifying", CLERK, now=NOW)
    assert workflow.allowed_next("verifying", "clerk", case) == ["unfounded"]
    with pytest.raises(ValidationError) as err:
        workflow.transition(conn, case["id"], "founded", CLERK, now=NOW)
    assert "không kết luận “Có cơ sở”" in str(err.value)
    assert db.get_case(conn, case["id"])["state"] == "verifying" and not db.get_case(conn, case["id"])["substantiated"]
    assert queue.repeat_offenders(conn) == []
    # closed: the same answers never fire again
    workflow.transition(conn, case["id"], "unfounded", CLERK, note="Đã xem các phiếu: trùng ngày đông", now=NOW)
    assert signals.open_signals(conn, now=NOW) == 0


def test_no_signal_when_everyone_is_at_the_commune_rate(conn):
    for code in ("CB01", "CB02"):
        db.upsert_staff(conn, {"code": code, "full_name": f"Cán bộ {code}"})
    for i in range(90):
        for code in ("CB01", "CB02"):
            _survey(conn, f"{code}-{i}", f"2024-06-{1 + i // 4:02d} 09:{i % 4:02d}:00", code, 2 if i % 9 == 0 else 4)
    assert signals.open_signals(conn, now=NOW) == 0


def test_cases_json_lists_the_signal_with_its_evidence(db_file):
    conn = db.open_db(db_file)
    late = _fill(conn)
    signals.open_signals(conn, now=NOW)
    conn.close()
    r = run_cli("cases", "--json", "--kind", "signal", db_path=db_file)
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert (row["kind"], row["staff_code"], row["founded"]) == ("signal", "CB04", None)
    assert row["evidence"][0] == late[0]
