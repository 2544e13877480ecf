"""Hostile input: random and malformed files, random kiosk surveys, and a corpus of nasty text.

* Every import (responses CSV/XLSX, baseline, ticket log) either imports or raises
  :class:`ValidationError`, never another exception, and a refused file changes nothing
  (``table_snapshot``). Property-based (Hypothesis): header names, cell values and raw bytes are drawn
  at random, mixed with the payloads of ``tests/hostile_corpus.py``.
* The kiosk submission (``KioskSurvey``) and the staff's own text (roster, cases, settings, accounts,
  exclusion reasons) are stored exactly as given, or refused with a ValidationError.
* NUL and lone surrogates are refused everywhere with one message (hostile_corpus.py says why).
* The corpus is shown as plain text on every page that shows such text (AppTest: the analysis
  comments, the cases page's title, evidence and history, the settings staff table, the Chairman's
  page), and exported as text: every Excel cell a string (data type ``s``), never a formula or a link;
  the PDF is built without error.
* Access: what tests/test_access_apptest.py does not cover — a staff action clicked on a page drawn
  before the session ended, and the action widgets (imports, forms) absent for anonymous visitors
  and the wrong role.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import hostile_corpus as corpus
import openpyxl
import pytest
from conftest import ROOT, always_open, table_snapshot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from sipas import clock, db, reports
from sipas.admin import auth, roster
from sipas.admin import settings as cfg
from sipas.cases import workflow
from sipas.catalog import WAIT_BUCKETS, questionnaires
from sipas.errors import ValidationError
from sipas.files import tickets
from sipas.files.legacy import to_unicode
from sipas.index import baseline
from sipas.survey import quality
from sipas.survey.responses import BASE_COLUMNS, CHANNELS, KioskSurvey, import_responses, submit_kiosk_survey

ACTIVE = "sipas-2023"
PW = "matkhau-dung-1"
NOW = datetime(2025, 6, 30, 12, 0)
HYPO = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
NUL_MESSAGE = "{}: có ký tự không hợp lệ (U+0000); hãy xóa ký tự đó."
SHOWN = corpus.SHOWN + [corpus.OVERLONG[0], corpus.OVERLONG[2]]


pytestmark = pytest.mark.usefixtures("fast_argon2")  # conftest.py


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory) -> Path:
    """One database for the property tests of a module: each example compares before and after."""
    path = tmp_path_factory.mktemp("hostile") / "sipas.db"
    always_open(path)
    with db.session(path) as c:
        db.upsert_staff(c, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
    return path


@pytest.fixture
def hconn(shared_db):
    c = db.open_db(shared_db)
    yield c
    c.close()


def refused_or_done(conn, action):
    """Run ``action``; a ValidationError must leave every table as it was. Returns its result or None."""
    before = table_snapshot(conn)
    try:
        result = action()
    except ValidationError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        assert table_snapshot(conn) == before
        event("refused")  # pytest --hypothesis-show-statistics: how many examples went each way
        return None
    event("stored")
    return result


# ------------------------------------------------------------------------------ strategies

hostile_text = st.one_of(st.sampled_from(corpus.ALL), st.text(max_size=30))
# Hostile but storable as free text (a comment, a name): no NUL, no lone surrogate, not overlong.
storable_text = st.one_of(
    st.sampled_from([t for t in corpus.ALL if not corpus.refused_character(t) and len(t) <= 200]),
    st.text(st.characters(exclude_characters="\x00"), max_size=30),
)


def mixed(valid, clean: bool, odds: int = 6):
    """``valid`` in a clean table; otherwise one value in ``odds`` is hostile."""
    if clean:
        return valid
    return st.integers(0, odds - 1).flatmap(lambda k: hostile_text if k == 0 else valid)


def timestamps(lo=datetime(2020, 1, 1), hi=datetime(2025, 6, 29)):
    return st.datetimes(min_value=lo, max_value=hi).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))


LEVEL = st.sampled_from(["", "1", "2", "3", "4", "5", "4.0"])
CRITERIA = list(questionnaires()[ACTIVE].criterion_codes)


def response_cells(clean: bool) -> dict:
    free = storable_text if clean else hostile_text
    return {
        "response_id": st.one_of(st.uuids().map(str), free.filter(str.strip) if clean else free),
        "submitted_at": mixed(timestamps(), clean),
        "questionnaire": mixed(st.sampled_from(["", ACTIVE] if clean else ["", ACTIVE, "sipas-2017"]), clean),
        "channel": mixed(st.sampled_from(["", *CHANNELS]), clean),
        "field": st.one_of(st.sampled_from(["", "Hộ tịch", "Đất đai"]), free),
        "staff_code": mixed(st.sampled_from(["", "CB01"]), clean),
        "wait_minutes": mixed(st.integers(0, 300).map(str), clean),
        "overall": mixed(LEVEL.filter(bool) if clean else LEVEL, clean),
        "comment": st.one_of(st.just(""), free),
    }


@st.composite
def responses_table(draw) -> list[list[str]]:
    """A responses file: a clean one (that must import) half the time, a hostile one otherwise."""
    clean = draw(st.booleans())
    names = [*BASE_COLUMNS, *CRITERIA[:6]] + ([] if clean else ["TC9.9", "Ghi chú"])
    columns = draw(st.lists(st.sampled_from(names), min_size=1, max_size=9, unique=True))
    for required in ["submitted_at", "overall"] if clean else ["submitted_at"] * draw(st.integers(0, 1)):
        if required not in columns:
            columns.append(required)
    if not clean and draw(st.integers(0, 4)) == 0:
        columns[draw(st.integers(0, len(columns) - 1))] = draw(hostile_text)  # a hostile header name
    cells = response_cells(clean)
    row = st.tuples(*(cells.get(c, mixed(LEVEL, clean)) for c in columns)).map(list)
    rows = draw(
        st.lists(
            row,
            min_size=1 if clean else 0,
            max_size=5,
            unique_by=(lambda r: r[columns.index("response_id")]) if clean and "response_id" in columns else None,
        )
    )
    return [columns, *rows]


ELEMENT_CODES = ["1", "2", "3", "4", "5"]


@st.composite
def baseline_table(draw) -> list[list[str]]:
    clean = draw(st.booleans())
    if clean:  # coherent rows: a level with a code of that level, an index, no counts
        columns = ["year", "questionnaire", "level", "code", "index"]
        keys = st.one_of(
            st.just(("overall", "")),
            st.sampled_from(ELEMENT_CODES).map(lambda c: ("element", c)),
            st.sampled_from(CRITERIA).map(lambda c: ("criterion", c)),
        )
        rows = draw(
            st.lists(
                st.tuples(st.integers(2015, 2024), keys, st.floats(0, 100, allow_nan=False)),
                min_size=1,
                max_size=5,
                unique_by=lambda r: (r[0], r[1]),
            )
        )
        separator = draw(st.sampled_from([".", ","]))
        return [columns] + [
            [str(y), ACTIVE, level, code, f"{v:.2f}".replace(".", separator)] for y, (level, code), v in rows
        ]
    cells = {
        "year": mixed(st.integers(2015, 2026).map(str), clean),
        "questionnaire": mixed(st.sampled_from([ACTIVE, "sipas-2017"]), clean),
        "level": mixed(st.sampled_from(baseline.LEVELS), clean),
        "code": mixed(st.sampled_from(["", "1", "3", "TC3.1", "TC1.2"]), clean),
        "index": mixed(
            st.floats(0, 100, allow_nan=False).map(lambda v: f"{v:.2f}") | st.sampled_from(["86,5", "100", "0"]), clean
        ),
        "n": mixed(st.sampled_from(["", "200", "0"]), clean),
        "satisfied": mixed(st.sampled_from(["", "150", "200"]), clean),
    }
    columns = draw(st.permutations(list(baseline.COLUMNS)))[: draw(st.integers(1, len(baseline.COLUMNS)))]
    if draw(st.integers(0, 4)) == 0:
        columns.append(draw(hostile_text))
    rows = draw(st.lists(st.tuples(*(cells.get(c, hostile_text) for c in columns)).map(list), max_size=4))
    return [columns, *rows]


def fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@st.composite
def tickets_table(draw) -> list[list[str]]:
    columns = ["ticket_id", "issued_at", "called_at", "finished_at", "service", "counter"]
    if draw(st.booleans()):  # clean: unique numbers, issued ≤ called ≤ finished
        times = st.tuples(
            st.datetimes(datetime(2024, 3, 4, 7), datetime(2024, 3, 8, 16)),
            st.integers(0, 90),
            st.integers(0, 60),
            st.integers(0, 2),
        )
        rows = draw(
            st.lists(
                st.tuples(st.from_regex(r"[A-C][0-9]{3}", fullmatch=True), times, storable_text, storable_text),
                min_size=1,
                max_size=5,
                unique_by=lambda r: r[0],
            )
        )
        out = [columns]
        for tid, (issued, wait, service, stage), name, counter in rows:
            called, finished = issued + timedelta(minutes=wait), issued + timedelta(minutes=wait + service)
            out.append(
                [tid, fmt(issued), fmt(called) if stage else "", fmt(finished) if stage == 2 else "", name, counter]
            )
        return out
    times = timestamps(datetime(2024, 3, 4, 7), datetime(2024, 3, 4, 17))
    cells = {
        "ticket_id": st.one_of(st.from_regex(r"[A-C][0-9]{3}", fullmatch=True), hostile_text),
        "service": st.one_of(st.sampled_from(["", "Hộ tịch"]), hostile_text),
        "counter": st.one_of(st.sampled_from(["", "Quầy 1"]), hostile_text),
        "issued_at": mixed(times, False),
        "called_at": mixed(st.one_of(st.just(""), times), False),
        "finished_at": mixed(st.one_of(st.just(""), times), False),
    }
    columns = columns[: draw(st.integers(1, 6))]
    if draw(st.integers(0, 4)) == 0:
        columns.append(draw(hostile_text))
    rows = draw(st.lists(st.tuples(*(cells.get(c, hostile_text) for c in columns)).map(list), max_size=5))
    return [columns, *rows]


def to_csv(rows: list[list[str]], bom: bool = False) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    # A lone surrogate cannot be UTF-8: it arrives as the bytes a broken encoder writes for it.
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8", "surrogatepass")


def xlsx_cell(value: str):
    """What a spreadsheet can hold: XML forbids NUL and most control characters (and surrogates), and
    reads every line end as \\n."""
    value = "".join(ch for ch in ILLEGAL_CHARACTERS_RE.sub("", value) if not corpus.refused_character(ch))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if re.fullmatch(r"[1-5]", value):
        return int(value)  # a number typed into the cell
    return value


def to_xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append([xlsx_cell(v) if isinstance(v, str) else v for v in r])
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"  # text typed into the cell, not a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def data_rows(rows: list[list]) -> list[list]:
    return [r for r in rows[1:] if any(str(v).strip() for v in r)]


# ------------------------------------------------------------------------------ imports: properties


@HYPO
@given(table=responses_table(), as_xlsx=st.booleans(), bom=st.booleans())
def test_a_responses_file_is_imported_or_refused_without_a_trace(hconn, table, as_xlsx, bom):
    data = to_xlsx(table) if as_xlsx else to_csv(table, bom)
    # The database is shared between examples: a row whose response_id is already stored is skipped
    # (counted as present), so its comment is the earlier one; a row whose content an earlier example stored
    # is a repeat, not stored again (its comment is already there).
    known = {r[0] for r in hconn.execute("SELECT token FROM responses")}
    summary = refused_or_done(
        hconn,
        lambda: import_responses(
            hconn, data, "phieu.xlsx" if as_xlsx else "phieu.csv", active_version=ACTIVE, actor="test"
        ),
    )
    if summary is None:
        return
    sent = [dict(zip(table[0], (xlsx_cell(v) if as_xlsx else v for v in r), strict=True)) for r in data_rows(table)]
    assert summary.rows == len(sent) and summary.added + summary.present + summary.repeats == len(sent)
    stored = {r[0] for r in hconn.execute("SELECT comment FROM responses")}
    for row in sent:
        comment = str(row.get("comment", ""))
        if comment.strip() and str(row.get("response_id", "")).strip() not in known:
            # kept exactly as typed, but for text recognised as typed in a legacy font (TCVN3/VNI): converted
            assert to_unicode(comment) in stored


@HYPO
@given(table=baseline_table(), as_xlsx=st.booleans())
def test_a_baseline_file_is_imported_or_refused_without_a_trace(hconn, table, as_xlsx):
    data = to_xlsx(table) if as_xlsx else to_csv(table)
    summary = refused_or_done(
        hconn, lambda: baseline.import_baseline(hconn, data, "goc.xlsx" if as_xlsx else "goc.csv", "test")
    )
    if summary is not None:
        assert summary.rows == len(data_rows(table))
        stored = {(r["year"], r["questionnaire"], r["level"], r["code"]) for r in db.baseline_rows(hconn)}
        for row in data_rows(table):
            r = dict(zip(table[0], row, strict=True))
            assert (int(float(r["year"])), r["questionnaire"], r["level"], r.get("code", "").strip()) in stored


@HYPO
@given(table=tickets_table(), as_xlsx=st.booleans())
def test_a_ticket_log_is_imported_or_refused_without_a_trace(hconn, table, as_xlsx):
    data = to_xlsx(table) if as_xlsx else to_csv(table)
    summary = refused_or_done(
        hconn, lambda: tickets.import_tickets(hconn, data, "so.xlsx" if as_xlsx else "so.csv", actor="test", now=NOW)
    )
    if summary is not None:
        assert summary.rows == len(data_rows(table))
        stored = {(r["ticket_id"], r["day"]) for r in db.ticket_rows(hconn)}
        for row in data_rows(table):
            r = dict(zip(table[0], (str(xlsx_cell(v) if as_xlsx else v) for v in row), strict=True))
            assert (r["ticket_id"].strip(), r["issued_at"][:10]) in stored


@HYPO
@given(data=st.binary(max_size=400), name=st.sampled_from(["a.csv", "a.xlsx", "a.txt", "a.CSV", "a"]))
def test_random_bytes_are_refused_or_read_by_every_import(hconn, data, name):
    refused_or_done(hconn, lambda: import_responses(hconn, data, name, active_version=ACTIVE))
    refused_or_done(hconn, lambda: baseline.import_baseline(hconn, data, name))
    refused_or_done(hconn, lambda: tickets.import_tickets(hconn, data, name, now=NOW))


def _damaged_xlsx(damage) -> bytes:
    good = to_xlsx([["submitted_at", "overall"], ["2024-03-04 08:15", 5]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            part = zin.read(name)
            if name == "xl/worksheets/sheet1.xml":
                part = damage(part)
                if part is None:
                    continue
            zout.writestr(name, part)
    return out.getvalue()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        # Read-only openpyxl opens these fine and fails only while reading the rows (found by this file).
        (lambda x: x[: len(x) // 2], "không đọc được trang tính đầu tiên (ParseError)"),
        (
            lambda x: x.replace(b"<sheetData>", b'<sheetData><row r="1"><c r="A1"><v>&#0;</v></c></row>'),
            "không đọc được trang tính đầu tiên (ParseError)",
        ),
        (lambda x: None, "không đọc được trang tính đầu tiên (IndexError)"),  # the sheet's part left out of the zip
    ],
    ids=["cut-in-half", "nul-reference", "sheet-missing"],
)
def test_an_xlsx_with_a_damaged_sheet_is_a_clear_error_for_every_import(conn, damage, message):
    data = _damaged_xlsx(damage)
    before = table_snapshot(conn)
    for run in (
        lambda: import_responses(conn, data, "hong.xlsx", active_version=ACTIVE),
        lambda: baseline.import_baseline(conn, data, "hong.xlsx"),
        lambda: tickets.import_tickets(conn, data, "hong.xlsx"),
    ):
        with pytest.raises(ValidationError) as err:
            run()
        assert err.value.problems == [f"Tệp hong.xlsx: {message}."]
    assert table_snapshot(conn) == before


def test_every_corpus_comment_survives_a_csv_and_an_xlsx_import_exactly(conn):
    texts = [t for t in corpus.SHOWN + corpus.OVERLONG if len(t) <= corpus.MAX_COMMENT and t.strip()]
    rows = [["response_id", "submitted_at", "overall", "comment"]]
    rows += [[f"c{i}", "2024-05-02 09:00", "4", t] for i, t in enumerate(texts)]
    import_responses(conn, to_csv(rows), "c.csv", active_version=ACTIVE)
    import_responses(
        conn, to_xlsx([[f"x{r[0]}", *r[1:]] if i else r for i, r in enumerate(rows)]), "c.xlsx", active_version=ACTIVE
    )
    stored = dict(conn.execute("SELECT token, comment FROM responses").fetchall())
    for i, t in enumerate(texts):
        assert stored[f"c{i}"] == t
        assert stored[f"xc{i}"] == xlsx_cell(t)  # the same, less what a spreadsheet cannot hold


# ------------------------------------------------------------------------------ kiosk: property

LEVELS = st.sampled_from([None, 1, 2, 3, 4, 5])
BAD_LEVELS = st.sampled_from([0, 6, -1, "3", 2.5])


@st.composite
def kiosk_surveys(draw) -> KioskSurvey:
    """What a tablet could send: a clean survey half the time (it must be stored exactly), else anything."""
    if draw(st.booleans()):
        version = draw(st.sampled_from([ACTIVE, "sipas-2017"]))
        asked = draw(
            st.lists(st.sampled_from(questionnaires()[version].criterion_codes), min_size=1, max_size=8, unique=True)
        )
        answers = draw(st.dictionaries(st.sampled_from(asked), LEVELS))
        texts = st.one_of(st.none(), storable_text)
        return KioskSurvey(
            token=str(draw(st.uuids())),
            questionnaire=version,
            asked=asked,
            answers=answers,
            overall=draw(st.integers(1, 5)),
            wait_bucket=draw(st.sampled_from([None, *WAIT_BUCKETS])),
            field=draw(texts),
            staff_code=draw(st.sampled_from([None, "CB01"])),
            comment=draw(st.one_of(texts, st.sampled_from(corpus.OVERLONG[::2]))),
            extra=draw(clean_extra(version)),
        )
    version = draw(st.sampled_from([ACTIVE, "sipas-2017", "sipas-2099"]))
    codes = list(questionnaires()[version].criterion_codes) if version in questionnaires() else CRITERIA
    asked = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=6, unique=True))
    if draw(st.integers(0, 9)) == 0:
        asked.append("TC9.9")
    answers = draw(st.dictionaries(st.sampled_from(asked), LEVELS | BAD_LEVELS))
    texts = st.one_of(st.none(), hostile_text)
    return KioskSurvey(
        token=draw(st.one_of(st.uuids().map(str), hostile_text)),
        questionnaire=version,
        asked=asked,
        answers=answers,
        overall=draw(LEVELS),
        wait_bucket=draw(st.sampled_from([None, *WAIT_BUCKETS, "gt90"])),
        field=draw(texts),
        staff_code=draw(st.sampled_from([None, "CB01", "CB99"])),
        comment=draw(texts),
        extra=draw(
            st.dictionaries(
                st.sampled_from(["harassment", "informal_payment", "expectations", "gender", "education", "khac"]),
                st.one_of(
                    st.none(), st.sampled_from([0, 1, 2, 3, 4]), hostile_text, st.lists(hostile_text, max_size=3)
                ),
                max_size=4,
            )
        ),
    )


@st.composite
def clean_extra(draw, version: str) -> dict:
    """Answers a tablet of this version may send: any subset of its extra questions, each a valid answer."""
    out = {}
    for x in questionnaires()[version].extra:
        if not draw(st.booleans()):
            continue
        if x.kind == "single":
            out[x.code] = draw(st.sampled_from(x.values))
        elif x.kind == "multiple":
            out[x.code] = draw(st.lists(st.sampled_from(x.values), min_size=1, max_size=x.max_choices, unique=True))
        elif x.kind == "grid":
            out[x.code] = draw(st.dictionaries(st.sampled_from(x.item_codes), st.sampled_from(x.values), min_size=1))
    return out


@HYPO
@given(survey=kiosk_surveys())
def test_a_kiosk_survey_is_stored_exactly_as_given_or_refused(hconn, survey):
    readable = not corpus.refused_character(survey.token)  # a lone surrogate cannot even be looked up
    existed = db.response_by_token(hconn, survey.token) if readable else None
    stored_now = refused_or_done(hconn, lambda: submit_kiosk_survey(hconn, survey, device="quay1"))
    if stored_now is None:
        return
    row = db.response_by_token(hconn, survey.token)
    if stored_now is False:  # the same token again (Hypothesis replays examples): the first one stays
        assert row == existed
        return
    comment = survey.comment if survey.comment and survey.comment.strip() else None  # blank: no comment
    expected = {
        "questionnaire": survey.questionnaire,
        "channel": "kiosk",
        "overall": survey.overall,
        "wait_bucket": survey.wait_bucket,
        "field": survey.field,
        "staff_code": survey.staff_code,
        "comment": comment,
        "device": "quay1",
    }
    assert {k: row[k] for k in expected} == expected
    assert db.extra_from_row(row) == survey.extra  # every extra answer, under its code
    assert row["answers"] == {code: survey.answers.get(code) for code in survey.asked}


# ------------------------------------------------------------------------------ staff text: properties

staff_text = st.one_of(hostile_text, st.text(min_size=1, max_size=130))


@HYPO
@given(name=staff_text, position=st.one_of(st.none(), staff_text), counter=st.one_of(st.none(), staff_text))
def test_a_staff_member_is_stored_as_typed_or_refused(hconn, name, position, counter):
    member = {
        "code": "CB50",
        "full_name": name,
        "position": position,
        "counter": counter,
        "active_from": date(2024, 1, 2),
    }
    if refused_or_done(hconn, lambda: roster.save_member(hconn, member, "test")) is None:
        return
    (row,) = [m for m in db.list_staff(hconn) if m["code"] == "CB50"]
    assert (row["full_name"], row["position"], row["counter"]) == (
        name.strip(),
        (position or "").strip() or None,
        (counter or "").strip() or None,
    )


@HYPO
@given(title=staff_text, description=st.one_of(st.none(), staff_text), note=staff_text)
def test_a_case_and_its_notes_are_stored_as_typed_or_refused(hconn, title, description, note):
    clerk = workflow.Actor("thongke", "clerk")
    case_id = refused_or_done(
        hconn,
        lambda: workflow.open_case(
            hconn,
            clerk,
            case_type="conduct",
            origin="clerk",
            channel="hotline",
            title=title,
            description=description,
            staff_code="CB01",
        ),
    )
    if case_id is None:
        return
    case = db.get_case(hconn, case_id)
    assert (case["title"], case["description"]) == (title.strip()[:300], (description or "").strip() or None)
    if refused_or_done(hconn, lambda: workflow.add_note(hconn, case_id, clerk, note)) is None:
        return
    assert db.case_events(hconn, case_id)[-1]["note"] == note.strip()


@HYPO
@given(unit=staff_text, full_name=st.one_of(st.none(), staff_text), reason=staff_text)
def test_settings_accounts_and_exclusion_reasons_are_stored_as_typed_or_refused(hconn, unit, full_name, reason):
    if refused_or_done(hconn, lambda: cfg.put(hconn, "unit_name", unit, "test", "2024-01-01")) is not None:
        assert cfg.get(hconn, "unit_name", "2024-01-01") == unit.strip()
    name = f"u{abs(hash((unit, full_name, reason))) % 10**8}"
    user = refused_or_done(hconn, lambda: auth.create_user(hconn, name, PW, "clerk", full_name=full_name))
    if user is not None:
        assert db.get_user(hconn, name)["full_name"] == ((full_name or "").strip() or None)
    if refused_or_done(hconn, lambda: quality.exclude(hconn, [], reason, "test")) is not None:
        assert len(reason.strip()) >= 3


# ------------------------------------------------------------------------------ NUL and lone surrogates


def _case(conn, staff: str | None = None) -> int:
    return workflow.open_case(
        conn,
        workflow.Actor("thongke", "clerk"),
        case_type="conduct",
        origin="clerk",
        channel="hotline",
        title="Phản ánh",
        staff_code=staff,
    )


REFUSALS = {
    "kiosk comment": (
        lambda c, t: submit_kiosk_survey(c, KioskSurvey("k1", ACTIVE, ["TC3.1"], {"TC3.1": 4}, comment=t)),
        "Góp ý",
    ),
    "kiosk field": (
        lambda c, t: submit_kiosk_survey(c, KioskSurvey("k2", ACTIVE, ["TC3.1"], {"TC3.1": 4}, field=t)),
        "Lĩnh vực",
    ),
    "responses file": (
        lambda c, t: import_responses(
            c,
            to_csv([["submitted_at", "overall", "comment"], ["2024-05-02 09:00", "4", t]]),
            "p.csv",
            active_version=ACTIVE,
        ),
        "Dòng 2, cột comment",
    ),
    "ticket log": (
        lambda c, t: tickets.import_tickets(
            c,
            to_csv(
                [
                    ["ticket_id", "service", "issued_at", "called_at", "finished_at"],
                    ["A001", t, "2024-03-04 07:05", "", ""],
                ]
            ),
            "s.csv",
            now=NOW,
        ),
        "Dòng 2, cột service",
    ),
    "staff name": (lambda c, t: roster.save_member(c, {"code": "CB02", "full_name": t}, "test"), "Họ và tên"),
    "case title": (
        lambda c, t: workflow.open_case(c, workflow.Actor("a", "clerk"), case_type="other", origin="clerk", title=t),
        "Tóm tắt nội dung",
    ),
    "case note": (lambda c, t: workflow.add_note(c, 1, workflow.Actor("a", "clerk"), t), "Nội dung"),
    "unit name": (lambda c, t: cfg.put(c, "unit_name", t, "test"), "Giá trị"),
    "account name": (lambda c, t: auth.create_user(c, "lan.nt", PW, "clerk", full_name=t), "Họ và tên"),
    "exclusion reason": (lambda c, t: quality.exclude(c, [], t, "test"), "Lý do"),
}


@pytest.mark.parametrize("where", list(REFUSALS))
@pytest.mark.parametrize("text", corpus.REFUSED)
def test_nul_and_lone_surrogates_are_refused_everywhere_with_one_message(conn, where, text):
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
    assert _case(conn) == 1  # for the note
    run, label = REFUSALS[where]
    before = table_snapshot(conn)
    with pytest.raises(ValidationError) as err:
        run(conn, f"Ý kiến: {text}")  # long enough for every minimum length
    bad = next(ch for ch in text if corpus.refused_character(ch))
    message = NUL_MESSAGE.format(label).replace("U+0000", f"U+{ord(bad):04X}")
    if where in ("responses file", "ticket log") and bad != "\x00":
        message = (
            f"Tệp {'p.csv' if where == 'responses file' else 's.csv'}, dòng 2: không phải văn bản UTF-8 (có mã của"
            " một nửa cặp thay thế, U+D800–U+DFFF). Hãy lưu lại dạng CSV UTF-8 hoặc tải tệp .xlsx."
        )
    assert message in err.value.problems
    assert table_snapshot(conn) == before


# ------------------------------------------------------------------------------ shown as plain text

MARKUP = corpus.HTML + corpus.MARKDOWN + corpus.FORMULAS  # contain punctuation: escaped if ever in Markdown


def markdown_bodies(at: AppTest) -> list[str]:
    """The text of every element that Streamlit renders as Markdown."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader", "toast"):
        out += [str(e.value) for e in getattr(at, kind, [])]
    return out


def assert_no_markup_rendered(at: AppTest) -> None:
    bodies = "\n".join(markdown_bodies(at))
    for payload in MARKUP:
        assert payload not in bodies, payload


def frame_column(at: AppTest, column: str) -> list:
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return list(frame[column])


def page(name: str, conn, user) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / name), default_timeout=90)
    at.session_state["staff_token"] = auth.start_session(conn, user)
    at.run()
    if name == "analysis.py":
        # The page opens on the last complete month; these tests store today's responses.
        at.selectbox(key="an_year").set_value(clock.today().year)
        at.selectbox(key="an_month").set_value(clock.today().month).run()
    assert not at.exception, at.exception
    return at


def store_comments(conn, texts: list[str], day: date, **extra) -> list[int]:
    rows = [
        (
            {
                "token": f"h{i}-{day}",
                "submitted_at": f"{day} 03:{i // 60:02d}:{i % 60:02d}",
                "questionnaire": ACTIVE,
                "channel": "kiosk",
                "overall": 5,
                "comment": t,
                **extra,
            },
            {"TC3.1": 5},
        )
        for i, t in enumerate(texts)
    ]
    with db.transaction(conn):
        db.insert_responses(conn, rows)
    return [db.response_by_token(conn, r["token"])["id"] for r, _ in rows]


def test_comments_on_the_analysis_page_are_plain_text(conn, clerk):
    store_comments(conn, SHOWN, date.today())
    at = page("analysis.py", conn, clerk)
    at.segmented_control(key="an_section").set_value("Góp ý").run()
    assert not at.exception
    assert sorted(frame_column(at, "Góp ý")) == sorted(SHOWN)  # exactly as typed: spaces, NFD, RTL, emoji
    assert_no_markup_rendered(at)


def test_case_title_evidence_and_history_on_the_cases_page_are_plain_text(conn, clerk):
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
    ids = store_comments(conn, SHOWN, date.today(), staff_code="CB01")
    clerk_actor = workflow.Actor("thongke", "clerk")
    titles = [t for t in corpus.SHOWN if t.strip()]
    for t in titles:
        workflow.open_case(
            conn, clerk_actor, case_type="conduct", origin="clerk", channel="hotline", title=t, staff_code="CB01"
        )
    case_id = workflow.open_case(
        conn,
        clerk_actor,
        case_type="conduct",
        origin="clerk",
        channel="hotline",
        title=corpus.HTML[0],
        description=corpus.MARKDOWN[0],
        staff_code="CB01",
        response_ids=ids,
    )
    for t in titles:
        workflow.add_note(conn, case_id, clerk_actor, t)
    at = page("cases.py", conn, clerk)
    assert sorted(frame_column(at, "Tóm tắt")) == sorted([t.strip() for t in titles] + [corpus.HTML[0]])
    assert at.selectbox(key="case_pick").value == case_id  # the newest first
    assert [t.value for t in at.text][:2] == [corpus.HTML[0], corpus.MARKDOWN[0]]
    assert sorted(frame_column(at, "Góp ý")) == sorted(SHOWN)
    notes = frame_column(at, "Ghi chú")
    assert [n for n in notes if n in {t.strip() for t in titles}] == [t.strip() for t in titles]
    assert_no_markup_rendered(at)


def test_staff_names_are_plain_text_in_the_settings_table_and_escaped_on_the_chairmans_page(conn, clerk, chairman):
    names = [t for t in corpus.SHOWN if t.strip() and len(t) <= 120]
    for i, t in enumerate(names):
        roster.save_member(
            conn,
            {"code": f"S{i:02d}", "full_name": t, "position": t, "counter": t, "active_from": date(2024, 1, 2)},
            "test",
        )
    at = page("settings.py", conn, clerk)
    shown = frame_column(at, "Họ và tên")
    assert sorted(shown) == sorted(t.strip() for t in names)
    assert sorted(frame_column(at, "Chức danh")) == sorted(t.strip() for t in names)
    assert_no_markup_rendered(at)

    # Two substantiated conduct cases make a repeat offender: the Chairman's page names them in bold.
    clerk_actor = workflow.Actor("thongke", "clerk")
    offender = f"S{names.index(corpus.MARKDOWN[0]):02d}"
    for _ in range(2):
        case_id = workflow.open_case(
            conn,
            clerk_actor,
            case_type="conduct",
            origin="clerk",
            channel="hotline",
            title="Thái độ",
            staff_code=offender,
        )
        for to in ("verifying", "founded"):
            workflow.transition(conn, case_id, to, clerk_actor)
    import ui

    chair = page("chairman.py", conn, chairman)
    label = ui.escape_md(f"{corpus.MARKDOWN[0]} ({offender})")
    assert any(m.value.startswith(f"**{label}** — vụ việc có cơ sở số ") for m in chair.markdown)
    assert_no_markup_rendered(chair)


def test_escape_md_leaves_no_markdown_character_unescaped():
    import ui

    for text in corpus.ALL:
        escaped = ui.escape_md(text)
        # The invisible word joiner (U+2060) before . : @ keeps bare URLs from becoming links.
        assert re.sub(r"\\(.)", r"\1", escaped, flags=re.S).replace("\u2060", "") == text.replace("\u2060", "")
        assert not re.search(r"(?<!\\)[*_\[\]()#`$:&<>|~=+-]", re.sub(r"\\.", "", escaped, flags=re.S))


# ------------------------------------------------------------------------------ exports


def as_read_back(text: str) -> str:
    """``text`` as openpyxl reads it from the workbook: control characters stay in Excel's own escape
    (``_x000D_``), which Excel undoes when it shows the cell and openpyxl does not."""
    return re.sub(r"[\x00-\x08\x0b-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", text)


@pytest.fixture
def report_month(conn):
    cfg.put(conn, "unit_name", corpus.FORMULAS[0], "test")
    cfg.put(conn, "report_recipient", corpus.MARKDOWN[0], "test")
    db.upsert_staff(conn, {"code": "CB01", "full_name": corpus.HTML[1]})
    texts = SHOWN + ["ctl \x01\x02\x1b\x0b\x0c end", "_x0041_ stays literal"]
    ids = store_comments(conn, texts, date(2024, 5, 2), field=corpus.FORMULAS[1], staff_code="CB01")
    quality.exclude(conn, ids[:3], corpus.FORMULAS[2], "test")
    return reports.build_report(conn, "2024-05"), texts, ids


def test_the_excel_report_holds_every_text_as_a_string_never_a_formula_or_link(report_month):
    report, texts, _ = report_month
    wb = openpyxl.load_workbook(io.BytesIO(reports.to_excel(report)))
    for ws in wb.worksheets:
        assert not ws._hyperlinks, ws.title
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert c.data_type == "s"
    summary = {r[0].value: r[1] for r in wb["Tổng hợp"].iter_rows() if r[0].value}
    assert (summary["Đơn vị"].value, summary["Đơn vị"].data_type) == (corpus.FORMULAS[0], "s")
    assert summary["Nơi nhận"].value == corpus.MARKDOWN[0]
    sheet = wb["Góp ý"]
    header = [c.value for c in sheet[1]]
    got = [r[header.index("Góp ý")].value for r in sheet.iter_rows(min_row=2)]
    assert sorted(got) == sorted(as_read_back(t) for t in texts[3:])  # excluded responses are not in the comments
    assert {r[header.index("Lĩnh vực")].value for r in sheet.iter_rows(min_row=2)} == {corpus.FORMULAS[1]}
    excluded = wb["Chất lượng dữ liệu"]
    header = [c.value for c in excluded[1]]
    assert {r[header.index("Lý do loại")].value for r in excluded.iter_rows(min_row=2)} == {corpus.FORMULAS[2]}
    assert sorted(r[header.index("Góp ý")].value for r in excluded.iter_rows(min_row=2)) == sorted(
        as_read_back(t) for t in texts[:3]
    )


def test_the_pdf_report_is_built_with_the_hostile_texts_in_it(report_month):
    report, _, _ = report_month
    data = reports.to_pdf(report, with_charts=False)
    assert data[:5] == b"%PDF-"
    text = "".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
    for payload in ("</textarea><b>đậm</b>", "# heading", "+1+1", "@SUM(A1)", "**bold** [link]"):  # not excluded
        assert "".join(payload.split()) in text, payload
    assert "".join(corpus.FORMULAS[0].split()) in text  # the unit's name, as text


# ------------------------------------------------------------------------------ access: what was missing

NO_RIGHT = "Bạn không có quyền xem trang này."
GUARDED = sorted(p.name for p in (ROOT / "app_pages").glob("*.py") if "require_role(" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page_file", GUARDED)
def test_no_action_widget_is_drawn_for_an_anonymous_visitor_or_an_ended_session(conn, clerk, page_file):
    ended = auth.start_session(conn, clerk)
    auth.logout(conn, ended)
    for token in (None, ended):
        at = AppTest.from_file(str(ROOT / "app_pages" / page_file), default_timeout=60)
        if token:
            at.session_state["staff_token"] = token
        at.run()
        assert not at.exception
        assert [w.value for w in at.warning] == [NO_RIGHT]
        assert list(at.button) == [] and len(at.get("file_uploader")) == 0 and len(at.get("download_button")) == 0
        assert list(at.text_input) == [] and list(at.text_area) == [] and list(at.selectbox) == []


def test_a_clerk_gets_no_widget_of_the_chairmans_page_even_with_decisions_waiting(conn, clerk, chairman):
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Thị Lan"})
    clerk_actor = workflow.Actor("thongke", "clerk")
    for _ in range(2):
        case_id = _case(conn, "CB01")
        workflow.transition(conn, case_id, "verifying", clerk_actor)
        workflow.transition(conn, case_id, "founded", clerk_actor)
    workflow.record_explanation(conn, case_id, clerk_actor, "Cán bộ giải trình bằng văn bản.")
    workflow.transition(conn, case_id, "measure", clerk_actor, root_cause="Thiếu kỹ năng", measure="discipline")
    at = page("chairman.py", conn, clerk)
    assert [w.value for w in at.warning] == [NO_RIGHT]
    assert list(at.button) == [] and list(at.radio) == [] and list(at.text_area) == []
    # The same page for the Chairman has both decisions on it.
    chair = page("chairman.py", conn, chairman)
    assert [b.label for b in chair.button].count("Ghi quyết định") == 2


def test_a_clerk_is_offered_no_chairman_transition_on_the_cases_page(conn, clerk):
    clerk_actor = workflow.Actor("thongke", "clerk")
    case_id = _case(conn)
    for to in ("verifying", "founded"):
        workflow.transition(conn, case_id, to, clerk_actor)
    workflow.transition(conn, case_id, "measure", clerk_actor, root_cause="Thiếu kỹ năng", measure="reminder")
    at = page("cases.py", conn, clerk)
    assert at.selectbox(key="case_pick").value == case_id
    assert at.selectbox(key="case_to").options == ["Chỉ ghi chú", "Đã trả lời người phản ánh"]
    # Nor the fields of steps that are not hers: cause and measure (already proposed), date, password.
    keys = {w.key for w in [*at.text_area, *at.selectbox, *at.date_input, *at.text_input]}
    assert not keys & {"case_cause", "case_measure", "case_measure_date", "case_password"}


def test_an_exclusion_clicked_after_the_session_ended_does_nothing(conn, clerk):
    today = date.today().isoformat()
    rows = [
        (
            {
                "token": f"b{i}",
                "submitted_at": f"{today} 03:00:1{i}",
                "questionnaire": ACTIVE,
                "channel": "kiosk",
                "overall": 5,
                "device": "quay1",
            },
            {"TC3.1": 5},
        )
        for i in range(4)
    ]  # 4 in 60 s: flagged
    with db.transaction(conn):
        db.insert_responses(conn, rows)
    at = page("analysis.py", conn, clerk)
    at.segmented_control(key="an_section").set_value("Chất lượng dữ liệu").run()
    at.multiselect(key="an_quality_ids").set_value([1, 2])
    at.text_input(key="an_quality_reason").input("Bấm thử nhiều lần").run()
    before = table_snapshot(conn)
    auth.logout(conn, at.session_state["staff_token"])  # in another tab; or 30 minutes idle, or disabled
    # Streamlit runs the button's callback before the page (and its guard) runs again.
    at.button(key="an_exclude").click().run()
    assert [w.value for w in at.warning] == [NO_RIGHT]
    after = table_snapshot(conn)
    assert after["responses"] == before["responses"]


def test_the_live_session_clicks_the_same_exclusion_through(conn, clerk):
    today = date.today().isoformat()
    rows = [
        (
            {
                "token": f"b{i}",
                "submitted_at": f"{today} 03:00:1{i}",
                "questionnaire": ACTIVE,
                "channel": "kiosk",
                "overall": 5,
                "device": "quay1",
            },
            {"TC3.1": 5},
        )
        for i in range(4)
    ]
    with db.transaction(conn):
        db.insert_responses(conn, rows)
    at = page("analysis.py", conn, clerk)
    at.segmented_control(key="an_section").set_value("Chất lượng dữ liệu").run()
    at.multiselect(key="an_quality_ids").set_value([1, 2])
    at.text_input(key="an_quality_reason").input("Bấm thử nhiều lần").run()
    at.button(key="an_exclude").click().run()
    assert [s.value for s in at.success] == ["Đã loại 2 phiếu."]
    assert [r[0] for r in conn.execute("SELECT id FROM responses WHERE excluded = 1 ORDER BY id")] == [1, 2]


def test_a_report_download_after_the_session_ended_is_refused(conn, clerk):
    def script():
        import streamlit as st

        import ui

        st.session_state["check"] = ui.session_check("clerk", "chairman")

    at = AppTest.from_function(script, default_timeout=30)
    token = auth.start_session(conn, clerk)
    at.session_state["staff_token"] = token
    at.run()
    check = at.session_state["check"]
    check()  # live: the report is built
    auth.logout(conn, token)
    with pytest.raises(PermissionError, match="Phiên làm việc đã kết thúc"):
        check()


def test_a_staffing_case_clicked_after_the_session_ended_is_not_opened(conn, clerk):
    at = _waiting_page(conn, clerk)
    assert "wait_rec_0" in [b.key for b in at.button]
    auth.logout(conn, at.session_state["staff_token"])
    at.button(key="wait_rec_0").click().run()
    assert db.list_cases(conn, case_type="waiting") == []
    assert [w.value for w in at.warning] == [NO_RIGHT]


def _waiting_page(conn, clerk):
    import test_waiting_apptest as w

    w.tickets.import_tickets(
        conn, ("\n".join(",".join(r) for r in [w.HEADER, *w.LOG]) + "\n").encode(), "log.csv", now=w.NOW
    )
    cfg.put(conn, "opening_hours", w.HOURS, "test")
    cfg.put(conn, "counters_open", {"default": 1, "hours": []}, "test")
    cfg.put(conn, "service_minutes", w.SERVICE, "test")
    return w.open_page(conn, clerk)


# ------------------------------------------------------------------------------ found on the way


def test_a_database_error_on_submit_keeps_the_survey_and_a_second_tap_stores_it_once(conn, monkeypatch):
    """A write that fails (disk full, I/O error, locked for 15 s) acknowledges nothing, so the tablet keeps
    the survey in its queue (the browser test shows the calm screen); sent again with the same token, it is
    stored once, and a third time adds nothing. (The survey now runs in the tablet's browser.)"""
    import sqlite3
    import uuid

    from sipas.survey import devices, tablet

    token = str(uuid.uuid4())
    survey = {"token": token, "questionnaire": "sipas-2023", "asked": ["TC1.1"], "answers": {"TC1.1": 4}}
    enrolled_at = datetime(2026, 3, 1, 9, 0)
    assert devices.enrol(conn, "quay1", devices.add(conn, "quay1", now=enrolled_at, actor="test"), now=enrolled_at)
    db.issue_tokens(conn, "quay1", [token], enrolled_at)

    def send():
        return tablet.handle_sync(
            conn, {"surveys": [survey]}, now=datetime(2026, 3, 4, 9, 0), device="quay1", out_of_hours=lambda t: False
        )

    real = db.insert_response

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db, "insert_response", broken)
    with pytest.raises(sqlite3.OperationalError):
        send()
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 0
    monkeypatch.setattr(db, "insert_response", real)
    assert send().stored == 1
    assert send().stored == 0
    assert conn.execute("SELECT count(*) FROM responses WHERE token = ?", ("kiosk:" + token,)).fetchone()[0] == 1


def test_the_data_quality_section_with_responses_none_flagged_shows_no_error(conn, clerk):
    """quality.flag_responses failed on a period with responses of which none was flagged."""
    store_comments(conn, ["Tốt"], date.today())
    at = page("analysis.py", conn, clerk)
    at.segmented_control(key="an_section").set_value("Chất lượng dữ liệu").run()
    assert not at.exception
    assert "Trong kỳ: 0 phiếu bị đánh dấu; 0 phiếu đã loại khỏi chỉ số." in [t.value for t in at.text]


@pytest.mark.skipif(
    os.name != "posix" or sys.getfilesystemencoding() != "utf-8",
    reason="file names that are not UTF-8 reach Python as lone surrogates on POSIX only",
)
def test_a_file_name_that_is_not_utf8_is_imported_from_the_command_line(db_file, tmp_path, capsys):
    """The name arrives with a lone surrogate (surrogateescape); it could be neither stored nor printed."""
    from sipas.cli import main

    path = tmp_path / os.fsdecode(b"phi\xe9u.csv")  # Latin-1 "phiéu.csv"
    path.write_bytes(b"submitted_at,overall\r\n2024-03-04 08:15,5\r\n")
    assert main(["import-responses", str(path)]) == 0
    assert capsys.readouterr().out == (
        "Đã nhập 1 phiếu mới từ phi\ufffdu.csv (0 phiếu đã có từ trước, bỏ qua; tổng 1 dòng).\n"
    )
    with db.session(db_file) as c:
        assert [r[0] for r in c.execute("SELECT filename FROM imports")] == ["phi\ufffdu.csv"]
