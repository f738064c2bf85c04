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
ordinary edit pays nothing; they are two indexed queries whatever the wiki's size.
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
        """
        other = self._guarded(lambda: self._index.slug_clash(collision_key(slug), ignore))
        if other is not None:
            raise InvalidSlug(f"slug {slug!r} collides with the existing article {other!r}")
        if title is not None:
            other = self._guarded(lambda: self._index.title_clash(collision_key(title), ignore))
            if other is not None:
                raise InvalidInput(f"title {title!r} collides with the title of the existing article {other!r}")

    def row(self, slug: str) -> tuple[str, str] | None:
        """``(blob, title key)`` the index holds for ``slug``, or None."""
        return self._guarded(lambda: self._index.row(slug))

    def rows(self) -> dict[str, tuple[str, str]]:
        """slug -> ``(blob, title key)`` of every article the index holds."""
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
                known = self._index.row(slug)  # a moved file (migrate) keeps its blob: no need to read it
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
        return len(self.rows())

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
        if described != current:
            problems.append(f"the index describes tree {described or '(none)'}, the tip has {current or '(none)'}")
        for slug in sorted(actual.keys() | rows.keys()):
            have, want = rows.get(slug, (None, ""))[0], actual.get(slug)
            if have != want:
                problems.append(f"{slug}: index has {have or '(nothing)'}, the tree has {want or '(nothing)'}")
            elif want is not None and rows[slug][1] != self.title_key(want):
                problems.append(f"{slug}: the title key in the index is out of date")
        return problems
