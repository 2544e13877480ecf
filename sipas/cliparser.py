"""An argparse parser that speaks Vietnamese: its usage line, headings, help of -h and every error.

argparse writes its own words in English ("usage:", "positional arguments", "the following arguments are
required", …) through ``gettext`` with no Vietnamese catalogue. Rather than change the process-wide gettext
domain (pytest and any other argparse user would switch language too), the parser below sets its headings
itself and translates the English messages on their way to ``error``.

>>> p = VietnameseArgumentParser(prog="sipas")
>>> _ = p.add_argument("--n", type=int, required=True)
>>> vietnamese_message("argument --n: invalid int value: 'x'")
"tham số --n: giá trị không hợp lệ: 'x' (cần một số nguyên)"
>>> "Cách dùng: sipas" in p.format_usage()
True
"""

from __future__ import annotations

import argparse
import re
import sys

USAGE_PREFIX = "Cách dùng: "
POSITIONALS_TITLE = "tham số theo vị trí"
OPTIONALS_TITLE = "tùy chọn"
HELP_HELP = "in hướng dẫn này rồi thoát"
VERSION_HELP = "in số phiên bản rồi thoát"

_TYPE_NAMES = {"int": "một số nguyên", "float": "một số", "_iso_date": "ngày dạng YYYY-MM-DD"}

# English message of argparse (Python 3.11, Lib/argparse.py) → Vietnamese; applied in order, the
# "argument X:" prefix first so the inner message is translated as well.
_MESSAGES: list[tuple[str, str]] = [
    (r"^argument (\S+): ", r"tham số \1: "),
    (r"the following arguments are required: (.*)$", r"thiếu tham số bắt buộc: \1"),
    (r"one of the arguments (.*) is required$", r"cần một trong các tham số \1"),
    (r"unrecognized arguments: (.*)$", r"tham số không nhận biết được: \1"),
    (r"invalid choice: (.*) \(choose from (.*)\)$", r"lựa chọn không hợp lệ: \1 (chọn một trong \2)"),
    (r"unknown parser (.*) \(choices: (.*)\)$", r"lệnh không có: \1 (các lệnh: \2)"),
    (r"expected one argument$", "cần một giá trị"),
    (r"expected at most one argument$", "chỉ nhận nhiều nhất một giá trị"),
    (r"expected at least one argument$", "cần ít nhất một giá trị"),
    (r"expected (\d+) arguments?$", r"cần \1 giá trị"),
    (r"not allowed with argument (.*)$", r"không dùng cùng với tham số \1"),
    (r"ignored explicit argument (.*)$", r"giá trị \1 bị bỏ qua (tùy chọn này không nhận giá trị)"),
    (r"ambiguous option: (\S+) could match (.*)$", r"tùy chọn \1 không rõ, có thể là \2"),
    (r"unexpected option string: (.*)$", r"tùy chọn không mong đợi: \1"),
]


def _invalid_value(match: re.Match) -> str:
    kind = _TYPE_NAMES.get(match.group(1), match.group(1))
    return f"giá trị không hợp lệ: {match.group(2)} (cần {kind})"


def vietnamese_message(message: str) -> str:
    """argparse's English error ``message`` in Vietnamese (a message already in Vietnamese is kept)."""
    for pattern, replacement in _MESSAGES:
        message = re.sub(pattern, replacement, message)
    return re.sub(r"invalid (\S+) value: (.*)$", _invalid_value, message)


class VietnameseHelpFormatter(argparse.HelpFormatter):
    """Writes "Cách dùng:" instead of "usage:"."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, USAGE_PREFIX if prefix is None else prefix)


class VietnameseArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with Vietnamese headings, help of -h and errors; its subparsers too
    (``add_subparsers`` makes them of the parser's own class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", VietnameseHelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = POSITIONALS_TITLE
        self._optionals.title = OPTIONALS_TITLE
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = HELP_HELP

    def add_argument(self, *args, **kwargs):
        if kwargs.get("action") == "version":
            kwargs.setdefault("help", VERSION_HELP)
        return super().add_argument(*args, **kwargs)

    def error(self, message):
        """Print the usage and the Vietnamese message on standard error, exit with code 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {vietnamese_message(message)}\n")
