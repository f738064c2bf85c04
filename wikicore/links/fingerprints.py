"""Page-text fingerprints and source-check answers, in the link history's SQLite file.

Two tables beside :mod:`.history`'s ``observations`` (and the archive cache's
``archive_lookups``), touching neither:

``fingerprints``   one row per distinct text seen at a url (``kind`` ``live``, or
                   ``capture`` for an archive copy): its length, the SHA-256 of its
                   normal form, its 64-bit simhash, and when it was first and last
                   seen. So a later audit can say "the page's text changed on
                   2026-03-02" from its own history, without asking an archive.
``source_checks``  the source-text phase's answers for one url and one set of
                   questions (quotes, captures), with the time they were made: a
                   re-audit within the TTL reads them back and makes no request.

The migration is additive: the tables are created when missing, in one
transaction, so a link database written before they existed keeps every row and
stays readable by older versions (which do not look at these tables). The
values come in as plain numbers and strings: computing a fingerprint is
:mod:`wikicore.sources`' job, storing it this module's.

The file is not trusted: a row that does not hold what this module writes
(a bad date, a malformed hash, non-JSON answer) is skipped and counted in
:attr:`SourceHistory.damaged`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import sqlitecache
from ..errors import InvalidInput

__all__ = ["FingerprintRow", "SourceHistory"]

Clock = Callable[[], _dt.datetime]

#: Seconds to wait for another process's write lock (the link checker's and archive cache's wait alike).
LOCK_TIMEOUT = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fingerprints (
    url        TEXT NOT NULL,
    kind       TEXT NOT NULL,     -- 'live' or 'capture'
    length     INTEGER NOT NULL,  -- characters of the normal form
    sha256     TEXT NOT NULL,     -- hex of the normal form's SHA-256
    simhash    TEXT NOT NULL,     -- 16 hex digits (JSON and SQLite integers are signed)
    first_seen TEXT NOT NULL,     -- UTC, ISO 8601
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (url, kind, sha256)
);
CREATE TABLE IF NOT EXISTS source_checks (
    url        TEXT NOT NULL,
    asked      TEXT NOT NULL,     -- a hash of the questions (days, captures, quotes)
    checked_at TEXT NOT NULL,     -- UTC, ISO 8601
    answer     TEXT NOT NULL,     -- JSON, written and read by wikicore.audit.quotes
    PRIMARY KEY (url, asked)
);
"""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _aware(text: Any) -> _dt.datetime:
    when = _dt.datetime.fromisoformat(str(text))
    if when.tzinfo is None:
        raise ValueError("naive time")
    return when


@dataclass(frozen=True)
class FingerprintRow:
    """One distinct text seen at a url: its fingerprint and when it was first and last seen."""

    url: str
    kind: str
    length: int
    sha256: str
    simhash: int
    first_seen: _dt.datetime
    last_seen: _dt.datetime


class SourceHistory:
    """The fingerprint and source-check tables of a link database (``path`` None: in memory).

    Thread-safe: one connection behind a lock, as the other tables' owners do.
    """

    def __init__(self, path: Path | None, *, clock: Clock | None = None) -> None:
        self.path = path
        self._clock = clock or _utcnow
        self._lock = threading.Lock()
        self.damaged = 0
        if path is not None:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(f"{path}: cannot create the cache's folder ({exc.strerror or exc})") from exc
            if Path(path).is_dir():
                raise InvalidInput(f"{path}: is a folder, not a cache file")
        try:
            self._conn = sqlite3.connect(
                ":memory:" if path is None else str(path), timeout=LOCK_TIMEOUT, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise InvalidInput(f"{path}: cannot open the cache: {exc}") from exc
        with sqlitecache.opening(self._conn, path):
            with self._conn:
                if path is not None:
                    self._conn.execute("PRAGMA journal_mode=WAL")
                present = {
                    row[0]
                    for row in self._conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name IN ('fingerprints', 'source_checks')"
                    )
                }
                if len(present) < 2:  # writing only when needed keeps opening free of write locks
                    self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SourceHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with sqlitecache.writing(self.path):
            with self._lock, self._conn:
                self._conn.execute(sql, params)

    # fingerprints ---------------------------------------------------------------

    def record(
        self, url: str, kind: str, length: int, sha256: str, simhash: int, when: _dt.datetime | None = None
    ) -> None:
        """Note that ``url`` showed this text (``kind`` ``live`` or ``capture``) at ``when`` (default: now)."""
        stamp = (when or self._clock()).astimezone(_dt.UTC).isoformat()
        self._write(
            "INSERT INTO fingerprints VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url, kind, sha256) DO UPDATE SET "
            "first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
            (url, kind, length, sha256, f"{simhash:016x}", stamp, stamp),
        )

    def fingerprints(self, url: str, kind: str = "live") -> list[FingerprintRow]:
        """Every distinct text seen at ``url``, oldest first; damaged rows are skipped (and counted)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT url, kind, length, sha256, simhash, first_seen, last_seen FROM fingerprints "
                "WHERE url = ? AND kind = ? ORDER BY first_seen",
                (url, kind),
            ).fetchall()
        found: list[FingerprintRow] = []
        for row in rows:
            try:
                if not (_HEX64.fullmatch(str(row[3])) and _HEX16.fullmatch(str(row[4]))):
                    raise ValueError("malformed hash")
                found.append(FingerprintRow(row[0], row[1], int(row[2]), row[3], int(row[4], 16),
                                            _aware(row[5]), _aware(row[6])))
            except (TypeError, ValueError):
                self.damaged += 1
        return found

    def changed_since(self, url: str, kind: str = "live") -> _dt.datetime | None:
        """When the text now at ``url`` was first seen, if an earlier, different text was seen before it."""
        rows = self.fingerprints(url, kind)
        if len(rows) < 2:
            return None
        latest = max(rows, key=lambda row: row.last_seen)
        return latest.first_seen if any(row.first_seen < latest.first_seen for row in rows) else None

    # source checks ----------------------------------------------------------------

    def answer(self, url: str, asked: str, ttl: _dt.timedelta) -> Any | None:
        """The stored answer (parsed JSON) to ``asked`` about ``url``, if younger than ``ttl``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT checked_at, answer FROM source_checks WHERE url = ? AND asked = ?", (url, asked)
            ).fetchone()
        if row is None:
            return None
        try:
            checked = _aware(row[0])
            answer = json.loads(row[1])
        except (TypeError, ValueError):
            self.damaged += 1
            return None
        now = self._clock()
        if now - checked >= ttl or checked > now + _dt.timedelta(days=1):
            return None  # stale, or stamped in the future (a clock gone wrong): ask again
        return answer

    def put_answer(self, url: str, asked: str, answer: Any) -> None:
        """Store the answer to ``asked`` about ``url`` (JSON-able), replacing an older one."""
        self._write(
            "INSERT OR REPLACE INTO source_checks VALUES (?, ?, ?, ?)",
            (url, asked, self._clock().astimezone(_dt.UTC).isoformat(), json.dumps(answer, ensure_ascii=False)),
        )
