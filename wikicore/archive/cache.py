"""A TTL cache of archive lookups, in the same SQLite file as the link history.

A re-audit within the TTL must make no request of any kind (the archives ask for
restraint, and a re-audit is the common case), and the
link database only covers links. :class:`CachedArchive` wraps any
:class:`~wikicore.archive.Archive` and answers repeated ``nearest`` and
``resolves`` questions from the table ``archive_lookups``: misses are cached
too (a miss is an answer), failures are not (they raise before anything is
stored). The table lives beside :mod:`wikicore.links.history`'s tables and touches
none of them; rows are keyed by ``(kind, url, day)``, where ``kind`` also names
the archive (or set of archives) asked, so answers of one set never stand in
for another's.

The file is not trusted: every row is validated when read (aware timestamps,
a status between 100 and 599 or none, the fields a snapshot needs). A damaged
row is treated as not cached - asked again and overwritten - and counted in
:attr:`ArchiveCache.damaged`, with the first reason kept, so the caller can
report it once. A path under a file, an uncreatable folder or a file that is
not SQLite is bad input; a cache locked by another process says so.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import sqlitecache
from ..errors import InvalidInput
from .formats import status_of
from .records import Archive, Snapshot, SnapshotQuery

__all__ = ["ArchiveCache", "CachedArchive", "DamagedRow"]

Clock = Callable[[], _dt.datetime]

#: Seconds to wait for another process's write lock before saying the cache is in use.
LOCK_TIMEOUT = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive_lookups (
    kind TEXT NOT NULL,          -- 'nearest' or 'resolves', then ' @ <archive>' when one is named
    url TEXT NOT NULL,           -- the original url, or the archive url for 'resolves'
    day TEXT NOT NULL,           -- the query's date (ISO), '' when none
    looked_up_at TEXT NOT NULL,  -- UTC, ISO 8601
    snapshot TEXT,               -- JSON of the Snapshot, NULL for "none"
    PRIMARY KEY (kind, url, day)
)
"""


class DamagedRow(ValueError):
    """A cache row that does not hold what this module wrote."""


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _dump(snapshot: Snapshot | None) -> str | None:
    if snapshot is None:
        return None
    return json.dumps(
        {
            "original": snapshot.original,
            "timestamp": snapshot.timestamp.isoformat(),
            "status_code": snapshot.status_code,
            "archive_url": snapshot.archive_url,
            "archive": snapshot.archive,
        }
    )


def _aware(value: Any, what: str) -> _dt.datetime:
    if not isinstance(value, str):
        raise DamagedRow(f"{what} is not text")
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise DamagedRow(f"{what} {value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise DamagedRow(f"{what} {value[:40]!r} has no time zone")
    return parsed.astimezone(_dt.UTC)


def _load(text: Any) -> Snapshot | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise DamagedRow("snapshot is not text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise DamagedRow("snapshot is not JSON") from None
    if not isinstance(data, dict):
        raise DamagedRow("snapshot is not a JSON object")
    original, archive_url, archive = data.get("original"), data.get("archive_url"), data.get("archive")
    if not isinstance(original, str) or not original or not isinstance(archive_url, str) or not archive_url:
        raise DamagedRow("snapshot lacks its original or archive url")
    if archive is not None and not isinstance(archive, str):
        raise DamagedRow("snapshot's archive is not text")
    status = data.get("status_code")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or status_of(status) is None):
        raise DamagedRow(f"status {str(status)[:20]!r} is not an HTTP status")
    return Snapshot(original, _aware(data.get("timestamp"), "snapshot time"), status, archive_url, archive)


class ArchiveCache:
    """The ``archive_lookups`` table: answers younger than ``ttl`` are returned, older ones ignored.

    ``path=None`` keeps the cache in memory for one audit (no persistence).
    Safe to share between threads: one connection behind a lock. ``damaged``
    counts rows found damaged (skipped and asked again); ``first_damage`` says
    what was wrong with the first one.
    """

    def __init__(self, path: Path | None, ttl: _dt.timedelta, clock: Clock | None = None) -> None:
        if path is not None:
            path = Path(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(f"{path}: cannot create the cache's folder ({exc.strerror or exc})") from exc
            if path.exists() and not path.is_file():
                raise InvalidInput(f"{path}: the cache must be a regular file")
        try:
            self._conn = sqlite3.connect(
                ":memory:" if path is None else str(path), timeout=LOCK_TIMEOUT, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise InvalidInput(f"{path}: cannot open the cache: {exc}") from exc
        self._lock = threading.Lock()
        self._ttl = ttl
        self._clock = clock or _utcnow
        self.path = path
        self.damaged = 0
        self.first_damage: str | None = None
        with sqlitecache.opening(self._conn, path):
            with self._lock, self._conn:
                if path is not None:
                    # WAL, as the link history uses: the audit writes both tables from two
                    # threads at once, and in WAL mode neither blocks the other's readers.
                    self._conn.execute("PRAGMA journal_mode=WAL")
                exists = self._conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'archive_lookups'"
                ).fetchone()
                if exists is None:  # writing only when needed keeps opening free of write locks
                    self._conn.execute(_SCHEMA)

    def close(self) -> None:
        """Close the connection; the cache is unusable afterwards."""
        self._conn.close()

    def __enter__(self) -> ArchiveCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _damage(self, kind: str, url: str, why: str) -> None:
        self.damaged += 1
        if self.first_damage is None:
            self.first_damage = f"{kind} {url[:200]}: {why}"

    def get(self, kind: str, url: str, day: _dt.date | None) -> tuple[bool, Snapshot | None]:
        """``(True, answer)`` for a fresh cached answer (which may be None), else ``(False, None)``."""
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT looked_up_at, snapshot FROM archive_lookups WHERE kind = ? AND url = ? AND day = ?",
                    (kind, url, day.isoformat() if day else ""),
                ).fetchone()
            except sqlite3.OperationalError as exc:
                raise InvalidInput(f"{self.path}: the cache cannot be read: {exc}") from exc
        if row is None:
            return False, None
        try:
            looked_up = _aware(row[0], "lookup time")
            snapshot = _load(row[1])
        except DamagedRow as why:
            self._damage(kind, url, str(why))
            return False, None
        if self._clock() - looked_up >= self._ttl or looked_up > self._clock() + _dt.timedelta(days=1):
            return False, None  # stale, or stamped in the future (a clock gone wrong): ask again
        return True, snapshot

    def put_many(self, kind: str, answers: Iterable[tuple[str, _dt.date | None, Snapshot | None]]) -> None:
        """Store answers (``(url, day, snapshot-or-None)``), replacing older ones, in one transaction."""
        now = self._clock().isoformat()
        rows = [(kind, url, day.isoformat() if day else "", now, _dump(snap)) for url, day, snap in answers]
        with sqlitecache.writing(self.path):
            with self._lock, self._conn:
                self._conn.executemany("INSERT OR REPLACE INTO archive_lookups VALUES (?, ?, ?, ?, ?)", rows)


class CachedArchive:
    """An :class:`~wikicore.archive.Archive` that asks ``inner`` only what ``cache`` cannot answer.

    ``nearest`` sends the uncached queries to ``inner`` in one batch, so the
    batching of the wrapped archive is kept.
    """

    def __init__(self, inner: Archive, cache: ArchiveCache) -> None:
        self.inner = inner
        self.cache = cache
        scope = getattr(inner, "cache_key", None)
        # The Internet Archive alone keeps the plain kinds, so caches written before
        # archives were named stay valid for it.
        self._scope = "" if not scope or scope == "https://web.archive.org" else f" @ {scope}"

    @property
    def base_url(self) -> str | None:
        """The wrapped archive's root."""
        return getattr(self.inner, "base_url", None)

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """Nearest snapshots for ``queries``: cached answers first, one inner call for the rest."""
        kind = "nearest" + self._scope
        answers: dict[SnapshotQuery, Snapshot | None] = {}
        missing: list[SnapshotQuery] = []
        for query in dict.fromkeys(queries):
            hit, snapshot = self.cache.get(kind, query.url, query.when)
            if hit:
                answers[query] = snapshot
            else:
                missing.append(query)
        if missing:
            found = self.inner.nearest(missing)
            fresh = {query: found.get(query) for query in missing}
            self.cache.put_many(kind, ((q.url, q.when, s) for q, s in fresh.items()))
            answers.update(fresh)
        return answers

    def save(self, url: str) -> Snapshot | None:
        """A new capture through ``inner``; never cached (each call asks for a new capture)."""
        return self.inner.save(url)

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The capture ``archive_url`` leads to, or None; cached like ``nearest``."""
        hit, snapshot = self.cache.get("resolves", archive_url, None)
        if hit:
            return snapshot
        snapshot = self.inner.resolves(archive_url)
        self.cache.put_many("resolves", [(archive_url, None, snapshot)])
        return snapshot
