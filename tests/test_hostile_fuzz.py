"""Hypothesis fuzz of the importers (text, wikitext), the dump parser and the differ (untrusted input).

Whatever the input, the only exception allowed out is a WikicoreError (the CLI
turns it into one line and exit 2), and every example finishes within a
generous per-example ceiling (Hypothesis' deadline: a hang guard, not a
timing; every example here runs in milliseconds).
"""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikicore.diff import SegmentOp, diff_articles, inline_diff
from wikicore.errors import WikicoreError
from wikicore.importers.text import import_page_text
from wikicore.mediawiki.dump import iter_dump
from wikicore.mediawiki.importer import import_wikitext
from wikicore.models import Article

#: The per-example ceiling (see the module docstring).
CEILING = timedelta(seconds=30)
#: Examples per test; WIKICORE_FUZZ_EXAMPLES=5000 for a long hunt (the suite keeps it short).
EXAMPLES = int(os.environ.get("WIKICORE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=CEILING, suppress_health_check=[HealthCheck.too_slow])

_WIKITEXT_PIECES = [
    "{{", "}}", "{{{", "}}}", "[[", "]]", "[", "]", "|", "=", "==", "===", "\n", "\n\n", "'''", "''", "{|", "|}",
    "|-", "!", "<ref>", "</ref>", '<ref name="a">', '<ref name="a" />', "<ref ", "<ref group=n>", "<references />",
    "<!--", "-->", "<nowiki>", "</nowiki>", "<div>", "</div>", "<br>", "<span ", "[http://x.example ",
    "http://y.example/p", "#REDIRECT [[T]]", "*", "#", ":", ";", "&lt;ref&gt;", "&amp;", "&#x41;", "&bogus;",
    "{{cite web|url=http://z.example|title=T|date=2001-02-03}}", "{{cite book|last=A|first=B|year=2001|isbn=0}}",
    "{{sfn|A|2001}}", "{{rp|3}}", "{{dead link}}", "[[File:x.jpg|thumb|cap]]", "[[Category:C]]", "[[en:X]]",
    "__NOTOC__", "Mr. ", "U.S. ", "e.g. ", "He said. ", "Text. ", "。", "「", "」", "東京", "\x00", "\r", "\t",
    "\u202e", "\ud7ff", "x", "1", " ", "~~~~",
]
_TEXT_LINES = [
    "Title", "Contents", "目次", "1 History", "1.1 Early", "2 Geography", "1." + "9" * 30 + " Odd", "History",
    "Early", "Geography", "References", "^ A (2001). Title. Pub. ISBN 978-3-16-148410-0", "^ a b c Someone.",
    " ^ inline", "See also", "External links", "image", "画像", "  caption", "Azerbaijan%E2%80%93Russia", "%ZZ_bad",
    "", "Lead sentence. Another.", "東京は首都である。", "取得した1月2日3000", "\x85", "Notes", "Retrieved.",
]


@FUZZ
@given(st.lists(st.sampled_from(_WIKITEXT_PIECES) | st.text(max_size=8), max_size=120).map("".join))
def test_wikitext_importer_raises_only_wikicore_errors(text: str) -> None:
    try:
        article = import_wikitext(text, title="Fuzz")
    except WikicoreError:
        return
    assert isinstance(article, Article)


@FUZZ
@given(st.lists(st.sampled_from(_TEXT_LINES) | st.text(max_size=12), min_size=1, max_size=60).map("\n".join))
def test_text_importer_raises_only_wikicore_errors(text: str) -> None:
    try:
        article = import_page_text(text, file_name="fuzz.txt")
    except WikicoreError:
        return
    assert isinstance(article, Article)


_XML_PIECES = [
    "<page>", "</page>", "<title>T</title>", "<title>", "</title>", "<ns>0</ns>", "<ns>abc</ns>", "<ns>-1</ns>",
    "<ns>" + "9" * 50 + "</ns>", "<revision>", "</revision>", "<id>1</id>",
    "<timestamp>2001-01-01T00:00:00Z</timestamp>",
    "<timestamp>0001-01-01T00:00:00Z</timestamp>", "<text>Hi.</text>", '<text deleted="deleted" />',
    "<contributor><username>U</username></contributor>", "<contributor><ip>1.2.3.4</ip></contributor>",
    '<redirect title="X" />', "<siteinfo><namespaces>", "</namespaces></siteinfo>", '<namespace key="zz">A</namespace>',
    '<namespace key="10">Template</namespace>', "<x/>", "&amp;", "&bogus;", "<![CDATA[x]]>", "<!-- c -->",
]


@FUZZ
@given(st.lists(st.sampled_from(_XML_PIECES), max_size=40).map("".join))
def test_dump_parser_raises_only_wikicore_or_xml_errors(body: str) -> None:
    """Malformed XML is ET.ParseError here; import_dump turns it into ImportFailed (exit 2)."""
    source = io.BytesIO(f'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/">{body}</mediawiki>'.encode())
    try:
        for revision in iter_dump(source, all_revisions=True):
            assert revision is None or isinstance(revision.namespace, int)
    except (WikicoreError, ET.ParseError):
        return


_CLAIM_TEXTS = st.lists(st.sampled_from(["The ", "cat ", "sat", ". ", "東京", "は", "。", "\n", "Mr. ", "x" * 40, " "]),
                        max_size=60).map("".join)


@FUZZ
@given(_CLAIM_TEXTS, _CLAIM_TEXTS)
def test_inline_diff_rebuilds_both_sides(old: str, new: str) -> None:
    segments = inline_diff(old, new)
    assert "".join(s.text for s in segments if s.op != SegmentOp.INSERT) == old
    assert "".join(s.text for s in segments if s.op != SegmentOp.DELETE) == new


def _article(texts: list[str], ids: bool) -> Article:
    claims = [{"text": t, **({"id": f"c-{i}"} if ids else {})} for i, t in enumerate(texts) if t.strip()]
    return Article.model_validate({"slug": "a", "title": "A", "lead": [{"claims": claims}] if claims else []})


@FUZZ
@given(st.lists(_CLAIM_TEXTS, max_size=12), st.lists(_CLAIM_TEXTS, max_size=12), st.booleans())
def test_diff_articles_raises_only_wikicore_errors(old: list[str], new: list[str], ids: bool) -> None:
    try:
        before, after = _article(old, ids), _article(new, ids)
    except WikicoreError:
        return
    result = diff_articles(before, after)
    if before.model_dump() == after.model_dump():
        assert result.empty  # (the converse need not hold: claim order within a section is no change)
    assert diff_articles(before, before).empty
