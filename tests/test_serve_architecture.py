"""The new rooms keep the one-way imports: merge and review are library, serve is a skin nothing imports.

Kept beside tests/test_architecture.py (and using its import walker) so the
rules for these modules can join its FORBIDDEN table when that file is next
edited.
"""

from __future__ import annotations

import ast

from .test_architecture import PACKAGE, _imports, _modules

#: merge reads models (and saves through the store it is handed); review sits at the audit's level.
RULES = {
    "merge": {"net", "links", "archive", "audit", "mediawiki", "report", "scan", "cli", "serve", "review"},
    "review": {"net", "archive", "mediawiki", "report", "scan", "cli", "serve"},
    "serve": {"cli", "scan", "mediawiki"},
}


def test_the_new_modules_import_one_way() -> None:
    for path in _modules():
        top = path.relative_to(PACKAGE).with_suffix("").parts[0]
        if top in RULES:
            bad = (_imports(path) - {top}) & RULES[top]
            assert not bad, f"{path} imports {sorted(bad)}"


def test_nothing_imports_serve() -> None:
    for path in _modules():
        if path.relative_to(PACKAGE).parts[0] in ("serve", "cli"):
            continue
        assert "serve" not in _imports(path), f"{path} imports wikicore.serve"


def test_the_library_part_of_the_server_never_imports_fastapi_at_module_level_outside_serve() -> None:
    for path in _modules():
        if path.relative_to(PACKAGE).parts[0] == "serve":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("fastapi", "starlette", "uvicorn") for n in names), path
