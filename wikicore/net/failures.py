"""Why a fetch produced no answer: the failure kinds, the refusal error, and the words for both.

Both HTTP stacks (:mod:`wikicore.net.session` on requests, :mod:`wikicore.net.aio` on
aiohttp) report a URL's own failure as a :class:`Failure` plus plain words
(``connection refused``, ``certificate expired``, ``name not found``), never a
library's repr. The words are decided here once, so a change to what a failure
is called, or to which failures count as a dead link, cannot leave one stack
behind: each stack only says which of its library's exceptions mean a timeout,
a TLS failure or a broken answer (:func:`classify_requests`,
:func:`classify_aiohttp`); the walk down the cause chain, name lookups, TLS and
connection words are shared.

The HTTP libraries are imported inside the classifiers: :class:`Failure` is needed
wherever a URL is judged, and a command that never fetches must not pay for
importing requests or aiohttp at start.
"""

from __future__ import annotations

import errno
import socket
import ssl
from enum import StrEnum

from ..errors import InvalidInput

__all__ = [
    "LOOKUP_WORDS",
    "AddressRefused",
    "Failure",
    "LookupTimeout",
    "classify_aiohttp",
    "classify_requests",
    "exception_chain",
    "tls_words",
]

#: Links followed down an exception's causes before giving up (a cycle must not hang a check).
_CHAIN_LIMIT = 20


#: How a failed name lookup begins in words (below): a result that says so never reached its site.
LOOKUP_WORDS = ("name not found", "name lookup failed", "name lookup timed out")


class Failure(StrEnum):
    """Why a fetch produced no usable HTTP answer."""

    BAD_URL = "bad-url"  # malformed URL, no host, a scoped address
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
    HOST_BUSY = "host-busy"  # our own queue for the host did not reach the URL in time: the site was never asked


class AddressRefused(InvalidInput):
    """The address policy refuses every address of a host; the message says which and why.

    Not an ``OSError`` on purpose: urllib3, requests and aiohttp pass it through
    unwrapped, so the stack that raised it inside a connection can report
    :attr:`Failure.ADDRESS` instead of a connection failure.
    """


class LookupTimeout(InvalidInput):
    """A name lookup outlived its time (getaddrinfo has no timeout of its own)."""


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it, in order: both libraries wrap the socket's error several times over.

    aiohttp keeps the original in ``os_error`` or ``certificate_error``; requests
    and urllib3 in ``__cause__``, ``__context__``, ``args[0]`` or ``reason``.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < _CHAIN_LIMIT:
        chain.append(seen)
        wrapped = getattr(seen, "os_error", None) or getattr(seen, "certificate_error", None)
        if isinstance(wrapped, BaseException) and wrapped not in chain:
            seen = wrapped
            continue
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        reason = getattr(seen, "reason", None)
        if nested is None and isinstance(reason, BaseException):
            nested = reason
        seen = seen.__cause__ or seen.__context__ or nested
    return chain


def _lookup_failure(chain: list[BaseException]) -> tuple[Failure, str] | None:
    for item in chain:
        if isinstance(item, socket.gaierror):
            if item.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                return Failure.DNS, "name not found"
            return Failure.DNS_TEMPORARY, "name lookup failed"
    return None


def tls_words(chain: list[BaseException]) -> str:
    """What went wrong in a TLS handshake, in words a wiki editor can act on."""
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


def _socket_words(chain: list[BaseException], *, aborted: bool = True) -> str | None:
    """Refused, reset, unreachable (or aborted, where the library reports it so), from the chain's socket errors."""
    for item in chain:
        code = getattr(item, "errno", None)
        if isinstance(item, ConnectionRefusedError) or code == errno.ECONNREFUSED:
            return "connection refused"
        # aiohttp's ClientConnectionResetError is a ConnectionResetError too.
        if isinstance(item, ConnectionResetError) or code == errno.ECONNRESET:
            return "connection reset"
        if code in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "host unreachable"
        if aborted and isinstance(item, ConnectionAbortedError):
            return "connection aborted"
    return None


# --- requests and urllib3 ------------------------------------------------------------------


def classify_requests(exc: BaseException, timeouts: tuple[float, float]) -> tuple[Failure, str]:
    """A requests or urllib3 exception as a :class:`Failure` and plain words.

    ``timeouts`` are the (connect, read) timeouts the request ran with, quoted in
    the words. The caller checks its deadline first: a socket the watchdog shut
    looks like any other broken connection from here.
    """
    import requests
    import urllib3
    from urllib3.exceptions import ConnectTimeoutError

    chain = exception_chain(exc)
    found = _lookup_failure(chain)
    if found is not None:
        return found
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
        return Failure.TLS, tls_words(chain)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return Failure.BAD_URL, "malformed url"
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.URLRequired):
        return Failure.BAD_URL, "malformed url"
    return Failure.CONNECTION, _socket_words(chain) or _requests_broken_words(chain)


def _requests_broken_words(chain: list[BaseException]) -> str:
    import requests
    import urllib3

    for item in chain:
        text = str(item).lower()
        if "remotedisconnected" in text or "without response" in text or "connection aborted" in text:
            return "connection closed without an answer"
        if isinstance(item, urllib3.exceptions.ProtocolError | requests.exceptions.ChunkedEncodingError):
            return "connection broken mid-answer"
    return "connection failed"


# --- aiohttp ----------------------------------------------------------------------------------


def classify_aiohttp(exc: BaseException, timeouts: tuple[float, float]) -> tuple[Failure, str]:
    """An aiohttp (or socket) exception as a :class:`Failure` and plain words; see :func:`classify_requests`."""
    import aiohttp

    chain = exception_chain(exc)
    found = _lookup_failure(chain)
    if found is not None:
        return found
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return Failure.DNS_TEMPORARY, "name lookup failed"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError) or any(
        isinstance(i, ssl.SSLCertVerificationError) for i in chain
    ):
        return Failure.TLS, tls_words(chain)
    if isinstance(exc, aiohttp.ClientSSLError) or any(isinstance(i, ssl.SSLError) for i in chain):
        return Failure.TLS, "TLS handshake failed"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Failure.TIMEOUT, f"connection timed out after {timeouts[0]:g} s"
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError | TimeoutError):
        return Failure.TIMEOUT, f"timed out after {timeouts[1]:g} s"
    words = _socket_words(chain, aborted=False)  # aiohttp's aborted connections are told apart below
    if words is not None:
        return Failure.CONNECTION, words
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Failure.CONNECTION, "connection closed without an answer"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Failure.CONNECTION, "connection broken mid-answer"
    if isinstance(exc, aiohttp.InvalidURL):
        return Failure.BAD_URL, "malformed url"
    if isinstance(exc, aiohttp.ClientResponseError):
        return Failure.CONNECTION, "malformed answer"
    return Failure.CONNECTION, "connection failed"
