"""Racing writers from separate processes: one winner per base, no lost edit, different articles all land."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from wikicore.errors import EditConflict
from wikicore.store import Wiki

from .support.wiki_helpers import article, fsck_clean, git, with_claims

# fork: the children start in milliseconds with wikicore already imported; each opens its own Wiki.
CTX = multiprocessing.get_context("fork")
TIMEOUT = 120


def _race_same_base(path: str, base: str, index: int, barrier: Barrier, results: Any) -> None:
    with Wiki.open(path) as wiki:
        edited = with_claims(article(), f"Edit number {index}. ")
        barrier.wait(TIMEOUT)
        try:
            rev = wiki.save(edited, f"edit {index}", base=base)
            results.put(("won", index, rev.id))
        except EditConflict as conflict:
            results.put(("conflict", index, conflict.current))


def _race_with_retries(path: str, index: int, barrier: Barrier, results: Any) -> None:
    """A careful editor: on conflict, reload the latest revision, reapply the edit, save again."""
    with Wiki.open(path) as wiki:
        barrier.wait(TIMEOUT)
        attempts = 0
        while True:
            attempts += 1
            base = wiki.latest("foo")
            assert base is not None
            current = wiki.load("foo", rev=base.id)
            try:
                wiki.save(with_claims(current, f"Claim of writer {index}. "), f"writer {index}", base=base.id)
                results.put(("saved", index, attempts))
                return
            except EditConflict:
                continue


def _race_new_articles(path: str, index: int, barrier: Barrier, results: Any) -> None:
    with Wiki.open(path) as wiki:
        barrier.wait(TIMEOUT)
        rev = wiki.save(article(f"article-{index}"), f"create {index}")
        results.put(("saved", index, rev.id))


def _run(target: Any, args: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    barrier = CTX.Barrier(len(args))
    results = CTX.Queue()
    processes = [CTX.Process(target=target, args=(*a, barrier, results)) for a in args]
    for process in processes:
        process.start()
    collected = [results.get(timeout=TIMEOUT) for _ in processes]
    for process in processes:
        process.join(TIMEOUT)
        assert process.exitcode == 0
    return collected


@pytest.fixture
def wiki(tmp_path: Path) -> Wiki:
    w = Wiki.init(tmp_path / "wiki")
    yield w
    w.close()


def test_fifty_saves_from_one_base_have_exactly_one_winner(wiki: Wiki) -> None:
    base = wiki.save(article(), "base")
    results = _run(_race_same_base, [(str(wiki.path), base.id, i) for i in range(50)])
    winners = [r for r in results if r[0] == "won"]
    assert len(winners) == 1
    _, index, winner = winners[0]
    assert all(r[0] == "conflict" and r[2] == winner for r in results if r[0] != "won")
    # The winner's edit is what the wiki holds; nothing else was written.
    assert wiki.load("foo") == with_claims(article(), f"Edit number {index}. ")
    assert [r.id for r in wiki.history("foo")] == [winner, base.id]
    fsck_clean(wiki.path)


def test_writers_that_retry_on_conflict_lose_no_edit(wiki: Wiki) -> None:
    wiki.save(article(), "base")
    writers = 20
    results = _run(_race_with_retries, [(str(wiki.path), i) for i in range(writers)])
    assert sorted(r[1] for r in results) == list(range(writers))
    final = wiki.load("foo")
    texts = {claim.text for claim in final.claims()}
    assert {f"Claim of writer {i}. " for i in range(writers)} <= texts
    assert len(wiki.history("foo")) == writers + 1
    fsck_clean(wiki.path)


def test_racing_saves_of_different_articles_all_land(wiki: Wiki) -> None:
    count = 30
    results = _run(_race_new_articles, [(str(wiki.path), i) for i in range(count)])
    assert len(results) == count
    assert wiki.list() == sorted(f"article-{i}" for i in range(count))
    assert git(wiki.path, "rev-list", "--count", "main").strip() == str(count)
    for i in range(count):
        assert wiki.load(f"article-{i}") == article(f"article-{i}")
    fsck_clean(wiki.path)
