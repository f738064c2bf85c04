"""The live link checker: one verdict per URL, streamed, polite, remembered.

:func:`check_urls` is the entry point; :class:`LinkChecker` is the engine behind
it: one aiohttp session on one event loop thread (:mod:`wikicore.net.aio`,
chosen by measurement: README, "Performance: link checking"), the link database,
and the configuration. What a fetch means is decided elsewhere: the verdicts in
:mod:`wikicore.links.verdicts`, the soft-404 rules and their probe cache in
:mod:`wikicore.links.soft404`, the dead-link rule over time in
:mod:`wikicore.links.history`. This module schedules, streams and records.

One GET per URL, its body read up to ``CheckConfig.keep_bytes`` (64 KiB): every
2xx is judged on its title and text (of those bytes only, however many were
read), so a removed article served as a 200 "Page not found" page is a soft 404
even on a site that answers other unknown paths with a real 404. No HEAD first:
it would cost a second round trip for the body we need anyway, and many servers
mishandle HEAD. The directory's soft-404 probe starts beside the GET, not after
it. A caller that needs a page's whole text (the audit's quote checks: a
:class:`PageSink`) has that GET read up to ``max_text_bytes`` and takes its body,
instead of asking the site a second time.

Politeness (requests per host at once, spacing, Retry-After) is the session's
:class:`~wikicore.net.RateGate`; the checker keeps a window of checks in flight
and lets the gate hold back what must wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

from ..net import CheckConfig, Fetch, url_problem
from ..net.aio import AsyncSession, LoopThread
from ..net.failures import LOOKUP_WORDS, Failure
from ..net.resolver import is_ip_literal
from .history import Clock, LinkDB, Observation, dead_state, utc_now
from .offline import not_a_verdict
from .soft404 import SOFT404_SIMILARITY, Probe, ProbeCache, needs_site_probe, site_url
from .verdicts import BLOCKED_STATUSES, NOT_OBSERVED, STATUSES, LinkResult, LinkStatus, verdict, with_history

__all__ = [
    "BLOCKED_STATUSES",
    "SOFT404_SIMILARITY",
    "WHOLE_READS",
    "CheckConfig",
    "LinkChecker",
    "LinkResult",
    "LinkStatus",
    "PageSink",
    "check_urls",
]

#: URLs read ahead of the checks in flight; bounds memory however long the input is.
_WINDOW = 4096
#: Observations written to the database in one transaction: one commit per URL made
#: the checks wait on the database lock for 16% of an audit.
RECORD_BATCH = 256
#: Seconds after which a partial batch is written anyway, so an interrupted audit keeps its work.
RECORD_EVERY = 2.0
#: URLs handed to the event loop at once (a hand-over wakes the loop: once per chunk, not per URL).
_SUBMIT_CHUNK = 256
#: Bodies longer than ``keep_bytes`` read whole for a :class:`PageSink` and not yet judged, at
#: most. Each may be ``max_text_bytes`` (16 MiB): this bounds what a run of large pages holds
#: (the source phase read pages with 32 workers of its own before, so the worst case is the
#: same). A large page past it is cut at ``keep_bytes`` like any link check's, and the sink
#: reads it itself; pages within ``keep_bytes``, most of them, are read whole without asking.
WHOLE_READS = 32

#: Remembered statuses that are observations of a site. A row saying ``invalid`` or
#: ``unchecked`` (a policy refusal written by an older version) is no observation: reusing
#: it would keep refusing a URL after --allow-private.
_REUSABLE = STATUSES - {LinkStatus.INVALID.value, LinkStatus.UNCHECKED.value, LinkStatus.NO_URL.value}

#: What one check fetched: the GET and its directory's probe, or ``None`` after a surprise.
_Fetched = tuple[Fetch, Probe | None, Probe | None] | None


class PageSink(Protocol):
    """Takes the pages the checks read, so one GET serves the link check and the page's text.

    :meth:`wants` is asked once per URL before its check starts (in the thread
    consuming the checks); a wanted URL's GET reads its body up to
    ``max_text_bytes`` (the session's ``max_bytes`` still caps it), and :meth:`page`
    gets it with the verdict, before the verdict is yielded.
    """

    def wants(self, url: str) -> bool:
        """Whether ``url``'s whole body is wanted."""
        ...

    def page(self, result: LinkResult, fetch: Fetch) -> None:
        """The GET of a wanted URL (any status: the sink decides what it keeps)."""
        ...


def _as_checked(fetch: Fetch, keep: int) -> Fetch:
    """``fetch`` as the verdict sees it: its first ``keep`` bytes, however many a sink had read.

    A page read whole for a :class:`PageSink` must get the verdict it gets when read for
    the link check alone (the soft-404 rules compare text, and search it for words).
    """
    if len(fetch.body) <= keep:
        return fetch
    return replace(fetch, body=fetch.body[:keep], truncated=True)


class LinkChecker:
    """Checks URLs with one session, one database and one configuration.

    Thread-safe: :meth:`check` and :meth:`check_many` may run in several threads
    at once; the checks themselves all run on the checker's one event loop thread.
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self, config: CheckConfig | None = None, db: LinkDB | None = None, *, clock: Clock | None = None
    ) -> None:
        self.config = config or CheckConfig()
        self.db = db
        self.clock: Clock = clock or (db.clock if db is not None else utc_now)
        # One event loop thread and one aiohttp session, made on first use (a checker that only
        # answers from the database never starts them).
        self._loop: LoopThread | None = None
        self._session: AsyncSession | None = None
        self._probes: ProbeCache | None = None
        self._starting = threading.Lock()
        # check()'s run is the checker's life: its failures wait here for proof that this machine is online.
        self._witness = _Witness()
        self._witness_lock = threading.Lock()

    def __enter__(self) -> LinkChecker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's connections and stop its loop (the database belongs to the caller)."""
        if self._loop is not None:
            if self._session is not None:
                with contextlib.suppress(Exception):
                    self._loop.run(self._session.close())
            self._loop.close()
            self._loop = self._session = self._probes = None

    # the engine -------------------------------------------------------------------------

    def _engine(self) -> tuple[LoopThread, AsyncSession, ProbeCache]:
        with self._starting:
            return self._started()

    def _started(self) -> tuple[LoopThread, AsyncSession, ProbeCache]:
        if self._loop is None or self._session is None or self._probes is None:
            loop = LoopThread()

            async def make() -> AsyncSession:
                return AsyncSession(self.config)

            session = loop.run(make())
            limit = self.config.keep_bytes

            async def get(url: str) -> Fetch:
                return await session.fetch(url, "GET", limit=limit)

            self._loop, self._session, self._probes = loop, session, ProbeCache(get)
        return self._loop, self._session, self._probes

    async def _fetch(self, url: str, limit: int | None = None, grow: Callable[[], bool] | None = None) -> _Fetched:
        """GET ``url`` (body up to ``limit``, else ``keep_bytes``) and, for a 2xx, its directory's probe.

        ``grow`` is asked before the body passes ``keep_bytes`` (see :class:`_Large`).

        Never raises."""
        assert self._session is not None and self._probes is not None
        probes = self._probes
        try:
            early = None
            if self.config.soft404 and url not in probes:
                early = asyncio.ensure_future(probes.probe(url))  # beside the GET, not after it
            got = await self._session.fetch(url, "GET", limit=limit or self.config.keep_bytes, grow=grow)
            get = _as_checked(got, self.config.keep_bytes)
            probe = await probes.probe(url) if get.ok and self.config.soft404 else None
            if early is not None and not early.done() and not get.ok:
                early.cancel()
            # Redirected elsewhere than its directory's unknown paths go: ask where the site's go.
            site = await probes.probe(site_url(url)) if probe is not None and needs_site_probe(get, probe) else None
            return got, probe, site
        except Exception:  # reported by the caller as this URL's error; one URL must not end an audit
            return None

    def _judge(self, url: str, fetched: _Fetched) -> tuple[LinkResult, Observation | None]:
        """The result of one check, and the observation to record (none after a surprise)."""
        now = self.clock()
        if fetched is None:
            return LinkResult(url, LinkStatus.ERROR, None, None, now, error="unexpected failure while checking"), None
        fetch, probe, site = fetched
        fetch = _as_checked(fetch, self.config.keep_bytes)
        status, reason = verdict(fetch, probe, soft404=self.config.soft404, site=site)
        if fetch.failure in NOT_OBSERVED:
            # Not an observation of the site: never recorded, so a changed setting
            # (--allow-private) or a quieter queue takes effect on the next run.
            return LinkResult(url, status, None, fetch.final_url, now, fetch.redirects, reason), None
        observation = Observation(url, now, status.value, fetch.status, fetch.final_url, fetch.redirects, reason)
        history: tuple[Observation, ...] = ()
        if self.db is not None:
            history = self.db.state(url, self.config.dead_failures, self.config.dead_spacing).history
        state = dead_state((*history, observation), self.config.dead_failures, self.config.dead_spacing)
        judged, words = with_history(status, reason, state)
        result = LinkResult(
            url, judged, fetch.status, fetch.final_url, now, fetch.redirects, words,
            state.failures, state.first_failed, state.confirmed_dead,
        )
        return result, observation

    def _without_network(self, url: str, refresh: bool) -> LinkResult | None:
        """The result when no request is needed: no URL, an invalid one, or a fresh one in the database."""
        now = self.clock()
        if not url or not url.strip():
            return LinkResult(url, LinkStatus.NO_URL, None, None, now)
        problem = url_problem(url)
        if problem is not None:
            return LinkResult(url, LinkStatus.INVALID, None, None, now, error=problem[1])
        if self.db is not None and not refresh:
            state = self.db.state(url, self.config.dead_failures, self.config.dead_spacing)
            obs = state.fresh(self.config.ttl, now)
            if obs is not None and obs.status in _REUSABLE:
                status, reason = with_history(LinkStatus(obs.status), obs.error, state.dead)
                dead = state.dead
                return LinkResult(
                    url, status, obs.http_status, obs.final_url, obs.checked_at, obs.redirects,
                    reason, dead.failures, dead.first_failed, dead.confirmed_dead, from_cache=True,
                )
        return None

    # one URL ------------------------------------------------------------------------

    def check(self, url: str, *, refresh: bool = False) -> LinkResult:
        """Check one URL (or reuse a result younger than the TTL unless ``refresh``); record it.

        The offline rule holds here too (:mod:`wikicore.links.offline`), the
        checker's life being the run: until a check of this checker has got an
        HTTP answer, a failure without one (no name, no route, refused, timed
        out) says nothing about its site. It is returned as a failure that is
        not a verdict, ``unchecked`` with the error "not checked: the checker
        itself was offline or blocked in this run; <what failed>", and is not
        recorded until a later answer shows this machine online (a failed
        lookup waits for an answer from a host *name*).
        """
        quick = self._without_network(url, refresh)
        if quick is not None:
            return quick
        loop, _, _ = self._engine()
        fetched = loop.run(self._fetch(url))
        result, observation = self._judge(url, fetched)
        if observation is None or fetched is None:
            return result
        with self._witness_lock:
            released = self._witness.admit(observation, fetched[0])
        if self.db is not None and released:
            self.db.record_many(released)
        if not any(item is observation for item in released):
            return not_a_verdict(result)
        return result

    # many URLs -----------------------------------------------------------------------

    def check_many(
        self,
        urls: Iterable[str],
        *,
        refresh: bool = False,
        progress: Callable[[LinkResult], None] | None = None,
        pages: PageSink | None = None,
    ) -> Iterator[LinkResult]:
        """Check each distinct URL once, yielding results **in completion order**.

        Results that need no request (no URL, invalid, fresh in the database)
        come out as soon as they are read. The rest run on the event loop, a
        window of them in flight; the session's gate keeps each host to its
        limits (``per_host`` at once, ``host_interval`` apart), so a site cited
        a thousand times cannot hold up the others beyond its share. At most a
        window of URLs is read ahead, so memory does not grow with the input
        (beyond the set of URLs already seen, used to skip duplicates).

        Failures without any answer (no name, no route, refused) are recorded
        only once the run has shown that this machine is online (:class:`_Witness`):
        a run in which nothing answered says more about this machine than about
        the sites, so it records none of them (callers tell the user, e.g. the
        audit's exit 5).

        ``pages`` takes the bodies of the URLs it wants (:class:`PageSink`).
        """
        loop, _, _ = self._engine()
        whole: set[str] = set()  # URLs whose GET reads the page for ``pages``
        large = _Large(WHOLE_READS)
        done: queue.SimpleQueue[tuple[str, _Fetched]] = queue.SimpleQueue()
        tasks: set[asyncio.Task[None]] = set()
        running = 0
        seen: set[str] = set()
        source = iter(urls)
        exhausted = False
        batch: list[Observation] = []
        written = time.monotonic()
        witness = _Witness()

        def flush() -> None:
            nonlocal written
            if batch and self.db is not None:
                self.db.record_many(batch)
            batch.clear()
            written = time.monotonic()

        def emit(result: LinkResult) -> LinkResult:
            if progress is not None:
                progress(result)
            return result

        try:
            while True:
                fresh: list[tuple[str, int | None]] = []
                while not exhausted and running + len(fresh) < _WINDOW:
                    try:
                        url = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    if url in seen:
                        continue
                    seen.add(url)
                    quick = self._without_network(url, refresh)
                    if quick is not None:
                        yield emit(quick)
                        continue
                    limit = None
                    if pages is not None and pages.wants(url):
                        whole.add(url)
                        limit = self.config.max_text_bytes
                    fresh.append((url, limit))
                    if len(fresh) >= _SUBMIT_CHUNK:
                        break  # start these now; read more while they run
                if fresh:
                    # One hand-over to the loop per chunk, not per URL (each costs a wake-up).
                    loop.loop.call_soon_threadsafe(self._spawn, fresh, done, tasks, large)
                    running += len(fresh)
                if not running:
                    return
                url, outcome = done.get()
                running -= 1
                result, observation = self._judge(url, outcome)
                if url in whole:
                    whole.discard(url)
                    large.release(url)
                    if pages is not None and outcome is not None:
                        pages.page(result, outcome[0])
                if observation is not None and outcome is not None:
                    batch.extend(witness.admit(observation, outcome[0]))
                if len(batch) >= RECORD_BATCH or (batch and time.monotonic() - written >= RECORD_EVERY):
                    flush()
                yield emit(result)
        finally:
            if tasks:
                loop.loop.call_soon_threadsafe(lambda: [task.cancel() for task in list(tasks)])
            flush()

    def _spawn(
        self,
        urls: list[tuple[str, int | None]],
        done: queue.SimpleQueue[tuple[str, _Fetched]],
        tasks: set[asyncio.Task[None]],
        large: _Large,
    ) -> None:
        """On the loop: start one task per URL (with its body limit); each hands its outcome to the generator."""

        async def one(url: str, limit: int | None) -> None:
            outcome = await self._fetch(url, limit, large.asker(url) if limit is not None else None)
            done.put((url, outcome))

        for url, limit in urls:
            task = asyncio.ensure_future(one(url, limit))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


class _Large:
    """The large bodies (past ``keep_bytes``) read whole for a page sink and not yet judged: at most ``limit``.

    Asked from the event loop as a body grows, released by the generator once the
    URL is judged (its body then handed to the sink or dropped), hence the lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def asker(self, url: str) -> Callable[[], bool]:
        """What ``url``'s fetch asks before its body passes ``keep_bytes`` (each attempt of it may ask)."""
        def ask() -> bool:
            with self._lock:
                if url not in self._held and len(self._held) >= self.limit:
                    return False
                self._held.add(url)
                return True
        return ask

    def release(self, url: str) -> None:
        """``url`` is judged: its body no longer counts."""
        with self._lock:
            self._held.discard(url)


class _Witness:
    """Holds a run's failures until the run shows that the checker itself is online.

    A failure is evidence against its site only in a run where other hosts
    answered: on a machine without DNS or a route every site fails alike, and
    recording that would let three offline runs confirm Wikipedia dead. An
    answer from a host *name* proves the resolver and the route, and releases
    every held failure; an answer from an IP-literal host (which needs no
    lookup) proves the route only, and releases all but failed lookups. What is
    still held when the run ends is dropped, never recorded.
    """

    def __init__(self) -> None:
        self.named = False  # a host name answered: lookups and routes work
        self.routed = False  # some host answered: routes work
        self.lookups: list[Observation] = []
        self.others: list[Observation] = []
        self._literal: dict[str, bool] = {}  # by netloc: parsing every answer's URL showed in profiles

    def _by_name(self, url: str) -> bool:
        netloc = url.split("/", 3)[2] if url.count("/") >= 2 else url
        known = self._literal.get(netloc)
        if known is None:
            known = self._literal[netloc] = is_ip_literal(urlsplit(url).hostname or "")
        return not known

    def admit(self, observation: Observation, fetch: Fetch) -> list[Observation]:
        """What of ``observation`` (and of those held before it) may be recorded now."""
        if observation.http_status is not None:
            if self.named:
                return [observation]
            released = [observation, *self.others]
            self.others.clear()
            self.routed = True
            if not self.named and self._by_name(fetch.url):
                self.named = True
                released += self.lookups
                self.lookups.clear()
            return released
        if self.named:
            return [observation]
        if fetch.failure in (Failure.DNS, Failure.DNS_TEMPORARY) or (fetch.error or "").startswith(LOOKUP_WORDS):
            self.lookups.append(observation)
            return []
        if self.routed:
            return [observation]
        self.others.append(observation)
        return []


def check_urls(
    urls: Iterable[str],
    config: CheckConfig | None = None,
    db: LinkDB | None = None,
    *,
    refresh: bool = False,
    clock: Clock | None = None,
    progress: Callable[[LinkResult], None] | None = None,
    pages: PageSink | None = None,
) -> Iterator[LinkResult]:
    """Check each distinct URL of ``urls``; yield one :class:`LinkResult` each, in completion order.

    Streams: results come out as checks finish and memory stays flat in the
    number of URLs. With ``db``, every observation is recorded, results younger
    than ``config.ttl`` are reused without a request (unless ``refresh``) and the
    dead-link rule uses the URL's whole history. ``clock`` (aware UTC) is for tests.
    ``pages`` takes the bodies of the URLs it wants (:class:`PageSink`): one GET a page.
    """
    with LinkChecker(config, db, clock=clock) as checker:
        yield from checker.check_many(urls, refresh=refresh, progress=progress, pages=pages)
