"""The patch register is complete: every ``workflow.patched`` marker in workflow code is
registered (with its release and retirement condition), and every registered one is used."""

from __future__ import annotations

import ast
from pathlib import Path

import workflows
from workflows import patches

WORKFLOW_CODE = Path(workflows.__file__).parent
BY_NAME = {name: p for name, p in vars(patches).items() if isinstance(p, patches.Patch)}


def _markers() -> dict[str, set[str]]:
    """Register attribute used in each ``workflow.patched(patches.X.id)`` call, per file."""
    used: dict[str, set[str]] = {}
    for path in WORKFLOW_CODE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"patched", "deprecate_patch"}):
                continue
            [arg] = node.args
            assert (isinstance(arg, ast.Attribute) and arg.attr == "id"
                    and isinstance(arg.value, ast.Attribute)
                    and isinstance(arg.value.value, ast.Name) and arg.value.value.id == "patches"), (
                f"{path.name}:{node.lineno}: pass a registered patch (patches.X.id), not a literal")
            used.setdefault(arg.value.attr, set()).add(path.name)
    return used


def test_every_marker_is_registered_and_every_registered_one_is_used() -> None:
    used = _markers()
    assert set(used) <= set(BY_NAME), f"unregistered: {set(used) - set(BY_NAME)}"
    assert set(BY_NAME) <= set(used), f"registered but unused: {set(BY_NAME) - set(used)}"
    assert [p.id for p in patches.REGISTER] == [BY_NAME[n].id for n in BY_NAME]
    ids = [p.id for p in patches.REGISTER]
    assert len(ids) == len(set(ids))
    for patch in patches.REGISTER:
        assert patch.since and patch.what and patch.retire_when, patch.id
