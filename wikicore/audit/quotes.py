"""The audit's source-text phase: does the cited page still say it?

Beside the link checks and archive lookups (:class:`SourcePhase`: a url's work
starts with its link verdict, its captures are read once the archive has
answered), every citation with a ``quote`` and every web reference with a
capture near its access date get the text of the live page and of the capture
(raw ``id_`` replay), both read through the one network layer
(:mod:`wikicore.sources.fetch`: address policy, per-URL deadline, the source-text
byte cap ``CheckConfig.max_text_bytes``). The judging is
:mod:`wikicore.sources`' (:func:`~wikicore.sources.check_quote`,
:func:`~wikicore.sources.compare`); this module plans the fetches, runs them
and turns the answers into the report's ``quote_check``, ``drift`` and problems:

``quote-changed``           warning  in the capture (its date and url named), no longer on the live page
``quote-missing``           warning  on neither the live page nor the capture
``quote-locator-mismatch``  info     the ``locator`` names pages the quote is not on
``content-drift``           warning  the live page now holds something else; info when it only changed

Memory: a url's page texts live only while its own checks run (one task a
url, its texts dropped when the task returns); what is kept is the small
verdict records, one per quote and one per compared reference.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive import Snapshot, SnapshotQuery
from ..archive.endpoints import is_internet_archive
from ..archive.gate import MEMENTO_REQUESTS_PER_SECOND, shared_gate
from ..links.checker import LinkResult, LinkStatus
from ..links.fingerprints import SourceHistory
from ..net import CheckConfig, CheckSession, Limit, RateGate, host_key
from .collect import ArticleFacts, ProblemPool, RefFacts, checkable
from .options import AuditEvent, AuditOptions, AuditPhase, Progress
from .report import (
    ArticleAudit,
    AuditProblem,
    CitationAudit,
    ClaimAudit,
    DriftInfo,
    QuoteCheckInfo,
    ReferenceAudit,
)
from .static import Severity

if TYPE_CHECKING:
    from ..sources import Fingerprint, PageText, QuoteCheck

# wikicore.sources (trafilatura, pdfium, rapidfuzz: about 0.17 s to import) is imported where
# texts are read, so an offline or --no-quotes audit and `wikicore archive` without changes never pay for it.

__all__ = [
    "NEAR_DAYS",
    "REPLAY_LIMIT",
    "SOURCE_WORKERS",
    "SourceAnswers",
    "SourcePhase",
    "attach_sources",
    "check_sources",
    "fingerprint_captures",
    "plan_sources",
    "replay_limits",
]

#: A capture counts as "near" the access date for drift within this many days. Drift
#: measures what happened *since the editor read the page*; a capture years away says
#: more about the site's redesigns than about the cited text. (Jones et al. 2016 treat
#: a snapshot within the citing article's publication window as representative.)
NEAR_DAYS = 365

#: Raw replays (``id_``) from the Internet Archive in flight at once, started
#: MEMENTO_REQUESTS_PER_SECOND apart: its published playback limit (600 a minute) at its
#: asked-for 80%, as the archive client keeps. It binds IA roots only (:func:`replay_limits`).
REPLAY_LIMIT = Limit(4, 1 / MEMENTO_REQUESTS_PER_SECOND)

#: Source texts fetched at once (at most ``CheckConfig.concurrency``, the checker's total). Each
#: task is mostly a network wait, then 10-20 ms of CPU (docs/sources.md); the per-host gate still
#: spaces requests to one site. 8 workers left a 2,000-reference audit waiting on them
#: (91 s vs 52 s with 32: bench_audit.py --only quotes).
SOURCE_WORKERS = 32

QuoteKey = tuple[str, _dt.date | None, str, str | None]  # url, day, quote, locator
DriftKey = tuple[str, _dt.date | None]  # url, day


@dataclass(slots=True)
class _Task:
    """One url's work: the live page once, and per access day its capture, quotes and drift."""

    url: str
    live_result: LinkResult | None
    reason: str | None  # why the live page is not fetched (dead, excluded, ...); None: fetch it
    days: dict[_dt.date | None, tuple[Snapshot | None, bool, set[tuple[str, str | None]]]] = field(
        default_factory=dict
    )  # day -> (capture, compare drift, quotes with their locators)


@dataclass
class SourceAnswers:
    """What the source-text phase found: a check per quote and a drift per compared reference."""

    quotes: dict[QuoteKey, QuoteCheckInfo] = field(default_factory=dict)
    drift: dict[DriftKey, DriftInfo] = field(default_factory=dict)
    captures: dict[DriftKey, Snapshot] = field(default_factory=dict)  # the capture each url and day was read in
    mismatched: set[QuoteKey] = field(default_factory=set)  # quotes found on a page their locator does not name
    changed_since: dict[str, _dt.datetime] = field(default_factory=dict)  # url -> its live text first seen then
    pages: int = 0  # texts fetched (live and captures)
    reused: int = 0  # urls answered from the history within the TTL
    prints: list[tuple[str, Fingerprint, _dt.datetime | None]] = field(default_factory=list)  # kind, print, when

    def merge(self, other: SourceAnswers) -> None:
        """Add ``other``'s answers (one url's) to these."""
        self.quotes.update(other.quotes)
        self.drift.update(other.drift)
        self.captures.update(other.captures)
        self.mismatched.update(other.mismatched)
        self.pages += other.pages


def _near(snapshot: Snapshot | None, day: _dt.date | None) -> bool:
    return snapshot is not None and (day is None or abs(snapshot.distance_days(day)) <= NEAR_DAYS)


def _live_reason(ref: RefFacts, result: LinkResult | None) -> str | None:
    """Why the live page is not read; None when it is to be fetched."""
    if ref.excluded:
        return f"not fetched: the url is marked {ref.url_status}"
    if result is None:
        return "not checked"
    if result.status is LinkStatus.LIVE:
        return None
    http = f"HTTP {result.http_status}" if result.http_status else (result.error or "no answer")
    return f"{result.status.value} ({http})"


Wanted = tuple[RefFacts, frozenset[tuple[str, str | None]]]  # a reference of the url, with its quotes


def source_index(items: Iterable[ArticleFacts]) -> dict[str, list[Wanted]]:
    """Every checkable url's references, each with the quotes (and locators) cited from it."""
    index: dict[str, list[Wanted]] = {}
    none: frozenset[tuple[str, str | None]] = frozenset()
    for item in items:
        wanted: dict[str, set[tuple[str, str | None]]] = {}
        for cited in item.citations.values():
            for citation in cited:
                if citation.quote:
                    wanted.setdefault(citation.ref, set()).add((citation.quote, citation.locator))
        for ref in item.references:
            if ref.url and checkable(ref.url):
                quotes = wanted.get(ref.id)
                index.setdefault(ref.url, []).append((ref, frozenset(quotes) if quotes else none))
    return index


def _task_for(
    url: str, wanted: list[Wanted], result: LinkResult | None, nearest: dict[SnapshotQuery, Snapshot | None]
) -> _Task | None:
    """One url's task, or None when it has nothing to check (no quote, no capture near to drift from)."""
    task: _Task | None = None
    for ref, quotes in wanted:
        snapshot = nearest.get(SnapshotQuery(url, ref.day))
        snapshot = snapshot if snapshot is not None and snapshot.ok else None
        # Drift compares two texts: a page the link check found dead or blocked has none to compare.
        live = result is not None and result.status is LinkStatus.LIVE and not ref.excluded
        drift = live and _near(snapshot, ref.day)
        if not drift and not quotes:
            continue
        if task is None:
            task = _Task(url, result, _live_reason(ref, result))
        capture, had_drift, had_quotes = task.days.get(ref.day, (snapshot, False, set()))
        task.days[ref.day] = (capture, had_drift or drift, had_quotes | quotes)
    return task


def plan_sources(
    items: Iterable[ArticleFacts],
    links: dict[str, LinkResult],
    nearest: dict[SnapshotQuery, Snapshot | None],
) -> list[_Task]:
    """The fetches the phase makes: one task a url, with what each of its access days needs."""
    tasks = (_task_for(url, wanted, links.get(url), nearest) for url, wanted in source_index(items).items())
    return [task for task in tasks if task is not None]


def replay_limits(roots: Iterable[str], concurrency: int) -> dict[str, Limit]:
    """The rate-gate limit of each archive root's raw replays, keyed as :func:`~wikicore.sources.fetch.replay_key`.

    The Internet Archive's root gets its published playback limit (:data:`REPLAY_LIMIT`).
    Any other root (a self-hosted pywb, Archive-It, the bench's fake archive) publishes
    none we know: its replays are spaced as that host's archive gate spaces its playback
    (``web``: what ``--archive-rate`` or ``rates`` set for it, the one gate per host the
    archive client uses too), with ``concurrency`` (the checker's total) in flight. Holding
    a self-hosted root to IA's 8 a second made replays alone 125 s of a 2,000-reference
    audit (bench_audit.py --only quotes).
    """
    from ..sources.fetch import replay_key

    limits: dict[str, Limit] = {}
    for root in roots:
        if is_internet_archive(root):
            limits[replay_key(root)] = REPLAY_LIMIT
        else:
            limits[replay_key(root)] = Limit(max(1, concurrency), shared_gate(root).intervals["web"])
    return limits


def _info(check: QuoteCheck) -> QuoteCheckInfo:
    return QuoteCheckInfo(
        status=check.status.value,
        where=check.where.value if check.where is not None else None,
        score=round(min(max(check.score, 0.0), 1.0), 3),
        context=check.context,
        page=check.page,
        reason=check.reason,
    )


def _read_live(url: str, session: CheckSession) -> PageText:
    """The live page's text, read through the session."""
    from ..sources.fetch import fetch_page

    return fetch_page(session, url)[1]


def _run(task: _Task, session: CheckSession, read: PageText | None = None) -> SourceAnswers:
    """Fetch one url's texts (the live one unless ``read`` already), check its quotes and drift, let the texts go."""
    from ..sources import PageText, PreparedText, TextKind, check_quote, compare, fingerprint
    from ..sources.fetch import fetch_capture

    out = SourceAnswers()
    if task.reason is None:
        live = read if read is not None else _read_live(task.url, session)
        out.pages += 1
        if live.unreadable is None and live.full.strip():
            out.prints.append(("live", fingerprint(live.main or live.full), None))
    else:
        live = PageText(TextKind.NONE, "", "", unreadable=task.reason)
    live_prepared = PreparedText.of(live) if live.unreadable is None and live.full.strip() else None
    for day, (snapshot, drift, wanted) in task.days.items():
        capture: PageText | None = None
        # Drift alone needs both texts: no capture is read for a page that could not be.
        if snapshot is not None and (wanted or (drift and live_prepared is not None)):
            _, capture = fetch_capture(session, snapshot.archive_url)
            out.pages += 1
            out.captures[(task.url, day)] = snapshot
            if capture.unreadable is None and capture.full.strip():
                out.prints.append(("capture", fingerprint(capture.main or capture.full), snapshot.timestamp))
        capture_prepared = (
            PreparedText.of(capture) if capture is not None and capture.unreadable is None and capture.full.strip()
            else capture
        )
        for quote, locator in wanted:
            check = check_quote(quote, live_prepared or live, capture_prepared, locator=locator)
            key = (task.url, day, quote, locator)
            out.quotes[key] = _info(check)
            if check.locator_mismatch:
                out.mismatched.add(key)
        if drift and snapshot is not None and capture is not None and capture.unreadable is None and (
            live.unreadable is None
        ):
            measured = compare(capture.main or capture.full, live.main or live.full)
            out.drift[(task.url, day)] = DriftInfo(
                similarity=round(min(max(measured.similarity, 0.0), 1.0), 3),
                capture=snapshot.wayback_timestamp,
                status=measured.status.value,
            )
        del capture, capture_prepared
    return out


_Queued = tuple[str, LinkResult | None, list[Wanted]]


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

    Use as a context manager. :meth:`link` hands in each link verdict as the
    checker streams it: that url's task starts at once, and a page found live
    (checked now, not reused from the history) is read then. :meth:`archive` hands
    in the nearest captures when the archive has answered: tasks wait for them
    before they read a capture, decide on drift or ask the history for a stored
    answer (which is keyed by the capture). :meth:`finish` starts the urls that
    got no verdict, waits for every task and returns the answers.

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
        # link check of that host is done; until then its tasks wait here, by host.
        self._outstanding: collections.Counter[str] = collections.Counter(host_key(url) for url in checking)
        self._held: dict[str, list[tuple[str, LinkResult | None, list[Wanted]]]] = {}
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
        self._running = 0
        self._done = 0
        self._error: BaseException | None = None
        self._stack = contextlib.ExitStack()
        self._gate: RateGate | None = None

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
        self._stack.close()

    def link(self, result: LinkResult) -> None:
        """A link verdict: start its url's task."""
        with self._lock:
            host = host_key(result.url)
            wanted = self.index.pop(result.url, None)
            if wanted is not None:
                self._held.setdefault(host, []).append((result.url, result, wanted))
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

    def finish(self) -> SourceAnswers:
        """Start the urls no verdict came for, wait for every task, and return the answers."""
        with self._lock:
            for host, held in self._held.items():  # the link checks are over: no host is busy with them now
                self._pending.extend(host, held)
            self._held.clear()
            for url, wanted in self.index.items():
                self._pending.extend(host_key(url), [(url, None, wanted)])
            self.index.clear()
            self._pump()
            while self._running or (self._pending and self._error is None):
                self._idle.wait()
            if self._error is not None:
                raise self._error
        return self.answers

    def _pump(self) -> None:
        # Under the lock: keep a few tasks per worker in flight.
        while self._pending and self._running < SOURCE_WORKERS * 4 and self._error is None:
            url, result, wanted = self._pending.pop()
            self._running += 1
            self._workers.submit(self._one, url, result, wanted).add_done_callback(self._finished)

    def _one(self, url: str, result: LinkResult | None, wanted: list[Wanted]) -> tuple[str, SourceAnswers | None]:
        read: PageText | None = None
        if (
            result is not None and result.status is LinkStatus.LIVE and not result.from_cache
            and any(quotes for _ref, quotes in wanted) and not any(ref.excluded for ref, _quotes in wanted)
        ):
            # Every quoted live page is read whatever the archive says: read it now, beside the
            # archive lookups. A verdict reused from the history waits: its stored answer likely stands.
            read = _read_live(url, self._session)
        self._archived.wait()
        task = _task_for(url, wanted, result, self._nearest)
        if task is None:
            return url, None
        history = self._history
        asked = _asked(task)
        stored = history.answer(task.url, asked, self.ttl)
        known = _decode(task, stored) if stored is not None else None
        if known is not None:
            known.reused = 1
            return task.url, known
        found = _run(task, self._session, read)
        del read
        for kind, print_, when in found.prints:
            history.record(task.url, kind, print_.length, print_.sha256, print_.simhash, when)
        history.put_answer(task.url, asked, _encode(found))
        found.prints.clear()
        return task.url, found

    def _finished(self, future: Future[tuple[str, SourceAnswers | None]]) -> None:
        try:
            url, found = future.result()
            since = self._history.changed_since(url) if found is not None else None
        except BaseException as error:  # handed to finish(), which raises it in the caller's thread
            with self._lock:
                self._error = self._error or error
                self._running -= 1
                self._idle.notify_all()
            return
        with self._lock:
            if found is not None:
                if self.pool is not None:
                    found.quotes = {key: self.pool.compact(info) for key, info in found.quotes.items()}
                    found.drift = {key: self.pool.compact(info) for key, info in found.drift.items()}
                self.answers.merge(found)
                self.answers.reused += found.reused
                if since is not None:
                    self.answers.changed_since[url] = since
            self._done += 1
            self._running -= 1
            self.emit(AuditEvent(AuditPhase.SOURCES, self._done, self.total, url))
            self._pump()
            self._idle.notify_all()


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


def _day(day: _dt.date | None) -> str:
    return day.isoformat() if day else ""


def _asked(task: _Task) -> str:
    """A hash of what is asked about the url: a stored answer stands only for the same questions."""
    asked = [
        [_day(day), task.reason, snapshot.archive_url if snapshot else None, drift, sorted(
            [quote, locator or ""] for quote, locator in quotes
        )]
        for day, (snapshot, drift, quotes) in sorted(task.days.items(), key=lambda item: _day(item[0]))
    ]
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode("utf-8")).hexdigest()


def _encode(found: SourceAnswers) -> dict[str, Any]:
    return {
        "quotes": [
            [_day(day), quote, locator, info.model_dump(mode="json"), (url, day, quote, locator) in found.mismatched]
            for (url, day, quote, locator), info in found.quotes.items()
        ],
        "drift": [[_day(day), info.model_dump(mode="json")] for (url, day), info in found.drift.items()],
    }


def _decode(task: _Task, stored: Any) -> SourceAnswers | None:
    """A stored answer back as records; None when it does not hold what :func:`_encode` wrote."""
    days = {_day(day): day for day in task.days}
    out = SourceAnswers()
    try:
        for day_text, quote, locator, info, mismatch in stored["quotes"]:
            key = (task.url, days[day_text], str(quote), None if locator is None else str(locator))
            out.quotes[key] = QuoteCheckInfo.model_validate(info)
            if mismatch is True:
                out.mismatched.add(key)
        for day_text, info in stored["drift"]:
            out.drift[(task.url, days[day_text])] = DriftInfo.model_validate(info)
    except (KeyError, TypeError, ValueError):
        return None
    for day, (snapshot, _drift, _quotes) in task.days.items():
        if snapshot is not None:
            out.captures[(task.url, day)] = snapshot
    return out


def _quote_problems(
    citation: CitationAudit, key: QuoteKey, snapshot: Snapshot | None, answers: SourceAnswers, pool: ProblemPool
) -> list[AuditProblem]:
    check = citation.quote_check
    problems: list[AuditProblem] = []
    if check is None:
        return problems
    if check.status == "changed" and snapshot is not None:
        problems.append(pool.live(
            "quote-changed",
            f"the quote cited from {citation.ref} is in the capture of {snapshot.timestamp.date().isoformat()} "
            f"({snapshot.archive_url}) but no longer on the live page",
        ))
    elif check.status == "missing":
        where = (
            f"on neither the live page nor its capture of {snapshot.timestamp.date().isoformat()}"
            if snapshot is not None
            else "not on the page (and no capture to compare)"
        )
        problems.append(pool.live("quote-missing", f"the quote cited from {citation.ref} is {where}"))
    if key in answers.mismatched:
        problems.append(pool.live(
            "quote-locator-mismatch",
            f"{citation.ref}: locator {citation.locator!r} but the quote is on page {check.page}",
        ))
    return problems


def attach_sources(
    audit: ArticleAudit, item: ArticleFacts, answers: SourceAnswers | None, pool: ProblemPool
) -> ArticleAudit:
    """``audit`` with its claims' citations (and their quote checks), references' drift, and their problems.

    ``answers`` is None when the phase did not run (offline, ``no_quotes``): the
    citations are still listed, without checks.
    """
    refs = {ref.id: ref for ref in item.references}
    added: Counter[str] = Counter()
    claims: list[ClaimAudit] = []
    for claim in audit.claims:
        cited = item.citations.get(claim.id, ())
        citations: list[CitationAudit] = []
        problems = list(claim.problems)
        for one in cited:
            ref = refs.get(one.ref)
            key: QuoteKey | None = (
                (ref.url, ref.day, one.quote, one.locator) if ref is not None and ref.url and one.quote else None
            )
            check = answers.quotes.get(key) if answers is not None and key is not None else None
            citation = pool.compact(CitationAudit(ref=one.ref, locator=one.locator, quote=one.quote, quote_check=check))
            citations.append(citation)
            if key is not None and answers is not None:
                new = _quote_problems(citation, key, answers.captures.get((key[0], key[1])), answers, pool)
                problems.extend(new)
                added.update(p.severity.value for p in new)
        claims.append(
            claim if not citations else pool.compact(
                claim.model_copy(update={"citations": tuple(citations), "problems": tuple(problems)})
            )
        )
    references: list[ReferenceAudit] = []
    for reference in audit.references:
        ref = refs.get(reference.id)
        place: DriftKey | None = (ref.url, ref.day) if answers is not None and ref is not None and ref.url else None
        info = answers.drift.get(place) if answers is not None and place is not None else None
        snapshot = answers.captures.get(place) if answers is not None and place is not None else None
        since = answers.changed_since.get(place[0]) if answers is not None and place is not None else None
        if info is None or snapshot is None:
            references.append(
                reference if since is None else pool.compact(reference.model_copy(update={"text_changed_since": since}))
            )
            continue
        extra: list[AuditProblem] = []
        when = f"{snapshot.timestamp.date().isoformat()} ({snapshot.archive_url})"
        if info.status == "unrelated":
            extra.append(pool.live(
                "content-drift", f"the live page now holds something else: {info.similarity:.0%} of the capture of "
                f"{when} is still on it",
            ))
        elif info.status == "changed":
            extra.append(pool.get(
                "content-drift", Severity.INFO,
                f"the live page has changed since the capture of {when}: {info.similarity:.0%} of it is still there",
            ))
        added.update(p.severity.value for p in extra)
        references.append(pool.compact(reference.model_copy(
            update={"drift": info, "text_changed_since": since, "problems": reference.problems + tuple(extra)}
        )))
    summary = audit.summary
    if added:
        by_severity = dict(summary.by_severity)
        for severity, count in added.items():
            by_severity[severity] = by_severity.get(severity, 0) + count
        summary = summary.model_copy(update={"by_severity": by_severity})
    return audit.model_copy(update={"claims": tuple(claims), "references": tuple(references), "summary": summary})



_STAMP = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")


def fingerprint_captures(
    db_path: Path | None, captures: Iterable[tuple[str, str]], config: CheckConfig | None = None
) -> int:
    """Record the fingerprint of each capture ``wikicore archive`` wrote into an article; how many were.

    ``captures`` are ``(url, archive_url)`` pairs.
    Each capture is read in raw replay (``id_``) through the one network layer;
    its fingerprint goes into the link history at the capture's own time, so a
    later audit compares the live page with what was archived without asking
    the archive. A capture that cannot be read is left out: the archive link
    itself was already saved.
    """
    pairs = list(dict.fromkeys(captures))
    if db_path is None or not pairs:
        return 0
    from ..sources import fingerprint
    from ..sources.fetch import fetch_capture, source_config

    recorded = 0
    with SourceHistory(db_path) as history, CheckSession(source_config(config or CheckConfig())) as session:
        for original, url in pairs:
            stamp = _STAMP.search(url)
            if stamp is None:
                continue
            _, text = fetch_capture(session, url)
            if text.unreadable is not None or not text.full.strip():
                continue
            when = _dt.datetime.strptime(stamp.group(1), "%Y%m%d%H%M%S").replace(tzinfo=_dt.UTC)
            print_ = fingerprint(text.main or text.full)
            history.record(original, "capture", print_.length, print_.sha256, print_.simhash, when)
            recorded += 1
    return recorded
