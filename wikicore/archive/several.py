"""Several archives as one: the nearest-before 200 capture is chosen across all of them.

:class:`ArchiveSet` is itself an :class:`~wikicore.archive.Archive`, so the audit,
the cache and the rescue take one archive or several alike. Each archive is
asked the whole batch at once (in parallel, one thread per archive: each keeps
its own politeness), then for each query the capture nearest **before** the
date wins across archives, else the nearest after. Every
:class:`~wikicore.archive.Snapshot` names its archive, so reports and
write-backs say where the copy lives.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from datetime import UTC, datetime, time
from urllib.parse import urlsplit

from ..errors import InvalidInput, NetworkError
from ..urls import WAYBACK_HOSTS
from .records import Archive, Snapshot, SnapshotQuery

__all__ = ["ArchiveSet", "choose_nearest"]

#: What one archive's unreadable or failed answer raises once it reaches the set:
#: the parsers turn malformed bytes into "no capture", but a client must never
#: sink its neighbours, so data errors that slip past them are that archive's too.
_ONE_ARCHIVE_FAILED = (NetworkError, ValueError, ArithmeticError, RecursionError, LookupError)


def choose_nearest(query: SnapshotQuery, candidates: Sequence[Snapshot | None]) -> Snapshot | None:
    """Of 200 captures from several archives: the latest at or before the query's day, else the earliest after.

    A query without a date wants the latest capture anywhere.
    """
    found = [snap for snap in candidates if snap is not None and snap.ok]
    if not found:
        return None
    if query.when is None:
        return max(found, key=lambda s: s.timestamp)
    end = datetime.combine(query.when, time(23, 59, 59), tzinfo=UTC)
    before = [s for s in found if s.timestamp <= end]
    if before:
        return max(before, key=lambda s: s.timestamp)
    return min(found, key=lambda s: s.timestamp)


class ArchiveSet:
    """Several :class:`~wikicore.archive.Archive` objects answering as one.

    ``save`` goes to the first archive (the one named first on the command line);
    ``resolves`` to the archive under whose root the link lies (by its
    ``base_url``), else the first.
    """

    def __init__(self, archives: Sequence[Archive]) -> None:
        if not archives:
            raise InvalidInput("an archive set needs at least one archive")
        self.archives = list(archives)
        #: One line per archive that failed a whole batch (the others answered).
        self.failures: list[str] = []

    def __repr__(self) -> str:
        return f"ArchiveSet({self.archives!r})"

    @property
    def base_url(self) -> str | None:
        """The first archive's root (what a single-archive caller expects)."""
        return getattr(self.archives[0], "base_url", None)

    @property
    def base_urls(self) -> list[str]:
        """Every archive's root, in order."""
        return [url for archive in self.archives if (url := getattr(archive, "base_url", None))]

    @property
    def requests_made(self) -> int:
        """Requests made by all the archives together."""
        return sum(int(getattr(archive, "requests_made", 0)) for archive in self.archives)

    @property
    def cache_key(self) -> str:
        """What distinguishes this set's answers in a shared cache: every member's key."""
        return " + ".join(str(getattr(a, "cache_key", getattr(a, "base_url", repr(a)))) for a in self.archives)

    @property
    def problems(self) -> list[str]:
        """Answers given up by any archive (over a byte cap), and archives that failed a whole batch."""
        return [p for archive in self.archives for p in getattr(archive, "problems", [])] + self.failures

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """The nearest-before 200 capture of each query across all archives, else the nearest after."""
        if len(self.archives) == 1:
            return self.archives[0].nearest(queries)
        with concurrent.futures.ThreadPoolExecutor(len(self.archives), thread_name_prefix="wikicore-archives") as pool:
            outcomes = list(pool.map(lambda archive: _asked(archive, queries), self.archives))
        answers = [answer for answer in outcomes if not isinstance(answer, BaseException)]
        errors = [(archive, error) for archive, error in zip(self.archives, outcomes, strict=True)
                  if isinstance(error, BaseException)]
        if not answers:  # every archive failed: the lookup as a whole did
            archive, first = errors[0]
            if isinstance(first, NetworkError):
                raise first
            raise NetworkError(f"{_name(archive)} gave an unreadable answer: {first}") from first
        self.failures.extend(f"{_name(archive)} failed, the other archives answered: {error}"
                             for archive, error in errors)
        return {query: choose_nearest(query, [answer.get(query) for answer in answers]) for query in queries}

    def _owner(self, archive_url: str) -> Archive:
        for archive in self.archives:
            base = getattr(archive, "base_url", None)
            if base and archive_url.strip().startswith(base.rstrip("/") + "/"):
                return archive
        host = (urlsplit(archive_url.strip()).hostname or "").lower()
        if host in WAYBACK_HOSTS:  # an Internet Archive link: its client, if one is in the set
            for archive in self.archives:
                base = getattr(archive, "base_url", None)
                if base and (urlsplit(base).hostname or "").lower() in WAYBACK_HOSTS:
                    return archive
        return self.archives[0]

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The capture the link leads to, asked of the archive that holds it."""
        return self._owner(archive_url).resolves(archive_url)

    def save(self, url: str) -> Snapshot | None:
        """A new capture in the first archive."""
        return self.archives[0].save(url)


def _name(archive: Archive) -> str:
    return str(getattr(archive, "base_url", None) or repr(archive))


def _asked(archive: Archive, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None] | Exception:
    """One archive's answers, or the error that ended its lookups (for :meth:`ArchiveSet.nearest` to weigh)."""
    try:
        return archive.nearest(queries)
    except _ONE_ARCHIVE_FAILED as error:
        return error
