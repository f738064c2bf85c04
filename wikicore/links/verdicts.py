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

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..net import Failure, Fetch
from ..net.walls import bot_wall, wall_note  # in net, so the source-text phase reads pages by the same rules
from .history import DeadState
from .soft404 import Probe, soft404_reason

__all__ = ["BLOCKED_STATUSES", "NOT_OBSERVED", "REFUSALS", "STATUSES", "LinkResult", "LinkStatus", "bot_wall",
           "verdict", "wall_note", "with_history"]

#: Statuses that mean "not for you" rather than "gone": a human must look.
BLOCKED_STATUSES = frozenset({401, 402, 403, 407, 429, 451, 999})  # 999: LinkedIn's bot answer
#: Failures that are our own policy's refusals (a private address, another scheme after a
#: redirect): the site was never asked, so they are not observations and are never recorded.
REFUSALS = frozenset({Failure.ADDRESS, Failure.SCHEME})
#: Failures that say nothing about the site (a refusal, or its host's turn never came): not recorded.
NOT_OBSERVED = REFUSALS | {Failure.HOST_BUSY}


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
