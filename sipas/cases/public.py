"""What the commune publishes about handled complaints ("Người dân nói — chúng tôi đã làm"): fixed plain
words about what changed for citizens, never a staff name, free text or a measure taken against a person.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from sipas import clock, db
from sipas.cases.workflow import TYPES

# Measures taken against a person are never published: in a small commune they name him or her.
PERSONAL_MEASURES = ("reminder", "review", "reassign", "replace", "discipline")
# What changed for citizens, by the kind of measure (fixed wording only).
PUBLIC_MEASURE = {
    "training": "cán bộ tại quầy được tập huấn thêm về giao tiếp và hướng dẫn người dân",
    "extra_staff": "bố trí thêm người tiếp nhận hồ sơ vào giờ đông",
}
PUBLIC_CHANGE = {
    "conduct": "việc tiếp đón, hướng dẫn người dân tại quầy được theo dõi hằng tháng qua phiếu khảo sát",
    "waiting": "thời gian chờ được theo dõi theo từng khung giờ để bố trí người phù hợp",
    "procedure": "hồ sơ, thủ tục liên quan được rà soát để hướng dẫn rõ hơn",
    "facilities": "cơ sở vật chất tại quầy được kiểm tra và khắc phục",
    "other": "nội dung phản ánh được theo dõi đến khi có kết quả",
}
FORBIDDEN_PUBLIC_WORDS = ("nhắc nhở", "kiểm điểm", "điều chuyển", "thay thế", "kỷ luật")


def public_line(case: dict) -> str:
    """One line of "Người dân nói — chúng tôi đã làm" for a case whose measure was applied.

    It says that the complaint was handled and what changed for citizens, never a measure taken
    against a person (nhắc nhở, kiểm điểm, điều chuyển, thay thế, kỷ luật), a name or free text.

    >>> line = public_line({"type": "conduct", "criterion": None, "measure": "reassign"})
    >>> line.startswith("Người dân phản ánh về thái độ, ứng xử — phản ánh đã được xem xét, xử lý;")
    True
    >>> "điều chuyển" in line
    False
    """
    topic = f"tiêu chí {case['criterion']}" if case.get("criterion") else TYPES[case["type"]].lower()
    change = PUBLIC_MEASURE.get(case.get("measure") or "") or PUBLIC_CHANGE[case["type"]]
    return f"Người dân phản ánh về {topic} — phản ánh đã được xem xét, xử lý; {change}."


def public_summary(conn: sqlite3.Connection, month: str) -> list[str]:
    """ "Người dân nói — chúng tôi đã làm": the month's handled complaints in fixed plain words (newest
    first), without any staff name or measure against a person; identical lines are given once."""
    start = date.fromisoformat(month + "-01")
    end = clock.month_start(start, 1)
    lines: list[str] = []
    for c in db.list_cases(conn):
        if c["measure"] and c["measure_date"] and start.isoformat() <= c["measure_date"] < end.isoformat():
            line = public_line(c)
            if line not in lines:
                lines.append(line)
    return lines
