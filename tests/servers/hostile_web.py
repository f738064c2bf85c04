"""A hostile little web: the demo's loopback web plus the routes that attack a link checker.

The live checker's tests and benchmarks point it at these routes to prove that a checked
page cannot exhaust memory, hang an audit, or steer a request to an internal address. They
live here, not in ``wikicore.testing``, so that installing wikicore never installs a 1 GiB
route, a gzip bomb or a redirect to the cloud-metadata address. Every server binds to a
loopback address only (see :class:`wikicore.testing.web.LocalWeb`).

Routes, beside the tame ones of :mod:`wikicore.testing.web` (any host):

=====================  ==========================================================
``/p/N``               200, a tiny page for benchmarks (N digits; other names 404)
``/catchall/*``        200, the same home page for any path (a soft 404 with no marker)
``/news/removed-story`` 200 "Page not found"; other ``/news/*`` paths get a real 404
``/huge``              200 with a 1 GiB body, generated lazily
``/gzip-bomb``         gzip body inflating to :attr:`HostileWeb.bomb_size` bytes
``/slow``              headers, then one byte every 0.5 s (HEAD: 405)
``/slow-headers``      the status line and headers one byte every 0.5 s
``/loop/a``            302 -> ``/loop/b`` -> ``/loop/a`` ...
``/chain/N``           302 -> ``/chain/N-1`` ... ``/chain/0`` -> ``/ok``
``/to?u=URL``          302 to any URL (e.g. http://169.254.169.254/)
``/metadata``          302 to http://169.254.169.254/latest/meta-data/
``/ratelimit``         429 with ``Retry-After: 1`` the first time per client, then 200
``/ratelimit-date``    the same with an HTTP-date Retry-After
``/always-429``        429 every time
``/429-superscript``   429 with ``Retry-After: ²`` (a digit to ``str.isdigit``, not a number)
``/no-head``           HEAD 405, GET 200
``/botwall``           503 challenge page with ``cf-mitigated: challenge``
``/captcha``           200 "are you a robot?" page
``/error``             500
``/flaky``             503 the first time per client, then 200
``/reset``             the connection is reset without an answer
``/counted/*``         200 (all routes are counted; see :meth:`HostileWeb.count`)
=====================  ==========================================================

The two trickles stop after :attr:`HostileWeb.trickle_limit` bytes and hang up, so that a
client without a deadline fails on what it reads instead of hanging its test forever; each
one leaves a :class:`Trickle` in :attr:`HostileWeb.trickles` saying how many bytes it sent and
who ended it (the client hanging up, the limit, or the server stopping).

Any route answers HEAD with 405 when the query has ``nohead``.
``latency=(lo, hi)`` adds a random sleep of lo..hi seconds to each request;
``headers`` are added to every answer.

``python -m tests.servers.hostile_web --port P [--hosts N] [--latency LO-HI]`` (from the
repository root) serves it until killed, for benchmarks that run it in a process of its own.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import io
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from wikicore.testing.web import NOT_FOUND_PAGE, LocalWeb, PageHandler, RequestRecord, prose

__all__ = ["HostileWeb", "RequestRecord", "Trickle", "main"]

GIB = 1 << 30

#: Seconds between two bytes of a trickle: slow enough that a read timeout of 1 s never
#: fires, so only a total deadline can end it.
TRICKLE_GAP = 0.5


@dataclass(frozen=True)
class Trickle:
    """One finished trickle: the route, the bytes written before it ended, and why it ended.

    ``ended`` is ``"hung up"`` when a write failed because the client had closed the
    connection (the server notices at its next write or two, so ``sent`` may count a byte or
    two that the client never read), ``"limit"`` when the server sent all
    :attr:`HostileWeb.trickle_limit` bytes and hung up itself, ``"stopping"`` when the server
    was shut down.
    """

    path: str
    sent: int
    ended: Literal["hung up", "limit", "stopping"]

_BOMBS: dict[int, bytes] = {}
_BOMB_LOCK = threading.Lock()


def _bomb(size: int) -> bytes:
    """Gzip of ``size`` zero bytes, built once per size (about size/1000 bytes)."""
    with _BOMB_LOCK:
        if size not in _BOMBS:
            raw = io.BytesIO()
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                block = bytes(1 << 20)
                for _ in range(size >> 20):
                    gz.write(block)
            _BOMBS[size] = raw.getvalue()
        return _BOMBS[size]


class HostileHandler(PageHandler):
    """The tame routes and, first, the hostile ones of the module docstring."""

    @property
    def web(self) -> HostileWeb:
        web = self.server.web
        assert isinstance(web, HostileWeb)
        return web

    def _first_time(self, key: str) -> bool:
        return self.web.first_time(self.client_address[0], key)

    def route(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        web = self.web
        if method == "HEAD" and "nohead" in query:
            self.send(method, 405, b"", {"Allow": "GET"})
        elif path.startswith("/counted/"):
            self.page(method, f"Page {path}", prose(path))
        elif path.startswith("/catchall/"):
            self.page(method, "Welcome", "Our home page, served for every path under /catchall/. " * 10)
        elif path.startswith("/p/") and path[3:].isdigit():
            self.send(method, 200, b"<html><title>ok</title>ok</html>")
        elif path == "/news/removed-story":
            # A removed article served as a 200 error page by a site whose other unknown
            # paths (/news/anything-else) get a real 404: only the body tells.
            self.send(method, 200, NOT_FOUND_PAGE)
        elif path == "/huge":
            self._stream_zeros(method, GIB)
        elif path == "/gzip-bomb":
            data = _bomb(web.bomb_size)
            self.send(method, 200, data, {"Content-Encoding": "gzip", "Content-Type": "text/html"})
            web.add_sent(len(data) if method != "HEAD" else 0)
        elif path == "/slow":
            if method == "HEAD":  # refuse HEAD so that checkers must read the trickling body
                self.send(method, 405, b"", {"Allow": "GET"})
            else:
                self._slow_body(method)
        elif path == "/slow-headers":
            self._slow_headers()
        elif path == "/loop/a":
            self.send(method, 302, b"", {"Location": "/loop/b"})
        elif path == "/loop/b":
            self.send(method, 302, b"", {"Location": "/loop/a"})
        elif path.startswith("/chain/") and path.rsplit("/", 1)[1].isdigit():
            n = int(path.rsplit("/", 1)[1])
            self.send(method, 302, b"", {"Location": f"/chain/{n - 1}" if n > 0 else "/ok"})
        elif path == "/to":
            self.send(method, 302, b"", {"Location": query.get("u", ["/ok"])[0]})
        elif path == "/metadata":
            self.send(method, 302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
        elif path == "/ratelimit":
            if self._first_time(path):
                self.send(method, 429, b"slow down", {"Retry-After": "1"})
            else:
                self.page(method, "Thanks for waiting", "Rate limit passed.")
        elif path == "/ratelimit-date":
            if self._first_time(path):
                when = email.utils.formatdate(time.time() + 2, usegmt=True)
                self.send(method, 429, b"slow down", {"Retry-After": when})
            else:
                self.page(method, "Thanks for waiting", "Rate limit passed.")
        elif path == "/429-superscript":
            # Retry-After: "²" (latin-1 0xB2): str.isdigit() says yes, int() says no.
            self.send(method, 429, b"slow down", {"Retry-After": "\u00b2"})
        elif path == "/always-429":
            self.send(method, 429, b"slow down", {"Retry-After": "1"})
        elif path == "/no-head":
            if method == "HEAD":
                self.send(method, 405, b"", {"Allow": "GET"})
            else:
                self.page(method, "GET only", "This server refuses HEAD.")
        elif path == "/botwall":
            page = b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
            self.send(method, 503, page, {"cf-mitigated": "challenge"})
        elif path == "/captcha":
            page = b"<html><head><title>Security check</title></head><body>Are you a robot? Solve the captcha.</body>"
            self.send(method, 200, page + b"</html>")
        elif path == "/error":
            self.send(method, 500, b"internal error")
        elif path == "/flaky":
            if self._first_time(path):
                self.send(method, 503, b"busy")
            else:
                self.page(method, "Back again", "The service recovered.")
        elif path == "/reset":
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        else:
            return super().route(method, path, query)
        return True

    def _stream_zeros(self, method: str, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if method == "HEAD":
            return
        block = b"x" * (64 * 1024)
        sent = 0
        try:
            while sent < size:
                self.wfile.write(block)
                sent += len(block)
        finally:
            self.web.add_sent(sent)
            self.close_connection = True

    def _slow_body(self, method: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(10**9))
        self.end_headers()
        self.wfile.flush()
        if method == "HEAD":
            return
        self._trickle("/slow", b"<" * self.web.trickle_limit)  # the body never comes to its length

    def _slow_headers(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"a" * 1000 + b"\r\n\r\n"
        self._trickle("/slow-headers", head)

    def _trickle(self, path: str, data: bytes) -> None:
        """Write ``data`` one byte per :data:`TRICKLE_GAP`, at most ``trickle_limit`` bytes, and record how it ended."""
        self.close_connection = True
        web = self.web
        sent = 0
        ended: Literal["hung up", "limit", "stopping"] = "limit"
        try:
            for i in range(min(len(data), web.trickle_limit)):
                if web.stopping:
                    ended = "stopping"
                    break
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                sent += 1
                time.sleep(TRICKLE_GAP)
        except OSError:  # BrokenPipeError, ConnectionResetError: the client hung up
            ended = "hung up"
        web.add_trickle(Trickle(path, sent, ended))


class HostileWeb(LocalWeb):
    """Start ``hosts`` loopback servers with the hostile routes; stop them on exit.

    ``url(path, host=0)`` gives the URL of ``path`` on one of them. ``records``
    lists every request served; :meth:`count` counts them by path prefix;
    ``bytes_sent`` counts what ``/huge`` and ``/gzip-bomb`` sent; ``trickles`` lists the
    finished trickles of ``/slow`` and ``/slow-headers`` (see :class:`Trickle`).
    """

    handler = HostileHandler

    def __init__(
        self,
        hosts: int = 1,
        *,
        latency: tuple[float, float] | None = None,
        bomb_size: int = 64 << 20,
        trickle_limit: int = 24,
        port: int = 0,
        record: bool = True,
        seed: int = 4,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.latency = latency
        self.bomb_size = bomb_size
        # 24 bytes take 12 s: eight times the longest deadline a test gives a trickle, so a
        # client that honours its deadline always hangs up first, and one that does not
        # gets a cut-off answer in seconds instead of waiting forever.
        self.trickle_limit = trickle_limit
        self.trickles: list[Trickle] = []
        self.bytes_sent = 0
        self._seen: Counter[tuple[str, str]] = Counter()
        self._counters = threading.Lock()
        self._rng = random.Random(seed)  # latency jitter, not secrets
        super().__init__(hosts, port=port, record=record, headers=headers)

    def __enter__(self) -> HostileWeb:
        return self

    def pause(self) -> None:
        """Sleep the configured ``latency`` before each answer."""
        if self.latency:
            time.sleep(self._rng.uniform(*self.latency))

    def first_time(self, client: str, key: str) -> bool:
        """True for the first request from ``client`` to ``key`` (rate limits and flaky routes)."""
        with self._counters:
            self._seen[(client, key)] += 1
            return self._seen[(client, key)] == 1

    def add_sent(self, n: int) -> None:
        """Count ``n`` more body bytes sent by the huge routes."""
        with self._counters:
            self.bytes_sent += n

    def add_trickle(self, trickle: Trickle) -> None:
        """Record a finished trickle."""
        with self._counters:
            self.trickles.append(trickle)

    def trickles_after(self, start: int, count: int = 1, timeout: float = 15.0) -> list[Trickle]:
        """The trickles finished after the first ``start``, once ``count`` of them have ended.

        Waits up to ``timeout`` seconds for them (a trickle ends at its next write after the
        client hangs up, or after ``trickle_limit`` bytes), then answers what there is: the
        caller asserts on the trickles, never on the time this took.
        """
        end = time.monotonic() + timeout
        while True:
            with self._counters:
                done = self.trickles[start:]
            if len(done) >= count or time.monotonic() >= end:
                return done
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.servers.hostile_web --port P [--hosts N] [--latency LO-HI]``: serve until killed."""
    parser = argparse.ArgumentParser(description="Serve the hostile little web on loopback.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--hosts", type=int, default=1)
    parser.add_argument("--latency", default="", help="added latency in ms, e.g. 100-300")
    parser.add_argument(
        "--header", action="append", default=[], help="NAME:VALUE added to every answer (repeatable); "
        "'LinkChecker:unlocked' lifts LinkChecker's per-host rate limit, as its manual describes"
    )
    args = parser.parse_args(argv)
    latency = None
    if args.latency:
        lo, _, hi = args.latency.partition("-")
        latency = (float(lo) / 1000, float(hi or lo) / 1000)
    headers = dict(h.split(":", 1) for h in args.header)
    web = HostileWeb(args.hosts, latency=latency, port=args.port, record=False, headers=headers)
    sys.stdout.write(" ".join(f"http://{h}/" for h in web.hosts) + "\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        web.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
