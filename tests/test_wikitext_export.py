"""Wikitext export: import(export(a)) == a on every fixture and real article, and the emitted shapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wikicore.cli import main
from wikicore.errors import ImportFailed
from wikicore.exporters import export
from wikicore.importers import import_path
from wikicore.mediawiki.exporter import cs1_template, export_wikitext
from wikicore.mediawiki.importer import import_wikitext
from wikicore.models import Article, Citation, Claim, Paragraph, Reference, ReferenceType, Section, UrlStatus

from .support.npmdata import ARTICLE_NAMES, real_articles  # noqa: F401  (fixture)
from .support.wikitext_cases import DATA, FIXTURE_IDS, FIXTURES, without_source


def reimport(article: Article) -> Article:
    return import_wikitext(export_wikitext(article), slug=article.slug, title=article.title)


def assert_round_trip(article: Article) -> None:
    again = reimport(article)
    assert again.claims() == article.claims()
    assert again.references == article.references
    # Everything else survives as well: sections, templates, media, links, categories.
    assert without_source(again) == without_source(article)


@pytest.mark.parametrize("path", FIXTURES, ids=FIXTURE_IDS)
def test_round_trip_on_every_fixture(path: Path) -> None:
    assert_round_trip(import_path(path))


@pytest.mark.parametrize("path", FIXTURES, ids=FIXTURE_IDS)
def test_export_is_stable(path: Path) -> None:
    """Export, import, export: the second export is the same text as the first."""
    first = export_wikitext(import_path(path))
    assert export_wikitext(import_wikitext(first, title="X")) == first


@pytest.mark.parametrize("name", [n for n in ARTICLE_NAMES if n != "redirect"])
def test_round_trip_on_real_articles(name: str, real_articles: dict[str, Path]) -> None:  # noqa: F811
    assert_round_trip(import_path(real_articles[name], "wikitext"))


def test_named_refs_defined_once_then_reused() -> None:
    text = export_wikitext(import_path(DATA / "named_ref_ten_times.wiki"))
    assert text.count('<ref name="same">') == 1
    assert text.count('<ref name="same" />') == 9
    assert text.index('<ref name="same">') < text.index('<ref name="same" />')


def test_refs_defined_in_kept_markup_are_only_reused() -> None:
    text = export_wikitext(import_path(DATA / "list_defined_refs.wiki"))
    assert 'Cats sleep a lot.<ref name="sleep" />' in text
    assert text.count('<ref name="sleep">') == 1  # the one inside {{reflist|refs=}}


def test_sfn_citations_stay_short() -> None:
    text = export_wikitext(import_path(DATA / "sfn.wiki"))
    assert "bibliography.{{sfn|Smith|2005|p=12}}" in text
    assert "{{sfn|Smith|Jones|2010|pp=3–4}}" in text
    assert "{{sfn|Nobody|1999|p=1}}" in text


def test_rp_is_written_when_the_locator_differs_from_the_template() -> None:
    text = export_wikitext(import_path(DATA / "locators_rp_quote.wiki"))
    assert "{{rp|12}}" in text
    assert "{{rp|14–15|quote=Other page text}}" in text
    assert "Claim with a page.<ref name=\"book\">{{cite book |last=Roe" in text  # page=5 is in the template


def test_unedited_references_are_written_back_verbatim() -> None:
    article = import_path(DATA / "cs1_generations.wiki")
    text = export_wikitext(article)
    for ref in article.references:
        assert f"<ref>{ref.raw}</ref>" in text


def test_edited_reference_gets_a_modern_cs1_template() -> None:
    article = import_path(DATA / "dead_link.wiki")
    gone = article.references[0]
    rescued = gone.model_copy(update={"archive_url": "https://web.archive.org/web/2019/http://gone.example.org/",
                                      "archive_date": "2019-03-01"})
    edited = article.model_copy(update={"references": [rescued, *article.references[1:]]})
    text = export_wikitext(edited)
    assert (f'<ref name="{rescued.id}">{{{{cite web |title=Gone |url=http://gone.example.org/ '
            "|archive-url=https://web.archive.org/web/2019/http://gone.example.org/ "
            "|archive-date=2019-03-01 |url-status=dead}}") in text
    again = reimport(edited)
    # The id survives (it is written as the ref's name); raw is the new template.
    assert again.references[0].name == rescued.id
    fields = {"name", "raw"}
    assert again.references[0].model_dump(exclude=fields) == rescued.model_dump(exclude=fields)
    assert again.claims() == edited.claims()


def test_hand_written_article_exports_and_reimports() -> None:
    ref = Reference(id="r-book", type=ReferenceType.BOOK, title="A | B", authors=["Doe, Jane", "Team X"],
                    date="1999-05", publisher="P", isbn="978-0-00-000000-2", url_status=UrlStatus.LIVE)
    article = Article(
        slug="hand", title="Hand",
        lead=[Paragraph(claims=[
            Claim(id="c-1", text="First claim. ", citations=[Citation(ref="r-book", locator="4")]),
            Claim(id="c-2", text="Uses [[brackets]] and ''quotes''.", citations=[Citation(ref="r-book")]),
        ])],
        sections=[Section(id="s-1", heading="Later", paragraphs=[Paragraph(claims=[Claim(id="c-3", text="Text.")])])],
        references=[ref],
    )
    text = export_wikitext(article)
    assert "Uses &#91;&#91;brackets&#93;&#93; and &#39;&#39;quotes&#39;&#39;." in text
    again = reimport(article)
    assert [c.text for c in again.claims()] == [c.text for c in article.claims()]
    assert [c.citations for c in again.claims()] == [
        [Citation(ref="r-book", locator="4")], [Citation(ref="r-book")], []]
    back = again.references[0]
    # Cited twice, it became a named ref (its id is the name) and its fields survive.
    assert back.name == "r-book"
    assert back.model_dump(exclude={"name", "raw"}) == ref.model_dump(exclude={"name", "raw"})


def test_cs1_template_escapes_pipes() -> None:
    ref = Reference(id="r-x", type=ReferenceType.WEB, title="A | B", url="http://x.example.org/?a=b")
    assert cs1_template(ref) == "{{cite web |title=A &#124; B |url=http://x.example.org/?a=b}}"


def test_layout_is_restored() -> None:
    text = export_wikitext(import_path(DATA / "layout_elements.wiki"))
    assert text.startswith("{{About|the town|the river|Layout River}}\n{{Infobox river")
    assert "== See also ==\n* [[Delta]] – where it ends\n* [[List of rivers]]\n* [[Other River]]" in text
    assert "* [http://official.example.org Official site]" in text
    assert text.endswith("[[Category:Rivers]]\n[[Category:Examples|Layout]]\n")


def test_cli_convert_to_wikitext(tmp_path: Path) -> None:
    out = tmp_path / "out.wiki"
    result = CliRunner().invoke(main, ["convert", str(DATA / "basic_sections.wiki"), "--to", "wikitext",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == export(import_path(DATA / "basic_sections.wiki"), "wikitext")


# --- property: round trip on generated wikitext --------------------------------------------

_WORDS = st.sampled_from([
    "Alpha", "beta", "U.S.", "3.5", "東京", "e.g.", "No.", "[[Link]]", "[[A|b]]", "'''bold'''", "''it''",
    "'''x", "''", "'''''", "&amp;", "&nbsp;", "{{cn}}", "<!-- c -->", "[http://x.example.org X]", "«q»",
])
_ENDS = st.sampled_from([".", "!", "?", "。", ""])
_REFS = st.sampled_from([
    "", "<ref>free text</ref>", '<ref name="a">{{cite web |url=http://a.example.org |title=A |page=3}}</ref>',
    '<ref name="a" />', '<ref name="b">{{cite book |title=B |last=Roe |first=R |year=2001}}</ref>{{rp|7}}',
    "<ref>{{cite news |title=N |url=//n.example.org}}</ref>{{dead link|date=May 2020}}",
    "{{sfn|Roe|2001|p=4}}", '<ref name="b" />', '<ref group="n">g</ref>', "<ref name=z/>",
    '<ref name="q">{{cite journal |vauthors=Ab C, De F |title=J |journal=JJ |date=May 2001 |pages=1–2}}</ref>',
    "<ref>[http://f.example.org Free]</ref><ref>another</ref>", "{{sfn|Nobody|1|p=2}}",
])
_SENTENCE = st.builds(lambda ws, end, ref, space: " ".join(ws) + end + ref + space,
                      st.lists(_WORDS, min_size=1, max_size=5), _ENDS, _REFS,
                      st.sampled_from([" ", "", "\n", "  "]))
_BLOCK = st.one_of(
    st.builds("".join, st.lists(_SENTENCE, min_size=1, max_size=4)),
    st.sampled_from([
        "== History ==", "== See also ==", "=== Notes ===", "== 歴史 ==", "== External links ==",
        "* [[Item]]", "* item text.<ref>x</ref>", "{{Infobox x|a=1}}", "[[File:F.jpg|thumb|Cap]]",
        "[[Category:C]]", '{{Infobox y|b=2<ref name="z"/>}}', "* [http://e.example.org E]",
        '{{reflist|refs=<ref name="q">{{cite web |url=http://q.example.org |title=Q}}</ref>}}',
        "{| class=x\n|a<ref>tab</ref>\n|}", "<references/>",
    ]),
)
_DOCUMENT = st.builds("\n\n".join, st.lists(_BLOCK, min_size=1, max_size=6))


@settings(max_examples=int(os.environ.get("WIKICORE_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENT)
# Found by Hypothesis: two lines that each held a lone {{cn}} and a ref; export put both refs on the
# first line, so the second {{cn}} stood alone and was read back as a block, out of the claim.
@example("Alpha.\n{{cn}}<ref>free text</ref>\n{{cn}}<ref>free text</ref> ")
# A sibling (seed 777, 3000 examples): apostrophes between two refs; each ref's <nowiki/> check
# read across the other ref as if it were gone, so neither kept its side apart.
@example("''it''<ref>free text</ref>''<ref>free text</ref>''it''. ")
def test_round_trip_on_generated_wikitext(text: str) -> None:
    assert_round_trip(import_wikitext(text, title="Generated"))


@settings(max_examples=int(os.environ.get("WIKICORE_EXAMPLES", "200")), deadline=None)
@given(st.text())
def test_any_text_imports_or_fails_cleanly(text: str) -> None:
    try:
        article = import_wikitext(text, title="Anything")
    except ImportFailed:
        return
    assert_round_trip(article)


@pytest.mark.parametrize("text", [
    "Alpha.\n{{cn}}<ref>free text</ref>\n{{cn}}<ref>free text</ref> ",
    "Alpha.\n{{cn}}<ref>a</ref><ref>b</ref>\n{{cn}}<ref>a</ref>\n{{cn}}{{sfn|Roe|2001|p=4}}\nOmega.",
    'Alpha.\n{{cn}}<ref name="n">x</ref>{{rp|3}}\n[[File:F.jpg]]<ref name="n" />\nOmega.<ref>c</ref>',
    # ... and a ref alone on the last line, which keeps the line break before it in the claim,
    "Alpha.\n{{cn}}<ref>a</ref>\n{{cn}}<ref>b</ref>\n<ref>c</ref>",
    "Alpha.\n{{cn}}<ref>a</ref>\n<ref>c</ref>",
    # ... and refs in front of the paragraph's first line as well.
    "<ref>z</ref>\n{{cn}}<ref>b</ref>\n{{cn}}<ref>c</ref>",
])
def test_each_line_that_held_a_ref_gets_one_back(text: str) -> None:
    """Refs on several lines of one claim: each line that would stand alone as a block keeps one."""
    article = import_wikitext(text, title="Lines")
    exported = export_wikitext(article)
    for line in exported.splitlines()[1:-1]:
        assert "<ref" in line or "{{sfn" in line or not line.startswith(("{{", "[[")), exported
    assert_round_trip(article)


def test_paragraph_end_citations_round_trip_character_for_character() -> None:
    from .test_wikitext_import import PARAGRAPHS

    article = import_wikitext(PARAGRAPHS, title="River")
    assert sum(c.covers == "paragraph" for claim in article.claims() for c in claim.citations) == 2
    assert export_wikitext(article) == PARAGRAPHS
    assert_round_trip(article)


@pytest.mark.parametrize("name", ["anarchism", "toronto", "toronto_star"])
def test_real_paragraph_citations_and_tags_survive_the_round_trip(
    name: str, real_articles: dict[str, Path],  # noqa: F811
) -> None:
    article = import_path(real_articles[name], "wikitext")
    flagged = [(claim.id, c.ref) for claim in article.claims() for c in claim.citations if c.covers == "paragraph"]
    tagged = [claim.id for claim in article.claims() if claim.citation_needed]
    assert flagged or tagged
    again = reimport(article)
    assert [(claim.id, c.ref) for claim in again.claims() for c in claim.citations if c.covers == "paragraph"] \
        == flagged
    assert [claim.id for claim in again.claims() if claim.citation_needed] == tagged
