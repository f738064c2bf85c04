"""Checking a scan's ``urls`` table with the link checker: ``wikicore audit --urls DIR``.

A thin layer on purpose: the URLs are streamed out of the Parquet table into
:func:`wikicore.links.checker.check_urls`, the same engine (politeness per host,
timeouts, caps, retries, Retry-After) and the same link database
(:class:`wikicore.links.history.LinkDB`: TTL reuse, the dead-link rule over history) as
every audit; the verdicts are written, streamed too, to a ``url_checks`` table
next to ``urls`` (replaced whole on each run, through a temporary file). The
audit's rule for a checker that was itself offline is the same one too
(:mod:`wikicore.links.offline`).
Memory stays flat in the number of URLs on both sides.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..links.checker import CheckConfig, LinkResult, LinkStatus, check_urls
from ..links.history import LinkDB
from ..links.offline import Offline, OfflineRule

__all__ = ["RESULTS_TABLE", "UrlAuditSummary", "audit_url_table", "url_severity"]

#: The table of verdicts written next to ``urls``.
RESULTS_TABLE = "url_checks"
#: Rows written per Parquet row group.
_ROWS_PER_GROUP = 10_000

_ERROR = frozenset({LinkStatus.DEAD, LinkStatus.INVALID})
# unchecked: the checker refused the url by policy or its host's turn never came (link-not-checked).
_WARNING = frozenset({LinkStatus.SOFT_404, LinkStatus.BLOCKED, LinkStatus.ERROR, LinkStatus.UNCHECKED})


def url_severity(status: LinkStatus) -> str | None:
    """``error`` for dead and invalid, ``warning`` for soft-404, blocked, error and unchecked, else None.

    As audits rank them.
    """
    if status in _ERROR:
        return "error"
    if status in _WARNING:
        return "warning"
    return None


@dataclass(frozen=True)
class UrlAuditSummary:
    """What a url audit found: counts per verdict, and where the verdicts were written.

    ``too_long`` counts URLs over :data:`MAX_URL_CHARS`, which were not checked.
    """

    scan: str
    table: str
    urls: int
    by_status: dict[str, int]
    errors: int
    warnings: int
    confirmed_dead: int
    too_long: int = 0
    #: Set when the run showed the checker itself offline (:mod:`wikicore.links.offline`): the one line to say.
    network_failure: str | None = None


#: URLs longer than this are not checked (nor recorded in the link history): RFC 9110 §4.1
#: asks senders and recipients to support at least 8,000 octets, and a longer value in a
#: foreign table is an attack (one 200 MB URL cost 3.26 GB and grew the link cache 600 MB).
MAX_URL_CHARS = 8000

#: Uncompressed bytes of one row group's ``url`` column read at once, from the file's footer:
#: a 6.5 KB zstd file can hold 200 MB of text. A scan's own row group is one reduce bucket,
#: far below this.
MAX_GROUP_BYTES = 256 * 1024 * 1024

_STRING_TYPES = ("string", "large_string")


@dataclass
class _Skipped:
    too_long: int = 0


def _table_files(table_dir: Path) -> list[Path]:
    """The Parquet files of a table, as Arrow's dataset discovery sees them (hidden and ``_`` files left out)."""
    return sorted(path for path in table_dir.rglob("*") if path.is_file()
                  and not any(part.startswith((".", "_")) for part in path.relative_to(table_dir).parts))


def _iter_urls(scan: Path, skipped: _Skipped) -> Iterator[str]:
    """The table's URLs, each file's schema and each row group's size checked before its values are read."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table_dir = scan / "urls"
    if not table_dir.is_dir():
        raise InvalidInput(f"{scan}: no urls table here (expected {table_dir}; run `wikicore scan` first)")
    for path in _table_files(table_dir):
        try:
            parquet = pq.ParquetFile(path)
            schema = parquet.schema_arrow
            if "url" not in schema.names:
                raise InvalidInput(f"{path}: the table has no 'url' column: not a wikicore scan")
            kind = schema.field("url").type
            if str(kind) not in _STRING_TYPES:
                raise InvalidInput(f"{path}: the 'url' column holds {kind}, not text: not a wikicore scan")
            column = schema.get_field_index("url")
            metadata = parquet.metadata
            for group in range(metadata.num_row_groups):
                size = metadata.row_group(group).column(column).total_uncompressed_size
                if size > MAX_GROUP_BYTES:
                    raise InvalidInput(f"{path}: row group {group} holds {size:,} bytes of urls, over "
                                       f"{MAX_GROUP_BYTES:,}: not a wikicore scan")
                urls = parquet.read_row_group(group, columns=["url"]).column(0)
                fits = pc.less_equal(pc.utf8_length(urls), MAX_URL_CHARS)
                skipped.too_long += len(urls) - urls.null_count - (pc.sum(fits).as_py() or 0)
                for url in pc.filter(urls, fits).to_pylist():
                    if url:
                        yield url
        except OSError as error:
            raise InvalidInput(f"{path}: unreadable: {error}") from None
        except (ValueError, TypeError, pa.ArrowException) as error:  # ArrowInvalid, ArrowTypeError among them
            raise InvalidInput(f"{path}: not a readable Parquet table: {error}") from None


def audit_url_table(
    scan: str | os.PathLike[str],
    *,
    config: CheckConfig | None = None,
    db_path: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    progress: Callable[[LinkResult], None] | None = None,
) -> UrlAuditSummary:
    """Check every URL of the scan at ``scan``; write ``url_checks`` beside ``urls``; return the counts.

    ``db_path`` is the link database to read and record observations in (None:
    no history, every URL checked now). Raises
    :class:`~wikicore.errors.InvalidInput` when ``scan`` holds no readable ``urls`` table.

    The audit's offline rule applies (:mod:`wikicore.links.offline`): when the
    run shows the checker itself cut off (nothing answered, or no name
    resolved), those failures are written as ``unchecked``, none is recorded,
    and ``network_failure`` says why in one line (the CLI exits 5).
    """
    _need_pyarrow()
    root = Path(scan)
    skipped = _Skipped()
    urls = _iter_urls(root, skipped)
    first = next(urls, None)  # a missing or broken table is reported before any file is touched
    target = root / RESULTS_TABLE / "part-000000.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    tally = _Tally()
    rule = OfflineRule()

    def all_urls() -> Iterator[str]:
        if first is not None:
            yield first
            yield from urls

    def checked(db: LinkDB | None) -> Iterator[LinkResult]:
        for result in check_urls(all_urls(), config, db, refresh=refresh):
            rule.see(result)
            if progress is not None:
                progress(result)
            yield result

    offline: Offline | None = None
    try:
        with contextlib.ExitStack() as stack:
            db = stack.enter_context(LinkDB(Path(db_path))) if db_path is not None else None
            _write(temp, checked(db), tally)
        offline = rule.offline()
        if offline is not None:
            # Known only once every url is in: the failures the run shows to be the checker's own are
            # rewritten as not checked, a row group at a time (memory stays flat here too).
            redone = temp.with_name(f"{temp.name}.offline")
            try:
                tally = _Tally()
                _write(redone, (offline.unchecked(result) for result in _read(temp)), tally)
                os.replace(redone, temp)
            finally:
                redone.unlink(missing_ok=True)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return UrlAuditSummary(
        scan=str(root), table=str(target.parent), urls=sum(tally.counts.values()),
        by_status=dict(sorted(tally.counts.items())), errors=tally.errors, warnings=tally.warnings,
        confirmed_dead=tally.dead, too_long=skipped.too_long,
        network_failure=offline.message if offline is not None else None,
    )


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    warnings: int = 0
    dead: int = 0

    def add(self, result: LinkResult) -> None:
        severity = url_severity(result.status)
        self.counts[result.status.value] += 1
        self.errors += severity == "error"
        self.warnings += severity == "warning"
        self.dead += result.confirmed_dead


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("url", pa.string()), ("host", pa.string()), ("status", pa.string()), ("severity", pa.string()),
        ("http_status", pa.int64()), ("final_url", pa.string()), ("error", pa.string()),
        ("checked_at", pa.string()), ("failures", pa.int64()), ("confirmed_dead", pa.bool_()),
        ("from_cache", pa.bool_()),
    ])


def _write(path: Path, results: Iterable[LinkResult], tally: _Tally) -> None:
    """Stream ``results`` into the Parquet file ``path``, row group by row group, counting them in ``tally``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .tables import host_of

    schema = _schema()
    rows: dict[str, list[Any]] = {name: [] for name in schema.names}

    def flush(writer: pq.ParquetWriter) -> None:
        if rows["url"]:
            writer.write_table(pa.Table.from_pydict(rows, schema=schema))
            for column in rows.values():
                column.clear()

    with pq.ParquetWriter(path, schema) as writer:
        for result in results:
            tally.add(result)
            values = {
                "url": result.url, "host": host_of(result.url), "status": result.status.value,
                "severity": url_severity(result.status), "http_status": result.http_status,
                "final_url": result.final_url, "error": result.error, "checked_at": result.checked_at.isoformat(),
                "failures": result.failures, "confirmed_dead": result.confirmed_dead,
                "from_cache": result.from_cache,
            }
            for name, value in values.items():
                rows[name].append(value)
            if len(rows["url"]) >= _ROWS_PER_GROUP:
                flush(writer)
        flush(writer)


def _read(path: Path) -> Iterator[LinkResult]:
    """The results :func:`_write` wrote to ``path``, a row group at a time (redirects and first failure aside)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    for group in range(parquet.metadata.num_row_groups):
        for row in parquet.read_row_group(group).to_pylist():
            yield LinkResult(
                row["url"], LinkStatus(row["status"]), row["http_status"], row["final_url"],
                datetime.fromisoformat(row["checked_at"]), error=row["error"], failures=row["failures"],
                confirmed_dead=row["confirmed_dead"], from_cache=row["from_cache"],
            )


def _need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InvalidInput("`wikicore audit --urls` needs the 'scale' extra (missing: pyarrow): "
                           "pip install 'wikicore[scale]'") from None
