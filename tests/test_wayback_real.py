"""Recorded real Wayback answers (EDGI ``wayback`` 0.5.1 cassettes) through our client and parser.

The recordings are fetched into a cache outside the repository by
``tests/support/realdata.py``; without the package registry these tests skip.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from tests.support.realdata import Interaction, ReplayServer, cassettes_dir, load_cassette
from wikicore.archive import SnapshotQuery, WaybackArchive, parse_cdx_lines, parse_links

from .servers.wayback import BLOCKED_BODY, Capture, FakeWayback


@pytest.fixture(scope="module", autouse=True)
def _recordings() -> None:
    cassettes_dir()  # skips the module cleanly when the recordings cannot be fetched


def _client(base_url: str) -> WaybackArchive:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return WaybackArchive(base_url, clock=lambda: clock[0], sleep=sleep)


def _seven_field_lines(body: bytes) -> list[list[str]]:
    return [line.split(" ") for line in body.decode().splitlines() if len(line.split(" ")) == 7]


@pytest.mark.parametrize(
    "name",
    ["test_search.yaml", "test_search_with_filter.yaml", "test_search_with_date.yaml", "test_search_multipage.yaml"],
)
def test_real_cdx_answers_parse_completely(name: str) -> None:
    total = 0
    for recorded in load_cassette(name):
        if not recorded.path.startswith("/cdx/") or recorded.status != 200:
            continue
        expected = _seven_field_lines(recorded.body)
        rows = parse_cdx_lines(recorded.body.decode())
        assert len(rows) == len(expected)
        total += len(rows)
        for row, fields in zip(rows, expected, strict=True):
            assert [row.urlkey, row.timestamp, row.original, row.statuscode] == [fields[i] for i in (0, 1, 2, 4)]
            assert row.datetime_timestamp.year >= 1996
    assert total > 0


def test_real_cdx_through_the_client_after_availability_is_missing() -> None:
    """The replay server has no availability API: batch, then single GETs, then CDX, on real bytes."""
    interactions = load_cassette("test_search.yaml")
    lines = _seven_field_lines(interactions[0].body)
    target = "19970115235959"
    expected = max(f[1] for f in lines if f[1] <= target and f[4] == "200")
    with ReplayServer(interactions) as replay:
        archive = _client(replay.base_url)
        query = SnapshotQuery("http://nasa.gov/", date(1997, 1, 15))
        found = archive.nearest([query])[query]
    assert found is not None
    assert found.wayback_timestamp == expected
    assert found.status_code == 200
    assert found.archive_url == f"{replay.base_url}/web/{expected}/http://nasa.gov/"
    assert archive.batch_unsupported  # the 404 batch form was asked once, then singles, then CDX
    assert any(p.startswith("/cdx/search/cdx?") and "sort=closest" in p for p in replay.seen)


def test_real_blocked_site_is_no_snapshot_not_an_error() -> None:
    with ReplayServer(load_cassette("test_search_raises_for_blocked_urls.yaml")) as replay:
        query = SnapshotQuery("https://nationalpost.com/health", date(2019, 10, 1))
        assert _client(replay.base_url).nearest([query]) == {query: None}


@pytest.mark.parametrize(
    ("cassette", "link", "timestamp", "original"),
    [
        (
            "test_get_memento.yaml",
            "https://web.archive.org/web/20171124151315/https://www.fws.gov/birds/",
            datetime(2017, 11, 24, 15, 13, 15, tzinfo=UTC),
            "https://www.fws.gov/birds/",
        ),
        (  # inexact timestamp: the archive redirects to the capture it found
            "test_get_memento_with_inexact_string_datetime.yaml",
            "//web.archive.org/web/20171124151310/https://www.fws.gov/birds/",
            datetime(2017, 11, 24, 15, 13, 15, tzinfo=UTC),
            "https://www.fws.gov/birds/",
        ),
        (  # an archived 301, then the archive's own 302 to the nearest capture
            "test_get_memento_with_redirects.yaml",
            "https://web.archive.org/web/20180808094144/https://www.epa.gov/ghgreporting/san5779-factsheet",
            datetime(2018, 8, 8, 10, 45, tzinfo=UTC),
            "https://www.epa.gov/ghgreporting/proposed-rule-fact-sheet-greenhouse-gas-reporting-program-addition-global-warming",
        ),
    ],
)
def test_real_mementos_resolve(cassette: str, link: str, timestamp: datetime, original: str) -> None:
    with ReplayServer(load_cassette(cassette)) as replay:
        snapshot = _client(replay.base_url).resolves(link)
    assert snapshot is not None
    assert (snapshot.timestamp, snapshot.original, snapshot.status_code) == (timestamp, original, 200)


def test_real_missing_memento_does_not_resolve() -> None:
    with ReplayServer(load_cassette("test_get_memento_raises_no_memento_error.yaml")) as replay:
        link = "https://web.archive.org/web/20170929002712/https://this-is-not-real-url.whatever/"
        assert _client(replay.base_url).resolves(link) is None


# --- the fake server answers like the real one ------------------------------------


def _fake_from(recorded: Interaction) -> FakeWayback:
    return FakeWayback(
        Capture(url=f[2], timestamp=f[1], status=int(f[4]) if f[4].isdigit() else 0, mimetype=f[3])
        for f in _seven_field_lines(recorded.body)
    )


@pytest.mark.parametrize("name", ["test_search.yaml", "test_search_with_filter.yaml"])
def test_fake_cdx_matches_real_rows(name: str) -> None:
    """Captures copied from a real answer come back from the fake with the same key fields."""
    recorded = load_cassette(name)[0]
    real = parse_cdx_lines(recorded.body.decode())
    query = recorded.uri.split("?", 1)[1]
    keep = "&".join(p for p in query.split("&") if p.split("=")[0] in ("url", "matchType", "from", "to", "limit"))
    with _fake_from(recorded) as fake:
        response = requests.get(f"{fake.base_url}/cdx/search/cdx?{keep}", timeout=5)
    assert response.headers["Content-Type"] == recorded.headers["Content-Type"]
    mine = parse_cdx_lines(response.text)

    def key(rows: list) -> list[tuple[str, str, str, str]]:  # type: ignore[type-arg]
        return sorted((r.urlkey, r.timestamp, r.original, r.statuscode) for r in rows)

    assert key(mine) == key(real)


def test_fake_playback_headers_match_real_ones() -> None:
    real_redirect, real_memento = load_cassette("test_get_memento_with_inexact_string_datetime.yaml")
    with FakeWayback([Capture("https://www.fws.gov/birds/", "20171124151315")]) as fake:
        redirect = requests.get(
            f"{fake.base_url}/web/20171124151310id_/https://www.fws.gov/birds/", allow_redirects=False, timeout=5
        )
        memento = requests.get(redirect.headers["Location"], allow_redirects=False, timeout=5)
    assert redirect.status_code == real_redirect.status == 302
    assert redirect.headers["X-Archive-Redirect-Reason"] == real_redirect.headers["X-Archive-Redirect-Reason"]
    assert redirect.headers["Location"].split("/web/", 1)[1] == real_redirect.headers["Location"].split("/web/", 1)[1]
    assert memento.status_code == real_memento.status == 200
    assert memento.headers["Memento-Datetime"] == real_memento.headers["Memento-Datetime"]


def test_fake_blocked_answer_is_the_real_one() -> None:
    (real,) = load_cassette("test_search_raises_for_blocked_urls.yaml")
    with FakeWayback(blocked=["https://nationalpost.com/health"]) as fake:
        response = requests.get(f"{fake.base_url}/cdx/search/cdx?url=https://nationalpost.com/health", timeout=5)
    assert response.status_code == real.status == 403
    assert response.text == real.body.decode() == BLOCKED_BODY


# --- recorded archived error pages and historical redirects (real Wayback answers) ---------------


def test_real_archived_429_is_an_archived_page_not_rate_limiting() -> None:
    """IA replayed reddit's own 429 of 2015 (status 429 with Memento-Datetime): a capture, no pause, no retry."""
    with ReplayServer(load_cassette("test_get_memento_works_on_archived_rate_limit_responses.yaml")) as replay:
        archive = _client(replay.base_url)
        snapshot = archive.resolves("https://web.archive.org/web/20150129034904/http://www.reddit.com/r/PokemonGiveaway")
        assert archive.requests_made == 1
    assert snapshot is not None
    assert (snapshot.status_code, snapshot.timestamp) == (429, datetime(2015, 1, 29, 3, 49, 4, tzinfo=UTC))
    assert archive.gate.pauses == []


@pytest.mark.parametrize(
    ("cassette", "link", "final", "status", "timestamp"),
    [
        (  # the archive's 302 to the exact capture, an archived 301, another 302, then the 200 memento
            "test_get_memento_follows_historical_redirects.yaml",
            "https://web.archive.org/web/20200201020357/http://epa.gov/climatechange",
            "https://www.epa.gov/sites/production/files/signpost/cc.html",
            200,
            datetime(2020, 2, 1, 2, 44, 5, tzinfo=UTC),
        ),
        (  # an archived 301 with a protocol-relative Location, ending on an archived 404
            "test_get_memento_with_schemeless_redirects.yaml",
            "https://web.archive.org/web/20201102232816/https://www.census.gov/geography/gss-initiative.html",
            "https://www.census.gov/geo/gssi/",
            404,
            datetime(2020, 11, 2, 23, 30, 26, tzinfo=UTC),
        ),
        (  # an archived 301 with a path-only Location, ending on an archived 404
            "test_get_memento_with_path_based_redirects.yaml",
            "https://web.archive.org/web/20201027215555/https://www.whitehouse.gov/administration/eop/ostp/about/student/faqs",
            "https://www.whitehouse.gov/ostp/about/student/faqs",
            404,
            datetime(2020, 10, 27, 22, 7, 43, tzinfo=UTC),
        ),
    ],
)
def test_real_historical_redirects_lead_to_the_capture_they_end_on(
    cassette: str, link: str, final: str, status: int, timestamp: datetime
) -> None:
    with ReplayServer(load_cassette(cassette)) as replay:
        snapshot = _client(replay.base_url).resolves(link)
    assert snapshot is not None
    assert (snapshot.original, snapshot.status_code, snapshot.timestamp) == (final, status, timestamp)


def test_real_redirect_loop_between_mementos_leads_nowhere() -> None:
    with ReplayServer(load_cassette("test_get_memento_raises_for_mementos_that_redirect_in_a_loop.yaml")) as replay:
        link = "https://web.archive.org/web/20200925075402/https://link.springer.com/article/10.1007/s00382-012-1331-2"
        assert _client(replay.base_url).resolves(link) is None


# --- recorded TimeGate Link headers of four archives, shipped in pywb's sample_archive ----------------


def _link_headers() -> dict[str, dict[str, str]]:
    path = Path(sys.prefix) / "sample_archive" / "text_content" / "link_headers.yaml"
    if not path.is_file():
        pytest.skip("pywb's sample_archive is not installed (pip install -e '.[archive]')")
    loaded: dict[str, dict[str, str]] = yaml.safe_load(path.read_text("utf-8"))
    return loaded


def test_real_timegate_link_headers_of_four_archives_parse() -> None:
    """IA, Archive-It, the UK Web Archive and Rhizome, as recorded by pywb's authors: every memento is read."""
    hosts: set[str] = set()
    mementos = 0
    for test, answers in _link_headers().items():
        for timegate, header in answers.items():
            links = parse_links(header)
            raw = header.count('memento"') + header.count("memento;")
            found = [link for link in links if link.is_memento]
            assert len(found) == header.count("datetime="), (test, timegate)
            assert raw >= len(found) > 0
            for link in found:
                assert link.datetime is not None and link.datetime.tzinfo is not None
                assert link.target.startswith(("http://", "https://"))  # //host/... made absolute
                # Each archive has its own replay prefix (/web/, /all/, /wayback/archive/, /vvork/);
                # the memento's URI carries the same 14-digit time as its datetime attribute.
                assert f"/{link.datetime:%Y%m%d%H%M%S}/" in link.target, link.target
            originals = [link.target for link in links if "original" in link.rels]
            assert len(originals) == 1
            assert any(site in originals[0] for site in ("vvork.com", "iana.org", "example.com", "httpbin.org"))
            hosts.add(urlsplit(timegate.replace("{url}", "")).hostname or "")
            mementos += len(found)
    assert hosts == {"web.archive.org", "wayback.archive-it.org", "www.webarchive.org.uk", "webarchives.rhizome.org"}
    assert mementos >= 60


def test_real_link_header_rels_pick_the_memento_not_the_first() -> None:
    """UKWA writes rel="prev first memento"; IA "first memento": only rel="memento" names the chosen one."""
    answers = _link_headers()["agg_test_1"]
    links = parse_links(answers["http://web.archive.org/web/{url}"])
    (chosen,) = [link for link in links if link.rels == {"memento"}]
    assert chosen.datetime == datetime(2014, 1, 26, 9, 37, 43, tzinfo=UTC)
    (first,) = [link for link in links if link.rels == {"first", "memento"}]
    assert first.datetime == datetime(1997, 12, 10, 6, 17, 38, tzinfo=UTC)
    ukwa = parse_links(_link_headers()["agg_test_3"]["http://www.webarchive.org.uk/wayback/archive/{url}"])
    assert {frozenset(link.rels) for link in ukwa if link.is_memento} == {
        frozenset({"last", "memento"}), frozenset({"prev", "first", "memento"})
    }
