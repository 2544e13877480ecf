"""Citizens' free comments: topic tags from editable keyword rules, and search with or without diacritics.

The rules live in ``data/comment-topics.json`` so the clerk can add keywords without a release. A keyword
matches whole words in order ("chờ lâu" matches "phải chờ lâu quá", not "chờ lâuuu"). Matching ignores case
and diacritics: "thai do" finds "Thái độ". When a comment *is* typed with diacritics and the keyword has
them too, the tone and vowel marks must agree, so "quạt" (a fan) does not find "quát" (to shout at) and
"tiền" (money) does not find "thuận tiện"; a comment typed without any diacritics cannot tell them apart and
matches both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sipas.errors import CatalogError
from sipas.paths import DATA_DIR, read_json_file

TOPICS_FILE = DATA_DIR / "comment-topics.json"
_WORD = re.compile(r"\w+")
_STROKE = "\u0111"  # đ, which NFD does not decompose


@dataclass(frozen=True)
class Word:
    """One word: ``base`` without diacritics (đ→d, casefolded) and the diacritic marks it carried."""

    base: str
    marks: str  # sorted combining marks (+ "đ" for the stroke); empty when typed without diacritics


@lru_cache(maxsize=65536)  # the words of comments repeat: each is decomposed once
def _word(text: str) -> Word:
    decomposed = unicodedata.normalize("NFD", text.casefold())
    base, marks = [], []
    for ch in decomposed:
        if unicodedata.combining(ch):
            marks.append(ch)
        elif ch == _STROKE:
            base.append("d")
            marks.append(_STROKE)
        else:
            base.append(ch)
    return Word("".join(base), "".join(sorted(marks)))


def words(text: str) -> list[Word]:
    """The words of ``text`` (letters and digits), each split into base letters and marks."""
    return [_word(w) for w in _WORD.findall(unicodedata.normalize("NFC", text or ""))]


def normalize(text: str) -> str:
    """Text without diacritics, đ→d, casefolded, words separated by one space.

    >>> normalize("  Thái ĐỘ   chưa niềm-nở! ")
    'thai do chua niem no'
    """
    return " ".join(w.base for w in words(text))


@dataclass(frozen=True)
class Topic:
    code: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class TopicRules:
    topics: tuple[Topic, ...]
    other: str

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.topics] + [self.other]


def parse_rules(raw: object, path: Path) -> TopicRules:
    """Check a rules document; a broken one raises CatalogError naming the file and the entry."""
    name = path.name
    if not isinstance(raw, dict):
        raise CatalogError(f"Tệp {name}: nội dung phải là một đối tượng JSON.")
    topics_raw = raw.get("topics")
    if not isinstance(topics_raw, list) or not topics_raw:
        raise CatalogError(f"Tệp {name}, mục topics: phải là danh sách chủ đề không trống.")
    other = raw.get("other", "Khác")
    if not isinstance(other, str) or not other.strip():
        raise CatalogError(f"Tệp {name}, mục other: tên chủ đề còn lại phải là chữ, không trống.")
    topics, codes, labels = [], set(), {other.strip()}
    for i, t in enumerate(topics_raw):
        where = f"topics[{i}]"
        if not isinstance(t, dict):
            raise CatalogError(f"Tệp {name}, mục {where}: phải là một đối tượng có code, label, keywords.")
        for key in ("code", "label"):
            if not isinstance(t.get(key), str) or not t[key].strip():
                raise CatalogError(f"Tệp {name}, mục {where}.{key}: thiếu hoặc trống.")
        code, label = t["code"].strip(), t["label"].strip()
        if code in codes:
            raise CatalogError(f"Tệp {name}, mục {where}.code: mã chủ đề '{code}' bị trùng.")
        if label in labels:
            raise CatalogError(f"Tệp {name}, mục {where}.label: tên chủ đề '{label}' bị trùng.")
        codes.add(code)
        labels.add(label)
        kws = t.get("keywords")
        if not isinstance(kws, list) or not kws:
            raise CatalogError(f"Tệp {name}, mục {where}.keywords: phải là danh sách từ khóa không trống.")
        clean = []
        for j, k in enumerate(kws):
            if not isinstance(k, str) or not words(k):
                raise CatalogError(
                    f"Tệp {name}, mục {where}.keywords[{j}]: từ khóa {k!r} không hợp lệ "
                    "(cần ít nhất một chữ cái hoặc chữ số)."
                )
            clean.append(k.strip())
        topics.append(Topic(code, label, tuple(clean)))
    return TopicRules(tuple(topics), other.strip())


def load_rules(path: Path | None = None) -> TopicRules:
    """Read and check the rules file (default ``data/comment-topics.json``)."""
    path = Path(path or TOPICS_FILE)
    return parse_rules(read_json_file(path, f"Không tìm thấy tệp chủ đề góp ý {path.name}."), path)


@lru_cache(maxsize=4)
def _rules_cached(path: str, mtime: float) -> TopicRules:
    return load_rules(Path(path))


def rules(path: Path | None = None) -> TopicRules:
    """The rules file, re-read when the clerk has changed it (cached by modification time)."""
    path = Path(path or TOPICS_FILE)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise CatalogError(f"Không tìm thấy tệp chủ đề góp ý {path.name}.") from None
    return _rules_cached(str(path), mtime)


def _word_matches(kw: Word, w: Word, text_has_marks: bool) -> bool:
    if kw.base != w.base:
        return False
    # Marks decide only when both sides were typed with diacritics.
    if kw.marks and text_has_marks:
        return kw.marks == w.marks
    return True


def _contains(text_words: list[Word], keyword: list[Word], text_has_marks: bool) -> bool:
    k = len(keyword)
    for i in range(len(text_words) - k + 1):
        if all(_word_matches(keyword[j], text_words[i + j], text_has_marks) for j in range(k)):
            return True
    return False


def has_keyword(text: str, keyword: str) -> bool:
    """Whether ``keyword`` occurs as whole words in ``text`` (see the module docstring).

    >>> has_keyword("Thái độ của cán bộ chưa niềm nở", "thai do")
    True
    >>> has_keyword("thai do can bo chua tot", "thái độ")
    True
    >>> has_keyword("Phòng chờ không có quạt", "quát tháo"), has_keyword("Cán bộ quát", "quạt")
    (False, False)
    >>> has_keyword("Thủ tục thuận tiện", "tiền")
    False
    """
    tw = words(text)
    return _contains(tw, words(keyword), any(w.marks for w in tw))


def tag(text: str, rules_: TopicRules | None = None) -> list[str]:
    """The topic labels of one comment, in the rules' order; the "other" label when none matches.

    >>> tag("Phải chờ lâu quá, thái độ chưa niềm nở")
    ['Thái độ/ứng xử', 'Chờ đợi']
    >>> tag("Cảm ơn")
    ['Khác']
    """
    r = rules_ or rules()
    plain, marked = _keyed(words(text))
    found = [t.label for t, m in zip(r.topics, _matchers(r), strict=True) if m.found(plain, marked)]
    return found or [r.other]


def matches_query(text: str, query: str) -> bool:
    """The comment search box: every word of ``query`` starts a word of ``text`` (diacritics as in tag).

    >>> matches_query("Thái độ chưa niềm nở", "thai")
    True
    >>> matches_query("Thái độ chưa niềm nở", "niem no"), matches_query("Thái độ", "thài")
    (True, False)
    >>> matches_query("anything", "   ")
    True
    """
    qw = words(query)
    if not qw:
        return True
    tw = words(text)
    marked = any(w.marks for w in tw)
    for q in qw:
        ok = False
        for w in tw:
            if w.base.startswith(q.base) and (not q.marks or not marked or _marks_prefix(q, w)):
                ok = True
                break
        if not ok:
            return False
    return True


def _marks_prefix(q: Word, w: Word) -> bool:
    # A whole word typed with marks must agree with them; a partial word only needs its marks present.
    if q.base == w.base:
        return q.marks == w.marks
    return all(w.marks.count(m) >= q.marks.count(m) for m in set(q.marks))


def conduct_tagger(rules_: TopicRules | None = None):
    """``text -> {"conduct"}`` when a comment is about staff attitude (the rules in data/comment-topics.json);
    the tagger the case intake uses (:func:`sipas.cases.intake.sync_from_survey`). Built once per rules."""
    return _conduct_tagger(rules_ or rules())


@lru_cache(maxsize=4)
def _conduct_tagger(rules_: TopicRules):
    matcher = next((m for t, m in zip(rules_.topics, _matchers(rules_), strict=True) if t.code == "attitude"), None)

    def tagger(text: str) -> set[str]:
        return {"conduct"} if matcher is not None and matcher.found(*_keyed(words(text))) else set()

    return tagger


# ---------------------------------------------------------------------------- compiled keyword matching
# A comment is written once as its words "base~marks" separated by spaces; the keywords of a topic are
# one compiled alternation over it (same rule as _contains: whole words in order, marks deciding only
# when both the keyword word and the comment carry them), so tagging costs a regex search per topic.


def _keyed(tw: list[Word]) -> tuple[str, bool]:
    """The comment as the matchers read it, and whether it was typed with any diacritics."""
    return " ".join(f"{w.base}~{w.marks}" for w in tw), any(w.marks for w in tw)


@dataclass(frozen=True)
class _Matcher:
    strict: re.Pattern  # for a comment typed with diacritics: a keyword word's marks must agree
    loose: re.Pattern  # for a comment without any: bases only

    def found(self, keyed: str, marked: bool) -> bool:
        return (self.strict if marked else self.loose).search(keyed) is not None


def _alternation(keywords: tuple[str, ...], strict: bool) -> re.Pattern:
    alts = []
    for k in keywords:
        parts = []
        for w in words(k):
            marks = re.escape(w.marks) if strict and w.marks else "[^ ]*"
            parts.append(re.escape(w.base) + "~" + marks)
        alts.append(" ".join(parts))
    return re.compile("(?:^| )(?:" + "|".join(alts) + ")(?= |$)")


@lru_cache(maxsize=4)
def _matchers(rules_: TopicRules) -> tuple[_Matcher, ...]:
    return tuple(_Matcher(_alternation(t.keywords, True), _alternation(t.keywords, False)) for t in rules_.topics)
