"""check_quote: live and capture together, on a real page of the bed and on a real PDF."""

from __future__ import annotations

import pytest

from tests.support.sourcebed import LIVE_TYPE, BedPage, bed_and_outcome
from tests.support.sourcedata import pdf
from wikicore.sources.extract import PageText, TextKind, page_text
from wikicore.sources.quotes import PreparedText
from wikicore.sources.verdict import QuoteVerdict, Where, check_quote

DEAD = PageText(TextKind.NONE, "", "", unreadable="HTTP 404")


@pytest.fixture(scope="module")
def page() -> BedPage:
    bed, _ = bed_and_outcome()
    return bed[1]


@pytest.fixture(scope="module")
def capture(page: BedPage) -> PreparedText:
    return PreparedText.of(page_text(page.capture, "text/html"))


def _live(page: BedPage, kind: str) -> PreparedText:
    return PreparedText.of(page_text(page.live[kind], LIVE_TYPE))


def test_found_in_both(page: BedPage, capture: PreparedText) -> None:
    check = check_quote(page.present[0], _live(page, "unchanged"), capture)
    assert (check.status, check.where, check.score) == (QuoteVerdict.FOUND, Where.BOTH, 1.0)
    assert check.context and check.reason is None


def test_changed_when_the_live_edit_removed_it(page: BedPage, capture: PreparedText) -> None:
    live = _live(page, "removed")
    gone = [q for q in page.removed if check_quote(q, live).status is QuoteVerdict.MISSING]
    assert gone, "the bed removes at least two sentences"
    check = check_quote(gone[0], live, capture)
    assert (check.status, check.where) == (QuoteVerdict.CHANGED, Where.ARCHIVE)


def test_missing_in_neither(page: BedPage, capture: PreparedText) -> None:
    check = check_quote(page.absent[0], _live(page, "unchanged"), capture)
    assert (check.status, check.where) == (QuoteVerdict.MISSING, None)
    assert 0.0 <= check.score < 1.0


def test_dead_live_page_falls_back_to_the_capture(page: BedPage, capture: PreparedText) -> None:
    check = check_quote(page.present[0], DEAD, capture)
    assert (check.status, check.where, check.reason) == (QuoteVerdict.FOUND, Where.ARCHIVE, "live page: HTTP 404")


def test_unchecked_says_why() -> None:
    check = check_quote("anything at all that was quoted", DEAD, None)
    assert check.status is QuoteVerdict.UNCHECKED
    assert check.reason == "live page: HTTP 404; no capture"


def test_locator_mismatch_on_a_real_pdf() -> None:
    paper = page_text(pdf("naacl06-shinyama.pdf"), "application/pdf")
    quote = "A GLARF converter takes a syntactic tree as an input and augments it with several"
    assert not check_quote(quote, paper, locator="p. 3").locator_mismatch
    mismatch = check_quote(quote, paper, locator="p. 7")
    assert mismatch.status is QuoteVerdict.FOUND and mismatch.page == 3 and mismatch.locator_mismatch
