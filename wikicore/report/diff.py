"""Render semantic diffs, claim blame and history as text, JSON and one HTML page.

Every function returns a string; printing is the CLI's business. Text output
is plain unless ``color=True`` (the CLI passes whether stdout is a terminal);
without colour, inline changes read like ``git diff --word-diff``:
``[-deleted-]{+inserted+}``. JSON is the records' own field order, so it is
stable across runs and described by ``schemas/diff.schema.json``. The HTML
page is self-contained: inline ``<style>``, no scripts, no fonts or images, a
Content-Security-Policy that forbids any request, and every piece of article
text passed through :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from pydantic import TypeAdapter

from ..blame import Blame
from ..diff import Alert, ArticleDiff, Change, ClaimChange, FieldChange, Segment, SegmentOp
from ..revision import Revision

__all__ = [
    "render_blame_json",
    "render_blame_text",
    "render_diff_html",
    "render_diff_json",
    "render_diff_text",
    "render_history_json",
    "render_history_text",
]

_RESET = "\x1b[0m"
_COLORS = {"add": "\x1b[32m", "del": "\x1b[31m", "alert": "\x1b[1;33m", "head": "\x1b[1m", "dim": "\x1b[2m"}
_MARK = {Change.ADDED: "+", Change.REMOVED: "-", Change.CHANGED: "~"}


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if self.color and text else text


def _short(rev: str | None) -> str:
    return rev[:12] if rev else "(none)"


def _where(section: str | None) -> str:
    return section or "lead"


def _inline_text(segments: Sequence[Segment], paint: _Paint) -> str:
    out = []
    for segment in segments:
        if segment.op == SegmentOp.EQUAL:
            out.append(segment.text)
        elif segment.op == SegmentOp.DELETE:
            out.append(paint("del", segment.text) if paint.color else f"[-{segment.text}-]")
        else:
            out.append(paint("add", segment.text) if paint.color else f"{{+{segment.text}+}}")
    return "".join(out)


def _value(value: str | list[str] | None) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return repr(value)


def _summary_line(diff: ArticleDiff) -> str:
    s = diff.summary
    return (
        f"claims: {s.claims_added} added, {s.claims_removed} removed, {s.claims_changed} changed, "
        f"{s.claims_unchanged} unchanged; sections: {s.sections_changed} changed; "
        f"references: {s.references_changed} changed; alerts: {s.alerts}"
    )


def _claim_text_lines(change: ClaimChange, paint: _Paint) -> list[str]:
    mark = _MARK[change.kind]
    style = {"+": "add", "-": "del", "~": "head"}[mark]
    if change.kind == Change.ADDED:
        head = f"{paint(style, mark)} [{_where(change.new_section)}] {change.id}: {change.new_text}"
        lines = [head]
    elif change.kind == Change.REMOVED:
        lines = [f"{paint(style, mark)} [{_where(change.old_section)}] {change.id}: {change.old_text}"]
    else:
        how = ""
        if change.old_id and change.old_id != change.id:
            how = f" (was {change.old_id}, matched by {change.matched_by}"
            how += f" {change.similarity:.2f})" if change.similarity is not None else ")"
        text = _inline_text(change.inline, paint) if change.text_changed else change.new_text
        lines = [f"{paint(style, mark)} [{_where(change.new_section)}] {change.id}{how}: {text}"]
        if change.moved:
            lines.append(f"    moved: {_where(change.old_section)} -> {_where(change.new_section)}")
    if change.kind == Change.CHANGED:
        for citation in change.citations_added:
            lines.append("    " + paint("add", f"+ cites {citation.ref}") + _locator(citation.locator))
        for citation in change.citations_removed:
            lines.append("    " + paint("del", f"- cites {citation.ref}") + _locator(citation.locator))
        for quote in change.quotes_changed:
            lines.append(f"    quote from {quote.ref}: {_value(quote.old_quote)} -> {_value(quote.new_quote)}")
    elif change.kind == Change.ADDED and change.citations_added:
        lines.append("    cites " + ", ".join(c.ref for c in change.citations_added))
    return lines


def _locator(locator: str | None) -> str:
    return f" ({locator})" if locator else ""


def render_diff_text(diff: ArticleDiff, color: bool = False) -> str:
    """A terminal-friendly diff: alerts first, then sections, claims, references and fields."""
    paint = _Paint(color)
    lines = [
        paint("head", f"diff {diff.slug} {_short(diff.old_revision)}..{_short(diff.new_revision)}"),
        _summary_line(diff),
    ]
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines) + "\n"
    if diff.alerts:
        lines += ["", paint("head", "alerts:")]
        lines += [paint("alert", f"  ! {alert.kind}: {alert.message}") for alert in diff.alerts]
    if diff.fields:
        lines += ["", paint("head", "fields:")]
        lines += [f"  ~ {change.field}: {_value(change.old)} -> {_value(change.new)}" for change in diff.fields]
    if diff.sections:
        lines += ["", paint("head", "sections:")]
        for section in diff.sections:
            mark = paint({"+": "add", "-": "del", "~": "head"}[_MARK[section.kind]], _MARK[section.kind])
            heading = section.new_heading if section.new_heading is not None else section.old_heading
            notes = []
            if section.renamed:
                notes.append(f"renamed from {section.old_heading!r}")
            if section.moved:
                notes.append(f"moved (parent {section.old_parent or 'top'} -> {section.new_parent or 'top'})")
            lines.append(f"  {mark} {section.id} {heading!r}" + (f": {'; '.join(notes)}" if notes else ""))
    if diff.claims:
        lines += ["", paint("head", "claims:")]
        for change in diff.claims:
            lines += ["  " + line for line in _claim_text_lines(change, paint)]
    if diff.references:
        lines += ["", paint("head", "references:")]
        for ref in diff.references:
            mark = paint({"+": "add", "-": "del", "~": "head"}[_MARK[ref.kind]], _MARK[ref.kind])
            title = f" {ref.title!r}" if ref.title else ""
            lines.append(f"  {mark} {ref.id}{title}")
            if ref.kind == Change.CHANGED:
                lines += [f"      {f.field}: {_value(f.old)} -> {_value(f.new)}" for f in ref.fields]
    return "\n".join(lines) + "\n"


def render_diff_json(diff: ArticleDiff) -> str:
    """The diff as JSON in the records' field order (``schemas/diff.schema.json``)."""
    return diff.model_dump_json(indent=2) + "\n"


# --- HTML -------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:78em;padding:0 1em;color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ddd;padding:.4em .6em;vertical-align:top;text-align:left}
th{background:#f4f4f4}td.old{width:50%;background:#fff8f8}td.new{width:50%;background:#f6fff6}
del{background:#ffc9c9;text-decoration:line-through}ins{background:#b6f0b6;text-decoration:none}
.alert{background:#fff3cd;border-left:4px solid #e0a800;padding:.4em .8em;margin:.3em 0}
.meta{color:#555;font-size:.9em}.kind{font-weight:600;white-space:nowrap}code{font-size:.92em}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _segments_html(segments: Sequence[Segment], side: SegmentOp) -> str:
    out = []
    for segment in segments:
        if segment.op == SegmentOp.EQUAL:
            out.append(_e(segment.text))
        elif segment.op == side == SegmentOp.DELETE:
            out.append(f"<del>{_e(segment.text)}</del>")
        elif segment.op == side == SegmentOp.INSERT:
            out.append(f"<ins>{_e(segment.text)}</ins>")
    return "".join(out)


def _claim_row(change: ClaimChange, lang: str) -> str:
    if change.kind == Change.ADDED:
        old, new = "", f"<ins>{_e(change.new_text)}</ins>"
    elif change.kind == Change.REMOVED:
        old, new = f"<del>{_e(change.old_text)}</del>", ""
    elif change.text_changed:
        old = _segments_html(change.inline, SegmentOp.DELETE)
        new = _segments_html(change.inline, SegmentOp.INSERT)
    else:
        old, new = _e(change.old_text), _e(change.new_text)
    notes = []
    if change.old_id and change.old_id != change.id:
        notes.append(f"was {_e(change.old_id)} (matched by {_e(change.matched_by)})")
    if change.moved:
        notes.append(f"moved {_e(_where(change.old_section))} → {_e(_where(change.new_section))}")
    if change.kind == Change.CHANGED:
        notes += [f"+ cites {_e(c.ref)}{_e(_locator(c.locator))}" for c in change.citations_added]
        notes += [f"− cites {_e(c.ref)}{_e(_locator(c.locator))}" for c in change.citations_removed]
        notes += [
            f"quote from {_e(q.ref)}: <del>{_e(q.old_quote or '')}</del> <ins>{_e(q.new_quote or '')}</ins>"
            for q in change.quotes_changed
        ]
    elif change.kind == Change.ADDED and change.citations_added:
        notes.append("cites " + ", ".join(_e(c.ref) for c in change.citations_added))
    meta = f'<div class="meta">{"<br>".join(notes)}</div>' if notes else ""
    section = _where(change.new_section if change.kind != Change.REMOVED else change.old_section)
    return (
        f'<tr id="claim-{_e(change.id)}"><td class="kind">{_e(change.kind)}<br><code>{_e(change.id)}</code>'
        f'<div class="meta">{_e(section)}</div></td>'
        f'<td class="old"{lang}>{old}</td><td class="new"><div{lang}>{new}</div>{meta}</td></tr>'
    )


def _alert_html(alert: Alert) -> str:
    return f'<div class="alert"><span class="kind">{_e(alert.kind)}</span>: {_e(alert.message)}</div>'


def _fields_html(fields: Sequence[FieldChange]) -> str:
    return "<br>".join(
        f"<code>{_e(f.field)}</code>: <del>{_e(_value(f.old))}</del> → <ins>{_e(_value(f.new))}</ins>"
        for f in fields
    )


def render_diff_html(diff: ArticleDiff) -> str:
    """One self-contained HTML page: old and new claims side by side with highlights."""
    title = f"{diff.slug}: {_short(diff.old_revision)} → {_short(diff.new_revision)}"
    # The page's own words are English; the article's text is marked with its language so a
    # browser picks the right glyphs (Japanese and Chinese share code points, not shapes).
    lang = f' lang="{_e(diff.language)}"' if diff.language else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Belt and braces: even a bug that let a URL through could not make the page fetch it.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(_summary_line(diff))}</p>',
    ]
    if diff.empty:
        parts.append("<p>No changes.</p>")
    if diff.alerts:
        parts.append("<h2>Alerts</h2>")
        parts += [_alert_html(alert) for alert in diff.alerts]
    if diff.fields:
        parts += ["<h2>Article fields</h2>", f"<p>{_fields_html(diff.fields)}</p>"]
    if diff.sections:
        parts += ["<h2>Sections</h2>", "<table><tr><th>change</th><th>old</th><th>new</th></tr>"]
        for s in diff.sections:
            notes = ", ".join(n for n, on in (("renamed", s.renamed), ("moved", s.moved)) if on)
            parts.append(
                f'<tr><td class="kind">{_e(s.kind)}{(" (" + _e(notes) + ")") if notes else ""}<br>'
                f'<code>{_e(s.id)}</code></td><td class="old"{lang}>{_e(s.old_heading or "")}</td>'
                f'<td class="new"{lang}>{_e(s.new_heading or "")}</td></tr>'
            )
        parts.append("</table>")
    if diff.claims:
        parts += ["<h2>Claims</h2>", "<table><tr><th>change</th><th>old</th><th>new</th></tr>"]
        parts += [_claim_row(change, lang) for change in diff.claims]
        parts.append("</table>")
    if diff.references:
        parts += ["<h2>References</h2>", "<table><tr><th>change</th><th>reference</th><th>fields</th></tr>"]
        for ref in diff.references:
            fields = _fields_html(ref.fields) if ref.kind == Change.CHANGED else ""
            parts.append(
                f'<tr><td class="kind">{_e(ref.kind)}</td><td><code>{_e(ref.id)}</code> {_e(ref.title or "")}'
                f"</td><td>{fields}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --- blame and history ----------------------------------------------------------------


def _rev_line(rev: Revision) -> str:
    return f"{rev.short} {rev.date.date().isoformat()} {rev.author}"


def render_blame_text(blame: Blame, color: bool = False) -> str:
    """One block per claim: who introduced it, who last changed its text, who added each citation."""
    paint = _Paint(color)
    lines = [paint("head", f"blame {blame.slug} at {blame.revision.short}")]
    for claim in blame.claims:
        lines.append("")
        lines.append(f"{paint('head', claim.id)} [{_where(claim.section)}] {claim.text}")
        introduced = (claim.introduced.message.splitlines() or [""])[0]  # a commit's message may be empty
        lines.append(f"  introduced   {_rev_line(claim.introduced)}: {introduced}")
        if claim.text_changed.id != claim.introduced.id:
            first = (claim.text_changed.message.splitlines() or [""])[0]
            lines.append(f"  text changed {_rev_line(claim.text_changed)}: {first}")
        for citation in claim.citations:
            lines.append(f"  cites {citation.ref}{_locator(citation.locator)}: added {_rev_line(citation.added)}")
    return "\n".join(lines) + "\n"


def render_blame_json(blame: Blame) -> str:
    """Claim blame as JSON."""
    return blame.model_dump_json(indent=2) + "\n"


_REVISIONS = TypeAdapter(list[Revision])


def render_history_text(revisions: Sequence[Revision], color: bool = False) -> str:
    """One line per revision, newest first; the path is shown where a rename changed it."""
    paint = _Paint(color)
    current = revisions[0].path if revisions else None
    lines = []
    for rev in revisions:
        first = rev.message.splitlines()[0] if rev.message else ""
        where = f"  ({rev.path})" if rev.path != current else ""
        lines.append(
            f"{paint('head', rev.short)} {rev.date.isoformat()} {rev.author} <{rev.email}>  {first}{where}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def render_history_json(revisions: Sequence[Revision]) -> str:
    """History as a JSON list of revisions, newest first."""
    return _REVISIONS.dump_json(list(revisions), indent=2).decode() + "\n"
