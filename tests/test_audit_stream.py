"""The audit streams its input, so a wiki never sits whole in memory: articles are let go as they are checked.

Behaviour, not RSS: the audit is fed a generator of articles and each one is
watched through a weak reference; when the generator is asked for the next
article, no earlier one may still be alive. A real audit against the loopback
web then gives the same report, byte for byte, as one fed a list.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from wikicore.audit import AuditEvent, AuditPhase, audit_articles, audit_wiki
from wikicore.models import Article
from wikicore.net import CheckConfig
from wikicore.report.audit import FORMATS, render, render_json_pieces
from wikicore.store import Wiki

from .servers.hostile_web import HostileWeb

CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
ARTICLES = 12


def article(n: int, web: HostileWeb) -> Article:
    paths = ["/ok", "/gone", f"/ok?n={n}", "/missing"]
    refs = [
        {"id": f"r{i}", "type": "web", "title": f"Source {n}.{i}", "url": web.url(path), "access_date": "2021-06-01"}
        for i, path in enumerate(paths)
    ]
    claims = [{"text": f"Claim {n}.{i}.", "citations": [{"ref": f"r{i}"}]} for i in range(len(refs))]
    return Article.model_validate(
        {"slug": f"a{n}", "title": f"Article {n}", "lead": [{"claims": claims}], "references": refs}
    )


class Watched:
    """A generator of articles that records, at each step, how many it handed out are still alive."""

    def __init__(self, web: HostileWeb) -> None:
        self.web = web
        self.refs: list[weakref.ref[Article]] = []
        self.alive_at_step: list[int] = []

    def __iter__(self) -> Iterator[tuple[Article, None]]:
        for n in range(ARTICLES):
            self.alive_at_step.append(sum(1 for ref in self.refs if ref() is not None))
            item = article(n, self.web)
            self.refs.append(weakref.ref(item))
            yield item, None
            del item
        self.alive_at_step.append(sum(1 for ref in self.refs if ref() is not None))


def test_articles_are_released_as_they_are_audited(web: HostileWeb) -> None:
    watched = Watched(web)
    events: list[AuditEvent] = []
    report = audit_articles(
        iter(watched), config=CONFIG, no_archive=True, clock=lambda: NOW, progress=events.append
    )
    assert len(report.articles) == ARTICLES
    # Only the article being yielded may exist: none of the earlier ones is held by the audit.
    assert watched.alive_at_step == [0] * (ARTICLES + 1)
    assert all(ref() is None for ref in watched.refs)
    # The links were checked after the whole input was read, and still found their articles' refs.
    statuses = {ref.id: ref.status.value for ref in report.articles[-1].references}
    assert statuses == {"r0": "live", "r1": "dead", "r2": "live", "r3": "dead"}
    static = [e for e in events if e.phase is AuditPhase.STATIC]
    assert [e.done for e in static] == list(range(1, ARTICLES + 1))
    assert all(e.total >= e.done for e in static)


def test_streamed_input_gives_the_same_report_as_a_list(web: HostileWeb) -> None:
    listed = [(article(n, web), None) for n in range(ARTICLES)]
    from_list = audit_articles(listed, config=CONFIG, no_archive=True, clock=lambda: NOW)
    streamed = audit_articles(iter(Watched(web)), config=CONFIG, no_archive=True, clock=lambda: NOW)
    for fmt in FORMATS:
        assert render(streamed, fmt) == render(from_list, fmt), fmt
    # The problems that repeat word for word are one shared object, not one per reference.
    dead = [p for a in streamed.articles for r in a.references for p in r.problems if p.code == "link-dead"]
    assert len(dead) == 2 * ARTICLES
    assert len({id(p) for p in dead}) < len(dead)


def test_a_wiki_audit_lets_each_article_go_once_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    for n in range(5):
        wiki.save(
            Article.model_validate({"slug": f"s{n}", "title": f"S {n}", "lead": [{"claims": [{"text": "Uncited."}]}]}),
            f"add s{n}",
        )
    seen: list[weakref.ref[Article]] = []
    alive: list[int] = []

    def progress(event: AuditEvent) -> None:
        if event.phase is AuditPhase.STATIC:
            alive.append(sum(1 for ref in seen if ref() is not None))

    original = Wiki.latest_all

    def watched_latest_all(self: Wiki) -> object:
        pairs = original(self)
        for item, _revision in pairs:
            seen.append(weakref.ref(item))
        return pairs

    # The real loader, watched: every article it parses is seen through a weak reference.
    monkeypatch.setattr(Wiki, "latest_all", watched_latest_all)
    report = audit_wiki(wiki, all_articles=True, offline=True, progress=progress)
    assert [a.slug for a in report.articles] == [f"s{n}" for n in range(5)]
    # At the n-th static event, the n articles audited so far are gone: the wiki's list is drained.
    assert alive == [5 - n for n in range(1, 6)]


def test_json_in_pieces_is_the_whole_document(web: HostileWeb, tmp_path: Path) -> None:
    """The JSON written article by article is byte for byte the document serialised at once."""
    from wikicore.output import write_file
    from wikicore.report.base import json_text

    items = [(article(n, web), None) for n in range(3)]
    hostile = article(3, web).model_copy(update={"title": "Bidi \u202e and C1 \x85 in a title"})
    report = audit_articles([*items, (hostile, None)], config=CONFIG, no_archive=True, clock=lambda: NOW)
    whole = json_text(report.model_dump_json(indent=2)) + "\n"
    pieces = list(render_json_pieces(report))
    assert len(pieces) == len(report.articles) + 2
    assert "".join(pieces) == whole == render(report, "json")
    empty = report.model_copy(update={"articles": ()})
    assert "".join(render_json_pieces(empty)) == json_text(empty.model_dump_json(indent=2)) + "\n"
    # The safe writer takes the pieces as they come and leaves the same file.
    write_file(tmp_path / "audit.json", render_json_pieces(report))
    assert (tmp_path / "audit.json").read_bytes() == whole.encode()
