"""The text of a PDF, page by page: pdfium (pypdfium2) first, pdfminer.six for layout.

Chosen by measurement among pypdfium2, pypdf and pdfminer.six on the real PDFs
that pdfminer.six 20181108 ships as samples (docs/sources.md has the table):
pdfium read the 50-page IRS instructions in about 80 ms CPU against 0.8 s
(pypdf) and 4 s (pdfminer.six), was 5 to 50 times faster on every file but one,
and found 282 of the 286 lines of pdfminer.six's own reference text of page 1
(pypdf 235, pdfminer.six itself 266), and all of the vertical Japanese gazette.

pdfium emits text in content order, so on a page set in columns whose lines
share baselines (the IRS instructions) a sentence is interleaved with its
neighbour column, as with pypdf; pdfminer.six's layout analysis reads each column
whole. So the fast reader is the default and ``layout=True`` reads with
pdfminer.six: a caller re-reads a PDF that way only when a quote was not found,
paying its cost for the few PDFs that need it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pdfminer.high_level
import pdfminer.layout
import pdfminer.pdfparser
import pdfminer.psparser
import pypdfium2

__all__ = ["MAX_PDF_PAGES", "PdfText", "pdf_text"]

#: Pages read at most. A 1,000-page report still yields its first 1,000 pages; a PDF that claims
#: millions of pages (a hostile or broken file) cannot hold the audit for minutes.
MAX_PDF_PAGES = 1000


@dataclass(frozen=True)
class PdfText:
    """The text of each page (1-based page ``n`` is ``pages[n - 1]``), or why there is none."""

    pages: tuple[str, ...]
    page_count: int
    error: str | None = None


def _layout_text(body: bytes, max_chars: int, max_pages: int) -> PdfText:
    pages: list[str] = []
    total = 0
    try:
        for layout in pdfminer.high_level.extract_pages(io.BytesIO(body), maxpages=max_pages):
            text = "".join(element.get_text() for element in layout
                           if isinstance(element, pdfminer.layout.LTTextContainer))
            pages.append(text)
            total += len(text)
            if total >= max_chars:
                break
    except (pdfminer.pdfparser.PDFSyntaxError, pdfminer.psparser.PSException, ValueError, KeyError,
            TypeError) as error:
        return PdfText(tuple(pages), len(pages), f"the PDF cannot be read ({error})")
    return PdfText(tuple(pages), len(pages))


def pdf_text(body: bytes, *, max_chars: int, max_pages: int = MAX_PDF_PAGES, layout: bool = False) -> PdfText:
    """Read the text of a PDF's pages until ``max_chars`` characters or ``max_pages`` pages.

    ``layout=True`` reads with pdfminer.six's layout analysis (columns kept whole, ~50x slower).
    """
    if layout:
        return _layout_text(body, max_chars, max_pages)
    try:
        document = pypdfium2.PdfDocument(body)
    except pypdfium2.PdfiumError as error:
        return PdfText((), 0, f"the PDF cannot be read ({error})")
    try:
        count = len(document)
        pages: list[str] = []
        total = 0
        for index in range(min(count, max_pages)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            pages.append(text)
            total += len(text)
            if total >= max_chars:
                break
        return PdfText(tuple(pages), count)
    finally:
        document.close()
