"""Exceptions whose text a clerk can act on (Vietnamese), raised at the domain's boundary."""

from __future__ import annotations


class SipasError(Exception):
    """Base class: the message is meant to be shown to the user as it is."""


class CatalogError(SipasError):
    """A questionnaire or options data file is broken."""


class ValidationError(SipasError):
    """Input (a file, a form, a command argument) is invalid; ``problems`` lists each one."""

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DatabaseError(SipasError):
    """The database file cannot be used (unknown schema, not a database of this product...)."""
