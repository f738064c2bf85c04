"""From what a fetch observed to a verdict on the URL: the statuses, the records, the rules.

:func:`verdict` judges one fetch (and its directory's soft-404 probe);
:func:`with_history` applies the URL's history, so that a failure which
persists ends as ``dead`` the way a 404 does. The checker
(:mod:`wikicore.links.checker`) only schedules fetches and records what these
say; both rules are here so that a verdict is decided in one place.

==========  =====================================================================
live        a 2xx answer that does not look like a "not found" page
dead        404 or 410 (after redirects), a name that does not exist, a redirect loop
soft-404    a 2xx answer whose content says "not found" (reported apart from dead)
blocked     401, 402, 403, 407, 429, 451 persisting, or a bot wall: a human must look;
            never counted as dead
error       timeout, deadline, reset, 5xx, TLS failure, other 4xx: transient or unclear
invalid     malformed URL, or a scheme other than http/https
unchecked   not checked: refused by policy (a private address, a redirect to another
            scheme), the host's turn did not come in time, the checker was offline,
            or set by callers that run offline or exclude a URL
no-url      the reference has no URL
==========  =====================================================================

"blocked" is never "dead": a site that refuses robots still has the page, and
calling it dead would send an editor to replace a good citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..net import Failure, Fetch
from .history import DeadState
from .soft404 import Probe, page_text, soft404_reason

__all__ = ["BLOCKED_STATUSES", "NOT_OBSERVED", "REFUSALS", "STATUSES", "LinkResult", "LinkStatus", "bot_wall",
           "verdict", "wall_note", "with_history"]

#: Statuses that mean "not for you" rather than "gone": a human must look.
BLOCKED_STATUSES = frozenset({401, 402, 403, 407, 429, 451, 999})  # 999: LinkedIn's bot answer
#: Failures that are our own policy's refusals (a private address, another scheme after a
#: redirect): the site was never asked, so they are not observations and are never recorded.
REFUSALS = frozenset({Failure.ADDRESS, Failure.SCHEME})
#: Failures that say nothing about the site (a refusal, or its host's turn never came): not recorded.
NOT_OBSERVED = REFUSALS | {Failure.HOST_BUSY}
# Bot walls, by the words a human reads and by the structure a browser runs: anywhere in the
# bytes read, since a Cloudflare challenge can carry its "checking your browser" text after a large
# inline image (seen at byte 446,351). The structures are the vendors' own challenge markup:
# Cloudflare's challenge platform and form, Sucuri's CloudProxy cookie script, Akamai's
# "Reference #" denial, DataDome's captcha-delivery frame, PerimeterX's _px scripts and captcha.
#: The words and markup, lower-cased; plain substring searches (each a fast scan in C) cost a
#: fraction of one regular expression with these alternatives on bench_links' pages.
_BOT_WALL_NEEDLES = (
    b"just a moment...", b"attention required! | cloudflare", b"checking your browser", b"cf-chl-",
    b"are you a robot", b"are you a human", b"verify you are human", b"verify you are a human", b"access denied | ",
    b"/cdn-cgi/challenge-platform/", b"cf_chl_opt", b'id="challenge-form"', b"id='challenge-form'",
    b"cf-browser-verification", b"sucuri_cloudproxy_js", b"sucuri website firewall", b"cloudproxy@sucuri",
    b"captcha-delivery.com", b"_pxappid", b"px-captcha",
)
_AKAMAI_DENIAL = re.compile(rb"you don't have permission to access .{0,300}?reference ?(?:#|&#35;)", re.DOTALL)
# A 200 that only sets a cookie and reloads (Sucuri's and others' JavaScript challenges): a script
# writing document.cookie and sending the browser back to the page, and next to no text.
_COOKIE_SET = re.compile(r"document\.cookie\s*=", re.IGNORECASE)
_RELOAD = re.compile(r"location\.reload\s*\(|(?:window\.|document\.)?location(?:\.href)?\s*=|location\.replace\s*\(",
                     re.IGNORECASE)
_SCRIPT_RE = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>", re.IGNORECASE | re.DOTALL)
_TAGS_RE = re.compile(r"<[^>]*>")
#: Characters of visible text below which a cookie-and-reload page has no content of its own.
_CHALLENGE_TEXT = 400
#: Server names of the bot-wall vendors, for a 403/429/503 from their edge.
_WALL_SERVERS = ("cloudflare", "sucuri", "akamaighost", "datadome")

# Paywalls and consent walls: the page exists and a reader can get to it (by subscribing or by
# clicking "accept"), so the link is live; an info note says why a reader may see a wall. Structure
# first: schema.org's isAccessibleForFree (what Google asks paywalled publishers to mark up) and
# the consent hosts a redirect ends at.
_PAYWALL = re.compile(
    r"[\"']isAccessibleForFree[\"']\s*:\s*[\"']?false|subscribe (?:now )?to (?:continue|keep) reading"
    r"|this (?:article|content) is for subscribers",
    re.IGNORECASE,
)
_CONSENT_HOSTS = ("consent.google.", "consent.yahoo.", "consent.youtube.", "myprivacy.dpgmedia.", "guce.")


def bot_wall(fetch: Fetch) -> str | None:
    """Why ``fetch`` is a bot wall or challenge rather than the page, or ``None``."""
    if fetch.headers.get("cf-mitigated", "").lower() == "challenge":
        return "bot wall: a Cloudflare challenge (cf-mitigated)"
    server = fetch.headers.get("server", "").lower()
    if fetch.status in (403, 429, 503) and any(vendor in server for vendor in _WALL_SERVERS):
        return f"bot wall: HTTP {fetch.status} from {server}"
    if fetch.status in (200, 202, 403, 429, 503) and fetch.body:
        low = fetch.body.lower()
        for needle in _BOT_WALL_NEEDLES:
            if needle in low:
                return f"bot wall: the page says {needle.decode()!r}"
        if b"permission to access" in low and _AKAMAI_DENIAL.search(low):
            return "bot wall: an Akamai denial ('Reference #')"
        if b"document.cookie" in low and b"location" in low:
            text = page_text(fetch.body)
            if _COOKIE_SET.search(text) and _RELOAD.search(text):
                visible = _TAGS_RE.sub(" ", _SCRIPT_RE.sub(" ", text))
                if len(" ".join(visible.split())) < _CHALLENGE_TEXT:
                    return "bot wall: a page that only sets a cookie and reloads"
    return None


def wall_note(fetch: Fetch) -> str | None:
    """An info note for a live page behind a paywall or a consent page, or ``None``."""
    final = (fetch.final_url or fetch.url).lower()
    if any(f"//{host}" in final or f".{host}" in final for host in _CONSENT_HOSTS):
        return f"live behind a consent page ({fetch.final_url})"
    low = fetch.body.lower()
    if (b"isaccessibleforfree" in low or b"subscribe" in low or b"subscribers" in low) and _PAYWALL.search(
        page_text(fetch.body)
    ):
        return "live behind a paywall: readers may need a subscription"
    return None


class LinkStatus(StrEnum):
    """The verdict on one URL (the JSON field ``status``)."""

    LIVE = "live"
    DEAD = "dead"
    SOFT_404 = "soft-404"
    BLOCKED = "blocked"
    ERROR = "error"
    INVALID = "invalid"
    UNCHECKED = "unchecked"
    NO_URL = "no-url"


#: Every status's JSON value: a remembered observation with another value is not reused.
STATUSES = frozenset(status.value for status in LinkStatus)


@dataclass(frozen=True, slots=True)  # slots: an audit holds one per distinct url until its report is built
class LinkResult:
    """The verdict on one URL, with what it rests on.

    ``failures``, ``first_failed`` and ``confirmed_dead`` come from the URL's
    history (see :mod:`wikicore.links.history`); without a database they describe this
    check alone. ``from_cache`` says the result was reused within the TTL.
    """

    url: str
    status: LinkStatus
    http_status: int | None
    final_url: str | None
    checked_at: datetime
    redirects: tuple[str, ...] = ()
    error: str | None = None
    failures: int = 0
    first_failed: datetime | None = None
    confirmed_dead: bool = False
    from_cache: bool = False


def verdict(
    fetch: Fetch, probe: Probe | None, *, soft404: bool = True, site: Probe | None = None
) -> tuple[LinkStatus, str | None]:
    """The verdict on one fetch and why, before the URL's history is considered.

    ``probe`` is the soft-404 probe of the URL's directory (``None`` when there is
    none); ``soft404=False`` trusts every 2xx that is not a bot wall.
    """
    failure = fetch.failure
    if failure in NOT_OBSERVED:
        # Our policy said no, or our queue never reached the site: the site was never asked.
        return LinkStatus.UNCHECKED, fetch.error
    if failure is Failure.BAD_URL:
        return LinkStatus.INVALID, fetch.error
    if failure in (Failure.DNS, Failure.REDIRECT_LOOP, Failure.TOO_MANY_REDIRECTS):
        return LinkStatus.DEAD, fetch.error
    if failure is not None:
        return LinkStatus.ERROR, fetch.error
    status = fetch.status
    assert status is not None
    wall = bot_wall(fetch)
    if wall is not None:
        return LinkStatus.BLOCKED, wall
    if 200 <= status < 300:
        reason = soft404_reason(fetch, probe, site) if soft404 else None
        return (LinkStatus.SOFT_404, reason) if reason else (LinkStatus.LIVE, wall_note(fetch))
    if status in (404, 410):
        return LinkStatus.DEAD, f"HTTP {status}"
    if status in BLOCKED_STATUSES:
        return LinkStatus.BLOCKED, f"HTTP {status}"
    return LinkStatus.ERROR, f"HTTP {status}"


def with_history(status: LinkStatus, reason: str | None, state: DeadState) -> tuple[LinkStatus, str | None]:
    """The verdict with the URL's history applied.

    A failure that persists (refused, no such name, TLS, timeout, 5xx) follows
    the rule a 404 does: ``confirmed_dead`` after enough spaced failures, and
    then the verdict is ``dead``. Until then an error says how long it has lasted,
    so one bad night of a server does not mark a citation dead.
    """
    if status is not LinkStatus.ERROR or state.first_failed is None or state.failures < 2:
        return status, reason
    since = state.first_failed.date().isoformat()
    if state.confirmed_dead:
        return LinkStatus.DEAD, f"{reason or 'no answer'}; failing since {since} ({state.failures} checks)"
    return status, f"{reason or 'no answer'}; failing since {since} ({state.failures} checks so far)"
