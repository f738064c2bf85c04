"""Commands for whole wikis at once: ``import-dump`` and ``scan`` of MediaWiki dumps, and ``migrate``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..report.base import terminal
from . import EXIT_CONFLICT, Env, main
from .console import Progress, progress, warn
from .options import quiet_option


@main.command("import-dump")
@click.argument("dump", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--all-revisions", is_flag=True, help="Replay every revision as a commit (author, date, summary).")
@quiet_option("No progress counter or summary on stderr.")
@click.option("--overwrite", is_flag=True,
              help="Replace articles edited in the wiki since a dump brought them (default: report them, exit 3).")
@click.pass_obj
def import_dump_command(env: Env, dump: Path, all_revisions: bool, quiet: bool, overwrite: bool) -> None:
    """Import a MediaWiki XML export (DUMP.xml or DUMP.xml.bz2) into the wiki.

    Every page of the main namespace becomes an article; redirects become
    aliases of their targets. Without --all-revisions one commit holds the
    latest revision of every page; with it, each revision is a commit with its
    original author, timestamp and edit summary. The branch moves only if
    nobody saved meanwhile.

    \b
    Example:
        wikicore --wiki mywiki import-dump enwiki-pages.xml.bz2
        wikicore --wiki mywiki import-dump history.xml --all-revisions
    """
    from ..mediawiki.dumpimport import import_dump

    line = progress(quiet)
    summary = import_dump(dump, env.wiki_path, all_revisions=all_revisions,
                          progress=None if line is None else _pages(line), overwrite=overwrite)
    if line is not None:
        line.finish()
    for warning in [] if quiet else summary.warnings:
        warn(warning)
    click.echo(f"{summary.pages} pages, {summary.revisions} revisions, {summary.aliases} aliases, "
               f"{summary.skipped} skipped, {summary.commits} commits"
               + (f"; main is at {summary.tip}" if summary.tip else ""))
    if summary.conflicts:
        for conflict in summary.conflicts:
            click.echo(f"conflict: {conflict}", err=True)
        raise click.exceptions.Exit(EXIT_CONFLICT)


def _pages(line: Progress) -> Callable[[int, int | None], None]:
    """``imported N pages of T`` as the dump is read."""

    def show(done: int, total: int | None) -> None:
        line.show(f"imported {done} pages" + (f" of {total}" if total else ""))

    return show


@main.command()
@click.pass_obj
def migrate(env: Env) -> None:
    """Move the wiki's articles to the sharded layout (articles/<hh>/<slug>.yaml) in one commit.

    Wikis made before the layout had one flat articles/ folder, so every save
    rewrote a tree the size of the wiki. The move changes no article: history,
    blame and diff follow each article across it, and it is not counted as one
    of its revisions. Running it again does nothing.

    \b
    Example:
        wikicore --wiki mywiki migrate
    """
    commit = env.wiki().migrate()
    click.echo(f"migrated; main is at {commit}" if commit else "already in the sharded layout; nothing to do")


@main.command()
@click.argument("dump", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the Parquet tables (new, or without a previous scan).")
@click.option("--scheduler", metavar="ADDRESS",
              help="A running Dask scheduler (tcp://HOST:PORT) [default: a local cluster].")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Worker processes of the local cluster [default: one per CPU].")
@click.option("--index", type=click.Path(dir_okay=False, path_type=Path), metavar="INDEX",
              help="The multistream index (offset:page_id:title, plain or .bz2): workers read the dump in parallel.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The date the date checks compare against [default: today, UTC].")
@quiet_option("No progress counter on stderr.")
def scan(dump: Path, out: Path, scheduler: str | None, workers: int | None, index: Path | None,
         today: Any, quiet: bool) -> None:
    """Scan every page of a MediaWiki dump into Parquet tables, on Dask.

    Each article of DUMP (.xml or .xml.bz2) is imported with the wikitext
    importer and statically checked; the tables articles, claims, references,
    findings and urls are written under --output (read them with pandas,
    DuckDB or Spark), with _scan.json last. A page that cannot be read is a
    finding (with its title), not the end of the scan. Runs on a local Dask
    cluster of --workers processes, or on --scheduler (whose workers must see
    DUMP and --output at the same paths). Needs the 'scale' extra.

    Exit status: 0 scanned, 2 bad input (or the extra missing), 5 the
    scheduler unreachable.

    \b
    Example:
        wikicore scan enwiki-pages-articles.xml.bz2 -o scan-out --workers 8
        wikicore scan enwiki-multistream.xml.bz2 --index enwiki-multistream-index.txt.bz2 -o scan-out
        wikicore scan dump.xml -o scan-out --scheduler tcp://10.0.0.5:8786
        wikicore audit --urls scan-out
    """
    from ..scan import scan_dump

    line = progress(quiet)
    summary = scan_dump(dump, out, scheduler=scheduler, workers=workers, index=index,
                        today=today.date() if today is not None else None,
                        progress=None if line is None else _partitions(line))
    if line is not None:
        line.finish()
    click.echo(f"{terminal(summary.output)}: {summary.articles} articles, {summary.claims} claims, "
               f"{summary.references} references, {summary.findings} findings, {summary.urls} urls; "
               f"{summary.redirects} redirects, {summary.bad_pages} bad pages; {summary.partitions} partitions "
               f"on {summary.workers} workers in {summary.seconds:g} s")


def _partitions(line: Progress) -> Callable[[Any], None]:
    """``scanned N pages, D of T partitions`` as the cluster reports."""

    def show(event: Any) -> None:
        total = f" of {event.tasks_total}" if event.tasks_total else ""
        line.show(f"scanned {event.pages_scanned} pages, {event.tasks_done}{total} partitions")

    return show
