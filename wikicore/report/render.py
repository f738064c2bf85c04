"""The one render registry: what a report is and the format asked for pick its renderer here.

Audits, diffs, blame and history each come as text, JSON and HTML (audits also as
Markdown; the counts of ``audit --urls`` as text and JSON). Commands used to
choose among them with an ``if``/``elif`` of their own while the audit had a
table; one table means a format is one entry, and nothing is chosen twice.

Renderers return pieces to be written one after another: a 50,000-reference
audit is 36 MB of JSON, written an article at a time rather than held whole.
Renderer modules are imported on first use: the CLI imports this module when it
starts, and the renderers need pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

__all__ = ["RenderOptions", "formats", "render"]


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer may need beyond the object: colour (text only) and the article's language (HTML)."""

    color: bool = False
    #: Lets a browser pick the right glyphs (CJK above all) for article text in HTML.
    language: str | None = None


Renderer = Callable[[Any, RenderOptions], Iterable[str]]


def _audit() -> Mapping[str, Renderer]:
    from .audit import FORMATS, render_pieces

    def one(fmt: Any) -> Renderer:
        return lambda report, options: render_pieces(report, fmt, color=options.color)

    return {fmt: one(fmt) for fmt in FORMATS}


def _diff() -> Mapping[str, Renderer]:
    from .diff import render_diff_html, render_diff_json, render_diff_text

    return {
        "text": lambda diff, options: [render_diff_text(diff, color=options.color)],
        "json": lambda diff, options: [render_diff_json(diff)],
        "html": lambda diff, options: [render_diff_html(diff)],
    }


def _blame() -> Mapping[str, Renderer]:
    from .diff import render_blame_html, render_blame_json, render_blame_text

    return {
        "text": lambda blame, options: [render_blame_text(blame, options.color)],
        "json": lambda blame, options: [render_blame_json(blame)],
        "html": lambda blame, options: [render_blame_html(blame, language=options.language)],
    }


def _history() -> Mapping[str, Renderer]:
    from .history import render_history_html, render_history_json, render_history_text

    return {
        "text": lambda history, options: [render_history_text(history.revisions, options.color)],
        "json": lambda history, options: [render_history_json(history.revisions, history.slug)],
        "html": lambda history, options: [render_history_html(history.revisions, history.slug)],
    }


def _url_table() -> Mapping[str, Renderer]:
    import dataclasses
    import json

    from .base import terminal

    def text(summary: Any, options: RenderOptions) -> list[str]:
        statuses = ", ".join(f"{count} {status}" for status, count in summary.by_status.items()) or "none"
        return [f"{terminal(summary.table)}: {summary.urls} url(s): {statuses}; {summary.errors} error(s), "
                f"{summary.warnings} warning(s), {summary.confirmed_dead} confirmed dead"
                + (f"; {summary.too_long} over-long url(s) not checked" if summary.too_long else "") + "\n"]

    return {"text": text, "json": lambda summary, options: [json.dumps(dataclasses.asdict(summary), indent=2) + "\n"]}


#: Class name of what is rendered -> its renderers by format. Keyed by name, not class, so that looking
#: a renderer up imports nothing the caller has not already loaded.
_REGISTRY: dict[str, Callable[[], Mapping[str, Renderer]]] = {
    "AuditReport": _audit,  # wikicore.audit.AuditReport
    "ArticleDiff": _diff,  # wikicore.diff.ArticleDiff
    "Blame": _blame,  # wikicore.blame.Blame
    "History": _history,  # wikicore.report.history.History: an article's slug and revisions
    "UrlAuditSummary": _url_table,  # wikicore.scan.urlaudit.UrlAuditSummary: `audit --urls`
}


def _renderers(obj: object) -> Mapping[str, Renderer]:
    for cls in type(obj).__mro__:
        table = _REGISTRY.get(cls.__name__)
        if table is not None:
            return table()
    raise InvalidInput(f"nothing renders a {type(obj).__name__}")


def formats(obj: object) -> tuple[str, ...]:
    """The formats ``obj`` can be rendered in."""
    return tuple(_renderers(obj))


def render(obj: object, format: str, *, color: bool = False, language: str | None = None) -> Iterable[str]:
    """``obj`` (an audit report, a diff, a blame or a :class:`~wikicore.report.diff.History`) in ``format``.

    Returns the document in pieces, to be written one after another. ``color``
    (ANSI colours) applies to text only; ``language`` to blame's HTML. An
    unknown format is :class:`~wikicore.errors.InvalidInput`.
    """
    renderer = _renderers(obj).get(format)
    if renderer is None:
        raise InvalidInput(f"a {type(obj).__name__} is not rendered as {format!r}")
    return renderer(obj, RenderOptions(color=color, language=language))
