"""Politeness per archive: request spacing per endpoint family, and a pause of every call after a 429.

One :class:`ArchiveGate` per archive host is shared by every client of it in the
process (:func:`shared_gate`). The Internet Archive publishes its limits (CDX 30
requests a minute, playback 600, Save Page Now about 15 captures a minute for
anonymous clients) and we stay at 80% of them; an archive of one's own (pywb)
can be given faster rates, or none (``rates={"cdx": 0}`` lifts the CDX limit).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from ..errors import RateLimited
from ..net import Limit, RateGate
from ..net.deadline import Budget

__all__ = [
    "AVAILABILITY_REQUESTS_PER_SECOND",
    "CDX_REQUESTS_PER_SECOND",
    "MAX_RETRY_AFTER",
    "MEMENTO_REQUESTS_PER_SECOND",
    "SAVE_REQUESTS_PER_SECOND",
    "ArchiveGate",
    "shared_gate",
]

#: The Internet Archive limits the CDX server to 30 requests a minute per IP
#: (0.5/s) and asks clients to stay at 80% of its hard limits; ignoring 429s for
#: a minute gets the IP blocked for an hour.
CDX_REQUESTS_PER_SECOND = 0.8 * 30 / 60

#: Playback (``/web/``, TimeGates, TimeMaps) is limited to 600 requests a minute; 80% of that.
MEMENTO_REQUESTS_PER_SECOND = 0.8 * 600 / 60

#: The availability API has no published limit; one request a second is ample
#: when each request carries up to 100 URLs.
AVAILABILITY_REQUESTS_PER_SECOND = 1.0

#: Save Page Now refuses anonymous clients beyond about 15 captures a minute
#: (its 429 message says so); we stay well under, at 6 a minute.
SAVE_REQUESTS_PER_SECOND = 6 / 60

#: A ``Retry-After`` longer than this is not slept through: until it ends, every
#: call raises :class:`~wikicore.errors.RateLimited` at once (come back later).
MAX_RETRY_AFTER = 300.0


class ArchiveGate:
    """Politeness for one archive host, shared by every client of it in the process.

    Each endpoint family (``available``, ``cdx``, ``web``, ``save``) keeps a
    minimum interval between request starts; :meth:`pause` (called on a 429)
    holds **every** family until the pause ends. A pause longer than
    :data:`MAX_RETRY_AFTER` is not slept through: until it ends, :meth:`wait`
    raises :class:`~wikicore.errors.RateLimited` at once, so a command fails
    with a clear message instead of hanging. ``clock`` and ``sleep`` are
    injectable, so a test can observe a 60 s pause without waiting for it.

    It stands on the network layer's :class:`~wikicore.net.RateGate` (one key
    per family, ``archive:cdx``...); what it adds is the archive's own rule that
    a 429 on any endpoint pauses them all, and the fail-fast for long pauses.
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
        self.rates = {
            "available": AVAILABILITY_REQUESTS_PER_SECOND,
            "cdx": CDX_REQUESTS_PER_SECOND,
            "web": MEMENTO_REQUESTS_PER_SECOND,
            "save": SAVE_REQUESTS_PER_SECOND,
        }
        self.refused_until = 0.0
        self.pauses: list[float] = []  # every pause requested, in seconds: for tests and reports
        self._lock = threading.Lock()
        self.gate = self._rate_gate()
        if rates:
            self.set_rates(rates)

    def _rate_gate(self) -> RateGate:
        # The network layer's gate, keyed by endpoint family: spacing per family, and a
        # pause per family key that ``pause`` applies to every family at once.
        overrides = {
            _key(kind): Limit(_UNBOUNDED, 1.0 / rate if rate > 0 else 0.0) for kind, rate in self.rates.items()
        }
        return RateGate(Limit(_UNBOUNDED, 0.0), overrides, clock=self.clock, sleep=self.sleep)

    @property
    def intervals(self) -> dict[str, float]:
        """Seconds between request starts per endpoint family (0: no limit)."""
        return {kind: self.gate.limit(_key(kind)).interval for kind in self.rates}

    def set_rates(self, rates: Mapping[str, float]) -> None:
        """Requests a second per endpoint family; 0 (or less) lifts the limit."""
        with self._lock:
            if all(self.rates.get(kind) == rate for kind, rate in rates.items()):
                return  # unchanged: keep the gate, its spacing and any pause in force
            self.rates.update(rates)
            self.gate = self._rate_gate()

    def wait(self, kind: str, budget: Budget | None = None) -> None:
        """Block until a request of ``kind`` may start (its family's spacing, any pause), then reserve its slot.

        ``budget``, the request's deadline, begins when the turn comes, by the
        network layer's rule: time queued behind the archive's limits is not the archive's.
        """
        with self._lock:
            remaining = self.refused_until - self.clock()
            gate = self.gate
        if remaining > 0:
            raise RateLimited(f"the archive asked us to wait; {remaining:.0f} s remain", remaining)
        with gate.slot(_key(kind), budget=budget):
            pass  # the slot's start time is what we wait for; the request runs outside it

    def pause(self, seconds: float) -> None:
        """Hold every archive call for ``seconds`` from now (a 429 was received)."""
        with self._lock:
            self.pauses.append(seconds)
            if seconds > MAX_RETRY_AFTER:
                self.refused_until = max(self.refused_until, self.clock() + seconds)
                return
            gate = self.gate
        for kind in self.rates:
            gate.pause(_key(kind), seconds)


def _key(kind: str) -> str:
    """The rate-gate key of an endpoint family: ``archive:cdx``."""
    return f"archive:{kind}"


#: Requests of one family in flight at once: not limited here (spacing is), only bounded.
_UNBOUNDED = 1024


_SHARED_GATES: dict[str, ArchiveGate] = {}
_SHARED_GATES_LOCK = threading.Lock()


def shared_gate(base_url: str, rates: Mapping[str, float] | None = None) -> ArchiveGate:
    """The process-wide gate of the archive at ``base_url`` (one per host and port).

    ``rates`` apply when the gate is first made, and later to the families they name.
    """
    host = urlsplit(base_url).netloc.lower()
    with _SHARED_GATES_LOCK:
        gate = _SHARED_GATES.get(host)
        if gate is None:
            gate = _SHARED_GATES[host] = ArchiveGate(rates=rates)
        elif rates:
            gate.set_rates(rates)
        return gate
