"""The source-text phase's pace: whose playback limit binds a replay, and that the phase runs beside the link checks.

Loopback servers only; request order and progress events, never timings.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from wikicore.archive.gate import MEMENTO_REQUESTS_PER_SECOND, shared_gate
from wikicore.audit import AuditEvent, AuditPhase, audit_articles
from wikicore.audit.quotes import REPLAY_LIMIT, replay_limits
from wikicore.models import Article
from wikicore.net import CheckConfig, Limit
from wikicore.sources.fetch import fetch_capture, replay_key, replay_root
from wikicore.testing.wayback import QuietServer

CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)


def test_the_internet_archive_keeps_its_published_playback_limit() -> None:
    limits = replay_limits(["https://web.archive.org"], 8)
    assert limits == {replay_key("https://web.archive.org/web/2020/http://example.org/"): REPLAY_LIMIT}
    assert REPLAY_LIMIT.interval == 1 / MEMENTO_REQUESTS_PER_SECOND


def test_a_self_hosted_root_is_paced_by_its_own_archive_gate_not_by_the_internet_archive() -> None:
    # The gate of one host is process-wide: hosts of their own keep this test apart from the others.
    shared_gate("http://pace-lifted.invalid:8080", {"web": 0})
    shared_gate("http://pace-rated.invalid:8080", {"web": 2.0})
    limits = replay_limits(["http://pace-lifted.invalid:8080", "http://pace-rated.invalid:8080"], 6)
    assert limits[replay_key("http://pace-lifted.invalid:8080/web/2020id_/x")] == Limit(6, 0.0)
    assert limits[replay_key("http://pace-rated.invalid:8080/web/2020id_/x")] == Limit(6, 0.5)


def test_replays_are_gated_per_archive_root() -> None:
    one = "http://127.0.0.1:8081/web/20200101000000/http://example.org/"
    other = "http://127.0.0.1:8082/web/20200101000000/http://example.org/"
    assert replay_root(one) == "http://127.0.0.1:8081"
    assert replay_key(one) != replay_key(other)
    assert replay_key(one) == replay_key(replay_root(one))

    class Recording:
        """Stands in for the session: records the gate key each request asks for."""

        def __init__(self) -> None:
            self.keys: list[str | None] = []

        def fetch(self, url: str, method: str, **kwargs: Any) -> Any:
            self.keys.append(kwargs.get("key"))
            raise LookupError(url)

    session = Recording()
    for url in (one, other):
        try:
            fetch_capture(session, url)  # type: ignore[arg-type]
        except LookupError:
            pass
    assert session.keys == [replay_key(one), replay_key(other)]


QUOTE = "The river rises in the northern hills and reaches the sea after four hundred kilometres."


class Held:
    """A loopback site serving one page at ``/page`` and ``/held``; ``/held`` answers only once ``release`` is set."""

    def __init__(self, body: bytes) -> None:
        self.release = threading.Event()
        self.body = body
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, body: bool) -> None:
                if self.path == "/held":
                    site.release.wait(20)  # a fallback, not a measurement: the assertion is on event order
                # Anything else is a real 404, so the checker's soft-404 probe finds the page genuine.
                self.send_response(200 if self.path in ("/page", "/held") else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.body)))
                self.end_headers()
                if body:
                    self.wfile.write(site.body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_the_sources_phase_runs_beside_the_link_checks(tmp_path: Path) -> None:
    # Two sites: one answers at once, the other holds its link check until the first url's quote
    # has been checked. Run after the link phase (as before), the sources phase could not finish a
    # url before the last link verdict; beside it, it does.
    page = f"<html><body><article><h1>Rivers</h1><p>{QUOTE}</p></article></body></html>".encode()
    quick, slow = Held(page), Held(page)
    events: list[AuditEvent] = []

    def progress(event: AuditEvent) -> None:
        events.append(event)
        if event.phase is AuditPhase.SOURCES and event.done >= 1:
            slow.release.set()

    article = Article.model_validate({
        "slug": "pace", "title": "Pace",
        "lead": [{"claims": [
            {"id": "c1", "text": "Claim one.", "citations": [{"ref": "quick", "quote": QUOTE}]},
            {"id": "c2", "text": "Claim two.", "citations": [{"ref": "slow"}]},
        ]}],
        "references": [
            {"id": "quick", "type": "web", "url": quick.url("/page"), "access_date": "2026-01-01"},
            {"id": "slow", "type": "web", "url": slow.url("/held"), "access_date": "2026-01-01"},
        ],
    })
    try:
        report = audit_articles([(article, None)], config=CONFIG, no_archive=True, db_path=tmp_path / "c.sqlite",
                                today=dt.date(2026, 11, 26), progress=progress)
    finally:
        quick.close()
        slow.close()
    links_done = max(i for i, e in enumerate(events) if e.phase is AuditPhase.LINKS and e.done == e.total)
    first_source = min(i for i, e in enumerate(events) if e.phase is AuditPhase.SOURCES and e.done >= 1)
    assert first_source < links_done
    check = report.articles[0].claims[0].citations[0].quote_check
    assert check is not None and check.status == "found"


def test_an_html_page_does_not_load_the_pdf_libraries() -> None:
    # pypdfium2 and pdfminer add 13 MB of peak RSS (measured on import) that an audit of HTML pages never needs.
    code = (
        "import sys\n"
        "from wikicore.sources import page_text\n"
        "text = page_text(b'<html><body><p>Plain words here.</p></body></html>', 'text/html')\n"
        "assert 'Plain words' in text.full\n"
        "print(sorted(m for m in ('pypdfium2', 'pdfminer') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert out.stdout.strip() == "[]"


def test_a_quoted_page_read_by_its_link_check_does_not_wait_for_the_sites_other_checks(tmp_path: Path) -> None:
    # One site, two cited pages: the quoted page's text comes with its link check's GET, so its
    # quote is checked while the site's other link check is still held open (released only then).
    page = f"<html><body><article><h1>Rivers</h1><p>{QUOTE}</p></article></body></html>".encode()
    site = Held(page)
    events: list[AuditEvent] = []

    def progress(event: AuditEvent) -> None:
        events.append(event)
        if event.phase is AuditPhase.SOURCES and event.done >= 1:
            site.release.set()

    article = Article.model_validate({
        "slug": "once", "title": "Once",
        "lead": [{"claims": [
            {"id": "c1", "text": "Claim one.", "citations": [{"ref": "page", "quote": QUOTE}]},
            {"id": "c2", "text": "Claim two.", "citations": [{"ref": "held"}]},
        ]}],
        "references": [
            {"id": "page", "type": "web", "url": site.url("/page"), "access_date": "2026-01-01"},
            {"id": "held", "type": "web", "url": site.url("/held"), "access_date": "2026-01-01"},
        ],
    })
    try:
        report = audit_articles([(article, None)], config=CONFIG, no_archive=True, db_path=tmp_path / "c.sqlite",
                                today=dt.date(2026, 11, 26), progress=progress)
    finally:
        site.close()
    links_done = max(i for i, e in enumerate(events) if e.phase is AuditPhase.LINKS and e.done == e.total)
    first_source = min(i for i, e in enumerate(events) if e.phase is AuditPhase.SOURCES and e.done >= 1)
    assert first_source < links_done
    check = report.articles[0].claims[0].citations[0].quote_check
    assert check is not None and check.status == "found"


def test_a_sites_pages_are_read_only_after_its_link_checks(tmp_path: Path) -> None:
    # Politeness: the link checker and this phase must not together send a site more requests at once
    # than --host-concurrency allows. One site, two cited pages: the quoted page's text is read only
    # once the site's other link check (held open here) is done. The page's link verdict is reused
    # from an earlier audit, so this phase must ask the site itself (a page checked now comes with
    # its link check's GET and needs no request of its own).
    page = f"<html><body><article><h1>Rivers</h1><p>{QUOTE}</p></article></body></html>".encode()
    seen: dict[str, Any] = {"page_gets": 0, "held_open": False, "read_while_held": None}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            if self.path == "/held":
                with lock:
                    seen["held_open"] = True
                released.wait(3)  # a fallback: the read of /page releases it at once if it comes too early
                with lock:
                    seen["held_open"] = False
            elif self.path == "/page":
                with lock:
                    seen["page_gets"] += 1
                    if seen["page_gets"] == 2:  # the first GET is the link check, the second the text read
                        seen["read_while_held"] = seen["held_open"]
                        released.set()
            self.send_response(200 if self.path in ("/page", "/held") else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    released = threading.Event()
    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    host, port = server.server_address[:2]
    page_only = Article.model_validate({
        "slug": "polite", "title": "Polite",
        "lead": [{"claims": [{"id": "c1", "text": "Claim one.", "citations": [{"ref": "page"}]}]}],
        "references": [
            {"id": "page", "type": "web", "url": f"http://{host!s}:{port}/page", "access_date": "2026-01-01"},
        ],
    })
    article = Article.model_validate({
        "slug": "polite", "title": "Polite",
        "lead": [{"claims": [
            {"id": "c1", "text": "Claim one.", "citations": [{"ref": "page", "quote": QUOTE}]},
            {"id": "c2", "text": "Claim two.", "citations": [{"ref": "held"}]},
        ]}],
        "references": [
            {"id": "page", "type": "web", "url": f"http://{host!s}:{port}/page", "access_date": "2026-01-01"},
            {"id": "held", "type": "web", "url": f"http://{host!s}:{port}/held", "access_date": "2026-01-01"},
        ],
    })
    try:
        # The page's link check alone (no quote, so nothing of it is read for this phase), remembered...
        audit_articles([(page_only, None)], config=CONFIG, no_archive=True, db_path=tmp_path / "c.sqlite",
                       today=dt.date(2026, 11, 26))
        assert seen["page_gets"] == 1
        # ...so here its verdict is reused and its text is this phase's own request, the second GET.
        report = audit_articles([(article, None)], config=CONFIG, no_archive=True, db_path=tmp_path / "c.sqlite",
                                today=dt.date(2026, 11, 26))
    finally:
        released.set()
        server.shutdown()
        server.server_close()
    assert seen["page_gets"] == 2
    assert seen["read_while_held"] is False
    check = report.articles[0].claims[0].citations[0].quote_check
    assert check is not None and check.status == "found"
