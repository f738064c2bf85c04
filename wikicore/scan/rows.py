"""One page in, rows out: import with the wikitext importer, run the static checks, flatten.

This is the scan's unit of work and it is plain Python (no Dask, no Arrow), so it
is tested directly. Rows accumulate column by column in a :class:`Rows` (what
Arrow wants), one per batch; a worker turns it into Parquet files.

A page that cannot be imported is a **finding** (code ``page-invalid`` for a
:class:`~wikicore.errors.WikicoreError`, such as a budget or cap the importer
enforces; ``page-failed`` for anything else, a bug worth reporting) carrying
the page's title, and the scan goes on.
"""

from __future__ import annotations

import datetime as _dt
import zlib
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..audit.static import run_static_checks
from ..errors import WikicoreError
from ..mediawiki.importer import import_wikitext, parse_redirect
from ..models import Article, slugify
from .source import Page

__all__ = [
    "ARTICLE_COLUMNS",
    "CLAIM_COLUMNS",
    "FINDING_COLUMNS",
    "REFERENCE_COLUMNS",
    "URLREF_COLUMNS",
    "BatchCounts",
    "Rows",
    "scan_page",
    "url_bucket",
]

#: Columns of each table, in order (types are in :mod:`wikicore.scan.tables`).
ARTICLE_COLUMNS = ("slug", "title", "revision_id", "timestamp", "chars", "claim_count", "cited_claim_count",
                   "reference_count", "finding_count")
#: ``locators`` and ``quotes`` run beside ``ref_ids``, one entry per citation (null where it has none),
#: so a user can audit quotes over a whole dump.
CLAIM_COLUMNS = ("slug", "claim_id", "position", "section_id", "text", "ref_ids", "locators", "quotes")
REFERENCE_FIELDS = ("type", "name", "title", "authors", "date", "publisher", "work", "language", "url", "isbn",
                    "doi", "issn", "volume", "issue", "pages", "access_date", "archive_url", "archive_date",
                    "url_status", "via", "raw")
REFERENCE_COLUMNS = ("slug", "ref_id", *REFERENCE_FIELDS, "citation_count")
FINDING_COLUMNS = ("slug", "title", "code", "severity", "message", "claim_id", "ref_id")
#: The staging rows the ``urls`` table is reduced from: one per (url, article).
URLREF_COLUMNS = ("url", "slug", "refs")

#: Codes the scan adds to those of :mod:`wikicore.audit.static` (all severity error).
PAGE_INVALID = "page-invalid"
PAGE_FAILED = "page-failed"
CHUNK_INVALID = "dump-chunk-invalid"


def url_bucket(url: str, buckets: int) -> int:
    """The reduce bucket of ``url``: a stable hash (CRC-32), the same in every process."""
    return zlib.crc32(url.encode("utf-8", "surrogatepass")) % buckets


@dataclass
class BatchCounts:
    """What one batch did, in numbers: all the client gets back besides file names."""

    pages: int = 0
    articles: int = 0
    redirects: int = 0
    skipped: int = 0
    bad_pages: int = 0
    claims: int = 0
    references: int = 0
    findings: int = 0

    def add(self, other: BatchCounts) -> None:
        """Add ``other``'s counts to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _append(table: dict[str, list[Any]], **values: Any) -> None:
    """One row onto a table of column lists (every column named once)."""
    for name, column in table.items():
        column.append(values[name])


@dataclass
class Rows:
    """Column lists for every table of one batch."""

    articles: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in ARTICLE_COLUMNS})
    claims: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in CLAIM_COLUMNS})
    references: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in REFERENCE_COLUMNS})
    findings: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in FINDING_COLUMNS})
    urlrefs: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in URLREF_COLUMNS})
    counts: BatchCounts = field(default_factory=BatchCounts)

    def finding(self, slug: str | None, title: str, code: str, severity: str, message: str,
                claim_id: str | None = None, ref_id: str | None = None) -> None:
        """Add one row to ``findings``."""
        _append(self.findings, slug=slug, title=title, code=code, severity=severity, message=message,
                     claim_id=claim_id, ref_id=ref_id)
        self.counts.findings += 1

    def bad_page(self, slug: str | None, title: str, code: str, message: str) -> None:
        """Report a page the scan could not read, as an error finding with its title."""
        self.finding(slug, title, code, "error", message)
        self.counts.bad_pages += 1


def _value(value: Any) -> Any:
    """Enums as their string value, lists as lists of strings, everything else as is."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def _article_rows(article: Article, page: Page, rows: Rows, today: _dt.date) -> None:
    slug = article.slug
    cited: Counter[str] = Counter()
    claims = 0
    cited_claims = 0
    for position, (section, claim) in enumerate(article.claim_sections()):
        ref_ids = [citation.ref for citation in claim.citations]
        cited.update(ref_ids)
        claims += 1
        cited_claims += bool(ref_ids)
        _append(rows.claims, slug=slug, claim_id=claim.id, position=position,
                     section_id=section.id if section is not None else None, text=claim.text, ref_ids=ref_ids,
                     locators=[c.locator for c in claim.citations], quotes=[c.quote for c in claim.citations])
    per_url: Counter[str] = Counter()
    for ref in article.references:
        values = {name: _value(getattr(ref, name)) for name in REFERENCE_FIELDS}
        _append(rows.references, slug=slug, ref_id=ref.id, citation_count=cited[ref.id], **values)
        url = (ref.url or "").strip()
        if url:
            per_url[url] += 1
    for url in sorted(per_url):
        _append(rows.urlrefs, url=url, slug=slug, refs=per_url[url])
    findings = run_static_checks(article, today=today)
    for found in findings:
        rows.finding(slug, article.title, found.code, found.severity.value, found.message, found.claim_id,
                     found.ref_id)
    _append(rows.articles, slug=slug, title=article.title, revision_id=page.revision_id or None,
                 timestamp=page.timestamp or None, chars=len(page.text or ""), claim_count=claims,
                 cited_claim_count=cited_claims, reference_count=len(article.references),
                 finding_count=len(findings))
    rows.counts.articles += 1
    rows.counts.claims += claims
    rows.counts.references += len(article.references)


def scan_page(page: Page, rows: Rows, today: _dt.date) -> None:
    """Import one page, check it and add its rows; never raises for a bad page.

    Redirects are counted, not scanned (they are aliases, not articles); a page
    whose text is missing or deleted is counted as skipped.
    """
    rows.counts.pages += 1
    if page.text is None:
        rows.counts.skipped += 1
        return
    if parse_redirect(page.text) is not None:
        rows.counts.redirects += 1
        return
    try:
        slug = slugify(page.title)
    except ValueError as error:
        rows.bad_page(None, page.title, PAGE_INVALID, f"{page.title!r}: cannot be a slug: {error}")
        return
    try:
        article = import_wikitext(page.text, slug=slug, title=page.title)
    except WikicoreError as error:
        # Budgets and caps of the importer (and its validation) land here: one bad page, one finding.
        message = " ".join(str(error).split())
        rows.bad_page(slug, page.title, PAGE_INVALID, f"{page.title!r} revision {page.revision_id}: {message}")
        return
    except RecursionError:
        rows.bad_page(slug, page.title, PAGE_FAILED,
                      f"{page.title!r} revision {page.revision_id}: nesting too deep to parse")
        return
    except Exception as error:  # a bug in parsing one page must not end a six-million-page scan
        rows.bad_page(slug, page.title, PAGE_FAILED,
                      f"{page.title!r} revision {page.revision_id}: internal error: {type(error).__name__}: {error}")
        return
    _article_rows(article, page, rows, today)
