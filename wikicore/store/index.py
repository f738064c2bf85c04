"""The collision index: every article's slug, blob and the collision keys of its slug and title, in SQLite.

Why: a new article must not share its slug or title with another article
after normalisation (NFKC, case folding, confusable letters). The old check
read and rewrote a JSON file of every title on each new article (18.6 MB and
9 s at 300,000 articles). Here a new-article save reads and verifies the two
sealed buckets of rows that can hold its answer (about n/256 rows each, two
indexed queries) and writes one row: 4 ms of CPU at 100,000 articles.

This module is the SQLite layer and the key. The index is a cache of the tree,
never a source of truth: it records the id of the ``articles`` tree it
describes, and :mod:`wikicore.store.collisions` keeps it in step with the tip.
:meth:`Wiki.check_index` compares it with the tree entry by entry;
:meth:`Wiki.rebuild_index` starts it afresh.

The index is sealed with the per-user key of :mod:`wikicore.seal` (see
:mod:`.indexseal`): a check believes only rows that verify, so a forged,
deleted, added or replayed row is damage, rebuilt like a damaged file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..seal import load_key
from ..sqlitecache import check_columns
from .indexseal import BUCKETS, Tally, Unsealed, bucket, check_row, read_header, row_digest, row_hasher, write_header

__all__ = ["KEY_VERSION", "CollisionIndex", "collision_key"]

# The tables and columns this version writes: a database with any other shape is rebuilt.
_SCHEMA = {"meta": ("k", "v"), "entries": ("slug", "blob", "skey", "tkey", "sb", "tb", "seal")}

#: Bumped whenever :func:`collision_key` or the rows' layout changes: an index built otherwise is
#: rebuilt (silently: it is no damage). 3: rows carry seals.
KEY_VERSION = "3"

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
        self._sealing: bytes | None = None
        self._key_loaded = False
        # Per connection: SQLite's data_version when the table was last verified whole. Another
        # connection's commit changes it, so what another process wrote is verified again.
        self._verified: dict[tuple[int, int], int] = {}

    @property
    def _db(self) -> sqlite3.Connection | None:
        return self._dbs.get((os.getpid(), threading.get_ident()))

    @_db.setter
    def _db(self, db: sqlite3.Connection | None) -> None:
        here = (os.getpid(), threading.get_ident())
        self._verified.pop(here, None)
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
            db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
            version = db.execute("SELECT v FROM meta WHERE k = 'keys'").fetchone()
            if version is None or version[0] != KEY_VERSION:
                # Rows of another version (other keys, no seals) are no damage: start afresh, silently.
                db.executescript("BEGIN; DROP TABLE IF EXISTS entries; DELETE FROM meta; COMMIT;")
                db.execute("INSERT INTO meta VALUES ('keys', ?)", (KEY_VERSION,))
            db.executescript(
                "CREATE TABLE IF NOT EXISTS entries (slug TEXT PRIMARY KEY, blob TEXT NOT NULL,"
                " skey TEXT NOT NULL, tkey TEXT NOT NULL, sb INTEGER NOT NULL, tb INTEGER NOT NULL,"
                " seal TEXT NOT NULL);"
                "CREATE INDEX IF NOT EXISTS entries_skey ON entries (skey);"
                "CREATE INDEX IF NOT EXISTS entries_tkey ON entries (tkey);"
                "CREATE INDEX IF NOT EXISTS entries_sb ON entries (sb);"
                "CREATE INDEX IF NOT EXISTS entries_tb ON entries (tb);"
            )
            check_columns(db, _SCHEMA)
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

    def sealed_row(self, slug: str) -> tuple[str, str] | None:
        """(blob, title key) of ``slug`` if its row carries this user's seal, else None (also without a key).

        Every sealed row pairs a blob with that blob's own title key (rows are
        sealed only from what was just written or read from the tree), so a
        sealed row whose blob is the tree's says the article's title key.
        """
        key = self.key()
        if key is None:
            return None
        found = self._connect().execute("SELECT slug, blob, skey, tkey, sb, tb, seal FROM entries WHERE slug = ?",
                                        (slug,)).fetchone()
        if found is None:
            return None
        try:
            check_row(row_hasher(key), found)
        except Unsealed:
            return None
        return str(found[1]), str(found[3])

    # --- the seal ----------------------------------------------------------------

    def key(self) -> bytes | None:
        """This user's sealing key (:func:`wikicore.seal.load_key`), read once; None: the index proves nothing."""
        if not self._key_loaded:
            self._sealing, self._key_loaded = load_key(), True
        return self._sealing

    def clashes(self, skey: str, tkey: str, ignore: Iterable[str]) -> tuple[str | None, str | None]:
        """(another slug with the slug key ``skey``, another article with the title key ``tkey``), from sealed rows.

        Verifies the header and the two buckets that can hold the answer (every
        row's seal, their count and sum), in one read transaction with the
        answer; :class:`Unsealed` if anything fails. ``tkey`` empty: no title asked.
        Needs a key (:meth:`key`).
        """
        key = self.key()
        if key is None:
            raise Unsealed("no sealing key")
        skip = set(ignore)
        db = self._connect()
        hasher = row_hasher(key)
        found: list[str | None] = [None, None]
        db.execute("BEGIN")
        try:
            tally = read_header(db, key)
            asked = [(0, _BY_SB, bucket(skey), 2, skey)] + ([(1, _BY_TB, bucket(tkey), 3, tkey)] if tkey else [])
            for answer, sql, number, field, wanted in asked:
                count = total = 0
                for row in db.execute(sql, (number,)):
                    total += check_row(hasher, row)
                    count += 1
                    if row[field] == wanted and row[0] not in skip and found[answer] is None:
                        found[answer] = str(row[0])
                tally.check(number if answer == 0 else BUCKETS + number, count, total)
        finally:
            db.execute("COMMIT")
        return found[0], found[1]

    def verify(self) -> None:
        """Verify the whole table (every row, every bucket, the header); :class:`Unsealed` if anything fails.

        For answers that read every row (a bulk import's view of the wiki,
        :meth:`Wiki.check_index`). Done once per connection, and again only
        after another connection wrote (SQLite's ``data_version``): this
        connection's own writes keep it sealed.
        """
        key = self.key()
        if key is None:
            raise Unsealed("no sealing key")
        db = self._connect()
        here = (os.getpid(), threading.get_ident())
        version = int(db.execute("PRAGMA data_version").fetchone()[0])
        if self._verified.get(here) == version:
            return
        hasher = row_hasher(key)
        seen = Tally()
        db.execute("BEGIN")  # one snapshot: a writer in between would make sound rows look wrong
        try:
            tally = read_header(db, key)
            for row in db.execute("SELECT slug, blob, skey, tkey, sb, tb, seal FROM entries"):
                hidden = check_row(hasher, row)  # first: it checks the buckets are its keys'
                seen.add(row[4], row[5], hidden)
        finally:
            db.execute("COMMIT")
        for slot in range(2 * BUCKETS):
            tally.check(slot, seen.counts[slot], seen.sums[slot])
        self._verified[here] = version

    # --- writing -------------------------------------------------------------------

    def replace_all(self, rows: Iterable[tuple[str, str, str]], tree: str) -> None:
        """Start afresh from ``(slug, blob, title key)`` rows describing ``tree``, sealed."""
        key = self.key()
        hasher = row_hasher(key) if key is not None else None
        entries: dict[str, tuple[str, str, str, int, int, str]] = {}
        hidden: dict[str, int] = {}
        for slug, blob, tkey in rows:
            skey = collision_key(slug)
            sb, tb, mark = bucket(skey), bucket(tkey), ""
            if hasher is not None:
                digest = row_digest(hasher, slug, blob, skey, tkey)
                mark, hidden[slug] = digest[:16].hex(), int.from_bytes(digest[16:], "big")
            entries[slug] = (blob, skey, tkey, sb, tb, mark)
        tally = Tally()
        for slug, value in hidden.items():  # once per slug: a later row for a slug replaced the earlier
            tally.add(entries[slug][3], entries[slug][4], value)
        db = self._connect()
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM entries")
            # No column list: a table of another shape fails here, as damage, not quietly.
            db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                           ((slug, *entry) for slug, entry in entries.items()))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tree', ?)", (tree,))
            write_header(db, key, tree, tally)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if key is not None:  # written whole from the tree here: sound without reading it back
            self._verified[(os.getpid(), threading.get_ident())] = int(
                db.execute("PRAGMA data_version").fetchone()[0])

    def apply(self, changes: Mapping[str, tuple[str, str] | None], tree: str) -> None:
        """Record ``slug -> (blob, title key)`` (None: removed) and that the index now describes ``tree``.

        The header's counts and sums move by the rows replaced and written, so
        a save pays for its own rows only. A header that does not verify is
        removed instead: the next check then finds the index unsealed. Old rows
        are counted out by what they hold and where they are filed, so a forged
        row replaced here leaves its buckets wrong, as they were.
        """
        key = self.key()
        hasher = row_hasher(key) if key is not None else None
        db = self._connect()
        db.execute("BEGIN")
        try:
            tally: Tally | None = None
            if key is not None:
                try:
                    tally = read_header(db, key)
                except Unsealed:
                    tally = None
            for slug, value in changes.items():
                old = db.execute("SELECT blob, skey, tkey, sb, tb FROM entries WHERE slug = ?", (slug,)).fetchone()
                if old is not None and tally is not None and hasher is not None:
                    if not (isinstance(old[3], int) and isinstance(old[4], int)
                            and 0 <= old[3] < BUCKETS and 0 <= old[4] < BUCKETS):
                        tally = None  # filed nowhere a bucket can count it out of: leave the index unsealed
                    else:
                        hidden = row_digest(hasher, slug, str(old[0]), str(old[1]), str(old[2]))[16:]
                        tally.add(old[3], old[4], int.from_bytes(hidden, "big"), sign=-1)
                if value is None:
                    db.execute("DELETE FROM entries WHERE slug = ?", (slug,))
                    continue
                blob, tkey = value
                skey = collision_key(slug)
                sb, tb, mark = bucket(skey), bucket(tkey), ""
                if hasher is not None:
                    digest = row_digest(hasher, slug, blob, skey, tkey)
                    mark = digest[:16].hex()
                    if tally is not None:
                        tally.add(sb, tb, int.from_bytes(digest[16:], "big"))
                db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (slug, blob, skey, tkey, sb, tb, mark))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tree', ?)", (tree,))
            write_header(db, key, tree, tally)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


# The rows of one bucket of slug keys, of title keys: their columns in the order check_row takes them.
_BY_SB = "SELECT slug, blob, skey, tkey, sb, tb, seal FROM entries WHERE sb = ?"
_BY_TB = "SELECT slug, blob, skey, tkey, sb, tb, seal FROM entries WHERE tb = ?"

