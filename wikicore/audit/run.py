"""The citation audit: static checks, live link checks and Wayback coverage, as one report.

:func:`audit_articles` runs in three phases and reports progress through a
callback (the library never prints):

1. **static** -- :func:`wikicore.audit.static.run_static_checks` on every article;
2. **links** -- the *distinct* http(s) urls of all articles, streamed through
   :func:`wikicore.links.checker.check_urls` with the link history database, so a
   url cited by ten articles is fetched once and a result younger than the TTL
   is reused without a request;
3. **archive** -- one batch of nearest-snapshot questions for every reference
   with a url (the snapshot nearest *before* its access date, else after), and
   a ``resolves`` question for every stored ``archive_url``; answers are
   cached in the same SQLite file (:mod:`wikicore.archive.cache`).

Phases 2 and 3 overlap (issue 10): the archive lookups start as soon as the
references are known, in a thread of their own, and run beside the link checks,
so an audit takes about as long as the slower of the two; ``no_archive`` skips
phase 3. Progress events of both phases arrive interleaved, from two threads.

When the archive fails as a whole, or the network does (no checked url got any
answer, over several hosts), :attr:`AuditReport.network_failure` says so and
the CLI exits 5.

Then each reference gets a verdict and its problems. Live problem codes (the
static ones are in :mod:`wikicore.audit.static`):

==============================  ========  =====================================================
code                            severity  meaning
==============================  ========  =====================================================
link-dead                       error     dead (or confirmed dead) and no archived copy known
link-dead-archive-available     warning   dead; a snapshot exists but ``archive_url`` lacks it
link-dead-archived              info      dead; the stored ``archive_url`` works
link-soft-404                   warning   answers 200 with an error page
link-blocked                    warning   401/403/429, bot wall or paywall: a human must look
link-error                      info      timeout, reset, 5xx, TLS: probably transient
link-invalid                    error     refused by the checker (e.g. private address)
archive-url-unresolved          warning   the stored ``archive_url`` leads to no capture
archive-missing                 info      a live link with no snapshot at all: archive it now
link-excluded-no-archive        error     ``url_status`` usurped/unfit (not checked) and no working
                                          stored archive: readers have nothing to follow
claim-sources-dead              warning   every reference the claim cites is dead (``link-dead``)
                                          or failing persistently: the claim has lost its support
==============================  ========  =====================================================

Urls an editor marked ``usurped`` or ``unfit`` are not fetched (a hijacked
domain answers 200 with spam) and get ``unchecked``; their archives are.
With ``offline=True`` (or no urls at all) nothing touches the network: urls
get the status ``unchecked`` and the report says so in ``notes``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import operator
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..archive import (
    DEFAULT_BASE_URL,
    Archive,
    ArchiveCache,
    CachedArchive,
    Snapshot,
    SnapshotQuery,
    open_archives,
    parse_archive_url,
    reference_date,
    wayback_base_from_env,
)
from ..errors import NetworkError
from ..gcpause import paused_gc
from ..links.checker import CheckConfig, LinkResult, LinkStatus, check_urls
from ..links.history import LinkDB
from ..models import Article, Reference, UrlStatus
from ..net import host_key
from .static import Finding, KnownTitles, Severity, date_range, normalise_url, run_static_checks, url_problem

if TYPE_CHECKING:
    from ..store import Wiki

__all__ = [
    "LIVE_CODES",
    "ArchiveInfo",
    "ArticleAudit",
    "AuditEvent",
    "AuditPhase",
    "AuditProblem",
    "AuditReport",
    "AuditSummary",
    "ClaimAudit",
    "ReferenceAudit",
    "audit_articles",
    "audit_wiki",
    "wiki_audit_targets",
]

Clock = Callable[[], _dt.datetime]

#: Problem codes the live phases add, with their severities (see the module docstring).
LIVE_CODES: dict[str, Severity] = {
    "link-dead": Severity.ERROR,
    "link-dead-archive-available": Severity.WARNING,
    "link-dead-archived": Severity.INFO,
    "link-soft-404": Severity.WARNING,
    "link-blocked": Severity.WARNING,
    "link-error": Severity.INFO,
    "link-invalid": Severity.ERROR,
    "archive-url-unresolved": Severity.WARNING,
    "archive-missing": Severity.INFO,
    "link-excluded-no-archive": Severity.ERROR,
    "claim-sources-dead": Severity.WARNING,
}


# --- report models -------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AuditProblem(_Frozen):
    """One finding as the report shows it."""

    code: str = Field(description="Stable kebab-case code; see wikicore.audit.static and wikicore.audit.")
    severity: Severity
    message: str

    @classmethod
    def of(cls, finding: Finding) -> AuditProblem:
        """The report form of a static :class:`~wikicore.audit.static.Finding`."""
        return cls(code=finding.code, severity=finding.severity, message=finding.message)


class ArchiveInfo(_Frozen):
    """The archived capture nearest before the access date (200 captures only), from any archive asked."""

    url: str
    timestamp: _dt.datetime
    archive: str | None = Field(default=None, description="Root of the archive that holds the capture.")
    distance_days: int | None = Field(
        description="Days between the snapshot and the access date; null without an access date."
    )


class ReferenceAudit(_Frozen):
    """A reference's verdict: link status, history, archive coverage and problems."""

    id: str
    title: str | None = None
    url: str | None
    status: LinkStatus
    http_status: int | None = None
    final_url: str | None = None
    checked_at: _dt.datetime | None = None
    failures: int = 0
    first_failed: _dt.datetime | None = None
    confirmed_dead: bool = False
    from_cache: bool = False
    archive: ArchiveInfo | None = None
    archive_url: str | None = Field(default=None, description="The archive_url the article stores.")
    archive_resolves: bool | None = Field(
        default=None, description="Whether the stored archive_url leads to a capture; null if not checked."
    )
    problems: tuple[AuditProblem, ...] = ()


class ClaimAudit(_Frozen):
    """A claim and its problems (every claim is listed, most with none)."""

    id: str
    text: str
    problems: tuple[AuditProblem, ...] = ()


class AuditSummary(_Frozen):
    """Counts for a quick look: references by status, problems by severity."""

    claims: int
    references: int
    by_status: dict[str, int]
    by_severity: dict[str, int]


class ArticleAudit(_Frozen):
    """Everything the audit found about one article (one revision of it)."""

    slug: str
    title: str
    language: str | None = Field(default=None, description="The article's BCP 47 language, for rendering its text.")
    revision: str | None = Field(description="The wiki revision audited; null for a file.")
    summary: AuditSummary
    problems: tuple[AuditProblem, ...] = Field(
        default=(), description="Findings about the article as a whole (see also, import warnings)."
    )
    claims: tuple[ClaimAudit, ...] = ()
    references: tuple[ReferenceAudit, ...] = ()

    def all_problems(self) -> Iterator[AuditProblem]:
        """Article, claim and reference problems, in that order."""
        yield from self.problems
        for claim in self.claims:
            yield from claim.problems
        for ref in self.references:
            yield from ref.problems


class AuditReport(_Frozen):
    """The result of one audit run; its JSON form is ``schemas/audit.schema.json``."""

    # The JSON output names its schema and version (issue 11 item 6); both are checked on reading.
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)
    schema_ref: Literal["https://wikicore.invalid/schemas/audit.schema.json"] = Field(
        default="https://wikicore.invalid/schemas/audit.schema.json",
        alias="$schema",
        description="The schema this document follows.",
    )
    schema_version: Literal[1] = 1

    generated_at: _dt.datetime
    offline: bool
    notes: tuple[str, ...] = Field(default=(), description="What was and was not checked, said plainly.")
    network_failure: str | None = Field(
        default=None,
        description="Why the archive or the network failed as a whole (the CLI then exits 5); null otherwise.",
    )
    articles: tuple[ArticleAudit, ...] = ()

    def count(self, at_least: Severity) -> int:
        """How many problems have ``at_least`` this severity."""
        return sum(1 for article in self.articles for p in article.all_problems() if p.severity.rank >= at_least.rank)

    def totals(self) -> AuditSummary:
        """The articles' summaries added up."""
        status: Counter[str] = Counter()
        severity: Counter[str] = Counter()
        for article in self.articles:
            status.update(article.summary.by_status)
            severity.update(article.summary.by_severity)
        return AuditSummary(
            claims=sum(a.summary.claims for a in self.articles),
            references=sum(a.summary.references for a in self.articles),
            by_status={s.value: status[s.value] for s in LinkStatus},
            by_severity={s.value: severity[s.value] for s in Severity},
        )


# --- progress ------------------------------------------------------------------


class AuditPhase(StrEnum):
    """The phases an audit reports progress for."""

    STATIC = "static"
    LINKS = "links"
    ARCHIVE = "archive"
    DONE = "done"


@dataclass(frozen=True)
class AuditEvent:
    """A progress report: ``done`` of ``total`` steps of ``phase``; ``item`` names the last one."""

    phase: AuditPhase
    done: int
    total: int
    item: str | None = None


Progress = Callable[[AuditEvent], None]


# --- orchestration -------------------------------------------------------------


def _query_day(ref: Reference) -> _dt.date | None:
    """The day an archive lookup aims at: the access date, else the publication date.

    :func:`wikicore.archive.reference_date` is used so that the audit and
    ``wikicore archive`` pick the same capture; a partial date means its last
    day, so a capture from anywhere in ``access_date: 2020-05`` counts as before.
    """
    if (ref.access_date and date_range(ref.access_date) is None) or (ref.date and date_range(ref.date) is None):
        return None  # unvalidated input with an impossible date: the static checks report it
    return reference_date(ref)


def _checkable(url: str | None) -> bool:
    # checks.url_problem is memoised: each url's static problem is computed once (issue 13).
    return bool(url) and url_problem(url or "") is None


def _excluded(ref: Reference) -> bool:
    """An editor marked the url usurped or unfit (CS1): the domain now serves something else.

    Fetching it proves nothing about the source (a spam page answers 200), so the
    link is not checked; its archive still is.
    """
    return ref.url_status in (UrlStatus.USURPED, UrlStatus.UNFIT)


_M = TypeVar("_M", bound=BaseModel)


class _Problems:
    """One shared :class:`AuditProblem` per distinct (code, severity, message) of an audit.

    Most live problems repeat word for word (every fresh 404 says the same thing),
    and a frozen model can be shared: 10,000 dead links then cost one object, not 10,000.
    """

    __slots__ = ("_fields", "_known")

    def __init__(self) -> None:
        self._known: dict[tuple[str, Severity, str], AuditProblem] = {}
        self._fields: dict[tuple[type[BaseModel], frozenset[str]], set[str]] = {}

    def get(self, code: str, severity: Severity, message: str) -> AuditProblem:
        key = (code, severity, message)
        problem = self._known.get(key)
        if problem is None:
            problem = self._known[key] = self.compact(AuditProblem(code=code, severity=severity, message=message))
        return problem

    def live(self, code: str, message: str) -> AuditProblem:
        return self.get(code, LIVE_CODES[code], message)

    def of(self, finding: Finding) -> AuditProblem:
        return self.get(finding.code, finding.severity, finding.message)

    def compact(self, model: _M) -> _M:
        """``model`` with its set of explicitly given field names shared with its likes.

        Pydantic gives every instance a set of its own (~730 bytes for a reference,
        half its size); the report holds one per reference and claim. The content
        is unchanged and the models are frozen; ``model_copy`` copies the set before
        touching it, so sharing is safe.
        """
        fields = model.__pydantic_fields_set__
        key = (type(model), frozenset(fields))
        shared = self._fields.get(key)
        if shared is None:
            shared = self._fields[key] = fields
        object.__setattr__(model, "__pydantic_fields_set__", shared)
        return model


@dataclass(slots=True)
class _Ref:
    """What a reference's verdict needs of it, kept while its article is let go."""

    id: str
    title: str | None
    url: str | None
    archive_url: str | None
    archive_date: str | None
    url_status: UrlStatus | None
    day: _dt.date | None
    excluded: bool


@dataclass(slots=True)
class _Target:
    """One audited article boiled down after its static checks: what the report still needs of it."""

    slug: str
    title: str
    language: str | None
    revision: str | None
    general: list[AuditProblem]
    by_claim: dict[str, list[AuditProblem]]
    by_ref: dict[str, list[AuditProblem]]
    static_url_refs: set[str]
    claims: list[tuple[str, str, tuple[str, ...]]]  # id, text, the refs it cites
    references: list[_Ref]

    @classmethod
    def of(cls, article: Article, revision: str | None, findings: list[Finding], problems: _Problems) -> _Target:
        by_claim: dict[str, list[AuditProblem]] = {}
        by_ref: dict[str, list[AuditProblem]] = {}
        general: list[AuditProblem] = []
        static_url_refs: set[str] = set()
        for finding in findings:
            if finding.claim_id is not None:
                by_claim.setdefault(finding.claim_id, []).append(problems.of(finding))
            elif finding.ref_id is not None:
                by_ref.setdefault(finding.ref_id, []).append(problems.of(finding))
                if finding.code.startswith("url-"):
                    static_url_refs.add(finding.ref_id)
            else:
                general.append(problems.of(finding))
        return cls(
            slug=article.slug,
            title=article.title,
            language=article.language,
            revision=revision,
            general=general,
            by_claim=by_claim,
            by_ref=by_ref,
            static_url_refs=static_url_refs,
            claims=[
                (claim.id, claim.text, tuple(dict.fromkeys(citation.ref for citation in claim.citations)))
                for claim in article.claims()
            ],
            references=[
                _Ref(
                    id=ref.id,
                    title=ref.title,
                    url=ref.url,
                    archive_url=ref.archive_url,
                    archive_date=ref.archive_date,
                    url_status=ref.url_status,
                    day=_query_day(ref) if ref.url else None,
                    excluded=_excluded(ref),
                )
                for ref in article.references
            ],
        )


def audit_articles(
    targets: Iterable[tuple[Article, str | None]],
    *,
    offline: bool = False,
    config: CheckConfig | None = None,
    archive: Archive | None = None,
    db_path: Path | None = None,
    refresh: bool = False,
    known_titles: Iterable[str] | KnownTitles | None = None,
    today: _dt.date | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
    no_archive: bool = False,
) -> AuditReport:
    """Audit ``(article, revision)`` pairs and return one report.

    ``config`` tunes the link checker (its ``ttl`` also bounds the archive
    cache); ``archive`` defaults to the Wayback Machine at
    ``$WIKICORE_WAYBACK_URL`` or the Internet Archive; ``db_path`` is the
    SQLite history shared by links and archive lookups (None: nothing persists
    beyond this call); ``refresh`` ignores cached results; ``known_titles``
    enables the see-also check; ``today`` and ``clock`` are injectable for tests;
    ``no_archive`` checks links only. ``progress`` may be called from two
    threads at once (links and archive run side by side).
    """
    config = config or CheckConfig()
    now = (clock or (lambda: _dt.datetime.now(_dt.UTC)))()
    today = today or now.date()
    emit: Progress = progress or (lambda event: None)

    # Snapshot links under a configured archive root are well formed too.
    archive_base: str | tuple[str, ...] | None = (
        (tuple(getattr(archive, "base_urls", ())) or getattr(archive, "base_url", None))
        if archive is not None
        else wayback_base_from_env()
    )
    titles = None if known_titles is None else KnownTitles.of(known_titles)  # normalised once, shared
    shared = _Problems()
    # One pass over the articles (issue 10, memory): each is checked statically and boiled
    # down to the few facts the live verdicts need, then let go, so an iterator of articles
    # loaded one at a time is never held whole. Only the distinct urls and these small
    # records live until the link checks are done.
    expected = operator.length_hint(targets, 0)
    items: list[_Target] = []
    urls_seen: dict[str, None] = {}
    queries_seen: dict[SnapshotQuery, None] = {}
    stored_seen: dict[str, None] = {}
    env_base = wayback_base_from_env()
    look_up = not (offline or no_archive)  # the snapshot questions are only collected if they will be asked
    index = 0
    for article, revision in targets:  # not enumerate(): it keeps its last tuple, and so the last article
        index += 1
        findings = run_static_checks(article, today=today, known_titles=titles, archive_base=archive_base)
        item = _Target.of(article, revision, findings, shared)
        items.append(item)
        for ref in item.references:
            if ref.url and _checkable(ref.url):
                if look_up:
                    queries_seen.setdefault(SnapshotQuery(ref.url, ref.day), None)
                if not ref.excluded:
                    urls_seen.setdefault(ref.url, None)
            # Only links that are snapshots are resolved; the static checks already report the others.
            if (
                ref.archive_url
                and ref.archive_url not in stored_seen
                and _checkable(ref.archive_url)
                and parse_archive_url(
                    ref.archive_url,
                    base_url=_base_for(archive, ref.archive_url) if archive is not None else env_base,
                )
                is not None
            ):
                stored_seen[ref.archive_url] = None
        del article, findings  # before the progress call: the audit holds no article while it waits
        emit(AuditEvent(AuditPhase.STATIC, index, max(expected, index), item.slug))
    urls = list(urls_seen)
    del urls_seen
    notes: list[str] = []
    links: dict[str, LinkResult] = {}
    nearest: dict[SnapshotQuery, Snapshot | None] = {}
    resolved: dict[str, Snapshot | None] = {}
    archive_failed: str | None = None
    network_failure: str | None = None
    stored = list(stored_seen)
    del stored_seen

    if offline:
        notes.append(
            "offline: no link or archive was checked; every url is reported as 'unchecked' "
            "and only the static checks ran"
        )
    elif not urls and not stored:
        notes.append("no reference has a checkable url, so nothing was checked live; only the static checks ran")
    else:
        queries = [] if no_archive else list(queries_seen)
        stored = [] if no_archive else stored
        # The archive phase starts now, beside the link checks, not after them (issue 10).
        lock = threading.Lock()
        archive_notes: list[str] = []  # damaged archive cache rows, reported once

        def safe_emit(event: AuditEvent) -> None:
            with lock:
                emit(event)

        # The link database is opened (validated, and found not locked by another process)
        # before the archive thread starts on the same file: a refusal is one clear error, at once.
        with contextlib.ExitStack() as stack:
            db = stack.enter_context(LinkDB(db_path, clock=clock)) if db_path is not None and urls else None
            side = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="wikicore-archive"))
            lookups: Future[tuple[dict[SnapshotQuery, Snapshot | None], dict[str, Snapshot | None], str | None]] | None
            lookups = (
                side.submit(
                    _look_up_archives, queries, stored, archive, config.ttl, db_path, refresh, clock, safe_emit,
                    archive_notes,
                )
                if queries or stored
                else None
            )
            links, damaged = _check_links(urls, config, db, refresh, clock, safe_emit)
            if lookups is not None:
                nearest, resolved, archive_failed = lookups.result()
        notes.extend(archive_notes)
        if no_archive:
            notes.append("--no-archive: archive coverage was not looked up")
        if archive_failed is not None:
            notes.append(f"archive lookups failed ({archive_failed}); archive coverage is unknown")
            network_failure = f"the archive failed as a whole: {archive_failed}"
        down = _network_down(links)
        if down is not None:
            notes.append(down)
            network_failure = down if network_failure is None else f"{network_failure}; {down}"
        if damaged:
            notes.append(
                f"{damaged} damaged row(s) in the link history {db_path} were skipped "
                "(unknown status, bad date or non-JSON field)"
            )
        cached = sum(1 for result in links.values() if result.from_cache)
        if cached:
            notes.append(
                f"{cached} of {len(links)} link verdict(s) were reused from checks younger than "
                f"{_age(config.ttl)}; --refresh rechecks them"
            )
        unchecked = [url for url in urls if url not in links]
        if unchecked:
            notes.append(f"{len(unchecked)} url(s) got no verdict from the link checker")

    del queries_seen
    # Each compact record is replaced by its report entry as it is built.
    count = len(items)
    items.reverse()
    built: list[ArticleAudit] = []
    while items:
        built.append(
            _article_audit(
                items.pop(), offline, links, nearest, resolved, archive_failed is not None or no_archive, shared
            )
        )
    articles = tuple(built)
    del built
    emit(AuditEvent(AuditPhase.DONE, count, count))
    return AuditReport(
        generated_at=now, offline=offline, notes=tuple(notes), articles=articles, network_failure=network_failure
    )


def _age(delta: _dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g} day(s)" if hours >= 24 else f"{hours:g} hour(s)"


def _check_links(
    urls: list[str],
    config: CheckConfig,
    db: LinkDB | None,
    refresh: bool,
    clock: Clock | None,
    emit: Progress,
) -> tuple[dict[str, LinkResult], int]:
    """Stream the distinct urls through the checker; keep only the small result records.

    Returns the results by url and how many damaged rows of the history were skipped.
    """
    results: dict[str, LinkResult] = {}
    if not urls:
        return results, 0
    emit(AuditEvent(AuditPhase.LINKS, 0, len(urls)))
    for done, result in enumerate(check_urls(urls, config, db, refresh=refresh, clock=clock), 1):
        results[result.url] = result
        emit(AuditEvent(AuditPhase.LINKS, done, len(urls), result.url))
    return results, db.damaged if db is not None else 0


#: Checks without any answer, over at least this many hosts, before "the network is down".
_DOWN_MIN_CHECKS = 3
_DOWN_MIN_HOSTS = 2


def _network_down(links: dict[str, LinkResult]) -> str | None:
    """Say so when no url checked now got any answer at all, over several hosts.

    One site refusing is that site's problem; every site failing to answer
    (no route, no resolver, a firewall) is ours, and its verdicts mean nothing.
    """
    fresh = [r for r in links.values() if not r.from_cache and r.status is not LinkStatus.INVALID]
    if len(fresh) < _DOWN_MIN_CHECKS or any(r.http_status is not None for r in fresh):
        return None
    hosts = {host_key(r.url) for r in fresh}
    if len(hosts) < _DOWN_MIN_HOSTS:
        return None
    reasons = Counter((r.error or "no answer").split(";")[0] for r in fresh)
    common = ", ".join(f"{why} ({count})" for why, count in reasons.most_common(3))
    return f"the network failed as a whole: none of {len(fresh)} url(s) on {len(hosts)} host(s) answered ({common})"


def _look_up_archives(
    queries: list[SnapshotQuery],
    stored: list[str],
    archive: Archive | None,
    ttl: _dt.timedelta,
    db_path: Path | None,
    refresh: bool,
    clock: Clock | None,
    emit: Progress,
    notes: list[str] | None = None,
) -> tuple[dict[SnapshotQuery, Snapshot | None], dict[str, Snapshot | None], str | None]:
    """One batch of nearest-snapshot lookups and a resolve check per stored archive url, cached.

    A failing archive (:class:`~wikicore.errors.NetworkError`, including a 429 that
    asks for a long wait) stops the lookups but not the audit: what was answered
    is kept, and the error is returned for the report's notes. Damaged cache rows
    are skipped, looked up again and reported once in ``notes``.
    """
    notes = notes if notes is not None else []
    if not queries and not stored:
        return {}, {}, None
    # CDX widens the availability API's misses only within its 0.02 requests/reference budget.
    inner = archive or open_archives([wayback_base_from_env() or DEFAULT_BASE_URL], audit=True)
    # refresh: a zero TTL makes every cached answer stale while still recording the new ones.
    with ArchiveCache(db_path, _dt.timedelta(0) if refresh else ttl, clock) as cache:
        cached = CachedArchive(inner, cache)
        total = len(queries) + len(stored)
        emit(AuditEvent(AuditPhase.ARCHIVE, 0, total))
        nearest: dict[SnapshotQuery, Snapshot | None] = {}
        try:
            nearest = cached.nearest(queries) if queries else {}
        except NetworkError as error:
            return {}, {}, str(error)
        emit(AuditEvent(AuditPhase.ARCHIVE, len(queries), total))
        # A stored link to a capture the batch lookup just returned (same page, same
        # second) resolves: no replay request needed. Editors usually archive near
        # the access date, so this saves most of the per-link requests.
        known = {
            (normalise_url(snap.original), snap.wayback_timestamp, snap.archive): snap
            for snap in nearest.values()
            if snap
        }
        resolved: dict[str, Snapshot | None] = {}
        for index, url in enumerate(stored, 1):
            base = _base_for(inner, url)
            parsed = parse_archive_url(url, base_url=base)
            key = (
                (normalise_url(parsed[1]), parsed[0].strftime("%Y%m%d%H%M%S"), _archive_name(base))
                if parsed and _EXACT.search(url)
                else None  # an inexact timestamp resolves to whatever capture the archive picks: ask it
            )
            try:
                resolved[url] = known[key] if key in known else cached.resolves(url)
            except NetworkError as error:
                return nearest, resolved, str(error)
            emit(AuditEvent(AuditPhase.ARCHIVE, len(queries) + index, total, url))
        if cache.damaged:
            notes.append(
                f"{cache.damaged} damaged archive cache row(s) in {db_path} were ignored and looked up again "
                f"(first: {cache.first_damage})"
            )
    return nearest, resolved, None



_EXACT = re.compile(r"/web/\d{14}(?:[a-z]{2}_)*/")


def _base_for(archive: Archive, url: str) -> str | None:
    """The root of the configured archive under which ``url`` lies (None: the Internet Archive's)."""
    bases = getattr(archive, "base_urls", None) or [getattr(archive, "base_url", None)]
    for base in bases:
        if base and url.strip().startswith(base.rstrip("/") + "/"):
            return str(base)
    return None


def _archive_name(base: str | None) -> str:
    return base.rstrip("/") if base else DEFAULT_BASE_URL


def _article_audit(
    item: _Target,
    offline: bool,
    links: dict[str, LinkResult],
    nearest: dict[SnapshotQuery, Snapshot | None],
    resolved: dict[str, Snapshot | None],
    archive_unknown: bool,
    shared: _Problems,
) -> ArticleAudit:
    by_claim = item.by_claim
    general = item.general
    references = tuple(
        shared.compact(
            _reference_audit(
                ref,
                item.by_ref.get(ref.id, []),
                ref.id in item.static_url_refs,
                offline,
                links,
                nearest,
                resolved,
                archive_unknown,
                shared,
            )
        )
        for ref in item.references
    )
    dead = {ref.id for ref in references if _lost(ref)}
    for claim_id, _text, cited in item.claims:
        if cited and dead.issuperset(cited):
            by_claim.setdefault(claim_id, []).append(
                shared.live(
                    "claim-sources-dead",
                    f"every source it cites is dead or failing persistently: {', '.join(sorted(cited))}",
                )
            )
    claims = tuple(
        shared.compact(ClaimAudit(id=claim_id, text=text, problems=tuple(by_claim.get(claim_id, []))))
        for claim_id, text, _cited in item.claims
    )
    statuses = Counter(ref.status.value for ref in references)
    severities: Counter[str] = Counter(p.severity.value for p in general)
    for claim_audit in claims:
        severities.update(p.severity.value for p in claim_audit.problems)
    for ref_audit in references:
        severities.update(p.severity.value for p in ref_audit.problems)
    summary = AuditSummary(
        claims=len(claims),
        references=len(references),
        by_status={s.value: statuses[s.value] for s in LinkStatus},
        by_severity={s.value: severities[s.value] for s in Severity},
    )
    return ArticleAudit(
        slug=item.slug,
        title=item.title,
        language=item.language,
        revision=item.revision,
        summary=summary,
        problems=tuple(general),
        claims=claims,
        references=references,
    )


def _lost(ref: ReferenceAudit) -> bool:
    """A source readers cannot reach: dead with no copy, or failing over more than one check a day apart."""
    if any(p.code == "link-dead" for p in ref.problems):
        return True
    if ref.status is LinkStatus.ERROR and ref.failures >= 2 and ref.first_failed and ref.checked_at:
        return ref.checked_at - ref.first_failed >= _PERSISTENT
    return False


#: An error that has lasted this long (over two or more checks) is persistent, not a blip.
_PERSISTENT = _dt.timedelta(days=1)


def _reference_audit(
    ref: _Ref,
    problems: list[AuditProblem],
    bad_url: bool,
    offline: bool,
    links: dict[str, LinkResult],
    nearest: dict[SnapshotQuery, Snapshot | None],
    resolved: dict[str, Snapshot | None],
    archive_unknown: bool,
    shared: _Problems,
) -> ReferenceAudit:
    """Combine the link result, the archive answers and the static findings into one verdict."""
    problems = list(problems)
    base = {"id": ref.id, "title": ref.title, "url": ref.url, "archive_url": ref.archive_url}
    if not ref.url:
        stored_ok = _stored_archive(ref, resolved, problems, shared)
        return ReferenceAudit(**base, status=LinkStatus.NO_URL, archive_resolves=stored_ok, problems=tuple(problems))
    if bad_url:
        return ReferenceAudit(**base, status=LinkStatus.INVALID, problems=tuple(problems))
    if ref.excluded and not offline:
        stored_ok = _stored_archive(ref, resolved, problems, shared)
        if not stored_ok:
            problems.append(
                shared.live(
                    "link-excluded-no-archive", f"the url is marked {ref.url_status} and no working archive is stored"
                )
            )
        return ReferenceAudit(**base, status=LinkStatus.UNCHECKED, archive_resolves=stored_ok, problems=tuple(problems))
    result = None if offline else links.get(ref.url)
    if result is None:
        return ReferenceAudit(**base, status=LinkStatus.UNCHECKED, problems=tuple(problems))

    day = ref.day
    snapshot = nearest.get(SnapshotQuery(ref.url, day))
    archive = (
        shared.compact(
            ArchiveInfo(
                url=snapshot.archive_url,
                timestamp=snapshot.timestamp,
                archive=snapshot.archive,
                distance_days=snapshot.distance_days(day) if day else None,
            )
        )
        if snapshot
        else None
    )
    stored_ok = _stored_archive(ref, resolved, problems, shared)
    problems.extend(_link_problems(ref, result, snapshot, stored_ok, archive_unknown, shared))
    return ReferenceAudit(
        **base,
        status=result.status,
        http_status=result.http_status,
        final_url=result.final_url,
        checked_at=result.checked_at,
        failures=result.failures,
        first_failed=result.first_failed,
        confirmed_dead=result.confirmed_dead,
        from_cache=result.from_cache,
        archive=archive,
        archive_resolves=stored_ok,
        problems=tuple(problems),
    )


def _stored_archive(
    ref: _Ref, resolved: dict[str, Snapshot | None], problems: list[AuditProblem], shared: _Problems
) -> bool | None:
    """Whether the stored archive url resolves to a 200 capture (None: none stored, or not checked).

    The capture the link leads to is what counts, not the timestamp written in
    the link: an archive redirects ``/web/2021/...`` to the capture it has, so
    the static ``archive-date-mismatch`` finding is replaced by one made against
    the real capture time, and a link to an archived error page (a 404 or 429
    the site answered back then) is reported as such.
    """
    if not ref.archive_url or ref.archive_url not in resolved:
        return None
    capture = resolved[ref.archive_url]
    if capture is None:
        problems.append(
            shared.live("archive-url-unresolved", f"the stored archive url {ref.archive_url} leads to no capture")
        )
        return False
    problems[:] = [p for p in problems if p.code != "archive-date-mismatch"]
    taken = capture.timestamp.astimezone(_dt.UTC).date()
    span = date_range(ref.archive_date) if ref.archive_date else None
    if span is not None and not span[0] - _dt.timedelta(days=1) <= taken <= span[1] + _dt.timedelta(days=1):
        problems.append(
            shared.get(
                "archive-date-mismatch",
                Severity.WARNING,
                f"archive date {ref.archive_date} but the capture the link leads to was taken {taken.isoformat()}",
            )
        )
    if not capture.ok:
        problems.append(
            shared.live(
                "archive-url-unresolved",
                f"the stored archive url {ref.archive_url} leads to an archived error page "
                f"(HTTP {capture.status_code} captured {taken.isoformat()}), not a copy of the source",
            )
        )
        return False
    return True


def _link_problems(
    ref: _Ref,
    result: LinkResult,
    snapshot: Snapshot | None,
    stored_ok: bool | None,
    archive_unknown: bool,
    shared: _Problems,
) -> Iterator[AuditProblem]:
    """The verdict's problems. A dead link's severity depends on whether readers have a copy."""
    http = f"HTTP {result.http_status}" if result.http_status else (result.error or "no answer")
    status = result.status
    if status == LinkStatus.DEAD:
        history = (
            f"confirmed dead after {result.failures} failed checks"
            if result.confirmed_dead
            else f"dead ({http}; {result.failures} failed check(s) so far)"
        )
        if stored_ok:
            tip = "" if ref.url_status == UrlStatus.DEAD else "; set url_status: dead so readers get the copy first"
            yield shared.live("link-dead-archived", f"{history}; the stored archive copy works{tip}")
        elif snapshot is not None:
            yield shared.live(
                "link-dead-archive-available",
                f"{history}; set archive_url to {snapshot.archive_url} ({snapshot.timestamp.date().isoformat()})",
            )
        else:
            why = " (archive coverage unknown)" if archive_unknown else ""
            yield shared.live("link-dead", f"{history} and no archived copy is known{why}")
    elif status == LinkStatus.SOFT_404:
        tip = f"; an archived copy exists: {snapshot.archive_url}" if snapshot else ""
        yield shared.live("link-soft-404", f"answers {http} with what looks like a 'not found' page{tip}")
    elif status == LinkStatus.BLOCKED:
        yield shared.live("link-blocked", f"access refused ({http}); a human must look, it may well be alive")
    elif status == LinkStatus.ERROR:
        if result.failures >= 2:
            yield shared.live("link-error", f"could not be checked ({result.error or http})")
        else:
            yield shared.live("link-error", f"could not be checked ({result.error or http}); probably transient")
    elif status == LinkStatus.INVALID:
        yield shared.live("link-invalid", f"refused by the checker: {result.error or 'invalid url'}")
    elif status == LinkStatus.LIVE and snapshot is None and not stored_ok and not archive_unknown:
        yield shared.live("archive-missing", "no archived copy exists yet; consider saving one")


# --- what an audit of a wiki covers ------------------------------------------------


def wiki_audit_targets(
    wiki: Wiki | None, targets: Iterable[str | Article] = (), *, all_articles: bool = False
) -> tuple[list[tuple[Article, str | None]], KnownTitles | None]:
    """The ``(article, revision)`` pairs an audit covers, and the wiki's titles for see-also.

    ``targets`` are slugs of ``wiki`` (at their latest revision) or articles
    loaded from elsewhere (files: no revision), audited in the order given;
    ``all_articles`` adds every other article of the wiki, by slug. When a wiki
    is involved its articles are all read in one pass (:meth:`Wiki.latest_all`):
    each parsed once, their titles and aliases normalised once, not once per
    audited article (issue 13: that was quadratic). Without a wiki there are no
    known titles and the see-also check is skipped.
    """
    from ..errors import InvalidInput, NotFound
    from ..store import validate_slug

    items = list(targets)
    slugs = [validate_slug(item) for item in items if isinstance(item, str)]
    if wiki is None:
        if slugs or all_articles:
            raise InvalidInput("auditing wiki articles needs a wiki")
        return [(item, None) for item in items if isinstance(item, Article)], None
    latest = {article.slug: (article, revision) for article, revision in wiki.latest_all()}
    titles = KnownTitles(title for article, _ in latest.values() for title in (article.title, *article.aliases))
    pairs: list[tuple[Article, str | None]] = []
    seen: set[str] = set()

    def from_wiki(slug: str) -> None:
        if slug in seen:
            return
        if slug not in latest:
            raise NotFound(f"no article {slug!r} in the wiki")
        seen.add(slug)
        article, revision = latest[slug]
        pairs.append((article, revision.id if revision else None))

    for item in items:
        if isinstance(item, str):
            from_wiki(validate_slug(item))
        else:
            pairs.append((item, None))
    if all_articles:
        for slug in sorted(latest):
            from_wiki(slug)
    if not pairs:
        raise InvalidInput("nothing to audit: the wiki has no articles" if all_articles else "nothing to audit")
    return pairs, titles


def audit_wiki(
    wiki: Wiki | None, targets: Iterable[str | Article] = (), *, all_articles: bool = False, **options: Any
) -> AuditReport:
    """Audit articles of a wiki: the slugs and articles in ``targets``, or all of them.

    The library's ``wikicore audit``: which articles are covered, at which
    revision and against which titles is decided by :func:`wiki_audit_targets`;
    ``options`` go to :func:`audit_articles` (``offline``, ``config``,
    ``archive``, ``db_path``, ``refresh``, ``today``, ``progress``, ``clock``).
    """
    pairs, titles = wiki_audit_targets(wiki, targets, all_articles=all_articles)
    # The loaded articles live until the report is done, and the report grows with them:
    # every full garbage collection would walk both again, which made the audit grow faster
    # than the wiki (CPU of the checks, 4,000 -> 8,000 articles: 2.4x with the collector
    # as it is, 2.3x with the articles frozen, 2.0x with it paused). An offline audit is
    # pure computation that makes no cycles worth collecting: the collector is paused. A
    # live one runs network code for minutes: only what exists now is frozen.
    gc.freeze()
    try:
        with paused_gc() if options.get("offline", False) else contextlib.nullcontext():
            return audit_articles(_Draining(pairs), known_titles=titles, **options)
    finally:
        gc.unfreeze()


class _Draining:
    """Hands out a list's items first to last, dropping each from the list as it goes.

    The audit lets an article go once its static checks are done; this makes the
    wiki's list of loaded articles let go of it too, so the parsed wiki shrinks
    while its compact report records grow. The length hint keeps progress totals.
    """

    def __init__(self, items: list[tuple[Article, str | None]]) -> None:
        items.reverse()
        self._items = items

    def __iter__(self) -> _Draining:
        return self

    def __next__(self) -> tuple[Article, str | None]:
        if not self._items:
            raise StopIteration
        return self._items.pop()

    def __length_hint__(self) -> int:
        return len(self._items)


def audit_cache_path(wiki: Wiki | None) -> Path:
    """Where an audit keeps its link and archive history.

    The wiki's :attr:`~wikicore.store.Wiki.checks_path` when wiki articles are
    audited; for files outside a wiki, ``$XDG_CACHE_HOME/wikicore/checks.sqlite``
    (``~/.cache`` when unset), so re-audits stay fast and "confirmed dead" has
    history there too.
    """
    if wiki is not None:
        return wiki.checks_path
    import os

    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "wikicore" / "checks.sqlite"
