"""Page bytes for the quote check and drift: the live page and the archive capture (raw replay).

Kept small and apart from the pure modules on purpose: it is the one place
here that touches the network, and it uses only the public names of
:mod:`wikicore.net` (address policy, per-URL deadline and byte caps all live
there; the text cap is :attr:`~wikicore.net.CheckConfig.max_text_bytes`). A
capture is fetched in Wayback's raw mode (``id_``): the bytes the crawler saw,
without the replay banner or rewritten links, so the capture's text and the
live text are comparable.

A page is read by the link checker's own wall rules (:mod:`wikicore.net.walls`):
a bot challenge is no text at all ("blocked"), and a paywall, login or consent
page is text with :attr:`~wikicore.sources.extract.PageText.wall` set, so that a
quote hidden behind the wall is not reported missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from ..net import CheckConfig, CheckSession, Deadline, Fetch
from ..net.walls import WallKind, bot_wall, fetch_wall
from .extract import MAX_BODY_BYTES, PageText, TextKind, page_text

__all__ = ["REPLAY_KEY", "WALL_WORDS", "fetch_capture", "fetch_page", "fetched_text", "raw_capture_url", "replay_key",
           "replay_root", "source_config"]

#: What a quote check says of a page behind each kind of wall (the audit's ``reason``).
WALL_WORDS = {
    WallKind.PAYWALL: "paywall or login page",
    WallKind.LOGIN: "paywall or login page",
    WallKind.CONSENT: "consent page",
}

#: Replays are gated per archive root, apart from the site's host: each archive states (or
#: is given) its own playback limit, so a self-hosted pywb is not held to the Internet Archive's.
REPLAY_KEY = "archive:replay"

_REPLAY = re.compile(r"(/web/\d{4,14})(?:[a-z]{2}_|\*)?/")


def source_config(config: CheckConfig) -> CheckConfig:
    """``config`` whose byte cap is its source-text cap (``max_text_bytes``): the link check reads far less."""
    cap = min(config.max_text_bytes, MAX_BODY_BYTES)
    return config if config.max_bytes == cap else config.replace(max_bytes=cap)


def raw_capture_url(capture_url: str) -> str:
    """The raw (``id_``) replay URL of a Wayback-style capture URL; other URLs come back unchanged."""
    return _REPLAY.sub(r"\1id_/", capture_url, count=1)


def replay_root(capture_url: str) -> str:
    """The archive root a capture URL replays from (``scheme://host[:port]``)."""
    parts = urlsplit(capture_url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def replay_key(capture_url: str) -> str:
    """The rate-gate key of a capture's replays: one per archive root (``archive:replay:host:port``)."""
    return f"{REPLAY_KEY}:{urlsplit(capture_url).netloc.lower()}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def fetched_text(fetch: Fetch) -> PageText:
    """The text of a page already fetched (here, or by the link checker's GET of the same URL).

    None for a failure or a bot wall; a paywall or login page is marked (:attr:`PageText.wall`).
    """
    if not fetch.ok:
        reason = fetch.error or (f"HTTP {fetch.status}" if fetch.status is not None else "no answer")
        return PageText(TextKind.NONE, "", "", unreadable=reason)
    blocked = bot_wall(fetch)
    if blocked is not None:
        # A challenge's words are not the page's: reading them would call every quote missing.
        return PageText(TextKind.NONE, "", "", unreadable=f"blocked ({blocked})")
    content_type = _header(fetch.headers, "Content-Type")
    text = page_text(fetch.body, content_type)
    if fetch.truncated and text.kind is TextKind.PDF:
        # Half a PDF has no cross-reference table: say why instead of "cannot be read".
        return PageText(TextKind.PDF, "", "", unreadable=f"too large (over {len(fetch.body)} bytes)")
    if fetch.truncated and not text.truncated:
        text = replace(text, truncated=True)
    if text.kind is TextKind.HTML and text.unreadable is None:
        wall = fetch_wall(fetch)
        if wall is not None:
            text = replace(text, wall=WALL_WORDS[wall])
    return text


def fetch_page(session: CheckSession, url: str, *, deadline: Deadline | None = None) -> tuple[Fetch, PageText]:
    """GET ``url`` through the session (its policy, gate and caps) and read its text.

    The session's own ``max_bytes`` still caps the body: build it from :func:`source_config`.
    """
    fetch = session.fetch(url, "GET", deadline=deadline, limit=MAX_BODY_BYTES)
    return fetch, fetched_text(fetch)


def fetch_capture(
    session: CheckSession, capture_url: str, *, deadline: Deadline | None = None
) -> tuple[Fetch, PageText]:
    """GET a capture in raw replay mode (:func:`raw_capture_url`) and read its text."""
    fetch = session.fetch(
        raw_capture_url(capture_url), "GET", deadline=deadline, limit=MAX_BODY_BYTES, key=replay_key(capture_url)
    )
    return fetch, fetched_text(fetch)
