"""The git store: a wiki whose every save is a commit (see :mod:`wikicore.store.wiki` for the design).

One job a module:

* :mod:`.wiki`: the facade, :class:`Wiki` (open/init, load/latest/history/list,
  save/rename/import, diff and blame entry points), which owns the parts below;
* :mod:`.validate`: what a write lets in (authors, messages, slugs, stored bytes), and reading an article back;
* :mod:`.objects`: the object store: reads by commit and path, batch reads, raw tree edits, new commits;
* :mod:`.history`: the streamed ``git log --raw`` reader that follows renames and layout moves;
* :mod:`.branch`: revisions users name, the tip, and the one compare-and-swap loop every write publishes through;
* :mod:`.collisions`: the slug/title collision checks and keeping their SQLite index (:mod:`.index`) in step;
* :mod:`.bulk`: :class:`Bulk`, many articles through one ``git fast-import`` stream (:mod:`.fastimport`);
* :mod:`.upkeep`: repacking on the store's schedule, the commit-graph, the layout and its migration;
* :mod:`.gitenv` (the git environment and runner), :mod:`.tree` (raw trees and the layout),
  :mod:`.lock` (the writer lock).

:class:`Revision` lives in :mod:`wikicore.revision`, so code that only shows
revisions does not import git.
"""

from __future__ import annotations

from ..revision import Revision
from .branch import BRANCH, parse_revision
from .bulk import DUMP_TRAILER, Bulk
from .gitenv import CRASH_STEPS, MIGRATE_CRASH_STEPS
from .index import collision_key
from .tree import LAYOUT_FLAT, LAYOUT_SHARDED, path_of, shard_of
from .validate import DEFAULT_AUTHOR, parse_author, stored_bytes, validate_slug
from .wiki import STATE_DIR, ImportResult, Unchanged, Wiki

__all__ = [
    "BRANCH",
    "CRASH_STEPS",
    "DEFAULT_AUTHOR",
    "DUMP_TRAILER",
    "LAYOUT_FLAT",
    "LAYOUT_SHARDED",
    "MIGRATE_CRASH_STEPS",
    "STATE_DIR",
    "Bulk",
    "ImportResult",
    "Revision",
    "Unchanged",
    "Wiki",
    "collision_key",
    "parse_author",
    "parse_revision",
    "path_of",
    "shard_of",
    "stored_bytes",
    "validate_slug",
]
