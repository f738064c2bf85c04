"""The git store: a wiki whose every save is a commit (see :mod:`wikicore.store.wiki` for the design).

The package holds the git environment and runner (:mod:`.gitenv`), raw tree
editing and the tree layout (:mod:`.tree`), the writer lock (:mod:`.lock`), the
SQLite collision index (:mod:`.index`), the ``git fast-import`` writer shared by
bulk import, ``import-dump`` and ``migrate`` (:mod:`.fastimport`), and
:class:`Wiki` itself. :class:`Revision` lives in :mod:`wikicore.revision`, so
code that only shows revisions does not import git.
"""

from __future__ import annotations

from ..revision import Revision
from .gitenv import CRASH_STEPS
from .index import collision_key
from .tree import LAYOUT_FLAT, LAYOUT_SHARDED, path_of, shard_of
from .wiki import (
    BRANCH,
    DEFAULT_AUTHOR,
    DUMP_TRAILER,
    STATE_DIR,
    Bulk,
    ImportResult,
    Unchanged,
    Wiki,
    parse_author,
    parse_revision,
    stored_bytes,
    validate_slug,
)

__all__ = [
    "BRANCH",
    "CRASH_STEPS",
    "DEFAULT_AUTHOR",
    "DUMP_TRAILER",
    "LAYOUT_FLAT",
    "LAYOUT_SHARDED",
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
