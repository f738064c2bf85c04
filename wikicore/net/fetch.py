"""What one fetch observed, and the walk through its redirects: shared by both HTTP stacks.

:class:`Fetch` is the record every fetch returns, whichever library made it
(requests in :mod:`wikicore.net.session`, aiohttp in :mod:`wikicore.net.aio`);
:class:`RedirectChain` decides what a redirect means (a missing ``Location``, a
loop, too many hops, 303 turning into GET) once, so the two stacks cannot drift
apart on it. Per-URL failures are values, not exceptions: a :class:`Fetch` with
``failure`` set and ``error`` in plain words.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from .config import MAX_REDIRECTS
from .failures import Failure

__all__ = ["CHUNK", "REDIRECT_CODES", "REDIRECT_DRAIN", "Fetch", "RedirectChain", "failed_fetch"]

#: Bytes asked of the socket per read.
CHUNK = 16 * 1024
#: A redirect's body is read up to this many bytes, only to keep its connection alive.
REDIRECT_DRAIN = 64 * 1024
#: Statuses followed as redirects (RFC 9110 §15.4; 300 and 304 are answers, not redirects).
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Fetch:
    """What one fetch (all its hops and retries) observed.

    ``status`` is the HTTP status of the last hop, or ``None`` when ``failure``
    says why there was none. ``redirects`` lists every URL we were sent to, in
    order (the last is ``final_url`` unless a hop failed). ``body`` holds the
    decoded body up to the fetch's ``limit``; ``truncated`` says the cap stopped us.
    ``error`` is the failure (or a hint) in plain words.
    """

    url: str
    method: str
    status: int | None
    final_url: str | None
    redirects: tuple[str, ...]
    headers: Mapping[str, str]
    body: bytes
    body_bytes: int
    truncated: bool
    failure: Failure | None
    error: str | None
    attempts: int
    elapsed: float

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class RedirectChain:
    """One fetch's way through its redirects, walked alike by both HTTP stacks (requests and aiohttp).

    The stack makes its attempts at :attr:`current` (with :attr:`method`) and hands the answer
    to :meth:`step`, which returns the finished :class:`Fetch`, or ``None`` when the chain goes on
    to a new :attr:`current`. A missing ``Location``, a loop or too many hops end the chain here,
    so the two stacks cannot drift apart on what a redirect means.
    """

    def __init__(self, url: str, method: str, started: float) -> None:
        self.url = url
        self.method = method
        self.started = started
        self.current = url
        self.hops: list[str] = []
        self.attempts = 0
        self._seen = {_normal(url)}

    def failed(self, failure: Failure, error: str, status: int | None = None) -> Fetch:
        """The chain ends in ``failure`` at :attr:`current`."""
        return Fetch(
            self.url, self.method, status, self.current, tuple(self.hops), {}, b"", 0, False, failure, error,
            self.attempts, time.monotonic() - self.started,
        )

    def step(self, result: Fetch) -> Fetch | None:
        """Take the answer at :attr:`current`: the finished fetch, or ``None`` to go on."""
        self.attempts += result.attempts
        if result.failure is not None or result.status not in REDIRECT_CODES:
            return replace(result, url=self.url, redirects=tuple(self.hops), attempts=self.attempts,
                           elapsed=time.monotonic() - self.started)
        location = result.headers.get("location")
        if not location:
            return self.failed(Failure.BAD_REDIRECT, f"HTTP {result.status} redirect without a Location", result.status)
        nxt = urljoin(self.current, location.strip())
        if len(self.hops) >= MAX_REDIRECTS:
            return self.failed(Failure.TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects", result.status)
        self.hops.append(nxt)
        if _normal(nxt) in self._seen:
            self.current = nxt
            return self.failed(Failure.REDIRECT_LOOP, f"redirect loop back to {nxt}", result.status)
        self._seen.add(_normal(nxt))
        if result.status == 303 and self.method != "HEAD":
            self.method = "GET"  # RFC 9110 §15.4.4
        self.current = nxt
        return None


def failed_fetch(url: str, method: str, failure: Failure, error: str, started: float) -> Fetch:
    """One attempt at ``url`` that got no answer: ``failure`` in plain words."""
    return Fetch(url, method, None, url, (), {}, b"", 0, False, failure, error, 1, time.monotonic() - started)


def _normal(url: str) -> str:
    """``url`` as compared for redirect loops: scheme and host lower-cased, no fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), fragment="").geturl()
