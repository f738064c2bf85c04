"""Web archives: the :class:`Archive` protocol, a client per archive root, the lookup cache and rescue.

One job a module:

* :mod:`~wikicore.archive.records` - the :class:`Archive` protocol and the
  frozen :class:`Snapshot` / :class:`SnapshotQuery` records;
* :mod:`~wikicore.archive.formats` - parsers of what archives answer (CDX in
  four formats, Link headers and TimeMaps, availability records), no I/O;
* :mod:`~wikicore.archive.transport` - the one HTTP seam (timeouts, deadline,
  byte cap, retries, ``Retry-After``; mementos are answers, not errors);
* :mod:`~wikicore.archive.gate` - politeness per archive host;
* :mod:`~wikicore.archive.endpoints` - where an archive's endpoints are and what it offers;
* :mod:`~wikicore.archive.wayback` - :class:`WaybackArchive`, one client per
  root that discovers what the root offers (availability API, CDX, Memento)
  and remembers it;
* :mod:`~wikicore.archive.several` - :class:`ArchiveSet`, several archives as one;
* :mod:`~wikicore.archive.cache` - the TTL cache in the link history's SQLite file;
* :mod:`~wikicore.archive.rescue` - filling references' archive links, as IABot does.

:func:`open_archives` builds what the CLI and library callers usually want from
a list of roots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..urls import parse_archive_url
from .cache import ArchiveCache, CachedArchive
from .endpoints import (
    DEFAULT_BASE_URL,
    ENV_WAYBACK_URL,
    Endpoints,
    Offers,
    is_internet_archive,
    offers_of,
    wayback_base_from_env,
)
from .formats import CdxRow, Link, parse_availability, parse_cdx, parse_cdx_lines, parse_links
from .gate import CDX_REQUESTS_PER_SECOND, MAX_RETRY_AFTER, ArchiveGate, shared_gate
from .records import Archive, Snapshot, SnapshotQuery
from .rescue import RescueAction, RescueChange, RescueResult, link_health, reference_date, rescue_article
from .several import ArchiveSet, choose_nearest
from .transport import DEFAULT_RETRY_AFTER, Answer, AnswerTooLarge, Transport, parse_retry_after
from .wayback import BATCH_SIZE, MAX_CDX_LOOKUPS, MAX_REDIRECTS, WaybackArchive

__all__ = [
    "BATCH_SIZE",
    "CDX_REQUESTS_PER_SECOND",
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRY_AFTER",
    "ENV_WAYBACK_URL",
    "MAX_CDX_LOOKUPS",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER",
    "Answer",
    "AnswerTooLarge",
    "Archive",
    "ArchiveCache",
    "ArchiveGate",
    "ArchiveSet",
    "CachedArchive",
    "CdxRow",
    "Endpoints",
    "Link",
    "Offers",
    "RescueAction",
    "RescueChange",
    "RescueResult",
    "Snapshot",
    "SnapshotQuery",
    "Transport",
    "WaybackArchive",
    "choose_nearest",
    "is_internet_archive",
    "link_health",
    "offers_of",
    "open_archives",
    "parse_archive_url",
    "parse_availability",
    "parse_cdx",
    "parse_cdx_lines",
    "parse_links",
    "parse_retry_after",
    "reference_date",
    "rescue_article",
    "shared_gate",
    "wayback_base_from_env",
]

#: The Internet Archive's budget for an audit's archive lookups: requests per reference.
AUDIT_REQUEST_BUDGET = 0.02


def open_archives(
    roots: Sequence[str],
    *,
    audit: bool = False,
    rate: float | None = None,
    save_path: str | None = None,
    timeout: tuple[float, float] | None = None,
    deadline: float | None = None,
    concurrency: int | None = None,
    options: Mapping[str, object] | None = None,
) -> WaybackArchive | ArchiveSet:
    """One client per root (the Internet Archive's root as ``https://web.archive.org``), as one archive.

    ``audit`` bounds the CDX widening of availability misses by
    :data:`AUDIT_REQUEST_BUDGET` requests per reference; ``rate`` (requests a second) replaces
    the CDX and Memento rate of archives other than the Internet Archive (0: no
    limit) and ``concurrency`` how many of their lookups run at once;
    ``save_path`` is their capture route (pywb: ``web/record/``); ``timeout`` and
    ``deadline`` bound every request. Bad roots raise
    :class:`~wikicore.errors.InvalidInput` before any request.
    """
    clients: list[WaybackArchive] = []
    for root in dict.fromkeys(r.strip().rstrip("/") for r in roots if r.strip()):
        internet_archive = is_internet_archive(root)
        kwargs: dict[str, object] = dict(options or {})
        if timeout is not None:
            kwargs["timeout"] = timeout
        if deadline is not None:
            kwargs["deadline"] = deadline
        if audit:
            # Where an availability API answers in batches, CDX only widens its misses
            # within the budget; without one (pywb), CDX is the lookup and the rate bounds it.
            kwargs["request_budget"] = AUDIT_REQUEST_BUDGET
        if not internet_archive:
            if rate is not None:
                kwargs["rates"] = {"cdx": rate, "web": rate}
            if concurrency is not None:
                kwargs["concurrency"] = concurrency
            if save_path is not None:
                kwargs["save_path"] = save_path
        clients.append(WaybackArchive(root, **kwargs))  # type: ignore[arg-type]
    if not clients:
        clients.append(WaybackArchive(DEFAULT_BASE_URL))
    return clients[0] if len(clients) == 1 else ArchiveSet(clients)
