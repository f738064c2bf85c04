"""The review site: server-rendered HTML on the report frame, readable without JavaScript at 1280 and 390 px.

Pages: ``/`` recent changes (each linked to its diff, with its alerts, the
citation problems it introduced and its article's link health); ``/a/{slug}``
the article with a health mark on every citation; its ``history`` (each row
linked to that revision and to its diff), any revision ``rev/{rev}``, the diff
``compare/{a}/{b}``, ``blame``, and ``findings`` (the static audit of the
latest revision). The diff, blame and history pages are the report renderers'
own; this module adds the navigation. Every page uses the report's one
stylesheet, allowed by hash in the CSP (also sent as a header), and every piece
of wiki text goes through :func:`wikicore.report.base.esc`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ..audit.static import run_static_checks
from ..errors import WikicoreError
from ..models import Article, Claim, Paragraph, Section
from ..report.base import CSP, attr, esc, link, page
from ..report.diff import render_blame_html, render_diff_html, render_history_html
from ..review import ReferenceHealth, article_health
from .service import DEFAULT_CHANGES, Service

__all__ = ["HTML_CSP", "router"]

#: The report's own policy, and no framing (a header can say that; a meta tag cannot).
HTML_CSP = CSP + "; frame-ancestors 'none'"

router = APIRouter(include_in_schema=False)

#: Alerts shown per change on the recent-changes page before the rest fold into a <details>.
_ALERTS_SHOWN = 3

_MARK = {"live": "✓", "dead": "✗", "soft-404": "?", "blocked": "?", "error": "!", "invalid": "✗",
         "unchecked": "·", "no-url": ""}


def _html(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers={"Content-Security-Policy": HTML_CSP, "Cache-Control": "no-cache"})


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


class _Links:
    """Absolute urls of the site's pages (absolute: the Host was checked, and a page saved to disk keeps working)."""

    def __init__(self, request: Request) -> None:
        self.root = str(request.base_url).rstrip("/")

    def home(self) -> str:
        return self.root + "/"

    def article(self, slug: str, part: str = "") -> str:
        return f"{self.root}/a/{quote(slug)}" + (f"/{part}" if part else "")

    def rev(self, slug: str, rev: str) -> str:
        return self.article(slug, f"rev/{quote(rev)}")

    def compare(self, slug: str, a: str, b: str) -> str:
        return self.article(slug, f"compare/{quote(a)}/{quote(b)}")


def _a(url: str, label: str, cls: str = "") -> str:
    return f'<a href="{esc(url)}"{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{label}</a>'


def _nav(links: _Links, slug: str | None = None) -> str:
    parts = [_a(links.home(), "Recent changes")]
    if slug is not None:
        parts += [_a(links.article(slug), f"<code>{esc(slug)}</code>"), _a(links.article(slug, "history"), "history"),
                  _a(links.article(slug, "blame"), "blame"), _a(links.article(slug, "findings"), "findings")]
    return f'<nav class="meta">{" · ".join(parts)}</nav>'


def _framed(html: str, nav: str) -> str:
    """A report renderer's page with the site's navigation at the top of its body."""
    return html.replace("<body>", "<body>" + nav, 1)


# --- recent changes ------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def recent(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_CHANGES) -> HTMLResponse:
    """Recent changes across the wiki."""
    service = _service(request)
    links = _Links(request)
    changes = service.changes(limit, None)
    health: dict[str, Counter[str]] = {}
    # The newest `limit` changes of the wiki hold each listed article's latest revision first.
    latest = {c.slug: c.revision for c in reversed(changes)}
    for slug, revision in latest.items():
        try:
            _, refs = service.health(slug, revision)
        except WikicoreError:  # an article renamed or deleted since: no health shown for it
            continue
        health[slug] = Counter(r.status for r in refs)
    alerts = sum(len(c.alerts) for c in changes)
    problems = sum(c.problems_introduced for c in changes)
    summary = f"{len(changes)} recent change(s), {alerts} alert(s), {problems} citation problem(s) introduced"
    body = [
        _nav(links), "<header><h1>Recent changes</h1>", f'<p class="meta" id="summary">{esc(summary)}</p></header>',
        '<table class="stack"><colgroup><col class="w-date"><col class="w-rev"><col><col class="w-status">'
        '</colgroup><tr class="head"><th>when</th><th>change</th><th>message and alerts</th><th>links</th></tr>',
    ]
    for change in changes:
        target = (links.compare(change.slug, change.parent, change.revision) if change.parent
                  else links.rev(change.slug, change.revision))
        subject = change.message.splitlines()[0] if change.message.strip() else "(no message)"
        shown = [f'<div class="alert"><span class="kind tok">{esc(a.kind)}</span>: {esc(a.message)}</div>'
                 for a in change.alerts]
        notes = "".join(shown[:_ALERTS_SHOWN])
        if len(shown) > _ALERTS_SHOWN:  # an import alerts on every claim: the rest fold away, no script needed
            notes += (f"<details><summary>{len(shown) - _ALERTS_SHOWN} more alert(s)</summary>"
                      f"{''.join(shown[_ALERTS_SHOWN:])}</details>")
        introduced = (f'<div class="warning">{change.problems_introduced} citation problem(s) introduced</div>'
                      if change.problems_introduced else "")
        counts = health.get(change.slug, Counter())
        marks = ", ".join(f'<span class="s-{esc(k)} nw">{n} {esc(k)}</span>' for k, n in sorted(counts.items()))
        body.append(
            f'<tr><td data-label="when"><span class="tok">{esc(change.date.strftime("%Y-%m-%d %H:%M"))}</span></td>'
            f'<td data-label="change">{_a(links.article(change.slug), f"<code>{esc(change.slug)}</code>")}<br>'
            f'{_a(target, f"<code class=tok>{esc(change.revision[:12])}</code>", "diff")}'
            f'<div class="meta">{esc(change.author)}</div></td>'
            f'<td data-label="message">{esc(subject)}{notes}{introduced}</td>'
            f'<td data-label="links">{marks or "<span class=meta>no links checked</span>"}</td></tr>'
        )
    body.append("</table>")
    if not changes:
        body.append("<p>No changes yet.</p>")
    return _html(page("Recent changes", body, description=summary))


# --- an article -------------------------------------------------------------------------------


def _claim_html(claim: Claim, health: dict[str, ReferenceHealth]) -> str:
    marks = []
    for citation in claim.citations:
        state = health.get(citation.ref)
        status = state.status if state else "unchecked"
        marks.append(
            f'<sup><a href="#ref-{attr(citation.ref)}" title="{esc(status)}">[{esc(citation.ref)}]</a>'
            f'<span class="s-{esc(status)}">{_MARK.get(status, "")}</span></sup>'
        )
    return f'<span id="claim-{attr(claim.id)}">{esc(claim.text)}</span>{"".join(marks)}'


def _paragraphs(paragraphs: Iterable[Paragraph], health: dict[str, ReferenceHealth], lang: str) -> list[str]:
    return [f"<p{lang}>{''.join(_claim_html(c, health) for c in p.claims)}</p>" for p in paragraphs]


def _sections(sections: Iterable[Section], health: dict[str, ReferenceHealth], lang: str, depth: int) -> list[str]:
    out: list[str] = []
    level = min(depth, 4)
    for section in sections:
        out.append(f'<h{level} id="section-{attr(section.id)}"{lang}>{esc(section.heading)}</h{level}>')
        out += _paragraphs(section.paragraphs, health, lang)
        out += _sections(section.sections, health, lang, depth + 1)
    return out


def _article_page(request: Request, article: Article, revision: str, latest: bool) -> HTMLResponse:
    links = _Links(request)
    service = _service(request)
    refs = [(r.id, r.url) for r in article.references]
    health = {h.ref: h for h in article_health(service.wiki().checks_path, refs)}
    lang = f' lang="{esc(article.language)}"' if article.language else ""
    counts = Counter(h.status for h in health.values())
    summary = (f"{len(article.claims())} claims, {len(article.references)} references; links: "
               + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"))
    which = "latest revision" if latest else "revision"
    body = [
        _nav(links, article.slug),
        f"<header><h1{lang}>{esc(article.title)}</h1>",
        f'<p class="meta" id="summary">{which} <code class="tok">{esc(revision[:12])}</code>; {esc(summary)}</p>'
        "</header>",
        *_paragraphs(article.lead, health, lang),
        *_sections(article.sections, health, lang, 2),
        "<h2>References</h2>",
        '<table class="stack"><colgroup><col class="w-id"><col><col class="w-status"></colgroup>'
        '<tr class="head"><th>id</th><th>reference</th><th>link health</th></tr>',
    ]
    for ref in article.references:
        state = health.get(ref.id)
        status = state.status if state else "unchecked"
        checked = state.checked_at if state else None
        when = f' <span class="meta nw">{esc(checked.date().isoformat())}</span>' if checked else ""
        dead = ' <span class="s-dead">confirmed dead</span>' if state and state.confirmed_dead else ""
        body.append(
            f'<tr id="ref-{attr(ref.id)}"><td data-label="id"><code class="tok">{esc(ref.id)}</code></td>'
            f'<td data-label="reference"><span{lang}>{esc(ref.title or ref.raw or "")}</span>'
            f'{"<br>" + link(ref.url) if ref.url else ""}</td>'
            f'<td data-label="health"><span class="s-{esc(status)} tok">{esc(status)}</span>{when}{dead}</td></tr>'
        )
    body.append("</table>")
    return _html(page(f"{article.title} ({article.slug})", body, description=summary))


@router.get("/a/{slug}", response_class=HTMLResponse)
def article(request: Request, slug: str) -> HTMLResponse:
    """The latest revision with a health mark per citation."""
    answer = _service(request).article(slug)
    return _article_page(request, answer.article, answer.revision, latest=True)


@router.get("/a/{slug}/rev/{rev}", response_class=HTMLResponse)
def revision(request: Request, slug: str, rev: str) -> HTMLResponse:
    """Any revision of the article."""
    answer = _service(request).article(slug, rev)
    return _article_page(request, answer.article, answer.revision, latest=False)


@router.get("/a/{slug}/history", response_class=HTMLResponse)
def history(request: Request, slug: str) -> HTMLResponse:
    """The history page, each row linked to its revision and to its diff from the one before."""
    service = _service(request)
    links = _Links(request)
    revisions = service.wiki().history(slug)
    html = render_history_html(revisions, slug)
    for index, rev in enumerate(revisions):
        cell = f'<code class="tok">{esc(rev.short)}</code>'
        parts = [_a(links.rev(slug, rev.id), cell)]
        if index + 1 < len(revisions):
            parts.append(_a(links.compare(slug, revisions[index + 1].id, rev.id), "diff", "diff"))
        html = html.replace(f'<td data-label="revision">{cell}</td>',
                            f'<td data-label="revision">{"<br>".join(parts)}</td>', 1)
    return _html(_framed(html, _nav(links, slug)))


@router.get("/a/{slug}/compare/{a}/{b}", response_class=HTMLResponse)
def compare(request: Request, slug: str, a: str, b: str) -> HTMLResponse:
    """The semantic diff between two revisions, as ``wikicore diff --format html`` renders it."""
    diff = _service(request).wiki().diff(slug, a, b)
    return _html(_framed(render_diff_html(diff), _nav(_Links(request), slug)))


@router.get("/a/{slug}/blame", response_class=HTMLResponse)
def blame(request: Request, slug: str, rev: Annotated[str | None, Query(max_length=80)] = None) -> HTMLResponse:
    """Claim blame, as ``wikicore blame --format html`` renders it."""
    service = _service(request)
    result = service.wiki().blame(slug, rev)
    language = service.article(slug).article.language
    return _html(_framed(render_blame_html(result, language=language), _nav(_Links(request), slug)))


@router.get("/a/{slug}/findings", response_class=HTMLResponse)
def findings(request: Request, slug: str) -> HTMLResponse:
    """The static audit of the latest revision: every finding with its claim or reference."""
    answer = _service(request).article(slug)
    found = run_static_checks(answer.article)
    links = _Links(request)
    summary = f"{len(found)} finding(s) at revision {answer.revision[:12]}"
    body = [
        _nav(links, slug), f"<header><h1>Findings <code>{esc(slug)}</code></h1>",
        f'<p class="meta" id="summary">{esc(summary)}; the static checks of <code>wikicore audit --offline</code>'
        "</p></header>",
        '<table class="stack"><colgroup><col class="w-kind"><col class="w-archive"><col><col class="w-rev"></colgroup>'
        '<tr class="head"><th>severity</th><th>check</th><th>message</th><th>about</th></tr>',
    ]
    for finding in found:
        about = finding.claim_id or finding.ref_id or ""
        anchor = (f"claim-{attr(finding.claim_id)}" if finding.claim_id
                  else f"ref-{attr(finding.ref_id)}" if finding.ref_id else "")
        target = _a(links.article(slug) + "#" + anchor, f'<code class="tok">{esc(about)}</code>') if anchor else ""
        body.append(
            f'<tr><td data-label="severity"><span class="{esc(finding.severity)} tok">{esc(finding.severity)}</span>'
            f'</td><td data-label="check"><code class="check tok">{esc(finding.code)}</code></td>'
            f'<td data-label="message">{esc(finding.message)}</td><td data-label="about">{target}</td></tr>'
        )
    body.append("</table>")
    if not found:
        body.append("<p>No findings.</p>")
    return _html(page(f"Findings {slug}", body, description=summary))
