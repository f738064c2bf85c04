"""A TTL cache of archive lookups, in the same SQLite file as the link history.

A re-audit within the TTL must make no request of any kind (issue 4), and the
link database only covers links. :class:`CachedArchive` wraps any
:class:`~wikicore.archive.Archive` and answers repeated ``nearest`` and
``resolves`` questions from the table ``archive_lookups``: misses are cached
too (a miss is an answer), failures are not (they raise before anything is
stored). The table lives beside :mod:`wikicore.linkdb`'s tables and touches
none of them; rows are keyed by ``(kind, url, day)``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .archive import Archive, Snapshot, SnapshotQuery
from .errors import InvalidInput

__all__ = ["ArchiveCache", "CachedArchive"]

Clock = Callable[[], _dt.datetime]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive_lookups (
    kind TEXT NOT NULL,          -- 'nearest' or 'resolves'
    url TEXT NOT NULL,           -- the original url, or the archive url for 'resolves'
    day TEXT NOT NULL,           -- the query's date (ISO), '' when none
    looked_up_at TEXT NOT NULL,  -- UTC, ISO 8601
    snapshot TEXT,               -- JSON of the Snapshot, NULL for "none"
    PRIMARY KEY (kind, url, day)
)
"""


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
        }
    )


def _load(text: str | None) -> Snapshot | None:
    if text is None:
        return None
    data: dict[str, Any] = json.loads(text)
    return Snapshot(
        original=data["original"],
        timestamp=_dt.datetime.fromisoformat(data["timestamp"]),
        status_code=data["status_code"],
        archive_url=data["archive_url"],
    )


class ArchiveCache:
    """The ``archive_lookups`` table: answers younger than ``ttl`` are returned, older ones ignored.

    ``path=None`` keeps the cache in memory for one audit (no persistence).
    Safe to share between threads: one connection behind a lock.
    """

    def __init__(self, path: Path | None, ttl: _dt.timedelta, clock: Clock | None = None) -> None:
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(":memory:" if path is None else str(path), timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        self._ttl = ttl
        self._clock = clock or _utcnow
        try:
            with self._lock, self._conn:
                self._conn.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise InvalidInput(f"{path} is not a wikicore cache database: {exc}") from exc

    def close(self) -> None:
        """Close the connection; the cache is unusable afterwards."""
        self._conn.close()

    def __enter__(self) -> ArchiveCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, kind: str, url: str, day: _dt.date | None) -> tuple[bool, Snapshot | None]:
        """``(True, answer)`` for a fresh cached answer (which may be None), else ``(False, None)``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT looked_up_at, snapshot FROM archive_lookups WHERE kind = ? AND url = ? AND day = ?",
                (kind, url, day.isoformat() if day else ""),
            ).fetchone()
        if row is None:
            return False, None
        looked_up = _dt.datetime.fromisoformat(row[0])
        if self._clock() - looked_up >= self._ttl:
            return False, None
        return True, _load(row[1])

    def put_many(self, kind: str, answers: Iterable[tuple[str, _dt.date | None, Snapshot | None]]) -> None:
        """Store answers (``(url, day, snapshot-or-None)``), replacing older ones, in one transaction."""
        now = self._clock().isoformat()
        rows = [(kind, url, day.isoformat() if day else "", now, _dump(snap)) for url, day, snap in answers]
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

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """Nearest snapshots for ``queries``: cached answers first, one inner call for the rest."""
        answers: dict[SnapshotQuery, Snapshot | None] = {}
        missing: list[SnapshotQuery] = []
        for query in dict.fromkeys(queries):
            hit, snapshot = self.cache.get("nearest", query.url, query.when)
            if hit:
                answers[query] = snapshot
            else:
                missing.append(query)
        if missing:
            found = self.inner.nearest(missing)
            fresh = {query: found.get(query) for query in missing}
            self.cache.put_many("nearest", ((q.url, q.when, s) for q, s in fresh.items()))
            answers.update(fresh)
        return answers

    def save(self, url: str) -> Snapshot | None:
        """Save Page Now through ``inner``; never cached (each call asks for a new capture)."""
        return self.inner.save(url)

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The capture ``archive_url`` leads to, or None; cached like ``nearest``."""
        hit, snapshot = self.cache.get("resolves", archive_url, None)
        if hit:
            return snapshot
        snapshot = self.inner.resolves(archive_url)
        self.cache.put_many("resolves", [(archive_url, None, snapshot)])
        return snapshot
