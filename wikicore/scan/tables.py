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

__all__ = ["SCHEMAS", "SLUG_COLLISION", "TABLES", "reduce_bucket", "write_batch"]

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
        ("locators", _LIST), ("quotes", _LIST),
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
#: Staging directories (inside the partial output) of the per-batch url and slug rows.
URLREFS = "_urlrefs"
SLUGS = "_slugs"
_SLUGS = pa.schema([("slug", _S), ("title", _S)])
#: The code of a finding for titles that share a slug (severity warning).
SLUG_COLLISION = "slug-collision"


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


def _stage(path: Path, keyed: list[tuple[Any, ...]], schema: pa.Schema) -> dict[int, int]:
    """Write ``(bucket, *columns)`` rows, sorted, one row group per bucket; return ``{bucket: row_group}``."""
    keyed.sort()
    layout: dict[int, int] = {}
    if not keyed:
        return layout
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with pq.ParquetWriter(temp, schema) as writer:
            start = 0
            while start < len(keyed):
                bucket = keyed[start][0]
                end = start
                while end < len(keyed) and keyed[end][0] == bucket:
                    end += 1
                group = keyed[start:end]
                columns = {c: [row[i + 1] for row in group] for i, c in enumerate(schema.names)}
                writer.write_table(pa.Table.from_pydict(columns, schema=schema), row_group_size=len(group) + 1)
                layout[bucket] = len(layout)
                start = end
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return layout


def write_batch(root: Path, index: int, rows: Rows, buckets: int) -> dict[str, dict[int, int]]:
    """Write one batch's partition of every table under ``root``; return its staging layout.

    Two things need every batch before they can be written: the ``urls`` table
    (one row per distinct URL) and the slug collision check. Their rows are staged
    in one file per batch whose row groups are the reduce buckets, so each reducer
    reads only its own: the returned ``{staging: {bucket: row_group}}`` says where.
    """
    name = part_name(index)
    for table in ("articles", "claims", "references", "findings"):
        _write(pa.Table.from_pydict(getattr(rows, table), schema=SCHEMAS[table]), root / table / name)
    refs = rows.urlrefs
    urls = [(url_bucket(row[0], buckets), *row) for row in zip(*(refs[c] for c in URLREF_COLUMNS), strict=True)]
    slugs = [(url_bucket(slug, buckets), slug, title)
             for slug, title in zip(rows.articles["slug"], rows.articles["title"], strict=True)]
    return {URLREFS: _stage(root / URLREFS / name, urls, _URLREFS),
            SLUGS: _stage(root / SLUGS / name, slugs, _SLUGS)}


def host_of(url: str) -> str | None:
    """The URL's host, lower-cased; None when it has none or cannot be parsed."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def _read_staged(root: Path, staging: str, parts: Iterable[tuple[int, int]], schema: pa.Schema) -> pa.Table:
    tables = [pq.ParquetFile(root / staging / part_name(index)).read_row_group(group) for index, group in parts]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def reduce_bucket(root: Path, bucket: int, url_parts: Iterable[tuple[int, int]],
                  slug_parts: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Reduce one bucket: ``urls/part-BUCKET`` and its slug collisions; return (urls, collision findings).

    Parts name ``(batch index, row group)`` pairs. Memory is one bucket's rows: the
    number of buckets bounds it whatever the dump's size.
    """
    merged = _read_staged(root, URLREFS, url_parts, _URLREFS).sort_by([("url", "ascending"), ("slug", "ascending")])
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
    titles: dict[str, set[str]] = {}
    staged = _read_staged(root, SLUGS, slug_parts, _SLUGS)
    for slug, title in zip(staged.column("slug").to_pylist(), staged.column("title").to_pylist(), strict=True):
        titles.setdefault(slug, set()).add(title)
    findings: dict[str, list[Any]] = {name: [] for name in SCHEMAS["findings"].names}
    for slug in sorted(titles):
        if len(titles[slug]) < 2:
            continue
        for title in sorted(titles[slug]):
            others = ", ".join(repr(t) for t in sorted(titles[slug] - {title}))
            values = {"slug": slug, "title": title, "code": SLUG_COLLISION, "severity": "warning",
                      "message": f"{title!r} shares its slug {slug!r} with {others}: tell their rows apart by title",
                      "claim_id": None, "ref_id": None}
            for name, value in values.items():
                findings[name].append(value)
    if findings["slug"]:
        _write(pa.Table.from_pydict(findings, schema=SCHEMAS["findings"]),
               root / "findings" / f"slug-collisions-{bucket:06d}.parquet")
    return len(out["url"]), len(findings["slug"])
