"""One retry policy: which answers are worth another try, and how long to wait first.

Used by the link checker's session and by the archive client alike, so that
backoff, jitter and ``Retry-After`` are read the same way everywhere.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

#: RFC 9110 §15.5.30/§15.6: these answers are worth retrying after a pause.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Digits we read in a delay-seconds value: more than a century is "too long" anyway,
#: and int() of a huge digit string is quadratic (and refused past 4,300 digits).
_MAX_DIGITS = 12


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a Retry-After header (RFC 9110 §10.2.3).

    Accepts delay-seconds (ASCII digits only: ``"²"`` passes ``str.isdigit`` but
    is no number) or an HTTP-date; returns ``None`` when absent or unreadable,
    never a negative number, and ``inf`` for an absurdly long delay.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) <= _MAX_DIGITS else math.inf
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter, ``Retry-After`` honoured.

    ``retries`` further attempts after the first; the n-th waits ``backoff * 2**(n-1)``
    seconds plus up to a quarter of jitter, unless the server said how long
    (``Retry-After``). A server asking for more than ``max_retry_after`` is not
    waited for: the caller reports what it saw (a 429 stays "blocked").
    """

    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 30.0

    def retryable(self, status: int | None, transient_failure: bool) -> bool:
        """Whether an answer (or a connection-level failure) deserves another attempt."""
        return transient_failure or status in RETRY_STATUSES

    def delay(self, attempt: int, retry_after: str | None, remaining: float) -> tuple[float, bool] | None:
        """How long to wait before attempt ``attempt + 1``, or ``None`` to stop.

        Returns ``(seconds, asked)``; ``asked`` says the server set the pause
        (so the whole host should wait, not only this URL). ``remaining`` is the
        time left in the URL's deadline: a pause that outlasts it is pointless.
        """
        if attempt > self.retries:
            return None
        asked = parse_retry_after(retry_after)
        if asked is not None:
            if asked > self.max_retry_after or asked >= remaining:
                return None
            return asked, True
        wait = self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)  # noqa: S311 - jitter
        if wait >= remaining:
            return None
        return wait, False
