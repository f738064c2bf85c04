"""The rules every request passes before a route sees it, as one ASGI middleware.

In order: the ``Host`` must name this server (a page elsewhere that makes its own
name resolve to 127.0.0.1, "DNS rebinding", would otherwise read and write a
loopback wiki with the user's browser); a write (any method but GET, HEAD and
OPTIONS) is refused with 405 on a read-only server, with 403 when its ``Origin``
is another site's (the browser sends one on cross-site requests; forms cannot
send JSON, but a CSRF defence should not rest on that alone), and with 401
unless it carries the bearer token when one is configured, compared in
constant time (:func:`hmac.compare_digest`) so its bytes cannot be guessed by
timing. The body is capped: a declared length over the cap is refused before a
byte is read, a streamed body as soon as it passes the cap. Every response
gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
frame refusal, a Content-Security-Policy and a ``Cache-Control`` (routes may
set stricter or looser ones of their own). No CORS header is ever sent.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from .config import ServeConfig

__all__ = ["API_CSP", "SAFE_METHODS", "BodyTooLarge", "Guard", "error_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: JSON and feeds load nothing and may not be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> bytes:
    """The one error shape: ``{"error": {"code", "message", "field", ...}}`` as JSON bytes."""
    return json.dumps({"error": {"code": code, "message": message, "field": field, **extra}},
                      ensure_ascii=False).encode("utf-8")


def _host_name(value: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:80`` -> ``::1``, ``example.org:8080`` -> ``example.org``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """The middleware; ``config`` must be checked (:meth:`ServeConfig.check`) so its token is read."""

    def __init__(self, app: ASGIApp, config: ServeConfig) -> None:
        self.app = app
        self.config = config
        self.names = config.host_names()
        self.token = ("Bearer " + config.token).encode("ascii") if config.token else None
        # The Host a client of this port sends ("localhost:8080"), accepted without parsing; any other is parsed.
        self._good_hosts = frozenset(f"{name}:{config.port}" for name in self.names if ":" not in name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _read_headers(scope)
        method = scope["method"].upper()
        host = headers.get("host", "")
        if host not in self._good_hosts and _host_name(host) not in self.names:
            await _refuse(send, 400, "bad-host", f"this server does not answer for host {host!r}", "Host")
            return
        if method not in SAFE_METHODS:
            if self.config.read_only:
                await _refuse(send, 405, "read-only", "this server is read-only: no edits", None,
                              [(b"allow", b"GET, HEAD")])
                return
            origin = headers.get("origin")
            if origin is not None and not self._same_origin(origin, host, scope):
                await _refuse(send, 403, "foreign-origin", f"writes from another site ({origin!r}) are refused",
                              "Origin")
                return
            if self.token is not None:
                given = headers.get("authorization", "").encode("latin-1")
                if not hmac.compare_digest(given, self.token):
                    await _refuse(send, 401, "unauthorized", "this write needs 'Authorization: Bearer <token>'",
                                  "Authorization", [(b"www-authenticate", b'Bearer realm="wikicore"')])
                    return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.config.max_body):
            await _refuse(send, 413, "too-large", f"the request body is over {self.config.max_body:,} bytes", None)
            return
        if method == "HEAD":
            # HEAD is GET without the body (RFC 9110 9.3.2): route it as GET, send only the head.
            scope = {**scope, "method": "GET"}
            send = _headless(send)
        await self.app(scope, self._capped(receive), self._headers(send))

    def _same_origin(self, origin: str, host: str, scope: Scope) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()

    def _capped(self, receive: Receive) -> Receive:
        seen = 0
        cap = self.config.max_body

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge
            return message

        return wrapped

    def _headers(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                has_csp = has_cache = False
                for name, _ in headers:
                    name = name.lower()
                    has_csp = has_csp or name == b"content-security-policy"
                    has_cache = has_cache or name == b"cache-control"
                headers += _ALWAYS
                if not has_csp:
                    headers.append(_CSP)
                if not has_cache:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        return wrapped


_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"))
_CSP = (b"content-security-policy", API_CSP.encode("ascii"))
_NO_STORE = (b"cache-control", b"no-store")
#: The request headers the rules read; the others are not decoded (a browser sends a dozen).
_RULED = frozenset({b"host", b"origin", b"authorization", b"content-length"})


def _read_headers(scope: Scope) -> dict[str, str]:
    """The headers the rules read, by lower-case name; of repeated ones the last, as a dict of all would keep."""
    found = {}
    for key, value in scope.get("headers", ()):
        key = key.lower()
        if key in _RULED:
            found[key.decode("latin-1")] = value.decode("latin-1")
    return found


def _headless(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return wrapped


class BodyTooLarge(Exception):
    """A streamed body passed the cap: the app's error handler answers 413."""


async def _refuse(send: Send, status: int, code: str, message: str, field: str | None,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = error_body(code, message, field)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
        (b"content-security-policy", API_CSP.encode("ascii")), *(extra or []),
    ]})
    await send({"type": "http.response.body", "body": body})
