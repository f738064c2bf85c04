"""What an audit of a wiki covers: which articles, at which revision, against which titles, with which cache.

``wikicore audit`` names slugs, files or ``--all``; deciding what that means
(every article read once, duplicates dropped, a bad slug refused) is the
library's job, so that the CLI makes one call, :func:`audit_wiki`.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from ..errors import InvalidInput, NotFound
from ..gcpause import paused_gc
from ..models import Article
from .options import FIELD_WORDS, AuditFields, AuditOptions, OptionWords, Progress
from .report import AuditReport
from .run import audit_articles
from .static import KnownTitles

if TYPE_CHECKING:
    from ..store import Wiki

__all__ = ["audit_cache_path", "audit_wiki", "wiki_audit_targets"]


def wiki_audit_targets(
    wiki: Wiki | None, targets: Iterable[str | Article] = (), *, all_articles: bool = False
) -> tuple[list[tuple[Article, str | None]], KnownTitles | None]:
    """The ``(article, revision)`` pairs an audit covers, and the wiki's titles for see-also.

    ``targets`` are slugs of ``wiki`` (at their latest revision) or articles
    loaded from elsewhere (files: no revision), audited in the order given;
    ``all_articles`` adds every other article of the wiki, by slug. When a wiki
    is involved its articles are all read in one pass (:meth:`Wiki.latest_all`):
    each parsed once, their titles and aliases normalised once, not once per
    audited article (once per article made ``audit --all`` quadratic in the
    size of the wiki). Without a wiki there are no known titles and the
    see-also check is skipped.
    """
    from ..store import validate_slug

    items = list(targets)
    slugs = [validate_slug(item) for item in items if isinstance(item, str)]
    if wiki is None:
        if slugs or all_articles:
            raise InvalidInput("auditing wiki articles needs a wiki")
        return [(item, None) for item in items if isinstance(item, Article)], None
    latest = {article.slug: (article, revision) for article, revision in wiki.latest_all()}
    titles = KnownTitles(title for article, _ in latest.values() for title in (article.title, *article.aliases))
    pairs: list[tuple[Article, str | None]] = []
    seen: set[str] = set()

    def from_wiki(slug: str) -> None:
        if slug in seen:
            return
        if slug not in latest:
            raise NotFound(f"no article {slug!r} in the wiki")
        seen.add(slug)
        article, revision = latest[slug]
        pairs.append((article, revision.id if revision else None))

    for item in items:
        if isinstance(item, str):
            from_wiki(validate_slug(item))
        else:
            pairs.append((item, None))
    if all_articles:
        for slug in sorted(latest):
            from_wiki(slug)
    if not pairs:
        raise InvalidInput("nothing to audit: the wiki has no articles" if all_articles else "nothing to audit")
    return pairs, titles


def audit_wiki(
    wiki: Wiki | None,
    targets: Iterable[str | Article] = (),
    *,
    all_articles: bool = False,
    options: AuditOptions | None = None,
    progress: Progress | None = None,
    option_words: OptionWords = FIELD_WORDS,
    **fields: Unpack[AuditFields],
) -> AuditReport:
    """Audit articles of a wiki: the slugs and articles in ``targets``, or all of them.

    The library's ``wikicore audit``: which articles are covered, at which
    revision and against which titles is decided by :func:`wiki_audit_targets`;
    ``options`` (or their ``fields`` as keywords), ``progress`` and
    ``option_words`` are :func:`~wikicore.audit.audit_articles`'.
    """
    options = (options or AuditOptions()).replace(**fields)
    pairs, titles = wiki_audit_targets(wiki, targets, all_articles=all_articles)
    # The loaded articles live until the report is done, and the report grows with them:
    # every full garbage collection would walk both again, which made the audit grow faster
    # than the wiki (CPU of the checks, 4,000 -> 8,000 articles: 2.4x with the collector
    # as it is, 2.3x with the articles frozen, 2.0x with it paused). An offline audit is
    # pure computation that makes no cycles worth collecting: the collector is paused. A
    # live one runs network code for minutes: only what exists now is frozen.
    gc.freeze()
    try:
        with paused_gc() if options.offline else contextlib.nullcontext():
            return audit_articles(
                _Draining(pairs), options, known_titles=titles, progress=progress, option_words=option_words
            )
    finally:
        gc.unfreeze()


class _Draining:
    """Hands out a list's items first to last, dropping each from the list as it goes.

    The audit lets an article go once its static checks are done; this makes the
    wiki's list of loaded articles let go of it too, so the parsed wiki shrinks
    while its compact report records grow. The length hint keeps progress totals.
    """

    def __init__(self, items: list[tuple[Article, str | None]]) -> None:
        items.reverse()
        self._items = items

    def __iter__(self) -> _Draining:
        return self

    def __next__(self) -> tuple[Article, str | None]:
        if not self._items:
            raise StopIteration
        return self._items.pop()

    def __length_hint__(self) -> int:
        return len(self._items)


def audit_cache_path(wiki: Wiki | None) -> Path:
    """Where an audit keeps its link and archive history.

    The wiki's :attr:`~wikicore.store.Wiki.checks_path` when wiki articles are
    audited; for files outside a wiki, ``$XDG_CACHE_HOME/wikicore/checks.sqlite``
    (``~/.cache`` when unset), so re-audits stay fast and "confirmed dead" has
    history there too.
    """
    if wiki is not None:
        return wiki.checks_path
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "wikicore" / "checks.sqlite"
