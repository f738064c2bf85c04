"""Keeping a wiki in shape: packing on the store's own schedule, the commit-graph, and the layout and its migration.

git's own ``gc --auto`` is off for every git the store runs (see
:mod:`.gitenv`): started in the middle of a save, it would make that save wait
on a repack, and two writers could start one each. Instead the store repacks
right after a write, still under the writer lock, when loose objects pile up
(:meth:`Upkeep.housekeeping`), so disk use grows with the content, not with
the number of saves, and a failed repack (disk full) costs only the repack.
Each repack, and any write of many commits at once, also refreshes the
commit-graph with changed-path Bloom filters, which is what keeps history
walks fast (:mod:`.history`). Every write also brings the changelog
(:mod:`.changelog`) up to the tip, which spares the wiki-wide log its walks.

The layout (:mod:`.tree`) a wiki writes is named by ``.wikicore/layout``;
``wikicore migrate`` moves every article of a flat wiki to the sharded layout
in one commit, each file unchanged, so history, blame and diff follow every
article across the move and the move is not a revision of any of them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
from pathlib import Path

from ..errors import StoreError, WikicoreError
from .branch import BRANCH, Branch
from .collisions import Collisions
from .gitenv import GitRunner, alive, crash_point
from .history import History
from .objects import ObjectStore
from .tree import LAYOUT_FLAT, LAYOUT_SHARDED, TREE_MODE, path_of, slug_of_path

__all__ = ["GC_LOOSE_OBJECTS", "GC_PACK_LIMIT", "GRAPH_AFTER_COMMITS", "GRAPH_VERIFIED_FILE", "LAYOUT_FILE",
           "MIGRATING_FILE", "Upkeep"]

#: The file in the state directory that names the wiki's tree layout (absent: layout 1, the original).
LAYOUT_FILE = "layout"
#: The file in the state directory that says a migration is under way (it holds the migrating pid).
MIGRATING_FILE = "migrating"
#: Loose objects git's own ``gc --auto`` would tolerate (6,700); we estimate them as git does, from one
#: of the 256 fan-out directories, and repack incrementally beyond. A save writes about 5 objects, so the
#: wiki repacks every ~1,400 saves and disk grows with the content, not the number of saves.
GC_LOOSE_OBJECTS = 6700
#: Packs beyond which the incremental packs are merged into one (git's ``gc.autoPackLimit``).
GC_PACK_LIMIT = 50
#: A write of at least this many commits at once (import-dump with history) refreshes the commit-graph.
GRAPH_AFTER_COMMITS = 256
#: The file in the state directory's cache naming the commit-graph files last verified (size and mtime).
GRAPH_VERIFIED_FILE = "commit-graph.verified"
#: Commits a write replays into the changelog at most; a longer way (commits of plain git since) waits for the
#: next commit-graph refresh, which goes all the way (100,000 revisions: see docs/performance.md).
CHANGELOG_STEPS = 2048


class Upkeep:
    """The layout marker, the repack schedule, the commit-graph and ``migrate`` of one wiki.

    Everything that writes runs under the writer lock, which the caller holds.
    """

    def __init__(self, runner: GitRunner, objects: ObjectStore, branch: Branch, collisions: Collisions,
                 state_dir: Path, history: History | None = None) -> None:
        self._git = runner
        self._history = history
        self._objects = objects
        self._branch = branch
        self._collisions = collisions
        self._state_dir = state_dir
        self._graph_trusted = True
        #: One line per repair made on the way (a commit-graph bypassed), for the caller to pass on.
        self.notes: list[str] = []

    # --- the layout ------------------------------------------------------------

    @property
    def layout(self) -> int:
        """The wiki's tree layout: 2 (sharded ``articles/<hh>/<slug>.yaml``) or 1 (flat, before ``migrate``)."""
        marker = self._state_dir / LAYOUT_FILE
        try:
            value = marker.read_text("ascii").strip()
        except FileNotFoundError:
            return LAYOUT_FLAT
        except (OSError, UnicodeDecodeError) as error:
            raise StoreError(f"cannot read {marker}: {error}") from None
        if value not in ("1", "2"):
            raise StoreError(f"{marker} names layout {value[:20]!r}; this wikicore knows 1 and 2")
        return int(value)

    def choose_layout(self) -> None:
        """Name the layout of a wiki that has no marker yet (a new or an adopted one).

        A new wiki, or an adopted clone of a sharded one, is sharded; an old flat
        wiki stays flat until ``wikicore migrate``.
        """
        if (self._state_dir / LAYOUT_FILE).exists():
            return
        tip = self._branch.tip()
        if tip is None or self._detect_layout(tip) != LAYOUT_FLAT:
            self._write_layout(LAYOUT_SHARDED)

    def _detect_layout(self, commit: str) -> int | None:
        """The layout a commit's tree is in: flat if any article is (until migrated), None without articles."""
        trees = self._objects.article_trees(commit)
        if not trees:
            return None
        top = trees[0][1]
        flat = any(mode != TREE_MODE and name.endswith(b".yaml") for name, mode in zip(top.names, top.modes,
                                                                                        strict=True))
        if flat:
            return LAYOUT_FLAT
        return LAYOUT_SHARDED if len(trees) > 1 else None

    def _write_layout(self, layout: int) -> None:
        target = self._state_dir / LAYOUT_FILE
        tmp = self._state_dir / f"{LAYOUT_FILE}.{os.getpid()}.tmp"
        try:
            tmp.write_text(f"{layout}\n", "ascii")
            os.replace(tmp, target)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"could not write {target}: {error.strerror or error}") from None

    def migrate(self, name: str, email: str) -> str | None:
        """Move every article to the sharded layout in one commit by ``name <email>``; return it (None if none moved).

        Idempotent: a wiki already sharded gets no commit. The caller holds the writer lock.

        The steps are ordered so that a kill between any two leaves a state that
        works and that the next open settles (:meth:`finish_migration`): a marker
        naming this process first; then the commit, built unreachable; then the
        layout file says 2; then the branch moves; then the index and the marker
        follow. Layout 2 over a still-flat tree is sound (a save moves its article),
        whereas the old order (branch, then layout) left a sharded tree under
        layout 1, where every save moved its article back.
        """
        tip = self._branch.tip()
        moves: list[tuple[str, str]] = []
        if tip is not None:
            for slug, (path, blob) in sorted(self._objects.articles_at(tip).items()):
                if path != path_of(slug, LAYOUT_SHARDED):
                    moves.append((path, blob))
        if not moves:
            self._write_layout(LAYOUT_SHARDED)
            return None
        marker = self._state_dir / MIGRATING_FILE
        try:
            marker.write_text(f"{os.getpid()}\n", "ascii")
        except OSError as error:
            raise StoreError(f"could not write {marker}: {error.strerror or error}") from None
        crash_point("migrate-after-marker")
        now = int(_dt.datetime.now(_dt.UTC).timestamp())
        writer = self._branch.fast_import("migrate", tip)
        try:
            changes: list[tuple[str, int | str | None]] = []
            for path, blob in moves:
                moved = slug_of_path(path)
                assert moved is not None
                changes.append((path, None))
                changes.append((path_of(moved, LAYOUT_SHARDED), blob))
            writer.commit(f"{name} <{email}> {now} +0000",
                          f"Move {len(moves)} articles to the sharded layout (articles/<hh>/<slug>.yaml)\n",
                          changes)
            writer.finish()
        except BaseException:
            writer.abort()
            self._branch.drop(writer.ref)
            marker.unlink(missing_ok=True)
            raise
        new = self._branch.commit_at(writer.ref)
        self._branch.drop(writer.ref)
        crash_point("migrate-after-build")
        previous = self.layout
        self._write_layout(LAYOUT_SHARDED)
        crash_point("migrate-after-layout")
        try:
            self._branch.publish_built(new, tip, "wikicore: migrate to layout 2",
                                       moved=f"{BRANCH} moved during the migration; nothing was changed (run it again)")
        except BaseException:
            self._write_layout(previous)
            marker.unlink(missing_ok=True)
            raise
        crash_point("migrate-after-publish")
        self._collisions.sync(new)
        crash_point("migrate-after-index")
        marker.unlink(missing_ok=True)
        self.housekeeping()
        return new

    def migration_interrupted(self) -> bool:
        """Whether a migration's marker is there and the process that wrote it is gone (one ``stat`` if not)."""
        marker = self._state_dir / MIGRATING_FILE
        try:
            pid = int(marker.read_text("ascii").split()[0])
        except FileNotFoundError:
            return False
        except (OSError, ValueError, IndexError):
            return True
        return not alive(pid)

    def finish_migration(self) -> None:
        """Settle a migration whose process died (under the writer lock): the layout file says what the tree is.

        Flat articles left at the tip mean the branch never moved: the layout
        goes back to 1 (run ``migrate`` again). None left: the branch moved, and
        the layout is 2. Either way the marker goes.
        """
        marker = self._state_dir / MIGRATING_FILE
        if not marker.exists():
            return
        tip = self._branch.tip()
        detected = self._detect_layout(tip) if tip is not None else None
        self._write_layout(LAYOUT_FLAT if detected == LAYOUT_FLAT else LAYOUT_SHARDED)
        self._collisions.sync(tip)
        marker.unlink(missing_ok=True)

    # --- packing -----------------------------------------------------------------

    def housekeeping(self, commits: int = 1) -> None:
        """Repack when loose objects or packs pile up, as ``git gc --auto`` would; call it right after a write.

        Loose objects are estimated like git does: the entries of one fan-out
        directory x 256; packs beyond :data:`GC_PACK_LIMIT` are merged into one.
        Each repack, and any write of many commits at once (``commits``), also
        refreshes the commit-graph.
        """
        objects = self._git.common_dir / "objects"
        try:
            loose = sum(1 for _ in (objects / "17").iterdir()) * 256
        except OSError:
            loose = 0
        # A bulk import writes a pack, not loose objects: counting loose objects alone let 70 imports
        # leave 70 packs, and every object lookup searches each pack's index in turn.
        if loose > GC_LOOSE_OBJECTS or self._packs() > GC_PACK_LIMIT:
            self.repack()
            self.write_commit_graph()
        elif commits >= GRAPH_AFTER_COMMITS:
            self.write_commit_graph()
        else:
            self.record_changes(CHANGELOG_STEPS)

    def repack(self) -> None:
        """Pack the loose objects (merging all packs beyond :data:`GC_PACK_LIMIT`); a failure is ignored."""
        with contextlib.suppress(WikicoreError, OSError):
            self._git.run(["repack", "-d", "-q", *(["-a"] if self._packs() >= GC_PACK_LIMIT else [])])
            self._git.run(["prune-packed", "-q"])

    def _packs(self) -> int:
        """How many packs the object store holds."""
        try:
            return sum(1 for _ in (self._git.common_dir / "objects" / "pack").glob("pack-*.pack"))
        except OSError:
            return 0

    def write_commit_graph(self) -> None:
        """Refresh the commit-graph, with changed-path Bloom filters; a failure is ignored.

        A graph that did not verify is deleted first: layers written on top of
        it would keep its damage.
        """
        with contextlib.suppress(WikicoreError, OSError):
            if not self._graph_trusted:
                for path in self._graph_files():
                    path.unlink(missing_ok=True)
            self._git.run(["commit-graph", "write", "--reachable", "--changed-paths", "--split", "--no-progress"])
            self._remember_verified(self._graph_signature())  # written from the objects just now
        self.record_changes(None)

    def record_changes(self, limit: int | None) -> None:
        """Bring the changelog up to the tip (at most ``limit`` commits to go); a failure costs only the table."""
        if self._history is not None:
            with contextlib.suppress(WikicoreError, OSError):
                self._history.record(self._branch.tip(), limit)
            if self._history.changelog is not None:  # a damaged file thrown away: said once, like the graph's
                self.notes.extend(self._history.changelog.notes)
                self._history.changelog.notes.clear()

    # --- the commit-graph's trust ------------------------------------------------------

    def check_commit_graph(self) -> bool:
        """Whether git may use the commit-graph; if it does not verify, every git of this wiki bypasses it.

        git trusts the graph blindly: 200 flipped bytes made history list 4 of
        61 revisions, and a crafted graph in an adopted repository could hide
        chosen commits from history and blame. ``git commit-graph verify``
        checks it against the commit objects; its verdict is remembered by the
        files' names, sizes and times, so a graph is verified once, and a graph
        the store wrote itself not at all.
        """
        signature = self._graph_signature()
        if not signature or signature == self._verified():
            return True
        try:
            self._git.run(["commit-graph", "verify", "--no-progress"])
        except WikicoreError:
            self._graph_trusted = False
            self._git.set_config("core.commitGraph", "false")
            where = self._git.common_dir / "objects" / "info"
            self.notes.append(f"the commit-graph in {where} does not verify; history is read without it "
                              "until the next write replaces it")
            return False
        self._remember_verified(signature)
        return True

    def _graph_files(self) -> list[Path]:
        info = self._git.common_dir / "objects" / "info"
        chain = info / "commit-graphs"
        files = [info / "commit-graph", *(sorted(chain.iterdir()) if chain.is_dir() else [])]
        return [path for path in files if path.is_file()]

    def _graph_signature(self) -> str:
        """What identifies the graph files as they are ('' when there are none)."""
        parts = []
        for path in self._graph_files():
            with contextlib.suppress(OSError):
                stat = path.stat()
                parts.append(f"{path.name} {stat.st_size} {stat.st_mtime_ns}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest() if parts else ""

    def _verified(self) -> str:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return (self._state_dir / "cache" / GRAPH_VERIFIED_FILE).read_text("ascii").strip()
        return ""

    def _remember_verified(self, signature: str) -> None:
        """Record a verified graph (a failure only costs another verification)."""
        if not signature:
            return
        folder = self._state_dir / "cache"
        tmp = folder / f"{GRAPH_VERIFIED_FILE}.{os.getpid()}.tmp"
        with contextlib.suppress(OSError):
            folder.mkdir(exist_ok=True)
            tmp.write_text(f"{signature}\n", "ascii")
            os.replace(tmp, folder / GRAPH_VERIFIED_FILE)
