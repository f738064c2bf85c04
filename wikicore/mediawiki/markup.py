"""Reading wikitext the way both directions need it: one parser call, names and plain text.

Import and export must agree on how markup is parsed and what a reader sees
of it, or a round trip would change a claim's text; so the parser call and the
plain-text rules live here, once, and neither :mod:`.importer` nor
:mod:`.exporter` depends on the other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import mwparserfromhell
from mwparserfromhell.nodes import Wikilink
from mwparserfromhell.wikicode import Wikicode

from .vocabulary import CATEGORY_PREFIXES, FILE_PREFIXES

__all__ = [
    "apostrophe_segments",
    "category_name",
    "https",
    "is_category_link",
    "is_file_link",
    "normalize_template_name",
    "parse",
    "plain",
]

#: A run of two or more apostrophes: italic (2), bold (3), both (5) and the literal ones around them.
APOSTROPHES = re.compile(r"'{2,}")


def parse(text: str) -> Wikicode:
    """Parse ``text`` with mwparserfromhell, bold and italic left as text.

    mwparserfromhell lets an unclosed ``''`` run on across lines and
    paragraphs (swallowing headings), which MediaWiki never does; apostrophe
    runs are handled per text segment instead (:func:`apostrophe_segments`).
    """
    return mwparserfromhell.parse(text, skip_style_tags=True)


def _literal_apostrophes(match: re.Match[str]) -> str:
    """What an apostrophe run leaves in plain text: 4 = one ' and bold; over 5 = the extra ones."""
    run = len(match.group(0))
    return "'" if run == 4 else "'" * (run - 5) if run > 5 else ""


def apostrophe_segments(text: str) -> Iterator[tuple[str, str]]:
    """Cut a text node into (markup, plain) pieces at bold/italic marks."""
    position = 0
    for match in APOSTROPHES.finditer(text):
        if match.start() > position:
            piece = text[position:match.start()]
            yield piece, piece
        yield match.group(0), _literal_apostrophes(match)
        position = match.end()
    if position < len(text):
        yield text[position:], text[position:]


def normalize_template_name(name: str | Wikicode) -> str:
    """``Cite_Web `` → ``cite web``: how MediaWiki compares template names (near enough)."""
    text = str(name).replace("_", " ").strip()
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = text.removeprefix("Template:").removeprefix("template:")
    return " ".join(text.split()).lower()


def plain(code: Wikicode | str) -> str:
    """What a reader sees of a piece of markup: links as labels, entities decoded, templates dropped."""
    if isinstance(code, str):
        return _plain_cached(code)
    return _plain_code(code)


@functools.lru_cache(maxsize=4096)
def _plain_cached(text: str) -> str:
    # Parameter values repeat a lot (publishers, works, dates): parse each once.
    return _plain_code(parse(text))


def _plain_code(parsed: Wikicode) -> str:
    text = str(parsed.strip_code(normalize=True, collapse=True))
    return " ".join(APOSTROPHES.sub(_literal_apostrophes, text).split())


def https(url: str) -> str:
    """A protocol-relative link (``//web.archive.org/...``) as the https link browsers resolve it to today."""
    return "https:" + url if url.startswith("//") else url


def is_file_link(link: Wikilink) -> bool:
    """Whether ``link`` shows a file (an image) rather than linking to a page."""
    return str(link.title).strip().lower().startswith(FILE_PREFIXES)


def is_category_link(link: Wikilink) -> bool:
    """Whether ``link`` files the page in a category (unless its title starts with ``:``, which links to it)."""
    return str(link.title).strip().lower().startswith(CATEGORY_PREFIXES)


def category_name(link: Wikilink) -> str:
    """The category a category link names, with its sort key after ``|`` as written."""
    name = str(link.title).strip().split(":", 1)[1].strip()
    return f"{name}|{link.text}" if link.text is not None else name
