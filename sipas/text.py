"""Text typed by people (comments, names, notes, file cells): the two characters that are never stored.

Everything else is stored exactly as given and shown as plain text. Refused, with a message that
names the character:

* NUL (U+0000): SQLite keeps it, but its own functions stop there (``length``, ``LIKE``, the CHECK
  on a comment's length), and so does any C program that reads the file: the evidence would look
  cut short.
* a lone surrogate (U+D800–U+DFFF): not a character at all; it cannot be written as UTF-8. It only
  comes from a broken file name or command-line argument (Python's ``surrogateescape``); a browser,
  a CSV or an XLSX file never sends one.
"""

from __future__ import annotations

from typing import Any

EXCERPT_CHARS = 60  # of a value a person gave, quoted back in a message
MESSAGE_CHARS = 1200  # a whole message: longer ones are cut in the middle (their advice is at the end)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``value`` to quote in a message, then "…" and the full length:
    a 20 MB cell is never echoed back. Line breaks and tabs read as spaces.

    >>> excerpt("4,5"), excerpt("9" * 300_000, 10)
    ('4,5', '9999999999… (300.000 ký tự)')
    """
    text = str(value)
    short = text[:limit].replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if len(text) <= limit:
        return short
    return f"{short}… ({len(text):,} ký tự)".replace(",", ".")


def clip_message(message: str, limit: int = MESSAGE_CHARS) -> str:
    """``message`` if it is at most ``limit`` characters, else its start and its end (where what to do
    is said) around "…": the net under every message built from input (ValidationError uses it).

    >>> clip_message("Dòng 2: " + "x" * 1000 + " Hãy sửa rồi thử lại.", 60)
    'Dòng 2: xxxxxxxxxxxxxxxxxxxxxxxxxxxxx … Hãy sửa rồi thử lại.'
    """
    if len(message) <= limit:
        return message
    tail = max(limit // 3, 20)
    return f"{message[: limit - tail - 3]} … {message[-tail:].lstrip()}"


def bad_character(text: str) -> str | None:
    """The first character of ``text`` that is never stored, as ``U+XXXX`` (None: the text is fine).

    >>> bad_character("Thái độ 😡"), bad_character("a\\x00b"), bad_character("\\udcff")
    (None, 'U+0000', 'U+DCFF')
    """
    for ch in text:
        if ch == "\x00" or "\ud800" <= ch <= "\udfff":
            return f"U+{ord(ch):04X}"
    return None


def text_problem(value: Any, label: str) -> str | None:
    """A message for ``value`` (a string, or lists/dicts of them) if it holds a character never stored.

    >>> text_problem("a\\x00", "Góp ý")
    'Góp ý: có ký tự không hợp lệ (U+0000); hãy xóa ký tự đó.'
    """
    found = _first_bad(value)
    return None if found is None else f"{label}: có ký tự không hợp lệ ({found}); hãy xóa ký tự đó."


def _first_bad(value: Any) -> str | None:
    if isinstance(value, str):
        return bad_character(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set)):
        for v in value:
            found = _first_bad(v)
            if found:
                return found
    return None
