"""The shared page frame: blame and history pages are as inert and self-contained as the audit and diff pages."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

import pytest

from wikicore.report.base import CSP, CSS, link, linkable, page
from wikicore.report.diff import render_blame_html, render_history_html

from .support.report_data import hostile_wiki

_ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1", "p", "table", "colgroup", "col",
            "tr", "th", "td", "code", "span", "br"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.extend(attrs)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    wiki, slug = hostile_wiki(tmp_path_factory.mktemp("pages") / "wiki")
    return {
        "blame": render_blame_html(wiki.blame(slug), language="ja"),
        "history": render_history_html(wiki.history(slug), slug),
    }


@pytest.mark.parametrize("name", ["blame", "history"])
def test_page_is_inert_and_shows_hostile_text_escaped(pages: dict[str, str], name: str) -> None:
    html = pages[name]
    parser = _Collect()
    parser.feed(html)
    assert parser.tags <= _ALLOWED
    assert {n for n, _ in parser.attrs} <= {"lang", "charset", "http-equiv", "content", "name", "class", "id",
                                             "data-label"}
    assert f'content="{CSP}"' in html and html.count("<style>") == 1
    assert "Mallory \\u001b[31mred\\u001b[0m" in html and "\x1b" not in html and "\u202e" not in html
    assert 'id="summary"' in html


def test_the_csp_names_the_stylesheet_by_its_hash() -> None:
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CSP and "unsafe" not in CSP and CSP.startswith("default-src 'none'")
    assert "<style>" + CSS + "</style>" in page("t", [])


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.org/a?b=1", True),
        ("http://127.0.0.1:8765/ok", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://example.org/\u202etxt.exe", False),  # bidi: shown, never a link
        ("https://exa mple.org/", False),
        ("//example.org/", False),
        ("", False),
    ],
)
def test_only_http_urls_become_links(url: str, linked: bool) -> None:
    assert linkable(url) is linked
    assert ("<a href=" in link(url)) is linked


def test_blame_page_marks_the_article_language(pages: dict[str, str]) -> None:
    assert '<span lang="ja">' in pages["blame"] and '<html lang="en">' in pages["blame"]


def test_page_frame_escapes_the_title() -> None:
    assert "<title>&lt;b&gt;\\u202e</title>" in page("<b>\u202e", [])
