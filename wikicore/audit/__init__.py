"""The citation audit: static checks, live link checks and archive coverage, as one report.

One module a job: :mod:`.report` holds the report models and the live problem
codes; :mod:`.static` judges an article without the network; :mod:`.options`
says what a run is asked to do; :mod:`.run` collects the articles' facts
(:mod:`.collect`), checks their URLs live beside the archive lookups
(:mod:`.live`) and builds the report through the verdict rules
(:mod:`.verdicts`); :mod:`.targets` decides what an audit of a wiki covers.
Names load on first use (see :mod:`wikicore._lazy`), so the CLI's ``validate``
can use the static checks without loading the network stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .archiving import ArchiveOutcome, archive_article
    from .options import AuditEvent, AuditFields, AuditOptions, AuditPhase
    from .report import (
        LIVE_CODES,
        ArchiveInfo,
        ArticleAudit,
        AuditProblem,
        AuditReport,
        AuditSummary,
        ClaimAudit,
        ReferenceAudit,
    )
    from .run import audit_articles
    from .static import Finding, KnownTitles, Severity, run_static_checks, url_problems
    from .targets import audit_cache_path, audit_wiki, wiki_audit_targets

_EXPORTS = {
    **dict.fromkeys(["ArchiveOutcome", "archive_article"], "archiving"),
    **dict.fromkeys(["AuditEvent", "AuditFields", "AuditOptions", "AuditPhase"], "options"),
    **dict.fromkeys(
        ["LIVE_CODES", "ArchiveInfo", "ArticleAudit", "AuditProblem", "AuditReport", "AuditSummary", "ClaimAudit",
         "ReferenceAudit"],
        "report",
    ),
    "audit_articles": "run",
    **dict.fromkeys(["Finding", "KnownTitles", "Severity", "run_static_checks", "url_problems"], "static"),
    **dict.fromkeys(["audit_cache_path", "audit_wiki", "wiki_audit_targets"], "targets"),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "LIVE_CODES",
    "ArchiveInfo",
    "ArchiveOutcome",
    "ArticleAudit",
    "AuditEvent",
    "AuditFields",
    "AuditOptions",
    "AuditPhase",
    "AuditProblem",
    "AuditReport",
    "AuditSummary",
    "ClaimAudit",
    "Finding",
    "KnownTitles",
    "ReferenceAudit",
    "Severity",
    "archive_article",
    "audit_articles",
    "audit_cache_path",
    "audit_wiki",
    "run_static_checks",
    "url_problems",
    "wiki_audit_targets",
]
