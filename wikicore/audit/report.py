"""The audit report: its pydantic models, and the problem codes the live phases add.

:func:`wikicore.audit.audit_articles` builds an :class:`AuditReport`; the
renderers (:mod:`wikicore.report.audit`) and ``schemas/audit.schema.json`` read
it. The models are frozen and do nothing but count, so one problem object can
be shared by every reference that has it. Live problem codes (the static ones
are in :mod:`wikicore.audit.static`):

==============================  ========  =====================================================
code                            severity  meaning
==============================  ========  =====================================================
link-dead                       error     dead (or confirmed dead) and no archived copy known
link-dead-archive-available     warning   dead; a snapshot exists but ``archive_url`` lacks it
link-dead-archived              info      dead; the stored ``archive_url`` works
link-soft-404                   warning   answers 200 with an error page
link-blocked                    warning   401/403/429, bot wall or paywall: a human must look
link-error                      info      timeout, reset, 5xx, TLS: probably transient
link-invalid                    error     a malformed url the checker cannot request
link-not-checked                warning   refused by policy (a private address: ``--allow-private``
                                          would check it) or the host's turn never came: not a verdict
link-behind-wall                info      live, behind a paywall or a consent page readers must pass
archive-url-unresolved          warning   the stored ``archive_url`` leads to no capture
archive-missing                 info      a live link with no snapshot at all: archive it now
link-excluded-no-archive        error     ``url_status`` usurped/unfit (not checked) and no working
                                          stored archive: readers have nothing to follow
claim-sources-dead              warning   every reference the claim cites is dead (``link-dead``)
                                          or failing persistently: the claim has lost its support
==============================  ========  =====================================================

Urls an editor marked ``usurped`` or ``unfit`` are not fetched (a hijacked
domain answers 200 with spam) and get ``unchecked``; their archives are.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..links.checker import LinkStatus
from .static import Finding, Severity

__all__ = [
    "LIVE_CODES",
    "ArchiveInfo",
    "ArticleAudit",
    "AuditProblem",
    "AuditReport",
    "AuditSummary",
    "ClaimAudit",
    "ReferenceAudit",
]

#: Problem codes the live phases add, with their severities (see the table in the module docstring).
LIVE_CODES: dict[str, Severity] = {
    "link-dead": Severity.ERROR,
    "link-dead-archive-available": Severity.WARNING,
    "link-dead-archived": Severity.INFO,
    "link-soft-404": Severity.WARNING,
    "link-blocked": Severity.WARNING,
    "link-error": Severity.INFO,
    "link-invalid": Severity.ERROR,
    "link-not-checked": Severity.WARNING,
    "link-behind-wall": Severity.INFO,
    "archive-url-unresolved": Severity.WARNING,
    "archive-missing": Severity.INFO,
    "link-excluded-no-archive": Severity.ERROR,
    "claim-sources-dead": Severity.WARNING,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AuditProblem(_Frozen):
    """One finding as the report shows it."""

    code: str = Field(description="Stable kebab-case code; see wikicore.audit.static and wikicore.audit.report.")
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

    # The JSON output names its schema and version, both checked on reading: another version's document is refused.
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
