"""Many articles in one ``git fast-import`` stream, with the checks of a save: bulk import and ``import-dump``.

A save per article costs a few git processes and a commit each; a stream
writes thousands of articles a second as one pack. The checks stay those of a
save: collisions are answered from a copy of the collision index taken when
the import starts (plus what the import itself claims, so two articles of one
batch cannot collide either), and payloads are :func:`~.validate.stored_bytes`.
The commits go onto a temporary ref and reach the branch through the same
compare-and-swap as every other write (:meth:`.branch.Branch.publish_built`);
an import that fails or is abandoned leaves the branch untouched.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EditConflict, InvalidArticle, InvalidInput, InvalidSlug, WikicoreError, WriteConflict
from ..gcpause import paused_gc
from ..models import Article
from ..revision import Revision
from .branch import BRANCH
from .index import collision_key
from .tree import object_id, path_of
from .validate import check_message, parse_author, stored_bytes, validate_slug

if TYPE_CHECKING:
    from .wiki import Wiki

__all__ = ["DUMP_TRAILER", "Bulk", "ImportResult", "bulk_import"]

#: Trailer on every commit written by ``import-dump``: its pages may be replaced by a later dump.
DUMP_TRAILER = "Wikicore-Import: dump"


@dataclass(frozen=True)
class ImportResult:
    """What a bulk import did: the commit it made (None if nothing changed) and the slugs it wrote."""

    commit: str | None
    slugs: tuple[str, ...]


class Bulk:
    """Many articles written through one ``git fast-import`` stream, with the checks of a save.

    Obtained from :meth:`Wiki.bulk` (which holds the writer lock). It knows the
    articles at the tip from the collision index, refuses slugs and titles that
    collide with them or with each other, refuses what could not be read back,
    writes commits onto a temporary ref and publishes them by compare-and-swap.
    """

    def __init__(self, wiki: Wiki, tip: str | None, *, locked: bool = True) -> None:
        self.wiki = wiki
        self.tip = tip
        self.locked = locked
        self.layout = wiki.layout
        # The index is a cache: what exists, and which blob it is, is the tree's answer. An index that
        # disagrees (a deleted or forged row) would let the import replace an article it never saw.
        self._tree = wiki.objects.articles_at(tip) if tip else {}
        self._rows = wiki.collisions.rows()
        if {slug: row[0] for slug, row in self._rows.items()} != {s: b for s, (_, b) in self._tree.items()}:
            wiki.collisions.rebuild(tip)
            self._rows = wiki.collisions.rows()
        self._slug_keys: dict[str, str] = {collision_key(s): s for s in self._rows}
        self._title_keys: dict[str, str] = {}
        for slug, (_, tkey) in self._rows.items():
            if tkey:
                self._title_keys.setdefault(tkey, slug)
        self.writer = wiki.branch.fast_import("import", tip)
        self.ref = self.writer.ref
        self.pending: dict[str, tuple[int | None, str]] = {}
        self._written: dict[str, tuple[int | None, str]] = {}
        self._latest: dict[str, Revision] | None = None
        self._shas: dict[int, str] = {}
        self._done = False

    # what is there
    def exists(self, slug: str) -> bool:
        """Whether ``slug`` is an article at the tip the import started from (the tree says, not the index)."""
        return slug in self._tree

    def read(self, slug: str) -> bytes | None:
        """The stored text of ``slug`` at that tip, or None."""
        if self.tip is None or slug not in self._tree:
            return None
        return self.wiki.objects.read_object(self._tree[slug][1])

    def latest_id(self, slug: str) -> str | None:
        """The last commit that changed ``slug`` before this import."""
        revision = self.latest(slug)
        return revision.id if revision else self.tip

    def latest(self, slug: str) -> Revision | None:
        """The latest revision of ``slug`` before this import (one walk for all articles, done once)."""
        if self._latest is None:
            self._latest = self.wiki.latest_revisions()
        return self._latest.get(slug)

    def from_dump(self, slug: str) -> bool:
        """Whether the article's latest revision was written by ``import-dump`` (so a dump may replace it)."""
        revision = self.latest(slug)
        if revision is None:
            return False
        return (DUMP_TRAILER in revision.message or "\nWiki-Revision: " in revision.message
                or revision.author == "wikicore import-dump")

    # checks and writes
    def claim(self, slug: str, title: str, replacing: bool = False) -> None:
        """Refuse ``slug``/``title`` if they collide with another article or another of this import.

        ``replacing``: the slug is an existing article being replaced (its own keys do not count).
        """
        skey = collision_key(slug)
        other = self._slug_keys.get(skey)
        if other is not None and other != slug:
            raise InvalidSlug(f"slug {slug!r} collides with the existing article {other!r}")
        if other == slug and not replacing:
            raise InvalidSlug(f"an article {slug!r} already exists")
        tkey = collision_key(title)
        owner = self._title_keys.get(tkey)
        if owner is not None and owner != slug:
            raise InvalidInput(f"title {title!r} collides with the title of the existing article {owner!r}")
        old = self._rows.get(slug)
        if replacing and old is not None and old[1] and self._title_keys.get(old[1]) == slug:
            del self._title_keys[old[1]]
        self._slug_keys[skey] = slug
        if tkey:
            self._title_keys[tkey] = slug

    def release(self, slug: str) -> None:
        """Forget ``slug``'s keys (it is being deleted, e.g. turned into a redirect)."""
        self._slug_keys.pop(collision_key(slug), None)
        for key, owner in list(self._title_keys.items()):
            if owner == slug:
                del self._title_keys[key]

    def blob(self, payload: bytes) -> int:
        """Write a blob (already checked by :func:`stored_bytes`); return its mark."""
        mark = self.writer.blob(payload)
        self._shas[mark] = object_id(b"blob", payload, self.wiki.objects.hash_bytes or 20)
        return mark

    def add(self, slug: str, payload: bytes, title: str) -> int:
        """Stage ``slug`` with stored text ``payload`` for the next :meth:`commit`; return its blob mark."""
        mark = self.blob(payload)
        self.pending[slug] = (mark, collision_key(title))
        return mark

    def stage(self, slug: str, mark: int | None, title: str | None = None) -> None:
        """Stage an already written blob (None: delete the article) for the next :meth:`commit`.

        ``title`` is the article's title, for the collision index (None only for a deletion).
        """
        self.pending[slug] = (mark, collision_key(title) if title is not None else "")

    def cat_blob(self, mark: int) -> bytes:
        """Read back a blob written earlier in this import."""
        return self.writer.cat_blob(mark)

    def path(self, slug: str) -> str:
        """Where ``slug`` is written in this wiki's layout."""
        return path_of(slug, self.layout)

    def _unchanged(self, slug: str, mark: int | None) -> bool:
        """Whether staging ``mark`` for ``slug`` leaves it as it is (at the tip, or as this import last wrote it)."""
        if slug in self._written:
            before = self._written[slug][0]
            current = self._shas[before] if before is not None else None
        else:
            row = self._rows.get(slug)
            current = row[0] if row is not None else None
        return (self._shas[mark] if mark is not None else None) == current

    def drop_unchanged(self) -> None:
        """Unstage what would stay as it is (so a message can name only what a commit changes)."""
        self.pending = {slug: staged for slug, staged in self.pending.items() if not self._unchanged(slug, staged[0])}

    def commit(self, ident: str, message: str) -> bool:
        """Commit everything staged as one commit (``ident``: ``Name <mail> <epoch> <zone>``).

        What is staged unchanged is left out, and a commit that would change
        nothing is not made (returns False): the same dump imported twice makes
        no empty commit, as an unchanged save makes none.
        """
        self.drop_unchanged()
        if not self.pending:
            return False
        changes: list[tuple[str, int | str | None]] = []
        for slug, (mark, _) in self.pending.items():
            target = path_of(slug, self.layout)
            here = self._tree.get(slug)
            if here is not None and here[0] != target:  # left in the other layout: move it
                changes.append((here[0], None))
            changes.append((target, mark))
        self.writer.commit(ident, message, changes)
        self._written.update(self.pending)
        self.pending = {}
        return True

    def finish(self, reason: str) -> str | None:
        """Publish the commits by compare-and-swap; return the new tip (None if nothing was committed).

        An import that ran without the writer lock takes it now. If other
        writers moved the branch meanwhile, the import's commits are replayed
        onto the new tip (:meth:`_replay`), unless those writers changed an
        article the import wrote or took a slug or title it claimed: then
        :class:`StoreError` says so and the imported history is kept on its ref.
        """
        self.writer.finish()
        self._done = True
        branch = self.wiki.branch
        if not self.writer.commits:
            branch.drop(self.ref)
            return None
        if self.locked:
            return self._publish(reason)
        with self.wiki.writing():
            return self._publish(reason)

    def _publish(self, reason: str) -> str:
        branch = self.wiki.branch
        new = branch.commit_at(self.ref)
        base = branch.tip()
        if base != self.tip:
            new = self._replay(new, base)
        branch.publish_built(new, base, reason,
                             moved=f"{BRANCH} moved during the import; the imported history is kept at {self.ref} "
                                   "(merge it by hand or import again)")
        branch.drop(self.ref)
        # The index learns the new state from what was written (no blob read back), and is then
        # exactly what the tree says: the slugs staged, at their last blob; the rest untouched.
        changes = {slug: (self._shas[mark], tkey) if mark is not None else None
                   for slug, (mark, tkey) in self._written.items()}
        collisions = self.wiki.collisions
        if collisions.describes(base):
            collisions.record(new, changes)
        else:
            collisions.sync(new)
        self.wiki.upkeep.housekeeping(self.writer.commits)
        return new

    def _replay(self, head: str, onto: str | None) -> str:
        """The import's commits (``self.tip``..``head``) made again on ``onto``, each file as written; return the last.

        Authors, dates and messages are kept; only the parents change. Refused
        (the history stays at :attr:`ref`) when the writers that moved the branch
        touched an article of the import or took one of its slugs or titles.
        """
        objects, branch = self.wiki.objects, self.wiki.branch
        kept = f"the imported history is kept at {self.ref} (import again)"
        if onto is None:
            raise WriteConflict(f"{BRANCH} was deleted during the import; {kept}")
        if self.wiki.layout != self.layout:
            raise WriteConflict(f"the wiki was migrated during the import; {kept}")
        changed = branch.changed_slugs(self.tip, onto)
        touched = sorted(changed & self._written.keys())
        if touched:
            raise WriteConflict(f"{BRANCH} changed {', '.join(map(repr, touched[:5]))} during the import; {kept}")
        self.wiki.collisions.sync(onto)
        for slug in sorted(changed):
            row = self.wiki.collisions.row(slug)
            if row is None:
                continue
            owner = self._slug_keys.get(collision_key(slug))
            title_owner = self._title_keys.get(row[1]) if row[1] else None
            for other in (owner, title_owner):
                if other is not None and other != slug and other in self._written:
                    raise WriteConflict(
                        f"{slug!r}, saved during the import, collides with the imported {other!r}; {kept}")
        commits = branch.log_range(self.tip, head)
        raws = dict(objects.read_many(commits))
        edits = branch.changes_of(commits)
        writer = branch.fast_import("import", onto)
        try:
            for commit in commits:
                header, _, message = raws[commit].partition(b"\n\n")
                lines = {line.split(b" ", 1)[0]: line.split(b" ", 1)[1] for line in header.split(b"\n")
                         if b" " in line}
                writer.commit(lines[b"author"].decode("utf-8"), message.decode("utf-8"), edits[commit],
                              committer=lines[b"committer"].decode("utf-8"))
            writer.finish()
        except BaseException:
            writer.abort()
            branch.drop(writer.ref)
            raise
        replayed = branch.commit_at(writer.ref)
        branch.drop(writer.ref)
        return replayed

    def discard(self) -> None:
        """Throw away an unfinished import (its objects become unreachable and are pruned by gc)."""
        if not self._done:
            self.writer.abort()
            self.wiki.branch.drop(self.ref)
            self._done = True


def bulk_import(wiki: Wiki, articles: Iterable[Article], message: str, author: str | None = None,
                sources: Sequence[str] | None = None) -> ImportResult:
    """Many new articles in one commit through a :class:`Bulk`: the work of :meth:`Wiki.import_articles`."""
    text_message = check_message(message)
    name, email = parse_author(author)
    now = int(_dt.datetime.now(_dt.UTC).timestamp())
    ident = f"{name} <{email}> {now} +0000"
    items = list(articles)

    def named(error: WikicoreError, index: int) -> WikicoreError:
        where = sources[index] if sources is not None and index < len(sources) else None
        return error if where is None else type(error)(*_with_source(error, where))

    # Validate and serialise before taking the lock: other writers wait only for the git part.
    payloads: list[tuple[str, bytes]] = []
    with paused_gc():  # as in load_many: the collector's full passes would walk every article kept so far
        for index, article in enumerate(items):
            try:
                if not isinstance(article, Article):
                    raise InvalidInput("import_articles() takes Articles")
                payloads.append((validate_slug(article.slug), stored_bytes(article)))
            except WikicoreError as error:
                raise named(error, index) from None
    with wiki.bulk() as bulk:
        for index, (article, (slug, payload)) in enumerate(zip(items, payloads, strict=True)):
            if bulk.exists(slug):
                raise EditConflict(slug, None, bulk.latest_id(slug))
            try:
                bulk.claim(slug, article.title)
            except WikicoreError as error:
                raise named(error, index) from None
            bulk.add(slug, payload, article.title)
        if not bulk.pending:
            return ImportResult(None, ())
        bulk.commit(ident, text_message)
        commit = bulk.finish(f"wikicore: import {len(items)} articles")
    return ImportResult(commit, tuple(a.slug for a in items))


def _with_source(error: WikicoreError, source: str) -> tuple[Any, ...]:
    """The constructor arguments of ``error`` with ``source`` named first."""
    if isinstance(error, InvalidArticle):
        return (error.problems, f"{source}: {error.source}" if error.source else source)
    return (f"{source}: {error}",)
