"""The network layer: every request wikicore makes to the web goes through here.

One configuration object, :class:`CheckConfig`, is built once (by the CLI or a
library caller) and passed down whole to whatever talks to the network. The
parts, each in its own module:

``failures``  :class:`Failure` (why a fetch got no answer), :class:`AddressRefused`
              and the one classification of both libraries' exceptions into
              failures and plain words.
``policy``    the address policy: :func:`url_problem` (scheme, host, scoped
              addresses), :func:`refusal` / :func:`address_allowed` (private,
              loopback, link-local, multicast, reserved, and every IPv6 form that
              embeds an IPv4 address), :func:`vetted` (the addresses of a name we
              may connect to), :func:`host_key`.
``resolver``  name lookups on a few daemon threads, bounded in time, for both stacks.
``deadline``  :class:`Deadline`: a total time budget per URL, started by its first
              request (its turn at the gate), enforced by one watchdog thread
              that shuts down the sockets of late requests.
``retry``     :class:`RetryPolicy` (bounded retries, exponential backoff with
              jitter, Retry-After honoured up to a cap) and
              :func:`parse_retry_after`.
``gate``      :class:`RateGate`: concurrency and spacing per key (a host, or an
              endpoint family such as ``archive:availability``), with
              :class:`Limit` overrides per key and an overall cap; Retry-After
              pauses a whole key. Threads wait in ``slot``, coroutines in ``aslot``.
``config``    :class:`CheckConfig` and the named defaults; :func:`load_host_limits`
              reads per-host overrides from a TOML file (``--host-config``).
``fetch``     :class:`Fetch` (what one fetch observed) and the redirect walk both
              stacks share.
``aio``       :class:`~wikicore.net.aio.AsyncSession`: the link checker's engine,
              aiohttp on one event loop (chosen by measurement, see the README),
              and :class:`~wikicore.net.aio.LoopThread` to drive it from sync code.
``walls``     what stands between a reader and a fetched page: :func:`~wikicore.net.walls.bot_wall`
              (a challenge, not the page), :func:`~wikicore.net.walls.page_wall` (a paywall or
              login page) and the consent hosts; one set of rules for the link checker and the
              source-text phase.
``session``   :class:`CheckSession`: the archive transport's ``requests.Session`` whose connections
              resolve names themselves, connect only to vetted addresses, check
              the peer again, report their sockets to the deadline; whose
              :meth:`CheckSession.fetch` follows redirects by hand (each hop
              vetted), retries by the policy, passes through the gate, reads at
              most ``limit`` decoded bytes, and returns a :class:`Fetch` (never
              raises for the URL's own failure) whose ``error`` is plain words.

Stable API (the link checker and the archive client build on it)::

    config = CheckConfig(allow_private=False, per_host=2, host_interval=0.25)
    config = config.with_timeout(10.0)            # --timeout: deadline, and timeouts fit inside
    session = CheckSession(config)                # or CheckSession(config, gate=shared_gate)
    budget = session.budget()                     # one Deadline for HEAD + GET of one URL
    fetch = session.fetch(url, "HEAD", deadline=budget)
    fetch = session.fetch(url, "GET", deadline=budget, limit=64 * 1024)
    fetch = session.fetch(api_url, key="archive:availability")   # gate by endpoint family
    budget.finish()
    fetch.status, fetch.failure, fetch.error, fetch.body, fetch.headers, fetch.redirects

    gate = RateGate(Limit(1, 1.0), {"archive:cdx": Limit(1, 2.0)}, total=8)
    with gate.slot("archive:cdx"): ...
    gate.pause("archive:cdx", seconds)

    policy = config.retry                         # RetryPolicy(retries, backoff, max_retry_after)
    policy.delay(attempt, response_retry_after_header, budget.remaining())  # (seconds, asked) | None
    parse_retry_after("120") == 120.0; parse_retry_after("²") is None

Imports point down only: this package uses :mod:`wikicore.errors` (and the
lazy-export helper) and nothing else of wikicore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .config import (
    DEAD_FAILURES,
    DEAD_SPACING,
    DEFAULT_BACKOFF,
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_HOST_INTERVAL,
    DEFAULT_HOST_WAIT,
    DEFAULT_KEEP_BYTES,
    DEFAULT_MAX_BYTES,
    DEFAULT_PER_HOST,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_RETRIES,
    DEFAULT_USER_AGENT,
    MAX_REDIRECTS,
    MAX_RETRY_AFTER,
    TTL,
    CheckConfig,
    load_host_limits,
)
from .deadline import Deadline
from .failures import AddressRefused, Failure
from .fetch import Fetch
from .gate import Limit, RateGate
from .policy import (
    ALLOWED_SCHEMES,
    address_allowed,
    embedded_ipv4,
    host_key,
    refusal,
    refusal_message,
    url_problem,
    vetted,
)
from .retry import RETRY_STATUSES, RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    from .session import CheckSession

# The archive transport's requests session, imported on first use: the link checker runs on
# aiohttp alone, and importing requests and urllib3 was 60 ms of every link check's start.
__getattr__ = lazy_exports(__name__, {"CheckSession": "session"})

__all__ = [
    "ALLOWED_SCHEMES",
    "DEAD_FAILURES",
    "DEAD_SPACING",
    "DEFAULT_BACKOFF",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEADLINE",
    "DEFAULT_HOST_INTERVAL",
    "DEFAULT_HOST_WAIT",
    "DEFAULT_KEEP_BYTES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PER_HOST",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRIES",
    "DEFAULT_USER_AGENT",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "TTL",
    "AddressRefused",
    "CheckConfig",
    "CheckSession",
    "Deadline",
    "Failure",
    "Fetch",
    "Limit",
    "RateGate",
    "RetryPolicy",
    "address_allowed",
    "embedded_ipv4",
    "host_key",
    "load_host_limits",
    "parse_retry_after",
    "refusal",
    "refusal_message",
    "url_problem",
    "vetted",
]
