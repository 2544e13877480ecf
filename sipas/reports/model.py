"""The monthly report's model: :func:`build_report` gathers everything one month's report shows, and the
rows the three renderers (``excel``, ``pdf``, ``word``) share are derived here from it.

The unit's name, the recipient, the targets and the questionnaire version are the settings in force on
the month's last day. Nothing here lays anything out.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from sipas import clock, db
from sipas.admin import settings
from sipas.cases import queue, workflow
from sipas.catalog import questionnaire, version_label
from sipas.errors import ValidationError
from sipas.index import (
    comment_list,
    criterion_tables,
    expectations,
    periods,
    plan_checks,
    selection,
    staff_index,
    trends,
)
from sipas.index import dossiers as dossier_figures
from sipas.index import findings as period_findings
from sipas.index.baseline import baseline_for_period
from sipas.index.scoring import IndexResult
from sipas.survey.responses import export_rows

DOC_NUMBER = "Số: ....../BC-UBND"  # filled in by the office when the report is registered
TITLE = "Báo cáo kết quả khảo sát mức độ hài lòng"
INDEX_LABEL = "Chỉ số hài lòng về cung ứng dịch vụ hành chính công (phương pháp SIPAS)"
MAX_COMMENTS = 2000  # the newest comments read for the month; the workbook lists them all
STATUS = {True: "Đạt", False: "Chưa đạt", None: "Chưa rõ"}


@dataclass
class MonthlyReport:
    month: str
    date_from: str
    date_to: str
    unit_name: str
    recipient: str
    questionnaire: str
    targets: dict
    bands: list
    result: IndexResult
    baseline_label: str | None
    baseline_overall: float | None
    checklist: list[tuple[str, bool | None, str]]
    elements: pd.DataFrame
    criteria: pd.DataFrame
    trend: pd.DataFrame
    pchart: pd.DataFrame
    comments: pd.DataFrame
    comments_total: int
    exclusions: pd.DataFrame
    sample: plan_checks.SampleStatus
    # Criteria of this version without a counterpart in the baseline's version: (code, statement).
    unmatched: list = field(default_factory=list)
    office_name: str = ""
    cases: dict = field(default_factory=dict)  # queue.monthly_counts
    case_history: pd.DataFrame = field(default_factory=pd.DataFrame)  # the month's case_events
    staff: pd.DataFrame = field(default_factory=pd.DataFrame)  # staff_index.staff_table: the one staff measure
    staff_min_n: int = 10
    expectations: expectations.ExpectationsTable | None = None  # what citizens most want improved
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)  # every response of the month (its own columns)
    # Every form the month's surveys used, each with its own index (periods.forms_in_period): the report
    # says the counts per form and the figures of the forms other than ``questionnaire``.
    forms: list = field(default_factory=list)
    dossiers: dossier_figures.DossierView | None = None  # the dossier log's month; None: no dossier imported for it
    # The targets as dated: since when the month's targets apply, and those before a change inside the month.
    targets_in_force: settings.InForce | None = None
    generated_at: datetime = field(default_factory=lambda: clock.now())
    # The month's findings in plain sentences (sipas.index.findings): the report leads with them.
    findings: list[str] = field(default_factory=list)

    @property
    def month_label(self) -> str:
        y, m = self.month.split("-")
        return f"tháng {int(m)}/{y}"

    @property
    def filename_stem(self) -> str:
        return f"bao-cao-hai-long-{self.month}"

    @property
    def letterhead(self) -> Letterhead:
        return letterhead(self.unit_name, self.recipient, self.generated_at.date())


@dataclass(frozen=True)
class Letterhead:
    """The administrative-document form's top (Nghị định 30/2020/NĐ-CP, Phụ lục I): the superior body
    (cơ quan chủ quản), the issuing body (cơ quan ban hành), số/ký hiệu, place and date, title.

    The two names are given as phrases a renderer never breaks inside ("ỦY BAN NHÂN DÂN", "XÃ TU BÔNG"),
    so a line ends only between whole phrases (see ``sections.balanced_lines``)."""

    superior: tuple[str, ...]  # upper case; () when the level above is not known
    issuer: tuple[str, ...]  # upper case, printed in bold with a short line under it
    issuer_name: str  # the issuer as a sentence names it ("Ủy ban nhân dân xã Tu Bông")
    number: str
    place_date: str
    title: str


_COMMUNE = re.compile(r"\b(xã|phường|thị trấn|đặc khu)\s+([^–,()-]+?)\s*$", flags=re.IGNORECASE)
_SUPERIOR = re.compile(
    r"^\s*(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+(tỉnh|thành phố|huyện|quận|thị xã)\s+([^()]+?)\s*(?:\(.*\))?\s*$",
    flags=re.IGNORECASE,
)


def letterhead(unit_name: str, recipient: str, on: date) -> Letterhead:
    """The letterhead of a report by ``unit_name``, addressed to ``recipient`` (the level above), dated ``on``.

    The rule (issue 21): the number "…/BC-UBND" and the signature "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH" are the
    commune People's Committee's, so the issuer is that committee, never the one-stop office or the Centre
    (they are its units, named in the report's body): "ỦY BAN NHÂN DÂN" and the commune (xã, phường, thị
    trấn, đặc khu) that ends the setting ``unit_name`` in force on the month's last day. The superior body is
    the level the report is addressed to, the setting ``report_recipient`` in force then (the huyện before
    the 2025 reorganisation, the tỉnh after) without its "(qua …)", written "UBND TỈNH …" as the decree
    allows for the superior's name; a recipient that names no People's Committee of a tỉnh, thành phố,
    huyện, quận or thị xã gives no superior line. A unit name that names no commune is printed as it is.

    >>> h = letterhead("Trung tâm Phục vụ hành chính công – UBND xã Tu Bông", "UBND tỉnh Khánh Hòa (qua Sở Nội vụ)",
    ...                date(2026, 5, 8))
    >>> h.superior, h.issuer, h.issuer_name
    (('UBND', 'TỈNH KHÁNH HÒA'), ('ỦY BAN NHÂN DÂN', 'XÃ TU BÔNG'), 'Ủy ban nhân dân xã Tu Bông')
    >>> h.place_date
    'Tu Bông, ngày 08 tháng 5 năm 2026'
    >>> before = letterhead("Bộ phận Một cửa – UBND xã Vạn Phước", "UBND huyện Vạn Ninh", date(2024, 6, 3))
    >>> before.superior, before.issuer
    (('UBND', 'HUYỆN VẠN NINH'), ('ỦY BAN NHÂN DÂN', 'XÃ VẠN PHƯỚC'))
    """
    m = _COMMUNE.search(unit_name)
    place = m.group(2).strip() if m else ""
    if m:
        kind = m.group(1).lower()
        issuer: tuple[str, ...] = ("ỦY BAN NHÂN DÂN", f"{kind} {place}".upper())
        issuer_name = f"Ủy ban nhân dân {kind} {place}"
    else:
        issuer, issuer_name = (unit_name.strip().upper(),), unit_name.strip()
    s = _SUPERIOR.match(recipient or "")
    superior = ("UBND", f"{s.group(1)} {s.group(2)}".upper()) if s else ()
    day = f"ngày {on.day:02d} tháng {on.month} năm {on.year}"
    return Letterhead(
        superior=superior,
        issuer=issuer,
        issuer_name=issuer_name,
        number=DOC_NUMBER,
        place_date=f"{place}, {day}" if place else day.capitalize(),
        title="BÁO CÁO",
    )


def parse_month(text: str) -> tuple[int, int]:
    """'2024-05' → (2024, 5); anything else raises ValidationError with what is expected.

    >>> parse_month("2024-05")
    (2024, 5)
    """
    m = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ValidationError(f'Tháng "{text}" không hợp lệ, cần dạng YYYY-MM (ví dụ 2024-05).')
    return int(m.group(1)), int(m.group(2))


def build_report(
    conn: sqlite3.Connection, month: str, *, today: date | None = None, baseline: tuple[int, str] | None = None
) -> MonthlyReport:
    """Everything the monthly report shows, for the responses of ``month`` (YYYY-MM), excluded ones left out."""
    year, mon = parse_month(month)
    date_from, date_to = selection.period_bounds("month", year, mon)
    version = periods.default_version(conn, date_from, date_to)
    targets_in_force = settings.in_force(conn, "targets", date_from, date_to)
    targets = targets_in_force.value
    bands = settings.get(conn, "bands", date_to)
    office = settings.get(conn, "office_name", date_to)
    f = selection.Filters(version, date_from, date_to)
    result = selection.index_for_filters(conn, f)
    chosen = baseline or baseline_for_period(conn, date_from, version)
    rows = db.baseline_rows(conn, chosen[0], chosen[1]) if chosen else []
    trend = trends.monthly_trend(conn, trends.trend_filters(f))
    comments, total = comment_list.comments_table(conn, f, limit=MAX_COMMENTS)
    criteria = criterion_tables.criteria_table(result, rows, bands, office=office)
    exclusions = pd.DataFrame(
        db.excluded_responses(conn, date_from, date_to),
        columns=["id", "submitted_at", "channel", "device", "exclude_reason", "comment", "excluded_by", "excluded_at"],
    )
    return MonthlyReport(
        month=f"{year:04d}-{mon:02d}",
        date_from=date_from,
        date_to=date_to,
        unit_name=settings.get(conn, "unit_name", date_to),
        recipient=settings.recipient_for(conn, date_from, date_to),
        questionnaire=version,
        targets=targets,
        targets_in_force=targets_in_force,
        bands=bands,
        result=result,
        baseline_label=f"{chosen[0]} — {version_label(chosen[1])}" if chosen else None,
        baseline_overall=criterion_tables.baseline_overall(rows),
        checklist=plan_checks.rule_checklist(result, targets, bands),
        elements=criterion_tables.elements_table(result, rows, bands),
        criteria=criteria,
        findings=period_findings.findings(result, criteria, targets, chosen[0] if chosen else None),
        unmatched=criterion_tables.unmatched_criteria(result, rows, office),
        office_name=office,
        trend=trend,
        pchart=trends.monthly_p_chart(trend) if not trend.empty else pd.DataFrame(),
        comments=comments,
        comments_total=total,
        exclusions=exclusions,
        sample=plan_checks.sample_status(result),
        cases=queue.monthly_counts(conn, f"{year:04d}-{mon:02d}"),
        case_history=case_history_frame(conn, date_from, date_to),
        staff=staff_index.staff_table(conn, f, db.list_staff(conn), settings.get(conn, "staff_min_n", date_to)),
        staff_min_n=settings.get(conn, "staff_min_n", date_to),
        expectations=expectations.expectations_table(conn, f),
        raw=raw_frame(conn, f),
        forms=periods.forms_in_period(conn, date_from, date_to),
        dossiers=dossier_figures.dossier_view(conn, dossier_figures.month_period(f"{year:04d}-{mon:02d}")),
    )


def case_history_frame(conn: sqlite3.Connection, date_from: str, date_to: str) -> pd.DataFrame:
    """Every change to a case in the period (the append-only history), oldest first."""
    rows = [
        {
            "Vụ việc số": e["case_id"],
            "Lúc": clock.format_datetime(e["at"]),
            "Người": e["actor"] or "",
            "Việc": workflow.event_label(e["kind"]),
            "Từ": workflow.STATES.get(e["from_state"] or "", ""),
            "Sang": workflow.STATES.get(e["to_state"] or "", ""),
            "Ghi chú": e["note"] or "",
        }
        for e in db.case_events(conn, None, date_from, date_to)
    ]
    return pd.DataFrame(rows, columns=["Vụ việc số", "Lúc", "Người", "Việc", "Từ", "Sang", "Ghi chú"])


# ------------------------------------------------------------------ rows shared by the three renderers


def number(value) -> float | None:
    """``value`` as a float, or None when it is missing or not a number (None, NA, NaN, text)."""
    if value is None or value is pd.NA:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def fmt(value, digits: int = 2, suffix: str = "") -> str:
    """A number as the PDF and the Word file print it: decimal comma, "—" when missing."""
    v = number(value)
    return "—" if v is None else clock.format_number(v, digits) + suffix


def case_count_rows(r: MonthlyReport) -> list[tuple[str, object]]:
    """The month's case counts as (label, value): opened, closed, overdue, median days, opened by type."""
    c = r.cases
    rows = [
        ("Vụ việc mở mới", c.get("opened", 0)),
        ("Vụ việc đã đóng", c.get("closed", 0)),
        ("Vụ việc quá hạn trong tháng", c.get("overdue", 0)),
        (
            f"Vụ việc đang quá hạn ngày {clock.format_date(c['as_of'])}" if c.get("as_of") else "Vụ việc đang quá hạn",
            c.get("overdue_at_end", 0),
        ),
        (
            "Số ngày xử lý (trung vị)",
            clock.format_number(c.get("median_days_to_close"), 1),
        ),
    ]
    rows += [(f"Mở mới — {label}", n) for label, n in c.get("by_type", {}).items()]
    return rows


def _form_rows(r: MonthlyReport) -> list[tuple[str, object]]:
    """The month's surveys form by form, when some used another form than the one the tables are read in."""
    if not any(f.version != r.questionnaire for f in r.forms):
        return []
    counts = {f.version: f.responses for f in r.forms}
    rows: list[tuple[str, object]] = [
        ("Phiếu theo mẫu", periods.coverage_sentence(counts, r.questionnaire, "Tháng này"))
    ]
    rows += [
        (f"Phiếu {periods.form_phrase(f.version)} (tính riêng)", f.text())
        for f in r.forms
        if f.version != r.questionnaire
    ]
    return rows


def targets_note(r: MonthlyReport) -> str:
    """Which targets the month is judged against and since when (a later change never rewrites a month).

    >>> from types import SimpleNamespace as N
    >>> t = {"overall": 90.0, "floor": 85.0}
    >>> targets_note(N(targets=t, targets_in_force=settings.InForce(t, "2026-12-15", {"overall": 87.0, "floor": 80.0})))
    'Chỉ số chung ≥ 90% và không chỉ số nào dưới 85%, áp dụng từ 15/12/2026; trước ngày đó: ≥ 87%, không dưới 80%'
    """
    t, f = r.targets, r.targets_in_force
    overall, floor = clock.format_plain(t["overall"]), clock.format_plain(t["floor"])
    text = f"Chỉ số chung ≥ {overall}% và không chỉ số nào dưới {floor}%"
    if f is None or f.since is None:
        return text + " (mức mặc định, chưa thay đổi)"
    if f.since == settings.EARLIEST:
        return text + " (áp dụng cho mọi tháng)"
    text += f", áp dụng từ {clock.format_date(f.since)}"
    if f.before:
        b = f.before
        text += f"; trước ngày đó: ≥ {clock.format_plain(b['overall'])}%, không dưới {clock.format_plain(b['floor'])}%"
    return text


def summary_rows(r: MonthlyReport) -> list[tuple[str, object]]:
    """The summary as (label, value), values unformatted (each renderer writes numbers its own way)."""
    d = r.result.direct_overall
    diff = None
    if r.baseline_overall is not None and r.result.overall is not None:
        diff = r.result.overall - r.baseline_overall
    s = r.sample
    sample_text = (
        f"Tiêu chí ít câu trả lời nhất {s.code}: n = {s.n}; cần {s.required} cho ±{s.margin * 100:g}% "
        f"— còn thiếu {s.needed}"
        if s.code
        else "Chưa có câu trả lời"
    )
    return [
        ("Đơn vị", r.unit_name),
        ("Nơi nhận", r.recipient),
        ("Kỳ báo cáo", f"{r.month_label} ({_vn(r.date_from)} – {_vn(r.date_to)})"),
        ("Phiên bản phiếu", version_label(r.questionnaire)),
        ("Số phiếu hợp lệ", r.result.responses),
        *_form_rows(r),
        (INDEX_LABEL + " (%)", r.result.overall),
        ("Chỉ tiêu (%)", r.targets["overall"]),
        ("Chỉ tiêu áp dụng", targets_note(r)),
        ("Số liệu gốc", r.baseline_label or "Chưa có"),
        ("Chỉ số chung của số liệu gốc (%)", r.baseline_overall),
        ("Chênh lệch so với gốc (điểm %)", diff),
        ("Câu hỏi hài lòng chung (%)", d.index),
        ("Câu hỏi hài lòng chung: n", d.n),
        (
            "Câu hỏi hài lòng chung: KTC 95% (Wilson)",
            f"{fmt(d.ci_low, 1)} – {fmt(d.ci_high, 1)}" if d.index is not None else "—",
        ),
        ("Cỡ mẫu", sample_text),
        ("Phiếu đã loại khỏi chỉ số", len(r.exclusions)),
        ("Lập lúc", clock.format_datetime(r.generated_at)),
    ]


def _vn(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def trend_frame(r: MonthlyReport) -> pd.DataFrame:
    """The monthly trend with the p-chart's share dissatisfied, centre line and limits (in %)."""
    t = r.trend.copy()
    if not r.pchart.empty:
        t["Tỷ lệ không hài lòng (%)"] = r.pchart["p"].to_numpy() * 100
        t["Đường trung tâm (%)"] = r.pchart["center"].to_numpy() * 100
        t["Giới hạn dưới (%)"] = r.pchart["lcl"].to_numpy() * 100
        t["Giới hạn trên (%)"] = r.pchart["ucl"].to_numpy() * 100
        t["Ngoài giới hạn"] = r.pchart["out_of_control"].map({True: "Có", False: ""}).to_numpy()
    return t


def exclusions_frame(r: MonthlyReport) -> pd.DataFrame:
    """The responses excluded from the index, with Vietnamese column names and channel labels."""
    e = r.exclusions
    return pd.DataFrame(
        {
            "Mã phiếu": e["id"],
            "Thời gian": e["submitted_at"],
            "Kênh": e["channel"].map(lambda c: selection.CHANNEL_LABELS.get(c, c)),
            "Máy": e["device"],
            "Lý do loại": e["exclude_reason"],
            "Người loại": e["excluded_by"],
            "Lúc loại": e["excluded_at"],
            "Góp ý": e["comment"],
        }
    )


def raw_frame(conn: sqlite3.Connection, f: selection.Filters) -> pd.DataFrame:
    """Every response of ``f`` (excluded ones left out) with the columns of a responses file."""
    header, rows = export_rows(db.raw_responses(conn, **f.as_kwargs()), questionnaire(f.questionnaire))
    return pd.DataFrame(rows, columns=header)
