"""The demo's fake Wayback Machine plus the trouble tests provoke on purpose: queued errors, latency.

The archive client must back off on 429s, honour ``Retry-After``, give up within its budget
and never hammer an archive that is failing. The tests prove it against this subclass of
:class:`wikicore.testing.wayback.FakeWayback`, kept here so that an installed wikicore does
not ship a server built to misbehave. It re-exports the fake's records so that a test
imports its archive from one place.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from wikicore.testing.wayback import (
    BLOCKED_BODY,
    ENDPOINTS,
    Capture,
    Injected,
    QuietServer,
    load_snapshots,
    surt,
)
from wikicore.testing.wayback import FakeWayback as TameWayback

__all__ = ["BLOCKED_BODY", "ENDPOINTS", "Capture", "FakeWayback", "QuietServer", "load_snapshots", "surt"]


class FakeWayback(TameWayback):
    """A loopback Wayback server whose endpoints can be told to fail; ``latency`` delays every answer.

    :meth:`fail` queues 429s (with or without ``Retry-After``) or other errors per endpoint.
    """

    def __init__(
        self, snapshots: Iterable[Capture | Mapping[str, Any]] = (), *, latency: float = 0.0, **options: Any
    ) -> None:
        self.latency = latency
        self._failures: dict[str, collections.deque[Injected]] = collections.defaultdict(collections.deque)
        self._failures_lock = threading.Lock()
        super().__init__(snapshots, **options)

    def __enter__(self) -> FakeWayback:
        self.start()
        return self

    def fail(
        self,
        endpoint: str,
        status: int = 429,
        *,
        retry_after: str | float | None = None,
        times: int = 1,
        body: bytes = b"",
    ) -> None:
        """Answer the next ``times`` requests to ``endpoint`` (one of :data:`ENDPOINTS`) with ``status``."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; use one of {ENDPOINTS}")
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        with self._failures_lock:
            for _ in range(times):
                self._failures[endpoint].append((status, headers, body))

    def note(self, command: str, path: str, endpoint: str | None) -> Injected | None:
        """Log and count the request, then take the next queued failure of its endpoint, after ``latency``."""
        super().note(command, path, endpoint)
        with self._failures_lock:
            failure = self._failures[endpoint].popleft() if endpoint and self._failures[endpoint] else None
        if self.latency:
            time.sleep(self.latency)
        return failure
