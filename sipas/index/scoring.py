"""The index exactly as sipas-method.md §2 defines it: pure functions, answers in, indices out.

- criterion index = 100 × (answers 4–5) / (answers 1–5); unanswered and not-asked items are out of
  the denominator; a criterion with no answers has no index (None, never 0);
- element index = unweighted mean of the indices of its criteria that have one;
- overall service index = unweighted mean of the element indices that have one;
- the direct overall question is reported on its own (% of 4–5).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from sipas import db
from sipas.catalog import Questionnaire, questionnaire
from sipas.index.stats import Proportion, proportion

Counts = tuple[int, int, int, int, int]  # answers at levels 1..5


@dataclass(frozen=True)
class CriterionResult:
    code: str
    element: str
    n: int
    satisfied: int
    index: float | None
    ci_low: float | None
    ci_high: float | None
    counts: Counts


@dataclass(frozen=True)
class ElementResult:
    code: str
    name: str
    index: float | None


@dataclass(frozen=True)
class IndexResult:
    questionnaire: str
    responses: int
    overall: float | None
    direct_overall: Proportion
    elements: tuple[ElementResult, ...]
    criteria: tuple[CriterionResult, ...]

    def to_json_dict(self, date_from: str | None, date_to: str | None) -> dict:
        """The ``index --json`` object of data-interchange.md."""
        d = self.direct_overall
        return {
            "questionnaire": self.questionnaire,
            "from": date_from,
            "to": date_to,
            "responses": self.responses,
            "overall": self.overall,
            "direct_overall": {
                "n": d.n,
                "satisfied": d.satisfied,
                "index": d.index,
                "ci_low": d.ci_low,
                "ci_high": d.ci_high,
            },
            "elements": [asdict(e) for e in self.elements],
            "criteria": [
                {
                    "code": c.code,
                    "element": c.element,
                    "n": c.n,
                    "satisfied": c.satisfied,
                    "index": c.index,
                    "ci_low": c.ci_low,
                    "ci_high": c.ci_high,
                }
                for c in self.criteria
            ],
        }


def mean_of_present(values: Iterable[float | None]) -> float | None:
    """Unweighted mean of the values that are not None; None if there are none.

    >>> mean_of_present([80.0, None, 90.0])
    85.0
    """
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def counts_from_answers(answers: Iterable[Mapping[str, int | None]]) -> dict[str, Counts]:
    """Tally per-respondent answer dicts ({code: 1–5 or None}) into counts of each level.

    None (Không ý kiến) and codes missing from a respondent (not asked) are not counted.

    >>> counts_from_answers([{"TC1.1": 5}, {"TC1.1": None}, {"TC1.1": 2}])["TC1.1"]
    (0, 1, 0, 0, 1)
    """
    tally: dict[str, list[int]] = {}
    for respondent in answers:
        for code, value in respondent.items():
            row = tally.setdefault(code, [0, 0, 0, 0, 0])
            if value is None:
                continue
            if value not in (1, 2, 3, 4, 5):
                raise ValueError(f"{code}: {value!r} is not an answer 1–5")
            row[value - 1] += 1
    return {code: tuple(row) for code, row in tally.items()}


def criterion_result(code: str, element: str, counts: Counts) -> CriterionResult:
    n = sum(counts)
    satisfied = counts[3] + counts[4]
    p = proportion(satisfied, n)
    return CriterionResult(code, element, n, satisfied, p.index, p.ci_low, p.ci_high, tuple(counts))


def compute_index(questionnaire: Questionnaire, counts: Mapping[str, Counts], responses: int) -> IndexResult:
    """Criterion, element and overall indices from per-criterion level counts.

    ``counts`` may hold the key ``'overall'`` for the direct overall question; criteria of the
    questionnaire missing from it have no answers.

    >>> from sipas.catalog import questionnaire
    >>> r = compute_index(questionnaire("sipas-2023"), {"TC1.1": (0, 1, 0, 2, 1)}, 4)
    >>> r.criteria[0].index, r.elements[0].index, r.overall
    (75.0, 75.0, 75.0)
    """
    zero: Counts = (0, 0, 0, 0, 0)
    criteria = tuple(
        criterion_result(c.code, c.element, tuple(counts.get(c.code, zero))) for c in questionnaire.criteria
    )
    by_element: dict[str, list[float | None]] = {}
    for c in criteria:
        by_element.setdefault(c.element, []).append(c.index)
    elements = tuple(
        ElementResult(e.code, e.name, mean_of_present(by_element.get(e.code, []))) for e in questionnaire.elements
    )
    overall_counts = counts.get("overall", zero)
    direct = proportion(overall_counts[3] + overall_counts[4], sum(overall_counts))
    return IndexResult(
        questionnaire=questionnaire.code,
        responses=responses,
        overall=mean_of_present(e.index for e in elements),
        direct_overall=direct,
        elements=elements,
        criteria=criteria,
    )


def index_for_period(
    conn: sqlite3.Connection, version: str, date_from: str | None = None, date_to: str | None = None
) -> IndexResult:
    """The index of the non-excluded responses of ``version`` in [date_from, date_to] (local dates).

    The one function here that reads the store: baseline and analysis both build on it."""
    q = questionnaire(version)
    counts = db.level_counts(conn, version, date_from, date_to)
    responses = db.responses_in_range(conn, version, date_from, date_to)
    return compute_index(q, counts, responses)
