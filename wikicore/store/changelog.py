"""The changelog: each revision's previous revision of the same article, kept in SQLite for the wiki-wide log.

Why: recent changes name each change's previous revision (its diff alerts
compare with it). For the oldest listed change of each article that revision
lies beyond the walk of the newest commits, and git 2.39 uses the commit-graph's
Bloom filters for one path per ``git log``: the first ``/changes`` after a
server start made 50 walks of ~10,000 commits each (0.3-0.5 s of its 0.7-2.1 s
at 100,000 revisions). Here the answer is one indexed query per change.

A commit's previous revision at a path is a fact about the commit's own
ancestry, so a row that was right once is right for ever: a branch that moves,
is reset or rewritten never invalidates one, it only leaves rows nobody asks
for. The rows are written by :meth:`.history.History.record`, which replays the
log forward from the commit the table last reached (after every write of the
store and every commit-graph refresh, so commits made by plain git are caught
up at the next write); :class:`Changelog` is only the SQLite layer.

Caches accelerate, git decides: the log uses a row only once git confirms it
(the named revision holds, at the article's path, the very blob the change
replaced, and it changed that path), and asks git's own walk otherwise. A file
that is damaged, of another shape or missing is bypassed by readers and thrown
away and rebuilt by the next writer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from ..sqlitecache import check_columns

__all__ = ["CHANGELOG_FILE", "DAMAGE", "Changelog", "ChangelogWriter"]

#: The file in the state directory.
CHANGELOG_FILE = "changelog.sqlite"
#: What a damaged database raises at any step (garbage pages, another shape, a directory in its place).
DAMAGE = (sqlite3.DatabaseError, OSError)
#: Bumped whenever the meaning of a row changes: a table written by another version is started afresh.
_VERSION = "1"
# The tables and columns this version writes: a database with any other shape is rebuilt.
_SCHEMA = {"meta": ("k", "v"), "previous": ("c", "path", "prev"), "latest": ("path", "c", "hops")}


def _bin(sha: str | None) -> bytes | None:
    return None if sha is None else bytes.fromhex(sha)


def _hex(value: object) -> str | None:
    """A stored commit id as hex; anything else a damaged or forged row could hold reads as no id."""
    return value.hex() if isinstance(value, bytes) and len(value) == 20 else None


class Changelog:
    """``.wikicore/changelog.sqlite``: (commit, path) -> the article's revision before; and where the replay stands.

    ``previous``: for each change the wiki-wide log lists, keyed by the commit and
    the path the article had just before it, the revision :meth:`History.previous
    <wikicore.store.history.History.previous>` would find (NULL: none).
    ``latest``: for each path, the revision a walk back from the replay's position
    would reach there, and how many deletions and layout moves it passes on the way
    (that walk gives up after a fixed number of them). ``meta``: the position.

    A connection is opened per call: a call is rare (one query per log, one
    transaction per write), and nothing then outlives a fork or a thread.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        #: One line per damaged file thrown away and rebuilt (for the caller to pass on).
        self.notes: list[str] = []

    @contextlib.contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        """A connection with the expected schema; None when there is no file and ``create`` is false."""
        if not create and not self.path.is_file():
            yield None
            return
        if self.path.is_dir():
            raise IsADirectoryError(21, "a directory is in its place")
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            if create:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(
                    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
                    "CREATE TABLE IF NOT EXISTS previous (c BLOB NOT NULL, path TEXT NOT NULL, prev BLOB,"
                    " PRIMARY KEY (c, path)) WITHOUT ROWID;"
                    "CREATE TABLE IF NOT EXISTS latest (path TEXT PRIMARY KEY, c BLOB NOT NULL,"
                    " hops INTEGER NOT NULL) WITHOUT ROWID;"
                )
            check_columns(db, _SCHEMA)
            version = db.execute("SELECT v FROM meta WHERE k = 'version'").fetchone()
            if version is None or version[0] != _VERSION:
                if not create:
                    raise sqlite3.DatabaseError(f"version {version[0] if version else None}, not {_VERSION}")
                db.executescript("BEGIN; DELETE FROM previous; DELETE FROM latest; DELETE FROM meta; COMMIT;")
                db.execute("INSERT INTO meta VALUES ('version', ?)", (_VERSION,))
            yield db
        finally:
            db.close()

    # --- reading (the log: any damage is bypassed, git's walk answers) ----------

    def previous(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The recorded revision before each ``(commit, path)`` that has a row (None: recorded as none).

        A damaged or missing table answers nothing, so every change is looked up in git.
        """
        found: dict[tuple[str, str], str | None] = {}
        if not keys:
            return found
        try:
            with self._connect(create=False) as db:
                if db is None:
                    return found
                for commit, path in keys:
                    row = db.execute("SELECT prev FROM previous WHERE c = ? AND path = ?",
                                     (_bin(commit), path)).fetchone()
                    if row is not None:
                        found[(commit, path)] = _hex(row[0])
        except (*DAMAGE, ValueError):
            return {}
        return found

    # --- writing (the replay, under the writer lock: damage is rebuilt) ----------

    @contextlib.contextmanager
    def writing(self) -> Iterator[ChangelogWriter]:
        """One connection for a replay: where it stands, what it found, and its rows."""
        with self._connect(create=True) as db:
            assert db is not None
            yield ChangelogWriter(db)

    def reset(self, error: BaseException) -> bool:
        """Throw the damaged file away, noting it; False when that cannot be done (it is then bypassed)."""
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        try:
            if self.path.is_dir():
                return False
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError:
            return False
        self.notes.append(f"{self.path} was damaged ({detail}); rebuilt from the log")
        return True


class ChangelogWriter:
    """The replay's side of :class:`Changelog`, on one connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def position(self) -> str | None:
        """The commit the replay has reached, or None (never run, or started afresh)."""
        row = self._db.execute("SELECT v FROM meta WHERE k = 'through'").fetchone()
        return None if row is None else str(row[0])

    def latest(self, paths: Iterable[str]) -> dict[str, tuple[str, int]]:
        """path -> (revision a walk back reaches, deletions and layout moves passed) at the replay's position."""
        found: dict[str, tuple[str, int]] = {}
        for path in paths:
            row = self._db.execute("SELECT c, hops FROM latest WHERE path = ?", (path,)).fetchone()
            commit = None if row is None else _hex(row[0])
            if commit is not None and isinstance(row[1], int):
                found[path] = (commit, row[1])
        return found

    def advance(self, rows: Iterable[tuple[str, str, str | None]], latest: Mapping[str, tuple[str, int] | None],
                through: str, *, fresh: bool) -> None:
        """Record ``(commit, path, previous)`` rows and the walk-back state at ``through``, in one transaction.

        ``fresh``: the replay started from the root, so the old state (of another line of history) goes.
        """
        db = self._db
        db.execute("BEGIN")
        try:
            if fresh:
                db.execute("DELETE FROM latest")
            db.executemany("INSERT OR REPLACE INTO previous VALUES (?, ?, ?)",
                           ((_bin(c), path, _bin(prev)) for c, path, prev in rows))
            db.executemany("DELETE FROM latest WHERE path = ?",
                           ((path,) for path, value in latest.items() if value is None))
            db.executemany("INSERT OR REPLACE INTO latest VALUES (?, ?, ?)",
                           ((path, _bin(value[0]), value[1]) for path, value in latest.items() if value is not None))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('through', ?)", (through,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
