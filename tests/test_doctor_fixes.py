"""Every `doctor` warning and failure carries its fix line: a WARN or FAIL check without one fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from massgen_skill.massgen.config import ConfigChoice
from massgen_skill.prepare import checks

PACKAGE = Path(checks.__file__).resolve().parents[1]
NEEDS_FIX = {"WARN", "FAIL"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def checks_without_fix(root: Path) -> list[str]:
    """`file:line` of each `Check(…, WARN|FAIL, …)` built without a fix, in every module under `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and _name(node.func) == "Check"):
                continue
            status = _argument(node, 1, "status")
            if status is None or _name(status) not in NEEDS_FIX:
                continue
            fix = _argument(node, 3, "fix")
            if fix is None or (isinstance(fix, ast.Constant) and not fix.value):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_warning_and_failure_check_has_a_fix():
    assert checks_without_fix(PACKAGE) == []


def test_the_scan_reports_a_warning_without_a_fix(tmp_path):
    (tmp_path / "a.py").write_text(
        'Check("x", WARN, "no fix")\n'
        'checks.Check("y", checks.FAIL, "d", fix="do this")\n'
        'Check("z", FAIL, "d", None)\n'
        'Check("w", OK, "fine")\n',
        encoding="utf-8",
    )
    assert checks_without_fix(tmp_path) == ["a.py:1", "a.py:3"]


def test_the_login_only_warning_names_its_fix(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("agents:\n  - id: a\n    backend: {type: claude_code, model: x}\n", encoding="utf-8")
    check = checks.check_api_keys(ConfigChoice(str(config), "flag"), tmp_path, {"HOME": str(tmp_path)})
    assert check.status == checks.WARN and check.fix and "log in" in check.fix
