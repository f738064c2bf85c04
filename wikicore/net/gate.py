"""One rate gate: concurrency and spacing per key, where a key is a host or an endpoint family.

The link checker keys by host (``example.org:443``, see
:func:`wikicore.net.policy.host_key`); the archive client keys by endpoint
family (``archive:availability``, ``archive:cdx``...) since one archive serves
several APIs with separate limits. Each key has a :class:`Limit` (requests in
flight at once and seconds between starts), the default one unless an override
is configured (``CheckConfig.host_limits``). A server's ``Retry-After``
pauses the whole key (:meth:`RateGate.pause`), not just the request that got it.

Threads wait in :meth:`RateGate.slot`, coroutines in :meth:`RateGate.aslot`: the
decisions (which limit applies, when the next start may be, what a pause does)
are the same code for both, only the waiting differs (threading semaphores and
``sleep`` for one, asyncio semaphores and ``asyncio.sleep`` for the other).
Sleeps happen outside every lock.

On the event loop a request either opens a check (it queues behind the key's
other checks, in order) or continues one already in flight (a redirect hop, a
retry, a probe for a page already fetched): those go first (``urgent``), since a
deadline that has started measures the site, and a hop queued behind a host's
backlog would measure our queue instead. A check's wait for its first turn is
bounded by ``wait`` seconds *without progress*: a key whose slots keep being
handed on is merely busy and its checks wait their turn, however long the
queue; one whose slots have not moved for ``wait`` seconds (every slot held by
hung requests, a long pause) raises :class:`HostBusy`, which the checker reports
as "not checked", never as a verdict on the site.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from .deadline import Budget

__all__ = ["HostBusy", "Limit", "RateGate"]


@dataclass(frozen=True)
class Limit:
    """Politeness towards one key: ``concurrency`` requests at once, starts ``interval`` seconds apart."""

    concurrency: int
    interval: float

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("a concurrency limit must be at least 1")
        if not 0 <= self.interval < float("inf"):
            raise ValueError("a request interval must be a finite number of seconds, 0 or more")


class HostBusy(Exception):
    """A check waited ``waited`` seconds for a turn at ``key`` and no slot of it moved meanwhile."""

    def __init__(self, key: str, waited: float) -> None:
        super().__init__(f"not checked: host busy (no turn at {key} within {waited:g} s)")
        self.key = key
        self.waited = waited


class _Slots:
    """An asyncio semaphore with two queues: requests of checks in flight are served first.

    ``last_moved`` is when a slot was last handed on or freed (the key's progress).
    A queued request with a ``wait`` fails with :class:`HostBusy` once the key has
    made no progress for that long; one timer per key watches them all (a timer
    per waiter cost 5 µs a request, measured on bench_links' unlocked run).
    """

    def __init__(self, count: int) -> None:
        self.free = count
        self.urgent: deque[asyncio.Future[None]] = deque()
        self.normal: deque[tuple[asyncio.Future[None], float, float | None, str]] = deque()
        self.last_moved = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, urgent: bool, wait: float | None, key: str) -> None:
        if self.free > 0 and not self.urgent and (urgent or not self.normal):
            self.free -= 1
            return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        if urgent:
            self.urgent.append(turn)
        else:
            self.normal.append((turn, time.monotonic(), wait, key))
            if wait is not None and self._timer is None:
                self._timer = loop.call_later(wait, self._expire, loop)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self.release()  # handed a slot just as we gave up: pass it on
            elif urgent:
                with contextlib.suppress(ValueError):
                    self.urgent.remove(turn)
            else:
                self.normal = deque(entry for entry in self.normal if entry[0] is not turn)
            raise

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail the queued requests whose key made no progress for their ``wait``; watch the rest."""
        self._timer = None
        now = time.monotonic()
        kept: deque[tuple[asyncio.Future[None], float, float | None, str]] = deque()
        due: float | None = None
        for turn, queued, wait, key in self.normal:
            if turn.done():
                continue
            if wait is not None:
                idle = now - max(queued, self.last_moved)
                if idle >= wait:
                    turn.set_exception(HostBusy(key, round(now - queued, 1)))
                    continue
                due = wait - idle if due is None else min(due, wait - idle)
            kept.append((turn, queued, wait, key))
        self.normal = kept
        if due is not None:
            self._timer = loop.call_later(due, self._expire, loop)

    def release(self) -> None:
        self.last_moved = time.monotonic()
        while self.urgent:
            turn = self.urgent.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        while self.normal:
            turn = self.normal.popleft()[0]
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1


class _Key:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.slots = threading.BoundedSemaphore(limit.concurrency)
        self.lock = threading.Lock()
        self.next_start = 0.0
        self._aslots: _Slots | None = None

    @property
    def aslots(self) -> _Slots:
        """The key's slots for coroutines, made on first use (on the loop that uses them)."""
        if self._aslots is None:
            self._aslots = _Slots(self.limit.concurrency)
        return self._aslots

    def reserve(self) -> float:
        with self.lock:
            now = self.clock()
            start = max(now, self.next_start)
            self.next_start = start + self.limit.interval
            return start - now


class RateGate:
    """Per-key concurrency and spacing, plus an optional cap on requests in flight overall.

    Thread-safe; share one gate between every client that talks to the same servers.
    ``clock`` and ``sleep`` are injectable so that a test can observe a minute's
    pause without waiting for it (the archive client's tests do).
    """

    def __init__(
        self,
        default: Limit,
        overrides: Mapping[str, Limit] | None = None,
        *,
        total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.default = default
        self.overrides = dict(overrides or {})
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()  # guards the dict only, never a request
        self._total = threading.BoundedSemaphore(total) if total else None
        self._total_count = total
        self._atotal: _Slots | None = None

    def limit(self, key: str) -> Limit:
        """The limit that applies to ``key`` (an override matches the key or its host part)."""
        if key in self.overrides:
            return self.overrides[key]
        host = key.rsplit(":", 1)[0] if ":" in key else key
        return self.overrides.get(host, self.default)

    def _key(self, key: str) -> _Key:
        with self._lock:
            entry = self._keys.get(key)
            if entry is None:
                entry = self._keys[key] = _Key(self.limit(key), self.clock)
            return entry

    @contextmanager
    def slot(self, key: str, *, budget: Budget | None = None) -> Iterator[None]:
        """Hold one of ``key``'s slots, started no sooner than its interval allows.

        ``budget`` (the URL's deadline) begins when the slot is granted: the time
        queued for the turn is ours, not the site's.
        """
        # Key slot first, overall slot second: a worker waiting on a busy host must
        # not sit on an overall slot that requests to other hosts could use.
        entry = self._key(key)
        entry.slots.acquire()
        try:
            wait = entry.reserve()
            if wait > 0:
                self.sleep(wait)
            if self._total is not None:
                self._total.acquire()
            try:
                if budget is not None:
                    budget.begin()
                yield
            finally:
                if self._total is not None:
                    self._total.release()
        finally:
            entry.slots.release()

    @asynccontextmanager
    async def aslot(
        self, key: str, *, urgent: bool = False, wait: float | None = None, budget: Budget | None = None
    ) -> AsyncIterator[None]:
        """:meth:`slot` for a coroutine on an event loop: the same limits, spacing and pauses.

        ``urgent`` requests (a check already in flight) are served before the
        key's queue; ``wait`` bounds, in seconds without progress at the key, the
        wait for a slot (:class:`HostBusy`). A gate serves one event loop at a
        time; threads and coroutines sharing one gate share its spacing and
        pauses, each side counting its own requests in flight. ``budget`` begins
        when the slot is granted, as in :meth:`slot`.
        """
        entry = self._key(key)
        slots = entry.aslots
        await slots.acquire(urgent, wait, key)
        try:
            pause = entry.reserve()
            if pause > 0:
                await asyncio.sleep(pause)
            if self._total_count:
                if self._atotal is None:
                    self._atotal = _Slots(self._total_count)
                await self._atotal.acquire(urgent, None, "")
                try:
                    if budget is not None:
                        budget.begin()
                    yield
                finally:
                    self._atotal.release()
            else:
                if budget is not None:
                    budget.begin()
                yield
        finally:
            slots.release()

    def pause(self, key: str, seconds: float) -> None:
        """Hold every request to ``key`` back for ``seconds`` (after a 429 or 503 with Retry-After)."""
        entry = self._key(key)
        with entry.lock:
            entry.next_start = max(entry.next_start, self.clock() + seconds)
