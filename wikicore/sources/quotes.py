"""Is a citation's quote on the page? Normalise, look for it exactly, then fuzzily.

Both sides go through :func:`~wikicore.sources.normalize.normalize` (NFKC, case,
whitespace, typographic quotes, dashes, ellipses, soft hyphens, entities, full-
and half-width forms). A quote with an ellipsis (``...``, ``…``, ``[...]``) is an
abridged quote: each part must be on the page, in order.

A part not found exactly is looked for with rapidfuzz's
``partial_ratio_alignment`` (the best window of the page against the part, by
normalised Indel similarity) and counts as found at :data:`FUZZY_THRESHOLD` or
above, *and* only if the words agree both ways: every word of the part is in
that window and every word inside the window is in the part, spelt the same or,
for words of :data:`FUZZY_WORD_MIN` letters or more, nearly the same (Indel
similarity :data:`FUZZY_WORD_RATIO`). A fuzzy match forgives spelling (a typo in
the citation, a glyph the extractor lost), never a different, missing or added
word: "Monday" for "Tuesday", "12" for "13", a "not" dropped or added make a
quote missing however similar the characters are. Parts shorter than :data:`FUZZY_MIN_CHARS`
are only matched exactly: a short phrase scores high against many unrelated windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

from .extract import PageText
from .normalize import NormalText, normalize_quote, tokens

__all__ = [
    "CONTEXT_CHARS",
    "FUZZY_MIN_CHARS",
    "FUZZY_THRESHOLD",
    "FUZZY_WORD_MIN",
    "FUZZY_WORD_RATIO",
    "MatchMethod",
    "PreparedText",
    "QuoteMatch",
    "QuoteStatus",
    "find_quote",
    "locator_pages",
]

#: One wrong letter in 24 characters scores 0.958 and two 0.917, so 0.92 forgives about one
#: typo or lost glyph per four words. On the test bed (bench/bench_sources.py, docs/sources.md)
#: all 4,451 present quotes, variants included, matched exactly once normalised; the best window
#: for a quote taken from another page scored at most 0.60; sentences an edit reworded reached
#: 0.97, which is why the word check below, not this threshold, turns those away.
FUZZY_THRESHOLD = 0.92
#: Parts of a quote shorter than this (normalised characters) are matched exactly only: on the
#: bed, 12-character phrases from other pages reached 0.917 against the best window of a page,
#: 16-character ones 0.81 and 24-character ones 0.71.
FUZZY_MIN_CHARS = 24
#: Words at least this long may differ in spelling inside a fuzzy match; shorter words
#: ("not", "no", "12") must be exactly there.
FUZZY_WORD_MIN = 4
#: How alike (Indel similarity, 0..1) a misspelt word must be: one wrong, missing or extra
#: letter in a word of four or more letters scores at least 0.75 ("closre"/"closure" 0.92).
FUZZY_WORD_RATIO = 0.75
#: Characters of page text shown on each side of a match.
CONTEXT_CHARS = 80

_ELLIPSIS = re.compile(r"\s*\[?\s*\.\.\.+\s*\]?\s*")
_PAGE = re.compile(r"\b(?:pp?|pages?|pgs?|s|at)\.?\s*(\d{1,5})(?:\s*[-–—]\s*(\d{1,5}))?", re.IGNORECASE)
_BARE_PAGE = re.compile(r"^\s*(\d{1,5})(?:\s*[-–—]\s*(\d{1,5}))?\s*$")


class QuoteStatus(StrEnum):
    """Whether the quote is on the page."""

    FOUND = "found"
    MISSING = "missing"


class MatchMethod(StrEnum):
    """How the quote was found."""

    EXACT = "exact"
    FUZZY = "fuzzy"


@dataclass(frozen=True)
class QuoteMatch:
    """The answer for one quote on one page.

    ``score`` is 1.0 for an exact match, else the fuzzy similarity (0..1) of the
    weakest part. ``start``/``end`` are offsets in the page text searched
    (:attr:`PageText.full`); ``context`` shows the match with some text around it;
    ``page`` is the PDF page the match starts on.
    """

    status: QuoteStatus
    score: float
    method: MatchMethod | None = None
    start: int | None = None
    end: int | None = None
    context: str = ""
    page: int | None = None

    @property
    def found(self) -> bool:
        """The quote is on the page."""
        return self.status is QuoteStatus.FOUND


@dataclass(frozen=True)
class PreparedText:
    """A page's text normalised once, to check several quotes against it."""

    page: PageText
    normal: NormalText

    @classmethod
    def of(cls, page: PageText) -> PreparedText:
        """Normalise ``page.full``."""
        return cls(page, NormalText.of(page.full))


def _parts(quote: str) -> list[str]:
    return [part for part in _ELLIPSIS.split(normalize_quote(quote)) if part.strip()]


def _locate(part: str, text: str, start: int) -> tuple[int, int, float, MatchMethod] | None:
    at = text.find(part, start)
    if at >= 0:
        return at, at + len(part), 1.0, MatchMethod.EXACT
    if len(part) < FUZZY_MIN_CHARS:
        return None
    aligned = fuzz.partial_ratio_alignment(part, text[start:], score_cutoff=FUZZY_THRESHOLD * 100)
    if aligned is None:
        return None
    begin, end = start + aligned.dest_start, start + aligned.dest_end
    quoted = tokens(part)
    # The window may cut its first and last word: look a word's length beyond it for the
    # quote's words, and leave a cut edge word out when asking the other way.
    around = tokens(text[max(0, begin - 24) : end + 24])
    inside = tokens(text[begin:end])
    if inside and begin > 0 and text[begin - 1].isalnum() and text[begin].isalnum():
        inside = inside[1:]
    if inside and end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        inside = inside[:-1]
    if not (_all_near(quoted, set(around)) and _all_near(inside, set(quoted))):
        return None
    return begin, end, aligned.score / 100, MatchMethod.FUZZY


def _all_near(words: list[str], have: set[str]) -> bool:
    """Every word is in ``have``, exactly or (long words, not numbers) nearly."""
    for word in words:
        if word in have:
            continue
        if len(word) < FUZZY_WORD_MIN or word.isdigit():
            return False
        if process.extractOne(word, have, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD_RATIO * 100) is None:
            return False
    return True


def find_quote(quote: str, text: PreparedText | PageText) -> QuoteMatch:
    """Look for ``quote`` in a page's text; see the module docstring for how."""
    prepared = text if isinstance(text, PreparedText) else PreparedText.of(text)
    parts = _parts(quote)
    if not parts:
        return QuoteMatch(QuoteStatus.MISSING, 0.0)
    normal = prepared.normal.text
    spans: list[tuple[int, int]] = []
    score = 1.0
    method = MatchMethod.EXACT
    at = 0
    for part in parts:
        located = _locate(part, normal, at)
        if located is None:
            best = fuzz.partial_ratio(part, normal) / 100 if len(part) >= FUZZY_MIN_CHARS else 0.0
            return QuoteMatch(QuoteStatus.MISSING, round(min(score, best), 3))
        start, end, part_score, part_method = located
        spans.append((start, end))
        score = min(score, part_score)
        if part_method is MatchMethod.FUZZY:
            method = MatchMethod.FUZZY
        at = end
    first = prepared.normal.to_original(spans[0][0])
    last = prepared.normal.to_original(max(spans[-1][1] - 1, spans[-1][0])) + 1
    full = prepared.page.full
    context = " ".join(full[max(0, first - CONTEXT_CHARS): last + CONTEXT_CHARS].split())
    return QuoteMatch(QuoteStatus.FOUND, round(score, 3), method, first, last, context, prepared.page.page_at(first))


def locator_pages(locator: str | None) -> range | None:
    """The pages a citation's ``locator`` names (``p. 69``, ``pp. 12–14``, ``69``), or ``None``."""
    if not locator:
        return None
    match = _PAGE.search(locator) or _BARE_PAGE.match(locator)
    if match is None:
        return None
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else first
    if last < first:
        # "pp. 123-7": the second number abbreviates the first's trailing digits (Chicago 9.64).
        digits = str(last)
        last = int(str(first)[: -len(digits)] + digits) if len(digits) < len(str(first)) else first
    return range(first, max(first, last) + 1)
