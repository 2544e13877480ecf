"""Data quality: flag responses that may not be genuine, and exclude or restore them with a reason.

Flags (a flag is a question for the clerk, never an automatic exclusion):
- **burst**: at least 3 responses from one tablet (``device``) within 60 seconds — someone tapping
  through surveys; responses without a device name (paper, unnamed tablets) cannot be judged;
- **straight-lining**: the same level for every asked criterion, at least 5 criteria, and submitted
  implausibly fast (under 20 seconds) or with no time taken recorded;
- **out of hours**: submitted when the counter was closed (``settings.is_open``), or marked so by the
  kiosk when it was stored.

The flag functions take a DataFrame (the rows of :func:`sipas.db.quality_candidates`) and return a
boolean Series aligned with it. :func:`exclude` and :func:`restore` go through
:func:`sipas.db.set_excluded_many` (all the chosen responses or none), which logs who, when and why in
the audit log; the index leaves excluded responses out through the roll-up triggers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sipas import db
from sipas.errors import ValidationError
from sipas.text import text_problem

BURST_MIN = 3
BURST_WINDOW_SECONDS = 60
STRAIGHT_MIN_CRITERIA = 5
STRAIGHT_MAX_SECONDS = 20.0
MIN_REASON = 3

FLAG_LABELS = {
    "burst": "Gửi dồn dập từ một máy",
    "straight": "Chọn cùng một mức cho mọi tiêu chí, làm quá nhanh",
    "hours": "Ngoài giờ làm việc",
}


def _times(df: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(df["submitted_at"], format="ISO8601")


def burst_flags(df: pd.DataFrame, min_count: int = BURST_MIN, window_seconds: int = BURST_WINDOW_SECONDS) -> pd.Series:
    """True for every response that is one of ≥ ``min_count`` from the same device within ``window_seconds``.

    >>> f = pd.DataFrame({"submitted_at": ["2024-05-06 08:00:00", "2024-05-06 08:00:20",
    ...                                    "2024-05-06 08:00:59", "2024-05-06 08:05:00"],
    ...                   "device": ["quay1"] * 4})
    >>> burst_flags(f).tolist()
    [True, True, True, False]
    """
    out = pd.Series(False, index=df.index)
    known = df["device"].notna() & (df["device"].astype("string").str.strip() != "")
    if known.sum() < min_count:
        return out
    sub = df.loc[known]
    seconds = (_times(sub).astype("datetime64[s]").astype("int64")).to_numpy()
    group = pd.factorize(sub["device"].astype(str))[0].astype("int64")
    # One sorted key per (device, time): groups are 1e11 s apart, far more than any window.
    key = group * 100_000_000_000 + seconds
    order = np.argsort(key, kind="stable")
    k = key[order]
    ends = np.searchsorted(k, k + window_seconds, side="right")
    starts = np.arange(len(k))
    qualifying = (ends - starts) >= min_count
    cover = np.zeros(len(k) + 1, dtype=np.int64)
    np.add.at(cover, starts[qualifying], 1)
    np.add.at(cover, ends[qualifying], -1)
    flagged_sorted = np.cumsum(cover[:-1]) > 0
    flagged = np.empty(len(k), dtype=bool)
    flagged[order] = flagged_sorted
    out.loc[sub.index] = flagged
    return out


def straightlining_flags(
    df: pd.DataFrame, min_criteria: int = STRAIGHT_MIN_CRITERIA, max_seconds: float = STRAIGHT_MAX_SECONDS
) -> pd.Series:
    """True where every asked criterion (≥ ``min_criteria``) got the same level and the survey took
    under ``max_seconds`` (or its duration is unknown).

    Columns used: ``asked``, ``answered`` (asked criteria with a level), ``lo``, ``hi`` (lowest and
    highest level), ``duration_seconds``.

    >>> f = pd.DataFrame({"asked": [6, 6, 6, 4], "answered": [6, 6, 5, 4], "lo": [5, 5, 5, 1],
    ...                   "hi": [5, 5, 5, 1], "duration_seconds": [12.0, 45.0, 10.0, None]})
    >>> straightlining_flags(f).tolist()
    [True, False, False, False]
    """
    asked = pd.to_numeric(df["asked"], errors="coerce").fillna(0)
    answered = pd.to_numeric(df["answered"], errors="coerce").fillna(0)
    same = (asked >= min_criteria) & (answered == asked) & (df["lo"] == df["hi"]) & df["lo"].notna()
    duration = pd.to_numeric(df["duration_seconds"], errors="coerce")
    fast = duration.isna() | (duration < max_seconds)
    return (same & fast).astype(bool)


def out_of_hours_flags(df: pd.DataFrame, hours: dict) -> pd.Series:
    """True where the counter was closed at ``submitted_at`` by ``hours`` (same rule as ``settings.is_open``),
    or where the kiosk stored the response with its out-of-hours mark.

    >>> h = {"days": [0, 1, 2, 3, 4], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]}
    >>> f = pd.DataFrame({"submitted_at": ["2024-04-15 08:00:00", "2024-04-15 12:00:00", "2024-04-14 08:00:00"]})
    >>> out_of_hours_flags(f, h).tolist()
    [False, True, True]
    """
    t = _times(df)
    hhmm = t.dt.strftime("%H:%M")
    open_now = pd.Series(False, index=df.index)
    for a, b in hours["periods"]:
        open_now |= (hhmm >= a) & (hhmm < b)
    open_now &= t.dt.weekday.isin(hours["days"])
    closed = ~open_now
    if "out_of_hours" in df:
        closed |= df["out_of_hours"].fillna(0).astype(bool)
    return closed.astype(bool)


def flag_responses(df: pd.DataFrame, hours: dict) -> pd.DataFrame:
    """The flagged rows of ``df`` with a ``flags`` column (codes) and a Vietnamese ``reasons`` column."""
    if df.empty:
        return df.assign(flags=pd.Series(dtype=object), reasons=pd.Series(dtype=object))
    checks = {"burst": burst_flags(df), "straight": straightlining_flags(df), "hours": out_of_hours_flags(df, hours)}
    any_flag = checks["burst"] | checks["straight"] | checks["hours"]
    flagged = df.loc[any_flag].copy()
    if flagged.empty:  # responses, none flagged: the text columns below cannot be built from empty series
        return flagged.assign(flags=pd.Series(dtype=object), reasons=pd.Series(dtype=object)).reset_index(drop=True)
    marks = {name: series.loc[any_flag] for name, series in checks.items()}
    texts = {name: _reasons(name, flagged) for name in checks}
    # Vectorised: one column of reason texts per check, joined where the check fired (a month of a busy
    # counter can have tens of thousands of rows).
    parts = pd.DataFrame({name: texts[name].where(marks[name], "") for name in checks})
    flagged["reasons"] = ["; ".join(t for t in row if t) for row in parts.itertuples(index=False)]
    flagged["flags"] = [
        [name for name, hit in zip(checks, row, strict=True) if hit]
        for row in zip(*(marks[n] for n in checks), strict=True)
    ]
    return flagged.reset_index(drop=True)


def _reasons(code: str, frame: pd.DataFrame) -> pd.Series:
    if code == "burst":
        return (
            f"{FLAG_LABELS['burst']} ("
            + frame["device"].astype("string").fillna("")
            + f"): ≥ {BURST_MIN} phiếu trong {BURST_WINDOW_SECONDS} giây"
        ).astype(object)
    if code == "straight":
        duration = pd.to_numeric(frame["duration_seconds"], errors="coerce")
        took = duration.map(lambda d: "không rõ thời gian làm phiếu" if pd.isna(d) else f"làm trong {d:.0f} giây")
        level = pd.to_numeric(frame["lo"], errors="coerce").map(lambda v: "" if pd.isna(v) else str(int(v)))
        asked = pd.to_numeric(frame["asked"], errors="coerce").map(lambda v: "" if pd.isna(v) else str(int(v)))
        return ("Chọn mức " + level + " cho cả " + asked + " tiêu chí, " + took).astype(object)
    return pd.Series(FLAG_LABELS["hours"], index=frame.index, dtype=object)


def load_flags(
    conn: sqlite3.Connection,
    hours: dict,
    date_from: str | None = None,
    date_to: str | None = None,
    questionnaire: str | None = None,
) -> pd.DataFrame:
    """Flag the responses of a period (excluded ones included, so they can be restored)."""
    rows = db.quality_candidates(conn, date_from, date_to, questionnaire, STRAIGHT_MIN_CRITERIA)
    columns = [
        "id",
        "submitted_at",
        "channel",
        "device",
        "duration_seconds",
        "out_of_hours",
        "excluded",
        "exclude_reason",
        "comment",
        "asked",
        "answered",
        "lo",
        "hi",
    ]
    return flag_responses(pd.DataFrame(rows, columns=columns), hours)


def _check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ValidationError("Cần ghi lý do (ít nhất 3 ký tự) để loại hoặc khôi phục phiếu.")
    problem = text_problem(text, "Lý do")
    if problem:
        raise ValidationError(problem)
    return text[:500]


SUSPECT_PREFIX = "Nghi vấn lạm dụng"  # the reasons sipas.survey.tablet.suspect_reason gives


def suspect_surveys(conn: sqlite3.Connection, limit: int = 500) -> list[dict]:
    """Kiosk surveys stored as suspect (misuse) and not restored, newest first, with their reason."""
    return [
        {
            "Số phiếu": r["id"],
            "Gửi lúc": r["submitted_at"],
            "Máy": r["device"],
            "Thời gian làm (giây)": r["duration_seconds"],
            "Lý do": r["exclude_reason"],
        }
        for r in db.suspect_kiosk_surveys(conn, SUSPECT_PREFIX, limit)
    ]


def restore_suspect(conn: sqlite3.Connection, response_id: int, reason: str, actor: str | None) -> None:
    """Count one suspect kiosk survey again (logged with who and why); ValidationError when the
    number is not a suspect survey still excluded."""
    ids = {r["id"] for r in db.suspect_kiosk_surveys(conn, SUSPECT_PREFIX, 100_000)}
    if response_id not in ids:
        raise ValidationError(f"Phiếu số {response_id} không nằm trong danh sách phiếu nghi vấn lạm dụng.")
    restore(conn, [response_id], reason, actor)


def exclude(conn: sqlite3.Connection, response_ids: Iterable[int], reason: str, actor: str | None) -> int:
    """Leave responses out of the index, with a reason (logged); return how many were excluded."""
    return _set_excluded(conn, response_ids, True, reason, actor)


def restore(conn: sqlite3.Connection, response_ids: Iterable[int], reason: str, actor: str | None) -> int:
    """Count excluded responses in the index again, with a reason (logged); return how many."""
    return _set_excluded(conn, response_ids, False, reason, actor)


def _set_excluded(
    conn: sqlite3.Connection, response_ids: Iterable[int], excluded: bool, reason: str, actor: str | None
) -> int:
    # All or nothing: an unknown id among several leaves every response as it was.
    text = _check_reason(reason)
    ids = [int(i) for i in response_ids]
    if not ids:
        raise ValidationError("Chưa chọn phiếu nào.")
    try:
        db.set_excluded_many(conn, ids, excluded, text, actor)
    except KeyError as exc:
        raise ValidationError(f"Không có phiếu số {exc.args[0]}.") from None
    return len(ids)
