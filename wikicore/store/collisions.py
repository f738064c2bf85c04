"""No two articles whose slugs or titles are the same name to a reader: the collision index kept in step with the tip.

The index (:mod:`.index`, SQLite) is a cache of the tip's tree, never a source
of truth: it records the id of the ``articles`` tree it describes. Under the
writer lock, before any check, :meth:`Collisions.sync` compares that id with
the tip's; if they differ (a foreign ``git commit``, a crash between publishing
a commit and recording it, a deleted file) it brings the index up to date from
``git diff-tree`` between the two trees, reading only the changed articles, or
rebuilds it from the tree when the old one is gone. A write that publishes
then tells the index what it changed (:meth:`Collisions.record`), so the next
save finds it in step and pays nothing.

Checks are asked for new articles, renames and changed titles only, so an
ordinary edit pays nothing but one sealed row; a check reads the two buckets
of rows that can hold its answer (about n/256 rows each: 4 ms of CPU at 100,000).

The index answers a check only from rows whose seals verify, with the buckets
that hold them and the header (:mod:`.indexseal`): a forged, deleted, added or
replayed row, or a forged header, is damage, and the index is rebuilt from the
tree with one ``note:``, as a damaged file is. Whether an edit changed the
title is asked of one sealed row whose blob must be the tree's.

Without a sealing key (:func:`wikicore.seal.load_key`: no home, or a key file
others could read or replace) nothing in the file can be told from a forgery,
so the answers come from the tree itself: the slugs of its listing and, for a
title, every article's title. That reads every article (seconds at 100,000),
but only for new articles, renames and retitles, and only for a user who has
no usable key; a cache that cannot be checked must not decide.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import yaml

from ..errors import InvalidInput, InvalidSlug, WikicoreError
from .gitenv import GitRunner
from .index import CollisionIndex, collision_key
from .objects import ObjectStore
from .tree import ARTICLES, shard_of, slug_of_path
from .validate import parse_article

__all__ = ["Collisions"]

_T = TypeVar("_T")
# What a damaged index raises, at any query (garbage pages, a vanished file, a directory in its place).
_DAMAGE = (sqlite3.DatabaseError, OSError)

_TITLE_LINE = re.compile(rb"^title: (.*)$", re.M)


class Collisions:
    """Refuses slugs and titles that collide (:func:`collision_key`) with another article's, from the index."""

    def __init__(self, index: CollisionIndex, runner: GitRunner, objects: ObjectStore) -> None:
        self._index = index
        self._git = runner
        self._objects = objects
        self._tip: str | None = None

    @property
    def notes(self) -> list[str]:
        """One line per damaged index file that was thrown away and rebuilt."""
        return self._index.notes

    def _guarded(self, ask: Callable[[], _T]) -> _T:
        """``ask()``; if the database turns out damaged, rebuild it from the tip last synced and ask again."""
        try:
            return ask()
        except _DAMAGE as error:
            self._index.reset(error)
            self._sync(self._tip)
            return ask()

    def close(self) -> None:
        """Close the index's database connection."""
        self._index.close()

    # --- asking ----------------------------------------------------------------

    def refuse(self, slug: str, title: str | None, ignore: Sequence[str]) -> None:
        """Refuse a slug, or a title, equal to another article's after :func:`collision_key`.

        The articles in ``ignore`` do not count (the one being saved or renamed).
        Asked after :meth:`sync`, of the tip it synced to.
        """
        if self._index.key() is None:
            self._refuse_from_tree(slug, title, ignore)
            return
        tkey = collision_key(title) if title is not None else ""
        same_slug, same_title = self._guarded(lambda: self._index.clashes(collision_key(slug), tkey, ignore))
        if same_slug is not None:
            raise InvalidSlug(f"slug {slug!r} collides with the existing article {same_slug!r}")
        if same_title is not None:
            raise InvalidInput(f"title {title!r} collides with the title of the existing article {same_title!r}")

    def _refuse_from_tree(self, slug: str, title: str | None, ignore: Sequence[str]) -> None:
        """:meth:`refuse` answered by the tip's tree, for a user without a sealing key."""
        entries = self._objects.articles_at(self._tip) if self._tip else {}
        skip = set(ignore)
        key = collision_key(slug)
        for other in entries:
            if other not in skip and collision_key(other) == key:
                raise InvalidSlug(f"slug {slug!r} collides with the existing article {other!r}")
        wanted = collision_key(title) if title is not None else ""
        if wanted:
            owners = {blob: other for other, (_, blob) in entries.items() if other not in skip}
            for blob, data in self._objects.read_many(owners):
                if self.title_key(blob, data) == wanted:
                    raise InvalidInput(f"title {title!r} collides with the title of the existing article "
                                       f"{owners[blob]!r}")

    def keeps_title(self, slug: str, blob: str, title_key: str) -> bool:
        """Whether the article ``slug``, stored as ``blob`` in the tree, has the title key ``title_key`` already.

        Asked by every save, to tell an ordinary edit (no check) from a retitle,
        so it costs one row and its seal; a row not sealed by this user, or of
        another blob, says no and the full check follows. Without a key, the
        blob's own title is read (one object).
        """
        if self._index.key() is None:
            return self.title_key(blob) == title_key
        return self._guarded(lambda: self._index.sealed_row(slug)) == (blob, title_key)

    def row(self, slug: str) -> tuple[str, str] | None:
        """``(blob, title key)`` the index holds for ``slug``, or None (unverified: a hint, never an answer)."""
        return self._guarded(lambda: self._index.row(slug))

    def rows(self) -> dict[str, tuple[str, str]]:
        """slug -> ``(blob, title key)`` of every article at the tip last synced, from the verified index.

        Without a sealing key, from the tree: every article's title is read.
        """
        if self._index.key() is None:
            entries = self._objects.articles_at(self._tip) if self._tip else {}
            keys = {blob: self.title_key(blob, data)
                    for blob, data in self._objects.read_many({blob for _, blob in entries.values()})}
            return {slug: (blob, keys[blob]) for slug, (_, blob) in entries.items()}
        self._guarded(self._index.verify)  # a mismatch is damage: rebuilt (with a note) and verified again
        return self._guarded(self._index.rows)

    def describes(self, tip: str | None) -> bool:
        """Whether the index describes the articles at ``tip`` (None: an empty wiki)."""
        return self._guarded(self._index.described) == (self._objects.articles_tree_id(tip) if tip else "")

    def title_key(self, blob: str, data: bytes | None = None) -> str:
        """The collision key of an article's title, from its stored text without parsing all of it.

        An article that does not parse (committed by plain git, say) has no
        title key: it must not stop other articles from being saved.
        """
        if data is None:
            data = self._objects.read_object(blob)
        match = _TITLE_LINE.search(data)
        try:
            if match is None or match.group(1)[:1] in (b"|", b">", b"&", b"*", b"!"):
                title: object = parse_article(data, blob).title
            else:
                title = yaml.safe_load(match.group(1))
        except (WikicoreError, yaml.YAMLError, ValueError, RecursionError):
            return ""
        return collision_key(title if isinstance(title, str) else str(title))

    # --- keeping in step ---------------------------------------------------------

    def sync(self, tip: str | None) -> None:
        """Bring the index up to the tip's tree (under the writer lock); a damaged index is rebuilt."""
        self._tip = tip
        try:
            self._sync(tip)
        except _DAMAGE as error:
            self._index.reset(error)
            self._sync(tip)

    def _sync(self, tip: str | None) -> None:
        current = self._objects.articles_tree_id(tip) if tip else ""
        described = self._index.described()
        if described == current:
            return
        if described and current and self._objects.has(described):
            out = self._git.run(["diff-tree", "-r", "-z", "--no-renames", "--no-abbrev", "--end-of-options",
                                 described, current])
            fields = out.split(b"\0")
            changes: dict[str, tuple[str, str] | None] = {}
            removed: set[str] = set()
            for meta, path in zip(fields[0::2], fields[1::2], strict=False):
                if not meta.startswith(b":"):
                    continue
                slug = slug_of_path(f"{ARTICLES}/{path.decode('utf-8', 'replace')}")
                if slug is None or (path.count(b"/") == 1 and shard_of(slug) != path.split(b"/")[0].decode()):
                    continue
                _, _, _, new, status = meta.split(b" ")
                if status == b"D":
                    removed.add(slug)
                    continue
                blob = new.decode()
                # A moved file (migrate) keeps its blob: no need to read it, if its row is sealed (a row's
                # title key is believed only under this user's seal, or a forged one would be sealed here).
                known = self._index.sealed_row(slug)
                changes[slug] = (blob, known[1] if known is not None and known[0] == blob else self.title_key(blob))
            for slug in removed - changes.keys():
                changes[slug] = None
            self._index.apply(changes, current)
            return
        entries = self._objects.articles_at(tip) if tip else {}
        blobs = {blob for _, blob in entries.values()}
        keys = {sha: self.title_key(sha, data) for sha, data in self._objects.read_many(blobs)}
        self._index.replace_all(((slug, blob, keys[blob]) for slug, (_, blob) in entries.items()), current)

    def record(self, commit: str, changes: Mapping[str, tuple[str, str] | None]) -> None:
        """Tell the index what a published commit changed (a failure only costs a resync later)."""
        with contextlib.suppress(OSError, WikicoreError, sqlite3.Error):
            self._index.apply(changes, self._objects.articles_tree_id(commit))

    def rebuild(self, tip: str | None) -> int:
        """Forget everything and index the tip's tree afresh (under the writer lock); return the articles indexed."""
        try:
            self._index.replace_all([], "-")  # forget: the sync below reads every article
        except _DAMAGE as error:
            self._index.reset(error)
        self.sync(tip)
        return len(self._guarded(self._index.rows))

    def check(self, tip: str | None) -> list[str]:
        """Differences between the index and the tip's tree it claims to describe (empty: sound)."""
        actual = {slug: blob for slug, (_, blob) in self._objects.articles_at(tip).items()} if tip else {}
        problems: list[str] = []
        try:
            described = self._index.described()
            rows = self._index.rows()
        except _DAMAGE as error:
            return [f"{self._index.path} cannot be read: {error}"]
        current = self._objects.articles_tree_id(tip) if tip else ""
        if self._index.key() is not None:
            try:
                self._index.verify()
            except _DAMAGE as error:
                problems.append(f"{self._index.path}: {error}")
        if described != current:
            problems.append(f"the index describes tree {described or '(none)'}, the tip has {current or '(none)'}")
        for slug in sorted(actual.keys() | rows.keys()):
            have, want = rows.get(slug, (None, ""))[0], actual.get(slug)
            if have != want:
                problems.append(f"{slug}: index has {have or '(nothing)'}, the tree has {want or '(nothing)'}")
            elif want is not None and rows[slug][1] != self.title_key(want):
                problems.append(f"{slug}: the title key in the index is out of date")
        return problems
