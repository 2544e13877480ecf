"""Crosswalks between questionnaire versions: which criterion of one version answers for which of another.

The national form changed in 2024 (19 service statements → 16), so the 2023 baseline was taken on
another form than this year's answers. A crosswalk file (``data/questionnaires/crosswalk-*.json``)
pairs each criterion of one version with its counterpart in the other: ``same`` (the same statement,
perhaps with another subject), ``reworded`` (the same subject, the wording changed), or none. A
criterion is compared with a baseline of another version **through a crosswalk only**; one without a
counterpart is never compared (it is listed apart). Elements and the overall compare across versions
without a crosswalk. Every file is checked when it is loaded: a broken one raises
:class:`CatalogError` naming the file and the entry, like a broken questionnaire file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sipas.catalog import CROSSWALK_PREFIX, Questionnaire, questionnaires
from sipas.errors import CatalogError
from sipas.paths import DATA_DIR, read_json_file

SAME, REWORDED = "same", "reworded"
MATCHES = (SAME, REWORDED)
APPROXIMATE = "So sánh gần đúng: nội dung nhận định đã thay đổi"
NOT_IN_BASELINE = "Không có trong mẫu phiếu năm gốc"
MATCH_LABELS = {SAME: "Cùng nhận định", REWORDED: APPROXIMATE}


@dataclass(frozen=True)
class Pair:
    old: str | None
    new: str | None
    match: str | None  # SAME or REWORDED when both sides are given, else None
    note: str = ""


@dataclass(frozen=True)
class Crosswalk:
    old: str
    new: str
    pairs: tuple[Pair, ...]

    def mapping(self, current: str) -> dict[str, tuple[str, str]]:
        """For the criteria of version ``current`` (old or new): code → (counterpart's code, match)."""
        if current == self.new:
            return {p.new: (p.old, p.match) for p in self.pairs if p.new and p.old}
        if current == self.old:
            return {p.old: (p.new, p.match) for p in self.pairs if p.new and p.old}
        raise KeyError(current)


def _fail(path: Path, where: str, text: str) -> CatalogError:
    return CatalogError(f"Tệp {path.name}, mục {where}: {text}")


def _element(q: Questionnaire, code: str) -> str:
    return next(c.element for c in q.criteria if c.code == code)


def parse_crosswalk(raw: object, path: Path, versions: dict[str, Questionnaire]) -> Crosswalk:
    """Check one crosswalk document against the questionnaires; raise CatalogError naming the bad entry."""
    if not isinstance(raw, dict):
        raise CatalogError(f"Tệp {path.name}: nội dung phải là một đối tượng JSON.")
    sides = {}
    for side in ("old", "new"):
        code = raw.get(side)
        if code not in versions:
            known = ", ".join(sorted(versions))
            raise _fail(path, f"gốc.{side}", f"không có phiên bản phiếu {code!r} (có: {known}).")
        sides[side] = versions[code]
    if sides["old"].code == sides["new"].code:
        raise _fail(path, "gốc", "hai phiên bản phải khác nhau.")
    pairs_raw = raw.get("pairs")
    if not isinstance(pairs_raw, list) or not pairs_raw:
        raise _fail(path, "gốc.pairs", "cần danh sách các cặp tiêu chí.")
    seen: dict[str, dict[str, str]] = {"old": {}, "new": {}}
    pairs = []
    for i, p in enumerate(pairs_raw):
        where = f"pairs[{i}]"
        if not isinstance(p, dict):
            raise _fail(path, where, "phải là một đối tượng có old, new, match.")
        codes = {}
        for side in ("old", "new"):
            code = p.get(side)
            if code is None:
                codes[side] = None
                continue
            q = sides[side]
            if not isinstance(code, str) or code not in q.code_set:
                raise _fail(path, f"{where}.{side}", f"tiêu chí {code!r} không có trong phiếu {q.code}.")
            if code in seen[side]:
                raise _fail(path, f"{where}.{side}", f"tiêu chí {code} đã có ở mục {seen[side][code]}.")
            seen[side][code] = where
            codes[side] = code
        old, new = codes["old"], codes["new"]
        match = p.get("match")
        if old is None and new is None:
            raise _fail(path, where, "cần ít nhất một trong hai mã old, new.")
        if old and new:
            if match not in MATCHES:
                raise _fail(path, f"{where}.match", f"giá trị {match!r} không hợp lệ, chỉ nhận same hoặc reworded.")
            if _element(sides["old"], old) != _element(sides["new"], new):
                raise _fail(path, where, f"{old} và {new} phải thuộc cùng một yếu tố.")
        elif match is not None:
            raise _fail(path, f"{where}.match", "tiêu chí không có tương ứng thì để trống match.")
        note = p.get("note", "")
        if not isinstance(note, str):
            raise _fail(path, f"{where}.note", f"giá trị không hợp lệ ({note!r}).")
        pairs.append(Pair(old, new, match if old and new else None, note.strip()))
    # Every criterion of both versions is listed: one forgotten would silently lose its comparison.
    for side in ("old", "new"):
        q = sides[side]
        missing = [c for c in q.criterion_codes if c not in seen[side]]
        if missing:
            raise _fail(
                path,
                "gốc.pairs",
                f"thiếu tiêu chí {', '.join(missing)} của phiếu {q.code} (ghi {side}: null nếu không có).",
            )
    return Crosswalk(sides["old"].code, sides["new"].code, tuple(pairs))


def load_crosswalk_file(path: Path, versions: dict[str, Questionnaire]) -> Crosswalk:
    return parse_crosswalk(read_json_file(path), path, versions)


def load_crosswalks(
    directory: Path | None = None, versions: dict[str, Questionnaire] | None = None
) -> dict[frozenset, Crosswalk]:
    """Every ``crosswalk-*.json`` under ``data/questionnaires`` (or ``directory``), by its pair of versions.

    >>> [(c.old, c.new) for c in load_crosswalks().values()]
    [('sipas-2023', 'sipas-2024')]
    """
    directory = directory or DATA_DIR / "questionnaires"
    versions = questionnaires() if versions is None else versions
    found: dict[frozenset, Crosswalk] = {}
    for path in sorted(directory.glob(f"{CROSSWALK_PREFIX}*.json")):
        cw = load_crosswalk_file(path, versions)
        key = frozenset((cw.old, cw.new))
        if key in found:
            raise CatalogError(f"Tệp {path.name}: đã có một tệp đối chiếu giữa {cw.old} và {cw.new}.")
        found[key] = cw
    return found


@lru_cache(maxsize=1)
def crosswalks() -> dict[frozenset, Crosswalk]:
    """The shipped crosswalks, loaded (and checked) once per process."""
    return load_crosswalks()


def counterparts(current: str, baseline: str) -> dict[str, tuple[str, str]] | None:
    """Criteria of ``current`` that have a counterpart in ``baseline``: code → (baseline code, match).

    The same version: every criterion, ``same``. Another version: through its crosswalk; None when
    there is none (then no criterion is comparable).

    >>> counterparts("sipas-2024", "sipas-2023")["TC1.1"], "TC1.2" in counterparts("sipas-2024", "sipas-2023")
    (('TC1.2', 'reworded'), False)
    >>> counterparts("sipas-2023", "sipas-2017") is None
    True
    """
    if current == baseline:
        return {c: (c, SAME) for c in questionnaires()[current].criterion_codes}
    cw = crosswalks().get(frozenset((current, baseline)))
    return None if cw is None else cw.mapping(current)


@dataclass(frozen=True)
class CriterionBaseline:
    """The baseline rows of criteria, keyed by the current version's codes (see criterion_baseline)."""

    rows: dict[str, dict]  # current code → baseline row + "baseline_code" and "match"
    unmatched: tuple[str, ...]  # current criteria without a counterpart in a crosswalked baseline
    versions: tuple[str, ...]  # the baseline versions whose criterion rows were offered


def criterion_baseline(rows: list[dict], current: str) -> CriterionBaseline:
    """Which baseline criterion each criterion of ``current`` is compared with.

    Rows of the same version: by code. Rows of a version with a crosswalk: through it, re-keyed to the
    current code, ``match`` telling same or reworded; the current criteria without counterpart are
    ``unmatched`` (listed apart, never compared). Rows of a version without a crosswalk: none.
    """
    out: dict[str, dict] = {}
    unmatched: set[str] = set()
    versions = []
    for version in dict.fromkeys(r["questionnaire"] for r in rows if r["level"] == "criterion"):
        versions.append(version)
        pairs = counterparts(current, version) if version in questionnaires() else None
        if pairs is None:
            continue
        by_code = {r["code"]: r for r in rows if r["level"] == "criterion" and r["questionnaire"] == version}
        for code in questionnaires()[current].criterion_codes:
            if code not in pairs:
                if version != current:
                    unmatched.add(code)
                continue
            base_code, match = pairs[code]
            if base_code in by_code:
                out[code] = {**by_code[base_code], "baseline_code": base_code, "match": match}
    order = questionnaires()[current].criterion_codes
    return CriterionBaseline(out, tuple(c for c in order if c in unmatched and c not in out), tuple(versions))


def comparison_note(entry: dict | None) -> str:
    """The words for a criterion's baseline: the warning for a reworded statement, else nothing."""
    return APPROXIMATE if entry is not None and entry.get("match") == REWORDED else ""
