"""The real-web corpus served on loopback: real pages, the ways real sites answer for missing ones.

Each site is one loopback server (its own host to the checker) with a behaviour
seen on real sites; the pages are real (:mod:`tests.support.realweb` fetches them):

=========  ===================================================================================
news       missing paths answer a real 404 (the White House's "404 - Page Not Found" page)
portal     missing paths are sent home (302 to ``/``, a real home page): a soft 404, but ``/`` is live
blogs      missing paths answer 200 with the White House's "Page Not Found" page (not-found words)
catchall   missing paths answer 200 with one real page (a state portal), no words at all
gov        a removed section redirects to a signpost page that never says "not found"; other
           unknown paths in that section get a real 404, unknown paths of the site the signpost
archive    the Wayback Machine's own 200 "excluded" page and its 404 "not archived" page
walls      bot walls by structure: Cloudflare (a 503 from its edge whose words sit past a large inline image),
           Akamai, DataDome, PerimeterX; ``sucuri`` and ``cookie`` are whole sites that answer
           every path with a 200 that only sets a cookie and reloads
=========  ===================================================================================

The challenge pages are built from the vendors' documented markup (no package ships real ones);
everything else is real bytes. :func:`cases` lists every URL with the verdict it must get.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.support.realweb import Label, labels, page, wayback_pages

#: An answer: status, headers, body.
Answer = tuple[int, dict[str, str], bytes]

#: Removed pages cited per site that hides them (enough for a share, few enough to stay quick).
REMOVED = 12

_CLOUDFLARE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b'<img alt="" src="data:image/png;base64,' + b"iVBORw0KGgo" * 46_000 + b'">'  # ~500 KB before any word
    b'<div id="cf-content"><h1>Checking your browser before accessing the site.</h1></div>'
    b'<form id="challenge-form" action="/?__cf_chl_f_tk=x" method="POST"></form>'
    b'<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>'
)
_AKAMAI = (
    b"<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n \n"
    b'You don\'t have permission to access "http&#58;&#47;&#47;www&#46;example&#46;com&#47;" on this server.<P>\n'
    b"Reference&#32;&#35;18&#46;5c3b1402&#46;1701820000&#46;2b1c3d\n</BODY>\n</HTML>\n"
)
_DATADOME = (
    b'<html><head><title>example.com</title></head><body style="margin:0">'
    b"<script>var dd={'rt':'c','cid':'AHrlqAAAAAMA','hsh':'2211F522B61E269B869FA6EAFFB5E1','t':'fe'}</script>"
    b'<script src="https://ct.captcha-delivery.com/c.js"></script>'
    b'<iframe src="https://geo.captcha-delivery.com/captcha/?initialCid=AHrlqAAAAAMA" width="100%" height="100%">'
    b"</iframe></body></html>"
)
_PERIMETERX = (
    b"<html><head><title>Access to this page has been denied</title></head><body>"
    b"<script>window._pxAppId = 'PXu6b0qd2S'; window._pxJsClientSrc = '/u6b0qd2S/init.js';</script>"
    b'<div id="px-captcha"></div><script src="/u6b0qd2S/captcha/captcha.js?a=c&m=0"></script></body></html>'
)
_SUCURI = (
    b"<html><title>You are being redirected...</title>\n<noscript>Javascript is required. Please enable "
    b"javascript before you are allowed to see this page.</noscript>\n<script>var s={},u,c,U,r,i,l=0,a,e=eval,"
    b"w=String.fromCharCode,sucuri_cloudproxy_js='',S='cz0iMSIrIjIi';document.cookie='sucuri_cloudproxy_uuid_0="
    b"b8c7'+'; path=/;max-age=86400';location.reload();</script></html>"
)
_COOKIE = (
    b"<html><head><script>document.cookie = 'verified=1; path=/';"
    b" window.location.href = window.location.href;</script></head><body></body></html>"
)


@dataclass(frozen=True)
class Case:
    """One cited URL of the corpus: its path on a site, the verdict it must get, and why."""

    site: str
    path: str
    expected: str
    why: str


class Site:
    """One host: fixed pages by path, and what it answers for every other path."""

    def __init__(self, name: str, fallback: Callable[[str], Answer]) -> None:
        self.name = name
        self.pages: dict[str, Answer] = {}
        self.fallback = fallback

    def answer(self, path: str) -> Answer:
        return self.pages.get(path) or self.fallback(path)


def _html(body: bytes, status: int = 200, **headers: str) -> Answer:
    return status, {"Content-Type": "text/html; charset=utf-8", **headers}, body


class RealWeb:
    """The corpus's sites on 127.0.0.1, one port each; :meth:`url` and :attr:`cases` name what to check."""

    def __init__(self) -> None:
        labelled = labels()
        live = [label for label in labelled if label.source != "wayback"]
        archive = wayback_pages()
        not_found = archive["whitehouse-404"][1]
        home = page(next(label for label in live if label.name == "stuttgart.de.html"))
        portal_page = page(next(label for label in live if label.name == "bayern.de.html"))
        signpost = page(next(label for label in live if label.name == "deutschland.de.en.html"))
        self.sites: dict[str, Site] = {
            "news": Site("news", lambda path: _html(not_found, 404)),
            "portal": Site("portal", lambda path: (302, {"Location": "/"}, b"")),
            "blogs": Site("blogs", lambda path: _html(not_found)),
            "catchall": Site("catchall", lambda path: _html(portal_page)),
            "gov": Site("gov", self._gov),
            "archive": Site("archive", lambda path: _html(archive["wayback-not-archived"][1], 404)),
            "walls": Site("walls", lambda path: _html(b"<title>Not Found</title>", 404)),
            "sucuri": Site("sucuri", lambda path: _html(_SUCURI, 200, Server="Sucuri/Cloudproxy")),
            "cookie": Site("cookie", lambda path: _html(_COOKIE)),
        }
        self.cases: list[Case] = []
        spread = ["news", "portal", "blogs", "catchall", "gov"]
        for index, label in enumerate(live):
            site = spread[index % len(spread)]
            path = f"/{'pages' if site == 'gov' else 'a'}/{label.name}"
            self.sites[site].pages[path] = _html(page(label))
            self.cases.append(Case(site, path, label.expected, label.reason))
        self.sites["portal"].pages["/"] = _html(home)
        self.cases.append(Case("portal", "/", "live", "the home page unknown paths are sent to, cited as such"))
        self.sites["gov"].pages["/signpost"] = _html(signpost)
        self.cases.append(Case("gov", "/signpost", "live", "the signpost page itself, cited as such"))
        for i in range(REMOVED):
            self.cases += [
                Case("news", f"/a/2016/removed-{i}.html", "dead", "missing: a real 404 page with status 404"),
                Case("portal", f"/a/2016/removed-{i}.html", "soft-404", "missing: sent home like any unknown path"),
                Case("blogs", f"/a/2016/removed-{i}.html", "soft-404", "missing: 200 'Page Not Found'"),
                Case("catchall", f"/a/2016/removed-{i}.html", "soft-404", "missing: 200 with the site's one page"),
                Case("gov", f"/ostp/about/student/removed-{i}", "soft-404",
                     "removed section: redirects to the signpost, as unknown paths of the site do"),
            ]
        excluded = archive["wayback-excluded"][1]
        for i in range(4):
            path = f"/web/2017092900271{i}id_/https://nationalpost.com/health/{i}/"
            self.sites["archive"].pages[path] = _html(excluded)
            self.cases.append(Case("archive", path, "soft-404", "the archive's own 200 'excluded' page"))
            self.cases.append(Case("archive", f"/web/2017/https://not-real-{i}.whatever/", "dead",
                                   "the archive's own 404 'not archived' page"))
        walls = self.sites["walls"].pages
        walls["/cloudflare"] = _html(_CLOUDFLARE, 503, Server="cloudflare", **{"CF-RAY": "8a1b2c3d4e5f-FRA"})
        walls["/akamai"] = _html(_AKAMAI, 403, Server="AkamaiGHost")
        walls["/datadome"] = _html(_DATADOME, 403, **{"X-DataDome": "protected"})
        walls["/perimeterx"] = _html(_PERIMETERX, 403)
        for path in walls:
            self.cases.append(Case("walls", path, "blocked", f"bot wall: {path[1:]} challenge"))
        self.cases.append(Case("sucuri", "/news/2019/story.html", "blocked", "Sucuri cookie challenge on every path"))
        self.cases.append(Case("cookie", "/article/1", "blocked", "a 200 that only sets a cookie and reloads"))
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []

    def _gov(self, path: str) -> Answer:
        directory = "/ostp/about/student/"
        if path.startswith(directory) and "removed-" in path:
            return 302, {"Location": "/signpost"}, b""
        if path.startswith(directory):
            return _html(b"<title>404 Not Found</title><h1>Not Found</h1>", 404)
        return 302, {"Location": "/signpost"}, b""

    def url(self, case: Case) -> str:
        """The loopback URL of ``case``."""
        host, port = self._servers[case.site].server_address[:2]
        return f"http://{host!s}:{port}{case.path}"

    def __enter__(self) -> RealWeb:
        for name, site in self.sites.items():
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
            server.daemon_threads = True
            self._servers[name] = server
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def _answer(self, body: bool) -> None:
            status, headers, content = site.answer(unquote(urlsplit(self.path).path))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if body and content:
                self.wfile.write(content)

    return Handler


def labelled() -> list[Label]:
    """The label table (re-exported for the bench)."""
    return labels()
