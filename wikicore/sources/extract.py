"""The text of a fetched page from its bytes and ``Content-Type``: HTML, PDF or plain text.

:func:`page_text` never raises for the page's own faults: a body it cannot read
comes back with :attr:`PageText.unreadable` in plain words (not text, too
large, a broken PDF), which the audit reports as an unchecked quote.

Time is bounded by size, not by a clock (the extractors are C code that a
thread cannot interrupt): bodies over :data:`MAX_BODY_BYTES` are not read,
HTML over :data:`MAX_MAIN_HTML_BYTES` skips the main-text pass, PDFs stop at
:data:`~wikicore.sources.pdf.MAX_PDF_PAGES` pages, and every text is cut at
:data:`MAX_TEXT_CHARS`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import StrEnum

from .charset import decode
from .html import main_text, visible_text

__all__ = ["MAX_BODY_BYTES", "MAX_MAIN_HTML_BYTES", "MAX_TEXT_CHARS", "PageText", "TextKind", "kind_of", "page_text"]

#: Text kept per page: 4 MiB of characters holds the longest real reports we cite
#: (the 50-page IRS instructions PDF is 0.3 M characters) with a wide margin, while
#: 2,000 references checked four at a time stay far inside the audit's memory budget.
MAX_TEXT_CHARS = 4 * 1024 * 1024
#: Bodies larger than this are not read at all ("too large"): 16 MiB is a long PDF report.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: trafilatura's time grows with the tree; past 3 MiB of markup (a few pages on the web are
#: larger: endless comment threads, inlined data) the main text is the visible text.
MAX_MAIN_HTML_BYTES = 3 * 1024 * 1024

_PDF_MAGIC = b"%PDF-"
# A word hyphenated at a PDF line end ("ex-\nisting"): the hyphen is typesetting, not spelling.
_LINE_HYPHEN = re.compile(r"(?<=[a-z])-[ \t]*\r?\n(?=[a-z])")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/xml", "application/xml", "application/rss+xml", "application/atom+xml")


class TextKind(StrEnum):
    """What kind of document a body was read as."""

    HTML = "html"
    PDF = "pdf"
    PLAIN = "plain"
    NONE = "none"


@dataclass(frozen=True)
class PageText:
    """The text of one page.

    ``full`` is every visible word (where quotes are looked for); ``main`` the main
    text (what drift compares; the visible text when no main text was found).
    ``page_starts[n - 1]`` is where PDF page ``n`` begins in ``full``. ``truncated``
    says :data:`MAX_TEXT_CHARS` cut the text; ``unreadable`` why there is no text.
    ``wall`` says, in plain words, that the page is a paywall, login or consent page
    (:func:`wikicore.sources.fetch.fetched_text` sets it by :mod:`wikicore.net.walls`' rules):
    its text may be a lede only, so a quote not on it is unchecked rather than missing.
    """

    kind: TextKind
    full: str
    main: str
    encoding: str | None = None
    page_starts: tuple[int, ...] = ()
    truncated: bool = False
    unreadable: str | None = None
    wall: str | None = None

    def page_at(self, offset: int) -> int | None:
        """The 1-based PDF page holding ``offset`` of :attr:`full`, or ``None`` for a web page."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


def kind_of(body: bytes, content_type: str | None) -> TextKind:
    """What a body is: the magic number of a PDF wins over a wrong ``Content-Type``, then the type."""
    if body[:1024].lstrip().startswith(_PDF_MAGIC):
        return TextKind.PDF
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _HTML_TYPES:
        return TextKind.HTML
    if media == "application/pdf":
        return TextKind.PDF
    if media in _TEXT_TYPES:
        return TextKind.PLAIN
    if not media or media == "application/octet-stream":
        # No type, or a generic one: sniff for markup as browsers do (WHATWG MIME Sniffing).
        head = body[:1024].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
            return TextKind.HTML
    return TextKind.NONE


def _cut(text: str, limit: int) -> tuple[str, bool]:
    return (text[:limit], True) if len(text) > limit else (text, False)


def page_text(
    body: bytes, content_type: str | None = None, *, max_chars: int = MAX_TEXT_CHARS, pdf_layout: bool = False
) -> PageText:
    """The text of a page's ``body`` served as ``content_type`` (see :class:`PageText`).

    ``pdf_layout=True`` reads a PDF with layout analysis (see :mod:`wikicore.sources.pdf`): for a
    second look when a quote was not found in the fast reading.
    """
    if len(body) > MAX_BODY_BYTES:
        return PageText(TextKind.NONE, "", "", unreadable=f"too large ({len(body)} bytes)")
    kind = kind_of(body, content_type)
    if kind is TextKind.PDF:
        # pypdfium2 and pdfminer load with the first PDF: most sources are HTML, and the two
        # add 13 MB of peak RSS (42 -> 55 MB importing them after trafilatura), which an audit of HTML never needs.
        from .pdf import pdf_text

        read = pdf_text(body, max_chars=max_chars, layout=pdf_layout)
        if read.error is not None:
            return PageText(kind, "", "", unreadable=read.error)
        pages = [_LINE_HYPHEN.sub("", page) for page in read.pages]
        starts: list[int] = []
        at = 0
        for page in pages:
            starts.append(at)
            at += len(page) + 1
        full, truncated = _cut("\n".join(pages), max_chars)
        truncated = truncated or len(pages) < read.page_count
        if not full.strip():
            return PageText(kind, "", "", page_starts=tuple(starts), unreadable="the PDF has no text layer (scanned?)")
        return PageText(kind, full, full, page_starts=tuple(starts), truncated=truncated)
    if kind is TextKind.NONE:
        media = (content_type or "unknown").split(";")[0].strip()
        return PageText(kind, "", "", unreadable=f"not text ({media})")
    decoded = decode(body, content_type)
    if kind is TextKind.PLAIN:
        full, truncated = _cut(decoded.text, max_chars)
        return PageText(kind, full, full, decoded.encoding, truncated=truncated)
    full, truncated = _cut(visible_text(decoded.text), max_chars)
    main = main_text(decoded.text) if len(body) <= MAX_MAIN_HTML_BYTES else ""
    main, cut = _cut(main, max_chars)
    return PageText(kind, full, main or full, decoded.encoding, truncated=truncated or cut)
