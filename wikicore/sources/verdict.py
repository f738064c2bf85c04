"""One citation's quote against the live page and the capture: found, changed, missing or unchecked.

The rules (the audit JSON's ``quote_check``):

``found``      on the live page (``where`` is ``both`` when the capture has it too,
               else ``live``); or, when the live page cannot be read, in the capture
               (``where`` is ``archive``, and ``reason`` says what became of the live page:
               an archived source that says it still supports the claim);
``changed``    in the capture but no longer on the live page, which was read;
``missing``    in neither text that could be read;
``unchecked``  no text to look in: ``reason`` says why in plain words (the live page's
               failure, and that there was no capture or why it could not be read).

A page behind a wall (:attr:`PageText.wall`: a paywall, login or consent page, by
the link checker's rules in :mod:`wikicore.net.walls`) counts as read for a quote
found on it (a metered paywall shows the lede, and the words are the source's),
and as *not read* for a quote it lacks: its text is a teaser, not the article, so
that absence is no evidence. The capture is then judged exactly as for a dead live
page: the quote in the capture is ``found`` (``where`` archive, ``reason`` "live
page: paywall or login page"), not ``changed`` (nothing shows the live article
lost it); a capture read in full without it is ``missing`` (a complete text of the
source lacks it); no capture, or a capture behind a wall too, is ``unchecked``
with the reason "live page: paywall or login page; no capture".

A citation's ``locator`` (``p. 69``) that names pages the quote is not on (in a
PDF, where pages are known) sets :attr:`QuoteCheck.locator_mismatch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .extract import PageText
from .quotes import PreparedText, QuoteMatch, find_quote, locator_pages

__all__ = ["QuoteCheck", "QuoteVerdict", "Where", "check_quote"]


class QuoteVerdict(StrEnum):
    """The answer for one quote."""

    FOUND = "found"
    CHANGED = "changed"
    MISSING = "missing"
    UNCHECKED = "unchecked"


class Where(StrEnum):
    """Which text held the quote."""

    LIVE = "live"
    ARCHIVE = "archive"
    BOTH = "both"


@dataclass(frozen=True)
class QuoteCheck:
    """A quote's verdict, with the match it rests on (score 0..1, context, PDF page)."""

    status: QuoteVerdict
    where: Where | None
    score: float
    context: str = ""
    page: int | None = None
    reason: str | None = None
    locator_mismatch: bool = False


def _readable(text: PreparedText | PageText | None) -> PreparedText | None:
    if text is None:
        return None
    page = text.page if isinstance(text, PreparedText) else text
    if page.unreadable is not None or not page.full.strip():
        return None
    return text if isinstance(text, PreparedText) else PreparedText.of(text)


def _page(text: PreparedText | PageText | None) -> PageText | None:
    return text.page if isinstance(text, PreparedText) else text


def _why(text: PreparedText | PageText | None, what: str) -> str:
    page = _page(text)
    if page is None:
        return f"no {what}"
    if page.unreadable is None and page.wall is not None:
        return f"{what}: {page.wall}"
    return f"{what}: {page.unreadable or 'no text'}"


def _walled(text: PreparedText | PageText | None) -> bool:
    page = _page(text)
    return page is not None and page.wall is not None


def _mismatch(match: QuoteMatch, locator: str | None) -> bool:
    pages = locator_pages(locator)
    return pages is not None and match.page is not None and match.page not in pages


def check_quote(
    quote: str,
    live: PreparedText | PageText | None,
    capture: PreparedText | PageText | None = None,
    *,
    locator: str | None = None,
) -> QuoteCheck:
    """The verdict for ``quote`` given the live page's text and the capture's (``None``: not fetched)."""
    live_text, capture_text = _readable(live), _readable(capture)
    on_live = find_quote(quote, live_text) if live_text is not None else None
    on_capture = find_quote(quote, capture_text) if capture_text is not None else None
    if on_live is not None and on_live.found:
        where = Where.BOTH if on_capture is not None and on_capture.found else Where.LIVE
        return QuoteCheck(QuoteVerdict.FOUND, where, on_live.score, on_live.context, on_live.page,
                          locator_mismatch=_mismatch(on_live, locator))
    # A quote a wall page lacks was not looked for in the article: as if the page could not be read.
    if on_live is not None and _walled(live):
        on_live = None
    if on_capture is not None and not on_capture.found and _walled(capture):
        on_capture = None
    if on_capture is not None and on_capture.found:
        if on_live is None:
            return QuoteCheck(QuoteVerdict.FOUND, Where.ARCHIVE, on_capture.score, on_capture.context,
                              on_capture.page, _why(live, "live page"), _mismatch(on_capture, locator))
        return QuoteCheck(QuoteVerdict.CHANGED, Where.ARCHIVE, on_capture.score, on_capture.context, on_capture.page,
                          locator_mismatch=_mismatch(on_capture, locator))
    if on_live is None and on_capture is None:
        return QuoteCheck(QuoteVerdict.UNCHECKED, None, 0.0,
                          reason=f"{_why(live, 'live page')}; {_why(capture, 'capture')}")
    best = max((m.score for m in (on_live, on_capture) if m is not None), default=0.0)
    reason = None if on_live is not None else _why(live, "live page")
    return QuoteCheck(QuoteVerdict.MISSING, None, best, reason=reason)
