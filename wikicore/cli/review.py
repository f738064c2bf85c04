"""Commands for reviewing an article's past: ``history``, ``diff`` and ``blame``, rendered through the registry."""

from __future__ import annotations

import click

from . import Env, main
from .console import use_color, warn, write
from .options import format_option, output_option, slug_argument

#: The formats these commands offer: each has a renderer for all three in :mod:`wikicore.report.render`.
REVIEW_FORMATS = ["text", "json", "html"]


@main.command()
@slug_argument()
@format_option(REVIEW_FORMATS, "text")
@output_option()
@click.pass_obj
def history(env: Env, slug: str, fmt: str, output: str) -> None:
    """Show the revisions of an article, newest first, following renames.

    \b
    Example:
        wikicore history azerbaijan-russia-relations
        wikicore history azerbaijan-russia-relations --format json
        wikicore history azerbaijan-russia-relations --format html -o history.html
    """
    from ..report.history import History
    from ..report.render import render

    log = History(slug=slug, revisions=env.wiki().history(slug))
    write(render(log, fmt, color=use_color(output)), output)


@main.command()
@slug_argument()
@click.argument("revisions", nargs=-1, metavar="[REV_A [REV_B]]")
@format_option(REVIEW_FORMATS, "text")
@output_option()
@click.pass_obj
def diff(env: Env, slug: str, revisions: tuple[str, ...], fmt: str, output: str) -> None:
    """Show what changed in an article claim by claim, with alerts a reviewer must not miss.

    With no revision, the article's previous revision is compared with its
    latest; with REV_A alone, REV_A with the latest. Revisions are commit ids
    (full or abbreviated), latest or latest~N (the article's own revisions:
    latest, latest~1 the one before; `~N` too, quoted from the shell), or HEAD,
    HEAD~N, HEAD^ (commits of the whole wiki, as in git).

    \b
    Example:
        wikicore diff azerbaijan-russia-relations
        wikicore diff azerbaijan-russia-relations latest~2 latest --format html -o review.html
    """
    from ..report.render import render

    if len(revisions) > 2:
        raise click.UsageError("give at most two revisions: REV_A [REV_B]")
    a = revisions[0] if revisions else None
    b = revisions[1] if len(revisions) > 1 else None
    write(render(env.wiki().diff(slug, a, b), fmt, color=use_color(output)), output)


@main.command()
@slug_argument()
@click.option("--rev", metavar="REV", help="Blame the article as of this revision [default: latest].")
@format_option(REVIEW_FORMATS, "text")
@output_option()
@click.pass_obj
def blame(env: Env, slug: str, rev: str | None, fmt: str, output: str) -> None:
    """Show, for each claim, the revision that introduced it, last changed it, and added each citation.

    \b
    Example:
        wikicore blame azerbaijan-russia-relations
        wikicore blame azerbaijan-russia-relations --rev latest~1 --format json
        wikicore blame azerbaijan-russia-relations --format html -o blame.html
    """
    from ..report.render import render

    wiki = env.wiki()
    result = wiki.blame(slug, rev=rev)
    for note in result.notes:  # a tampered claims cache, emptied: said once, on stderr, whatever the format
        warn(note, prefix="note")
    # The article's language lets a browser pick the right CJK glyphs; only the page uses it, so only it pays.
    language = wiki.load(slug, rev=result.revision.id).language if fmt == "html" else None
    write(render(result, fmt, color=use_color(output), language=language), output)
