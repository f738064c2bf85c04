"""What an audit is asked to do, and the progress it reports back.

The same settings (the link checker's config, the archive, the history file,
``refresh``, the clock) are needed by the wiki audit, the run and both of its
live phases; one frozen :class:`AuditOptions` carries them through, so a new
setting is one field, not one more argument in four signatures.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypedDict, Unpack

from ..archive import Archive
from ..links.checker import CheckConfig

__all__ = [
    "FIELD_WORDS",
    "AuditEvent",
    "AuditFields",
    "AuditOptions",
    "AuditPhase",
    "Clock",
    "OptionWords",
    "Progress",
]

Clock = Callable[[], _dt.datetime]

#: How a caller spells "turn this option on" in the report's notes, by :class:`AuditOptions` field name.
OptionWords = Mapping[str, str]

#: The library's own spelling: the field as a Python caller writes it. The CLI passes its flags instead.
FIELD_WORDS: OptionWords = {"no_archive": "no_archive=True", "no_quotes": "no_quotes=True", "refresh": "refresh=True"}


@dataclass(frozen=True)
class AuditOptions:
    """How to audit: what is checked live, against which archive, with which history and clock.

    ``offline`` touches no network (every url is ``unchecked``); ``no_archive``
    checks links but not archive coverage; ``no_quotes`` skips the source-text
    phase (quote checks and content drift, :mod:`wikicore.audit.quotes`). ``config`` tunes the link checker
    (its ``ttl`` also bounds the archive cache). ``archive`` defaults to the
    Wayback Machine at ``$WIKICORE_WAYBACK_URL`` or the Internet Archive.
    ``db_path`` is the SQLite history shared by link and archive lookups (None:
    nothing persists beyond the call); ``refresh`` ignores cached results.
    ``today`` and ``clock`` are injectable for tests (default: now, in UTC).
    """

    offline: bool = False
    no_archive: bool = False
    no_quotes: bool = False
    config: CheckConfig = field(default_factory=CheckConfig)
    archive: Archive | None = None
    db_path: Path | None = None
    refresh: bool = False
    today: _dt.date | None = None
    clock: Clock | None = None

    def replace(self, **fields: Unpack[AuditFields]) -> AuditOptions:
        """A copy with ``fields`` changed; itself when there are none."""
        return dataclasses.replace(self, **fields) if fields else self

    def now(self) -> _dt.datetime:
        """The audit's time: ``clock()``, else the current time in UTC."""
        return self.clock() if self.clock is not None else _dt.datetime.now(_dt.UTC)


class AuditFields(TypedDict, total=False):
    """:class:`AuditOptions`' fields as keywords: ``audit_articles(pairs, offline=True)`` is shorthand."""

    offline: bool
    no_archive: bool
    no_quotes: bool
    config: CheckConfig
    archive: Archive | None
    db_path: Path | None
    refresh: bool
    today: _dt.date | None
    clock: Clock | None


class AuditPhase(StrEnum):
    """The phases an audit reports progress for."""

    STATIC = "static"
    LINKS = "links"
    ARCHIVE = "archive"
    SOURCES = "sources"
    DONE = "done"


@dataclass(frozen=True)
class AuditEvent:
    """A progress report: ``done`` of ``total`` steps of ``phase``; ``item`` names the last one."""

    phase: AuditPhase
    done: int
    total: int
    item: str | None = None


Progress = Callable[[AuditEvent], None]
