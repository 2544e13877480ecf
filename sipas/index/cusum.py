"""A Bernoulli CUSUM on a staff member's dissatisfied staff-criterion answers (Reynolds & Stoumbos 1999).

Each answer to a staff-conduct criterion (element 3) of a survey naming the person, in time order, is
x = 1 when it is "Không hài lòng" or "Rất không hài lòng" (levels 1–2), else 0. Against the commune's
dissatisfied rate p0 and the rate to detect p1 = 2·p0, the log-likelihood ratio of one answer is

    w(1) = ln(p1 / p0)             w(0) = ln((1 − p1) / (1 − p0))

and S_t = max(0, S_{t−1} + w(x_t)), S_0 = 0; the chart signals when S_t ≥ h.

The chart that runs is the integer form of Reynolds & Stoumbos: the weights are scaled so that w(0) is
exactly −:data:`DOWN_UNITS` units and w(1) is rounded to whole units. Its run lengths are then a finite
Markov chain, solved exactly (:func:`average_run_length`); :func:`threshold` takes the smallest h whose
in-control average run length is at least :data:`ARL0_TARGET` answers. ``bench/bench_cusum.py`` checks
these run lengths with a fixed-seed simulation, records them in ``bench/RESULTS.md`` and writes the tuned
chart of every p0 from 0.002 to 0.450 (step 0.001) to :data:`DESIGNS_FILE`, which :func:`design` reads: the
case intake runs in the app process after every kiosk burst and imports neither numpy nor scipy.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache

from sipas.paths import DATA_DIR

ARL0_TARGET = 500.0  # answers between two false signals on a person whose rate is the commune's
SHIFT = 2.0  # the rate to detect: p1 = SHIFT · p0 (a doubling of the dissatisfied share)
DOWN_UNITS = 10  # w(0) in integer units: the resolution of the integer chart
P0_MIN, P0_MAX = 0.002, 0.45  # outside: no chart (nothing to compare with, or p1 ≥ 0.9)


@dataclass(frozen=True)
class Design:
    """One chart: the rates, the exact and the integer weights, the threshold, its run lengths."""

    p0: float
    p1: float
    w_dissatisfied: float  # ln(p1/p0), exact
    w_other: float  # ln((1−p1)/(1−p0)), exact
    up_units: int  # w(1) in units of the integer chart
    unit: float  # one unit in log-likelihood (w(0) = −DOWN_UNITS · unit exactly)
    h_units: int  # the threshold in units
    arl0: float  # in-control average run length (answers), exact for the integer chart
    arl1: float  # at p1

    @property
    def h(self) -> float:
        """The threshold in log-likelihood."""
        return self.h_units * self.unit


def weights(p0: float, p1: float) -> tuple[float, float]:
    """(w(1), w(0)): the log-likelihood ratio of a dissatisfied answer and of any other answer.

    >>> [round(w, 4) for w in weights(0.1, 0.2)]
    [0.6931, -0.1178]
    """
    return math.log(p1 / p0), math.log((1 - p1) / (1 - p0))


def integer_weights(p0: float, p1: float) -> tuple[int, float]:
    """(up units, unit): w(0) = −DOWN_UNITS units exactly, w(1) rounded to whole units (at least 1)."""
    w1, w0 = weights(p0, p1)
    unit = -w0 / DOWN_UNITS
    return max(1, round(w1 / unit)), unit


def average_run_length(p: float, up: int, h_units: int, down: int = DOWN_UNITS) -> float:
    """Average number of answers until S ≥ h for the integer chart (steps +``up`` with probability ``p``,
    −``down`` otherwise, floored at 0), starting at 0 — the exact solution of the Markov chain on the
    states 0 … h_units−1 (Brook & Evans 1972).

    >>> round(average_run_length(0.5, 1, 1, 1), 6)  # signals at the first dissatisfied answer: 1/p
    2.0
    """
    import numpy as np
    from scipy.sparse import csr_matrix, identity
    from scipy.sparse.linalg import spsolve

    n = h_units
    rows, cols, vals = [], [], []
    for s in range(n):
        if s + up < n:
            rows.append(s)
            cols.append(s + up)
            vals.append(p)
        rows.append(s)
        cols.append(max(0, s - down))
        vals.append(1 - p)
    transient = csr_matrix((vals, (rows, cols)), shape=(n, n))
    arl = spsolve((identity(n, format="csc") - transient).tocsc(), np.ones(n))
    return float(np.atleast_1d(arl)[0])


DESIGNS_FILE = DATA_DIR / "cusum-designs.json"


def grid() -> list[float]:
    """The commune rates the tuned table holds: 0.002 … 0.450 by 0.001."""
    return [k / 1000 for k in range(round(P0_MIN * 1000), round(P0_MAX * 1000) + 1)]


@lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    return json.loads(DESIGNS_FILE.read_text(encoding="utf-8"))


def design(p0: float) -> Design:
    """The tuned chart for the commune's dissatisfied rate ``p0`` (rounded to 0.001) from
    :data:`DESIGNS_FILE` (as :func:`tune` computes it).

    >>> d = design(0.1)
    >>> d.arl0 >= 500, round(d.h, 2), round(d.arl1)
    (True, 2.84, 49)
    """
    if not P0_MIN <= p0 <= P0_MAX:
        raise ValueError(f"p0 = {p0} outside [{P0_MIN}, {P0_MAX}]")
    return Design(**_table()[f"{round(p0, 3):.3f}"])


def write_table() -> int:
    """Tune the chart for every p0 of :func:`grid` and write :data:`DESIGNS_FILE`; the entries written."""
    table = {f"{p0:.3f}": asdict(tune(p0)) for p0 in grid()}
    DESIGNS_FILE.write_text(json.dumps(table, indent=0) + "\n", encoding="utf-8")
    _table.cache_clear()
    return len(table)


def tune(p0: float, shift: float = SHIFT, arl0_target: float = ARL0_TARGET) -> Design:
    """The chart for the commune's dissatisfied rate ``p0``: the smallest integer threshold with an
    in-control average run length ≥ ``arl0_target`` (bisection; the run length grows with h).

    >>> d = tune(0.1)
    >>> d.arl0 >= 500, round(d.h, 2), round(d.arl1)
    (True, 2.84, 49)
    """
    if not P0_MIN <= p0 <= P0_MAX:
        raise ValueError(f"p0 = {p0} outside [{P0_MIN}, {P0_MAX}]")
    p1 = shift * p0
    up, unit = integer_weights(p0, p1)
    lo, hi = 1, max(up, DOWN_UNITS)
    while average_run_length(p0, up, hi) < arl0_target:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if average_run_length(p0, up, mid) >= arl0_target:
            hi = mid
        else:
            lo = mid + 1
    w1, w0 = weights(p0, p1)
    return Design(
        p0=p0,
        p1=p1,
        w_dissatisfied=w1,
        w_other=w0,
        up_units=up,
        unit=unit,
        h_units=hi,
        arl0=average_run_length(p0, up, hi),
        arl1=average_run_length(p1, up, hi),
    )


@dataclass(frozen=True)
class Run:
    """The chart run over one person's answers: the statistic after each answer (in log-likelihood),
    where it signalled first (index of the answer, or None) and where its last climb from 0 began."""

    statistic: list[float]
    signal_at: int | None
    rise_start: int | None  # first answer after the statistic last stood at 0, up to the signal


def run(flags: list[bool], d: Design) -> Run:
    """Run the integer chart ``d`` over ``flags`` (True = a dissatisfied answer) up to its first signal.

    >>> d = design(0.1)
    >>> r = run([False] * 20 + [True] * 6, d)
    >>> r.signal_at, r.rise_start
    (24, 20)
    """
    s = 0
    start = None
    out = []
    for i, dissatisfied in enumerate(flags):
        s = max(0, s + (d.up_units if dissatisfied else -DOWN_UNITS))
        if s == 0:
            start = None
        elif start is None:
            start = i
        out.append(s * d.unit)
        if s >= d.h_units:
            return Run(out, i, start)
    return Run(out, None, None)
