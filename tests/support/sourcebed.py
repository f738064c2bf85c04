"""The test bed for quote checks and drift, built from real pages (``sourcedata.web_pages``).

For every real page (the *capture*, its original bytes) the bed makes live copies:

``unchanged``  the same document re-rendered: serialised again by lxml, with a new
               script nonce and a footer line stamped with the render time, as a
               server that builds the page per request does;
``removed``    a quarter of the main text's sentences (at least two) removed;
``reworded``   a third of the main text's sentences (at least two) reworded: every
               third word replaced by another word of the same page;
``replaced``   another page of the bed altogether (the URL now serves something else);
``variants``   ``unchanged`` with the quoted sentences marked up the way real pages
               write them: line breaks and inline tags inside the sentence, character
               entities, soft hyphens, typographic quotes and dashes.

Quotes are sampled from the capture's real sentences (and one line of visible text
outside the main text: a table, caption or sidebar), with typographic variants of
the quote itself (curly quotes, full-width forms, an abridged quote with an
ellipsis, HTML entities, line breaks, case) that must be found, and sentences of
*other* pages that must not. Everything is seeded: the same pages give the same bed.
"""

from __future__ import annotations

import functools
import html
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.html

from wikicore.sources.charset import decode
from wikicore.sources.drift import Drift, compare
from wikicore.sources.extract import page_text
from wikicore.sources.html import INVISIBLE_TAGS, main_text, visible_text
from wikicore.sources.normalize import normalize
from wikicore.sources.quotes import PreparedText, QuoteMatch, find_quote

SEED = 18
QUOTES_PER_PAGE = 5
ABSENT_PER_PAGE = 5
REMOVE_SHARE = 0.25
REWORD_SHARE = 0.34
SENTENCE_MIN, SENTENCE_MAX = 40, 300
LIVE_TYPE = "text/html; charset=utf-8"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w{3,}")
PAGE_SIDE = ("tag-linebreak", "entities", "soft-hyphens", "typographic-page")
QUOTE_SIDE = ("curly-quotes", "full-width", "abridged", "entities-in-quote", "line-breaks", "upper-case")


@dataclass
class BedPage:
    """One real page of the bed: its capture, its live copies and its quotes."""

    name: str
    capture: bytes
    live: dict[str, bytes] = field(default_factory=dict)
    present: list[str] = field(default_factory=list)
    sidebar: list[str] = field(default_factory=list)
    quote_variants: list[tuple[str, str]] = field(default_factory=list)
    page_variants: list[tuple[str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reworded: list[str] = field(default_factory=list)


def _text_slots(root: lxml.html.HtmlElement) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    skip = set(INVISIBLE_TAGS)
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in skip:
            continue
        if element.text:
            yield element, "text"
        parent = element.getparent()
        if element.tail and (parent is None or parent.tag not in skip):
            yield element, "tail"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _candidates(root: lxml.html.HtmlElement, main_normal: str) -> list[str]:
    found: list[str] = []
    for element, slot in _text_slots(root):
        for sentence in _sentences(getattr(element, slot)):
            if SENTENCE_MIN <= len(sentence) <= SENTENCE_MAX and normalize(sentence) in main_normal:
                found.append(" ".join(sentence.split()))
    return list(dict.fromkeys(found))


def _rewrite(root: lxml.html.HtmlElement, change: dict[str, str | None]) -> None:
    """Replace (or drop, for ``None``) each sentence named in ``change`` wherever it is a text node's sentence."""
    for element, slot in list(_text_slots(root)):
        text = getattr(element, slot)
        parts = _SENTENCE_END.split(text)
        kept: list[str] = []
        touched = False
        for part in parts:
            key = " ".join(part.split())
            if key in change:
                touched = True
                replacement = change[key]
                if replacement is not None:
                    kept.append(replacement)
            else:
                kept.append(part)
        if touched:
            setattr(element, slot, " ".join(kept))


def _serialise(root: lxml.html.HtmlElement, stamp: str) -> str:
    markup = lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
    noise = (f"<script>window.__render={{nonce:'{stamp}'}}</script>"
             f"<footer><p>Page rendered {stamp}.</p></footer>")
    return markup.replace("</body>", noise + "</body>") if "</body>" in markup else markup + noise


def _reword(sentence: str, vocabulary: list[str], rng: random.Random) -> str:
    words = sentence.split(" ")
    for index in range(1, len(words), 3):
        words[index] = rng.choice(vocabulary)
    return " ".join(words)


def _page_variant(kind: str, escaped: str) -> str:
    """``escaped`` (a sentence as it appears in serialised markup) written the way ``kind`` says."""
    words = escaped.split(" ")
    if kind == "tag-linebreak":
        middle = len(words) // 2
        words[middle] = f"<em\n  class=\"q\">{words[middle]}</em\n>"
        if len(words) > 4:
            words[2] = f"\n    <span>{words[2]}</span>"
        return " ".join(words)
    if kind == "entities":
        out = escaped.replace("'", "&rsquo;").replace("é", "&eacute;").replace("ü", "&uuml;")
        out = out.replace(" ", "&nbsp;", 1)
        return re.sub(r"(?<=\s)([a-z])", lambda m: f"&#x{ord(m.group(1)):x};", out, count=2)
    if kind == "soft-hyphens":
        return " ".join(w[: len(w) // 2] + "&shy;" + w[len(w) // 2 :] if len(w) >= 8 and w.isalpha() else w
                        for w in words)
    # typographic-page: straight quotes and hyphen-dashes as a typesetter would write them.
    out = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", escaped.replace("&quot;", '"'))
    return out.replace("'", "\u2019").replace(" - ", " \u2013 ")


def _quote_variant(kind: str, quote: str) -> str:
    if kind == "curly-quotes":
        out = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", quote).replace("'", "\u2019")
        return out.replace(" - ", " \u2014 ")
    if kind == "full-width":
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in quote)
    if kind == "abridged":
        words = quote.split()
        if len(words) < 9:
            return quote
        return " ".join(words[:3]) + " \u2026 " + " ".join(words[-4:])
    if kind == "entities-in-quote":
        return html.escape(quote, quote=True)
    if kind == "line-breaks":
        return "\n  ".join(quote.split(" "))
    return quote.upper()


def build_bed(pages: dict[str, bytes]) -> list[BedPage]:
    """The bed over ``pages`` (name → original bytes); see the module docstring."""
    names = sorted(pages)
    rng = random.Random(SEED)
    prepared: dict[str, tuple[lxml.html.HtmlElement, str, list[str], str]] = {}
    for name in names:
        text = decode(pages[name], "text/html").text
        root = lxml.html.document_fromstring(text.encode("utf-8"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8", remove_comments=True))
        main_normal = normalize(main_text(text))
        full = visible_text(text)
        prepared[name] = (root, main_normal, _candidates(root, main_normal), full)
    bed: list[BedPage] = []
    for position, name in enumerate(names):
        root, main_normal, candidates, full = prepared[name]
        page = BedPage(name, pages[name])
        if len(candidates) < 4:
            continue
        page.present = rng.sample(candidates, min(QUOTES_PER_PAGE, len(candidates)))
        sidebar = [" ".join(line.split()) for line in full.splitlines()
                   if SENTENCE_MIN <= len(line.strip()) <= SENTENCE_MAX and normalize(line) not in main_normal]
        page.sidebar = rng.sample(sidebar, 1) if sidebar else []
        full_normal = normalize(full)
        others = [s for other in names if other != name for s in prepared[other][2]]
        page.absent = [s for s in rng.sample(others, ABSENT_PER_PAGE * 3) if normalize(s) not in full_normal]
        page.absent = page.absent[:ABSENT_PER_PAGE]
        page.quote_variants = [(kind, _quote_variant(kind, q)) for q in page.present for kind in QUOTE_SIDE]
        stamp = f"2026-12-06T02:{position % 60:02d}:00Z"

        unchanged = _serialise(root, stamp)
        page.live["unchanged"] = unchanged.encode("utf-8")
        variants = unchanged
        for index, quote in enumerate(page.present):
            escaped = html.escape(quote, quote=False)
            kind = PAGE_SIDE[index % len(PAGE_SIDE)]
            if escaped in variants:
                variants = variants.replace(escaped, _page_variant(kind, escaped), 1)
                page.page_variants.append((kind, quote))
        page.live["variants"] = variants.encode("utf-8")

        removed_count = max(2, round(REMOVE_SHARE * len(candidates)))
        page.removed = rng.sample(candidates, removed_count)
        edited = lxml.html.fromstring(lxml.html.tostring(root))
        _rewrite(edited, dict.fromkeys(page.removed))
        page.live["removed"] = _serialise(edited, stamp).encode("utf-8")

        vocabulary = sorted(set(_WORD.findall(" ".join(candidates))))
        reworded_count = max(2, round(REWORD_SHARE * len(candidates)))
        page.reworded = rng.sample(candidates, reworded_count)
        edited = lxml.html.fromstring(lxml.html.tostring(root))
        _rewrite(edited, {s: _reword(s, vocabulary, rng) for s in page.reworded})
        page.live["reworded"] = _serialise(edited, stamp).encode("utf-8")

        page.live["replaced"] = pages[names[(position + len(names) // 2) % len(names)]]
        bed.append(page)
    return bed


@dataclass
class Outcome:
    """What the sources package said on the bed: each list holds one entry per check."""

    present: list[QuoteMatch] = field(default_factory=list)
    sidebar: list[QuoteMatch] = field(default_factory=list)
    quote_variants: dict[str, list[QuoteMatch]] = field(default_factory=dict)
    page_variants: dict[str, list[QuoteMatch]] = field(default_factory=dict)
    absent: list[QuoteMatch] = field(default_factory=list)
    removed: list[QuoteMatch] = field(default_factory=list)
    reworded: list[QuoteMatch] = field(default_factory=list)
    drift: dict[str, list[Drift]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)


def evaluate(bed: list[BedPage]) -> Outcome:
    """Run extraction, quote checks and drift over the whole bed."""
    out = Outcome()
    for page in bed:
        capture = page_text(page.capture, "text/html")
        live = {kind: page_text(body, "text/html" if kind == "replaced" else LIVE_TYPE)
                for kind, body in page.live.items()}
        on_capture = PreparedText.of(capture)
        unchanged = PreparedText.of(live["unchanged"])
        for quote in page.present:
            for prepared in (on_capture, unchanged):
                match = find_quote(quote, prepared)
                out.present.append(match)
                if not match.found:
                    out.misses.append(f"{page.name}: present {quote!r}")
        for quote in page.sidebar:
            match = find_quote(quote, unchanged)
            out.sidebar.append(match)
            if not match.found:
                out.misses.append(f"{page.name}: sidebar {quote!r}")
        for kind, quote in page.quote_variants:
            match = find_quote(quote, unchanged)
            out.quote_variants.setdefault(kind, []).append(match)
            if not match.found:
                out.misses.append(f"{page.name}: {kind} {quote!r}")
        variants = PreparedText.of(live["variants"])
        for kind, quote in page.page_variants:
            match = find_quote(quote, variants)
            out.page_variants.setdefault(kind, []).append(match)
            if not match.found:
                out.misses.append(f"{page.name}: page {kind} {quote!r}")
        for quote in page.absent:
            match = find_quote(quote, unchanged)
            out.absent.append(match)
            if match.found:
                out.misses.append(f"{page.name}: absent found {quote!r} ~ {match.context!r}")
        removed = PreparedText.of(live["removed"])
        out.removed.extend(find_quote(quote, removed) for quote in page.removed)
        reworded = PreparedText.of(live["reworded"])
        out.reworded.extend(find_quote(quote, reworded) for quote in page.reworded)
        for kind in ("unchanged", "removed", "reworded", "replaced"):
            out.drift.setdefault(kind, []).append(compare(capture.main, live[kind].main))
    return out


@functools.cache
def _bed_and_outcome() -> tuple[list[BedPage], Outcome]:
    from tests.support.sourcedata import web_pages

    bed = build_bed(web_pages())
    return bed, evaluate(bed)


def bed_and_outcome() -> tuple[list[BedPage], Outcome]:
    """The bed over trafilatura 0.9.3's real pages and its evaluation, built once per test session."""
    return _bed_and_outcome()
