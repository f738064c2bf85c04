"""The ``audit`` command: articles (static checks, links, archives), or a scan's url table with ``--urls``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import EXIT_NETWORK, EXIT_PROBLEMS, Env, fail, main
from .console import Progress, progress, use_color, warn, write
from .options import (
    ArchiveOptions,
    NetworkOptions,
    archive_options,
    format_option,
    is_path,
    network_options,
    output_option,
    quiet_option,
    slug_or_file_argument,
)

if TYPE_CHECKING:
    from ..audit import AuditEvent, AuditReport
    from ..models import Article
    from ..store import Wiki

#: Exit with 1 when a problem of at least this severity is found.
FAIL_ON = ["error", "warning", "never"]
#: Fewer steps than this in a phase draw no bar: it would be gone before it could be read.
SHORT_PHASE = 20


@main.command()
@slug_or_file_argument("targets", "[TARGET]...", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Audit every article in the wiki.")
@click.option("--offline", is_flag=True, help="Static checks only: no request of any kind.")
@format_option(["text", "json", "markdown", "html"], "text", help="Report format.")
@output_option("Report file, '-' for stdout.")
@click.option(
    "--fail-on", default="error", show_default=True, type=click.Choice(FAIL_ON),
    help="Exit 1 when a problem of this severity or worse is found.",
)
@archive_options
@network_options
@click.option("--no-archive", is_flag=True, help="Check links only: no archive lookups.")
@click.option("--no-quotes", is_flag=True, help="Do not read cited pages' texts: no quote checks, no content drift.")
@click.option(
    "--cache", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
    help="Link and archive history (SQLite) [default: <wiki>/.wikicore/checks.sqlite for wiki articles, "
    "else $XDG_CACHE_HOME/wikicore/checks.sqlite].",
)
@click.option("--refresh", is_flag=True, help="Recheck everything, ignoring results younger than the TTL.")
@quiet_option("No progress bar or summary on stderr.")
@click.option(
    "--urls", "urls_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Check the urls table of a `wikicore scan` output DIR; verdicts go to DIR/url_checks.",
)
@click.pass_obj
def audit(env: Env, targets: tuple[str, ...], all_: bool, offline: bool, fmt: str, output: str, fail_on: str,
          archive: ArchiveOptions, network: NetworkOptions, no_archive: bool, cache: Path | None, refresh: bool,
          quiet: bool, urls_dir: Path | None = None, no_quotes: bool = False) -> None:
    """Audit articles: are claims sourced, references valid, links alive and archived?

    A TARGET is a slug in the wiki or a path to an article file; --all audits
    every article in the wiki. Static checks always run; unless --offline, each
    distinct url is checked once (results younger than a day are reused from
    the cache) and the Wayback Machine is asked for the snapshot nearest the
    access date. Then each citation's quote is looked for on the live page and
    in that capture, and each page is compared with its capture for content
    drift (--no-quotes skips both; see docs/sources.md). "See also" titles are
    checked against the titles and aliases of the wiki's articles when wiki
    articles are audited.

    The cache is --cache, else <wiki>/.wikicore/checks.sqlite when wiki
    articles are audited, else $XDG_CACHE_HOME/wikicore/checks.sqlite
    (~/.cache/...): re-audits stay fast and "confirmed dead" needs history.

    --urls DIR checks every url of a scan's urls table instead (see `wikicore
    scan`), host by host with the same politeness and cache; the verdicts are
    written to DIR/url_checks and counted on stdout (text or json).

    Exit status: 0 nothing at or above --fail-on, 1 problems found, 2 bad input,
    5 the archive or the network failed as a whole (the report is still written).

    \b
    Example:
        wikicore audit articles/azerbaijan-russia-relations.yaml --offline
        wikicore --wiki mywiki audit --all --format html -o audit.html
        wikicore audit my-slug --fail-on warning --format markdown
        wikicore audit --urls scan-out --cache links.sqlite
    """
    if urls_dir is not None:
        _audit_urls(urls_dir, bool(targets) or all_, offline, fmt, output, fail_on, network, cache, refresh, quiet)
        return
    from ..audit import AuditOptions, audit_cache_path, audit_wiki
    from ..output import check_writable

    if not targets and not all_:
        fail("nothing to audit: give TARGET slugs or files, or --all")
    check_writable(output)  # before minutes of checking
    config = network.config()  # a bad --timeout (nan, inf) is refused before it shapes the archives'
    client = archive.open(audit=True, timeout=network.timeout)  # a bad --wayback-url or --archive: exit 2
    with _LazyWiki(env) as lazy:
        items = _audit_items(targets)
        wiki = lazy.get() if all_ or any(isinstance(item, str) for item in items) else None
        line = progress(quiet)
        report = audit_wiki(  # which articles, at which revision, against which titles: the library's call
            wiki, items, all_articles=all_,
            options=AuditOptions(
                offline=offline, no_archive=no_archive, no_quotes=no_quotes, config=config,
                # CDX widens the Internet Archive's availability misses only within its budget of 0.02
                # requests a reference; archives without an availability API (pywb) are asked by CDX or Memento.
                archive=None if offline or no_archive else client,
                db_path=None if offline else cache or audit_cache_path(wiki), refresh=refresh,
            ),
            progress=None if line is None else AuditProgress(line),
            option_words={"no_archive": "--no-archive", "no_quotes": "--no-quotes", "refresh": "--refresh"},
        )
        if line is not None:
            line.clear()
    _conclude(report, fmt, output, fail_on, quiet)


def _conclude(report: AuditReport, fmt: str, output: str, fail_on: str, quiet: bool) -> None:
    """Write the report, count it on stderr when it went to a file, and exit as the findings say."""
    from ..audit.static import Severity
    from ..report.render import render

    write(render(report, fmt, color=use_color(output)), output)
    counts = report.totals().by_severity
    if not quiet and output not in ("-", None):
        click.echo(
            f"{output}: {len(report.articles)} article(s): "
            + ", ".join(f"{counts[s.value]} {s.value}" for s in Severity),
            err=True,
        )
    _exit_if_offline(report.network_failure, "the report's live results are incomplete")
    if fail_on != "never" and report.count(Severity(fail_on)):
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def _audit_urls(scan_dir: Path, has_targets: bool, offline: bool, fmt: str, output: str, fail_on: str,
                network: NetworkOptions, cache: Path | None, refresh: bool, quiet: bool) -> None:
    """``audit --urls DIR``: one call into :func:`wikicore.scan.urlaudit.audit_url_table`, then a summary."""
    from ..audit import audit_cache_path
    from ..output import check_writable
    from ..report.render import render
    from ..scan.urlaudit import audit_url_table

    if has_targets:
        fail("--urls checks a scan's url table: give no TARGET and no --all with it")
    if offline:
        fail("--urls checks links over the network: --offline leaves nothing to do")
    if fmt not in ("text", "json"):
        fail(f"--urls reports as text or json, not {fmt}")
    if not scan_dir.is_dir():
        fail(f"{scan_dir}: no such directory (the output of `wikicore scan`)")
    check_writable(output)  # before minutes of checking
    line = progress(quiet)
    config = network.config()  # --host-config too: a bad host file is exit 2 before any request
    summary = audit_url_table(scan_dir, config=config, db_path=cache or audit_cache_path(None),
                              refresh=refresh, progress=None if line is None else _url_counter(line))
    if line is not None:
        line.clear()
    write(render(summary, fmt), output)
    _exit_if_offline(summary.network_failure, "the url_checks table's live results are incomplete")
    failing = summary.errors + (summary.warnings if fail_on == "warning" else 0)
    if fail_on != "never" and failing:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def _exit_if_offline(network_failure: str | None, incomplete: str) -> None:
    """Exit 5 with one line when the run showed the checker itself offline (:mod:`wikicore.links.offline`).

    The results are written first, but their live verdicts cannot be trusted: both
    audits (articles and ``--urls``) say why the same way.
    """
    if network_failure is not None:
        warn(f"{network_failure}; {incomplete}", "error")
        raise click.exceptions.Exit(EXIT_NETWORK)


def _url_counter(line: Progress) -> Callable[[object], None]:
    """``checked N urls``, one more for each verdict."""
    done = 0

    def counted(result: object) -> None:
        nonlocal done
        done += 1
        line.show(f"checked {done} urls")

    return counted


class AuditProgress:
    """The audit's events drawn on one :class:`~wikicore.cli.console.Progress` line.

    One phase shows as a bar; links and archive lookups run side by side, so
    while either runs both show as counts (``links 120/2000  archive 3/20``),
    and events may come from two threads.
    """

    #: Characters of the bar.
    WIDTH = 30

    def __init__(self, line: Progress | None = None) -> None:
        self.line = line or Progress()
        self._phases: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: AuditEvent) -> None:
        """Show an :class:`~wikicore.audit.AuditEvent`."""
        with self._lock:
            phase, done, total = event.phase.value, event.done, event.total
            self._phases[phase] = (done, total)
            if total < SHORT_PHASE:
                return
            if phase in ("links", "archive"):
                shown = {k: v for k, v in self._phases.items() if k in ("links", "archive")}
            else:
                shown = {phase: (done, total)}
            text = "  ".join(f"{name} {d}/{t}" for name, (d, t) in shown.items())
            if len(shown) == 1:
                filled = self.WIDTH * done // max(total, 1)
                text = f"{phase:>8} [{'#' * filled + '-' * (self.WIDTH - filled)}] {done}/{total}"
            self.line.show(text, force=done >= total)

    def clear(self) -> None:
        """Erase the line so the report starts on a clean one."""
        self.line.clear()


class _LazyWiki:
    """The wiki, opened on first use: auditing files alone needs no git repository."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.wiki: Wiki | None = None

    def __enter__(self) -> _LazyWiki:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.wiki is not None:
            self.wiki.close()

    def get(self) -> Wiki:
        if self.wiki is None:
            self.wiki = self.env.wiki()
        return self.wiki


def _audit_items(targets: tuple[str, ...]) -> list[str | Article]:
    """Files loaded (each once), slugs left for the library to find in the wiki (:func:`audit_wiki`)."""
    items: list[str | Article] = []
    seen: set[Path] = set()
    for target in targets:
        path = Path(target)
        if is_path(target):
            from ..serialize import load_path

            if path.resolve() not in seen:
                seen.add(path.resolve())
                items.append(load_path(path))
        else:
            items.append(target)
    return items
