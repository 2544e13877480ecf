"""Empirical-Bayes shrinkage of a staff member's rate (sipas.index.stats.beta_binomial_prior, shrink) and
the staff table's shrunk estimates, checked against a fixed-seed simulation, numpy's own beta draws and
hand calculations."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from sipas import demo
from sipas.index import staff_index
from sipas.index.selection import Filters
from sipas.index.stats import MAX_PRIOR_STRENGTH, BetaPrior, beta_binomial_prior, shrink


def _simulate(seed=20240615, units=3000, a=18.0, b=2.0):
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 61, units)
    p = rng.beta(a, b, units)
    k = rng.binomial(n, p)
    return n, p, k


def test_the_prior_is_recovered_from_a_simulation():
    n, _, k = _simulate()
    prior = beta_binomial_prior(k.tolist(), n.tolist())
    assert prior.rate == pytest.approx(0.9, abs=0.005)  # true mean 18 / 20
    assert prior.a + prior.b == pytest.approx(20.0, rel=0.15)  # true strength 20


def test_shrunk_estimates_are_closer_to_the_truth_and_their_intervals_cover_it():
    n, p, k = _simulate()
    prior = beta_binomial_prior(k.tolist(), n.tolist())
    s = [shrink(float(ki), float(ni), prior) for ki, ni in zip(k, n, strict=True)]
    est = np.array([x.estimate for x in s]) / 100
    raw = k / n
    assert np.mean((est - p) ** 2) < 0.6 * np.mean((raw - p) ** 2)
    lo = np.array([x.ci_low for x in s]) / 100
    hi = np.array([x.ci_high for x in s]) / 100
    coverage = np.mean((lo <= p) & (p <= hi))
    assert 0.93 <= coverage <= 0.97


def test_the_interval_matches_numpy_beta_draws():
    # 10 satisfied of 12 against a commune rate of 90 % with strength 50 (the example, 55–95 % raw)
    s = shrink(10, 12, BetaPrior(a=45.0, b=5.0, rate=0.9, units=6))
    draws = np.random.default_rng(1).beta(55.0, 7.0, 2_000_000)
    lo, hi = np.quantile(draws, [0.025, 0.975]) * 100
    assert (s.ci_low, s.ci_high) == (pytest.approx(lo, abs=0.05), pytest.approx(hi, abs=0.05))
    assert s.estimate == pytest.approx(100 * 55 / 62)  # hand: (45 + 10) / (50 + 12)
    assert s.ci_high - s.ci_low < 20  # narrower than the raw Wilson interval 55.2–95.3


def test_units_no_more_different_than_noise_are_pooled_up_to_the_cap():
    prior = beta_binomial_prior([9, 9, 9, 9], [10, 10, 10, 10])
    assert prior.a + prior.b == pytest.approx(MAX_PRIOR_STRENGTH)
    with pytest.raises(ValueError):
        beta_binomial_prior([0], [0])


def test_staff_table_shrinks_the_demo_staff_toward_the_commune(conn):
    demo.generate(conn, 600, seed=4, months=3, end=date(2024, 6, 28))
    f = Filters("sipas-2023")
    raw = staff_index.staff_measures(conn, f, 0)
    shrunk = staff_index.shrunk_measures(conn, f)
    assert set(shrunk) == set(raw)
    # the commune's rate, each response counted once
    pooled = sum(m.index * m.responses for m in raw.values()) / sum(m.responses for m in raw.values())
    for code, s in shrunk.items():
        assert s.n == raw[code].responses
        assert s.raw == pytest.approx(raw[code].index)
        # between the person's own index and the commune's (or equal when the cap pools nothing away)
        assert min(s.raw, pooled) - 1e-6 <= s.estimate <= max(s.raw, pooled) + 1e-6
