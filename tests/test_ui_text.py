"""Staff-typed text inside Markdown stays text: no formatting, and no bare URL or address made a link.

Streamlit's Markdown links www.…, http://… and a@b.vn found in the text even after backslash escapes
(checked in Chromium: the escaped name was an <a href>); escape_md breaks each pattern with an
invisible word joiner (U+2060).
"""

import re

import ui

GFM_AUTOLINK = re.compile(r"(https?://|www\.|[-.+\w]+@[-\w]+\.)", re.IGNORECASE)


def _shown(markdown: str) -> str:
    """What Markdown displays of escaped text: backslash escapes resolved."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_bare_urls_and_addresses_are_not_links_but_read_the_same():
    for name in ["www.example.com", "Xem http://evil.example/x", "Nguyễn a@b.vn", "HTTPS://X.VN"]:
        shown = _shown(ui.escape_md(name))
        assert not GFM_AUTOLINK.search(shown), shown
        assert shown.replace("\u2060", "") == name


def test_markdown_stays_as_typed():
    name = "**đậm** [x](http://y) `c` :red[z] ![ảnh](http://h/a.png)"
    assert _shown(ui.escape_md(name)).replace("\u2060", "") == name
    assert "](http://" not in ui.escape_md(name)


def test_every_table_says_nothing_for_a_missing_value_never_none():
    """Streamlit draws a missing cell as the English word "None" unless the call gives ``placeholder``:
    every st.dataframe and st.data_editor of the pages passes one ("—" in tables, blank in editors)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    missing, seen = [], 0
    for path in [*sorted((root / "app_pages").glob("*.py")), root / "ui.py", root / "main_page.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("dataframe", "data_editor")
            ):
                seen += 1
                if not any(k.arg == "placeholder" for k in node.keywords):
                    missing.append(f"{path.name}:{node.lineno}")
    assert seen >= 30
    assert missing == []


def test_every_choice_box_has_a_vietnamese_placeholder_and_no_select_all():
    """Streamlit writes "Choose an option" / "Choose options" in an empty st.selectbox / st.multiselect and
    offers "Select all" in a multiselect unless the call says otherwise: every one of the pages gives a
    Vietnamese ``placeholder`` (a literal with diacritics) and every multiselect ``select_all=False``."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    missing, seen = [], 0
    for path in [*sorted((root / "app_pages").glob("*.py")), root / "ui.py", root / "app.py", root / "main_page.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("selectbox", "multiselect")
            ):
                continue
            seen += 1
            kw = {k.arg: k.value for k in node.keywords}
            placeholder = kw.get("placeholder")
            if not (isinstance(placeholder, ast.Constant) and str(placeholder.value).startswith("Chọn")):
                missing.append(f"{path.name}:{node.lineno} placeholder")
            if node.func.attr == "multiselect" and not (
                isinstance(kw.get("select_all"), ast.Constant) and kw["select_all"].value is False
            ):
                missing.append(f"{path.name}:{node.lineno} select_all")
    assert seen >= 35
    assert missing == []


def test_tables_write_stored_times_months_and_p_values_the_vietnamese_way():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "Báo lúc": ["2026-12-06 20:37:23", None],
            "Tháng": ["2025-12", "2026-01"],
            "Mã": ["TC2.3", "TC1.1"],
            "p (Holm)": [0.0, 0.0234],
        }
    )
    shown = ui.vn_frame(frame, {"p (Holm)": "p"})
    assert shown.to_dict("list") == {
        "Báo lúc": ["06/12/2026 20:37", "—"],
        "Tháng": ["12/2025", "01/2026"],
        "Mã": ["TC2.3", "TC1.1"],
        "p (Holm)": ["< 0,001", "0,023"],
    }
