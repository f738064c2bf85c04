"""One client per archive root that speaks what real archives speak, and remembers what each offers.

What it asks, and how
=====================

``nearest()`` finds, for each reference, the HTTP 200 capture nearest **before**
the day it was cited, else the nearest after (an archived 404 page is not an
archive of the source). Per archive root it uses, in this order, what the root
turned out to offer (discovered on first use and remembered for the process in
:func:`offers_of`):

1. **The Internet Archive's availability API**, batch form first:
   ``POST {root}/wayback/available`` with ``Wayback-Api-Version: 2`` and up to
   :data:`BATCH_SIZE` newline-separated queries (``url``, ``timestamp``,
   ``closest=before|after``, ``statuscodes=200``, ``tag``), matched back by
   ``tag``; else one ``GET ?url=&timestamp=`` per URL. 200 references cost 2-4
   requests. A 404/405/501 marks the form as missing, so it is not asked again.
2. **A CDX server** (``{root}/cdx/search/cdx``) in the Internet Archive's
   formats or pywb's (see :mod:`wikicore.archive.formats`), with
   ``filter=statuscode:200&closest=TS&sort=closest&limit=5`` and, when every row
   it gave lies after the date, one more with ``to=TS`` for the nearest before.
   Never ``limit=-1``: pywb answers it with nothing. Where the availability API
   exists, CDX only widens its misses, at most :data:`MAX_CDX_LOOKUPS` a call and
   within ``request_budget`` requests per reference; where it does not (pywb),
   CDX is the way, limited only by the rate of the archive's gate.
3. **Memento** (RFC 7089) when there is no CDX server: the TimeMap
   (``{web}timemap/link/{url}``, ``application/link-format``), else the TimeGate
   (``{web}{url}`` with ``Accept-Datetime``). TimeMaps do not say what status a
   memento recorded, so the candidates nearest before the date are replayed
   (at most :data:`MAX_MEMENTO_TRIES`) until one is a 200.

A memento is recognised by ``Memento-Datetime``, whatever its status: an archived
429 or 503 is what the site said back then, never rate limiting, and is skipped
for "nearest 200 capture" and reported for a stored link (``resolves``).

Every request goes through one :class:`~wikicore.archive.transport.Transport`
(timeouts, total deadline, byte cap, bounded retries, ``Retry-After``) behind the
archive's :class:`~wikicore.archive.gate.ArchiveGate`.

Where waybackpy is used, and where not
======================================

waybackpy 3.0.6 is the named client; its CDX record class reads 7-field lines
(:func:`~wikicore.archive.formats.parse_cdx_lines`), ``full_url`` builds CDX
query strings and ``check_for_blocked_site`` recognises the "Blocked Site Error"
body. Its HTTP layer is not used (measured on 3.0.6): the availability client
sleeps 5 s per instance and has no timeout or batch form; the CDX client opens a
session per page, has no timeout and ignores 429; the save client sleeps fixed
5-10 s and has no timeout. Its endpoints are hard-coded too; ours hang off one
configurable root per archive.
"""

from __future__ import annotations

import concurrent.futures
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from waybackpy.cdx_utils import check_for_blocked_site, full_url
from waybackpy.exceptions import BlockedSiteError

from ..errors import NetworkError
from ..urls import parse_archive_url
from ..urls import parse_wayback_timestamp as _parse_timestamp
from .endpoints import DEFAULT_BASE_URL, Endpoints, Offers, is_internet_archive, offers_of
from .formats import CdxRow, parse_availability, parse_cdx, parse_links, status_of
from .gate import (
    ArchiveGate,
    shared_gate,
)
from .records import TS_FORMAT, Snapshot, SnapshotQuery
from .transport import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BYTES,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Answer,
    AnswerTooLarge,
    Transport,
)

__all__ = [
    "BATCH_SIZE",
    "MAX_CDX_LOOKUPS",
    "MAX_MEMENTO_TRIES",
    "MAX_REDIRECTS",
    "SELF_HOSTED_CDX_REQUESTS_PER_SECOND",
    "WaybackArchive",
]

#: The availability API's batch form takes at most 100 URLs a request.
BATCH_SIZE = 100

#: CDX lookups widening availability misses per ``nearest()`` call (2.5 s each at IA's limit).
MAX_CDX_LOOKUPS = 25

#: Rows asked of the CDX server around the reference date, so that the nearest
#: capture *before* it can win over a slightly nearer one after it.
CDX_CLOSEST_LIMIT = 5

#: TimeMap candidates replayed per URL to find one that recorded a 200.
MAX_MEMENTO_TRIES = 3

#: CDX (and Memento) rate for an archive that is not the Internet Archive, unless
#: configured: a self-hosted pywb answers in milliseconds, but a public archive
#: other than IA deserves politeness too. ``rates={"cdx": 0}`` lifts it.
SELF_HOSTED_CDX_REQUESTS_PER_SECOND = 5.0

#: Save Page Now gets a longer read and deadline: it fetches the page first.
SAVE_TIMEOUT = (5.0, 120.0)
SAVE_DEADLINE = 180.0

#: Archive-internal redirects followed by :meth:`WaybackArchive.resolves`.
MAX_REDIRECTS = 5

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ABSENT = frozenset({404, 405, 501})


def _is_http(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in ("http", "https")


class WaybackArchive:
    """:class:`~wikicore.archive.Archive` over one Wayback-compatible or Memento archive root.

    ``base_url`` is the root under which ``/wayback/available``,
    ``/cdx/search/cdx``, ``/web/`` and the save route live (the default is the
    Internet Archive's hosts). ``requests_made`` counts every HTTP request,
    retries included, so callers can hold a requests-per-reference budget.

    ``use_cdx=False`` never asks the CDX server; ``max_cdx_lookups`` and
    ``request_budget`` (requests per reference in one ``nearest`` call) bound the
    CDX widening of availability misses; ``rates`` sets requests a second per
    endpoint family (``available``, ``cdx``, ``web``, ``save``; 0 lifts a limit)
    and ``concurrency`` how many per-URL lookups run at once (useful only with
    the rate lifted, e.g. for a self-hosted pywb). ``save_path`` is the capture
    route (pywb: ``web/record/``). ``gate`` defaults to the process-wide gate of
    the host; ``clock``/``sleep`` without a gate give this instance a private
    one (tests).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        save_timeout: tuple[float, float] = SAVE_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = DEFAULT_RETRIES,
        use_batch: bool = True,
        use_cdx: bool = True,
        max_cdx_lookups: int = MAX_CDX_LOOKUPS,
        request_budget: float | None = None,
        rates: Mapping[str, float] | None = None,
        concurrency: int = 1,
        save_path: str | None = None,
        gate: ArchiveGate | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoints = Endpoints.from_base(base_url, save_path)
        self.name = DEFAULT_BASE_URL if is_internet_archive(base_url) else self.base_url
        self.timeout = timeout
        self.save_timeout = save_timeout
        self.use_batch = use_batch
        self.use_cdx = use_cdx
        self.max_cdx_lookups = max_cdx_lookups
        self.request_budget = request_budget
        self.concurrency = max(1, concurrency)
        family_rates: dict[str, float] = {}
        if not is_internet_archive(base_url):
            family_rates["cdx"] = SELF_HOSTED_CDX_REQUESTS_PER_SECOND
        family_rates.update(rates or {})
        if gate is None:
            gate = (
                ArchiveGate(clock=clock or time.monotonic, sleep=sleep or time.sleep, rates=family_rates)
                if clock or sleep
                else shared_gate(self.base_url, family_rates)
            )
        elif rates:
            gate.set_rates(rates)
        self.gate = gate
        self.now = now or (lambda: datetime.now(UTC))
        self.transport = Transport(
            gate, timeout=timeout, deadline=deadline, max_bytes=max_bytes, retries=retries, now=self.now,
            session=session, concurrency=max(4, self.concurrency),
        )
        self.offers = offers_of(self.base_url) if gate is not None and not (clock or sleep) else Offers()
        self._save_path = save_path
        if self.offers.replay_prefix:
            self.endpoints = Endpoints.from_base(base_url, save_path, prefix=True)
        self.batch_failures = 0
        #: Answers given up for one URL (over the byte cap), for the caller's notes.
        self.problems: list[str] = []

    def __repr__(self) -> str:
        return f"WaybackArchive({self.base_url!r})"

    # --- compatibility ------------------------------------------------------------

    @property
    def requests_made(self) -> int:
        """Every HTTP request made, retries included."""
        return self.transport.requests_made

    @property
    def retries(self) -> int:
        """Retries after the first try."""
        return self.transport.retries

    @property
    def batch_unsupported(self) -> bool:
        """Whether the availability API's batch form turned out to be missing."""
        return self.offers.availability_batch is False

    @property
    def cache_key(self) -> str:
        """What distinguishes this archive's answers in a shared cache."""
        return self.name

    def _offers(self, what: str) -> bool:
        """Whether the root offers ``what`` as far as we know (unknown counts as yes: ask)."""
        return getattr(self.offers, what) is not False

    def _request(self, kind: str, method: str, url: str, **kwargs: Any) -> Answer:
        return self.transport.request(kind, method, url, **kwargs)

    # --- nearest ------------------------------------------------------------------

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """The 200 capture nearest before each query's date, else after it (None: none found)."""
        results: dict[SnapshotQuery, Snapshot | None] = dict.fromkeys(queries)
        pending = list(dict.fromkeys(q for q in queries if _is_http(q.url)))
        if not pending:
            return results
        started_at = self.requests_made
        asked_availability = False
        if self.offers.availability is not False:
            asked_availability = True
            for direction in ("before", "after"):
                if direction == "after":
                    pending = [q for q in pending if q.when is not None]  # "latest" has nothing after it
                if not pending:
                    break
                found = self._availability(pending, direction)
                results.update(found)
                pending = [q for q in pending if found.get(q) is None]
                if not self._offers("availability"):
                    break
        rest = [q for q in dict.fromkeys(queries) if results[q] is None and _is_http(q.url)]
        if asked_availability and self._offers("availability"):
            # Widening misses: bounded per call and by the request budget.
            if not self.use_cdx or self.offers.cdx is False:
                rest = []
            rest = rest[: self.max_cdx_lookups]
            if self.request_budget is not None:
                allowed = math.floor(self.request_budget * len(results)) - (self.requests_made - started_at)
                rest = rest[: max(0, allowed)]
        results.update(self._per_url(rest))
        return results

    def _per_url(self, queries: list[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        if not queries:
            return {}
        if self.concurrency == 1 or len(queries) == 1:
            return {query: self._lookup_one(query) for query in queries}
        with concurrent.futures.ThreadPoolExecutor(self.concurrency, thread_name_prefix="wikicore-archive") as pool:
            return dict(zip(queries, pool.map(self._lookup_one, queries), strict=True))

    def _lookup_one(self, query: SnapshotQuery) -> Snapshot | None:
        try:
            if self.use_cdx and self.offers.cdx is not False:
                found = self._cdx_nearest(query)
                if self._offers("cdx"):
                    return found
            return self._memento_nearest(query)
        except AnswerTooLarge as error:
            self.problems.append(str(error))
            return None

    def _target(self, query: SnapshotQuery) -> str:
        """The timestamp to look around: the end of the cited day, or now for "latest"."""
        if query.when is None:
            return self.now().astimezone(UTC).strftime(TS_FORMAT)
        return f"{query.when:%Y%m%d}235959"

    def _snapshot(self, original: str, when: datetime, status: int | None) -> Snapshot:
        # The link is built from the URL the reference cites: Wayback-style archives
        # match captures by canonical (SURT) key, so it replays the same capture, and
        # a checker comparing the link's original with `url` sees them agree.
        return Snapshot(
            original=original,
            timestamp=when,
            status_code=status,
            archive_url=f"{self.endpoints.web}{when.astimezone(UTC).strftime(TS_FORMAT)}/{original}",
            archive=self.name,
        )

    def _pick(self, query: SnapshotQuery, candidates: list[datetime]) -> datetime | None:
        """Nearest at or before the target, else nearest after."""
        if not candidates:
            return None
        target = _parse_timestamp(self._target(query))
        assert target is not None
        before = [c for c in candidates if c <= target]
        return max(before) if before else min(candidates, key=lambda c: abs(c - target))

    # --- the availability API --------------------------------------------------------

    def _availability(self, queries: list[SnapshotQuery], direction: str) -> dict[SnapshotQuery, Snapshot | None]:
        found: dict[SnapshotQuery, Snapshot | None] = {}
        rest = list(queries)
        if self.use_batch and self.offers.availability_batch is not False:
            for start in range(0, len(queries), BATCH_SIZE):
                chunk = queries[start : start + BATCH_SIZE]
                answer = self._batch(chunk, direction)
                if answer is None:  # the batch endpoint failed: fall back for the rest
                    self.batch_failures += 1
                    break
                found.update(answer)
            rest = [q for q in queries if q not in found]
        for query in rest:
            if self.offers.availability is False:
                break
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
        answer = self._request(
            "available",
            "POST",
            self.endpoints.available,
            data="\n".join(lines).encode("utf-8"),
            headers={"Wayback-Api-Version": "2", "Content-Type": "application/x-www-form-urlencoded"},
        )
        if answer.status in _ABSENT:
            self.offers.availability_batch = False  # this server lacks the batch form: stop asking
        if answer.status != 200:
            return None
        try:
            payload = answer.json()
        except ValueError:
            return None
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            return None
        self.offers.availability_batch = True
        self.offers.availability = True
        found: dict[SnapshotQuery, Snapshot | None] = dict.fromkeys(chunk)
        for item in results:
            if not isinstance(item, dict):
                continue
            try:
                query = chunk[int(str(item.get("tag")))]
            except (ValueError, IndexError):
                continue
            found[query] = self._from_closest(query, parse_availability(item), direction)
        return found

    def _single(self, query: SnapshotQuery, direction: str) -> Snapshot | None:
        """The fallback: one GET of the availability API for one URL."""
        params = {"url": query.url, "timestamp": self._target(query), "closest": direction, "status_code": "200"}
        answer = self._request("available", "GET", f"{self.endpoints.available}?{urlencode(params)}")
        if answer.status != 200:
            if answer.status in _ABSENT:
                self.offers.availability = False  # no availability API here (pywb): CDX or Memento instead
                return None
            if answer.status >= 500:
                raise NetworkError(f"availability API answered {answer.status} for {query.url}")
            return None
        try:
            payload = answer.json()
        except ValueError as error:
            if self.offers.availability is None:
                self.offers.availability = False  # a 200 that is not the API (a catch-all page)
                return None
            raise NetworkError(f"availability API answered something that is not JSON for {query.url}") from error
        self.offers.availability = True
        return self._from_closest(query, parse_availability(payload), direction)

    def _from_closest(self, query: SnapshotQuery, closest: dict[str, Any] | None, direction: str) -> Snapshot | None:
        """A snapshot from an availability record, if it is a 200 on the asked side of the date.

        The filters are re-applied here because a server may ignore ``closest`` or
        ``statuscodes`` (the single GET form documents neither reliably).
        """
        if closest is None:
            return None
        when = _parse_timestamp(str(closest["timestamp"]))
        if when is None or status_of(closest.get("status")) != 200:
            return None
        target = _parse_timestamp(self._target(query))
        assert target is not None
        if (direction == "before" and when > target) or (direction == "after" and when < target):
            return None
        return self._snapshot(query.url, when, 200)

    # --- CDX ---------------------------------------------------------------------------

    def _cdx_rows(self, query: SnapshotQuery, params: dict[str, str]) -> list[CdxRow] | None:
        """The 200 rows of one CDX query; None when this root has no CDX server."""
        answer = self._request("cdx", "GET", full_url(self.endpoints.cdx, params))
        if answer.status == 403:
            try:
                check_for_blocked_site(cast(requests.Response, _AsResponse(answer)), query.url)
            except BlockedSiteError:
                return []  # excluded from the archive by the site's owner: no snapshot, not an error
            raise NetworkError(f"CDX server refused {query.url} (403)")
        if answer.status in _ABSENT and self.offers.cdx is not True:
            self.offers.cdx = False
            return None
        if answer.status != 200:
            if answer.status >= 500:
                raise NetworkError(f"CDX server answered {answer.status} for {query.url}")
            return []
        rows = parse_cdx(answer.text)
        if rows or not answer.body.strip():
            self.offers.cdx = True
        return [row for row in rows if row.status == 200]

    def _cdx_nearest(self, query: SnapshotQuery) -> Snapshot | None:
        """The 200 capture nearest the date by CDX, before preferred (one or two requests)."""
        target = self._target(query)
        params = {"url": query.url, "filter": "statuscode:200", "closest": target, "sort": "closest",
                  "limit": str(CDX_CLOSEST_LIMIT)}
        rows = self._cdx_rows(query, params)
        if not rows:
            return None
        when = self._pick(query, [row.timestamp for row in rows])
        target_time = _parse_timestamp(target)
        assert when is not None and target_time is not None
        if when > target_time and query.when is not None:
            # Every row was after the date; a capture before it may still exist further away.
            before = self._cdx_rows(query, {**params, "to": target, "limit": "1"})
            earlier = [row.timestamp for row in before or [] if row.timestamp <= target_time]
            if earlier:
                when = max(earlier)
        return self._snapshot(query.url, when, 200)

    # --- Memento -------------------------------------------------------------------------

    def _memento_nearest(self, query: SnapshotQuery) -> Snapshot | None:
        """By TimeMap, else TimeGate: candidates nearest before the date, replayed until one is a 200."""
        candidates = self._timemap_candidates(query)
        if candidates is None:
            candidates = self._timegate_candidates(query)
        for link in candidates[:MAX_MEMENTO_TRIES]:
            found = self.resolves(link)
            if found is not None and found.ok:
                return self._snapshot(query.url, found.timestamp, 200)
        return None

    def _ordered(self, query: SnapshotQuery, mementos: list[tuple[datetime, str]]) -> list[str]:
        target = _parse_timestamp(self._target(query))
        assert target is not None
        before = sorted((m for m in mementos if m[0] <= target), key=lambda m: m[0], reverse=True)
        after = sorted((m for m in mementos if m[0] > target), key=lambda m: m[0])
        return [uri for _, uri in before + after]

    def _timemap_candidates(self, query: SnapshotQuery) -> list[str] | None:
        answer = self._request("web", "GET", self.endpoints.timemap + query.url)
        if answer.status in _ABSENT and self.offers.replay_prefix is None and urlsplit(self.base_url).path.strip("/"):
            prefixed = Endpoints.from_base(self.base_url, self._save_path, prefix=True)
            probe = self._request("web", "GET", prefixed.timemap + query.url)
            self.offers.replay_prefix = probe.status == 200 and "link-format" in (probe.header("content-type") or "")
            if self.offers.replay_prefix:
                self.endpoints, answer = prefixed, probe
        if answer.status != 200:
            return None if answer.status in _ABSENT else []
        links = parse_links(answer.text, base=answer.url)
        mementos = [(link.datetime, link.target) for link in links if link.is_memento and link.datetime is not None]
        return self._ordered(query, [(when, uri) for when, uri in mementos if when is not None])

    def _timegate_candidates(self, query: SnapshotQuery) -> list[str]:
        target = _parse_timestamp(self._target(query))
        assert target is not None
        answer = self._request(
            "web", "GET", self.endpoints.web + query.url,
            headers={"Accept-Datetime": target.strftime("%a, %d %b %Y %H:%M:%S GMT")},
        )
        links = parse_links(answer.header("link") or "", base=answer.url)
        mementos = [(link.datetime, link.target) for link in links if link.is_memento and link.datetime is not None]
        ordered = self._ordered(query, [(when, uri) for when, uri in mementos if when is not None])
        location = answer.header("location")
        if answer.status in _REDIRECTS and location:
            chosen = urljoin(answer.url, location)
            ordered = [chosen, *[uri for uri in ordered if uri != chosen]]
        return ordered

    # --- resolves -----------------------------------------------------------------------

    def _replay_url(self, when: datetime, original: str) -> str:
        return f"{self.endpoints.web}{when.astimezone(UTC).strftime(TS_FORMAT)}id_/{original}"

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The capture a stored archive link leads to - its real time and recorded status - or None.

        The link is replayed in ``id_`` mode with redirects followed by hand: an
        inexact timestamp is redirected by the archive to the capture it chose
        (no ``Memento-Datetime``: followed); an archived redirect (with
        ``Memento-Datetime``) is followed to its target at the same time, whether
        the archive rewrote its ``Location`` (the Internet Archive) or not (pywb).
        The chain ends in a memento, whose ``Memento-Datetime`` and status are
        returned - an archived 404 or 429 comes back as such, for the caller to
        report - or in something that is not a capture (None).
        """
        parsed = parse_archive_url(archive_url, base_url=self.base_url)
        if parsed is None:
            return None
        when, original = parsed
        url = self._replay_url(when, original)
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._request("web", "GET", url, body=False)  # status and headers only
            captured = answer.memento_datetime
            location = answer.header("location")
            if answer.status in _REDIRECTS and location:
                target = urljoin(url, location.strip())
                hop = parse_archive_url(target, base_url=self.base_url)
                if hop is not None:
                    url = self._replay_url(*hop)  # stay under our root and in id_ mode
                    continue
                if captured is None:
                    return None  # the archive sent us elsewhere: not a capture
                current = parse_archive_url(url, base_url=self.base_url)
                assert current is not None
                url = self._replay_url(captured, urljoin(current[1], location.strip()))  # pywb: the raw Location
                continue
            if captured is None:
                if answer.status >= 500:
                    raise NetworkError(f"the archive answered {answer.status} for {archive_url}")
                if answer.status != 200:
                    return None
            final = parse_archive_url(url, base_url=self.base_url)
            assert final is not None
            return self._snapshot(final[1], captured or final[0], answer.status)
        return None

    # --- save ------------------------------------------------------------------------------

    def save(self, url: str) -> Snapshot | None:
        """Ask the archive to capture ``url`` now; the new snapshot, or None if it refused.

        The capture is the one the answer names: its ``Memento-Datetime`` (pywb's
        recording route replays what it just recorded, with its recorded status),
        else ``Content-Location`` or ``Location`` (Save Page Now), else a link whose
        ``rel`` is exactly ``memento`` - never ``first memento``, which is the
        oldest capture, not the new one.
        """
        if not _is_http(url):
            return None
        answer = self._request(
            "save", "GET", self.endpoints.save + url, timeout=self.save_timeout, deadline=SAVE_DEADLINE, body=False
        )
        captured = answer.memento_datetime
        if captured is not None:
            return self._snapshot(url, captured, answer.status)
        if answer.status >= 400:
            return None
        links = parse_links(answer.header("link") or "", base=answer.url)
        candidates = [
            answer.header("content-location"),
            answer.header("location"),
            *[link.target for link in links if link.rels == {"memento"}],
        ]
        for candidate in candidates:
            if not candidate:
                continue
            parsed = parse_archive_url(urljoin(self.endpoints.web, candidate.strip()), base_url=self.base_url)
            if parsed is not None:
                return self._snapshot(url, parsed[0], None)
        return None


class _AsResponse:
    """Just enough of a ``requests.Response`` for waybackpy's blocked-site check."""

    def __init__(self, answer: Answer) -> None:
        self.text = answer.text
        self.status_code = answer.status
        self.url = answer.url
