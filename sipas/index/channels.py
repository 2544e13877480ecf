"""The channels side by side: at the counter (kiosk), on one's own phone (QR) and on paper.

A citizen who rates at the counter tablet does so under the eyes of staff; on a phone with a single-use QR
code, privately. A share of satisfied citizens markedly higher at the counter than on phones is a known sign
of social pressure. Measured on the overall question (answers 4–5 of those who answered it), per channel
with n and the 95 % Wilson interval, and kiosk − QR with the pooled two-proportion z-test and Newcombe's
interval (:func:`sipas.index.comparison.two_proportion_test`). Below :data:`MIN_PER_CHANNEL` answers on
either side there is no verdict.

Ratings linked to dossiers (QR cards printed with a dossier code, :mod:`sipas.survey.qr`): how many, and
the satisfied share of late dossiers beside on-time ones.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from sipas import clock, db
from sipas.index.comparison import TestResult, two_proportion_test
from sipas.index.stats import Proportion, proportion

CHANNELS = ("kiosk", "qr", "paper")
LABELS = {"kiosk": "Tại quầy (máy tính bảng)", "qr": "Trên điện thoại (mã QR)", "paper": "Phiếu giấy"}
MIN_PER_CHANNEL = 30
ALPHA = 0.05
WHY = (
    "Người dân đánh giá tại quầy khi cán bộ ở ngay bên cạnh; trên điện thoại của mình thì riêng tư. Tỷ lệ hài "
    "lòng tại quầy cao hơn hẳn trên điện thoại là dấu hiệu người dân ngại chê trước mặt cán bộ (áp lực xã hội)."
)


@dataclass(frozen=True)
class ChannelShare:
    channel: str
    label: str
    overall: Proportion  # satisfied (4–5) of those who answered the overall question


@dataclass(frozen=True)
class ChannelComparison:
    """The channels of a period (those with answers, kiosk and QR always), kiosk − QR tested when both have
    at least :data:`MIN_PER_CHANNEL` answers (else ``test`` is None), and the sentence that says so."""

    shares: list[ChannelShare]
    test: TestResult | None
    sentence: str


def satisfied_of(counts: tuple[int, int, int, int, int] | None) -> tuple[int, int]:
    """(answers 4–5, answers 1–5) of a criterion's counts of levels 1..5.

    >>> satisfied_of((1, 2, 3, 4, 5)), satisfied_of(None)
    ((9, 15), (0, 0))
    """
    if not counts:
        return 0, 0
    return int(counts[3] + counts[4]), int(sum(counts))


def compare_channels(
    conn: sqlite3.Connection,
    *,
    questionnaire: str | None,
    date_from: str,
    date_to: str,
    field: str | None = None,
    staff_code: str | None = None,
    include_excluded: bool = False,
) -> ChannelComparison:
    """The channels of responses submitted from ``date_from`` to ``date_to`` (local dates, inclusive)."""
    shares = []
    for channel in CHANNELS:
        counts = db.filtered_level_counts(
            conn,
            questionnaire=questionnaire,
            date_from=date_from,
            date_to=date_to,
            channel=channel,
            field=field,
            staff_code=staff_code,
            include_excluded=include_excluded,
        )
        satisfied, n = satisfied_of(counts.get("overall"))
        if n or channel != "paper":
            shares.append(ChannelShare(channel, LABELS[channel], proportion(satisfied, n)))
    by = {s.channel: s.overall for s in shares}
    return ChannelComparison(shares, *_verdict(by["kiosk"], by["qr"]))


def _verdict(kiosk: Proportion, phone: Proportion) -> tuple[TestResult | None, str]:
    if kiosk.n < MIN_PER_CHANNEL or phone.n < MIN_PER_CHANNEL:
        return None, (
            f"Chưa đủ dữ liệu để so sánh: {kiosk.n} câu trả lời tại quầy và {phone.n} qua mã QR trên điện thoại "
            f"(cần ít nhất {MIN_PER_CHANNEL} mỗi bên). Chưa kết luận."
        )
    test = two_proportion_test(kiosk.satisfied, kiosk.n, phone.satisfied, phone.n)
    gap = (
        f"chênh lệch {clock.format_signed(test.difference)} điểm phần trăm, khoảng tin cậy 95% "
        f"{clock.format_signed(test.ci_low)} đến {clock.format_signed(test.ci_high)}, {clock.p_clause(test.p_value)}"
    )
    if test.p_value < ALPHA and test.difference > 0:
        return test, (
            f"Tỷ lệ hài lòng tại quầy cao hơn trên điện thoại ({gap}): có dấu hiệu áp lực xã hội. Nên đọc kết quả "
            "tại quầy như mức trần và xem kỹ góp ý gửi qua điện thoại."
        )
    if test.p_value < ALPHA:
        return test, f"Tỷ lệ hài lòng trên điện thoại cao hơn tại quầy ({gap}): không thấy dấu hiệu áp lực xã hội."
    return test, f"Chưa thấy khác biệt có ý nghĩa thống kê giữa tại quầy và trên điện thoại ({gap})."


@dataclass(frozen=True)
class DossierRatings:
    """Surveys of the period linked to a dossier (QR cards with a dossier code): how many, how many of
    dossiers not imported yet, and satisfied shares (overall question) for late and on-time dossiers."""

    linked: int
    unknown: int
    late: Proportion
    on_time: Proportion


def dossier_ratings(conn: sqlite3.Connection, date_from: str, date_to: str, now: datetime) -> DossierRatings:
    """Linked ratings submitted from ``date_from`` to ``date_to``. A dossier is late when it was finished
    after its due time, or is still open after it at ``now`` (data-interchange.md §Dossiers)."""
    rows = db.qr_dossier_figures(conn, date_from, date_to)
    stamp = clock.format_ts(now)
    counts = {True: [0, 0], False: [0, 0]}
    unknown = 0
    for r in rows:
        if r["due_at"] is None:
            unknown += 1
            continue
        if r["overall"] is None:
            continue
        late = (r["finished_at"] or stamp) > r["due_at"]
        counts[late][0] += int(r["overall"] >= 4)
        counts[late][1] += 1
    return DossierRatings(len(rows), unknown, proportion(*counts[True]), proportion(*counts[False]))


def dossier_sentence(d: DossierRatings) -> str:
    """The linked ratings in one sentence (no verdict: the counts are shown with their intervals)."""
    if not d.linked:
        return "Chưa có phiếu nào gắn với hồ sơ trong kỳ (phiếu mã QR in kèm mã hồ sơ khi trả kết quả)."
    text = f"{d.linked} phiếu gắn với hồ sơ trong kỳ"
    if d.unknown:
        text += f", trong đó {d.unknown} phiếu của hồ sơ chưa có trong danh sách hồ sơ đã nhập"
    return text + "."


def channel_frame(c: ChannelComparison):
    """The channels as a table: n, satisfied, share and its 95% interval (percent)."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "Kênh": s.label,
                "n": s.overall.n,
                "Hài lòng (4–5)": s.overall.satisfied,
                "Tỷ lệ hài lòng (%)": s.overall.index,
                "KTC 95% thấp": s.overall.ci_low,
                "KTC 95% cao": s.overall.ci_high,
            }
            for s in c.shares
        ]
    )


def dossier_frame(d: DossierRatings):
    """Late beside on-time dossiers: n of linked ratings, satisfied share and its 95% interval."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "Hồ sơ": label,
                "n": p.n,
                "Hài lòng (4–5)": p.satisfied,
                "Tỷ lệ hài lòng (%)": p.index,
                "KTC 95% thấp": p.ci_low,
                "KTC 95% cao": p.ci_high,
            }
            for label, p in (("Trễ hạn", d.late), ("Trước và đúng hạn", d.on_time))
        ]
    )
