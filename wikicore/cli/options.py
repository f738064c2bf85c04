"""Options and arguments shared by several commands, and the parameter types they parse with.

One definition per option, so that `-o`, `--format`, `--author` or `--wayback-url`
mean the same thing, with the same help, wherever they appear. Commands stack
these like any click decorator. Options that travel together arrive as one
record (:class:`ArchiveOptions`, :class:`NetworkOptions`) rather than as a
command's tenth to twentieth parameter.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from ..net import CheckConfig

__all__ = [
    "AUTHOR_HELP",
    "INPUT_FORMATS",
    "ArchiveOptions",
    "NetworkOptions",
    "Seconds",
    "archive_options",
    "commit_options",
    "format_option",
    "import_options",
    "is_path",
    "network_options",
    "output_option",
    "quiet_option",
    "slug_argument",
    "slug_or_file_argument",
]

F = TypeVar("F", bound=Callable[..., Any])

AUTHOR_HELP = ("Commit author as 'Name <mail>' [default: $WIKICORE_AUTHOR, else git's $GIT_AUTHOR_NAME/EMAIL or "
               "`git config --global user.name/user.email`, else 'wikicore <wikicore@localhost>'].")
INPUT_FORMATS = ["text", "wikitext", "yaml", "json"]


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Apply ``decorators`` as if written one above the other, first on top."""

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


def _packed(name: str, record: type[Any], *decorators: Callable[[F], F]) -> Callable[[F], F]:
    """``decorators`` (options named like ``record``'s fields), handed to the command as one ``record`` ``name``."""
    names = [f.name for f in fields(record)]

    def apply(function: F) -> F:
        @functools.wraps(function)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = record(**{field: kwargs.pop(field) for field in names})
            return function(*args, **kwargs)

        return _stack(*decorators)(cast(F, command))

    return apply


class Seconds(click.ParamType[float, Any]):
    """A finite number of seconds (``0.25``, ``250ms``, ``2s``); NaN, infinity and negatives are bad input.

    A NaN or infinite timeout would make every deadline comparison false, and the
    verdicts it produced would be cached for a day.
    """

    name = "seconds"

    def __init__(self, *, zero: bool) -> None:
        self.zero = zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        text = str(value).strip().lower()
        scale = 1.0
        if text.endswith("ms"):
            text, scale = text[:-2], 0.001
        elif text.endswith("s"):
            text = text[:-1]
        try:
            seconds = float(text) * scale
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a number of seconds", ctx=ctx, param=param) from None
        if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not self.zero):
            bound = "0 or more" if self.zero else "more than 0"
            raise click.BadParameter(f"{value!r}: give a finite number of seconds, {bound}", ctx=ctx, param=param)
        return seconds


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


def quiet_option(help: str = "No progress or summary on stderr.") -> Callable[[F], F]:
    """``-q/--quiet``."""
    return click.option("-q", "--quiet", is_flag=True, help=help)


@dataclass(frozen=True)
class ArchiveOptions:
    """``--wayback-url``, ``--archive`` and ``--archive-rate``: which archives to ask, and how fast."""

    wayback_url: str | None
    archives: tuple[str, ...]
    archive_rate: float | None

    def open(self, *, audit: bool, save_path: str | None = None, timeout: float | None = None) -> Any:
        """The archives to ask: the Wayback root (--wayback-url, else the Internet Archive), then each --archive.

        A bad root is :class:`~wikicore.errors.InvalidInput` (exit 2) before any work.
        """
        from ..archive import DEFAULT_BASE_URL, open_archives

        roots = [(self.wayback_url or "").strip() or DEFAULT_BASE_URL, *self.archives]
        return open_archives(
            roots,
            audit=audit,
            rate=self.archive_rate,
            save_path=save_path,
            timeout=(min(5.0, timeout), min(30.0, timeout)) if timeout is not None else None,
            deadline=timeout,
        )


archive_options = _packed(
    "archive",
    ArchiveOptions,
    click.option(
        "--wayback-url", envvar="WIKICORE_WAYBACK_URL", metavar="URL",
        help="Root of a Wayback-compatible archive [default: $WIKICORE_WAYBACK_URL, else the Internet Archive].",
    ),
    click.option(
        "--archive", "archives", multiple=True, metavar="URL",
        help="Root of one more archive to ask (pywb, any Wayback or Memento archive); repeatable.",
    ),
    click.option(
        "--archive-rate", type=click.FloatRange(min=0), metavar="N",
        help="Lookups a second at each --archive (0: no limit) [default: 5; the Internet Archive's stay at 0.4].",
    ),
)


@dataclass(frozen=True)
class NetworkOptions:
    """How the link checker behaves: address policy, timeout, politeness (lychee's option names), per-host file."""

    allow_private: bool
    timeout: float | None
    concurrency: int | None
    host_concurrency: int | None
    host_request_interval: float | None
    host_config: Path | None

    def config(self) -> CheckConfig:
        """The library's :class:`~wikicore.net.CheckConfig` for these options, --host-config's overrides included."""
        from ..net import CheckConfig

        return CheckConfig.from_options(
            allow_private=self.allow_private,
            concurrency=self.concurrency,
            per_host=self.host_concurrency,
            host_interval=self.host_request_interval,
            timeout=self.timeout,
            host_config=self.host_config,
        )


network_options = _packed(
    "network",
    NetworkOptions,
    click.option(
        "--allow-private", is_flag=True,
        help="Check loopback and private addresses too (never link-local ones such as 169.254.169.254).",
    ),
    click.option("--timeout", type=Seconds(zero=False), metavar="S",
                 help="Total seconds per URL (a finite number above 0)."),
    click.option("--max-concurrency", "--concurrency", "concurrency", type=click.IntRange(min=1), metavar="N",
                 help="Requests in flight at most, over all hosts [default: 32]."),
    click.option("--host-concurrency", type=click.IntRange(min=1), metavar="N",
                 help="Requests in flight at most to one host [default: 2; lychee's is 10]."),
    click.option("--host-request-interval", type=Seconds(zero=True), metavar="SECONDS",
                 help="Seconds between two requests to one host, e.g. 0.25 or 50ms [default: 0.25; lychee: 50ms]."),
    click.option(
        "--host-config", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
        help='Per-host politeness overrides (TOML: [hosts."example.org"] concurrency = 1, interval = 2.0).',
    ),
)


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


def slug_or_file_argument(name: str, metavar: str, **kwargs: Any) -> Callable[[F], F]:
    """A FILE_OR_SLUG argument: Tab completes the wiki's slugs and the shell's files."""
    return click.argument(name, metavar=metavar, shell_complete=_complete_slugs_or_files, **kwargs)


def is_path(target: str) -> bool:
    """Whether a FILE_OR_SLUG argument names a file (slugs never hold a separator or a suffix)."""
    path = Path(target)
    return path.is_file() or os.sep in target or path.suffix in {".yaml", ".yml", ".json"}
