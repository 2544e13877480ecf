"""The Bernoulli CUSUM on a staff member's dissatisfied answers (sipas.index.cusum): for each commune rate
p0, the weights, the tuned threshold h (the smallest with an in-control average run length ≥ 500 answers)
and its run lengths — exact for the integer chart (Markov chain) and from a fixed-seed simulation of the
same chart — in control (p = p0) and at a doubling (p = 2·p0).

Run: python bench/bench_cusum.py [--runs 4000] [--seed 2024] [--write]   (prints a Markdown table for
bench/RESULTS.md; ``--write`` also writes the tuned chart of every p0 to data/cusum-designs.json, which the
product reads)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from sipas.index import cusum  # noqa: E402

P0S = (0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15, 0.20, 0.30)


def simulate(p: float, d: cusum.Design, runs: int, rng: np.random.Generator) -> tuple[float, float]:
    """(mean run length, its standard error) of ``runs`` charts ``d`` on answers dissatisfied with ``p``."""
    s = np.zeros(runs, dtype=np.int64)
    length = np.zeros(runs, dtype=np.int64)
    alive = np.ones(runs, dtype=bool)
    while alive.any():
        x = rng.random(alive.sum()) < p
        s[alive] = np.maximum(0, s[alive] + np.where(x, d.up_units, -cusum.DOWN_UNITS))
        length[alive] += 1
        alive &= s < d.h_units
    return float(length.mean()), float(length.std(ddof=1) / np.sqrt(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--write", action="store_true", help="write data/cusum-designs.json")
    args = parser.parse_args()
    if args.write:
        print(f"{cusum.write_table()} charts written to {cusum.DESIGNS_FILE.name}\n")
    rng = np.random.default_rng(args.seed)
    print(f"Fixed seed {args.seed}, {args.runs} simulated charts per cell; w(0) = −{cusum.DOWN_UNITS} units.\n")
    print("| p0 | w(1) = ln(p1/p0) | w(0) = ln((1−p1)/(1−p0)) | w(1) used (units) | h (units) | ARL0 exact | "
          "ARL0 simulated | ARL1 exact (p1 = 2·p0) | ARL1 simulated |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for p0 in P0S:
        d = cusum.tune(p0)
        a0, e0 = simulate(p0, d, args.runs, rng)
        a1, e1 = simulate(d.p1, d, args.runs, rng)
        print(
            f"| {p0:.3f} | {d.w_dissatisfied:.4f} | {d.w_other:.5f} | {d.up_units * d.unit:.4f} ({d.up_units}) | "
            f"{d.h:.3f} ({d.h_units}) | {d.arl0:.1f} | {a0:.1f} ± {e0:.1f} | {d.arl1:.1f} | {a1:.1f} ± {e1:.1f} |"
        )


if __name__ == "__main__":
    main()
