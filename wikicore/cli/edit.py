"""Commands that make and change the wiki: ``init``, ``import``, ``save``, ``mv``, and ``list`` to see it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from ..errors import EditConflict
from ..report.base import terminal
from . import EXIT_CONFLICT, Env, fail, main
from .console import warn
from .options import commit_options, import_options, slug_argument

if TYPE_CHECKING:
    from ..models import Article


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

    existed = Wiki.is_wiki(env.wiki_path)
    wiki = Wiki.init(env.wiki_path, adopt=adopt)
    click.echo(f"{wiki.path} is already a wiki; nothing to do" if existed else f"initialised wiki at {wiki.path}")


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
    wiki = env.wiki()
    latest = wiki.latest(article.slug)
    if latest is not None:
        # Nothing is imported: the warnings about an import were said when it happened.
        if wiki.load_text(article.slug, latest.id) == dumps(article):
            click.echo(f"no change: {article.slug} is at {latest.id}")
            return
        _exists(article.slug, latest.id)
    for warning in warnings:
        warn(warning)
    text = _with_warnings(message or f"Import {file.name}", warnings)
    try:
        revision = wiki.save(article, text, author=author, base=None)
    except EditConflict as conflict:  # created by someone else since we looked
        _exists(article.slug, conflict.current)
    click.echo(f"{article.slug} {revision.id}")


def _import_many(env: Env, files: tuple[Path, ...], from_: str | None, slug: str | None, message: str | None,
                 author: str | None) -> None:
    """`import` of several files or a directory: one commit, all or nothing (the store's bulk import)."""
    from ..importers import SUFFIXES, split_warnings
    from ..importers.batch import find_sources, import_paths

    if slug is not None:
        raise click.UsageError("--slug names one article: give one FILE")
    sources = find_sources(files, SUFFIXES)
    for skipped in sources.skipped:
        warn(f"skipped {skipped}")
    paths = list(sources.paths)
    articles: list[Article] = []
    warnings: list[str] = []
    for path, imported in zip(paths, import_paths(paths, from_), strict=True):
        article, found = split_warnings(imported)
        articles.append(article)
        warnings.extend(f"{path}: {warning}" for warning in found)
    for warning in warnings:
        warn(warning)
    text = _with_warnings(message or f"Import {len(articles)} articles", warnings)
    result = env.wiki().import_articles(articles, text, author=author, sources=[str(p) for p in paths])
    click.echo("".join(f"{name} {result.commit}\n" for name in result.slugs), nl=False)


def _with_warnings(message: str, warnings: list[str]) -> str:
    """The commit message, with the importers' warnings as its last paragraph: true of the import, not the article."""
    if not warnings:
        return message
    return message.rstrip("\n") + "\n\nImport warnings:\n" + "".join(f"- {w}\n" for w in warnings)


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
@click.option("--merge", is_flag=True,
              help="If the article changed since the base, merge the two edits claim by claim and save the result; "
              "exit 3 only where both edits changed the same claim, reference or section.")
@click.option("--update/--no-update", default=True, show_default=True,
              help="Record the new revision in FILE (its `revision:`, every other byte kept), "
              "so the next save of FILE needs no --base.")
@commit_options("'Edit SLUG'")
@click.pass_obj
def save(env: Env, file: Path, base: str | None, merge: bool, update: bool, message: str | None,
         author: str | None) -> None:
    """Save an edited article FILE (YAML or JSON) as a new revision; print its slug and revision.

    The base of the edit is --base, else the `revision:` that `wikicore show`
    recorded in FILE. If the article changed since its base, nothing is saved
    and the command exits with status 3 naming both revisions: diff them,
    merge, and save again with the newer base. With no base at all the article
    must be new. A save that changes nothing prints `no change` and makes no
    revision. With --merge, an edit that touched other claims, references or
    sections than the edit made since its base is merged with it and saved.
    After a save FILE records the new revision (one `note:` line says so), so
    save, edit, save again works without --base; --no-update leaves FILE as it was.

    \b
    Example:
        wikicore show my-article > my-article.yaml   # records `revision: <id>`
        wikicore save my-article.yaml -m "Source the population figure"
        wikicore save my-article.yaml -m "And its date"   # FILE moved on: no --base needed
        wikicore save other.yaml --base 1a2b3c4d     # an explicit base wins
        wikicore save my-article.yaml --merge        # someone saved meanwhile: merge, don't refuse
    """
    from ..serialize import dumps, format_for_path, loads, read_text

    text = read_text(file)
    article = loads(text, format_for_path(file), source=str(file))
    wiki = env.wiki()
    before = wiki.latest(article.slug)
    if before is not None and wiki.load_text(article.slug, before.id) == dumps(article):
        # Saving what the wiki already has is no edit, whatever base the file names (saving twice is no conflict).
        click.echo(f"no change: {article.slug} is at {before.id}")
        if update:
            _record(file, text, article.revision, before.id)
        return
    revision = wiki.save(
        article, message or f"Edit {article.slug}", author=author, base=base if base is not None else article.revision,
        merge=merge,
    )
    if before is not None and revision.id == before.id:
        click.echo(f"no change: {article.slug} is at {revision.id}")
        return
    click.echo(f"{article.slug} {revision.id}")
    if not update:
        return
    if merge and wiki.load_text(article.slug, revision.id) != dumps(article):
        # FILE lacks the other edit: recording the merge as its base would undo that edit at the next save.
        warn(f"{file}: not updated: {revision.id} merged another edit into yours; "
             f"`wikicore show {article.slug} > {file}` to continue from it", prefix="note")
        return
    _record(file, text, article.revision, revision.id)


def _record(file: Path, text: str, old: str | None, new: str) -> None:
    """Move FILE's recorded base to ``new`` through the safe writer; one `note:` line says what happened."""
    from ..output import write_file
    from ..serialize import format_for_path, read_text, record_revision

    if old == new:
        return
    updated = record_revision(text, new, format_for_path(file))
    # A file changed since we read it (an editor saved meanwhile) is the user's: leave it.
    if updated is None or read_text(file) != text:
        warn(f"{file}: not updated; save its next edit with --base {new}", prefix="note")
        return
    write_file(file, updated)
    warn(f"{file}: recorded revision {new}" + (f" (was {old})" if old else ""), prefix="note")


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
