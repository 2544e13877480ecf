"""The index of sipas-method.md §2 against hand-computed vectors, and the statistics it reports.

Independent numbers: hand calculations written out in the comments, and scipy's own Wilson interval
(``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``).
"""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from sipas.catalog import Criterion, Element, Questionnaire, questionnaire
from sipas.index.scoring import compute_index, counts_from_answers, mean_of_present
from sipas.index.stats import proportion, sample_size, wilson_interval

# A small questionnaire: element 1 has two criteria, element 2 two, element 3 one.
SMALL = Questionnaire(
    code="test",
    title="Phiếu thử",
    source="",
    elements=(
        Element("1", "Tiếp cận", (Criterion("TC1.1", "a", "1"), Criterion("TC1.2", "b", "1"))),
        Element("2", "Thủ tục", (Criterion("TC2.1", "c", "2"), Criterion("TC2.2", "d", "2"))),
        Element("3", "Công chức", (Criterion("TC3.1", "e", "3"),)),
    ),
)

# Five respondents. None = "Không ý kiến"; a missing key = the criterion was not asked.
# TC2.2 is asked of nobody; TC3.1 is asked once and answered "Không ý kiến".
RESPONDENTS = [
    {"TC1.1": 5, "TC1.2": 4, "TC2.1": 2},
    {"TC1.1": 3, "TC1.2": None, "TC2.1": 4, "TC3.1": None},
    {"TC1.1": 4, "TC1.2": 2, "TC2.1": None},
    {"TC1.1": None, "TC1.2": 5, "TC2.1": 5},
    {"TC1.1": 1, "TC2.1": 4},
]
OVERALL_ANSWERS = [5, 4, 2, None, 3]

# By hand:
#   TC1.1: answers 5, 3, 4, 1 (R4 no opinion)   -> n=4, satisfied (4–5) = 2 -> 100·2/4 = 50
#   TC1.2: answers 4, 2, 5 (R2 no opinion, R5 not asked) -> n=3, satisfied 2 -> 66.666…
#   TC2.1: answers 2, 4, 5, 4 (R3 no opinion)   -> n=4, satisfied 3 -> 75
#   TC2.2: never asked                          -> n=0 -> no index (None, not 0)
#   TC3.1: only "Không ý kiến"                  -> n=0 -> no index
#   element 1 = (50 + 66.666…)/2 = 58.333…;  element 2 = 75 (TC2.2 left out);  element 3 = None
#   overall = (58.333… + 75)/2 = 66.666… (element 3 left out; counting it as 0 would give 44.44)
#   direct overall question: 5, 4, 2, 3 -> n=4, satisfied 2 -> 50
TC12 = 100 * 2 / 3
E1 = (50 + TC12) / 2
OVERALL = (E1 + 75) / 2


def _small_result():
    counts = counts_from_answers(RESPONDENTS)
    counts["overall"] = counts_from_answers({"overall": v} for v in OVERALL_ANSWERS)["overall"]
    return compute_index(SMALL, counts, responses=5)


def test_counts_from_answers_tallies_levels_and_ignores_no_opinion():
    counts = counts_from_answers(RESPONDENTS)
    assert counts == {
        "TC1.1": (1, 0, 1, 1, 1),
        "TC1.2": (0, 1, 0, 1, 1),
        "TC2.1": (0, 1, 0, 2, 1),
        "TC3.1": (0, 0, 0, 0, 0),
    }
    assert "TC2.2" not in counts


def test_counts_from_answers_refuses_a_value_outside_1_to_5():
    with pytest.raises(ValueError, match=r"TC1\.1: 6 is not an answer 1–5"):
        counts_from_answers([{"TC1.1": 6}])
    with pytest.raises(ValueError):
        counts_from_answers([{"TC1.1": 0}])


def test_criterion_indices_by_hand():
    r = _small_result()
    got = {c.code: (c.n, c.satisfied, c.index) for c in r.criteria}
    assert got["TC1.1"] == (4, 2, 50.0)
    assert got["TC1.2"][:2] == (3, 2)
    assert got["TC1.2"][2] == pytest.approx(66.66666666666667, abs=1e-12)
    assert got["TC2.1"] == (4, 3, 75.0)
    assert got["TC2.2"] == (0, 0, None)
    assert got["TC3.1"] == (0, 0, None)
    assert [c.code for c in r.criteria] == ["TC1.1", "TC1.2", "TC2.1", "TC2.2", "TC3.1"]
    assert [c.element for c in r.criteria] == ["1", "1", "2", "2", "3"]
    # A criterion without answers has no interval either.
    no_answers = next(c for c in r.criteria if c.code == "TC2.2")
    assert (no_answers.ci_low, no_answers.ci_high) == (None, None)


def test_element_indices_average_only_criteria_with_an_index():
    r = _small_result()
    assert [(e.code, e.name) for e in r.elements] == [("1", "Tiếp cận"), ("2", "Thủ tục"), ("3", "Công chức")]
    assert r.elements[0].index == pytest.approx(58.333333333333336, abs=1e-12)
    assert r.elements[0].index == pytest.approx(E1, abs=1e-12)
    assert r.elements[1].index == 75.0
    assert r.elements[2].index is None


def test_overall_is_the_mean_of_elements_that_have_an_index():
    r = _small_result()
    assert r.overall == pytest.approx(66.66666666666667, abs=1e-12)
    assert r.overall == pytest.approx(OVERALL, abs=1e-12)
    assert r.overall != pytest.approx((E1 + 75 + 0) / 3)  # element 3 is not a zero


def test_direct_overall_question_is_reported_separately():
    r = _small_result()
    d = r.direct_overall
    assert (d.n, d.satisfied, d.index) == (4, 2, 50.0)
    # The direct question does not enter the service index: 66.67 ≠ 50.
    assert r.overall != d.index
    assert r.responses == 5


def test_no_answers_at_all_gives_no_index_anywhere():
    r = compute_index(SMALL, {}, responses=0)
    assert all(c.index is None and c.n == 0 for c in r.criteria)
    assert all(e.index is None for e in r.elements)
    assert r.overall is None
    assert (r.direct_overall.n, r.direct_overall.index) == (0, None)


def test_real_questionnaire_with_one_criterion_per_element():
    # sipas-2023: 5 elements. Only the first criterion of each element answered:
    # TC1.1 3/4 = 75; TC2.1 1/2 = 50; TC3.1 10/10 = 100; TC4.1 0/1 = 0; TC5.1 2/5 = 40.
    # overall = (75 + 50 + 100 + 0 + 40)/5 = 53 — a criterion index of 0 is a real 0 and counts.
    counts = {
        "TC1.1": (0, 1, 0, 2, 1),
        "TC2.1": (1, 0, 0, 1, 0),
        "TC3.1": (0, 0, 0, 0, 10),
        "TC4.1": (0, 0, 1, 0, 0),
        "TC5.1": (1, 1, 1, 1, 1),
    }
    r = compute_index(questionnaire("sipas-2023"), counts, responses=10)
    assert [e.index for e in r.elements] == [75.0, 50.0, 100.0, 0.0, 40.0]
    assert r.overall == 53.0
    assert len(r.criteria) == 19
    assert sum(c.index is not None for c in r.criteria) == 5


def test_to_json_dict_has_the_keys_of_data_interchange():
    d = _small_result().to_json_dict("2024-01-01", "2024-12-31")
    assert list(d) == ["questionnaire", "from", "to", "responses", "overall", "direct_overall", "elements", "criteria"]
    assert (d["questionnaire"], d["from"], d["to"], d["responses"]) == ("test", "2024-01-01", "2024-12-31", 5)
    assert list(d["direct_overall"]) == ["n", "satisfied", "index", "ci_low", "ci_high"]
    assert d["elements"][2] == {"code": "3", "name": "Công chức", "index": None}
    assert list(d["criteria"][0]) == ["code", "element", "n", "satisfied", "index", "ci_low", "ci_high"]
    assert d["criteria"][3] == {
        "code": "TC2.2",
        "element": "2",
        "n": 0,
        "satisfied": 0,
        "index": None,
        "ci_low": None,
        "ci_high": None,
    }


def test_mean_of_present():
    assert mean_of_present([80.0, None, 90.0]) == 85.0
    assert mean_of_present([None, None]) is None
    assert mean_of_present([]) is None


@pytest.mark.parametrize("k, n", [(81, 263), (0, 10), (10, 10), (2, 4), (3, 4), (1, 1), (1050, 1200), (7, 385)])
def test_wilson_interval_matches_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(expected.low, abs=1e-9)
    assert hi == pytest.approx(expected.high, abs=1e-9)
    p = proportion(k, n)
    assert (p.n, p.satisfied) == (n, k)
    assert p.index == pytest.approx(100 * k / n, abs=1e-12)
    assert p.ci_low == pytest.approx(100 * expected.low, abs=1e-7)
    assert p.ci_high == pytest.approx(100 * expected.high, abs=1e-7)


def test_wilson_interval_refuses_impossible_counts():
    with pytest.raises(ValueError, match="n must be positive"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="successes must be between 0 and n"):
        wilson_interval(5, 4)


def test_criterion_interval_is_scipy_wilson_in_percent():
    r = _small_result()
    tc21 = next(c for c in r.criteria if c.code == "TC2.1")
    ci = binomtest(3, 4).proportion_ci(method="wilson")
    assert tc21.ci_low == pytest.approx(100 * ci.low, abs=1e-9)
    assert tc21.ci_high == pytest.approx(100 * ci.high, abs=1e-9)


def test_sample_size_for_5_percent_margin():
    # n0 = 1.96² · 0.25 / 0.05² = 3.8416 · 0.25 / 0.0025 = 384.16 (384.146 with z = 1.959964) -> 385
    assert sample_size(0.05) == 385
    # p = 0.7: 1.959964² · 0.21 / 0.0025 = 322.68 -> 323
    assert sample_size(0.05, p=0.7) == 323


@pytest.mark.parametrize(
    "population, expected",
    [
        # n = n0 / (1 + (n0 − 1)/N) with n0 = 384.146:
        (1000, 278),  # 384.146 / (1 + 383.146/1000) = 384.146 / 1.383146 = 277.73 -> 278
        (500, 218),  # 384.146 / (1 + 383.146/500)  = 384.146 / 1.766292 = 217.49 -> 218
        (10000, 370),  # 384.146 / (1 + 383.146/10000) = 384.146 / 1.038315 = 369.97 -> 370
    ],
)
def test_sample_size_finite_population_correction(population, expected):
    assert sample_size(0.05, population=population) == expected


def test_sample_size_refuses_a_margin_outside_0_1():
    with pytest.raises(ValueError, match="margin must be between 0 and 1"):
        sample_size(0)
    with pytest.raises(ValueError):
        sample_size(1.5)
