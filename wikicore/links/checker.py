"""The live link checker: one verdict per URL, streamed, polite, remembered.

:func:`check_urls` is the entry point; :class:`LinkChecker` is the object behind
it (session, database, configuration, soft-404 probes). Verdicts follow issue 4:

==========  =====================================================================
live        a 2xx answer that does not look like a "not found" page
dead        404 or 410 (after redirects), a name that does not exist, a redirect loop
soft-404    a 2xx answer whose content says "not found" (reported apart from dead)
blocked     401, 402, 403, 407, 429, 451 persisting, or a bot wall: a human must look;
            never counted as dead
error       timeout, deadline, reset, 5xx, TLS failure, other 4xx: transient or unclear
invalid     malformed URL, a scheme other than http/https, or a refused address
unchecked   not checked (set by callers that run offline or exclude a URL)
no-url      the reference has no URL
==========  =====================================================================

One GET per URL, its body read up to ``CheckConfig.keep_bytes`` (64 KiB): every
2xx is judged on its title and text, so a removed article served as a 200
"Page not found" page is a soft 404 even on a site that answers other unknown
paths with a real 404 (issue 10). No HEAD first: it would cost a second round
trip for the body we need anyway, and many servers mishandle HEAD.

Soft-404 detection probes a random sibling path once per host and directory
(sites often serve soft 404s under some sections only) and compares: the status,
where redirects ended, and the similarity of the bodies after stripping digits
and the paths themselves; plus title and body markers ("Page not found", ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import heapq
import html
import queue
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from ..net import CheckConfig, CheckSession, Deadline, Failure, Fetch, host_key, url_problem
from ..net.aio import AsyncSession, LoopThread
from .history import Clock, DeadState, LinkDB, Observation, dead_state, utc_now

__all__ = [
    "BLOCKED_STATUSES",
    "SOFT404_SIMILARITY",
    "CheckConfig",
    "LinkChecker",
    "LinkResult",
    "LinkStatus",
    "check_urls",
]

#: Statuses that mean "not for you" rather than "gone": a human must look (issue 4).
BLOCKED_STATUSES = frozenset({401, 402, 403, 407, 429, 451, 999})  # 999: LinkedIn's bot answer
#: Bodies at least this similar to the random-path probe are the site's "not found" page.
SOFT404_SIMILARITY = 0.9
#: Characters of normalised text compared for similarity (difflib is quadratic at worst).
_COMPARE_CHARS = 4000
#: Soft-404 probes remembered, one per host and directory.
_PROBE_CACHE = 4096
#: URLs read ahead of the workers; bounds memory however long the input is.
_WINDOW = 4096
#: Observations written to the database in one transaction (issue 13: one commit per URL
#: made threads wait on the lock for 16% of an audit).
RECORD_BATCH = 256
#: Seconds after which a partial batch is written anyway, so an interrupted audit keeps its work.
RECORD_EVERY = 2.0
#: URLs handed to the event loop at once (a hand-over wakes the loop: once per chunk, not per URL).
_SUBMIT_CHUNK = 256
#: Seconds a host must still wait before the dispatcher sets it aside rather than dispatch.
_REST_MIN = 0.002


class LinkStatus(StrEnum):
    """The verdict on one URL (the JSON field ``status``)."""

    LIVE = "live"
    DEAD = "dead"
    SOFT_404 = "soft-404"
    BLOCKED = "blocked"
    ERROR = "error"
    INVALID = "invalid"
    UNCHECKED = "unchecked"
    NO_URL = "no-url"


_STATUSES = frozenset(status.value for status in LinkStatus)


@dataclass(frozen=True, slots=True)  # slots: an audit holds one per distinct url until its report is built
class LinkResult:
    """The verdict on one URL, with what it rests on.

    ``failures``, ``first_failed`` and ``confirmed_dead`` come from the URL's
    history (see :mod:`wikicore.links.history`); without a database they describe this
    check alone. ``from_cache`` says the result was reused within the TTL.
    """

    url: str
    status: LinkStatus
    http_status: int | None
    final_url: str | None
    checked_at: datetime
    redirects: tuple[str, ...] = ()
    error: str | None = None
    failures: int = 0
    first_failed: datetime | None = None
    confirmed_dead: bool = False
    from_cache: bool = False


# --- content analysis ------------------------------------------------------------

_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TITLE_MARKERS = re.compile(
    r"\b(?:404|410|not found|page not found|no longer (?:available|exists)|does(?:n't| not) exist"
    r"|page (?:is )?missing|page unavailable|error 404)\b",
    re.IGNORECASE,
)
_BODY_MARKERS = re.compile(
    r"page not found|404 not found|error 404|no longer available|(?:page|article|content) (?:you (?:are|were|'re) "
    r"looking for|you requested) (?:could not be found|cannot be found|does(?:n't| not) exist|is no longer)"
    r"|this page does(?:n't| not) exist|page (?:has been|was) removed",
    re.IGNORECASE,
)
_BOT_WALL_MARKERS = re.compile(
    r"just a moment\.\.\.|attention required! \| cloudflare|checking your browser|cf-chl-|captcha-delivery"
    r"|are you a (?:robot|human)|verify you are (?:a )?human|access denied \| ",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"<[^>]*>")
_DIGITS_RE = re.compile(r"\d+")
_SPACE_RE = re.compile(r"\s+")


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _title(body: bytes) -> str:
    match = _TITLE_RE.search(body)
    return html.unescape(_SPACE_RE.sub(" ", _text(match.group(1)))).strip() if match else ""


def _normalise(body: bytes, paths: Iterable[str]) -> str:
    """Text for similarity: lower case, paths and digits removed, whitespace collapsed."""
    text = _text(body).lower()
    for path in paths:
        if len(path) > 1:
            text = text.replace(path.lower(), " ")
    text = _DIGITS_RE.sub("", text)
    return _SPACE_RE.sub(" ", text)[:_COMPARE_CHARS]


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SOFT404_SIMILARITY
        and matcher.quick_ratio() >= SOFT404_SIMILARITY
        and matcher.ratio() >= SOFT404_SIMILARITY
    )


def _bot_wall(fetch: Fetch) -> bool:
    if fetch.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if fetch.status in (200, 403, 429, 503) and fetch.body:
        return bool(_BOT_WALL_MARKERS.search(_text(fetch.body[:16384])))
    return False


@dataclass(frozen=True)
class _Probe:
    """How a site answers a random path next to the URL being checked."""

    status: int | None
    final_url: str | None
    redirected: bool
    text: str

    @property
    def hard_404(self) -> bool:
        """The site answers unknown paths with a real 404 or 410: a 2xx can be trusted."""
        return self.status in (404, 410)


@dataclass
class _ProbeSlot:
    ready: threading.Event = field(default_factory=threading.Event)
    probe: _Probe | None = None


def _probe_key(url: str) -> str:
    """The probe cache key of ``url``: its host and directory."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/" if "/" in parts.path else "/"
    return f"{host_key(url)}{directory}"


def _probe_url(url: str) -> tuple[str, str]:
    """``(cache key, sibling URL)``: a random name in the same directory as ``url``."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/" if "/" in parts.path else "/"
    sibling = f"{directory}wikicore-{secrets.token_hex(8)}"
    return f"{host_key(url)}{directory}", urlunsplit((parts.scheme, parts.netloc, sibling, "", ""))


# --- the checker -------------------------------------------------------------------


class LinkChecker:
    """Checks URLs with one session, one database and one configuration.

    Thread-safe: :meth:`check` may run in many threads at once (as
    :meth:`check_many` does). Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        config: CheckConfig | None = None,
        db: LinkDB | None = None,
        *,
        clock: Clock | None = None,
        session: CheckSession | None = None,
    ) -> None:
        self.config = config or CheckConfig()
        self.db = db
        self.clock: Clock = clock or (db.clock if db is not None else utc_now)
        self.session = session or CheckSession(self.config)
        self._probes: OrderedDict[str, _ProbeSlot] = OrderedDict()
        self._probes_lock = threading.Lock()
        # The async engine (the default): one event loop thread and one aiohttp session, made on first use.
        self._loop: LoopThread | None = None
        self._aio: AsyncSession | None = None
        self._aprobes: OrderedDict[str, asyncio.Future[_Probe | None]] = OrderedDict()

    def __enter__(self) -> LinkChecker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the sessions' connections (the database belongs to the caller)."""
        self.session.close()
        if self._loop is not None:
            if self._aio is not None:
                with contextlib.suppress(Exception):
                    self._loop.run(self._aio.close())
            self._loop.close()
            self._loop = self._aio = None

    # the async engine -----------------------------------------------------------------

    def _engine(self) -> tuple[LoopThread, AsyncSession]:
        if self._loop is None or self._aio is None:
            loop = LoopThread()

            async def make() -> AsyncSession:
                return AsyncSession(self.config)

            self._aio = loop.run(make())
            self._loop = loop
        return self._loop, self._aio

    async def _afetch(self, url: str) -> tuple[Fetch, _Probe | None] | None:
        """GET ``url`` (body up to ``keep_bytes``) and, for a 2xx, its directory's probe; never raises."""
        assert self._aio is not None
        try:
            expires = time.monotonic() + self.config.deadline
            early = None
            if self.config.soft404 and _probe_key(url) not in self._aprobes:
                early = asyncio.ensure_future(self._aprobe(url))  # beside the GET, not after it
            get = await self._aio.fetch(url, "GET", expires=expires, limit=self.config.keep_bytes)
            probe = await self._aprobe(url) if get.ok and self.config.soft404 else None
            if early is not None and not early.done() and not get.ok:
                early.cancel()
            return get, probe
        except Exception:  # reported by the caller as this URL's error; one URL must not end an audit
            return None

    async def _aprobe(self, url: str) -> _Probe | None:
        """The probe of ``url``'s directory, made once per directory however many checks ask."""
        assert self._aio is not None
        key = _probe_key(url)
        made = self._aprobes.get(key)
        if made is not None and not made.cancelled():
            self._aprobes.move_to_end(key)
            return await asyncio.shield(made)
        _, sibling = _probe_url(url)
        future: asyncio.Future[_Probe | None] = asyncio.get_running_loop().create_future()
        self._aprobes[key] = future
        while len(self._aprobes) > _PROBE_CACHE:
            self._aprobes.popitem(last=False)
        probe = None
        try:
            fetch = await self._aio.fetch(sibling, "GET", limit=self.config.keep_bytes)
            if fetch.failure is None:
                paths = (urlsplit(sibling).path,)
                probe = _Probe(fetch.status, fetch.final_url, bool(fetch.redirects), _normalise(fetch.body, paths))
        finally:
            if not future.done():
                future.set_result(probe)
        return probe

    def _judge(self, url: str, fetched: tuple[Fetch, _Probe | None] | None) -> tuple[LinkResult, Observation | None]:
        if fetched is None:
            now = self.clock()
            return LinkResult(url, LinkStatus.ERROR, None, None, now, error="unexpected failure while checking"), None
        fetch, probe = fetched
        status, reason = self._verdict(fetch, probe)
        return self._finish(url, status, fetch, reason)

    # one URL ------------------------------------------------------------------------

    def check(self, url: str, *, refresh: bool = False) -> LinkResult:
        """Check one URL (or reuse a result younger than the TTL unless ``refresh``); record it."""
        quick = self._without_network(url, refresh)
        if quick is not None:
            return quick
        if self.config.engine == "async":
            loop, _ = self._engine()
            result, recorded = self._judge(url, loop.run(self._afetch(url)))
        else:
            result, recorded = self._check_fetching(url)
        if self.db is not None and recorded is not None:
            self.db.record(recorded)
        return result

    def _check_fetching(self, url: str) -> tuple[LinkResult, Observation]:
        """Fetch and judge ``url``; the observation is returned for the caller to record."""
        budget = self.session.budget()
        try:
            fetch, probe = self._fetch(url, budget)
        finally:
            budget.finish()
        status, reason = self._verdict(fetch, probe)
        return self._finish(url, status, fetch, reason)

    def _check_safely(self, url: str) -> tuple[LinkResult, Observation | None]:
        """:meth:`_check_fetching` for worker threads: one URL's surprise must not end a whole audit."""
        try:
            return self._check_fetching(url)
        except Exception as exc:  # reported as this URL's error, in words (the type names the surprise)
            why = f"unexpected {type(exc).__name__} while checking"
            return LinkResult(url, LinkStatus.ERROR, None, None, self.clock(), error=why), None

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
            if obs is not None and obs.status in _STATUSES:
                status, reason = self._judged(LinkStatus(obs.status), obs.error, state.dead)
                dead = state.dead
                return LinkResult(
                    url, status, obs.http_status, obs.final_url, obs.checked_at, obs.redirects,
                    reason, dead.failures, dead.first_failed, dead.confirmed_dead, from_cache=True,
                )
        return None

    def _fetch(self, url: str, budget: Deadline) -> tuple[Fetch, _Probe | None]:
        # One GET, its body read up to keep_bytes: every 2xx is judged on its title and
        # text (issue 10), and one request costs less than HEAD then GET. Servers that
        # mishandle HEAD (405, 501, 403, worse) are no longer a special case.
        get = self.session.fetch(url, "GET", deadline=budget, limit=self.config.keep_bytes)
        probe = self._probe(url) if get.ok and self.config.soft404 else None
        return get, probe

    def _probe_needed(self, url: str) -> bool:
        """Whether ``url``'s directory has no probe yet, made or under way."""
        key = _probe_key(url)
        with self._probes_lock:
            return key not in self._probes

    def _probe(self, url: str) -> _Probe | None:
        """The cached probe of ``url``'s directory, made once even when many threads ask at once."""
        key, sibling = _probe_url(url)
        with self._probes_lock:
            slot = self._probes.get(key)
            owner = slot is None
            if slot is None:
                slot = self._probes[key] = _ProbeSlot()
                while len(self._probes) > _PROBE_CACHE:
                    self._probes.popitem(last=False)
            else:
                self._probes.move_to_end(key)
        if not owner:
            slot.ready.wait(self.config.deadline + 1)
            return slot.probe
        try:
            fetch = self.session.fetch(sibling, "GET", limit=self.config.keep_bytes)
            if fetch.failure is None:
                paths = (urlsplit(sibling).path,)
                slot.probe = _Probe(fetch.status, fetch.final_url, bool(fetch.redirects), _normalise(fetch.body, paths))
        finally:
            slot.ready.set()
        return slot.probe

    def _verdict(self, fetch: Fetch, probe: _Probe | None) -> tuple[LinkStatus, str | None]:
        failure = fetch.failure
        if failure in (Failure.SCHEME, Failure.BAD_URL, Failure.ADDRESS):
            return LinkStatus.INVALID, fetch.error
        if failure in (Failure.DNS, Failure.REDIRECT_LOOP, Failure.TOO_MANY_REDIRECTS):
            return LinkStatus.DEAD, fetch.error
        if failure is not None:
            return LinkStatus.ERROR, fetch.error
        status = fetch.status
        assert status is not None
        if _bot_wall(fetch):
            return LinkStatus.BLOCKED, "bot wall or challenge page"
        if 200 <= status < 300:
            reason = self._soft404_reason(fetch, probe) if self.config.soft404 else None
            return (LinkStatus.SOFT_404, reason) if reason else (LinkStatus.LIVE, None)
        if status in (404, 410):
            return LinkStatus.DEAD, f"HTTP {status}"
        if status in BLOCKED_STATUSES:
            return LinkStatus.BLOCKED, f"HTTP {status}"
        return LinkStatus.ERROR, f"HTTP {status}"

    @staticmethod
    def _soft404_reason(fetch: Fetch, probe: _Probe | None) -> str | None:
        title = _title(fetch.body)
        if title and _TITLE_MARKERS.search(title):
            return f"soft 404: title {title[:80]!r}"
        marker = _BODY_MARKERS.search(_TAG_RE.sub(" ", _text(fetch.body[:32768])))
        if marker:
            return f"soft 404: page says {marker.group(0)!r}"
        if probe is None or probe.status is None or not 200 <= probe.status < 300:
            return None
        start = urlsplit(fetch.url)
        final = fetch.final_url or fetch.url
        if fetch.redirects and probe.redirected and final == probe.final_url and urlsplit(final).path != start.path:
            return f"soft 404: redirects to {final} like a random path does"
        if _similar(_normalise(fetch.body, (start.path, urlsplit(final).path)), probe.text):
            return "soft 404: same page as a random path on this site"
        return None

    def _finish(self, url: str, status: LinkStatus, fetch: Fetch, reason: str | None) -> tuple[LinkResult, Observation]:
        now = self.clock()
        observation = Observation(url, now, status.value, fetch.status, fetch.final_url, fetch.redirects, reason)
        history: tuple[Observation, ...] = ()
        if self.db is not None:
            history = self.db.state(url, self.config.dead_failures, self.config.dead_spacing).history
        state = dead_state((*history, observation), self.config.dead_failures, self.config.dead_spacing)
        judged, words = self._judged(status, reason, state)
        result = LinkResult(
            url, judged, fetch.status, fetch.final_url, now, fetch.redirects, words,
            state.failures, state.first_failed, state.confirmed_dead,
        )
        return result, observation

    @staticmethod
    def _judged(status: LinkStatus, reason: str | None, state: DeadState) -> tuple[LinkStatus, str | None]:
        """The verdict with the URL's history applied (issue 10).

        A failure that persists (refused, no such name, TLS, timeout, 5xx) follows
        the rule a 404 does: ``confirmed_dead`` after enough spaced failures, and
        then the verdict is ``dead``. Until then an error says how long it has lasted.
        """
        if status is not LinkStatus.ERROR or state.first_failed is None or state.failures < 2:
            return status, reason
        since = state.first_failed.date().isoformat()
        if state.confirmed_dead:
            return LinkStatus.DEAD, f"{reason or 'no answer'}; failing since {since} ({state.failures} checks)"
        return status, f"{reason or 'no answer'}; failing since {since} ({state.failures} checks so far)"

    # many URLs -----------------------------------------------------------------------

    def check_many(
        self,
        urls: Iterable[str],
        *,
        refresh: bool = False,
        progress: Callable[[LinkResult], None] | None = None,
    ) -> Iterator[LinkResult]:
        """Check each distinct URL once, yielding results **in completion order**.

        Results that need no request (no URL, invalid, fresh in the database)
        come out as soon as they are read. The rest are dispatched to
        ``concurrency`` worker threads, never more than ``per_host`` at once to
        one host, so a site cited a thousand times cannot occupy every worker
        while other hosts wait. At most a window of URLs is read ahead, so memory
        does not grow with the input (beyond the set of URLs already seen, used
        to skip duplicates).
        """
        if self.config.engine == "async":
            yield from self._check_many_async(urls, refresh, progress)
            return
        per_host = self.config.per_host
        interval = self.config.host_interval
        source = iter(urls)
        seen: set[str] = set()
        pending: dict[str, deque[str]] = {}  # URLs read but not yet dispatched, by host
        ready: deque[str] = deque()  # hosts that may have work to dispatch now
        queued: set[str] = set()  # hosts in ``ready`` or ``resting``: each at most once, or the loop goes quadratic
        resting: list[tuple[float, str]] = []  # (monotonic time, host): hosts inside their interval
        next_start: dict[str, float] = {}  # our own booking of each host's next start
        busy: dict[str, int] = {}
        running: dict[Future[tuple[LinkResult, Observation | None]], str] = {}
        buffered = 0
        exhausted = False
        pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="wikicore-check")

        def wake(key: str) -> None:
            if key not in queued:
                queued.add(key)
                ready.append(key)

        batch: list[Observation] = []
        written = time.monotonic()

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
                # Read ahead, answering what needs no request at once.
                while not exhausted and buffered < _WINDOW:
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
                    key = host_key(url)
                    queue = pending.setdefault(key, deque())
                    if not queue:
                        wake(key)
                    queue.append(url)
                    buffered += 1
                now = time.monotonic()
                while resting and resting[0][0] <= now:
                    ready.append(heapq.heappop(resting)[1])
                # Dispatch to hosts with a free slot whose interval has passed, round robin.
                # Workers then spend their time on the network, not sleeping off a
                # host's interval while requests to other hosts could run.
                while ready and len(running) < self.config.concurrency:
                    key = ready.popleft()
                    queued.discard(key)
                    waiting = pending.get(key)
                    if not waiting or busy.get(key, 0) >= per_host:
                        continue
                    at = max(next_start.get(key, 0.0), self.session.ready_at(key))
                    if at - now > _REST_MIN:
                        queued.add(key)
                        heapq.heappush(resting, (at, key))
                        continue
                    url = waiting.popleft()
                    buffered -= 1
                    busy[key] = busy.get(key, 0) + 1
                    next_start[key] = now + interval
                    if self.config.soft404 and self._probe_needed(url):
                        # Probe the directory alongside the first HEAD instead of after it.
                        pool.submit(self._probe, url)
                    running[pool.submit(self._check_safely, url)] = key
                    if waiting:
                        wake(key)
                    else:
                        del pending[key]
                        del next_start[key]  # the session's gate remembers the host
                if not running:
                    if exhausted and not pending:
                        return
                    if resting:
                        time.sleep(max(0.0, resting[0][0] - time.monotonic()))
                    elif exhausted and not ready:
                        for key in pending:  # cannot happen; never spin if it does
                            wake(key)
                    continue
                timeout = max(0.0, resting[0][0] - time.monotonic()) if resting else None
                done, _ = wait(list(running), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    key = running.pop(future)
                    busy[key] -= 1
                    if not busy[key]:
                        del busy[key]
                    if pending.get(key):
                        wake(key)
                    result, observation = future.result()
                    if observation is not None:
                        batch.append(observation)
                    if len(batch) >= RECORD_BATCH or (batch and time.monotonic() - written >= RECORD_EVERY):
                        flush()
                    yield emit(result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            flush()


    def _check_many_async(
        self, urls: Iterable[str], refresh: bool, progress: Callable[[LinkResult], None] | None
    ) -> Iterator[LinkResult]:
        """:meth:`check_many` on the event loop: a window of checks in flight, politeness in the gate."""
        loop, _ = self._engine()
        done: queue.SimpleQueue[tuple[str, tuple[Fetch, _Probe | None] | None]] = queue.SimpleQueue()
        tasks: set[asyncio.Task[None]] = set()
        running = 0
        seen: set[str] = set()
        source = iter(urls)
        exhausted = False
        batch: list[Observation] = []
        written = time.monotonic()

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
                fresh: list[str] = []
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
                    fresh.append(url)
                    if len(fresh) >= _SUBMIT_CHUNK:
                        break  # start these now; read more while they run
                if fresh:
                    # One hand-over to the loop per chunk, not per URL (each costs a wake-up).
                    loop.loop.call_soon_threadsafe(self._spawn, fresh, done, tasks)
                    running += len(fresh)
                if not running:
                    return
                url, outcome = done.get()
                running -= 1
                result, observation = self._judge(url, outcome)
                if observation is not None:
                    batch.append(observation)
                if len(batch) >= RECORD_BATCH or (batch and time.monotonic() - written >= RECORD_EVERY):
                    flush()
                yield emit(result)
        finally:
            if tasks:
                loop.loop.call_soon_threadsafe(lambda: [task.cancel() for task in list(tasks)])
            flush()

    def _spawn(
        self,
        urls: list[str],
        done: queue.SimpleQueue[tuple[str, tuple[Fetch, _Probe | None] | None]],
        tasks: set[asyncio.Task[None]],
    ) -> None:
        """On the loop: start one task per URL; each hands its outcome to the generator's queue."""

        async def one(url: str) -> None:
            outcome = await self._afetch(url)
            done.put((url, outcome))

        for url in urls:
            task = asyncio.ensure_future(one(url))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


def check_urls(
    urls: Iterable[str],
    config: CheckConfig | None = None,
    db: LinkDB | None = None,
    *,
    refresh: bool = False,
    clock: Clock | None = None,
    progress: Callable[[LinkResult], None] | None = None,
) -> Iterator[LinkResult]:
    """Check each distinct URL of ``urls``; yield one :class:`LinkResult` each, in completion order.

    Streams: results come out as checks finish and memory stays flat in the
    number of URLs. With ``db``, every observation is recorded, results younger
    than ``config.ttl`` are reused without a request (unless ``refresh``) and the
    dead-link rule uses the URL's whole history. ``clock`` (aware UTC) is for tests.
    """
    with LinkChecker(config, db, clock=clock) as checker:
        yield from checker.check_many(urls, refresh=refresh, progress=progress)
