"""The ``wikicore`` command line: parse options, call one library function, render, exit.

Exit statuses (the contract other tools are written against):

====  =========================================================
0     clean: nothing found at or above the failure threshold
1     problems found (audit findings)
2     bad input or usage: a file, field, slug, revision or URL
3     edit conflict: the article changed since the base revision
4     internal error (a bug: rerun with ``--debug`` and report it)
====  =========================================================

Library errors become one line on stderr here and nowhere else; click is
imported by this module alone.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import __version__
from .errors import EditConflict, InvalidArticle, InvalidInput, NotFound, WikicoreError
from .exporters import export
from .importers import detect_format, import_path
from .models import Article
from .schema import write_schemas
from .serialize import dumps, load_path

if TYPE_CHECKING:
    from .store import Wiki

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2
EXIT_CONFLICT = 3
EXIT_INTERNAL = 4

#: Where each library error class sends the process.
EXIT_CODES: dict[type[BaseException], int] = {
    EditConflict: EXIT_CONFLICT,
    InvalidInput: EXIT_INPUT,
    NotFound: EXIT_INPUT,
    WikicoreError: EXIT_INPUT,
}

INPUT_FORMATS = ["text", "wikitext", "yaml", "json"]


@dataclass
class Env:
    """What every command may need: where the wiki is, and whether to show tracebacks."""

    wiki_path: Path
    debug: bool

    def wiki(self) -> Wiki:
        """Open the wiki at ``--wiki`` (imported lazily: file-only commands do not need git)."""
        from .store import Wiki

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
                click.echo(f"error: {line}", err=True)
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
                    f"error: internal error: {type(error).__name__}: {error} (rerun with --debug for details)",
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
    3 edit conflict, 4 internal error.
    """
    ctx.obj = Env(wiki_path=wiki_path, debug=debug)


def _write(text: str, out: str | None) -> None:
    """Write to stdout (``None`` or ``-``) or atomically to a file."""
    if out in (None, "-"):
        click.echo(text, nl=False)
        return
    from .serialize import write_atomic

    target = Path(out)
    if not target.parent.is_dir():
        raise InvalidInput(f"{out}: directory {target.parent} does not exist")
    write_atomic(target, text)


def _load_any(target: str, env: Env, rev: str | None = None) -> Article:
    """An article from a file path, or else a slug in the wiki."""
    path = Path(target)
    if rev is None and (path.is_file() or os.sep in target or path.suffix in {".yaml", ".yml", ".json"}):
        return load_path(path)
    article: Article = env.wiki().load(target, rev=rev)
    return article


# --- file commands (no wiki needed) --------------------------------------------


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "from_", type=click.Choice(INPUT_FORMATS), help="Input format [default: from the suffix].")
@click.option(
    "--to", "to", default="yaml", show_default=True,
    type=click.Choice(["yaml", "json", "wikitext", "csl-json", "text"]), help="Output format.",
)
@click.option("--slug", help="Slug of the article [default: made from its title].")
@click.option("-o", "--output", "output", default="-", show_default=True, help="Output file, '-' for stdout.")
def convert(file: Path, from_: str | None, to: str, slug: str | None, output: str) -> None:
    """Import or convert FILE without a wiki.

    \b
    Example:
        wikicore convert seed.txt --from text --to json
        wikicore convert article.yaml --to wikitext -o article.wiki
    """
    article = import_path(file, from_ or detect_format(file), slug=slug)
    _write(export(article, to), output)
    for warning in article.source.warnings if article.source else []:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check that article FILES (YAML or JSON) are valid; print one line per problem.

    \b
    Example:
        wikicore validate articles/*.yaml
    """
    failed = False
    for file in files:
        try:
            load_path(file)
        except InvalidArticle as error:
            failed = True
            for line in error.lines():
                click.echo(f"error: {line}", err=True)
        else:
            click.echo(f"{file}: ok")
    if failed:
        raise click.exceptions.Exit(EXIT_INPUT)


@main.command()
@click.argument("target")
@click.option("--rev", help="Revision of a wiki article (a commit id, HEAD or HEAD~N).")
@click.option("--format", "fmt", default="yaml", show_default=True, type=click.Choice(["yaml", "json", "text"]))
@click.pass_obj
def show(env: Env, target: str, rev: str | None, fmt: str) -> None:
    """Show an article: TARGET is a file, or a slug in the wiki.

    \b
    Example:
        wikicore show articles/azerbaijan-russia-relations.yaml --format text
        wikicore --wiki mywiki show azerbaijan-russia-relations --rev HEAD~1
    """
    article = _load_any(target, env, rev)
    click.echo(export(article, fmt) if fmt == "text" else dumps(article, fmt), nl=False)  # type: ignore[arg-type]


@main.command()
@click.option("--out", "out", default="schemas", show_default=True, type=click.Path(file_okay=False, path_type=Path))
def schema(out: Path) -> None:
    """Write the JSON Schemas of the stored formats to a directory.

    \b
    Example:
        wikicore schema --out schemas
    """
    for path in write_schemas(out):
        click.echo(str(path))


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """Print one error line and exit: for checks done in the CLI itself."""
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


# Commands of the wiki, audit and wikitext issues are registered below this line.
