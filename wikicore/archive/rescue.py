"""Rescue: give references the capture nearest before they were cited, as InternetArchiveBot does.

:func:`rescue_article` only *adds* what it can vouch for, through any
:class:`~wikicore.archive.Archive` (one archive, or several at once through
:class:`~wikicore.archive.several.ArchiveSet`); the change list names the archive
each capture came from, so the commit message and the CLI say where it lives.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InvalidArticle, NetworkError, Problem
from ..models import Article, Reference, UrlStatus
from ..urls import parse_archive_url
from .records import Archive, Snapshot, SnapshotQuery

__all__ = [
    "FAILING_STATUSES",
    "LinkEvidence",
    "RescueAction",
    "RescueChange",
    "RescueProgress",
    "RescueResult",
    "link_evidence",
    "link_health",
    "reference_date",
    "rescue_article",
]

#: Called as ``progress(phase, done, total)``: phase is ``"lookup"`` or ``"save"``.
RescueProgress = Callable[[str, int, int], None]


def _is_http(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in ("http", "https")


class RescueAction(StrEnum):
    """What ``rescue_article`` did for one reference."""

    FOUND = "found"  # an existing capture was linked
    SAVED = "saved"  # Save Page Now made a capture, which was linked


@dataclass(frozen=True)
class RescueChange:
    """One reference that gained an archive link: a line of the commit message."""

    ref_id: str
    url: str
    archive_url: str
    archive_date: str
    action: RescueAction
    url_status: str | None = None
    archive: str | None = None

    def describe(self) -> str:
        """``ref-id: url -> archive_url (found|saved YYYY-MM-DD at ARCHIVE)``."""
        where = f" at {self.archive}" if self.archive else ""
        return f"{self.ref_id}: {self.url} -> {self.archive_url} ({self.action.value} {self.archive_date}{where})"


@dataclass(frozen=True)
class RescueResult:
    """The rescued article and what changed.

    ``missing`` lists ids of references still without an archive; ``skipped``
    those not saved because their link is known dead or failing (the link
    history's latest check, or the article's own ``url_status: dead``);
    ``save_error`` why Save Page Now was given up, if it was.
    """

    article: Article
    changes: tuple[RescueChange, ...] = ()
    missing: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    save_error: str | None = None

    def message(self, title: str | None = None) -> str:
        """A commit message: a summary line, then one line per rescued reference."""
        head = title or f"Archive links for {len(self.changes)} reference(s) of {self.article.slug}"
        body = [f"- {change.describe()}" for change in self.changes]
        if self.missing:
            body.append(f"No capture found for: {', '.join(self.missing)}")
        return "\n".join([head, "", *body]) if body else head

    def summary(self) -> str:
        """One line saying what changed: found, saved, still missing, skipped, per archive."""
        found = sum(1 for c in self.changes if c.action == RescueAction.FOUND)
        saved = sum(1 for c in self.changes if c.action == RescueAction.SAVED)
        where: dict[str, int] = {}
        for change in self.changes:
            where[change.archive or "unknown archive"] = where.get(change.archive or "unknown archive", 0) + 1
        parts = [f"{found} found", f"{saved} saved", f"{len(self.missing)} without a capture"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} not saved (known dead or failing)")
        line = f"{self.article.slug}: " + ", ".join(parts)
        if where:
            line += " (" + ", ".join(f"{n} from {name}" for name, n in sorted(where.items())) + ")"
        return line


def reference_date(ref: Reference) -> date | None:
    """The day a reference should be archived near: its access date, else its publication date.

    A partial date stands for its last day (``2012-05`` → 2012-05-31), so that
    "before the access date" includes the whole period the editor named.
    """
    for value in (ref.access_date, ref.date):
        if not value:
            continue
        parts = [int(p) for p in value.split("-")]
        year = parts[0]
        month = parts[1] if len(parts) > 1 else 12
        day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
        return date(year, month, day)
    return None


def _marked_dead(ref: Reference) -> bool:
    return ref.url_status == UrlStatus.DEAD


def rescue_article(
    article: Article,
    archive: Archive,
    *,
    save_missing: bool = False,
    live_urls: set[str] | None = None,
    dead_urls: set[str] | None = None,
    failing_urls: set[str] | None = None,
    progress: RescueProgress | None = None,
) -> RescueResult:
    """Give references with a ``url`` but no ``archive_url`` the capture nearest before they were cited.

    Like InternetArchiveBot, this only *adds* what it can vouch for:

    * ``archive_url``/``archive_date`` come from an existing HTTP 200 capture
      nearest before the access date (else the publication date), else after it;
    * references the article itself marks dead (``url_status: dead``, from
      ``{{dead link}}``) come first: readers of those have nothing to follow;
    * ``url_status`` is set only when the caller knows: ``dead`` for urls in
      ``dead_urls`` (IABot's rule: confirmed dead), ``live`` for urls in
      ``live_urls``; an editor's value is never overwritten, and ``live`` is
      never written for a url in ``dead_urls`` or ``failing_urls`` (its latest
      check failed: a 404, 410, bot wall or time-out is evidence, and a save
      does not outweigh it). CS1 shows a link with an archive and no url-status
      as dead, so callers that checked the links should pass what they found;
      without that knowledge nothing is claimed.
    * with ``save_missing``, Save Page Now is asked for references still without
      a capture, except those known dead or failing or marked dead (a capture
      of such a page is a capture of its error page); a new capture is used only
      if it replays as a 200, which also shows the page was live, so it gets
      ``url_status: live``. A capture found before the reference's date always
      wins over a new one (a save is dated today, not when the page was read).
      Saves are rate-limited by the archive client; if saving fails as a whole
      (:class:`~wikicore.errors.NetworkError`), saving stops, ``save_error``
      says why, and what was found so far is still returned.

    ``progress(phase, done, total)`` is called as lookups and saves advance
    (the CLI draws it on a terminal; the library never prints).

    Returns a new, re-validated article; the input is not modified.
    """
    emit: RescueProgress = progress or (lambda phase, done, total: None)
    # Compared with the stripped url each query asks for.
    live = {url.strip() for url in live_urls or ()}
    dead = {url.strip() for url in dead_urls or ()}
    failing = {url.strip() for url in failing_urls or ()}
    # A url that is itself a snapshot link needs no archive of the archive. References the
    # article marks dead go first: InternetArchiveBot's main job, and the first a budget should reach.
    todo = sorted(
        (
            r
            for r in article.references
            if r.url and not r.archive_url and _is_http(r.url) and parse_archive_url(r.url) is None
        ),
        key=lambda r: not _marked_dead(r),
    )
    refused = {r.url.strip() for r in todo if r.url and _marked_dead(r)} | dead | failing
    queries = {r.id: SnapshotQuery(r.url.strip(), reference_date(r)) for r in todo if r.url}
    distinct = list(dict.fromkeys(queries.values()))
    emit("lookup", 0, len(distinct))
    found = archive.nearest(distinct) if queries else {}
    emit("lookup", len(distinct), len(distinct))
    to_save = (
        len({queries[r.id].url for r in todo if found.get(queries[r.id]) is None and queries[r.id].url not in refused})
        if save_missing
        else 0
    )

    changes: list[RescueChange] = []
    missing: list[str] = []
    skipped: list[str] = []
    save_error: str | None = None
    saved_urls: dict[str, Snapshot | None] = {}
    updates: dict[str, dict[str, Any]] = {}
    for ref in todo:
        query = queries[ref.id]
        snapshot = found.get(query)
        action = RescueAction.FOUND
        if snapshot is None and save_missing:
            if query.url in refused or _marked_dead(ref):
                skipped.append(ref.id)
            elif save_error is None:
                if query.url not in saved_urls:  # two references citing one page: one save
                    emit("save", len(saved_urls), to_save)
                    try:
                        saved_urls[query.url] = _save_verified(archive, query.url)
                    except NetworkError as error:
                        save_error = str(error)
                    emit("save", len(saved_urls), to_save)
                snapshot = saved_urls.get(query.url)
                if snapshot is not None:
                    action = RescueAction.SAVED
                    live = live | {query.url}  # a 200 capture made just now of a page not known failing
        if snapshot is None:
            missing.append(ref.id)
            continue
        update: dict[str, Any] = {
            "archive_url": snapshot.archive_url,
            "archive_date": snapshot.timestamp.date().isoformat(),
        }
        if ref.url_status is None:
            if query.url in dead:
                update["url_status"] = UrlStatus.DEAD
            elif query.url in live and query.url not in failing:
                update["url_status"] = UrlStatus.LIVE
        updates[ref.id] = update
        status = update.get("url_status")
        changes.append(
            RescueChange(
                ref_id=ref.id,
                url=query.url,
                archive_url=update["archive_url"],
                archive_date=update["archive_date"],
                action=action,
                url_status=str(status) if status is not None else None,
                archive=snapshot.archive,
            )
        )

    if not updates:
        return RescueResult(article, (), tuple(missing), tuple(skipped), save_error)
    references = [r.model_copy(update=updates[r.id]) if r.id in updates else r for r in article.references]
    data = article.model_copy(update={"references": references}).model_dump(mode="python")
    try:
        rescued = Article.model_validate(data)
    except ValueError as error:  # pydantic.ValidationError is a ValueError
        raise InvalidArticle([Problem(str(error), path="references")], source=article.slug) from error
    return RescueResult(rescued, tuple(changes), tuple(missing), tuple(skipped), save_error)


def _save_verified(archive: Archive, url: str) -> Snapshot | None:
    """Save, then make sure the capture is a 200: only a capture of the page itself is worth linking.

    A recording route (pywb) answers with the memento it made and its recorded
    status; Save Page Now names the capture without a status, so it is replayed.
    """
    saved = archive.save(url)
    if saved is None:
        return None
    if saved.status_code is not None:
        return saved if saved.ok else None
    checked = archive.resolves(saved.archive_url)
    if checked is None or not checked.ok:
        return None
    return dataclasses.replace(saved, status_code=checked.status_code)


#: Latest verdicts that are evidence against a page: gone, a "not found" page, a bot wall, no answer.
#: None of them says the page is live, so nothing built on them may say it either.
FAILING_STATUSES = frozenset({"dead", "soft-404", "blocked", "error"})


@dataclass(frozen=True)
class LinkEvidence:
    """What the link history says about some urls, for :func:`rescue_article`.

    ``live``: the latest check was live; ``dead``: confirmed dead by IABot's
    rule; ``failing``: the latest check failed (:data:`FAILING_STATUSES`),
    confirmed or not.
    """

    live: frozenset[str] = frozenset()
    dead: frozenset[str] = frozenset()
    failing: frozenset[str] = frozenset()


def link_evidence(db_path: Path, urls: Iterable[str]) -> LinkEvidence:
    """Read :class:`LinkEvidence` from the link history; a missing file knows nothing (and is not created)."""
    if not db_path.is_file():
        return LinkEvidence()
    from ..links.history import LinkDB  # only the CLI's rescue needs the history

    live: set[str] = set()
    dead: set[str] = set()
    failing: set[str] = set()
    with LinkDB(db_path) as db:
        for url in dict.fromkeys(urls):
            latest = db.latest(url)
            if latest is None:
                continue
            if latest.status == "live":
                live.add(url)
                continue
            if latest.status in FAILING_STATUSES:
                failing.add(url)
            if db.dead_state(url).confirmed_dead:
                dead.add(url)
    return LinkEvidence(frozenset(live), frozenset(dead), frozenset(failing))


def link_health(db_path: Path, urls: Iterable[str]) -> tuple[set[str], set[str]]:
    """What the link history (``wikicore audit``'s SQLite file) knows: (live urls, confirmed-dead urls).

    Live means the latest observation was ``live``; dead means IABot's rule holds
    (``confirmed_dead``), not merely one failed check. A missing file knows
    nothing (and is not created).
    """
    live: set[str] = set()
    dead: set[str] = set()
    if not db_path.is_file():
        return live, dead
    from ..links.history import LinkDB  # only the CLI's rescue needs the history

    with LinkDB(db_path) as db:
        for url in dict.fromkeys(urls):
            latest = db.latest(url)
            if latest is not None and latest.status == "live":
                live.add(url)
            elif db.dead_state(url).confirmed_dead:
                dead.add(url)
    return live, dead
