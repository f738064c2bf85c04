"""Shared helpers of the wikitext tests: the fixture files and the round-trip comparison."""

from __future__ import annotations

from pathlib import Path

from wikicore.models import Article

DATA = Path(__file__).resolve().parent.parent / "data" / "wikitext"
#: Every wikitext fixture but the redirect (which is not an article).
FIXTURES = sorted(p for p in DATA.glob("*.wiki") if p.stem != "redirect")
FIXTURE_IDS = [p.stem for p in FIXTURES]


def without_source(article: Article) -> Article:
    """The article minus where it came from (a re-import reads other bytes, so sha256 differs)."""
    return article.model_copy(update={"source": None})
