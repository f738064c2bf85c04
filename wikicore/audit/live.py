"""The audit's live phases: the link checks, and the archive lookups that run beside them.

Both ask the network, both keep their answers in the same SQLite history, and
both report progress through the run's callback (from two threads at once).
Each phase keeps only small result records; turning them into verdicts is
:mod:`wikicore.audit.verdicts`' job.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..archive import (
    DEFAULT_BASE_URL,
    Archive,
    ArchiveCache,
    CachedArchive,
    Snapshot,
    SnapshotQuery,
    open_archives,
    parse_archive_url,
    wayback_base_from_env,
)
from ..errors import NetworkError
from ..links.checker import LinkResult, PageSink, check_urls
from ..links.history import LinkDB
from ..links.offline import OFFLINE, run_offline
from .options import AuditEvent, AuditOptions, AuditPhase, Progress
from .static import normalise_url

__all__ = ["OFFLINE", "ArchiveAnswers", "base_for", "check_links", "look_up_archives", "network_down"]


def check_links(
    urls: list[str],
    options: AuditOptions,
    db: LinkDB | None,
    emit: Progress,
    found: Callable[[LinkResult], None] | None = None,
    pages: PageSink | None = None,
) -> tuple[dict[str, LinkResult], int]:
    """Stream the distinct urls through the checker; keep only the small result records.

    ``found`` is handed each verdict as it arrives (the source-text phase starts its url's work then);
    ``pages`` takes the bodies of the pages it wants from their link checks' GETs, before their verdicts.

    Returns the results by url and how many damaged rows of the history were
    skipped. In a run where no host answered at all (:func:`network_down`), the
    failures are this machine's, not the sites': they become ``unchecked``
    (the checker recorded none of them) and the audit exits 5.
    """
    results: dict[str, LinkResult] = {}
    if not urls:
        return results, 0
    emit(AuditEvent(AuditPhase.LINKS, 0, len(urls)))
    checked = check_urls(urls, options.config, db, refresh=options.refresh, clock=options.clock, pages=pages)
    for done, result in enumerate(checked, 1):
        results[result.url] = result
        emit(AuditEvent(AuditPhase.LINKS, done, len(urls), result.url))
        if found is not None:
            found(result)
    offline = run_offline(results.values())
    if offline is not None:
        for url, result in results.items():
            results[url] = offline.unchecked(result)
    return results, db.damaged if db is not None else 0


def network_down(links: dict[str, LinkResult]) -> str | None:
    """Say so when the checker itself was offline or blocked in this run.

    One site failing among others that answer is that site's problem; every
    site failing to answer (no route, no resolver, a firewall) is ours, and its
    verdicts mean nothing, even with one site cited: a failure counts against
    a site only in a run where other hosts answered (InternetArchiveBot likewise
    stops when it finds itself the one blocked).
    """
    offline = run_offline(links.values())
    return offline.message if offline else None


@dataclass
class ArchiveAnswers:
    """What the archive phase learnt: nearest captures, stored links resolved, and why it stopped early."""

    nearest: dict[SnapshotQuery, Snapshot | None] = field(default_factory=dict)
    resolved: dict[str, Snapshot | None] = field(default_factory=dict)
    failed: str | None = None  # the error that stopped the lookups; what was answered before it is kept


def look_up_archives(
    queries: list[SnapshotQuery],
    stored: list[str],
    options: AuditOptions,
    emit: Progress,
    notes: list[str] | None = None,
) -> ArchiveAnswers:
    """One batch of nearest-snapshot lookups and a resolve check per stored archive url, cached.

    A failing archive (:class:`~wikicore.errors.NetworkError`, including a 429 that
    asks for a long wait) stops the lookups but not the audit: what was answered
    is kept, and the error is returned for the report's notes. Damaged cache rows
    are skipped, looked up again and reported once in ``notes``.
    """
    notes = notes if notes is not None else []
    if not queries and not stored:
        return ArchiveAnswers()
    # CDX widens the availability API's misses only within its 0.02 requests/reference budget.
    inner = options.archive or open_archives([wayback_base_from_env() or DEFAULT_BASE_URL], audit=True)
    # refresh: a zero TTL makes every cached answer stale while still recording the new ones.
    ttl = _dt.timedelta(0) if options.refresh else options.config.ttl
    with ArchiveCache(options.db_path, ttl, options.clock) as cache:
        cached = CachedArchive(inner, cache)
        total = len(queries) + len(stored)
        emit(AuditEvent(AuditPhase.ARCHIVE, 0, total))
        answers = ArchiveAnswers()
        try:
            answers.nearest = cached.nearest(queries) if queries else {}
        except NetworkError as error:
            return ArchiveAnswers(failed=str(error))
        emit(AuditEvent(AuditPhase.ARCHIVE, len(queries), total))
        # One archive's failure beside a good one is that archive's problem: said, not fatal.
        notes.extend(str(problem) for problem in getattr(inner, "problems", []))
        # A stored link to a capture the batch lookup just returned (same page, same
        # second) resolves: no replay request needed. Editors usually archive near
        # the access date, so this saves most of the per-link requests.
        known = {
            (normalise_url(snap.original), snap.wayback_timestamp, snap.archive): snap
            for snap in answers.nearest.values()
            if snap
        }
        for index, url in enumerate(stored, 1):
            base = base_for(inner, url)
            parsed = parse_archive_url(url, base_url=base)
            key = (
                (normalise_url(parsed[1]), parsed[0].strftime("%Y%m%d%H%M%S"), _archive_name(base))
                if parsed and _EXACT.search(url)
                else None  # an inexact timestamp resolves to whatever capture the archive picks: ask it
            )
            try:
                answers.resolved[url] = known[key] if key in known else cached.resolves(url)
            except NetworkError as error:
                answers.failed = str(error)
                return answers
            emit(AuditEvent(AuditPhase.ARCHIVE, len(queries) + index, total, url))
        if cache.damaged:
            notes.append(
                f"{cache.damaged} damaged archive cache row(s) in {options.db_path} were ignored and looked up again "
                f"(first: {cache.first_damage})"
            )
    return answers


#: A snapshot link with a full 14-digit timestamp names one capture; a shorter one lets the archive pick.
_EXACT = re.compile(r"/web/\d{14}(?:[a-z]{2}_)*/")


def base_for(archive: Archive, url: str) -> str | None:
    """The root of the configured archive under which ``url`` lies (None: the Internet Archive's)."""
    bases = getattr(archive, "base_urls", None) or [getattr(archive, "base_url", None)]
    for base in bases:
        if base and url.strip().startswith(base.rstrip("/") + "/"):
            return str(base)
    return None


def _archive_name(base: str | None) -> str:
    return base.rstrip("/") if base else DEFAULT_BASE_URL
