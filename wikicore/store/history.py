"""An article's history: a streamed ``git log --raw`` reader that follows renames and layout moves itself.

Renames are followed here rather than by ``git log --follow``, which cannot
use the commit-graph's changed-path Bloom filters: with them a walk skips every
commit that does not touch the path without opening a tree (history in a wiki
of 10,000 revisions: 30 ms instead of 0.5 s of CPU). The log is one process per
name the article had, read as a stream: a caller that has what it needs stops
reading and the process is ended. Each revision comes with its blob id, so
blame and history need no extra git process per revision, and a blob id is a
cache key for a parsed article.

A ``wikicore migrate`` moves every file to the sharded layout unchanged; such a
move is followed but is not a revision of the article.

The wiki-wide log (:meth:`History.wiki_log`) reads the same records from the
tip and stops after the newest ``limit`` changes, listing each as the article's
own history would (current slug, revision before); recent changes cost the same
in a wiki of any size.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import StoreError
from ..revision import Revision
from .gitenv import GitRunner
from .objects import ObjectStore
from .tree import ARTICLES, LAYOUT_FLAT, LAYOUT_SHARDED, path_of, slug_of_path

__all__ = ["Change", "History"]

#: Concurrent ``git log -1`` lookups of earlier revisions: each is mostly process start-up and
#: waiting on the commit-graph, so a few overlap well even on two cores (50 lookups at 100,000
#: revisions on a loaded 2-core machine: 1,030 ms one at a time, 550 ms two, 500 ms four, 750 ms eight).
_LOOKUPS = 4
#: Earlier revisions kept per process, by (commit, path): a save adds one change, so recent
#: changes after a save look up one revision, not fifty.
_PREVIOUS_CACHE = 65536
#: Layout moves and deletions followed when looking for an earlier revision (each is one more git process).
_MAX_FOLLOWS = 16

_previous_lock = threading.Lock()
_previous: dict[tuple[str, str], str | None] = {}


@dataclass(frozen=True)
class _Raw:
    """One ``--raw`` line of ``git log``: what happened to one path in one commit."""

    status: str
    old: str
    new: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class _Commit:
    """One commit of ``git log``, before it is known which path it is a revision of."""

    id: str
    author: str
    email: str
    date: _dt.datetime
    message: str

    def with_path(self, path: str) -> Revision:
        return Revision(id=self.id, short=self.id[:12], author=self.author, email=self.email, date=self.date,
                        message=self.message, path=path)


@dataclass(frozen=True)
class Change:
    """One revision of one article in the wiki-wide log: the commit, the article's slug today, its revision before."""

    revision: Revision
    slug: str
    parent: str | None


class History:
    """Revisions of articles, newest first, from ``git log`` walks of one repository."""

    def __init__(self, runner: GitRunner, objects: ObjectStore) -> None:
        self._git = runner
        self._objects = objects

    def log(self, start: str, path: str) -> list[tuple[Revision, str]]:
        """Revisions of the article at ``path`` as of ``start``, newest first, with blob ids, following renames."""
        return list(self.iter_log(start, path))

    def iter_log(self, start: str, path: str) -> Iterator[tuple[Revision, str]]:
        """Revisions of the article at ``path`` as of ``start``, newest first, with blob ids, following renames.

        Where the file appears, the commit is asked where it came from: the
        same slug in the other layout with the same blob is a ``migrate`` move
        (followed, not a revision); otherwise git's rename detection on that one
        commit names the old path (``Wiki.rename``, or a ``git mv``).
        """
        current, since = path, start
        seen: set[str] = set()
        while True:
            followed = None
            for commit, entries in self._walk(since, [current]):
                entry = next((e for e in entries if e.path == current), None)
                if entry is None or entry.status == "D":
                    continue
                source = self._rename_source(commit.id, current, entry.new) if entry.status == "A" else None
                if source is None or not source[1]:
                    yield commit.with_path(entry.path), entry.new
                if source is not None:
                    followed = (commit.id, source[0])
                    break
            if followed is None or followed[0] in seen:
                return
            seen.add(followed[0])
            since, current = f"{followed[0]}^", followed[1]

    def path_at(self, commit: str, start: str, path: str) -> str | None:
        """Where the article at ``path`` as of ``start`` lived at ``commit``, an ancestor; None if it did not exist."""
        known = {r.id: r.path for r, _ in self.log(start, path)}
        for line in self._git.run(["rev-list", "--end-of-options", commit]).decode().split():
            if line in known:
                return known[line]
        return None

    def latest_of(self, tip: str, wanted: Mapping[str, str]) -> dict[str, Revision]:
        """The latest revision of each article in ``wanted`` (slug -> its path at ``tip``), from one walk.

        The walk stops as soon as every article has been seen. Layout
        migrations, which move a file without changing it, are not revisions.
        """
        found: dict[str, Revision] = {}
        if not wanted:
            return found
        for commit, entries in self._walk(tip, [ARTICLES]):
            for slug in _changed_slugs(entries):
                if slug in wanted and slug not in found:
                    found[slug] = commit.with_path(wanted[slug])
            if len(found) == len(wanted):
                break
        return found

    def wiki_log(self, tip: str, limit: int, since: _dt.datetime | None = None) -> list[Change]:
        """The ``limit`` newest article changes from ``tip`` (after ``since``), newest first.

        Each change is listed as :meth:`iter_log` lists the article's revisions: under the
        article's name at ``tip`` (renames followed), layout moves not counted, and articles
        deleted since left out. One walk of the whole log, stopped after ``limit`` changes,
        so the cost follows ``limit`` and not the size of the wiki (cold recent changes in a
        wiki of 100,000 revisions walked every commit and then each article's history: 10-16 s).
        The revision before the oldest listed change of an article lies beyond the walk; it is
        the next commit touching that one path, which the commit-graph's Bloom filters find
        without opening trees.
        """
        names: dict[str, str | None] = {}  # path -> the article's slug at the tip, None when deleted since
        found: list[tuple[Revision, str, str]] = []  # (revision, slug at the tip, its path just before)
        parents: dict[int, str | None] = {}
        waiting: dict[str, int] = {}  # slug -> index in found of its oldest change so far
        if limit <= 0:
            return []
        for commit, entries in self._walk(tip, [ARTICLES]):
            if since is not None and commit.date <= since:
                break
            moved = _pure_layout_moves(entries)
            deleted = {e.path for e in entries if e.status == "D"}
            changed: list[tuple[str, str, str]] = []  # (slug at tip, path now, path before)
            for entry in sorted(entries, key=lambda e: e.path):
                slug = slug_of_path(entry.path)
                if entry.status == "D" or slug is None:
                    continue
                name = names.setdefault(entry.path, slug)
                if entry.path in moved:  # a layout move is no revision; the old path is the same article
                    for other in {path_of(slug, LAYOUT_FLAT), path_of(slug, LAYOUT_SHARDED)} & deleted:
                        names.setdefault(other, name)
                    continue
                before = entry.old_path or entry.path
                if entry.status == "A" and deleted - moved:
                    source = self._rename_source(commit.id, entry.path, entry.new)
                    if source is not None:
                        names.setdefault(source[0], name)
                        before = source[0]
                if name is not None:
                    # Where the article was just before: its revision before is looked up there (a file added
                    # without a source may still have had revisions before a deletion, as its history lists).
                    changed.append((name, entry.path, before))
            for path in sorted(deleted - moved):
                names.setdefault(path, None)
            for name, path, before in sorted(changed):
                earlier = waiting.pop(name, None)
                if earlier is not None:
                    parents[earlier] = commit.id
                if len(found) < limit:
                    index = len(found)
                    found.append((commit.with_path(path), name, before))
                    waiting[name] = index
            if len(found) >= limit:
                break
        pending = [(index, found[index][0].id, found[index][2]) for index in waiting.values()]
        if pending:
            with ThreadPoolExecutor(max_workers=_LOOKUPS) as pool:
                for index, parent in zip([i for i, _, _ in pending],
                                         pool.map(lambda p: self.previous(p[1], p[2]), pending), strict=True):
                    parents[index] = parent
        return [Change(revision, slug, parents.get(i)) for i, (revision, slug, _) in enumerate(found)]

    def previous(self, commit: str, path: str) -> str | None:
        """The article's revision before ``commit``, where it was at ``path`` just before; None if none.

        ``git log -1`` per step: the first commit touching the path is found through the
        commit-graph's Bloom filters and git stops there (a streamed walk that is abandoned
        still runs until its output buffer fills: 25 ms instead of 6 ms at 100,000 revisions).
        A commit's history never changes, so answers are kept for the process.
        """
        key = (commit, path)
        with _previous_lock:
            if key in _previous:
                return _previous[key]
        answer: str | None = None
        since, current = f"{commit}^", path
        for _ in range(_MAX_FOLLOWS):
            step = next(self._walk(since, [current], count=1), None)
            if step is None:
                break
            found, entries = step
            entry = next((e for e in entries if e.path == current), None)
            if entry is None or entry.status == "D":  # not a revision of this article: look further back
                since = f"{found.id}^"
                continue
            source = self._rename_source(found.id, current, entry.new) if entry.status == "A" else None
            if source is None or not source[1]:
                answer = found.id
                break
            since, current = f"{found.id}^", source[0]  # a layout move is no revision: follow it
        with _previous_lock:
            _previous[key] = answer
            while len(_previous) > _PREVIOUS_CACHE:
                _previous.pop(next(iter(_previous)))
        return answer

    def _walk(self, start: str, paths: Sequence[str], count: int | None = None) -> Iterator[tuple[_Commit, list[_Raw]]]:
        """Commits from ``start`` that touch ``paths``, newest first, each with its raw changes.

        Streamed from one ``git log --raw -z``: a caller that has what it needs
        stops reading and the process is ended.
        """
        args = ["git", "log", "-z", "--raw", "--no-abbrev", "--no-color", "--no-show-signature", "--no-renames",
                "--format=%x1e%H%x00%an%x00%ae%x00%aI%x00%B%x00"]
        if count is not None:
            args.append(f"--max-count={count}")
        args += ["--end-of-options", start, "--", *paths]
        try:
            proc = subprocess.Popen(args, cwd=self._git.cwd, env=self._git.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise StoreError("git is not installed (or not on PATH)") from None
        assert proc.stdout is not None
        try:
            pending = b""
            while True:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                pending += chunk
                records = pending.split(b"\x1e")
                pending = records.pop()
                for record in records:
                    if record:
                        yield _parse_record(record)
                if not chunk:
                    if pending:
                        yield _parse_record(pending)
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()

    def _rename_source(self, commit: str, path: str, blob: str) -> tuple[str, bool] | None:
        """Where the file added at ``path`` by ``commit`` came from: ``(old path, pure layout move)``, or None."""
        parent = self._objects.parent(commit)
        if parent is None:
            return None
        slug = slug_of_path(path)
        if slug is not None:
            for layout in (LAYOUT_FLAT, LAYOUT_SHARDED):
                other = path_of(slug, layout)
                if (other != path and self._objects.entry(parent, other) == blob
                        and self._objects.entry(commit, other) is None):
                    return other, True
        out = self._git.run(["diff-tree", "-r", "-M", "-z", "--raw", "--no-abbrev", "--no-commit-id",
                             "--end-of-options", parent, commit])
        fields = out.split(b"\0")
        index = 0
        while index < len(fields):
            meta = fields[index]
            if meta.startswith(b":") and meta.split(b" ")[-1][:1] == b"R" and index + 2 < len(fields):
                old, new = fields[index + 1].decode("utf-8", "replace"), fields[index + 2].decode("utf-8", "replace")
                if new == path:
                    return old, False
                index += 3
            else:
                index += 2 if meta.startswith(b":") else 1
        return None


def _parse_record(record: bytes) -> tuple[_Commit, list[_Raw]]:
    parts = record.split(b"\0")
    sha, name, email, date, body = (p.decode("utf-8", "replace") for p in parts[:5])
    entries: list[_Raw] = []
    rest = parts[5:]
    index = 0
    while index < len(rest):
        meta = rest[index].strip(b"\n")
        index += 1
        if not meta.startswith(b":"):
            continue
        fields = meta[1:].split(b" ")
        if len(fields) < 5:
            continue
        status = fields[4].decode()
        if status[:1] in ("R", "C") and index + 1 < len(rest) + 1:
            old_path, new_path = rest[index].decode("utf-8", "replace"), rest[index + 1].decode("utf-8", "replace")
            index += 2
            entries.append(_Raw(status[0], fields[2].decode(), fields[3].decode(), new_path, old_path))
        else:
            entries.append(_Raw(status[:1], fields[2].decode(), fields[3].decode(),
                                rest[index].decode("utf-8", "replace")))
            index += 1
    return _Commit(sha, name, email, _parse_date(date), body.rstrip("\n")), entries


def _parse_date(value: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromisoformat(value)
    except ValueError:  # a date git itself could not make sense of
        return _dt.datetime.fromtimestamp(0, _dt.UTC)


def _pure_layout_moves(entries: Sequence[_Raw]) -> set[str]:
    """Paths whose change in a commit is only a move between layouts (same slug, same blob)."""
    added = {(slug_of_path(e.path), e.new): e.path for e in entries if e.status == "A"}
    deleted = {(slug_of_path(e.path), e.old): e.path for e in entries if e.status == "D"}
    moved = {path for key in added.keys() & deleted.keys() if key[0] is not None
             for path in (added[key], deleted[key])}
    for entry in entries:
        if (entry.status == "R" and entry.old == entry.new and entry.old_path is not None
                and slug_of_path(entry.old_path) == slug_of_path(entry.path) is not None):
            moved.add(entry.path)
    return moved


def _changed_slugs(entries: Sequence[_Raw]) -> set[str]:
    """Slugs whose content a commit added or changed (layout moves and deletions excluded)."""
    moved = _pure_layout_moves(entries)
    found: set[str] = set()
    for entry in entries:
        if entry.status in ("A", "M", "R", "T") and entry.path not in moved:
            slug = slug_of_path(entry.path)
            if slug is not None:
                found.add(slug)
    return found

