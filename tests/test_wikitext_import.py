"""Wikitext import: golden files for every fixture, then one test per rule (refs, sections, kept markup, repairs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import ImportFailed
from wikicore.importers import import_path, import_text
from wikicore.mediawiki.cs1 import parse_date, parse_ref_content
from wikicore.mediawiki.importer import import_wikitext, parse_redirect
from wikicore.models import Article, Reference, ReferenceType, UrlStatus
from wikicore.serialize import dumps

from .support.npmdata import ARTICLE_NAMES, real_articles  # noqa: F401  (fixture)
from .support.wikitext_cases import DATA, FIXTURE_IDS, FIXTURES


def load(name: str) -> Article:
    return import_path(DATA / f"{name}.wiki")


def refs_by_title(article: Article) -> dict[str | None, Reference]:
    return {r.title: r for r in article.references}


def claim(article: Article, start: str):  # type: ignore[no-untyped-def]
    return next(c for c in article.claims() if c.text.startswith(start))


# --- golden files -------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=FIXTURE_IDS)
def test_golden(path: Path) -> None:
    """The whole imported article is pinned; WIKICORE_UPDATE_GOLDEN=1 rewrites the files."""
    got = dumps(import_path(path))
    golden = path.with_suffix(".yaml")
    if os.environ.get("WIKICORE_UPDATE_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", FIXTURES, ids=FIXTURE_IDS)
def test_claims_rebuild_the_markup(path: Path) -> None:
    """Every claim's text is its markup rendered; markup is kept only when it differs."""
    for item in import_path(path).claims():
        assert item.wikitext != item.text
        assert "<ref" not in (item.wikitext or "")


# --- structure ----------------------------------------------------------------------


def test_sections_nest_by_heading_level() -> None:
    article = load("basic_sections")
    assert [s.heading for s in article.sections] == ["History", "Geography"]
    history = article.sections[0]
    assert [s.heading for s in history.sections] == ["Early years"]
    assert [s.heading for s in history.sections[0].sections] == ["A deep subsection"]
    assert len(article.lead) == 2
    assert article.lead[1].text == "It lies on the Test."


def test_title_and_slug_from_file_name_or_arguments() -> None:
    article = load("basic_sections")
    assert (article.title, article.slug) == ("Basic sections", "basic-sections")
    other = import_wikitext("Text.", title="Azerbaijan–Russia relations")
    assert other.slug == "azerbaijan-russia-relations"
    assert import_wikitext("Text.", title="X", slug="given").slug == "given"
    with pytest.raises(ImportFailed, match="no title"):
        import_wikitext("Text.")


# --- references and citations ---------------------------------------------------------


def test_named_ref_used_ten_times_is_one_reference_cited_ten_times() -> None:
    article = load("named_ref_ten_times")
    assert len(article.references) == 1
    ref = article.references[0]
    assert (ref.id, ref.name, ref.title) == ("r-same", "same", "Same source")
    assert [c.citations[0].ref for c in article.claims()] == ["r-same"] * 10


def test_named_ref_defined_in_infobox_is_cited_by_prose() -> None:
    article = load("basic_sections")
    census = article.reference("r-census")
    assert census is not None and census.publisher == "Stats Office"
    assert claim(article, "It has 1,234").citations[0].ref == "r-census"
    assert any(t.name == "Infobox settlement" for t in article.templates)


def test_grouped_refs_are_citations_and_the_group_is_reported() -> None:
    article = load("grouped_refs")
    bridge = claim(article, "The bridge")
    assert len(bridge.citations) == 2
    raws = [article.reference(c.ref).raw for c in bridge.citations]  # type: ignore[union-attr]
    assert raws[0] == "Measured at low tide."
    assert any("group 'note'" in w for w in article.source.warnings)  # type: ignore[union-attr]


def test_list_defined_refs() -> None:
    article = load("list_defined_refs")
    sleep = article.reference("r-sleep")
    assert sleep is not None
    assert (sleep.type, sleep.work, sleep.volume, sleep.issue, sleep.doi) == (
        ReferenceType.JOURNAL, "Journal of Cats", "3", "2", "10.1000/cats.2015")
    assert sleep.authors == ["Purr, Felix"]
    assert claim(article, "Cats").citations[0].locator == "10–20"


def test_page_quote_and_rp_become_locator_and_quote() -> None:
    article = load("locators_rp_quote")
    book = claim(article, "Claim with a page").citations[0]
    assert (book.locator, book.quote) == ("5", "Big things happen.")
    assert claim(article, "Claim with rp").citations[0].locator == "12"
    other = claim(article, "Same mag").citations[0]
    assert (other.ref, other.locator, other.quote) == ("r-mag", "14–15", "Other page text")
    assert claim(article, "Pages and at").citations[0].locator == "3–4"
    assert claim(article, "At a place").citations[0].locator == "plate 7"


def test_sfn_links_to_the_full_reference_by_surname_and_year() -> None:
    article = load("sfn")
    by_title = refs_by_title(article)
    old, new = by_title["Old Things"], by_title["New Things"]
    first = claim(article, "Short citations").citations[0]
    assert (first.ref, first.locator) == (old.id, "12")
    assert claim(article, "Another one").citations[0].ref == new.id
    assert claim(article, "A second use").citations[0] .ref == old.id
    missing = article.reference(claim(article, "And a missing").citations[0].ref)
    assert missing is not None and missing.raw == "{{sfn|Nobody|1999|p=1}}" and missing.type is ReferenceType.OTHER
    assert any("Nobody" in w for w in article.source.warnings)  # type: ignore[union-attr]


def test_cs1_both_parameter_generations() -> None:
    refs = refs_by_title(load("cs1_generations"))
    old = refs["Old style"]
    assert old.access_date == "2010-01-02" and old.archive_date == "2010-01-02"
    assert old.archive_url == "https://web.archive.org/web/20100102000000/http://old.example.org/page"
    assert old.url_status is UrlStatus.DEAD and old.authors == ["Old Author"]
    new = refs["New style"]
    assert new.url_status is UrlStatus.LIVE and new.authors == ["New, Nina", "Newer, Ned"]
    assert new.access_date == "2020-01-02"
    story = refs["A story"]
    assert (story.type, story.work, story.url_status, story.language) == (
        ReferenceType.NEWS, "The Daily", UrlStatus.LIVE, "fr")
    assert refs["Vancouver names"].authors == ["Smith AB", "Jones CD"]
    assert refs["Team page"].authors == ["The Team"] and refs["Team page"].type is ReferenceType.WEB
    assert refs["Citing"].type is ReferenceType.JOURNAL
    assert refs["The Film"].type is ReferenceType.VIDEO


def test_dead_link_after_or_inside_a_ref() -> None:
    refs = refs_by_title(load("dead_link"))
    gone = refs["Gone"]
    assert gone.url_status is UrlStatus.DEAD
    # The model has no field for the tag's date: it is kept in raw, after the ref's own text.
    assert gone.raw is not None and gone.raw.endswith("{{dead link|date=March 2019|bot=InternetArchiveBot}}")
    assert refs["Fine"].url_status is None
    assert refs["Inside"].url_status is UrlStatus.DEAD


def test_free_text_and_unknown_templates_keep_their_text() -> None:
    article = load("free_text_refs")
    raws = [r.raw for r in article.references]
    assert raws == [
        "Smith, John. ''A book without a template''. 1999.",
        "[http://bare.example.org/page A bare page], retrieved 2010.",
        "{{Harvnb|Smith|1999|p=3}}",
        "http://plain.example.org/",
    ]
    assert all(r.type is ReferenceType.OTHER for r in article.references)
    bare = article.references[1]
    assert (bare.url, bare.title) == ("http://bare.example.org/page", "A bare page")


# --- rendering of claim text ------------------------------------------------------------


def test_markup_and_entities_are_rendered_and_markup_kept() -> None:
    article = load("markup_entities")
    first = article.claims()[0]
    assert first.text == "Bold and italic text with a label and a Plain links. "
    assert first.wikitext == "'''Bold''' and ''italic'' text with a [[Page|label]] and a [[Plain link]]s. "
    entities = claim(article, "Entities")
    assert entities.text == "Entities\u00a0here: & — é. "
    assert entities.citations and entities.wikitext == "Entities&nbsp;here: &amp; &mdash; &#233;. "
    assert claim(article, "A bold sentence").text == "A bold sentence that ends here. "
    assert claim(article, "Then an external").text.startswith("Then an external link and small text.")
    multi = claim(article, "Line one")
    assert multi.text == "Line one of a paragraph\ncontinues on line two. "


def test_reference_fields_are_plain_text() -> None:
    ref = load("markup_entities").references[0]
    assert ref.title == "Entities & more"
    assert ref.url == "http://e.example.org/?a=1&amp;b=2"


def test_japanese_sentences_and_refs() -> None:
    article = load("japanese")
    assert [c.text for c in article.claims()] == [
        "東京は日本の首都である。", "人口は約1400万人である。", "「東京。」と呼ばれる。",
        "江戸時代には江戸と呼ばれた！", "本当か？",
    ]
    assert [len(c.citations) for c in article.claims()] == [1, 1, 0, 0, 1]
    assert article.references[0].language == "ja"
    assert article.sections[0].heading == "歴史"


def test_mixed_script_text_splits_at_each_script_boundary() -> None:
    texts = [c.text for c in load("mixed_script").claims()]
    assert texts == ["Tokyo (東京) is the capital of Japan.", "東京は大きい。", "It has many trains.",
                     "次の文です。 ", "Москва — столица России. ", "Done."]


def test_abbreviations_and_decimals_do_not_split() -> None:
    texts = [c.text for c in load("abbreviations").claims()]
    assert texts == [
        "The U.S. Army built it, e.g. the No. 5 gate. ",
        "It cost $3.5 million. ",
        "Dr. Smith approved it in the U.S. ",
        "He later left. ",
        "Mr. J. R. Doe disagreed.",
    ]


# --- the odd real-world shapes ------------------------------------------------------------


def test_collapsed_newlines_still_give_sections() -> None:
    article = load("collapsed_newlines")
    assert [s.heading for s in article.sections] == ["History", "References"]
    assert article.categories == ["Collapsed"]
    assert all(c.citations for c in article.claims()[1:])
    assert any("collapsed" in w for w in article.source.warnings)  # type: ignore[union-attr]


def test_html_escaped_refs_still_import() -> None:
    article = load("escaped_refs")
    assert len(article.references) == 2
    assert article.references[0].title == 'Escaped "quotes"'
    assert [c.citations[0].ref for c in article.claims()] == [article.references[0].id, "r-n", "r-n"]


def test_crlf_and_control_characters() -> None:
    article = import_wikitext("One.\r\nTwo\x0b.<ref>x</ref>\r\n", title="T")
    assert [c.text for c in article.claims()] == ["One.\n", "Two."]
    assert any("control" in w for w in article.source.warnings)  # type: ignore[union-attr]


# --- layout elements --------------------------------------------------------------------


def test_see_also_external_links_media_templates_categories() -> None:
    article = load("layout_elements")
    assert article.see_also == ["List of rivers", "Other River"]
    assert claim(article, "Delta").wikitext == "* [[Delta]] – where it ends"  # not a bare link: prose
    assert [(x.title, x.url) for x in article.external_links] == [
        ("Official site", "http://official.example.org"),
        ("Official website", "http://www.layout.example.org"),
    ]
    assert [(m.file, m.caption) for m in article.media] == [
        ("Layout view.jpg", "A view of the river at dawn."), ("Map.png", "The course")]
    course = article.sections[0]
    assert article.media[0].section is None and article.media[1].section == course.id
    names = [t.name for t in article.templates]
    assert names == ["About", "Infobox river", "#table", "Commons category", "Rivers of Example", "DEFAULTSORT:Layout"]
    assert article.templates[2].section == course.id
    assert article.categories == ["Rivers", "Examples|Layout"]
    # The ref inside the table is a reference (audits check it) that no claim cites.
    assert refs_by_title(article)["Table source"].id not in article.cited_reference_ids()


# --- redirects ------------------------------------------------------------------------------


def test_redirect_is_refused_with_its_target() -> None:
    assert parse_redirect((DATA / "redirect.wiki").read_text()) == "Target page"
    assert parse_redirect("#redirect: [[Foo_bar|x]]") == "Foo bar"
    assert parse_redirect("Text #REDIRECT [[X]]") is None
    with pytest.raises(ImportFailed, match="is a redirect to Target page"):
        load("redirect")


def test_cli_reports_a_redirect_with_exit_2() -> None:
    result = CliRunner().invoke(main, ["convert", str(DATA / "redirect.wiki")])
    assert result.exit_code == 2
    assert "is a redirect to Target page" in result.output


def test_registered_and_reachable_through_import_text() -> None:
    article = import_text("A claim.<ref>x</ref>", "wikitext", file_name="dir/My_page.wiki")
    assert article.title == "My page" and article.source is not None
    assert (article.source.format, article.source.file) == ("wikitext", "My_page.wiki")


# --- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2005", "2005"), ("2005a", "2005"), ("2010-1-2", "2010-01-02"), ("30 December 2013", "2013-12-30"),
     ("December 30, 2013", "2013-12-30"), ("Dec 30, 2013", "2013-12-30"), ("May 2010", "2010-05"),
     ("Spring 2010", None), ("31 February 2010", None), ("", None)],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_parse_ref_content_reads_the_first_cs1_template() -> None:
    content = parse_ref_content("{{cite web |url=//x.example.org |title=T |page=4}} and more text")
    assert content.fields["url"] == "https://x.example.org" and content.locator == "4"


# --- real articles ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in ARTICLE_NAMES if n != "redirect"])
def test_real_article_imports(name: str, real_articles: dict[str, Path]) -> None:  # noqa: F811
    text = real_articles[name].read_text(encoding="utf-8")
    article = import_path(real_articles[name], "wikitext")
    assert article.claims()
    has_refs = "<ref" in text or "&lt;ref" in text
    assert any(c.citations for c in article.claims()) == has_refs
    assert article.cited_reference_ids() <= {r.id for r in article.references}


def test_real_redirect_page(real_articles: dict[str, Path]) -> None:  # noqa: F811
    with pytest.raises(ImportFailed, match="redirect to Toronto"):
        import_path(real_articles["redirect"], "wikitext")


def test_a_paragraph_of_refs_only_supports_the_claim_before_it() -> None:
    article = import_wikitext("Alpha is first.\n\n<ref>a</ref><ref>b</ref>\n\nBeta.", title="T")
    assert [(c.text, len(c.citations)) for c in article.claims()] == [("Alpha is first.", 2), ("Beta.", 0)]
    alone = import_wikitext("<ref>a</ref>\n<ref>b</ref>", title="T")
    assert [(c.text, len(c.citations)) for c in alone.claims()] == [("", 2)]


def test_a_ref_between_apostrophe_runs_keeps_them_apart() -> None:
    article = import_wikitext("'''[[X|Y]]'''<ref>a</ref>''':''' rest.", title="T")
    claim_ = article.claims()[0]
    assert claim_.text == "Y: rest."
    assert claim_.wikitext == "'''[[X|Y]]'''<nowiki/>''':''' rest."


PARAGRAPHS = (
    "The river is long. It flows north. It floods every spring.<ref>Survey, 2001.</ref>\n\n"
    "The town was founded in 1820.<ref>Town records.</ref> Its mayor is elected yearly."
    "{{citation needed|date=May 2010}} The school opened later. Trade grew quickly.<ref name=\"x\">Ledger.</ref>\n\n"
    "Each sentence has its own.<ref>One.</ref> And so does this one.<ref>Two.</ref>\n"
)


def test_a_citation_ending_a_paragraph_is_recorded_as_covering_it() -> None:
    article = import_wikitext(PARAGRAPHS, title="River")
    first, second, third = article.lead
    assert [[c.covers for c in claim.citations] for claim in first.claims] == [[], [], ["paragraph"]]
    assert [[c.ref for c in support] for support in first.support()] == [[first.claims[2].citations[0].ref]] * 3
    assert [claim.citation_needed for claim in second.claims] == [False, True, False, False]
    assert [[c.covers for c in claim.citations] for claim in second.claims] == [["claim"], [], [], ["paragraph"]]
    assert [bool(support) for support in second.support()] == [True, False, True, True]
    # Cited sentence by sentence: nothing to cover, stored as before.
    assert [[c.covers for c in claim.citations] for claim in third.claims] == [["claim"], ["claim"]]
    assert "covers" not in dumps(article).split("- claims:")[3]
    assert dumps(article).count("covers: paragraph") == 2 and dumps(article).count("citation_needed: true") == 1


def test_refs_on_their_own_line_still_end_the_paragraph_before_them() -> None:
    article = import_wikitext("The river is long. It flows north.\n<ref>Survey.</ref>\n", title="River")
    claims = article.lead[0].claims
    assert [[c.covers for c in claim.citations] for claim in claims][-1] == ["paragraph"]
    assert all(article.lead[0].support())
