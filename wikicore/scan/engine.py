"""Running a scan on Dask: the client side of :func:`wikicore.scan.scan_dump`.

The client reads (or, with a multistream index, only plans) the dump, submits
one task per batch with a bounded number in flight, and collects nothing but
counts. Workers write the partitions themselves into a hidden directory inside
the output; when every batch is done the ``urls`` table is reduced bucket by
bucket (again on the workers), the tables are moved into place and
``_scan.json`` is written last. A failed scan removes its hidden directory:
the output never holds half a scan.

With ``scheduler`` the work goes to a running Dask cluster; its workers must see
the dump (multistream mode) and the output directory at the same paths as the
client, as with any Dask job writing files (a shared file system).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InvalidInput, NetworkError, WikicoreError
from .rows import BatchCounts
from .source import DAMAGED, Page, chunk_ranges, iter_batches, open_dump, read_header, read_index

#: A Dask client or future: Dask's API is untyped, so it is held as Any behind this module's functions.
Client = Any
Future = Any

__all__ = ["MANIFEST", "TABLES", "ScanProgress", "ScanSummary", "scan_dump"]

#: The tables a scan writes (each a directory of Parquet files under the output).
TABLES = ("articles", "claims", "references", "findings", "urls")
#: Written last, in the output directory: what was scanned, when, and the totals.
MANIFEST = "_scan.json"
#: Pages per batch when the client streams the dump (a batch is one task and one partition).
BATCH_PAGES = 200
#: A batch also closes at this many characters of wikitext, so huge pages make small batches.
BATCH_CHARS = 4 * 1024 * 1024
#: bz2 streams per task in multistream mode (Wikimedia puts 100 pages in a stream).
STREAMS_PER_TASK = 4
#: Reduce buckets of the ``urls`` table: memory per reducer is about 1/BUCKETS of the distinct urls.
URL_BUCKETS = 32
#: Seconds to reach a scheduler, and to wait for its first worker.
CONNECT_TIMEOUT = 30.0

ProgressCallback = Callable[["ScanProgress"], None]


@dataclass(frozen=True)
class ScanProgress:
    """How far a scan is: pages read by the client (stream mode), pages scanned, tasks done of submitted."""

    pages_read: int
    pages_scanned: int
    tasks_done: int
    tasks_submitted: int
    tasks_total: int | None


@dataclass(frozen=True)
class ScanSummary:
    """What a scan wrote, in numbers; also the content of ``_scan.json``."""

    dump: str
    output: str
    mode: str
    workers: int
    partitions: int
    pages: int
    articles: int
    redirects: int
    skipped: int
    bad_pages: int
    claims: int
    references: int
    findings: int
    urls: int
    today: str
    seconds: float


def _need_extra() -> None:
    """Fail with one clear line when the ``scale`` extra is not installed."""
    missing = []
    for module in ("distributed", "pyarrow"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise InvalidInput(f"`wikicore scan` needs the 'scale' extra (missing: {', '.join(missing)}): "
                           "pip install 'wikicore[scale]'")


def _connect(scheduler: str | None, workers: int | None) -> tuple[Client, Any]:
    """A client on the given scheduler, or on a new local cluster of ``workers`` processes."""
    distributed: Any = importlib.import_module("distributed")
    if scheduler is not None:
        from .scheduler import check_scheduler

        address = check_scheduler(scheduler)  # what answers there is looked at before Dask reads a byte of it
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise NetworkError(f"cannot reach the Dask scheduler at {address}: {error}") from None
        except ValueError as error:
            raise InvalidInput(f"--scheduler {scheduler!r}: {error}") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            client.close()
            raise NetworkError(f"the Dask scheduler at {address} has no workers "
                               f"(none joined within {CONNECT_TIMEOUT:g} s)") from None
        return client, None
    count = workers or os.cpu_count() or 1
    # One single-threaded process per worker: parsing wikitext is pure Python and holds the GIL.
    # The scheduler always serves HTTP (health, and the dashboard when bokeh is there); ":0" puts it
    # on a free port of 127.0.0.1 rather than on 8787, which another cluster may hold.
    cluster = distributed.LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
                           host="127.0.0.1")
    return distributed.Client(cluster), cluster


def _resolved(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` made absolute; a symlink loop is bad input, not a crash."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: Python < 3.13's "Symlink loop"
        raise InvalidInput(f"{path}: not a usable {what}: {getattr(error, 'strerror', None) or error}") from None


def _check_output(out: Path) -> None:
    try:
        if out.exists() and not out.is_dir():
            raise InvalidInput(f"{out}: exists and is not a directory")
        taken = [name for name in (*TABLES, MANIFEST) if (out / name).exists()]
    except OSError as error:  # a symlink loop below, a path through a file: stat fails
        raise InvalidInput(f"{out}: not a usable output directory: {error.strerror or error}") from None
    if taken:
        raise InvalidInput(f"{out}: already holds a scan ({', '.join(taken)}); choose an empty directory")


#: The file a running scan holds locked inside its hidden working directory.
_PARTIAL_LOCK = ".lock"
#: A working directory without a lock file (made by a scan killed before it took the lock,
#: or by an older version) counts as abandoned once it is this old (seconds).
_UNLOCKED_PARTIAL_AGE = 3600.0


def _make_output(out: Path) -> tuple[bool, Path, int | None]:
    """Create the output and this scan's hidden working directory, locked; remove abandoned ones.

    A scan killed with SIGKILL cannot remove its ``.scan-partial-*`` directory, but
    the kernel releases its lock: a later scan into the same output finds such a
    directory unlocked and removes it. Returns (whether the output was created,
    the working directory, the lock's descriptor or None where locks are not available).
    """
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(out)
        partial = out / f".scan-partial-{uuid.uuid4().hex[:12]}"
        partial.mkdir()
    except OSError as error:  # under /proc, under a regular file, read-only, no space
        raise InvalidInput(f"{out}: cannot write a scan there: {error.strerror or error}") from None
    return created, partial, _lock(partial / _PARTIAL_LOCK, blocking=True)


def _lock(path: Path, *, blocking: bool) -> int | None:
    """An exclusive ``flock`` on ``path`` (created); None when taken by someone else or unsupported."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): abandoned directories are found by age alone
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_abandoned(out: Path) -> None:
    """Remove the working directories of scans that died (their lock is free, or they have none and are old)."""
    for partial in out.glob(".scan-partial-*"):
        with contextlib.suppress(OSError):  # one we cannot judge or remove is left, as before
            if partial.is_symlink() or not partial.is_dir():
                continue
            lock = partial / _PARTIAL_LOCK
            if lock.is_file():
                fd = _lock(lock, blocking=False)
                if fd is None:
                    continue  # a running scan holds it
                try:
                    shutil.rmtree(partial, ignore_errors=True)
                finally:
                    os.close(fd)
            elif time.time() - partial.stat().st_mtime > _UNLOCKED_PARTIAL_AGE:
                shutil.rmtree(partial, ignore_errors=True)


def _stream_errors(dump: Path, batches: Iterator[tuple[list[Page], int]]) -> Iterator[tuple[list[Page], int]]:
    """Turn the dump reader's errors into one clear line naming the dump."""
    try:
        yield from batches
    except DAMAGED as error:
        kind = "not a valid MediaWiki XML export" if not isinstance(error, (OSError, EOFError)) else "unreadable"
        raise InvalidInput(f"{dump}: {kind}: {error}") from None


def scan_dump(
    dump: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    index: str | os.PathLike[str] | None = None,
    namespaces: frozenset[int] = frozenset({0}),
    today: _dt.date | None = None,
    batch_pages: int = BATCH_PAGES,
    batch_chars: int = BATCH_CHARS,
    streams_per_task: int = STREAMS_PER_TASK,
    url_buckets: int = URL_BUCKETS,
    max_in_flight: int | None = None,
    progress: ProgressCallback | None = None,
) -> ScanSummary:
    """Scan every page of ``dump`` into Parquet tables under ``out``; see the module docstring.

    ``index`` (a multistream index, plain or bz2) makes the workers read the dump
    in parallel; without it the client streams it. ``today`` fixes the date the
    date checks compare against (default: today, UTC), so that two scans of one
    dump give the same rows. At most ``max_in_flight`` tasks (default: two per
    worker thread) are queued at a time, which bounds memory on both sides.

    Raises :class:`~wikicore.errors.InvalidInput` for a missing or unreadable dump
    or index, an occupied output or a missing ``scale`` extra, and
    :class:`~wikicore.errors.NetworkError` when the scheduler cannot be reached.
    """
    started = time.monotonic()
    dump_path = _resolved(dump, "dump file")
    out_path = _resolved(out, "output directory")
    if not dump_path.is_file():
        raise InvalidInput(f"{dump_path}: no such dump file")
    for name, value in (("workers", workers), ("batch_pages", batch_pages), ("batch_chars", batch_chars),
                        ("streams_per_task", streams_per_task), ("url_buckets", url_buckets),
                        ("max_in_flight", max_in_flight)):
        if value is not None and value < 1:
            raise InvalidInput(f"{name} must be at least 1, not {value}")
    if scheduler is not None and workers is not None:
        raise InvalidInput("--workers sizes the local cluster; a --scheduler brings its own workers (give one)")
    _check_output(out_path)
    _need_extra()
    day = (today or _dt.datetime.now(_dt.UTC).date()).isoformat()
    ranges = None
    header = b""
    if index is not None:
        size = dump_path.stat().st_size
        offsets = read_index(Path(index), size, dump_path)  # every offset a stream start of this dump
        header = read_header(dump_path, offsets[0])
        ranges = chunk_ranges(offsets, size, streams_per_task)

    created, partial, lock = _make_output(out_path)
    client, cluster = None, None
    try:
        client, cluster = _connect(scheduler, workers)
        threads = sum(client.nthreads().values()) or 1
        run = _Run(client, str(partial), max_in_flight or 2 * threads, progress, len(ranges) if ranges else None)
        from .worker import scan_batch, scan_range

        if ranges is not None:
            for part in ranges:
                run.submit(scan_range, str(partial), str(dump_path), part, header, day, url_buckets, namespaces)
        else:
            with open_dump(dump_path) as source:
                batches = iter_batches(source, batch_pages=batch_pages, batch_bytes=batch_chars,
                                       namespaces=namespaces)
                for number, (batch, read) in enumerate(_stream_errors(dump_path, batches)):
                    run.pages_read = read
                    run.submit(scan_batch, str(partial), number, batch, day, url_buckets)
        run.drain()
        url_count = run.reduce(url_buckets)
        for table in TABLES:
            # A table with no partition at all (an empty dump) still gets its schema.
            if not (partial / table).is_dir():
                _empty_table(partial, table)
        for table in TABLES:
            os.replace(partial / table, out_path / table)
        counts = run.counts
        summary = ScanSummary(
            dump=str(dump_path), output=str(out_path), mode="multistream" if ranges is not None else "stream",
            workers=len(client.nthreads()), partitions=run.submitted, pages=counts.pages, articles=counts.articles,
            redirects=counts.redirects, skipped=counts.skipped, bad_pages=counts.bad_pages, claims=counts.claims,
            references=counts.references, findings=counts.findings, urls=url_count, today=day,
            seconds=round(time.monotonic() - started, 3),
        )
        manifest = {"wikicore": __version__, "tables": list(TABLES), **asdict(summary)}
        temp = out_path / f".{MANIFEST}.tmp"
        temp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(temp, out_path / MANIFEST)
        return summary
    except BaseException:
        for table in TABLES:  # tables moved before a failure go too: no half scan is left
            if (out_path / table).is_dir() and not (out_path / MANIFEST).exists():
                shutil.rmtree(out_path / table, ignore_errors=True)
        raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        shutil.rmtree(partial, ignore_errors=True)
        if lock is not None:
            os.close(lock)
        if created and not (out_path / MANIFEST).exists():
            with contextlib.suppress(OSError):
                out_path.rmdir()  # a directory made for a scan that failed goes too (only if empty)


def _empty_table(root: Path, table: str) -> None:
    import pyarrow.parquet as pq

    from .tables import SCHEMAS, part_name

    (root / table).mkdir(parents=True, exist_ok=True)
    pq.write_table(SCHEMAS[table].empty_table(), root / table / part_name(0))


class _Run:
    """Submits tasks with a bounded number in flight and folds their results into counts."""

    def __init__(self, client: Client, root: str, limit: int, progress: ProgressCallback | None,
                 total: int | None) -> None:
        distributed: Any = importlib.import_module("distributed")
        self.client = client
        self.root = root
        self.limit = limit
        self.progress = progress
        self.total = total
        self.pending = distributed.as_completed()
        self.in_flight = 0
        self.submitted = 0
        self.done = 0
        self.pages_read = 0
        self.counts = BatchCounts()
        self.staged: dict[str, dict[int, list[tuple[int, int]]]] = {}

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue one task, first waiting for one to finish if ``limit`` are in flight."""
        while self.in_flight >= self.limit:
            self._collect(next(self.pending))
        self.pending.add(self.client.submit(function, *args, pure=False))
        self.in_flight += 1
        self.submitted += 1

    def drain(self) -> None:
        """Wait for every task still in flight."""
        while self.in_flight:
            self._collect(next(self.pending))

    def _collect(self, future: Future) -> None:
        try:
            result = future.result()
        except WikicoreError:
            raise
        except OSError as error:
            raise WikicoreError(f"{self.root}: a worker could not write its partition: {error}") from None
        finally:
            future.release()
        self.in_flight -= 1
        self.done += 1
        self.counts.add(result.counts)
        for staging, layout in result.staged.items():
            for bucket, group in layout.items():
                self.staged.setdefault(staging, {}).setdefault(bucket, []).append((result.index, group))
        if self.progress is not None:
            self.progress(ScanProgress(self.pages_read, self.counts.pages, self.done, self.submitted, self.total))

    def reduce(self, buckets: int) -> int:
        """Reduce every bucket on the workers (urls, slug collisions); return the number of distinct urls."""
        distributed: Any = importlib.import_module("distributed")

        from .tables import SLUGS, URLREFS
        from .worker import reduce

        urls, slugs = self.staged.get(URLREFS, {}), self.staged.get(SLUGS, {})
        futures = [self.client.submit(reduce, self.root, bucket, sorted(urls.get(bucket, [])),
                                      sorted(slugs.get(bucket, [])), pure=False) for bucket in range(buckets)]
        distributed.wait(futures)
        try:
            results = [future.result() for future in futures]
        except OSError as error:
            raise WikicoreError(f"{self.root}: a worker could not write the urls table: {error}") from None
        finally:
            for future in futures:
                future.release()
        self.counts.findings += sum(collisions for _, collisions in results)
        return sum(count for count, _ in results)
