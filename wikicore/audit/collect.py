"""The audit's first phase: static checks, and the few facts of each article the live verdicts need.

An audit of a large wiki cannot hold every parsed article until its links are
checked (50,000 references are about 155 MB parsed). So :func:`collect` makes
one pass: each article is checked statically, boiled down to an
:class:`ArticleFacts`, and let go; only these small records and the distinct
urls and archive questions live on until the report is built.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from pydantic import BaseModel

from ..archive import Archive, SnapshotQuery, parse_archive_url, reference_date, wayback_base_from_env
from ..models import Article, Reference, UrlStatus
from .live import base_for
from .options import AuditEvent, AuditOptions, AuditPhase, Progress
from .report import LIVE_CODES, AuditProblem
from .static import Finding, KnownTitles, Severity, date_range, run_static_checks, url_problem

__all__ = ["ArticleFacts", "CitedFacts", "Collected", "ProblemPool", "RefFacts", "collect", "query_day"]


def query_day(ref: Reference) -> _dt.date | None:
    """The day an archive lookup aims at: the access date, else the publication date.

    :func:`wikicore.archive.reference_date` is used so that the audit and
    ``wikicore archive`` pick the same capture; a partial date means its last
    day, so a capture from anywhere in ``access_date: 2020-05`` counts as before.
    """
    if (ref.access_date and date_range(ref.access_date) is None) or (ref.date and date_range(ref.date) is None):
        return None  # unvalidated input with an impossible date: the static checks report it
    return reference_date(ref)


def checkable(url: str | None) -> bool:
    """Whether ``url`` is well formed enough to ask the network about."""
    # url_problem is memoised: a url cited by many references is judged once, not once per citation.
    return bool(url) and url_problem(url or "") is None


def excluded(ref: Reference) -> bool:
    """An editor marked the url usurped or unfit (CS1): the domain now serves something else.

    Fetching it proves nothing about the source (a spam page answers 200), so the
    link is not checked; its archive still is.
    """
    return ref.url_status in (UrlStatus.USURPED, UrlStatus.UNFIT)


_M = TypeVar("_M", bound=BaseModel)


class ProblemPool:
    """One shared :class:`AuditProblem` per distinct (code, severity, message) of an audit.

    Most live problems repeat word for word (every fresh 404 says the same thing),
    and a frozen model can be shared: 10,000 dead links then cost one object, not 10,000.
    """

    __slots__ = ("_fields", "_known")

    def __init__(self) -> None:
        self._known: dict[tuple[str, Severity, str], AuditProblem] = {}
        self._fields: dict[tuple[type[BaseModel], frozenset[str]], set[str]] = {}

    def get(self, code: str, severity: Severity, message: str) -> AuditProblem:
        """The shared problem with these fields."""
        key = (code, severity, message)
        problem = self._known.get(key)
        if problem is None:
            problem = self._known[key] = self.compact(AuditProblem(code=code, severity=severity, message=message))
        return problem

    def live(self, code: str, message: str) -> AuditProblem:
        """The shared problem of a live ``code``, at its severity in :data:`LIVE_CODES`."""
        return self.get(code, LIVE_CODES[code], message)

    def of(self, finding: Finding) -> AuditProblem:
        """The shared report form of a static finding."""
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
class RefFacts:
    """What a reference's verdict needs of it, kept while its article is let go."""

    id: str
    title: str | None
    url: str | None
    archive_url: str | None
    archive_date: str | None
    url_status: UrlStatus | None
    day: _dt.date | None
    excluded: bool


class CitedFacts(NamedTuple):
    """One citation of a claim: the reference it cites, where in it, and the quote (most have none)."""

    ref: str
    locator: str | None
    quote: str | None


@dataclass(slots=True)
class ArticleFacts:
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
    references: list[RefFacts]
    citations: dict[str, tuple[CitedFacts, ...]]  # by claim id: every citation, in order (quotes kept)

    @classmethod
    def of(cls, article: Article, revision: str | None, findings: list[Finding], pool: ProblemPool) -> ArticleFacts:
        """The facts of ``article`` at ``revision``, its static ``findings`` sorted by what they are about."""
        by_claim: dict[str, list[AuditProblem]] = {}
        by_ref: dict[str, list[AuditProblem]] = {}
        general: list[AuditProblem] = []
        static_url_refs: set[str] = set()
        for finding in findings:
            if finding.claim_id is not None:
                by_claim.setdefault(finding.claim_id, []).append(pool.of(finding))
            elif finding.ref_id is not None:
                by_ref.setdefault(finding.ref_id, []).append(pool.of(finding))
                if finding.code.startswith("url-"):
                    static_url_refs.add(finding.ref_id)
            else:
                general.append(pool.of(finding))
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
                RefFacts(
                    id=ref.id,
                    title=ref.title,
                    url=ref.url,
                    archive_url=ref.archive_url,
                    archive_date=ref.archive_date,
                    url_status=ref.url_status,
                    day=query_day(ref) if ref.url else None,
                    excluded=excluded(ref),
                )
                for ref in article.references
            ],
            citations={
                claim.id: tuple(CitedFacts(c.ref, c.locator, c.quote) for c in claim.citations)
                for claim in article.claims()
                if claim.citations
            },
        )


@dataclass(slots=True)
class Collected:
    """The first phase's result: the articles' facts, and what the live phases are to ask, each once."""

    items: list[ArticleFacts]
    urls: list[str]  # distinct checkable urls to fetch, in first-cited order
    queries: list[SnapshotQuery]  # distinct nearest-snapshot questions (none when nothing will be looked up)
    stored: list[str]  # distinct stored archive urls that are snapshot links, to resolve


def _archive_base(archive: Archive | None) -> str | tuple[str, ...] | None:
    """The configured archive root(s): snapshot links under them are well formed too."""
    if archive is None:
        return wayback_base_from_env()
    return tuple(getattr(archive, "base_urls", ())) or getattr(archive, "base_url", None)


def collect(
    targets: Iterable[tuple[Article, str | None]],
    options: AuditOptions,
    today: _dt.date,
    titles: KnownTitles | None,
    pool: ProblemPool,
    emit: Progress,
) -> Collected:
    """Check every ``(article, revision)`` statically in one pass, keeping only their facts.

    An iterator of articles loaded one at a time is never held whole: each
    article is dropped before the progress call that reports it.
    """
    archive = options.archive
    archive_base = _archive_base(archive)
    expected = operator.length_hint(targets, 0)
    items: list[ArticleFacts] = []
    urls: dict[str, None] = {}
    queries: dict[SnapshotQuery, None] = {}
    stored: dict[str, None] = {}
    env_base = wayback_base_from_env()
    look_up = not (options.offline or options.no_archive)  # snapshot questions are only kept if they will be asked
    index = 0
    for article, revision in targets:  # not enumerate(): it keeps its last tuple, and so the last article
        index += 1
        findings = run_static_checks(article, today=today, known_titles=titles, archive_base=archive_base)
        item = ArticleFacts.of(article, revision, findings, pool)
        items.append(item)
        for ref in item.references:
            if ref.url and checkable(ref.url):
                if look_up:
                    queries.setdefault(SnapshotQuery(ref.url, ref.day), None)
                if not ref.excluded:
                    urls.setdefault(ref.url, None)
            # Only links that are snapshots are resolved; the static checks already report the others.
            if (
                ref.archive_url
                and ref.archive_url not in stored
                and checkable(ref.archive_url)
                and parse_archive_url(
                    ref.archive_url,
                    base_url=base_for(archive, ref.archive_url) if archive is not None else env_base,
                )
                is not None
            ):
                stored[ref.archive_url] = None
        del article, findings  # before the progress call: the audit holds no article while it waits
        emit(AuditEvent(AuditPhase.STATIC, index, max(expected, index), item.slug))
    return Collected(items, list(urls), list(queries), list(stored))
