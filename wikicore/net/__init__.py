"""The network layer: every request wikicore makes to the web goes through here.

One configuration object, :class:`CheckConfig`, is built once (by the CLI or a
library caller) and passed down whole to whatever talks to the network. The
parts, each in its own module:

``policy``    the address policy: :func:`url_problem` (scheme, host, scoped
              addresses), :func:`refusal` / :func:`address_allowed` (private,
              loopback, link-local, multicast, reserved, and every IPv6 form that
              embeds an IPv4 address), :func:`host_key`, :class:`Failure`.
``deadline``  :class:`Deadline`: a total time budget per URL, enforced by one
              watchdog thread that shuts down the sockets of late requests.
``retry``     :class:`RetryPolicy` (bounded retries, exponential backoff with
              jitter, Retry-After honoured up to a cap) and
              :func:`parse_retry_after`.
``gate``      :class:`RateGate`: concurrency and spacing per key (a host, or an
              endpoint family such as ``archive:availability``), with
              :class:`Limit` overrides per key and an overall cap; Retry-After
              pauses a whole key.
``config``    :class:`CheckConfig` and the named defaults; :func:`load_host_limits`
              reads per-host overrides from a TOML file (``--host-config``).
``session``   :class:`CheckSession`: a ``requests.Session`` whose connections
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

Imports point down only: this package uses :mod:`wikicore.errors` and nothing
else of wikicore.
"""

from __future__ import annotations

from .config import (
    DEAD_FAILURES,
    DEAD_SPACING,
    DEFAULT_BACKOFF,
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_HOST_INTERVAL,
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
from .gate import Limit, RateGate
from .policy import ALLOWED_SCHEMES, Failure, address_allowed, embedded_ipv4, host_key, refusal, url_problem
from .retry import RETRY_STATUSES, RetryPolicy, parse_retry_after
from .session import CheckSession, Fetch

__all__ = [
    "ALLOWED_SCHEMES",
    "DEAD_FAILURES",
    "DEAD_SPACING",
    "DEFAULT_BACKOFF",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEADLINE",
    "DEFAULT_HOST_INTERVAL",
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
    "url_problem",
]
