"""wikicore.sources sits beside links and archive: it may use net (in ``fetch`` only), never what builds on it.

Kept apart from test_architecture.py until the sources package is wired into the audit;
then its rule joins ``FORBIDDEN`` there as ``"sources": FORBIDDEN_FOR_SOURCES``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import wikicore
from tests.test_architecture import _imports

PACKAGE = Path(wikicore.__file__).parent
SOURCES = PACKAGE / "sources"
#: The audit builds on sources; sources knows nothing of articles, stores, archives' clients or output.
FORBIDDEN_FOR_SOURCES = {"store", "links", "archive", "audit", "mediawiki", "report", "scan", "cli", "serve", "models",
                         "serialize", "diff", "blame"}
MODULES = sorted(SOURCES.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_sources_imports_point_down(path: Path) -> None:
    assert _imports(path) & FORBIDDEN_FOR_SOURCES == set()


@pytest.mark.parametrize("path", [p for p in MODULES if p.stem not in ("fetch", "__init__")],
                         ids=[p.stem for p in MODULES if p.stem not in ("fetch", "__init__")])
def test_pure_modules_never_touch_the_network(path: Path) -> None:
    """Everything but ``fetch`` is bytes and strings in, records out: no wikicore.net, no HTTP client."""
    source = path.read_text("utf-8")
    assert "net" not in _imports(path)
    for client in ("requests", "aiohttp", "urllib.request", "http.client"):
        assert f"import {client}" not in source and f"from {client}" not in source


def test_init_does_not_import_fetch() -> None:
    """Importing the package costs no network stack: ``fetch`` is imported by whoever fetches."""
    assert "fetch" not in (SOURCES / "__init__.py").read_text("utf-8").split('"""')[-1]
