"""The aiohttp stack, the link checker's engine: the same policy, retries, gate and caps as requests'.

Chosen by measurement (README, "Performance: link checking"): threads over
requests could not reach lychee's wall time at equal politeness on the 40-host
latency bed, nor 1.5x lychee on one host with limits lifted, because each
request costs about half a millisecond of Python under the GIL in requests and
urllib3 alone; an aiohttp client on one event loop does.

:class:`AsyncSession` mirrors :class:`~wikicore.net.CheckSession` and returns
the same :class:`~wikicore.net.Fetch`:

* **address policy**: names are looked up on the shared resolver threads
  (:mod:`wikicore.net.resolver`) and every address the policy refuses is dropped
  (:func:`wikicore.net.policy.vetted`), so aiohttp can only connect to vetted
  addresses, which also defeats DNS rebinding; IP-literal hosts, which aiohttp
  does not resolve, are vetted by hand; every redirect hop is a new request
  through the same checks, since redirects are followed by hand;
* **deadline**: one ``asyncio.timeout`` around the whole fetch (all hops,
  retries and reads), so a slow-loris server cannot stretch it; connect and
  per-read timeouts inside it. It starts when the first request is sent, and
  the fetch's later hops and retries go before checks still queued at the gate,
  so a URL's time measures its site, never the backlog of its host;
* **byte caps**: bodies are read in chunks and decompressed by us with
  ``max_length`` (aiohttp's own decompression is off), so a gzip bomb costs the
  cap, not its inflated size;
* **retries** by :class:`~wikicore.net.RetryPolicy`, **politeness** by the one
  :class:`~wikicore.net.RateGate` (its :meth:`~wikicore.net.RateGate.aslot`: the
  same limits, spacing and pauses as the threads' slots);
* **failures** in the same words as the requests stack (:mod:`wikicore.net.failures`).

All coroutines run on one event loop; :class:`LoopThread` runs that loop in a
daemon thread so that synchronous code (the link checker's generator) can
submit work and collect results.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from .config import CheckConfig
from .deadline import Budget
from .failures import AddressRefused, Failure, LookupTimeout, classify_aiohttp
from .fetch import CHUNK, REDIRECT_CODES, REDIRECT_DRAIN, Fetch, RedirectChain, failed_fetch
from .gate import HostBusy, RateGate
from .policy import host_key, refusal, refusal_message, url_problem, vetted
from .resolver import RESOLVER

__all__ = ["AsyncSession", "LoopThread"]

_T = TypeVar("_T")
#: A body's byte cap, and who is asked before a body passes ``keep_bytes`` on its way there.
_Cap = tuple[int, Callable[[], bool] | None]


# --- the loop thread ------------------------------------------------------------------


class LoopThread:
    """An asyncio event loop in a daemon thread; :meth:`submit` runs a coroutine on it."""

    def __init__(self, name: str = "wikicore-net") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Schedule ``coro`` on the loop; the returned future is safe to wait on from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the loop and wait for its result."""
        return self.submit(coro).result()

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self.loop.is_running():
            self.loop.close()


# --- the address policy inside aiohttp ------------------------------------------------------------


class _PolicyResolver(AbstractResolver):
    """Names looked up on the shared resolver threads, bounded in time, every refused address dropped."""

    def __init__(self, allow_private: bool, timeout: float) -> None:
        self.allow_private = allow_private
        self.timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await RESOLVER.alookup(host, port, family, self.timeout)
        allowed = set(vetted(host, [str(info[4][0]) for info in infos], self.allow_private))
        return [
            ResolveResult(hostname=host, host=str(sockaddr[0]), port=int(sockaddr[1]), family=fam, proto=proto,
                          flags=socket.AI_NUMERICHOST)
            for fam, _, proto, _, sockaddr in infos
            if str(sockaddr[0]) in allowed
        ]

    async def close(self) -> None:
        return None


# --- bounded decoding ----------------------------------------------------------------------------


class _Decoder:
    """Content-Encoding undone by us, never producing more than asked (a bomb costs the cap)."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("gzip", "x-gzip"):
            self._z: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)  # zlib-wrapped; raw deflate is retried below
        else:
            self._z = None
        self._raw_tried = encoding != "deflate"
        self.pending = b""

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to ``room`` decoded bytes of ``data`` (plus what was left over before)."""
        if self._z is None:
            return data
        data = self.pending + data
        if room <= 0:  # zlib reads max_length 0 as "no limit"
            self.pending = data
            return b""
        try:
            out = self._z.decompress(data, room)
        except zlib.error:
            if self._raw_tried:
                raise
            self._raw_tried = True
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._z.decompress(data, room)
        self.pending = self._z.unconsumed_tail
        return bytes(out)


# --- the deadline ----------------------------------------------------------------------------


class _Budget(Budget):
    """One fetch's deadline, enforced by the ``asyncio.timeout`` around the fetch (the rule is :class:`Budget`'s)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.timer: asyncio.Timeout | None = None

    def _started(self) -> None:
        if self.timer is not None:
            self.timer.reschedule(asyncio.get_running_loop().time() + self.seconds)


# --- the session --------------------------------------------------------------------------------


class AsyncSession:
    """Fetches untrusted URLs politely and safely on an event loop. Create and use it on one loop."""

    def __init__(self, config: CheckConfig | None = None) -> None:
        self.config = config or CheckConfig()
        self.retry = self.config.retry
        self.gate = RateGate(self.config.host_limit, self.config.host_limits, total=self.config.concurrency)
        connector = aiohttp.TCPConnector(
            limit=self.config.concurrency,
            limit_per_host=0,  # the gate limits hosts
            resolver=_PolicyResolver(self.config.allow_private, self.config.connect_timeout),
            ttl_dns_cache=300,
            enable_cleanup_closed=True,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # no proxies, no .netrc: the policy must see where we connect
            auto_decompress=False,
            headers={
                "User-Agent": self.config.user_agent,
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
            },
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        """Close every connection."""
        await self.session.close()

    async def fetch(
        self,
        url: str,
        method: str = "GET",
        *,
        limit: int | None = None,
        key: str | None = None,
        urgent: bool = False,
        grow: Callable[[], bool] | None = None,
    ) -> Fetch:
        """Fetch ``url`` as :meth:`CheckSession.fetch <wikicore.net.CheckSession.fetch>` does.

        ``grow``: asked once a body passes ``config.keep_bytes`` on its way to ``limit``;
        False ends it there, truncated. A caller that reads some bodies whole (up to
        16 MiB) bounds how many large ones it holds at once this way, while small pages,
        most of them, are read whole without asking.

        The deadline (``config.deadline``) starts when the first request is
        sent, not while the URL waits for its host's turn: it measures the site,
        not our queue. Redirect hops and retries of the fetch are ``urgent`` at
        the gate (served before checks still queued); ``urgent`` makes the
        first request so too. A first turn that does not come (the host's slots
        did not move for ``config.host_wait`` seconds) ends the fetch as
        :attr:`Failure.HOST_BUSY`: nothing was asked of the site.
        """
        started = time.monotonic()
        cap = self.config.max_bytes if limit is None else min(limit, self.config.max_bytes)
        method = method.upper()
        chain = RedirectChain(url, method, started)
        budget = _Budget(self.config.deadline)
        try:
            async with asyncio.timeout(None) as budget.timer:
                return await self._follow(chain, (cap, grow), key, budget, urgent)
        except TimeoutError:
            return Fetch(
                url, method, None, chain.current, tuple(chain.hops), {}, b"", 0, False, Failure.DEADLINE,
                f"timed out after {self.config.deadline:g} s", max(1, chain.attempts), time.monotonic() - started,
            )
        except HostBusy as busy:
            return failed_fetch(url, method, Failure.HOST_BUSY, str(busy), started)

    async def _follow(self, chain: RedirectChain, cap: _Cap, key: str | None, budget: _Budget,
                      urgent: bool) -> Fetch:
        while True:
            problem = url_problem(chain.current) or self._literal_problem(chain.current)
            if problem is not None:
                return chain.failed(*problem)
            done = chain.step(await self._attempts(chain.current, chain.method, cap, key, budget,
                                                   urgent or budget.started))
            if done is not None:
                return done

    def _literal_problem(self, url: str) -> tuple[Failure, str] | None:
        """aiohttp does not resolve IP literals, so the policy is applied to them here."""
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return None
        if refusal(host, self.config.allow_private) is None:
            return None
        return Failure.ADDRESS, refusal_message(host, [host], self.config.allow_private)

    async def _attempts(self, url: str, method: str, cap: _Cap, key: str | None, budget: _Budget,
                        urgent: bool) -> Fetch:
        attempt = 0
        gate_key = key or host_key(url)
        while True:
            attempt += 1
            # Only a check's first turn is bounded by host_wait: once its deadline runs, the deadline bounds it.
            wait = None if urgent or attempt > 1 else self.config.host_wait
            async with self.gate.aslot(gate_key, urgent=urgent or attempt > 1, wait=wait, budget=budget):
                result = await self._once(url, method, cap, budget.expires)
            transient = result.failure in (Failure.CONNECTION, Failure.TIMEOUT)
            if not self.retry.retryable(result.status, transient):
                return replace(result, attempts=attempt)
            pause = self.retry.delay(attempt, result.headers.get("retry-after"), budget.expires - time.monotonic())
            if pause is None:
                return replace(result, attempts=attempt)
            wait_for, asked = pause
            if asked:
                self.gate.pause(gate_key, wait_for)
            await asyncio.sleep(wait_for)

    async def _once(self, url: str, method: str, cap: _Cap, expires: float) -> Fetch:
        started = time.monotonic()
        remaining = max(0.001, expires - started)
        timeouts = (min(self.config.connect_timeout, remaining), min(self.config.read_timeout, remaining))
        timeout = aiohttp.ClientTimeout(total=None, connect=timeouts[0], sock_connect=timeouts[0],
                                        sock_read=timeouts[1])
        try:
            async with self.session.request(method, url, allow_redirects=False, timeout=timeout) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                body = b""
                truncated = False
                if method != "HEAD":
                    body, truncated = await self._read(response, cap, response.status in REDIRECT_CODES, headers,
                                                       self.config.keep_bytes)
                if truncated:
                    response.close()  # the rest is not read: drop the connection, never reuse it half-read
                return Fetch(url, method, response.status, url, (), headers, body, len(body), truncated, None, None,
                             1, time.monotonic() - started)
        except AddressRefused as exc:
            return failed_fetch(url, method, Failure.ADDRESS, str(exc), started)
        except LookupTimeout:
            return failed_fetch(url, method, Failure.TIMEOUT, f"name lookup timed out after {timeouts[0]:g} s", started)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, zlib.error) as exc:
            if isinstance(exc, zlib.error):
                return failed_fetch(url, method, Failure.CONNECTION, "answer could not be decompressed", started)
            return failed_fetch(url, method, *classify_aiohttp(exc, timeouts), started)

    @staticmethod
    async def _read(
        response: aiohttp.ClientResponse, caps: _Cap, redirect: bool, headers: Mapping[str, str], soft: int
    ) -> tuple[bytes, bool]:
        cap, grow = caps
        if grow is None or cap <= soft:
            soft = cap
        if redirect:
            # A redirect's body is read only to keep the connection (and only if small).
            total = 0
            while chunk := await response.content.read(CHUNK):
                total += len(chunk)
                if total >= REDIRECT_DRAIN:
                    return b"", True
            return b"", False
        decoder = _Decoder(headers.get("content-encoding", ""))
        kept = bytearray()
        while True:
            chunk = await response.content.read(CHUNK)
            if not chunk:
                if decoder.pending:
                    kept += decoder.feed(b"", cap - len(kept))
                return bytes(kept[:cap]), len(kept) >= cap and bool(decoder.pending)
            kept += decoder.feed(chunk, cap - len(kept))
            if len(kept) >= cap:
                return bytes(kept[:cap]), True
            if len(kept) > soft:
                if grow is not None and not grow():
                    return bytes(kept[:soft]), True
                soft = cap

