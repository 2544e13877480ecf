"""What a period is read in by default (the questionnaire version shown first), and every form its
surveys used, so that no figure leaves a survey out without saying so."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import questionnaires
from sipas.index.scoring import IndexResult, compute_index


def version_counts(conn: sqlite3.Connection, date_from: str | None, date_to: str | None) -> dict[str, int]:
    """Responses of each questionnaire version in the period (excluded ones left out)."""
    return {v: db.responses_in_range(conn, v, date_from, date_to) for v in sorted(questionnaires())}


def default_version(conn: sqlite3.Connection, date_from: str | None, date_to: str | None) -> str:
    """The version a period is read in by default (the overview, the analysis page and the report alike).

    The form in force on the period's last day (the dated setting ``active_questionnaire``; today for an
    open-ended period), unless the period holds no response of that form while it holds some of another:
    then the form with the most responses, so a month typed in the older form is never shown empty.
    """
    in_force = settings.get(conn, "active_questionnaire", date_to or clock.today().isoformat())
    counts = version_counts(conn, date_from, date_to)
    if counts.get(in_force) or not any(counts.values()):
        return in_force
    return max(counts, key=lambda v: (counts[v], v))


def form_phrase(code: str) -> str:
    """How a sentence names a form: "mẫu 2024–2026" (the years of its display name), else its code.

    >>> form_phrase("sipas-2023")
    'mẫu 2022–2023'
    """
    q = questionnaires().get(code)
    m = re.search(r"\d{4}\s*[–-]\s*\d{4}", q.display if q else "")
    return f"mẫu {m.group(0)}" if m else code


@dataclass(frozen=True)
class FormFigures:
    """The responses of one form in a period and their own index (read in that form, nothing mapped)."""

    version: str
    result: IndexResult

    @property
    def responses(self) -> int:
        return self.result.responses

    def text(self) -> str:
        """One line a report and a page can show: "19 phiếu; chỉ số hài lòng 68,4%; câu hỏi chung …"."""
        r, d = self.result, self.result.direct_overall
        text = f"{r.responses} phiếu {form_phrase(self.version)}; chỉ số hài lòng {clock.format_percent(r.overall)}"
        if d.n:
            text += (
                f"; câu hỏi hài lòng chung {clock.format_percent(d.index)} (n = {d.n}, KTC 95% "
                f"{clock.format_number(d.ci_low)}–{clock.format_percent(d.ci_high)})"
            )
        return text + "."


def forms_in_period(conn: sqlite3.Connection, date_from: str | None, date_to: str | None) -> list[FormFigures]:
    """Every form with responses in the period, the most used first, each with its own index."""
    out = []
    for version, n in version_counts(conn, date_from, date_to).items():
        if n:
            counts = db.level_counts(conn, version, date_from, date_to)
            out.append(FormFigures(version, compute_index(questionnaires()[version], counts, n)))
    return sorted(out, key=lambda f: (-f.responses, f.version))


def coverage_sentence(counts: Mapping[str, int], shown: str, period: str = "Kỳ này") -> str:
    """What a period holds, form by form, and which of it the figures below are of: never silent about a
    survey of another form.

    >>> text = coverage_sentence({"sipas-2024": 243, "sipas-2023": 19}, "sipas-2024", "Tháng này")
    >>> text.split(". ")[0]
    'Tháng này có 243 phiếu mẫu 2024–2026 và 19 phiếu mẫu 2022–2023'
    >>> for part in text.split(". ")[1].split("; "):
    ...     print(part)
    Các số liệu theo tiêu chí tính trên 243 phiếu mẫu 2024–2026
    19 phiếu mẫu 2022–2023 được tính riêng theo mẫu của chúng.
    >>> coverage_sentence({"sipas-2024": 0}, "sipas-2024")
    'Kỳ này chưa có phiếu nào.'
    """
    present = sorted(((v, n) for v, n in counts.items() if n), key=lambda vn: (vn[0] != shown, -vn[1], vn[0]))
    if not present:
        return f"{period} chưa có phiếu nào."
    parts = [f"{n} phiếu {form_phrase(v)}" for v, n in present]
    text = f"{period} có {', '.join(parts[:-1]) + ' và ' + parts[-1] if len(parts) > 1 else parts[0]}."
    others = [p for (v, _), p in zip(present, parts, strict=True) if v != shown]
    if others:
        text += (
            f" Các số liệu theo tiêu chí tính trên {counts.get(shown, 0)} phiếu {form_phrase(shown)}; "
            f"{', '.join(others)} được tính riêng theo mẫu của chúng."
        )
    return text
