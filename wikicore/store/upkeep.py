"""Keeping a wiki in shape: packing on the store's own schedule, the commit-graph, and the layout and its migration.

git's own ``gc --auto`` is off for every git the store runs (see
:mod:`.gitenv`): started in the middle of a save, it would make that save wait
on a repack, and two writers could start one each. Instead the store repacks
right after a write, still under the writer lock, when loose objects pile up
(:meth:`Upkeep.housekeeping`), so disk use grows with the content, not with
the number of saves, and a failed repack (disk full) costs only the repack.
Each repack, and any write of many commits at once, also refreshes the
commit-graph with changed-path Bloom filters, which is what keeps history
walks fast (:mod:`.history`).

The layout (:mod:`.tree`) a wiki writes is named by ``.wikicore/layout``;
``wikicore migrate`` moves every article of a flat wiki to the sharded layout
in one commit, each file unchanged, so history, blame and diff follow every
article across the move and the move is not a revision of any of them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
from pathlib import Path

from ..errors import StoreError, WikicoreError
from .branch import BRANCH, Branch
from .collisions import Collisions
from .gitenv import GitRunner
from .objects import ObjectStore
from .tree import LAYOUT_FLAT, LAYOUT_SHARDED, TREE_MODE, path_of, slug_of_path

__all__ = ["GC_LOOSE_OBJECTS", "GC_PACK_LIMIT", "GRAPH_AFTER_COMMITS", "LAYOUT_FILE", "Upkeep"]

#: The file in the state directory that names the wiki's tree layout (absent: layout 1, the original).
LAYOUT_FILE = "layout"
#: Loose objects git's own ``gc --auto`` would tolerate (6,700); we estimate them as git does, from one
#: of the 256 fan-out directories, and repack incrementally beyond. A save writes about 5 objects, so the
#: wiki repacks every ~1,400 saves and disk grows with the content, not the number of saves.
GC_LOOSE_OBJECTS = 6700
#: Packs beyond which the incremental packs are merged into one (git's ``gc.autoPackLimit``).
GC_PACK_LIMIT = 50
#: A write of at least this many commits at once (import-dump with history) refreshes the commit-graph.
GRAPH_AFTER_COMMITS = 256


class Upkeep:
    """The layout marker, the repack schedule, the commit-graph and ``migrate`` of one wiki.

    Everything that writes runs under the writer lock, which the caller holds.
    """

    def __init__(self, runner: GitRunner, objects: ObjectStore, branch: Branch, collisions: Collisions,
                 state_dir: Path) -> None:
        self._git = runner
        self._objects = objects
        self._branch = branch
        self._collisions = collisions
        self._state_dir = state_dir

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
            raise
        new = self._branch.commit_at(writer.ref)
        self._branch.drop(writer.ref)
        self._branch.publish_built(new, tip, "wikicore: migrate to layout 2",
                                   moved=f"{BRANCH} moved during the migration; nothing was changed (run it again)")
        self._write_layout(LAYOUT_SHARDED)
        self._collisions.sync(new)
        self.housekeeping()
        return new

    # --- packing -----------------------------------------------------------------

    def housekeeping(self, commits: int = 1) -> None:
        """Repack when loose objects pile up, as ``git gc --auto`` would; call it right after a write.

        Loose objects are estimated like git does: the entries of one fan-out
        directory x 256. Each repack, and any write of many commits at once
        (``commits``), also refreshes the commit-graph.
        """
        objects = self._git.common_dir / "objects"
        try:
            loose = sum(1 for _ in (objects / "17").iterdir()) * 256
        except OSError:
            loose = 0
        if loose > GC_LOOSE_OBJECTS:
            self.repack()
            self.write_commit_graph()
        elif commits >= GRAPH_AFTER_COMMITS:
            self.write_commit_graph()

    def repack(self) -> None:
        """Pack the loose objects (merging all packs beyond :data:`GC_PACK_LIMIT`); a failure is ignored."""
        with contextlib.suppress(WikicoreError, OSError):
            packs = sum(1 for p in (self._git.common_dir / "objects" / "pack").glob("pack-*.pack"))
            self._git.run(["repack", "-d", "-q", *(["-a"] if packs >= GC_PACK_LIMIT else [])])
            self._git.run(["prune-packed", "-q"])

    def write_commit_graph(self) -> None:
        """Refresh the commit-graph, with changed-path Bloom filters; a failure is ignored."""
        with contextlib.suppress(WikicoreError, OSError):
            self._git.run(["commit-graph", "write", "--reachable", "--changed-paths", "--split", "--no-progress"])
