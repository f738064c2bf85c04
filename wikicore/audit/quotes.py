"""The audit's source-text phase: does the cited page still say it? What one url needs, and its answers.

Beside the link checks and archive lookups (:class:`~wikicore.audit.source_phase.SourcePhase`
schedules the work: a url's starts with its link verdict, its captures are read once the
archive has answered), every citation with a ``quote`` and every web reference with a
capture near its access date get the text of the live page and of the capture
(raw ``id_`` replay), both read through the one network layer
(:mod:`wikicore.sources.fetch`: address policy, per-URL deadline, the source-text
byte cap ``CheckConfig.max_text_bytes``). The judging is
:mod:`wikicore.sources`' (:func:`~wikicore.sources.check_quote`,
:func:`~wikicore.sources.compare`). The phase is three modules, by job, importing one way:

* this one plans a url's fetches (:func:`task_for`), runs them (:func:`run_task`) and
  keeps the answers (:class:`SourceAnswers`, stored in the history by :func:`encode_answers`);
* :mod:`wikicore.audit.source_phase` schedules the urls beside the live phases;
* :mod:`wikicore.audit.source_verdicts` turns the answers into the report's ``quote_check``,
  ``drift`` and problems:

``quote-changed``           warning  in the capture (its date and url named), no longer on the live page
``quote-missing``           warning  on neither the live page nor the capture
``quote-locator-mismatch``  info     the ``locator`` names pages the quote is not on
``content-drift``           warning  the live page now holds something else; info when it only changed

Memory: a url's page texts live only while its own checks run (one task a
url, its texts dropped when the task returns); what is kept is the small
verdict records, one per quote and one per compared reference.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive import Snapshot, SnapshotQuery
from ..archive.endpoints import is_internet_archive
from ..archive.gate import MEMENTO_REQUESTS_PER_SECOND, shared_gate
from ..links.checker import LinkResult, LinkStatus
from ..links.fingerprints import SourceHistory
from ..net import CheckConfig, CheckSession, Limit
from .collect import ArticleFacts, RefFacts, checkable
from .report import DriftInfo, QuoteCheckInfo

if TYPE_CHECKING:
    from ..sources import Fingerprint, PageText, QuoteCheck

# wikicore.sources (trafilatura, pdfium, rapidfuzz: about 0.17 s to import) is imported where
# texts are read, so an offline or --no-quotes audit and `wikicore archive` without changes never pay for it.

__all__ = [
    "NEAR_DAYS",
    "REPLAY_LIMIT",
    "SOURCE_WORKERS",
    "DriftKey",
    "QuoteKey",
    "SourceAnswers",
    "SourceTask",
    "Wanted",
    "decode_answers",
    "encode_answers",
    "fingerprint_captures",
    "plan_sources",
    "questions_hash",
    "read_live",
    "replay_limits",
    "run_task",
    "source_index",
    "task_for",
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
class SourceTask:
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


#: A reference of the url, with its distinct quotes and their locators. A tuple, not a frozenset: one
#: entry a quoted reference until its link verdict, 48 bytes where a frozenset of one costs 216.
Wanted = tuple[RefFacts, tuple[tuple[str, str | None], ...]]


def source_index(items: Iterable[ArticleFacts]) -> dict[str, list[Wanted]]:
    """Every checkable url's references, each with the quotes (and locators) cited from it."""
    index: dict[str, list[Wanted]] = {}
    none: tuple[tuple[str, str | None], ...] = ()
    for item in items:
        wanted: dict[str, dict[tuple[str, str | None], None]] = {}  # distinct, in the article's order
        for cited in item.citations.values():
            for citation in cited:
                if citation.quote:
                    wanted.setdefault(citation.ref, {})[(citation.quote, citation.locator)] = None
        for ref in item.references:
            if ref.url and checkable(ref.url):
                quotes = wanted.get(ref.id)
                index.setdefault(ref.url, []).append((ref, tuple(quotes) if quotes else none))
    return index


def task_for(
    url: str, wanted: list[Wanted], result: LinkResult | None, nearest: dict[SnapshotQuery, Snapshot | None]
) -> SourceTask | None:
    """One url's task, or None when it has nothing to check (no quote, no capture near to drift from)."""
    task: SourceTask | None = None
    for ref, quotes in wanted:
        snapshot = nearest.get(SnapshotQuery(url, ref.day))
        snapshot = snapshot if snapshot is not None and snapshot.ok else None
        # Drift compares two texts: a page the link check found dead or blocked has none to compare.
        live = result is not None and result.status is LinkStatus.LIVE and not ref.excluded
        drift = live and _near(snapshot, ref.day)
        if not drift and not quotes:
            continue
        if task is None:
            task = SourceTask(url, result, _live_reason(ref, result))
        capture, had_drift, had_quotes = task.days.get(ref.day, (snapshot, False, set()))
        task.days[ref.day] = (capture, had_drift or drift, had_quotes.union(quotes))
    return task


def plan_sources(
    items: Iterable[ArticleFacts],
    links: dict[str, LinkResult],
    nearest: dict[SnapshotQuery, Snapshot | None],
) -> list[SourceTask]:
    """The fetches the phase makes: one task a url, with what each of its access days needs."""
    tasks = (task_for(url, wanted, links.get(url), nearest) for url, wanted in source_index(items).items())
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


def read_live(url: str, session: CheckSession) -> PageText:
    """The live page's text, read through the session."""
    from ..sources.fetch import fetch_page

    return fetch_page(session, url)[1]


def run_task(task: SourceTask, session: CheckSession, read: PageText | None = None) -> SourceAnswers:
    """Fetch one url's texts (the live one unless ``read`` already), check its quotes and drift, let the texts go."""
    from ..sources import PageText, PreparedText, TextKind, check_quote, compare, fingerprint
    from ..sources.fetch import fetch_capture

    out = SourceAnswers()
    if task.reason is None:
        live = read if read is not None else read_live(task.url, session)
        out.pages += 1
        # A paywall or login page's text is its teaser, not the source's: fingerprinting it would
        # read as "content changed" at the next audit, and comparing it with a capture as drift.
        if live.unreadable is None and live.wall is None and live.full.strip():
            out.prints.append(("live", fingerprint(live.main or live.full), None))
    else:
        live = PageText(TextKind.NONE, "", "", unreadable=task.reason)
    live_prepared = PreparedText.of(live) if live.unreadable is None and live.full.strip() else None
    for day, (snapshot, drift, wanted) in task.days.items():
        capture: PageText | None = None
        # Drift alone needs both texts: no capture is read for a page that could not be.
        drift = drift and live.wall is None
        if snapshot is not None and (wanted or (drift and live_prepared is not None)):
            _, capture = fetch_capture(session, snapshot.archive_url)
            out.pages += 1
            out.captures[(task.url, day)] = snapshot
            if capture.unreadable is None and capture.wall is None and capture.full.strip():
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
            capture.wall is None and live.unreadable is None
        ):
            measured = compare(capture.main or capture.full, live.main or live.full)
            out.drift[(task.url, day)] = DriftInfo(
                similarity=round(min(max(measured.similarity, 0.0), 1.0), 3),
                capture=snapshot.wayback_timestamp,
                status=measured.status.value,
            )
        del capture, capture_prepared
    return out


def _day(day: _dt.date | None) -> str:
    return day.isoformat() if day else ""


def questions_hash(task: SourceTask) -> str:
    """A hash of what is asked about the url: a stored answer stands only for the same questions."""
    asked = [
        [_day(day), task.reason, snapshot.archive_url if snapshot else None, drift, sorted(
            [quote, locator or ""] for quote, locator in quotes
        )]
        for day, (snapshot, drift, quotes) in sorted(task.days.items(), key=lambda item: _day(item[0]))
    ]
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode("utf-8")).hexdigest()


def encode_answers(found: SourceAnswers) -> dict[str, Any]:
    return {
        "quotes": [
            [_day(day), quote, locator, info.model_dump(mode="json"), (url, day, quote, locator) in found.mismatched]
            for (url, day, quote, locator), info in found.quotes.items()
        ],
        "drift": [[_day(day), info.model_dump(mode="json")] for (url, day), info in found.drift.items()],
    }


def decode_answers(task: SourceTask, stored: Any) -> SourceAnswers | None:
    """A stored answer back as records; None when it does not hold what :func:`encode_answers` wrote."""
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
