"""The Wayback client and the IABot-style rescue, against the loopback FakeWayback.

No test sleeps for real: every client gets a virtual clock whose ``sleep``
advances it, so 60-second pauses are observed, not waited for.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from wikicore.archive import (
    BATCH_SIZE,
    CDX_REQUESTS_PER_SECOND,
    DEFAULT_BASE_URL,
    DEFAULT_RETRY_AFTER,
    MAX_REDIRECTS,
    MAX_RETRY_AFTER,
    Archive,
    ArchiveGate,
    Endpoints,
    RescueAction,
    Snapshot,
    SnapshotQuery,
    WaybackArchive,
    link_health,
    parse_archive_url,
    reference_date,
    rescue_article,
    shared_gate,
    wayback_base_from_env,
)
from wikicore.cli import main
from wikicore.errors import NetworkError, RateLimited
from wikicore.links import LinkDB, Observation
from wikicore.models import Article, Reference, UrlStatus
from wikicore.store import Wiki

from .servers.wayback import Capture, FakeWayback, load_snapshots, surt

URL = "http://example.com/page"


class VirtualTime:
    """A clock and a sleep that advances it; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


def client(base_url: str, vt: VirtualTime, **kwargs: object) -> WaybackArchive:
    gate = kwargs.pop("gate", None) or ArchiveGate(clock=vt.clock, sleep=vt.sleep)
    return WaybackArchive(base_url, gate=gate, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeWayback]:
    captures = [
        Capture(URL, "20100101120000"),
        Capture(URL, "20120301000000", status=404),  # nearer to 2012-06, but an archived error page
        Capture(URL, "20140101000000"),
        Capture("http://example.com/late", "20200101000000"),
        Capture("http://example.com/gone", "20110101000000", status=404),
    ]
    with FakeWayback(captures) as server:
        yield server


# --- parse_archive_url ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://web.archive.org/web/20120528000000/http://example.com/", ("20120528000000", "http://example.com/")),
        (
            "http://web.archive.org/web/20120528123456/https://x.org/a?b=1&c=2#f",
            ("20120528123456", "https://x.org/a?b=1&c=2#f"),
        ),
        ("//web.archive.org/web/20120528000000/http://example.com/", ("20120528000000", "http://example.com/")),
        (
            "https://web.archive.org/web/20120528000000id_/http://example.com/",
            ("20120528000000", "http://example.com/"),
        ),
        (
            "https://web.archive.org/web/20120528000000if_/http://example.com/",
            ("20120528000000", "http://example.com/"),
        ),
        ("https://archive.org/web/20120528000000/http://example.com/", ("20120528000000", "http://example.com/")),
        ("https://web.archive.org/web/2012/http://example.com/", ("20120101000000", "http://example.com/")),
        ("https://web.archive.org/web/20120528000000/example.com/x", ("20120528000000", "http://example.com/x")),
        (
            "https://web.archive.org/web/20120528000000/https:/example.com/x",
            ("20120528000000", "https://example.com/x"),
        ),
        ("https://archive.today/2012.05.28/http://example.com/", None),
        ("https://archive.ph/AbCdE", None),
        ("https://www.webcitation.org/67zE8o6sU", None),
        ("https://web.archive.org/web/*/http://example.com/", None),
        ("https://web.archive.org/web/20121341000000/http://example.com/", None),
        ("https://web.archive.org/", None),
        ("https://example.com/web/20120528000000/http://example.com/", None),
        ("ftp://web.archive.org/web/20120528000000/http://example.com/", None),
        ("not a url", None),
    ],
)
def test_parse_archive_url(link: str, expected: tuple[str, str] | None) -> None:
    parsed = parse_archive_url(link)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        when, original = parsed
        assert (when.strftime("%Y%m%d%H%M%S"), original) == expected
        assert when.tzinfo is UTC


def test_parse_archive_url_under_a_configured_root() -> None:
    base = "http://127.0.0.1:8080/wb"
    assert parse_archive_url(f"{base}/web/20120528000000/http://e.com/", base_url=base) == (
        datetime(2012, 5, 28, tzinfo=UTC),
        "http://e.com/",
    )
    assert parse_archive_url(f"{base}/web/20120528000000/http://e.com/") is None
    assert parse_archive_url("http://127.0.0.1:8080/other/web/2012/http://e.com/", base_url=base) is None


def test_base_url_from_env_and_endpoints() -> None:
    assert wayback_base_from_env({"WIKICORE_WAYBACK_URL": " http://127.0.0.1:9/ "}) == "http://127.0.0.1:9/"
    assert wayback_base_from_env({}) is None
    ia = Endpoints.from_base(DEFAULT_BASE_URL)
    assert ia.available == "https://archive.org/wayback/available"
    assert ia.cdx == "https://web.archive.org/cdx/search/cdx"
    assert Endpoints.from_base("http://archive.org/") == ia
    mine = Endpoints.from_base("http://127.0.0.1:9/root/")
    assert (mine.available, mine.cdx, mine.web, mine.save) == (
        "http://127.0.0.1:9/root/wayback/available",
        "http://127.0.0.1:9/root/cdx/search/cdx",
        "http://127.0.0.1:9/root/web/",
        "http://127.0.0.1:9/root/save/",
    )


def test_snapshot_records() -> None:
    snap = Snapshot(URL, datetime(2012, 5, 28, 23, 0, tzinfo=UTC), 200, f"x/web/20120528230000/{URL}")
    assert snap.distance_days(date(2012, 6, 7)) == 10
    assert snap.distance_days(date(2012, 5, 18)) == 10
    assert snap.wayback_timestamp == "20120528230000"
    with pytest.raises(AttributeError):
        snap.status_code = 404  # type: ignore[misc]
    assert isinstance(WaybackArchive("http://127.0.0.1:9"), Archive)


def test_reference_date_prefers_access_date_and_ends_partial_periods() -> None:
    assert reference_date(Reference(id="r", access_date="2012-05-28", date="2001")) == date(2012, 5, 28)
    assert reference_date(Reference(id="r", access_date="2012-02")) == date(2012, 2, 29)
    assert reference_date(Reference(id="r", date="2001")) == date(2001, 12, 31)
    assert reference_date(Reference(id="r")) is None


# --- nearest ---------------------------------------------------------------------------


def test_nearest_before_then_after_and_only_200(fake: FakeWayback, vt: VirtualTime) -> None:
    archive = client(fake.base_url, vt)
    before = SnapshotQuery(URL, date(2012, 6, 1))
    after = SnapshotQuery(URL, date(2009, 1, 1))
    latest = SnapshotQuery(URL, None)
    only_404 = SnapshotQuery("http://example.com/gone", date(2012, 1, 1))
    never = SnapshotQuery("http://nowhere.example/", date(2012, 1, 1))
    found = archive.nearest([before, after, latest, only_404, never])
    assert found[before] is not None and found[before].wayback_timestamp == "20100101120000"  # not the 404
    assert found[after] is not None and found[after].wayback_timestamp == "20100101120000"
    assert found[latest] is not None and found[latest].wayback_timestamp == "20140101000000"
    assert found[only_404] is None
    assert found[never] is None
    snap = found[before]
    assert snap.status_code == 200
    assert snap.archive_url == f"{fake.base_url}/web/20100101120000/{URL}"
    assert snap.timestamp == datetime(2010, 1, 1, 12, tzinfo=UTC)
    assert fake.counts["available-batch"] == 2  # one before-pass, one after-pass
    assert fake.counts["available"] == 0


def test_same_day_capture_counts_as_before(fake: FakeWayback, vt: VirtualTime) -> None:
    query = SnapshotQuery(URL, date(2010, 1, 1))  # captured at noon that day
    assert client(fake.base_url, vt).nearest([query])[query].wayback_timestamp == "20100101120000"  # type: ignore[union-attr]


def test_batch_keeps_within_the_documented_size_and_tags(vt: VirtualTime) -> None:
    urls = [f"http://site{i}.example/" for i in range(BATCH_SIZE + 5)]
    with FakeWayback(Capture(u, "20100101000000") for u in urls) as server:
        found = client(server.base_url, vt).nearest([SnapshotQuery(u, date(2011, 1, 1)) for u in urls])
        assert server.counts["available-batch"] == 2
    assert all(snap is not None and snap.original == query.url for query, snap in found.items())


def test_budget_200_references_cost_at_most_4_requests(vt: VirtualTime) -> None:
    """≤ 0.02 archive requests per reference: 180 found before, 20 only after, 0 CDX."""
    urls = [f"http://news{i}.example/story" for i in range(200)]
    captures = [Capture(u, "20100101000000" if i < 180 else "20160101000000") for i, u in enumerate(urls)]
    with FakeWayback(captures) as server:
        archive = client(server.base_url, vt)
        found = archive.nearest([SnapshotQuery(u, date(2015, 1, 1)) for u in urls])
        assert server.counts["cdx"] == 0
        assert server.total_requests() == archive.requests_made
    assert sum(snap is not None for snap in found.values()) == 200
    assert archive.requests_made <= 4
    assert archive.requests_made / 200 <= 0.02


def test_fallback_to_single_gets_when_there_is_no_batch_endpoint(vt: VirtualTime) -> None:
    with FakeWayback([Capture(URL, "20100101000000")], batch=False) as server:
        archive = client(server.base_url, vt)
        query = SnapshotQuery(URL, date(2012, 1, 1))
        found = archive.nearest([query, SnapshotQuery("http://none.example/", date(2012, 1, 1))])
        assert found[query] is not None and found[query].wayback_timestamp == "20100101000000"
        assert server.counts["available-batch"] == 1  # a 404: not asked again
        assert server.counts["available"] == 3  # two before, one after (the miss)
    assert archive.batch_failures == 1 and archive.batch_unsupported


def test_fallback_when_the_batch_endpoint_errors(fake: FakeWayback, vt: VirtualTime) -> None:
    fake.fail("available-batch", 500, times=3)  # first try and both retries
    query = SnapshotQuery(URL, date(2012, 6, 1))
    found = client(fake.base_url, vt).nearest([query])
    assert found[query] is not None and found[query].wayback_timestamp == "20100101120000"
    assert fake.counts["available"] == 1


def test_cdx_widens_what_the_availability_api_misses(vt: VirtualTime) -> None:
    captures = [Capture(URL, "20100101000000"), Capture(URL, "20120701000000"), Capture(URL, "20120601000000", 404)]
    with FakeWayback(captures, availability_misses=[URL]) as server:
        query = SnapshotQuery(URL, date(2012, 6, 15))
        found = client(server.base_url, vt).nearest([query])
        assert server.counts["cdx"] == 1
        cdx_path = next(p for m, p in server.log if p.startswith("/cdx/"))
    # nearer after (2012-07-01) loses to the one before; the archived 404 is skipped
    assert found[query] is not None and found[query].wayback_timestamp == "20100101000000"
    assert "sort=closest" in cdx_path and "filter=statuscode%3A200" in cdx_path and "closest=20120615235959" in cdx_path


def test_cdx_calls_are_rate_limited_process_wide(vt: VirtualTime) -> None:
    assert CDX_REQUESTS_PER_SECOND == 0.4  # 80% of IA's 30 requests a minute
    urls = [f"http://m{i}.example/" for i in range(3)]
    with FakeWayback([Capture(u, "20100101000000") for u in urls], availability_misses=urls) as server:
        client(server.base_url, vt).nearest([SnapshotQuery(u, date(2012, 1, 1)) for u in urls])
        assert server.counts["cdx"] == 3
    assert vt.now >= 2 * (1 / CDX_REQUESTS_PER_SECOND)
    assert shared_gate("http://127.0.0.1:1/a") is shared_gate("http://127.0.0.1:1/b")


def test_cdx_lookups_per_call_are_capped(vt: VirtualTime) -> None:
    urls = [f"http://n{i}.example/" for i in range(5)]
    with FakeWayback() as server:
        client(server.base_url, vt, max_cdx_lookups=2).nearest([SnapshotQuery(u, date(2012, 1, 1)) for u in urls])
        assert server.counts["cdx"] == 2


def test_non_http_urls_are_not_looked_up(fake: FakeWayback, vt: VirtualTime) -> None:
    query = SnapshotQuery("ftp://example.com/file", date(2012, 1, 1))
    assert client(fake.base_url, vt).nearest([query]) == {query: None}
    assert fake.total_requests() == 0


# --- 429, retries, timeouts ------------------------------------------------------------


def test_429_pauses_for_retry_after_then_succeeds(fake: FakeWayback, vt: VirtualTime) -> None:
    fake.fail("available-batch", 429, retry_after=7)
    archive = client(fake.base_url, vt)
    query = SnapshotQuery(URL, date(2012, 6, 1))
    assert archive.nearest([query])[query] is not None
    assert archive.gate.pauses == [7.0]
    assert vt.sleeps[0] == 7.0


def test_429_without_retry_after_pauses_60_seconds(vt: VirtualTime) -> None:
    with FakeWayback([Capture(URL, "20100101000000")], availability_misses=[URL]) as server:
        server.fail("cdx", 429)
        archive = client(server.base_url, vt)
        query = SnapshotQuery(URL, date(2012, 1, 1))
        assert archive.nearest([query])[query] is not None
    assert archive.gate.pauses == [DEFAULT_RETRY_AFTER] == [60.0]
    assert 60.0 in vt.sleeps


def test_429_retry_after_as_http_date(fake: FakeWayback, vt: VirtualTime) -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    fake.fail("available-batch", 429, retry_after="Mon, 01 Jan 2024 12:00:30 GMT")
    archive = client(fake.base_url, vt, now=lambda: now)
    archive.nearest([SnapshotQuery(URL, date(2012, 6, 1))])
    assert archive.gate.pauses == [30.0]


def test_429_pauses_every_archive_call_of_the_host(fake: FakeWayback, vt: VirtualTime) -> None:
    """A 429 on Save Page Now holds the playback calls of another client sharing the gate."""
    gate = ArchiveGate(clock=vt.clock, sleep=vt.sleep)
    saver = client(fake.base_url, vt, gate=gate, retries=0)
    checker = client(fake.base_url, vt, gate=gate)
    fake.fail("save", 429, retry_after=45)
    with pytest.raises(RateLimited) as caught:
        saver.save("http://example.com/new")
    assert caught.value.retry_after == 45
    assert vt.now == 0.0  # nothing slept yet: the pause lies ahead of the next call
    assert checker.resolves(f"https://web.archive.org/web/20100101120000/{URL}") is not None
    assert vt.sleeps[0] == 45.0
    assert vt.now >= 45.0


def test_persistent_429_raises_rate_limited_after_bounded_retries(fake: FakeWayback, vt: VirtualTime) -> None:
    fake.fail("available-batch", 429, retry_after=2, times=10)
    archive = client(fake.base_url, vt, retries=2)
    with pytest.raises(RateLimited):
        archive.nearest([SnapshotQuery(URL, date(2012, 1, 1))])
    assert fake.counts["available-batch"] == 3
    assert archive.requests_made == 3


def test_very_long_retry_after_is_not_slept_through(fake: FakeWayback, vt: VirtualTime) -> None:
    fake.fail("available-batch", 429, retry_after=3600)
    archive = client(fake.base_url, vt)
    with pytest.raises(RateLimited) as caught:
        archive.nearest([SnapshotQuery(URL, date(2012, 1, 1))])
    assert caught.value.retry_after == 3600
    assert archive.gate.pauses == [3600] and 3600 > MAX_RETRY_AFTER
    assert fake.counts["available-batch"] == 1
    vt.now += 3000  # later calls fail fast, without a request, until the hour is over
    with pytest.raises(RateLimited) as again:
        archive.resolves(f"https://web.archive.org/web/20100101120000/{URL}")
    assert again.value.retry_after == pytest.approx(600)
    assert fake.total_requests() == 1
    assert vt.sleeps == []
    vt.now += 600
    assert archive.resolves(f"https://web.archive.org/web/20100101120000/{URL}") is not None


def test_5xx_is_retried_with_backoff(fake: FakeWayback, vt: VirtualTime) -> None:
    fake.fail("web", 503, times=2)
    assert client(fake.base_url, vt).resolves(f"https://web.archive.org/web/20100101120000/{URL}") is not None
    # The network layer's retry policy: 1 s then 2 s, each with up to a quarter of jitter.
    assert 1.0 <= vt.sleeps[0] <= 1.25 and 2.0 <= vt.sleeps[1] <= 2.5 and len(vt.sleeps) == 2


def test_timeouts_raise_network_error(vt: VirtualTime) -> None:
    with FakeWayback([Capture(URL, "20100101000000")], latency=0.5) as server:
        archive = client(server.base_url, vt, timeout=(1.0, 0.1), retries=1)
        with pytest.raises(NetworkError):
            archive.nearest([SnapshotQuery(URL, date(2012, 1, 1))])
        assert archive.requests_made == 2


def test_unreachable_archive_raises_network_error_quickly(vt: VirtualTime) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    archive = client(f"http://127.0.0.1:{port}", vt, retries=1)
    with pytest.raises(NetworkError):
        archive.nearest([SnapshotQuery(URL, date(2012, 1, 1)) for _ in range(50)])
    assert archive.requests_made == 2  # no per-URL fallback storm against a dead host


# --- resolves and save -----------------------------------------------------------------


def test_resolves_good_and_bad_links(fake: FakeWayback, vt: VirtualTime) -> None:
    archive = client(fake.base_url, vt)
    exact = archive.resolves(f"https://web.archive.org/web/20100101120000/{URL}")
    assert exact is not None and exact.status_code == 200
    assert exact.timestamp == datetime(2010, 1, 1, 12, tzinfo=UTC)
    inexact = archive.resolves(f"{fake.base_url}/web/2010/{URL}")  # redirected to the capture
    assert inexact is not None and inexact.wayback_timestamp == "20100101120000"
    archived_404 = archive.resolves(f"https://web.archive.org/web/20120301000000/{URL}")
    # An archived 404 is a capture of an error page: reported as such, not as "no capture".
    assert archived_404 is not None and archived_404.status_code == 404 and not archived_404.ok
    assert archived_404.timestamp == datetime(2012, 3, 1, tzinfo=UTC)
    assert archive.resolves("https://web.archive.org/web/20120301000000/http://never.example/") is None
    requests_so_far = archive.requests_made
    assert archive.resolves("https://archive.ph/AbCdE") is None
    assert archive.resolves("https://example.com/not-an-archive") is None
    assert archive.requests_made == requests_so_far


def test_resolves_follows_an_archived_redirect(vt: VirtualTime) -> None:
    captures = [
        Capture("http://old.example/", "20150101000000", status=301, location="https://new.example/"),
        Capture("https://new.example/", "20150101000005"),
    ]
    with FakeWayback(captures) as server:
        snap = client(server.base_url, vt).resolves("https://web.archive.org/web/20150101000000/http://old.example/")
    assert snap is not None and snap.original == "https://new.example/"


def test_resolves_gives_up_on_a_redirect_loop(vt: VirtualTime) -> None:
    captures = [
        Capture("http://a.example/", "20150101000000", status=301, location="http://b.example/"),
        Capture("http://b.example/", "20150101000000", status=302, location="http://a.example/"),
    ]
    with FakeWayback(captures) as server:
        archive = client(server.base_url, vt)
        assert archive.resolves("https://web.archive.org/web/20150101000000/http://a.example/") is None
        assert server.counts["web"] == MAX_REDIRECTS + 1


def test_save_page_now(fake: FakeWayback, vt: VirtualTime) -> None:
    archive = client(fake.base_url, vt)
    snap = archive.save("http://example.com/fresh")
    assert snap is not None
    assert fake.saved == ["http://example.com/fresh"]
    assert snap.archive_url.startswith(f"{fake.base_url}/web/")
    assert archive.resolves(snap.archive_url) is not None
    query = SnapshotQuery("http://example.com/fresh", None)
    assert archive.nearest([query])[query] is not None
    assert archive.save("mailto:someone@example.com") is None


def test_save_page_now_is_rate_limited(fake: FakeWayback, vt: VirtualTime) -> None:
    archive = client(fake.base_url, vt)
    archive.save("http://example.com/one")
    archive.save("http://example.com/two")
    assert vt.now >= 10.0  # 6 a minute


# --- rescue_article ---------------------------------------------------------------------


def _article(*refs: Reference) -> Article:
    return Article(slug="test-article", title="Test article", references=list(refs))


def test_rescue_fills_archive_fields_from_nearest_before(fake: FakeWayback, vt: VirtualTime) -> None:
    article = _article(
        Reference(id="cited", url=URL, access_date="2012-06-01"),
        Reference(id="dated", url="http://example.com/late", date="2019"),  # only a capture after
        Reference(id="kept", url=URL, archive_url="https://web.archive.org/web/2005/http://example.com/page"),
        Reference(id="book", title="A book", isbn="9780306406157"),
        Reference(id="lost", url="http://never.example/", access_date="2012-01-01"),
        Reference(id="live", url="http://example.com/page?live", access_date="2015-01-01"),
        Reference(id="dead", url="http://example.com/page?dead", access_date="2015-01-01"),
        Reference(id="said", url="http://example.com/page?said", access_date="2015-01-01", url_status=UrlStatus.DEAD),
    )
    for suffix in ("live", "dead", "said"):
        fake.add(Capture(f"{URL}?{suffix}", "20141231000000"))
    archive = client(fake.base_url, vt)
    result = rescue_article(
        article,
        archive,
        live_urls={"http://example.com/page?live", "http://example.com/page?said"},
        dead_urls={"http://example.com/page?dead"},
    )
    refs = {r.id: r for r in result.article.references}
    assert refs["cited"].archive_url == f"{fake.base_url}/web/20100101120000/{URL}"
    assert refs["cited"].archive_date == "2010-01-01"
    assert refs["cited"].url_status is None  # liveness unknown: no claim either way
    assert refs["dated"].archive_date == "2020-01-01"
    assert refs["kept"] == article.references[2]
    assert refs["book"] == article.references[3]
    assert refs["lost"].archive_url is None
    assert refs["live"].url_status == UrlStatus.LIVE
    assert refs["dead"].url_status == UrlStatus.DEAD
    assert refs["said"].url_status == UrlStatus.DEAD  # the editor's word stands
    # The one the article marks dead comes first, then reading order.
    assert [c.ref_id for c in result.changes] == ["said", "cited", "dated", "live", "dead"]
    assert {c.action for c in result.changes} == {RescueAction.FOUND}
    assert result.missing == ("lost",)
    assert article.references[0].archive_url is None  # the input is untouched
    assert Article.model_validate(result.article.model_dump()) == result.article
    message = result.message()
    assert "cited: http://example.com/page ->" in message and "No capture found for: lost" in message
    assert archive.requests_made <= 3


def test_rescue_saves_pages_not_known_dead(vt: VirtualTime) -> None:
    article = _article(
        Reference(id="fresh", url="http://fresh.example/", access_date="2024-01-01"),
        Reference(id="unknown", url="http://unknown.example/", access_date="2024-01-01"),
        Reference(id="again", url="http://unknown.example/", access_date="2023-01-01"),
        Reference(id="gone", url="http://gone.example/", access_date="2024-01-01"),
    )
    with FakeWayback() as server:
        archive = client(server.base_url, vt)
        result = rescue_article(
            article,
            archive,
            save_missing=True,
            live_urls={"http://fresh.example/"},
            dead_urls={"http://gone.example/"},
        )
        assert server.saved == ["http://fresh.example/", "http://unknown.example/"]  # one save per page
    refs = {r.id: r for r in result.article.references}
    assert refs["fresh"].archive_url is not None and refs["fresh"].url_status == UrlStatus.LIVE
    # liveness unknown before, but a 200 capture made just now shows the page is live
    assert refs["unknown"].url_status == UrlStatus.LIVE
    assert refs["again"].archive_url == refs["unknown"].archive_url
    assert refs["gone"].archive_url is None and refs["gone"].url_status is None
    assert [(c.ref_id, c.action) for c in result.changes] == [
        ("fresh", RescueAction.SAVED),
        ("unknown", RescueAction.SAVED),
        ("again", RescueAction.SAVED),
    ]
    assert result.skipped == ("gone",)
    assert result.missing == ("gone",)
    assert result.save_error is None
    assert vt.now >= 10.0  # two saves, at most six a minute


def test_rescue_keeps_what_it_found_when_saving_fails(fake: FakeWayback, vt: VirtualTime) -> None:
    article = _article(
        Reference(id="found", url=URL, access_date="2012-06-01"),
        Reference(id="new1", url="http://new1.example/"),
        Reference(id="new2", url="http://new2.example/"),
    )
    fake.fail("save", 429, retry_after=3600)
    result = rescue_article(article, client(fake.base_url, vt), save_missing=True)
    assert [c.ref_id for c in result.changes] == ["found"]
    assert result.missing == ("new1", "new2")
    assert result.save_error is not None and "3600" in result.save_error
    assert fake.counts["save"] == 1  # gave up instead of hammering a rate-limited archive


def test_rescue_ignores_a_save_that_captured_an_error_page(vt: VirtualTime) -> None:
    article = _article(Reference(id="r", url="http://broken.example/", access_date="2024-01-01"))
    with FakeWayback(save_status={"http://broken.example/": 404}) as server:
        result = rescue_article(article, client(server.base_url, vt), save_missing=True)
        assert server.saved == ["http://broken.example/"]
    assert result.changes == ()
    assert result.article.references[0].archive_url is None
    assert result.missing == ("r",)


def test_rescue_with_nothing_to_do_makes_no_requests(fake: FakeWayback, vt: VirtualTime) -> None:
    article = _article(
        Reference(id="b", title="Book"),
        Reference(id="s", url="https://web.archive.org/web/2010/http://example.com/page"),  # already a snapshot
        Reference(id="f", url="ftp://example.com/file"),
    )
    result = rescue_article(article, client(fake.base_url, vt))
    assert result.article is article and result.changes == ()
    assert fake.total_requests() == 0


def test_link_health_reads_the_audit_history(tmp_path: Path) -> None:
    db_path = tmp_path / "checks.sqlite"
    assert link_health(db_path, ["http://a.example/"]) == (set(), set())
    assert not db_path.exists()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with LinkDB(db_path) as db:
        db.record(Observation("http://live.example/", start, "live"))
        db.record(Observation("http://once.example/", start, "dead"))
        for day in (0, 4, 8):
            db.record(Observation("http://gone.example/", start + timedelta(days=day), "dead"))
        db.record(Observation("http://back.example/", start, "dead"))
        db.record(Observation("http://back.example/", start + timedelta(days=1), "live"))
    urls = ["http://live.example/", "http://once.example/", "http://gone.example/", "http://back.example/"]
    assert link_health(db_path, urls) == ({"http://live.example/", "http://back.example/"}, {"http://gone.example/"})


def test_surt_keys_match_wayback_canonicalisation() -> None:
    assert surt("http://www.nasa.gov:80/") == "gov,nasa)/"
    assert surt("https://Example.com/A/") == surt("http://example.com/a") == "com,example)/a"


# --- the CLI: `wikicore archive` ----------------------------------------------------------


@pytest.fixture(autouse=False)
def fast_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI uses the real process-wide gates: lift their intervals so tests do not wait 10 s."""
    import wikicore.archive.endpoints as endpoints_module
    import wikicore.archive.gate as gate_module
    import wikicore.archive.wayback as wayback_module

    monkeypatch.setattr(gate_module, "_SHARED_GATES", {})
    monkeypatch.setattr(endpoints_module, "_OFFERS", {})  # what each (reused) port offered is forgotten
    for name in ("AVAILABILITY_REQUESTS_PER_SECOND", "CDX_REQUESTS_PER_SECOND", "SAVE_REQUESTS_PER_SECOND"):
        monkeypatch.setattr(gate_module, name, 1000.0)
    monkeypatch.setattr(wayback_module, "SELF_HOSTED_CDX_REQUESTS_PER_SECOND", 1000.0)


@pytest.fixture
def wiki(tmp_path: Path, fast_gates: None) -> Wiki:
    w = Wiki.init(tmp_path / "wiki")
    article = _article(
        Reference(id="cited", url=URL, access_date="2012-06-01"),
        Reference(id="lost", url="http://never.example/", access_date="2012-01-01"),
        Reference(id="book", title="A book"),
    )
    w.save(article, "Add test article")
    return w


def test_cli_archive_writes_a_reviewable_commit(wiki: Wiki, fake: FakeWayback, runner: CliRunner) -> None:
    before = wiki.latest("test-article")
    assert before is not None
    with LinkDB(wiki.state_dir / "checks.sqlite") as db:
        db.record(Observation(URL, datetime.now(UTC), "live"))
    result = runner.invoke(
        main,
        ["--wiki", str(wiki.path), "archive", "test-article", "--author", "Bot <bot@example.org>"],
        env={"WIKICORE_WAYBACK_URL": fake.base_url},
    )
    assert result.exit_code == 0, result.output
    archive_url = f"{fake.base_url}/web/20100101120000/{URL}"
    assert f"cited: {URL} -> {archive_url} (found 2010-01-01 at {fake.base_url})" in result.stdout
    after = wiki.latest("test-article")
    assert after is not None and after.id != before.id
    assert after.author == "Bot"
    assert after.message.startswith("Archive links for 1 reference(s) of test-article")
    assert f"- cited: {URL} -> {archive_url}" in after.message
    assert "No capture found for: lost" in after.message
    cited = wiki.load("test-article").reference("cited")
    assert cited is not None
    assert (cited.archive_url, cited.archive_date, cited.url_status) == (archive_url, "2010-01-01", UrlStatus.LIVE)
    assert "no capture for 1 reference(s): lost" in result.stderr

    again = runner.invoke(main, ["--wiki", str(wiki.path), "archive", "test-article", "--wayback-url", fake.base_url])
    assert again.exit_code == 0
    assert "nothing to archive" in again.stdout
    assert wiki.latest("test-article") == after  # no empty commit


def test_cli_archive_save_and_message(wiki: Wiki, runner: CliRunner) -> None:
    with FakeWayback() as server:
        result = runner.invoke(
            main,
            [
                "--wiki",
                str(wiki.path),
                "archive",
                "test-article",
                "--save",
                "-m",
                "Rescue links",
                "--wayback-url",
                server.base_url,
            ],
        )
        assert sorted(server.saved) == [URL, "http://never.example/"]
    assert result.exit_code == 0, result.output
    latest = wiki.latest("test-article")
    assert latest is not None and latest.message.startswith("Rescue links\n\n- cited:")
    assert "(saved " in latest.message


def test_cli_archive_bad_input(wiki: Wiki, runner: CliRunner) -> None:
    bad_url = runner.invoke(main, ["--wiki", str(wiki.path), "archive", "test-article", "--wayback-url", "ftp://x"])
    assert bad_url.exit_code == 2 and "archive url 'ftp://x'" in bad_url.stderr
    with FakeWayback() as server:
        unknown = runner.invoke(
            main, ["--wiki", str(wiki.path), "archive", "no-such", "--wayback-url", server.base_url]
        )
        assert server.total_requests() == 0
    assert unknown.exit_code == 2


def test_cli_archive_has_help_with_an_example(runner: CliRunner) -> None:
    result = runner.invoke(main, ["archive", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "--wayback-url" in result.output and "--save" in result.output


# --- the fake server itself -------------------------------------------------------------


def test_fake_cdx_parameters(fake: FakeWayback) -> None:
    def cdx(query: str) -> list[list[str]]:
        response = requests.get(f"{fake.base_url}/cdx/search/cdx?{query}", timeout=5)
        assert response.status_code == 200
        return [line.split(" ") for line in response.text.splitlines()]

    assert [r[1] for r in cdx(f"url={URL}")] == ["20100101120000", "20120301000000", "20140101000000"]
    assert [r[1] for r in cdx(f"url={URL}&from=2011&to=2013")] == ["20120301000000"]
    assert [r[1] for r in cdx(f"url={URL}&filter=statuscode:200&limit=-1")] == ["20140101000000"]
    assert [r[1] for r in cdx(f"url={URL}&filter=!statuscode:200")] == ["20120301000000"]
    assert [r[1] for r in cdx(f"url={URL}&closest=20120401&sort=closest&limit=2")] == [
        "20120301000000",
        "20140101000000",  # 640 days after, against 2010's 820 before
    ]
    assert cdx(f"url={URL}&sort=reverse&limit=1&fl=timestamp,statuscode") == [["20140101000000", "200"]]
    assert len(cdx("url=example.com/&matchType=prefix")) == 5
    as_json = requests.get(f"{fake.base_url}/cdx/search/cdx?url={URL}&output=json&limit=1", timeout=5).json()
    assert as_json[0] == ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    assert as_json[1][:5] == ["com,example)/page", "20100101120000", URL, "text/html", "200"]


def test_fake_snapshot_files_and_injection() -> None:
    captures = load_snapshots({"http://a.example/": ["2010", {"timestamp": "20120101000000", "status": 404}]})
    assert [(c.timestamp, c.status) for c in captures] == [("20100101000000", 200), ("20120101000000", 404)]
    assert load_snapshots([{"url": "http://b.example/", "timestamp": "20200101000000"}])[0].url == "http://b.example/"
    with FakeWayback(captures) as server:
        with pytest.raises(ValueError, match="unknown endpoint"):
            server.fail("nope")
        server.fail("web", 503, retry_after=5)
        first = requests.get(f"{server.base_url}/web/2010/http://a.example/", allow_redirects=False, timeout=5)
        second = requests.get(f"{server.base_url}/web/2010/http://a.example/", allow_redirects=False, timeout=5)
        assert (first.status_code, first.headers["Retry-After"]) == (503, "5")
        assert second.status_code == 302
        assert server.counts["web"] == 2


def test_cli_archive_without_link_history_claims_nothing(wiki: Wiki, fake: FakeWayback, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--wiki", str(wiki.path), "archive", "test-article", "--wayback-url", fake.base_url])
    assert result.exit_code == 0, result.output
    cited = wiki.load("test-article").reference("cited")
    assert cited is not None and cited.archive_url is not None and cited.url_status is None
    assert "liveness unknown for cited" in result.stderr


def test_cli_archive_shows_progress_on_a_terminal_only(wiki: Wiki, fake: FakeWayback, runner: CliRunner) -> None:
    """On a terminal (a pty) stderr gets a progress line and a summary; piped, only the summary."""
    import os
    import pty
    import subprocess
    import sys

    piped = runner.invoke(
        main, ["--wiki", str(wiki.path), "archive", "test-article"], env={"WIKICORE_WAYBACK_URL": fake.base_url}
    )
    assert piped.exit_code == 0, piped.output
    assert "looking up" not in piped.stderr
    assert "test-article: 1 found, 0 saved, 1 without a capture" in piped.stderr
    wiki.save(wiki.load("test-article").model_copy(update={"references": wiki.load("test-article").references[:2]}),
              "Again", base=wiki.latest("test-article").id)  # nothing to rescue now but the lost one
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "wikicore", "--wiki", str(wiki.path), "archive", "test-article",
             "--wayback-url", fake.base_url],
            stdout=subprocess.PIPE, stderr=follower, timeout=120, check=False,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    text = shown.decode("utf-8", "replace")
    assert done.returncode == 0, text
    assert "\rlooking up 0/1 reference url(s)" in text and "looking up 1/1" in text
    assert "test-article: 0 found, 0 saved, 1 without a capture" in text


# --- evidence wins --------------------------------------------------------------------------


def _audited(db_path: Path, when: datetime, *observations: tuple[str, str, int | None]) -> None:
    """Record one audit's verdicts, as ``wikicore audit`` writes them to the link history."""
    with LinkDB(db_path) as db:
        for url, status, http_status in observations:
            db.record(Observation(url, when, status, http_status))


def test_archive_save_never_calls_live_what_the_audit_just_found_failing(tmp_path: Path, vt: VirtualTime) -> None:
    """The audit found 410, 404 and 403 (once: not yet confirmed dead); ``archive --save`` must not
    save those pages, date their archive today, or write ``url_status: live`` over that evidence."""
    from wikicore.audit.archiving import archive_article

    gone, missing, walled, fine = (f"http://{name}.example/report" for name in ("gone", "missing", "walled", "fine"))
    article = _article(
        Reference(id="gone", url=gone, access_date="2018-03-01"),
        Reference(id="missing", url=missing, access_date="2018-03-01"),
        Reference(id="walled", url=walled, access_date="2018-03-01"),
        Reference(id="fine", url=fine, access_date="2018-03-01"),
    )
    with Wiki.init(tmp_path / "w") as wiki, FakeWayback() as server:
        wiki.save(article, "Add the article")
        _audited(wiki.checks_path, datetime(2026, 1, 5, tzinfo=UTC),
                 (gone, "dead", 410), (missing, "dead", 404), (walled, "blocked", 403), (fine, "live", 200))
        outcome = archive_article(wiki, article.slug, client(server.base_url, vt), save_missing=True)
        assert server.saved == [fine]  # a capture of a failing page is a capture of its error page
        refs = {r.id: r for r in wiki.load(article.slug).references}
    for ref_id in ("gone", "missing", "walled"):
        assert refs[ref_id].url_status is None and refs[ref_id].archive_url is None, ref_id
    assert refs["fine"].url_status == UrlStatus.LIVE
    assert outcome.rescue.skipped == ("gone", "missing", "walled")
    assert "3 not saved (known dead or failing)" in outcome.rescue.summary()


def test_a_found_capture_of_a_failing_page_does_not_make_it_live(fake: FakeWayback, vt: VirtualTime) -> None:
    article = _article(Reference(id="r", url=URL, access_date="2012-06-01"))
    result = rescue_article(article, client(fake.base_url, vt), live_urls={URL}, failing_urls={URL})
    (ref,) = result.article.references
    assert ref.archive_url is not None and ref.url_status is None


def test_the_capture_nearest_before_the_access_date_beats_a_new_save(vt: VirtualTime) -> None:
    url = "http://cited.example/page"
    article = _article(Reference(id="r", url=url, access_date="2018-06-01"))
    captures = [Capture(url, "20170101000000"), Capture(url, "20180701000000"), Capture(url, "20250101000000")]
    with FakeWayback(captures) as server:
        result = rescue_article(article, client(server.base_url, vt), save_missing=True, live_urls={url})
        assert server.saved == []
    (ref,) = result.article.references
    assert ref.archive_date == "2017-01-01"
    assert [c.action for c in result.changes] == [RescueAction.FOUND]


def test_references_marked_dead_are_rescued_first_and_never_saved(vt: VirtualTime) -> None:
    marked = "http://marked.example/gone"
    article = _article(
        Reference(id="plain", url="http://plain.example/", access_date="2020-01-01"),
        Reference(id="marked", url=marked, access_date="2015-01-01", url_status=UrlStatus.DEAD),
        Reference(id="lost", url="http://lost.example/", access_date="2015-01-01", url_status=UrlStatus.DEAD),
    )
    with FakeWayback([Capture(marked, "20141201000000"), Capture("http://plain.example/", "20191201000000")]) as server:
        result = rescue_article(article, client(server.base_url, vt), save_missing=True)
        assert server.saved == []  # the wiki says the page is dead: a save would archive its error page
    assert [c.ref_id for c in result.changes] == ["marked", "plain"]
    refs = {r.id: r for r in result.article.references}
    assert refs["marked"].archive_date == "2014-12-01" and refs["marked"].url_status == UrlStatus.DEAD
    assert result.skipped == ("lost",) and result.missing == ("lost",)


def test_link_evidence_tells_failing_from_confirmed_dead(tmp_path: Path) -> None:
    from wikicore.archive.rescue import LinkEvidence, link_evidence

    db_path = tmp_path / "checks.sqlite"
    assert link_evidence(db_path, ["http://a.example/"]) == LinkEvidence()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    _audited(db_path, start, ("http://live.example/", "live", 200), ("http://once.example/", "dead", 410),
             ("http://wall.example/", "blocked", 403), ("http://soft.example/", "soft-404", 200),
             ("http://slow.example/", "error", None))
    for day in (0, 4, 8):
        _audited(db_path, start + timedelta(days=day), ("http://gone.example/", "dead", 404))
    evidence = link_evidence(db_path, ["http://live.example/", "http://once.example/", "http://wall.example/",
                                       "http://soft.example/", "http://slow.example/", "http://gone.example/"])
    assert evidence.live == {"http://live.example/"}
    assert evidence.dead == {"http://gone.example/"}
    assert evidence.failing == {"http://once.example/", "http://wall.example/", "http://soft.example/",
                                "http://slow.example/", "http://gone.example/"}
