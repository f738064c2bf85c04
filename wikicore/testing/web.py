"""A small web on loopback for the demo: the everyday ways a cited page goes missing, nothing that can hurt.

``python -m wikicore.demo`` audits an article whose references point here, so that a newcomer sees
every verdict of the link checker offline. The routes are what a real site serves a link checker in
an ordinary week: a page, a 404, a 410, a 403, a "not found" page sent with 200 (a soft 404) and a
redirect within the site. The routes that attack a checker (endless and gigantic bodies, gzip bombs,
redirects to cloud-metadata addresses, rate limits) live with the tests in ``tests/servers/``, which
build on :class:`LocalWeb` and :class:`PageHandler`: an installed wikicore ships none of them.

Every server binds to a loopback address only; with ``hosts=N`` there are N servers on 127.0.0.1,
127.0.0.2, ... so politeness code sees N distinct hosts (Linux routes all of 127.0.0.0/8 to loopback).

Routes (any host):

=====================  ==========================================================
``/ok``, ``/page/*``   200, a small HTML page whose text depends on the path
                       (the demo's pages, :data:`DEMO_PAGES`, hold their own text)
``/paywall/reference-decay``  200, the demo's paywalled article: a lede, then "subscribe
                       to continue reading" (schema.org ``isAccessibleForFree: false``)
``/soft/*``            200 "Page not found" for any path but ``/soft/about``
``/gone``              410
``/forbidden``         403
``/to?u=/PATH``        302 to ``/PATH`` on the same server (other targets: 400)
``/robots.txt``        200, allow everything
anything else          404
=====================  ==========================================================
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = ["DEMO_PAGES", "NOT_FOUND_PAGE", "PAYWALL_LEDE", "LocalWeb", "PageHandler", "RequestRecord", "WebServer",
           "paywall_page", "prose"]

#: A site's "not found" page, served with 200 by ``/soft/*``: only the body tells it is an error.
NOT_FOUND_PAGE = (
    b"<!doctype html><html><head><title>Page not found</title></head><body>"
    b"<h1>Page not found</h1><p>Sorry, the page you asked for does not exist or is no longer "
    b"available. Try the search box.</p></body></html>"
)

#: The demo's live pages, path -> (title, paragraphs): text a citation's quote can be found in (or,
#: for the sentence the site rewrote since its capture, no longer found). The words are ours.
DEMO_PAGES = {
    "/page/web-archiving": (
        "Why we archive the web",
        (
            "A citation is only as good as the page it points to. When a page disappears, the claim it "
            "supported loses its evidence, and readers can no longer check it.",
            "Archives copy pages when they appear; we now send every new citation to one on the day it is added.",
            "Updated in 2021: the figures in this post are no longer maintained.",
        ),
    ),
}
#: The visible lede of the demo's paywalled article; the rest is for subscribers.
PAYWALL_LEDE = "Scholars cite articles that many of their readers cannot open."


def paywall_page(title: str) -> bytes:
    """A paywalled article as publishers serve one: marked up for search engines as not free, a lede, a pitch."""
    return (
        f'<!doctype html><html><head><title>{title}</title><script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "headline": "{title}", "isAccessibleForFree": "False"}}</script></head>'
        f"<body><h1>{title}</h1><p>{PAYWALL_LEDE}</p>"
        '<div class="paywall"><p>Subscribe to continue reading.</p>'
        '<p>Already a subscriber? <a href="/login">Sign in</a></p></div></body></html>'
    ).encode()


_WORDS = (
    "river archive council harbour treaty census railway novel bridge museum election canal "
    "printing orchestra glacier monastery charter festival observatory vineyard lighthouse"
).split()


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


def prose(seed: str) -> str:
    """Distinct text per path, so real pages differ from each other as they do on real sites."""
    digest = hashlib.sha256(seed.encode()).digest()
    return " ".join(_WORDS[b % len(_WORDS)] for b in digest * 4) + "."


class WebServer(ThreadingHTTPServer):
    """One listening socket of a :class:`LocalWeb`; ``index`` tells its handlers which host they are."""

    daemon_threads = True
    request_queue_size = 1024  # benchmarks open hundreds of connections at once
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a checker that gives up hangs up mid-answer; that is not the server's error to print

    def __init__(self, address: tuple[str, int], web: LocalWeb, index: int) -> None:
        self.web = web
        self.index = index
        super().__init__(address, web.handler)


class PageHandler(BaseHTTPRequestHandler):
    """Answers the routes in the module docstring; a subclass adds routes by extending :meth:`route`."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    # Headers and body go out in separate writes; with Nagle on, a reused connection's
    # body waits for the client's delayed ACK (40 ms a request). Real servers cork or set this.
    disable_nagle_algorithm = True
    server: WebServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and benchmarks read the records instead

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        web = self.server.web
        start = time.monotonic()
        parts = urlsplit(self.path)
        web.begin(self.server.index)
        try:
            web.pause()
            if not self.route(method, parts.path, parse_qs(parts.query, keep_blank_values=True)):
                self.send(method, 404, b"<html><title>404 Not Found</title>not found</html>")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            web.end(
                RequestRecord(
                    self.server.index, method, parts.path, self.client_address[0], start, time.monotonic(),
                    self.headers.get("User-Agent", ""),
                )
            )

    def send(self, method: str, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``body`` (not sent to HEAD) and the web's extra ``headers``."""
        self.send_response(status)
        hdrs = {"Content-Type": "text/html; charset=utf-8", **self.server.web.headers, **(headers or {})}
        hdrs.setdefault("Content-Length", str(len(body)))
        for key, value in hdrs.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD" and body:
            self.wfile.write(body)

    def page(self, method: str, title: str, text: str | tuple[str, ...]) -> None:
        """Answer 200 with a small HTML page: a heading and one paragraph per text."""
        paragraphs = "".join(f"<p>{part}</p>" for part in ((text,) if isinstance(text, str) else text))
        head = f"<!doctype html><html><head><title>{title}</title></head>"
        body = f"{head}<body><h1>{title}</h1>{paragraphs}</body></html>"
        self.send(method, 200, body.encode())

    def route(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        """Answer ``path`` if it is one of these routes; False leaves the answer (a 404) to the caller."""
        if path in DEMO_PAGES:
            self.page(method, *DEMO_PAGES[path])
        elif path == "/ok" or path.startswith("/page/"):
            self.page(method, f"Page {path}", prose(path))
        elif path == "/paywall/reference-decay":
            self.send(method, 200, paywall_page("Reference decay and the paywall"))
        elif path == "/robots.txt":
            self.send(method, 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
        elif path == "/gone":
            self.send(method, 410, b"gone")
        elif path == "/soft/about":
            self.page(method, "About us", "We are a real page with a long history of real things. " * 10)
        elif path.startswith("/soft/"):
            self.send(method, 200, NOT_FOUND_PAGE)
        elif path == "/forbidden":
            self.send(method, 403, b"forbidden")
        elif path == "/to":
            target = query.get("u", ["/ok"])[0]
            if target.startswith("/") and not target.startswith("//"):
                self.send(method, 302, b"", {"Location": target})
            else:  # a redirect anywhere else would make this an open redirect
                self.send(method, 400, b"only paths on this server")
        else:
            return False
        return True


class LocalWeb:
    """Start ``hosts`` loopback servers; stop them on exit.

    ``url(path, host=0)`` gives the URL of ``path`` on one of them. ``records``
    lists every request served; :meth:`count` counts them by path prefix.
    A subclass sets :attr:`handler` to a :class:`PageHandler` with more routes.
    """

    handler: type[PageHandler] = PageHandler

    def __init__(
        self,
        hosts: int = 1,
        *,
        port: int = 0,
        record: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.headers = dict(headers or {})
        self.record = record
        self.records: list[RequestRecord] = []
        self.max_inflight: Counter[int] = Counter()
        self._inflight: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        addresses = ["127.0.0.1"] if hosts == 1 else [f"127.0.0.{i + 1}" for i in range(hosts)]
        self._servers = [WebServer((addr, port), self, i) for i, addr in enumerate(addresses)]
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            for s in self._servers
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        """Stop serving and close the listening sockets."""
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> LocalWeb:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def stopping(self) -> bool:
        """True once :meth:`close` began: a handler that answers slowly stops then."""
        return self._stopping.is_set()

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

    def pause(self) -> None:
        """Called before each answer; a subclass may wait here to play a slow site."""

    def begin(self, host: int) -> None:
        """A request to server ``host`` is being answered (its handler calls this)."""
        with self._lock:
            self._inflight[host] += 1
            self.max_inflight[host] = max(self.max_inflight[host], self._inflight[host])

    def end(self, record: RequestRecord) -> None:
        """A request was answered (its handler calls this); it joins :attr:`records`."""
        with self._lock:
            self._inflight[record.host] -= 1
            if self.record:
                self.records.append(record)


def main(argv: list[str] | None = None) -> None:
    """Serve the small web until interrupted: one base URL a line on stdout, one per host."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m wikicore.testing.web", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on each loopback address (0: any free port)")
    parser.add_argument("--hosts", type=int, default=1,
                        help="servers on 127.0.0.1, 127.0.0.2, ... (distinct hosts for politeness)")
    args = parser.parse_args(argv)
    web = LocalWeb(args.hosts, port=args.port, record=False)
    print("\n".join(f"http://{host}" for host in web.hosts), flush=True)  # the lines a demo script reads
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        web.close()


if __name__ == "__main__":
    main()
