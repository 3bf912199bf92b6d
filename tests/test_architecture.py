"""The layering of DESIGN.md, read from the imports: core at the bottom, then scoring,
interactions, leads and calculators; no app imports upwards or imports `clinic`."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each app and the apps it may import (besides itself).
MAY_IMPORT = {
    "core": set(),
    "scoring": {"core"},
    "interactions": {"core", "scoring"},
    "leads": {"core", "scoring", "interactions"},
    "calculators": {"core", "scoring", "interactions", "leads"},
}
OURS = {*MAY_IMPORT, "clinic"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_an_app_imports_only_the_apps_below_it(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - MAY_IMPORT[app] - {app})
        for path in (ROOT / app).rglob("*.py")
    }
    assert {path: names for path, names in wrong.items() if names} == {}
