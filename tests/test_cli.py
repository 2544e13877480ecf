"""``python -m sipas …`` run as a real subprocess: exit codes, one-line summaries, the index JSON."""

from __future__ import annotations

import getpass
import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from conftest import always_open, run_cli, table_snapshot
from scipy.stats import binomtest

from sipas import db

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, db_path: Path | None = None, env_db: Path | None = None):
    """The command in this process (``cli.main``), SIPAS_DB unset unless ``env_db`` is given."""
    return run_cli(*args, db_path=db_path, env_db=env_db)


def test_python_m_sipas_runs_as_a_real_process(tmp_path):
    """One smoke test through a real process: the module entry point, its exit code and output."""
    path = tmp_path / "smoke.db"
    env = {k: v for k, v in os.environ.items() if k != "SIPAS_DB"}
    r = subprocess.run(
        [sys.executable, "-m", "sipas", "index", "--json", "--db", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["responses"] == 0
    bad = subprocess.run([sys.executable, "-m", "sipas", "no-such-command"], cwd=ROOT, capture_output=True, timeout=60)
    assert bad.returncode == 2


def snapshot(path: Path) -> dict:
    with closing(sqlite3.connect(path)) as c:
        return table_snapshot(c)


# Five responses, hand-checked below. Response e is 23:30 UTC on the 11th = 06:30 on the 12th in Vietnam.
RESPONSES_CSV = (
    "response_id,submitted_at,TC1.1,TC1.2,TC2.1,TC3.1,overall\n"
    "a,2024-01-10 08:00,5,4,3,5,5\n"
    "b,2024-01-10 16:59,2,,4,4,4\n"
    "c,2024-01-11 07:30,4,5,,1,2\n"
    "d,2024-01-12 09:00,1,1,5,5,\n"
    "e,2024-01-11T23:30:00+00:00,5,,,,5\n"
)


@pytest.fixture
def imported(tmp_path) -> Path:
    path = tmp_path / "cli.db"
    always_open(path)  # on the 2022–2023 form, as the hand-computed values below
    f = tmp_path / "phieu.csv"
    f.write_text(RESPONSES_CSV, encoding="utf-8")
    r = run("import-responses", str(f), env_db=path)
    assert r.returncode == 0, r.stderr
    return path


def index_json(*args: str, env_db: Path) -> dict:
    r = run("index", "--json", *args, env_db=env_db)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.count("\n") == 1
    return json.loads(r.stdout)


def _criterion(d: dict, code: str) -> dict:
    return next(c for c in d["criteria"] if c["code"] == code)


# --------------------------------------------------------------------------- import-responses


def test_import_responses_prints_one_line_and_exits_0(tmp_path):
    path = tmp_path / "x.db"
    f = tmp_path / "thang1.csv"
    f.write_text(RESPONSES_CSV, encoding="utf-8")
    r = run("import-responses", str(f), env_db=path)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "Đã nhập 5 phiếu mới từ thang1.csv (0 phiếu đã có từ trước, bỏ qua; tổng 5 dòng).\n"
    r = run("import-responses", str(f), env_db=path)
    assert r.stdout == "Đã nhập 0 phiếu mới từ thang1.csv (5 phiếu đã có từ trước, bỏ qua; tổng 5 dòng).\n"
    with closing(sqlite3.connect(path)) as c:
        assert c.execute("SELECT count(*) FROM responses").fetchone()[0] == 5


def test_db_option_wins_over_the_environment(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text(RESPONSES_CSV, encoding="utf-8")
    env_path, opt_path = tmp_path / "env.db", tmp_path / "opt.db"
    r = run("import-responses", str(f), db_path=opt_path, env_db=env_path)
    assert r.returncode == 0
    assert opt_path.exists() and not env_path.exists()


def test_bad_file_exits_1_with_problems_on_stderr_and_changes_nothing(imported, tmp_path):
    before = snapshot(imported)
    bad = tmp_path / "hong.csv"
    bad.write_text(
        "response_id,submitted_at,TC1.1,overall\nn1,2024-01-15 08:00,5,5\nn2,2024-01-15 08:10,6,4\nn3,2024-01-15,4,\n",
        encoding="utf-8",
    )
    r = run("import-responses", str(bad), env_db=imported)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        'Dòng 3, cột TC1.1: giá trị "6" không hợp lệ, chỉ nhận 1–5.',
        'Dòng 4, cột submitted_at: giá trị "2024-01-15" không hợp lệ, cần dạng YYYY-MM-DD HH:MM, dd/mm/yyyy HH:MM '
        "hoặc ISO 8601 "
        "có múi giờ.",
    ]
    assert snapshot(imported) == before


def test_missing_file_exits_1(imported, tmp_path):
    before = snapshot(imported)
    r = run("import-responses", str(tmp_path / "khong-co.csv"), env_db=imported)
    assert r.returncode == 1
    assert r.stderr == f"Không tìm thấy tệp {tmp_path / 'khong-co.csv'}.\n"
    assert snapshot(imported) == before


def test_a_database_of_another_program_exits_1(tmp_path):
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as c:
        c.execute("CREATE TABLE t (x)")
    r = run("index", "--json", db_path=other)
    assert r.returncode == 1
    assert r.stderr == "Tệp này là một cơ sở dữ liệu SQLite khác, không phải của phần mềm khảo sát.\n"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["no-such-command"],
        ["import-responses"],
        ["index", "--bogus"],
        ["index", "--from", "2024-13-01"],
        ["demo", "--responses", "many"],
        ["staffing", "--service-minutes", "10"],
    ],
)
def test_wrong_usage_exits_2(tmp_path, args):
    path = tmp_path / "u.db"
    r = run(*args, env_db=path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "Cách dùng: python -m sipas" in r.stderr
    assert ": lỗi: " in r.stderr
    assert not _ARGPARSE_ENGLISH.findall(r.stderr), r.stderr


# argparse's own English words (Python 3.11): none may reach a person.
_ARGPARSE_ENGLISH = re.compile(
    r"usage:|positional arguments|options:|show this help|show program's|error:|arguments are required"
    r"|invalid choice|choose from|unrecognized arguments|expected one argument|invalid \w+ value|\bargument\b"
)


def _commands() -> list[str]:
    from sipas.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return list(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_help_works_on_each_command(tmp_path, command):
    r = run(command, "--help", env_db=tmp_path / "h.db")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.startswith(f"Cách dùng: python -m sipas {command}")
    assert not (tmp_path / "h.db").exists()
    assert not _ARGPARSE_ENGLISH.findall(r.stdout), r.stdout
    assert "-h, --help" in r.stdout and "in hướng dẫn này rồi thoát" in r.stdout


def test_top_level_help_is_vietnamese():
    r = run("--help")
    assert r.stdout.startswith("Cách dùng: python -m sipas [-h] [--version] LỆNH ...")
    assert "\ntham số theo vị trí:\n" in r.stdout and "\ntùy chọn:\n" in r.stdout
    assert re.search(r"\n  --version +in số phiên bản rồi thoát\n", r.stdout)
    assert not _ARGPARSE_ENGLISH.findall(r.stdout), r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user"], "python -m sipas user: lỗi: thiếu tham số bắt buộc: VIỆC"),
        (
            ["tablet", "frob"],
            "python -m sipas tablet: lỗi: tham số VIỆC: lựa chọn không hợp lệ: 'frob' "
            "(chọn một trong 'add', 'list', 'revoke')",
        ),
        (["index", "--bogus"], "python -m sipas: lỗi: tham số không nhận biết được: --bogus"),
        (
            ["demo", "--responses", "many"],
            "python -m sipas demo: lỗi: tham số --responses: giá trị không hợp lệ: 'many' (cần một số nguyên)",
        ),
        (["report", "--month"], "python -m sipas report: lỗi: tham số --month: cần một giá trị"),
        (
            ["staffing", "--arrivals-per-hour", "x"],
            "python -m sipas staffing: lỗi: tham số --arrivals-per-hour: giá trị không hợp lệ: 'x' (cần một số)",
        ),
    ],
)
def test_usage_errors_are_said_in_vietnamese(tmp_path, args, message):
    r = run(*args, env_db=tmp_path / "e.db")
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1] == message


def test_top_level_help_lists_every_command_and_the_readme_documents_them():
    r = run("--help")
    assert r.returncode == 0
    commands = _commands()
    assert {"import-responses", "index", "demo", "staffing"} <= set(commands)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in commands:
        assert name in r.stdout
        assert f"python -m sipas {name}" in readme, f"README does not document `{name}`"


# --------------------------------------------------------------------------- index --json


def test_index_json_keys_and_values(imported):
    d = index_json(env_db=imported)
    assert list(d) == ["questionnaire", "from", "to", "responses", "overall", "direct_overall", "elements", "criteria"]
    assert list(d["direct_overall"]) == ["n", "satisfied", "index", "ci_low", "ci_high"]
    assert all(list(e) == ["code", "name", "index"] for e in d["elements"])
    assert all(list(c) == ["code", "element", "n", "satisfied", "index", "ci_low", "ci_high"] for c in d["criteria"])
    assert (d["questionnaire"], d["from"], d["to"], d["responses"]) == ("sipas-2023", None, None, 5)
    # By hand over a–e:
    #   TC1.1: 5,2,4,1,5 -> 3/5 = 60;  TC1.2: 4,5,1 -> 2/3 = 66.67;  TC2.1: 3,4,5 -> 2/3;  TC3.1: 5,4,1,5 -> 3/4 = 75
    #   element 1 = (60 + 66.67)/2 = 63.33; element 2 = 66.67; element 3 = 75; elements 4, 5: no answers
    #   overall = (63.33 + 66.67 + 75)/3 = 68.33;  direct question: 5,4,2,5 -> 3/4 = 75
    assert [(c["code"], c["n"], c["satisfied"]) for c in d["criteria"] if c["n"]] == [
        ("TC1.1", 5, 3),
        ("TC1.2", 3, 2),
        ("TC2.1", 3, 2),
        ("TC3.1", 4, 3),
    ]
    assert _criterion(d, "TC1.1")["index"] == 60.0
    assert _criterion(d, "TC1.2")["index"] == pytest.approx(200 / 3, abs=1e-9)
    assert _criterion(d, "TC3.1")["index"] == 75.0
    assert _criterion(d, "TC1.1")["element"] == "1"
    assert _criterion(d, "TC4.1") == {
        "code": "TC4.1",
        "element": "4",
        "n": 0,
        "satisfied": 0,
        "index": None,
        "ci_low": None,
        "ci_high": None,
    }
    assert [e["code"] for e in d["elements"]] == ["1", "2", "3", "4", "5"]
    assert d["elements"][0]["name"] == "Tiếp cận dịch vụ hành chính công"
    got = [e["index"] for e in d["elements"]]
    assert got[0] == pytest.approx(190 / 3, abs=1e-9)
    assert got[1] == pytest.approx(200 / 3, abs=1e-9)
    assert got[2:] == [75.0, None, None]
    assert d["overall"] == pytest.approx(205 / 3, abs=1e-9)
    do = d["direct_overall"]
    assert (do["n"], do["satisfied"], do["index"]) == (4, 3, 75.0)
    ci = binomtest(3, 4).proportion_ci(method="wilson")
    assert (do["ci_low"], do["ci_high"]) == (
        pytest.approx(100 * ci.low, abs=1e-9),
        pytest.approx(100 * ci.high, abs=1e-9),
    )
    ci = binomtest(3, 5).proportion_ci(method="wilson")
    assert _criterion(d, "TC1.1")["ci_low"] == pytest.approx(100 * ci.low, abs=1e-9)
    assert _criterion(d, "TC1.1")["ci_high"] == pytest.approx(100 * ci.high, abs=1e-9)


def test_index_json_equals_the_analysis_module_and_imports_no_heavy_library(imported):
    from sipas.index.scoring import index_for_period

    code = (
        "import json, sys\nfrom sipas.cli import main\nrc = main(['index', '--json', '--from', '2024-01-10'])\n"
        "print(json.dumps(sorted(m for m in ('pandas', 'scipy', 'numpy') if m in sys.modules)))"
    )
    env = {**os.environ, "SIPAS_DB": str(imported)}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    printed, heavy = r.stdout.splitlines()
    assert json.loads(heavy) == []  # a scheduled job should not pay for pandas/scipy start-up
    with closing(db.open_db(imported)) as c:
        expected = index_for_period(c, "sipas-2023", "2024-01-10", None).to_json_dict("2024-01-10", None)
    assert json.loads(printed) == expected


def test_index_date_range_is_inclusive_in_local_dates(imported):
    # Only c is on the 11th: e (23:30 UTC on the 11th) is on the 12th in Vietnam.
    d = index_json("--from", "2024-01-11", "--to", "2024-01-11", env_db=imported)
    assert (d["from"], d["to"], d["responses"]) == ("2024-01-11", "2024-01-11", 1)
    assert [(c["code"], c["n"], c["index"]) for c in d["criteria"] if c["n"]] == [
        ("TC1.1", 1, 100.0),
        ("TC1.2", 1, 100.0),
        ("TC3.1", 1, 0.0),
    ]
    assert d["overall"] == 50.0  # (100 + 0)/2
    assert (d["direct_overall"]["n"], d["direct_overall"]["index"]) == (1, 0.0)
    # From the 12th on: d and e. TC1.1: 1,5 -> 50; TC1.2: 1 -> 0; element 1 = 25; TC2.1 100; TC3.1 100.
    d = index_json("--from", "2024-01-12", env_db=imported)
    assert d["responses"] == 2
    assert d["overall"] == 75.0
    assert (d["direct_overall"]["n"], d["direct_overall"]["satisfied"]) == (1, 1)
    # Up to the 10th includes b at 16:59.
    d = index_json("--to", "2024-01-10", env_db=imported)
    assert d["responses"] == 2
    assert _criterion(d, "TC1.1")["n"] == 2
    # An empty range: everything null.
    d = index_json("--from", "2025-01-01", env_db=imported)
    assert (d["responses"], d["overall"], d["direct_overall"]["index"]) == (0, None, None)


def test_index_from_after_to_exits_1(imported):
    r = run("index", "--json", "--from", "2024-02-01", "--to", "2024-01-01", env_db=imported)
    assert r.returncode == 1
    assert r.stderr == "--from 2024-02-01 sau --to 2024-01-01.\n"


def test_index_unknown_questionnaire_exits_1(imported):
    r = run("index", "--json", "--questionnaire", "sipas-1999", env_db=imported)
    assert r.returncode == 1
    assert r.stderr == "Không có phiên bản phiếu 'sipas-1999'. Các phiên bản có: sipas-2017, sipas-2023, sipas-2024.\n"


def test_index_other_questionnaire_version(imported):
    d = index_json("--questionnaire", "sipas-2017", env_db=imported)
    assert (d["questionnaire"], d["responses"], d["overall"]) == ("sipas-2017", 0, None)
    assert len(d["criteria"]) == 22


def test_index_leaves_out_excluded_responses(imported):
    with closing(db.open_db(imported)) as c:
        rid = c.execute("SELECT id FROM responses WHERE token = 'a'").fetchone()[0]
        db.set_excluded(c, rid, True, "trùng phiếu", "clerk")
    d = index_json(env_db=imported)
    # Without a: TC1.1 2,4,1,5 -> 2/4 = 50; TC1.2 5,1 -> 50; TC2.1 4,5 -> 100; TC3.1 4,1,5 -> 2/3
    # elements (50, 100, 66.67) -> overall 72.22; direct 4,2,5 -> 2/3
    assert d["responses"] == 4
    assert [(c["code"], c["n"], c["satisfied"]) for c in d["criteria"] if c["n"]] == [
        ("TC1.1", 4, 2),
        ("TC1.2", 2, 1),
        ("TC2.1", 2, 2),
        ("TC3.1", 3, 2),
    ]
    assert d["overall"] == pytest.approx((50 + 100 + 200 / 3) / 3, abs=1e-9)
    assert (d["direct_overall"]["n"], d["direct_overall"]["satisfied"]) == (3, 2)


def test_index_without_json_prints_one_line(imported):
    r = run("index", env_db=imported)
    assert r.returncode == 0
    assert r.stdout == "sipas-2023: 5 phiếu, chỉ số hài lòng 68,33%.\n"


# --------------------------------------------------------------------------- demo, staffing


def test_demo_then_delete(imported):
    r = run("demo", "--responses", "200", "--seed", "3", env_db=imported)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"Đã tạo 200 phiếu dữ liệu mẫu (seed 3) trong {imported}.\n"
    with closing(sqlite3.connect(imported)) as c:
        assert c.execute("SELECT count(*) FROM responses WHERE is_demo = 1").fetchone()[0] == 200
    assert index_json(env_db=imported)["responses"] == 205
    r = run("demo", "--delete", env_db=imported)
    assert (r.returncode, r.stdout) == (0, "Đã xóa 200 phiếu dữ liệu mẫu.\n")
    with closing(sqlite3.connect(imported)) as c:
        assert c.execute("SELECT count(*) FROM responses").fetchone()[0] == 5
        assert c.execute("SELECT count(*) FROM responses WHERE is_demo = 1").fetchone()[0] == 0
        last = c.execute("SELECT actor, action, new_value FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert last == (f"dòng lệnh ({getpass.getuser()})", "delete-demo", "200")
    d = index_json(env_db=imported)
    assert d["responses"] == 5
    assert d["overall"] == pytest.approx(205 / 3, abs=1e-9)


def test_demo_negative_count_exits_1(tmp_path):
    r = run("demo", "--responses", "-1", env_db=tmp_path / "d.db")
    assert (r.returncode, r.stderr) == (1, "--responses phải ≥ 0.\n")


def test_staffing_json_keys(tmp_path):
    r = run(
        "staffing",
        "--arrivals-per-hour",
        "20",
        "--service-minutes",
        "10",
        "--target-wait",
        "15",
        "--service-level",
        "0.8",
        "--json",
        env_db=tmp_path / "s.db",
    )
    assert (r.returncode, r.stderr) == (0, "")
    d = json.loads(r.stdout)
    assert list(d) == ["counters", "service_level", "p_wait", "mean_wait_minutes", "occupancy"]
    # By hand (Erlang C): a = 20/h × 10 min = 3.33 erlangs, μ = 6/h.
    #   c = 4: P(wait) = 0.6577; within 15 min 1 − 0.6577·e^(−(24−20)·0.25) = 0.758 < 0.8 -> not enough
    #   c = 5: P(wait) = 0.3267; within 15 min 1 − 0.3267·e^(−(30−20)·0.25) = 0.9732;
    #          mean wait 0.3267/(30−20) h = 1.96 min; occupancy 3.33/5
    assert d["counters"] == 5
    assert d["p_wait"] == pytest.approx(0.3266692800209069, abs=1e-9)
    assert d["service_level"] == pytest.approx(0.9731853525990138, abs=1e-9)
    assert d["mean_wait_minutes"] == pytest.approx(1.9600156801254411, abs=1e-9)
    assert d["occupancy"] == pytest.approx(20 * 10 / 60 / 5)
