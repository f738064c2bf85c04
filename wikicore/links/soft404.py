"""Soft 404s: pages that answer 200 but say "not found", and the one probe cache that exposes them.

A removed article is often served as a 200 "Page not found" page, even on a
site that answers other unknown paths with a real 404; so every 2xx is judged on
its title and text (:func:`soft404_reason`). Where the words do not give it
away, the site is asked for a random sibling path once per host and directory
(sites often serve soft 404s under some sections only, so the host alone is too
coarse) and the answer compared: the status, where redirects ended, and the
similarity of the bodies after stripping digits and the paths themselves.

Every rule lives here, named in :data:`RULES` and in the reason it gives, so a
change to what counts as a soft 404 is made once; the README's "Verdicts"
section lists each with the real page that motivated it, and
``tests/test_realweb.py`` holds it to that page.
"""

from __future__ import annotations

import asyncio
import difflib
import html
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..net import Fetch, host_key

__all__ = [
    "PROBE_CACHE",
    "RULES",
    "SOFT404_SIMILARITY",
    "Probe",
    "ProbeCache",
    "needs_site_probe",
    "page_text",
    "probe_key",
    "probe_url",
    "site_url",
    "soft404_reason",
]

#: Bodies at least this similar to the random-path probe are the site's "not found" page.
SOFT404_SIMILARITY = 0.9
#: Characters of normalised text compared for similarity (difflib is quadratic at worst).
_COMPARE_CHARS = 4000
#: Soft-404 probes remembered, one per host and directory.
PROBE_CACHE = 4096
#: Bytes of a body searched for "not found" words (the message is near the top of the page).
_MARKER_BYTES = 32768

_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
# Not-found words, never a bare number: a podcast called "The 404", the "Section 404" permits of US
# environmental law and paginated "Page 404" titles are live pages. A 404 or 410 counts only
# beside words that make it an error ("Error 404", "404 - Page Not Found", "HTTP 410").
_TITLE_MARKERS = re.compile(
    r"\b(?:not found|page not found|no longer (?:available|exists)|does(?:n't| not) exist"
    r"|page (?:is )?missing|page unavailable|(?:error|http|fehler|erreur) ?:? ?4(?:04|10)"
    r"|4(?:04|10) ?(?:[-:|–—] ?)?(?:error|not found|page not found|gone|seite nicht gefunden|page introuvable))\b"
    r"|seite nicht gefunden|page introuvable|página no encontrada",
    re.IGNORECASE,
)
_BODY_MARKERS = re.compile(
    r"page not found|404 not found|error 404|no longer available|(?:page|article|content) (?:you (?:are|were|'re) "
    r"looking for|you requested) (?:could not be found|cannot be found|does(?:n't| not) exist|is no longer)"
    r"|this page does(?:n't| not) exist|page (?:has been|was) removed",
    re.IGNORECASE,
)
# An archive's own answer for a URL it holds no copy of, served 200 by the Wayback Machine for an
# excluded site (recorded in the ``wayback`` package's cassettes: "Sorry. This URL has been excluded
# from the Wayback Machine."), and its "Hrm. The Wayback Machine has not archived that URL." page.
_ARCHIVE_MARKERS = re.compile(
    r"this url has been excluded from the wayback machine|wayback machine has not archived that url"
    r"|this (?:url|page|site) (?:is|has) not (?:been )?archived|no captures? (?:found|exist) for",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"<[^>]*>")
_DIGITS_RE = re.compile(r"\d+")
_SPACE_RE = re.compile(r"\s+")


def page_text(body: bytes) -> str:
    """A body as text (UTF-8, undecodable bytes replaced): pages lie about their charset too often to trust it."""
    return body.decode("utf-8", errors="replace")


def _title(body: bytes) -> str:
    match = _TITLE_RE.search(body)
    return html.unescape(_SPACE_RE.sub(" ", page_text(match.group(1)))).strip() if match else ""


def _normalise(body: bytes, paths: Iterable[str]) -> str:
    """Text for similarity: lower case, paths and digits removed, whitespace collapsed."""
    text = page_text(body).lower()
    for path in paths:
        if len(path) > 1:
            text = text.replace(path.lower(), " ")
    text = _DIGITS_RE.sub("", text)
    return _SPACE_RE.sub(" ", text)[:_COMPARE_CHARS]


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SOFT404_SIMILARITY
        and matcher.quick_ratio() >= SOFT404_SIMILARITY
        and matcher.ratio() >= SOFT404_SIMILARITY
    )


@dataclass(frozen=True)
class Probe:
    """How a site answers a random path next to the URL being checked."""

    status: int | None
    final_url: str | None
    redirected: bool
    text: str

    @property
    def hard_404(self) -> bool:
        """The site answers unknown paths with a real 404 or 410: a 2xx can be trusted."""
        return self.status in (404, 410)

    @classmethod
    def of(cls, sibling: str, fetch: Fetch) -> Probe | None:
        """The probe a fetch of the random ``sibling`` URL makes; ``None`` when it got no answer."""
        if fetch.failure is not None:
            return None
        paths = (urlsplit(sibling).path,)
        return cls(fetch.status, fetch.final_url, bool(fetch.redirects), _normalise(fetch.body, paths))


def _directory(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/" if "/" in parts.path else "/"
    return f"{host_key(url)}{directory}", directory


def probe_key(url: str) -> str:
    """The probe cache key of ``url``: its host and directory."""
    return _directory(url)[0]


def site_url(url: str) -> str:
    """The root of ``url``'s site: its probe tells where unknown paths of the whole site are sent."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def needs_site_probe(fetch: Fetch, probe: Probe | None) -> bool:
    """Whether a 2xx reached by redirect needs the site's probe too: its directory's did not end where it did."""
    if not fetch.redirects or probe_key(fetch.url) == probe_key(site_url(fetch.url)):
        return False
    return probe is None or not (probe.redirected and probe.final_url == fetch.final_url)


def probe_url(url: str) -> tuple[str, str]:
    """``(cache key, sibling URL)``: a random name in the same directory as ``url``."""
    key, directory = _directory(url)
    parts = urlsplit(url)
    sibling = f"{directory}wikicore-{secrets.token_hex(8)}"
    return key, urlunsplit((parts.scheme, parts.netloc, sibling, "", ""))


#: The soft-404 rules, by name; each is documented beside the real page that motivated it
#: (README, "Verdicts"). A reason starts with its rule's name, so a report says which rule spoke.
RULES = ("not-found-words", "archive-no-copy", "redirect-like-unknown-path", "same-as-unknown-path")


def _same_page(a: str | None, b: str | None) -> bool:
    """Two URLs naming one page: scheme, host case and a trailing slash aside."""
    if not a or not b:
        return False
    pa, pb = urlsplit(a), urlsplit(b)
    return (
        pa.netloc.lower() == pb.netloc.lower()
        and (pa.path.rstrip("/") or "/") == (pb.path.rstrip("/") or "/")
        and pa.query == pb.query
    )


def _is_root(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.path.rstrip("/") == "") and not parts.query


def soft404_reason(fetch: Fetch, probe: Probe | None, site: Probe | None = None) -> str | None:
    """Why the 2xx ``fetch`` is a "not found" page in disguise, or ``None`` when it is a real page.

    ``probe`` is how the URL's directory answers a random path; ``site`` how the
    site's root directory does (asked only for a URL that redirected elsewhere).
    The rules, strongest first (:data:`RULES`):

    * ``not-found-words``: the title or the top of the text says "not found" in words;
    * ``archive-no-copy``: an archive's own "excluded" or "not archived" page;
    * ``redirect-like-unknown-path``: a deep URL sent to the page that unknown
      paths of its directory or of the site are sent to (InternetArchiveBot's
      redirect-to-root rule, generalised); never for the site's root itself;
    * ``same-as-unknown-path``: the same content as a random path gets.

    A URL that *is* the page unknown paths lead to (a home page cited as such)
    is live: sharing its content with the unknown paths proves nothing.
    """
    title = _title(fetch.body)
    if title and _TITLE_MARKERS.search(title):
        return f"soft 404 (not-found-words): title {title[:80]!r}"
    text = _TAG_RE.sub(" ", page_text(fetch.body[:_MARKER_BYTES]))
    marker = _BODY_MARKERS.search(text)
    if marker:
        return f"soft 404 (not-found-words): page says {marker.group(0)!r}"
    # The whole body read: the Wayback Machine's "excluded" sentence sits at byte 56,719 of its page,
    # after the toolbar; the phrases are the archive's own, never an article's.
    low = fetch.body.lower()
    archive = (
        _ARCHIVE_MARKERS.search(_TAG_RE.sub(" ", page_text(fetch.body)))
        if b"archive" in low or b"wayback" in low or b"captures" in low
        else None
    )
    if archive:
        return f"soft 404 (archive-no-copy): the archive says {archive.group(0)!r}"
    start = urlsplit(fetch.url)
    final = fetch.final_url or fetch.url
    if _is_root(fetch.url):
        return None  # the root is what unknown paths are sent to, not a page that went missing
    answered = [p for p in (probe, site) if p is not None and p.status is not None and 200 <= p.status < 300]
    if any(p.redirected and _same_page(fetch.url, p.final_url) for p in answered):
        return None  # the cited URL is itself the page unknown paths lead to
    if fetch.redirects and urlsplit(final).path != start.path:
        for p in answered:
            if p.redirected and _same_page(final, p.final_url):
                return f"soft 404 (redirect-like-unknown-path): redirects to {final} like a random path does"
    if probe is None or probe.status is None or not 200 <= probe.status < 300:
        return None
    if probe.redirected and not fetch.redirects:
        # Strong against weak: the site sends unknown paths elsewhere but answered this URL in place,
        # so it knows the URL; equal content alone (a page mirrored at two addresses) does not overrule that.
        return None
    if _similar(_normalise(fetch.body, (start.path, urlsplit(final).path)), probe.text):
        return "soft 404 (same-as-unknown-path): same page as a random path on this site"
    return None


class ProbeCache:
    """One probe per host and directory, made once however many checks ask at once (on one event loop).

    ``fetch`` GETs a URL (the checker passes its session's fetch, body capped).
    The newest :data:`PROBE_CACHE` directories are remembered.
    """

    def __init__(self, fetch: Callable[[str], Awaitable[Fetch]], size: int = PROBE_CACHE) -> None:
        self._fetch = fetch
        self._size = size
        self._probes: OrderedDict[str, asyncio.Future[Probe | None]] = OrderedDict()

    def __contains__(self, url: str) -> bool:
        """Whether ``url``'s directory has a probe, made or under way."""
        return probe_key(url) in self._probes

    async def probe(self, url: str) -> Probe | None:
        """The probe of ``url``'s directory."""
        key = probe_key(url)
        made = self._probes.get(key)
        if made is not None and not made.cancelled():
            self._probes.move_to_end(key)
            return await asyncio.shield(made)
        _, sibling = probe_url(url)
        future: asyncio.Future[Probe | None] = asyncio.get_running_loop().create_future()
        self._probes[key] = future
        while len(self._probes) > self._size:
            self._probes.popitem(last=False)
        probe = None
        try:
            probe = Probe.of(sibling, await self._fetch(sibling))
        finally:
            if not future.done():
                future.set_result(probe)
        return probe
