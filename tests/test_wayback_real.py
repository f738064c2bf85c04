"""Recorded real Wayback answers (EDGI ``wayback`` 0.5.1 cassettes) through our client and parser.

The recordings are fetched into a cache outside the repository by
``tests/realdata.py``; without the package registry these tests skip.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import requests

from tests.realdata import Interaction, ReplayServer, cassettes_dir, load_cassette
from wikicore.archive import SnapshotQuery, WaybackArchive, parse_cdx_lines
from wikicore.testing.wayback import BLOCKED_BODY, Capture, FakeWayback


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
