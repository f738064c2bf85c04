"""The server is a skin nothing imports, and FastAPI stays inside it (the import rules are in test_architecture)."""

from __future__ import annotations

import ast

from .test_architecture import PACKAGE, _imports, _modules


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
