"""The library calls behind the routes, one method each, with per-process caches keyed by the wiki's tip.

A :class:`~wikicore.store.Wiki` keeps ``git cat-file`` pipes that one thread
may use at a time, so each worker thread opens its own. Answers that depend on
the whole wiki (the list of slugs, recent changes) are cached
until the tip moves. An article's answer is kept as encoded bytes by slug and
commit (:mod:`.cache`), which no save makes stale; what a save moves is which
commit is the latest, looked up per request in a table of latest revisions
that follows the tip by dropping only the articles each save touched. A read whose
answer is known is served from the event loop without touching git
(:meth:`Service.cached_body`); any other goes to a worker thread. Nothing
here decides what an answer means: the store, :mod:`wikicore.merge`,
:mod:`wikicore.review` and the report renderers do.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import EditConflict, InvalidInput, NotFound
from ..merge import SaveOutcome, save_merging
from ..models import Article
from ..review import Change, ReferenceHealth, article_health, recent_changes
from ..revision import Revision
from ..serialize import dumps, loads, to_data
from ..store import BRANCH, Unchanged, Wiki, validate_slug
from .cache import Body, BodyCache, TipWatch, Unknown
from .config import ServeConfig

__all__ = ["ArticleAnswer", "BaseRequired", "SaveAnswer", "Service", "encode"]

T = TypeVar("T")
log = logging.getLogger("wikicore.serve")
#: Recent changes listed when no ``limit`` is asked (the API, the feed, the review site's front page).
DEFAULT_CHANGES = 50

_Row = tuple[str, str, Revision | None]

#: Parsed articles kept per process, for the routes that need the model (health, a PUT's base).
_ARTICLE_CACHE = 2048
#: Encoded article bodies kept per process, in bytes: every article of a 10,000-article wiki of
#: ~1 KB articles (11 MB) stays in, and a reader's working set of large articles too.
BODY_BUDGET = 64 * 1024 * 1024
#: Revisions readers named (``?rev=``) and the commit each resolved to at a tip.
_RESOLVED = 4096
#: Files the commits since the table's tip may have touched for the table to be patched rather than rebuilt:
#: a save touches one file (a rename two); ``migrate`` or a bulk import touches every article, and then one
#: walk of history for all of them costs less than a ``git log`` per article read.
CHANGED_LIMIT = 256


def encode(data: Any) -> bytes:
    """An answer's JSON as ``wikicore show --format json`` prints it: indented UTF-8 and a final newline."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


class BaseRequired(EditConflict):
    """An edit of an existing article that names no base: HTTP 428, never a blind overwrite."""

    def __init__(self, slug: str, current: str) -> None:
        super().__init__(slug, None, current)
        self.args = (f"article {slug!r} exists (latest revision {current}): name the revision you edited "
                     "in If-Match or in the body's revision field",)


@dataclass(frozen=True)
class ArticleAnswer:
    """An article as the API shows it: its revision (the ETag) and its JSON, ready to send."""

    revision: str
    article: Article
    data: dict[str, Any]


@dataclass(frozen=True)
class SaveAnswer:
    """What a PUT did, for the route to answer with."""

    revision: Revision
    created: bool
    unchanged: bool
    outcome: SaveOutcome | None = None


class _Table:
    """The latest revision of the articles at one tip, and the slugs (``pending``) whose latest git must tell.

    ``pending``: articles a commit since the last full walk touched (saved, created, renamed,
    deleted); each is asked of git once (:meth:`Wiki.latest` at ``tip``) and then known.
    Any other slug absent from ``revisions`` is no article at ``tip``. Fills happen under the
    service's lock; the event loop only reads ``revisions``.
    """

    __slots__ = ("pending", "revisions", "tip")

    def __init__(self, tip: str | None, revisions: dict[str, Revision], pending: set[str] | None = None) -> None:
        self.tip = tip
        self.revisions = revisions
        self.pending = pending if pending is not None else set()


class Service:
    """One per process: the wiki path, a Wiki per thread, and the caches."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._opened: list[Wiki] = []
        self._lock = threading.Lock()
        self._articles: OrderedDict[tuple[str, str], ArticleAnswer] = OrderedDict()
        self._bodies = BodyCache(BODY_BUDGET)
        self._resolved: OrderedDict[tuple[str | None, str, str], str] = OrderedDict()
        self._tips: TipWatch | None = None  # made by the first tip(), in a worker thread
        self._by_tip: dict[tuple[Any, ...], Any] = {}
        self._making: dict[tuple[Any, ...], threading.Lock] = {}  # one thread computes each entry; others wait
        # The latest revisions at one tip, from one history walk in a background thread, then patched
        # tip by tip (see _table); _advancing lets one thread at a time ask git what a save touched.
        self._latest: _Table | None = None
        self._advancing = threading.Lock()
        self._refreshing = False
        self._next_refresh = 0.0

    def wiki(self) -> Wiki:
        """This thread's wiki."""
        wiki: Wiki | None = getattr(self._local, "wiki", None)
        if wiki is None:
            wiki = Wiki.open(self.config.wiki_path)
            self._local.wiki = wiki
            with self._lock:
                self._opened.append(wiki)
        return wiki

    def close(self) -> None:
        """End every thread's git pipes (at shutdown)."""
        with self._lock:
            for wiki in self._opened:
                wiki.close()
            self._opened.clear()

    def _tip_cached(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """``make()`` once per tip: concurrent askers of the same entry wait for the one computing it.

        Computing recent changes twice at once (the warm-up at start and a first reader, or
        two readers after a save) would make each take twice as long on two cores.
        """
        tip = self.wiki().tip()
        full = (tip, *key)
        with self._lock:
            if full in self._by_tip:
                return self._by_tip[full]  # type: ignore[no-any-return]
            making = self._making.setdefault(full, threading.Lock())
        with making:
            with self._lock:
                if full in self._by_tip:
                    return self._by_tip[full]  # type: ignore[no-any-return]
            try:
                value = make()
            finally:
                with self._lock:
                    self._making.pop(full, None)
            with self._lock:
                if len(self._by_tip) > 64:
                    self._by_tip.clear()  # a new tip makes every entry stale; this keeps the dict bounded
                self._by_tip[full] = value
        return value

    def warm(self) -> None:
        """Compute, in a background thread, what the first readers of a new server ask for most.

        Recent changes (the review site's front page, ``/changes`` and its feed) cost
        70-100 ms cold at 100,000 revisions and 2 ms once computed; a reader that comes
        while this runs waits for it instead of computing them again (:meth:`_tip_cached`).
        """
        def work() -> None:
            try:
                self.changes(DEFAULT_CHANGES, None)
            except Exception:  # an optimisation only: the first reader computes them instead
                log.exception("could not compute recent changes ahead of the first request")

        threading.Thread(target=work, name="wikicore-warm", daemon=True).start()

    # --- reading -----------------------------------------------------------------

    def tip(self) -> str | None:
        """The wiki's tip: one small file read, git only when the ref is packed or symbolic (see :mod:`.cache`)."""
        wiki = self.wiki()
        if self._tips is None:
            self._tips = TipWatch(wiki.common_dir, BRANCH)
        return self._tips.learn(wiki.tip)

    def cached_body(self, slug: str, rev: str | None = None) -> Body | None:
        """The article's answer if it is known for the current tip, else None; never asks git.

        For the event loop: a read answered here costs a 41-byte file read and three dict
        look-ups, and no trip to a worker thread. The latest revision comes from the table
        of the tip the ref file names right now, so a save that returned (from this server,
        the CLI or another worker) is never answered with the revision before it.
        """
        tips = self._tips
        if tips is None:
            return None
        tip = tips.peek()
        if isinstance(tip, Unknown):
            return None
        if rev is None:
            table = self._latest
            if table is None or table.tip != tip:
                return None
            found = table.revisions.get(slug)
            if found is None:
                return None
            commit = found.id
        else:
            with self._lock:
                resolved = self._resolved.get((tip, slug, rev))
            if resolved is None:
                return None
            commit = resolved
        return self._bodies.get((slug, commit))

    def revision(self, slug: str, rev: str | None = None) -> str:
        """The commit ``rev`` (default latest) of the article names, without loading it (for ``If-None-Match``)."""
        slug = validate_slug(slug)
        return self._commit(self.wiki(), self.tip(), slug, rev)

    def body(self, slug: str, rev: str | None = None) -> Body:
        """The article's answer (its JSON, as ``wikicore show --format json`` writes it), kept for later reads."""
        slug = validate_slug(slug)
        wiki = self.wiki()
        tip = self.tip()
        commit = self._commit(wiki, tip, slug, rev)
        found = self._bodies.get((slug, commit))
        if found is None:
            # Not through the article cache: a reader needs only the bytes, and that cache is 2,048 parsed models.
            article = wiki.load(slug, commit)
            found = Body(commit, encode(to_data(article, commit)))
            self._bodies.put((slug, commit), found)
        self._remember(tip, slug, rev, commit)
        return found

    def article(self, slug: str, rev: str | None = None) -> ArticleAnswer:
        """The article at ``rev`` (default latest) with the revision its ETag names."""
        slug = validate_slug(slug)
        wiki = self.wiki()
        tip = self.tip()
        commit = self._commit(wiki, tip, slug, rev)
        with self._lock:
            answer = self._articles.get((slug, commit))
            if answer is not None:
                self._articles.move_to_end((slug, commit))
                return answer
        article = wiki.load(slug, commit)
        answer = ArticleAnswer(commit, article, to_data(article, commit))
        with self._lock:
            self._articles[(slug, commit)] = answer
            while len(self._articles) > _ARTICLE_CACHE:
                self._articles.popitem(last=False)
        self._remember(tip, slug, rev, commit)
        return answer

    def _commit(self, wiki: Wiki, tip: str | None, slug: str, rev: str | None) -> str:
        """The commit whose copy of the article ``rev`` names; raises NotFound/InvalidRevision as the store does."""
        if rev is None:
            found = self._latest_id(wiki, tip, slug)
            if found is None:
                raise NotFound(f"no article {slug!r} in the wiki")
            return found
        with self._lock:
            resolved = self._resolved.get((tip, slug, rev))
        return resolved if resolved is not None else wiki.resolve_for(slug, rev)

    def _remember(self, tip: str | None, slug: str, rev: str | None, commit: str) -> None:
        """Keep what ``rev`` resolved to at ``tip``, once the article loaded there (so a bad one stays an error)."""
        if rev is None:
            return
        with self._lock:
            self._resolved[(tip, slug, rev)] = commit
            while len(self._resolved) > _RESOLVED:
                self._resolved.popitem(last=False)

    def _latest_id(self, wiki: Wiki, tip: str | None, slug: str) -> str | None:
        """The article's latest revision id (None: no such article); see :meth:`_latest_revision`."""
        latest = self._latest_revision(wiki, tip, slug)
        return latest.id if latest is not None else None

    def _latest_revision(self, wiki: Wiki, tip: str | None, slug: str) -> Revision | None:
        """The article's latest revision: from the table of the current tip if there is one, else from git.

        ``Wiki.latest`` is one ``git log`` per call (10-25 ms, most of a read); the table
        (:meth:`Wiki.latest_revisions`, one walk for every article) answers in microseconds.
        A save moves the tip but changes the latest revision of the articles it touched
        only, so the table follows the tip by dropping those (:meth:`_table`) and asks git
        about each of them once, when it is read.
        """
        table = self._table(wiki, tip)
        if table is None:
            return wiki.latest(slug)
        found = table.revisions.get(slug)
        if found is not None or slug not in table.pending:
            return found
        latest = wiki.latest(slug, at=table.tip)  # at the table's tip, never a newer one it would then claim
        with self._lock:
            table.pending.discard(slug)
            if latest is not None:
                table.revisions[slug] = latest
        return latest

    def _table(self, wiki: Wiki, tip: str | None) -> _Table | None:
        """The table of latest revisions at ``tip`` (or a later tip); None while only a full walk can make one.

        When the tip has moved on from the table's, git is asked once which articles the
        commits in between touched (:meth:`Wiki.changed_since`): the table for the new tip
        is the old one without them. Before, any save left readers asking git per read
        until a full walk finished (minutes under load). One thread asks while the others
        wait for its answer; a history that was rewritten, or a commit touching more than
        :data:`CHANGED_LIMIT` files, starts a full rebuild in the background instead, and
        readers ask git meanwhile, as before.
        """
        table = self._latest
        if table is not None and table.tip == tip:
            return table
        if table is None or table.tip is None or tip is None:
            self.refresh_latest()
            return None
        with self._advancing:
            table, now = self._latest, self.tip()  # another thread may have advanced it, maybe past `tip`
            if table is not None and table.tip == now:
                return table
            if table is None or table.tip is None or now is None:
                self.refresh_latest()
                return None
            try:
                changed = wiki.changed_since(table.tip, now, CHANGED_LIMIT)
            except Exception:  # the table is an optimisation: readers fall back to git
                log.exception("could not tell what changed since %s", table.tip)
                changed = None
            if changed is None:
                with self._lock:
                    if self._latest is table:
                        self._latest = None
                self.refresh_latest()
                return None
            with self._lock:
                revisions = dict(table.revisions)
                for slug in changed:
                    revisions.pop(slug, None)
                advanced = _Table(now, revisions, table.pending | changed)
                self._latest = advanced
            return advanced

    def refresh_latest(self) -> None:
        """Start rebuilding the table of latest revisions in the background (at start-up, and when stale)."""
        with self._lock:
            if self._refreshing or time.monotonic() < self._next_refresh:
                return
            self._refreshing = True

        def build() -> None:
            start = time.monotonic()
            try:
                with Wiki.open(self.config.wiki_path) as wiki:
                    tip = wiki.tip()  # read before the walk: the table holds at least this tip's changes
                    table = wiki.latest_revisions()
                self._latest = _Table(tip, table)
            except Exception:  # the table is an optimisation: readers fall back to git
                log.exception("could not build the table of latest revisions")
            finally:
                with self._lock:
                    self._refreshing = False
                    self._next_refresh = time.monotonic() + 5 * (time.monotonic() - start)

        threading.Thread(target=build, name="wikicore-latest", daemon=True).start()

    def listing(self, prefix: str, limit: int, cursor: str | None) -> tuple[list[_Row], str | None]:
        """A page of ``(slug, title, latest revision)`` by slug after ``cursor``, and the next cursor."""
        wiki = self.wiki()
        everything = self._tip_cached(("list",), wiki.list)
        slugs = [s for s in everything if s.startswith(prefix) and (cursor is None or s > cursor)]
        page, more = slugs[:limit], len(slugs) > limit
        table = self._table(wiki, self.tip())
        if table is None:
            latest = self._tip_cached(("latest",), wiki.latest_revisions)
            revisions = [latest.get(slug) for slug in page]
        else:
            revisions = [self._latest_revision(wiki, table.tip, slug) for slug in page]
        rows = [(slug, wiki.load(slug).title, revision) for slug, revision in zip(page, revisions, strict=True)]
        return rows, (page[-1] if more and page else None)

    def history(self, slug: str, limit: int, older_than: str | None) -> tuple[list[Revision], str | None]:
        """A page of revisions newest first, after ``older_than`` (a revision of the article)."""
        wiki = self.wiki()
        revisions = self._tip_cached(("history", validate_slug(slug)), lambda: wiki.history(slug))
        if older_than is not None:
            commit = wiki.resolve_for(slug, older_than)
            index = next((i for i, r in enumerate(revisions) if r.id == commit), None)
            if index is None:
                raise NotFound(f"revision {older_than!r} is not a revision of {slug!r}")
            revisions = revisions[index + 1:]
        page = revisions[:limit]
        return page, (page[-1].id if len(revisions) > limit and page else None)

    def changes(self, limit: int, since: _dt.datetime | None) -> list[Change]:
        """Recent changes (cached until the tip moves)."""
        wiki = self.wiki()
        return self._tip_cached(("changes", limit, since), lambda: recent_changes(wiki, limit, since))

    def health(self, slug: str, rev: str | None = None) -> tuple[str, list[ReferenceHealth]]:
        """The revision (default latest) and its references' link health.

        A caller that knows the latest revision names it: finding it costs a ``git log`` per
        article while the table of latest revisions is being built (at start, or after a
        migration or a rewritten history).
        """
        answer = self.article(slug, rev)
        refs = [(r.id, r.url) for r in answer.article.references]
        return answer.revision, article_health(self.wiki().checks_path, refs)

    # --- writing -----------------------------------------------------------------

    def save(self, slug: str, body: bytes, *, base: str | None, create: bool, merge: bool, message: str | None,
             author: str | None) -> SaveAnswer:
        """Validate the body as the CLI validates a file, then save, create or merge (see the API docs)."""
        slug = validate_slug(slug)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the request body is not UTF-8") from None
        article = loads(text, "json", source="request body")
        if article.slug != slug:
            from ..errors import InvalidArticle, Problem

            raise InvalidArticle([Problem(f"is {article.slug!r}, but the url names {slug!r}", path="slug")],
                                 "request body")
        base = base if base is not None else article.revision
        wiki = self.wiki()
        note = message or (f"Create {slug}" if base is None else f"Edit {slug}")
        if create or base is None:
            latest = wiki.latest(slug)
            if latest is not None:
                raise EditConflict(slug, None, latest.id) if create else BaseRequired(slug, latest.id)
            revision = wiki.save(article, note, author, base=None)
            return SaveAnswer(revision, created=True, unchanged=False)
        latest = wiki.latest(slug)
        if latest is not None and wiki.load_text(slug, latest.id) == dumps(article):
            # As `wikicore save` does: storing what the wiki already has is no edit, whatever the base, so a
            # client that retries a PUT whose answer it lost gets "unchanged", not a conflict with itself.
            return SaveAnswer(latest, created=False, unchanged=True)
        if merge:
            outcome = save_merging(wiki, article, base, note, author)
            return SaveAnswer(outcome.revision, False, isinstance(outcome.revision, Unchanged), outcome)
        revision = wiki.save(article, note, author, base=base)
        return SaveAnswer(revision, False, isinstance(revision, Unchanged))

    def exists(self, slug: str) -> bool:
        """Whether the article exists at the tip."""
        return self.wiki().latest(validate_slug(slug)) is not None
