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

from ..audit import ArticleAudit, AuditProblem, AuditReport, AuditSummary, ReferenceAudit
from ..checks import Severity, url_problem

__all__ = ["FORMATS", "Format", "render", "render_html", "render_json", "render_markdown", "render_text"]

Format = Literal["text", "json", "markdown", "html"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown", "html")

_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)
# Shown as escapes: C0/C1 controls, line separators, and bidi overrides (which can
# make a url read as another). The text report also escapes tab and newline:
# every field there is one line, and a newline in a message must not forge a line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


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


def _linkable(url: str | None) -> bool:
    return bool(url) and url_problem(url or "") is None


# --- text ----------------------------------------------------------------------

_COLORS = {Severity.ERROR: "\x1b[31;1m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"


def _escape(pattern: re.Pattern[str], text: str | None) -> str:
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text or "")


def _safe(text: str | None) -> str:
    """One terminal line: control, line-breaking and bidi characters shown as escapes, never obeyed."""
    return _escape(_CONTROL_LINE, text)


def render_text(report: AuditReport, *, color: bool = False) -> str:
    """A terminal report: per article, findings grouped by severity, errors first."""

    def paint(severity: Severity, text: str) -> str:
        return f"{_COLORS[severity]}{text}{_RESET}" if color else text

    totals = report.totals()
    lines = [
        f"audited {len(report.articles)} article(s), {totals.claims} claims, "
        f"{totals.references} references: {_counts(totals)}"
    ]
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
                lines.append(f"    {where}: {problem.code}: {_safe(problem.message)}")
                if where.startswith("ref "):
                    ref = refs_by_id[(article.slug, where[4:])]
                    if ref.url:
                        lines.append(f"      {_safe(ref.url)}")
    return "\n".join(lines) + "\n"


# --- JSON ----------------------------------------------------------------------


def render_json(report: AuditReport) -> str:
    """The report as JSON (``schemas/audit.schema.json``): stable field order, two-space indent."""
    return report.model_dump_json(indent=2) + "\n"


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
    flat = " ".join((text or "").split())
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
    return "\n".join(out) + "\n"


_MD_CODE_UNSAFE = {"`": "%60", "<": "%3C", ">": "%3E", '"': "%22"}


def _md_code(text: str) -> str:
    """A code span: never a link, never markup, even in renderers that pass HTML through.

    It holds urls, slugs and revisions; percent-encoding ``<``, ``>``, ``"`` and
    backticks keeps a url's meaning and leaves nothing for an HTML parser.
    """
    flat = " ".join(text.split())
    return "`" + "".join(_MD_CODE_UNSAFE.get(ch, ch) for ch in flat) + "`"


# --- HTML ----------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.75rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right}
.error{color:#a40000;font-weight:600}.warning{color:#8a5a00}.info{color:#035e8c}
.status{font-family:ui-monospace,monospace;white-space:nowrap}
.s-live{color:#176117}.s-dead,.s-invalid{color:#a40000;font-weight:600}
.s-soft-404,.s-blocked{color:#8a5a00}.s-error,.s-unchecked,.s-no-url{color:#555}
code,.url{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
.note{background:#fff8e0;border-left:4px solid #e0b000;padding:.5rem .75rem}
.claim{color:#444}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(text: object) -> str:
    """Escaped for HTML text and attributes; control characters shown as escapes, like the text report."""
    return html.escape(_escape(_CONTROL, "" if text is None else str(text)), quote=True)


def _link(url: str | None, label: str | None = None) -> str:
    """An anchor for http(s) urls only; anything else (``javascript:``, ``file:``) is plain text."""
    if not url:
        return ""
    shown = f'<span class="url">{_e(label or url)}</span>'
    if not _linkable(url):
        return shown
    return f'<a href="{_e(url.strip())}" rel="noopener noreferrer nofollow">{shown}</a>'


def render_html(report: AuditReport) -> str:
    """One self-contained page for a reviewer's browser; it loads nothing from anywhere."""
    totals = report.totals()
    body: list[str] = [
        "<h1>Citation audit</h1>",
        f"<p>Generated {_e(report.generated_at.isoformat(timespec='seconds'))}"
        f"{' (offline)' if report.offline else ''}: {len(report.articles)} article(s), "
        f"{totals.claims} claims, {totals.references} references &mdash; {_e(_counts(totals))}.</p>",
    ]
    body += [f'<p class="note">{_e(note)}</p>' for note in report.notes]
    body.append(
        "<table><tr><th>article</th><th>claims</th><th>references</th>"
        + "".join(f'<th class="{s.value}">{s.value}</th>' for s in _SEVERITIES)
        + "<th>links</th></tr>"
    )
    for article in report.articles:
        s = article.summary
        body.append(
            f'<tr><td><a href="#a-{_e(article.slug)}">{_e(article.title)}</a></td>'
            f'<td class="n">{s.claims}</td><td class="n">{s.references}</td>'
            + "".join(f'<td class="n">{s.by_severity.get(sev.value, 0)}</td>' for sev in _SEVERITIES)
            + f"<td>{_e(_statuses(s))}</td></tr>"
        )
    body.append("</table>")
    for article in report.articles:
        body += _html_article(article)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Citation audit</title>"
        f"<style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _html_article(article: ArticleAudit) -> list[str]:
    revision = f" &middot; revision <code>{_e(article.revision[:12])}</code>" if article.revision else ""
    # The article's own text carries its language, so browsers pick the right CJK glyphs.
    lang = f' lang="{_e(article.language)}"' if article.language else ""
    out = [
        f'<h2 id="a-{_e(article.slug)}"{lang}>{_e(article.title)}</h2>',
        f"<p><code>{_e(article.slug)}</code>{revision} &middot; links: {_e(_statuses(article.summary))}</p>",
    ]
    claims_by_id = {claim.id: claim for claim in article.claims}
    located = list(_located(article))
    if not located:
        out.append("<p>No problems found.</p>")
    else:
        out.append("<h3>Findings</h3><table><tr><th>severity</th><th>where</th><th>code</th><th>message</th></tr>")
        for severity in _SEVERITIES:
            for where, problem in located:
                if problem.severity != severity:
                    continue
                context = ""
                if where.startswith("claim "):
                    claim = claims_by_id.get(where[6:])
                    if claim and claim.text.strip()[:40] not in problem.message:  # not said twice
                        context = f'<br><span class="claim"{lang}>{_e(claim.text)}</span>'
                out.append(
                    f'<tr><td class="{severity.value}">{severity.value}</td><td>{_e(where)}</td>'
                    f"<td><code>{_e(problem.code)}</code></td><td>{_e(problem.message)}{context}</td></tr>"
                )
        out.append("</table>")
    if article.references:
        out.append(
            "<h3>References</h3><table><tr><th>id</th><th>status</th><th>reference</th>"
            "<th>checked</th><th>archive</th></tr>"
        )
        for ref in article.references:
            out.append(_html_reference(ref))
        out.append("</table>")
    return out


def _html_reference(ref: ReferenceAudit) -> str:
    status = ref.status.value
    if ref.http_status:
        status += f" ({ref.http_status})"
    if ref.confirmed_dead:
        status += ", confirmed"
    parts = [f"<strong>{_e(ref.title)}</strong>" if ref.title else ""]
    if ref.url:
        parts.append(_link(ref.url))
    if ref.final_url and ref.final_url != ref.url:
        parts.append(f"&rarr; {_link(ref.final_url)}")
    archive = ""
    if ref.archive:
        when = ref.archive.timestamp.date().isoformat()
        distance = f", {ref.archive.distance_days} days away" if ref.archive.distance_days is not None else ""
        archive = f"{_link(ref.archive.url, when)}{_e(distance)}"
    if ref.archive_url:
        verdict = {True: "works", False: "broken", None: "not checked"}[ref.archive_resolves]
        archive += f"<br>stored ({_e(verdict)}): {_link(ref.archive_url)}"
    checked = _e(ref.checked_at.isoformat(timespec="seconds")) if ref.checked_at else ""
    if ref.failures:
        checked += f"<br>{ref.failures} failure(s)"
    return (
        f"<tr><td><code>{_e(ref.id)}</code></td>"
        f'<td class="status s-{_e(ref.status.value)}">{_e(status)}</td>'
        f"<td>{'<br>'.join(p for p in parts if p)}</td><td>{checked}</td><td>{archive}</td></tr>"
    )
