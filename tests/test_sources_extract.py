"""page_text: kinds, caps and the failures it reports in words instead of raising."""

from __future__ import annotations

from tests.support.sourcedata import web_pages
from wikicore.sources.extract import MAX_BODY_BYTES, TextKind, kind_of, page_text
from wikicore.sources.html import visible_text


def test_every_real_page_gives_main_and_full_text() -> None:
    for name, body in web_pages().items():
        text = page_text(body, "text/html")
        assert text.kind is TextKind.HTML and text.unreadable is None, name
        assert text.main and len(text.full) >= len(text.main) * 0.5, name


def test_visible_text_keeps_tables_captions_and_asides_and_drops_scripts() -> None:
    markup = ("<html><head><title>T</title><style>p{}</style></head><body><script>var x = 'hidden';</script>"
              "<table><caption>Cap</caption><tr><td>one</td><td>two</td></tr></table><aside>side</aside>"
              "<p>a<b>b</b>c</p><!-- comment --></body></html>")
    words = visible_text(markup).split()
    assert words == ["T", "Cap", "one", "two", "side", "abc"]


def test_control_characters_in_a_page_do_not_break_extraction() -> None:
    """Real pages carry stray control characters that lxml reads but will not write back."""
    body = b"<html><body><p>before\x0b after \x1f end</p><div>next</div></body></html>"
    assert "next" in page_text(body, "text/html").full


def test_plain_text_xml_and_sniffing() -> None:
    assert page_text(b"just words", "text/plain").full == "just words"
    assert kind_of(b"<!DOCTYPE html><html>", None) is TextKind.HTML
    assert kind_of(b"%PDF-1.7 ...", "text/html") is TextKind.PDF
    assert kind_of(b"\x89PNG", "image/png") is TextKind.NONE


def test_limits_are_reported_not_raised() -> None:
    too_large = page_text(b"x" * (MAX_BODY_BYTES + 1), "text/plain")
    assert too_large.unreadable is not None and too_large.unreadable.startswith("too large")
    cut = page_text(b"word " * 1000, "text/plain", max_chars=100)
    assert cut.truncated and len(cut.full) == 100
    assert page_text(b"\x00\x01", "application/zip").unreadable == "not text (application/zip)"
