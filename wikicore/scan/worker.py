"""The tasks that run on Dask workers; each writes its own partition and returns numbers.

Nothing big travels back to the client: a task returns a :class:`BatchResult`
(counts and the url staging layout), never rows. Tasks are idempotent (a
partition file is replaced whole), so Dask may rerun one after a lost worker.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WikicoreError
from .rows import CHUNK_INVALID, BatchCounts, Rows, scan_page
from .source import DAMAGED, ByteRange, Page, iter_range_pages
from .tables import reduce_bucket, write_batch

__all__ = ["BatchResult", "reduce", "scan_batch", "scan_range"]


@dataclass
class BatchResult:
    """What a batch task sends back: its index, counts and ``{staging: {bucket: row_group}}``."""

    index: int
    counts: BatchCounts
    staged: dict[str, dict[int, int]] = field(default_factory=dict)


def scan_batch(root: str, index: int, pages: list[Page], today: str, buckets: int) -> BatchResult:
    """Scan a batch of pages shipped by the client and write partition ``index``."""
    day = _dt.date.fromisoformat(today)
    rows = Rows()
    for page in pages:
        scan_page(page, rows, day)
    groups = write_batch(Path(root), index, rows, buckets)
    return BatchResult(index, rows.counts, groups)


def scan_range(root: str, dump: str, part: ByteRange, header: bytes, today: str, buckets: int,
               namespaces: frozenset[int]) -> BatchResult:
    """Decompress and scan one byte range of a multistream dump, and write partition ``part.index``.

    A damaged range (bad bz2, broken XML, a cap of the dump reader) becomes one
    ``dump-chunk-invalid`` finding naming the byte range and the last title read;
    the pages read before the damage are kept.
    """
    day = _dt.date.fromisoformat(today)
    rows = Rows()
    last = ""
    try:
        for page in iter_range_pages(dump, part, header):
            last = page.title
            if page.namespace in namespaces:
                scan_page(page, rows, day)
    except (*DAMAGED, WikicoreError) as error:
        where = f" after {last!r}" if last else ""
        message = " ".join(str(error).split()) or type(error).__name__
        rows.bad_page(None, last, CHUNK_INVALID, f"{dump}: bytes {part.start}-{part.end}{where}: {message}")
    groups = write_batch(Path(root), part.index, rows, buckets)
    return BatchResult(part.index, rows.counts, groups)


def reduce(root: str, bucket: int, url_parts: list[tuple[int, int]],
           slug_parts: list[tuple[int, int]]) -> tuple[int, int]:
    """Reduce one bucket (see :func:`wikicore.scan.tables.reduce_bucket`)."""
    return reduce_bucket(Path(root), bucket, url_parts, slug_parts)
