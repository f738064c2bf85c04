"""Import a MediaWiki XML export (a dump) into the wiki, optionally with its whole history.

The dump is read by :mod:`.dump` (streamed, within its budgets) and each
revision imported by :func:`~.importer.import_wikitext`.

Writing goes through the store's bulk writer (:meth:`wikicore.store.Wiki.bulk`):
**one** ``git fast-import`` process (thousands of commits in seconds, where a
commit per ``git`` call would take minutes), with the checks of a save. The
dump is parsed and its objects written *without* the store's writer lock (a
9,000-page dump takes over a minute; an English-Wikipedia one, hours): the
commits are built on a temporary ref on top of the tip the import started
from, and the lock is held only to publish them by one compare-and-swap
(``git update-ref refs/heads/main NEW OLD``). If others saved meanwhile, the
import's commits are replayed on top of their work, which is kept; if they
touched an article of the dump, or took one of its slugs or titles, nothing
is overwritten and the import fails with its history kept on the temporary
ref. Reading the dump (:mod:`.dump`) never touches git.

Layout written: the store's (``articles/<hh>/<slug>.yaml``, see :mod:`wikicore.store.tree`) holding exactly
:func:`wikicore.serialize.dumps` of the article (see :mod:`wikicore.store`).

* Without ``all_revisions``: one commit holding the latest revision of every page.
* With ``all_revisions``: one commit per revision, in dump order, with the
  revision's user as author, its timestamp as author and committer date and its
  edit summary as message (trailers name the page and revision id). A revision
  that turns the page into a redirect deletes the article file.
* Redirect pages are not articles: their titles are added to the ``aliases``
  of their targets (in the single commit, or in one last commit of the history).

Titles become slugs through :func:`wikicore.models.slugify` (which checks them
with :func:`~wikicore.models.check_slug`); a title that cannot be a safe file
name, or that collides with another page's slug, is skipped with a warning.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImportFailed, InvalidArticle, InvalidInput, WikicoreError
from ..importers import split_warnings
from ..models import slugify
from ..serialize import MAX_BYTES, loads
from ..store import DUMP_TRAILER, Bulk, Wiki, stored_bytes
from .dump import DumpRevision, iter_dump, open_dump
from .importer import import_wikitext, parse_redirect

__all__ = ["BRANCH", "MAX_WARNINGS", "DumpSummary", "Progress", "import_dump"]

#: The branch the wiki lives on (the store's layout).
BRANCH = "refs/heads/main"
#: At most this many warnings are kept in the summary; the rest are counted.
MAX_WARNINGS = 1000
#: Who commits the single-commit import and the alias commit.
IMPORTER_IDENT = ("wikicore import-dump", "wikicore@localhost")

#: ``progress(pages_done, total_or_None)``: the total is unknown while streaming.
Progress = Callable[[int, int | None], None]

#: Commit dates git accepts and ``git fsck`` does not reject: from the epoch's first second to year 9999.
#: A dump's ``0001-01-01`` would make a negative timestamp, which fsck calls a bad date.
MIN_EPOCH = 1
MAX_EPOCH = 253_402_300_799


@dataclass(frozen=True)
class DumpSummary:
    """What an import did: counts, the warnings, and the new tip (None when nothing was written)."""

    pages: int
    revisions: int
    aliases: int
    skipped: int
    commits: int
    warnings: tuple[str, ...]
    tip: str | None
    conflicts: tuple[str, ...] = ()
    """Pages not imported because their article was edited in the wiki (see ``overwrite``)."""


class _BadDate(ValueError):
    """A revision timestamp outside what a git commit can hold."""


def _ident(name: str, email: str, timestamp: str | None) -> str:
    """A fast-import identity line; the timestamp must be in git's range (:class:`_BadDate` otherwise)."""
    clean = " ".join("".join(ch for ch in name if ch not in "<>\n\r\0").split()) or "unknown"
    when = int(_dt.datetime.now(_dt.UTC).timestamp())
    if timestamp:
        try:
            when = int(_dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
        except OverflowError:
            raise _BadDate(timestamp) from None
    if not MIN_EPOCH <= when <= MAX_EPOCH:
        raise _BadDate(timestamp or "")
    return f"{clean} <{email}> {when} +0000"


def import_dump(
    dump: str | os.PathLike[str],
    wiki: str | os.PathLike[str],
    *,
    all_revisions: bool = False,
    namespaces: frozenset[int] = frozenset({0}),
    progress: Progress | None = None,
    overwrite: bool = False,
) -> DumpSummary:
    """Import every page of ``dump`` into the wiki at ``wiki``; see the module docstring.

    Written through the store's bulk writer (:meth:`wikicore.store.Wiki.bulk`),
    which holds the writer lock only to publish, with the checks of a save (slug and title
    collisions, articles that could not be read back). A page whose article was
    last changed in the wiki rather than by a dump is an edit conflict: it is
    skipped and listed in ``conflicts`` (the rest is imported) unless
    ``overwrite``. Raises :class:`~wikicore.errors.ImportFailed` for an
    unreadable dump and :class:`~wikicore.errors.StoreError` if a writer changed
    an article of the dump during the import.
    """
    dump_path = Path(dump)
    if not dump_path.is_file():
        raise ImportFailed(f"{dump_path}: no such file")
    with Wiki.open(wiki) as store, store.bulk(locked=False) as bulk:
        state = _State(bulk, dump_path.name, overwrite)
        try:
            with open_dump(dump_path) as source:
                for revision in iter_dump(source, all_revisions):
                    if revision is None:
                        state.end_page(progress)
                    else:
                        state.revision(revision, all_revisions, namespaces)
            state.record_aliases()
            importer = _ident(*IMPORTER_IDENT, None)
            if all_revisions:
                if bulk.pending:
                    message = f"Record redirects as aliases ({state.aliases}) from {dump_path.name}"
                    bulk.commit(importer, f"{message}\n\n{DUMP_TRAILER}\n")
            else:
                bulk.drop_unchanged()  # the same dump again changes nothing: no commit
                if bulk.pending:
                    # One commit: the latest revision of every page, aliases included.
                    message = f"Import {state.pages} pages from {dump_path.name}"
                    if state.aliases:
                        message += f" ({state.aliases} redirects recorded as aliases)"
                    notes = _warning_lines(w for slug in bulk.pending for w in state.page_warnings.get(slug, ()))
                    bulk.commit(importer, f"{message}\n\n{notes}{DUMP_TRAILER}\n")
        except ET.ParseError as error:
            raise ImportFailed(f"{dump_path}: not a valid MediaWiki XML export: {error}") from None
        except (OSError, EOFError) as error:
            raise ImportFailed(f"{dump_path}: {error}") from None
        commits = bulk.writer.commits
        tip = bulk.finish(f"import-dump {dump_path.name}")
    return DumpSummary(
        pages=state.pages, revisions=state.revisions, aliases=state.aliases, skipped=state.skipped,
        commits=commits, warnings=tuple(state.summary_warnings()), tip=tip,
        conflicts=tuple(state.conflicts),
    )


def _warning_lines(warnings: Iterable[str]) -> str:
    """The importer's warnings as a commit message paragraph (empty if none), at most :data:`MAX_WARNINGS` lines.

    They describe what a page's wikitext lacked when it was imported: true of
    that commit, not of the article, whose later audits would repeat them long
    after they were resolved (single-file ``import`` keeps them the same way).
    """
    lines = list(itertools.islice(warnings, MAX_WARNINGS + 1))
    if not lines:
        return ""
    more = "- and more\n" if len(lines) > MAX_WARNINGS else ""
    return "Import warnings:\n" + "".join(f"- {line}\n" for line in lines[:MAX_WARNINGS]) + more + "\n"


class _State:
    """The bookkeeping of one import: slugs taken, blobs written, redirects seen, conflicts found."""

    def __init__(self, bulk: Bulk, dump_name: str, overwrite: bool) -> None:
        self.bulk = bulk
        self.dump_name = dump_name
        self.overwrite = overwrite
        self.slug_titles: dict[str, str] = {}
        self.claimed: set[str] = set()
        self.refused: set[str] = set()
        self.blobs: dict[str, int] = {}
        self.redirects: dict[str, list[str]] = {}
        self.page_redirect: str | None = None
        self.page_title: str | None = None
        self.page_counted = False
        self.pages = self.revisions = self.aliases = self.skipped = 0
        self.warnings: list[str] = []
        self.conflicts: list[str] = []
        self.dropped_warnings = 0
        #: The importer's warnings about each page's latest revision, for the commit message.
        self.page_warnings: dict[str, list[str]] = {}

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.dropped_warnings += 1

    def _slug(self, title: str) -> str | None:
        try:
            slug = slugify(title)
        except ValueError as error:
            self.warn(f"{title!r}: skipped: {error}")
            return None
        known = self.slug_titles.setdefault(slug, title)
        if known != title:
            self.warn(f"{title!r}: skipped: its slug {slug!r} is taken by {known!r}")
            return None
        if slug in self.refused:
            return None
        if slug not in self.claimed:
            if not self._may_write(slug, title):
                self.refused.add(slug)
                return None
            self.claimed.add(slug)
        return slug

    def _may_write(self, slug: str, title: str) -> bool:
        """The checks of a save, once per page: no edit conflict, no collision with another article."""
        exists = self.bulk.exists(slug)
        if exists and not self.overwrite and not self.bulk.from_dump(slug):
            latest = self.bulk.latest_id(slug)
            self.conflicts.append(f"{title!r}: the article {slug!r} was edited in the wiki since it was imported "
                                  f"(revision {(latest or '')[:12]}); not replaced (use --overwrite to replace it)")
            return False
        try:
            self.bulk.claim(slug, title, replacing=exists)
        except InvalidInput as error:
            self.warn(f"{title!r}: skipped: {error}")
            return False
        return True

    def revision(self, revision: DumpRevision, all_revisions: bool, namespaces: frozenset[int]) -> None:
        if revision.namespace not in namespaces:
            return
        title = revision.title
        if self.page_title != title:
            self.page_title = title
            self.page_counted = False
        if revision.text is None:
            self.warn(f"{title!r} revision {revision.id}: text deleted or missing; skipped")
            self.skipped += 1
            return
        target = parse_redirect(revision.text)
        self.page_redirect = target
        author = ""
        if all_revisions:
            try:
                author = self._author(revision)
            except _BadDate:
                self.warn(f"{title!r} revision {revision.id}: date {revision.timestamp!r} is outside what git "
                          "can store; skipped")
                self.skipped += 1
                return
        slug = self._slug(title)
        if slug is None:
            self.skipped += 1
            return
        if target is not None:
            if all_revisions and slug in self.blobs:
                # The page became a redirect: its article is gone (merged into the target).
                del self.blobs[slug]
                self.bulk.stage(slug, None)
                self.bulk.commit(author, self._message(revision))
                self.revisions += 1
            return
        if len(revision.text) > MAX_BYTES:
            self.warn(f"{title!r} revision {revision.id}: over {MAX_BYTES:,} characters; skipped")
            self.skipped += 1
            return
        try:
            article, warnings = split_warnings(import_wikitext(revision.text, slug=slug, title=title))
            payload = stored_bytes(article)
        except (ImportFailed, InvalidArticle) as error:
            self.warn(f"{title!r} revision {revision.id}: skipped: {error}")
            self.skipped += 1
            return
        mark = self.bulk.blob(payload)
        self.blobs[slug] = mark
        self.revisions += 1
        self.page_counted = True
        self.bulk.stage(slug, mark, title)
        self.page_warnings[slug] = [f"{title!r}: {warning}" for warning in warnings]
        if all_revisions:
            self.bulk.commit(author, self._message(revision, self.page_warnings[slug]))

    def end_page(self, progress: Progress | None) -> None:
        if self.page_title is not None:
            if self.page_redirect is not None:
                self.redirects.setdefault(self.page_redirect, []).append(self.page_title)
            elif self.page_counted:
                self.pages += 1
        self.page_title = None
        self.page_redirect = None
        self.page_counted = False
        if progress is not None:
            progress(self.pages, None)

    @staticmethod
    def _author(revision: DumpRevision) -> str:
        return _ident(revision.user or "unknown", "", revision.timestamp)

    @staticmethod
    def _message(revision: DumpRevision, warnings: Sequence[str] = ()) -> str:
        summary = " ".join(revision.comment.split()) or f"Edit {revision.id or ''} of {revision.title}".strip()
        return (f"{summary}\n\n{_warning_lines(warnings)}"
                f"Wiki-Page: {revision.title}\nWiki-Revision: {revision.id}\n{DUMP_TRAILER}\n")

    def record_aliases(self) -> None:
        """Add each redirect's title to its target's aliases; stage the articles that changed."""
        for target, titles in self.redirects.items():
            try:
                slug = slugify(target)
            except ValueError:
                self.warn(f"redirects to {target!r} skipped: the target cannot be a slug")
                continue
            if slug in self.refused:
                continue
            if slug in self.blobs:
                data: bytes | None = self.bulk.cat_blob(self.blobs[slug])
            else:
                data = self.bulk.read(slug)
                if data is not None and not self.overwrite and not self.bulk.from_dump(slug):
                    self.conflicts.append(f"{', '.join(map(repr, titles))}: redirect to {target!r}, whose article "
                                          f"{slug!r} was edited in the wiki; aliases not added (use --overwrite)")
                    continue
            if data is None:
                self.warn(f"{', '.join(map(repr, titles))}: redirect to {target!r}, which is not in the wiki")
                continue
            try:
                article = loads(data.decode("utf-8"), source=slug)
            except (WikicoreError, UnicodeDecodeError) as error:
                self.warn(f"redirects to {target!r} skipped: its article does not load: {error}")
                continue
            aliases = list(article.aliases)
            for title in titles:
                if title not in aliases and title != article.title:
                    aliases.append(title)
                    self.aliases += 1
            if aliases != article.aliases:
                article = article.model_copy(update={"aliases": aliases})
                try:
                    payload = stored_bytes(article)
                except InvalidArticle as error:
                    self.warn(f"redirects to {target!r} skipped: {error}")
                    continue
                self.bulk.stage(slug, self.bulk.blob(payload), article.title)

    def summary_warnings(self) -> list[str]:
        extra = [f"and {self.dropped_warnings} more warnings"] if self.dropped_warnings else []
        return self.warnings + extra
