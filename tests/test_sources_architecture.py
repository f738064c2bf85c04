"""wikicore.sources' own rule beside test_architecture's: everything but ``fetch`` stays off the network."""

from __future__ import annotations

from pathlib import Path

import pytest

import wikicore
from tests.test_architecture import _imports

PACKAGE = Path(wikicore.__file__).parent
SOURCES = PACKAGE / "sources"
MODULES = sorted(SOURCES.glob("*.py"))


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
