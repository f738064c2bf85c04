"""wikicore: wiki articles as versioned, citation-checked data.

The public API lives here; everything else is an implementation detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .archive import ArchiveSet, Snapshot, WaybackArchive, open_archives, rescue_article
    from .audit import AuditOptions, AuditReport, archive_article, audit_articles, audit_wiki
    from .blame import Blame
    from .diff import ArticleDiff, diff_articles
    from .errors import (
        BudgetExceeded,
        EditConflict,
        ImportFailed,
        InvalidArticle,
        InvalidInput,
        InvalidRevision,
        InvalidSlug,
        NetworkError,
        NotFound,
        Problem,
        RateLimited,
        StaleLock,
        StoreError,
        WikicoreError,
    )
    from .exporters import export
    from .importers import import_path, import_text
    from .links import LinkResult, LinkStatus, check_urls
    from .models import (
        Article,
        Citation,
        Claim,
        ExternalLink,
        Media,
        Paragraph,
        Reference,
        ReferenceType,
        Section,
        Source,
        Template,
        UrlStatus,
        slugify,
    )
    from .net import CheckConfig
    from .revision import Revision
    from .scan import ScanSummary, scan_dump
    from .sentences import split_sentences
    from .serialize import dump_path, dumps, load_path, loads
    from .store import Wiki
# Every public name is loaded on first use (see wikicore._lazy for why); `from wikicore import Article`
# works as ever.
_LAZY = {
    **dict.fromkeys(
        ["BudgetExceeded", "EditConflict", "ImportFailed", "InvalidArticle", "InvalidInput", "InvalidRevision",
         "InvalidSlug", "NetworkError", "NotFound", "Problem", "RateLimited", "StaleLock", "StoreError",
         "WikicoreError"],
        "errors",
    ),
    "export": "exporters", "import_path": "importers", "import_text": "importers",
    **dict.fromkeys(
        ["Article", "Citation", "Claim", "ExternalLink", "Media", "Paragraph", "Reference", "ReferenceType",
         "Section", "Source", "Template", "UrlStatus", "slugify"],
        "models",
    ),
    "split_sentences": "sentences",
    "dump_path": "serialize", "dumps": "serialize", "load_path": "serialize", "loads": "serialize",
    "Wiki": "store", "Revision": "revision",
    "ArticleDiff": "diff", "diff_articles": "diff",
    "Blame": "blame",
    "AuditOptions": "audit", "AuditReport": "audit", "archive_article": "audit", "audit_articles": "audit",
    "audit_wiki": "audit",
    "CheckConfig": "net", "LinkResult": "links", "LinkStatus": "links", "check_urls": "links",
    "Snapshot": "archive", "WaybackArchive": "archive", "rescue_article": "archive",
    "ArchiveSet": "archive", "open_archives": "archive",
    "ScanSummary": "scan", "scan_dump": "scan",
}


__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "ArchiveSet",
    "Article",
    "ArticleDiff",
    "AuditOptions",
    "AuditReport",
    "Blame",
    "BudgetExceeded",
    "CheckConfig",
    "Citation",
    "Claim",
    "EditConflict",
    "ExternalLink",
    "ImportFailed",
    "InvalidArticle",
    "InvalidInput",
    "InvalidRevision",
    "InvalidSlug",
    "LinkResult",
    "LinkStatus",
    "Media",
    "NetworkError",
    "NotFound",
    "Paragraph",
    "Problem",
    "RateLimited",
    "Reference",
    "ReferenceType",
    "Revision",
    "ScanSummary",
    "Section",
    "Snapshot",
    "Source",
    "StaleLock",
    "StoreError",
    "Template",
    "UrlStatus",
    "WaybackArchive",
    "Wiki",
    "WikicoreError",
    "__version__",
    "archive_article",
    "audit_articles",
    "audit_wiki",
    "check_urls",
    "diff_articles",
    "dump_path",
    "dumps",
    "export",
    "import_path",
    "import_text",
    "load_path",
    "loads",
    "open_archives",
    "rescue_article",
    "scan_dump",
    "slugify",
    "split_sentences",
]
