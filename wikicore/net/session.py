"""The requests stack: one :class:`requests.Session` that owns politeness and safety.

The archive transport's requests go through :class:`CheckSession` (the link
checker runs on :mod:`wikicore.net.aio`; see "Engine" below), in the
manner of EDGI wayback's ``WaybackSession``: a versioned User-Agent, connect and
read timeouts, bounded retries with backoff (:class:`~wikicore.net.RetryPolicy`),
Retry-After honoured, and a :class:`~wikicore.net.RateGate` per host (or per
endpoint family, for an archive's APIs). On top of that it holds the line
against hostile servers (slow, huge, lying or pointing inside our network):

* **A total deadline per URL** (:mod:`wikicore.net.deadline`), started by the
  URL's first turn at the gate, as on the aiohttp stack: a URL queued behind its
  host's or archive's spacing is not out of time before it is asked. Name
  lookups, which have no timeout of their own, are waited for no longer than the
  connect timeout or the deadline.
* **Byte caps.** Bodies are streamed; at most ``limit`` *decoded* bytes are read
  (urllib3 >= 2.6 bounds decompression by the amount asked for, so a gzip bomb
  costs about the cap too). ``.content`` is never touched.
* **Address policy** (:mod:`wikicore.net.policy`). The check runs inside the
  connection: we resolve the name ourselves, connect only to a vetted address
  and check the socket's peer address again, so DNS rebinding cannot slip past
  it; and since redirects are followed by hand, every hop goes through the
  same connection code.

Per-URL failures are not exceptions: :meth:`CheckSession.fetch` returns a
:class:`~wikicore.net.fetch.Fetch` whose ``failure`` names what went wrong and
whose ``error`` says it in plain words (``connection refused``, ``timed out
after 10 s``, ``certificate expired``, ``name not found``), never a library's
repr. The words, the address policy, the name lookups, the redirect walk and the
rate gate are the ones :mod:`wikicore.net.aio` uses (:mod:`.failures`,
:mod:`.policy`, :mod:`.resolver`, :mod:`.fetch`, :mod:`.gate`); only the I/O is
this module's own.

Engine: the link checker runs on aiohttp (:mod:`wikicore.net.aio`), chosen by
measurement (README, "Performance: link checking"); this session serves the
archive transport, whose requests are few and paced by the archive's limits.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError

from . import deadline as _deadline
from .config import DEFAULT_CONNECT_TIMEOUT, CheckConfig
from .deadline import Deadline
from .failures import AddressRefused, Failure, LookupTimeout, classify_requests
from .fetch import CHUNK, REDIRECT_CODES, REDIRECT_DRAIN, Fetch, RedirectChain, failed_fetch
from .gate import RateGate
from .policy import host_key, refusal, refusal_message, url_problem, vetted
from .resolver import RESOLVER

__all__ = ["CheckSession", "Fetch"]

# Hosts whose keep-alive pools are kept (LRU); requests' default of 10 would reconnect
# all the time on a wiki citing hundreds of sites.
_POOL_HOSTS = 512


# --- guarded connections ----------------------------------------------------------


class _GuardMixin:
    """Resolve, vet and connect to a vetted address; report sockets to the deadline."""

    allow_private = False
    host: str
    port: int
    _dns_host: str
    sock: socket.socket | None

    timeout: Any

    def _resolve(self, name: str) -> list[str]:
        """getaddrinfo on the resolver threads, bounded by the connect timeout and the URL's deadline."""
        limit = self.timeout if isinstance(self.timeout, int | float) else DEFAULT_CONNECT_TIMEOUT
        deadline = _deadline.current()
        if deadline is not None:
            limit = min(limit, deadline.remaining())
        try:
            infos = RESOLVER.lookup(name, self.port, limit)
        except LookupTimeout as exc:
            raise ConnectTimeoutError(self, str(exc)) from None  # a connect timeout to urllib3 and requests
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        allowed = vetted(self.host, self._resolve(name.rstrip(".")), self.allow_private)
        last: Exception | None = None
        for address in allowed:
            # urllib3 connects to _dns_host and uses .host for TLS (SNI, verification),
            # so pointing _dns_host at the vetted IP keeps certificates checked by name.
            self._dns_host = address
            try:
                sock: socket.socket = super()._new_conn()  # type: ignore[misc]
                break
            except OSError as exc:
                last = exc
            finally:
                self._dns_host = name
        else:
            assert last is not None
            raise last
        # Belt and braces: the peer we actually reached must pass the policy too.
        peer = sock.getpeername()[0]
        if refusal(str(peer), self.allow_private) is not None:
            sock.close()
            raise AddressRefused(refusal_message(self.host, [str(peer)], self.allow_private))
        deadline = _deadline.current()
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def getresponse(self) -> Any:
        deadline = _deadline.current()
        if deadline is not None:
            deadline.watch(self.sock)
        return super().getresponse()  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardMixin, HTTPSConnection):
    pass


def _adapter(allow_private: bool, pool_size: int) -> HTTPAdapter:
    http_conn = type("PolicyHTTPConnection", (_GuardedHTTPConnection,), {"allow_private": allow_private})
    https_conn = type("PolicyHTTPSConnection", (_GuardedHTTPSConnection,), {"allow_private": allow_private})
    http_pool = type("PolicyHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("PolicyHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})
    # Retries are ours (per hop, with Retry-After); urllib3 must not retry behind our back.
    adapter = HTTPAdapter(pool_connections=_POOL_HOSTS, pool_maxsize=pool_size, max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
    return adapter


def _classify(exc: BaseException, budget: Deadline, timeouts: tuple[float, float]) -> tuple[Failure, str]:
    """A requests exception in words; a socket the deadline's watchdog shut is the deadline, not the network."""
    if budget.exceeded():
        return Failure.DEADLINE, f"timed out after {budget.seconds:g} s"
    return classify_requests(exc, timeouts)


# --- the session ---------------------------------------------------------------------


class CheckSession(requests.Session):
    """A requests session for checking untrusted URLs politely and safely.

    Built from one :class:`~wikicore.net.CheckConfig`. Use :meth:`fetch` for
    checks: it follows redirects by hand, retries, honours Retry-After, applies
    the per-URL deadline and the byte cap, and never raises for a URL's own
    failure. Plain ``get``/``request`` calls still get the User-Agent, the
    default timeouts and the address policy.

    ``gate`` may be shared between sessions that talk to the same servers; by
    default each session has its own, keyed by host with the config's limits.

    Thread-safe: share one session between threads.
    """

    def __init__(self, config: CheckConfig | None = None, *, gate: RateGate | None = None) -> None:
        super().__init__()
        config = config or CheckConfig()
        self.config = config
        self.retry = config.retry
        # No proxies or .netrc from the environment: a proxy would hide the address
        # we connect to from the policy, and credentials must never go to cited sites.
        self.trust_env = False
        self.headers["User-Agent"] = config.user_agent
        self.headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
        biggest = max([config.per_host, *(limit.concurrency for limit in config.host_limits.values())])
        adapter = _adapter(config.allow_private, pool_size=max(config.concurrency, biggest))
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.gate = gate or RateGate(config.host_limit, config.host_limits, total=config.concurrency)

    # requests API --------------------------------------------------------------

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Like :meth:`requests.Session.request`, with our timeouts unless given."""
        kwargs.setdefault("timeout", (self.config.connect_timeout, self.config.read_timeout))
        return super().request(method, url, *args, **kwargs)

    # fetching ----------------------------------------------------------------------

    def budget(self) -> Deadline:
        """A fresh per-URL deadline, to share between the fetches of one check.

        It starts at the URL's first turn at the gate (:meth:`RateGate.slot
        <wikicore.net.RateGate.slot>` begins it), as the aiohttp stack's does:
        a URL queued behind its host's or archive's spacing is not timed out
        before it is asked.
        """
        return Deadline(self.config.deadline)

    def fetch(
        self,
        url: str,
        method: str = "GET",
        *,
        deadline: Deadline | None = None,
        limit: int | None = None,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetch:
        """Fetch ``url`` with ``method``, following up to :data:`MAX_REDIRECTS` hops by hand.

        Each hop is checked (scheme, address) and retried on 429, 5xx and
        connection failures. Pass the same ``deadline`` to several fetches (HEAD
        then GET) to give them one budget; without one, a fresh budget is used.
        At most ``limit`` decoded bytes of the body are read and kept (default
        ``config.max_bytes``; a body cut there has ``truncated`` set). ``key``
        is the rate-gate key (default: the hop's host); an archive client passes
        its endpoint family.
        """
        own = deadline is None
        budget = self.budget() if deadline is None else deadline
        cap = self.config.max_bytes if limit is None else min(limit, self.config.max_bytes)
        started = time.monotonic()
        try:
            with _deadline.activate(budget):
                return self._follow(url, method.upper(), budget, cap, started, key, headers)
        finally:
            if own:
                budget.finish()

    def _follow(
        self, url: str, method: str, budget: Deadline, cap: int, started: float, key: str | None,
        headers: Mapping[str, str] | None,
    ) -> Fetch:
        chain = RedirectChain(url, method, started)
        while True:
            problem = url_problem(chain.current)
            if problem is not None:
                return chain.failed(*problem)
            done = chain.step(self._attempts(chain.current, chain.method, budget, cap, key, headers))
            if done is not None:
                return done

    def _attempts(
        self, url: str, method: str, budget: Deadline, cap: int, key: str | None, headers: Mapping[str, str] | None
    ) -> Fetch:
        attempt = 0
        gate_key = key or host_key(url)
        last: Fetch | None = None
        while True:
            attempt += 1
            with self.gate.slot(gate_key, budget=budget):
                result = self._once(url, method, budget, cap, headers)
            if result.failure is Failure.DEADLINE and last is not None:
                # The deadline cut a retry short: what the earlier attempt saw is the answer.
                return replace(last, attempts=attempt)
            last = result
            transient = result.failure in (Failure.CONNECTION, Failure.TIMEOUT)
            if not self.retry.retryable(result.status, transient) or budget.exceeded():
                return replace(result, attempts=attempt)
            pause = self.retry.delay(attempt, result.headers.get("retry-after"), budget.remaining())
            if pause is None:
                return replace(result, attempts=attempt)  # out of tries, or too long a pause: report what we saw
            wait, asked = pause
            if asked:
                self.gate.pause(gate_key, wait)  # the whole host waits, not just this URL
            time.sleep(wait)

    def _once(self, url: str, method: str, budget: Deadline, cap: int, headers: Mapping[str, str] | None) -> Fetch:
        started = time.monotonic()
        remaining = budget.remaining()
        if remaining <= 0:
            return failed_fetch(url, method, Failure.DEADLINE, f"timed out after {budget.seconds:g} s", started)
        timeout = (min(self.config.connect_timeout, remaining), min(self.config.read_timeout, remaining))
        try:
            response = self.request(
                method, url, allow_redirects=False, stream=True, timeout=timeout, headers=dict(headers or {})
            )
        except AddressRefused as exc:
            return failed_fetch(url, method, Failure.ADDRESS, str(exc), started)
        except requests.RequestException as exc:
            return failed_fetch(url, method, *_classify(exc, budget, timeout), started)
        complete = False  # the whole answer was read: the connection may be reused
        try:
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
            kept = bytearray()
            truncated = False
            if method == "HEAD":
                complete = True
            else:
                # A redirect's body is read only to keep the connection (and only if small).
                redirect = response.status_code in REDIRECT_CODES
                limit = REDIRECT_DRAIN if redirect else cap
                total = 0
                try:
                    for chunk in response.iter_content(min(CHUNK, limit)):
                        total += len(chunk)
                        if not redirect:
                            kept += chunk[: limit - len(kept)]
                        if total >= limit:
                            truncated = True
                            break
                        if budget.exceeded():
                            return failed_fetch(url, method, Failure.DEADLINE, f"timed out after {budget.seconds:g} s",
                                            started)
                    else:
                        complete = True
                except requests.RequestException as exc:
                    return failed_fetch(url, method, *_classify(exc, budget, timeout), started)
            if budget.exceeded():
                # The watchdog may have cut the answer short: an incomplete read is not an answer.
                complete = False
                if not truncated:
                    return failed_fetch(url, method, Failure.DEADLINE, f"timed out after {budget.seconds:g} s", started)
            return Fetch(
                url, method, response.status_code, url, (), answer_headers, bytes(kept), len(kept), truncated,
                None, None, 1, time.monotonic() - started,
            )
        finally:
            if complete and budget.release():
                # Keep-alive: hand the connection back to the pool, no longer watched. (requests'
                # close() would drop it for any response whose content it did not read, HEAD included.)
                response.raw.release_conn()
            else:
                # Closing an unread or capped response drops its connection instead of
                # returning it to the pool half-read.
                response.close()

