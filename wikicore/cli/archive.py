"""The ``archive`` command: link archived copies into an article's references, as one revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..report.base import terminal
from . import Env, main
from .console import Progress, progress, warn
from .options import AUTHOR_HELP, ArchiveOptions, archive_options, quiet_option, slug_argument

if TYPE_CHECKING:
    from ..archive import RescueResult


@main.command("archive")
@slug_argument()
@click.option(
    "--save", "save_missing", is_flag=True,
    help="Ask Save Page Now to capture pages that have no snapshot (not those known to be dead).",
)
@archive_options
@click.option(
    "--save-path", metavar="PATH",
    help="Capture route under a non-IA --wayback-url root [default: save/; pywb's recording route: web/record/].",
)
@quiet_option()
@click.option("-m", "--message", help="First line of the commit message [default: a summary].")
@click.option("--author", metavar="'NAME <MAIL>'", help=AUTHOR_HELP)
@click.pass_obj
def archive_command(env: Env, slug: str, save_missing: bool, archive: ArchiveOptions, save_path: str | None,
                    quiet: bool, message: str | None, author: str | None) -> None:
    """Link archived copies into an article's references, as one reviewable revision.

    For each reference with a url but no archive_url, the HTTP 200 capture
    nearest before the access date (else after it), across the Wayback Machine
    and every --archive, becomes archive_url and archive_date. url_status is
    set only from what the link history of `wikicore audit` knows: live for
    links last seen live, dead for links confirmed dead. With --save, pages still without a capture are
    sent to Save Page Now, or the --save-path route of the first archive
    (slowly: a few a minute), and a capture is kept only if it is a 200. The
    commit message lists every reference rescued and the archive holding it;
    review it with `wikicore diff SLUG`. Nothing found, nothing committed.
    On a terminal, progress and a summary of what changed go to stderr.

    \b
    Example:
        wikicore archive azerbaijan-russia-relations
        wikicore archive my-slug --save -m "Archive links before the migration"
        wikicore archive my-slug --wayback-url http://127.0.0.1:8765
        wikicore archive my-slug --archive http://localhost:8080 --archive-rate 0
    """
    from ..audit.archiving import archive_article

    client = archive.open(audit=False, save_path=save_path)  # a bad URL: exit 2 before the wiki is opened
    line = progress(quiet)
    outcome = archive_article(
        env.wiki(), slug, client, save_missing=save_missing, message=message, author=author,
        progress=None if line is None else _lookups(line), on_rescued=lambda result: _found(result, line, quiet),
    )
    for problem in getattr(client, "problems", []):
        warn(problem)
    if outcome.revision is None:
        click.echo(f"{slug}: nothing to archive")
        return
    for change in outcome.rescue.changes:
        click.echo(terminal(change.describe()))
    unknown = [c.ref_id for c in outcome.rescue.changes if c.url_status is None]
    if unknown:
        # CS1 shows a cited link that has an archive-url but no url-status as dead.
        click.echo(
            f"note: liveness unknown for {', '.join(unknown)} (no link history): url_status left unset; "
            f"run `wikicore audit {slug}` to record it",
            err=True,
        )
    click.echo(f"{slug} {outcome.revision.id}")


def _lookups(line: Progress) -> Callable[[str, int, int], None]:
    """``looking up 3/20 reference url(s)…`` (or ``saving``) as the rescue advances."""

    def show(phase: str, done: int, total: int) -> None:
        if total:
            what = "looking up" if phase == "lookup" else "saving"
            line.show(f"{what} {done}/{total} reference url(s)…", force=done >= total)

    return show


def _found(result: RescueResult, line: Progress | None, quiet: bool) -> None:
    """What the rescue found, on stderr before anything is saved: a failed save still shows it."""
    if line is not None:
        line.clear()
    if not quiet:
        click.echo(terminal(result.summary()), err=True)
    if result.save_error:
        warn(f"Save Page Now gave up: {result.save_error}")
    if result.missing:
        click.echo(f"note: no capture for {len(result.missing)} reference(s): {', '.join(result.missing)}", err=True)
