"""Vietnamese typed in the legacy 8-bit fonts (TCVN3 ".VnTime", VNI "VNI-Times"), turned into Unicode.

Text copied out of an old Word file or spreadsheet typed in those fonts reaches us as Latin-1 look-alikes:
"C¸n bé th¸i ®é c¸u g¾t" (TCVN3) or "Caùn boä thaùi ñoä" (VNI). :func:`to_unicode` recognises such text
and converts it; Unicode text, plain ASCII and anything it cannot recognise are returned unchanged.

Recognition: text with any character beyond Latin-1 is Unicode already. Otherwise the characters that
Latin-1 has but Vietnamese never uses ("¸", "®", "ä", "ñ", "ø", …) are counted; when there are none the
text is left alone, else it is converted with whichever table leaves fewest of them (and only when that
table leaves none in the words it touched).

>>> to_unicode("C¸n bé th¸i ®é c¸u g¾t")
'Cán bộ thái độ cáu gắt'
>>> to_unicode("Caùn boä thaùi ñoä caùu gaét")
'Cán bộ thái độ cáu gắt'
>>> to_unicode("Cán bộ hoà nhã"), to_unicode("Thủ tục nhanh")
('Cán bộ hoà nhã', 'Thủ tục nhanh')
"""

from __future__ import annotations

import re
import unicodedata

# TCVN3 (TCVN 5712:1993, VN3): byte -> Unicode, taken from glibc's TCVN5712-1 converter for the bytes
# 0xA1-0xFF (the combining marks at 0xB0-0xB4 left out: the fonts' users typed precomposed letters).
_TCVN3_SRC = "¡¢£¤¥¦§¨©ª«¬\xad®¯µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ"
_TCVN3_DST = "ĂÂÊÔƠƯĐăâêôơưđẰàảãáạẲằẳẵắẴẮẦẨẪẤỀặầẩẫấậèỂẻẽéẹềểễếệìỉỄẾỒĩíịòỔỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ"
_TCVN3 = str.maketrans(_TCVN3_SRC, _TCVN3_DST)

# VNI Windows: a letter followed by one or two mark bytes. Lower-case marks (upper-case ones are the
# same bytes in upper case): tone alone, then circumflex + tone, then breve + tone.
_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_CIRC = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
# single bytes that are whole letters in VNI
_VNI_LETTERS = {"ô": "ơ", "ö": "ư", "ñ": "đ", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ"}


def _vni_table() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, vowel in (("a", "a"), ("e", "e"), ("i", "i"), ("o", "o"), ("u", "u"), ("y", "y"), ("ô", "ơ"), ("ö", "ư")):
        for mark, tone in _TONES.items():
            out[key + mark] = vowel + tone
    for vowel in "aeo":  # â ê ô
        for mark, tone in _CIRC.items():
            out[vowel + mark] = vowel + "\u0302" + tone
    for mark, tone in _BREVE.items():  # ă
        out["a" + mark] = "a\u0306" + tone
    for lower, uni in list(out.items()):
        out[lower.upper()] = uni.upper()
        out[lower[0].upper() + lower[1:]] = uni[0].upper() + uni[1:]
    return {k: unicodedata.normalize("NFC", v) for k, v in out.items()}


_VNI_PAIRS = _vni_table()
_VNI_SINGLE = {**_VNI_LETTERS, **{k.upper(): v.upper() for k, v in _VNI_LETTERS.items()}}
# Longest first: "ôù" (ớ) before "ô" (ơ); a letter typed as a VNI single byte may itself take a tone.
_VNI_RE = re.compile(
    "|".join(re.escape(k) for k in sorted(list(_VNI_PAIRS) + list(_VNI_SINGLE), key=len, reverse=True))
)

# Latin-1 characters that Unicode Vietnamese never uses (its Latin-1 letters are these vowels only).
_VIET_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_FOREIGN = {chr(c) for c in range(0xA1, 0x100)} - _VIET_LATIN1 - set("×÷")


def _foreign(text: str) -> int:
    return sum(ch in _FOREIGN for ch in text)


def _from_vni(text: str) -> str:
    def one(m: re.Match) -> str:
        s = m.group(0)
        return _VNI_PAIRS.get(s) or _VNI_SINGLE[s]

    return unicodedata.normalize("NFC", _VNI_RE.sub(one, text))


def _from_tcvn3(text: str) -> str:
    return text.translate(_TCVN3)


def to_unicode(text: str) -> str:
    """``text`` in Unicode (NFC): converted from TCVN3 or VNI when recognised as such, else unchanged."""
    if not text or text.isascii() or max(text) > "\xff":  # ASCII, or Unicode already (in C, not char by char)
        return text
    before = _foreign(text)
    if before == 0 or not _in_words(text):
        return text
    candidates = [(_foreign(c), i, c) for i, c in enumerate((_from_vni(text), _from_tcvn3(text)))]
    left, _, best = min(candidates)
    return best if left == 0 and _reads_as_vietnamese(best) else text


def _in_words(text: str) -> bool:
    """Every word holding a character foreign to Vietnamese also holds a plain letter: legacy fonts put
    their letters inside words ("C¸n"), a price or a symbol stands apart ("5£", "µ")."""
    return all(any(ch.isalpha() and not _foreign(ch) for ch in w) for w in text.split() if _foreign(w))


_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def _reads_as_vietnamese(text: str) -> bool:
    """Every word of the converted text carries at most one tone mark, and some word mixes a converted
    letter with plain ones (legacy-font text is words, not a string of symbols).

    >>> _reads_as_vietnamese("Cán bộ thái độ cáu gắt"), _reads_as_vietnamese("àà ẹ")
    (True, False)
    """
    words = text.split()
    if any(sum(ch in _TONE_MARKS for ch in unicodedata.normalize("NFD", w)) > 1 for w in words):
        return False
    return any(any(ord(ch) > 0x7F for ch in w) and any(ch.isascii() and ch.isalpha() for ch in w) for w in words)


def legacy_encoding(text: str) -> str | None:
    """ "TCVN3" or "VNI" when :func:`to_unicode` would convert ``text``, else None."""
    if not text or to_unicode(text) == text:
        return None
    return "VNI" if _foreign(_from_vni(text)) == 0 else "TCVN3"
