"""Verdict rules: a reference's link result and archive answers, turned into its status and problems.

This is where the audit decides what a finding means for readers: a dead link
whose stored archive works is information, one with a snapshot nobody stored
is a warning, one with no copy at all is an error (the codes are tabled in
:mod:`wikicore.audit.report`). The rules read only the phases' answers, never
the network, so they are the same for a live audit and an offline one.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ..archive import Snapshot, SnapshotQuery
from ..links.checker import LinkResult, LinkStatus
from ..models import UrlStatus
from .collect import ArticleFacts, ProblemPool, RefFacts
from .report import ArchiveInfo, ArticleAudit, AuditProblem, AuditSummary, ClaimAudit, ReferenceAudit
from .static import Severity, date_range

__all__ = ["Evidence", "article_audit"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the live phases found, for every article's verdicts.

    ``archive_unknown``: the archive was not asked (``no_archive``) or failed, so
    a missing snapshot proves nothing and is not held against a reference.
    """

    offline: bool
    links: dict[str, LinkResult]
    nearest: dict[SnapshotQuery, Snapshot | None]
    resolved: dict[str, Snapshot | None]
    archive_unknown: bool


def article_audit(item: ArticleFacts, evidence: Evidence, pool: ProblemPool) -> ArticleAudit:
    """The report entry of one article: its references' verdicts, its claims, its counts."""
    by_claim = item.by_claim
    general = item.general
    references = tuple(
        pool.compact(
            _reference_audit(
                ref, item.by_ref.get(ref.id, []), ref.id in item.static_url_refs, evidence, pool
            )
        )
        for ref in item.references
    )
    dead = {ref.id for ref in references if _lost(ref)}
    for claim_id, _text, cited in item.claims:
        if cited and dead.issuperset(cited):
            by_claim.setdefault(claim_id, []).append(
                pool.live(
                    "claim-sources-dead",
                    f"every source it cites is dead or failing persistently: {', '.join(sorted(cited))}",
                )
            )
    claims = tuple(
        pool.compact(ClaimAudit(id=claim_id, text=text, problems=tuple(by_claim.get(claim_id, []))))
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


#: An error that has lasted this long (over two or more checks) is persistent, not a blip.
_PERSISTENT = _dt.timedelta(days=1)


def _lost(ref: ReferenceAudit) -> bool:
    """A source readers cannot reach: dead with no copy, or failing over more than one check a day apart."""
    if any(p.code == "link-dead" for p in ref.problems):
        return True
    if ref.status is LinkStatus.ERROR and ref.failures >= 2 and ref.first_failed and ref.checked_at:
        return ref.checked_at - ref.first_failed >= _PERSISTENT
    return False


def _reference_audit(
    ref: RefFacts, problems: list[AuditProblem], bad_url: bool, evidence: Evidence, pool: ProblemPool
) -> ReferenceAudit:
    """Combine the link result, the archive answers and the static findings into one verdict."""
    problems = list(problems)
    base = {"id": ref.id, "title": ref.title, "url": ref.url, "archive_url": ref.archive_url}
    if not ref.url:
        stored_ok = _stored_archive(ref, evidence.resolved, problems, pool)
        return ReferenceAudit(**base, status=LinkStatus.NO_URL, archive_resolves=stored_ok, problems=tuple(problems))
    if bad_url:
        return ReferenceAudit(**base, status=LinkStatus.INVALID, problems=tuple(problems))
    if ref.excluded and not evidence.offline:
        stored_ok = _stored_archive(ref, evidence.resolved, problems, pool)
        if not stored_ok:
            problems.append(
                pool.live(
                    "link-excluded-no-archive", f"the url is marked {ref.url_status} and no working archive is stored"
                )
            )
        return ReferenceAudit(**base, status=LinkStatus.UNCHECKED, archive_resolves=stored_ok, problems=tuple(problems))
    result = None if evidence.offline else evidence.links.get(ref.url)
    if result is None:
        return ReferenceAudit(**base, status=LinkStatus.UNCHECKED, problems=tuple(problems))

    day = ref.day
    snapshot = evidence.nearest.get(SnapshotQuery(ref.url, day))
    archive = (
        pool.compact(
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
    stored_ok = _stored_archive(ref, evidence.resolved, problems, pool)
    problems.extend(_link_problems(ref, result, snapshot, stored_ok, evidence.archive_unknown, pool))
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
    ref: RefFacts, resolved: dict[str, Snapshot | None], problems: list[AuditProblem], pool: ProblemPool
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
            pool.live("archive-url-unresolved", f"the stored archive url {ref.archive_url} leads to no capture")
        )
        return False
    problems[:] = [p for p in problems if p.code != "archive-date-mismatch"]
    taken = capture.timestamp.astimezone(_dt.UTC).date()
    span = date_range(ref.archive_date) if ref.archive_date else None
    if span is not None and not span[0] - _dt.timedelta(days=1) <= taken <= span[1] + _dt.timedelta(days=1):
        problems.append(
            pool.get(
                "archive-date-mismatch",
                Severity.WARNING,
                f"archive date {ref.archive_date} but the capture the link leads to was taken {taken.isoformat()}",
            )
        )
    if not capture.ok:
        problems.append(
            pool.live(
                "archive-url-unresolved",
                f"the stored archive url {ref.archive_url} leads to an archived error page "
                f"(HTTP {capture.status_code} captured {taken.isoformat()}), not a copy of the source",
            )
        )
        return False
    return True


def _link_problems(
    ref: RefFacts,
    result: LinkResult,
    snapshot: Snapshot | None,
    stored_ok: bool | None,
    archive_unknown: bool,
    pool: ProblemPool,
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
            yield pool.live("link-dead-archived", f"{history}; the stored archive copy works{tip}")
        elif snapshot is not None:
            yield pool.live(
                "link-dead-archive-available",
                f"{history}; set archive_url to {snapshot.archive_url} ({snapshot.timestamp.date().isoformat()})",
            )
        else:
            why = " (archive coverage unknown)" if archive_unknown else ""
            yield pool.live("link-dead", f"{history} and no archived copy is known{why}")
    elif status == LinkStatus.SOFT_404:
        tip = f"; an archived copy exists: {snapshot.archive_url}" if snapshot else ""
        yield pool.live("link-soft-404", f"answers {http} with what looks like a 'not found' page{tip}")
    elif status == LinkStatus.BLOCKED:
        yield pool.live("link-blocked", f"access refused ({http}); a human must look, it may well be alive")
    elif status == LinkStatus.ERROR:
        if result.failures >= 2:
            yield pool.live("link-error", f"could not be checked ({result.error or http})")
        else:
            yield pool.live("link-error", f"could not be checked ({result.error or http}); probably transient")
    elif status == LinkStatus.INVALID:
        yield pool.live("link-invalid", result.error or "malformed url")
    elif status == LinkStatus.UNCHECKED:
        # Refused by our policy, or our queue never reached the host: nothing is known of the site.
        why = result.error or "not checked"
        yield pool.live("link-not-checked", why if why.startswith("not checked") else f"not checked: {why}")
    if status == LinkStatus.LIVE and result.error:
        # A paywall or consent page: live, since a reader can get through; the note says what they meet.
        yield pool.live("link-behind-wall", result.error)
    if status == LinkStatus.LIVE and snapshot is None and not stored_ok and not archive_unknown:
        yield pool.live("archive-missing", "no archived copy exists yet; consider saving one")
