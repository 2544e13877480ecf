"""Pure statistics: a share with its Wilson interval, and sample sizes.

The tests, Holm's adjustment and the p-chart are in :mod:`sipas.index.comparison`.

Every function takes plain numbers and returns plain numbers or frozen dataclasses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


@dataclass(frozen=True)
class Proportion:
    """A share with its n and 95% Wilson interval, all in percent (None when n = 0)."""

    n: int
    satisfied: int
    index: float | None
    ci_low: float | None
    ci_high: float | None


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for successes/n, as fractions (no continuity correction).

    Newcombe (1998), Table I, example 81/263: 0.2553 to 0.3662.

    >>> lo, hi = wilson_interval(81, 263)
    >>> round(lo, 4), round(hi, 4)
    (0.2553, 0.3662)
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # At p = 0 or 1 the limit is exactly 0 or 1 (floating point would leave 1e-17 or so).
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def proportion(satisfied: int, n: int) -> Proportion:
    """satisfied/n as a percentage with its 95% Wilson interval; index None when n = 0.

    >>> proportion(3, 4).index
    75.0
    """
    if n == 0:
        return Proportion(0, 0, None, None, None)
    lo, hi = wilson_interval(satisfied, n)
    return Proportion(n, satisfied, 100.0 * satisfied / n, 100.0 * lo, 100.0 * hi)


def sample_size(margin: float, p: float = 0.5, population: int | None = None, z: float = Z95) -> int:
    """Answers needed for a ±margin (fraction) 95% interval; finite-population corrected if N given.

    >>> sample_size(0.05)
    385
    >>> sample_size(0.05, population=1000)
    278
    """
    if not 0 < margin < 1:
        raise ValueError("margin must be between 0 and 1")
    n0 = z * z * p * (1 - p) / (margin * margin)
    if population:
        n0 = n0 / (1 + (n0 - 1) / population)
    return math.ceil(n0 - 1e-9)


# ------------------------------------------------------------------------------ empirical-Bayes shrinkage

# The prior's strength (a + b) is capped: when the units differ no more than sampling noise explains, the
# moment estimate of the between-unit spread is zero (infinite strength); the cap keeps every unit's own
# answers in its estimate, weighted at most 1 : MAX_PRIOR_STRENGTH / n against the common rate.
MAX_PRIOR_STRENGTH = 1000.0


@dataclass(frozen=True)
class BetaPrior:
    """The common Beta(a, b) prior of the units' rates, fitted from all of them (fractions)."""

    a: float
    b: float
    rate: float  # the pooled rate a / (a + b)
    units: int


@dataclass(frozen=True)
class Shrunk:
    """One unit's empirical-Bayes estimate in percent: the posterior mean and 95% equal-tailed interval."""

    n: float
    successes: float
    raw: float | None
    estimate: float
    ci_low: float
    ci_high: float
    weight: float  # n / (n + a + b): how much of the estimate is the unit's own answers


def beta_binomial_prior(successes: list[float], trials: list[float]) -> BetaPrior:
    """Fit a Beta(a, b) prior to units with ``successes`` of ``trials`` by the method of moments
    (the analysis-of-variance estimator of the intra-class correlation ρ = 1 / (a + b + 1), weighting
    each unit by its n; Kleinman 1973). Units with no trials are left out.

    With equal n the estimator is the textbook one: 4 units of 10 with 2, 5, 8, 5 successes have
    p = 0.5, S = Σ n (y − p)² = 1.8, ρ = (S / p(1 − p) − 3) / (40 − 10 − 3) = 0.1556, a + b = 5.43.

    >>> prior = beta_binomial_prior([2, 5, 8, 5], [10, 10, 10, 10])
    >>> round(prior.rate, 3), round(prior.a + prior.b, 2)
    (0.5, 5.43)
    """
    pairs = [(float(k), float(n)) for k, n in zip(successes, trials, strict=True) if n > 0]
    if not pairs:
        raise ValueError("no unit has any trial")
    total = sum(n for _, n in pairs)
    p = sum(k for k, _ in pairs) / total
    m = len(pairs)
    strength = MAX_PRIOR_STRENGTH
    if 0 < p < 1 and m > 1:
        spread = sum(n * (k / n - p) ** 2 for k, n in pairs)
        denominator = total - sum(n * n for _, n in pairs) / total - (m - 1)
        rho = (spread / (p * (1 - p)) - (m - 1)) / denominator if denominator > 0 else 0.0
        if rho > 0:
            strength = min(MAX_PRIOR_STRENGTH, 1 / rho - 1) if rho < 1 else 1e-6
    return BetaPrior(a=p * strength, b=(1 - p) * strength, rate=p, units=m)


def shrink(successes: float, n: float, prior: BetaPrior) -> Shrunk:
    """A unit's rate shrunk toward the prior: posterior Beta(a + k, b + n − k), its mean and 95% interval.

    >>> s = shrink(10, 12, BetaPrior(a=45.0, b=5.0, rate=0.9, units=6))
    >>> round(s.estimate, 2), round(s.weight, 3)
    (88.71, 0.194)
    """
    from scipy.special import betaincinv

    a = max(prior.a, 1e-9) + successes
    b = max(prior.b, 1e-9) + n - successes
    return Shrunk(
        n=n,
        successes=successes,
        raw=100.0 * successes / n if n else None,
        estimate=100.0 * a / (a + b),
        ci_low=100.0 * float(betaincinv(a, b, 0.025)),
        ci_high=100.0 * float(betaincinv(a, b, 0.975)),
        weight=n / (n + prior.a + prior.b),
    )
