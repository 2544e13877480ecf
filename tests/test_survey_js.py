"""The tablet survey's JavaScript: its Node unit tests, and the one script ui.py joins from its modules.

The modules in components/survey/src/ are tested by Node's own runner (components/survey/test/); this
file runs them so that the README's test command covers them. Without ``node`` they skip, unless
SIPAS_REQUIRE_BROWSER=1 (CI), where they fail instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import ui
from tests import browser as b

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")


@pytest.fixture
def node() -> str:
    if NODE is None:
        if b.browser_required():
            pytest.fail("SIPAS_REQUIRE_BROWSER=1 but `node` is not installed: the survey's JS tests cannot run")
        pytest.skip("node is not installed")
    return NODE


def test_the_survey_modules_pass_their_node_tests(node):
    run = subprocess.run(
        [node, "--test", "components/survey/test/"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
    passed = int(next(line for line in run.stdout.splitlines() if line.startswith("# pass ")).split()[-1])
    assert passed >= 30


def test_the_joined_script_is_one_valid_module_with_the_entry_point_last(node, tmp_path):
    script = ui.assemble_script(ui.SURVEY_SRC)
    assert script == ui.assemble_script(ui.SURVEY_SRC)  # the same files give the same script
    assert "\nimport " not in script and 'from "./' not in script
    assert script.count("export default function") == 1
    assert script.rindex("// ---- main.js") > script.rindex("// ---- queue.js")
    joined = tmp_path / "survey.mjs"
    joined.write_text(script, encoding="utf-8")
    run = subprocess.run([node, "--check", str(joined)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def joined_order(entry: str) -> list[str]:
    script = ui.assemble_script(ui.SURVEY_SRC, entry=entry)
    return [line.removeprefix("// ---- ") for line in script.splitlines() if line.startswith("// ---- ")]


def test_every_module_is_joined_once_after_what_it_imports():
    """Two entry points share the survey: the tablet's own app (standalone.js, with its IndexedDB store) and
    the staff preview component (main.js). Between them every module is used."""
    tablet, preview = joined_order("standalone.js"), joined_order("main.js")
    assert sorted(set(tablet) | set(preview)) == sorted(p.name for p in ui.SURVEY_SRC.glob("*.js"))
    assert len(tablet) == len(set(tablet)) and len(preview) == len(set(preview))
    for order, entry in ((tablet, "standalone.js"), (preview, "main.js")):
        assert order.index("taps.js") < order.index("payload.js") < order.index("survey.js")
        assert order.index("dom.js") < order.index("screens.js") < order.index("survey.js")
        assert order[-1] == entry
    assert "store.js" in tablet and "store.js" not in preview


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_small_set_of_modules_is_joined_in_import_order(tmp_path):
    src = write(
        tmp_path,
        {
            "a.js": "export const A = 1;\n",
            "b.js": 'import { A } from "./a.js";\n\nexport function b() {\n  return A + 1;\n}\n',
            "main.js": 'import { b } from "./b.js";\nimport { A } from "./a.js";\n\n'
            "export default function (c) {\n  return b() + A;\n}\n",
        },
    )
    assert ui.assemble_script(src) == (
        "// Joined by ui.assemble_script from a.js, b.js, main.js: edit those files, not this script.\n"
        "\n// ---- a.js\nconst A = 1;\n"
        "\n// ---- b.js\nfunction b() {\n  return A + 1;\n}\n"
        "\n// ---- main.js\nexport default function (c) {\n  return b() + A;\n}\n"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"main.js": 'import x from "./a.js";\nexport default function () {}\n', "a.js": ""},
            'main.js: only `import { a, b } from "./module.js";` can be joined',
        ),
        (
            {"main.js": 'import { x } from "./a.js";\nexport default function () {}\n', "a.js": "const x = 1;\n"},
            "main.js: imports 'x' from a.js, which does not export it",
        ),
        (
            {"main.js": 'import { x } from "./gone.js";\nexport default function () {}\n'},
            "main.js: imports gone.js, which does not exist",
        ),
        (
            {
                "main.js": 'import { x } from "./a.js";\nexport default function () {}\n',
                "a.js": 'import { y } from "./main.js";\nexport const x = 1;\n',
            },
            "main.js: circular import (main.js -> a.js -> main.js)",
        ),
        (
            {
                "main.js": 'import { x } from "./a.js";\nconst own = 2;\nexport default function () {}\n',
                "a.js": "const own = 1;\nexport const x = own;\n",
            },
            "main.js: own is already declared in a.js",
        ),
        (
            {
                "main.js": 'import { x } from "./a.js";\nexport default function () {}\n',
                "a.js": "export const x = 1;\nexport default function () {}\n",
            },
            "a.js: only the entry module main.js has a default export",
        ),
        (
            {"main.js": "const x = 1;\nexport { x };\nexport default function () {}\n"},
            "main.js: only `export function|const|let|class NAME` can be joined",
        ),
        ({"main.js": "export function go() {}\n"}, "main.js: the entry module needs `export default function`"),
    ],
)
def test_modules_that_cannot_be_joined_safely_are_refused_with_the_reason(tmp_path, files, message):
    with pytest.raises(ui.ScriptAssemblyError) as err:
        ui.assemble_script(write(tmp_path, files))
    assert str(err.value) == message
