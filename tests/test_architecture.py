"""Imports point one way, and click stays in cli.py (STYLE.md: the layout shows the architecture)."""

from __future__ import annotations

import ast
from pathlib import Path

import wikicore

PACKAGE = Path(wikicore.__file__).parent

#: module -> wikicore modules it must never import (directly, at any depth of the file).
FORBIDDEN = {
    "errors": {"*"},
    "models": {"serialize", "store", "diff", "net", "archive", "linkcheck", "checks", "audit", "report", "cli"},
    "serialize": {"store", "diff", "net", "archive", "linkcheck", "checks", "audit", "report", "cli"},
    "sentences": {"*"},
    "urls": {"*"},
    "revision": {"*"},
    "output": {"*"},
    "store": {"net", "archive", "linkcheck", "checks", "audit", "report", "cli"},
    "net": {"store", "linkcheck", "linkdb", "archive", "checks", "audit", "report", "cli", "models"},
    "linkcheck": {"store", "audit", "report", "cli"},
    "archive": {"store", "audit", "report", "cli"},
    "checks": {"store", "audit", "report", "cli"},
    "audit": {"report", "cli"},
    "report": {"cli"},
    # The scan sits beside the audit: importers, checks and the link checker in, no rendering, no archive.
    "scan": {"audit", "archive", "report", "cli"},
}


def _imports(path: Path) -> set[str]:
    """First component below ``wikicore`` of every wikicore module the file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE).with_suffix("")
    package_depth = len(rel.parts) - 1
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "wikicore" and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "wikicore":
                    found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
            else:
                up = node.level - 1
                base = list(rel.parts[:package_depth][: package_depth - up] if up else rel.parts[:package_depth])
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    found.add(target[0])
                else:
                    found.update(alias.name for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_nothing_imports_cli() -> None:
    for path in _modules():
        if path.name in {"cli.py", "__main__.py"} or path.parent.name == "testing" or path.name == "demo.py":
            continue
        assert "cli" not in _imports(path), f"{path} imports wikicore.cli"


def test_click_only_in_cli() -> None:
    for path in _modules():
        if path.name == "cli.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "click" for n in names), f"{path} imports click"


def test_layers_point_one_way() -> None:
    for path in _modules():
        rel = path.relative_to(PACKAGE).with_suffix("")
        top = rel.parts[0]
        rules = FORBIDDEN.get(top)
        if not rules:
            continue
        imported = _imports(path) - {top}
        if "*" in rules:
            allowed = {"errors"} if top != "errors" else set()
            assert imported <= allowed, f"{path} imports {sorted(imported - allowed)}"
        else:
            assert not imported & rules, f"{path} imports {sorted(imported & rules)}"


def test_library_never_prints() -> None:
    for path in _modules():
        if path.name in {"cli.py", "__main__.py", "demo.py"} or path.parent.name == "testing":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", f"{path}:{node.lineno} prints"


def test_public_api_is_documented() -> None:
    for name in wikicore.__all__:
        obj = getattr(wikicore, name)
        if name.startswith("__"):
            continue
        assert getattr(obj, "__doc__", None), f"wikicore.{name} has no docstring"
