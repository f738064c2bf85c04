"""Pure URL helpers shared by the checks, the archive client and the diff: no I/O.

They live apart from :mod:`wikicore.archive` (which speaks HTTP) so that the
semantic diff, which sits beside the store, can tell which page an archive link
archives without importing a network client.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

__all__ = [
    "WAYBACK_HOSTS",
    "archives",
    "normalise_url",
    "parse_archive_url",
    "parse_wayback_timestamp",
    "url_problem",
]

_TS_FORMAT = "%Y%m%d%H%M%S"

#: Hosts whose ``/web/`` paths are Wayback Machine snapshots.
WAYBACK_HOSTS = frozenset(
    {"web.archive.org", "archive.org", "www.archive.org", "wayback.archive.org", "web-beta.archive.org"}
)

# /web/<1-14 digits><optional flags like id_ if_ im_ js_ cs_ fw_ oe_>/<original>
_WEB_PATH = re.compile(r"^/web/(?P<ts>\d{4,14})(?P<flags>(?:[a-z]{2}_)*)/(?P<original>.+)$", re.DOTALL)
# Under a base URL with a path of its own (a replay prefix such as /all/ or /mycollection/),
# the timestamp follows the prefix directly.
_PREFIX_PATH = re.compile(r"^/(?P<ts>\d{4,14})(?P<flags>(?:[a-z]{2}_)*)/(?P<original>.+)$", re.DOTALL)
_HAS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SCHEME_SQUASHED = re.compile(r"^(https?):/+(?=[^/])", re.IGNORECASE)


def parse_wayback_timestamp(ts: str) -> datetime | None:
    """``YYYY[MM[DD[hh[mm[ss]]]]]`` as aware UTC; missing parts are the earliest valid value."""
    if not ts.isdigit() or not 4 <= len(ts) <= 14 or len(ts) % 2:
        return None
    padded = ts + "0101000000"[len(ts) - 4 :]
    try:
        return datetime.strptime(padded, _TS_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_archive_url(url: str, *, base_url: str | None = None) -> tuple[datetime, str] | None:
    """Split a Wayback snapshot link into (capture time, original url); None if it is not one.

    Accepts ``http``, ``https`` and protocol-relative (``//web.archive.org/...``)
    links on the Internet Archive's hosts, or under ``base_url`` when given
    (``<base>/web/<ts>/...``, or ``<base>/<ts>/...`` when the base has a path: a
    replay prefix such as Archive-It's ``/all``);
    partial timestamps (``/web/2012/...``) and replay flags (``id_``, ``if_``...).
    Other archives (archive.today, WebCite) and wildcard listings (``/web/*/``)
    give None: they are not one capture.

    >>> parse_archive_url("https://web.archive.org/web/20120528000000/http://example.com/a?b=1")
    (datetime.datetime(2012, 5, 28, 0, 0, tzinfo=datetime.timezone.utc), 'http://example.com/a?b=1')
    """
    text = url.strip()
    if text.startswith("//"):
        text = "https:" + text
    root_path = ""
    if base_url and text.startswith(base_url.rstrip("/") + "/"):
        root_path = urlsplit(base_url).path.rstrip("/")
    else:
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or (parts.hostname or "") not in WAYBACK_HOSTS:
            return None
    # The original keeps its own query and fragment, so slice the string rather
    # than trusting urlsplit with the whole link.
    after_host = text.split("://", 1)[1]
    slash = after_host.find("/")
    if slash < 0:
        return None
    path = after_host[slash:]
    if root_path:
        if not path.startswith(root_path + "/"):
            return None
        path = path[len(root_path) :]
    match = _WEB_PATH.match(path) or (_PREFIX_PATH.match(path) if root_path else None)
    if not match:
        return None
    when = parse_wayback_timestamp(match["ts"])
    if when is None:
        return None
    original = _SCHEME_SQUASHED.sub(lambda m: m[1].lower() + "://", match["original"])
    if not _HAS_SCHEME.match(original):
        original = "http://" + original  # /web/2012/example.com/ means http
    return when, original


def normalise_url(url: str) -> str:
    """A comparison key for urls that name the same page.

    Scheme (http/https), a leading ``www.``, default ports, case of the host,
    a trailing slash, the fragment and percent-encoding of unreserved
    characters do not make a different page; the query string does.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return text
    host = host.removeprefix("www.")
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = unquote(parts.path).rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


def archives(archive_url: str, url: str) -> bool:
    """Whether ``archive_url`` is a snapshot link of the page ``url`` names, on any archive host.

    The host of the archive link itself is taken as its root, so links to a
    Wayback-compatible server of one's own are understood too.
    """
    try:
        parts = urlsplit(archive_url.strip())
    except ValueError:
        return False
    root = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
    parsed = parse_archive_url(archive_url, base_url=root)
    return parsed is not None and normalise_url(parsed[1]) == normalise_url(url)


@functools.lru_cache(maxsize=65536)
def url_problem(url: str) -> tuple[str, str] | None:
    """``(code, message)`` when ``url`` cannot be a checkable web address, else None.

    The one rule for "is this an absolute http(s) URL": the audit reports it as a
    finding (``url-malformed``, ``url-scheme-disallowed``) and ``wikicore
    validate`` refuses the file, so the two never disagree.
    Memoised: the static checks, the audit's url selection and its archive
    queries all ask about the same urls (four times per url in a re-audit).
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return "url-malformed", f"url {url!r} is malformed ({exc})"
    scheme = parts.scheme.lower()
    if not scheme:
        return "url-malformed", f"url {url!r} has no scheme (http:// or https://)"
    if scheme not in ("http", "https"):
        return "url-scheme-disallowed", f"url {url!r} uses the {scheme}: scheme; only http and https are allowed"
    if not parts.hostname:
        return "url-malformed", f"url {url!r} has no host"
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in text):
        return "url-malformed", f"url {url!r} contains white space or control characters"
    return None
