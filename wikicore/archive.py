"""The archive protocol and its Wayback Machine implementation.

Everything else in wikicore talks to web archives through :class:`Archive` and
the frozen :class:`Snapshot` records, so no other module imports an archive
client and tests can hand in any object with the same three methods.

What the Wayback implementation asks, and how
=============================================

``nearest()`` finds, for each reference, the HTTP 200 capture nearest **before**
the day it was cited, else the nearest after (an archived 404 page is not an
archive of the source). It costs a handful of requests for hundreds of
references, because it uses the availability API's batch form:

1. ``POST {base}/wayback/available`` with header ``Wayback-Api-Version: 2`` and
   a body of newline-separated query strings (``url``, ``timestamp``,
   ``closest=before``, ``statuscodes=200``, ``tag``), at most
   :data:`BATCH_SIZE` a request; the answer is ``{"results": [...]}`` matched
   back to the queries by ``tag``.
2. The same with ``closest=after`` for the misses.
3. Only for what is still missing, and at most :data:`MAX_CDX_LOOKUPS` per call:
   the CDX server (``closest=TS&sort=closest&filter=statuscode:200&limit=5``,
   the documented closest-match query of the wayback-cdx-server; five rows, not
   one, so that a capture before the date beats a slightly nearer one after it;
   ``limit=-1`` for "latest"), behind the process-wide limit
   :data:`CDX_REQUESTS_PER_SECOND`.

Two passes of at most 100 URLs make 200 references cost 2-4 requests, within
the 0.02 requests-per-reference budget of issue 4; the fallbacks below cost
more, and say so in ``requests_made``.

If the batch endpoint fails (an older or partial Wayback-compatible server, a
4xx/5xx, a body that is not the documented JSON) the passes fall back to one
``GET {base}/wayback/available?url=...&timestamp=...`` per URL - slower (one
request a second) but still bounded; a 404/405/501 marks the batch form as
missing so the client stops asking for it. A connection failure is not a
reason to fall back: it raises :class:`~wikicore.errors.NetworkError` at once
rather than repeating itself once per URL.

Politeness lives in one :class:`ArchiveGate` per archive host, shared by every
:class:`WaybackArchive` in the process: a minimum interval per endpoint family
and, after any 429, a pause of **all** archive calls for ``Retry-After`` seconds
(:data:`DEFAULT_RETRY_AFTER` when absent). Every request has a timeout and a
bounded number of retries; the gate's clock and sleep are injectable so tests
never wait for real.

Where waybackpy is used, and where not
======================================

waybackpy 3.0.6 is the named client, so its sound parts are used and nothing
outside this module imports it:

* ``waybackpy.cdx_snapshot.CDXSnapshot`` parses each CDX line (the same code
  reads the recorded real responses in the tests and our own server's answers);
* ``waybackpy.cdx_utils.full_url`` builds CDX query strings (it repeats
  ``filter`` keys the way the CDX server expects);
* ``waybackpy.cdx_utils.check_for_blocked_site`` recognises the CDX server's
  "Blocked Site Error" body (the site's owner excluded it: no snapshot, not an
  error).

Its HTTP layer is not used, and the Wayback APIs are called directly with the
one ``requests.Session`` of :class:`WaybackArchive`, because (measured on 3.0.6):

* ``WaybackMachineAvailabilityAPI`` sleeps 5 s before each new instance's first
  request, makes 3 calls and 15 s per URL without a snapshot, has no timeout
  and no batch form, so 200 references would cost minutes and hundreds of calls;
* ``WaybackMachineCDXServerAPI`` opens a new session per page (no connection
  reuse, no shared rate limit), has no timeout and ignores 429 - and ignoring
  429s for a minute gets an IP blocked for an hour;
* ``WaybackMachineSaveAPI`` opens its own session, sleeps fixed 5-10 s between
  tries and has no timeout.

Its endpoints are hard-coded too; the ones here all hang off one configurable
base URL (``--wayback-url``, ``WIKICORE_WAYBACK_URL``) so tests and the demo run
against ``wikicore.testing.wayback.FakeWayback`` on 127.0.0.1.
"""

from __future__ import annotations

import calendar
import dataclasses
import email.utils
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from waybackpy.cdx_snapshot import CDXSnapshot
from waybackpy.cdx_utils import check_for_blocked_site, full_url
from waybackpy.exceptions import BlockedSiteError

from . import __version__
from .errors import InvalidArticle, InvalidInput, NetworkError, Problem, RateLimited
from .models import Article, Reference, UrlStatus
from .urls import parse_archive_url
from .urls import parse_wayback_timestamp as _parse_timestamp

__all__ = [
    "BATCH_SIZE",
    "CDX_REQUESTS_PER_SECOND",
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRY_AFTER",
    "ENV_WAYBACK_URL",
    "Archive",
    "ArchiveGate",
    "Endpoints",
    "RescueAction",
    "RescueChange",
    "RescueResult",
    "Snapshot",
    "SnapshotQuery",
    "WaybackArchive",
    "link_health",
    "parse_archive_url",
    "parse_cdx_lines",
    "reference_date",
    "rescue_article",
    "shared_gate",
    "wayback_base_from_env",
]

# --- limits ------------------------------------------------------------------

#: The availability API's batch form takes at most 100 URLs a request.
BATCH_SIZE = 100

#: The Internet Archive limits the CDX server to 30 requests a minute per IP
#: (0.5/s) and asks clients to stay at 80% of its hard limits; ignoring 429s for
#: a minute gets the IP blocked for an hour.
CDX_REQUESTS_PER_SECOND = 0.8 * 30 / 60

#: Playback (``/web/``) is limited to 600 requests a minute; 80% of that.
MEMENTO_REQUESTS_PER_SECOND = 0.8 * 600 / 60

#: The availability API has no published limit; one request a second is ample
#: when each request carries up to 100 URLs.
AVAILABILITY_REQUESTS_PER_SECOND = 1.0

#: Save Page Now refuses anonymous clients beyond about 15 captures a minute
#: (its 429 message says so); we stay well under, at 6 a minute.
SAVE_REQUESTS_PER_SECOND = 6 / 60

#: Pause after a 429 without ``Retry-After`` (the value IA's own clients use).
DEFAULT_RETRY_AFTER = 60.0

#: A ``Retry-After`` longer than this is not slept through: until it ends, every
#: call raises :class:`~wikicore.errors.RateLimited` at once (come back later).
MAX_RETRY_AFTER = 300.0

#: CDX lookups per ``nearest()`` call (each costs 2.5 s at the CDX limit).
MAX_CDX_LOOKUPS = 25

#: Rows asked of the CDX server around the reference date, so that the nearest
#: capture *before* it can win over a slightly nearer one after it.
CDX_CLOSEST_LIMIT = 5

#: (connect, read) timeouts in seconds; Save Page Now gets a longer read.
DEFAULT_TIMEOUT = (5.0, 30.0)
SAVE_TIMEOUT = (5.0, 120.0)

#: Retries after the first try, for connection errors, timeouts, 429 and 5xx.
DEFAULT_RETRIES = 2

#: Archive-internal redirects followed by :meth:`WaybackArchive.resolves`.
MAX_REDIRECTS = 5

USER_AGENT = f"wikicore/{__version__} (+https://github.com/wikicore; citation archive checks)"

ENV_WAYBACK_URL = "WIKICORE_WAYBACK_URL"

#: The Internet Archive's own hosts: availability lives on archive.org, the rest
#: on web.archive.org. Any other base URL is one root for all four.
DEFAULT_BASE_URL = "https://web.archive.org"

_TS_FORMAT = "%Y%m%d%H%M%S"


# --- records -----------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """One capture in a web archive.

    ``timestamp`` is timezone-aware UTC; ``status_code`` is the HTTP status the
    archive recorded (None when it did not say, e.g. a fresh Save Page Now
    capture); ``archive_url`` is ``<web root>/<14-digit timestamp>/<original>``.
    """

    original: str
    timestamp: datetime
    status_code: int | None
    archive_url: str

    def distance_days(self, to: date) -> int:
        """Whole days between the capture's UTC date and ``to``, in either direction (never negative)."""
        return abs((self.timestamp.astimezone(UTC).date() - to).days)

    @property
    def wayback_timestamp(self) -> str:
        """The capture time as the archive writes it: ``YYYYMMDDhhmmss``."""
        return self.timestamp.astimezone(UTC).strftime(_TS_FORMAT)


@dataclass(frozen=True)
class SnapshotQuery:
    """Which capture to look for: of ``url``, nearest before ``when`` (None: the latest)."""

    url: str
    when: date | None = None


@runtime_checkable
class Archive(Protocol):
    """What wikicore needs of a web archive. Implementations must be safe to call repeatedly.

    ``nearest`` answers every query (None when there is no HTTP 200 capture);
    ``resolves`` says whether a stored archive link leads to a real 200 capture;
    ``save`` asks for a new capture now. Whole-operation failures raise
    :class:`~wikicore.errors.NetworkError` (or :class:`~wikicore.errors.RateLimited`).
    """

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """The 200 capture nearest before each query's date, else after it."""
        ...

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The 200 capture ``archive_url`` leads to, or None."""
        ...

    def save(self, url: str) -> Snapshot | None:
        """Ask the archive to capture ``url`` now; the new snapshot, or None."""
        ...


# --- archive URLs ----------------------------------------------------------------

def wayback_base_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The base URL set in ``WIKICORE_WAYBACK_URL``, or None to use the Internet Archive."""
    value = (os.environ if environ is None else environ).get(ENV_WAYBACK_URL, "").strip()
    return value or None


@dataclass(frozen=True)
class Endpoints:
    """The four Wayback endpoints, all derived from one base URL."""

    available: str
    cdx: str
    web: str
    save: str

    @classmethod
    def from_base(cls, base_url: str = DEFAULT_BASE_URL) -> Endpoints:
        """Endpoints under ``base_url``; the Internet Archive's own root maps to its real hosts (https)."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"wayback url {base_url!r} is not an http(s) URL")
        root = base_url.rstrip("/")
        if parts.netloc.lower() in ("web.archive.org", "archive.org") and not parts.path.strip("/"):
            return cls(
                available="https://archive.org/wayback/available",
                cdx="https://web.archive.org/cdx/search/cdx",
                web="https://web.archive.org/web/",
                save="https://web.archive.org/save/",
            )
        return cls(
            available=f"{root}/wayback/available",
            cdx=f"{root}/cdx/search/cdx",
            web=f"{root}/web/",
            save=f"{root}/save/",
        )


# --- parsing -------------------------------------------------------------------


def _status(value: Any) -> int | None:
    """A recorded HTTP status (``"200"``, ``200``, ``"-"``) as an int, or None."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def parse_cdx_lines(text: str) -> list[CDXSnapshot]:
    """Parse the CDX server's default output (space-separated lines of 7 fields) with waybackpy.

    Blank lines, a trailing resume key and malformed lines are skipped: one bad
    row must not hide the good ones.
    """
    rows: list[CDXSnapshot] = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) != 7 or not fields[1].isdigit() or len(fields[1]) != 14:
            continue
        keys = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
        try:
            rows.append(CDXSnapshot(dict(zip(keys, fields, strict=True))))
        except ValueError:
            continue
    return rows


def parse_availability(payload: Any) -> dict[str, Any] | None:
    """The ``closest`` record of one availability answer, or None when there is none."""
    if not isinstance(payload, dict):
        return None
    snapshots = payload.get("archived_snapshots")
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is False:
        return None
    if not isinstance(closest.get("timestamp"), str) or not isinstance(closest.get("url"), str):
        return None
    return closest


# --- politeness ------------------------------------------------------------------


class ArchiveGate:
    """Politeness for one archive host, shared by every client of it in the process.

    Each endpoint family (``available``, ``cdx``, ``web``, ``save``) keeps a
    minimum interval between request starts; :meth:`pause` (called on a 429)
    holds **every** family until the pause ends. A pause longer than
    :data:`MAX_RETRY_AFTER` is not slept through: until it ends, :meth:`wait`
    raises :class:`~wikicore.errors.RateLimited` at once, so a command fails
    with a clear message instead of hanging. ``clock`` and ``sleep`` are
    injectable, so a test can observe a 60 s pause without waiting for it.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rates: Mapping[str, float] | None = None,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        default_rates = {
            "available": AVAILABILITY_REQUESTS_PER_SECOND,
            "cdx": CDX_REQUESTS_PER_SECOND,
            "web": MEMENTO_REQUESTS_PER_SECOND,
            "save": SAVE_REQUESTS_PER_SECOND,
        }
        default_rates.update(rates or {})
        self.intervals = {kind: (1.0 / rate if rate > 0 else 0.0) for kind, rate in default_rates.items()}
        self.paused_until = 0.0
        self.refused_until = 0.0
        self.pauses: list[float] = []  # every pause requested, in seconds: for tests and reports
        self._next_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, kind: str) -> None:
        """Block until a request of ``kind`` may start, then reserve its slot."""
        while True:
            with self._lock:
                now = self.clock()
                if now < self.refused_until:
                    wait = self.refused_until - now
                    raise RateLimited(f"the archive asked us to wait; {wait:.0f} s remain", wait)
                if now < self.paused_until:
                    delay = self.paused_until - now
                else:
                    next_at = self._next_at.get(kind, 0.0)
                    if now >= next_at:
                        self._next_at[kind] = now + self.intervals.get(kind, 0.0)
                        return
                    delay = next_at - now
            self.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Hold every archive call for ``seconds`` from now (a 429 was received)."""
        with self._lock:
            self.pauses.append(seconds)
            until = self.clock() + seconds
            if seconds > MAX_RETRY_AFTER:
                self.refused_until = max(self.refused_until, until)
            else:
                self.paused_until = max(self.paused_until, until)


_SHARED_GATES: dict[str, ArchiveGate] = {}
_SHARED_GATES_LOCK = threading.Lock()


def shared_gate(base_url: str) -> ArchiveGate:
    """The process-wide gate of the archive at ``base_url`` (one per host and port)."""
    host = urlsplit(base_url).netloc.lower()
    with _SHARED_GATES_LOCK:
        return _SHARED_GATES.setdefault(host, ArchiveGate())


def _retry_after(response: requests.Response, now: Callable[[], datetime]) -> float:
    """``Retry-After`` in seconds (delta or HTTP date); the default when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return DEFAULT_RETRY_AFTER
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


# --- the Wayback client --------------------------------------------------------


class WaybackArchive:
    """:class:`Archive` over the Wayback Machine's availability, CDX, playback and save APIs.

    ``base_url`` is one root under which ``/wayback/available``,
    ``/cdx/search/cdx``, ``/web/`` and ``/save/`` live (the default is the
    Internet Archive's hosts). ``requests_made`` counts every HTTP request,
    retries included, so callers can hold the requests-per-reference budget.

    ``gate`` defaults to the process-wide gate of the host; passing ``clock`` or
    ``sleep`` without a gate gives this instance a private one (tests). A
    session handed in keeps its headers, except that a default ``python-requests``
    User-Agent is replaced by wikicore's versioned one.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        save_timeout: tuple[float, float] = SAVE_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        use_batch: bool = True,
        use_cdx: bool = True,
        max_cdx_lookups: int = MAX_CDX_LOOKUPS,
        gate: ArchiveGate | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoints = Endpoints.from_base(base_url)
        self.session = session or requests.Session()
        agent = self.session.headers.get("User-Agent")
        if not agent or str(agent).startswith("python-requests"):
            self.session.headers["User-Agent"] = USER_AGENT
        self.timeout = timeout
        self.save_timeout = save_timeout
        self.retries = retries
        self.use_batch = use_batch
        self.use_cdx = use_cdx
        self.max_cdx_lookups = max_cdx_lookups
        if gate is None:
            gate = (
                ArchiveGate(clock=clock or time.monotonic, sleep=sleep or time.sleep)
                if clock or sleep
                else shared_gate(self.base_url)
            )
        self.gate = gate
        self.now = now or (lambda: datetime.now(UTC))
        self.requests_made = 0
        self.batch_failures = 0
        self.batch_unsupported = False
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WaybackArchive({self.base_url!r})"

    # --- HTTP ----------------------------------------------------------------

    def _request(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One polite request: gate, timeout, bounded retries on errors, 429 and 5xx.

        Returns the last response (the caller judges its status) unless every try
        failed at the connection level (:class:`NetworkError`) or the archive keeps
        answering 429 (:class:`RateLimited`).
        """
        attempt = 0
        while True:
            self.gate.wait(kind)
            with self._count_lock:
                self.requests_made += 1
            try:
                response = self.session.request(method, url, timeout=timeout or self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt >= self.retries:
                    raise NetworkError(f"archive request failed: {method} {url}: {error}") from error
                self.gate.sleep(_backoff(attempt))
                attempt += 1
                continue
            except requests.RequestException as error:  # a malformed URL or answer: retrying cannot help
                raise NetworkError(f"archive request failed: {method} {url}: {error}") from error
            if response.status_code == 429:
                delay = _retry_after(response, self.now)
                response.close()
                self.gate.pause(delay)
                if attempt >= self.retries or delay > MAX_RETRY_AFTER:
                    raise RateLimited(f"the archive asked us to wait {delay:.0f} s ({url})", delay)
                attempt += 1
                continue
            if response.status_code in (500, 502, 503, 504):
                if attempt < self.retries:
                    response.close()
                    self.gate.sleep(_backoff(attempt))
                    attempt += 1
                    continue
            return response

    # --- nearest -------------------------------------------------------------

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """The 200 capture nearest before each query's date, else after it (None: none found)."""
        results: dict[SnapshotQuery, Snapshot | None] = {}
        pending = list(dict.fromkeys(q for q in queries if _is_http(q.url)))
        for query in queries:
            results[query] = None
        for direction in ("before", "after"):
            if not pending:
                break
            if direction == "after":
                # "Latest" has nothing after it.
                pending = [q for q in pending if q.when is not None]
            found = self._availability(pending, direction)
            results.update(found)
            pending = [q for q in pending if found.get(q) is None]
        if self.use_cdx:
            for query in [q for q in dict.fromkeys(queries) if results[q] is None and _is_http(q.url)][
                : self.max_cdx_lookups
            ]:
                results[query] = self._cdx_nearest(query)
        return results

    def _target(self, query: SnapshotQuery) -> str:
        """The timestamp to look around: the end of the cited day, or now for "latest"."""
        if query.when is None:
            return self.now().astimezone(UTC).strftime(_TS_FORMAT)
        return f"{query.when:%Y%m%d}235959"

    def _availability(self, queries: list[SnapshotQuery], direction: str) -> dict[SnapshotQuery, Snapshot | None]:
        found: dict[SnapshotQuery, Snapshot | None] = {}
        rest = list(queries)
        if self.use_batch and not self.batch_unsupported:
            for start in range(0, len(queries), BATCH_SIZE):
                chunk = queries[start : start + BATCH_SIZE]
                answer = self._batch(chunk, direction)
                if answer is None:  # the batch endpoint failed: fall back for the rest
                    self.batch_failures += 1
                    break
                found.update(answer)
            rest = [q for q in queries if q not in found]
        for query in rest:
            found[query] = self._single(query, direction)
        return found

    def _batch(self, chunk: list[SnapshotQuery], direction: str) -> dict[SnapshotQuery, Snapshot | None] | None:
        """One batch POST; None when the endpoint did not answer in the documented shape."""
        lines = [
            urlencode(
                {
                    "url": query.url,
                    "timestamp": self._target(query),
                    "closest": direction,
                    "statuscodes": "200",
                    "tag": str(index),
                }
            )
            for index, query in enumerate(chunk)
        ]
        # Connection failures propagate: if the archive is unreachable, single
        # GETs would fail the same way, hundreds of times.
        response = self._request(
            "available",
            "POST",
            self.endpoints.available,
            data="\n".join(lines).encode("utf-8"),
            headers={"Wayback-Api-Version": "2", "Content-Type": "application/x-www-form-urlencoded"},
        )
        with response:
            if response.status_code in (404, 405, 501):
                self.batch_unsupported = True  # this server lacks the batch form: stop asking
            if response.status_code != 200:
                return None
            try:
                payload = response.json()
            except ValueError:
                return None
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            return None
        answer: dict[SnapshotQuery, Snapshot | None] = dict.fromkeys(chunk)
        for item in results:
            if not isinstance(item, dict):
                continue
            try:
                query = chunk[int(str(item.get("tag")))]
            except (ValueError, IndexError):
                continue
            answer[query] = self._from_closest(query, parse_availability(item), direction)
        return answer

    def _single(self, query: SnapshotQuery, direction: str) -> Snapshot | None:
        """The fallback: one GET of the availability API for one URL."""
        params = {"url": query.url, "timestamp": self._target(query), "closest": direction, "status_code": "200"}
        response = self._request("available", "GET", self.endpoints.available, params=params)
        with response:
            if response.status_code != 200:
                if response.status_code >= 500:
                    raise NetworkError(f"availability API answered {response.status_code} for {query.url}")
                return None
            try:
                payload = response.json()
            except ValueError as error:
                raise NetworkError(f"availability API answered something that is not JSON for {query.url}") from error
        return self._from_closest(query, parse_availability(payload), direction)

    def _from_closest(self, query: SnapshotQuery, closest: dict[str, Any] | None, direction: str) -> Snapshot | None:
        """A snapshot from an availability record, if it is a 200 on the asked side of the date.

        The filters are re-applied here because a server may ignore ``closest`` or
        ``statuscodes`` (the single GET form documents neither reliably).
        """
        if closest is None:
            return None
        when = _parse_timestamp(str(closest["timestamp"]))
        status = _status(closest.get("status"))
        if when is None or status != 200:
            return None
        target = _parse_timestamp(self._target(query))
        assert target is not None
        if (direction == "before" and when > target) or (direction == "after" and when < target):
            return None
        return self._snapshot(query.url, when, status)

    def _snapshot(self, original: str, when: datetime, status: int | None) -> Snapshot:
        # The link is built from the URL the reference cites: the Wayback Machine
        # matches captures by canonical (SURT) key, so it replays the same capture,
        # and a checker comparing the link's original with `url` sees them agree.
        return Snapshot(
            original=original,
            timestamp=when,
            status_code=status,
            archive_url=f"{self.endpoints.web}{when.strftime(_TS_FORMAT)}/{original}",
        )

    def _cdx_nearest(self, query: SnapshotQuery) -> Snapshot | None:
        """Widen a miss with the CDX server: the 200 capture nearest the date, before preferred."""
        params: dict[str, str] = {"url": query.url, "filter": "statuscode:200"}
        if query.when is None:
            params["limit"] = "-1"  # the last capture
        else:
            params.update(closest=self._target(query), sort="closest", limit=str(CDX_CLOSEST_LIMIT))
        response = self._request("cdx", "GET", full_url(self.endpoints.cdx, params))
        with response:
            if response.status_code == 403:
                try:
                    check_for_blocked_site(response, query.url)
                except BlockedSiteError:
                    return None  # excluded from the Wayback Machine: no snapshot to offer
                raise NetworkError(f"CDX server refused {query.url} (403)")
            if response.status_code != 200:
                if response.status_code >= 500:
                    raise NetworkError(f"CDX server answered {response.status_code} for {query.url}")
                return None
            rows = parse_cdx_lines(response.text)
        candidates = [
            (when, row)
            for row in rows
            if _status(row.statuscode) == 200 and (when := _parse_timestamp(row.timestamp)) is not None
        ]
        if not candidates:
            return None
        if query.when is None:
            when, _ = max(candidates, key=lambda c: c[0])
            return self._snapshot(query.url, when, 200)
        target = _parse_timestamp(self._target(query))
        assert target is not None
        before = [c for c in candidates if c[0] <= target]
        when, _ = max(before, key=lambda c: c[0]) if before else min(candidates, key=lambda c: abs(c[0] - target))
        return self._snapshot(query.url, when, 200)

    # --- resolves ------------------------------------------------------------

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The 200 capture a stored archive link leads to, or None.

        The link is replayed in ``id_`` mode with redirects followed by hand: the
        Wayback Machine redirects an inexact timestamp to the nearest capture and
        replays archived redirects; the chain must end in a 200 memento. Replayed
        404s (archived error pages) and links that are not snapshots give None.
        """
        parsed = parse_archive_url(archive_url, base_url=self.base_url)
        if parsed is None:
            return None
        when, original = parsed
        url = f"{self.endpoints.web}{when.strftime(_TS_FORMAT)}id_/{original}"
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request("web", "GET", url, allow_redirects=False, stream=True)
            with response:
                status = response.status_code
                location = response.headers.get("Location")
                memento = response.headers.get("Memento-Datetime")
            if status in (301, 302, 303, 307, 308) and location:
                hop = parse_archive_url(urljoin(url, location), base_url=self.base_url)
                if hop is None:
                    return None  # left the archive: not a capture
                # Stay under our own root (a recorded or proxied answer may name
                # web.archive.org) and in id_ mode, whatever flags the hop carried.
                url = f"{self.endpoints.web}{hop[0].strftime(_TS_FORMAT)}id_/{hop[1]}"
                continue
            if status >= 500:
                raise NetworkError(f"the archive answered {status} for {archive_url}")
            if status != 200:
                return None
            final = parse_archive_url(url, base_url=self.base_url)
            assert final is not None
            captured = _memento_datetime(memento) or final[0]
            return self._snapshot(final[1], captured, 200)
        return None

    # --- save ------------------------------------------------------------------

    def save(self, url: str) -> Snapshot | None:
        """Ask Save Page Now to capture ``url``; the new snapshot, or None if it refused.

        The capture's address comes from ``Content-Location`` or ``Location`` (or a
        ``rel="memento"`` link), as the Wayback Machine sends it.
        """
        if not _is_http(url):
            return None
        response = self._request(
            "save", "GET", self.endpoints.save + url, timeout=self.save_timeout, allow_redirects=False, stream=True
        )
        with response:
            if response.status_code >= 400:
                return None
            candidates = [
                response.headers.get("Content-Location"),
                response.headers.get("Location"),
                *_memento_links(response.headers.get("Link", "")),
            ]
        for candidate in candidates:
            if not candidate:
                continue
            parsed = parse_archive_url(urljoin(self.endpoints.web, candidate), base_url=self.base_url)
            if parsed is not None:
                return self._snapshot(url, parsed[0], None)
        return None


def _backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt + 1``: 1, 2, 4... capped at 30."""
    return float(min(30, 2**attempt))


def _is_http(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in ("http", "https")


def _memento_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _memento_links(link_header: str) -> list[str]:
    """The targets of ``rel="memento"`` entries of a Link header."""
    return [m[1] for m in re.finditer(r'<([^>]+)>\s*;[^,<]*rel="[^"]*\bmemento\b', link_header)] if link_header else []


# --- rescue ----------------------------------------------------------------------


class RescueAction(StrEnum):
    """What ``rescue_article`` did for one reference."""

    FOUND = "found"  # an existing capture was linked
    SAVED = "saved"  # Save Page Now made a capture, which was linked


@dataclass(frozen=True)
class RescueChange:
    """One reference that gained an archive link: a line of the commit message."""

    ref_id: str
    url: str
    archive_url: str
    archive_date: str
    action: RescueAction
    url_status: str | None = None

    def describe(self) -> str:
        """``ref-id: url -> archive_url (found|saved YYYY-MM-DD)``."""
        return f"{self.ref_id}: {self.url} -> {self.archive_url} ({self.action.value} {self.archive_date})"


@dataclass(frozen=True)
class RescueResult:
    """The rescued article and what changed.

    ``missing`` lists ids of references still without an archive; ``skipped``
    those not saved because their link is known dead; ``save_error`` why Save
    Page Now was given up, if it was.
    """

    article: Article
    changes: tuple[RescueChange, ...] = ()
    missing: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    save_error: str | None = None

    def message(self, title: str | None = None) -> str:
        """A commit message: a summary line, then one line per rescued reference."""
        head = title or f"Archive links for {len(self.changes)} reference(s) of {self.article.slug}"
        body = [f"- {change.describe()}" for change in self.changes]
        if self.missing:
            body.append(f"No capture found for: {', '.join(self.missing)}")
        return "\n".join([head, "", *body]) if body else head


def reference_date(ref: Reference) -> date | None:
    """The day a reference should be archived near: its access date, else its publication date.

    A partial date stands for its last day (``2012-05`` → 2012-05-31), so that
    "before the access date" includes the whole period the editor named.
    """
    for value in (ref.access_date, ref.date):
        if not value:
            continue
        parts = [int(p) for p in value.split("-")]
        year = parts[0]
        month = parts[1] if len(parts) > 1 else 12
        day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
        return date(year, month, day)
    return None


def rescue_article(
    article: Article,
    archive: Archive,
    *,
    save_missing: bool = False,
    live_urls: set[str] | None = None,
    dead_urls: set[str] | None = None,
) -> RescueResult:
    """Give references with a ``url`` but no ``archive_url`` the capture nearest before they were cited.

    Like InternetArchiveBot, this only *adds* what it can vouch for:

    * ``archive_url``/``archive_date`` come from an existing HTTP 200 capture
      nearest before the access date (else the publication date), else after it;
    * ``url_status`` is set only when the caller knows: ``dead`` for urls in
      ``dead_urls`` (IABot's rule: confirmed dead), ``live`` for urls in
      ``live_urls``; an editor's value is never overwritten. CS1 shows a link
      with an archive and no url-status as dead, so callers that checked the
      links should pass what they found; without that knowledge nothing is claimed.
    * with ``save_missing``, Save Page Now is asked for references still without
      a capture, except those in ``dead_urls`` (a capture of a dead page is a
      capture of its error page); a new capture is used only if it replays as a
      200, which also shows the page was live, so it gets ``url_status: live``.
      Saves are rate-limited by the archive client; if saving fails as a whole
      (:class:`~wikicore.errors.NetworkError`), saving stops, ``save_error``
      says why, and what was found so far is still returned.

    Returns a new, re-validated article; the input is not modified.
    """
    live = live_urls or set()
    dead = dead_urls or set()
    # A url that is itself a snapshot link needs no archive of the archive.
    todo = [
        r
        for r in article.references
        if r.url and not r.archive_url and _is_http(r.url) and parse_archive_url(r.url) is None
    ]
    queries = {r.id: SnapshotQuery(r.url.strip(), reference_date(r)) for r in todo if r.url}
    found = archive.nearest(list(dict.fromkeys(queries.values()))) if queries else {}

    changes: list[RescueChange] = []
    missing: list[str] = []
    skipped: list[str] = []
    save_error: str | None = None
    saved_urls: dict[str, Snapshot | None] = {}
    updates: dict[str, dict[str, Any]] = {}
    for ref in todo:
        query = queries[ref.id]
        snapshot = found.get(query)
        action = RescueAction.FOUND
        if snapshot is None and save_missing:
            if query.url in dead:
                skipped.append(ref.id)
            elif save_error is None:
                if query.url not in saved_urls:  # two references citing one page: one save
                    try:
                        saved_urls[query.url] = _save_verified(archive, query.url)
                    except NetworkError as error:
                        save_error = str(error)
                snapshot = saved_urls.get(query.url)
                if snapshot is not None:
                    action = RescueAction.SAVED
                    live = live | {query.url}  # a 200 capture made just now: the page is live
        if snapshot is None:
            missing.append(ref.id)
            continue
        update: dict[str, Any] = {
            "archive_url": snapshot.archive_url,
            "archive_date": snapshot.timestamp.date().isoformat(),
        }
        if ref.url_status is None:
            if query.url in dead:
                update["url_status"] = UrlStatus.DEAD
            elif query.url in live:
                update["url_status"] = UrlStatus.LIVE
        updates[ref.id] = update
        status = update.get("url_status")
        changes.append(
            RescueChange(
                ref_id=ref.id,
                url=query.url,
                archive_url=update["archive_url"],
                archive_date=update["archive_date"],
                action=action,
                url_status=str(status) if status is not None else None,
            )
        )

    if not updates:
        return RescueResult(article, (), tuple(missing), tuple(skipped), save_error)
    references = [r.model_copy(update=updates[r.id]) if r.id in updates else r for r in article.references]
    data = article.model_copy(update={"references": references}).model_dump(mode="python")
    try:
        rescued = Article.model_validate(data)
    except ValueError as error:  # pydantic.ValidationError is a ValueError
        raise InvalidArticle([Problem(str(error), path="references")], source=article.slug) from error
    return RescueResult(rescued, tuple(changes), tuple(missing), tuple(skipped), save_error)


def _save_verified(archive: Archive, url: str) -> Snapshot | None:
    """Save Page Now, then replay the capture: only a 200 capture is worth linking."""
    saved = archive.save(url)
    if saved is None:
        return None
    checked = archive.resolves(saved.archive_url)
    return dataclasses.replace(saved, status_code=checked.status_code) if checked is not None else None


def link_health(db_path: Path, urls: Iterable[str]) -> tuple[set[str], set[str]]:
    """What the link history (``wikicore audit``'s SQLite file) knows: (live urls, confirmed-dead urls).

    Live means the latest observation was ``live``; dead means IABot's rule holds
    (``confirmed_dead``), not merely one failed check. A missing file knows
    nothing (and is not created).
    """
    live: set[str] = set()
    dead: set[str] = set()
    if not db_path.is_file():
        return live, dead
    from .linkdb import LinkDB  # only the CLI's rescue needs the history

    with LinkDB(db_path) as db:
        for url in dict.fromkeys(urls):
            latest = db.latest(url)
            if latest is not None and latest.status == "live":
                live.add(url)
            elif db.dead_state(url).confirmed_dead:
                dead.add(url)
    return live, dead
