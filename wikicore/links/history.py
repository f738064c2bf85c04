"""Link-health history: every observation of every URL, in an embedded SQLite file.

"Dead" as a lasting judgement needs history: one failed check is a
fact about one moment, so we keep every observation (time, verdict, HTTP status,
final URL, redirect chain, error) and apply IABot's rule: a URL is
*confirmed dead* only after ``failures`` dead observations spaced at least
``spacing`` apart (defaults 3 and 3 days), with no live observation since.

Observations younger than a TTL are reused instead of a request (:meth:`LinkDB.fresh`).
:meth:`LinkDB.state` answers both questions about a URL (fresh? how far along the
dead rule?) in one query: the rows since its last live observation.

A failure of any kind counts towards "confirmed dead": ``dead`` (404,
410, no such name) and ``error`` (refused, timed out, TLS, 5xx) alike, so a site
refusing connections for three checks three days apart is confirmed dead too.

The file is validated on read (it may be old, copied or damaged): a row with an unknown status, a date
that is not our fixed-width UTC form (naive or garbled), or a non-JSON
redirect list is skipped, and :attr:`LinkDB.damaged` counts such rows so the
audit can say so once. A file that is not an SQLite database, or one of a newer
schema, is refused (:class:`~wikicore.errors.InvalidInput`, exit 2), as is a
path where no file can be created. A database another process holds locked is
reported as in use after a short wait instead of a silent 30 s one.

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

from ..errors import InvalidInput
from ..net.config import DEAD_FAILURES, DEAD_SPACING, TTL

__all__ = [
    "DEAD_FAILURES",
    "DEAD_SPACING",
    "FAILURE_STATUSES",
    "KNOWN_STATUSES",
    "SCHEMA_VERSION",
    "SUCCESS_STATUSES",
    "TTL",
    "Clock",
    "DeadState",
    "LinkDB",
    "Observation",
    "UrlState",
    "dead_state",
    "utc_now",
]

#: Schema version kept in ``PRAGMA user_version``; bump with a migration.
SCHEMA_VERSION = 1
#: Verdicts that count as a failure towards "confirmed dead": gone, or failing to answer at all.
FAILURE_STATUSES = frozenset({"dead", "error"})
#: Verdicts that reset the failure count. ``blocked`` and ``soft-404`` neither count
#: nor reset: the server answered, and says nothing certain about the page being gone.
SUCCESS_STATUSES = frozenset({"live"})
#: Every status an observation may have; a row with another one is damaged.
KNOWN_STATUSES = frozenset({"live", "dead", "soft-404", "blocked", "error", "invalid", "unchecked", "no-url"})
#: Seconds to wait for another process's lock when opening the file, before saying it is in use.
OPEN_WAIT = 2.0
#: Seconds a write waits for another process's short transaction (batches are small).
WRITE_WAIT = 30.0

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
    """Our fixed-width UTC form only (``2026-03-01T00:00:00.000000Z``); anything else is damage."""
    if len(text) != 27 or text[10] != "T" or not text.endswith("Z"):
        raise ValueError(f"not a UTC timestamp of ours: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


@dataclass(frozen=True)
class UrlState:
    """What the database knows of one URL: its latest observation and the dead-rule standing."""

    latest: Observation | None
    dead: DeadState
    #: The readable rows since the last live observation (that one included), oldest first.
    history: tuple[Observation, ...] = ()

    def fresh(self, ttl: timedelta, now: datetime) -> Observation | None:
        """The latest observation if younger than ``ttl``."""
        if self.latest is None or now - self.latest.checked_at >= ttl:
            return None
        return self.latest


_Row = tuple[object, object, object, object, object, object, object, object]


class LinkDB:
    """The observation store. ``LinkDB(":memory:")`` works for tests and one-off runs.

    Usable as a context manager; :meth:`close` when done.
    """

    def __init__(self, path: str | Path, *, clock: Clock | None = None) -> None:
        self.path = str(path)
        self.clock: Clock = clock or utc_now
        #: Damaged rows met so far (skipped); ids, so each is counted once.
        self._damaged: set[int] = set()
        if self.path != ":memory:":
            target = Path(self.path)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(
                    f"{self.path}: cannot create the folder for the cache: {exc.strerror or exc}"
                ) from None
            if target.is_dir():
                raise InvalidInput(f"{self.path}: is a folder, not a cache file")
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=OPEN_WAIT, isolation_level=None)
        except sqlite3.Error as exc:
            raise InvalidInput(f"{self.path}: cannot open the cache: {exc}") from None
        try:
            self._setup()
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise InvalidInput(
                    f"{self.path} is in use by another process (another audit?); wait for it or pass another --cache"
                ) from None
            raise InvalidInput(f"{self.path}: cannot use the cache: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise InvalidInput(f"{self.path} is not a wikicore link database: {exc}") from None
        except InvalidInput:
            self._conn.close()
            raise
        self._conn.execute(f"PRAGMA busy_timeout={int(WRITE_WAIT * 1000)}")

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
            if version != SCHEMA_VERSION:
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @property
    def damaged(self) -> int:
        """How many damaged rows (unknown status, bad date, non-JSON field) were skipped so far."""
        with self._lock:
            return len(self._damaged)

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
        """Append observations in one transaction (the checker writes a batch at a time)."""
        rows = [
            (o.url, _stamp(o.checked_at), str(o.status), o.http_status, o.final_url, json.dumps(list(o.redirects)),
             o.error)
            for o in observations
        ]
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
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

    _SELECT = "SELECT id, url, checked_at, status, http_status, final_url, redirects, error FROM observations"

    def _row(self, row: _Row) -> Observation | None:
        """The observation a row holds, or ``None`` (counted as damaged) if it does not hold one."""
        ident, url, checked_at, status, http_status, final_url, redirects, error = row
        try:
            if not isinstance(url, str) or not isinstance(checked_at, str) or status not in KNOWN_STATUSES:
                raise ValueError("bad url, date or status")
            if http_status is not None and (not isinstance(http_status, int) or not 100 <= http_status <= 999):
                raise ValueError("bad http status")
            if final_url is not None and not isinstance(final_url, str):
                raise ValueError("bad final url")
            if error is not None and not isinstance(error, str):
                raise ValueError("bad error")
            hops = json.loads(redirects) if isinstance(redirects, str) else None
            if not isinstance(hops, list) or not all(isinstance(h, str) for h in hops):
                raise ValueError("bad redirects")
            when = _parse(checked_at)
        except (ValueError, TypeError, RecursionError):
            if isinstance(ident, int):
                with self._lock:
                    self._damaged.add(ident)
            return None
        return Observation(url, when, str(status), http_status, final_url, tuple(hops), error)

    def _rows(self, rows: list[_Row]) -> list[Observation]:
        return [obs for obs in map(self._row, rows) if obs is not None]

    def latest(self, url: str) -> Observation | None:
        """The most recent (readable) observation of ``url``, if any."""
        with self._lock:
            rows = self._conn.execute(
                self._SELECT + " WHERE url = ? ORDER BY checked_at DESC, id DESC LIMIT 8", (url,)
            ).fetchall()
        found = self._rows(rows)
        return found[0] if found else None

    def history(self, url: str) -> list[Observation]:
        """Every (readable) observation of ``url``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                self._SELECT + " WHERE url = ? ORDER BY checked_at, id", (url,)
            ).fetchall()
        return self._rows(rows)

    def state(self, url: str, failures: int = DEAD_FAILURES, spacing: timedelta = DEAD_SPACING) -> UrlState:
        """The latest observation of ``url`` and its dead-rule standing, in one query.

        Only the rows since the last live observation are read (the rule
        ignores what came before it), through the ``(url, checked_at)`` index.
        """
        with self._lock:
            rows = self._conn.execute(
                self._SELECT + " WHERE url = ?1 AND checked_at >= coalesce("  # noqa: S608 - constants only
                "(SELECT max(checked_at) FROM observations WHERE url = ?1 AND status = 'live'"
                " AND checked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z'), '')"
                " ORDER BY checked_at, id",
                (url,),
            ).fetchall()
        history = self._rows(rows)
        return UrlState(history[-1] if history else None, dead_state(history, failures, spacing), tuple(history))

    def fresh(self, url: str, ttl: timedelta = TTL, now: datetime | None = None) -> Observation | None:
        """The latest observation of ``url`` if it is younger than ``ttl``, else ``None``."""
        return self.state(url).fresh(ttl, now or self.clock())

    def dead_state(
        self, url: str, failures: int = DEAD_FAILURES, spacing: timedelta = DEAD_SPACING
    ) -> DeadState:
        """Apply the dead-link rule to the history of ``url``.

        Dead observations since the last live one are counted; walking them in
        time order, one counts towards confirmation only if it is at least
        ``spacing`` after the previous counted one (three checks in one hour are
        one outage, not three). Confirmed when ``failures`` are counted.
        """
        return self.state(url, failures, spacing).dead


def dead_state(
    history: Iterable[Observation], failures: int = DEAD_FAILURES, spacing: timedelta = DEAD_SPACING
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
