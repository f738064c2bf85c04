"""The checking session: one :class:`requests.Session` that owns politeness and safety.

Every request the live checks make goes through :class:`CheckSession`, in the
manner of EDGI wayback's ``WaybackSession``: a versioned User-Agent, connect and
read timeouts, bounded retries with exponential backoff, Retry-After honoured,
and concurrency limits (global and per host) plus a minimum interval between
requests to one host. On top of that it holds the line against hostile servers
(issue 4, "Live checks"):

* **A total deadline per URL.** requests' ``timeout`` bounds each socket read,
  not the whole exchange, so a server trickling one byte at a time keeps a
  ``timeout=(1, 1)`` request busy indefinitely. A single watchdog thread shuts
  down the socket of any request that outlives its :class:`Deadline`; the
  blocked read then returns and the fetch reports ``deadline``. Name lookups,
  which have no timeout of their own, are waited for no longer than the
  connect timeout or the deadline.
* **Byte caps.** Bodies are streamed with ``iter_content``; at most
  ``max_bytes`` *decoded* bytes are read (urllib3 >= 2.6 bounds decompression
  by the amount asked for, so a gzip bomb costs about the cap too). ``.content``
  is never touched.
* **Address policy.** Only http and https. Private, loopback, link-local,
  multicast and reserved addresses are refused; ``allow_private`` opens private
  and loopback ones only (never link-local: cloud metadata lives there).
  The check runs inside the connection: we resolve the name ourselves, connect
  only to a vetted address and check the socket's peer address again, so DNS
  rebinding cannot slip past it; and since redirects are followed by hand, every
  hop goes through the same connection code.

Per-URL failures are not exceptions: :meth:`CheckSession.fetch` returns a
:class:`Fetch` whose ``failure`` names what went wrong, and the checker turns
that into a verdict.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import heapq
import ipaddress
import itertools
import queue
import random
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError

from . import __version__
from .errors import InvalidInput

__all__ = [
    "ALLOWED_SCHEMES",
    "DEFAULT_BACKOFF",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEADLINE",
    "DEFAULT_HOST_INTERVAL",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PER_HOST",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRIES",
    "DEFAULT_USER_AGENT",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER",
    "CheckSession",
    "Deadline",
    "Failure",
    "Fetch",
    "address_allowed",
    "host_key",
    "parse_retry_after",
]

# --- defaults ------------------------------------------------------------------

#: Sent with every request so site operators can tell who we are and find us.
DEFAULT_USER_AGENT = f"wikicore/{__version__} (+https://github.com/wikicore)"
#: Seconds to wait for a TCP (and TLS) connection; a live site answers in well under this.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Seconds any single socket read may wait (requests' semantics: per read, not total).
DEFAULT_READ_TIMEOUT = 10.0
#: Seconds one URL may take in total, all hops, retries and reads included (issue 4).
DEFAULT_DEADLINE = 20.0
#: Decoded bytes read from one body at most: a 1 GiB page or a gzip bomb costs this much.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
#: Requests in flight at once, across all hosts.
DEFAULT_CONCURRENCY = 32
#: Requests in flight at once to one host: a wiki cites some sites hundreds of times.
DEFAULT_PER_HOST = 2
#: Seconds between the starts of two requests to one host.
DEFAULT_HOST_INTERVAL = 0.25
#: Retries after a 429, a 5xx or a connection failure (so at most 1 + 2 attempts).
DEFAULT_RETRIES = 2
#: First backoff in seconds; doubled for each further retry, with jitter.
DEFAULT_BACKOFF = 0.5
#: Longest Retry-After we honour, in seconds; a longer ask ends the URL's check as blocked.
MAX_RETRY_AFTER = 30.0
#: Redirect hops followed by hand before giving up (browsers allow about 20; curl 50; we are a checker).
MAX_REDIRECTS = 10
#: Schemes we will request. ``javascript:``, ``file:``, ``ftp:`` and the rest are invalid in a citation.
ALLOWED_SCHEMES = frozenset({"http", "https"})
#: Bytes of each body kept for content checks (soft-404 markers, similarity); the rest is only counted.
KEEP_BYTES = 64 * 1024

_CHUNK = 16 * 1024
_REDIRECT_DRAIN = 64 * 1024
# Hosts whose keep-alive pools are kept (LRU); requests' default of 10 would reconnect
# all the time on a wiki citing hundreds of sites.
_POOL_HOSTS = 512
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# RFC 9110 §15.5.30/§15.6: these answers are worth retrying after a pause.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Failure(StrEnum):
    """Why a fetch produced no usable HTTP answer."""

    BAD_URL = "bad-url"  # malformed URL or no host
    SCHEME = "scheme"  # a scheme other than http/https
    ADDRESS = "address"  # resolved to an address the policy refuses
    DNS = "dns"  # the name does not exist (NXDOMAIN)
    DNS_TEMPORARY = "dns-temporary"  # resolver failure that may pass
    TIMEOUT = "timeout"  # connect or read timeout
    DEADLINE = "deadline"  # the total per-URL deadline ran out
    CONNECTION = "connection"  # refused, reset, closed mid-answer
    TLS = "tls"  # certificate or handshake failure
    REDIRECT_LOOP = "redirect-loop"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    BAD_REDIRECT = "bad-redirect"  # 3xx without a usable Location


@dataclass(frozen=True)
class Fetch:
    """What one fetch (all its hops and retries) observed.

    ``status`` is the HTTP status of the last hop, or ``None`` when ``failure``
    says why there was none. ``redirects`` lists every URL we were sent to, in
    order (the last is ``final_url`` unless a hop failed). ``body`` holds at most
    :data:`KEEP_BYTES` of the decoded body; ``body_bytes`` counts the decoded
    bytes read and ``truncated`` says the cap stopped us.
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


# --- address policy ----------------------------------------------------------


def address_allowed(address: str, allow_private: bool = False) -> bool:
    """Return whether we may connect to ``address`` (an IP literal).

    Refuses everything that is not globally routable: private (RFC 1918, ULA),
    loopback, link-local, multicast, reserved, unspecified and shared
    (100.64.0.0/10) addresses, and IPv4-mapped IPv6 forms of them.
    ``allow_private`` opens private and loopback addresses (a wiki on an
    intranet, tests on 127.0.0.1) but never link-local, multicast or
    unspecified ones: 169.254.169.254 is the cloud metadata service, the classic
    SSRF target, and no citation lives there.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return False
    if allow_private:
        return True
    return bool(ip.is_global) and not ip.is_reserved


class _AddressRefused(InvalidInput):
    """Raised inside a connection when the policy refuses every address of a host.

    Not an ``OSError`` on purpose: urllib3 and requests pass it through unwrapped.
    """


# --- the deadline watchdog ------------------------------------------------------


class Deadline:
    """A per-URL time budget, enforced by shutting down the sockets it owns.

    Created by :meth:`CheckSession.budget`; the connections made while it is
    active on the current thread register their sockets with it. When time runs
    out the watchdog shuts them down, which wakes any read blocked on them.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = False
        self._ident: int | None = None

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.expires - time.monotonic())

    def exceeded(self) -> bool:
        """Whether time has run out (or the watchdog already fired)."""
        return self.expired or time.monotonic() >= self.expires

    def watch(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it already has)."""
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            if not self.expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def release(self) -> bool:
        """Stop watching the sockets of finished exchanges; ``False`` if the deadline already fired.

        Called when an answer was read whole and its connection goes back to the
        pool, so that a later expiry cannot cut another URL's request on it.
        """
        with self._lock:
            if self.expired:
                return False
            self._sockets = []
            return True

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        """Stop watching; the sockets go back to their pools untouched."""
        with self._lock:
            self._done = True
            self._sockets = []
        if self._ident is not None:
            _WATCHDOG.discard(self._ident)


def _shutdown(sock: socket.socket) -> None:
    # shutdown(), not close(): closing a descriptor another thread is blocked on
    # is undefined; shutdown wakes the reader with EOF on Linux and macOS.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One daemon thread firing deadlines in time order (no thread per request).

    The heap holds ``(expires, id)`` pairs only and the live deadlines sit in a
    dict that :meth:`discard` empties as checks finish, so memory follows the
    checks in flight, not the checks made in the last ``deadline`` seconds.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, Deadline] = {}
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> int:
        with self._cond:
            ident = next(self._counter)
            earliest = not self._heap or deadline.expires < self._heap[0][0]
            heapq.heappush(self._heap, (deadline.expires, ident))
            self._live[ident] = deadline
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wikicore-deadlines", daemon=True)
                self._thread.start()
            if earliest:  # only a new earliest deadline changes when the thread must wake
                self._cond.notify()
            return ident

    def discard(self, ident: int) -> None:
        with self._cond:
            self._live.pop(ident, None)
            if len(self._heap) > 2 * len(self._live) + 1024:  # drop finished entries, amortised O(1)
                self._heap = [entry for entry in self._heap if entry[1] in self._live]
                heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                expires, ident = self._heap[0]
                now = time.monotonic()
                if expires > now:
                    self._cond.wait(expires - now)
                    continue
                heapq.heappop(self._heap)
                deadline = self._live.pop(ident, None)
            if deadline is not None:
                deadline._fire()


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


def _current_deadline() -> Deadline | None:
    return getattr(_CURRENT, "deadline", None)


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
                deadline = _current_deadline()
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
        vetted = [a for a in addresses if address_allowed(a, self.allow_private)]
        if not vetted:
            raise _AddressRefused(f"{self.host} resolves to refused address {', '.join(addresses)}")
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
        if not address_allowed(str(peer), self.allow_private):
            sock.close()
            raise _AddressRefused(f"{self.host} connected to refused address {peer}")
        deadline = _current_deadline()
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def getresponse(self) -> Any:
        deadline = _current_deadline()
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


# --- politeness ----------------------------------------------------------------------


def host_key(url: str) -> str:
    """The politeness key of ``url``: lower-cased host and explicit port (``example.org:443``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    return f"{host}:{port}"


class _HostGate:
    """Per-host concurrency and spacing. Sleeps happen outside every lock."""

    def __init__(self, per_host: int) -> None:
        self.slots = threading.BoundedSemaphore(per_host)
        self.lock = threading.Lock()
        self.next_start = 0.0

    def reserve(self, interval: float) -> float:
        """Book the next start time; return how long the caller must wait for it."""
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + interval
            return start - now

    def pause(self, seconds: float) -> None:
        """Hold every request to this host back for ``seconds`` (after a 429 or 503)."""
        with self.lock:
            self.next_start = max(self.next_start, time.monotonic() + seconds)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a Retry-After header (RFC 9110 §10.2.3).

    Accepts delay-seconds or an HTTP-date; returns ``None`` when absent or
    unreadable, and never a negative number.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- the session ---------------------------------------------------------------------


class CheckSession(requests.Session):
    """A requests session for checking untrusted URLs politely and safely.

    Use :meth:`fetch` for checks: it follows redirects by hand, retries, honours
    Retry-After, applies the per-URL deadline and the byte cap, and never
    raises for a URL's own failure. Plain ``get``/``request`` calls still get the
    User-Agent, the default timeouts and the address policy.

    Thread-safe: share one session between the checker's worker threads.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_retry_after: float = MAX_RETRY_AFTER,
        concurrency: int = DEFAULT_CONCURRENCY,
        per_host: int = DEFAULT_PER_HOST,
        host_interval: float = DEFAULT_HOST_INTERVAL,
        allow_private: bool = False,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        super().__init__()
        if concurrency < 1 or per_host < 1:
            raise InvalidInput("concurrency and per-host limits must be at least 1")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.per_host = per_host
        self.host_interval = host_interval
        self.allow_private = allow_private
        # No proxies or .netrc from the environment: a proxy would hide the address
        # we connect to from the policy, and credentials must never go to cited sites.
        self.trust_env = False
        self.headers["User-Agent"] = user_agent
        self.headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
        adapter = _adapter(allow_private, pool_size=max(concurrency, per_host))
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self._global = threading.BoundedSemaphore(concurrency)
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()  # guards the dict only, never a request

    # requests API --------------------------------------------------------------

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Like :meth:`requests.Session.request`, with our timeouts unless given."""
        kwargs.setdefault("timeout", (self.connect_timeout, self.read_timeout))
        return super().request(method, url, *args, **kwargs)

    # politeness ------------------------------------------------------------------

    def _gate(self, key: str) -> _HostGate:
        with self._gates_lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = _HostGate(self.per_host)
            return gate

    def ready_at(self, key: str) -> float:
        """The ``time.monotonic()`` at which the host ``key`` (see :func:`host_key`) may next be asked.

        Lets a scheduler hand a worker only URLs it can fetch at once, instead of
        a worker sleeping off a host's interval while other hosts wait.
        """
        with self._gates_lock:
            gate = self._gates.get(key)
        return gate.next_start if gate is not None else 0.0

    @contextmanager
    def _slot(self, url: str, deadline: Deadline) -> Iterator[_HostGate]:
        # Host slot first, global slot second: a worker waiting on a busy host must
        # not sit on a global slot that requests to other hosts could use.
        gate = self._gate(host_key(url))
        gate.slots.acquire()
        try:
            wait = gate.reserve(self.host_interval)
            if wait > 0:
                time.sleep(wait)
            self._global.acquire()
            try:
                yield gate
            finally:
                self._global.release()
        finally:
            gate.slots.release()

    # fetching ----------------------------------------------------------------------

    def budget(self) -> Deadline:
        """A fresh per-URL deadline, to share between the fetches of one check."""
        deadline = Deadline(self.deadline)
        deadline._ident = _WATCHDOG.add(deadline)
        return deadline

    def fetch(
        self,
        url: str,
        method: str = "GET",
        *,
        deadline: Deadline | None = None,
        keep_bytes: int = KEEP_BYTES,
    ) -> Fetch:
        """Fetch ``url`` with ``method``, following up to :data:`MAX_REDIRECTS` hops by hand.

        Each hop is checked (scheme, address) and retried on 429, 5xx and
        connection failures. Pass the same ``deadline`` to several fetches (HEAD
        then GET) to give them one budget; without one, a fresh budget is used.
        """
        own = deadline is None
        budget = self.budget() if deadline is None else deadline
        started = time.monotonic()
        previous = _current_deadline()
        _CURRENT.deadline = budget
        try:
            return self._follow(url, method.upper(), budget, keep_bytes, started)
        finally:
            _CURRENT.deadline = previous
            if own:
                budget.finish()

    def _follow(self, url: str, method: str, budget: Deadline, keep: int, started: float) -> Fetch:
        hops: list[str] = []
        seen = {_normal(url)}
        current = url
        attempts = 0

        def failed(failure: Failure, error: str, status: int | None = None) -> Fetch:
            return Fetch(
                url, method, status, current, tuple(hops), {}, b"", 0, False, failure, error, attempts,
                time.monotonic() - started,
            )

        while True:
            problem = _url_problem(current)
            if problem is not None:
                return failed(*problem)
            result = self._attempts(current, method, budget, keep)
            attempts += result.attempts
            if result.failure is not None or result.status not in _REDIRECT_CODES:
                return Fetch(
                    url, method, result.status, current, tuple(hops), result.headers, result.body,
                    result.body_bytes, result.truncated, result.failure, result.error, attempts,
                    time.monotonic() - started,
                )
            location = result.headers.get("location")
            if not location:
                return failed(Failure.BAD_REDIRECT, f"{result.status} without Location", result.status)
            nxt = urljoin(current, location.strip())
            if len(hops) >= MAX_REDIRECTS:
                return failed(Failure.TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects", result.status)
            hops.append(nxt)
            if _normal(nxt) in seen:
                current = nxt
                return failed(Failure.REDIRECT_LOOP, f"redirect loop back to {nxt}", result.status)
            seen.add(_normal(nxt))
            if result.status == 303 and method != "HEAD":
                method = "GET"  # RFC 9110 §15.4.4
            current = nxt

    def _attempts(self, url: str, method: str, budget: Deadline, keep: int) -> Fetch:
        attempt = 0
        while True:
            attempt += 1
            with self._slot(url, budget) as gate:
                result = self._once(url, method, budget, keep)
            retryable = result.failure in (Failure.CONNECTION, Failure.TIMEOUT) or (
                result.status in _RETRY_STATUSES
            )
            if not retryable or attempt > self.retries or budget.exceeded():
                return _with_attempts(result, attempt)
            asked = parse_retry_after(result.headers.get("retry-after"))
            if asked is not None:
                if asked > self.max_retry_after or asked >= budget.remaining():
                    return _with_attempts(result, attempt)  # too long a pause: report what we saw
                wait = asked
                gate.pause(wait)  # the whole host waits, not just this URL
            else:
                wait = self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)  # noqa: S311 - jitter
                if wait >= budget.remaining():
                    return _with_attempts(result, attempt)
            time.sleep(wait)

    def _once(self, url: str, method: str, budget: Deadline, keep: int) -> Fetch:
        started = time.monotonic()
        remaining = budget.remaining()
        if remaining <= 0:
            return _failure(url, method, Failure.DEADLINE, "deadline exceeded", started)
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            response = self.request(method, url, allow_redirects=False, stream=True, timeout=timeout)
        except _AddressRefused as exc:
            return _failure(url, method, Failure.ADDRESS, str(exc), started)
        except requests.RequestException as exc:
            return _failure(url, method, *_classify(exc, budget), started)
        complete = False  # the whole answer was read: the connection may be reused
        try:
            headers = {k.lower(): v for k, v in response.headers.items()}
            kept = bytearray()
            total = 0
            truncated = False
            if method == "HEAD":
                complete = True
            else:
                # A redirect's body is read only to keep the connection (and only if small).
                limit = _REDIRECT_DRAIN if response.status_code in _REDIRECT_CODES else self.max_bytes
                try:
                    for chunk in response.iter_content(_CHUNK):
                        total += len(chunk)
                        if len(kept) < keep:
                            kept += chunk[: keep - len(kept)]
                        if total >= limit:
                            truncated = True
                            break
                        if budget.exceeded():
                            return _failure(url, method, Failure.DEADLINE, "deadline exceeded", started)
                    else:
                        complete = True
                except requests.RequestException as exc:
                    return _failure(url, method, *_classify(exc, budget), started)
            if budget.exceeded():
                # The watchdog may have cut the answer short: an incomplete read is not an answer.
                complete = False
                if not truncated:
                    return _failure(url, method, Failure.DEADLINE, "deadline exceeded", started)
            return Fetch(
                url, method, response.status_code, url, (), headers, bytes(kept), total, truncated,
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


def _with_attempts(result: Fetch, attempts: int) -> Fetch:
    return Fetch(
        result.url, result.method, result.status, result.final_url, result.redirects, result.headers,
        result.body, result.body_bytes, result.truncated, result.failure, result.error, attempts,
        result.elapsed,
    )


def _failure(url: str, method: str, failure: Failure, error: str, started: float) -> Fetch:
    return Fetch(url, method, None, url, (), {}, b"", 0, False, failure, error, 1, time.monotonic() - started)


def _normal(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), fragment="").geturl()


def _url_problem(url: str) -> tuple[Failure, str] | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return Failure.BAD_URL, f"malformed url: {exc}"
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return Failure.SCHEME, f"scheme {scheme or '(none)'!r} is not http or https"
    if not parts.hostname:
        return Failure.BAD_URL, "url has no host"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return Failure.BAD_URL, "url contains whitespace or control characters"
    return None


def _classify(exc: BaseException, budget: Deadline) -> tuple[Failure, str]:
    """Map a requests exception to a :class:`Failure`, looking down the cause chain."""
    message = str(exc) or type(exc).__name__
    if budget.exceeded():
        return Failure.DEADLINE, "deadline exceeded"
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = seen.__cause__ or seen.__context__ or nested
    for item in chain:
        if isinstance(item, socket.gaierror):
            if item.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                return Failure.DNS, f"name does not resolve: {item}"
            return Failure.DNS_TEMPORARY, f"name resolution failed: {item}"
    for item in chain:
        # urllib3's NewConnectionError (refused, unreachable) subclasses its timeout error.
        if isinstance(item, urllib3.exceptions.NewConnectionError):
            break
        if isinstance(item, TimeoutError | urllib3.exceptions.TimeoutError):
            return Failure.TIMEOUT, message
    if isinstance(exc, requests.exceptions.SSLError):
        return Failure.TLS, message
    if isinstance(exc, requests.exceptions.Timeout):
        return Failure.TIMEOUT, message
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return Failure.BAD_URL, message
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.URLRequired):
        return Failure.BAD_URL, message
    return Failure.CONNECTION, message
