"""Import a MediaWiki XML export (a dump) into the wiki, optionally with its whole history.

The dump is streamed: :func:`xml.etree.ElementTree.iterparse` hands us one
``<revision>`` at a time and every element is cleared once read, so memory
stays flat whatever the dump's size; ``.bz2`` dumps are decompressed on the fly.
Tags are matched by local name, so export-0.10 and export-0.11 (and older)
namespaces all work.

Writing goes through the store's bulk writer (:meth:`wikicore.store.Wiki.bulk`):
**one** ``git fast-import`` process (issue 5: thousands of commits in seconds,
where a commit per ``git`` call would take minutes) under the store's writer
lock, with the checks of a save. The commits are built on a temporary ref on
top of the current tip of ``refs/heads/main`` and published by one
compare-and-swap (``git update-ref refs/heads/main NEW OLD``): if anyone saved
meanwhile, nothing is overwritten and the import fails with the history kept
on the temporary ref. Parsing (this module's first half) never touches git.

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

import bz2
import datetime as _dt
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import BudgetExceeded, ImportFailed, InvalidArticle, InvalidInput, WikicoreError
from ..models import slugify
from ..serialize import MAX_BYTES, loads
from ..store import DUMP_TRAILER, Bulk, Wiki, stored_bytes
from .importer import import_wikitext, parse_redirect

__all__ = ["BRANCH", "MAX_EXPANSION", "MAX_REVISION_ELEMENTS", "MAX_REVISION_XML_BYTES", "MAX_WARNINGS",
           "DumpSummary", "Progress", "import_dump", "iter_dump"]

#: The branch the wiki lives on (the store's layout).
BRANCH = "refs/heads/main"
#: At most this many warnings are kept in the summary; the rest are counted.
MAX_WARNINGS = 1000
#: Who commits the single-commit import and the alias commit.
IMPORTER_IDENT = ("wikicore import-dump", "wikicore@localhost")

#: ``progress(pages_done, total_or_None)``: the total is unknown while streaming.
Progress = Callable[[int, int | None], None]

#: Commit dates git accepts and ``git fsck`` does not reject: from the epoch's first second to year 9999.
#: A dump's ``0001-01-01`` would make a negative timestamp, which fsck calls a bad date (issue 9).
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


@dataclass(frozen=True)
class DumpRevision:
    """One ``<revision>`` of a page, as read from the dump."""

    title: str
    namespace: int
    page_redirect: str | None
    id: str
    timestamp: str
    user: str
    comment: str
    text: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(elem: ET.Element, name: str) -> str | None:
    for child in elem:
        if _local(child.tag) == name:
            return child.text or ""
    return None


# --- parsing budgets (issue 9 item 2) ---------------------------------------------------

#: Most XML one revision (with its page's header) may take, decompressed. A revision's text is at
#: most MAX_BYTES (10 MiB) of wikitext, and XML escaping can make that a few times longer; a 1 KB
#: .bz2 holding one 1 GiB <text> took import-dump to 2.1 GB of memory before this cap.
MAX_REVISION_XML_BYTES = 64 * 1024 * 1024
#: Most elements one revision (with its page's header) may hold. A real revision has about a dozen
#: (id, timestamp, contributor, comment, text...); 10 million empty elements in one page took 0.9 GB.
MAX_REVISION_ELEMENTS = 10_000
#: A compressed dump may not expand more than this many times (checked once past the floor below).
#: Real dumps expand 4-5x (pages-articles) to a few tens (full history, bz2); a bz2 bomb, ~10^6.
MAX_EXPANSION = 1_000
#: The expansion check starts after this many decompressed bytes, so small dumps never trip it.
EXPANSION_FLOOR = 256 * 1024 * 1024
#: Namespace numbers are small integers (MediaWiki's are within ±10^4); a 5,000-digit <ns> is refused.
_NAMESPACE = re.compile(r"-?[0-9]{1,9}")
#: Elements whose content is read when their parent ends: kept until then, every other element is
#: dropped as soon as it ends, so memory does not grow with the number of elements.
_READ_LATER = {"revision": frozenset({"id", "timestamp", "comment", "text", "contributor"}),
               "contributor": frozenset({"username", "ip"})}


class _CappedReader:
    """A binary source counting what it hands out, refusing what breaks the byte budgets.

    The XML parser reads ahead in chunks and only reports an element when it
    ends, so a single 1 GiB ``<text>`` never reaches the loop: the cap has to
    live in the reader, measured from the last revision boundary (``mark``).
    """

    def __init__(self, raw: IO[bytes], name: str, compressed_size: int | None = None) -> None:
        self.raw = raw
        self.name = name
        self.compressed_size = compressed_size
        self.total = 0
        self.mark = 0
        self.page = ""

    def read(self, size: int = -1) -> bytes:
        # The XML parser asks for chunks; "everything" is served as 64 KiB at a time, so no read can
        # fetch more than a chunk past a cap.
        data = self.raw.read(size if size is not None and size >= 0 else 1 << 16)
        self.total += len(data)
        if self.total - self.mark > MAX_REVISION_XML_BYTES:
            where = f"page {self.page!r}" if self.page else "one element"
            raise BudgetExceeded(self.name, f"{where} holds over {MAX_REVISION_XML_BYTES:,} bytes of XML in one "
                                            "revision (a compression bomb, or not a MediaWiki export)")
        if (self.compressed_size is not None and self.total > EXPANSION_FLOOR
                and self.total > MAX_EXPANSION * max(self.compressed_size, 1)):
            raise BudgetExceeded(self.name, f"expands over {MAX_EXPANSION:,} times its compressed size "
                                            f"({self.total:,} bytes so far): a compression bomb")
        return data

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> _CappedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(path: Path) -> _CappedReader:
    if path.suffix == ".bz2":
        return _CappedReader(bz2.open(path, "rb"), str(path), compressed_size=path.stat().st_size)
    return _CappedReader(path.open("rb"), str(path))


def _namespace(text: str, where: str, what: str) -> int:
    value = text.strip()
    if not _NAMESPACE.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ImportFailed(f"{where}: {what} {shown!r} is not a namespace number")
    return int(value)


def iter_dump(source: IO[bytes] | _CappedReader, all_revisions: bool = False) -> Iterator[DumpRevision | None]:
    """Yield each page's revisions (only its latest unless ``all_revisions``), then ``None`` at page end.

    Every element is dropped as soon as it is read, so memory does not grow with
    the dump, nor with the number of elements in a page. The byte and element
    budgets above raise :class:`~wikicore.errors.BudgetExceeded` naming the dump
    and the page; a namespace that is not a number raises
    :class:`~wikicore.errors.ImportFailed`.
    """
    if isinstance(source, _CappedReader):
        reader = source
    else:
        reader = _CappedReader(source, str(getattr(source, "name", "dump")))
    name = reader.name
    title: str | None = None
    namespace: int | None = None
    redirect: str | None = None
    latest: DumpRevision | None = None
    prefixes: dict[str, int] = {}
    root: ET.Element | None = None
    open_elements: list[ET.Element] = []
    elements = 0  # started since the last revision (or page) ended
    # expat >= 2.4 (Python 3.11 ships 2.5) refuses entity-expansion bombs, and
    # ElementTree never fetches external entities or DTDs: a dump cannot reach
    # the network or the file system. Hence no defusedxml dependency.
    for event, elem in ET.iterparse(reader, events=("start", "end")):  # noqa: S314
        tag = _local(elem.tag)
        if event == "start":
            if root is None:
                root = elem
            open_elements.append(elem)
            elements += 1
            if elements > MAX_REVISION_ELEMENTS:
                where = f"page {title!r}" if title is not None else "one page"
                raise BudgetExceeded(name, f"{where} holds over {MAX_REVISION_ELEMENTS:,} elements in one revision "
                                           "(not a MediaWiki export)")
            if tag == "page":
                title, namespace, redirect, latest = None, None, None, None
                reader.page = ""
            continue
        open_elements.pop()
        parent = open_elements[-1] if open_elements else None
        if tag == "namespace" and elem.get("key") is not None and elem.text:
            key = elem.get("key") or "0"
            prefixes[elem.text.strip()] = _namespace(key, name, "<namespace key>")
        elif tag == "title":
            title = elem.text or ""
            reader.page = title
        elif tag == "ns":
            number = (elem.text or "").strip()
            namespace = _namespace(number, f"{name}: page {title or ''!r}", "<ns>") if number else 0
        elif tag == "redirect":
            redirect = elem.get("title")
        elif tag == "revision":
            if namespace is None:
                prefix = (title or "").split(":", 1)[0] if ":" in (title or "") else ""
                namespace = prefixes.get(prefix, 0)
            contributor = next((c for c in elem if _local(c.tag) == "contributor"), None)
            user = ""
            if contributor is not None:
                user = _child_text(contributor, "username") or _child_text(contributor, "ip") or ""
            text_elem = next((c for c in elem if _local(c.tag) == "text"), None)
            text = None
            if text_elem is not None and text_elem.get("deleted") is None:
                text = text_elem.text or ""
            revision = DumpRevision(
                title=title or "", namespace=namespace, page_redirect=redirect,
                id=_child_text(elem, "id") or "", timestamp=_child_text(elem, "timestamp") or "",
                user=user, comment=_child_text(elem, "comment") or "", text=text,
            )
            elem.clear()
            elements = 0
            reader.mark = reader.total
            if all_revisions:
                yield revision
            elif latest is None or revision.timestamp >= latest.timestamp:
                latest = revision
        elif tag == "page":
            if latest is not None:
                yield latest
            yield None
            elem.clear()
            elements = 0
            reader.mark = reader.total
            if root is not None:
                root.clear()
            continue
        # Drop the element from its parent now, unless the parent reads it when it ends.
        if parent is not None and tag not in _READ_LATER.get(_local(parent.tag), ()) and len(parent) \
                and parent[-1] is elem:
            del parent[-1]


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

    Written through the store's bulk writer (:meth:`wikicore.store.Wiki.bulk`):
    under the writer lock, with the checks of a save (slug and title
    collisions, articles that could not be read back). A page whose article was
    last changed in the wiki rather than by a dump is an edit conflict: it is
    skipped and listed in ``conflicts`` (the rest is imported) unless
    ``overwrite``. Raises :class:`~wikicore.errors.ImportFailed` for an
    unreadable dump and :class:`~wikicore.errors.StoreError` if the branch moved
    during the import.
    """
    dump_path = Path(dump)
    if not dump_path.is_file():
        raise ImportFailed(f"{dump_path}: no such file")
    with Wiki.open(wiki) as store, store.bulk() as bulk:
        state = _State(bulk, dump_path.name, overwrite)
        try:
            with _open(dump_path) as source:
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
            elif bulk.pending:
                # One commit: the latest revision of every page, aliases included.
                message = f"Import {state.pages} pages from {dump_path.name}"
                if state.aliases:
                    message += f" ({state.aliases} redirects recorded as aliases)"
                bulk.commit(importer, f"{message}\n\n{DUMP_TRAILER}\n")
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
            article = import_wikitext(revision.text, slug=slug, title=title)
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
        if all_revisions:
            self.bulk.commit(author, self._message(revision))

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
    def _message(revision: DumpRevision) -> str:
        summary = " ".join(revision.comment.split()) or f"Edit {revision.id or ''} of {revision.title}".strip()
        return f"{summary}\n\nWiki-Page: {revision.title}\nWiki-Revision: {revision.id}\n{DUMP_TRAILER}\n"

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
