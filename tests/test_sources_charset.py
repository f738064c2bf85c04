"""Bytes to text on real Japanese pages (chardet 5.2.0's test data) and on declared charsets."""

from __future__ import annotations

import re

from tests.support.sourcedata import CHARDET, japanese, pinned_or_skip
from wikicore.sources.charset import Declared, codec_for, decode
from wikicore.sources.extract import page_text
from wikicore.sources.quotes import find_quote

SJIS_PAGE = "SHIFT_JIS/_chromium_Shift-JIS_with_no_encoding_specified.html"
EUC_FEED = "EUC-JP/siesta.co.jp.aozora.xml"


def test_shift_jis_page_without_a_declaration_is_detected() -> None:
    body = japanese(SJIS_PAGE)
    decoded = decode(body, "text/html")
    assert decoded.source is Declared.DETECTED
    assert decoded.encoding == "cp932"
    assert "\u5b9a\u984d\u7d66\u4ed8\u91d1" in decoded.text  # 定額給付金


def test_shift_jis_quote_with_half_width_digits_is_found() -> None:
    """The page writes ２００８ in full-width digits; an editor types 2008."""
    page = page_text(japanese(SJIS_PAGE), "text/html")
    match = find_quote("\u5b9a\u984d\u7d66\u4ed8\u91d1\u3092\u76db\u308a\u8fbc\u3093\u3060"
                       "2008\u5e74\u5ea6\u7b2c2\u6b21\u88dc\u6b63\u4e88\u7b97\u6848", page)
    assert match.found and match.score == 1.0
    assert "\uff12\uff10\uff10\uff18" in match.context


def test_declared_header_charset_wins() -> None:
    body = japanese(SJIS_PAGE)
    decoded = decode(body, "text/html; charset=Shift_JIS")
    assert (decoded.source, decoded.encoding) == (Declared.HEADER, "cp932")


def test_euc_jp_feed_declared_and_detected() -> None:
    body = japanese(EUC_FEED)
    declared = decode(body, "application/xml")
    assert declared.source is Declared.DOCUMENT and declared.encoding == "euc_jp"
    stripped = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", body)
    detected = decode(stripped, "application/xml")
    assert detected.source is Declared.DETECTED
    assert detected.encoding.startswith("euc")
    assert detected.text == stripped.decode("euc_jp")


def test_a_wrong_declaration_is_not_trusted() -> None:
    """A Shift_JIS page served as UTF-8 (a common server default) still decodes."""
    body = japanese(SJIS_PAGE)
    decoded = decode(body, "text/html; charset=utf-8")
    assert decoded.source is Declared.DETECTED
    assert "\u5b9a\u984d\u7d66\u4ed8\u91d1" in decoded.text


def test_meta_charset_and_bom() -> None:
    html = '<html><head><meta charset="windows-1252"></head><body>caf\u00e9 \u2014 ok</body></html>'
    decoded = decode(html.encode("cp1252"))
    assert (decoded.source, decoded.text) == (Declared.DOCUMENT, html)
    assert decode("\ufeffhello".encode("utf-8-sig")).source is Declared.BOM


def test_browser_label_mapping() -> None:
    assert codec_for("Shift_JIS") == "cp932"
    assert codec_for("ISO-8859-1") == "cp1252"
    assert codec_for("x-no-such-charset") is None


def test_undeclared_japanese_feeds_are_mostly_detected() -> None:
    """chardet's 50 real Shift_JIS and EUC-JP feeds, their XML declarations removed: detection alone."""
    folder = pinned_or_skip(CHARDET) / "tests"
    feeds = sorted(folder.glob("SHIFT_JIS/*.xml")) + sorted(folder.glob("EUC-JP/*.xml"))
    right = 0
    for feed in feeds:
        body = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", feed.read_bytes())
        decoded = decode(body, "application/xml")
        family = "euc" if feed.parent.name == "EUC-JP" else "cp932"
        right += decoded.encoding.startswith(family) or (family == "cp932" and "shift_jis" in decoded.encoding)
    assert len(feeds) == 50
    assert right >= 47  # measured 48 (docs/sources.md)
