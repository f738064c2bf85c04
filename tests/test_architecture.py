"""Imports point one way, and click stays in the cli package (STYLE.md: the layout shows the architecture)."""

from __future__ import annotations

import ast
from pathlib import Path

import wikicore

PACKAGE = Path(wikicore.__file__).parent

#: package or module -> wikicore packages/modules it must never import (directly, at any depth of the file).
#: The direction: models <- serialize <- store; net <- links, archive, sources <- audit <- report <- cli.
#: Rules both the link checker and the source phase apply (net/walls.py) sit in net, the lowest shared layer.
FORBIDDEN = {
    "errors": {"*"},
    "models": {"serialize", "store", "diff", "net", "archive", "links", "audit", "mediawiki", "report", "scan", "cli"},
    "yamlwriter": {"*"},
    "sqlitecache": {"*"},
    # The per-user key and seal under the caches of blame and the store: both build on it, it on nothing.
    "seal": {"*"},
    # Where a validation error points in the file: models and errors only, like serialize which uses it.
    "locate": {"serialize", "store", "diff", "net", "archive", "links", "audit", "mediawiki", "report", "scan", "cli"},
    "serialize": {"store", "diff", "net", "archive", "links", "audit", "mediawiki", "report", "scan", "cli"},
    "sentences": {"*"},
    "urls": {"*"},
    "revision": {"*"},
    "output": {"*"},
    "store": {"net", "archive", "links", "audit", "mediawiki", "report", "scan", "cli"},
    "net": {"store", "links", "archive", "audit", "mediawiki", "report", "scan", "cli", "models"},
    "links": {"store", "archive", "audit", "mediawiki", "report", "scan", "cli"},
    "archive": {"store", "audit", "mediawiki", "report", "scan", "cli"},
    # Wikitext in and out knows articles and the store (a dump imports into a wiki), never the network.
    "mediawiki": {"net", "links", "archive", "audit", "report", "scan", "cli"},
    "audit": {"report", "scan", "cli"},
    "report": {"scan", "cli"},
    # The scan sits beside the audit: importers, static checks and the link checker in; no rendering, no archive.
    "scan": {"archive", "report", "serve", "cli"},
    # Page text, quotes and drift: bytes and strings in, records out; only its fetch module knows net.
    "sources": {"store", "links", "archive", "audit", "mediawiki", "report", "scan", "cli", "serve", "models",
                "serialize", "diff", "blame", "merge", "review"},
    # The merge reads models and saves through the store it is handed; review sits at the audit's level.
    "merge": {"net", "links", "archive", "audit", "mediawiki", "report", "scan", "review", "serve", "cli"},
    "review": {"net", "archive", "mediawiki", "report", "scan", "serve", "cli"},
    # The server is a skin like the CLI: nothing imports either.
    "serve": {"scan", "mediawiki", "cli"},
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


def _in_cli(path: Path) -> bool:
    return path.relative_to(PACKAGE).parts[0] == "cli"


def test_every_rule_names_a_module_that_exists() -> None:
    """A rule about a module that was moved or renamed would hold vacuously."""
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    for module, rules in FORBIDDEN.items():
        assert module in names, f"rule for {module!r}, which is not in wikicore/"
        assert rules == {"*"} or rules <= names, f"{module!r} forbids {sorted(rules - names)}, not in wikicore/"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_nothing_imports_cli() -> None:
    for path in _modules():
        if _in_cli(path) or path.name == "__main__.py" or path.parent.name == "testing" or path.name == "demo.py":
            continue
        assert "cli" not in _imports(path), f"{path} imports wikicore.cli"


def test_click_only_in_cli() -> None:
    for path in _modules():
        if _in_cli(path):
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


def test_one_wall_rule() -> None:
    """Paywall, login and bot-wall rules live in net/walls.py alone: the link checker and the quote check share them."""
    markers = ("isAccessibleForFree", "_BOT_WALL_NEEDLES", "_CONSENT_HOSTS", "_LOGIN_WORDS")
    home = PACKAGE / "net" / "walls.py"
    assert all(marker in home.read_text(encoding="utf-8") for marker in markers)
    for path in _modules():
        if path != home and path.parent.name != "testing":  # the demo's web serves a paywall; it judges none
            text = path.read_text(encoding="utf-8")
            assert not any(marker in text for marker in markers), f"{path} has a wall rule of its own"


def test_library_never_prints() -> None:
    for path in _modules():
        if _in_cli(path) or path.name in {"__main__.py", "demo.py"} or path.parent.name == "testing":
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
