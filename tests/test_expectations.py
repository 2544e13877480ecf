"""What citizens most want improved (Câu 10 of sipas-2024; "mong muốn" of older forms): counted from the
stored answers, each share with its n and a Wilson interval checked against scipy."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

import pytest
from scipy.stats import binomtest

from sipas import clock, db
from sipas.index.expectations import expectations_table
from sipas.index.selection import Filters
from sipas.survey.responses import KioskSurvey, submit_kiosk_survey

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=clock.TZ)


def _store(conn, version: str, expectations, **extra) -> int:
    s = KioskSurvey(
        token=str(uuid.uuid4()),
        questionnaire=version,
        asked=["TC3.1"],
        answers={"TC3.1": 4},
        extra={"expectations": expectations} if expectations is not None else {},
        **extra,
    )
    assert submit_kiosk_survey(conn, s, now=NOW)
    return conn.execute("SELECT id FROM responses WHERE token = ?", (s.token,)).fetchone()[0]


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return 100 * ci.low, 100 * ci.high


def test_cau_10_levels_counted_per_item_most_wished_first_with_wilson_intervals(conn):
    # MM7 (staff attitude): 4, 4, 3, 1, 2 → 3 of 5 at "Mong muốn" or above; MM1: 1, 2 → 0 of 2;
    # MM5: 4 → 1 of 1; the other seven items unanswered.
    for levels in ({"MM7": 4, "MM1": 1}, {"MM7": 4, "MM1": 2, "MM5": 4}, {"MM7": 3}, {"MM7": 1}, {"MM7": 2}):
        _store(conn, "sipas-2024", levels)
    _store(conn, "sipas-2024", None)  # did not answer Câu 10
    table = expectations_table(conn, Filters("sipas-2024"))
    assert table.mode == "rating" and table.respondents == 5
    frame = table.frame.set_index("Số")
    assert list(table.frame["Số"][:3]) == [5, 7, 1]  # 100 %, 60 %, 0 %; then the unanswered, in form order
    mm7 = frame.loc[7]
    assert mm7["Nội dung"].startswith("Nâng cao tinh thần, thái độ phục vụ")
    assert (mm7["n"], mm7["Không mong muốn"], mm7["Khá mong muốn"], mm7["Mong muốn"], mm7["Rất mong muốn"]) == (
        5, 1, 1, 1, 2
    )  # fmt: skip
    assert mm7["% mong muốn trở lên"] == pytest.approx(60.0)
    assert (mm7["KTC 95% thấp"], mm7["KTC 95% cao"]) == pytest.approx(_wilson(3, 5))
    assert frame.loc[1, "% mong muốn trở lên"] == 0 and frame.loc[1, "n"] == 2
    assert (frame.loc[1, "KTC 95% thấp"], frame.loc[1, "KTC 95% cao"]) == pytest.approx(_wilson(0, 2))
    assert frame.loc[2, "n"] == 0 and math.isnan(frame.loc[2, "% mong muốn trở lên"])  # no answer: no share, not 0


def test_the_filters_and_exclusions_of_the_page_apply(conn):
    kiosk = _store(conn, "sipas-2024", {"MM7": 4}, field="Hộ tịch")
    _store(conn, "sipas-2024", {"MM7": 1}, field="Đất đai")
    assert expectations_table(conn, Filters("sipas-2024", field="Hộ tịch")).frame.set_index("Số").loc[7, "n"] == 1
    db.set_excluded(conn, kiosk, True, "trùng", "test")
    row = expectations_table(conn, Filters("sipas-2024")).frame.set_index("Số").loc[7]
    assert (row["n"], row["% mong muốn trở lên"]) == (1, 0)
    assert expectations_table(conn, Filters("sipas-2024", date_from="2026-03-11")).respondents == 0


def test_older_forms_count_the_options_chosen_among_those_who_answered(conn):
    opts = ["Thái độ phục vụ của công chức", "Năng lực của công chức"]
    _store(conn, "sipas-2023", opts)
    _store(conn, "sipas-2023", opts[:1])
    _store(conn, "sipas-2023", None)
    _store(conn, "sipas-2024", {"MM7": 4})  # another version: not in this table
    table = expectations_table(conn, Filters("sipas-2023"))
    assert table.mode == "choose" and table.respondents == 2
    frame = table.frame.set_index("Nội dung")
    assert (frame.loc[opts[0], "Số người chọn"], frame.loc[opts[0], "% chọn"]) == (2, 100.0)
    assert (frame.loc[opts[1], "Số người chọn"], frame.loc[opts[1], "n"]) == (1, 2)
    assert (frame.loc[opts[1], "KTC 95% thấp"], frame.loc[opts[1], "KTC 95% cao"]) == pytest.approx(_wilson(1, 2))
    assert table.frame["Số người chọn"].sum() == 3 and len(table.frame) == 6
    assert table.frame["Nội dung"].iloc[0] == opts[0]  # most chosen first
