"""``audit --all`` in one pass: which articles an audit of a wiki covers, decided in the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import wikicore
import wikicore.audit.static as checks
import wikicore.store.validate as store  # where the store parses articles
from wikicore.audit import KnownTitles, audit_wiki, run_static_checks, wiki_audit_targets
from wikicore.cli import main
from wikicore.errors import InvalidInput, InvalidSlug, NotFound
from wikicore.serialize import dump_path
from wikicore.store import Wiki

from .support.wiki_helpers import article


def _wiki(tmp_path: Path) -> Wiki:
    """Four articles over six commits, one renamed, one edited after others were added."""
    wiki = Wiki.init(tmp_path / "w")
    wiki.save(article("alpha", title="Alpha"), "add alpha")
    wiki.save(article("beta", title="Beta"), "add beta")
    data = article("gamma", title="Gamma").model_dump(exclude_defaults=True)
    data.update(aliases=["Third letter"], see_also=["Alpha", "beta", "Delta", "Third_letter", "Nowhere"])
    wiki.save(type(article())(**data), "add gamma")
    latest = wiki.latest("alpha")
    assert latest is not None
    wiki.save(article("alpha", title="Alpha", claims=["Changed. "]), "edit alpha", base=latest.id)
    wiki.save(article("delta-old", title="Delta"), "add delta")
    wiki.rename("delta-old", "delta")
    return wiki


def test_latest_all_matches_load_and_latest_per_article(tmp_path: Path) -> None:
    with _wiki(tmp_path) as wiki:
        everything = wiki.latest_all()
        assert [a.slug for a, _ in everything] == wiki.list() == ["alpha", "beta", "delta", "gamma"]
        for art, revision in everything:
            assert art == wiki.load(art.slug)
            assert revision == wiki.latest(art.slug)
        assert everything[0][1] is not None and everything[0][1].message == "edit alpha"
        assert everything[2][1] is not None and everything[2][1].message == "Rename delta-old to delta"


def test_latest_all_of_an_empty_wiki(tmp_path: Path) -> None:
    with Wiki.init(tmp_path / "w") as wiki:
        assert wiki.latest_all() == []
        with pytest.raises(InvalidInput, match="the wiki has no articles"):
            wiki_audit_targets(wiki, all_articles=True)


def test_every_article_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str | None] = []
    real = store.loads

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("source"))
        return real(text, *args, **kwargs)

    with _wiki(tmp_path) as wiki:
        monkeypatch.setattr(store, "loads", counting)
        report = audit_wiki(wiki, all_articles=True, offline=True)
    assert len(report.articles) == 4
    assert len(calls) == 4, calls


def test_titles_are_normalised_once_per_audit_not_per_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The static checks share one normalised title set: normalising grows with titles + see-also, not their product."""
    calls = 0
    real = checks.normalise_title

    def counting(title: str) -> str:
        nonlocal calls
        calls += 1
        return real(title)

    wiki = Wiki.init(tmp_path / "w")
    for i in range(30):
        wiki.save(article(f"a{i}", title=f"Article {i}"), f"add {i}")
    monkeypatch.setattr(checks, "normalise_title", counting)
    report = audit_wiki(wiki, all_articles=True, offline=True)
    wiki.close()
    assert len(report.articles) == 30
    assert calls <= 30 + 30 * 1, calls  # 30 titles once, then each article's own title (30 x 30 = 900 before)


def test_targets_in_order_then_the_rest_each_once(tmp_path: Path) -> None:
    outside = article("outside", title="Outside")
    with _wiki(tmp_path) as wiki:
        pairs, titles = wiki_audit_targets(wiki, ["gamma", outside, "alpha", "gamma"], all_articles=True)
        assert [a.slug for a, _ in pairs] == ["gamma", "outside", "alpha", "beta", "delta"]
        assert pairs[1][1] is None
        latest = wiki.latest("alpha")
        assert latest is not None and pairs[2][1] == latest.id
        assert titles is not None and "third letter" in titles and "Outside" not in titles
        only, _ = wiki_audit_targets(wiki, ["beta"])
        assert [a.slug for a, _ in only] == ["beta"]
        with pytest.raises(NotFound, match="no article 'nope' in the wiki"):
            wiki_audit_targets(wiki, ["nope"])
        with pytest.raises(InvalidSlug):
            wiki_audit_targets(wiki, ["../etc"])


def test_files_alone_need_no_wiki_and_skip_see_also() -> None:
    pairs, titles = wiki_audit_targets(None, [article("x")])
    assert [a.slug for a, _ in pairs] == ["x"] and titles is None
    with pytest.raises(InvalidInput):
        wiki_audit_targets(None, ["a-slug"])


def test_see_also_findings_unchanged_by_the_shared_set(tmp_path: Path) -> None:
    with _wiki(tmp_path) as wiki:
        report = audit_wiki(wiki, ["gamma"], offline=True)
    codes = [(p.code, p.message) for p in report.articles[0].problems if p.code == "see-also-missing"]
    assert codes == [("see-also-missing", "see also 'Nowhere': no such article in the wiki")]
    plain = run_static_checks(article("x"), known_titles={"A"})
    assert plain == run_static_checks(article("x"), known_titles=KnownTitles(["A"]))


def test_options_object_and_keywords_are_one_audit(tmp_path: Path) -> None:
    """``AuditOptions`` carries the settings; keywords are shorthand for its fields, applied over it."""
    import datetime as dt

    from wikicore.audit import AuditOptions

    at = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    with _wiki(tmp_path) as wiki:
        by_object = audit_wiki(wiki, ["gamma"], options=AuditOptions(offline=True, clock=lambda: at))
        by_keywords = audit_wiki(wiki, ["gamma"], offline=True, clock=lambda: at)
        overridden = audit_wiki(wiki, ["gamma"], options=AuditOptions(clock=lambda: at), offline=True)
    assert by_object == by_keywords == overridden and by_object.offline
    options = AuditOptions(offline=True)
    assert options.replace() is options and options.replace(refresh=True) == AuditOptions(offline=True, refresh=True)
    with pytest.raises(AttributeError):
        options.offline = False  # type: ignore[misc]


def test_audit_wiki_is_public() -> None:
    assert wikicore.audit_wiki is audit_wiki and "audit_wiki" in wikicore.__all__


def test_cli_audit_all_offline_covers_every_article_and_files(tmp_path: Path, runner: Any) -> None:
    wiki = _wiki(tmp_path)
    wiki.close()
    extra = tmp_path / "extra.yaml"
    dump_path(article("extra", title="Extra"), extra)
    result = runner.invoke(main, ["--wiki", str(tmp_path / "w"), "audit", str(extra), "--all", "--offline",
                                  "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    slugs = [a["slug"] for a in json.loads(result.stdout)["articles"]]
    assert slugs == ["extra", "alpha", "beta", "delta", "gamma"]
    missing = runner.invoke(main, ["--wiki", str(tmp_path / "w"), "audit", "nope", "--offline"])
    assert missing.exit_code == 2 and "no article 'nope'" in missing.stderr
