"""The house as the README's layout section describes it: small workflow modules, an HTTP
package whose top level stays small, the stand-ins outside the product."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_workflow_module_is_longer_than_350_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for path in (ROOT / "workflows").rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 350}
    assert long == {}


def test_the_http_package_holds_at_most_five_top_level_modules() -> None:
    modules = sorted(p.name for p in (ROOT / "api").glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= 5, modules


def test_the_stand_ins_live_outside_the_product() -> None:
    assert (ROOT / "standins").is_dir() and not (ROOT / "api" / "standins").exists()
