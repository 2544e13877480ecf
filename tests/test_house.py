"""House rules checked over the source: one clock, no import cycles, no Streamlit in the domain."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    *sorted((ROOT / "sipas").rglob("*.py")),
    *sorted((ROOT / "app_pages").glob("*.py")),
    *sorted((ROOT / "bench").glob("*.py")),
    ROOT / "ui.py",
    ROOT / "app.py",
    ROOT / "main_page.py",
    ROOT / "backup_route.py",
    ROOT / "qr_route.py",
]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def naive_clock_calls(path: Path) -> list[str]:
    """``date.today()``, ``datetime.now()`` without a zone, ``utcnow``/``localtime`` calls in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        bad = (
            last == "today"
            and name.endswith(("date.today", "datetime.today"))
            or (last == "now" and name.endswith("datetime.now") and not node.args and not node.keywords)
            or last in ("utcnow", "utcfromtimestamp", "localtime")
        )
        if bad:
            found.append(f"{path.name}:{node.lineno} {name}()")
    return found


def test_no_naive_clock_call_outside_the_clock():
    found = [hit for path in SOURCES if path.name != "clock.py" for hit in naive_clock_calls(path)]
    assert found == []


def test_the_checker_sees_naive_calls(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt\nfrom datetime import date, datetime\nimport time\n"
        "a = date.today()\nb = datetime.now()\nc = dt.datetime.utcnow()\nd = time.localtime()\n"
        "ok = datetime.now(tz)\n",
        encoding="utf-8",
    )
    assert [h.split()[1] for h in naive_clock_calls(sample)] == [
        "date.today()",
        "datetime.now()",
        "dt.datetime.utcnow()",
        "time.localtime()",
    ]


def test_report_generated_at_is_commune_time_on_a_utc_server(db_file):
    """The report's "Lập lúc" is the commune's wall clock even when the process runs with TZ=UTC."""
    code = (
        "import sys; from datetime import datetime, timezone, timedelta\n"
        "from sipas import db, reports\nfrom sipas.reports import model\n"
        "c = db.open_db(sys.argv[1])\n"
        "r = reports.build_report(c, '2026-05')\n"
        "local = datetime.now(timezone(timedelta(hours=7))).replace(tzinfo=None)\n"
        "rows = dict(model.summary_rows(r))\n"
        "shown = datetime.strptime(rows['Lập lúc'], '%d/%m/%Y %H:%M')\n"
        "print(abs((shown - local).total_seconds()) < 120, abs((datetime.now() - local).total_seconds()) > 3600)\n"
    )
    env = {**os.environ, "TZ": "UTC", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(db_file)], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    # Shown within two minutes of UTC+7, while the process's own naive clock is 7 hours away.
    assert out.stdout.split() == ["True", "True"]


# ------------------------------------------------------------------------------ imports


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: str = "sipas") -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports, at module level or inside functions alike."""
    paths = {_module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        is_pkg = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in paths else base)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_sipas_has_no_import_cycle():
    graph = import_graph()
    assert {"sipas.cases.workflow", "sipas.staffing.waiting", "sipas.cases.effects", "sipas.db.responses"} <= set(graph)
    assert (
        "sipas.staffing.waiting" in graph["sipas.cases.effects"] and "sipas.db" in graph["sipas.cases.effects"]
    )  # (function level)
    cycle = find_cycle(graph)
    assert cycle is None, " → ".join(cycle)


def test_the_cycle_finder_sees_a_function_level_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_domain_never_imports_streamlit():
    offenders = []
    for path in sorted((ROOT / "sipas").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.name}:{node.lineno}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []
    # and at run time: importing every domain module loads no streamlit
    code = (
        "import importlib, pkgutil, sys, sipas, sipas.db\n"
        "for m in pkgutil.walk_packages(sipas.__path__, 'sipas.'):\n"
        "    m.name.endswith('__main__') or importlib.import_module(m.name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------ layers

# The domain's layers, bottom to top: a module may import its own layer and those below, never above
# (module- and function-level imports alike). The file imports sit with the survey: they store surveys
# and start the case intake; the cell parsing, the table reader and the exports are below the admin.
LAYERS = [
    ("base", ("sipas", "sipas.errors", "sipas.paths", "sipas.clock", "sipas.text", "sipas.faults")),
    ("catalog", ("sipas.catalog",)),
    ("db", ("sipas.db",)),
    (
        "file basics",
        (
            "sipas.files",
            "sipas.files.parsing",
            "sipas.files.reading",
            "sipas.files.legacy",
            "sipas.files.table",
            "sipas.files.exports",
        ),
    ),
    ("admin", ("sipas.admin", "sipas.files.templates")),
    ("index", ("sipas.index",)),
    ("staffing", ("sipas.staffing",)),
    ("cases", ("sipas.cases",)),
    ("survey and imports", ("sipas.survey", "sipas.files.tickets", "sipas.files.dossiers")),
    ("reports", ("sipas.reports",)),
    ("entry points", ("sipas.demo", "sipas.cli", "sipas.__main__")),
]


def layer_of(module: str) -> int:
    """The layer of a module: the longest listed prefix that names it (or a package above it)."""
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank is not None, f"{module} is in no layer: add it to LAYERS"
    return rank


def test_the_domain_imports_only_its_own_layer_and_those_below():
    graph = import_graph()
    upward = sorted(
        f"{m} ({LAYERS[layer_of(m)][0]}) → {t} ({LAYERS[layer_of(t)][0]})"
        for m, targets in graph.items()
        for t in targets
        if layer_of(t) > layer_of(m)
    )
    assert upward == []


def test_every_sub_package_is_a_room_of_the_house():
    rooms = {p.name for p in (ROOT / "sipas").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms == {"admin", "cases", "catalog", "db", "files", "index", "reports", "staffing", "survey"}
    assert not [p.name for p in (ROOT / "sipas").glob("*.py") if p.stem not in (
        "__init__", "__main__", "cli", "cliparser", "clock", "demo", "errors", "faults", "paths", "text"
    )]  # fmt: skip
