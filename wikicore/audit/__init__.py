"""The citation audit: static checks, live link checks and archive coverage, as one report.

:mod:`.static` judges an article without the network; :mod:`.run` collects the
URLs of many articles, checks them live beside the archive lookups and builds
the report. Names load on first use (see :mod:`wikicore._lazy`), so the CLI's
``validate`` can use the static checks without loading the network stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .run import (
        LIVE_CODES,
        ArchiveInfo,
        ArticleAudit,
        AuditEvent,
        AuditPhase,
        AuditProblem,
        AuditReport,
        AuditSummary,
        ClaimAudit,
        ReferenceAudit,
        audit_articles,
        audit_cache_path,
        audit_wiki,
        wiki_audit_targets,
    )
    from .static import Finding, KnownTitles, Severity, run_static_checks, url_problems

_EXPORTS = {
    **dict.fromkeys(
        ["LIVE_CODES", "ArchiveInfo", "ArticleAudit", "AuditEvent", "AuditPhase", "AuditProblem", "AuditReport",
         "AuditSummary", "ClaimAudit", "ReferenceAudit", "audit_articles", "audit_cache_path", "audit_wiki",
         "wiki_audit_targets"],
        "run",
    ),
    **dict.fromkeys(["Finding", "KnownTitles", "Severity", "run_static_checks", "url_problems"], "static"),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

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
    "Finding",
    "KnownTitles",
    "ReferenceAudit",
    "Severity",
    "audit_articles",
    "audit_cache_path",
    "audit_wiki",
    "run_static_checks",
    "url_problems",
    "wiki_audit_targets",
]
