"""Render an :class:`~wikicore.audit.AuditReport` as text, JSON, Markdown or one HTML page.

Everything in a report that came from an article or a web server (titles,
claim text, urls, redirect targets, error messages) is untrusted: the text
renderer replaces control characters (a hostile redirect must not drive the
terminal), Markdown escapes its markup, and HTML escapes every piece with
:func:`html.escape` and links only http(s) urls. The HTML page makes no
request of its own: inline CSS, no scripts, fonts or images, and a CSP that
forbids everything else.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Literal

from ..audit.report import (
    ArticleAudit,
    AuditProblem,
    AuditReport,
    AuditSummary,
    CitationAudit,
    ClaimAudit,
    ReferenceAudit,
    SourcesSummary,
)
from ..audit.static import Severity
from .base import attr, esc, json_text, link, page, robust_link, terminal

__all__ = [
    "FORMATS",
    "Format",
    "render",
    "render_html",
    "render_json",
    "render_json_pieces",
    "render_markdown",
    "render_pieces",
    "render_text",
]

Format = Literal["text", "json", "markdown", "html"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown", "html")

_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def render(report: AuditReport, format: Format, *, color: bool = False) -> str:
    """Render in ``format``; ``color`` applies to text only."""
    if format == "text":
        return render_text(report, color=color)
    renderers: dict[str, Callable[[AuditReport], str]] = {
        "json": render_json,
        "markdown": render_markdown,
        "html": render_html,
    }
    return renderers[format](report)


def _located(article: ArticleAudit) -> Iterator[tuple[str, AuditProblem]]:
    """Every problem with where it is: ``article``, ``claim c-1`` or ``ref r-1``."""
    for problem in article.problems:
        yield "article", problem
    for claim in article.claims:
        for problem in claim.problems:
            yield f"claim {claim.id}", problem
    for ref in article.references:
        for problem in ref.problems:
            yield f"ref {ref.id}", problem


def _counts(summary: AuditSummary) -> str:
    parts = [f"{summary.by_severity.get(s.value, 0)} {s.value}" for s in _SEVERITIES]
    return ", ".join(parts)


def _statuses(summary: AuditSummary) -> str:
    return ", ".join(f"{n} {status}" for status, n in summary.by_status.items() if n) or "no references"


def _sources_line(sources: SourcesSummary) -> str:
    """The "sources still say it" summary in words."""
    q, d = sources.quotes, sources.drift
    compared = sum(d.values())
    return (
        f"sources still say it: quotes {q['found']} found, {q['changed']} changed, {q['missing']} missing, "
        f"{q['unchecked']} unchecked; references drifted {sources.drifted} of {compared} compared "
        f"({d['changed']} changed, {d['unrelated']} unrelated)"
    )


def _quoted(article: ArticleAudit) -> Iterator[tuple[ClaimAudit, CitationAudit]]:
    """Every citation with a quote, with its claim."""
    for claim in article.claims:
        for citation in claim.citations:
            if citation.quote:
                yield claim, citation


def _quote_words(citation: CitationAudit) -> str:
    """A quote check in a few words: ``found (both, 1.00)``, ``unchecked: live page: HTTP 404; no capture``."""
    check = citation.quote_check
    if check is None:
        return "not checked"
    detail: list[str] = [check.where] if check.where else []
    if check.status != "unchecked":
        detail.append(f"{check.score:.2f}")
    if check.page is not None:
        detail.append(f"p. {check.page}")
    words = check.status + (f" ({', '.join(detail)})" if detail else "")
    return words + (f": {check.reason}" if check.reason else "")


# --- text ----------------------------------------------------------------------

_COLORS = {Severity.ERROR: "\x1b[31;1m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"


def _safe(text: str | None) -> str:
    """One terminal line: control, line-breaking and bidi characters shown as escapes, never obeyed."""
    return terminal(text)


def render_text(report: AuditReport, *, color: bool = False) -> str:
    """A terminal report: per article, findings grouped by severity, errors first."""

    def paint(severity: Severity, text: str) -> str:
        return f"{_COLORS[severity]}{text}{_RESET}" if color else text

    totals = report.totals()
    lines = [
        f"audited {len(report.articles)} article(s), {totals.claims} claims, "
        f"{totals.references} references: {_counts(totals)}"
    ]
    lines.append(_sources_line(report.sources()))
    lines += [f"note: {_safe(note)}" for note in report.notes]
    refs_by_id: dict[tuple[str, str], ReferenceAudit] = {}
    for article in report.articles:
        for ref in article.references:
            refs_by_id[(article.slug, ref.id)] = ref
        revision = f" @ {article.revision[:12]}" if article.revision else ""
        lines += ["", f"{_safe(article.slug)}{revision}: {_safe(article.title)}"]
        lines.append(f"  links: {_statuses(article.summary)}")
        located = list(_located(article))
        if not located:
            lines.append("  no problems found")
        for severity in _SEVERITIES:
            group = [(where, p) for where, p in located if p.severity == severity]
            if not group:
                continue
            lines.append("  " + paint(severity, f"{severity.value.upper()} ({len(group)})"))
            for where, problem in group:
                lines.append(f"    {_safe(where)}: {_safe(problem.code)}: {_safe(problem.message)}")
                if where.startswith("ref "):
                    ref = refs_by_id[(article.slug, where[4:])]
                    if ref.url:
                        lines.append(f"      {_safe(ref.url)}")
        quoted = list(_quoted(article))
        if quoted:
            lines.append(f"  quotes ({len(quoted)})")
        for claim, citation in quoted:
            lines.append(f"    claim {_safe(claim.id)} [{_safe(citation.ref)}]: {_safe(_quote_words(citation))}")
            lines.append(f"      quote: {_safe(citation.quote)}")
            if citation.quote_check is not None and citation.quote_check.context:
                lines.append(f"      page: {_safe(citation.quote_check.context)}")
    return "\n".join(lines) + "\n"


# --- JSON ----------------------------------------------------------------------


def render_json(report: AuditReport) -> str:
    """The report as JSON (``schemas/audit.schema.json``): stable field order, two-space indent."""
    return "".join(render_json_pieces(report))


def render_json_pieces(report: AuditReport) -> Iterator[str]:
    """:func:`render_json` one article at a time: the same text, never held whole.

    A 50,000-reference report is 36 MB of JSON; built as one string, then copied
    to add the newline and encoded, it cost about 70 MB at once. The report
    without articles is serialised, and each article is serialised alone and
    indented to its place (``articles`` is the report's last field; strings hold
    no raw newline, so indenting every line is exact).
    """
    head = json_text(report.model_copy(update={"articles": ()}).model_dump_json(indent=2))
    empty = "[]\n}"
    if not report.articles or not head.endswith(empty):
        yield json_text(report.model_dump_json(indent=2)) + "\n"
        return
    yield head[: -len(empty)] + "["
    for index, article in enumerate(report.articles):
        text = json_text(article.model_dump_json(indent=2))
        yield ("\n" if index == 0 else ",\n") + "    " + text.replace("\n", "\n    ")
    yield "\n  ]\n}\n"


def render_pieces(report: AuditReport, format: Format, *, color: bool = False) -> Iterator[str]:
    """:func:`render` in pieces to write one after another: JSON per article, the others whole."""
    if format == "json":
        yield from render_json_pieces(report)
    else:
        yield render(report, format, color=color)


# --- Markdown ------------------------------------------------------------------

# Escaped wherever text lands mid-line (it never starts one): emphasis, code,
# link brackets (so no "[..](..)" can form), table pipes and strikethrough.
# "<", ">" and "&" are HTML-escaped first, so no tag or entity survives.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
#: Warning and info groups longer than this are folded in ``<details>``.
_MD_OPEN_LIMIT = 10
_ICONS = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}


def _md(text: str | None) -> str:
    """Markdown-inert text: HTML escaped, markup characters backslashed, on one line."""
    flat = terminal(" ".join((text or "").split()))
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def render_markdown(report: AuditReport) -> str:
    """A pull-request comment: a summary table, then each article's findings by severity."""
    totals = report.totals()
    out = [
        "## Citation audit",
        "",
        "| article | claims | references | " + " | ".join(s.value for s in _SEVERITIES) + " | links |",
        "|---|---:|---:|" + "---:|" * len(_SEVERITIES) + "---|",
    ]
    for article in report.articles:
        s = article.summary
        out.append(
            f"| {_md(article.slug)} | {s.claims} | {s.references} | "
            + " | ".join(str(s.by_severity.get(sev.value, 0)) for sev in _SEVERITIES)
            + f" | {_md(_statuses(s))} |"
        )
    out.append(
        f"| **total** | {totals.claims} | {totals.references} | "
        + " | ".join(str(totals.by_severity.get(sev.value, 0)) for sev in _SEVERITIES)
        + f" | {_md(_statuses(totals))} |"
    )
    out += ["", f"**{_md(_sources_line(report.sources()).capitalize())}**"]
    for note in report.notes:
        out += ["", f"> **Note:** {_md(note)}"]
    for article in report.articles:
        out += ["", f"### {_md(article.title)} ({_md_code(article.slug)})"]
        if article.revision:
            out.append(f"Revision {_md_code(article.revision[:12])}")
        located = list(_located(article))
        if not located:
            out += ["", "No problems found."]
        urls = {f"ref {ref.id}": ref.url for ref in article.references if ref.url}
        for severity in _SEVERITIES:
            group = [(where, p) for where, p in located if p.severity == severity]
            if not group:
                continue
            heading = f"{_ICONS[severity]} {severity.value} ({len(group)})"
            # Errors stay open; long lists of warnings and info fold away so a PR comment stays readable.
            folded = severity != Severity.ERROR and len(group) > _MD_OPEN_LIMIT
            out += ["", f"<details><summary>{heading}</summary>" if folded else f"#### {heading}", ""]
            for where, problem in group:
                url = urls.get(where)
                link = f" ({_md_code(url)})" if url else ""
                out.append(f"- **{_md(where)}** `{problem.code}`: {_md(problem.message)}{link}")
            if folded:
                out += ["", "</details>"]
        quoted = list(_quoted(article))
        if quoted:
            out += ["", f"#### Quotes ({len(quoted)})", ""]
        for claim, citation in quoted:
            out.append(f"- **claim {_md(claim.id)}** [{_md(citation.ref)}] {_md(_quote_words(citation))}: "
                       f"“{_md(citation.quote)}”")
            if citation.quote_check is not None and citation.quote_check.context:
                out.append(f"  - on the page: {_md(citation.quote_check.context)}")
    return "\n".join(out) + "\n"


_MD_CODE_UNSAFE = {"`": "%60", "<": "%3C", ">": "%3E", '"': "%22"}


def _md_code(text: str) -> str:
    """A code span: never a link, never markup, even in renderers that pass HTML through.

    It holds urls, slugs and revisions; percent-encoding ``<``, ``>``, ``"`` and
    backticks keeps a url's meaning and leaves nothing for an HTML parser.
    """
    flat = terminal(" ".join(text.split()))
    return "`" + "".join(_MD_CODE_UNSAFE.get(ch, ch) for ch in flat) + "`"


# --- HTML ----------------------------------------------------------------------

#: The link verdicts the health chart always names, in the order a reader scans them;
#: ``invalid`` and ``no-url`` join the legend when they occur.
_CHART_STATUSES = ("live", "dead", "soft-404", "blocked", "error", "unchecked")
_CHART_COLORS = {
    "live": "#2e7d32", "dead": "#c62828", "soft-404": "#ef6c00", "blocked": "#8e24aa",
    "error": "#6d4c41", "invalid": "#ad1457", "unchecked": "#9e9e9e", "no-url": "#cfd8dc",
}  # fmt: skip
#: Warning and info groups up to this long are open; longer ones (and never errors) fold.
_HTML_OPEN_LIMIT = 5


def render_html(report: AuditReport) -> str:
    """One self-contained page for a reviewer's browser; it loads nothing from anywhere.

    It opens with a summary a reader takes in at a glance (link health as an inline
    SVG bar, the share of claims that cite a source, findings per check), then per
    article its findings grouped by check (folded with ``<details>`` when long) and
    its references.
    """
    totals = report.totals()
    heading, h1 = "Citation audit", "Citation audit"
    if len(report.articles) == 1:
        only = report.articles[0]
        heading += f": {only.title}"
        lang = f' lang="{esc(only.language)}"' if only.language else ""
        h1 += f": <span{lang}>{esc(only.title)}</span>"
    body: list[str] = [
        f"<header><h1>{h1}</h1>",
        f'<p class="meta">Generated <span class="tok">{esc(report.generated_at.isoformat(timespec="seconds"))}'
        f"</span>{' (offline)' if report.offline else ''} &middot; {len(report.articles)} article(s), "
        f"{totals.claims} claims, {totals.references} references</p></header>",
        *_summary_html(report, totals),
    ]
    body += [f'<p class="note">{esc(note)}</p>' for note in report.notes]
    if len(report.articles) > 1:
        body += _articles_table(report)
    for article in report.articles:
        body += _html_article(article)
    return page(heading, body, description=f"{_counts(totals)}; links: {_statuses(totals)}")


def _cited(article: ArticleAudit) -> int:
    """Claims that cite a reference: every claim but those the audit calls uncited."""
    return sum(1 for claim in article.claims if not any(p.code == "claim-uncited" for p in claim.problems))


def _summary_html(report: AuditReport, totals: AuditSummary) -> list[str]:
    claims = sum(len(a.claims) for a in report.articles)
    cited = sum(_cited(a) for a in report.articles)
    percent = f"{100 * cited / claims:.0f}%" if claims else "–"
    return [
        '<section class="summary" id="summary" aria-label="Summary">',
        _health_card(totals, report.offline),
        '<div class="card"><h2>Claims cited</h2>'
        f'<p class="big">{percent}</p>{_bar([("cited", cited, "#2e7d32"), ("uncited", claims - cited, "#e0e0e0")])}'
        f'<p class="meta">{cited} of {claims} claims cite a reference</p>{_sources_html(report.sources())}</div>',
        _checks_card(report, totals),
        "</section>",
    ]


def _sources_html(sources: SourcesSummary) -> str:
    """The "sources still say it" lines, inside the claims card: a fourth card would squeeze the checks table."""
    q, d = sources.quotes, sources.drift
    legend = "".join(f'<li><span class="q-{k}">{k}</span> <strong>{q[k]}</strong></li>' for k in q)
    compared = sum(d.values())
    drift = (f"{sources.drifted} of {compared} references drifted ({d['changed']} changed, "
             f"{d['unrelated']} unrelated)") if compared else "no reference compared with a capture"
    return (
        f'<h2 id="sources">Sources still say it</h2><ul class="legend">{legend}</ul>'
        f'<p class="meta">{esc(drift)}</p>'
    )


def _marked(context: str, quote: str) -> str:
    """``context`` escaped, with the parts of ``quote`` found in it (normalised as the check does) marked."""
    # Imported here: the other formats never load the text machinery (trafilatura and friends).
    from ..sources.normalize import NormalText, normalize_quote

    normal = NormalText.of(context)
    spans: list[tuple[int, int]] = []
    at = 0
    for part in re.split(r"\s*\.\.\.+\s*", normalize_quote(quote)):
        part = part.strip()
        found = normal.text.find(part, at) if part else -1
        if found < 0:
            continue
        end = found + len(part)
        spans.append((normal.to_original(found), normal.to_original(end - 1) + 1))
        at = end
    out, last = [], 0
    for start, end in spans:
        if start < last:
            continue
        out.append(esc(context[last:start]) + f"<mark>{esc(context[start:end])}</mark>")
        last = end
    out.append(esc(context[last:]))
    return "".join(out)


def _html_quotes(article: ArticleAudit, lang: str) -> list[str]:
    """Per quoted citation: the verdict, the quote, and the page's words around the match, the quote marked."""
    quoted = list(_quoted(article))
    if not quoted:
        return []
    refs = {ref.id: ref for ref in article.references}
    out = [
        f'<h3>Quotes ({len(quoted)})</h3><table class="stack quotes"><colgroup><col class="w-where">'
        '<col class="w-status"><col></colgroup><tr class="head"><th>claim</th><th>quote check</th>'
        "<th>quote and source</th></tr>"
    ]
    for claim, citation in quoted:
        check = citation.quote_check
        status = check.status if check else "unchecked"
        ref = refs.get(citation.ref)
        source = _source_link(ref) if ref is not None and ref.url else esc(citation.ref)
        cell = f'<q{lang}>{esc(citation.quote)}</q><br><span class="meta">{source}</span>'
        if check is not None and check.context:
            cell += f'<br><span class="claim"{lang}>{_marked(check.context, citation.quote or "")}</span>'
        out.append(
            f'<tr><td data-label="claim"><code class="id">{esc(claim.id)}</code></td>'
            f'<td data-label="quote check"><span class="tok q-{attr(status)}">{esc(status)}</span>'
            f"<br>{esc(_quote_words(citation).removeprefix(status))}</td>"
            f'<td data-label="quote and source">{cell}</td></tr>'
        )
    out.append("</table>")
    return out


def _source_link(ref: ReferenceAudit, label: str | None = None) -> str:
    """A link to the source with Robust Links attributes: its archived version and that version's date."""
    version_url, version_date = None, None
    if ref.archive is not None:
        version_url, version_date = ref.archive.url, ref.archive.timestamp.date().isoformat()
    elif ref.archive_url and ref.archive_resolves is not False:
        version_url = ref.archive_url
    return robust_link(ref.url, label, version_url=version_url, version_date=version_date)


def _bar(parts: list[tuple[str, int, str]]) -> str:
    """A horizontal stacked bar as inline SVG (presentation attributes only: the CSP allows no style)."""
    total = sum(n for _, n, _ in parts)
    label = ", ".join(f"{n} {name}" for name, n, _ in parts if n) or "nothing to show"
    out = [
        f'<svg class="chart" viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg"><title>{esc(label)}</title>'
    ]
    if not total:
        out.append('<rect x="0" y="0" width="1000" height="20" fill="#eeeeee"/>')
    x = 0.0
    for name, n, color in parts:
        if not n:
            continue
        width = 1000 * n / total
        out.append(
            f'<rect x="{x:.2f}" y="0" width="{width:.2f}" height="20" fill="{color}">'
            f"<title>{esc(name)}: {n}</title></rect>"
        )
        x += width
    out.append("</svg>")
    return "".join(out)


def _health_card(totals: AuditSummary, offline: bool) -> str:
    counts = totals.by_status
    shown = [s for s in _CHART_STATUSES] + [s for s in ("invalid", "no-url") if counts.get(s)]
    checked = sum(counts.get(s, 0) for s in shown if s not in ("unchecked", "no-url"))
    live = counts.get("live", 0)
    headline = f"{live} of {checked} live" if checked else ("not checked (offline)" if offline else "nothing checked")
    legend = "".join(
        f'<li><span class="sw c-{s}"></span>{esc(s)} <strong>{counts.get(s, 0)}</strong></li>' for s in shown
    )
    bar = _bar([(s, counts.get(s, 0), _CHART_COLORS[s]) for s in shown])
    return (
        f'<div class="card"><h2>Link health</h2><p class="big">{esc(headline)}</p>{bar}'
        f'<ul class="legend">{legend}</ul></div>'
    )


def _checks(problems: Iterator[AuditProblem]) -> list[tuple[str, Severity, int]]:
    """(code, severity, count) per check, errors first, then the most frequent."""
    counter: dict[tuple[str, Severity], int] = {}
    for problem in problems:
        key = (problem.code, problem.severity)
        counter[key] = counter.get(key, 0) + 1
    return sorted(((c, s, n) for (c, s), n in counter.items()), key=lambda t: (-t[1].rank, -t[2], t[0]))


def _checks_card(report: AuditReport, totals: AuditSummary) -> str:
    counts = " &middot; ".join(
        f'<span class="{s.value}">{totals.by_severity.get(s.value, 0)} {s.value}</span>' for s in _SEVERITIES
    )
    rows = _checks(p for article in report.articles for p in article.all_problems())
    if not rows:
        table = '<p class="meta">No problems found.</p>'
    else:
        table = (
            '<table class="auto checks"><tr class="head"><th>check</th><th>severity</th><th class="n">n</th></tr>'
            + "".join(
                f'<tr><td><code class="tok check">{esc(code)}</code></td><td class="{sev.value}">{sev.value}</td>'
                f'<td class="n">{n}</td></tr>'
                for code, sev, n in rows
            )
            + "</table>"
        )
    return f'<div class="card"><h2>Findings per check</h2><p class="counts">{counts}</p>{table}</div>'


def _articles_table(report: AuditReport) -> list[str]:
    out = [
        "<h2>Articles</h2>",
        '<table class="stack"><colgroup><col><col class="w-n"><col class="w-n">'
        + '<col class="w-n">' * len(_SEVERITIES)
        + '<col class="w-archive"></colgroup><tr class="head"><th>article</th><th class="n">claims</th>'
        '<th class="n">refs</th>'
        + "".join(f'<th class="n {s.value}">{s.value}</th>' for s in _SEVERITIES)
        + "<th>links</th></tr>",
    ]
    for article in report.articles:
        s = article.summary
        lang = f' lang="{esc(article.language)}"' if article.language else ""
        out.append(
            f'<tr><td data-label="article"><a href="#a-{attr(article.slug)}"{lang}>{esc(article.title)}</a></td>'
            f'<td class="n" data-label="claims">{s.claims}</td><td class="n" data-label="refs">{s.references}</td>'
            + "".join(
                f'<td class="n" data-label="{sev.value}">{s.by_severity.get(sev.value, 0)}</td>' for sev in _SEVERITIES
            )
            + f'<td data-label="links">{esc(_statuses(s))}</td></tr>'
        )
    out.append("</table>")
    return out


def _html_article(article: ArticleAudit) -> list[str]:
    revision = f' &middot; revision <code class="tok">{esc(article.revision[:12])}</code>' if article.revision else ""
    # The article's own text carries its language, so browsers pick the right CJK glyphs.
    lang = f' lang="{esc(article.language)}"' if article.language else ""
    slug = article.slug
    out = [f'<h2 id="a-{attr(slug)}"{lang}>{esc(article.title)}</h2>']
    out.append(
        f'<p class="meta"><code>{esc(slug)}</code>{revision} &middot; links: {esc(_statuses(article.summary))}</p>'
    )
    claims_by_id = {claim.id: claim for claim in article.claims}
    urls = {ref.id: ref.url for ref in article.references}
    refs_by_id = {ref.id: ref for ref in article.references}
    located = list(_located(article))
    if not located:
        out.append("<p>No problems found.</p>")
    for code, severity, count in _checks(p for _, p in located):
        group = [(where, p) for where, p in located if p.code == code and p.severity == severity]
        folded = severity != Severity.ERROR and count > _HTML_OPEN_LIMIT
        out.append(
            f'<details id="f-{attr(slug)}-{attr(code)}"{"" if folded else " open"}><summary>'
            f'<code class="tok check">{esc(code)}</code> <span class="{severity.value}">{severity.value}</span> '
            f"({count})</summary>"
            '<table class="stack findings"><colgroup><col class="w-where"><col></colgroup>'
        )
        for where, problem in group:
            context = ""
            if where.startswith("claim "):
                claim = claims_by_id.get(where[6:])
                if claim and claim.text.strip()[:40] not in problem.message:  # not said twice
                    context = f'<br><span class="claim"{lang}>{esc(claim.text)}</span>'
            elif where.startswith("ref ") and urls.get(where[4:]):
                context = f"<br>{_source_link(refs_by_id[where[4:]])}"
            place = esc(where)
            if where.startswith("ref "):
                place = f'<a href="#r-{attr(slug)}-{attr(where[4:])}">{place}</a>'
            message = f"{esc(problem.message)}{context}"
            out.append(f"<tr><td>{place}</td><td>{message}</td></tr>")
        out.append("</table></details>")
    if article.references:
        out.append(
            "<h3>References</h3>"
            '<table class="stack"><colgroup><col class="w-id"><col class="w-status"><col>'
            '<col class="w-date"><col class="w-archive"></colgroup>'
            '<tr class="head"><th>id</th><th>status</th><th>reference</th><th>checked</th><th>archive</th></tr>'
        )
        out += [_html_reference(ref, slug, lang) for ref in article.references]
        out.append("</table>")
    out += _html_quotes(article, lang)
    return out


def _html_reference(ref: ReferenceAudit, slug: str, lang: str) -> str:
    status = f'<span class="tok s-{esc(ref.status.value)}">{esc(ref.status.value)}</span>'
    if ref.http_status:
        status += f' <span class="tok">HTTP {ref.http_status}</span>'
    if ref.confirmed_dead:
        status += ' <span class="tok">confirmed</span>'
    parts = [f"<strong{lang}>{esc(ref.title)}</strong>" if ref.title else ""]
    if ref.url:
        parts.append(_source_link(ref))
    if ref.drift is not None:
        parts.append(
            f'<span class="tok">drift: {esc(ref.drift.status)}</span> '
            f"({ref.drift.similarity:.0%} of the capture {esc(ref.drift.capture)} still there)"
        )
    if ref.text_changed_since is not None:
        parts.append(f"text changed since {esc(ref.text_changed_since.date().isoformat())}")
    if ref.final_url and ref.final_url != ref.url:
        parts.append(f"&rarr; {link(ref.final_url)}")
    archive = ""
    if ref.archive:
        when = ref.archive.timestamp.date().isoformat()
        distance = f", {ref.archive.distance_days} days away" if ref.archive.distance_days is not None else ""
        archive = robust_link(ref.archive.url, when, original=ref.url, version_url=ref.archive.url,
                              version_date=when) + esc(distance)
    if ref.archive_url:
        verdict = {True: "works", False: "broken", None: "not checked"}[ref.archive_resolves]
        stored = robust_link(ref.archive_url, original=ref.url, version_url=ref.archive_url) if ref.url else link(
            ref.archive_url
        )
        archive += f"{'<br>' if archive else ''}stored ({esc(verdict)}): {stored}"
    checked = ""
    if ref.checked_at:
        checked = f'<span class="tok">{esc(ref.checked_at.strftime("%Y-%m-%d %H:%M"))}</span>'
        if ref.from_cache:
            checked += " (cached)"
    if ref.failures:
        checked += f"<br>{ref.failures} failure(s)"
    return (
        f'<tr id="r-{attr(slug)}-{attr(ref.id)}"><td data-label="id"><code class="id">{esc(ref.id)}</code></td>'
        f'<td data-label="status">{status}</td>'
        f'<td data-label="reference">{"<br>".join(p for p in parts if p)}</td>'
        f'<td data-label="checked">{checked}</td><td data-label="archive">{archive}</td></tr>'
    )
