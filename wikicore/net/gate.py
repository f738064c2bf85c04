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
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

__all__ = ["Limit", "RateGate"]


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


class _Key:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.slots = threading.BoundedSemaphore(limit.concurrency)
        self.lock = threading.Lock()
        self.next_start = 0.0
        self._aslots: asyncio.Semaphore | None = None

    @property
    def aslots(self) -> asyncio.Semaphore:
        """The key's slots for coroutines, made on first use (on the loop that uses them)."""
        if self._aslots is None:
            self._aslots = asyncio.Semaphore(self.limit.concurrency)
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
        self._atotal: asyncio.Semaphore | None = None

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
    def slot(self, key: str) -> Iterator[None]:
        """Hold one of ``key``'s slots, started no sooner than its interval allows."""
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
                yield
            finally:
                if self._total is not None:
                    self._total.release()
        finally:
            entry.slots.release()

    @asynccontextmanager
    async def aslot(self, key: str) -> AsyncIterator[None]:
        """:meth:`slot` for a coroutine on an event loop: the same limits, spacing and pauses.

        A gate serves one event loop at a time; threads and coroutines sharing one
        gate share its spacing and pauses, each side counting its own requests in flight.
        """
        entry = self._key(key)
        async with entry.aslots:
            wait = entry.reserve()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._total_count:
                if self._atotal is None:
                    self._atotal = asyncio.Semaphore(self._total_count)
                async with self._atotal:
                    yield
            else:
                yield

    def pause(self, key: str, seconds: float) -> None:
        """Hold every request to ``key`` back for ``seconds`` (after a 429 or 503 with Retry-After)."""
        entry = self._key(key)
        with entry.lock:
            entry.next_start = max(entry.next_start, self.clock() + seconds)
