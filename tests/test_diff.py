"""Semantic diffs: matching by id and by text, inline diffs, alerts, and the three renderings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wikicore.diff import AlertKind, ArticleDiff, Change, MatchKind, SegmentOp, diff_articles, inline_diff
from wikicore.models import Article
from wikicore.report.diff import render_diff_html, render_diff_json, render_diff_text
from wikicore.schema import schemas


def make(claims: list[dict[str, Any]] | None = None, sections: list[dict[str, Any]] | None = None,
         refs: list[dict[str, Any]] | None = None, **fields: Any) -> Article:
    return Article.model_validate({
        "slug": "a", "title": "A", "lead": [{"claims": claims or []}], "sections": sections or [],
        "references": refs if refs is not None else [{"id": "r1", "url": "http://a.example/x"},
                                                     {"id": "r2", "url": "http://b.example/y"}],
        **fields,
    })


def claim(cid: str, text: str, *refs: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "text": text, "citations": [{"ref": r} for r in refs], **extra}


def kinds(diff: ArticleDiff) -> list[AlertKind]:
    return [alert.kind for alert in diff.alerts]


def test_identical_articles_have_an_empty_diff() -> None:
    article = make([claim("c1", "One. ", "r1")])
    diff = diff_articles(article, article)
    assert diff.empty and diff.claims == [] and diff.alerts == [] and diff.summary.claims_unchanged == 1
    assert "no changes" in render_diff_text(diff)


def test_text_change_is_matched_by_id_with_a_word_level_inline_diff() -> None:
    old = make([claim("c1", "The treaty was signed in 1997 in Moscow. ", "r1")])
    new = make([claim("c1", "The treaty was ratified in 1998 in Moscow. ", "r1")])
    (change,) = diff_articles(old, new).claims
    assert change.kind == Change.CHANGED and change.matched_by == MatchKind.ID and change.text_changed
    deleted = [s.text for s in change.inline if s.op == SegmentOp.DELETE]
    inserted = [s.text for s in change.inline if s.op == SegmentOp.INSERT]
    assert deleted == ["signed", "1997"] and inserted == ["ratified", "1998"]
    assert "".join(s.text for s in change.inline if s.op != SegmentOp.INSERT) == old.claims()[0].text
    assert "".join(s.text for s in change.inline if s.op != SegmentOp.DELETE) == new.claims()[0].text


def test_cjk_text_is_diffed_per_character() -> None:
    segments = inline_diff("アゼルバイジャンとロシアの関係", "アゼルバイジャンと日本の関係")
    assert [(s.op, s.text) for s in segments] == [
        (SegmentOp.EQUAL, "アゼルバイジャンと"), (SegmentOp.DELETE, "ロシア"), (SegmentOp.INSERT, "日本"),
        (SegmentOp.EQUAL, "の関係"),
    ]


def test_claims_without_shared_ids_pair_up_by_text_similarity() -> None:
    old = make([claim("c-old1", "Baku hosts the Russian embassy in Azerbaijan. "),
                claim("c-old2", "Completely different sentence about trade. ")])
    new = make([claim("c-new1", "Baku hosts the embassy of Russia in Azerbaijan. "),
                claim("c-new2", "Zebras are striped.")])
    diff = diff_articles(old, new)
    by_kind = {(c.kind, c.id) for c in diff.claims}
    changed = next(c for c in diff.claims if c.kind == Change.CHANGED)
    assert changed.old_id == "c-old1" and changed.id == "c-new1" and changed.matched_by == MatchKind.TEXT
    assert changed.similarity is not None and changed.similarity >= 0.6
    assert (Change.ADDED, "c-new2") in by_kind and (Change.REMOVED, "c-old2") in by_kind


def test_text_matching_is_greedy_best_first() -> None:
    old = make([claim("o1", "Alpha beta gamma delta. "), claim("o2", "Alpha beta gamma delta epsilon. ")])
    new = make([claim("n1", "Alpha beta gamma delta epsilon! ")])
    (changed,) = [c for c in diff_articles(old, new).claims if c.kind == Change.CHANGED]
    assert changed.old_id == "o2"


def test_claim_moved_between_sections_and_section_changes() -> None:
    old = make([claim("c1", "Lead claim. ", "r1")], sections=[
        {"id": "s1", "heading": "History", "paragraphs": [{"claims": [claim("c2", "Moves. ", "r1")]}]},
        {"id": "s2", "heading": "Economy"},
        {"id": "s3", "heading": "Gone"},
    ])
    new = make([claim("c1", "Lead claim. ", "r1")], sections=[
        {"id": "s2", "heading": "Economic relations", "paragraphs": [{"claims": [claim("c2", "Moves. ", "r1")]}]},
        {"id": "s1", "heading": "History"},
        {"id": "s4", "heading": "New"},
    ])
    diff = diff_articles(old, new)
    (moved,) = diff.claims
    assert moved.moved and not moved.text_changed and (moved.old_section, moved.new_section) == ("s1", "s2")
    sections = {s.id: s for s in diff.sections}
    assert sections["s2"].renamed and sections["s2"].new_heading == "Economic relations"
    assert sections["s2"].moved or ("s1" in sections and sections["s1"].moved)
    assert sections["s3"].kind == Change.REMOVED and sections["s4"].kind == Change.ADDED


def test_citations_added_and_removed_and_alerts_on_sources() -> None:
    old = make([claim("c1", "Sourced once. ", "r1"), claim("c2", "Sourced twice. ", "r1", "r2")])
    new = make([claim("c1", "Sourced once. "), claim("c2", "Sourced twice. ", "r2"),
                claim("c3", "Brand new and unsourced. ")])
    diff = diff_articles(old, new)
    changes = {c.id: c for c in diff.claims}
    assert [c.ref for c in changes["c1"].citations_removed] == ["r1"]
    assert [c.ref for c in changes["c2"].citations_removed] == ["r1"]
    assert changes["c3"].kind == Change.ADDED
    assert kinds(diff) == [AlertKind.SOURCE_LOST, AlertKind.UNSOURCED_CLAIM_ADDED]
    assert diff.alerts[0].claim_id == "c1" and "only source" in diff.alerts[0].message


def test_reference_alerts_archive_and_quotes() -> None:
    refs_old = [
        {"id": "r1", "url": "http://old.example/page", "archive_url": "https://web.archive.org/web/2020/http://old.example/page"},
        {"id": "r2", "url": "http://b.example/", "archive_url": "https://web.archive.org/web/2019/http://b.example/"},
        {"id": "r3", "title": "Book", "quote": "as printed"},
        {"id": "r4", "title": "Dropped"},
    ]
    refs_new = [
        {"id": "r1", "url": "https://new.example/page", "archive_url": "https://web.archive.org/web/2020/http://old.example/page"},
        {"id": "r2", "url": "http://b.example/"},
        {"id": "r3", "title": "Book", "quote": "as misprinted"},
        {"id": "r5", "title": "Added", "access_date": "2024-01-02"},
    ]
    cite_old = [claim("c1", "Quoted. ", quote_ref := "r3")]
    cite_old[0]["citations"][0]["quote"] = "the original words"
    cite_new = [claim("c1", "Quoted. ", quote_ref)]
    cite_new[0]["citations"][0]["quote"] = "the edited words"
    diff = diff_articles(make(cite_old, refs=refs_old), make(cite_new, refs=refs_new))
    assert set(kinds(diff)) == {AlertKind.ARCHIVE_POINTS_AT_OLD_URL, AlertKind.ARCHIVE_REMOVED,
                                AlertKind.QUOTE_EDITED}
    assert sum(k == AlertKind.QUOTE_EDITED for k in kinds(diff)) == 2  # citation quote and reference quote
    refs = {r.id: r for r in diff.references}
    assert refs["r4"].kind == Change.REMOVED and refs["r5"].kind == Change.ADDED
    assert [(f.field, f.old, f.new) for f in refs["r1"].fields] == [
        ("url", "http://old.example/page", "https://new.example/page")]
    (quote,) = diff.claims[0].quotes_changed
    assert (quote.old_quote, quote.new_quote) == ("the original words", "the edited words")


def test_archive_that_follows_the_new_url_is_fine() -> None:
    old = make(refs=[{"id": "r1", "url": "http://a.example/", "archive_url": "https://web.archive.org/web/1/http://a.example/"}])
    new = make(refs=[{"id": "r1", "url": "http://c.example/", "archive_url": "https://web.archive.org/web/2/http://c.example/"}])
    assert kinds(diff_articles(old, new)) == []


def test_article_fields_and_creation() -> None:
    new = make([claim("c1", "One. ", "r1")], categories=["X"])
    diff = diff_articles(make([claim("c1", "One. ", "r1")]), new)
    assert [(f.field, f.old, f.new) for f in diff.fields] == [("categories", [], ["X"])]
    created = diff_articles(None, new)
    assert [c.kind for c in created.claims] == [Change.ADDED] and created.summary.claims_added == 1
    with pytest.raises(ValueError):
        diff_articles(None, None)


def test_removed_claims_are_placed_where_they_stood() -> None:
    old = make([claim("c1", "One. "), claim("c2", "Two. "), claim("c3", "Three. ")])
    new = make([claim("c1", "One. "), claim("c3", "Three, changed. ")])
    assert [(c.kind, c.id) for c in diff_articles(old, new).claims] == [
        (Change.REMOVED, "c2"), (Change.CHANGED, "c3")]


def test_many_reimported_claims_still_pair_up() -> None:
    texts = [f"Sentence number {i} talks about topic {i * 7 % 13} and place {i % 5}. " for i in range(300)]
    old = make([claim(f"o{i}", t) for i, t in enumerate(texts)])
    new = make([claim(f"n{i}", t.replace("talks", "speaks")) for i, t in enumerate(texts)])
    diff = diff_articles(old, new)
    assert diff.summary.claims_changed == 300
    assert all(c.old_id == "o" + c.id[1:] for c in diff.claims)


# --- rendering ---------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script><img src="http://evil.example/p.png"> & \'q\''


def hostile_diff() -> ArticleDiff:
    old = make([claim("c1", "Plain. ", "r1")], sections=[{"id": "s1", "heading": "H<b>"}],
               refs=[{"id": "r1", "url": "http://a.example/", "title": "T", "archive_url": "https://w/http://a.example/"}])
    new = make([claim("c1", f"Plain {HOSTILE}. ", "r1"), claim("c2", HOSTILE)],
               sections=[{"id": "s1", "heading": f"H {HOSTILE}"}],
               refs=[{"id": "r1", "url": "javascript:alert(1)", "title": HOSTILE}])
    return diff_articles(old, new, old_revision="a" * 40, new_revision="b" * 40)


def test_html_is_self_contained_and_escapes_everything() -> None:
    from html.parser import HTMLParser

    page = render_diff_html(hostile_diff())
    tags: set[str] = set()
    attributes: set[str] = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attributes.update(name for name, _ in attrs)

    Collect().feed(page)
    # Only structure and inline style: nothing that could load or run anything.
    assert tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "div", "span",
                    "table", "colgroup", "col", "tr", "th", "td", "code", "del", "ins", "br"}
    assert attributes <= {"lang", "charset", "http-equiv", "content", "name", "class", "id", "data-label"}
    assert "&lt;script&gt;" in page and "<del>" in page and "<ins>" in page
    assert "default-src 'none'" in page and "@import" not in page and "url(" not in page
    assert "'unsafe-inline'" not in page and "style-src 'sha256-" in page


def test_text_is_plain_unless_colour_is_asked_for() -> None:
    diff = hostile_diff()
    plain = render_diff_text(diff)
    assert "\x1b" not in plain and "{+" in plain and "alerts:" in plain
    assert "\x1b[" in render_diff_text(diff, color=True)


def test_json_is_stable_and_matches_the_schema() -> None:
    import jsonschema

    diff = hostile_diff()
    text = render_diff_json(diff)
    assert text == render_diff_json(hostile_diff())
    data = json.loads(text)
    assert data["claims"][0]["kind"] == "changed" and data["alerts"][0]["kind"] in {a.value for a in AlertKind}
    jsonschema.validate(data, schemas()["diff"])
    assert ArticleDiff.model_validate_json(text) == diff


def test_a_new_id_alone_is_not_a_change() -> None:
    old = make([claim("c-old", "Same words. ", "r1")])
    new = make([claim("c-new", "Same words. ", "r1")])
    diff = diff_articles(old, new)
    assert diff.claims == [] and diff.summary.claims_unchanged == 1


def test_html_marks_article_text_with_its_language() -> None:
    """Japanese and Chinese share code points: the browser needs lang to pick glyphs."""
    from wikicore.models import Article
    from wikicore.report.diff import render_diff_html

    def version(text: str) -> Article:
        return Article.model_validate(
            {"slug": "a", "title": "A", "language": "ja", "lead": [{"claims": [{"id": "c1", "text": text}]}]}
        )

    html = render_diff_html(diff_articles(version("ロシアはバクに"), version("ロシアはバクーに")))
    assert '<td class="old" lang="ja" data-label="old">' in html and '<div lang="ja">' in html
    assert '<html lang="en">' in html  # the page's own words


@pytest.mark.parametrize(
    ("old_url", "new_url", "archive_url", "alert"),
    [
        # The old substring test took ".../x.example/ab" as archiving "x.example/a": no alert.
        ("http://x.example/ab", "http://x.example/a", "https://web.archive.org/web/2020/http://x.example/ab", True),
        ("http://x.example/a", "https://www.x.example/a/", "https://web.archive.org/web/2020/http://x.example/a",
         False),
        # A Wayback-compatible server of one's own is understood too.
        ("http://x.example/old", "http://x.example/new", "http://127.0.0.1:8766/web/2020/http://x.example/old", True),
    ],
    ids=["prefix-of-old-url", "same-page-other-spelling", "own-archive-host"],
)
def test_archive_points_at_old_url_compares_pages_not_substrings(
    old_url: str, new_url: str, archive_url: str, alert: bool
) -> None:
    old = make(refs=[{"id": "r1", "url": old_url, "archive_url": archive_url}])
    new = make(refs=[{"id": "r1", "url": new_url, "archive_url": archive_url}])
    assert (AlertKind.ARCHIVE_POINTS_AT_OLD_URL in kinds(diff_articles(old, new))) is alert


def test_a_citation_that_stops_covering_its_paragraph_is_seen() -> None:
    covering = {"ref": "r1", "covers": "paragraph"}
    old = make([claim("c1", "The river is long. "), {"id": "c2", "text": "It floods.", "citations": [covering]}])
    new = make([claim("c1", "The river is long. "), claim("c2", "It floods.", "r1")])
    diff = diff_articles(old, new)
    (change,) = diff.claims
    assert change.id == "c2"
    assert [(c.ref, c.covers) for c in change.citations_removed] == [("r1", "paragraph")]
    assert [(c.ref, c.covers) for c in change.citations_added] == [("r1", "claim")]
    text = render_diff_text(diff)
    assert "- cites r1, for the paragraph before it" in text and "+ cites r1\n" in text + "\n"
    assert "for the paragraph before it" in render_diff_html(diff)


def test_a_sentence_added_before_a_paragraph_citation_is_not_unsourced() -> None:
    covering = {"ref": "r1", "covers": "paragraph"}
    old = make([{"id": "c2", "text": "It floods.", "citations": [covering]}])
    new = make([claim("c1", "The river is long. "), {"id": "c2", "text": "It floods.", "citations": [covering]}])
    diff = diff_articles(old, new)
    assert [c.kind for c in diff.claims] == [Change.ADDED]
    assert AlertKind.UNSOURCED_CLAIM_ADDED not in kinds(diff)
    lone = make([claim("c1", "The river is long. "), claim("c2", "It floods.", "r1")])
    assert AlertKind.UNSOURCED_CLAIM_ADDED in kinds(diff_articles(make([claim("c2", "It floods.", "r1")]), lone))


def test_template_fields_are_shown_as_json_not_python_reprs() -> None:
    old = make(templates=[{"name": "Infobox", "wikitext": "{{Infobox|é=1}}"}])
    new = make(templates=[{"name": "Infobox", "wikitext": "{{Infobox|é=2}}", "section": "s-1"}])
    diff = diff_articles(old, new)
    assert [(f.field, f.old, f.new) for f in diff.fields] == [(
        "templates", ['{"name": "Infobox", "wikitext": "{{Infobox|é=1}}"}'],
        ['{"name": "Infobox", "wikitext": "{{Infobox|é=2}}", "section": "s-1"}'])]
    text = render_diff_text(diff)
    assert "{'name'" not in text and '{"name": "Infobox", "wikitext": "{{Infobox|é=2}}", "section": "s-1"}' in text
