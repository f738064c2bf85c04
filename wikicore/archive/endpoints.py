"""Where an archive's endpoints are, and what each archive root turned out to offer.

Every endpoint hangs off one configurable root per archive (the Internet
Archive's own root maps to its real hosts), so a self-hosted pywb, Archive-It or
a test server is the same client pointed elsewhere. What a root offers
(availability API, its batch form, CDX, a replay prefix) is found on first use
and remembered for the process, so a missing API costs one request, not one per
lookup.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import InvalidInput

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_WAYBACK_URL",
    "Endpoints",
    "Offers",
    "is_internet_archive",
    "offers_of",
    "wayback_base_from_env",
]

ENV_WAYBACK_URL = "WIKICORE_WAYBACK_URL"

#: The Internet Archive's own hosts: availability lives on archive.org, the rest
#: on web.archive.org. Any other base URL is one root for all.
DEFAULT_BASE_URL = "https://web.archive.org"


def wayback_base_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The base URL set in ``WIKICORE_WAYBACK_URL``, or None to use the Internet Archive."""
    value = (os.environ if environ is None else environ).get(ENV_WAYBACK_URL, "").strip()
    return value or None


def is_internet_archive(base_url: str) -> bool:
    """Whether ``base_url`` is the Internet Archive's own root (its published limits apply)."""
    parts = urlsplit(base_url)
    return parts.netloc.lower() in ("web.archive.org", "archive.org") and not parts.path.strip("/")


@dataclass(frozen=True)
class Endpoints:
    """The endpoints of one archive, all derived from its root URL."""

    available: str
    cdx: str
    web: str
    save: str
    timemap: str = ""

    @classmethod
    def from_base(
        cls, base_url: str = DEFAULT_BASE_URL, save_path: str | None = None, *, prefix: bool = False
    ) -> Endpoints:
        """Endpoints under ``base_url``; the Internet Archive's own root maps to its real hosts (https).

        ``save_path`` is the capture route below the root: ``save/`` (Save Page
        Now, the default) or pywb's recording route, e.g. ``web/record/``.
        ``prefix`` reads a root with a path as a replay prefix rather than as
        the place a Wayback server is mounted (see :class:`Offers`).
        """
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"archive url {base_url!r} is not an http(s) URL")
        root = base_url.rstrip("/")
        save = (save_path or "save/").strip("/") + "/"
        if is_internet_archive(base_url):
            return cls(
                available="https://archive.org/wayback/available",
                cdx="https://web.archive.org/cdx/search/cdx",
                web="https://web.archive.org/web/",
                save=f"https://web.archive.org/{save}",
                timemap="https://web.archive.org/web/timemap/link/",
            )
        if prefix:
            # The root is a replay prefix (Archive-It's /all, a pywb collection's /name):
            # mementos at <root>/<ts>/<url>, the TimeMap at <root>/timemap/link/<url>, and
            # a CDX server where pywb puts a collection's (<root>/cdx).
            return cls(
                available=f"{root}/wayback/available",
                cdx=f"{root}/cdx",
                web=f"{root}/",
                save=f"{root}/{save}",
                timemap=f"{root}/timemap/link/",
            )
        return cls(
            available=f"{root}/wayback/available",
            cdx=f"{root}/cdx/search/cdx",
            web=f"{root}/web/",
            save=f"{root}/{save}",
            timemap=f"{root}/web/timemap/link/",
        )


@dataclass
class Offers:
    """What an archive root turned out to offer: True, False, or None for not yet known."""

    availability_batch: bool | None = None
    availability: bool | None = None
    cdx: bool | None = None
    #: A root with a path (``https://wayback.archive-it.org/all``) may be a replay prefix
    #: (mementos at ``<root>/<ts>/<url>``) rather than a Wayback mounted there (``<root>/web/...``):
    #: found out when ``<root>/web/timemap/link/`` is missing and ``<root>/timemap/link/`` answers.
    replay_prefix: bool | None = None


_OFFERS: dict[str, Offers] = {}
_OFFERS_LOCK = threading.Lock()


def offers_of(base_url: str) -> Offers:
    """The remembered offers of the archive at ``base_url`` (one record per root, for the process)."""
    key = base_url.rstrip("/").lower()
    with _OFFERS_LOCK:
        return _OFFERS.setdefault(key, Offers())
