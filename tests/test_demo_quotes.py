"""The bundled link-rot sample audited against the demo's own servers: quote results in every format.

The servers are the ones ``make demo`` starts (:func:`wikicore.demo.start_servers`: the small web
and the Wayback-compatible archive on 127.0.0.1), and the article is the bundled one with its urls
pointed at them. Each quote in the sample stands for one answer: found on the live page, found in
the capture of a page that is gone, changed (in the capture, gone from the live page), missing,
unchecked because the page is dead with no capture, unchecked because the page is a paywall.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from wikicore import demo
from wikicore.cli import main

#: claim -> (status, where, words the reason holds); the order of the sample.
EXPECTED = {
    "c-58f20e26": ("found", "both", None),
    "c-03b7dd82": ("changed", "archive", None),
    "c-c6cf3ceb": ("found", "archive", "live page: dead (HTTP 404)"),
    "c-d5248292": ("unchecked", None, "live page: dead (HTTP 410); no capture"),
    "c-05f37277": ("missing", None, "live page: soft-404 (HTTP 200)"),
    "c-c24c2a34": ("unchecked", None, "live page: paywall or login page; no capture"),
}
SUMMARY = "quotes 2 found, 1 changed, 1 missing, 2 unchecked"


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The sample audited in each format, each from a cold cache (no answer reused between formats)."""
    base = tmp_path_factory.mktemp("demo-quotes")
    web, wayback = demo.start_servers()
    out: dict[str, str] = {}
    with web, wayback:
        article = base / "link-rot-demo.yaml"
        article.write_text(demo.link_rot_text(web), encoding="utf-8")
        for fmt in ("text", "markdown", "json", "html"):
            env = {"XDG_CACHE_HOME": str(base / f"cache-{fmt}"), "NO_COLOR": "1", "WIKICORE_WAYBACK_URL": None,
                   "WIKICORE_WIKI": None}
            target = base / f"audit.{fmt}"
            result = CliRunner().invoke(
                main,
                ["audit", str(article), "--allow-private", "--wayback-url", wayback.base_url, "--timeout", "5",
                 "--format", fmt, "-o", str(target)],
                env=env,
            )
            assert result.exit_code == 1, result.output  # the sample has dead links: findings, not a failure
            out[fmt] = target.read_text(encoding="utf-8")
    yield out


def test_json_has_every_kind_of_quote_result(audits: dict[str, str]) -> None:
    data = json.loads(audits["json"])
    (article,) = data["articles"]
    got = {}
    for claim in article["claims"]:
        for citation in claim["citations"]:
            if citation.get("quote"):
                check = citation["quote_check"]
                got[claim["id"]] = (check["status"], check["where"], check["reason"])
    assert got == EXPECTED
    codes = set(re.findall(r'"code": "([a-z-]+)"', audits["json"]))
    assert {"quote-changed", "quote-missing", "link-behind-wall"} <= codes


def test_text_lists_each_quote_with_its_answer(audits: dict[str, str]) -> None:
    text = audits["text"]
    assert SUMMARY in text
    assert "claim c-58f20e26 [archiving]: found (both, 1.00)" in text
    assert "claim c-03b7dd82 [archiving]: changed (archive, 1.00)" in text
    assert "claim c-c6cf3ceb [study]: found (archive, 1.00): live page: dead (HTTP 404)" in text
    assert "claim c-d5248292 [survey]: unchecked: live page: dead (HTTP 410); no capture" in text
    assert "claim c-c24c2a34 [decay-news]: unchecked: live page: paywall or login page; no capture" in text
    assert re.search(r"claim c-05f37277 \[report\]: missing \(0\.\d\d\): live page: soft-404", text)


def test_markdown_lists_each_quote_with_its_answer(audits: dict[str, str]) -> None:
    md = audits["markdown"]
    assert SUMMARY in md and "#### Quotes (6)" in md
    for claim, (status, _where, _reason) in EXPECTED.items():
        assert re.search(rf"- \*\*claim {claim}\*\* \[[a-z\\-]+\] {status}\b", md), claim
    assert "paywall or login page" in md


def test_html_marks_each_found_quote_in_the_page_words(audits: dict[str, str]) -> None:
    page = audits["html"]
    assert "<h3>Quotes (6)</h3>" in page
    marked = re.findall(r"<mark>([^<]*)</mark>", page)
    assert marked == [
        "A citation is only as good as the page it points to.",
        "Web archives take copies of pages as they are published, so that a citation can still be checked after "
        "the page is gone.",
        "one in four no longer led to the page that had been cited",
    ]
    # Each mark sits inside the page's own words around it (the context), not alone.
    assert "page it points to.</mark> When a page disappears" in page
    assert "published before 2010 and found that <mark>one in four" in page
    for status in ("found", "changed", "missing", "unchecked"):
        assert f'<span class="tok q-{status}">{status}</span>' in page
    assert "paywall or login page" in page

