"""The registry of audit actions (sipas.db.audit) and what log_audit accepts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sipas import db
from sipas.db import audit

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "sipas").rglob("*.py")), *sorted((ROOT / "app_pages").rglob("*.py")), ROOT / "ui.py"]


def _literals(node: ast.expr) -> list[str] | None:
    """The action names an argument can take: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def written_actions() -> dict[str, list[str]]:
    """Every action name passed to log_audit in the product, with where (file:line)."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name != "log_audit":
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            arg = node.args[2] if len(node.args) > 2 else next(k.value for k in node.keywords if k.arg == "action")
            names = _literals(arg)
            assert names is not None, f"{where}: the action must be written as a literal"
            for n in names:
                found.setdefault(n, []).append(where)
    return found


def test_every_action_the_product_writes_is_registered_and_every_registered_one_is_written():
    written = written_actions()
    assert "user-disable" in written and "delete-demo" in written  # the scan sees the call sites
    unregistered = {n: w for n, w in written.items() if n not in audit.ACTIONS}
    assert unregistered == {}
    assert set(audit.ACTIONS) == set(written)


def test_log_audit_refuses_an_unregistered_action_and_a_missing_person_and_writes_nothing(conn):
    before = db.audit_entries(conn)
    with pytest.raises(ValueError, match="'user-delete' is not registered"):
        db.log_audit(conn, "vanphong", "user-delete", "user:x", None, None, None)
    for actor in (None, "", "  "):
        with pytest.raises(ValueError, match="'delete-demo' needs the person who acts"):
            db.log_audit(conn, actor, "delete-demo", "responses", None, "3", None)
    assert db.audit_entries(conn) == before
    db.log_audit(conn, None, "setting", "staff_min_n@0001-01-01", None, "10", None)  # the product itself
    assert [(e["actor"], e["action"]) for e in db.audit_entries(conn, 1)] == [(None, "setting")]


@pytest.mark.parametrize(
    ("action", "entity", "label"),
    [
        ("restore", "database", "Khôi phục sao lưu"),
        ("include", "response:7", "Khôi phục phiếu đã loại"),
        ("restore", "response:7", "Khôi phục phiếu đã loại"),  # stored so by versions before the registry
        ("exclude", "response:7", "Loại phiếu"),
        ("user-disable", "user:an", "Khóa tài khoản"),
        ("user-enable", "user:an", "Mở khóa tài khoản"),
        ("staff_photo", "staff:CB01", "Đổi ảnh cán bộ"),
        ("no-longer-written", None, "Thay đổi khác"),
    ],
)
def test_the_change_log_labels_come_from_the_registry(action, entity, label):
    assert audit.label(action, entity) == label


def test_deleting_demo_data_records_who_asked(conn):
    db.delete_demo_data(conn, "vanphong")
    last = db.audit_entries(conn, 1)[0]
    assert (last["actor"], last["action"], last["new_value"]) == ("vanphong", "delete-demo", "0")
