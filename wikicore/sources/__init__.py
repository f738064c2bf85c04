"""Sources: does the cited page still say it?

The text of a cited page (live or from its archive capture), whether a
citation's quote is on it, how far the live page has drifted from the capture,
and a fingerprint of each text for the link history. One job a module:

``charset``      bytes to text: BOM, HTTP charset, ``<meta>``, then detection.
``html``         an HTML page's main text (trafilatura) and every visible word.
``pdf``          a PDF's text page by page (pypdfium2, chosen by measurement).
``extract``      :func:`page_text`: bytes + ``Content-Type`` to a :class:`PageText`, with caps.
``normalize``    the one normal form for comparing texts, with offsets back to the original.
``quotes``       :func:`find_quote`: exact, then fuzzy (rapidfuzz); locators (``p. 69``).
``fingerprint``  length, SHA-256 of the normal form, 64-bit simhash.
``drift``        :func:`compare`: capture against live, ``same`` / ``changed`` / ``unrelated``.
``verdict``      :func:`check_quote`: live and capture together, ``found`` / ``changed`` /
                 ``missing`` / ``unchecked`` with the reason, and the locator check.
``fetch``        the only module here that uses the network (through :mod:`wikicore.net`).

Everything but ``fetch`` is pure: bytes and strings in, frozen records out. Example::

    page = page_text(body, "text/html; charset=Shift_JIS")
    match = find_quote("定額給付金", page)
    match.status, match.score, match.context, match.page
    compare(capture.main, page.main).status          # DriftStatus.SAME
    check_quote("定額給付金", page, capture, locator="p. 3").status   # QuoteVerdict.FOUND
    fingerprint(page.main).simhash_hex

Imports point down only: this package uses :mod:`wikicore.net` (in ``fetch``)
and :mod:`wikicore.errors`; the audit builds on it, never the reverse.
"""

from __future__ import annotations

from .charset import Declared, Decoded, decode
from .drift import SAME_MIN, UNRELATED_SIMILARITY, UNRELATED_TOPIC, Drift, DriftStatus, compare, compare_tokens
from .extract import MAX_BODY_BYTES, MAX_TEXT_CHARS, PageText, TextKind, page_text
from .fingerprint import Fingerprint, fingerprint, hamming
from .normalize import NormalText, normalize, normalize_quote
from .quotes import (
    FUZZY_MIN_CHARS,
    FUZZY_THRESHOLD,
    MatchMethod,
    PreparedText,
    QuoteMatch,
    QuoteStatus,
    find_quote,
    locator_pages,
)
from .verdict import QuoteCheck, QuoteVerdict, Where, check_quote

__all__ = [
    "FUZZY_MIN_CHARS",
    "FUZZY_THRESHOLD",
    "MAX_BODY_BYTES",
    "MAX_TEXT_CHARS",
    "SAME_MIN",
    "UNRELATED_SIMILARITY",
    "UNRELATED_TOPIC",
    "Declared",
    "Decoded",
    "Drift",
    "DriftStatus",
    "Fingerprint",
    "MatchMethod",
    "NormalText",
    "PageText",
    "PreparedText",
    "QuoteCheck",
    "QuoteMatch",
    "QuoteStatus",
    "QuoteVerdict",
    "TextKind",
    "Where",
    "check_quote",
    "compare",
    "compare_tokens",
    "decode",
    "find_quote",
    "fingerprint",
    "hamming",
    "locator_pages",
    "normalize",
    "normalize_quote",
    "page_text",
]
