"""Counters needed at the one-stop counter: Erlang C (M/M/c), pure functions only.

The model (sipas-method.md §3): citizens arrive as a Poisson stream, each is served for an
exponentially distributed time with mean AHT minutes, N counters serve one queue, and nobody leaves
the queue. With traffic A = arrivals per minute × AHT (in Erlangs):

* P(wait) = C(N, A), the Erlang C formula (N must exceed A, or the queue grows without end);
* service level SL(t) = 1 − C(N, A)·e^(−(N − A)·t / AHT), the share served within t minutes;
* mean wait = C(N, A)·AHT / (N − A) minutes (over all citizens, including those who do not wait);
* occupancy = A / N, the share of time a counter is busy.

Real counters are burstier than Poisson, so the answer is a floor to show beside the waits that were
actually measured. No Streamlit and no SQL here: numbers in, numbers out.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral, Real

from sipas.cliparser import VietnameseArgumentParser
from sipas.errors import ValidationError

#: Slack when comparing a computed service level with the target, so that floating-point noise
#: (e.g. 0.7999999999999999 for an exact 0.8) does not ask for one more counter.
_SL_TOLERANCE = 1e-12


# --------------------------------------------------------------------------- core formulas


def _is_number(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def _as_count(x: object, minimum: int) -> int | None:
    """x as a plain int if it is an integer (numpy ones too, not bool) >= minimum, else None."""
    if isinstance(x, bool) or not isinstance(x, Integral) or x < minimum:
        return None
    return int(x)


def erlang_b(counters: int, traffic: float) -> float:
    """Erlang B blocking probability B(N, A), by the stable recursion B(k) = A·B(k−1) / (k + A·B(k−1)).

    Works for any N ≥ 0 and A ≥ 0 (no factorials, no overflow). Raises ``ValueError`` on bad input.

    >>> round(erlang_b(10, 5.0), 5)
    0.01838
    """
    counters = _as_count(counters, 0)
    if counters is None:
        raise ValueError("counters must be a non-negative integer")
    if not _is_number(traffic) or not math.isfinite(traffic) or traffic < 0:
        raise ValueError("traffic must be a finite number >= 0")
    traffic = float(traffic)
    b = 1.0
    for k in range(1, counters + 1):
        ab = traffic * b
        b = ab / (k + ab)
    return b


def _erlang_c_from_b(counters: int, traffic: float, b: float) -> float:
    """C(N, A) from B(N, A): C = N·B / (N − A·(1 − B))."""
    return counters * b / (counters - traffic * (1.0 - b))


def erlang_c(counters: int, traffic: float) -> float:
    """Probability that a citizen has to wait, C(N, A), for N counters and traffic A Erlangs.

    Computed from the Erlang B recursion, so it is stable for large N (hundreds of counters).
    Raises ``ValueError`` unless N is a positive integer, A a finite number ≥ 0, and N > A.

    Contact-centre textbook case: 100 calls per 30 min of 3 min each is A = 10 Erlangs;
    14 agents give P(wait) = 0.17413.

    >>> round(erlang_c(14, 10.0), 5)
    0.17413
    >>> erlang_c(3, 0.0)
    0.0
    """
    n = _as_count(counters, 1)
    if n is None:
        raise ValueError("counters must be a positive integer")
    counters = n
    if not _is_number(traffic) or not math.isfinite(traffic) or traffic < 0:
        raise ValueError("traffic must be a finite number >= 0")
    if counters <= traffic:
        raise ValueError("counters must exceed traffic (otherwise the queue grows without end)")
    traffic = float(traffic)
    c = _erlang_c_from_b(counters, traffic, erlang_b(counters, traffic))
    return min(1.0, max(0.0, c))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StaffingResult:
    """One staffing level and what citizens get from it.

    ``traffic`` is A in Erlangs; ``service_level`` the share served within the target wait;
    ``p_wait`` the probability of waiting at all; ``mean_wait_minutes`` the mean wait over everyone;
    ``occupancy`` A / N (0 when no counter is open and nobody arrives).
    """

    counters: int
    traffic: float
    service_level: float
    p_wait: float
    mean_wait_minutes: float
    occupancy: float

    def to_json_dict(self) -> dict[str, int | float]:
        """The result as the JSON object the CLI prints (full-precision floats, counters an int).

        >>> StaffingResult(0, 0.0, 1.0, 0.0, 0.0, 0.0).to_json_dict()["counters"]
        0
        """
        return {
            "counters": int(self.counters),
            "service_level": float(self.service_level),
            "p_wait": float(self.p_wait),
            "mean_wait_minutes": float(self.mean_wait_minutes),
            "occupancy": float(self.occupancy),
        }


# --------------------------------------------------------------------------- validation


def _check_finite(value: object, label: str, problems: list[str]) -> bool:
    """Append a message and return False unless value is a finite real number."""
    if not _is_number(value):
        problems.append(f"{label} phải là một số.")
        return False
    if not math.isfinite(value):
        problems.append(f"{label} phải là một số hữu hạn.")
        return False
    return True


def _validate(
    arrivals_per_hour: object,
    service_minutes: object,
    target_wait_minutes: object,
    service_level: object | None = None,
) -> None:
    """Raise ValidationError listing every impossible input (Vietnamese messages)."""
    problems: list[str] = []
    if _check_finite(arrivals_per_hour, "Số lượt đến mỗi giờ", problems) and arrivals_per_hour < 0:
        problems.append("Số lượt đến mỗi giờ không được âm.")
    if _check_finite(service_minutes, "Thời gian phục vụ", problems) and service_minutes <= 0:
        problems.append("Thời gian phục vụ phải lớn hơn 0 phút.")
    if _check_finite(target_wait_minutes, "Thời gian chờ mục tiêu", problems) and target_wait_minutes < 0:
        problems.append("Thời gian chờ mục tiêu không được âm.")
    if service_level is not None and not (
        _is_number(service_level) and math.isfinite(service_level) and 0 < service_level < 1
    ):
        problems.append("Mức phục vụ phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0.8).")
    if problems:
        raise ValidationError(problems)


def traffic_erlangs(arrivals_per_hour: float, service_minutes: float) -> float:
    """Traffic A in Erlangs = arrivals per minute × mean service time in minutes.

    >>> traffic_erlangs(12, 20)
    4.0
    """
    _validate(arrivals_per_hour, service_minutes, 0.0)
    return float(arrivals_per_hour) / 60.0 * float(service_minutes)


def _result(counters: int, traffic: float, p_wait: float, service_minutes: float, target_wait: float) -> StaffingResult:
    """Assemble a StaffingResult for N > A from C(N, A)."""
    gap = counters - traffic
    service_level = 1.0 - p_wait * math.exp(-gap * target_wait / service_minutes)
    mean_wait = p_wait * service_minutes / gap
    return StaffingResult(
        counters=counters,
        traffic=traffic,
        service_level=min(1.0, max(0.0, service_level)),
        p_wait=p_wait,
        mean_wait_minutes=mean_wait,
        occupancy=traffic / counters,
    )


def _idle_result(counters: int) -> StaffingResult:
    """Nobody arrives: nobody waits, whatever the number of counters."""
    return StaffingResult(counters, 0.0, 1.0, 0.0, 0.0, 0.0)


def _unstable_result(counters: int, traffic: float) -> StaffingResult:
    """N ≤ A with arrivals: no steady state; report the limit as N → A (everyone waits, without end)."""
    return StaffingResult(counters, traffic, 0.0, 1.0, math.inf, 1.0)


# --------------------------------------------------------------------------- public API


def evaluate(
    counters: int, arrivals_per_hour: float, service_minutes: float, target_wait_minutes: float
) -> StaffingResult:
    """Service level, P(wait), mean wait and occupancy with a given number of open counters.

    Raises ``ValidationError`` (Vietnamese) on impossible inputs, including counters ≤ traffic when
    anyone arrives (the queue would grow without end). With zero arrivals any N ≥ 0 is fine: the
    service level is 1 and nobody waits.

    >>> r = evaluate(3, 6, 15, 15)
    >>> round(r.service_level, 3), round(r.p_wait, 3), round(r.mean_wait_minutes, 2)
    (0.947, 0.237, 2.37)
    """
    _validate(arrivals_per_hour, service_minutes, target_wait_minutes)
    n = _as_count(counters, 0)
    if n is None:
        raise ValidationError("Số quầy phải là số nguyên không âm.")
    counters = n
    traffic = traffic_erlangs(arrivals_per_hour, service_minutes)
    if traffic == 0:
        return _idle_result(counters)
    if counters <= traffic:
        raise ValidationError(
            f"Số quầy ({counters}) phải lớn hơn lưu lượng ({traffic:.2f} Erlang), nếu không hàng chờ sẽ dài mãi."
        )
    return _result(counters, traffic, erlang_c(counters, traffic), float(service_minutes), float(target_wait_minutes))


def counters_needed(
    arrivals_per_hour: float,
    service_minutes: float,
    target_wait_minutes: float,
    service_level: float = 0.8,
    max_counters: int = 1000,
) -> StaffingResult:
    """The fewest counters N > A serving at least ``service_level`` of citizens within the target wait.

    Zero arrivals need zero counters: the result is counters=0, service_level=1.0, p_wait=0,
    mean_wait_minutes=0 and occupancy=0. Raises ``ValidationError`` (Vietnamese) on impossible
    inputs, or when more than ``max_counters`` counters would be needed.

    Row 3 of the reference table: 12 arrivals an hour, 20 minutes each, 80% within 15 minutes.

    >>> r = counters_needed(12, 20, 15)
    >>> r.counters, round(r.service_level, 3), round(r.p_wait, 3), round(r.mean_wait_minutes, 2)
    (6, 0.936, 0.285, 2.85)
    >>> counters_needed(0, 15, 15).counters
    0
    """
    _validate(arrivals_per_hour, service_minutes, target_wait_minutes, service_level)
    max_n = _as_count(max_counters, 1)
    if max_n is None:
        raise ValidationError("Số quầy tối đa phải là số nguyên dương.")
    max_counters = max_n
    traffic = traffic_erlangs(arrivals_per_hour, service_minutes)
    if traffic == 0:
        return _idle_result(0)
    too_many = ValidationError(
        f"Cần hơn {max_counters} quầy cho lưu lượng {traffic:.2f} Erlang; hãy kiểm tra lại số liệu đầu vào."
    )
    first = math.floor(traffic) + 1
    if first > max_counters:
        raise too_many
    service_minutes = float(service_minutes)
    target_wait_minutes = float(target_wait_minutes)
    # Walk the Erlang B recursion once, upwards: O(max_counters) in all.
    b = erlang_b(first, traffic)
    n = first
    while True:
        p_wait = min(1.0, max(0.0, _erlang_c_from_b(n, traffic, b)))
        result = _result(n, traffic, p_wait, service_minutes, target_wait_minutes)
        if result.service_level >= service_level - _SL_TOLERANCE:
            return result
        if n >= max_counters:
            raise too_many
        n += 1
        ab = traffic * b
        b = ab / (n + ab)


def hour_requirement(
    arrivals_per_hour: float,
    counters_open: int,
    service_minutes: float,
    target_wait_minutes: float,
    service_level: float,
) -> tuple[StaffingResult, StaffingResult]:
    """One hour: (the counters Erlang C needs, what the counters open give) — the rule every staffing
    table uses. When the open counters do not exceed the traffic (and someone arrives) there is no steady
    state and the limit is reported (service level 0, everyone waits without end).

    >>> needed, current = hour_requirement(12, 5, 20, 15, 0.8)
    >>> needed.counters, current.counters, current.service_level < 0.8
    (6, 5, True)
    """
    needed = counters_needed(arrivals_per_hour, service_minutes, target_wait_minutes, service_level)
    if needed.traffic == 0:
        return needed, _idle_result(counters_open)
    if counters_open <= needed.traffic:
        return needed, _unstable_result(counters_open, needed.traffic)
    return needed, evaluate(counters_open, arrivals_per_hour, service_minutes, target_wait_minutes)


# --------------------------------------------------------------------------- CLI


def _pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def _num(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def summary_vi(result: StaffingResult, target_wait_minutes: float) -> str:
    """One Vietnamese sentence describing a staffing result (for the CLI without --json).

    >>> summary_vi(StaffingResult(0, 0.0, 1.0, 0.0, 0.0, 0.0), 15)
    'Không có lượt đến: không cần quầy nào.'
    """
    if result.counters == 0 and result.traffic == 0:
        return "Không có lượt đến: không cần quầy nào."
    return (
        f"Cần {result.counters} quầy: {_pct(result.service_level)} người dân được phục vụ trong vòng "
        f"{_num(target_wait_minutes, 0) if float(target_wait_minutes).is_integer() else _num(target_wait_minutes)}"
        f" phút; xác suất phải chờ {_pct(result.p_wait)}; thời gian chờ trung bình "
        f"{_num(result.mean_wait_minutes)} phút; công suất quầy {_pct(result.occupancy)}."
    )


# ------------------------------------------------------------------------------ advice per hour


def counters_available(counter_names: Iterable[str] | None, ticket_counters: Iterable[object] = ()) -> int:
    """How many counters exist: the counters named in the settings, or more if the queue machine's
    tickets name more (a counter that served a ticket exists). Advice never asks for more than this.

    >>> counters_available(["Quầy 1", "Quầy 2"]), counters_available(["Quầy 1"], ["Q1", "Q2", "Q3", None])
    (2, 3)
    """
    named = len([c for c in (counter_names or []) if str(c).strip()])
    seen = len({str(c).strip() for c in ticket_counters if c is not None and str(c).strip() and str(c) != "nan"})
    return max(named, seen, 1)


def _hour_text(start: str, end: str) -> str:
    """'8:00', '10:00' → '8–10 giờ'; '7:30', '9:00' → '7:30–9 giờ'."""

    def short(t: str) -> str:
        return t[:-3] if t.endswith(":00") else t

    return f"{short(start)}–{short(end)} giờ"


def advice_text(weekday_name: str, start: str, end: str, extra: int, still_short: int, total: int) -> str:
    """One line of staffing advice, per weekday and hours, bounded by the counters that exist.

    >>> advice_text("Thứ Hai", "8:00", "10:00", 1, 0, 2)
    'Thứ Hai 8–10 giờ: mở thêm 1 quầy'
    >>> advice_text("Thứ Hai", "8:00", "9:00", 1, 3, 2)
    'Thứ Hai 8–9 giờ: mở thêm 1 quầy (mở hết 2 quầy hiện có; vẫn thiếu khoảng 3 quầy theo mô hình)'
    >>> advice_text("Thứ Ba", "7:30", "9:00", 0, 2, 2).startswith("Thứ Ba 7:30–9 giờ: đã mở hết 2 quầy hiện có")
    True
    """
    when = f"{weekday_name} {_hour_text(start, end)}"
    if extra <= 0:
        return (
            f"{when}: đã mở hết {total} quầy hiện có, vẫn thiếu khoảng {still_short} quầy: rút ngắn thời gian xử lý "
            "hồ sơ hoặc hẹn giờ cho người dân"
        )
    text = f"{when}: mở thêm {extra} quầy"
    if still_short > 0:
        text += f" (mở hết {total} quầy hiện có; vẫn thiếu khoảng {still_short} quầy theo mô hình)"
    return text


def assumption_text(service_minutes: float, target_wait_minutes: float, service_level: float, total: int) -> str:
    """The model's assumption, shown beside the advice.

    >>> "trung bình 15 phút mỗi hồ sơ; mục tiêu 80% người dân" in assumption_text(15, 15, 0.8, 2)
    True
    """

    def plain(x: float) -> str:
        return f"{round(x, 1):g}".replace(".", ",")  # a measured mean such as 8.9333 reads "8,9"

    return (
        "Giả định: người dân đến ngẫu nhiên (Poisson), không ai bỏ về; trung bình "
        f"{plain(service_minutes)} phút mỗi hồ sơ; mục tiêu {plain(service_level * 100)}% người dân được tiếp nhận "
        f"trong {plain(target_wait_minutes)} phút; đơn vị có {total} quầy. Kết quả là mức tối thiểu: thực tế "
        "thường dồn dập hơn."
    )


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for ``python -m sipas staffing``."""
    parser = VietnameseArgumentParser(
        prog="python -m sipas staffing",
        description="Số quầy cần mở theo mô hình Erlang C (M/M/c): đến ngẫu nhiên kiểu Poisson, không ai bỏ về.",
    )
    parser.add_argument(
        "--arrivals-per-hour", type=float, metavar="SỐ", required=True, help="Số lượt đến trung bình mỗi giờ."
    )
    parser.add_argument(
        "--service-minutes", type=float, metavar="SỐ", required=True, help="Thời gian phục vụ trung bình (phút)."
    )
    parser.add_argument(
        "--target-wait", type=float, metavar="SỐ", default=15.0, help="Thời gian chờ mục tiêu (phút), mặc định 15."
    )
    parser.add_argument(
        "--service-level",
        type=float,
        metavar="SỐ",
        default=0.8,
        help="Tỷ lệ người dân cần được phục vụ trong thời gian chờ mục tiêu, mặc định 0.8.",
    )
    parser.add_argument("--json", action="store_true", help="In kết quả dạng một đối tượng JSON.")
    return parser


def staffing_command(argv: list[str] | None = None) -> int:
    """Run ``python -m sipas staffing``; return 0 on success, 1 on impossible inputs.

    Argparse usage errors raise ``SystemExit(2)`` as usual. With ``--json`` prints one JSON object
    with keys counters, service_level, p_wait, mean_wait_minutes, occupancy; otherwise one
    Vietnamese sentence. Error messages go to stderr.
    """
    args = build_parser().parse_args(argv)
    try:
        result = counters_needed(
            args.arrivals_per_hour, args.service_minutes, args.target_wait, service_level=args.service_level
        )
    except ValidationError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False))
    else:
        print(summary_vi(result, args.target_wait))
    return 0
