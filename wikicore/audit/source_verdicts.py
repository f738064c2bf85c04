"""The source-text phase's answers in the report: each citation's quote check, each reference's drift, their problems.

Pure assembly: :func:`attach_sources` reads the answers the phase gathered
(:class:`~wikicore.audit.quotes.SourceAnswers`) into an article's audit, its
records shared through the run's :class:`~wikicore.audit.collect.ProblemPool`.
"""

from __future__ import annotations

from collections import Counter

from ..archive import Snapshot
from .collect import ArticleFacts, ProblemPool
from .quotes import DriftKey, QuoteKey, SourceAnswers
from .report import ArticleAudit, AuditProblem, CitationAudit, ClaimAudit, ReferenceAudit
from .static import Severity

__all__ = ["attach_sources"]


def _quote_problems(
    citation: CitationAudit, key: QuoteKey, snapshot: Snapshot | None, answers: SourceAnswers, pool: ProblemPool
) -> list[AuditProblem]:
    check = citation.quote_check
    problems: list[AuditProblem] = []
    if check is None:
        return problems
    if check.status == "changed" and snapshot is not None:
        problems.append(pool.live(
            "quote-changed",
            f"the quote cited from {citation.ref} is in the capture of {snapshot.timestamp.date().isoformat()} "
            f"({snapshot.archive_url}) but no longer on the live page",
        ))
    elif check.status == "missing":
        where = (
            f"on neither the live page nor its capture of {snapshot.timestamp.date().isoformat()}"
            if snapshot is not None
            else "not on the page (and no capture to compare)"
        )
        problems.append(pool.live("quote-missing", f"the quote cited from {citation.ref} is {where}"))
    if key in answers.mismatched:
        problems.append(pool.live(
            "quote-locator-mismatch",
            f"{citation.ref}: locator {citation.locator!r} but the quote is on page {check.page}",
        ))
    return problems


def attach_sources(
    audit: ArticleAudit, item: ArticleFacts, answers: SourceAnswers | None, pool: ProblemPool
) -> ArticleAudit:
    """``audit`` with its claims' citations (and their quote checks), references' drift, and their problems.

    ``answers`` is None when the phase did not run (offline, ``no_quotes``): the
    citations are still listed, without checks.
    """
    refs = {ref.id: ref for ref in item.references}
    added: Counter[str] = Counter()
    claims: list[ClaimAudit] = []
    for claim in audit.claims:
        cited = item.citations.get(claim.id, ())
        citations: list[CitationAudit] = []
        problems = list(claim.problems)
        for one in cited:
            ref = refs.get(one.ref)
            key: QuoteKey | None = (
                (ref.url, ref.day, one.quote, one.locator) if ref is not None and ref.url and one.quote else None
            )
            check = answers.quotes.get(key) if answers is not None and key is not None else None
            citation = pool.compact(CitationAudit(ref=one.ref, locator=one.locator, quote=one.quote, quote_check=check))
            citations.append(citation)
            if key is not None and answers is not None:
                new = _quote_problems(citation, key, answers.captures.get((key[0], key[1])), answers, pool)
                problems.extend(new)
                added.update(p.severity.value for p in new)
        claims.append(
            claim if not citations else pool.compact(
                claim.model_copy(update={"citations": tuple(citations), "problems": tuple(problems)})
            )
        )
    references: list[ReferenceAudit] = []
    for reference in audit.references:
        ref = refs.get(reference.id)
        place: DriftKey | None = (ref.url, ref.day) if answers is not None and ref is not None and ref.url else None
        info = answers.drift.get(place) if answers is not None and place is not None else None
        snapshot = answers.captures.get(place) if answers is not None and place is not None else None
        since = answers.changed_since.get(place[0]) if answers is not None and place is not None else None
        if info is None or snapshot is None:
            references.append(
                reference if since is None else pool.compact(reference.model_copy(update={"text_changed_since": since}))
            )
            continue
        extra: list[AuditProblem] = []
        when = f"{snapshot.timestamp.date().isoformat()} ({snapshot.archive_url})"
        if info.status == "unrelated":
            extra.append(pool.live(
                "content-drift", f"the live page now holds something else: {info.similarity:.0%} of the capture of "
                f"{when} is still on it",
            ))
        elif info.status == "changed":
            extra.append(pool.get(
                "content-drift", Severity.INFO,
                f"the live page has changed since the capture of {when}: {info.similarity:.0%} of it is still there",
            ))
        added.update(p.severity.value for p in extra)
        references.append(pool.compact(reference.model_copy(
            update={"drift": info, "text_changed_since": since, "problems": reference.problems + tuple(extra)}
        )))
    summary = audit.summary
    if added:
        by_severity = dict(summary.by_severity)
        for severity, count in added.items():
            by_severity[severity] = by_severity.get(severity, 0) + count
        summary = summary.model_copy(update={"by_severity": by_severity})
    return audit.model_copy(update={"claims": tuple(claims), "references": tuple(references), "summary": summary})
