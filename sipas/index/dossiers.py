"""The dossier log's figures: on-time service, the plan's digital targets and the QĐ 766 satisfaction group.

Every share comes with its n and its 95% Wilson interval (:func:`sipas.index.stats.proportion`). A month
is the dossiers *received* in it; the report's end (for a dossier still open) is the month's end, or now
while the month is running (data-interchange.md §Dossiers).

QĐ 766/QĐ-TTg's satisfaction group is computed from three ratios; the official figure is the national
portal's (Cổng Dịch vụ công quốc gia): this is a monthly projection from the commune's own data, with the
weights as a setting marked for verification.
"""

from __future__ import annotations

import calendar
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sipas import clock, db
from sipas.errors import ValidationError
from sipas.index.stats import Proportion, proportion

OFFICIAL_766 = (
    "Điểm chính thức của nhóm chỉ số hài lòng (QĐ 766/QĐ-TTg) là số liệu do Cổng Dịch vụ công quốc gia công bố; "
    "con số ở đây chỉ là ước tính hằng tháng từ dữ liệu của xã."
)
UNVERIFIED_WEIGHTS = "Trọng số từng tỷ lệ là giả định trong thiết lập, cần xác minh với phụ lục của QĐ 766."
GROUP_LABELS = {"field": "Lĩnh vực", "procedure": "Thủ tục", "staff_code": "Cán bộ tiếp nhận", "month": "Tháng"}


@dataclass(frozen=True)
class Period:
    """Dossiers received in [start, stop); ``end`` is the report's end for dossiers still open."""

    start: str
    stop: str
    end: str
    days: tuple[date, ...]  # the calendar days up to the report's end

    @property
    def label(self) -> str:
        return f"{self.start[5:7]}/{self.start[:4]}"


def month_period(month: str, now: datetime | None = None) -> Period:
    """The period of ``YYYY-MM``; ValidationError for another text.

    >>> p = month_period("2024-02", now=datetime(2024, 2, 10, 9, 30))
    >>> p.start, p.stop, p.end, len(p.days)
    ('2024-02-01 00:00:00', '2024-03-01 00:00:00', '2024-02-10 09:30:00', 10)
    """
    try:
        first = datetime.strptime(month, "%Y-%m")
    except (TypeError, ValueError):
        raise ValidationError(f'Tháng "{month}" không hợp lệ, cần dạng YYYY-MM (ví dụ 2026-11).') from None
    days_in = calendar.monthrange(first.year, first.month)[1]
    stop = first + timedelta(days=days_in)
    end = min(stop, now or clock.now())
    days = tuple(first.date() + timedelta(days=i) for i in range(days_in) if first + timedelta(days=i) < end)
    return Period(clock.format_ts(first), clock.format_ts(stop), clock.format_ts(end), days)


@dataclass(frozen=True)
class OnTime:
    """One group's dossiers: received, early / on time / late (of finished), open overdue (of received)."""

    group: str
    received: int
    finished: int
    early: Proportion
    on_time: Proportion
    late: Proportion
    open_overdue: Proportion
    counts: dict


def _on_time(row: dict) -> OnTime:
    f = row["finished"]
    return OnTime(
        row["group"],
        row["received"],
        f,
        proportion(row["early"], f),
        proportion(row["on_time"], f),
        proportion(row["late"], f),
        proportion(row["open_overdue"], row["received"]),
        row,
    )


def on_time(conn: sqlite3.Connection, period: Period, by: str | None = None) -> list[OnTime]:
    """On-time service per ``by`` (``month``, ``field``, ``procedure``, ``staff_code``; None: the whole period)."""
    return [_on_time(r) for r in db.dossier_counts(conn, period.start, period.stop, period.end, by)]


def late_list(conn: sqlite3.Connection, period: Period, limit: int = 1000) -> list[dict]:
    """The period's late dossiers (finished late, or open after their due time), most overdue first."""
    return db.late_dossiers(conn, period.start, period.stop, period.end, limit)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def arrivals(conn: sqlite3.Connection, period: Period, open_weekdays: list[int]) -> list[dict]:
    """In-person dossiers received per weekday × hour, averaged over the open days of the period
    (the weekdays of the opening hours, up to the report's end); weekday 0 is Monday."""
    rows = db.dossier_arrivals(conn, period.start, period.stop)
    # A day is open when its weekday is in the opening hours, or when dossiers were received on it.
    open_days = {d for d in period.days if d.weekday() in open_weekdays} | {date.fromisoformat(r[0]) for r in rows}
    per_weekday = {w: sum(1 for d in open_days if d.weekday() == w) for w in range(7)}
    totals: dict[tuple[int, int], int] = {}
    for day, hour, n in rows:
        w = date.fromisoformat(day).weekday()
        totals[(w, hour)] = totals.get((w, hour), 0) + n
    return [{"weekday": w, "hour": h, "mean": n / per_weekday[w]} for (w, h), n in sorted(totals.items())]


@dataclass(frozen=True)
class Ratio766:
    key: str
    label: str
    share: Proportion  # in percent, with n
    weight: float
    points: float | None


@dataclass(frozen=True)
class Group766:
    ratios: tuple[Ratio766, ...]
    points: float | None  # projected points of the group (None when a ratio has no n)
    max_points: float
    verified: bool
    late_pakn: tuple[dict, ...]
    not_good_dossiers: int
    late_dossiers: int
    not_satisfied_dossiers: int
    complained_dossiers: int

    def to_json(self) -> dict:
        return {r.key: (None if r.share.index is None else r.share.satisfied / r.share.n) for r in self.ratios}


def pakn_figures(conn: sqlite3.Connection, period: Period) -> tuple[int, int, list[dict]]:
    """(PAKN received in the period, of which handled on time, the late ones). Handled on time: answered
    (else closed) by the response deadline (else the due date); late: handled after it, or unhandled
    with the deadline before the report's end."""
    cases = db.pakn_cases(conn, period.start, period.stop)
    end_day = period.end[:10]
    on_time_n, late = 0, []
    for c in cases:
        deadline, handled = c["deadline"], c["handled"]
        if handled and (not deadline or handled <= deadline):
            on_time_n += 1
        elif handled or (deadline and deadline < end_day):
            late.append(c)
    return len(cases), on_time_n, late


def group_766(conn: sqlite3.Connection, period: Period, weights: dict, totals: dict | None = None) -> Group766:
    """The three ratios of QĐ 766's satisfaction group and the projected points (see the module docstring).

    PAKN carry no citizen rating in this product, so the second ratio counts only the late PAKN as bad."""
    pakn_n, pakn_on_time, late_pakn = pakn_figures(conn, period)
    if totals is None:
        totals = (db.dossier_counts(conn, period.start, period.stop, period.end) or [None])[0] or {}
    received, not_good = totals.get("received", 0), totals.get("not_good", 0)
    shares = (
        ("pakn_on_time", "PAKN được xử lý đúng hạn / tổng số PAKN", proportion(pakn_on_time, pakn_n)),
        (
            "pakn_satisfied",
            "(Tổng số PAKN − PAKN không hài lòng hoặc trễ hạn) / tổng số PAKN",
            proportion(pakn_n - len(late_pakn), pakn_n),
        ),
        (
            "dossiers_satisfied",
            "(Tổng số hồ sơ − hồ sơ không hài lòng, bị phản ánh hoặc trễ hạn) / tổng số hồ sơ",
            proportion(received - not_good, received),
        ),
    )
    ratios = tuple(
        Ratio766(
            key,
            label,
            share,
            float(weights[key]),
            None if share.index is None else float(weights[key]) * share.satisfied / share.n,
        )
        for key, label, share in shares
    )
    points = None if any(r.points is None for r in ratios) else sum(r.points for r in ratios)
    return Group766(
        ratios,
        points,
        sum(r.weight for r in ratios),
        bool(weights.get("verified")),
        tuple(late_pakn),
        not_good,
        totals.get("late", 0) + totals.get("open_overdue", 0),
        totals.get("not_satisfied", 0),
        totals.get("complaints", 0),
    )


@dataclass(frozen=True)
class Target:
    title: str
    verdict: bool | None  # None: chưa kết luận (nothing to judge)
    share: Proportion
    target: float  # fraction
    detail: str

    @property
    def verdict_text(self) -> str:
        return {True: "Đạt", False: "Chưa đạt", None: "Chưa kết luận"}[self.verdict]


def _target(title: str, part: int, whole: int, target: float, what: str) -> Target:
    share = proportion(part, whole)
    if whole == 0:
        return Target(title, None, share, target, f"Chưa có {what} trong kỳ.")
    verdict = part / whole >= target
    return Target(title, verdict, share, target, f"{part}/{whole} {what} ({clock.format_percent(share.index, 1)}).")


def digital_targets(
    conn: sqlite3.Connection, period: Period, targets: dict, online_procedures: list | None
) -> list[Target]:
    """The plan's digital targets as a checklist (Đạt / Chưa đạt / Chưa kết luận)."""
    by_procedure = db.dossier_counts(conn, period.start, period.stop, period.end, "procedure")
    inferred = online_procedures is None
    offered = {r["group"] for r in by_procedure if r["online"] and r["group"]} if inferred else set(online_procedures)
    covered = sum(1 for r in by_procedure if r["group"] in offered and r["online"])
    online_of_offered = sum(r["online"] for r in by_procedure if r["group"] in offered)
    received_offered = sum(r["received"] for r in by_procedure if r["group"] in offered)
    total = {k: sum(r[k] for r in by_procedure) for k in ("received", "paid_yes", "paid_known")}
    postal = db.dossier_postal_count(conn, period.start, period.stop)
    pct = clock.format_plain
    online = _target(
        f"Thủ tục cung cấp trực tuyến có hồ sơ nộp trực tuyến ≥ {pct(targets['online_procedures'] * 100)}%",
        covered,
        len(offered),
        targets["online_procedures"],
        "thủ tục",
    )
    note = " Danh sách thủ tục trực tuyến suy ra từ dữ liệu (thủ tục có hồ sơ nộp trực tuyến)." if inferred else ""
    online = Target(
        online.title,
        online.verdict,
        online.share,
        online.target,
        online.detail
        + f" Hồ sơ nộp trực tuyến: {online_of_offered}/{received_offered} hồ sơ của các thủ tục này."
        + note,
    )
    return [
        online,
        _target(
            f"Hồ sơ có phí được thanh toán trực tuyến ≥ {pct(targets['paid_online'] * 100)}%",
            total["paid_yes"],
            total["paid_known"],
            targets["paid_online"],
            "hồ sơ có phí",
        ),
        _target(
            f"Hồ sơ nộp hoặc trả qua bưu chính công ích ≥ {pct(targets['postal'] * 100)}%",
            postal,
            total["received"],
            targets["postal"],
            "hồ sơ",
        ),
    ]


def month_json(conn: sqlite3.Connection, month: str, *, now: datetime | None = None) -> dict:
    """The month's figures exactly as data-interchange.md §Dossiers prints them (full precision)."""
    from sipas.admin import settings

    period = month_period(month, now)
    by_field = db.dossier_counts(conn, period.start, period.stop, period.end, "field")
    # One pass over the month: the totals are the sums of the lĩnh vực rows.
    t = {k: sum(r[k] for r in by_field) for k in db.DOSSIER_COUNT_KEYS}
    on_date = period.start[:10]
    hours = settings.get(conn, "opening_hours", on_date)
    weights = settings.get(conn, "s766_weights", on_date)
    return {
        "month": month,
        "received": t["received"],
        "finished": t["finished"],
        "early": t["early"],
        "on_time": t["on_time"],
        "late": t["late"],
        "open_overdue": t["open_overdue"],
        "by_field": [{"field": r["group"], "received": r["received"], "late": r["late"]} for r in by_field],
        "channels": {"direct": t["direct"], "online": t["online"], "postal": t["postal"]},
        "paid_online_share": _share(t["paid_yes"], t["paid_known"]),
        "arrivals": arrivals(conn, period, hours["days"]),
        "s766": group_766(conn, period, weights, t).to_json(),
    }


def beside_survey(conn: sqlite3.Connection, period: Period) -> list[dict]:
    """Per lĩnh vực: the late dossiers (finished late or open overdue, of received) beside the survey's
    satisfaction (overall question answered 4–5, of answered) in the same month, each with its n."""
    out = []
    for row in db.dossier_counts(conn, period.start, period.stop, period.end, "field"):
        counts, _ = db.filtered_counts(
            conn,
            date_from=period.start[:10],
            date_to=(datetime.fromisoformat(period.stop) - timedelta(days=1)).date().isoformat(),
            field=row["group"],
        )
        overall = counts.get("overall", (0, 0, 0, 0, 0))
        out.append(
            {
                "field": row["group"],
                "late": proportion(row["late"] + row["open_overdue"], row["received"]),
                "satisfied": proportion(overall[3] + overall[4], sum(overall)),
            }
        )
    return out


# ------------------------------------------------------------------ the report's and the page's section

NO_DOSSIERS = (
    "Chưa nhập danh sách hồ sơ của kỳ này: chưa có số liệu hồ sơ đúng hạn, chỉ tiêu chuyển đổi số "
    "và nhóm chỉ số hài lòng QĐ 766 (nhập ở trang Dữ liệu hoặc bằng lệnh python -m sipas import-dossiers)."
)
ON_TIME_NOTE = (
    "Tỷ lệ trước và đúng hạn = hồ sơ có kết quả trước hoặc đúng hạn / n, n là số hồ sơ đã có kết quả; "
    "quá hạn chưa có kết quả tính trên số hồ sơ tiếp nhận. KTC 95%: khoảng tin cậy Wilson."
)
LATE_SHOWN = 1000  # late dossiers read for the page and the workbook; the PDF and Word print fewer


def range_period(date_from: str, date_to: str, now: datetime | None = None) -> Period:
    """The period of the days ``date_from``–``date_to`` (ISO dates, both included), as the analysis page
    chooses it; the report's end is the period's end, or now while it runs.

    >>> p = range_period("2024-01-01", "2024-03-31", now=datetime(2024, 2, 1, 8, 0))
    >>> p.stop, p.end, len(p.days)
    ('2024-04-01 00:00:00', '2024-02-01 08:00:00', 32)
    """
    first = datetime.fromisoformat(date_from)
    stop = datetime.fromisoformat(date_to) + timedelta(days=1)
    end = min(stop, now or clock.now())
    days = tuple(
        first.date() + timedelta(days=i) for i in range((stop - first).days) if first + timedelta(days=i) < end
    )
    return Period(clock.format_ts(first), clock.format_ts(stop), clock.format_ts(end), days)


@dataclass(frozen=True)
class DossierView:
    """What the monthly report and the analysis page show of the dossier log for one period."""

    period: Period
    total: OnTime
    by_field: tuple[OnTime, ...]
    late: tuple[dict, ...]  # at most LATE_SHOWN, most overdue first
    late_count: int  # finished late + open overdue
    targets: tuple[Target, ...]
    group: Group766
    beside: tuple[dict, ...]


def dossier_view(conn: sqlite3.Connection, period: Period) -> DossierView | None:
    """The period's dossier figures (settings in force on its first day), or None when no dossier
    received in the period was imported."""
    from sipas.admin import settings

    by_field = db.dossier_counts(conn, period.start, period.stop, period.end, "field")
    if not by_field:
        return None
    totals = {k: sum(r[k] for r in by_field) for k in db.DOSSIER_COUNT_KEYS}
    on_date = period.start[:10]
    return DossierView(
        period,
        _on_time({**totals, "group": "Tổng"}),
        tuple(_on_time(r) for r in by_field),
        tuple(late_list(conn, period, LATE_SHOWN)),
        totals["late"] + totals["open_overdue"],
        tuple(
            digital_targets(
                conn,
                period,
                settings.get(conn, "digital_targets", on_date),
                settings.get(conn, "online_procedures", on_date),
            )
        ),
        group_766(conn, period, settings.get(conn, "s766_weights", on_date), totals),
        tuple(beside_survey(conn, period)),
    )


def _in_time(row: OnTime) -> Proportion:
    return proportion(row.early.satisfied + row.on_time.satisfied, row.finished)


ON_TIME_COLUMNS = [
    "Lĩnh vực",
    "Tiếp nhận",
    "Đã có kết quả",
    "Trước hạn",
    "Đúng hạn",
    "Trễ hạn",
    "Trước và đúng hạn (%)",
    "KTC 95% thấp",
    "KTC 95% cao",
    "Quá hạn chưa có kết quả",
]


def on_time_frame(view: DossierView):
    """Per lĩnh vực then the total: received, finished, early / on time / late, the share finished in
    time with its n (finished) and Wilson interval, and the open overdue."""
    import pandas as pd

    rows = []
    for r in (*view.by_field, view.total):
        share = _in_time(r)
        rows.append(
            [
                r.group,
                r.received,
                r.finished,
                r.early.satisfied,
                r.on_time.satisfied,
                r.late.satisfied,
                share.index,
                share.ci_low,
                share.ci_high,
                r.open_overdue.satisfied,
            ]
        )
    return pd.DataFrame(rows, columns=ON_TIME_COLUMNS)


def _vn_time(ts: str | None) -> str:
    return clock.format_datetime(ts) if ts else ""


def late_frame(view: DossierView, limit: int | None = None):
    """The late dossiers (finished late, or open after their due time), most overdue first."""
    import pandas as pd

    rows = [
        [
            d["dossier_id"],
            d["procedure"] or "",
            d["field"],
            d["staff_code"] or "",
            _vn_time(d["received_at"]),
            _vn_time(d["due_at"]),
            _vn_time(d["finished_at"]),
            "Quá hạn, chưa có kết quả" if d["still_open"] else "Có kết quả trễ hạn",
        ]
        for d in view.late[:limit]
    ]
    columns = ["Mã hồ sơ", "Thủ tục", "Lĩnh vực", "Cán bộ tiếp nhận", "Ngày tiếp nhận", "Ngày hẹn trả",
               "Ngày có kết quả", "Tình trạng"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def group_frame(view: DossierView):
    """The three ratios of QĐ 766's satisfaction group: n, share, interval, weight and projected points."""
    import pandas as pd

    rows = [
        [r.label, r.share.n, r.share.satisfied, r.share.index, r.share.ci_low, r.share.ci_high, r.weight, r.points]
        for r in view.group.ratios
    ]
    columns = ["Tỷ lệ", "n", "Đạt", "Tỷ lệ (%)", "KTC 95% thấp", "KTC 95% cao", "Trọng số (điểm)", "Điểm ước tính"]
    return pd.DataFrame(rows, columns=columns)


def group_lines(view: DossierView) -> list[str]:
    """The group's points, what pulls it down, and that the official figure is the national portal's."""
    g = view.group
    points = (
        f"Điểm ước tính của nhóm: {clock.format_number(g.points, 2)}/{clock.format_plain(g.max_points)} điểm."
        if g.points is not None
        else f"Điểm ước tính của nhóm: chưa tính được (một tỷ lệ chưa có số liệu); tối đa "
        f"{clock.format_plain(g.max_points)} điểm."
    )
    pulls = (
        f"Kéo điểm xuống: {g.not_good_dossiers} hồ sơ không hài lòng, bị phản ánh hoặc trễ hạn "
        f"({g.late_dossiers} trễ hạn hoặc quá hạn, {g.not_satisfied_dossiers} không hài lòng, "
        f"{g.complained_dossiers} bị phản ánh); {len(g.late_pakn)} PAKN trễ hạn."
    )
    lines = [points, pulls, OFFICIAL_766]
    if not g.verified:
        lines.append(UNVERIFIED_WEIGHTS)
    return lines


def beside_frame(view: DossierView):
    """Per lĩnh vực: the late share of dossiers beside the survey's satisfaction, each with n and interval."""
    import pandas as pd

    rows = [
        [
            b["field"],
            b["late"].n,
            b["late"].index,
            b["late"].ci_low,
            b["late"].ci_high,
            b["satisfied"].n,
            b["satisfied"].index,
            b["satisfied"].ci_low,
            b["satisfied"].ci_high,
        ]
        for b in view.beside
    ]
    columns = ["Lĩnh vực", "Hồ sơ tiếp nhận", "Trễ hoặc quá hạn (%)", "KTC trễ thấp", "KTC trễ cao",
               "Phiếu trả lời câu hỏi chung", "Hài lòng (%)", "KTC hài lòng thấp", "KTC hài lòng cao"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def headline(view: DossierView) -> str:
    """One line: received, finished, in time, late, open overdue, with n."""
    t, share = view.total, _in_time(view.total)
    in_time = (
        f"{clock.format_percent(share.index, 1)} trước hoặc đúng hạn (n = {share.n}, KTC 95% "
        f"{clock.format_number(share.ci_low, 1)}–{clock.format_percent(share.ci_high, 1)})"
        if share.index is not None
        else "chưa hồ sơ nào có kết quả"
    )
    return (
        f"Tiếp nhận {t.received} hồ sơ; {t.finished} đã có kết quả, {in_time}; {t.late.satisfied} trễ hạn; "
        f"{t.open_overdue.satisfied} quá hạn chưa có kết quả."
    )
