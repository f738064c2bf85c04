"""Claim blame over real history: introduced, last text change, each citation's revision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wikicore.errors import NotFound
from wikicore.models import Article
from wikicore.report.diff import render_blame_json, render_blame_text
from wikicore.store import Wiki

REFS = [{"id": "r1", "title": "One"}, {"id": "r2", "title": "Two"}]


def make(slug: str, claims: list[dict[str, Any]]) -> Article:
    return Article.model_validate({"slug": slug, "title": "T", "lead": [{"claims": claims}], "references": REFS})


def test_blame_follows_ids_across_edits_and_a_rename(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    r1 = wiki.save(make("old", [{"id": "a", "text": "Alpha. ", "citations": [{"ref": "r1"}]},
                                {"id": "b", "text": "Beta. "}]), "one", author="Ann <ann@example.org>")
    r2 = wiki.save(make("old", [{"id": "a", "text": "Alpha. ", "citations": [{"ref": "r1"}]},
                                {"id": "b", "text": "Beta, revised. "}]), "two", base=r1.id,
                   author="Bob <bob@example.org>")
    r3 = wiki.save(make("old", [{"id": "a", "text": "Alpha. ", "citations": [{"ref": "r1"}, {"ref": "r2"}]},
                                {"id": "b", "text": "Beta, revised. "},
                                {"id": "c", "text": "Gamma. "}]), "three", base=r2.id)
    r4 = wiki.rename("old", "new")

    blame = wiki.blame("new")
    assert blame.revision.id == r4.id and blame.slug == "new"
    claims = {c.id: c for c in blame.claims}
    assert list(claims) == ["a", "b", "c"]
    assert claims["a"].introduced.id == claims["a"].text_changed.id == r1.id
    assert [(c.ref, c.added.id) for c in claims["a"].citations] == [("r1", r1.id), ("r2", r3.id)]
    assert claims["b"].introduced.id == r1.id and claims["b"].text_changed.id == r2.id
    assert claims["b"].text_changed.author == "Bob"
    assert claims["c"].introduced.id == r3.id

    earlier = wiki.blame("new", rev=r2.id)
    assert earlier.revision.id == r2.id and [c.id for c in earlier.claims] == ["a", "b"]
    wiki.close()


def test_a_claim_that_comes_back_counts_as_reintroduced(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    r1 = wiki.save(make("x", [{"id": "a", "text": "A. "}, {"id": "b", "text": "B. "}]), "one")
    r2 = wiki.save(make("x", [{"id": "a", "text": "A. "}]), "drop b", base=r1.id)
    r3 = wiki.save(make("x", [{"id": "a", "text": "A. "}, {"id": "b", "text": "B. "}]), "restore b", base=r2.id)
    claims = {c.id: c for c in wiki.blame("x").claims}
    assert claims["a"].introduced.id == r1.id and claims["b"].introduced.id == r3.id
    with pytest.raises(NotFound):
        wiki.blame("missing")
    wiki.close()


def test_blame_renderings(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    rev = wiki.save(make("x", [{"id": "a", "text": "A. ", "citations": [{"ref": "r2"}]}]), "first line\n\nbody")
    blame = wiki.blame("x")
    text = render_blame_text(blame)
    assert f"introduced   {rev.short}" in text and "first line" in text and "cites r2" in text
    assert "\x1b" not in text
    data = json.loads(render_blame_json(blame))
    assert data["claims"][0]["introduced"]["id"] == rev.id
    assert data["claims"][0]["citations"][0]["added"]["id"] == rev.id
    wiki.close()
