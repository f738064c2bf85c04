"""One ``Wiki`` shared by threads, and inherited across ``fork()``: every answer is the article asked for."""

from __future__ import annotations

import os
import random
import sys
import threading
from pathlib import Path

import pytest

from wikicore.store import Wiki

from .support.wiki_helpers import article, fsck_clean, with_claims

ARTICLES = 40


@pytest.fixture
def wiki(tmp_path: Path) -> Wiki:
    w = Wiki.init(tmp_path / "wiki")
    for n in range(ARTICLES):
        w.save(with_claims(article(f"s{n}", f"S {n}"), f"Only s{n} says this. "), f"s{n}")
    yield w
    w.close()


def _reads(wiki: Wiki, seed: int, rounds: int) -> list[str]:
    """What went wrong in ``rounds`` random loads (empty: every answer was the article asked for)."""
    rng = random.Random(seed)
    wrong: list[str] = []
    for _ in range(rounds):
        slug = f"s{rng.randrange(ARTICLES)}"
        try:
            loaded = wiki.load(slug)
            if loaded.slug != slug:
                wrong.append(f"load({slug!r}) returned {loaded.slug!r}")
            latest = wiki.latest(slug)
            if latest is None or latest.message != slug:
                wrong.append(f"latest({slug!r}) returned {latest.message if latest else None!r}")
        except Exception as error:  # every failure is a finding, reported below
            wrong.append(f"load({slug!r}) raised {type(error).__name__}: {error}")
    return wrong


def test_threads_sharing_a_wiki_read_the_right_articles(wiki: Wiki) -> None:
    wiki.load("s0")  # the pipes are warm before the threads start
    found: dict[int, list[str]] = {}

    def work(index: int) -> None:
        found[index] = _reads(wiki, index, 150)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)  # a guard against a hang, not a measurement
    assert not any(thread.is_alive() for thread in threads), "threads sharing one Wiki hung"
    assert found == {n: [] for n in range(8)}


def test_threads_sharing_a_wiki_save_and_read(wiki: Wiki) -> None:
    errors: list[str] = []

    def work(index: int) -> None:
        try:
            for round_ in range(5):
                slug = f"t{index}"
                latest = wiki.latest(slug)
                edited = with_claims(article(slug, f"T {index}"), *(f"Round {r}. " for r in range(round_ + 1)))
                wiki.save(edited, f"round {round_}", base=latest.id if latest else None)
                if wiki.load(slug) != edited:
                    errors.append(f"{slug} round {round_}: loaded something else")
        except Exception as error:  # every failure is a finding, reported below
            errors.append(f"t{index}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "threads sharing one Wiki hung"
    assert errors == []
    assert len(wiki.list()) == ARTICLES + 4
    assert wiki.check_index() == []
    fsck_clean(wiki.path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_wiki_inherited_across_fork_reads_the_right_articles(wiki: Wiki) -> None:
    assert _reads(wiki, 99, 20) == []  # the parent's pipes are warm and in use
    children = []
    for index in range(3):
        pid = os.fork()
        if pid == 0:  # the child: report through its exit status only
            status = 1
            try:
                wrong = _reads(wiki, index, 300)
                if wrong:
                    sys.stderr.write("\n".join(wrong[:5]) + "\n")
                status = 0 if not wrong else 1
            finally:
                os._exit(status)
        children.append(pid)
    parent = _reads(wiki, 1000, 300)  # the parent keeps reading while its children do
    statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert statuses == [0, 0, 0]
    assert parent == []
    wiki.save(article("after", "After"), "after the children")
    assert wiki.load("after") == article("after", "After")
