"""The audit's source-text phase end to end: real pages, real pywb, a loopback web.

Real pages of the sources bed (trafilatura's cached pages, fetched and pinned by
``tests/support/sourcedata.py``) are captured twice in a WARC written with warcio
and served by a real pywb 2.10: in 2020 as published, in 2023 as really edited
(sentences removed, or the page replaced). A loopback web serves the live
versions. An article cites them with quotes whose answers are known: found on an
unchanged page, changed (in the 2020 capture, gone from the live page), missing
(a sentence of another page), unchecked (a dead page with no capture), found in
the archive only (a dead page whose capture has it). Request counts come from the
servers themselves, never from timings. Skipped cleanly without pywb or the data.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.sourcebed import BedPage, bed_and_outcome
from wikicore.archive import WaybackArchive
from wikicore.archive.gate import ArchiveGate
from wikicore.audit import AuditReport, audit_articles
from wikicore.audit.archiving import archive_article
from wikicore.cli import main
from wikicore.links.fingerprints import SourceHistory
from wikicore.links.history import LinkDB, Observation
from wikicore.models import Article
from wikicore.net import CheckConfig
from wikicore.report.audit import render
from wikicore.serialize import dump_path
from wikicore.store import Wiki
from wikicore.testing.wayback import QuietServer

from .servers.pywb import PywbArchive, PywbCapture, PywbUnavailable, pywb_binaries

try:
    pywb_binaries()
except PywbUnavailable as why:
    pytest.skip(str(why), allow_module_level=True)

CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)
TODAY = dt.date(2026, 11, 26)
CITED = "2020-03-01"  # access date: the 2020 capture is the nearest before it
EARLY, LATE = "20200201120000", "20230201120000"


class LiveWeb:
    """The live versions on 127.0.0.1, by path; anything else is a 404. Counts requests by path."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, body: bool) -> None:
                web.hits[self.path] = web.hits.get(self.path, 0) + 1
                page = web.pages.get(self.path)
                data = page if page is not None else b"<html><body>gone</body></html>"
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

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
        self.server.shutdown()
        self.server.server_close()


class Bed:
    """The web, the archive and the pages they serve."""

    def __init__(self, web: LiveWeb, pywb: PywbArchive, pages: dict[str, BedPage]) -> None:
        self.web, self.pywb, self.pages = web, pywb, pages


@pytest.fixture(scope="module")
def bed() -> Iterator[Bed]:
    pages, _ = bed_and_outcome()
    chosen = {"same": pages[0], "removed": pages[1], "replaced": pages[2], "dead": pages[3]}
    web = LiveWeb()
    web.pages["/same"] = chosen["same"].live["unchanged"]
    web.pages["/removed"] = chosen["removed"].live["removed"]
    web.pages["/replaced"] = chosen["replaced"].live["replaced"]
    web.pages["/uncaptured"] = chosen["same"].live["unchanged"]  # live, but no capture: no drift
    captures = []
    for path in ("same", "removed", "replaced", "dead"):
        page = chosen[path]
        later = page.live["replaced" if path == "replaced" else "removed"]  # the 2023 copy, really edited
        captures += [PywbCapture(web.url(f"/{path}"), EARLY, 200, page.capture),
                     PywbCapture(web.url(f"/{path}"), LATE, 200, later)]
    try:
        with PywbArchive(captures) as pywb:
            yield Bed(web, pywb, chosen)
    finally:
        web.close()


def archive(bed: Bed) -> WaybackArchive:
    return WaybackArchive(bed.pywb.base_url, gate=ArchiveGate(rates={"cdx": 0, "web": 0, "available": 0}))


def article(bed: Bed) -> Article:
    same, removed, replaced, dead = (bed.pages[k] for k in ("same", "removed", "replaced", "dead"))
    refs = [
        {"id": "same", "type": "web", "url": bed.web.url("/same"), "access_date": CITED},
        {"id": "removed", "type": "web", "url": bed.web.url("/removed"), "access_date": CITED},
        {"id": "replaced", "type": "web", "url": bed.web.url("/replaced"), "access_date": CITED},
        {"id": "dead", "type": "web", "url": bed.web.url("/dead"), "access_date": CITED},
        {"id": "nowhere", "type": "web", "url": bed.web.url("/nowhere"), "access_date": CITED},
        {"id": "uncaptured", "type": "web", "url": bed.web.url("/uncaptured"), "access_date": CITED},
    ]
    claims = [
        ("c-found", "same", same.present[0]),
        ("c-variant", "same", dict(same.quote_variants)["curly-quotes"]),
        ("c-changed", "removed", removed.removed[0]),
        ("c-missing", "same", same.absent[0]),
        ("c-unchecked", "nowhere", same.present[1]),
        ("c-archive", "dead", dead.present[0]),
        ("c-replaced", "replaced", replaced.present[0]),
    ]
    return Article.model_validate({
        "slug": "quotes", "title": "Quotes",
        "lead": [{"claims": [
            {"id": cid, "text": f"Claim {cid}.", "citations": [{"ref": ref, "quote": quote, "locator": "para. 2"}]}
            for cid, ref, quote in claims
        ] + [{"id": "c-plain", "text": "No quote.", "citations": [{"ref": "uncaptured"}]}]}],
        "references": refs,
    })


def audit(bed: Bed, tmp_path: Path, **kwargs: Any) -> AuditReport:
    kwargs.setdefault("db_path", tmp_path / "checks.sqlite")
    return audit_articles([(article(bed), None)], config=CONFIG, archive=archive(bed), today=TODAY, **kwargs)


def checks(report: AuditReport) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for claim in report.articles[0].claims:
        for citation in claim.citations:
            found[claim.id] = citation.quote_check.model_dump() if citation.quote_check else {}
    return found


def test_quotes_found_changed_missing_unchecked_end_to_end(bed: Bed, tmp_path: Path) -> None:
    report = audit(bed, tmp_path)
    got = checks(report)
    assert (got["c-found"]["status"], got["c-found"]["where"]) == ("found", "both")
    assert got["c-found"]["score"] == 1.0 and got["c-found"]["context"]
    assert (got["c-variant"]["status"], got["c-variant"]["where"]) == ("found", "both")  # curly quotes
    assert (got["c-changed"]["status"], got["c-changed"]["where"]) == ("changed", "archive")
    assert got["c-missing"]["status"] == "missing"
    assert got["c-unchecked"]["status"] == "unchecked" and "no capture" in got["c-unchecked"]["reason"]
    assert "404" in got["c-unchecked"]["reason"]
    assert (got["c-archive"]["status"], got["c-archive"]["where"]) == ("found", "archive")
    assert "404" in got["c-archive"]["reason"]
    assert got["c-replaced"]["status"] == "changed"
    claims = {c.id: c for c in report.articles[0].claims}
    # Every claim lists its citations, quoted or not.
    assert [(c.ref, c.quote, c.quote_check) for c in claims["c-plain"].citations] == [("uncaptured", None, None)]
    assert claims["c-found"].citations[0].locator == "para. 2"
    (changed,) = [p for p in claims["c-changed"].problems if p.code == "quote-changed"]
    assert changed.severity == "warning" and "2020-02-01" in changed.message
    assert f"/web/{EARLY}/" in changed.message
    assert [p.code for p in claims["c-missing"].problems] == ["quote-missing"]
    assert not [p for p in claims["c-found"].problems if p.code.startswith("quote-")]
    assert not [p for p in claims["c-unchecked"].problems if p.code.startswith("quote-")]


def test_drift_same_changed_unrelated(bed: Bed, tmp_path: Path) -> None:
    report = audit(bed, tmp_path)
    refs = {r.id: r for r in report.articles[0].references}
    same, removed, replaced = refs["same"].drift, refs["removed"].drift, refs["replaced"].drift
    assert same is not None and same.status == "same" and same.capture == EARLY
    assert removed is not None and removed.status == "changed" and removed.similarity < 0.95
    assert replaced is not None and replaced.status == "unrelated"
    assert refs["dead"].drift is None and refs["uncaptured"].drift is None and refs["nowhere"].drift is None
    by_code = {r.id: [(p.code, p.severity.value) for p in r.problems if p.code == "content-drift"]
               for r in refs.values()}
    assert by_code["same"] == []
    assert by_code["removed"] == [("content-drift", "info")]
    assert by_code["replaced"] == [("content-drift", "warning")]
    totals = report.sources()
    assert totals.quotes == {"found": 3, "changed": 2, "missing": 1, "unchecked": 1}
    assert totals.drift == {"same": 1, "changed": 1, "unrelated": 1} and totals.drifted == 2
    # The severities counted in the summary include the new problems.
    summary = report.articles[0].summary.by_severity
    assert summary["warning"] == sum(
        1 for p in report.articles[0].all_problems() if p.severity.value == "warning"
    )


def test_no_quotes_really_skips(bed: Bed, tmp_path: Path) -> None:
    before = dict(bed.web.hits)
    report = audit(bed, tmp_path, no_quotes=True)
    # The link check's own requests only: HEAD/GET once per url, never a second text fetch.
    got = checks(report)
    assert all(check == {} for check in got.values())
    assert all(ref.drift is None for ref in report.articles[0].references)
    assert any("no_quotes=True" in note for note in report.notes)
    assert not [p for p in report.articles[0].all_problems() if p.code.startswith(("quote-", "content-"))]
    with_quotes_dir = tmp_path / "with"
    with_quotes_dir.mkdir()
    middle = dict(bed.web.hits)
    audit(bed, with_quotes_dir)
    after = dict(bed.web.hits)
    skipped = sum(middle.get(k, 0) - before.get(k, 0) for k in after)
    checked = sum(after[k] - middle.get(k, 0) for k in after)
    # The live pages are read by the link checks alone either way (their GETs serve the quote checks too):
    # what tells the phase ran is what it read and recorded, texts and captures.
    assert checked == skipped
    with SourceHistory(tmp_path / "checks.sqlite") as history:
        assert not history.fingerprints(bed.web.url("/same"))
        assert not history.fingerprints(bed.web.url("/same"), "capture")
    with SourceHistory(with_quotes_dir / "checks.sqlite") as history:
        assert history.fingerprints(bed.web.url("/same"))
        assert history.fingerprints(bed.web.url("/same"), "capture")


def test_a_quoted_page_is_fetched_once_for_its_link_check_and_its_text(bed: Bed, tmp_path: Path) -> None:
    # The link check's GET reads a quoted page whole and hands it to the quote check: one request a page.
    quoted = ("/same", "/removed", "/replaced")
    before = {path: bed.web.hits.get(path, 0) for path in quoted}
    report = audit(bed, tmp_path)
    assert {path: bed.web.hits.get(path, 0) - before[path] for path in quoted} == dict.fromkeys(quoted, 1)
    got = checks(report)
    assert (got["c-found"]["status"], got["c-found"]["where"]) == ("found", "both")
    assert (got["c-changed"]["status"], got["c-changed"]["where"]) == ("changed", "archive")


def test_reaudit_within_ttl_reads_no_source_again_and_keeps_fingerprints(bed: Bed, tmp_path: Path) -> None:
    db = tmp_path / "checks.sqlite"
    first = audit(bed, tmp_path, db_path=db)
    hits = dict(bed.web.hits)
    second = audit(bed, tmp_path, db_path=db)
    assert bed.web.hits == hits, "the live pages were read again within the TTL"
    assert checks(first) == checks(second)
    with SourceHistory(db) as history:
        (live,) = history.fingerprints(bed.web.url("/same"))
        assert live.length > 100 and len(live.sha256) == 64
        (capture,) = history.fingerprints(bed.web.url("/same"), "capture")
        assert capture.first_seen == dt.datetime(2020, 2, 1, 12, tzinfo=dt.UTC)
        assert capture.sha256 != history.fingerprints(bed.web.url("/removed"), "capture")[0].sha256


def test_content_changed_since_from_the_history_alone(bed: Bed, tmp_path: Path) -> None:
    db = tmp_path / "checks.sqlite"
    url = bed.web.url("/same")  # read for its quotes: every page read leaves a fingerprint
    with SourceHistory(db, clock=lambda: dt.datetime(2026, 3, 2, tzinfo=dt.UTC)) as history:
        history.record(url, "live", 10, "0" * 64, 0)  # another text was seen there on 2026-03-02
    first = audit(bed, tmp_path, db_path=db, no_archive=True, clock=lambda: dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    (ref,) = [r for r in first.articles[0].references if r.id == "same"]
    assert ref.text_changed_since == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    assert ref.drift is None  # no archive was asked
    (plain,) = [r for r in first.articles[0].references if r.id == "removed"]
    assert plain.text_changed_since is None  # one text seen: nothing to compare


def test_an_old_link_database_survives_the_new_tables(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with LinkDB(db) as links:  # a database written before the fingerprint tables existed
        links.record(Observation("http://a.example/", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "live", 200))
    with SourceHistory(db) as history:
        history.record("http://a.example/", "live", 5, "a" * 64, 1)
    with LinkDB(db) as links:
        assert links.latest("http://a.example/") is not None
    tables = {row[0] for row in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"observations", "fingerprints", "source_checks"} <= tables


def test_cli_audit_no_quotes_and_json(bed: Bed, tmp_path: Path) -> None:
    path = tmp_path / "quotes.yaml"
    dump_path(article(bed), path)
    base = ["audit", str(path), "--format", "json", "--fail-on", "never", "--wayback-url", bed.pywb.base_url,
            "--allow-private", "--cache", str(tmp_path / "c.sqlite")]
    runner = CliRunner()
    plain = runner.invoke(main, [*base, "--no-quotes"])
    assert plain.exit_code == 0, plain.output
    data = json.loads(plain.stdout)
    assert data["schema_version"] == 2 and any("--no-quotes" in note for note in data["notes"])
    assert all(c.get("quote_check") is None for claim in data["articles"][0]["claims"] for c in claim["citations"])


def test_archive_records_the_fingerprint_of_the_capture_it_writes_back(bed: Bed, tmp_path: Path) -> None:
    url = bed.web.url("/removed")
    item = Article.model_validate({
        "slug": "arch", "title": "Arch", "lead": [{"claims": [{"text": "Cited.", "citations": [{"ref": "r"}]}]}],
        "references": [{"id": "r", "type": "web", "url": url, "access_date": CITED}],
    })
    with Wiki.init(tmp_path / "wiki") as wiki:
        wiki.save(item, "Add")
        outcome = archive_article(wiki, "arch", archive(bed), config=CONFIG)
        assert outcome.revision is not None
        (change,) = outcome.rescue.changes
        with SourceHistory(wiki.checks_path) as history:
            (capture,) = history.fingerprints(url, "capture")
    assert capture.first_seen.strftime("%Y%m%d%H%M%S") in change.archive_url
    assert capture.length > 100


def test_every_format_shows_the_quote_results(bed: Bed, tmp_path: Path) -> None:
    report = audit(bed, tmp_path)
    text = render(report, "text")
    assert "sources still say it: quotes 3 found, 2 changed, 1 missing, 1 unchecked; references drifted 2 of 3" in text
    assert "claim c-changed [removed]: changed (archive, 1.00)" in text
    markdown = render(report, "markdown")
    assert "Sources still say it: quotes 3 found" in markdown and "#### Quotes (7)" in markdown
    data = json.loads(render(report, "json"))
    (claim,) = [c for c in data["articles"][0]["claims"] if c["id"] == "c-changed"]
    assert claim["citations"][0]["quote_check"]["status"] == "changed"
    assert set(claim["citations"][0]["quote_check"]) == {"status", "where", "score", "context", "page", "reason"}
    (ref,) = [r for r in data["articles"][0]["references"] if r["id"] == "replaced"]
    assert ref["drift"] == {"similarity": ref["drift"]["similarity"], "capture": EARLY, "status": "unrelated"}
    page = render(report, "html")
    assert '<h2 id="sources">Sources still say it</h2>' in page and "<mark>" in page
    same = bed.web.url("/same")
    # Robust Links: the link to the source names its archived version and that version's date.
    assert (f'data-originalurl="{same}" data-versionurl="{bed.pywb.base_url}/web/{EARLY}/{same}" '
            f'data-versiondate="2020-02-01"') in page
    assert page.count("Content-Security-Policy") == 1 and "<script" not in page
