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
in a wiki of any size. The revision before the oldest listed change of each
article comes from the changelog (:mod:`.changelog`), which :meth:`History.record`
fills by replaying the log forward, once git confirms it; else from a walk.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError
from ..revision import Revision
from .changelog import CHANGELOG_FILE, DAMAGE, Changelog, ChangelogWriter
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

_HEX_ID = re.compile(r"[0-9a-f]{40}")

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
    parents: tuple[str, ...] = ()

    def with_path(self, path: str) -> Revision:
        return Revision(id=self.id, short=self.id[:12], author=self.author, email=self.email, date=self.date,
                        message=self.message, path=path)


@dataclass(frozen=True)
class Change:
    """One revision of one article in the wiki-wide log: the commit, the article's slug today, its revision before.

    ``blob`` and ``old_blob``: the article's blob ids after and just before the change,
    from the same ``--raw`` record (``old_blob`` None for a creation), so a reader of
    both revisions needs neither a path lookup nor a rename walk per change.
    """

    revision: Revision
    slug: str
    parent: str | None
    blob: str | None = None
    old_blob: str | None = None


class History:
    """Revisions of articles, newest first, from ``git log`` walks of one repository."""

    def __init__(self, runner: GitRunner, objects: ObjectStore, state_dir: Path | None = None) -> None:
        self._git = runner
        self._objects = objects
        #: Each change's revision before, recorded by :meth:`record` (None: always walk).
        self.changelog = Changelog(state_dir / CHANGELOG_FILE) if state_dir is not None else None

    def log(self, start: str, path: str) -> list[tuple[Revision, str]]:
        """Revisions of the article at ``path`` as of ``start``, newest first, with blob ids, following renames."""
        return list(self.iter_log(start, path))

    def iter_log(self, start: str, path: str, count: int | None = None) -> Iterator[tuple[Revision, str]]:
        """Revisions of the article at ``path`` as of ``start``, newest first, with blob ids, following renames.

        Where the file appears, the commit is asked where it came from: the
        same slug in the other layout with the same blob is a ``migrate`` move
        (followed, not a revision); otherwise git's rename detection on that one
        commit names the old path (``Wiki.rename``, or a ``git mv``).

        ``count``: at most that many revisions, each walk bounded to what is still
        wanted, so git stops there (an abandoned unbounded walk runs on until its output
        buffer fills: the latest revision at 100,000 revisions took 25 ms instead of 6 ms).
        """
        current, since = path, start
        seen: set[str] = set()
        wanted = count
        while True:
            followed = None
            last = None
            for commit, entries in self._walk(since, [current], wanted):
                last = commit.id
                entry = next((e for e in entries if e.path == current), None)
                if entry is None or entry.status == "D":
                    continue
                source = self._rename_source(commit.id, current, entry.new) if entry.status == "A" else None
                if source is None or not source[1]:
                    yield commit.with_path(entry.path), entry.new
                    if wanted is not None:
                        wanted -= 1
                        if wanted <= 0:
                            return
                if source is not None:
                    followed = (commit.id, source[0])
                    break
            if followed is None and wanted is not None and last is not None:
                since = f"{last}^"  # the bounded walk ended on deletions: go on below them
                continue
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

    def touched_since(self, old: str, new: str, limit: int) -> set[str] | None:
        """The slugs whose file some commit after ``old`` up to ``new`` touched, or None when that cannot be said.

        Both names of a rename count, and a commit that changed a file and another that
        changed it back both count: an article's latest revision moved even where the two
        trees agree, which is why this reads the commits and not one diff of two trees.
        Merges are compared with each parent (``-m``), so a merge that resolved a file
        differently from both sides counts too. None when ``old`` is not an ancestor of
        ``new`` (history was rewritten) or more than ``limit`` paths were touched (a
        ``migrate`` or a bulk import): the caller then starts over. The log is read as
        a stream and ended once ``limit`` is passed, so a commit of 100,000 files costs
        no more than the first ``limit`` of them. Both ends are full commit ids.
        """
        if old == new:
            return set()
        if self._git.run(["merge-base", "--end-of-options", old, new], check=False).decode().strip() != old:
            return None
        args = ["log", "--format=", "--name-only", "-z", "--no-renames", "-m", "--no-color",
                "--end-of-options", new, f"^{old}", "--", ARTICLES]
        paths: set[bytes] = set()
        chunks = self._git.stream(args)
        try:
            pending = b""
            for chunk in chunks:
                *done, pending = (pending + chunk).split(b"\0")
                paths.update(done)
                if len(paths) > limit + 1:  # + 1: the empty name between commits
                    return None
            paths.add(pending)
        except StoreError:
            return None
        finally:
            chunks.close()
        paths.discard(b"")
        if len(paths) > limit:
            return None
        return {slug for path in paths if (slug := slug_of_path(path.decode("utf-8", "replace"))) is not None}

    def wiki_log(self, tip: str, limit: int, since: _dt.datetime | None = None) -> list[Change]:
        """The ``limit`` newest article changes from ``tip`` (after ``since``), newest first.

        Each change is listed as :meth:`iter_log` lists the article's revisions: under the
        article's name at ``tip`` (renames followed), layout moves not counted, and articles
        deleted since left out. One walk of the whole log, stopped after ``limit`` changes,
        so the cost follows ``limit`` and not the size of the wiki (cold recent changes in a
        wiki of 100,000 revisions walked every commit and then each article's history: 10-16 s).
        The revision before the oldest listed change of an article lies beyond the walk: the
        changelog's row, once git confirms it (:meth:`_confirmed`), or else the next commit
        touching that one path, which the commit-graph's Bloom filters find without opening trees.
        """
        names: dict[str, str | None] = {}  # path -> the article's slug at the tip, None when deleted since
        # (revision, slug at the tip, its path just before, the blob the change replaced there if known, its blob)
        found: list[tuple[Revision, str, str, str | None, str]] = []
        parents: dict[int, str | None] = {}
        waiting: dict[str, int] = {}  # slug -> index in found of its oldest change so far
        if limit <= 0:
            return []
        for commit, entries in self._walk(tip, [ARTICLES]):
            if since is not None and commit.date <= since:
                break
            moved = _pure_layout_moves(entries)
            deleted = {e.path for e in entries if e.status == "D"}
            replaced = {e.path: e.old for e in entries if e.status in ("M", "T", "D")}
            changed: list[tuple[str, str, str, str]] = []  # (slug at tip, path now, path before, blob)
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
                    changed.append((name, entry.path, before, entry.new))
            for path in sorted(deleted - moved):
                names.setdefault(path, None)
            for name, path, before, blob in sorted(changed):
                earlier = waiting.pop(name, None)
                if earlier is not None:
                    parents[earlier] = commit.id
                if len(found) < limit:
                    index = len(found)
                    found.append((commit.with_path(path), name, before, replaced.get(before), blob))
                    waiting[name] = index
            if len(found) >= limit:
                break
        parents.update(self._recorded([(index, found[index][0].id, *found[index][2:4]) for index in waiting.values()]))
        pending = [(index, found[index][0].id, found[index][2]) for index in waiting.values() if index not in parents]
        if pending:
            with ThreadPoolExecutor(max_workers=_LOOKUPS) as pool:
                for index, parent in zip([i for i, _, _ in pending],
                                         pool.map(lambda p: self.previous(p[1], p[2]), pending), strict=True):
                    parents[index] = parent
        return [Change(revision, slug, parent, blob, old if parent is not None else None)
                for i, (revision, slug, _, old, blob) in enumerate(found) for parent in [parents.get(i)]]

    def _recorded(self, changes: Sequence[tuple[int, str, str, str | None]]) -> dict[int, str | None]:
        """Revisions before, by index, known to this process or recorded in the changelog and confirmed by git.

        ``changes``: (index, commit, the article's path just before, the blob the change
        replaced there). Only a change that replaced a blob can be confirmed: a creation's
        "none before" cannot be checked without the walk, so a creation this process has
        not looked up walks; so does a change whose row git refutes.
        """
        known: dict[int, str | None] = {}
        asked: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for index, commit, path, old in changes:
            key = (commit, path)
            with _previous_lock:
                if key in _previous:
                    known[index] = _previous[key]
                    continue
            if old is not None and self.changelog is not None:
                asked.setdefault(key, []).append((index, old))
        if asked:
            assert self.changelog is not None
            rows = self.changelog.previous(list(asked))
            confirmed = self._confirmed({key: (row, {old for _, old in asked[key]})
                                         for key, row in rows.items() if row is not None})
            for key, (row, olds) in confirmed.items():
                with _previous_lock:
                    _previous[key] = row
                known.update((index, row) for index, old in asked[key] if old in olds)
        return known

    def _confirmed(self, rows: Mapping[tuple[str, str], tuple[str, set[str]]]
                   ) -> dict[tuple[str, str], tuple[str, set[str]]]:
        """The rows git confirms, each with the replaced blobs it confirms it for; one ``cat-file`` for all.

        A row ``(commit, path) -> revision`` stands for a change that replaced blob ``old``
        at ``path`` when ``revision`` is a commit that set the article's file (at ``path``
        or, across a layout move, at the slug's path in the other layout) to exactly
        ``old``, changing it from its first parent. A row naming any other commit, an
        object that is no commit or no id at all is refused. What this cannot tell apart
        is another commit that also set the file to exactly ``old`` (the same content
        saved twice); telling it apart is the walk this table exists to spare. Rows are
        written only by the replay (:meth:`record`), which meets the commits in git's
        order, one by one.
        """
        names: list[str] = []
        asks: list[tuple[tuple[str, str], str, str]] = []  # (key, revision, place), each asking three names
        for key, (revision, _) in rows.items():
            if not _HEX_ID.fullmatch(revision):
                continue
            slug = slug_of_path(key[1])
            places = dict.fromkeys([key[1], *((path_of(slug, LAYOUT_FLAT), path_of(slug, LAYOUT_SHARDED))
                                              if slug is not None else ())])
            for place in places:
                asks.append((key, revision, place))
                names += [revision, f"{revision}:{place}", f"{revision}^:{place}"]
        if not names:
            return {}
        try:
            out = self._git.run(["cat-file", "--batch-check"], data="".join(f"{n}\n" for n in names).encode())
        except StoreError:
            return {}
        answers = [line.split() for line in out.decode("utf-8", "replace").splitlines()]
        if len(answers) != len(names):
            return {}
        found: dict[tuple[str, str], tuple[str, set[str]]] = {}
        for number, (key, revision, _) in enumerate(asks):
            commit, now, before = answers[3 * number: 3 * number + 3]
            if commit[1:2] != ["commit"] or commit[0] != revision or now[1:2] != ["blob"]:
                continue
            olds = {old for old in rows[key][1] if now[0] == old and (before[1:2] != ["blob"] or before[0] != old)}
            if olds:
                found.setdefault(key, (revision, set()))[1].update(olds)
        return found

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

    def record(self, tip: str | None, limit: int | None = None) -> None:
        """Bring the changelog up to ``tip``: replay the log forward from where it stopped, under the writer lock.

        Each change gets the revision :meth:`previous` would find, computed as the walk
        would meet it going back (a deletion is passed, a layout move followed, at most
        :data:`_MAX_FOLLOWS` of them). Only a straight line of commits from the last
        position (or from the root) is replayed: a merge, or more than ``limit`` commits
        to go, leaves the table where it is and the log walks for the changes it lacks.
        A damaged file is thrown away and started afresh.
        """
        log = self.changelog
        if log is None or tip is None:
            return
        for attempt in (1, 2):
            try:
                with log.writing() as writer:
                    self._replay(writer, tip, limit)
                return
            except DAMAGE as error:
                if attempt == 2 or not log.reset(error):
                    return

    def _replay(self, log: ChangelogWriter, tip: str, limit: int | None) -> None:
        through = log.position()
        if through == tip:
            return
        commits: Iterable[tuple[_Commit, list[_Raw]]] | None = None
        if through is not None and limit is not None:
            # After a write: one bounded walk of what is new, newest first, with parents (one git process).
            newest = list(self._walk(f"{through}..{tip}", [], limit + 1))
            if _in_line(newest, through, limit):
                commits = [(commit, [e for e in entries if e.path.startswith(f"{ARTICLES}/")])
                           for commit, entries in reversed(newest)]
        elif through is not None and self._straight(f"{through}..{tip}", through, limit):
            commits = list(self._walk(f"{through}..{tip}", [ARTICLES], reverse=True))
        fresh = commits is None
        if commits is None:  # never run, or the branch was reset or rewritten (the old rows stay true, unasked)
            if not self._straight(tip, None, limit):
                return  # too far to go now (the next commit-graph refresh goes all the way), or a merge
            commits = self._walk(tip, [ARTICLES], reverse=True)  # streamed: from the root, nothing to look up
        state: dict[str, tuple[str, int] | None] = {}
        if not fresh:  # what the walk back found at each path the commits to go touch
            assert isinstance(commits, list)
            paths = {e.path for _, entries in commits for e in entries}
            slugs = {slug for path in paths if (slug := slug_of_path(path)) is not None}
            paths |= {path_of(slug, layout) for slug in slugs for layout in (LAYOUT_FLAT, LAYOUT_SHARDED)}
            known = log.latest(paths)
            state = {path: known.get(path) for path in paths}
        rows: list[tuple[str, str, str | None]] = []

        def at(path: str) -> tuple[str, int] | None:
            if path not in state:  # a rename's source under another slug
                state[path] = None if fresh else log.latest([path]).get(path)
            return state[path]

        for commit, entries in commits:
            moved = _pure_layout_moves(entries)
            deleted = {e.path for e in entries if e.status == "D"}
            after: dict[str, tuple[str, int] | None] = {}
            for entry in sorted(entries, key=lambda e: e.path):
                if slug_of_path(entry.path) is None:
                    continue
                if entry.status == "D":  # a walk back passes a deletion: one step more to the same revision
                    was = at(entry.path)
                    after[entry.path] = (was[0], was[1] + 1) if was is not None else None
                    continue
                # As previous() asks each file that appears where it came from (only a deletion can be a source).
                source = self._rename_source(commit.id, entry.path, entry.new) if entry.status == "A" and deleted \
                    else None
                if entry.path not in moved:  # a change the log lists, keyed as wiki_log asks for it
                    before = source[0] if source is not None and entry.status == "A" and deleted - moved \
                        else entry.path
                    was = at(before)
                    rows.append((commit.id, before, was[0] if was is not None and was[1] < _MAX_FOLLOWS else None))
                if source is not None and source[1]:  # a layout move: the walk follows it to the old path
                    was = at(source[0])
                    after[entry.path] = (was[0], was[1] + 1) if was is not None else None
                else:
                    after[entry.path] = (commit.id, 0)
            state.update(after)
        log.advance(rows, state, tip, fresh=fresh)

    def _straight(self, commits: str, through: str | None, limit: int | None) -> bool:
        """Whether ``commits`` is a line of single-parent commits down to ``through``, at most ``limit`` of them.

        ``through`` None: down to a root commit. A merge is not replayed: which parent a
        walk back follows is git's history simplification, not a line to replay.
        """
        args = ["rev-list", "--parents", *([f"--max-count={limit + 1}"] if limit is not None else []),
                "--end-of-options", commits]
        try:
            lines = [line.split() for line in self._git.run(args).decode().splitlines()]
        except StoreError:
            return False
        if not lines or (limit is not None and len(lines) > limit):
            return False
        for position, line in enumerate(lines):
            below = lines[position + 1][0] if position + 1 < len(lines) else through
            if line[1:] != ([below] if below is not None else []):
                return False
        return True

    def _walk(self, start: str, paths: Sequence[str], count: int | None = None, *,
              reverse: bool = False) -> Iterator[tuple[_Commit, list[_Raw]]]:
        """Commits from ``start`` that touch ``paths``, newest first (oldest first if ``reverse``), with raw changes.

        Streamed from one ``git log --raw -z``: a caller that has what it needs
        stops reading and the process is ended.
        """
        args = ["log", "-z", "--raw", "--no-abbrev", "--no-color", "--no-show-signature", "--no-renames",
                "--format=%x1e%H%x00%P%x00%an%x00%ae%x00%aI%x00%B%x00"]
        if count is not None:
            args.append(f"--max-count={count}")
        if reverse:
            args.append("--reverse")
        args += ["--end-of-options", start, "--", *paths]
        chunks = self._git.stream(args, check=False)
        try:
            pending = b""
            for chunk in chunks:
                pending += chunk
                records = pending.split(b"\x1e")
                pending = records.pop()
                for record in records:
                    if record:
                        yield _parse_record(record)
            if pending:
                yield _parse_record(pending)
        finally:
            chunks.close()

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


def _in_line(commits: Sequence[tuple[_Commit, list[_Raw]]], through: str, limit: int) -> bool:
    """Whether ``commits`` (newest first, an unsimplified walk) are a line of single parents down to ``through``."""
    if not commits or len(commits) > limit:
        return False
    below = [*(commit.id for commit, _ in commits[1:]), through]
    return all(commit.parents == (parent,) for (commit, _), parent in zip(commits, below, strict=True))


def _parse_record(record: bytes) -> tuple[_Commit, list[_Raw]]:
    parts = record.split(b"\0")
    sha, parents, name, email, date, body = (p.decode("utf-8", "replace") for p in parts[:6])
    entries: list[_Raw] = []
    rest = parts[6:]
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
    return _Commit(sha, name, email, _parse_date(date), body.rstrip("\n"), tuple(parents.split())), entries


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

