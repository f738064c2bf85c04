"""What a reviewer reads about a wiki: recent changes with their alerts, and each citation's link health.

Both are library calls over the store's public API (the HTTP service and any
other skin show them; none decides what they mean):

* :func:`recent_changes`: the newest revisions across the wiki, each with its
  semantic diff's alerts ("claim lost its only source") and the number of
  static citation problems it introduced (findings of the new revision that
  the old one did not have). The store's wiki-wide log
  (:meth:`~wikicore.store.Wiki.log`) reads only the newest ``limit`` changes,
  so the first answer after a save costs the same in a wiki of any size. A
  change never changes once made, so its summary is cached by commit and slug.
* :func:`reference_health`: each reference's last observation in the link
  database the audit keeps (``.wikicore/checks.sqlite``) and where it stands
  under the dead-link rule. No network: a url never checked is ``unchecked``.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from .audit.static import run_static_checks
from .diff import Alert
from .errors import WikicoreError
from .models import Article

if TYPE_CHECKING:
    from .store import Wiki
    from .store.history import Change as LogChange

__all__ = [
    "Change",
    "ReferenceHealth",
    "article_health",
    "recent_changes",
]

#: Change summaries kept per process (each is a few hundred bytes; a diff of two large articles is not cheap).
_CACHE_SIZE = 4096


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(_Frozen):
    """One revision of one article, as recent changes list it."""

    slug: str
    revision: str
    parent: str | None = Field(default=None, description="The article's previous revision; none when created.")
    author: str
    date: _dt.datetime
    message: str
    alerts: list[Alert] = Field(default_factory=list, description="The diff's alerts, as `diff` reports them.")
    problems_introduced: int = Field(
        default=0, description="Static citation problems of this revision that the previous one did not have.")


class ReferenceHealth(_Frozen):
    """One reference's link health, from the link database only."""

    ref: str
    url: str | None
    status: str = Field(description="The latest verdict (live, dead, ...), `unchecked` or `no-url`.")
    checked_at: _dt.datetime | None = None
    http_status: int | None = None
    failures: int = Field(default=0, description="Failed checks since the last live one.")
    confirmed_dead: bool = False


_lock = threading.Lock()
_summaries: OrderedDict[tuple[str, str], tuple[str | None, list[Alert], int]] = OrderedDict()


def _findings(article: Article | None) -> set[tuple[str, str | None, str | None]]:
    if article is None:
        return set()
    return {(f.code, f.claim_id, f.ref_id) for f in run_static_checks(article)}


def _read(wiki: Wiki, entries: Sequence[LogChange]) -> dict[str, bytes]:
    """The stored text of each blob the changes not yet summarised name, from one ``cat-file`` run.

    A cold /changes at 100,000 revisions spent most of its time in ``cat-file`` round trips
    (about twelve a change: resolving each revision, finding the article's path, reading it).
    """
    with _lock:
        todo = [e for e in entries if (e.slug, e.revision.id) not in _summaries]
    blobs = dict.fromkeys(b for e in todo for b in (e.blob, e.old_blob if e.parent else None) if b is not None)
    if not blobs:
        return {}
    try:
        return dict(wiki.objects.read_many(list(blobs)))
    except WikicoreError:
        return {}  # each change is then read as Wiki.load reads it


def _load(wiki: Wiki, texts: dict[str, bytes], slug: str, revision: str, blob: str | None) -> Article:
    """The article as ``wiki.load(slug, revision)`` gives it, from the text of its blob when it was read."""
    if blob is not None and blob in texts:
        from .store.validate import parse_article

        return parse_article(texts[blob], f"{revision[:12]}:{slug}")
    return wiki.load(slug, revision)


def _summary(wiki: Wiki, entry: LogChange, texts: dict[str, bytes]) -> tuple[str | None, list[Alert], int]:
    slug, revision, parent = entry.slug, entry.revision.id, entry.parent
    key = (slug, revision)
    with _lock:
        if key in _summaries:
            _summaries.move_to_end(key)
            return _summaries[key]
    try:
        # Each side is read and parsed once, for the diff and the findings alike (``Wiki.diff`` read both again).
        new = _load(wiki, texts, slug, revision, entry.blob)
        old = _load(wiki, texts, slug, parent, entry.old_blob) if parent else None
    except WikicoreError:
        value: tuple[str | None, list[Alert], int] = (parent, [], 0)  # renamed away or unreadable: no summary
    else:
        from .diff import diff_articles

        diff = diff_articles(old, new, old_revision=parent, new_revision=revision)
        value = (parent, list(diff.alerts), len(_findings(new) - _findings(old)))
    with _lock:
        _summaries[key] = value
        while len(_summaries) > _CACHE_SIZE:
            _summaries.popitem(last=False)
    return value


def recent_changes(wiki: Wiki, limit: int = 50, since: _dt.datetime | None = None) -> list[Change]:
    """The ``limit`` newest changes across the wiki (after ``since``, if given), newest first."""
    changes = []
    entries = wiki.log(limit, since)
    texts = _read(wiki, entries)
    for entry in entries:
        rev = entry.revision
        _, alerts, problems = _summary(wiki, entry, texts)
        changes.append(Change(slug=entry.slug, revision=rev.id, parent=entry.parent, author=rev.author,
                              date=rev.date, message=rev.message, alerts=alerts, problems_introduced=problems))
    return changes


def article_health(db_path: Path, references: Sequence[tuple[str, str | None]]) -> list[ReferenceHealth]:
    """Link health of ``(ref id, url)`` pairs from the link database at ``db_path`` (never created here)."""
    if not db_path.is_file():
        return [ReferenceHealth(ref=ref, url=url, status="unchecked" if url else "no-url") for ref, url in references]
    from .links.history import LinkDB  # only health needs the database

    out = []
    with LinkDB(db_path) as db:
        for ref, url in references:
            if not url:
                out.append(ReferenceHealth(ref=ref, url=url, status="no-url"))
                continue
            state = db.state(url)
            latest = state.latest
            out.append(ReferenceHealth(
                ref=ref, url=url, status=latest.status if latest else "unchecked",
                checked_at=latest.checked_at if latest else None, http_status=latest.http_status if latest else None,
                failures=state.dead.failures, confirmed_dead=state.dead.confirmed_dead,
            ))
    return out
