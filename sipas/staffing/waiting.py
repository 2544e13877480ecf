"""Waiting time and staffing at the counter: the data, the weekday × hour picture, and what to change.

The data (issue 6):

* the queue-ticket log of a ticket machine, imported from CSV/XLSX all or nothing
  (:func:`sipas.files.tickets.import_tickets`): the wait is ``called_at − issued_at``, the service time
  ``finished_at − called_at``; a ticket is one per (ticket_id, issue day), so a re-imported log
  counts nothing twice;
* without a machine, the dossiers each counter received per hour, typed by the clerk per day
  (:func:`save_daily_counts`); a day with tickets uses the tickets, not the typed counts;
* the wait each citizen reported in the survey (its wait bucket) and the overall question;
* the settings: target wait, target share, mean service time per lĩnh vực, counters open per hour.

From them: per weekday × hour the mean arrivals over the days observed, the median and 90th
percentile of the measured waits and the share waiting longer than the target, beside the share
satisfied (:func:`slot_table`); satisfaction by reported wait (:func:`wait_bucket_table`); for each
hour the counter is open, the counters Erlang C needs next to those open (:func:`staffing_table`),
merged into recommendations (:func:`recommendations`) that become a staffing case for the Chairman
(:func:`sipas.cases.proposals.open_staffing_case`), and once the measure is applied, before vs after at
those hours (:func:`sipas.cases.effects.staffing_effect`).

Percentiles are linear interpolation between order statistics (numpy's default, R type 7).
No Streamlit here; SQL only through :mod:`sipas.db`.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from sipas import clock, db
from sipas.admin import settings
from sipas.admin.settings import WEEKDAYS
from sipas.catalog import WAIT_BUCKETS, survey_options
from sipas.errors import ValidationError
from sipas.index.comparison import TestResult, two_proportion_test
from sipas.index.stats import proportion
from sipas.staffing.erlang import counters_available, hour_requirement

MIN_SERVICE_TICKETS = 5  # fewer finished tickets of a service: use the service time from the settings

ASSUMPTIONS = (
    "Mô hình Erlang C (M/M/c) giả định: người dân đến ngẫu nhiên theo phân phối Poisson, không ai bỏ về "
    "khi đang chờ, mọi quầy phục vụ chung một hàng chờ và thời gian phục vụ phân phối mũ. Thực tế ở quầy, "
    "người dân thường đến dồn cục hơn thế, nên số quầy mô hình tính ra là mức tối thiểu (sàn), cần đặt "
    "cạnh thời gian chờ đo được."
)


# ============================================================================ hourly dossier counts


def open_hours(opening_hours: dict) -> list[int]:
    """Hours of the day (0–23) that any opening period touches.

    >>> open_hours({"days": [0], "periods": [["07:00", "11:30"], ["13:30", "17:00"]]})
    [7, 8, 9, 10, 11, 13, 14, 15, 16]
    """
    return [h for h in range(24) if open_fraction(opening_hours, h) > 0]


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def open_fraction(opening_hours: dict, hour: int) -> float:
    """Share of the hour [hour:00, hour+1:00) inside the opening periods (ignoring the days).

    >>> open_fraction({"days": [0], "periods": [["07:00", "11:30"]]}, 11)
    0.5
    """
    lo, hi = hour * 60, hour * 60 + 60
    inside = sum(max(0, min(hi, _minutes(b)) - max(lo, _minutes(a))) for a, b in opening_hours["periods"])
    return min(1.0, inside / 60)


def daily_counts_grid(
    conn: sqlite3.Connection, day: date, counter_names: list[str], opening_hours: dict
) -> pd.DataFrame:
    """The table the clerk fills for one day: a row per open hour ("Giờ"), a column per counter.

    Stored counts are filled in; hours or counters stored earlier but no longer in the settings are kept.
    """
    stored = db.hourly_dossier_rows(conn, day.isoformat(), day.isoformat())
    counters = list(dict.fromkeys([*counter_names, *(r["counter"] for r in stored)]))
    hours = sorted(set(open_hours(opening_hours)) | {r["hour"] for r in stored})
    values = {(r["counter"], r["hour"]): r["dossiers"] for r in stored}
    frame = pd.DataFrame({"Giờ": hours})
    for c in counters:
        frame[c] = pd.array([values.get((c, h), 0) for h in hours], dtype="Int64")
    return frame


def save_daily_counts(
    conn: sqlite3.Connection, day: date, grid: pd.DataFrame, actor: str | None, now: datetime | None = None
) -> int:
    """Validate and store one day's counts (replacing that day's); return the dossiers recorded.

    ``grid`` has a "Giờ" column (0–23) and one column per counter; an empty cell counts as 0.
    """
    now = now or clock.now()
    problems = []
    if day > now.date():
        problems.append(f"Ngày {day.strftime('%d/%m/%Y')} ở trong tương lai.")
    if "Giờ" not in grid.columns:
        raise ValidationError("Bảng thiếu cột Giờ.")
    rows: list[tuple[str, int, int]] = []
    seen_hours: set[int] = set()
    for _, r in grid.iterrows():
        hour = r["Giờ"]
        if pd.isna(hour) or float(hour) != int(hour) or not 0 <= int(hour) <= 23:
            problems.append(f'Giờ "{hour}" không hợp lệ (0–23).')
            continue
        hour = int(hour)
        if hour in seen_hours:
            problems.append(f"Giờ {hour}:00 bị nhập hai lần.")
            continue
        seen_hours.add(hour)
        for counter in grid.columns:
            if counter == "Giờ":
                continue
            name = str(counter).strip()
            value = r[counter]
            if value is None or pd.isna(value):
                value = 0
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = -1.0
            if not number.is_integer() or number < 0 or number > 10000:
                shown = int(value) if isinstance(value, float) and value.is_integer() else value
                problems.append(f'Giờ {hour}:00, {name}: giá trị "{shown}" không hợp lệ, chỉ nhận số nguyên ≥ 0.')
                continue
            if not name:
                problems.append("Tên quầy không được trống.")
                continue
            rows.append((name, hour, int(number)))
    if problems:
        raise ValidationError(problems)
    with db.transaction(conn):
        db.replace_hourly_dossiers(conn, day.isoformat(), rows, actor, clock.format_ts(now))
    return sum(n for _, _, n in rows)


# ============================================================================ loading

TICKET_FRAME_COLUMNS = [
    "ticket_id",
    "day",
    "service",
    "counter",
    "issued_at",
    "called_at",
    "finished_at",
    "weekday",
    "hour",
    "key",
    "wait_minutes",
    "service_minutes",
]


def ticket_frame(rows: list[dict]) -> pd.DataFrame:
    """Tickets as a frame with weekday (Monday = 0), hour of issue, the service key (service, else
    counter), the wait and the service time in minutes (NaN where not called / not finished)."""
    frame = pd.DataFrame(
        rows, columns=["ticket_id", "day", "service", "counter", "issued_at", "called_at", "finished_at"]
    )
    for col in ("issued_at", "called_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col], format="%Y-%m-%d %H:%M:%S")
    frame["weekday"] = frame["issued_at"].dt.weekday.astype("int64")
    frame["hour"] = frame["issued_at"].dt.hour.astype("int64")
    frame["key"] = frame["service"].fillna(frame["counter"]).fillna("").astype(str)
    frame["wait_minutes"] = (frame["called_at"] - frame["issued_at"]).dt.total_seconds() / 60
    frame["service_minutes"] = (frame["finished_at"] - frame["called_at"]).dt.total_seconds() / 60
    return frame[TICKET_FRAME_COLUMNS]


ARRIVAL_COLUMNS = ["day", "weekday", "hour", "key", "arrivals"]


def arrivals_frame(tickets: pd.DataFrame, manual: list[dict], dossiers: list[dict] | None = None) -> pd.DataFrame:
    """Arrivals per day, hour and service key, from the best source of each day: the ticket log first,
    then the in-person dossiers of the provincial one-stop system (keyed by lĩnh vực), then the clerk's
    typed counts for days with neither.

    A counter's typed counts get the counter's name as their key (a counter named after a lĩnh vực then
    takes that lĩnh vực's service time). Zero counts are kept: a day typed in is a day observed.
    """
    parts = []
    if len(tickets):
        t = tickets.groupby(["day", "weekday", "hour", "key"], as_index=False).size()
        parts.append(t.rename(columns={"size": "arrivals"}))
    ticket_days = set(tickets["day"]) if len(tickets) else set()
    from_dossiers = [r for r in dossiers or [] if r["day"] not in ticket_days]
    if from_dossiers:
        d = pd.DataFrame(from_dossiers)
        d["weekday"] = pd.to_datetime(d["day"]).dt.weekday.astype("int64")
        parts.append(d.rename(columns={"field": "key"})[ARRIVAL_COLUMNS])
    covered = ticket_days | {r["day"] for r in from_dossiers}
    typed = [r for r in manual if r["day"] not in covered]
    if typed:
        m = pd.DataFrame(typed)
        m["weekday"] = pd.to_datetime(m["day"]).dt.weekday.astype("int64")
        parts.append(m.rename(columns={"counter": "key", "dossiers": "arrivals"})[ARRIVAL_COLUMNS])
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c in ("weekday", "hour", "arrivals") else object) for c in ARRIVAL_COLUMNS}
        )
    frame = pd.concat(parts, ignore_index=True)[ARRIVAL_COLUMNS]
    return frame.astype({"weekday": "int64", "hour": "int64", "arrivals": "int64"})


# ============================================================================ weekday × hour

SLOT_COLUMNS = [
    "weekday",
    "hour",
    "days_observed",
    "arrivals_mean",
    "waits_n",
    "wait_median",
    "wait_p90",
    "share_over_target",
    "not_called",
    "survey_n",
    "survey_satisfied",
    "satisfaction",
    "sat_ci_low",
    "sat_ci_high",
    "reported_n",
    "reported_15plus",
]


def days_observed(arrivals: pd.DataFrame) -> dict[int, int]:
    """Distinct days with arrival data, per weekday."""
    if not len(arrivals):
        return {}
    return {int(w): int(n) for w, n in arrivals.groupby("weekday")["day"].nunique().items()}


def slot_table(
    tickets: pd.DataFrame,
    arrivals: pd.DataFrame,
    survey: list[tuple[int, int, int, int]],
    reported: list[tuple[int, int, int, int]],
    target_minutes: float,
) -> pd.DataFrame:
    """One row per weekday × hour with any data, in order.

    arrivals_mean: arrivals in that slot / days of that weekday observed (NaN if none observed);
    waits of the tickets issued in the slot and called: n, median, 90th percentile (linear), share longer
    than ``target_minutes`` (strictly); not_called: tickets never called; the survey's overall question in
    the slot (hour the survey was sent): n, 4–5, share in % with its 95% Wilson interval; and how many
    reported a wait, of which 15 minutes or more (the survey's buckets).
    """
    days = days_observed(arrivals)
    counts = arrivals.groupby(["weekday", "hour"])["arrivals"].sum() if len(arrivals) else pd.Series(dtype="int64")
    called = tickets[tickets["wait_minutes"].notna()]
    waits = {k: g["wait_minutes"] for k, g in called.groupby(["weekday", "hour"])}
    not_called = tickets[tickets["called_at"].isna()].groupby(["weekday", "hour"]).size()
    surveys = {(w, h): (n, s) for w, h, n, s in survey}
    reports = {(w, h): (n, k) for w, h, n, k in reported}
    slots = sorted(
        {(int(w), int(h)) for w, h in counts.index}
        | set(waits)
        | set(surveys)
        | set(reports)
        | {(int(w), int(h)) for w, h in not_called.index}
    )
    rows = []
    for w, h in slots:
        obs = days.get(w, 0)
        wt = waits.get((w, h))
        n, sat = surveys.get((w, h), (0, 0))
        p = proportion(sat, n)
        rn, r15 = reports.get((w, h), (0, 0))
        rows.append(
            {
                "weekday": w,
                "hour": h,
                "days_observed": obs,
                "arrivals_mean": float(counts.get((w, h), 0)) / obs if obs else math.nan,
                "waits_n": 0 if wt is None else len(wt),
                "wait_median": math.nan if wt is None else float(wt.median()),
                "wait_p90": math.nan if wt is None else float(wt.quantile(0.9)),
                "share_over_target": math.nan if wt is None else float((wt > target_minutes).mean()),
                "not_called": int(not_called.get((w, h), 0)),
                "survey_n": n,
                "survey_satisfied": sat,
                "satisfaction": math.nan if p.index is None else p.index,
                "sat_ci_low": math.nan if p.ci_low is None else p.ci_low,
                "sat_ci_high": math.nan if p.ci_high is None else p.ci_high,
                "reported_n": rn,
                "reported_15plus": r15,
            }
        )
    frame = pd.DataFrame(rows, columns=SLOT_COLUMNS)
    ints = [
        "weekday",
        "hour",
        "days_observed",
        "waits_n",
        "not_called",
        "survey_n",
        "survey_satisfied",
        "reported_n",
        "reported_15plus",
    ]
    return frame.astype({c: "int64" for c in ints} | {c: "float64" for c in SLOT_COLUMNS if c not in ints})


def reported_long_wait_share(slots: pd.DataFrame) -> pd.Series:
    """Per slot of :func:`slot_table`: the share (0–1) of the citizens who reported a wait in the survey
    and reported 15 minutes or more; NaN where nobody reported a wait (no share, not 0).

    >>> reported_long_wait_share(pd.DataFrame({"reported_n": [3, 0], "reported_15plus": [2, 0]})).round(3).tolist()
    [0.667, nan]
    """
    return slots["reported_15plus"] / slots["reported_n"].where(slots["reported_n"] > 0)


def wait_summary(tickets: pd.DataFrame, target_minutes: float) -> dict:
    """Tickets, those called, median and 90th percentile wait, share waiting longer than the target."""
    w = tickets["wait_minutes"].dropna()
    return {
        "tickets": len(tickets),
        "called": len(w),
        "median": float(w.median()) if len(w) else None,
        "p90": float(w.quantile(0.9)) if len(w) else None,
        "share_over_target": float((w > target_minutes).mean()) if len(w) else None,
    }


def wait_bucket_table(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Satisfaction (overall question 4–5) by the wait the citizen reported, with 95% Wilson intervals."""
    labels = {b["code"]: b["label"] for b in survey_options()["wait"]["buckets"]}
    data = {b: (n, s) for b, n, s in rows}
    out = []
    for b in WAIT_BUCKETS:
        n, s = data.get(b, (0, 0))
        p = proportion(s, n)
        out.append(
            {
                "bucket": b,
                "label": labels.get(b, b),
                "n": n,
                "satisfied": s,
                "index": math.nan if p.index is None else p.index,
                "ci_low": math.nan if p.ci_low is None else p.ci_low,
                "ci_high": math.nan if p.ci_high is None else p.ci_high,
            }
        )
    return pd.DataFrame(out, columns=["bucket", "label", "n", "satisfied", "index", "ci_low", "ci_high"])


def cost_of_waiting(buckets: pd.DataFrame) -> TestResult | None:
    """Satisfaction of those who waited under 15 minutes against those who waited longer (two-proportion
    test, Newcombe interval); None when either side has no answer."""
    short = buckets[buckets["bucket"] == "lt15"]
    long_ = buckets[buckets["bucket"] != "lt15"]
    n1, x1 = int(short["n"].sum()), int(short["satisfied"].sum())
    n2, x2 = int(long_["n"].sum()), int(long_["satisfied"].sum())
    if not n1 or not n2:
        return None
    return two_proportion_test(x1, n1, x2, n2)


# ============================================================================ Erlang C per hour


def service_time_table(tickets: pd.DataFrame, setting: dict, min_tickets: int = MIN_SERVICE_TICKETS) -> pd.DataFrame:
    """Mean service time per service key: from the finished tickets when there are at least
    ``min_tickets`` of that key, else the settings' minutes for that lĩnh vực, else their default."""
    measured = tickets.dropna(subset=["service_minutes"]).groupby("key")["service_minutes"].agg(["size", "mean"])
    keys = sorted(set(measured.index) | set(setting["fields"]))
    rows = []
    for k in keys:
        n = int(measured["size"].get(k, 0))
        mean = float(measured["mean"].get(k, math.nan))
        if n >= min_tickets:
            minutes, source = mean, "ticket"
        elif k in setting["fields"]:
            minutes, source = float(setting["fields"][k]), "setting"
        else:
            minutes, source = float(setting["default"]), "default"
        rows.append({"key": k, "tickets": n, "measured_minutes": mean, "minutes": minutes, "source": source})
    return pd.DataFrame(rows, columns=["key", "tickets", "measured_minutes", "minutes", "source"])


def slot_service_minutes(
    arrivals: pd.DataFrame, services: pd.DataFrame, default: float
) -> dict[tuple[int, int], float]:
    """Mean service time of each weekday × hour: the services' times weighted by that slot's arrivals."""
    minutes = dict(zip(services["key"], services["minutes"], strict=True))
    out: dict[tuple[int, int], float] = {}
    if not len(arrivals):
        return out
    per_key = arrivals.groupby(["weekday", "hour", "key"])["arrivals"].sum()
    totals: dict[tuple[int, int], list[float]] = {}
    for (w, h, k), n in per_key.items():
        acc = totals.setdefault((int(w), int(h)), [0.0, 0.0])
        acc[0] += n * minutes.get(k, default)
        acc[1] += n
    for slot, (weighted, n) in totals.items():
        out[slot] = weighted / n if n else default
    return out


def measured_counters(tickets: pd.DataFrame) -> dict[tuple[int, int], int]:
    """Counters open per weekday × hour as the ticket log shows them: on each day of the log, the distinct
    counters that served someone during that hour (a service from its call to its end, or its call alone
    when it has no end); per weekday × hour the median over the log's days of that weekday, rounded down
    (a counter open on only half the Mondays is not counted as open). Slots where no counter served are
    left out (the settings apply there), as is a log without counter names.

    >>> t = ticket_frame([
    ...     {"ticket_id": "A1", "day": "2024-03-04", "service": None, "counter": c, "issued_at": "2024-03-04 08:00:00",
    ...      "called_at": "2024-03-04 08:10:00", "finished_at": "2024-03-04 08:20:00"} for c in ("Q1", "Q2", "Q3")])
    >>> measured_counters(t)
    {(0, 8): 3}
    """
    served = tickets.dropna(subset=["called_at"])
    served = served[served["counter"].notna() & (served["counter"].astype(str).str.strip() != "")]
    if served.empty:
        return {}
    ends = served["finished_at"].fillna(served["called_at"])
    rows = set()
    for day, weekday, counter, start, end in zip(
        served["day"], served["weekday"], served["counter"], served["called_at"], ends, strict=True
    ):
        last = start.hour if end.date() != start.date() else max(start.hour, end.hour - (end.minute == 0))
        for hour in range(start.hour, last + 1):
            rows.add((day, int(weekday), hour, str(counter).strip()))
    per_day = pd.DataFrame(list(rows), columns=["day", "weekday", "hour", "counter"])
    per_day = per_day.groupby(["day", "weekday", "hour"]).size()
    days = tickets.groupby("weekday")["day"].nunique()
    out: dict[tuple[int, int], int] = {}
    for (weekday, hour), counts in per_day.groupby(level=["weekday", "hour"]):
        values = sorted([0] * (int(days[weekday]) - len(counts)) + [int(v) for v in counts])
        median = (values[(len(values) - 1) // 2] + values[len(values) // 2]) / 2
        if math.floor(median) >= 1:
            out[(int(weekday), int(hour))] = math.floor(median)
    return dict(sorted(out.items()))


def counters_open_at(setting: dict, weekday: int, hour: int) -> int:
    """Counters open at that weekday and hour according to the settings (default unless listed).

    >>> setting = {"default": 2, "hours": [[0, 8, 3]]}
    >>> counters_open_at(setting, 0, 8), counters_open_at(setting, 0, 9)
    (3, 2)
    """
    for w, h, n in setting["hours"]:
        if (w, h) == (weekday, hour):
            return int(n)
    return int(setting["default"])


STAFFING_COLUMNS = [
    "weekday",
    "hour",
    "open_fraction",
    "arrivals_per_hour",
    "service_minutes",
    "traffic",
    "counters_open",
    "counters_measured",
    "counters_needed",
    "shortfall",
    "p_wait",
    "mean_wait_minutes",
    "occupancy",
    "service_level_open",
    "mean_wait_open",
    "measured_median",
    "measured_p90",
    "measured_share_over_target",
    "measured_n",
    "understaffed",
]


def staffing_table(
    slots: pd.DataFrame,
    opening_hours: dict,
    counters_setting: dict,
    slot_minutes: dict[tuple[int, int], float],
    default_minutes: float,
    target_minutes: float,
    service_level: float,
    measured: dict[tuple[int, int], int] | None = None,
) -> pd.DataFrame:
    """For each hour of the week the counter is open: the counters Erlang C needs, and what is open.

    The counters open are those the ticket log shows serving (``measured``, :func:`measured_counters`)
    where it shows any, else the settings; ``counters_measured`` says which.

    arrivals_per_hour is the slot's mean arrivals over the days observed, divided by the share of the hour
    that is open (6 arrivals in the half hour before closing at 11:30 are 12 an hour). p_wait,
    mean_wait_minutes and occupancy describe the counters **needed**; service_level_open and
    mean_wait_open what the counters **open** give (0 and inf when they do not exceed the traffic). A
    weekday never observed has no arrivals and no answer (NaN), and is not understaffed. The measured
    waits of the slot (tickets) sit beside: the model's answer is a floor.
    """
    by_slot = {(int(r.weekday), int(r.hour)): r for r in slots.itertuples(index=False)}
    observed = {int(r.weekday) for r in slots.itertuples(index=False) if r.days_observed > 0}
    rows = []
    for w in opening_hours["days"]:
        for h in range(24):
            frac = open_fraction(opening_hours, h)
            if frac <= 0:
                continue
            s = by_slot.get((w, h))
            mean = (s.arrivals_mean if s is not None else 0.0) if w in observed else math.nan
            arrivals = mean / frac if not math.isnan(mean) else math.nan
            minutes = slot_minutes.get((w, h), default_minutes)
            n_open = (measured or {}).get((w, h)) or counters_open_at(counters_setting, w, h)
            row = {
                "weekday": w,
                "hour": h,
                "open_fraction": frac,
                "arrivals_per_hour": arrivals,
                "service_minutes": minutes,
                "counters_open": n_open,
                "counters_measured": (w, h) in (measured or {}),
                "measured_median": s.wait_median if s is not None else math.nan,
                "measured_p90": s.wait_p90 if s is not None else math.nan,
                "measured_share_over_target": s.share_over_target if s is not None else math.nan,
                "measured_n": int(s.waits_n) if s is not None else 0,
            }
            if math.isnan(arrivals):
                row.update(
                    traffic=math.nan,
                    counters_needed=pd.NA,
                    shortfall=pd.NA,
                    p_wait=math.nan,
                    mean_wait_minutes=math.nan,
                    occupancy=math.nan,
                    service_level_open=math.nan,
                    mean_wait_open=math.nan,
                    understaffed=False,
                )
            else:
                need, now_open = hour_requirement(arrivals, n_open, minutes, target_minutes, service_level)
                sl_open, wait_open = now_open.service_level, now_open.mean_wait_minutes
                row.update(
                    traffic=need.traffic,
                    counters_needed=need.counters,
                    shortfall=max(0, need.counters - n_open),
                    p_wait=need.p_wait,
                    mean_wait_minutes=need.mean_wait_minutes,
                    occupancy=need.occupancy,
                    service_level_open=sl_open,
                    mean_wait_open=wait_open,
                    understaffed=n_open < need.counters,
                )
            rows.append(row)
    frame = pd.DataFrame(rows, columns=STAFFING_COLUMNS)
    return frame.astype(
        {
            "weekday": "int64",
            "hour": "int64",
            "counters_open": "int64",
            "counters_needed": "Int64",
            "shortfall": "Int64",
            "measured_n": "int64",
            "counters_measured": bool,
            "understaffed": bool,
        }
    )


# ============================================================================ recommendations


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Recommendation:
    """Extra staff for consecutive understaffed hours of one weekday (the largest shortfall among them)."""

    weekday: int
    hours: tuple[int, ...]
    extra: int
    start: str  # "7:00" (clipped to the opening time)
    end: str  # "9:00" (clipped to the closing time)
    detail: tuple[tuple[int, int, int], ...]  # (hour, counters open, counters needed)
    still_short: int = 0  # counters the model still lacks once every existing counter is open
    counters_total: int | None = None  # the counters that exist (None: not bounded)

    @property
    def text(self) -> str:
        """'Thứ Hai 7–9 giờ: mở thêm 1 quầy' (bounded by the counters that exist)."""
        from sipas.staffing.erlang import advice_text

        total = self.counters_total if self.counters_total is not None else 0
        return advice_text(WEEKDAYS[self.weekday], self.start, self.end, self.extra, self.still_short, total)

    @property
    def title(self) -> str:
        """The text as a heading."""
        return self.text[0].upper() + self.text[1:]

    def schedule(self, target_minutes: float, service_level: float) -> dict:
        """The schedule stored with the staffing case (what the Chairman approves, and what is checked after)."""
        return {
            "weekday": self.weekday,
            "weekday_name": WEEKDAYS[self.weekday],
            "start": self.start,
            "end": self.end,
            "hours": list(self.hours),
            "extra_staff": self.extra,
            "detail": [{"hour": h, "counters_open": o, "counters_needed": n} for h, o, n in self.detail],
            "target_wait_minutes": target_minutes,
            "service_level": service_level,
        }


def _span(opening_hours: dict, first: int, last: int) -> tuple[str, str]:
    """Start and end of hours first..last clipped to the opening periods."""
    lo, hi = first * 60, last * 60 + 60
    starts = [
        max(lo, _minutes(a))
        for a, b in opening_hours["periods"]
        if _minutes(a) < first * 60 + 60 and _minutes(b) > first * 60
    ]
    ends = [min(hi, _minutes(b)) for a, b in opening_hours["periods"] if _minutes(a) < hi and _minutes(b) > last * 60]
    return _hhmm(min(starts) if starts else lo), _hhmm(max(ends) if ends else hi)


def recommendations(
    staffing: pd.DataFrame, opening_hours: dict, counters_total: int | None = None
) -> list[Recommendation]:
    """Understaffed hours merged into runs of consecutive hours of one weekday, in week order.

    With ``counters_total`` (the counters that exist) the extra counters asked for never exceed the
    ones still closed; what the model still lacks then is in ``still_short``."""
    out: list[Recommendation] = []
    run: list = []

    def flush() -> None:
        if run:
            start, end = _span(opening_hours, run[0].hour, run[-1].hour)
            wanted = max(int(r.shortfall) for r in run)
            extra, short = wanted, 0
            if counters_total is not None:
                closed = max(0, counters_total - max(int(r.counters_open) for r in run))
                extra = min(wanted, closed)
                short = max(int(r.counters_needed) for r in run) - counters_total
                short = max(0, short)
            out.append(
                Recommendation(
                    weekday=int(run[0].weekday),
                    hours=tuple(int(r.hour) for r in run),
                    extra=extra,
                    start=start,
                    end=end,
                    detail=tuple((int(r.hour), int(r.counters_open), int(r.counters_needed)) for r in run),
                    still_short=short,
                    counters_total=counters_total,
                )
            )
            run.clear()

    for r in staffing.sort_values(["weekday", "hour"]).itertuples(index=False):
        if not r.understaffed:
            flush()
            continue
        if run and (r.weekday != run[-1].weekday or r.hour != run[-1].hour + 1):
            flush()
        run.append(r)
    flush()
    return out


# ============================================================================ what the advice rests on


@dataclass(frozen=True)
class StaffingBasis:
    """What the staffing table used: the mean service time (weighted by arrivals) and where the service
    times and the counters open came from (the ticket log or the settings)."""

    service_minutes: float  # the arrivals-weighted mean service time of the table
    tickets_measured: int  # finished tickets behind the measured service times in use
    keys_measured: int  # services (lĩnh vực or counters) timed from the log
    keys_from_settings: int  # services with arrivals timed from the settings
    slots_measured: int  # hours with arrivals whose counters open come from the log
    slots_from_settings: int  # hours with arrivals whose counters open come from the settings

    def sentences(self) -> list[str]:
        """Which data the advice used, in words.

        >>> StaffingBasis(8.9, 412, 2, 0, 10, 0).sentences()[0]
        'Thời gian phục vụ: trung bình 8,9 phút mỗi hồ sơ, đo từ 412 lượt đã phục vụ trong nhật ký số thứ tự.'
        """
        minutes = f"Thời gian phục vụ: trung bình {clock.format_plain(self.service_minutes, 1)} phút mỗi hồ sơ"
        if self.keys_measured and not self.keys_from_settings:
            service = f"{minutes}, đo từ {self.tickets_measured} lượt đã phục vụ trong nhật ký số thứ tự."
        elif self.keys_measured:
            service = (
                f"{minutes}: {self.keys_measured} lĩnh vực đo từ {self.tickets_measured} lượt đã phục vụ trong nhật "
                f"ký số thứ tự, {self.keys_from_settings} lĩnh vực hoặc quầy theo cài đặt "
                f"(dưới {MIN_SERVICE_TICKETS} lượt)."
            )
        else:
            service = (
                f"{minutes}, theo cài đặt (nhật ký số thứ tự không có đủ {MIN_SERVICE_TICKETS} lượt mỗi lĩnh vực)."
            )
        if self.slots_measured and not self.slots_from_settings:
            counters = (
                "Số quầy đang mở: đo từ nhật ký số thứ tự (số quầy cùng phục vụ trong giờ, trung vị các ngày) "
                f"ở cả {self.slots_measured} khung giờ có người đến."
            )
        elif self.slots_measured:
            counters = (
                f"Số quầy đang mở: đo từ nhật ký số thứ tự ở {self.slots_measured} khung giờ; theo cài đặt ở "
                f"{self.slots_from_settings} khung giờ nhật ký không ghi quầy nào phục vụ."
            )
        else:
            counters = "Số quầy đang mở: theo cài đặt (không có nhật ký số thứ tự ghi quầy phục vụ)."
        return [service, counters]


def staffing_basis(arrivals: pd.DataFrame, services: pd.DataFrame, staffing: pd.DataFrame, default: float):
    """The :class:`StaffingBasis` of a staffing table built from ``arrivals`` and ``services``."""
    minutes = dict(zip(services["key"], services["minutes"], strict=True))
    source = dict(zip(services["key"], services["source"], strict=True))
    per_key = arrivals.groupby("key")["arrivals"].sum() if len(arrivals) else pd.Series(dtype="int64")
    total = float(per_key.sum())
    mean = sum(n * minutes.get(k, default) for k, n in per_key.items()) / total if total else default
    keys = [k for k, n in per_key.items() if n > 0]
    measured = [k for k in keys if source.get(k) == "ticket"]
    tickets = services[services["key"].isin(measured)]["tickets"].sum()
    busy = staffing[staffing["arrivals_per_hour"].fillna(0) > 0]
    return StaffingBasis(
        service_minutes=float(mean),
        tickets_measured=int(tickets),
        keys_measured=len(measured),
        keys_from_settings=len(keys) - len(measured),
        slots_measured=int(busy["counters_measured"].sum()),
        slots_from_settings=int((~busy["counters_measured"]).sum()),
    )


# ============================================================================ the page's report


@dataclass
class WaitingReport:
    """Everything the page shows for one period, computed from the database and the settings."""

    date_from: str
    date_to: str
    target_minutes: float
    service_level: float
    opening_hours: dict
    counters_setting: dict
    service_setting: dict
    tickets: pd.DataFrame
    arrivals: pd.DataFrame
    slots: pd.DataFrame
    buckets: pd.DataFrame
    services: pd.DataFrame
    staffing: pd.DataFrame
    recommendations: list[Recommendation]
    summary: dict
    typed_days: int
    cost: TestResult | None
    dossier_days: int = 0  # days whose arrivals come from the dossier log (no ticket log on those days)
    basis: StaffingBasis | None = None  # what the staffing table used (measured or the settings)

    @property
    def has_arrivals(self) -> bool:
        return bool(len(self.arrivals))


def build_report(conn: sqlite3.Connection, date_from: date, date_to: date) -> WaitingReport:
    """Read the period's data and settings (those in force at ``date_to``) and compute every table."""
    if date_from > date_to:
        raise ValidationError(
            f"Ngày bắt đầu {date_from.strftime('%d/%m/%Y')} sau ngày kết thúc {date_to.strftime('%d/%m/%Y')}."
        )
    a, b = date_from.isoformat(), date_to.isoformat()
    target = float(settings.get(conn, "wait_target_minutes", b))
    level = float(settings.get(conn, "service_level_target", b))
    hours = settings.get(conn, "opening_hours", b)
    counters = settings.get(conn, "counters_open", b)
    service = settings.get(conn, "service_minutes", b)
    tickets = ticket_frame(db.ticket_rows(conn, a, b))
    manual = db.hourly_dossier_rows(conn, a, b)
    dossier_rows = db.dossier_arrivals_by_field(conn, a, b)
    arrivals = arrivals_frame(tickets, manual, dossier_rows)
    slots = slot_table(
        tickets,
        arrivals,
        db.weekday_hour_overall(conn, date_from=a, date_to=b),
        db.weekday_hour_reported_waits(conn, date_from=a, date_to=b),
        target,
    )
    buckets = wait_bucket_table(db.wait_bucket_overall(conn, date_from=a, date_to=b))
    services = service_time_table(tickets, service)
    per_slot = slot_service_minutes(arrivals, services, float(service["default"]))
    staffing = staffing_table(
        slots, hours, counters, per_slot, float(service["default"]), target, level, measured_counters(tickets)
    )
    ticket_days = set(tickets["day"])
    return WaitingReport(
        date_from=a,
        date_to=b,
        target_minutes=target,
        service_level=level,
        opening_hours=hours,
        counters_setting=counters,
        service_setting=service,
        tickets=tickets,
        arrivals=arrivals,
        slots=slots,
        buckets=buckets,
        services=services,
        staffing=staffing,
        recommendations=recommendations(
            staffing,
            hours,
            counters_available(
                settings.get(conn, "counter_names", b), tickets["counter"] if "counter" in tickets else ()
            ),
        ),
        summary=wait_summary(tickets, target),
        typed_days=len({r["day"] for r in manual} - ticket_days - {r["day"] for r in dossier_rows}),
        dossier_days=len({r["day"] for r in dossier_rows} - ticket_days),
        cost=cost_of_waiting(buckets),
        basis=staffing_basis(arrivals, services, staffing, float(service["default"])),
    )


# ============================================================================ counters open, as edited


def counters_open_value(cells: dict[tuple[int, int], object], old: dict, default: int) -> dict:
    """The ``counters_open`` setting from the counters typed per (weekday, hour) (shown from the setting
    ``old``) and a new ``default``.

    A cell the clerk changed, or one that was already an exception, is kept when it differs from the
    default; an untouched cell follows the (possibly new) default; an empty cell (None) is the default.
    Values are checked by :func:`sipas.admin.settings.put` (a value that is not a number is kept for it
    to refuse with its message).

    >>> old = {"default": 2, "hours": [[0, 8, 3]]}
    >>> cells = {(0, 7): 2, (0, 8): 3, (0, 9): 4}
    >>> counters_open_value(cells, old, 1)["hours"]  # 7:00 untouched follows the new default
    [[0, 8, 3], [0, 9, 4]]
    >>> counters_open_value(cells, old, 3)["hours"]  # 7:00 follows it too; 8:00 now equals it
    [[0, 9, 4]]
    """
    exceptions = {(w, h) for w, h, _ in old["hours"]}
    hours = []
    for (w, h), value in cells.items():
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            hours.append([w, h, value])  # refused, with its message, by the setting's check
            continue
        touched = number != counters_open_at(old, w, h) or (w, h) in exceptions
        if touched and number != default:
            hours.append([w, h, int(number) if number.is_integer() else number])
    return {"default": default, "hours": hours}
