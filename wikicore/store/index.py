"""The collision index: every article's slug, blob and the collision keys of its slug and title, in SQLite.

Why: a new article must not share its slug or title with another article
after normalisation (NFKC, case folding, confusable letters). The old check
read and rewrote a JSON file of every title on each new article (18.6 MB and
9 s at 300,000 articles). Here a new-article save asks two indexed queries and
writes one row, so it costs the same at 300,000 as at 1,000.

This module is the SQLite layer and the key. The index is a cache of the tree,
never a source of truth: it records the id of the ``articles`` tree it
describes, and :mod:`wikicore.store.collisions` keeps it in step with the tip.
:meth:`Wiki.check_index` compares it with the tree entry by entry;
:meth:`Wiki.rebuild_index` starts it afresh.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["KEY_VERSION", "CollisionIndex", "collision_key"]

# The tables and columns this version writes: a database with any other shape is rebuilt.
_SCHEMA = {"meta": ("k", "v"), "entries": ("slug", "blob", "skey", "tkey")}

#: Bumped whenever :func:`collision_key` changes: an index built with other keys is rebuilt.
KEY_VERSION = "2"

# Letters of other scripts that render like Latin letters in common fonts: the
# Cyrillic and Greek rows of Unicode's confusables.txt (UTS #39) that map to a
# single Latin letter. Two slugs or titles whose only difference is such a
# letter are the same name to a reader, so they collide (a Cyrillic "а" beside
# a Latin "a" would otherwise make a second article that looks like the first).
_CONFUSABLES = str.maketrans({
    # Cyrillic capitals and small letters
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Һ": "H", "Ӏ": "l",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
    "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l", "ɡ": "g", "ᴠ": "v", "ѵ": "v", "ո": "n",
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "α": "a", "ι": "i", "ν": "v", "ρ": "p", "υ": "u",
    "κ": "k", "χ": "x", "ϲ": "c", "ϳ": "j",
})


def collision_key(text: str) -> str:
    """What two names must not share: NFKC, confusable letters mapped to Latin, case folded.

    ``Straße`` and ``strasse`` collide, and so do ``paris`` and ``pаris`` with a
    Cyrillic ``а``.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES).casefold()
    return unicodedata.normalize("NFKC", folded).translate(_CONFUSABLES)


class CollisionIndex:
    """``.wikicore/index.sqlite``: slug -> (blob, slug key, title key), and the tree it describes.

    A cache: any damage (a truncated file, garbage pages, another schema, a
    directory in its place), whether seen at opening or later, is answered by
    starting afresh (:meth:`reset`, which notes the file in :attr:`notes`),
    and WAL with ``synchronous=NORMAL`` keeps it consistent across a killed
    process without an fsync per save.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection per thread of each process: SQLite connections are not to be shared across
        # threads without care, nor carried across fork() at all (a child opens its own).
        self._dbs: dict[tuple[int, int], sqlite3.Connection] = {}
        #: One line per damaged file this index threw away and rebuilt (for the caller to pass on).
        self.notes: list[str] = []

    @property
    def _db(self) -> sqlite3.Connection | None:
        return self._dbs.get((os.getpid(), threading.get_ident()))

    @_db.setter
    def _db(self, db: sqlite3.Connection | None) -> None:
        here = (os.getpid(), threading.get_ident())
        if db is None:
            self._dbs.pop(here, None)
        else:
            self._dbs[here] = db

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            self._db = self._open(self.path)
        except (sqlite3.DatabaseError, OSError) as error:
            self.reset(error)
            assert self._db is not None
        return self._db

    @staticmethod
    def _open(path: Path | str) -> sqlite3.Connection:
        """A connection with the expected schema; :class:`sqlite3.DatabaseError` if the file is not ours."""
        if isinstance(path, Path) and path.is_dir():
            raise IsADirectoryError(21, "a directory is in its place")
        db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(
                "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS entries (slug TEXT PRIMARY KEY, blob TEXT NOT NULL,"
                " skey TEXT NOT NULL, tkey TEXT NOT NULL);"
                "CREATE INDEX IF NOT EXISTS entries_skey ON entries (skey);"
                "CREATE INDEX IF NOT EXISTS entries_tkey ON entries (tkey);"
            )
            # Another shape (an extra column, say) would fail only at the first write, in the middle of a
            # save: refuse it here, where it is rebuilt.
            for table, columns in _SCHEMA.items():
                found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
                if found != columns:
                    raise sqlite3.DatabaseError(f"table {table} has columns {found}, not {columns}")
            version = db.execute("SELECT v FROM meta WHERE k = 'keys'").fetchone()
            if version is None or version[0] != KEY_VERSION:
                db.executescript("BEGIN; DELETE FROM entries; DELETE FROM meta; COMMIT;")
                db.execute("INSERT INTO meta VALUES ('keys', ?)", (KEY_VERSION,))
        except BaseException:
            db.close()
            raise
        return db

    def reset(self, error: BaseException) -> None:
        """Throw the damaged database away and start an empty one, noting the file and what was wrong.

        The index describes no tree afterwards, so the next sync rebuilds it from
        the tree. A directory in its place is not ours to delete: the index then
        lives in memory for this process.
        """
        self._close_here()
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        self.notes.append(f"{self.path} was damaged ({detail}); rebuilt from the tree")
        try:
            if self.path.is_dir():
                raise IsADirectoryError(21, "a directory is in its place")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._db = self._open(self.path)
        except (sqlite3.DatabaseError, OSError):
            self._db = self._open(":memory:")

    def close(self) -> None:
        """Close this process's connections (a damaged database may fail even that: they are closed all the same)."""
        pid = os.getpid()
        for key in [key for key in self._dbs if key[0] == pid]:
            try:
                self._dbs.pop(key).close()
            except sqlite3.Error:
                pass

    def _close_here(self) -> None:
        db = self._db
        self._db = None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    def described(self) -> str | None:
        """The id of the ``articles`` tree the index describes ('' for an empty wiki), or None if unknown."""
        row = self._connect().execute("SELECT v FROM meta WHERE k = 'tree'").fetchone()
        return None if row is None else str(row[0])

    def rows(self) -> dict[str, tuple[str, str]]:
        """slug -> (blob, title key) of every article."""
        return {s: (b, t) for s, b, t in self._connect().execute("SELECT slug, blob, tkey FROM entries")}

    def row(self, slug: str) -> tuple[str, str] | None:
        """(blob, title key) of ``slug``, or None."""
        found = self._connect().execute("SELECT blob, tkey FROM entries WHERE slug = ?", (slug,)).fetchone()
        return None if found is None else (found[0], found[1])

    def slug_clash(self, key: str, ignore: Iterable[str]) -> str | None:
        """Another slug with the collision key ``key``, if any."""
        skip = set(ignore)
        for (slug,) in self._connect().execute("SELECT slug FROM entries WHERE skey = ?", (key,)):
            if slug not in skip:
                return str(slug)
        return None

    def title_clash(self, key: str, ignore: Iterable[str]) -> str | None:
        """The slug of another article whose title has the collision key ``key``, if any."""
        if not key:
            return None
        skip = set(ignore)
        for (slug,) in self._connect().execute("SELECT slug FROM entries WHERE tkey = ?", (key,)):
            if slug not in skip:
                return str(slug)
        return None

    def replace_all(self, rows: Iterable[tuple[str, str, str]], tree: str) -> None:
        """Start afresh from ``(slug, blob, title key)`` rows describing ``tree``."""
        db = self._connect()
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM entries")
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                           ((slug, blob, collision_key(slug), tkey) for slug, blob, tkey in rows))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tree', ?)", (tree,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def apply(self, changes: Mapping[str, tuple[str, str] | None], tree: str) -> None:
        """Record ``slug -> (blob, title key)`` (None: removed) and that the index now describes ``tree``."""
        db = self._connect()
        db.execute("BEGIN")
        try:
            for slug, value in changes.items():
                if value is None:
                    db.execute("DELETE FROM entries WHERE slug = ?", (slug,))
                else:
                    db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                               (slug, value[0], collision_key(slug), value[1]))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tree', ?)", (tree,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
