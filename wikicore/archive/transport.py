"""The one seam through which every archive request goes.

Nothing else in :mod:`wikicore.archive` touches HTTP: the clients ask
:meth:`Transport.request` for an :class:`Answer` and judge its status. The seam
owns what every archive request must have, exactly like a link check:

* a connect and a read timeout, and a **total deadline** per request that a
  server trickling a byte a second cannot stretch (the link checker's watchdog
  shuts the socket down when it passes), started when the archive's gate gives
  the request its turn, never while it queues behind the archive's limits;
* a **byte cap** on what is read (a 120 MB JSON answer costs the cap, not
  120 MB; :class:`AnswerTooLarge` says so);
* bounded retries with backoff for connection failures and 5xx, and 429
  handled as rate limiting: the archive's :class:`~wikicore.archive.gate.ArchiveGate`
  pauses every call to that archive for ``Retry-After`` (unreadable values such
  as ``²`` count as absent, never as a crash);
* **mementos are answers, not errors**: a response carrying ``Memento-Datetime``
  is an archived page whatever its status. An archived 429 or 503 is what the
  site said back then; it is never retried or taken for rate limiting.

It stands on :mod:`wikicore.net`, as the link checker does (the checker on the
aiohttp stack, this seam on the requests one; both share the address policy, the
failure words and the rate gate): connections through
:class:`~wikicore.net.CheckSession` (address policy with private addresses
allowed - the archive root is the user's own choice - but link-local ones still
refused; pooled keep-alive), the per-request :class:`~wikicore.net.Deadline`
and its watchdog, :class:`~wikicore.net.RetryPolicy` for backoff and
:func:`~wikicore.net.parse_retry_after`. What is the archive's own: a 429
without a readable ``Retry-After`` pauses for :data:`DEFAULT_RETRY_AFTER` (the
Internet Archive's clients wait a minute), and an answer with
``Memento-Datetime`` is never retried.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .. import __version__
from ..errors import NetworkError, RateLimited
from ..net import CheckConfig, CheckSession, RetryPolicy, parse_retry_after
from ..net.deadline import Deadline, activate
from .formats import http_date, load_json
from .gate import MAX_RETRY_AFTER, ArchiveGate

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "Answer",
    "AnswerTooLarge",
    "Transport",
    "parse_retry_after",
]

#: (connect, read) timeouts in seconds for one archive request.
DEFAULT_TIMEOUT = (5.0, 30.0)

#: Total seconds one archive request may take, however the bytes trickle in.
DEFAULT_DEADLINE = 60.0

#: Bytes read of one answer at most. A batch availability answer for 100 URLs
#: is about 30 KB and a CDX answer with ``limit`` a few KB; 8 MiB leaves room
#: for TimeMaps of much-archived pages while a hostile 120 MB answer costs 8 MiB.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

#: Retries after the first try, for connection errors, timeouts, 429 and 5xx.
DEFAULT_RETRIES = 2

#: Pause after a 429 without a readable ``Retry-After`` (the value IA's own clients use).
DEFAULT_RETRY_AFTER = 60.0

USER_AGENT = f"wikicore/{__version__} (+https://github.com/wikicore; citation archive checks)"

_CHUNK = 64 * 1024
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


class AnswerTooLarge(NetworkError):
    """An archive answer exceeded the byte cap; the request is abandoned, not the lookup of other URLs."""


@dataclass(frozen=True)
class Answer:
    """A whole (capped) archive response: status, headers (lower-case names), body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def memento_datetime(self) -> datetime | None:
        """``Memento-Datetime``: present exactly when the answer is an archived page (RFC 7089)."""
        return http_date(self.header("memento-datetime"))

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not (however deep its nesting)."""
        return load_json(self.body)


#: Seconds before the first retry after a connection failure or a 5xx (then 2, 4... with jitter).
BACKOFF = 1.0

#: A pause longer than a day is held as a day: the command fails fast until then anyway.
_LONGEST_PAUSE = 86400.0


class Transport:
    """Polite, bounded HTTP for one archive root (see the module doc).

    ``requests_made`` counts every request, retries included, so callers can
    hold a requests-per-reference budget. Thread-safe.
    """

    def __init__(
        self,
        gate: ArchiveGate,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = DEFAULT_RETRIES,
        now: Callable[[], datetime] | None = None,
        session: requests.Session | None = None,
        concurrency: int = 16,
    ) -> None:
        self.gate = gate
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.retries = retries
        self.now = now or (lambda: datetime.now(UTC))
        self.policy = RetryPolicy(retries=retries, backoff=BACKOFF, max_retry_after=MAX_RETRY_AFTER)
        self.session: requests.Session = session or CheckSession(
            CheckConfig(
                connect_timeout=timeout[0],
                read_timeout=timeout[1],
                deadline=deadline,
                max_bytes=max_bytes,
                retries=retries,
                concurrency=concurrency,
                per_host=concurrency,
                host_interval=0.0,
                allow_private=True,
                user_agent=USER_AGENT,
                backoff=BACKOFF,
                max_retry_after=MAX_RETRY_AFTER,
            )
        )
        agent = self.session.headers.get("User-Agent")
        if not agent or str(agent).startswith("python-requests"):
            self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "*/*"
        self.requests_made = 0
        self._count_lock = threading.Lock()

    def request(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        timeout: tuple[float, float] | None = None,
        deadline: float | None = None,
        max_bytes: int | None = None,
        body: bool = True,
    ) -> Answer:
        """One polite request of endpoint family ``kind``; the last answer, whatever its status.

        Raises :class:`NetworkError` when every try failed at the connection
        level, the deadline passed or the cap was hit (:class:`AnswerTooLarge`),
        and :class:`RateLimited` when the archive keeps answering 429 (not an
        archived 429: that one is returned). ``body=False`` reads status and
        headers only (replays whose page we do not need).
        """
        attempt = 0
        while True:
            budget = Deadline(deadline or self.deadline)  # begins at the gate's turn, not before it
            self.gate.wait(kind, budget)
            with self._count_lock:
                self.requests_made += 1
            try:
                answer = self._once(method, url, headers, data, timeout or self.timeout, budget,
                                    (max_bytes or self.max_bytes) if body else 0)
            except (requests.ConnectionError, requests.Timeout) as error:
                wait = self.policy.delay(attempt + 1, None, math.inf)
                if wait is None:
                    raise NetworkError(f"archive request failed: {method} {url}: {error}") from error
                self.gate.sleep(wait[0])
                attempt += 1
                continue
            except requests.RequestException as error:  # a malformed URL or answer: retrying cannot help
                raise NetworkError(f"archive request failed: {method} {url}: {error}") from error
            if answer.memento_datetime is not None:
                return answer  # an archived page, whatever the status it recorded
            if answer.status == 429:
                asked = parse_retry_after(answer.header("retry-after"), self.now())  # '²' is no number: None
                delay = DEFAULT_RETRY_AFTER if asked is None else asked
                self.gate.pause(min(delay, _LONGEST_PAUSE))
                if attempt >= self.retries or delay > MAX_RETRY_AFTER:
                    raise RateLimited(f"the archive asked us to wait {delay:.0f} s ({url})", delay)
                attempt += 1
                continue
            if answer.status in _RETRY_STATUSES:
                wait = self.policy.delay(attempt + 1, None, math.inf)
                if wait is not None:
                    self.gate.sleep(wait[0])
                    attempt += 1
                    continue
            return answer

    def _once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        data: bytes | None,
        timeout: tuple[float, float],
        budget: Deadline,
        cap: int,
    ) -> Answer:
        """One exchange under its deadline (begun at its gate turn); ``cap`` 0 reads no body, drops the connection."""
        budget.begin()  # already begun by the gate; a gate that skipped it must not leave the request unbounded
        seconds = budget.seconds
        started = time.monotonic()
        try:
            with activate(budget):  # connections made now report their sockets to the watchdog
                limit = (min(timeout[0], seconds), min(timeout[1], seconds))
                try:
                    response = self.session.request(
                        method, url, headers=dict(headers or {}), data=data, timeout=limit, stream=True,
                        allow_redirects=False,
                    )
                except requests.RequestException:
                    if budget.exceeded():
                        raise NetworkError(f"the archive took longer than {seconds:g} s: {method} {url}") from None
                    raise
                with response:
                    body = bytearray()
                    try:
                        for chunk in response.iter_content(_CHUNK) if cap else ():
                            body += chunk
                            if len(body) > cap:
                                raise AnswerTooLarge(f"the archive's answer to {method} {url} exceeds {cap} bytes")
                            if budget.exceeded():
                                break
                    except requests.RequestException:
                        if not budget.exceeded():
                            raise
                    if budget.exceeded():
                        elapsed = time.monotonic() - started
                        raise NetworkError(
                            f"the archive took longer than {seconds:g} s ({elapsed:.1f} s): {method} {url}"
                        )
                    headers_out = {k.lower(): v for k, v in response.headers.items()}
                    return Answer(url, response.status_code, headers_out, bytes(body))
        finally:
            budget.finish()
