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
imported by this package alone. This module holds the group, the exit codes and
the error mapping; the commands live one family a module (``articles``, ``edit``,
``review``, ``audit``, ``archive``, ``dumps``), shared options in ``options`` and
everything written to the terminal in ``console``.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

# Only click, the standard library and the exception tree load at start: every other import is made
# inside the command that needs it, so `--help`, `--version` and Tab completion start in a fraction
# of the 1.25 s that importing pydantic, GitPython and requests up front cost (measured; the budget is 0.3 s).
from .. import __version__
from ..errors import (
    EditConflict,
    InvalidArticle,
    InvalidInput,
    NetworkError,
    NotFound,
    WikiBusy,
    WikicoreError,
    WriteConflict,
)
from ..report.base import terminal

if TYPE_CHECKING:
    from ..store import Wiki

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2
EXIT_CONFLICT = 3
EXIT_INTERNAL = 4
EXIT_NETWORK = 5
#: Another writer held the wiki for longer than we wait: nothing was wrong with the input, so try again.
EXIT_BUSY = 6

#: Where each library error class sends the process.
EXIT_CODES: dict[type[BaseException], int] = {
    EditConflict: EXIT_CONFLICT,
    WriteConflict: EXIT_CONFLICT,
    WikiBusy: EXIT_BUSY,
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
    opened: list[Wiki] = field(default_factory=list)

    def wiki(self) -> Wiki:
        """Open the wiki at ``--wiki`` (imported lazily: file-only commands do not need git)."""
        from ..store import Wiki

        wiki = Wiki.open(self.wiki_path)
        self.opened.append(wiki)
        return wiki

    def notes(self) -> list[str]:
        """What the wikis opened by the command repaired on the way (a damaged cache rebuilt, say)."""
        return [note for wiki in self.opened for note in wiki.notes]


def _exit_code(error: BaseException) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_INTERNAL


class _Group(click.Group):
    """Turns library errors into one line each and a documented exit status; passes on the store's notes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        finally:
            env = ctx.find_object(Env)
            for note in env.notes() if env else []:
                click.echo(f"note: {terminal(note)}", err=True)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as error:
            # `wikicore init --wiki DIR`: the group's options go before the command, which click does not say.
            if error.option_name in _GROUP_OPTIONS:
                value = " DIR" if error.option_name == "--wiki" else ""
                hint = (f"{error.format_message()} {error.option_name} goes before the command: "
                        f"`wikicore {error.option_name}{value} {ctx.invoked_subcommand or 'COMMAND'} ...`")
                raise click.UsageError(hint, error.ctx) from None
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except WikicoreError as error:
            if _debug(ctx):
                traceback.print_exc()
            lines = error.lines() if isinstance(error, InvalidArticle) else str(error).splitlines()
            if isinstance(error, EditConflict) and lines:
                lines[-1] += _resolve_hint(ctx, error)
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


#: Options of the group itself, which a user may write after the command by habit.
_GROUP_OPTIONS = frozenset({"--wiki", "--debug", "--version"})


def _resolve_hint(ctx: click.Context, conflict: EditConflict) -> str:
    """The commands that resolve an edit conflict, to end its line: what a reader does next is the point."""
    if conflict.base is None or conflict.current is None:
        return ""
    import shlex

    env = ctx.find_object(Env)
    given = ctx.get_parameter_source("wiki_path") == click.core.ParameterSource.COMMANDLINE
    wiki = f"--wiki {shlex.quote(str(env.wiki_path))} " if env is not None and given else ""
    slug = shlex.quote(conflict.slug)
    return (f"; see the other edit: `wikicore {wiki}diff {slug} {conflict.base[:12]} {conflict.current[:12]}`, "
            f"or start again from it: `wikicore {wiki}show {slug}`")


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
    3 edit conflict, 4 internal error, 5 network failure, 6 wiki busy,
    130 interrupted.

    Tab completion (slugs included): see the README's "Shell completion".
    """
    ctx.obj = Env(wiki_path=wiki_path, debug=debug)


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """Print one error line and exit: for checks done in the CLI itself."""
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


# The command families register themselves on `main` when imported; they import `main`, the exit codes and
# `fail` from here, so they come last.
from . import archive, articles, audit, dumps, edit, review, serve  # noqa: E402

__all__ = [
    "EXIT_BUSY",
    "EXIT_CODES",
    "EXIT_CONFLICT",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "Env",
    "archive",
    "articles",
    "audit",
    "dumps",
    "edit",
    "fail",
    "main",
    "review",
    "serve",
]
