"""Realistic generated data for trying the app and for benchmarks (``python -m sipas demo``).

Every generated row is marked ``is_demo = 1`` so that :func:`sipas.db.delete_demo_data` removes it
in one step. The generator is seeded, so the same seed gives the same database.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import numpy as np

from sipas import clock, db
from sipas.admin import settings
from sipas.catalog import CONDUCT_ELEMENT, questionnaire, survey_options, wait_bucket_for_minutes

DEMO_STAFF = [
    {"code": "CB01", "full_name": "Nguyễn Thị Hồng", "position": "Công chức Tư pháp – Hộ tịch", "counter": "Quầy 1"},
    {"code": "CB02", "full_name": "Trần Văn Minh", "position": "Công chức Địa chính – Xây dựng", "counter": "Quầy 2"},
    {"code": "CB03", "full_name": "Lê Thị Thu Hà", "position": "Công chức Văn hóa – Xã hội", "counter": "Quầy 3"},
    {"code": "CB04", "full_name": "Phạm Quốc Bảo", "position": "Công chức Tư pháp – Hộ tịch", "counter": "Quầy 1"},
    {"code": "CB05", "full_name": "Võ Thị Ngọc Ánh", "position": "Công chức Văn phòng – Thống kê", "counter": "Quầy 4"},
    {"code": "CB06", "full_name": "Đặng Văn Tùng", "position": "Công chức Tài chính – Kế toán", "counter": "Quầy 4"},
]

DEMO_COMMENTS = [
    "Cán bộ hướng dẫn tận tình, dễ hiểu.",
    "Phải chờ lâu quá, buổi sáng thứ Hai rất đông.",
    "Thái độ của cán bộ chưa niềm nở, nói trống không.",
    "Hồ sơ phải bổ sung nhiều lần, mong hướng dẫn một lần cho đủ.",
    "Phòng chờ nóng, thiếu ghế ngồi.",
    "Không biết gửi phản ánh ở đâu và bao giờ có trả lời.",
    "Lệ phí niêm yết rõ ràng, đúng quy định.",
    "Cảm ơn cán bộ một cửa đã hỗ trợ nhiệt tình!",
    "Nên có máy lấy số thứ tự.",
    "Trả kết quả đúng hẹn, rất hài lòng.",
]
# A comment agrees with the answers beside it (README, "Phản ánh về cán bộ: khi nào mở vụ việc"): praise
# only on a survey satisfied with every staff criterion and overall; the complaint about a person's
# conduct only where a staff criterion is answered 3 or lower. Elsewhere these are swapped for one of
# the comments about something else (waiting, papers, the room, fees, feedback).
DEMO_PRAISE = (0, 7, 9)
DEMO_CONDUCT_COMPLAINT = (2,)
DEMO_OTHER = tuple(i for i in range(len(DEMO_COMMENTS)) if i not in DEMO_PRAISE + DEMO_CONDUCT_COMPLAINT)


def consistent_comments(comment_idx: np.ndarray, conduct_min: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """The comment indices made to agree with the answers (no random draw: the seed's data stay the same
    otherwise). ``conduct_min``: each survey's lowest staff-criterion answer (6 when none answered).

    >>> consistent_comments(np.array([0, 2, 2, 0]), np.array([4, 3, 5, 2]), np.array([5, 5, 5, 5])).tolist()
    [0, 2, 4, 1]
    """
    other = np.array(DEMO_OTHER)[comment_idx % len(DEMO_OTHER)]
    praise_ok = (conduct_min >= 4) & (overall >= 4)
    is_praise = np.isin(comment_idx, DEMO_PRAISE)
    is_conduct = np.isin(comment_idx, DEMO_CONDUCT_COMPLAINT)
    bad = (is_praise & ~praise_ok) | (is_conduct & (conduct_min > 3))
    return np.where(bad, other, comment_idx)


# Baseline satisfaction probability per element; element 5 (feedback handling) is the weakest, as
# in the national 2023 results.
ELEMENT_P = {"1": 0.88, "2": 0.9, "3": 0.87, "4": 0.91, "5": 0.8}


def _opening_minutes(rng: np.random.Generator, size: int) -> np.ndarray:
    """Minutes after midnight inside 07:00–11:30 and 13:30–17:00, busier early in each period."""
    morning = rng.random(size) < 0.65
    start = np.where(morning, 7 * 60, 13 * 60 + 30)
    length = np.where(morning, 270, 210)
    offset = (rng.beta(1.6, 2.6, size) * length).astype(int)
    return start + offset


def generate(
    conn: sqlite3.Connection,
    responses: int = 3000,
    seed: int = 2024,
    months: int = 24,
    end: date | None = None,
    batch: int = 20000,
) -> int:
    """Fill ``conn`` with ``responses`` generated surveys over the last ``months`` months; return count."""
    rng = np.random.default_rng(seed)
    q = questionnaire(settings.get(conn, "active_questionnaire", end or clock.today()))
    codes = list(q.criterion_codes)
    elem_of = np.array([c.element for c in q.criteria])
    base_p = np.array([ELEMENT_P[e] for e in elem_of])
    fields = survey_options()["fields"]
    end = end or clock.now().date()
    start = end - timedelta(days=int(months * 30.4))

    with db.transaction(conn):
        for member in DEMO_STAFF:
            db.upsert_staff(conn, {**member, "active_from": start.isoformat(), "is_demo": 1})
    staff_codes = [m["code"] for m in DEMO_STAFF]
    # CB02 is the staff member citizens complain about: conduct answers lower.
    staff_shift = {"CB01": 0.04, "CB02": -0.22, "CB03": 0.0, "CB04": 0.02, "CB05": 0.03, "CB06": -0.02}

    weekdays = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    weekdays = [d for d in weekdays if d.weekday() < 5]
    day_weight = np.array([1.6 if d.weekday() == 0 else 1.0 for d in weekdays])
    # Satisfaction improves over the period (the plan's measures working).
    trend = np.linspace(-0.04, 0.03, len(weekdays))
    conduct_mask = elem_of == CONDUCT_ELEMENT

    day_text = [d.isoformat() for d in weekdays]
    n_codes = len(codes)
    buckets: dict[int, str] = {}
    done = 0
    while done < responses:
        size = min(batch, responses - done)
        day_idx = rng.choice(len(weekdays), size=size, p=day_weight / day_weight.sum())
        minute = _opening_minutes(rng, size)
        second = rng.integers(0, 60, size)
        staff_idx = rng.integers(0, len(staff_codes), size)
        channel = rng.choice(["kiosk", "qr", "paper"], size=size, p=[0.7, 0.1, 0.2])
        # Waiting is longest on Monday mornings; long waits lower satisfaction.
        is_peak = (np.array([weekdays[i].weekday() == 0 for i in day_idx])) & (minute < 9 * 60 + 30)
        wait = np.where(is_peak, rng.gamma(2.0, 14.0, size), rng.gamma(1.5, 6.0, size)).astype(int)
        wait_penalty = np.clip((wait - 15) / 100.0, 0, 0.25)
        shift = trend[day_idx] - wait_penalty
        p = np.clip(base_p[None, :] + shift[:, None], 0.02, 0.99)
        conduct_shift = np.array([staff_shift[staff_codes[s]] for s in staff_idx])
        p[:, conduct_mask] = np.clip(p[:, conduct_mask] + conduct_shift[:, None], 0.02, 0.99)
        satisfied = rng.random(p.shape) < p
        high = np.where(rng.random(p.shape) < 0.45, 5, 4)
        low = rng.choice([1, 2, 3], size=p.shape, p=[0.15, 0.35, 0.5])
        values = np.where(satisfied, high, low)
        no_opinion = rng.random(p.shape) < 0.04
        # Kiosk surveys use the short form: conduct criteria plus 4 rotating others.
        short = channel == "kiosk"
        rot_scores = rng.random(p.shape)
        rot_scores[:, conduct_mask] = -1
        order = np.argsort(-rot_scores, axis=1)
        rotating_rank = np.empty_like(order)
        np.put_along_axis(rotating_rank, order, np.arange(len(codes))[None, :].repeat(size, 0), axis=1)
        asked = ~short[:, None] | conduct_mask[None, :] | (rotating_rank < 4)
        overall_p = np.clip(0.9 + shift, 0.02, 0.99)
        overall = np.where(
            rng.random(size) < overall_p,
            np.where(rng.random(size) < 0.5, 5, 4),
            rng.choice([1, 2, 3], size=size, p=[0.15, 0.35, 0.5]),
        )
        has_comment = rng.random(size) < 0.08
        comment_idx = rng.integers(0, len(DEMO_COMMENTS), size)
        staff_known = rng.random(size) < 0.75
        harass = np.where(rng.random(size) < 0.97, 1, 2)
        payment = np.where(rng.random(size) < 0.98, 1, 2)

        # Plain Python values for the row loop (numpy scalars are slow to index one by one). One
        # call for the whole batch draws the same numbers as one call per row did.
        field_idx = rng.integers(0, len(fields), size).tolist()
        day_l, minute_l, second_l, wait_l = day_idx.tolist(), minute.tolist(), second.tolist(), wait.tolist()
        channel_l, staff_l, known_l = channel.tolist(), staff_idx.tolist(), staff_known.tolist()
        overall_l, harass_l, payment_l = overall.tolist(), harass.tolist(), payment.tolist()
        answered = np.where(no_opinion | ~asked, 6, values)
        conduct_min = answered[:, conduct_mask].min(axis=1) if conduct_mask.any() else np.full(size, 6)
        comment_idx = consistent_comments(comment_idx, conduct_min, overall)
        value_l = np.where(no_opinion, 0, values).tolist()  # 0 = "Không ý kiến", stored as NULL
        asked_l = asked.tolist()
        comment_l = [
            DEMO_COMMENTS[c] if h else None for c, h in zip(comment_idx.tolist(), has_comment.tolist(), strict=True)
        ]

        rows = []
        for i in range(size):
            m = minute_l[i]
            w = wait_l[i]
            if w not in buckets:
                buckets[w] = wait_bucket_for_minutes(w)
            response = {
                "token": f"demo:{seed}:{done + i}",
                "submitted_at": f"{day_text[day_l[i]]} {m // 60:02d}:{m % 60:02d}:{second_l[i]:02d}",
                "questionnaire": q.code,
                "channel": channel_l[i],
                "field": fields[field_idx[i]],
                "staff_code": staff_codes[staff_l[i]] if known_l[i] else None,
                "wait_minutes": w if channel_l[i] != "kiosk" else None,
                "wait_bucket": buckets[w],
                "overall": overall_l[i],
                "harassment": harass_l[i],
                "informal_payment": payment_l[i],
                "comment": comment_l[i],
                "device": "demo",
                "is_demo": 1,
            }
            vals, ask = value_l[i], asked_l[i]
            answers = {codes[j]: (vals[j] or None) for j in range(n_codes) if ask[j]}
            rows.append((response, answers))
        with db.transaction(conn):
            db.insert_responses_bulk(conn, rows)
        done += size
    return done
