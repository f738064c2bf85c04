"""The audit against real loopback servers: verdicts, archive coverage, caching, offline mode.

Request counts come from the servers themselves (HostileWeb.records, FakeWayback.counts),
never from timings.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from wikicore.archive import Snapshot, SnapshotQuery, WaybackArchive
from wikicore.audit import (
    LIVE_CODES,
    AuditEvent,
    AuditPhase,
    AuditReport,
    ReferenceAudit,
    Severity,
    audit_articles,
)
from wikicore.links import LinkStatus
from wikicore.models import Article
from wikicore.net import CheckConfig

from .servers.hostile_web import HostileWeb
from .servers.wayback import FakeWayback

#: Loopback servers need allow_private; no retries or host spacing keeps the suite quick.
CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)
TODAY = dt.date(2026, 11, 26)


def make_article(*refs: dict[str, Any], slug: str = "test", **fields: Any) -> Article:
    citations = [{"ref": r["id"]} for r in refs]
    return Article.model_validate(
        {
            "slug": slug,
            "title": fields.pop("title", "Test"),
            "lead": [{"claims": [{"id": "c-1", "text": "Cited.", "citations": citations}]}],
            "references": list(refs),
            **fields,
        }
    )


def archive_for(wayback: FakeWayback) -> WaybackArchive:
    # CDX widening runs at the Internet Archive's 0.4 requests/s: the batch API is enough here.
    return WaybackArchive(wayback.base_url, use_cdx=False, retries=0)


def run(articles: Sequence[Article], wayback: FakeWayback, db: Path | None = None, **kwargs: Any) -> AuditReport:
    kwargs.setdefault("config", CONFIG)
    kwargs.setdefault("today", TODAY)
    return audit_articles([(a, None) for a in articles], archive=archive_for(wayback), db_path=db, **kwargs)


def refs_of(report: AuditReport) -> dict[str, ReferenceAudit]:
    return {ref.id: ref for article in report.articles for ref in article.references}


def codes(ref: ReferenceAudit) -> list[str]:
    return [p.code for p in ref.problems]


def web_ref(ref_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": ref_id, "type": "web", "url": url, **extra}


def test_each_verdict_and_its_severity(web: HostileWeb, wayback: FakeWayback, tmp_path: Path) -> None:
    archived_dead = web.url("/missing")
    wayback.add({"url": archived_dead, "timestamp": "20200101000000"})  # 366 days before access
    wayback.add({"url": archived_dead, "timestamp": "20210105000000"})  # nearer, but after: not preferred
    stored_dead = web.url("/gone?stored=1")
    wayback.add({"url": stored_dead, "timestamp": "20190505000000"})
    stored_link = f"{wayback.base_url}/web/20190505000000/{stored_dead}"
    article = make_article(
        web_ref("live", web.url("/ok")),
        web_ref("dead", web.url("/gone")),
        web_ref("dead-archived", archived_dead, access_date="2021-01-01"),
        web_ref("dead-stored", stored_dead, archive_url=stored_link, archive_date="2019-05-05"),
        web_ref("soft", web.url("/soft/whatever")),
        web_ref("blocked", web.url("/forbidden")),
        web_ref("error", web.url("/error")),
        web_ref("js", "javascript:alert(1)"),
        {"id": "book", "type": "book", "title": "A book", "isbn": "978-0-306-40615-7"},
    )
    report = run([article], wayback, tmp_path / "checks.sqlite")
    refs = refs_of(report)

    assert refs["live"].status == LinkStatus.LIVE and refs["live"].http_status == 200
    assert codes(refs["live"]) == ["archive-missing"]

    assert refs["dead"].status == LinkStatus.DEAD and refs["dead"].http_status == 410
    assert codes(refs["dead"]) == ["link-dead"] and refs["dead"].problems[0].severity == Severity.ERROR
    assert refs["dead"].failures == 1 and not refs["dead"].confirmed_dead

    found = refs["dead-archived"]
    assert found.status == LinkStatus.DEAD and codes(found) == ["link-dead-archive-available"]
    assert found.problems[0].severity == Severity.WARNING
    assert found.archive is not None
    assert found.archive.timestamp.date() == dt.date(2020, 1, 1)  # before the access date wins
    assert found.archive.distance_days == 366
    assert found.archive.url in found.problems[0].message

    stored = refs["dead-stored"]
    assert stored.archive_resolves is True and codes(stored) == ["link-dead-archived"]
    assert stored.problems[0].severity == Severity.INFO

    assert refs["soft"].status == LinkStatus.SOFT_404 and codes(refs["soft"]) == ["link-soft-404"]
    assert refs["blocked"].status == LinkStatus.BLOCKED and codes(refs["blocked"]) == ["link-blocked"]
    assert refs["blocked"].problems[0].severity == Severity.WARNING
    assert refs["error"].status == LinkStatus.ERROR and codes(refs["error"]) == ["link-error"]
    assert refs["error"].problems[0].severity == Severity.INFO
    # One finding for a javascript: url, not a static and a live one.
    assert refs["js"].status == LinkStatus.INVALID and codes(refs["js"]) == ["url-scheme-disallowed"]
    assert refs["book"].status == LinkStatus.NO_URL and refs["book"].problems == ()

    summary = report.articles[0].summary
    assert summary.references == 9
    assert summary.by_status["dead"] == 3 and summary.by_status["no-url"] == 1
    assert summary.by_severity == {"error": 2, "warning": 3, "info": 3}
    assert report.count(Severity.ERROR) == 2 and report.count(Severity.INFO) == 8
    assert report.notes == () and not report.offline


def test_snapshot_after_the_access_date_when_none_before(web: HostileWeb, wayback: FakeWayback) -> None:
    url = web.url("/missing?late")
    wayback.add({"url": url, "timestamp": "20220301000000"})
    wayback.add({"url": url, "timestamp": "20220101000000", "status": 404})  # archived 404: no archive
    report = run([make_article(web_ref("r", url, access_date="2021-12-25"))], wayback)
    archive = refs_of(report)["r"].archive
    assert archive is not None and archive.timestamp.date() == dt.date(2022, 3, 1)
    assert archive.distance_days == 66


def test_stored_archive_that_does_not_resolve(web: HostileWeb, wayback: FakeWayback) -> None:
    url = web.url("/ok")
    link = f"{wayback.base_url}/web/20200101000000/{url}"
    report = run([make_article(web_ref("r", url, archive_url=link))], wayback)
    ref = refs_of(report)["r"]
    assert ref.status == LinkStatus.LIVE and ref.archive_resolves is False
    assert "archive-url-unresolved" in codes(ref)


def test_offline_makes_no_request_at_all(web: HostileWeb, wayback: FakeWayback, tmp_path: Path) -> None:
    article = make_article(
        web_ref("r1", web.url("/ok"), archive_url=f"{wayback.base_url}/web/2020/{web.url('/ok')}"),
        web_ref("r2", "file:///etc/passwd"),
    )
    report = run([article], wayback, tmp_path / "db.sqlite", offline=True)
    assert web.records == [] and wayback.total_requests() == 0
    assert not (tmp_path / "db.sqlite").exists()
    refs = refs_of(report)
    assert refs["r1"].status == LinkStatus.UNCHECKED and refs["r1"].checked_at is None
    assert refs["r2"].status == LinkStatus.INVALID
    assert report.offline and any("offline" in note and "no link" in note for note in report.notes)


def test_articles_without_urls_never_touch_the_archive() -> None:
    class Untouchable:
        base_url = "http://127.0.0.1:9"

        def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
            raise AssertionError("nearest called")

        def resolves(self, archive_url: str) -> Snapshot | None:
            raise AssertionError("resolves called")

        def save(self, url: str) -> Snapshot | None:
            raise AssertionError("save called")

    article = make_article({"id": "b", "type": "book", "title": "Only a book"})
    report = audit_articles([(article, "abc123")], archive=Untouchable(), config=CONFIG)
    assert report.articles[0].revision == "abc123"
    assert any("nothing was checked live" in note for note in report.notes)


def test_reaudit_within_ttl_makes_zero_requests(web: HostileWeb, wayback: FakeWayback, tmp_path: Path) -> None:
    dead = web.url("/missing")
    wayback.add({"url": dead, "timestamp": "20200101000000"})
    stored = f"{wayback.base_url}/web/20200101000000/{dead}"
    article = make_article(
        web_ref("a", web.url("/ok")),
        web_ref("b", dead, archive_url=stored),
        web_ref("c", web.url("/soft/x")),
        web_ref("d", web.url("/forbidden")),
    )
    db = tmp_path / "checks.sqlite"
    first = run([article], wayback, db)
    web_requests, archive_requests = len(web.records), wayback.total_requests()
    assert web_requests > 0 and archive_requests > 0

    second = run([article], wayback, db)
    assert len(web.records) == web_requests, "links were requested again within the TTL"
    assert wayback.total_requests() == archive_requests, "the archive was asked again within the TTL"
    assert all(ref.from_cache for ref in second.articles[0].references)
    # Same verdicts, problems and archives; only the cache flag differs.
    strip = {"from_cache"}
    assert [r.model_dump(exclude=strip) for r in second.articles[0].references] == [
        r.model_dump(exclude=strip) for r in first.articles[0].references
    ]

    run([article], wayback, db, refresh=True)
    assert len(web.records) > web_requests and wayback.total_requests() > archive_requests


def test_results_older_than_the_ttl_are_rechecked(web: HostileWeb, wayback: FakeWayback, tmp_path: Path) -> None:
    article = make_article(web_ref("a", web.url("/ok")))
    db = tmp_path / "checks.sqlite"
    now = dt.datetime.now(dt.UTC)
    run([article], wayback, db, clock=lambda: now)
    before = (len(web.records), wayback.total_requests())
    run([article], wayback, db, clock=lambda: now + dt.timedelta(hours=23))
    assert (len(web.records), wayback.total_requests()) == before
    run([article], wayback, db, clock=lambda: now + dt.timedelta(days=2))
    assert len(web.records) > before[0] and wayback.total_requests() > before[1]


def test_confirmed_dead_needs_spaced_failures(web: HostileWeb, wayback: FakeWayback, tmp_path: Path) -> None:
    article = make_article(web_ref("a", web.url("/gone")))
    db = tmp_path / "checks.sqlite"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    results = [
        refs_of(run([article], wayback, db, clock=lambda d=days: start + dt.timedelta(days=d)))["a"]
        for days in (0, 4, 8)
    ]
    assert [r.failures for r in results] == [1, 2, 3]
    assert [r.confirmed_dead for r in results] == [False, False, True]
    assert results[0].first_failed == results[2].first_failed == start
    assert "confirmed dead after 3 failed checks" in results[2].problems[0].message


def test_a_url_cited_by_several_articles_is_checked_once(web: HostileWeb, wayback: FakeWayback) -> None:
    url = web.url("/ok")
    articles = [make_article(web_ref(f"r{i}", url), slug=f"a{i}") for i in range(3)]
    events: list[AuditEvent] = []
    report = run(articles, wayback, progress=events.append)
    link_totals = {e.total for e in events if e.phase == AuditPhase.LINKS}
    assert link_totals == {1}
    assert web.count("/ok", method="HEAD") == 0 and web.count("/ok", method="GET") == 1
    assert [e.phase for e in events][:3] == [AuditPhase.STATIC] * 3
    assert events[-1].phase == AuditPhase.DONE
    assert [a.slug for a in report.articles] == ["a0", "a1", "a2"]
    assert all(a.references[0].status == LinkStatus.LIVE for a in report.articles)


def test_archive_failure_is_reported_not_raised(web: HostileWeb, tmp_path: Path) -> None:
    article = make_article(web_ref("a", web.url("/gone")))
    closed = WaybackArchive("http://127.0.0.1:9", use_cdx=False, retries=0, timeout=(0.5, 0.5))
    report = audit_articles([(article, None)], archive=closed, config=CONFIG, db_path=tmp_path / "db.sqlite")
    ref = refs_of(report)["a"]
    assert ref.status == LinkStatus.DEAD and codes(ref) == ["link-dead"]
    assert "archive coverage unknown" in ref.problems[0].message
    assert any("archive lookups failed" in note for note in report.notes)


def test_static_findings_are_attached_where_they_belong(wayback: FakeWayback) -> None:
    article = make_article(
        {"id": "b", "type": "book", "title": "B", "isbn": "978-0-306-40615-8"},
        see_also=["Nowhere"],
        source={"format": "text", "warnings": ["lost something"]},
    )
    data = article.model_dump()
    data["lead"][0]["claims"].append({"id": "c-2", "text": "Uncited claim."})
    article = Article.model_validate(data)
    report = audit_articles([(article, None)], offline=True, known_titles={"Elsewhere"}, today=TODAY)
    audit = report.articles[0]
    assert [p.code for p in audit.problems] == ["see-also-missing", "source-warning"]
    assert [(c.id, [p.code for p in c.problems]) for c in audit.claims] == [("c-1", []), ("c-2", ["claim-uncited"])]
    assert codes(audit.references[0]) == ["isbn-invalid"]
    assert audit.summary.claims == 2


def test_live_codes_are_documented() -> None:
    import wikicore.audit.report as audit

    assert audit.__doc__
    for code in LIVE_CODES:
        assert f"\n{code} " in audit.__doc__


def test_a_claim_whose_every_source_is_dead(web: HostileWeb, wayback: FakeWayback) -> None:
    data = make_article(web_ref("a", web.url("/gone")), web_ref("b", web.url("/missing?x"))).model_dump()
    data["lead"][0]["claims"].append({"id": "c-2", "text": "Half sourced.", "citations": [{"ref": "a"}, {"ref": "x"}]})
    data["references"].append(web_ref("x", web.url("/ok")))
    report = run([Article.model_validate(data)], wayback)
    claims = {c.id: [p.code for p in c.problems] for c in report.articles[0].claims}
    assert claims == {"c-1": ["claim-sources-dead"], "c-2": []}
    assert report.articles[0].claims[0].problems[0].severity == Severity.WARNING


def test_usurped_urls_are_not_fetched_but_their_archives_are(web: HostileWeb, wayback: FakeWayback) -> None:
    kept = web.url("/page/kept")
    wayback.add({"url": kept, "timestamp": "20150101000000"})
    article = make_article(
        web_ref("kept", kept, url_status="usurped", archive_url=f"{wayback.base_url}/web/20150101000000/{kept}"),
        web_ref("lost", web.url("/page/lost"), url_status="unfit"),
    )
    report = run([article], wayback)
    refs = refs_of(report)
    assert web.records == []
    assert refs["kept"].status == LinkStatus.UNCHECKED and refs["kept"].archive_resolves is True
    assert refs["kept"].problems == ()
    assert codes(refs["lost"]) == ["link-excluded-no-archive"]
    assert refs["lost"].problems[0].severity == Severity.ERROR


def test_a_stored_link_to_the_nearest_capture_costs_no_replay(web: HostileWeb, wayback: FakeWayback) -> None:
    url = web.url("/missing?stored")
    wayback.add({"url": url, "timestamp": "20200101000000"})
    wayback.add({"url": url, "timestamp": "20180101000000"})
    same = make_article(web_ref("r", url, archive_url=f"{wayback.base_url}/web/20200101000000/{url}"))
    report = run([same], wayback)
    assert refs_of(report)["r"].archive_resolves is True and wayback.counts["web"] == 0
    older = make_article(web_ref("r", url, archive_url=f"{wayback.base_url}/web/20180101000000/{url}"))
    report = run([older], wayback)
    assert refs_of(report)["r"].archive_resolves is True and wayback.counts["web"] >= 1


def test_a_failing_replay_keeps_the_batch_answers(web: HostileWeb, wayback: FakeWayback) -> None:
    url = web.url("/missing?replay")
    wayback.add({"url": url, "timestamp": "20200101000000"})
    wayback.fail("web", 500, times=10)
    stored = f"{wayback.base_url}/web/20190101000000/{url}"  # not the nearest capture: needs a replay
    report = run([make_article(web_ref("r", url, archive_url=stored))], wayback)
    ref = refs_of(report)["r"]
    assert ref.archive is not None and ref.archive_resolves is None
    assert codes(ref) == ["link-dead-archive-available"]
    assert any("archive lookups failed" in note for note in report.notes)


def test_notes_say_when_verdicts_come_from_the_cache(web: HostileWeb, wayback: FakeWayback, tmp_path: Path) -> None:
    article = make_article(web_ref("a", web.url("/ok")), web_ref("b", web.url("/page/1")))
    db = tmp_path / "checks.sqlite"
    assert not any("reused" in n for n in run([article], wayback, db).notes)
    notes = run([article], wayback, db).notes
    assert "2 of 2 link verdict(s) were reused from checks younger than 1 day(s); refresh=True rechecks them" in notes
    # A caller names the options its own way: the CLI's flags.
    notes = run([article], wayback, db, option_words={"refresh": "--refresh"}).notes
    assert "2 of 2 link verdict(s) were reused from checks younger than 1 day(s); --refresh rechecks them" in notes


def test_the_cli_notes_name_its_flags(web: HostileWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's notes name AuditOptions' fields; ``wikicore audit`` prints its flags in their place."""
    from click.testing import CliRunner

    from wikicore.cli import main
    from wikicore.serialize import dump_path

    monkeypatch.delenv("WIKICORE_WAYBACK_URL", raising=False)
    path = tmp_path / "flags.yaml"
    dump_path(make_article(web_ref("a", web.url("/ok")), slug="flags"), path)
    args = ["audit", str(path), "--allow-private", "--no-archive", "--cache", str(tmp_path / "c.sqlite"),
            "--format", "json", "--timeout", "5"]
    assert CliRunner().invoke(main, args).exit_code == 0
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["notes"] == [
        "--no-archive: archive coverage was not looked up",
        "1 of 1 link verdict(s) were reused from checks younger than 1 day(s); --refresh rechecks them",
    ]
