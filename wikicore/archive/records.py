"""The :class:`Archive` protocol and the frozen records every archive client answers with.

Everything else in wikicore talks to web archives through these, so no other
module imports an archive client and tests can hand in any object with the same
three methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol, runtime_checkable

__all__ = ["TS_FORMAT", "Archive", "Snapshot", "SnapshotQuery"]

#: How Wayback-style archives write a capture time in their URLs.
TS_FORMAT = "%Y%m%d%H%M%S"


@dataclass(frozen=True)
class Snapshot:
    """One capture (a *memento*) in a web archive.

    ``timestamp`` is timezone-aware UTC; ``status_code`` is the HTTP status the
    archive recorded (None when it did not say, e.g. a fresh Save Page Now
    capture; 404, 429... for an archived error page: that is what the site
    answered then, not what the archive answers now); ``archive_url`` is
    ``<web root>/<14-digit timestamp>/<original>``; ``archive`` names the root
    of the archive the capture came from, so that reports and write-backs can
    say which of several archives holds it (None when unknown).
    """

    original: str
    timestamp: datetime
    status_code: int | None
    archive_url: str
    archive: str | None = None

    def distance_days(self, to: date) -> int:
        """Whole days between the capture's UTC date and ``to``, in either direction (never negative)."""
        return abs((self.timestamp.astimezone(UTC).date() - to).days)

    @property
    def wayback_timestamp(self) -> str:
        """The capture time as the archive writes it: ``YYYYMMDDhhmmss``."""
        return self.timestamp.astimezone(UTC).strftime(TS_FORMAT)

    @property
    def ok(self) -> bool:
        """Whether this is a capture of the page itself (HTTP 200), not of an error page."""
        return self.status_code == 200


@dataclass(frozen=True)
class SnapshotQuery:
    """Which capture to look for: of ``url``, nearest before ``when`` (None: the latest)."""

    url: str
    when: date | None = None


@runtime_checkable
class Archive(Protocol):
    """What wikicore needs of a web archive. Implementations must be safe to call repeatedly.

    ``nearest`` answers every query in one call (None when there is no HTTP 200
    capture) so that an implementation can batch; ``resolves`` says which
    capture a stored archive link leads to, *whatever its recorded status* (an
    archived 404 is a capture of an error page, and the caller must say so), or
    None when it leads to no capture at all; ``save`` asks for a new capture
    now. Whole-operation failures raise :class:`~wikicore.errors.NetworkError`
    (or :class:`~wikicore.errors.RateLimited`).
    """

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        """The 200 capture nearest before each query's date, else after it."""
        ...

    def resolves(self, archive_url: str) -> Snapshot | None:
        """The capture ``archive_url`` leads to (any recorded status), or None."""
        ...

    def save(self, url: str) -> Snapshot | None:
        """Ask the archive to capture ``url`` now; the new snapshot, or None."""
        ...

