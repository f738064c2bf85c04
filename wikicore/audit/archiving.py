"""Archive one wiki article's links as one revision: load, ask the link history, rescue, save.

The steps used to live in the CLI's ``archive`` command, so only the command
line could archive an article; here they are one library call that the CLI,
the server or a script make alike. It never prints: progress and the rescue's
findings reach the caller through callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..archive.rescue import RescueProgress, RescueResult, link_evidence, rescue_article
from ..errors import NotFound
from ..net import CheckConfig
from .quotes import fingerprint_captures

if TYPE_CHECKING:
    from ..archive.records import Archive
    from ..revision import Revision
    from ..store import Wiki

__all__ = ["ArchiveOutcome", "archive_article"]


@dataclass(frozen=True)
class ArchiveOutcome:
    """What :func:`archive_article` did: the rescue, and the revision saved (``None``: nothing to save)."""

    rescue: RescueResult
    revision: Revision | None = None


def archive_article(
    wiki: Wiki,
    slug: str,
    archive: Archive,
    *,
    save_missing: bool = False,
    message: str | None = None,
    author: str | None = None,
    progress: RescueProgress | None = None,
    on_rescued: Callable[[RescueResult], None] | None = None,
    config: CheckConfig | None = None,
) -> ArchiveOutcome:
    """Link archived copies into the latest revision of ``slug`` and save them as one revision.

    ``url_status`` is set only from what the wiki's link history knows (the
    audit's SQLite file): live for links last seen live, dead for links
    confirmed dead, never live for links whose latest check failed (and
    those are not saved either); see :func:`~wikicore.archive.rescue.rescue_article` for the
    rest of the rules and for ``save_missing`` and ``progress``.

    ``on_rescued`` is called with the rescue before anything is saved, so a
    caller can show what was found even when the save then fails (an edit
    conflict: the article changed meanwhile, and the latest revision read here
    is the base, so nothing is overwritten). Nothing found, nothing saved.
    The captures written back are fingerprinted into the link history (read
    through ``config``'s network rules) for later audits' drift checks.
    Raises :class:`~wikicore.errors.NotFound` for an article the wiki lacks.
    """
    latest = wiki.latest(slug)
    if latest is None:
        raise NotFound(f"no article {slug!r} in the wiki")
    article = wiki.load(slug, rev=latest.id)
    evidence = link_evidence(wiki.checks_path, [r.url for r in article.references if r.url])
    result = rescue_article(
        article, archive, save_missing=save_missing, live_urls=set(evidence.live), dead_urls=set(evidence.dead),
        failing_urls=set(evidence.failing), progress=progress,
    )
    if on_rescued is not None:
        on_rescued(result)
    if not result.changes:
        return ArchiveOutcome(result)
    revision = wiki.save(result.article, result.message(message), author=author, base=latest.id)
    fingerprint_captures(wiki.checks_path, [(c.url, c.archive_url) for c in result.changes], config)
    return ArchiveOutcome(result, revision)
