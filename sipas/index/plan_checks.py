"""Whether the period's figures can be judged, and against what: the 2024 plan's three rules, the warning
below the minimum number of responses, the answers still needed for a ±margin interval, and whether the
year's target is still reachable.

Below :data:`MIN_VERDICT_N` responses (or answers to a criterion) no rule is judged: with n < 30 the
interval is wider than ±18 points, so a "chưa đạt" would be noise (sipas-method.md §2).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, replace
from datetime import date

from sipas import clock
from sipas.catalog import questionnaire
from sipas.index import comparison
from sipas.index.scoring import IndexResult
from sipas.index.selection import Filters, level_counts_for
from sipas.index.stats import sample_size

# Below this many responses (or answers to a criterion) the plan's rules are not judged: with n < 30
# the interval is wider than ±18 points, so a "chưa đạt" would be noise. sipas-method.md §2.
MIN_VERDICT_N = 30
NOT_ENOUGH_TO_JUDGE = "chưa đủ phiếu để kết luận"


def small_sample_warning(result: IndexResult, min_n: int = MIN_VERDICT_N, margin: float = 0.05) -> str | None:
    """A plain warning when the period's figures rest on too few answers, or None when they do not.

    >>> from sipas.index.scoring import compute_index
    >>> r = compute_index(questionnaire("sipas-2023"), {}, 13)
    >>> small_sample_warning(r).startswith("Chỉ có 13 phiếu")
    True
    """
    if result.responses < min_n:
        return (
            f"Chỉ có {result.responses} phiếu trong kỳ (cần ít nhất {min_n}): các con số dưới đây chỉ để tham "
            f"khảo, {NOT_ENOUGH_TO_JUDGE}."
        )
    answered = [c.n for c in result.criteria if c.n]
    need = sample_size(margin=margin)
    if answered and min(answered) < need:
        return (
            f"Tiêu chí ít câu trả lời nhất có {min(answered)} câu trả lời, chưa đủ {need} câu để sai số "
            f"±{clock.format_plain(margin * 100)}% (tin cậy 95%): đọc các chênh lệch nhỏ một cách thận trọng."
        )
    return None


def rule_checklist(
    result: IndexResult, targets: dict, bands: list, min_n: int = MIN_VERDICT_N
) -> list[tuple[str, bool | None, str]]:
    """The 2024 plan's three rules: (rule, passed or None when unknown, what fails).

    With fewer than ``min_n`` responses no rule is judged (None, "chưa đủ phiếu để kết luận"); a
    criterion with fewer than ``min_n`` answers is left out of the lists of failures.
    """
    q = questionnaire(result.questionnaire)
    names = {c.code: c.code for c in q.criteria}
    overall_t, floor = targets["overall"], targets["floor"]
    weakest = bands[-1][0] if bands else "Yếu"
    titles = (
        f"Chỉ số chung ≥ {clock.format_plain(overall_t)}%",
        f"Không yếu tố, tiêu chí nào dưới {clock.format_plain(floor)}%",
        f"Không chỉ số nào ở mức “{weakest}”",
    )
    if 0 < result.responses < min_n:
        return [(t, None, f"{result.responses} phiếu, {NOT_ENOUGH_TO_JUDGE}.") for t in titles]
    judged = [c for c in result.criteria if c.index is not None and c.n >= min_n]
    rules = []
    if result.overall is None:
        rules.append((titles[0], None, "Chưa có dữ liệu."))
    else:
        ok = result.overall >= overall_t
        rules.append((titles[0], ok, "" if ok else f"Chỉ số chung {clock.format_percent(result.overall, 2)}."))
    low = [
        f"Yếu tố {e.code} ({clock.format_percent(e.index, 2)})"
        for e in result.elements
        if e.index is not None and e.index < floor
    ]
    low += [f"{names[c.code]} ({clock.format_percent(c.index, 2)})" for c in judged if c.index < floor]
    has_any = bool(judged)
    rules.append((titles[1], None if not has_any else not low, "; ".join(low)))
    weak = [f"Yếu tố {e.code}" for e in result.elements if comparison.band(e.index, bands) == weakest]
    weak += [c.code for c in judged if comparison.band(c.index, bands) == weakest]
    if result.overall is not None and comparison.band(result.overall, bands) == weakest:
        weak.insert(0, "Chỉ số chung")
    rules.append((titles[2], None if not has_any else not weak, "; ".join(weak)))
    return rules


@dataclass(frozen=True)
class SampleStatus:
    """Answers needed for a ±margin interval this period: for the criterion with the fewest answers."""

    code: str | None
    n: int
    required: int
    needed: int
    margin: float
    population: int | None


def sample_status(result: IndexResult, margin: float = 0.05, population: int | None = None) -> SampleStatus:
    """How many more answers the least-answered criterion needs for ±margin at 95% (p = 0.5, worst case);
    with the number of dossiers N of the period, the finite-population correction n₀/(1 + (n₀ − 1)/N).

    >>> from sipas.catalog import questionnaire as q
    >>> from sipas.index.scoring import compute_index
    >>> r = compute_index(q("sipas-2023"), {c: (0, 0, 0, 50, 50) for c in q("sipas-2023").criterion_codes}, 100)
    >>> s = sample_status(r)
    >>> s.required, s.needed, sample_status(r, population=1000).required
    (385, 285, 278)
    """
    weakest = min(result.criteria, key=lambda c: c.n) if result.criteria else None
    n = weakest.n if weakest else 0
    required = sample_size(margin, 0.5, population)
    return SampleStatus(
        weakest.code if weakest else None,
        n,
        required,
        comparison.needed_for_precision(n, margin, 0.5, population),
        margin,
        population,
    )


@dataclass(frozen=True)
class TargetStatus:
    """Whether the year's target is still reachable, from the pooled criterion answers so far."""

    year: int
    satisfied: int
    n: int
    share: float | None
    expected_total: int
    reachable: bool | None
    needed_share: float | None


def target_status(satisfied: int, n: int, elapsed_days: int, year_days: int, target: float, year: int) -> TargetStatus:
    """Extrapolate the year's answers at the pace so far, then ask comparison.target_still_reachable.

    Hand check: 3660 expected, (87 × 3660 − 100 × 800) / 2660 = 89.63% of the rest must be satisfied.

    >>> t = target_status(800, 1000, 100, 366, 87.0, 2024)
    >>> t.expected_total, t.reachable, round(t.needed_share, 2)
    (3660, True, 89.63)
    """
    if n == 0 or elapsed_days <= 0:
        return TargetStatus(year, satisfied, n, None, 0, None, None)
    expected = max(n, math.ceil(n * year_days / elapsed_days))
    reachable, needed = comparison.target_still_reachable(satisfied, n, expected, target)
    return TargetStatus(
        year, satisfied, n, 100.0 * satisfied / n, expected, reachable, None if math.isinf(needed) else needed
    )


def year_target_status(
    conn: sqlite3.Connection, f: Filters, year: int, target: float, today: date | None = None
) -> TargetStatus:
    """The target check for ``year`` with the page's filters other than dates."""
    today = today or clock.today()
    first, last = date(year, 1, 1), date(year, 12, 31)
    upto = min(today, last)
    year_days = (last - first).days + 1
    if upto < first:
        return TargetStatus(year, 0, 0, None, 0, None, None)
    g = replace(f, date_from=first.isoformat(), date_to=upto.isoformat())
    counts, _ = level_counts_for(conn, g)
    criteria = set(questionnaire(f.questionnaire).criterion_codes)
    sat = sum(v[3] + v[4] for k, v in counts.items() if k in criteria)
    n = sum(sum(v) for k, v in counts.items() if k in criteria)
    return target_status(sat, n, (upto - first).days + 1, year_days, target, year)
