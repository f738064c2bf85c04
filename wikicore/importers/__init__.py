"""Importers turn foreign formats into :class:`~wikicore.models.Article` objects.

Each importer is a function ``(text, *, slug=None, file_name=None) -> Article``
registered in :data:`IMPORTERS` under its format name. Importers never invent
data: what they could not determine goes into ``article.source.warnings``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..errors import ImportFailed, InvalidArticle, Problem
from ..models import Article
from ..serialize import article_from_data, loads, read_text

__all__ = ["IMPORTERS", "SUFFIXES", "Importer", "detect_format", "import_path", "import_text", "register",
           "split_warnings"]


class Importer(Protocol):
    """What an importer provides: text in, one validated article out."""

    def __call__(self, text: str, *, slug: str | None = None, file_name: str | None = None) -> Article: ...


IMPORTERS: dict[str, Importer] = {}


def register(name: str) -> Callable[[Importer], Importer]:
    """Class the decorated function as the importer for format ``name``."""

    def decorate(func: Importer) -> Importer:
        IMPORTERS[name] = func
        return func

    return decorate


def _stored(fmt: str) -> Importer:
    def load(text: str, *, slug: str | None = None, file_name: str | None = None) -> Article:
        article = loads(text, "json" if fmt == "json" else "yaml", source=file_name)
        if slug is not None and slug != article.slug:
            # Revalidated through the same path as a file, so a bad slug is one located line.
            article = article_from_data({**article.model_dump(), "slug": slug}, source=file_name)
        return article

    return load


IMPORTERS["yaml"] = _stored("yaml")
IMPORTERS["json"] = _stored("json")

_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".txt": "text", ".wiki": "wikitext",
             ".wikitext": "wikitext", ".mediawiki": "wikitext"}

#: The file name suffixes an import recognises (what a directory import picks up).
SUFFIXES = tuple(_SUFFIXES)


def detect_format(path: str | os.PathLike[str]) -> str:
    """Guess an input format from a file name; ``text`` when nothing else fits."""
    return _SUFFIXES.get(Path(path).suffix.lower(), "text")


def import_text(text: str, format: str, *, slug: str | None = None, file_name: str | None = None) -> Article:
    """Import ``text`` written in ``format`` (a key of :data:`IMPORTERS`)."""
    if format not in IMPORTERS:  # YAML and JSON need no parser of wikitext (mwparserfromhell: ~0.1 s to import)
        _load_builtin()
    try:
        importer = IMPORTERS[format]
    except KeyError:
        raise ImportFailed(f"unknown input format {format!r}; known: {', '.join(sorted(IMPORTERS))}") from None
    return importer(text, slug=slug, file_name=file_name)


def import_path(path: str | os.PathLike[str], format: str | None = None, *, slug: str | None = None) -> Article:
    """Import a file; the format defaults to what its suffix says."""
    path = Path(path)
    fmt = format or detect_format(path)
    try:
        text = read_text(path)
    except OSError as exc:
        raise InvalidArticle([Problem(exc.strerror or str(exc))], str(path)) from None
    return import_text(text, fmt, slug=slug, file_name=str(path))


def _load_builtin() -> None:
    # Imported lazily so that `import wikicore` stays fast and the optional parsers
    # (mwparserfromhell) load only when their format is used.
    from ..mediawiki import importer  # noqa: F401
    from . import text  # noqa: F401


def split_warnings(article: Article) -> tuple[Article, list[str]]:
    """The article without ``source.warnings``, and those warnings.

    Warnings describe an import (what the input lacked), not the article: an
    import into a wiki keeps them in its commit message, where they stay true,
    instead of in the article, where every later audit and conversion would
    repeat them long after they were resolved.
    """
    if article.source is None or not article.source.warnings:
        return article, []
    source = article.source.model_copy(update={"warnings": []})
    return article.model_copy(update={"source": source}), list(article.source.warnings)
