"""Quote checks: unit cases, then the accuracy targets on the bed of real pages (tests/sourcebed.py)."""

from __future__ import annotations

import pytest

from tests.support.sourcebed import bed_and_outcome
from wikicore.sources.extract import PageText, TextKind, page_text
from wikicore.sources.quotes import FUZZY_THRESHOLD, MatchMethod, PreparedText, QuoteStatus, find_quote

ARTICLE = """<!DOCTYPE html><html><head><title>Report</title></head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<article><h1>Harbour report</h1>
<p>The harbour authority said on Monday that &ldquo;traffic rose by 12&nbsp;per&nbsp;cent&rdquo; in the first
quarter, the fastest growth since 2009. Officials credited the new <em>container
terminal</em> and longer opening hours.</p>
<p>Critics argue that the figures ignore the closure of the northern pier, which handled a third of
all bulk cargo until last year.</p>
<table><caption>Ships per month</caption>
<tr><td>January</td><td>412 vessels, a record for the winter season</td></tr></table>
</article>
<aside>Related: Ferry timetable changes announced for the summer season</aside>
</body></html>"""


@pytest.fixture(scope="module")
def article() -> PreparedText:
    return PreparedText.of(page_text(ARTICLE.encode("utf-8"), "text/html; charset=utf-8"))


@pytest.mark.parametrize("quote", [
    'traffic rose by 12 per cent',
    '\u201ctraffic rose by 12 per cent\u201d in the first quarter',
    'Officials credited the new container terminal and longer opening hours.',
    'OFFICIALS CREDITED THE NEW CONTAINER TERMINAL',
    'The harbour authority said \u2026 the fastest growth since 2009.',
    'The harbour authority said [...] the fastest growth since 2009.',
    '\uff34\uff48\uff45 harbour authority said on Monday',
    'Critics argue that the fig\u00adures ignore the closure',
    '412 vessels, a record for the winter season',
    'Ferry timetable changes announced for the summer season',
    'Critics argue that the figures ignore the closure of the northern pier, which handled a third of all bulk',
])
def test_present_quotes(article: PreparedText, quote: str) -> None:
    match = find_quote(quote, article)
    assert match.found, quote
    assert match.start is not None and match.end is not None
    assert match.context and match.page is None


@pytest.mark.parametrize("quote", [
    "traffic fell by 12 per cent",
    "The harbour authority said on Tuesday that traffic rose",
    "the northern pier handled half of all bulk cargo",
    "Critics argue that the figures ignore the closure of the pier, which handled a third of all bulk",
    "Critics argue that the figures do not ignore the closure of the northern pier",
    "totally unrelated sentence about mountains and glaciers in the far north",
])
def test_absent_quotes(article: PreparedText, quote: str) -> None:
    assert find_quote(quote, article).status is QuoteStatus.MISSING


def test_fuzzy_match_tolerates_an_extraction_glitch(article: PreparedText) -> None:
    """A dropped character (a ligature the PDF lost, a typo in the citation) still matches, with its score."""
    match = find_quote("Critics argue that the figures ignore the closre of the northern pier", article)
    assert match.found and match.method is MatchMethod.FUZZY
    assert FUZZY_THRESHOLD <= match.score < 1.0


def test_context_points_into_the_original_text(article: PreparedText) -> None:
    match = find_quote("container terminal and longer opening hours", article)
    assert match.start is not None and match.end is not None
    assert article.page.full[match.start:match.end].split() == ["container", "terminal", "and", "longer",
                                                                "opening", "hours"]
    assert "container terminal" in match.context


def test_short_quotes_only_match_exactly() -> None:
    page = PageText(TextKind.PLAIN, "the cat sat on the mat", "the cat sat on the mat")
    assert find_quote("the cat sat", page).found
    assert not find_quote("the bat sat", page).found


def test_empty_quote_is_missing(article: PreparedText) -> None:
    assert not find_quote(" \u2026 ", article).found


# The quote checks' targets, measured on the bed (docs/sources.md has the table).

def test_bed_present_quotes_and_variants_found() -> None:
    _, outcome = bed_and_outcome()
    matches = outcome.present + outcome.sidebar + [m for group in outcome.quote_variants.values() for m in group]
    matches += [m for group in outcome.page_variants.values() for m in group]
    found = sum(m.found for m in matches)
    assert len(matches) > 2000
    assert found / len(matches) >= 0.99, [miss for miss in outcome.misses if "absent" not in miss][:10]


def test_bed_absent_quotes_never_found() -> None:
    _, outcome = bed_and_outcome()
    assert len(outcome.absent) > 300
    assert [m.context for m in outcome.absent if m.found] == []
