"""Live pages and raw archive captures through the one network layer, served on 127.0.0.1.

A real page (the bed's first page) is served live in its edited form and, under a
Wayback-style path, as its capture: raw at ``.../<timestamp>id_/<url>`` and, at the
plain replay path, wrapped in a replay banner that must never be what we read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.support.sourcebed import bed_and_outcome
from tests.support.sourcedata import japanese
from wikicore.net import CheckConfig, CheckSession
from wikicore.sources.drift import DriftStatus, compare
from wikicore.sources.extract import MAX_BODY_BYTES, TextKind
from wikicore.sources.fetch import fetch_capture, fetch_page, raw_capture_url, source_config
from wikicore.sources.quotes import find_quote
from wikicore.testing.wayback import QuietServer

CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)
STAMP = "20200102030405"
BANNER = b"<div id='wm-ipp'>Wayback Machine banner: this capture is from 2020</div>"


class Site:
    """``/page`` live, ``/web/<STAMP>[id_]/http://origin.example/page`` archived, ``/sjis`` a Japanese page."""

    def __init__(self, live: bytes, capture: bytes, sjis: bytes) -> None:
        routes = {
            "/page": (live, "text/html; charset=utf-8"),
            f"/web/{STAMP}id_/http://origin.example/page": (capture, "text/html"),
            f"/web/{STAMP}/http://origin.example/page": (capture.replace(b"<body", BANNER + b"<body", 1), "text/html"),
            "/sjis": (sjis, "text/html"),
            "/binary": (b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                body, kind = routes.get(self.path, (b"not here", "text/plain"))
                self.send_response(200 if self.path in routes else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Site, Any]]:
    bed, _ = bed_and_outcome()
    page = bed[0]
    served = Site(page.live["removed"], page.capture,
                  japanese("SHIFT_JIS/_chromium_Shift-JIS_with_no_encoding_specified.html"))
    try:
        yield served, page
    finally:
        served.close()


def test_raw_capture_url() -> None:
    assert raw_capture_url(f"https://web.archive.org/web/{STAMP}/http://x.org/a") == (
        f"https://web.archive.org/web/{STAMP}id_/http://x.org/a")
    assert raw_capture_url(f"https://web.archive.org/web/{STAMP}if_/http://x.org/a").endswith(f"{STAMP}id_/http://x.org/a")
    assert raw_capture_url(f"https://web.archive.org/web/{STAMP}id_/http://x.org/a").count("id_") == 1
    assert raw_capture_url("https://archive.ph/abcde") == "https://archive.ph/abcde"


def test_source_config_raises_the_byte_cap() -> None:
    assert source_config(CONFIG).max_bytes == MAX_BODY_BYTES
    assert source_config(CONFIG).allow_private is True


def test_capture_then_live_quote_changed_and_drift(site: tuple[Site, Any]) -> None:
    """A sentence the live edit removed: on the raw capture, gone live; the page has changed."""
    served, page = site
    with CheckSession(source_config(CONFIG)) as session:
        fetched, capture = fetch_capture(session, f"{served.base}/web/{STAMP}/http://origin.example/page")
        assert fetched.ok and fetched.url.endswith(f"{STAMP}id_/http://origin.example/page")
        assert "Wayback Machine banner" not in capture.full
        _, live = fetch_page(session, f"{served.base}/page")
    quote = page.removed[0]
    assert find_quote(quote, capture).found
    assert not find_quote(quote, live).found
    assert compare(capture.main, live.main).status is DriftStatus.CHANGED


def test_japanese_page_live(site: tuple[Site, Any]) -> None:
    served, _ = site
    with CheckSession(source_config(CONFIG)) as session:
        _, text = fetch_page(session, f"{served.base}/sjis")
    assert text.encoding == "cp932"
    assert find_quote("\u5b9a\u984d\u7d66\u4ed8\u91d1", text).found


def test_unreadable_pages_say_why(site: tuple[Site, Any]) -> None:
    served, _ = site
    with CheckSession(source_config(CONFIG)) as session:
        _, missing = fetch_page(session, f"{served.base}/nowhere")
        _, binary = fetch_page(session, f"{served.base}/binary")
        _, refused = fetch_page(session, f"{served.base}/page".replace("127.0.0.1", "0.0.0.0"))
    assert missing.unreadable == "HTTP 404"
    assert binary.kind is TextKind.NONE and binary.unreadable == "not text (image/png)"
    assert refused.unreadable


def test_private_addresses_refused_by_default(site: tuple[Site, Any]) -> None:
    """The address policy is the network layer's: a source on a private address is not fetched."""
    served, _ = site
    with CheckSession(source_config(CheckConfig(retries=0))) as session:
        fetched, text = fetch_page(session, f"{served.base}/page")
    assert fetched.status is None and text.unreadable
