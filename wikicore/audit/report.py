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
quote-changed                   warning   a citation's quote is in the archive capture (date and
                                          url named) but no longer on the live page
quote-missing                   warning   a citation's quote is on neither the live page nor the capture
quote-locator-mismatch          info      the citation's ``locator`` names pages the quote is not on
content-drift                   warning   the live page now holds something else (``unrelated``);
                                (info)    info when it has only ``changed`` since the capture
==============================  ========  =====================================================

The quote and drift codes come from the source-text phase (:mod:`wikicore.audit.quotes`;
``no_quotes`` skips it); ``content-drift`` is tabled at its warning severity and
given as info for a page that only changed.

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
    "CitationAudit",
    "ClaimAudit",
    "DriftInfo",
    "QuoteCheckInfo",
    "ReferenceAudit",
    "SourcesSummary",
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
    "quote-changed": Severity.WARNING,
    "quote-missing": Severity.WARNING,
    "quote-locator-mismatch": Severity.INFO,
    "content-drift": Severity.WARNING,
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


class DriftInfo(_Frozen):
    """How far the live page has drifted from the capture near the access date (main texts compared)."""

    similarity: float = Field(ge=0, le=1, description="Share of the capture's text still on the live page.")
    capture: str = Field(description="The capture's timestamp, YYYYMMDDhhmmss.")
    status: Literal["same", "changed", "unrelated"]


class QuoteCheckInfo(_Frozen):
    """Whether the page still says the citation's quote (see docs/sources.md)."""

    status: Literal["found", "changed", "missing", "unchecked"]
    where: Literal["live", "archive", "both"] | None = None
    score: float = Field(ge=0, le=1, description="How well the best match agrees with the quote, 0..1.")
    context: str = Field(default="", description="The matched text with a little around it.")
    page: int | None = Field(default=None, description="The PDF page (from 1) the quote is on.")
    reason: str | None = Field(default=None, description="Why it could not be checked (or the live page's failure).")


class CitationAudit(_Frozen):
    """One citation of a claim: the reference, where in it, and the quote the claim rests on."""

    ref: str
    locator: str | None = None
    quote: str | None = None
    quote_check: QuoteCheckInfo | None = Field(
        default=None, description="The quote's check; null without a quote or when quotes were not checked."
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
    drift: DriftInfo | None = Field(
        default=None, description="The live page against the capture near the access date; null if not compared."
    )
    text_changed_since: _dt.datetime | None = Field(
        default=None,
        description="When the live page's current text was first seen, if the link history saw a different one "
        "before (from fingerprints, no archive asked); null otherwise.",
    )
    problems: tuple[AuditProblem, ...] = ()


class ClaimAudit(_Frozen):
    """A claim, its citations and its problems (every claim is listed, most with none)."""

    id: str
    text: str
    citations: tuple[CitationAudit, ...] = ()
    problems: tuple[AuditProblem, ...] = ()


class SourcesSummary(_Frozen):
    """Does the source still say it: quotes by check status, references by drift status."""

    quotes: dict[str, int] = Field(description="Citations with a quote, by quote_check status (unchecked: not run).")
    drift: dict[str, int] = Field(description="References compared with their capture, by drift status.")

    @property
    def drifted(self) -> int:
        """References whose live page changed or became unrelated."""
        return self.drift.get("changed", 0) + self.drift.get("unrelated", 0)


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
    # 2: claims list their citations with quote checks; references carry drift.
    schema_version: Literal[2] = 2

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

    def sources(self) -> SourcesSummary:
        """Quote checks and drift over every article ("sources still say it")."""
        quotes: Counter[str] = Counter()
        drift: Counter[str] = Counter()
        for article in self.articles:
            for claim in article.claims:
                quotes.update(
                    c.quote_check.status if c.quote_check else "unchecked" for c in claim.citations if c.quote
                )
            drift.update(ref.drift.status for ref in article.references if ref.drift is not None)
        return SourcesSummary(
            quotes={s: quotes[s] for s in ("found", "changed", "missing", "unchecked")},
            drift={s: drift[s] for s in ("same", "changed", "unrelated")},
        )

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
