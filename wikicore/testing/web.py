"""A hostile little web: loopback HTTP servers misbehaving on purpose.

Tests, the demo and the benchmarks point the live checker at these routes
(issue 4, "Done when"). Every server binds to a loopback address only; with
``hosts=N`` there are N servers on 127.0.0.1, 127.0.0.2, ... so politeness code
sees N distinct hosts (Linux routes all of 127.0.0.0/8 to loopback).

Routes (any host):

=====================  ==========================================================
``/ok``, ``/page/*``   200, a small HTML page whose text depends on the path
``/p/N``               200, a tiny page for benchmarks (N digits; other names 404)
``/catchall/*``        200, the same home page for any path (a soft 404 with no marker)
``/missing`` (or any   404
unknown path)
``/gone``              410
``/soft/*``            200 "Page not found" for any path but ``/soft/about``
``/news/removed-story`` 200 "Page not found"; other ``/news/*`` paths get a real 404
``/huge``              200 with a 1 GiB body, generated lazily
``/gzip-bomb``         gzip body inflating to :attr:`HostileWeb.bomb_size` bytes
``/slow``              headers, then one byte every 0.5 s, forever (HEAD: 405)
``/slow-headers``      the status line and headers one byte every 0.5 s
``/loop/a``            302 -> ``/loop/b`` -> ``/loop/a`` ...
``/chain/N``           302 -> ``/chain/N-1`` ... ``/chain/0`` -> ``/ok``
``/to?u=URL``          302 to URL (e.g. http://169.254.169.254/)
``/metadata``          302 to http://169.254.169.254/latest/meta-data/
``/ratelimit``         429 with ``Retry-After: 1`` the first time per client, then 200
``/ratelimit-date``    the same with an HTTP-date Retry-After
``/always-429``        429 every time
``/429-superscript``   429 with ``Retry-After: ²`` (a digit to ``str.isdigit``, not a number)
``/no-head``           HEAD 405, GET 200
``/forbidden``         403
``/botwall``           503 challenge page with ``cf-mitigated: challenge``
``/captcha``           200 "are you a robot?" page
``/error``             500
``/flaky``             503 the first time per client, then 200
``/reset``             the connection is reset without an answer
``/counted/*``         200 (all routes are counted; see :meth:`HostileWeb.count`)
``/robots.txt``        200, allow everything
=====================  ==========================================================

Any route answers HEAD with 405 when the query has ``nohead``.
``latency=(lo, hi)`` adds a random sleep of lo..hi seconds to each request;
``headers`` are added to every answer.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import io
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = ["HostileWeb", "RequestRecord", "main"]

GIB = 1 << 30
_NOT_FOUND_PAGE = (
    b"<!doctype html><html><head><title>Page not found</title></head><body>"
    b"<h1>Page not found</h1><p>Sorry, the page you asked for does not exist or is no longer "
    b"available. Try the search box.</p></body></html>"
)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it (times from ``time.monotonic``)."""

    host: int
    method: str
    path: str
    client: str
    start: float
    end: float
    user_agent: str


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


_WORDS = (
    "river archive council harbour treaty census railway novel bridge museum election canal "
    "printing orchestra glacier monastery charter festival observatory vineyard lighthouse"
).split()


def _prose(seed: str) -> str:
    """Distinct text per path, so real pages differ from each other as they do on real sites."""
    digest = hashlib.sha256(seed.encode()).digest()
    return " ".join(_WORDS[b % len(_WORDS)] for b in digest * 4) + "."


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # benchmarks open hundreds of connections at once
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and aborted reads are the point of this server

    def __init__(self, address: tuple[str, int], web: HostileWeb, index: int) -> None:
        self.web = web
        self.index = index
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    # Headers and body go out in separate writes; with Nagle on, a reused connection's
    # body waits for the client's delayed ACK (40 ms a request). Real servers cork or set this.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and benchmarks read the records instead

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        web = self.server.web
        start = time.monotonic()
        path = urlsplit(self.path).path
        web._begin(self.server.index)
        try:
            if web.latency:
                time.sleep(web._rng.uniform(*web.latency))
            self._route(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            web._end(
                RequestRecord(
                    self.server.index, method, path, self.client_address[0], start, time.monotonic(),
                    self.headers.get("User-Agent", ""),
                )
            )

    # helpers -----------------------------------------------------------------

    def _send(self, method: str, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        hdrs = {"Content-Type": "text/html; charset=utf-8", **self.server.web.headers, **(headers or {})}
        hdrs.setdefault("Content-Length", str(len(body)))
        for key, value in hdrs.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD" and body:
            self.wfile.write(body)

    def _page(self, method: str, title: str, text: str) -> None:
        body = (
            f"<!doctype html><html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{text}</p></body></html>"
        )
        self._send(method, 200, body.encode())

    def _first_time(self, key: str) -> bool:
        web = self.server.web
        with web._lock:
            web._seen[(self.client_address[0], key)] += 1
            return web._seen[(self.client_address[0], key)] == 1

    def _route(self, method: str) -> None:
        web = self.server.web
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        if method == "HEAD" and "nohead" in query:
            self._send(method, 405, b"", {"Allow": "GET"})
            return
        if path == "/ok" or path.startswith(("/page/", "/counted/")):
            self._page(method, f"Page {path}", _prose(path))
        elif path.startswith("/catchall/"):
            self._page(method, "Welcome", "Our home page, served for every path under /catchall/. " * 10)
        elif path.startswith("/p/") and path[3:].isdigit():
            self._send(method, 200, b"<html><title>ok</title>ok</html>")
        elif path == "/robots.txt":
            self._send(method, 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
        elif path == "/gone":
            self._send(method, 410, b"gone")
        elif path == "/soft/about":
            self._page(method, "About us", "We are a real page with a long history of real things. " * 10)
        elif path.startswith("/soft/"):
            self._send(method, 200, _NOT_FOUND_PAGE)
        elif path == "/news/removed-story":
            # A removed article served as a 200 error page by a site whose other unknown
            # paths (/news/anything-else) get a real 404: only the body tells.
            self._send(method, 200, _NOT_FOUND_PAGE)
        elif path == "/huge":
            self._stream_zeros(method, GIB)
        elif path == "/gzip-bomb":
            data = _bomb(web.bomb_size)
            self._send(method, 200, data, {"Content-Encoding": "gzip", "Content-Type": "text/html"})
            web._add_sent(len(data) if method != "HEAD" else 0)
        elif path == "/slow":
            if method == "HEAD":  # refuse HEAD so that checkers must read the trickling body
                self._send(method, 405, b"", {"Allow": "GET"})
            else:
                self._slow_body(method)
        elif path == "/slow-headers":
            self._slow_headers()
        elif path == "/loop/a":
            self._send(method, 302, b"", {"Location": "/loop/b"})
        elif path == "/loop/b":
            self._send(method, 302, b"", {"Location": "/loop/a"})
        elif path.startswith("/chain/") and path.rsplit("/", 1)[1].isdigit():
            n = int(path.rsplit("/", 1)[1])
            self._send(method, 302, b"", {"Location": f"/chain/{n - 1}" if n > 0 else "/ok"})
        elif path == "/to":
            self._send(method, 302, b"", {"Location": query.get("u", ["/ok"])[0]})
        elif path == "/metadata":
            self._send(method, 302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
        elif path == "/ratelimit":
            if self._first_time(path):
                self._send(method, 429, b"slow down", {"Retry-After": "1"})
            else:
                self._page(method, "Thanks for waiting", "Rate limit passed.")
        elif path == "/ratelimit-date":
            if self._first_time(path):
                when = email.utils.formatdate(time.time() + 2, usegmt=True)
                self._send(method, 429, b"slow down", {"Retry-After": when})
            else:
                self._page(method, "Thanks for waiting", "Rate limit passed.")
        elif path == "/429-superscript":
            # Retry-After: "²" (latin-1 0xB2): str.isdigit() says yes, int() says no.
            self._send(method, 429, b"slow down", {"Retry-After": "\u00b2"})
        elif path == "/always-429":
            self._send(method, 429, b"slow down", {"Retry-After": "1"})
        elif path == "/no-head":
            if method == "HEAD":
                self._send(method, 405, b"", {"Allow": "GET"})
            else:
                self._page(method, "GET only", "This server refuses HEAD.")
        elif path == "/botwall":
            page = b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
            self._send(method, 503, page, {"cf-mitigated": "challenge"})
        elif path == "/captcha":
            page = b"<html><head><title>Security check</title></head><body>Are you a robot? Solve the captcha.</body>"
            self._send(method, 200, page + b"</html>")
        elif path == "/forbidden":
            self._send(method, 403, b"forbidden")
        elif path == "/error":
            self._send(method, 500, b"internal error")
        elif path == "/flaky":
            if self._first_time(path):
                self._send(method, 503, b"busy")
            else:
                self._page(method, "Back again", "The service recovered.")
        elif path == "/reset":
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        else:
            self._send(method, 404, b"<html><title>404 Not Found</title>not found</html>")

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
            self.server.web._add_sent(sent)
            self.close_connection = True

    def _slow_body(self, method: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(10**9))
        self.end_headers()
        self.wfile.flush()
        if method == "HEAD":
            return
        self.close_connection = True
        while not self.server.web._stopping.is_set():
            self.wfile.write(b"<")
            self.wfile.flush()
            time.sleep(0.5)

    def _slow_headers(self) -> None:
        self.close_connection = True
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"a" * 1000 + b"\r\n\r\n"
        for i in range(len(head)):
            if self.server.web._stopping.is_set():
                return
            self.wfile.write(head[i : i + 1])
            self.wfile.flush()
            time.sleep(0.5)


class HostileWeb:
    """Start ``hosts`` loopback servers; stop them on exit.

    ``url(path, host=0)`` gives the URL of ``path`` on one of them. ``records``
    lists every request served; :meth:`count` counts them by path prefix.
    """

    def __init__(
        self,
        hosts: int = 1,
        *,
        latency: tuple[float, float] | None = None,
        bomb_size: int = 64 << 20,
        port: int = 0,
        record: bool = True,
        seed: int = 4,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.latency = latency
        self.headers = dict(headers or {})
        self.bomb_size = bomb_size
        self.bytes_sent = 0
        self.record = record
        self.records: list[RequestRecord] = []
        self.max_inflight: Counter[int] = Counter()
        self._inflight: Counter[int] = Counter()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rng = random.Random(seed)  # noqa: S311 - latency jitter, not secrets
        addresses = ["127.0.0.1"] if hosts == 1 else [f"127.0.0.{i + 1}" for i in range(hosts)]
        self._servers = [_Server((addr, port), self, i) for i, addr in enumerate(addresses)]
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            for s in self._servers
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> HostileWeb:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and close the listening sockets."""
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    @property
    def hosts(self) -> list[str]:
        """``host:port`` of each server."""
        return [f"{s.server_address[0]!s}:{s.server_address[1]}" for s in self._servers]

    def url(self, path: str, host: int = 0) -> str:
        """The URL of ``path`` on server ``host``."""
        return f"http://{self.hosts[host]}{path}"

    def count(self, prefix: str = "/", method: str | None = None) -> int:
        """Requests served whose path starts with ``prefix`` (and had ``method``)."""
        with self._lock:
            return sum(1 for r in self.records if r.path.startswith(prefix) and method in (None, r.method))

    def settle(self, timeout: float = 2.0) -> None:
        """Wait until no request is being served (a client may see an answer before it is recorded)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not any(self._inflight.values()):
                    return
            time.sleep(0.01)

    def _begin(self, host: int) -> None:
        with self._lock:
            self._inflight[host] += 1
            self.max_inflight[host] = max(self.max_inflight[host], self._inflight[host])

    def _end(self, record: RequestRecord) -> None:
        with self._lock:
            self._inflight[record.host] -= 1
            if self.record:
                self.records.append(record)

    def _add_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n


def main(argv: list[str] | None = None) -> int:
    """``python -m wikicore.testing.web --port P [--hosts N] [--latency LO-HI]``: serve until killed."""
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
