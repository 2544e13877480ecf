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
