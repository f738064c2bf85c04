"""The archive layer against real Wayback software: pywb 2.10 serving a WARC written with warcio.

One pywb for the session (started in about 3.5 s, stopped by PID), with captures
at chosen dates: 200s, archived 404/429/503 pages and an archived redirect. The
cited URLs are on 127.0.0.1 ports nothing listens on, so nothing here resolves
a name or leaves loopback; the recording test records a page served on
127.0.0.1, and pywb's live collection refuses anything else.
Skipped cleanly when pywb is not installed (``make test`` installs it).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from wikicore.archive import (
    ArchiveSet,
    Snapshot,
    SnapshotQuery,
    WaybackArchive,
    parse_cdx,
    parse_links,
    rescue_article,
)
from wikicore.archive.gate import ArchiveGate
from wikicore.audit import audit_articles
from wikicore.cli import main
from wikicore.models import Article, Reference
from wikicore.store import Wiki

from .servers.hostile_web import HostileWeb
from .servers.pywb import PywbArchive, PywbCapture, PywbUnavailable, pywb_binaries
from .servers.wayback import Capture, FakeWayback

try:
    pywb_binaries()
except PywbUnavailable as why:
    pytest.skip(str(why), allow_module_level=True)

SITE = "http://127.0.0.1:9"  # nothing listens there: cited pages are only ever replayed
STORY = f"{SITE}/story"
OLD = f"{SITE}/old"
LATE = f"{SITE}/only-after"
ERRORS = f"{SITE}/only-errors"
BOTH = f"{SITE}/in-both"

CAPTURES = [
    PywbCapture(STORY, "20100501100000", 200, b"<html>the story, 2010</html>"),
    PywbCapture(STORY, "20120501100000", 404, b"<html>not found</html>"),
    PywbCapture(STORY, "20140501100000", 429, b"<html>slow down</html>", headers=(("Retry-After", "3600"),)),
    PywbCapture(STORY, "20150301100000", 503, b"<html>down</html>", headers=(("Retry-After", "120"),)),
    PywbCapture(STORY, "20160501100000", 200, b"<html>the story, 2016</html>"),
    PywbCapture(OLD, "20110101000000", 301, location=STORY),
    PywbCapture(LATE, "20200101000000", 200),
    PywbCapture(ERRORS, "20120101000000", 404),
    PywbCapture(BOTH, "20050101000000", 200),
]


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="session")
def pywb() -> Iterator[PywbArchive]:
    """One pywb for the session: WARC written, indexed, started (about 3.5 s), stopped by PID at the end."""
    with PywbArchive(CAPTURES) as server:
        yield server


def client(pywb: PywbArchive, vt: VirtualTime | None = None, **kwargs: object) -> WaybackArchive:
    vt = vt or VirtualTime()
    gate = ArchiveGate(clock=vt.clock, sleep=vt.sleep, rates={"cdx": 0, "web": 0, "available": 0})
    return WaybackArchive(pywb.base_url, gate=gate, **kwargs)  # type: ignore[arg-type]


def ts(snapshot: Snapshot | None) -> str | None:
    return snapshot.wayback_timestamp if snapshot else None


# --- what pywb answers, read by our parsers ----------------------------------------------


def test_pywb_cdx_formats_parse_alike(pywb: PywbArchive) -> None:
    """pywb's CDXJ (default) and its output=json (NDJSON) give the same captures, statuses included."""
    cdx = f"{pywb.base_url}/cdx/search/cdx"
    cdxj = requests.get(cdx, params={"url": STORY}, timeout=10)
    ndjson = requests.get(cdx, params={"url": STORY, "output": "json"}, timeout=10)
    assert cdxj.status_code == ndjson.status_code == 200
    assert cdxj.text.startswith("1,0,0,127:9)/story 2010")  # SURT key, timestamp, then a JSON block
    rows = parse_cdx(cdxj.text)
    assert [(r.timestamp.year, r.status) for r in rows] == [(2010, 200), (2012, 404), (2014, 429), (2015, 503),
                                                           (2016, 200)]
    assert [(r.timestamp, r.original, r.status) for r in parse_cdx(ndjson.text)] == [
        (r.timestamp, r.original, r.status) for r in rows
    ]
    filtered = requests.get(cdx, params={"url": STORY, "filter": "statuscode:200"}, timeout=10)
    assert {r.status for r in parse_cdx(filtered.text)} == {200}  # pywb maps IA's field name


def test_pywb_timemap_and_timegate(pywb: PywbArchive) -> None:
    timemap = requests.get(f"{pywb.base_url}/web/timemap/link/{STORY}", timeout=10)
    assert timemap.headers["Content-Type"].startswith("application/link-format")
    mementos = [link for link in parse_links(timemap.text) if link.is_memento]
    assert [m.datetime.year for m in mementos if m.datetime] == [2010, 2012, 2014, 2015, 2016]
    gate = requests.get(
        f"{pywb.base_url}/web/{STORY}", headers={"Accept-Datetime": "Tue, 01 Jan 2013 00:00:00 GMT"},
        allow_redirects=False, timeout=10,
    )
    # pywb's TimeGate picks the nearest memento in either direction, whatever its status: the archived 404.
    assert gate.status_code in (302, 307) and "/web/20120501100000/" in gate.headers["Location"]
    (memento,) = [link for link in parse_links(gate.headers["Link"]) if link.rels == {"memento"}]
    assert memento.datetime == datetime(2012, 5, 1, 10, tzinfo=UTC)


# --- nearest -------------------------------------------------------------------------------


def test_nearest_before_200_by_cdx_skipping_archived_errors(pywb: PywbArchive) -> None:
    archive = client(pywb)
    queries = {
        "after-404": SnapshotQuery(STORY, date(2013, 1, 1)),
        "after-429-503": SnapshotQuery(STORY, date(2015, 6, 1)),
        "after-all": SnapshotQuery(STORY, date(2017, 1, 1)),
        "only-after": SnapshotQuery(LATE, date(2015, 1, 1)),
        "only-errors": SnapshotQuery(ERRORS, date(2013, 1, 1)),
        "latest": SnapshotQuery(STORY, None),
    }
    found = archive.nearest(list(queries.values()))
    assert {name: ts(found[q]) for name, q in queries.items()} == {
        "after-404": "20100501100000",
        "after-429-503": "20100501100000",
        "after-all": "20160501100000",
        "only-after": "20200101000000",
        "only-errors": None,
        "latest": "20160501100000",
    }
    snap = found[queries["after-all"]]
    assert snap is not None and snap.archive == pywb.base_url and snap.status_code == 200
    assert snap.archive_url == f"{pywb.base_url}/web/20160501100000/{STORY}"
    # pywb has no availability API: discovered once, remembered, never asked again.
    assert archive.offers.availability is False and archive.offers.cdx is True
    before = archive.requests_made
    again = archive.nearest([queries["after-all"]])
    assert ts(again[queries["after-all"]]) == "20160501100000"
    assert archive.requests_made - before == 1  # one CDX request, no availability probe


def test_nearest_by_memento_timemap_when_there_is_no_cdx(pywb: PywbArchive) -> None:
    """TimeMaps do not tell statuses: the archived 404 nearest before is replayed, seen, and skipped."""
    archive = client(pywb, use_cdx=False)
    query = SnapshotQuery(STORY, date(2013, 1, 1))
    assert ts(archive.nearest([query])[query]) == "20100501100000"
    query = SnapshotQuery(STORY, date(2015, 6, 1))  # 503, 429 and 404 before it: three replays, then give up
    assert archive.nearest([query])[query] is None


def test_nearest_by_memento_timegate_when_there_is_no_timemap(pywb: PywbArchive) -> None:
    archive = client(pywb, use_cdx=False)
    archive.endpoints = dataclasses.replace(archive.endpoints, timemap=f"{pywb.base_url}/no-timemaps/")
    query = SnapshotQuery(STORY, date(2011, 1, 1))
    assert ts(archive.nearest([query])[query]) == "20100501100000"


def test_a_memento_only_archive_under_a_replay_prefix(pywb: PywbArchive) -> None:
    """Given pywb's collection route as the root (like Archive-It's /all): no availability API, no CDX
    there, no <root>/web/ TimeMap; the <root>/timemap/link/ TimeMap is found, remembered and used."""
    archive = WaybackArchive(f"{pywb.base_url}/web", gate=ArchiveGate(rates={"cdx": 0, "web": 0, "available": 0}))
    query = SnapshotQuery(STORY, date(2013, 1, 1))
    found = archive.nearest([query])[query]
    assert ts(found) == "20100501100000"  # the archived 404 of 2012 replayed, seen, skipped
    assert found is not None and found.archive_url == f"{pywb.base_url}/web/20100501100000/{STORY}"
    assert archive.offers.availability is False and archive.offers.cdx is False and archive.offers.replay_prefix
    snap = archive.resolves(f"{pywb.base_url}/web/20140501100000/{STORY}")
    assert snap is not None and snap.status_code == 429


# --- resolves: the capture a stored link leads to -------------------------------------------


def test_an_archived_429_is_an_archived_page_not_rate_limiting(pywb: PywbArchive) -> None:
    vt = VirtualTime()
    archive = client(pywb, vt)
    snap = archive.resolves(f"{pywb.base_url}/web/20140501100000/{STORY}")
    assert snap is not None and snap.status_code == 429 and not snap.ok
    assert snap.timestamp == datetime(2014, 5, 1, 10, tzinfo=UTC)
    snap = archive.resolves(f"{pywb.base_url}/web/20150301100000/{STORY}")
    assert snap is not None and snap.status_code == 503
    assert archive.gate.pauses == [] and vt.sleeps == []  # no Retry-After honoured, no retry
    assert archive.requests_made == 2


def test_an_inexact_link_resolves_to_the_capture_pywb_chooses(pywb: PywbArchive) -> None:
    archive = client(pywb)
    snap = archive.resolves(f"{pywb.base_url}/web/2016/{STORY}")
    assert snap is not None and snap.timestamp == datetime(2016, 5, 1, 10, tzinfo=UTC) and snap.ok


def test_an_archived_redirect_is_followed_inside_the_archive(pywb: PywbArchive) -> None:
    """pywb's id_ replay of an archived 301 keeps the raw Location; we follow it at the same time."""
    archive = client(pywb)
    snap = archive.resolves(f"{pywb.base_url}/web/20110101000000/{OLD}")
    assert snap is not None and snap.original == STORY and snap.ok
    assert snap.timestamp == datetime(2010, 5, 1, 10, tzinfo=UTC)  # the story's capture nearest 2011-01-01


def test_a_link_to_nothing_does_not_resolve(pywb: PywbArchive) -> None:
    assert client(pywb).resolves(f"{pywb.base_url}/web/20100101000000/{SITE}/never") is None


# --- several archives, the audit and the write-back -----------------------------------------


def fake_ia() -> FakeWayback:
    return FakeWayback(
        [
            Capture(STORY, "20110601000000"),  # nearer before 2013 than pywb's 2010 capture
            Capture(BOTH, "20080101000000"),
            Capture(ERRORS, "20121201000000", status=404),
        ]
    )


def article() -> Article:
    refs = [
        Reference(id="story", url=STORY, access_date="2013-01-01"),
        Reference(id="late", url=LATE, access_date="2015-01-01"),
        Reference(id="errors", url=ERRORS, access_date="2013-01-01"),
        Reference(id="both", url=BOTH, access_date="2010-01-01"),
        Reference(id="stored", url=STORY, access_date="2014-05-01", archive_date="2014-05-01",
                  archive_url=f"PYWB/web/2014/{STORY}"),
    ]
    return Article.model_validate(
        {"slug": "pywb-test", "title": "Pywb test", "lead": [{"claims": [{"text": "A claim."}]}], "references": refs}
    )


def with_root(item: Article, root: str) -> Article:
    refs = [r.model_copy(update={"archive_url": r.archive_url.replace("PYWB", root)}) if r.archive_url else r
            for r in item.references]
    return item.model_copy(update={"references": refs})


def test_the_same_article_against_fake_ia_pywb_and_both(pywb: PywbArchive) -> None:
    base = article()
    with fake_ia() as ia:
        fake = WaybackArchive(ia.base_url, gate=ArchiveGate(rates={"available": 0, "cdx": 0}))
        real = client(pywb)
        expected = {
            "pywb": {"story": "20100501100000", "late": "20200101000000", "errors": None, "both": "20050101000000"},
            "fake IA": {"story": "20110601000000", "late": None, "errors": None, "both": "20080101000000"},
            "both": {"story": "20110601000000", "late": "20200101000000", "errors": None, "both": "20080101000000"},
        }
        for name, archive in (("pywb", real), ("fake IA", fake), ("both", ArchiveSet([fake, real]))):
            report = audit_articles([(with_root(base, pywb.base_url), None)], archive=archive)
            refs = {r.id: r for r in report.articles[0].references}
            got = {ref_id: refs[ref_id].archive.timestamp.strftime("%Y%m%d%H%M%S") if refs[ref_id].archive else None
                   for ref_id in expected[name]}
            assert got == expected[name], name
            if name == "both":
                assert refs["story"].archive is not None and refs["story"].archive.archive == ia.base_url
                assert refs["late"].archive is not None and refs["late"].archive.archive == pywb.base_url
            stored = refs["stored"]
            if name != "fake IA":
                # A link under any of the archives asked is a well-formed snapshot link.
                assert not [p for p in stored.problems if p.code == "archive-url-malformed"], name
                # /web/2014/ resolves to pywb's archived 429 of 2014-05-01: reported, not rate limiting.
                assert stored.archive_resolves is False
                messages = [p.message for p in stored.problems if p.code == "archive-url-unresolved"]
                assert messages and "archived error page (HTTP 429 captured 2014-05-01)" in messages[0]
                assert not [p for p in stored.problems if p.code == "archive-date-mismatch"]


def test_checks_on_a_stored_link_use_the_capture_it_resolves_to(pywb: PywbArchive) -> None:
    """/web/2017/ is redirected to the 2016 capture: the date check is made against 2016, not 2017."""
    ref = Reference(id="r", url=STORY, access_date="2017-02-01", archive_date="2017-01-01",
                    archive_url=f"{pywb.base_url}/web/2017/{STORY}")
    item = Article.model_validate({"slug": "s", "title": "T", "lead": [{"claims": [{"text": "A."}]}],
                                   "references": [ref]})
    report = audit_articles([(item, None)], archive=client(pywb))
    (audited,) = report.articles[0].references
    assert audited.archive_resolves is True
    (mismatch,) = [p for p in audited.problems if p.code == "archive-date-mismatch"]
    assert "taken 2016-05-01" in mismatch.message


def test_rescue_across_both_archives_names_each(pywb: PywbArchive) -> None:
    with fake_ia() as ia:
        fake = WaybackArchive(ia.base_url, gate=ArchiveGate(rates={"available": 0, "cdx": 0}))
        item = article().model_copy(update={"references": article().references[:4]})
        result = rescue_article(item, ArchiveSet([fake, client(pywb)]))
    changes = {c.ref_id: c for c in result.changes}
    assert set(changes) == {"story", "late", "both"} and result.missing == ("errors",)
    assert changes["story"].archive == ia.base_url and changes["late"].archive == pywb.base_url
    assert f"at {pywb.base_url}" in result.message()
    assert "2 from" not in result.summary() or "1 from" in result.summary()


@pytest.fixture
def fast_shared_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    import wikicore.archive.endpoints as endpoints_module
    import wikicore.archive.gate as gate_module

    monkeypatch.setattr(gate_module, "_SHARED_GATES", {})
    monkeypatch.setattr(endpoints_module, "_OFFERS", {})
    for name in ("AVAILABILITY_REQUESTS_PER_SECOND", "CDX_REQUESTS_PER_SECOND", "SAVE_REQUESTS_PER_SECOND"):
        monkeypatch.setattr(gate_module, name, 1000.0)


def test_cli_archive_with_ia_and_pywb_writes_the_right_captures_back(
    pywb: PywbArchive, tmp_path: Path, fast_shared_gates: None
) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    item = article().model_copy(update={"references": article().references[:4]})
    wiki.save(item, "Add")
    with fake_ia() as ia:
        result = CliRunner().invoke(
            main,
            ["--wiki", str(wiki.path), "archive", "pywb-test", "--wayback-url", ia.base_url,
             "--archive", pywb.base_url, "--archive-rate", "0"],
        )
    assert result.exit_code == 0, result.output
    saved = {r.id: r for r in wiki.load("pywb-test").references}
    assert saved["story"].archive_url == f"{ia.base_url}/web/20110601000000/{STORY}"
    assert saved["late"].archive_url == f"{pywb.base_url}/web/20200101000000/{LATE}"
    assert saved["late"].archive_date == "2020-01-01"
    assert saved["errors"].archive_url is None
    assert f"(found 2020-01-01 at {pywb.base_url})" in result.stdout
    assert "pywb-test: 3 found, 0 saved, 1 without a capture" in result.stderr


# --- save through pywb's recording route ----------------------------------------------------


def test_save_through_the_recording_route_names_the_new_capture(tmp_path: Path, fast_shared_gates: None) -> None:
    with HostileWeb() as web, PywbArchive([PywbCapture(web.url("/ok"), "20100101000000")], record=True) as rec:
        archive = WaybackArchive(rec.base_url, save_path="web/record/",
                                 gate=ArchiveGate(rates={"save": 0, "cdx": 0, "web": 0}))
        before = datetime.now(UTC).replace(microsecond=0)
        saved = archive.save(web.url("/ok"))
        assert saved is not None and saved.ok
        assert saved.timestamp >= before  # the new capture, not the 2010 one (the "first memento")
        assert saved.archive_url == f"{rec.base_url}/web/{saved.wayback_timestamp}/{web.url('/ok')}"
        assert web.count("/ok") == 1  # pywb fetched the loopback page once, to record it
        deadline = time.monotonic() + 20  # autoindex runs every second
        resolved = None
        while time.monotonic() < deadline and (resolved is None or resolved.timestamp != saved.timestamp):
            resolved = archive.resolves(saved.archive_url)
            time.sleep(0.3)
        assert resolved is not None and resolved.timestamp == saved.timestamp and resolved.ok
        # The CLI: `archive --save` on pywb's recording route writes the new capture back.
        wiki = Wiki.init(tmp_path / "wiki")
        cited = Reference(id="r", url=web.url("/page/x"), access_date="2020-01-01")
        item = Article.model_validate(
            {"slug": "saved", "title": "Saved", "lead": [{"claims": [{"text": "A."}]}], "references": [cited]}
        )
        wiki.save(item, "Add")
        result = CliRunner().invoke(
            main, ["--wiki", str(wiki.path), "archive", "saved", "--save", "--wayback-url", rec.base_url,
                   "--save-path", "web/record/"],
        )
        assert result.exit_code == 0, result.output
        (ref,) = wiki.load("saved").references
        assert ref.archive_url is not None and ref.archive_url.startswith(f"{rec.base_url}/web/20")
        assert ref.archive_url.endswith(f"/{web.url('/page/x')}") and ref.url_status == "live"
        assert "saved, 0 without a capture" in result.stderr and f"(saved {ref.archive_date} at {rec.base_url})" in (
            result.stdout
        )
        # pywb's live collection only reaches loopback: an outside URL is refused without a fetch.
        refused = requests.get(f"{rec.base_url}/web/record/id_/http://example.com/", timeout=20)
        assert refused.status_code >= 400
