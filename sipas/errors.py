"""Exceptions whose text a clerk can act on (Vietnamese), raised at the domain's boundary."""

from __future__ import annotations

from sipas.text import clip_message


class SipasError(Exception):
    """Base class: the message is meant to be shown to the user as it is."""


class CatalogError(SipasError):
    """A questionnaire or options data file is broken."""


class ValidationError(SipasError):
    """Input (a file, a form, a command argument) is invalid; ``problems`` lists each one, each cut to
    a short message (:func:`sipas.text.clip_message`) whatever input it quotes."""

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = [clip_message(str(p)) for p in problems]
        super().__init__("\n".join(self.problems))


class DatabaseError(SipasError):
    """The database file cannot be used (unknown schema, not a database of this product...)."""


MAX_PROBLEMS_SHOWN = 200


def raise_file_problems(problems: list[str], rows_kept: int, filename: str) -> None:
    """The end of every file import's validation: raise all problems (at most 200 listed, then a count),
    or a message for a file with no data row; return quietly when the file is fine."""
    if problems:
        if len(problems) > MAX_PROBLEMS_SHOWN:
            problems = problems[:MAX_PROBLEMS_SHOWN] + [f"… và {len(problems) - MAX_PROBLEMS_SHOWN} lỗi khác."]
        raise ValidationError(problems)
    if not rows_kept:
        raise ValidationError(f"Tệp {filename}: không có dòng dữ liệu nào.")
