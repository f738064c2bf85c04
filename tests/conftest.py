"""Shared fixtures: the seed article, paths, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
#: The project's reference input, copied from ../shared/seeds so the suite runs anywhere.
SEED = DATA / "000_38cc082d7ed7b8e7.txt"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / "000_38cc082d7ed7b8e7.txt"
SEED_ARTICLE = ROOT / "articles" / "azerbaijan-russia-relations.yaml"


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
