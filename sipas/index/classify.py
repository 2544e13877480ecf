"""What a citizen's comment is about and whether it complains about a person's conduct.

Each comment gets its topics (``thai_do``, ``cho_doi``, ``ho_so``, ``co_so_vat_chat``, ``phi_tieu_cuc``,
``khac``) and a polarity per topic (``khen``, ``che``, ``gop_y``, ``trung_tinh``), read clause by clause so
that "tận tình nhưng chờ lâu" praises the staff and complains about the wait; and ``conduct_complaint``,
the one label that can open a conduct case (README, "Phản ánh về cán bộ: khi nào mở vụ việc").

How: the text is first made comparable — legacy TCVN3/VNI converted (:mod:`sipas.files.legacy`), NFC,
case and diacritics dropped, the usual abbreviations expanded ("ko", "k" → không, "dc" → được, "nv" →
nhân viên, "cb" → cán bộ) — then hand-written rules (topic words, praise/complaint/suggestion words,
negation: "không nhiệt tình" is a complaint, "không hề gắt" is not) tag each clause. Where rules fall
short, a logistic regression on syllable 1–2-grams plus the rules' verdicts, trained on the labelled
corpus ``data/comments/corpus.csv`` (labelling guide beside it) and on the clerk's corrections, decides
``conduct_complaint``. A comment the clerk corrected gets the clerk's label, word for word.
Its precision and recall by cross-validation: bench/bench_classifier.py, bench/RESULTS.md.

>>> c = classify("Cán bộ hướng dẫn tận tình, nhưng phải chờ hơi lâu.", model=None)
>>> c.topics, c.conduct_complaint
({'thai_do': 'khen', 'cho_doi': 'che'}, False)
>>> classify("chi hong noi chuyen hoi gat voi nguoi lon tuoi", model=None).conduct_complaint
True
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sipas import paths
from sipas.files.legacy import to_unicode
from sipas.index.comments import words
from sipas.paths import DATA_DIR

log = logging.getLogger(__name__)

CORPUS_FILE = DATA_DIR / "comments" / "corpus.csv"
TOPICS = ("thai_do", "cho_doi", "ho_so", "co_so_vat_chat", "phi_tieu_cuc", "khac")
POLARITIES = ("khen", "che", "gop_y", "trung_tinh")
TOPIC_LABELS = {
    "thai_do": "Thái độ cán bộ",
    "cho_doi": "Chờ đợi",
    "ho_so": "Hồ sơ/thủ tục",
    "co_so_vat_chat": "Cơ sở vật chất",
    "phi_tieu_cuc": "Phí/tiêu cực",
    "khac": "Khác",
}
POLARITY_LABELS = {"khen": "khen", "che": "chê", "gop_y": "góp ý", "trung_tinh": "trung tính"}

ABBREVIATIONS = {
    "ko": "khong", "k": "khong", "kg": "khong", "khg": "khong", "kh": "khong", "hok": "khong", "hong": None,
    "dc": "duoc", "dk": "duoc", "nv": "nhan vien", "cb": "can bo", "ng": "nguoi", "vs": "voi", "j": "gi",
    "r": "roi", "bt": "binh thuong", "wa": "qua", "qa": "qua", "tg": "thoi gian", "hs": "ho so",
}  # fmt: skip

# Words (without diacritics) that put a clause under a topic.
TOPIC_WORDS = {
    "thai_do": "thai do|ung xu|can bo|nhan vien|cong chuc|chi hong|anh tuan|chi ay|chi can bo|co ay|co can bo|"
    "co tiep nhan|cau can bo|anh can bo|phuc vu|tiep dan|gat|quat|hach dich|hach sach|tan tinh|nhiet tinh|"
    "niem no|lich su|chu dao|vui ve|an can|tan tam|cau co|cau kinh|coc loc|nhat gung|xac xuoc|hong hach|"
    "trong khong|kho de|lon tieng|khinh khinh|ban on|mang|tho o|voi vinh|phong bi|de thuong|kien nhan|"
    "chuyen nghiep|hut thuoc|nguoi quen|lam viec rieng|dien thoai|the ten|duoi kheo|kho nghe",
    "cho_doi": "cho|doi|lau|xep hang|dong|cham|tre hen|luot|lay so|so thu tu|som hon hen|tieng|quay|vang|"
    "nhanh gon|giai quyet nhanh|lam nhanh|gio cao diem",
    "ho_so": "ho so|thu tuc|giay to|bieu mau|to khai|bo sung|khai sinh|chung thuc|ket qua|di lai|niem yet|"
    "truc tuyen|ruom ra|tiep nhan",
    "co_so_vat_chat": "phong cho|ghe|quatfan|nong|nha ve sinh|de xe|may lay so|wifi|nuoc uong|sach se|thoang mat|"
    "chat|dieu hoa|may lanh|phong mot cua|khu vuc cho",
    "phi_tieu_cuc": "le phi|phi|tien|boi duong|phong bi|bien lai|ngoai quy dinh|chuyen khoan|dat",
}
# Conduct words: a complaint word among these (or a complaint in a clause naming a staff member) makes the
# clause a complaint about a person.
STAFF = (
    "can bo|nhan vien|cong chuc|chi hong|anh tuan|chi ay|co ay|cau can bo|anh can bo|chi can bo|co can bo|co tiep nhan"
)
PRAISE = (
    "tan tinh|nhiet tinh|vui ve|lich su|chu dao|niem no|de gan|de hieu|cam on|chuyen nghiep|an can|nhe nhang|"
    "hai long|de thuong|tan tam|nhanh nhen|kien nhan|tot|nhanh|nhanh gon|sach se|thoang mat|tien|don gian|som|"
    "giup do|ho tro|dung le phi|co bien lai|suc khoe|ngay"
)
COMPLAINT = (
    "gat|cau|quat|hach dich|hach sach|kho chiu|trong khong|coc loc|nhat gung|kho de|lon tieng|cau co|cau kinh|"
    "xac xuoc|tho o|ban on|duoi|mang|khinh khinh|hong hach|kho nghe|voi vinh|phong bi|boi duong|them tien|"
    "dua tien|ngoai quy dinh|qua loa|lam viec rieng|dien thoai|hut thuoc|nguoi quen|kem|cham|lau|tre hen|"
    "ruom ra|kho hieu|nong|chat|ban|bi hong|loi|giay to nhieu lan|di lai|cao|dat|phan nan|muon|ra lenh|bo di|"
    "de mac|gay kho|khong them|khong tra loi|khong dung muc|khong chiu|chua co|khong co|dong qua|qua dong|"
    "thieu ton trong|thieu lich su|doa"
)
SUGGEST = "de nghi|nen|mong|kien nghi|can them|bo tri them|hy vong|giam bot"
NEGATION = "khong|chua|chang|cha|thieu|khong he|khong phai"
SPLIT = re.compile(r"[.,;!?\n]+|\b(?:nhung|tuy nhien|song|con)\b")
_CONDUCT_ONLY = (
    "gat|quat|hach dich|hach sach|trong khong|coc loc|nhat gung|kho de|lon tieng|cau co|cau kinh|xac xuoc|"
    "tho o|ban on|mang|khinh khinh|hong hach|voi vinh|phong bi|ra lenh|them nhin|thieu ton trong|thieu lich su|"
    "doa|duoi kheo"
)


def _alt(words_: str) -> re.Pattern:
    return re.compile(r"(?:^| )(" + words_ + r")(?= |$)")


_TOPIC_RE = {t: _alt(w) for t, w in TOPIC_WORDS.items()}
_STAFF_RE, _CONDUCT_RE = _alt(STAFF), _alt(_CONDUCT_ONLY)
_PRAISE_RE, _COMPLAINT_RE, _SUGGEST_RE = _alt(PRAISE), _alt(COMPLAINT), _alt(SUGGEST)
_NEG_BEFORE = re.compile(r"(?:^| )(?:" + NEGATION + r")(?: (?:he|duoc|qua|lam|may|them|nhieu))? $")


def prepare(text: str) -> str:
    """The comment as the rules and the model read it: Unicode, no diacritics, lower case, abbreviations
    expanded, words separated by one space (punctuation kept as its own token for the clause split).

    >>> prepare("Nv ko nhiệt tình, cb dc")
    'nhan vien khong nhiet tinh , can bo duoc'
    >>> prepare(unicodedata.normalize("NFD", "Cán bộ")) == prepare("can bo") == prepare("C¸n bé")
    True
    """
    text = unicodedata.normalize("NFC", to_unicode(text or ""))
    out = []
    for piece in re.findall(r"\w+|[.,;!?\n]", text):
        if piece in ".,;!?\n":
            out.append(piece if piece != "\n" else ".")
            continue
        w = words(piece)[0]
        base = "quatfan" if w.base == "quat" and "\u0323" in w.marks else w.base  # quạt (a fan), not quát
        expanded = ABBREVIATIONS.get(base, base)
        out.append(expanded if expanded is not None else base)
    # typed without diacritics, a fan is told from shouting by its neighbours
    return _FAN.sub(r"\1quatfan", " ".join(out))


_FAN = re.compile(r"(?<![^ ])((?:co|them|cai|khong co|bo tri them) )quat(?= |$)")


def _polarity(clause: str) -> str:
    """khen/che/gop_y/trung_tinh of one clause (prepared text), negation turning praise and blame around."""
    if _SUGGEST_RE.search(clause):
        return "gop_y"
    score_che = score_khen = 0
    for regex, sign in ((_PRAISE_RE, 1), (_COMPLAINT_RE, -1)):
        for m in regex.finditer(clause):
            negated = bool(_NEG_BEFORE.search(clause[: m.start(1)]))
            if (sign > 0) != negated:
                score_khen += 1
            else:
                score_che += 1
    if score_che > score_khen:
        return "che"
    if score_khen > score_che:
        return "khen"
    return "che" if score_che else "trung_tinh"


@dataclass(frozen=True)
class Clause:
    text: str  # prepared
    topics: tuple[str, ...]
    polarity: str
    conduct: bool  # a complaint about a person's conduct by the rules


_PLACES = re.compile(r"(?:^| )(?:phong cho|khu vuc cho|ghe cho|cho ngoi|cho de xe)(?= |$)")


def clauses(prepared: str) -> list[Clause]:
    """The clauses of a prepared comment, each with its topics, polarity and the rules' conduct verdict."""
    out = []
    for raw in SPLIT.split(prepared):
        c = " ".join(raw.split())
        if not c:
            continue
        # "phòng chờ", "khu vực chờ" are places, not waiting
        place_free = _PLACES.sub(" ", c)
        topics = tuple(t for t, r in _TOPIC_RE.items() if r.search(place_free if t == "cho_doi" else c)) or ("khac",)
        pol = _polarity(c)
        conduct = pol == "che" and "thai_do" in topics and bool(_STAFF_RE.search(c) or _CONDUCT_RE.search(c))
        out.append(Clause(c, topics, pol, conduct))
    return out


def rule_topics(cls: list[Clause]) -> dict[str, str]:
    """Topic -> polarity over the clauses; a complaint wins over a suggestion, which wins over praise."""
    rank = {"che": 3, "gop_y": 2, "khen": 1, "trung_tinh": 0}
    out: dict[str, str] = {}
    for c in cls:
        for t in c.topics:
            if t not in out or rank[c.polarity] > rank[out[t]]:
                out[t] = c.polarity
    if len(out) > 1:
        out.pop("khac", None)
    return out or {"khac": "trung_tinh"}


def features(prepared: str, rules: bool = True) -> str:
    """The model's input: the prepared words plus one token per rule verdict (``r_thai_do_che`` …)."""
    if not rules:
        return prepared.replace(" .", " ").replace(" ,", " ")
    cls = clauses(prepared)
    extra = [f"r_{t}_{p}" for t, p in rule_topics(cls).items()]
    if any(c.conduct for c in cls):
        extra.append("r_conduct")
    return prepared.replace(" .", " ").replace(" ,", " ") + " " + " ".join(extra)


# ------------------------------------------------------------------------------------------- the model


def read_corpus(path: Path | None = None) -> list[dict]:
    """The labelled corpus: ``text``, one column per topic (polarity or empty), ``conduct_complaint``
    (0/1) and ``group`` (the clause that decides the conduct label, for grouped cross-validation)."""
    with Path(path or CORPUS_FILE).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


_TOKEN = re.compile(r"[^ ]+")  # the vectorizer's token_pattern: the features are space-separated


@dataclass(frozen=True)
class Weights:
    """The fitted model as plain numbers: each feature (a word, two words, a rule's verdict) -> its column,
    the logistic regression's coefficient per column and its intercept.

    It scores exactly as the scikit-learn pipeline it is taken from (:func:`fit`): the same features
    (lower case, tokens ``[^ ]+``, 1–2-grams, each counted once), the coefficients of the features present
    added in column order from 0.0 (as SciPy's sparse product does), then the intercept, then
    ``1 / (1 + exp(-x))`` (SciPy's ``expit``); ``tests/test_classify.py`` compares the probabilities bit
    for bit. Kept on disk (:func:`default_model`), it spares a process scikit-learn's import and the fit.
    """

    vocabulary: dict[str, int]
    coef: tuple[float, ...]
    intercept: float

    @classmethod
    def of(cls, pipeline) -> Weights:
        vectorizer, regression = pipeline[0], pipeline[-1]
        return cls(
            {str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
            tuple(float(x) for x in regression.coef_[0]),
            float(regression.intercept_[0]),
        )

    def probabilities(self, docs: list[str]) -> list[float]:
        """P(conduct complaint) of each document (the model's input, :func:`features`)."""
        vocabulary, coef, out = self.vocabulary, self.coef, []
        for doc in docs:
            tokens = _TOKEN.findall(doc.lower())
            grams = tokens + [" ".join(tokens[i : i + 2]) for i in range(len(tokens) - 1)]
            x = 0.0
            for j in sorted({vocabulary[g] for g in grams if g in vocabulary}):
                x += coef[j]
            x += self.intercept
            try:
                out.append(1.0 / (1.0 + math.exp(-x)))
            except OverflowError:  # expit gives 1 / (1 + inf)
                out.append(0.0)
        return out


@dataclass
class Model:
    """A fitted conduct-complaint model and the clerk's corrections (prepared text -> label)."""

    pipeline: object  # the scikit-learn pipeline when fitted in this process; None when read from disk
    corrections: dict[str, bool] = field(default_factory=dict)
    threshold: float = 0.5
    rules: bool = True
    weights: Weights | None = None  # what scores: the pipeline's numbers (Weights.of), or read from disk

    # The model's verdicts by prepared text: an import's comments are judged in one batch (prime), and a
    # comment seen again is not judged again.
    seen: dict[str, bool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.weights is None:
            self.weights = Weights.of(self.pipeline)

    def prime(self, prepared: list[str]) -> None:
        """Judge every text of ``prepared`` not judged yet, in one pass."""
        todo = [t for t in dict.fromkeys(prepared) if t.strip() and t not in self.corrections and t not in self.seen]
        if not todo:
            return
        probs = self.weights.probabilities([features(t, self.rules) for t in todo])
        self.seen.update((t, p >= self.threshold) for t, p in zip(todo, probs, strict=True))
        if len(self.seen) > 50_000:  # bounded: a long-running server forgets the oldest verdicts
            for key in list(self.seen)[: len(self.seen) - 50_000]:
                del self.seen[key]

    def conduct(self, prepared: str) -> bool:
        if prepared in self.corrections:
            return self.corrections[prepared]
        if prepared not in self.seen:
            self.prime([prepared])
        return self.seen[prepared]


def fit(texts: list[str], labels: list[bool], corrections: dict[str, bool] | None = None, rules: bool = True) -> Model:
    """Fit the model on raw ``texts`` with their conduct labels (the clerk's corrections added as
    examples too, and kept to override the model on exactly those comments)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    corrections = _prepared_corrections(corrections)
    x = [features(prepare(t), rules) for t in texts] + [features(p, rules) for p in corrections]
    y = [bool(v) for v in labels] + list(corrections.values())
    pipe = make_pipeline(
        CountVectorizer(ngram_range=(1, 2), token_pattern=_TOKEN.pattern, binary=True),
        LogisticRegression(C=2.0, max_iter=2000, class_weight="balanced"),
    )
    pipe.fit(x, y)
    return Model(pipe, corrections, rules=rules)


def _prepared_corrections(corrections: dict[str, bool] | None) -> dict[str, bool]:
    return {prepare(k): v for k, v in dict(corrections or {}).items()}


# The default model's weights are kept on disk, one JSON file per corpus, corrections, scikit-learn version
# and version of this module, so that a process judges comments without importing scikit-learn and fitting
# (≈ 1.5–2.7 s, bench/RESULTS.md). JSON, not pickle: a file in the cache directory is data, never code.
_WEIGHTS_FORMAT = 1


def _weights_key(corpus: bytes, corrections: tuple[tuple[str, bool], ...]) -> str:
    from importlib import metadata

    h = hashlib.blake2b(digest_size=16)
    for part in (
        str(_WEIGHTS_FORMAT).encode(),
        metadata.version("scikit-learn").encode(),
        Path(__file__).read_bytes(),  # the features and the fit's settings are this module's code
        corpus,
        json.dumps(corrections, ensure_ascii=False).encode("utf-8"),
    ):
        h.update(hashlib.blake2b(part, digest_size=16).digest())
    return h.hexdigest()


def _read_weights(path: Path, key: str) -> Weights | None:
    """The weights kept in ``path`` for ``key``; None when missing, unreadable or not what it should be
    (a damaged file is ignored, and written again after the fit)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        terms, coef, intercept = data["terms"], data["coef"], data["intercept"]
        ok = (
            data["key"] == key
            and isinstance(terms, list)
            and isinstance(coef, list)
            and len(terms) == len(coef) == len(set(terms)) > 0
            and all(isinstance(t, str) for t in terms)
            and all(type(c) is float and math.isfinite(c) for c in (*coef, intercept))
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not ok:
        return None
    return Weights({t: j for j, t in enumerate(terms)}, tuple(coef), intercept)


def _write_weights(path: Path, key: str, weights: Weights) -> None:
    """Keep ``weights`` in ``path`` atomically (a reader finds the old file or the new one, never half of
    one). A cache that cannot be written costs the next process a fit, nothing else."""
    terms = sorted(weights.vocabulary, key=weights.vocabulary.__getitem__)
    data = {"key": key, "terms": terms, "coef": list(weights.coef), "intercept": weights.intercept}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        log.warning("could not keep the comment model's weights in %s", path, exc_info=True)


@lru_cache(maxsize=8)
def _default_model(corrections: tuple[tuple[str, bool], ...]) -> Model:
    corpus = CORPUS_FILE.read_bytes()
    key = _weights_key(corpus, corrections)
    path = paths.cache_dir() / f"conduct-model-{key}.json"
    weights = _read_weights(path, key)
    if weights is not None:
        return Model(None, _prepared_corrections(dict(corrections)), weights=weights)
    rows = read_corpus()
    model = fit([r["text"] for r in rows], [r["conduct_complaint"] == "1" for r in rows], dict(corrections))
    _write_weights(path, key, model.weights)
    return model


def default_model(corrections: dict[str, bool] | None = None) -> Model:
    """The model trained on the shipped corpus and ``corrections`` (comment text -> label): cached in this
    process, and its weights on disk (:func:`sipas.paths.cache_dir`), so it is fitted once per corpus,
    corrections, scikit-learn version and version of this module, not once per process."""
    return _default_model(tuple(sorted((corrections or {}).items())))


@dataclass(frozen=True)
class Classification:
    text: str
    topics: dict[str, str]
    conduct_complaint: bool
    why: str  # Vietnamese, for the clerk: which clause made it a complaint (or "")

    def as_json(self) -> dict:
        return {"text": self.text, "topics": self.topics, "conduct_complaint": self.conduct_complaint}


_UNSET = object()


def prime(texts: list[str], corrections: dict[str, bool] | None = None) -> None:
    """Judge many comments at once with the default model (the intake does it for a batch of surveys), so
    that :func:`classify` on each of them costs no model call."""
    if texts:  # no comment: the model (scikit-learn) is not even loaded
        default_model(corrections).prime([prepare(t) for t in texts])


def classify(text: str, model=_UNSET, corrections: dict[str, bool] | None = None) -> Classification:
    """Topics, polarities and the conduct verdict of one comment. ``model=None``: the rules alone."""
    prepared = prepare(text)
    cls = clauses(prepared)
    topics = rule_topics(cls)
    rule_conduct = any(c.conduct for c in cls)
    if model is _UNSET:
        model = default_model(corrections)
    if model is None:
        conduct = rule_conduct
        corrected = False
    else:
        corrected = prepared in model.corrections
        conduct = model.conduct(prepared) if prepared.strip() else False
    if conduct and topics.get("thai_do") != "che" and not corrected:
        topics = {**{k: v for k, v in topics.items() if k != "khac"}, "thai_do": "che"}
    if corrected:
        why = "cán bộ một cửa đã sửa nhãn của góp ý này" + (" thành phản ánh về cán bộ" if conduct else "")
    elif conduct:
        hit = next((c.text for c in cls if c.conduct), "")
        why = f"góp ý chê thái độ/hành vi của cán bộ (đoạn “{hit}”)" if hit else "mô hình phân loại xếp là chê cán bộ"
    else:
        why = ""
    return Classification(text, topics, conduct, why)


def record_correction(conn, text: str, conduct_complaint: bool, actor: str) -> None:
    """Keep the clerk's conduct label of a comment (audited); used by :func:`classify` from then on,
    for this comment word for word (any typing of it: diacritics, abbreviations, legacy fonts)."""
    from sipas import clock, db
    from sipas.errors import ValidationError

    prepared = prepare(text)
    if not prepared.strip():
        raise ValidationError("Góp ý trống: không có gì để sửa nhãn.")
    if not (actor or "").strip():
        raise ValidationError("Cần biết ai sửa nhãn góp ý.")
    with db.transaction(conn):
        old = db.comment_label(conn, prepared)
        db.upsert_comment_label(conn, prepared, text, bool(conduct_complaint), actor, clock.now_ts())
        db.log_audit(
            conn,
            actor,
            "comment-label",
            text[:200],
            None if old is None else ("phản ánh về cán bộ" if old["conduct_complaint"] else "không phải phản ánh"),
            "phản ánh về cán bộ" if conduct_complaint else "không phải phản ánh",
            None,
        )


def correction(conn, text: str) -> dict | None:
    """The clerk's last correction of this comment (any typing of it), or None: ``conduct_complaint``,
    ``actor``, ``at`` (and the ``text`` as it was typed when corrected)."""
    from sipas import db

    prepared = prepare(text or "")
    return db.comment_label(conn, prepared) if prepared.strip() else None
