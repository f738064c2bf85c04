"""The Parquet side of the scan: table schemas, partition files, and the ``urls`` reduce.

Needs pyarrow (the ``scale`` extra); only workers and the scan itself import it.

Every table is a directory of ``part-NNNNNN.parquet`` files with one explicit
schema, so pandas (``pd.read_parquet(DIR / "claims")``), DuckDB
(``read_parquet('DIR/claims/*.parquet')``) and Spark (``spark.read.parquet``)
read every partition alike, empty ones included. Files are written to a
temporary name and renamed: a reader (or a retried task) never sees half a file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from .rows import URLREF_COLUMNS, Rows, url_bucket

__all__ = ["SCHEMAS", "TABLES", "reduce_urls", "write_batch"]

_S = pa.string()
_I = pa.int64()
_LIST = pa.list_(pa.string())

#: Each table's schema; the column order is :mod:`wikicore.scan.rows`'.
SCHEMAS: dict[str, pa.Schema] = {
    "articles": pa.schema([
        ("slug", _S), ("title", _S), ("revision_id", _S), ("timestamp", _S), ("chars", _I), ("claim_count", _I),
        ("cited_claim_count", _I), ("reference_count", _I), ("finding_count", _I),
    ]),
    "claims": pa.schema([
        ("slug", _S), ("claim_id", _S), ("position", _I), ("section_id", _S), ("text", _S), ("ref_ids", _LIST),
    ]),
    "references": pa.schema([
        ("slug", _S), ("ref_id", _S), ("type", _S), ("name", _S), ("title", _S), ("authors", _LIST), ("date", _S),
        ("publisher", _S), ("work", _S), ("language", _S), ("url", _S), ("isbn", _S), ("doi", _S), ("issn", _S),
        ("volume", _S), ("issue", _S), ("pages", _S), ("access_date", _S), ("archive_url", _S),
        ("archive_date", _S), ("url_status", _S), ("via", _S), ("raw", _S), ("citation_count", _I),
    ]),
    "findings": pa.schema([
        ("slug", _S), ("title", _S), ("code", _S), ("severity", _S), ("message", _S), ("claim_id", _S),
        ("ref_id", _S),
    ]),
    "urls": pa.schema([
        ("url", _S), ("host", _S), ("reference_count", _I), ("article_count", _I), ("articles", _LIST),
    ]),
}
#: The tables a scan writes, in the order they are described.
TABLES = tuple(SCHEMAS)
_URLREFS = pa.schema([("url", _S), ("slug", _S), ("refs", _I)])
#: Staging directory (inside the partial output) of the per-batch url rows.
URLREFS = "_urlrefs"


def _write(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` through a temporary name in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(table, temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def part_name(index: int) -> str:
    """The file name of partition ``index``."""
    return f"part-{index:06d}.parquet"


def write_batch(root: Path, index: int, rows: Rows, buckets: int) -> dict[int, int]:
    """Write one batch's partition of every table under ``root``; return its url staging layout.

    The url rows are staged in one file whose row groups are the reduce buckets,
    sorted; the returned ``{bucket: row_group}`` lets each reducer read only its own.
    """
    name = part_name(index)
    for table in ("articles", "claims", "references", "findings"):
        _write(pa.Table.from_pydict(getattr(rows, table), schema=SCHEMAS[table]), root / table / name)
    refs = rows.urlrefs
    if not refs["url"]:
        return {}
    keyed = sorted(zip((url_bucket(u, buckets) for u in refs["url"]), *(refs[c] for c in URLREF_COLUMNS),
                       strict=True))
    layout: dict[int, int] = {}
    path = root / URLREFS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with pq.ParquetWriter(temp, _URLREFS) as writer:
            start = 0
            while start < len(keyed):
                bucket = keyed[start][0]
                end = start
                while end < len(keyed) and keyed[end][0] == bucket:
                    end += 1
                group = keyed[start:end]
                columns = {c: [row[i + 1] for row in group] for i, c in enumerate(URLREF_COLUMNS)}
                writer.write_table(pa.Table.from_pydict(columns, schema=_URLREFS), row_group_size=len(group) + 1)
                layout[bucket] = len(layout)
                start = end
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return layout


def host_of(url: str) -> str | None:
    """The URL's host, lower-cased; None when it has none or cannot be parsed."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def reduce_urls(root: Path, bucket: int, parts: Iterable[tuple[int, int]]) -> int:
    """Merge one bucket's staged url rows into ``urls/part-BUCKET.parquet``; return its row count.

    ``parts`` names ``(batch index, row group)`` pairs. Memory is one bucket's
    rows: the number of buckets bounds it whatever the dump's size.
    """
    tables = [pq.ParquetFile(root / URLREFS / part_name(index)).read_row_group(group) for index, group in parts]
    merged = pa.concat_tables(tables) if tables else _URLREFS.empty_table()
    merged = merged.sort_by([("url", "ascending"), ("slug", "ascending")])
    out: dict[str, list[Any]] = {name: [] for name in SCHEMAS["urls"].names}
    last: str | None = None
    for url, slug, refs in zip(*(merged.column(c).to_pylist() for c in URLREF_COLUMNS), strict=True):
        if url != last:
            out["url"].append(url)
            out["host"].append(host_of(url))
            out["reference_count"].append(0)
            out["article_count"].append(0)
            out["articles"].append([])
            last = url
        out["reference_count"][-1] += refs
        articles = out["articles"][-1]
        if not articles or articles[-1] != slug:
            articles.append(slug)
            out["article_count"][-1] += 1
    _write(pa.Table.from_pydict(out, schema=SCHEMAS["urls"]), root / "urls" / part_name(bucket))
    return len(out["url"])
