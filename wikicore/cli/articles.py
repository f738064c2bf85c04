"""Commands on article files, with or without a wiki: ``convert``, ``validate``, ``show``, ``schema``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InvalidArticle, NotFound
from ..report.base import terminal, terminal_text
from . import EXIT_INPUT, Env, main
from .console import warn, write
from .options import format_option, import_options, is_path, output_option, slug_or_file_argument

if TYPE_CHECKING:
    from ..models import Article
    from ..store import Wiki


def load_revision(wiki: Wiki, slug: str, rev: str | None) -> tuple[Article, str]:
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
    # Like `show`: exact characters into a pipe or a file, escaped on a terminal, which would obey them.
    write(terminal_text(text) if is_stdout(output) and sys.stdout.isatty() else text, output)
    if fmt not in ("yaml", "json"):
        # Warnings describe this import; an article file's own `source.warnings` are its content.
        for warning in article.source.warnings if article.source else []:
            warn(warning)


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
                warn(line, "error")
        else:
            click.echo(f"{terminal(file)}: ok")
    if failed:
        raise click.exceptions.Exit(EXIT_INPUT)


@main.command()
@slug_or_file_argument("target", "FILE_OR_SLUG")
@click.option("--rev", help="Revision of a wiki article: latest, latest~N (its Nth revision before the latest), "
              "a commit id, HEAD or HEAD~N (commits of the whole wiki).")
@format_option(["yaml", "json", "text"], "yaml")
@click.pass_obj
def show(env: Env, target: str, rev: str | None, fmt: str) -> None:
    """Show an article: FILE_OR_SLUG is a file, or a slug in the wiki.

    YAML and JSON from the wiki record the revision shown as a top-level
    `revision:` key, which `wikicore save` takes as the base of the edit.

    \b
    Example:
        wikicore show articles/azerbaijan-russia-relations.yaml --format text
        wikicore --wiki mywiki show azerbaijan-russia-relations --rev latest~1
        wikicore show my-article > my-article.yaml   # edit, then: wikicore save my-article.yaml
    """
    from ..exporters import export
    from ..serialize import dumps

    if rev is None and is_path(target):
        from ..serialize import load_path

        article = load_path(Path(target))
        revision = article.revision
    else:
        article, revision = load_revision(env.wiki(), target, rev)
    text = export(article, "text") if fmt == "text" else dumps(article, fmt, revision=revision)  # type: ignore[arg-type]
    # Text is for reading: always escaped. YAML and JSON are data: exact bytes into a pipe or file,
    # escaped only when a terminal would otherwise obey what they hold (an ESC in a title retitles the window).
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
