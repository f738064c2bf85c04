"""Hostile archives on loopback: huge answers, trickles, odd Retry-After, lying save answers, damaged caches.

Every server here is started by the test on 127.0.0.1. Time and memory are
bounded by the client's deadline and byte cap (asserted through what the client
reports and how much it read), not by wall-clock budgets.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikicore.archive import (
    AnswerTooLarge,
    ArchiveCache,
    CachedArchive,
    Snapshot,
    SnapshotQuery,
    WaybackArchive,
)
from wikicore.archive.gate import ArchiveGate
from wikicore.audit import audit_articles
from wikicore.cli import main
from wikicore.errors import InvalidInput, NetworkError, RateLimited
from wikicore.models import Article, Reference

from .servers.wayback import Capture, FakeWayback, QuietServer

URL = "http://example.com/page"

Route = Callable[[BaseHTTPRequestHandler], None]


class Hostile:
    """A loopback server whose every GET/POST runs ``route``; counts requests and bytes sent."""

    def __init__(self, route: Route) -> None:
        self.requests = 0
        self.sent = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                outer.requests += 1
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Hostile:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def huge_json(handler: BaseHTTPRequestHandler) -> None:
    """A 120 MB JSON answer, generated as it is sent."""
    size = 120 * 1024 * 1024
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(size))
    handler.end_headers()
    chunk = b" " * (1024 * 1024)
    handler.wfile.write(b'{"results": [')
    for _ in range(size // len(chunk) - 1):
        handler.wfile.write(chunk)


def trickle(handler: BaseHTTPRequestHandler) -> None:
    """Headers, then a byte a second, forever (until the client goes away)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    for _ in range(600):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(1)


def trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    """The status line and headers a byte a second: read timeouts never fire."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 20:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1)


def quick_gate() -> ArchiveGate:
    return ArchiveGate(rates={"available": 0, "cdx": 0, "web": 0, "save": 0})


def test_a_120_mb_answer_costs_the_byte_cap_not_120_mb() -> None:
    with Hostile(huge_json) as server:
        archive = WaybackArchive(server.base_url, gate=quick_gate(), retries=0, max_bytes=1024 * 1024)
        with pytest.raises(AnswerTooLarge, match="exceeds 1048576 bytes"):
            archive.nearest([SnapshotQuery(URL, date(2012, 1, 1))])
        assert server.requests == 1


def test_the_default_cap_holds_against_a_120_mb_answer_in_an_audit() -> None:
    """The audit goes on: the archive failed, the report says so."""
    ref = Reference(id="r", url="http://127.0.0.1:9/x", access_date="2012-01-01")
    item = Article.model_validate({"slug": "s", "title": "T", "lead": [{"claims": [{"text": "A."}]}],
                                   "references": [ref]})
    with Hostile(huge_json) as server:
        report = audit_articles([(item, None)], archive=WaybackArchive(server.base_url, gate=quick_gate(), retries=0))
    assert any("archive lookups failed" in note and "exceeds" in note for note in report.notes)


@pytest.mark.parametrize("route", [trickle, trickle_headers], ids=["body", "headers"])
def test_a_trickling_archive_is_cut_at_the_deadline(route: Route) -> None:
    with Hostile(route) as server:
        archive = WaybackArchive(server.base_url, gate=quick_gate(), retries=0, deadline=2.0, timeout=(2.0, 2.0))
        # The total deadline fired (each byte arrives within the read timeout, so only it can).
        with pytest.raises(NetworkError, match=r"took longer than 2 s"):
            archive.nearest([SnapshotQuery(URL, date(2012, 1, 1))])
        assert server.requests == 1


@pytest.mark.parametrize("value", ["²", "1e3", "-5", "soon", "9" * 5000, "Thu, 99 Foo 2024 99:99:99 GMT"])
def test_odd_retry_after_values_never_crash(value: str) -> None:
    """An unreadable Retry-After counts as absent (the default pause); '²' is isdigit() but no number."""
    sleeps: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    with FakeWayback([Capture(URL, "20100101000000")]) as fake:
        fake.fail("available-batch", 429, retry_after=value)
        archive = WaybackArchive(fake.base_url, clock=lambda: clock[0], sleep=sleep)
        query = SnapshotQuery(URL, date(2012, 1, 1))
        try:
            found = archive.nearest([query])[query]
        except RateLimited as limited:  # a huge delay: refused fast, never slept through
            assert limited.retry_after > 300
        else:
            assert found is not None and found.ok
            assert archive.gate.pauses and archive.gate.pauses[0] >= 0


def test_cli_archive_with_retry_after_superscript_two_is_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wikicore.archive.transport as transport_module
    from wikicore.store import Wiki

    monkeypatch.setattr(transport_module, "DEFAULT_RETRY_AFTER", 0.05)  # '²' reads as absent: the default pause

    wiki = Wiki.init(tmp_path / "wiki")
    item = Article.model_validate({"slug": "s", "title": "T", "lead": [{"claims": [{"text": "A."}]}],
                                   "references": [Reference(id="r", url=URL, access_date="2012-01-01")]})
    wiki.save(item, "Add")
    with FakeWayback([Capture(URL, "20100101000000")]) as fake:
        fake.fail("available-batch", 429, retry_after="²", times=10)
        fake.fail("available", 429, retry_after="²", times=10)
        result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "archive", "s", "--wayback-url", fake.base_url])
    assert result.exit_code == 5, result.output  # rate limited as a whole: network failure, never exit 4
    assert "Traceback" not in result.stderr, result.stderr
    assert "asked us to wait" in result.stderr


def test_an_archived_429_from_the_fake_is_a_capture_not_rate_limiting() -> None:
    with FakeWayback([Capture(URL, "20150129034904", status=429)]) as fake:
        archive = WaybackArchive(fake.base_url, gate=quick_gate())
        snap = archive.resolves(f"{fake.base_url}/web/20150129034904/{URL}")
    assert snap is not None and snap.status_code == 429 and archive.gate.pauses == []


# --- save: the capture the answer names, never "first memento" ------------------------------


def spn_answer(handler: BaseHTTPRequestHandler) -> None:
    """Save Page Now as waybackpy's recorded headers show it: links to the first memento too."""
    root = f"http://127.0.0.1:{handler.server.server_address[1]}"
    page = handler.path.split("/save/", 1)[1]
    handler.send_response(200)
    handler.send_header(
        "Link",
        f'<{page}>; rel="original", <{root}/web/timemap/link/{page}>; rel="timemap"; type="application/link-format", '
        f'<{root}/web/20010101000000/{page}>; rel="first memento"; datetime="Mon, 01 Jan 2001 00:00:00 GMT", '
        f'<{root}/web/20240101120000/{page}>; rel="memento"; datetime="Mon, 01 Jan 2024 12:00:00 GMT", '
        f'<{root}/web/20240101120000/{page}>; rel="last memento"; datetime="Mon, 01 Jan 2024 12:00:00 GMT"',
    )
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def test_save_takes_the_memento_not_the_first_memento() -> None:
    with Hostile(spn_answer) as server:
        snap = WaybackArchive(server.base_url, gate=quick_gate()).save(URL)
    assert snap is not None and snap.wayback_timestamp == "20240101120000"


# --- the archive cache: damaged rows, bad paths, locks ------------------------------------------


SNAP = Snapshot(URL, dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC), 200,
                f"https://web.archive.org/web/20200102030405/{URL}")
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def nearest(self, queries: Any) -> dict[SnapshotQuery, Snapshot | None]:
        self.calls += 1
        return {q: SNAP for q in queries}

    def resolves(self, archive_url: str) -> Snapshot | None:
        self.calls += 1
        return SNAP

    def save(self, url: str) -> Snapshot | None:
        return None


@pytest.mark.parametrize(
    ("looked_up_at", "snapshot", "why"),
    [
        ("2026-01-01T00:00:00+00:00", json.dumps({**json.loads('{}'), "original": URL}), "lacks"),
        ("2026-01-01T00:00:00+00:00", "not json at all", "not JSON"),
        ("2026-01-01T00:00:00+00:00", json.dumps({"original": URL, "archive_url": SNAP.archive_url,
                                                  "timestamp": "2020-01-02T03:04:05+00:00",
                                                  "status_code": "abc"}), "not an HTTP status"),
        ("2026-01-01T00:00:00+00:00", json.dumps({"original": URL, "archive_url": SNAP.archive_url,
                                                  "timestamp": "2020-01-02T03:04:05+00:00",
                                                  "status_code": 999}), "not an HTTP status"),
        ("2026-01-01T00:00:00+00:00", json.dumps({"original": URL, "archive_url": SNAP.archive_url,
                                                  "timestamp": "2020-01-02T03:04:05", "status_code": 200}),
         "no time zone"),
        ("yesterday", None, "not an ISO 8601 time"),
        ("2026-01-01T00:00:00", None, "no time zone"),
        ("2026-01-01T00:00:00+00:00", json.dumps([1, 2]), "not a JSON object"),
    ],
)
def test_damaged_cache_rows_are_skipped_reported_and_replaced(
    tmp_path: Path, looked_up_at: str, snapshot: str | None, why: str
) -> None:
    path = tmp_path / "checks.sqlite"
    query = SnapshotQuery(URL, date(2021, 1, 1))
    with ArchiveCache(path, dt.timedelta(days=1), clock=lambda: T0) as cache:
        cache.put_many("nearest", [(URL, query.when, SNAP)])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE archive_lookups SET looked_up_at = ?, snapshot = ?", (looked_up_at, snapshot))
    inner = Counting()
    with ArchiveCache(path, dt.timedelta(days=1), clock=lambda: T0) as cache:
        cached = CachedArchive(inner, cache)
        assert cached.nearest([query]) == {query: SNAP}  # asked again, not crashed
        assert inner.calls == 1 and cache.damaged == 1
        assert cache.first_damage is not None and why in cache.first_damage
        assert cached.nearest([query]) == {query: SNAP} and inner.calls == 1  # the row was replaced


def test_an_audit_reports_damaged_archive_rows_once(tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    refs = [Reference(id=f"r{i}", url=f"http://127.0.0.1:9/{i}", access_date="2012-01-01") for i in range(3)]
    item = Article.model_validate({"slug": "s", "title": "T", "lead": [{"claims": [{"text": "A."}]}],
                                   "references": refs})
    with FakeWayback() as fake:
        archive = WaybackArchive(fake.base_url, gate=quick_gate())
        audit_articles([(item, None)], archive=archive, db_path=path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE archive_lookups SET looked_up_at = 'garbage'")
        report = audit_articles([(item, None)], archive=archive, db_path=path)
    notes = [n for n in report.notes if "damaged archive cache row" in n]
    assert len(notes) == 1 and notes[0].startswith("3 damaged archive cache row(s)")


def test_cache_paths_that_cannot_be_a_cache_are_bad_input(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(InvalidInput, match="cannot create the cache's folder"):
        ArchiveCache(a_file / "checks.sqlite", dt.timedelta(days=1))
    with pytest.raises(InvalidInput, match="must be a regular file"):
        ArchiveCache(tmp_path, dt.timedelta(days=1))
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_bytes(b"\x00" * 4096)
    with pytest.raises(InvalidInput, match="not a"):
        ArchiveCache(not_sqlite, dt.timedelta(days=1))


def test_a_locked_cache_says_it_is_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wikicore.archive.cache as cache_module

    monkeypatch.setattr(cache_module, "LOCK_TIMEOUT", 0.2)
    path = tmp_path / "checks.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(InvalidInput, match="in use by another process"):
            ArchiveCache(path, dt.timedelta(days=1))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture(autouse=True)
def _no_shared_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import wikicore.archive.endpoints as endpoints_module
    import wikicore.archive.gate as gate_module

    monkeypatch.setattr(gate_module, "_SHARED_GATES", {})
    monkeypatch.setattr(endpoints_module, "_OFFERS", {})
    for name in ("AVAILABILITY_REQUESTS_PER_SECOND", "CDX_REQUESTS_PER_SECOND", "SAVE_REQUESTS_PER_SECOND"):
        monkeypatch.setattr(gate_module, name, 1000.0)
    yield


# --- every answer parsed in bounded time; one archive's bad answer is its own problem ------------

# How these tests measure: the parser's own CPU (time.thread_time() in the calling thread),
# never wall time. Other processes on a loaded machine stretch wall time as they like; they
# barely move the CPU a thread spends. The property is linearity, so that is what is
# asserted: CPU for an input four times longer is at most 8x (linear: 4x, measured 3.7x to
# 5.3x for these four inputs; quadratic: 16x, measured 9x to 17x for the old tokenizer even at
# a quarter of the sizes below), each figure the least of 3 runs so that an interrupt or a
# cold cache cannot inflate it. A ceiling on one parse's CPU is only a hang guard, far above
# what a linear parse needs, so that a quadratic regression fails after seconds instead of
# running for minutes (the old tokenizer's 4n parse of open-angles here took 7 s of CPU).

#: CPU seconds one parse may take at most: a hang guard, not a benchmark. A linear parse of
#: these inputs takes milliseconds; the quadratic tokenizer took 1.6 s at 30 KB, 21 s at
#: 120 KB and minutes for the 300 KB TimeMap.
CPU_CEILING = 5.0

#: CPU for 4n over CPU for n at most this: 4 for a linear parser, 16 for a quadratic one.
GROWTH = 8.0


def _least_cpu(work: Callable[[], object], repeat: int) -> float:
    """The least CPU seconds of 3 runs of ``repeat`` calls of ``work``, on this thread."""
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(repeat):
            work()
        spent = time.thread_time() - started
        assert spent / repeat < CPU_CEILING, f"one parse took {spent / repeat:.1f} s of CPU"
        best = min(best, spent)
    return best


def assert_linear(parse: Callable[[str], object], make: Callable[[int], str], n: int) -> None:
    """``parse(make(4 * n))`` costs at most :data:`GROWTH` times the CPU of ``parse(make(n))``.

    A parse of microseconds is repeated (the same number of times at both sizes) until the
    smaller run takes some 20 ms, well above the clock's and the scheduler's grain.
    """
    small, large = make(n), make(4 * n)
    started = time.thread_time()
    parse(small)
    once = time.thread_time() - started
    repeat = max(1, round(0.02 / max(once, 1e-6)))
    cpu_small = _least_cpu(lambda: parse(small), repeat)
    cpu_large = _least_cpu(lambda: parse(large), repeat)
    assert cpu_large <= GROWTH * cpu_small, (
        f"CPU {cpu_small * 1000:.1f} ms for {len(small):,} characters, {cpu_large * 1000:.1f} ms for {len(large):,}"
    )


@pytest.mark.parametrize(
    ("make", "n"),
    [
        # n is a sixteenth of the hostile answer: large enough that a quadratic term dominates
        # (a linear parse of 4n takes at most some 40 ms of CPU), small enough to fail fast.
        (lambda n: "<a " * n, 100_000 // 16),  # every '<' without a '>'
        (lambda n: '<x>; a="' + "\\" * n, 150_000 // 16),  # a quoted value that never closes, escapes to the end
        (lambda n: "<x>; rel=memento; " + " " * n + "=", 300_000 // 16),  # a run of blanks before an unreadable '='
        (lambda n: '<x>; a=" ' * n, 50_000 // 16),  # quoted values opened again and again
    ],
    ids=["open-angles", "open-quote", "blank-run", "reopened-quotes"],
)
def test_link_format_parsing_is_linear(make: Callable[[int], str], n: int) -> None:
    from wikicore.archive.formats import parse_links

    assert_linear(parse_links, make, n)
    # And the hostile answer at its full size (n * 16) is read, within the hang guard.
    _least_cpu(lambda: parse_links(make(n * 16)), 1)


def test_an_answer_at_the_byte_cap_parses_within_the_deadline() -> None:
    """8 MiB, the transport's cap, of well-formed mementos: parsing is part of the request's cost."""
    from wikicore.archive.formats import parse_links
    from wikicore.archive.transport import DEFAULT_MAX_BYTES

    one = f'<{URL}>; rel="memento"; datetime="Mon, 01 Jan 2001 00:00:00 GMT",\n'
    count = DEFAULT_MAX_BYTES // len(one)
    # Linear in the answer's length (an eighth of the cap against a thirty-second: the cap
    # itself three times over would cost more than the rest of this file), then the cap.
    assert_linear(parse_links, lambda k: one * k, count // 32)
    started = time.thread_time()
    links = parse_links(one * count)
    assert time.thread_time() - started < 30  # CPU, a hang guard: a linear parse of 8 MiB takes 1 to 2 s
    assert len(links) == count


def test_link_parsing_still_reads_quoted_commas_escapes_and_stops_at_an_open_angle() -> None:
    from wikicore.archive.formats import parse_links

    links = parse_links('<http://a/1>; rel="prev memento"; title="x, \\"y\\"; z", <http://a/2>; rel=memento, <http://a/')
    assert [link.target for link in links] == ["http://a/1", "http://a/2"]
    assert links[0].rels == {"prev", "memento"} and dict(links[0].attributes)["title"] == 'x, "y"; z'


def timemap_of_open_angles(handler: BaseHTTPRequestHandler) -> None:
    """No availability API, no CDX, and a TimeMap of 300 KB of '<a '."""
    if "/timemap/" not in handler.path:
        handler.send_response(404)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    body = b"<a " * 100_000
    handler.send_response(200)
    handler.send_header("Content-Type", "application/link-format")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_a_timemap_of_open_angle_brackets_is_read_quickly_as_no_capture() -> None:
    with Hostile(timemap_of_open_angles) as server:
        archive = WaybackArchive(server.base_url, gate=quick_gate(), retries=0)
        query = SnapshotQuery(URL, date(2012, 1, 1))
        # The answer is parsed on the archive's pool threads, so this takes the whole
        # process's CPU (not wall time, which other processes stretch): the quadratic
        # tokenizer spent minutes of it on this TimeMap, a linear one milliseconds.
        started = time.process_time()
        found = archive.nearest([query])
        spent = time.process_time() - started
    assert found == {query: None}
    assert spent < CPU_CEILING  # a hang guard; linearity itself is test_link_format_parsing_is_linear's


@pytest.mark.parametrize(
    "value", ["Fri, 31 Dec 9999 23:30:00 -0100", "Fri, 31 Dec 9999 23:59:59 -0001", "Fri, 31 Dec 99999 23:30:00 GMT"]
)
def test_memento_datetimes_past_the_calendar_are_unreadable_not_a_crash(value: str) -> None:
    from wikicore.archive.formats import http_date

    assert http_date(value) is None


@pytest.mark.parametrize(
    "line", ['{"a":' * 100_000, "com,example)/page 20100101000000 " + '{"a":' * 100_000],
    ids=["ndjson", "cdxj"],
)
def test_json_nested_past_the_recursion_limit_is_one_bad_row(line: str) -> None:
    from wikicore.archive.formats import parse_cdx

    good = f"com,example)/page 20100101000000 {URL} text/html 200 X 1"
    assert parse_cdx(line) == []
    assert [row.original for row in parse_cdx(f"{line}\n{good}")] == [URL]


def test_a_json_table_nested_past_the_recursion_limit_is_no_capture() -> None:
    from wikicore.archive.formats import parse_cdx
    from wikicore.archive.transport import Answer

    assert parse_cdx("[" * 100_000) == []
    with pytest.raises(ValueError):
        Answer(URL, 200, {}, b"[" * 100_000).json()


def _answer(handler: BaseHTTPRequestHandler, headers: dict[str, str], body: bytes) -> None:
    handler.send_response(200)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def overflowing_memento_datetime(handler: BaseHTTPRequestHandler) -> None:
    """Every answer claims a capture time that overflows once converted to UTC."""
    _answer(handler, {"Memento-Datetime": "Fri, 31 Dec 9999 23:30:00 -0100", "Content-Type": "application/json"},
            b"{}")


def deep_json(handler: BaseHTTPRequestHandler) -> None:
    """Every availability and CDX answer is 100,000 '['."""
    _answer(handler, {"Content-Type": "application/json"}, b"[" * 100_000)


HOSTILE_ANSWERS = [overflowing_memento_datetime, deep_json]


@pytest.mark.parametrize("route", HOSTILE_ANSWERS, ids=["memento-datetime", "deep-json"])
def test_one_malformed_archive_beside_a_good_one_does_not_sink_the_lookup(route: Route) -> None:
    from wikicore.archive import ArchiveSet

    query = SnapshotQuery(URL, date(2012, 1, 1))
    with FakeWayback([Capture(URL, "20100101000000")]) as good, Hostile(route) as bad:
        several = ArchiveSet([WaybackArchive(good.base_url, gate=quick_gate(), retries=0),
                              WaybackArchive(bad.base_url, gate=quick_gate(), retries=0)])
        found = several.nearest([query])[query]
    assert found is not None and found.wayback_timestamp == "20100101000000"


def test_an_archive_that_fails_beside_a_good_one_is_reported_not_fatal() -> None:
    from wikicore.archive import ArchiveSet

    class Broken:
        base_url = "http://broken.invalid"

        def nearest(self, queries: Any) -> dict[SnapshotQuery, Snapshot | None]:
            raise NetworkError("connection refused")

    query = SnapshotQuery(URL, date(2012, 1, 1))
    with FakeWayback([Capture(URL, "20100101000000")]) as good:
        several = ArchiveSet([WaybackArchive(good.base_url, gate=quick_gate(), retries=0), Broken()])  # type: ignore[list-item]
        assert several.nearest([query])[query] is not None
    assert any("http://broken.invalid failed" in problem for problem in several.problems)  # said, for the notes
    with pytest.raises(NetworkError):  # when every archive fails, the lookup as a whole did
        ArchiveSet([Broken(), Broken()]).nearest([query])  # type: ignore[list-item]


@pytest.mark.parametrize("route", HOSTILE_ANSWERS, ids=["memento-datetime", "deep-json"])
def test_cli_archive_and_audit_with_one_hostile_archive_use_the_good_one(tmp_path: Path, route: Route) -> None:
    from wikicore.store import Wiki

    wiki = Wiki.init(tmp_path / "wiki")
    item = Article.model_validate({"slug": "s", "title": "T", "lead": [{"claims": [{"text": "A."}]}],
                                   "references": [Reference(id="r", url=URL, access_date="2012-01-01")]})
    wiki.save(item, "Add")
    with FakeWayback([Capture(URL, "20100101000000")]) as good, Hostile(route) as bad:
        archives = ["--wayback-url", good.base_url, "--archive", bad.base_url, "--archive-rate", "0"]
        result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "archive", "s", *archives])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.stderr
        assert wiki.load("s").references[0].archive_url is not None


@pytest.mark.parametrize("route", HOSTILE_ANSWERS, ids=["memento-datetime", "deep-json"])
def test_an_audit_with_one_hostile_archive_finds_the_good_ones_capture(route: Route) -> None:
    from wikicore.archive import ArchiveSet

    local = "http://127.0.0.1:9/x"  # refused at once: the link check costs nothing
    item = Article.model_validate({"slug": "s", "title": "T", "lead": [{"claims": [{"text": "A."}]}],
                                   "references": [Reference(id="r", url=local, access_date="2012-01-01")]})
    with FakeWayback([Capture(local, "20100101000000")]) as good, Hostile(route) as bad:
        several = ArchiveSet([WaybackArchive(good.base_url, gate=quick_gate(), retries=0),
                              WaybackArchive(bad.base_url, gate=quick_gate(), retries=0)])
        report = audit_articles([(item, None)], archive=several)
    found = report.articles[0].references[0].archive
    assert found is not None and found.archive == good.base_url
    assert not any("archive lookups failed" in note for note in report.notes)
