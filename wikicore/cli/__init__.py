"""The ``wikicore`` command line: parse options, call one library function, render, exit.

Exit statuses (the contract other tools are written against):

====  =========================================================
0     clean: nothing found at or above the failure threshold
1     problems found (audit findings)
2     bad input or usage: a file, field, slug, revision or URL
3     edit conflict: the article changed since the base revision
4     internal error (a bug: rerun with ``--debug`` and report it)
5     the network failed as a whole (the archive unreachable, rate-limited)
130   interrupted (Ctrl-C)
====  =========================================================

Library errors become one line on stderr here and nowhere else; click is
imported by this module alone.
"""

from __future__ import annotations

import math
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

# Only click, the standard library and the exception tree load at start: every other import is made
# inside the command that needs it, so `--help`, `--version` and Tab completion start in a fraction
# of the 1.25 s that importing pydantic, GitPython and requests up front cost (issue 11 item 5).
from .. import __version__
from ..errors import EditConflict, InvalidArticle, InvalidInput, NetworkError, NotFound, WikicoreError
from ..report.base import terminal, terminal_text

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from ..models import Article
    from ..store import Wiki

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2
EXIT_CONFLICT = 3
EXIT_INTERNAL = 4
EXIT_NETWORK = 5

#: Where each library error class sends the process.
EXIT_CODES: dict[type[BaseException], int] = {
    EditConflict: EXIT_CONFLICT,
    NetworkError: EXIT_NETWORK,
    InvalidInput: EXIT_INPUT,
    NotFound: EXIT_INPUT,
    WikicoreError: EXIT_INPUT,
}

@dataclass
class Env:
    """What every command may need: where the wiki is, and whether to show tracebacks."""

    wiki_path: Path
    debug: bool

    def wiki(self) -> Wiki:
        """Open the wiki at ``--wiki`` (imported lazily: file-only commands do not need git)."""
        from ..store import Wiki

        return Wiki.open(self.wiki_path)


def _exit_code(error: BaseException) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_INTERNAL


class _Group(click.Group):
    """Turns library errors into one line each and a documented exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except WikicoreError as error:
            if _debug(ctx):
                traceback.print_exc()
            lines = error.lines() if isinstance(error, InvalidArticle) else str(error).splitlines()
            for line in lines or [type(error).__name__]:
                click.echo(f"error: {terminal(line)}", err=True)
            ctx.exit(_exit_code(error))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # `wikicore show x | head`: the reader went away; that is not our error.
            sys.stderr.close()
            ctx.exit(EXIT_OK)
        except Exception as error:  # the one place a bug is turned into a line
            if _debug(ctx):
                traceback.print_exc()
            else:
                click.echo(
                    f"error: internal error: {type(error).__name__}: {terminal(error)} "
                    "(rerun with --debug for details)",
                    err=True,
                )
            ctx.exit(EXIT_INTERNAL)


def _debug(ctx: click.Context) -> bool:
    env = ctx.find_object(Env)
    return bool(env and env.debug) or bool(ctx.params.get("debug"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--wiki",
    "wiki_path",
    envvar="WIKICORE_WIKI",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default="$WIKICORE_WIKI, else the current directory",
    help="The wiki (a git repository) to work on.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.version_option(__version__, prog_name="wikicore")
@click.pass_context
def main(ctx: click.Context, wiki_path: Path, debug: bool) -> None:
    """Keep wiki articles as versioned, citation-checked data.

    Articles are YAML files of sections, paragraphs, claims, citations and
    references, stored in a git repository. Every save is a commit; audits
    check that claims are sourced and that sources are alive and archived.

    Exit status: 0 clean, 1 problems found, 2 bad input or usage,
    3 edit conflict, 4 internal error, 5 network failure, 130 interrupted.

    Tab completion (slugs included): see the README's "Shell completion".
    """
    ctx.obj = Env(wiki_path=wiki_path, debug=debug)


# --- options shared by several commands ------------------------------------------
#
# One definition per option, so that `-o`, `--format`, `--author` or `--wayback-url` mean the same
# thing, with the same help, wherever they appear. Commands stack these like any click decorator.

F = TypeVar("F", bound=Callable[..., Any])

AUTHOR_HELP = "Commit author as 'Name <mail>' [default: $WIKICORE_AUTHOR, else 'wikicore <wikicore@localhost>']."
INPUT_FORMATS = ["text", "wikitext", "yaml", "json"]


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Apply ``decorators`` as if written one above the other, first on top."""

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


def output_option(help: str = "Output file, '-' for stdout.") -> Callable[[F], F]:
    """``-o/--output``: where the result goes, through the one safe writer (:mod:`wikicore.output`)."""
    return click.option("-o", "--output", "output", default="-", show_default=True, metavar="FILE", help=help)


def format_option(choices: list[str], default: str, help: str | None = None) -> Callable[[F], F]:
    """``--format`` with its choices and default."""
    return click.option(
        "--format", "fmt", default=default, show_default=True, type=click.Choice(choices), help=help
    )


def import_options(function: F) -> F:
    """``--from`` and ``--slug``: how a file becomes an article."""
    return _stack(
        click.option(
            "--from", "from_", type=click.Choice(INPUT_FORMATS), help="Input format [default: from the suffix]."
        ),
        click.option("--slug", help="Slug of the article [default: made from its title]."),
    )(function)


def commit_options(default_message: str) -> Callable[[F], F]:
    """``-m/--message`` and ``--author``: what a commit says and who made it."""
    return _stack(
        click.option("-m", "--message", help=f"Commit message [default: {default_message}]."),
        click.option("--author", metavar="'NAME <MAIL>'", help=AUTHOR_HELP),
    )


def wayback_option(function: F) -> F:
    """``--wayback-url``: which Wayback-compatible archive to ask."""
    return click.option(
        "--wayback-url", envvar="WIKICORE_WAYBACK_URL", metavar="URL",
        help="Root of a Wayback-compatible archive [default: $WIKICORE_WAYBACK_URL, else the Internet Archive].",
    )(function)


def archive_options(function: F) -> F:
    """``--archive`` (repeatable) and ``--archive-rate``: more archives beside the Wayback root."""
    return _stack(
        click.option(
            "--archive", "archives", multiple=True, metavar="URL",
            help="Root of one more archive to ask (pywb, any Wayback or Memento archive); repeatable.",
        ),
        click.option(
            "--archive-rate", type=click.FloatRange(min=0), metavar="N",
            help="Lookups a second at each --archive (0: no limit) [default: 5; the Internet Archive's stay at 0.4].",
        ),
    )(function)


def network_options(function: F) -> F:
    """How the link checker behaves: address policy, timeout, and politeness with lychee's option names."""
    return _stack(
        click.option(
            "--allow-private", is_flag=True,
            help="Check loopback and private addresses too (never link-local ones such as 169.254.169.254).",
        ),
        click.option("--timeout", callback=lambda c, p, v: _seconds(p, v, zero=False), metavar="S",
                     help="Total seconds per URL (a finite number above 0)."),
        click.option("--max-concurrency", "--concurrency", "concurrency", type=click.IntRange(min=1), metavar="N",
                     help="Requests in flight at most, over all hosts [default: 32]."),
        click.option("--host-concurrency", type=click.IntRange(min=1), metavar="N",
                     help="Requests in flight at most to one host [default: 2; lychee's is 10]."),
        click.option("--host-request-interval", callback=lambda c, p, v: _seconds(p, v, zero=True),
                     metavar="SECONDS",
                     help="Seconds between two requests to one host, e.g. 0.25 or 50ms [default: 0.25; lychee: 50ms]."),
    )(function)


def quiet_option(help: str = "No progress or summary on stderr.") -> Callable[[F], F]:
    """``-q/--quiet``."""
    return click.option("-q", "--quiet", is_flag=True, help=help)


def _complete_slugs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Tab completion of SLUG arguments: the slugs of the wiki named by ``--wiki`` (or its default).

    Runs on every Tab press, so it fails silent (no wiki, no completions) and
    loads only the store.
    """
    from click.shell_completion import CompletionItem

    root = ctx.find_root()
    path = root.params.get("wiki_path") or os.environ.get("WIKICORE_WIKI") or "."
    try:
        from ..store import Wiki

        with Wiki.open(path) as wiki:
            return [CompletionItem(slug) for slug in wiki.list() if slug.startswith(incomplete)]
    except Exception:  # completion must never print a traceback into the shell
        return []


def _complete_slugs_or_files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Completion for FILE_OR_SLUG arguments: the wiki's slugs, and the shell's own file completion."""
    from click.shell_completion import CompletionItem

    items = [] if os.sep in incomplete else _complete_slugs(ctx, param, incomplete)
    return [*items, CompletionItem(incomplete, type="file")]


def slug_argument(name: str = "slug", metavar: str | None = None) -> Callable[[F], F]:
    """A SLUG argument whose values Tab-complete from the wiki."""
    return click.argument(name, metavar=metavar, shell_complete=_complete_slugs)


def _write(text: str | Iterable[str], out: str | None) -> None:
    """Write to stdout (``None``, ``-``, ``/dev/stdout``) or through the one safe writer.

    ``text`` may come in pieces (a large audit report): they are written one after another.
    """
    from ..output import is_stdout, write_file

    if out is None or is_stdout(out):
        for piece in (text,) if isinstance(text, str) else text:
            click.echo(piece, nl=False)
        return
    write_file(out, text)


def _load_revision(wiki: Wiki, slug: str, rev: str | None) -> tuple[Article, str]:
    """An article of the wiki and the full id of the revision it was read at.

    The id is found first and the article read at it, so a save landing in
    between cannot make the recorded revision newer than the content shown.
    """
    if rev is None:
        latest = wiki.latest(slug)
        if latest is None:
            raise NotFound(f"no article {slug!r} in the wiki")
        revision = latest.id
    else:
        revision = wiki.resolve_for(slug, rev)  # `~N` counts the article's own revisions
    article: Article = wiki.load(slug, rev=revision)
    return article, revision


def _is_path(target: str) -> bool:
    """Whether a FILE_OR_SLUG argument names a file (slugs never hold a separator or a suffix)."""
    path = Path(target)
    return path.is_file() or os.sep in target or path.suffix in {".yaml", ".yml", ".json"}


def _load_any(target: str, env: Env, rev: str | None = None) -> Article:
    """An article from a file path, or else a slug in the wiki."""
    if rev is None and _is_path(target):
        from ..serialize import load_path

        return load_path(Path(target))
    article: Article = env.wiki().load(target, rev=rev)
    return article


# --- file commands (no wiki needed) --------------------------------------------


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@import_options
@click.option(
    "--to", "to", default="yaml", show_default=True,
    type=click.Choice(["yaml", "json", "wikitext", "csl-json", "text"]), help="Output format.",
)
@output_option()
def convert(file: Path, from_: str | None, to: str, slug: str | None, output: str) -> None:
    """Import or convert FILE without a wiki.

    \b
    Example:
        wikicore convert seed.txt --from text --to json
        wikicore convert article.yaml --to wikitext -o article.wiki
    """
    from ..exporters import export
    from ..importers import detect_format, import_path
    from ..output import is_stdout
    from ..serialize import dumps

    fmt = from_ or detect_format(file)
    article = import_path(file, fmt, slug=slug)
    # A revision recorded by `show` travels with the article from YAML to JSON and back.
    if to in ("yaml", "json"):
        text = dumps(article, "json" if to == "json" else "yaml", revision=article.revision)
    else:
        text = export(article, to)
    # Like `show`: exact characters into a pipe or a file, escaped on a terminal (issue 9 item 4).
    _write(terminal_text(text) if is_stdout(output) and sys.stdout.isatty() else text, output)
    if fmt not in ("yaml", "json"):
        # Warnings describe this import; an article file's own `source.warnings` are its content.
        for warning in article.source.warnings if article.source else []:
            click.echo(f"warning: {terminal(warning)}", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check that article FILES (YAML or JSON) are valid; print one line per problem.

    Besides the schema, every reference url and archive_url must be an
    absolute http(s) URL: the rule by which the audit calls one malformed.

    \b
    Example:
        wikicore validate articles/*.yaml
    """
    from ..audit.static import url_problems
    from ..serialize import load_path

    failed = False
    for file in files:
        try:
            problems = url_problems(load_path(file))
            if problems:
                raise InvalidArticle(problems, str(file))
        except InvalidArticle as error:
            failed = True
            for line in error.lines():
                click.echo(f"error: {terminal(line)}", err=True)
        else:
            click.echo(f"{terminal(file)}: ok")
    if failed:
        raise click.exceptions.Exit(EXIT_INPUT)


@main.command()
@click.argument("target", metavar="FILE_OR_SLUG", shell_complete=_complete_slugs_or_files)
@click.option("--rev", help="Revision of a wiki article: ~N (its Nth revision before the latest), a commit id, "
              "HEAD or HEAD~N (commits of the whole wiki).")
@format_option(["yaml", "json", "text"], "yaml")
@click.pass_obj
def show(env: Env, target: str, rev: str | None, fmt: str) -> None:
    """Show an article: FILE_OR_SLUG is a file, or a slug in the wiki.

    YAML and JSON from the wiki record the revision shown as a top-level
    `revision:` key, which `wikicore save` takes as the base of the edit.

    \b
    Example:
        wikicore show articles/azerbaijan-russia-relations.yaml --format text
        wikicore --wiki mywiki show azerbaijan-russia-relations --rev ~1
        wikicore show my-article > my-article.yaml   # edit, then: wikicore save my-article.yaml
    """
    from ..exporters import export
    from ..serialize import dumps

    if rev is None and _is_path(target):
        article = _load_any(target, env)
        revision = article.revision
    else:
        article, revision = _load_revision(env.wiki(), target, rev)
    text = export(article, "text") if fmt == "text" else dumps(article, fmt, revision=revision)  # type: ignore[arg-type]
    # Text is for reading: always escaped. YAML and JSON are data: exact bytes into a pipe or file,
    # escaped only when a terminal would otherwise obey what they hold (issue 9 item 4).
    click.echo(terminal_text(text) if fmt == "text" or sys.stdout.isatty() else text, nl=False)


@main.command()
@click.option("--out", "out", default="schemas", show_default=True, type=click.Path(file_okay=False, path_type=Path))
def schema(out: Path) -> None:
    """Write the JSON Schemas of the stored formats to a directory.

    \b
    Example:
        wikicore schema --out schemas
    """
    from ..schema import write_schemas

    for path in write_schemas(out):
        click.echo(str(path))


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """Print one error line and exit: for checks done in the CLI itself."""
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


# Commands of the wiki, audit and wikitext issues are registered below this line.


# --- audit (issue 4) -----------------------------------------------------------------

#: Exit with 1 when a problem of at least this severity is found.
FAIL_ON = ["error", "warning", "never"]


@main.command()
@click.argument("targets", nargs=-1, metavar="[TARGET]...", shell_complete=_complete_slugs_or_files)
@click.option("--all", "all_", is_flag=True, help="Audit every article in the wiki.")
@click.option("--offline", is_flag=True, help="Static checks only: no request of any kind.")
@format_option(["text", "json", "markdown", "html"], "text", help="Report format.")
@output_option("Report file, '-' for stdout.")
@click.option(
    "--fail-on", default="error", show_default=True, type=click.Choice(FAIL_ON),
    help="Exit 1 when a problem of this severity or worse is found.",
)
@wayback_option
@archive_options
@network_options
@click.option("--no-archive", is_flag=True, help="Check links only: no archive lookups.")
@click.option(
    "--host-config", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help='Per-host politeness overrides (TOML: [hosts."example.org"] concurrency = 1, interval = 2.0).',
)
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
def audit(
    env: Env,
    targets: tuple[str, ...],
    all_: bool,
    offline: bool,
    fmt: str,
    output: str,
    fail_on: str,
    wayback_url: str | None,
    archives: tuple[str, ...],
    archive_rate: float | None,
    allow_private: bool,
    timeout: float | None,
    concurrency: int | None,
    host_concurrency: int | None,
    host_request_interval: float | None,
    no_archive: bool,
    host_config: Path | None,
    cache: Path | None,
    refresh: bool,
    quiet: bool,
    urls_dir: Path | None = None,
) -> None:
    """Audit articles: are claims sourced, references valid, links alive and archived?

    A TARGET is a slug in the wiki or a path to an article file; --all audits
    every article in the wiki. Static checks always run; unless --offline, each
    distinct url is checked once (results younger than a day are reused from
    the cache) and the Wayback Machine is asked for the snapshot nearest the
    access date. "See also" titles are checked against the titles and aliases
    of the wiki's articles when wiki articles are audited.

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
        _audit_urls(urls_dir, bool(targets) or all_, offline, fmt, output, fail_on, allow_private, timeout,
                    concurrency, cache, refresh, quiet, host_concurrency, host_request_interval)
        return
    from ..audit.options import AuditOptions
    from ..audit.static import Severity
    from ..audit.targets import audit_cache_path, audit_wiki
    from ..net import CheckConfig, load_host_limits
    from ..output import check_writable
    from ..report.audit import render_pieces

    if not targets and not all_:
        fail("nothing to audit: give TARGET slugs or files, or --all")
    check_writable(output)  # before minutes of checking
    # A bad --timeout (nan, inf) is refused before any work (and before it shapes the archives'): the library's
    # CheckConfig validates every setting, and with_timeout decides what a total timeout means.
    changes: dict[str, Any] = {"allow_private": allow_private}
    if concurrency is not None:
        changes["concurrency"] = concurrency
    if host_concurrency is not None:
        changes["per_host"] = host_concurrency
    if host_request_interval is not None:
        changes["host_interval"] = host_request_interval
    config = CheckConfig().replace(**changes)
    if host_config is not None:
        config = config.replace(host_limits=load_host_limits(host_config, config.host_limit))
    if timeout is not None:
        config = config.with_timeout(timeout)
    # A bad --wayback-url or --archive is bad input (exit 2) before any work.
    archive = _open_archives(wayback_url, archives, archive_rate, None, audit=True, timeout=timeout)
    lazy = _LazyWiki(env)
    try:
        items = _audit_items(targets)
        wiki = lazy.get() if all_ or any(isinstance(item, str) for item in items) else None
        db_path = None if offline else cache or audit_cache_path(wiki)
        progress = None if quiet or not sys.stderr.isatty() else _ProgressLine()
        report = audit_wiki(  # which articles, at which revision, against which titles: the library's call
            wiki,
            items,
            all_articles=all_,
            options=AuditOptions(
                offline=offline,
                no_archive=no_archive,
                config=config,
                # CDX widens the Internet Archive's availability misses only within the 0.02
                # requests/reference budget; archives without an availability API (pywb)
                # are asked by CDX or Memento, at --archive-rate.
                archive=None if offline or no_archive else archive,
                db_path=db_path,
                refresh=refresh,
            ),
            progress=progress,
            option_words={"no_archive": "--no-archive", "refresh": "--refresh"},  # the notes name the flags
        )
        if progress is not None:
            progress.clear()
    finally:
        lazy.close()
    color = fmt == "text" and output in ("-", None) and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    _write(render_pieces(report, fmt, color=color), output)  # type: ignore[arg-type]
    counts = report.totals().by_severity
    if not quiet and output not in ("-", None):
        click.echo(
            f"{output}: {len(report.articles)} article(s): "
            + ", ".join(f"{counts[s.value]} {s.value}" for s in Severity),
            err=True,
        )
    if report.network_failure is not None:
        # The report is written, but its live verdicts cannot be trusted: say why and exit 5.
        click.echo(f"error: {terminal(report.network_failure)}; the report's live results are incomplete", err=True)
        raise click.exceptions.Exit(EXIT_NETWORK)
    if fail_on != "never" and report.count(Severity(fail_on)):
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def _seconds(param: click.Parameter, value: str | None, *, zero: bool) -> float | None:
    """A finite number of seconds (``0.25``, ``250ms``, ``2s``); NaN, infinity and negatives are bad input."""
    if value is None:
        return None
    text = str(value).strip().lower()
    scale = 1.0
    if text.endswith("ms"):
        text, scale = text[:-2], 0.001
    elif text.endswith("s"):
        text = text[:-1]
    try:
        seconds = float(text) * scale
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number of seconds", param=param) from None
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero):
        bound = "0 or more" if zero else "more than 0"
        raise click.BadParameter(f"{value!r}: give a finite number of seconds, {bound}", param=param)
    return seconds


def _audit_urls(scan_dir: Path, has_targets: bool, offline: bool, fmt: str, output: str, fail_on: str,
                allow_private: bool, timeout: float | None, concurrency: int | None, cache: Path | None,
                refresh: bool, quiet: bool, host_concurrency: int | None = None,
                host_request_interval: float | None = None) -> None:
    """``audit --urls DIR``: one call into :func:`wikicore.scan.urlaudit.audit_url_table`, then a summary."""
    import dataclasses
    import json

    from ..audit.targets import audit_cache_path
    from ..links.checker import CheckConfig
    from ..scan.urlaudit import audit_url_table

    if has_targets:
        fail("--urls checks a scan's url table: give no TARGET and no --all with it")
    if offline:
        fail("--urls checks links over the network: --offline leaves nothing to do")
    if fmt not in ("text", "json"):
        fail(f"--urls reports as text or json, not {fmt}")
    if not scan_dir.is_dir():
        fail(f"{scan_dir}: no such directory (the output of `wikicore scan`)")
    from ..output import check_writable

    check_writable(output)  # before minutes of checking
    config = CheckConfig()
    changes: dict[str, Any] = {"allow_private": allow_private or config.allow_private}
    if concurrency is not None:
        changes["concurrency"] = concurrency
    if host_concurrency is not None:
        changes["per_host"] = host_concurrency
    if host_request_interval is not None:
        changes["host_interval"] = host_request_interval
    config = config.replace(**changes)
    if timeout is not None:
        config = config.with_timeout(timeout)
    counter = _UrlCounter() if not quiet and sys.stderr.isatty() else None
    summary = audit_url_table(scan_dir, config=config, db_path=cache or audit_cache_path(None), refresh=refresh,
                              progress=counter)
    if counter is not None:
        counter.clear()
    if fmt == "json":
        text = json.dumps(dataclasses.asdict(summary), indent=2) + "\n"
    else:
        statuses = ", ".join(f"{count} {status}" for status, count in summary.by_status.items()) or "none"
        text = (f"{terminal(summary.table)}: {summary.urls} url(s): {statuses}; {summary.errors} error(s), "
                f"{summary.warnings} warning(s), {summary.confirmed_dead} confirmed dead\n")
    _write(text, output)
    failing = summary.errors + (summary.warnings if fail_on == "warning" else 0)
    if fail_on != "never" and failing:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


class _UrlCounter:
    """``checked N urls`` on stderr, redrawn at most ten times a second."""

    def __init__(self) -> None:
        import time

        self._time = time.monotonic
        self._last = 0.0
        self._done = 0

    def __call__(self, result: Any) -> None:
        self._done += 1
        now = self._time()
        if now - self._last >= 0.1:
            self._last = now
            click.echo(f"\rchecked {self._done} urls", err=True, nl=False)

    def clear(self) -> None:
        if self._last:
            click.echo("\r" + " " * 40 + "\r", err=True, nl=False)


class _LazyWiki:
    """The wiki, opened on first use: auditing files alone needs no git repository."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.wiki: Wiki | None = None

    def get(self) -> Wiki:
        if self.wiki is None:
            self.wiki = self.env.wiki()
        return self.wiki

    def close(self) -> None:
        if self.wiki is not None:
            self.wiki.close()


def _audit_items(targets: tuple[str, ...]) -> list[str | Article]:
    """Files loaded (each once), slugs left for the library to find in the wiki (:func:`audit_wiki`)."""
    items: list[str | Article] = []
    seen: set[Path] = set()
    for target in targets:
        path = Path(target)
        if _is_path(target):
            from ..serialize import load_path

            if path.resolve() not in seen:
                seen.add(path.resolve())
                items.append(load_path(path))
        else:
            items.append(target)
    return items


def _open_archives(
    wayback_url: str | None,
    archives: tuple[str, ...],
    rate: float | None,
    save_path: str | None,
    *,
    audit: bool,
    timeout: float | None = None,
) -> Any:
    """The archives to ask: the Wayback root (--wayback-url, else the Internet Archive), then each --archive."""
    from ..archive import DEFAULT_BASE_URL, open_archives

    roots = [(wayback_url or "").strip() or DEFAULT_BASE_URL, *archives]
    return open_archives(
        roots,
        audit=audit,
        rate=rate,
        save_path=save_path,
        timeout=(min(5.0, timeout), min(30.0, timeout)) if timeout is not None else None,
        deadline=timeout,
    )


class _ProgressLine:
    """A one-line progress display on stderr, redrawn at most ten times a second.

    Links and archive lookups run side by side, so the line shows every phase
    under way (``links 120/2000  archive 3/20``); events may come from two threads.
    """

    def __init__(self) -> None:
        import threading
        import time

        self._time = time.monotonic
        self._last = 0.0
        self._width = 0
        self._phases: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        """Show an :class:`~wikicore.audit.AuditEvent`."""
        with self._lock:
            self._phases[event.phase.value] = (event.done, event.total)
            now = self._time()
            if event.total < 20 or (now - self._last < 0.1 and event.done < event.total):
                return  # short audits need no bar
            self._last = now
            if event.phase.value in ("links", "archive"):
                shown = {k: v for k, v in self._phases.items() if k in ("links", "archive")}
            else:
                shown = {event.phase.value: (event.done, event.total)}
            text = "  ".join(f"{phase} {done}/{total}" for phase, (done, total) in shown.items())
            width = 30
            done, total = event.done, event.total
            if len(shown) == 1:
                filled = width * done // max(total, 1)
                text = f"{event.phase.value:>8} [{'#' * filled + '-' * (width - filled)}] {done}/{total}"
            click.echo(f"\r{text.ljust(self._width)}", err=True, nl=False)
            self._width = max(self._width, len(text))

    def clear(self) -> None:
        """Erase the line so the report starts on a clean one."""
        if self._width:
            click.echo("\r" + " " * self._width + "\r", err=True, nl=False)


# --- the wiki (issue 3) ----------------------------------------------------------------

def _color(output: str | None = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


@main.command()
@click.option(
    "--adopt", is_flag=True,
    help="Make the git repository already at --wiki a wiki (wikicore then commits to its main branch).",
)
@click.pass_obj
def init(env: Env, adopt: bool) -> None:
    """Create a wiki (a git repository) at --wiki.

    A git repository that is not a wiki yet (a code repository, say: --wiki
    defaults to the current directory) is refused unless --adopt says to make
    it one.

    \b
    Example:
        wikicore --wiki mywiki init
        wikicore --wiki notes-repo init --adopt
    """
    from ..store import Wiki

    wiki = Wiki.init(env.wiki_path, adopt=adopt)
    click.echo(f"initialised wiki at {wiki.path}")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE|DIR...")
@import_options
@commit_options("'Import FILE', or 'Import N articles' for several")
@click.pass_obj
def import_(env: Env, files: tuple[Path, ...], from_: str | None, slug: str | None, message: str | None,
            author: str | None) -> None:
    """Import FILE as a new article of the wiki; print its slug and revision.

    An article with the same slug must not exist yet (exit 3, unless FILE
    holds exactly what the wiki has: `no change`): edit existing articles with
    `wikicore show` and `wikicore save`. What the importer could not determine
    (its warnings) is printed and kept in the commit message, not in the article.
    Several files, or a directory (its files with a known suffix, recursively),
    come in as one commit, all or nothing, with the same checks.

    \b
    Example:
        wikicore import seed.txt --from text -m "Import the seed article"
        wikicore import articles/ -m "Import the reviewed batch"
    """
    from ..importers import detect_format, import_path, split_warnings
    from ..serialize import dumps

    if len(files) != 1 or files[0].is_dir():
        _import_many(env, files, from_, slug, message, author)
        return
    file = files[0]
    article, warnings = split_warnings(import_path(file, from_ or detect_format(file), slug=slug))
    for warning in warnings:
        click.echo(f"warning: {terminal(warning)}", err=True)
    wiki = env.wiki()
    latest = wiki.latest(article.slug)
    if latest is not None:
        if wiki.load_text(article.slug, latest.id) == dumps(article):
            click.echo(f"no change: {article.slug} is at {latest.id}")
            return
        _exists(article.slug, latest.id)
    text = message or f"Import {file.name}"
    if warnings:
        text = text.rstrip("\n") + "\n\nImport warnings:\n" + "".join(f"- {w}\n" for w in warnings)
    try:
        revision = wiki.save(article, text, author=author, base=None)
    except EditConflict as conflict:  # created by someone else since we looked
        _exists(article.slug, conflict.current)
    click.echo(f"{article.slug} {revision.id}")


def _import_many(env: Env, files: tuple[Path, ...], from_: str | None, slug: str | None, message: str | None,
                 author: str | None) -> None:
    """`import` of several files or a directory: one commit, all or nothing (the store's bulk import)."""
    from ..importers import detect_format, import_path

    if slug is not None:
        raise click.UsageError("--slug names one article: give one FILE")
    paths = _import_sources(files)
    articles = [import_path(path, from_ or detect_format(path)) for path in paths]
    result = env.wiki().import_articles(articles, message or f"Import {len(articles)} articles", author=author,
                                        sources=[str(p) for p in paths])
    click.echo("".join(f"{name} {result.commit}\n" for name in result.slugs), nl=False)


def _import_sources(items: tuple[Path, ...]) -> list[Path]:
    """The files to import: files as given, directories walked for files with a known suffix."""
    from ..importers import detect_format

    def known(path: Path) -> bool:
        return detect_format(path) != "text" or path.suffix.lower() == ".txt"

    paths: list[Path] = []
    for item in items:
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and known(p)
                           and not any(part.startswith(".") for part in p.relative_to(item).parts))
            if not found:
                raise InvalidInput(f"{item}: no article files to import (.yaml, .json, .txt, .wiki, ...)")
            paths.extend(found)
        else:
            paths.append(item)
    return paths


def _exists(slug: str, latest: str | None) -> NoReturn:
    """`import` of an article the wiki already has: say so (it is no edit from a "new article")."""
    fail(
        f"{slug!r} already exists in the wiki (latest revision {latest}); import adds new articles: "
        f"to change it, `wikicore show {slug} > {slug}.yaml`, edit, then `wikicore save {slug}.yaml`",
        EXIT_CONFLICT,
    )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--base", metavar="REV",
    help="The commit id FILE was edited from [default: the `revision:` that `wikicore show` recorded in FILE; "
    "none means a new article]. HEAD is resolved at save time, so it guards nothing.",
)
@commit_options("'Edit SLUG'")
@click.pass_obj
def save(env: Env, file: Path, base: str | None, message: str | None, author: str | None) -> None:
    """Save an edited article FILE (YAML or JSON) as a new revision; print its slug and revision.

    The base of the edit is --base, else the `revision:` that `wikicore show`
    recorded in FILE. If the article changed since its base, nothing is saved
    and the command exits with status 3 naming both revisions: diff them,
    merge, and save again with the newer base. With no base at all the article
    must be new. A save that changes nothing prints `no change` and makes no
    revision.

    \b
    Example:
        wikicore show my-article > my-article.yaml   # records `revision: <id>`
        wikicore save my-article.yaml -m "Source the population figure"
        wikicore save other.yaml --base 1a2b3c4d     # an explicit base wins
    """
    from ..serialize import dumps, load_path

    article = load_path(file)
    wiki = env.wiki()
    before = wiki.latest(article.slug)
    if before is not None and wiki.load_text(article.slug, before.id) == dumps(article):
        # Saving what the wiki already has is no edit, whatever base the file names (saving twice is no conflict).
        click.echo(f"no change: {article.slug} is at {before.id}")
        return
    revision = wiki.save(
        article, message or f"Edit {article.slug}", author=author, base=base if base is not None else article.revision
    )
    if before is not None and revision.id == before.id:
        click.echo(f"no change: {article.slug} is at {revision.id}")
        return
    click.echo(f"{article.slug} {revision.id}")


@main.command("list")
@click.pass_obj
def list_(env: Env) -> None:
    """List the slugs of the wiki's articles, one per line.

    \b
    Example:
        wikicore --wiki mywiki list
    """
    slugs = env.wiki().list()
    click.echo("".join(f"{terminal(slug)}\n" for slug in slugs), nl=False)  # one write: 300k slugs in one go


@main.command()
@slug_argument()
@format_option(["text", "json", "html"], "text")
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
    from ..report.diff import render_history_html, render_history_json, render_history_text

    revisions = env.wiki().history(slug)
    if fmt == "json":
        text = render_history_json(revisions, slug)
    elif fmt == "html":
        text = render_history_html(revisions, slug)
    else:
        text = render_history_text(revisions, _color(output))
    _write(text, output)


@main.command()
@slug_argument()
@click.argument("revisions", nargs=-1, metavar="[REV_A [REV_B]]")
@format_option(["text", "json", "html"], "text")
@output_option()
@click.pass_obj
def diff(env: Env, slug: str, revisions: tuple[str, ...], fmt: str, output: str) -> None:
    """Show what changed in an article claim by claim, with alerts a reviewer must not miss.

    With no revision, the article's previous revision is compared with its
    latest; with REV_A alone, REV_A with the latest. Revisions are commit ids
    (full or abbreviated), ~N (the article's own revisions: ~0 its latest, ~1
    the one before), or HEAD, HEAD~N, HEAD^ (commits of the whole wiki, as in git).

    \b
    Example:
        wikicore diff azerbaijan-russia-relations
        wikicore diff azerbaijan-russia-relations ~2 ~0 --format html -o review.html
    """
    from ..report.diff import render_diff_html, render_diff_json, render_diff_text

    if len(revisions) > 2:
        raise click.UsageError("give at most two revisions: REV_A [REV_B]")
    a = revisions[0] if revisions else None
    b = revisions[1] if len(revisions) > 1 else None
    result = env.wiki().diff(slug, a, b)
    if fmt == "json":
        text = render_diff_json(result)
    elif fmt == "html":
        text = render_diff_html(result)
    else:
        text = render_diff_text(result, color=_color(output))
    _write(text, output)


@main.command()
@slug_argument()
@click.option("--rev", metavar="REV", help="Blame the article as of this revision [default: latest].")
@format_option(["text", "json", "html"], "text")
@output_option()
@click.pass_obj
def blame(env: Env, slug: str, rev: str | None, fmt: str, output: str) -> None:
    """Show, for each claim, the revision that introduced it, last changed it, and added each citation.

    \b
    Example:
        wikicore blame azerbaijan-russia-relations
        wikicore blame azerbaijan-russia-relations --rev ~1 --format json
        wikicore blame azerbaijan-russia-relations --format html -o blame.html
    """
    from ..report.diff import render_blame_html, render_blame_json, render_blame_text

    wiki = env.wiki()
    result = wiki.blame(slug, rev=rev)
    if fmt == "json":
        text = render_blame_json(result)
    elif fmt == "html":  # the article's language lets the browser pick the right CJK glyphs
        text = render_blame_html(result, language=wiki.load(slug, rev=result.revision.id).language)
    else:
        text = render_blame_text(result, _color(output))
    _write(text, output)


@main.command()
@slug_argument("old")
@click.argument("new")
@commit_options("'Rename OLD to NEW'")
@click.pass_obj
def mv(env: Env, old: str, new: str, message: str | None, author: str | None) -> None:
    """Rename article OLD to NEW in one revision; its history follows the rename.

    \b
    Example:
        wikicore mv azerbaijan-russia-relation azerbaijan-russia-relations
    """
    revision = env.wiki().rename(old, new, message=message, author=author)
    click.echo(f"{new} {revision.id}")


@main.command("archive")
@slug_argument()
@click.option(
    "--save", "save_missing", is_flag=True,
    help="Ask Save Page Now to capture pages that have no snapshot (not those known to be dead).",
)
@wayback_option
@archive_options
@click.option(
    "--save-path", metavar="PATH",
    help="Capture route under a non-IA --wayback-url root [default: save/; pywb's recording route: web/record/].",
)
@quiet_option()
@click.option("-m", "--message", help="First line of the commit message [default: a summary].")
@click.option("--author", metavar="'NAME <MAIL>'", help=AUTHOR_HELP)
@click.pass_obj
def archive_command(
    env: Env,
    slug: str,
    save_missing: bool,
    wayback_url: str | None,
    archives: tuple[str, ...],
    archive_rate: float | None,
    save_path: str | None,
    quiet: bool,
    message: str | None,
    author: str | None,
) -> None:
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
    from ..archive import link_health, rescue_article

    client = _open_archives(wayback_url, archives, archive_rate, save_path, audit=False)  # bad URL: exit 2
    wiki = env.wiki()
    latest = wiki.latest(slug)
    if latest is None:
        raise NotFound(f"no article {slug!r} in the wiki")
    article = wiki.load(slug, rev=latest.id)
    live, dead = link_health(wiki.checks_path, [r.url for r in article.references if r.url])
    shown = not quiet and sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        if not shown or not total:
            return
        what = "looking up" if phase == "lookup" else "saving"
        click.echo(f"\r{what} {done}/{total} reference url(s)…\033[K", err=True, nl=False)

    result = rescue_article(
        article, client, save_missing=save_missing, live_urls=live, dead_urls=dead, progress=progress
    )
    if shown:
        click.echo("\r\033[K", err=True, nl=False)
    if not quiet:
        click.echo(terminal(result.summary()), err=True)
    if result.save_error:
        click.echo(f"warning: Save Page Now gave up: {terminal(result.save_error)}", err=True)
    if result.missing:
        click.echo(f"note: no capture for {len(result.missing)} reference(s): {', '.join(result.missing)}", err=True)
    if not result.changes:
        click.echo(f"{slug}: nothing to archive")
        return
    revision = wiki.save(result.article, result.message(message), author=author, base=latest.id)
    for change in result.changes:
        click.echo(terminal(change.describe()))
    unknown = [c.ref_id for c in result.changes if c.url_status is None]
    if unknown:
        # CS1 shows a cited link that has an archive-url but no url-status as dead.
        click.echo(
            f"note: liveness unknown for {', '.join(unknown)} (no link history): url_status left unset; "
            f"run `wikicore audit {slug}` to record it",
            err=True,
        )
    click.echo(f"{slug} {revision.id}")


# --- import-dump (issue 5) -------------------------------------------------------


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

    def show(done: int, total: int | None) -> None:
        click.echo(f"\rimported {done} pages" + (f" of {total}" if total else ""), nl=False, err=True)

    # The carriage-return counter is for a terminal; in a log or a pipe it would be one long line.
    live = not quiet and sys.stderr.isatty()
    summary = import_dump(dump, env.wiki_path, all_revisions=all_revisions, progress=show if live else None,
                          overwrite=overwrite)
    if live:
        click.echo("", err=True)
    if not quiet:
        for warning in summary.warnings:
            click.echo(f"warning: {terminal(warning)}", err=True)
    click.echo(f"{summary.pages} pages, {summary.revisions} revisions, {summary.aliases} aliases, "
               f"{summary.skipped} skipped, {summary.commits} commits"
               + (f"; main is at {summary.tip}" if summary.tip else ""))
    if summary.conflicts:
        for conflict in summary.conflicts:
            click.echo(f"conflict: {conflict}", err=True)
        raise click.exceptions.Exit(EXIT_CONFLICT)


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


# --- scan (issue 12) -------------------------------------------------------------


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

    def show(event: Any) -> None:
        total = f" of {event.tasks_total}" if event.tasks_total else ""
        click.echo(f"\rscanned {event.pages_scanned} pages, {event.tasks_done}{total} partitions", nl=False, err=True)

    show_progress = not quiet and sys.stderr.isatty()
    summary = scan_dump(dump, out, scheduler=scheduler, workers=workers, index=index,
                        today=today.date() if today is not None else None, progress=show if show_progress else None)
    if show_progress:
        click.echo("", err=True)
    click.echo(f"{terminal(summary.output)}: {summary.articles} articles, {summary.claims} claims, "
               f"{summary.references} references, {summary.findings} findings, {summary.urls} urls; "
               f"{summary.redirects} redirects, {summary.bad_pages} bad pages; {summary.partitions} partitions "
               f"on {summary.workers} workers in {summary.seconds:g} s")
