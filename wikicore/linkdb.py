"""Link-health history: every observation of every URL, in an embedded SQLite file.

"Dead" as a lasting judgement needs history (issue 4): one failed check is a
fact about one moment, so we keep every observation (time, verdict, HTTP status,
final URL, redirect chain, error) and apply IABot's rule: a URL is
*confirmed dead* only after ``failures`` dead observations spaced at least
``spacing`` apart (defaults 3 and 3 days), with no live observation since.

Observations younger than a TTL are reused instead of a request (:meth:`LinkDB.fresh`).

The database uses WAL journalling so readers never block the writer, one
connection shared by the checker's worker threads behind a lock (writes are a
few microseconds; the network is the bottleneck), and ``PRAGMA user_version``
for its schema version.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from .errors import InvalidInput
from .net.config import DEAD_FAILURES, DEAD_SPACING, TTL

__all__ = [
    "DEAD_FAILURES",
    "DEAD_SPACING",
    "FAILURE_STATUSES",
    "SCHEMA_VERSION",
    "SUCCESS_STATUSES",
    "TTL",
    "Clock",
    "DeadState",
    "LinkDB",
    "Observation",
    "dead_state",
    "utc_now",
]

#: Schema version kept in ``PRAGMA user_version``; bump with a migration.
SCHEMA_VERSION = 1
#: Verdicts that count as a failure towards "confirmed dead".
FAILURE_STATUSES = frozenset({"dead"})
#: Verdicts that reset the failure count. ``error``, ``blocked`` and ``soft-404``
#: neither count nor reset: they say nothing certain about the page being gone.
SUCCESS_STATUSES = frozenset({"live"})

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware UTC datetime (injectable in tests)."""


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Observation:
    """One check of one URL at one moment."""

    url: str
    checked_at: datetime
    status: str
    http_status: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DeadState:
    """Where a URL stands under the dead-link rule.

    ``failures`` counts dead observations since the last live one; ``first_failed``
    is the first of them; ``confirmed_dead`` applies the spacing rule.
    """

    failures: int = 0
    first_failed: datetime | None = None
    confirmed_dead: bool = False


_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    checked_at  TEXT NOT NULL,   -- ISO 8601 UTC, fixed width so text order is time order
    status      TEXT NOT NULL,
    http_status INTEGER,
    final_url   TEXT,
    redirects   TEXT NOT NULL DEFAULT '[]',  -- JSON array of hop URLs
    error       TEXT
);
CREATE INDEX IF NOT EXISTS observations_url_time ON observations (url, checked_at);
"""


def _stamp(when: datetime) -> str:
    if when.tzinfo is None:
        raise InvalidInput("observation times must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class LinkDB:
    """The observation store. ``LinkDB(":memory:")`` works for tests and one-off runs.

    Usable as a context manager; :meth:`close` when done.
    """

    def __init__(self, path: str | Path, *, clock: Clock | None = None) -> None:
        self.path = str(path)
        self.clock: Clock = clock or utc_now
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise InvalidInput(f"{self.path} is not a wikicore link database: {exc}") from exc

    def _setup(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise InvalidInput(
                    f"{self.path} has schema version {version}; this wikicore knows {SCHEMA_VERSION}"
                )
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: durable at checkpoints, no fsync per observation; losing
            # the last few observations in a power cut only costs a re-check.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def __enter__(self) -> LinkDB:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    # writing -------------------------------------------------------------------

    def record(self, obs: Observation) -> None:
        """Append one observation."""
        self.record_many([obs])

    def record_many(self, observations: Iterable[Observation]) -> None:
        """Append observations in one transaction."""
        rows = [
            (o.url, _stamp(o.checked_at), str(o.status), o.http_status, o.final_url, json.dumps(list(o.redirects)),
             o.error)
            for o in observations
        ]
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT INTO observations (url, checked_at, status, http_status, final_url, redirects, error)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # reading -------------------------------------------------------------------

    _SELECT = "SELECT url, checked_at, status, http_status, final_url, redirects, error FROM observations"

    @staticmethod
    def _row(row: tuple[str, str, str, int | None, str | None, str, str | None]) -> Observation:
        url, checked_at, status, http_status, final_url, redirects, error = row
        return Observation(url, _parse(checked_at), status, http_status, final_url, tuple(json.loads(redirects)), error)

    def latest(self, url: str) -> Observation | None:
        """The most recent observation of ``url``, if any."""
        with self._lock:
            row = self._conn.execute(
                self._SELECT + " WHERE url = ? ORDER BY checked_at DESC, id DESC LIMIT 1",
                (url,),
            ).fetchone()
        return self._row(row) if row else None

    def history(self, url: str) -> list[Observation]:
        """Every observation of ``url``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                self._SELECT + " WHERE url = ? ORDER BY checked_at, id", (url,)
            ).fetchall()
        return [self._row(r) for r in rows]

    def fresh(self, url: str, ttl: timedelta = TTL, now: datetime | None = None) -> Observation | None:
        """The latest observation of ``url`` if it is younger than ``ttl``, else ``None``."""
        latest = self.latest(url)
        if latest is None:
            return None
        now = now or self.clock()
        return latest if now - latest.checked_at < ttl else None

    def dead_state(
        self, url: str, failures: int = DEAD_FAILURES, spacing: timedelta = DEAD_SPACING
    ) -> DeadState:
        """Apply the dead-link rule to the history of ``url``.

        Dead observations since the last live one are counted; walking them in
        time order, one counts towards confirmation only if it is at least
        ``spacing`` after the previous counted one (three checks in one hour are
        one outage, not three). Confirmed when ``failures`` are counted.
        """
        return dead_state(self.history(url), failures, spacing)


def dead_state(
    history: list[Observation], failures: int = DEAD_FAILURES, spacing: timedelta = DEAD_SPACING
) -> DeadState:
    """The rule of :meth:`LinkDB.dead_state` over an oldest-first ``history``."""
    streak: list[datetime] = []
    for obs in history:
        if obs.status in SUCCESS_STATUSES:
            streak = []
        elif obs.status in FAILURE_STATUSES:
            streak.append(obs.checked_at)
    if not streak:
        return DeadState()
    counted = 0
    last: datetime | None = None
    for when in streak:
        if last is None or when - last >= spacing:
            counted += 1
            last = when
    return DeadState(len(streak), streak[0], counted >= failures)
