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

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..diff import Alert, ArticleDiff, Change, ClaimChange, FieldChange, Segment, SegmentOp
from ..revision import Revision
from .base import attr, esc, json_text, page, terminal

# History has its own module, so `wikicore history` loads neither the diff nor blame; its names stay here too.
from .history import HISTORY_SCHEMA, History, _subject, render_history_html, render_history_json, render_history_text

if TYPE_CHECKING:  # blame's store and cache (sqlite3) are not needed to render a diff: `diff` starts without them
    from ..blame import Blame

__all__ = [
    "HISTORY_SCHEMA",
    "History",
    "render_blame_html",
    "render_blame_json",
    "render_blame_text",
    "render_diff_html",
    "render_diff_json",
    "render_diff_text",
    "render_history_html",
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
    return terminal(section) if section else "lead"


def _inline_text(segments: Sequence[Segment], paint: _Paint) -> str:
    out = []
    for segment in segments:
        text = terminal(segment.text)
        if segment.op == SegmentOp.EQUAL:
            out.append(text)
        elif segment.op == SegmentOp.DELETE:
            out.append(paint("del", text) if paint.color else f"[-{text}-]")
        else:
            out.append(paint("add", text) if paint.color else f"{{+{text}+}}")
    return "".join(out)


def _value(value: str | list[str] | None) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return terminal("[" + ", ".join(repr(v) for v in value) + "]")
    return terminal(repr(value))


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
        head = f"{paint(style, mark)} [{_where(change.new_section)}] {terminal(change.id)}: {terminal(change.new_text)}"
        lines = [head]
    elif change.kind == Change.REMOVED:
        lines = [
            f"{paint(style, mark)} [{_where(change.old_section)}] {terminal(change.id)}: {terminal(change.old_text)}"
        ]
    else:
        how = ""
        if change.old_id and change.old_id != change.id:
            how = f" (was {terminal(change.old_id)}, matched by {change.matched_by}"
            how += f" {change.similarity:.2f})" if change.similarity is not None else ")"
        text = _inline_text(change.inline, paint) if change.text_changed else terminal(change.new_text)
        lines = [f"{paint(style, mark)} [{_where(change.new_section)}] {terminal(change.id)}{how}: {text}"]
        if change.moved:
            lines.append(f"    moved: {_where(change.old_section)} -> {_where(change.new_section)}")
    if change.kind == Change.CHANGED:
        for citation in change.citations_added:
            lines.append("    " + paint("add", f"+ cites {terminal(citation.ref)}") + _locator(citation.locator)
                         + _covers(citation.covers))
        for citation in change.citations_removed:
            lines.append("    " + paint("del", f"- cites {terminal(citation.ref)}") + _locator(citation.locator)
                         + _covers(citation.covers))
        for quote in change.quotes_changed:
            lines.append(
                f"    quote from {terminal(quote.ref)}: {_value(quote.old_quote)} -> {_value(quote.new_quote)}"
            )
    elif change.kind == Change.ADDED and change.citations_added:
        lines.append("    cites " + ", ".join(terminal(c.ref) for c in change.citations_added))
    return lines


def _locator(locator: str | None) -> str:
    return f" ({terminal(locator)})" if locator else ""


def _covers(covers: str) -> str:
    # A citation that ends its paragraph also holds up the sentences before it: when that changes,
    # the same ref is removed and added, and only this says why.
    return ", for the paragraph before it" if covers == "paragraph" else ""


def render_diff_text(diff: ArticleDiff, color: bool = False) -> str:
    """A terminal-friendly diff: alerts first, then sections, claims, references and fields."""
    paint = _Paint(color)
    lines = [
        paint("head", f"diff {terminal(diff.slug)} {_short(diff.old_revision)}..{_short(diff.new_revision)}"),
        _summary_line(diff),
    ]
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines) + "\n"
    if diff.alerts:
        lines += ["", paint("head", "alerts:")]
        lines += [paint("alert", f"  ! {alert.kind}: {terminal(alert.message)}") for alert in diff.alerts]
    if diff.fields:
        lines += ["", paint("head", "fields:")]
        lines += [f"  ~ {terminal(c.field)}: {_value(c.old)} -> {_value(c.new)}" for c in diff.fields]
    if diff.sections:
        lines += ["", paint("head", "sections:")]
        for section in diff.sections:
            mark = paint({"+": "add", "-": "del", "~": "head"}[_MARK[section.kind]], _MARK[section.kind])
            heading = section.new_heading if section.new_heading is not None else section.old_heading
            notes = []
            if section.renamed:
                notes.append(f"renamed from {terminal(repr(section.old_heading))}")
            if section.moved:
                notes.append(
                    f"moved (parent {terminal(section.old_parent or 'top')} -> {terminal(section.new_parent or 'top')})"
                )
            lines.append(
                f"  {mark} {terminal(section.id)} {terminal(repr(heading))}"
                + (f": {'; '.join(notes)}" if notes else "")
            )
    if diff.claims:
        lines += ["", paint("head", "claims:")]
        for change in diff.claims:
            lines += ["  " + line for line in _claim_text_lines(change, paint)]
    if diff.references:
        lines += ["", paint("head", "references:")]
        for ref in diff.references:
            mark = paint({"+": "add", "-": "del", "~": "head"}[_MARK[ref.kind]], _MARK[ref.kind])
            title = f" {terminal(repr(ref.title))}" if ref.title else ""
            lines.append(f"  {mark} {terminal(ref.id)}{title}")
            if ref.kind == Change.CHANGED:
                lines += [f"      {terminal(f.field)}: {_value(f.old)} -> {_value(f.new)}" for f in ref.fields]
    return "\n".join(lines) + "\n"


def render_diff_json(diff: ArticleDiff) -> str:
    """The diff as JSON in the records' field order (``schemas/diff.schema.json``)."""
    return json_text(diff.model_dump_json(indent=2)) + "\n"


# --- HTML -------------------------------------------------------------------------

_e = esc


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
        notes += [f"+ cites {_e(c.ref)}{_e(_locator(c.locator) + _covers(c.covers))}" for c in change.citations_added]
        notes += [f"− cites {_e(c.ref)}{_e(_locator(c.locator) + _covers(c.covers))}"
                  for c in change.citations_removed]
        notes += [
            f"quote from {_e(q.ref)}: <del>{_e(q.old_quote or '')}</del> <ins>{_e(q.new_quote or '')}</ins>"
            for q in change.quotes_changed
        ]
    elif change.kind == Change.ADDED and change.citations_added:
        notes.append("cites " + ", ".join(_e(c.ref) for c in change.citations_added))
    meta = f'<div class="meta">{"<br>".join(notes)}</div>' if notes else ""
    section = _where(change.new_section if change.kind != Change.REMOVED else change.old_section)
    return (
        f'<tr id="claim-{attr(change.id)}"><td class="kind" data-label="change">{_e(change.kind)}<br>'
        f'<code class="id">{_e(change.id)}</code><div class="meta">{_e(section)}</div></td>'
        f'<td class="old"{lang} data-label="old">{old}</td>'
        f'<td class="new" data-label="new"><div{lang}>{new}</div>{meta}</td></tr>'
    )


def _alert_html(alert: Alert) -> str:
    return f'<div class="alert"><span class="kind tok">{_e(alert.kind)}</span>: {_e(alert.message)}</div>'


def _fields_html(fields: Sequence[FieldChange]) -> str:
    return "<br>".join(
        f"<code>{_e(f.field)}</code>: <del>{_e(_value(f.old))}</del> → <ins>{_e(_value(f.new))}</ins>" for f in fields
    )


_CHANGE_COLS = '<colgroup><col class="w-kind"><col><col></colgroup>'


def render_diff_html(diff: ArticleDiff) -> str:
    """One self-contained HTML page: old and new claims side by side with highlights."""
    title = f"{diff.slug}: {_short(diff.old_revision)} → {_short(diff.new_revision)}"
    # The page's own words are English; the article's text is marked with its language so a
    # browser picks the right glyphs (Japanese and Chinese share code points, not shapes).
    lang = f' lang="{_e(diff.language)}"' if diff.language else ""
    body = [
        f'<header><h1>Diff <code>{_e(diff.slug)}</code> <span class="tok">{_e(_short(diff.old_revision))} → '
        f"{_e(_short(diff.new_revision))}</span></h1>",
        f'<p class="meta" id="summary">{_e(_summary_line(diff))}</p></header>',
    ]
    if diff.empty:
        body.append("<p>No changes.</p>")
    if diff.alerts:
        body.append("<h2>Alerts</h2>")
        body += [_alert_html(alert) for alert in diff.alerts]
    if diff.fields:
        body += ["<h2>Article fields</h2>", f"<p>{_fields_html(diff.fields)}</p>"]
    if diff.sections:
        body += [
            "<h2>Sections</h2>",
            f'<table class="stack">{_CHANGE_COLS}<tr class="head"><th>change</th><th>old</th><th>new</th></tr>',
        ]
        for s in diff.sections:
            notes = ", ".join(n for n, on in (("renamed", s.renamed), ("moved", s.moved)) if on)
            body.append(
                f'<tr><td class="kind" data-label="change">{_e(s.kind)}{(" (" + _e(notes) + ")") if notes else ""}'
                f'<br><code class="id">{_e(s.id)}</code></td>'
                f'<td class="old"{lang} data-label="old">{_e(s.old_heading or "")}</td>'
                f'<td class="new"{lang} data-label="new">{_e(s.new_heading or "")}</td></tr>'
            )
        body.append("</table>")
    if diff.claims:
        body += [
            "<h2>Claims</h2>",
            f'<table class="stack">{_CHANGE_COLS}<tr class="head"><th>change</th><th>old</th><th>new</th></tr>',
        ]
        body += [_claim_row(change, lang) for change in diff.claims]
        body.append("</table>")
    if diff.references:
        body += [
            "<h2>References</h2>",
            f'<table class="stack">{_CHANGE_COLS}<tr class="head"><th>change</th><th>reference</th>'
            "<th>fields</th></tr>",
        ]
        for ref in diff.references:
            fields = _fields_html(ref.fields) if ref.kind == Change.CHANGED else ""
            body.append(
                f'<tr><td class="kind" data-label="change">{_e(ref.kind)}</td><td data-label="reference">'
                f'<code class="id">{_e(ref.id)}</code> <span{lang}>{_e(ref.title or "")}</span></td>'
                f'<td data-label="fields">{fields}</td></tr>'
            )
        body.append("</table>")
    return page(title, body, description=_summary_line(diff))


# --- blame and history ----------------------------------------------------------------


def _rev_line(rev: Revision) -> str:
    return f"{rev.short} {rev.date.date().isoformat()} {terminal(rev.author)}"


def render_blame_text(blame: Blame, color: bool = False) -> str:
    """One block per claim: who introduced it, who last changed its text, who added each citation."""
    paint = _Paint(color)
    lines = [paint("head", f"blame {terminal(blame.slug)} at {blame.revision.short}")]
    for claim in blame.claims:
        lines.append("")
        lines.append(f"{paint('head', terminal(claim.id))} [{_where(claim.section)}] {terminal(claim.text)}")
        lines.append(f"  introduced   {_rev_line(claim.introduced)}: {terminal(_subject(claim.introduced))}")
        if claim.text_changed.id != claim.introduced.id:
            first = terminal(_subject(claim.text_changed))
            lines.append(f"  text changed {_rev_line(claim.text_changed)}: {first}")
        for citation in claim.citations:
            lines.append(
                f"  cites {terminal(citation.ref)}{_locator(citation.locator)}: added {_rev_line(citation.added)}"
            )
    return "\n".join(lines) + "\n"


def render_blame_json(blame: Blame) -> str:
    """Claim blame as JSON (``schemas/blame.schema.json``)."""
    return json_text(blame.model_dump_json(indent=2, by_alias=True)) + "\n"


def _rev_html(rev: Revision) -> str:
    return (
        f'<code class="tok">{_e(rev.short)}</code> <span class="tok">{_e(rev.date.date().isoformat())}</span>'
        f'<br>{_e(rev.author)}<br><span class="meta">{_e(_subject(rev))}</span>'
    )


def render_blame_html(blame: Blame, *, language: str | None = None) -> str:
    """Claim blame as one self-contained page: a row per claim with where it and its citations came from."""
    lang = f' lang="{_e(language)}"' if language else ""
    revisions = {c.introduced.id for c in blame.claims} | {c.text_changed.id for c in blame.claims}
    revisions |= {cite.added.id for c in blame.claims for cite in c.citations}
    authors = {c.introduced.author for c in blame.claims} | {c.text_changed.author for c in blame.claims}
    summary = (
        f"{len(blame.claims)} claims from {len(revisions)} revision(s) by {len(authors)} author(s); "
        f"blamed at {blame.revision.short} ({blame.revision.date.date().isoformat()})"
    )
    summary_html = (
        f"{len(blame.claims)} claims from {len(revisions)} revision(s) by {len(authors)} author(s); "
        f'blamed at <code class="tok">{_e(blame.revision.short)}</code> '
        f'(<span class="nw">{_e(blame.revision.date.date().isoformat())}</span>)'
    )
    body = [
        f'<header><h1>Blame <code>{_e(blame.slug)}</code> <span class="tok">{_e(blame.revision.short)}</span></h1>',
        f'<p class="meta" id="summary">{summary_html}</p></header>',
        '<table class="stack"><colgroup><col><col class="w-rev"><col class="w-rev"><col class="w-rev"></colgroup>'
        '<tr class="head"><th>claim</th><th>introduced</th><th>text last changed</th><th>citations added</th></tr>',
    ]
    for claim in blame.claims:
        changed = "" if claim.text_changed.id == claim.introduced.id else _rev_html(claim.text_changed)
        cites = "<br>".join(
            f'<code class="id">{_e(c.ref)}</code>{_e(_locator(c.locator))}: '
            f'<code class="tok">{_e(c.added.short)}</code>'
            for c in claim.citations
        )
        body.append(
            f'<tr id="claim-{attr(claim.id)}"><td data-label="claim"><code class="id">{_e(claim.id)}</code> '
            f'<span class="meta">{_e(_where(claim.section))}</span><br><span{lang}>{_e(claim.text)}</span></td>'
            f'<td data-label="introduced">{_rev_html(claim.introduced)}</td>'
            f'<td data-label="text changed">{changed or "<span class=meta>unchanged</span>"}</td>'
            f'<td data-label="citations">{cites}</td></tr>'
        )
    body.append("</table>")
    return page(f"Blame {blame.slug} at {blame.revision.short}", body, description=summary)
