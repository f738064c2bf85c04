"""Rendering audit reports: hostile text stays inert, HTML is self-contained, JSON fits its schema."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from html.parser import HTMLParser

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikicore.audit import (
    ArchiveInfo,
    ArticleAudit,
    AuditProblem,
    AuditReport,
    AuditSummary,
    ClaimAudit,
    ReferenceAudit,
    Severity,
    audit_articles,
)
from wikicore.links import LinkStatus
from wikicore.models import Article
from wikicore.report.audit import FORMATS, render, render_html, render_json, render_markdown, render_text
from wikicore.schema import schemas

EVIL_TITLE = '<script>alert("title")</script> | *bold* [x](javascript:alert(1))'
EVIL_CLAIM = "<img src=x onerror=alert(1)> claims & more"
GOOD_URL = 'https://example.org/a?q="><script>alert(1)</script>'
JS_URL = "javascript:alert(document.cookie)"
ARCHIVED = "https://web.archive.org/web/2020/https://example.org/a"
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def hostile_report() -> AuditReport:
    """A report built from an article full of markup, plus hand-made live verdicts."""
    article = Article.model_validate(
        {
            "slug": "evil",
            "title": EVIL_TITLE,
            "lead": [{"claims": [{"id": "c-1", "text": EVIL_CLAIM}]}],
            "references": [
                {"id": "r-js", "type": "web", "url": JS_URL, "title": "<b>js</b>"},
                {"id": "r-file", "type": "web", "url": "file:///etc/passwd"},
            ],
            "source": {"format": "text", "warnings": ["<iframe src='https://evil.example/'>"]},
        }
    )
    static = audit_articles([(article, "0123456789abcdef")], offline=True, today=NOW.date())
    base = static.articles[0]
    dead = ReferenceAudit(
        id="r-dead",
        title="</td><script>alert(2)</script>",
        url=GOOD_URL,
        status=LinkStatus.DEAD,
        http_status=404,
        final_url="http://redirect.example/\x1b[31mred\x1b[0m",
        checked_at=NOW,
        failures=3,
        confirmed_dead=True,
        archive=ArchiveInfo(
            url="https://web.archive.org/web/2020/https://example.org/a", timestamp=NOW, distance_days=3
        ),
        archive_url="javascript:alert(3)",
        archive_resolves=False,
        problems=(AuditProblem(code="link-dead", severity=Severity.ERROR, message="dead <b>now</b>"),),
    )
    summary = AuditSummary(
        claims=1, references=3, by_status={"dead": 1, "invalid": 2}, by_severity={"error": 3, "warning": 1, "info": 1}
    )
    evil = ArticleAudit(
        slug=base.slug,
        title=base.title,
        revision=base.revision,
        summary=summary,
        problems=base.problems,
        claims=base.claims,
        references=(*base.references, dead),
    )
    return AuditReport(generated_at=NOW, offline=False, notes=("note with <tag> & stuff",), articles=(evil,))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value) for name, value in attrs)


def test_html_is_self_contained_and_escapes_everything() -> None:
    page = render_html(hostile_report())
    parser = _Links()
    parser.feed(page)

    assert "script" not in parser.tags and "img" not in parser.tags and "iframe" not in parser.tags
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "onerror=" not in page.replace("onerror=alert(1)&gt;", "")  # only as escaped text
    # No attribute loads anything: no src anywhere, hrefs are in-page anchors or reference http(s) links.
    assert not [a for a in parser.attrs if a[1] in {"src", "srcset", "action", "formaction", "background"}]
    hrefs = [value for tag, name, value in parser.attrs if name == "href"]
    external = [h for h in hrefs if h and not h.startswith("#")]
    assert set(external) == {GOOD_URL, ARCHIVED}
    assert all(h.startswith(("https://", "http://", "#")) for h in hrefs if h)
    assert "javascript:" not in "".join(hrefs)
    anchors = [dict((n, v) for t, n, v in parser.attrs if t == "a")]
    assert anchors
    for tag, name, value in parser.attrs:
        if tag == "a" and name == "rel":
            assert value == "noopener noreferrer nofollow"
    rels = [v for t, n, v in parser.attrs if t == "a" and n == "rel"]
    assert len(rels) == len(external)
    # The CSP forbids everything but the page's own stylesheet, named by its hash (no 'unsafe-inline').
    csp = [v for t, n, v in parser.attrs if t == "meta" and n == "content" and v and "default-src" in v]
    assert csp and csp[0].startswith("default-src 'none'; style-src 'sha256-") and "unsafe" not in csp[0]
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp[0] and page.count("<style>") == 1 and " style=" not in page
    assert "@import" not in page and "url(" not in page
    # The article's text is shown, escaped.
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; claims &amp; more" in page
    assert "javascript:alert(document.cookie)" in page  # as text, for the reviewer to see


def test_markdown_has_a_summary_table_and_inert_text() -> None:
    md = render_markdown(hostile_report())
    lines = md.splitlines()
    assert lines[0] == "## Citation audit"
    assert lines[2].startswith("| article | claims | references | error | warning | info |")
    row = lines[4]
    assert row.startswith("| evil | 1 | 3 | 3 | 1 | 1 |")
    assert "<script>" not in md and "<img" not in md and "<iframe" not in md
    assert "\\[x\\](javascript:alert(1))" in md  # no link is formed
    assert "\\|" in md  # a pipe in the title does not break the table
    assert "`link-dead`" in md and "`claim-uncited`" in md and "`url-scheme-disallowed`" in md


def test_json_validates_against_the_committed_schema_and_round_trips() -> None:
    report = hostile_report()
    text = render_json(report)
    data = json.loads(text)
    jsonschema.validate(data, schemas()["audit"])
    assert AuditReport.model_validate_json(text) == report
    ref = data["articles"][0]["references"][-1]
    for key in (
        "id",
        "url",
        "status",
        "http_status",
        "final_url",
        "checked_at",
        "failures",
        "confirmed_dead",
        "archive",
        "problems",
    ):
        assert key in ref
    assert set(ref["archive"]) == {"url", "timestamp", "archive", "distance_days"}
    assert set(ref["problems"][0]) == {"code", "severity", "message"}
    article = data["articles"][0]
    assert {"slug", "revision", "summary", "claims", "references"} <= set(article)
    assert article["claims"][0]["problems"][0]["code"] == "claim-uncited"


def test_schema_rejects_an_unknown_status() -> None:
    data = json.loads(render_json(hostile_report()))
    data["articles"][0]["references"][0]["status"] = "probably-fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schemas()["audit"])


def test_text_groups_by_severity_and_neutralises_control_characters() -> None:
    report = hostile_report()
    plain = render_text(report)
    assert "\x1b" not in plain
    assert plain.index("ERROR (") < plain.index("WARNING (") < plain.index("INFO (")
    assert "note: note with <tag> & stuff" in plain
    coloured = render_text(report, color=True)
    assert "\x1b[31;1mERROR" in coloured
    assert coloured.count("\x1b[") == 2 * 3  # one colour and one reset per severity heading


def test_render_dispatches_every_format() -> None:
    report = hostile_report()
    for fmt in FORMATS:
        assert render(report, fmt).endswith("\n")
    assert render(report, "json") == render_json(report)


def test_offline_report_says_so_in_every_format() -> None:
    article = Article.model_validate({"slug": "a", "title": "A", "references": [{"id": "r", "url": "https://e.org/"}]})
    report = audit_articles([(article, None)], offline=True)
    for fmt in ("text", "markdown", "html"):
        assert "offline: no link or archive was checked" in render(report, fmt)


def test_markdown_folds_long_lists_and_shows_urls_as_code() -> None:
    refs = [{"id": f"r{i}", "type": "web", "title": f"T{i}"} for i in range(12)]  # 12 unverifiable warnings
    article = Article.model_validate({"slug": "many", "title": "Many", "references": refs})
    md = render_markdown(audit_articles([(article, None)], offline=True))
    assert "<details><summary>🟡 warning (24)</summary>" in md and md.count("</details>") == 1
    evil = render_markdown(hostile_report())
    assert "#### 🔴 error (3)" in evil  # errors are never folded
    assert "(`javascript:alert(document.cookie)`)" in evil  # a code span: shown, not linked
    assert "### " in evil and "(`evil`)" in evil and "Revision `0123456789ab`" in evil


# --- properties: whatever the article and the web say, the renderers stay inert ----------


_NASTY = st.text(
    alphabet=st.sampled_from(list("<>&\"'`|*_[]()#!\\/:;=- \t\nabcXYZ019é\u202e\x1b\x00\x85")), max_size=40
)
_URLS = st.one_of(
    _NASTY,
    st.builds(lambda s: "https://example.org/" + s, _NASTY),
    st.builds(lambda s: "javascript:" + s, _NASTY),
    st.builds(lambda s: "http://x.example/" + s + '"><script>', _NASTY),
)
_ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "section", "div", "h1", "h2", "h3", "p",
    "table", "colgroup", "col", "tr", "th", "td", "a", "span", "code", "strong", "br", "details", "summary",
    "ul", "li", "svg", "rect",
}  # fmt: skip


def _report(title: str, text: str, url: str, message: str) -> AuditReport:
    ref = ReferenceAudit(
        id="r",
        title=title,
        url=url,
        status=LinkStatus.DEAD,
        final_url=url + text,
        checked_at=NOW,
        archive=ArchiveInfo(url=url, timestamp=NOW, distance_days=1),
        archive_url=url,
        problems=(AuditProblem(code="link-dead", severity=Severity.ERROR, message=message),),
    )
    claim = ClaimAudit(id="c", text=text, problems=(AuditProblem(code="x", severity=Severity.WARNING, message=text),))
    summary = AuditSummary(claims=1, references=1, by_status={"dead": 1}, by_severity={"error": 1, "warning": 1})
    article = ArticleAudit(
        slug="s", title=title, revision=None, summary=summary, problems=(), claims=(claim,), references=(ref,)
    )
    return AuditReport(generated_at=NOW, offline=False, notes=(message,), articles=(article,))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_NASTY, text=_NASTY, url=_URLS, message=_NASTY)
def test_any_text_stays_inert(title: str, text: str, url: str, message: str) -> None:
    report = _report(title, text, url, message)

    page = render_html(report)
    parser = _Links()
    parser.feed(page)
    assert set(parser.tags) <= _ALLOWED_TAGS
    for _tag, name, value in parser.attrs:
        assert not name.startswith("on") and name not in {"src", "srcset", "action", "formaction"}
        if name == "href":
            assert value is not None and (value.startswith("#") or value.lower().startswith(("http://", "https://")))
            assert not any(ord(ch) < 32 for ch in value)

    md = render_markdown(report)
    assert "<" not in md.replace("<details>", "").replace("<summary>", "").replace("</summary>", "").replace(
        "</details>", ""
    )
    # An escaped backtick (\`) is a literal character, not a code-span delimiter: drop escaped
    # backslashes and backticks first, or "\`" pairs with the next real backtick and shifts every span.
    outside_code = re.sub(r"`[^`]*`", "", re.sub(r"\\[\\`]", "", md))
    assert not re.search(r"(?<!\\)\]\(", outside_code)  # no link syntax survives
    text_report = render_text(report)
    assert not [ch for ch in text_report if (ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) <= 0x9F]
    assert AuditReport.model_validate_json(render_json(report)) == report


def test_html_marks_article_text_with_its_language() -> None:
    from wikicore.audit import audit_articles
    from wikicore.models import Article
    from wikicore.report.audit import render

    article = Article.model_validate(
        {"slug": "a", "title": "アゼルバイジャン", "language": "ja", "lead": [{"claims": [{"text": "出典のない文。"}]}]}
    )
    html = render(audit_articles([(article, None)], offline=True), "html")
    assert '<h2 id="a-a" lang="ja">' in html
