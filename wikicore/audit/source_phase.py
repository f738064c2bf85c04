"""The source-text phase's schedule: urls started as their link verdicts arrive, beside the live phases.

:class:`SourcePhase` is fed by the audit's run (:mod:`wikicore.audit.run`) while the
link checks and archive lookups go on, and runs each url's work
(:func:`wikicore.audit.quotes.run_task`) on a few worker threads, taken round-robin
by host; what a url needs and how its answers are judged is :mod:`wikicore.audit.quotes`'.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar, cast

from ..archive import Snapshot, SnapshotQuery
from ..links.checker import LinkResult, LinkStatus
from ..links.fingerprints import SourceHistory
from ..net import CheckSession, Fetch, RateGate, host_key
from .collect import ArticleFacts, ProblemPool
from .options import AuditEvent, AuditOptions, AuditPhase, Progress
from .quotes import (
    SOURCE_WORKERS,
    SourceAnswers,
    Wanted,
    decode_answers,
    encode_answers,
    questions_hash,
    read_live,
    replay_limits,
    run_task,
    source_index,
    task_for,
)
from .report import DriftInfo, QuoteCheckInfo

if TYPE_CHECKING:
    from ..sources import PageText

__all__ = ["SourcePhase", "check_sources"]


#: Characters of live texts kept read while the archive has not answered (see :meth:`SourcePhase._park`).
#: Past them a worker waits with its text, as every worker once did: the phase's memory stays bounded
#: whatever the archive's pace. 8 M characters: a few hundred real pages, under 40 MB even in UCS-4.
PARKED_CHARS = 8 * 1024 * 1024

#: Bytes of pages taken from the link checks' GETs (:meth:`SourcePhase.page`) held until a worker
#: reads their text, each counted with :data:`PAGE_OVERHEAD`. Past them a page is let go and read
#: again later, as before the checks handed them over: the phase's memory stays bounded however far
#: the workers fall behind the checks (at 50,000 quoted references they do: bench_audit.py --only
#: memory --memory-quotes).
PAGE_BYTES = 8 * 1024 * 1024
#: What a held page costs beside its body, an upper estimate: its fetch record (a dataclass of 13
#: fields, its header dict cut to Content-Type) and its queue entry.
PAGE_OVERHEAD = 1024

_Record = TypeVar("_Record", QuoteCheckInfo, DriftInfo)

# url, verdict, its references, the page its link check read, the live text read
_Queued = tuple[str, LinkResult | None, list[Wanted], Fetch | None, "PageText | None"]


class _RoundRobin:
    """Queues of tasks by host, taken one host after another."""

    def __init__(self) -> None:
        self._queues: dict[str, collections.deque[_Queued]] = {}
        self._order: collections.deque[str] = collections.deque()

    def __bool__(self) -> bool:
        return bool(self._order)

    def extend(self, host: str, tasks: Iterable[_Queued]) -> None:
        queue = self._queues.get(host)
        if queue is None:
            queue = self._queues[host] = collections.deque()
        was_empty = not queue
        queue.extend(tasks)
        if was_empty and queue:
            self._order.append(host)

    def pop(self) -> _Queued:
        host = self._order.popleft()
        queue = self._queues[host]
        task = queue.popleft()
        if queue:
            self._order.append(host)
        else:
            del self._queues[host]
        return task

    def clear(self) -> None:
        self._queues.clear()
        self._order.clear()


class SourcePhase:
    """The source-text phase, fed while the live phases run, so an audit lasts about as long as its slowest phase.

    Use as a context manager, and hand it to the link checker as its
    :class:`~wikicore.links.checker.PageSink`: :meth:`wants` and :meth:`page` take
    a quoted page's body from its link check (one GET a page, not two). :meth:`link`
    hands in each link verdict as the checker streams it: that url's task starts at
    once, and a page found live (checked now, not reused from the history) is read
    then, from that body when the phase took it. :meth:`archive` hands in the
    nearest captures when the archive has answered: tasks wait for them (off the
    workers, :meth:`_park`) before they read a capture, decide on drift or ask the
    history for a stored answer (which is keyed by the capture). :meth:`finish`
    starts the urls that got no verdict, waits for every task and returns the answers.

    A few tasks run per worker, the rest wait as ``(url, verdict)`` pairs: 50,000
    futures held at once cost tens of MB (``bench_audit.py --only memory --memory-quotes``).
    Progress is :attr:`AuditPhase.SOURCES` events, one per url, from the workers' threads.
    ``pool`` shares the verdict records' field sets (:meth:`ProblemPool.compact`).
    """

    def __init__(
        self, items: Iterable[ArticleFacts], options: AuditOptions, emit: Progress, pool: ProblemPool | None = None,
        checking: Iterable[str] = (),
    ) -> None:
        self.index = source_index(items)
        # Politeness: a site must not see the link checker's per-host requests and this phase's at
        # once (twice what --host-concurrency allows), so a host's pages are read only once every
        # link check of that host is done; until then its tasks wait here, by host. A page taken from
        # its link check (:meth:`page`) makes no request to the site, and does not wait.
        self._outstanding: collections.Counter[str] = collections.Counter(host_key(url) for url in checking)
        self._held: dict[str, list[_Queued]] = {}
        self._pages: dict[str, Fetch] = {}  # the link checks' GETs of quoted pages, until their verdicts
        self._page_bytes = 0
        self.total = len(self.index)
        self.options = options
        self.emit = emit
        self.pool = pool
        self.answers = SourceAnswers()
        # refresh: a zero TTL makes every stored answer stale while still recording the new ones.
        self.ttl = _dt.timedelta(0) if options.refresh else options.config.ttl
        self._nearest: dict[SnapshotQuery, Snapshot | None] = {}
        self._archived = threading.Event()
        self._lock = threading.RLock()  # a future already done runs its callback in the submitting thread
        self._idle = threading.Condition(self._lock)
        # Tasks waiting for a worker, by host, taken round-robin: the workers spread over many sites
        # instead of queueing all at once behind one site's gate (head-of-line blocking).
        self._pending = _RoundRobin()
        # Tasks that read their live page (or need none) before the archive answered, waiting for it
        # off the workers; resumed first when it answers (:meth:`_park`).
        self._parked: list[_Queued] = []
        self._parked_chars = 0
        self._resumed: collections.deque[_Queued] = collections.deque()
        self._running = 0
        self._done = 0
        self._error: BaseException | None = None
        self._stack = contextlib.ExitStack()
        self._gate: RateGate | None = None
        self._records: dict[QuoteCheckInfo | DriftInfo, QuoteCheckInfo | DriftInfo] = {}  # see _shared

    def __enter__(self) -> SourcePhase:
        if self.total:
            from ..sources.fetch import source_config

            config = source_config(self.options.config)
            self._concurrency = config.concurrency
            self._gate = RateGate(config.host_limit, dict(config.host_limits), total=config.concurrency)
            self._history = self._stack.enter_context(SourceHistory(self.options.db_path, clock=self.options.clock))
            self._session = self._stack.enter_context(CheckSession(config, gate=self._gate))
            self._workers = self._stack.enter_context(ThreadPoolExecutor(
                max_workers=max(1, min(SOURCE_WORKERS, config.concurrency, self.total)),
                thread_name_prefix="wikicore-sources",
            ))
            self.emit(AuditEvent(AuditPhase.SOURCES, 0, self.total))
        return self

    def __exit__(self, *exc: object) -> None:
        self._archived.set()  # no task may wait for an archive that will not answer now
        with self._lock:
            if isinstance(exc[1], BaseException):
                self._error = self._error or exc[1]  # nothing more is started
                self._pending.clear()
                self._pages.clear()
                self._parked.clear()
                self._resumed.clear()
        self._stack.close()

    def wants(self, url: str) -> bool:
        """Whether the link check of ``url`` should read its whole page for this phase (:class:`PageSink`).

        A quoted page found live is always read; the link check's GET reads it once
        for both (2,000 references: 1,600 second requests spared, bench_audit.py --only quotes).
        """
        with self._lock:
            wanted = self.index.get(url)
        return wanted is not None and _reads_live(wanted)

    def page(self, result: LinkResult, fetch: Fetch) -> None:
        """The link check's GET of a wanted url, before its verdict: kept when it is the page's text, and fits.

        A truncated body is read again (the checker's own byte cap is smaller than the text cap).
        """
        if result.status is not LinkStatus.LIVE or not fetch.ok or fetch.truncated:
            return
        size = len(fetch.body) + PAGE_OVERHEAD
        # Only what its text needs: the whole header dict is most of a small page's record.
        kept = {name: value for name, value in fetch.headers.items() if name.lower() == "content-type"}
        with self._lock:
            if self._error is None and self._page_bytes + size <= PAGE_BYTES:
                self._pages[result.url] = replace(fetch, headers=kept, redirects=())
                self._page_bytes += size

    def link(self, result: LinkResult) -> None:
        """A link verdict: start its url's task."""
        with self._lock:
            host = host_key(result.url)
            wanted = self.index.pop(result.url, None)
            page = self._pages.pop(result.url, None)
            if page is not None and wanted is None:  # not asked for by this phase (a url seen twice): let go
                self._page_bytes -= len(page.body) + PAGE_OVERHEAD
            elif wanted is not None and page is not None:
                # Its page is read: no request to the site is left, so it need not wait for the site's link checks.
                self._pending.extend(host, [(result.url, result, wanted, page, None)])
            elif wanted is not None:
                self._held.setdefault(host, []).append((result.url, result, wanted, None, None))
            if self._outstanding[host] > 0:
                self._outstanding[host] -= 1
            if self._outstanding[host] <= 0:
                self._pending.extend(host, self._held.pop(host, ()))
            self._pump()

    def archive(self, nearest: dict[SnapshotQuery, Snapshot | None]) -> None:
        """The archive's nearest captures (empty when it was not asked or failed): tasks may read captures now."""
        if self._gate is not None:
            from ..sources.fetch import replay_root

            roots = {replay_root(snapshot.archive_url) for snapshot in nearest.values() if snapshot is not None}
            # Set before any replay starts (they wait for the event below), so no replay key is made without its limit.
            self._gate.overrides.update(replay_limits(roots, self._concurrency))
        self._nearest = nearest
        self._archived.set()
        with self._lock:
            self._resumed.extend(self._parked)
            self._parked.clear()
            self._parked_chars = 0
            self._pump()

    def finish(self) -> SourceAnswers:
        """Start the urls no verdict came for, wait for every task, and return the answers."""
        with self._lock:
            for host, held in self._held.items():  # the link checks are over: no host is busy with them now
                self._pending.extend(host, held)
            self._held.clear()
            for url, wanted in self.index.items():
                self._pending.extend(host_key(url), [(url, None, wanted, None, None)])
            self.index.clear()
            self._pump()
            while self._running or ((self._pending or self._parked or self._resumed) and self._error is None):
                self._idle.wait()
            if self._error is not None:
                raise self._error
        return self.answers

    def _pump(self) -> None:
        # Under the lock: keep a few tasks per worker in flight.
        # A resumed task has its live text: it goes before tasks that have not started.
        while (self._resumed or self._pending) and self._running < SOURCE_WORKERS * 4 and self._error is None:
            queued = self._resumed.popleft() if self._resumed else self._pending.pop()
            self._running += 1
            self._workers.submit(self._one, *queued).add_done_callback(self._finished)

    def _park(self, queued: _Queued) -> bool:
        """Keep a task that is waiting for the archive off the workers; False: the archive has answered, or
        the parked texts are at :data:`PARKED_CHARS` and the worker waits itself.

        A worker that waited for the archive with its live text read held one of
        SOURCE_WORKERS: 32 pages read, then none until the archive answered, so the
        rest of the live reads all came after it (13.6 s past the archive's answer
        over 2,000 references, bench_audit.py --only quotes).
        """
        read = queued[4]
        size = len(read.full) + len(read.main) if read is not None else 0
        with self._lock:
            if self._archived.is_set() or self._parked_chars + size > PARKED_CHARS:
                return False
            self._parked.append(queued)
            self._parked_chars += size
            return True

    def _one(
        self, url: str, result: LinkResult | None, wanted: list[Wanted], page: Fetch | None, read: PageText | None
    ) -> tuple[str, SourceAnswers | None] | None:
        """One url's work; None when it is parked until the archive answers (:meth:`_park`)."""
        if page is not None:
            from ..sources.fetch import fetched_text

            read = fetched_text(page)
            with self._lock:
                self._page_bytes -= len(page.body) + PAGE_OVERHEAD
            page = None
        elif read is None and result is not None and result.status is LinkStatus.LIVE and not result.from_cache and (
            _reads_live(wanted)
        ):
            # Every quoted live page is read whatever the archive says: read it now, beside the
            # archive lookups. A verdict reused from the history waits: its stored answer likely stands.
            read = read_live(url, self._session)
        if not self._archived.is_set():
            if self._park((url, result, wanted, None, read)):
                return None
            self._archived.wait()
        task = task_for(url, wanted, result, self._nearest)
        if task is None:
            return url, None
        history = self._history
        asked = questions_hash(task)
        stored = history.answer(task.url, asked, self.ttl)
        known = decode_answers(task, stored) if stored is not None else None
        if known is not None:
            known.reused = 1
            return task.url, known
        found = run_task(task, self._session, read)
        del read
        for kind, print_, when in found.prints:
            history.record(task.url, kind, print_.length, print_.sha256, print_.simhash, when)
        history.put_answer(task.url, asked, encode_answers(found))
        found.prints.clear()
        return task.url, found

    def _shared(self, record: _Record) -> _Record:
        """One instance for equal verdict records (they are frozen), its field set shared (:meth:`ProblemPool.compact`).

        A record is about 500 bytes; many are alike (a quote missing from pages alike, the same
        reason a page could not be read), and the report holds one per quoted citation.
        """
        shared = self._records.setdefault(record, record)
        if shared is record and self.pool is not None:
            self.pool.compact(record)
        return cast(_Record, shared)

    def _finished(self, future: Future[tuple[str, SourceAnswers | None] | None]) -> None:
        try:
            outcome = future.result()
            if outcome is None:  # parked: it comes back when the archive answers
                with self._lock:
                    self._running -= 1
                    self._pump()
                    self._idle.notify_all()
                return
            url, found = outcome
            since = self._history.changed_since(url) if found is not None else None
        except BaseException as error:  # handed to finish(), which raises it in the caller's thread
            with self._lock:
                self._error = self._error or error
                self._running -= 1
                self._idle.notify_all()
            return
        with self._lock:
            if found is not None:
                found.quotes = {key: self._shared(info) for key, info in found.quotes.items()}
                found.drift = {key: self._shared(info) for key, info in found.drift.items()}
                self.answers.merge(found)
                self.answers.reused += found.reused
                if since is not None:
                    self.answers.changed_since[url] = since
            self._done += 1
            self._running -= 1
            self.emit(AuditEvent(AuditPhase.SOURCES, self._done, self.total, url))
            self._pump()
            self._idle.notify_all()


def _reads_live(wanted: list[Wanted]) -> bool:
    """A url whose live text is read whatever the archive answers: quoted, and not marked unfit or usurped."""
    return any(quotes for _ref, quotes in wanted) and not any(ref.excluded for ref, _quotes in wanted)


def check_sources(
    items: list[ArticleFacts],
    links: dict[str, LinkResult],
    nearest: dict[SnapshotQuery, Snapshot | None],
    options: AuditOptions,
    emit: Progress,
    pool: ProblemPool | None = None,
) -> SourceAnswers:
    """Run the phase over verdicts and captures already known (:class:`SourcePhase` runs it beside them).

    ``pool`` shares the verdict records' field sets (:meth:`ProblemPool.compact`): 50,000 quotes.
    """
    with SourcePhase(items, options, emit, pool) as phase:
        phase.archive(nearest)
        for result in links.values():
            phase.link(result)
        return phase.finish()
