"""Exporters render an :class:`~wikicore.models.Article` in another format.

Each exporter is a function ``(article) -> str`` registered in :data:`EXPORTERS`.
``yaml`` and ``json`` are the stored formats (see :mod:`wikicore.serialize`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidInput
from ..models import Article
from ..serialize import dumps

__all__ = ["EXPORTERS", "export", "register"]

Exporter = Callable[[Article], str]

EXPORTERS: dict[str, Exporter] = {
    "yaml": lambda article: dumps(article, "yaml"),
    "json": lambda article: dumps(article, "json"),
}


def register(name: str) -> Callable[[Exporter], Exporter]:
    """Class the decorated function as the exporter for format ``name``."""

    def decorate(func: Exporter) -> Exporter:
        EXPORTERS[name] = func
        return func

    return decorate


def export(article: Article, format: str) -> str:
    """Render ``article`` in ``format`` (a key of :data:`EXPORTERS`)."""
    _load_builtin()
    try:
        exporter = EXPORTERS[format]
    except KeyError:
        raise InvalidInput(f"unknown output format {format!r}; known: {', '.join(sorted(EXPORTERS))}") from None
    return exporter(article)


def _load_builtin() -> None:
    from ..mediawiki import exporter  # noqa: F401
    from . import csl, text  # noqa: F401
