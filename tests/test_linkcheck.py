"""The live checker's verdicts, history and politeness, against the hostile loopback web."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from wikicore.links import LinkChecker, LinkDB, LinkResult, LinkStatus, check_urls
from wikicore.links.soft404 import Probe, probe_url
from wikicore.links.verdicts import verdict
from wikicore.net import CheckConfig, CheckSession, Fetch
from wikicore.testing.wayback import QuietServer

from .servers.hostile_web import HostileWeb

FAST = CheckConfig(
    allow_private=True,
    connect_timeout=1.0,
    read_timeout=1.0,
    deadline=2.0,
    max_bytes=256 * 1024,
    host_interval=0.0,
    per_host=8,
    backoff=0.05,
)


@pytest.fixture(scope="module")
def web() -> Iterator[HostileWeb]:
    with HostileWeb() as server:
        yield server


@pytest.fixture(scope="module")
def checker(web: HostileWeb) -> Iterator[LinkChecker]:
    with LinkChecker(FAST) as c:
        # An answer first: a failure is a verdict only once the checker has shown itself online
        # (tests/test_net_offline.py), and the tests below judge failures in any order.
        assert c.check(web.url("/ok")).status is LinkStatus.LIVE
        yield c


@pytest.mark.parametrize(
    ("path", "status", "http_status"),
    [
        ("/ok", LinkStatus.LIVE, 200),
        ("/chain/3", LinkStatus.LIVE, 200),
        ("/missing", LinkStatus.DEAD, 404),
        ("/gone", LinkStatus.DEAD, 410),
        ("/to?u=/gone", LinkStatus.DEAD, 410),  # a redirect to a dead page is dead
        ("/loop/a", LinkStatus.DEAD, 302),
        ("/soft/no-such-article", LinkStatus.SOFT_404, 200),
        ("/soft/about", LinkStatus.LIVE, 200),
        ("/no-head", LinkStatus.LIVE, 200),
        ("/forbidden", LinkStatus.BLOCKED, 403),
        ("/botwall", LinkStatus.BLOCKED, 503),
        ("/captcha?nohead", LinkStatus.BLOCKED, 200),  # a 2xx wall needs the body: see module docs
        ("/always-429", LinkStatus.BLOCKED, 429),
        ("/error", LinkStatus.ERROR, 500),
        ("/flaky", LinkStatus.LIVE, 200),
        ("/reset", LinkStatus.ERROR, None),
        ("/huge?nohead", LinkStatus.LIVE, 200),
        ("/gzip-bomb?nohead", LinkStatus.LIVE, 200),
        ("/metadata", LinkStatus.UNCHECKED, None),  # refused by policy: not a verdict on the site
    ],
)
def test_verdicts(
    web: HostileWeb, checker: LinkChecker, path: str, status: LinkStatus, http_status: int | None
) -> None:
    result = checker.check(web.url(path))
    assert (result.status, result.http_status) == (status, http_status), result.error


def test_both_http_stacks_give_the_same_verdicts(web: HostileWeb) -> None:
    # The checker runs on aiohttp (chosen by measurement); the requests session stays for the
    # archive transport. Both share failures, policy and redirects, and must judge the hostile
    # web exactly alike through the one set of verdict rules.
    paths = ["/ok", "/missing", "/gone", "/loop/a", "/soft/x", "/news/removed-story", "/forbidden", "/botwall",
             "/always-429", "/429-superscript", "/error", "/reset", "/gzip-bomb?nohead", "/metadata", "/chain/3"]
    config = CheckConfig(**{**FAST.__dict__, "retries": 1})

    def tagged(path: str, stack: str) -> str:
        return web.url(f"{path}{'&' if '?' in path else '?'}{stack}")

    verdicts = {}
    results = check_urls([tagged(p, "async") for p in paths], config)
    verdicts["async"] = {r.url.rsplit("async", 1)[0]: (r.status, r.http_status, r.error) for r in results}
    with CheckSession(config) as session:
        judged = {}
        for path in paths:
            url = tagged(path, "requests")
            fetch = session.fetch(url, "GET", limit=config.keep_bytes)
            probe = None
            if fetch.ok:
                _, sibling = probe_url(url)
                probe = Probe.of(sibling, session.fetch(sibling, "GET", limit=config.keep_bytes))
            status, reason = verdict(fetch, probe)
            judged[url.rsplit("requests", 1)[0]] = (status, fetch.status, reason)
        verdicts["requests"] = judged
    assert verdicts["async"] == verdicts["requests"]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/", "http://[::1", "no scheme"]
)
def test_invalid_urls(checker: LinkChecker, url: str) -> None:
    assert checker.check(url).status is LinkStatus.INVALID


def test_tls_failure_is_an_error(web: HostileWeb, checker: LinkChecker) -> None:
    result = checker.check(web.url("/ok").replace("http://", "https://"))  # TLS to a plain HTTP server
    assert result.status is LinkStatus.ERROR


def test_no_url(checker: LinkChecker) -> None:
    assert checker.check("").status is LinkStatus.NO_URL


def test_loopback_is_not_checked_without_allow_private(web: HostileWeb) -> None:
    with LinkChecker(CheckConfig()) as c:
        result = c.check(web.url("/page/refused"))
    assert result.status is LinkStatus.UNCHECKED and "loopback address" in (result.error or "")
    assert "--allow-private would check it" in (result.error or "")
    web.settle()
    assert web.count("/page/refused") == 0


def test_redirect_to_metadata_is_not_checked(web: HostileWeb, checker: LinkChecker) -> None:
    result = checker.check(web.url("/to?u=http://169.254.169.254/latest/meta-data/"))
    assert result.status is LinkStatus.UNCHECKED
    assert result.redirects == ("http://169.254.169.254/latest/meta-data/",)


def test_a_refusal_is_never_recorded_and_allow_private_takes_effect_at_once(web: HostileWeb, tmp_path: Path) -> None:
    url = web.url("/page/refused-then-allowed")
    with LinkDB(tmp_path / "checks.sqlite") as db:
        refused = list(check_urls([url], CheckConfig(), db))
        assert [r.status for r in refused] == [LinkStatus.UNCHECKED]
        assert "--allow-private would check it" in (refused[0].error or "")
        assert db.history(url) == []  # the site was never asked: nothing observed
        allowed = list(check_urls([url], CheckConfig(allow_private=True), db))
    assert [(r.status, r.from_cache) for r in allowed] == [(LinkStatus.LIVE, False)]


def test_a_refusal_an_older_version_recorded_is_not_reused(web: HostileWeb, tmp_path: Path) -> None:
    from wikicore.links.history import Observation, utc_now

    url = web.url("/page/refused-long-ago")
    with LinkDB(tmp_path / "checks.sqlite") as db:
        db.record(Observation(url, utc_now(), "invalid", None, None, (), "127.0.0.1 is a loopback address"))
        again = list(check_urls([url], CheckConfig(allow_private=True), db))
    assert [(r.status, r.from_cache) for r in again] == [(LinkStatus.LIVE, False)]


def test_a_server_that_refuses_head_is_live_with_one_get(web: HostileWeb, checker: LinkChecker) -> None:
    web.settle()
    heads, gets = web.count("/no-head", "HEAD"), web.count("/no-head", "GET")
    assert checker.check(web.url("/no-head")).status is LinkStatus.LIVE
    web.settle()
    assert web.count("/no-head", "HEAD") - heads == 0
    assert web.count("/no-head", "GET") - gets == 1


def test_every_2xx_body_is_read_even_where_the_site_answers_404(web: HostileWeb, checker: LinkChecker) -> None:
    assert checker.check(web.url("/p/17")).status is LinkStatus.LIVE
    web.settle()
    assert web.count("/p/17", "GET") == 1


def test_200_titled_page_not_found_on_a_site_with_real_404s_is_soft_404(
    web: HostileWeb, checker: LinkChecker
) -> None:
    # The random-path probe of /news/ gets a real 404, and a HEAD-first checker would
    # trust the clean 2xx without reading the body.
    result = checker.check(web.url("/news/removed-story"))
    assert result.status is LinkStatus.SOFT_404
    assert "Page not found" in (result.error or "")
    web.settle()
    assert any(r.path.startswith("/news/wikicore-") for r in web.records)  # the probe really saw a 404 site


def test_slow_loris_ends_in_error_within_the_deadline(web: HostileWeb, checker: LinkChecker) -> None:
    # One byte every 0.5 s never trips the read timeout; the server hangs up by itself after
    # trickle_limit bytes (12 s), so a checker without a deadline would read them all and
    # report something else. The deadline shows as the checker hanging up first.
    done = len(web.trickles)
    result = checker.check(web.url("/slow"))
    assert result.status is LinkStatus.ERROR and result.error == f"timed out after {FAST.deadline:g} s"
    trickles = web.trickles_after(done)
    assert [t.ended for t in trickles] == ["hung up"], trickles
    assert trickles[0].sent < web.trickle_limit


def test_retry_after_then_live(web: HostileWeb, checker: LinkChecker) -> None:
    assert checker.check(web.url("/ratelimit")).status is LinkStatus.LIVE
    web.settle()
    first, second = [r for r in web.records if r.path == "/ratelimit"][:2]  # first client visit
    assert second.start - first.end >= 0.95


def test_soft_404_found_by_similarity_alone() -> None:
    """A site whose missing pages carry no marker at all is caught by the random-path probe."""
    with HostileWeb() as web, LinkChecker(FAST) as c:
        result = c.check(web.url("/catchall/old-article"))
        real = c.check(web.url("/page/real-article"))  # a 200 for random paths too, but different text
    assert real.status is LinkStatus.LIVE
    assert result.status is LinkStatus.SOFT_404
    assert "random path" in (result.error or "")


def test_check_urls_streams_distinct_results_with_progress(web: HostileWeb) -> None:
    urls = [web.url(p) for p in ("/ok", "/missing", "/ok", "/forbidden")] + ["javascript:x", ""]
    seen: list[LinkResult] = []
    results = list(check_urls(urls, FAST, progress=seen.append))
    assert sorted(r.url for r in results) == sorted(set(urls))
    assert seen == results
    assert {r.url: r.status for r in results}[web.url("/missing")] is LinkStatus.DEAD


def test_second_run_within_ttl_makes_no_requests(tmp_path: Path) -> None:
    with HostileWeb() as web:  # a server of its own: every request it sees is ours
        urls = [web.url(p) for p in ("/counted/a", "/counted/b", "/missing", "/forbidden", "/error")]
        with LinkDB(tmp_path / "checks.sqlite") as db:
            first = {r.url: r for r in check_urls(urls, FAST, db)}
        web.settle()
        before = web.count()
        assert before >= len(urls)
        with LinkDB(tmp_path / "checks.sqlite") as db:  # a new run, a reopened database
            second = {r.url: r for r in check_urls(urls, FAST, db)}
            web.settle()
            assert web.count() == before  # zero requests of any kind
            assert all(r.from_cache for r in second.values())
            assert {u: r.status for u, r in second.items()} == {u: r.status for u, r in first.items()}
            third = list(check_urls(urls[:1], FAST, db, refresh=True))
        web.settle()
        assert not third[0].from_cache and web.count() > before


def test_cache_expires_after_ttl(web: HostileWeb) -> None:
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    with LinkDB(":memory:") as db, LinkChecker(FAST, db, clock=lambda: now[0]) as c:
        assert not c.check(web.url("/counted/ttl")).from_cache
        now[0] += timedelta(hours=23)
        assert c.check(web.url("/counted/ttl")).from_cache
        now[0] += timedelta(hours=2)
        assert not c.check(web.url("/counted/ttl")).from_cache


def test_dead_is_confirmed_only_after_spaced_failures(web: HostileWeb) -> None:
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    url = web.url("/gone")
    with LinkDB(":memory:") as db, LinkChecker(FAST, db, clock=lambda: now[0]) as c:
        first = c.check(url)
        assert (first.status, first.failures, first.confirmed_dead) == (LinkStatus.DEAD, 1, False)
        assert first.first_failed == now[0]
        now[0] += timedelta(hours=2)
        assert c.check(url, refresh=True).failures == 2
        now[0] += timedelta(days=3)
        assert not c.check(url).confirmed_dead  # 3 failures, but only 2 spaced 3 days apart
        now[0] += timedelta(days=3)
        last = c.check(url)
        assert (last.failures, last.confirmed_dead) == (4, True)
        assert last.first_failed == datetime(2026, 3, 1, tzinfo=UTC)
        cached = c.check(url)
        assert cached.from_cache and cached.confirmed_dead


def test_dispatcher_keeps_hosts_polite() -> None:
    config = CheckConfig(**{**FAST.__dict__, "per_host": 2, "host_interval": 0.03, "concurrency": 16})
    with HostileWeb(hosts=4, latency=(0.02, 0.05)) as web:
        urls = [web.url(f"/p/{i}", host=i % 4) for i in range(60)]
        results = list(check_urls(urls, config))
        web.settle()
        assert {r.status for r in results} == {LinkStatus.LIVE}
        for host in range(4):
            starts = sorted(r.start for r in web.records if r.host == host)
            # The gate spaces requests 30 ms apart; the server sees them when its threads get a core,
            # so on a loaded machine two may be handled back to back after a stall. What load cannot
            # do is make them come faster on the whole: the span of 15 requests is at least 14 gaps.
            assert starts[-1] - starts[0] >= (len(starts) - 1) * 0.03 * 0.9
            assert web.max_inflight[host] <= 2


def test_input_is_read_lazily_through_a_small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Results stream out while input is still unread; every distinct URL gets exactly one result."""
    import wikicore.links.checker as linkcheck

    monkeypatch.setattr(linkcheck, "_WINDOW", 8)
    consumed = 0
    with HostileWeb(hosts=2) as web:

        def source() -> Iterator[str]:
            nonlocal consumed
            for i in range(150):
                consumed += 1
                yield web.url(f"/p/{i % 120}", host=i % 2)  # 30 duplicates along the way
                if i % 50 == 0:
                    yield "javascript:void(0)"

        config = CheckConfig(**{**FAST.__dict__, "per_host": 2, "concurrency": 4})
        results = check_urls(source(), config)
        first = next(results)
        assert consumed < 150
        rest = list(results)
    urls = [r.url for r in [first, *rest]]
    assert len(urls) == len(set(urls)) == 121


def test_a_link_check_never_imports_the_requests_stack(tmp_path: Path) -> None:
    """The checker runs on aiohttp alone: requests and urllib3 (the archive transport's) are not paid for."""
    code = ("import sys\n"
            "from wikicore.links import check_urls\n"
            "from wikicore.net import CheckConfig\n"
            "[result] = check_urls(['http://127.0.0.1:9/gone'], CheckConfig(allow_private=True, retries=0))\n"
            "print(result.status.value, sorted({'requests', 'urllib3'} & set(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.stdout.split(maxsplit=1)[1].strip() == "[]", done.stdout


class _Pages:
    """A :class:`~wikicore.links.checker.PageSink` that wants every URL and keeps what it is handed."""

    def __init__(self) -> None:
        self.got: dict[str, Fetch] = {}

    def wants(self, url: str) -> bool:
        return True

    def page(self, result: LinkResult, fetch: Fetch) -> None:
        self.got[result.url] = fetch


def test_a_page_read_whole_for_a_sink_gets_the_verdict_of_its_first_keep_bytes(tmp_path: Path) -> None:
    # A long page with a challenge word past the bytes a link check reads: the sink takes all of it,
    # while the verdict still looks at what the link check alone would have read (live, not a bot wall).
    head = b"<html><head><title>A long essay</title></head><body><article><p>"
    body = head + b"Plain words of an essay. " * 4000 + b"<p>Are you a robot?</p></article></body></html>"
    assert len(body) > CheckConfig().keep_bytes

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            found = self.path == "/essay"
            data = body if found else b"<html><body>no such page</body></html>"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    host, port = server.server_address[:2]
    url = f"http://{host!s}:{port}/essay"
    config = CheckConfig(allow_private=True, retries=0, host_interval=0.0)
    try:
        (plain,) = check_urls([url], config)
        pages = _Pages()
        (whole,) = check_urls([url], config, pages=pages)
    finally:
        server.shutdown()
        server.server_close()
    assert plain.status is LinkStatus.LIVE and whole.status is LinkStatus.LIVE
    assert (whole.error, whole.http_status) == (plain.error, plain.http_status)
    assert pages.got[url].body == body and not pages.got[url].truncated


def test_large_pages_read_whole_at_once_are_bounded(tmp_path: Path) -> None:
    # Each page read whole for a sink may be 16 MiB: many large ones must not be held at once.
    # Every page is larger than a link check reads; the server sends each one's first part, then
    # waits until all requests have come that far, so every body asks to grow before any is judged:
    # exactly WHOLE_READS grow, the rest are cut like an ordinary check (and the sink reads those itself).
    from wikicore.links.checker import WHOLE_READS

    keep = CheckConfig().keep_bytes
    count = WHOLE_READS + 8
    page = (b"<html><head><title>A long page</title></head><body><p>" + b"Words. " * (2 * keep // 7)
            + b"</p></body></html>")
    first, rest = page[: keep + 4096], page[keep + 4096:]
    arrived = threading.Barrier(count, timeout=30)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            if not self.path.rsplit("/", 1)[-1].isdigit():  # the soft-404 probe's random sibling
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(first)
            self.wfile.flush()
            arrived.wait()
            with contextlib.suppress(OSError):  # a cut body's connection is closed by the client
                self.wfile.write(rest)

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    host, port = server.server_address[:2]
    urls = [f"http://{host!s}:{port}/page/{n}" for n in range(count)]
    config = CheckConfig(allow_private=True, retries=0, host_interval=0.0, concurrency=2 * count,
                         per_host=2 * count)
    try:
        pages = _Pages()
        results = list(check_urls(urls, config, pages=pages))
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(r.url for r in results) == sorted(urls)
    assert all(r.status is LinkStatus.LIVE for r in results), [(r.url, r.status, r.error) for r in results]
    whole = [url for url, fetch in pages.got.items() if not fetch.truncated]
    assert len(whole) == WHOLE_READS
    assert all(pages.got[url].body == page for url in whole)
    assert all(pages.got[url].body_bytes == keep for url in set(pages.got) - set(whole))
