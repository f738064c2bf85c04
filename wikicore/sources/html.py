"""The text of an HTML page, twice: the main text (trafilatura) and every visible word.

The main text is what drift compares: menus, footers and advertisements change
on every visit and say nothing about whether the cited content changed. The
full visible text is what a quote is looked for in: a quote can sit in a table,
a caption, a sidebar or a pull quote that a main-text extractor rightly drops.

trafilatura runs with ``fast=True`` (no readability/jusText fallback pass),
``favor_recall=True`` and tables included. On the bed's 98 real pages (the
unchanged live copies, bench/bench_sources.py) this was the fastest setting
in each of three runs, 7.2 to 10.0 ms CPU at the median against 8.1 to 11.1 for
``fast`` alone and 10.2 to 16.4 for the default fallback cascade, and it returned
text for every page (``favor_precision`` left one page empty); docs/sources.md
has the table.
"""

from __future__ import annotations

import logging

import lxml.etree
import lxml.html
import trafilatura

__all__ = ["BLOCK_TAGS", "INVISIBLE_TAGS", "main_text", "visible_text"]

#: Elements whose content a browser never shows as text.
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas")
#: Elements that start a new line when rendered (HTML Living Standard's flow content that is
#: display: block, list-item or table-*): text on either side of them is not one word.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
    "tfoot", "th", "thead", "title", "tr", "ul", "caption", "option", "legend", "body", "html", "head",
})

# trafilatura logs a warning for every page it finds too short; that is a verdict we
# report ourselves (the main text falls back to the visible text), not a log line.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)


def _tree(markup: str) -> lxml.html.HtmlElement | None:
    try:
        # Bytes with an explicit encoding: lxml refuses a str that carries an XML declaration.
        root = lxml.html.document_fromstring(markup.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None
    return root if isinstance(root, lxml.html.HtmlElement) else None


def visible_text(markup: str) -> str:
    """Every piece of text a browser would render, blocks separated by newlines (the title first)."""
    root = _tree(markup)
    if root is None:
        return ""
    lxml.etree.strip_elements(root, *INVISIBLE_TAGS, with_tail=False)
    # Walked rather than edited in place: a page's text may hold control characters that
    # lxml reads but refuses to write back.
    parts: list[str] = []
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        block = isinstance(tag, str) and tag in BLOCK_TAGS
        if event == "start":
            if block:
                parts.append("\n")
            if element.text:
                parts.append(element.text)
        else:
            if block:
                parts.append("\n")
            if element.tail and element is not root:
                parts.append(element.tail)
    return "".join(parts)


def main_text(markup: str) -> str:
    """The main text as trafilatura finds it, or ``""`` when it finds none."""
    found = trafilatura.extract(
        markup,
        fast=True,
        favor_recall=True,
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
        output_format="txt",
    )
    return found or ""
