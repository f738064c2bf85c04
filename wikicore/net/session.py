"""The checking session: one :class:`requests.Session` that owns politeness and safety.

Every request the live checks make goes through :class:`CheckSession`, in the
manner of EDGI wayback's ``WaybackSession``: a versioned User-Agent, connect and
read timeouts, bounded retries with backoff (:class:`~wikicore.net.RetryPolicy`),
Retry-After honoured, and a :class:`~wikicore.net.RateGate` per host (or per
endpoint family, for an archive's APIs). On top of that it holds the line
against hostile servers (issue 4, "Live checks"; issue 9):

* **A total deadline per URL** (:mod:`wikicore.net.deadline`). Name lookups,
  which have no timeout of their own, are waited for no longer than the connect
  timeout or the deadline.
* **Byte caps.** Bodies are streamed; at most ``limit`` *decoded* bytes are read
  (urllib3 >= 2.6 bounds decompression by the amount asked for, so a gzip bomb
  costs about the cap too). ``.content`` is never touched.
* **Address policy** (:mod:`wikicore.net.policy`). The check runs inside the
  connection: we resolve the name ourselves, connect only to a vetted address
  and check the socket's peer address again, so DNS rebinding cannot slip past
  it; and since redirects are followed by hand, every hop goes through the
  same connection code.

Per-URL failures are not exceptions: :meth:`CheckSession.fetch` returns a
:class:`Fetch` whose ``failure`` names what went wrong and whose ``error`` says
it in plain words (``connection refused``, ``timed out after 10 s``,
``certificate expired``, ``name not found``), never a library's repr.

Engine: threads over requests (urllib3 connection pools), one session shared by
the checker's workers. The measurements behind that choice are in the README
("Performance: link checking").
"""

from __future__ import annotations

import concurrent.futures
import errno
import ipaddress
import queue
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError

from ..errors import InvalidInput
from . import deadline as _deadline
from .config import DEFAULT_CONNECT_TIMEOUT, MAX_REDIRECTS, CheckConfig
from .deadline import Deadline
from .gate import RateGate
from .policy import Failure, host_key, refusal, url_problem

__all__ = ["CheckSession", "Fetch"]

_CHUNK = 16 * 1024
_REDIRECT_DRAIN = 64 * 1024
# Hosts whose keep-alive pools are kept (LRU); requests' default of 10 would reconnect
# all the time on a wiki citing hundreds of sites.
_POOL_HOSTS = 512
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


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
    """One fetch's way through its redirects, walked alike by both engines (requests and aiohttp).

    The engine makes its attempts at :attr:`current` (with :attr:`method`) and hands the answer
    to :meth:`step`, which returns the finished :class:`Fetch`, or ``None`` when the chain goes on
    to a new :attr:`current`. A missing ``Location``, a loop or too many hops end the chain here,
    so the two engines cannot drift apart on what a redirect means.
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
        if result.failure is not None or result.status not in _REDIRECT_CODES:
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


# --- address refusals -------------------------------------------------------------


class _AddressRefused(InvalidInput):
    """Raised inside a connection when the policy refuses every address of a host.

    Not an ``OSError`` on purpose: urllib3 and requests pass it through unwrapped.
    """


def _refusal_message(host: str, addresses: list[str], allow_private: bool) -> str:
    address = addresses[0] if addresses else "?"
    why = refusal(address, allow_private) or "refused"
    shown = host.strip("[]")
    where = f"{shown} is" if shown == address else f"{shown} resolves to {address},"
    hint = "" if allow_private or refusal(address, True) is not None else "; --allow-private would check it"
    return f"{where} a {why} address, not fetched{hint}"


# --- guarded connections ----------------------------------------------------------


#: Name lookups in flight at once; a lookup that outlives its caller's timeout keeps its thread.
RESOLVER_THREADS = 16


class _Resolver:
    """A few daemon threads running getaddrinfo.

    Daemon threads, unlike ``ThreadPoolExecutor``'s, do not hold up interpreter
    exit while a dead resolver makes a lookup hang.
    """

    def __init__(self, threads: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._threads = threads
        self._started = 0
        self._lock = threading.Lock()

    def lookup(self, *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._started < self._threads:
                self._started += 1
                threading.Thread(target=self._work, name="wikicore-dns", daemon=True).start()
        self._jobs.put((future, args))
        return future

    def _work(self) -> None:
        while True:
            future, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(socket.getaddrinfo(*args))
            except BaseException as exc:  # handed to the caller, who re-raises it
                future.set_exception(exc)


_RESOLVER = _Resolver(RESOLVER_THREADS)


class _GuardMixin:
    """Resolve, vet and connect to a vetted address; report sockets to the deadline."""

    allow_private = False
    host: str
    port: int
    _dns_host: str
    sock: socket.socket | None

    timeout: Any

    def _resolve(self, name: str) -> list[str]:
        """getaddrinfo, bounded by the connect timeout and the URL's deadline.

        getaddrinfo blocks without a timeout of its own (a dead resolver holds a
        thread for retries x 5 s), so names go to a small resolver pool and we stop
        waiting in time; IP literals skip the pool.
        """
        try:
            ipaddress.ip_address(name.split("%", 1)[0])
            literal = True
        except ValueError:
            literal = False
        lookup = (name, self.port, 0, socket.SOCK_STREAM)
        try:
            if literal:
                infos = socket.getaddrinfo(*lookup)
            else:
                limit = self.timeout if isinstance(self.timeout, int | float) else DEFAULT_CONNECT_TIMEOUT
                deadline = _deadline.current()
                if deadline is not None:
                    limit = min(limit, deadline.remaining())
                try:
                    infos = _RESOLVER.lookup(*lookup).result(timeout=limit)
                except concurrent.futures.TimeoutError:
                    raise ConnectTimeoutError(self, f"DNS lookup of {name} timed out") from None
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        addresses = self._resolve(name.rstrip("."))
        vetted = [a for a in addresses if refusal(a, self.allow_private) is None]
        if not vetted:
            raise _AddressRefused(_refusal_message(self.host, addresses, self.allow_private))
        last: Exception | None = None
        for address in vetted:
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
            raise _AddressRefused(_refusal_message(self.host, [str(peer)], self.allow_private))
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


# --- plain words -----------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        reason = getattr(seen, "reason", None)
        if nested is None and isinstance(reason, BaseException):
            nested = reason
        seen = seen.__cause__ or seen.__context__ or nested
    return chain


def _tls_words(chain: list[BaseException]) -> str:
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            text = (item.verify_message or str(item)).lower()
            if "expired" in text:
                return "certificate expired"
            if "self-signed" in text or "self signed" in text:
                return "self-signed certificate"
            if "hostname" in text or "ip address mismatch" in text:
                return "certificate is for another name"
            if "not yet valid" in text:
                return "certificate not yet valid"
            return "certificate not trusted"
    return "TLS handshake failed"


def _connection_words(chain: list[BaseException]) -> str:
    for item in chain:
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(item, ConnectionResetError) or getattr(item, "errno", None) == errno.ECONNRESET:
            return "connection reset"
        if getattr(item, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "host unreachable"
        if isinstance(item, ConnectionAbortedError):
            return "connection aborted"
    for item in chain:
        text = str(item).lower()
        if "remotedisconnected" in text or "without response" in text or "connection aborted" in text:
            return "connection closed without an answer"
        if isinstance(item, urllib3.exceptions.ProtocolError | requests.exceptions.ChunkedEncodingError):
            return "connection broken mid-answer"
    return "connection failed"


def _classify(exc: BaseException, budget: Deadline, timeouts: tuple[float, float]) -> tuple[Failure, str]:
    """Map a requests exception to a :class:`Failure` and plain words, looking down the cause chain."""
    if budget.exceeded():
        return Failure.DEADLINE, f"timed out after {budget.seconds:g} s"
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, socket.gaierror):
            if item.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                return Failure.DNS, "name not found"
            return Failure.DNS_TEMPORARY, "name lookup failed"
    for item in chain:
        if isinstance(item, ConnectTimeoutError) and "DNS lookup" in str(item):
            return Failure.TIMEOUT, f"name lookup timed out after {timeouts[0]:g} s"
    connect_failed = any(isinstance(item, urllib3.exceptions.NewConnectionError) for item in chain)
    if not connect_failed:
        for item in chain:
            if isinstance(item, ConnectTimeoutError | requests.exceptions.ConnectTimeout):
                return Failure.TIMEOUT, f"connection timed out after {timeouts[0]:g} s"
        for item in chain:
            if isinstance(item, TimeoutError | urllib3.exceptions.TimeoutError | requests.exceptions.Timeout):
                return Failure.TIMEOUT, f"timed out after {timeouts[1]:g} s"
    if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(i, ssl.SSLError) for i in chain):
        return Failure.TLS, _tls_words(chain)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return Failure.BAD_URL, "malformed url"
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.URLRequired):
        return Failure.BAD_URL, "malformed url"
    return Failure.CONNECTION, _connection_words(chain)


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

    Thread-safe: share one session between the checker's worker threads.
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

    def ready_at(self, key: str) -> float:
        """The ``time.monotonic()`` at which the host ``key`` (see :func:`host_key`) may next be asked."""
        return self.gate.ready_at(key)

    # fetching ----------------------------------------------------------------------

    def budget(self) -> Deadline:
        """A fresh per-URL deadline, to share between the fetches of one check."""
        return _deadline.start(self.config.deadline)

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
            with self.gate.slot(gate_key):
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
            return _failure(url, method, Failure.DEADLINE, f"timed out after {budget.seconds:g} s", started)
        timeout = (min(self.config.connect_timeout, remaining), min(self.config.read_timeout, remaining))
        try:
            response = self.request(
                method, url, allow_redirects=False, stream=True, timeout=timeout, headers=dict(headers or {})
            )
        except _AddressRefused as exc:
            return _failure(url, method, Failure.ADDRESS, str(exc), started)
        except requests.RequestException as exc:
            return _failure(url, method, *_classify(exc, budget, timeout), started)
        complete = False  # the whole answer was read: the connection may be reused
        try:
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
            kept = bytearray()
            truncated = False
            if method == "HEAD":
                complete = True
            else:
                # A redirect's body is read only to keep the connection (and only if small).
                redirect = response.status_code in _REDIRECT_CODES
                limit = _REDIRECT_DRAIN if redirect else cap
                total = 0
                try:
                    for chunk in response.iter_content(min(_CHUNK, limit)):
                        total += len(chunk)
                        if not redirect:
                            kept += chunk[: limit - len(kept)]
                        if total >= limit:
                            truncated = True
                            break
                        if budget.exceeded():
                            return _failure(url, method, Failure.DEADLINE, f"timed out after {budget.seconds:g} s",
                                            started)
                    else:
                        complete = True
                except requests.RequestException as exc:
                    return _failure(url, method, *_classify(exc, budget, timeout), started)
            if budget.exceeded():
                # The watchdog may have cut the answer short: an incomplete read is not an answer.
                complete = False
                if not truncated:
                    return _failure(url, method, Failure.DEADLINE, f"timed out after {budget.seconds:g} s", started)
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


def _failure(url: str, method: str, failure: Failure, error: str, started: float) -> Fetch:
    return Fetch(url, method, None, url, (), {}, b"", 0, False, failure, error, 1, time.monotonic() - started)


def _normal(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), fragment="").geturl()
