"""`save --merge` and `Wiki.save(merge=True)`: a stale base merges claim by claim instead of refusing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import EditConflict
from wikicore.serialize import dumps, load_path
from wikicore.store import Wiki

from .support.wiki_helpers import article


def _edit(path: Path, claim: int, text: str) -> None:
    """Change one lead claim's text in the article file at ``path`` (its `revision:` kept)."""
    edited = load_path(path)
    edited.lead[0].claims[claim].text = text
    path.write_text(dumps(edited, revision=edited.revision), encoding="utf-8")


@pytest.fixture
def shown(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A wiki holding a two-claim article, and two copies of it as `show` writes them."""
    wiki_path = tmp_path / "wiki"
    with Wiki.init(wiki_path) as wiki:
        first = wiki.save(article(claims=["One. ", "Two. "]), "Create")
        text = dumps(wiki.load("foo"), revision=first.id)
    alice, bob = tmp_path / "alice.yaml", tmp_path / "bob.yaml"
    alice.write_text(text, encoding="utf-8")
    bob.write_text(text, encoding="utf-8")
    return wiki_path, alice, bob


def test_edits_of_different_claims_merge(shown: tuple[Path, Path, Path], runner: CliRunner) -> None:
    wiki_path, alice, bob = shown
    _edit(alice, 0, "One, by Alice. ")
    _edit(bob, 1, "Two, by Bob. ")
    assert runner.invoke(main, ["--wiki", str(wiki_path), "save", str(alice)]).exit_code == 0
    stale = runner.invoke(main, ["--wiki", str(wiki_path), "save", str(bob)])
    assert stale.exit_code == 3  # without --merge a stale base is refused, as ever
    merged = runner.invoke(main, ["--wiki", str(wiki_path), "save", str(bob), "--merge"])
    assert merged.exit_code == 0, merged.output
    with Wiki.open(wiki_path) as wiki:
        texts = [c.text for c in wiki.load("foo").lead[0].claims]
        assert texts == ["One, by Alice. ", "Two, by Bob. "]
        assert len(list(wiki.history("foo"))) == 3


def test_edits_of_the_same_claim_still_conflict(shown: tuple[Path, Path, Path], runner: CliRunner) -> None:
    wiki_path, alice, bob = shown
    _edit(alice, 0, "One, by Alice. ")
    _edit(bob, 0, "One, by Bob. ")
    assert runner.invoke(main, ["--wiki", str(wiki_path), "save", str(alice)]).exit_code == 0
    result = runner.invoke(main, ["--wiki", str(wiki_path), "save", str(bob), "--merge"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    with Wiki.open(wiki_path) as wiki:
        assert wiki.load("foo").lead[0].claims[0].text == "One, by Alice. "


def test_the_library_call_merges_too(shown: tuple[Path, Path, Path]) -> None:
    wiki_path, alice, bob = shown
    _edit(alice, 0, "One, by Alice. ")
    _edit(bob, 1, "Two, by Bob. ")
    with Wiki.open(wiki_path) as wiki:
        base = load_path(bob).revision
        assert base is not None
        wiki.save(load_path(alice), "Alice", base=base)
        with pytest.raises(EditConflict):
            wiki.save(load_path(bob), "Bob", base=base)
        revision = wiki.save(load_path(bob), "Bob", base=base, merge=True)
        assert revision.id == wiki.latest("foo").id  # type: ignore[union-attr]
        assert [c.text for c in wiki.load("foo").lead[0].claims] == ["One, by Alice. ", "Two, by Bob. "]
