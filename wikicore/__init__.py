"""wikicore: wiki articles as versioned, citation-checked data.

The public API lives here; everything else is an implementation detail.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
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
from .sentences import split_sentences
from .serialize import dump_path, dumps, load_path, loads

__all__ = [
    "Article",
    "Citation",
    "Claim",
    "EditConflict",
    "ExternalLink",
    "ImportFailed",
    "InvalidArticle",
    "InvalidInput",
    "InvalidRevision",
    "InvalidSlug",
    "Media",
    "NetworkError",
    "NotFound",
    "Paragraph",
    "Problem",
    "RateLimited",
    "Reference",
    "ReferenceType",
    "Section",
    "Source",
    "StaleLock",
    "StoreError",
    "Template",
    "UrlStatus",
    "WikicoreError",
    "__version__",
    "dump_path",
    "dumps",
    "export",
    "import_path",
    "import_text",
    "load_path",
    "loads",
    "slugify",
    "split_sentences",
]
