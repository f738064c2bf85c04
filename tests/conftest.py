"""Shared fixtures: the seed article, paths, and a CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from .servers.hostile_web import HostileWeb
from .servers.wayback import FakeWayback

# Hypothesis' default 200 ms deadline is a timed assertion, and on a loaded 2-core machine (CI, or
# eight developers' suites at once) an ordinary example can take longer. The suite asserts
# behaviour, not timings: no deadline unless a test sets one (the fuzz sets a generous hang guard).
settings.register_profile("wikicore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("wikicore")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
#: The project's reference input, copied from ../shared/seeds so the suite runs anywhere.
SEED = DATA / "000_38cc082d7ed7b8e7.txt"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / "000_38cc082d7ed7b8e7.txt"
SEED_ARTICLE = ROOT / "articles" / "azerbaijan-russia-relations.yaml"


@pytest.fixture(autouse=True, scope="session")
def _private_state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Per-user state (the key sealing blame's cache) goes to a temporary home, not the developer's."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    yield
    patch.undo()


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def web() -> Iterator[HostileWeb]:
    """A fresh hostile little web on 127.0.0.1 (its request counters start at zero)."""
    with HostileWeb() as server:
        yield server


@pytest.fixture
def wayback() -> Iterator[FakeWayback]:
    """An empty Wayback-compatible server on 127.0.0.1; tests add captures."""
    with FakeWayback() as server:
        yield server
