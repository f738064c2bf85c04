"""PDF text with page numbers, on real PDFs from pdfminer.six 20181108's samples."""

from __future__ import annotations

from tests.support.sourcedata import pdf
from wikicore.sources.extract import TextKind, page_text
from wikicore.sources.quotes import find_quote, locator_pages


def test_quote_on_page_three_of_a_paper_with_a_hyphenated_line_break() -> None:
    """The NAACL 2006 paper breaks "syn-tactic" across lines on page 3 (checked with pdfminer and pypdf)."""
    page = page_text(pdf("naacl06-shinyama.pdf"), "application/pdf")
    assert page.kind is TextKind.PDF and len(page.page_starts) == 8
    # The sentence ends "... with several features": pdfium puts Figure 3's labels between those two words.
    match = find_quote("A GLARF converter takes a syntactic tree as an input and augments it with several", page)
    assert match.found and match.page == 3
    assert match.page in (locator_pages("p. 3") or range(0))


def test_quote_on_page_thirty_of_the_irs_instructions_needs_layout() -> None:
    """The instructions are set in columns sharing baselines: pdfium interleaves them, layout analysis does not."""
    body = pdf("i1040nr.pdf")
    quote = "You may download the complete text of most U.S. tax treaties at www.irs.gov."
    assert not find_quote(quote, page_text(body, "application/pdf")).found
    page = page_text(body, "application/pdf", pdf_layout=True)
    match = find_quote(quote, page)
    assert match.found and match.page == 30
    assert 30 in (locator_pages("pp. 29–31") or range(0))
    assert match.page not in (locator_pages("p. 69") or range(0))


def test_pdf_served_with_a_wrong_content_type() -> None:
    page = page_text(pdf("dmca.pdf"), "text/html")
    assert page.kind is TextKind.PDF and page.full


def test_vertical_japanese_pdf() -> None:
    """The government gazette is set vertically: pdfium gives one character per line."""
    page = page_text(pdf("kampo.pdf"), "application/pdf")
    match = find_quote("\u9053\u8def\u4ea4\u901a\u6cd5\u65bd\u884c\u4ee4\u306e\u4e00\u90e8\u3092"
                       "\u6539\u6b63\u3059\u308b\u653f\u4ee4", page)  # 道路交通法施行令の一部を改正する政令
    assert match.found and match.page == 1


def test_truncated_and_broken_pdfs_say_why() -> None:
    body = pdf("naacl06-shinyama.pdf")
    broken = page_text(body[: len(body) // 3], "application/pdf")
    assert broken.unreadable or broken.full
    garbage = page_text(b"%PDF-1.4\nnot really", "application/pdf")
    assert garbage.unreadable and "PDF" in garbage.unreadable


def test_locator_forms() -> None:
    assert locator_pages("p. 69") == range(69, 70)
    assert locator_pages("pp. 123-7") == range(123, 128)
    assert locator_pages("12\u201314") == range(12, 15)
    assert locator_pages("S. 5") == range(5, 6)
    assert locator_pages("chapter two") is None
    assert locator_pages(None) is None
