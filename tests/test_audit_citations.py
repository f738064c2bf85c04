"""Citations in the audit report without the network: CS1 ``quote=`` in, claims' citations out.

The source-text phase itself runs against real pages and a real pywb in
``test_audit_quotes.py``; here, what holds offline: every claim lists its
citations (``ref``, ``locator``, ``quote``), the seed article still audits as
before, a CS1 quote survives import, audit and export, and the fingerprint
history's file is not trusted.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from wikicore.audit import audit_articles
from wikicore.audit.report import QuoteCheckInfo
from wikicore.importers import import_path
from wikicore.links.fingerprints import SourceHistory
from wikicore.mediawiki.exporter import export_wikitext
from wikicore.mediawiki.importer import import_wikitext
from wikicore.report.audit import render

from .conftest import SEED_ARTICLE

QUOTED = (
    "Cats sleep a lot.<ref>{{cite web |url=https://cats.example/sleep |title=Sleep |access-date=2020-03-01 "
    "|page=69 |quote=Cats sleep “twelve to sixteen hours” a day}}</ref>\n\n"
    "Dogs bark.<ref>{{cite web |url=https://dogs.example/ |title=Bark}}</ref>\n"
)


def test_cs1_quote_reaches_the_report_and_round_trips() -> None:
    article = import_wikitext(QUOTED, slug="cats", title="Cats")
    report = audit_articles([(article, None)], offline=True)
    cited = [c for claim in report.articles[0].claims for c in claim.citations]
    quoted = [c for c in cited if c.quote]
    assert [(c.quote, c.locator) for c in quoted] == [("Cats sleep “twelve to sixteen hours” a day", "69")]
    assert len(cited) == 2  # the unquoted citation is listed too
    assert all(c.quote_check is None for c in cited)  # offline: nothing was read
    assert report.sources().quotes == {"found": 0, "changed": 0, "missing": 0, "unchecked": 1}
    again = import_wikitext(export_wikitext(article), slug="cats", title="Cats")
    assert [c.quote for claim in again.claims() for c in claim.citations] == [
        c.quote for claim in article.claims() for c in claim.citations
    ]


def test_the_seed_article_lists_every_citation_and_audits_as_before() -> None:
    article = import_path(SEED_ARTICLE)
    report = audit_articles([(article, None)], offline=True, no_quotes=True)
    plain = audit_articles([(article, None)], offline=True)
    listed = {claim.id: [(c.ref, c.locator, c.quote) for c in claim.citations] for claim in plain.articles[0].claims}
    assert listed == {
        claim.id: [(c.ref, c.locator, c.quote) for c in claim.citations] for claim in article.claims()
    }
    # The phase adds citations and nothing else offline: problems and counts are unchanged.
    assert [p.code for p in plain.articles[0].all_problems()] == [p.code for p in report.articles[0].all_problems()]
    assert plain.articles[0].summary == report.articles[0].summary


def test_fingerprint_rows_are_validated_and_changes_dated(tmp_path: Path) -> None:
    db = tmp_path / "checks.sqlite"
    times = iter([dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
                  dt.datetime(2026, 3, 5, tzinfo=dt.UTC)])
    with SourceHistory(db, clock=lambda: next(times)) as history:
        history.record("http://a.example/", "live", 10, "a" * 64, 7)
        assert history.changed_since("http://a.example/") is None  # one text: no change to date
        history.record("http://a.example/", "live", 12, "b" * 64, 8)
        history.record("http://a.example/", "live", 12, "b" * 64, 8)  # seen again: last_seen moves on
        (old, new) = history.fingerprints("http://a.example/")
        assert (old.sha256, new.sha256) == ("a" * 64, "b" * 64)
        assert new.first_seen.day == 2 and new.last_seen.day == 5 and new.simhash == 8
        assert history.changed_since("http://a.example/") == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO fingerprints VALUES ('http://a.example/', 'live', 1, 'zz', 'x', 'garbage', '')")
        conn.execute("INSERT INTO source_checks VALUES ('http://a.example/', 'q', '2026-03-01', '{not json')")
    with SourceHistory(db) as history:
        assert len(history.fingerprints("http://a.example/")) == 2
        assert history.answer("http://a.example/", "q", dt.timedelta(days=1)) is None
        assert history.damaged == 2


def test_scan_claims_rows_carry_their_citations_quotes() -> None:
    pytest.importorskip("pyarrow")
    from wikicore.scan.rows import CLAIM_COLUMNS, Rows, scan_page
    from wikicore.scan.source import Page
    from wikicore.scan.tables import SCHEMAS

    rows = Rows()
    scan_page(Page("Cats", 0, "1", "2020-01-01T00:00:00Z", QUOTED), rows, dt.date(2026, 1, 1))
    claims = rows.claims
    assert claims["quotes"] == [["Cats sleep “twelve to sixteen hours” a day"], [None]]
    assert claims["locators"] == [["69"], [None]]
    assert [len(r) for r in claims["ref_ids"]] == [len(q) for q in claims["quotes"]]  # one entry per citation
    assert SCHEMAS["claims"].names == list(CLAIM_COLUMNS)
    table = __import__("pyarrow").Table.from_pydict(claims, schema=SCHEMAS["claims"])
    assert table.column("quotes").to_pylist() == claims["quotes"]


def test_html_marks_the_quote_in_its_context_escaped() -> None:
    article = import_wikitext(QUOTED, slug="cats", title="Cats")
    report = audit_articles([(article, None)], offline=True)
    (claim, *_) = report.articles[0].claims
    check = QuoteCheckInfo(status="found", where="live", score=1.0,
                           context="<b>Intro</b> — cats   sleep \u201ctwelve to sixteen hours\u201d a day, & more")
    cited = claim.citations[0].model_copy(update={"quote_check": check})
    item = report.articles[0].model_copy(update={"claims": (claim.model_copy(update={"citations": (cited,)}),)})
    page = render(report.model_copy(update={"articles": (item,)}), "html")
    assert ("&lt;b&gt;Intro&lt;/b&gt; — <mark>cats   sleep \u201ctwelve to sixteen hours\u201d a day</mark>, &amp; more"
            in page)
    assert "<b>Intro" not in page
