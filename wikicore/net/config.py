"""``CheckConfig``: the one configuration object of the network layer, passed down whole.

The CLI builds one from its options (``--timeout``, ``--host-concurrency``,
``--host-request-interval``, ``--max-concurrency``, ``--allow-private``, and
per-host overrides from a config file); the audit hands it to the link checker
and the archive client; they hand it to :class:`~wikicore.net.CheckSession`,
:class:`~wikicore.net.RetryPolicy` and :class:`~wikicore.net.RateGate`. Nobody
unpacks it into keyword arguments, so a new knob is one field here.

Every value is validated on construction (``InvalidInput``, exit 2 from the CLI):
a NaN or infinite timeout would make every deadline comparison false and its
verdicts would be cached for a day.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

from .. import __version__
from ..errors import InvalidInput
from .gate import Limit
from .retry import RetryPolicy

__all__ = [
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
    "DEFAULT_MAX_TEXT_BYTES",
    "DEFAULT_PER_HOST",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRIES",
    "DEFAULT_USER_AGENT",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER",
    "TTL",
    "CheckConfig",
    "load_host_limits",
]

#: Sent with every request so site operators can tell who we are and find us.
DEFAULT_USER_AGENT = f"wikicore/{__version__} (+https://github.com/wikicore)"
#: Seconds to wait for a TCP (and TLS) connection; a live site answers in well under this.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Seconds any single socket read may wait (requests' semantics: per read, not total).
DEFAULT_READ_TIMEOUT = 10.0
#: Seconds one URL may take in total, all hops, retries and reads included: a server trickling
#: a byte a second must not hold a check (or an audit) for minutes.
DEFAULT_DEADLINE = 20.0
#: Seconds a check may wait for its host's turn while none of the host's slots moves. A slot is
#: held one attempt at most (the deadline bounds it) and a Retry-After pause at most
#: MAX_RETRY_AFTER, so a host whose queue moves never reaches this; one stuck longer is
#: "not checked: host busy", a fact about our queue, never a verdict on the site.
DEFAULT_HOST_WAIT = 60.0
#: Decoded bytes read from one body at most: a 1 GiB page or a gzip bomb costs this much.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
#: Decoded bytes read of a cited page whose *text* is wanted (quote checks): reports run to
#: several MiB, and a quote on page 40 of a PDF needs the whole file (16 MiB holds the sources bed's largest).
DEFAULT_MAX_TEXT_BYTES = 16 * 1024 * 1024
#: Bytes of a 2xx body read for the verdict (title, "not found" markers, similarity).
#: A page's <title> and its error text sit in the first few KiB; 64 KiB holds them on the pages
#: we measured and costs one or two reads on a typical page.
DEFAULT_KEEP_BYTES = 64 * 1024
#: Requests in flight at once, across all hosts.
DEFAULT_CONCURRENCY = 32
#: Requests in flight at once to one host: a wiki cites some sites hundreds of times,
#: and a citation audit hits other people's sites (lychee's default is 10).
DEFAULT_PER_HOST = 2
#: Seconds between the starts of two requests to one host (lychee's default is 0.05).
DEFAULT_HOST_INTERVAL = 0.25
#: Retries after a 429, a 5xx or a connection failure (so at most 1 + 2 attempts).
DEFAULT_RETRIES = 2
#: First backoff in seconds; doubled for each further retry, with jitter.
DEFAULT_BACKOFF = 0.5
#: Longest Retry-After we honour, in seconds; a longer ask ends the URL's check as blocked.
MAX_RETRY_AFTER = 30.0
#: Redirect hops followed by hand before giving up (browsers allow about 20; curl 50; we are a checker).
MAX_REDIRECTS = 10
#: IABot's rule: this many failed observations ...
DEAD_FAILURES = 3
#: ... each at least this far after the previous counted one, before "confirmed dead".
DEAD_SPACING = timedelta(days=3)
#: Observations younger than this are reused without a request: a re-audit the same day costs no traffic.
TTL = timedelta(days=1)


def _seconds(name: str, value: float, *, zero_ok: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not zero_ok):
        raise InvalidInput(f"{name} must be {'0 or more' if zero_ok else 'more than 0'} seconds, not {value!r}")


@dataclass(frozen=True)
class CheckConfig:
    """How to check: timeouts, caps, politeness, address policy, retries, history rules.

    ``per_host`` and ``host_interval`` are lychee's ``--host-concurrency`` and
    ``--host-request-interval``; ``concurrency`` is ``--max-concurrency``.
    ``host_limits`` overrides them per host (``"example.org"`` or
    ``"example.org:8080"``). ``host_wait`` bounds the wait for a host's turn
    (seconds without progress there); ``deadline`` starts when a URL's first
    request is sent. ``keep_bytes`` of every 2xx body are read for the
    verdict; ``max_bytes`` bounds what is read of any body at all, except a source's
    text, which ``max_text_bytes`` bounds (a body read for its quotes).
    """

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    deadline: float = DEFAULT_DEADLINE
    max_bytes: int = DEFAULT_MAX_BYTES
    concurrency: int = DEFAULT_CONCURRENCY
    per_host: int = DEFAULT_PER_HOST
    host_interval: float = DEFAULT_HOST_INTERVAL
    retries: int = DEFAULT_RETRIES
    allow_private: bool = False
    ttl: timedelta = TTL
    dead_failures: int = DEAD_FAILURES
    dead_spacing: timedelta = DEAD_SPACING
    user_agent: str = DEFAULT_USER_AGENT
    soft404: bool = True
    backoff: float = DEFAULT_BACKOFF
    max_retry_after: float = MAX_RETRY_AFTER
    keep_bytes: int = DEFAULT_KEEP_BYTES
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
    host_limits: Mapping[str, Limit] = field(default_factory=lambda: MappingProxyType({}))
    host_wait: float = DEFAULT_HOST_WAIT

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "deadline", "host_wait"):
            _seconds(name, getattr(self, name))
        for name in ("host_interval", "backoff", "max_retry_after"):
            _seconds(name, getattr(self, name), zero_ok=True)
        for name, least in (("concurrency", 1), ("per_host", 1), ("retries", 0), ("dead_failures", 1),
                            ("max_bytes", 1), ("keep_bytes", 0), ("max_text_bytes", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInput(f"{name} must be a whole number of at least {least}, not {value!r}")
        if self.ttl < timedelta(0) or self.dead_spacing < timedelta(0):
            raise InvalidInput("ttl and dead_spacing must not be negative")
        object.__setattr__(self, "host_limits", MappingProxyType(dict(self.host_limits)))

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in fields(self) if f.name != "host_limits"))

    @classmethod
    def from_options(
        cls,
        *,
        allow_private: bool = False,
        concurrency: int | None = None,
        per_host: int | None = None,
        host_interval: float | None = None,
        timeout: float | None = None,
        host_config: Path | None = None,
    ) -> CheckConfig:
        """The configuration a command's options ask for; ``None`` keeps a default.

        One builder for every caller, so that an option means the same wherever it
        is given. The order matters: the per-host file's defaults are the
        ``per_host`` and ``host_interval`` given here, and ``timeout`` comes last
        because :meth:`with_timeout` shrinks the connect and read timeouts to fit
        it. Every value is validated, so a bad one is refused before any work.
        """
        changes: dict[str, object] = {"allow_private": allow_private}
        for name, value in (("concurrency", concurrency), ("per_host", per_host), ("host_interval", host_interval)):
            if value is not None:
                changes[name] = value
        config = cls().replace(**changes)
        if host_config is not None:
            config = config.replace(host_limits=load_host_limits(host_config, config.host_limit))
        return config if timeout is None else config.with_timeout(timeout)

    def with_timeout(self, seconds: float) -> CheckConfig:
        """This configuration with a total deadline of ``seconds`` per URL (``--timeout``).

        Connect and read timeouts shrink to fit inside it.
        """
        _seconds("timeout", seconds)
        return self.replace(
            deadline=seconds,
            connect_timeout=min(self.connect_timeout, seconds),
            read_timeout=min(self.read_timeout, seconds),
        )

    def replace(self, **changes: object) -> CheckConfig:
        """A copy with ``changes`` applied (and validated)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values)
        if unknown:
            raise InvalidInput(f"unknown check setting(s): {', '.join(sorted(unknown))}")
        values.update(changes)
        return CheckConfig(**values)

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy these settings describe."""
        return RetryPolicy(self.retries, self.backoff, self.max_retry_after)

    @property
    def host_limit(self) -> Limit:
        """The default per-host limit."""
        return Limit(self.per_host, self.host_interval)


#: Bytes of a host-limits file read at most: a politeness table, not a data set.
MAX_HOST_FILE = 1 << 20
#: Largest per-host values a host file may set: a day between requests, ten thousand at once
#: (past either, a value is a typo or an attack, and a 400-digit one overflows a float).
MAX_HOST_INTERVAL = 86400.0
MAX_HOST_CONCURRENCY = 10_000


def load_host_limits(path: Path, default: Limit) -> dict[str, Limit]:
    """Per-host politeness overrides from a TOML file (``--host-config``)::

        [hosts."example.org"]          # or "example.org:8080" for one port
        concurrency = 1                # requests in flight at once to it
        interval = 2.0                 # seconds between two request starts

    A missing key keeps the default for that host. Any problem is
    :class:`~wikicore.errors.InvalidInput` naming the file and the host.
    """
    try:
        # Non-blocking: open() of a FIFO waits for a writer, and hung even `--offline`.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InvalidInput(f"{path}: the host file must be a regular file")
            raw = handle.read(MAX_HOST_FILE + 1)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the host file: {exc.strerror or exc}") from None
    if len(raw) > MAX_HOST_FILE:
        raise InvalidInput(f"{path}: a host file of more than {MAX_HOST_FILE} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # also int()'s digit limit and deep nesting, beside TOMLDecodeError
        raise InvalidInput(f"{path}: not a TOML file: {str(exc)[:200]}") from None
    hosts = data.get("hosts", {})
    if set(data) - {"hosts"} or not isinstance(hosts, dict):
        raise InvalidInput(f"{path}: expected only [hosts.\"NAME\"] tables")
    limits: dict[str, Limit] = {}
    for host, table in hosts.items():
        if not isinstance(table, dict) or set(table) - {"concurrency", "interval"}:
            raise InvalidInput(f"{path}: host {host!r}: only 'concurrency' and 'interval' may be set")
        concurrency = table.get("concurrency", default.concurrency)
        interval = table.get("interval", default.interval)
        if (isinstance(concurrency, bool) or not isinstance(concurrency, int)
                or not 1 <= concurrency <= MAX_HOST_CONCURRENCY):
            raise InvalidInput(f"{path}: host {host!r}: concurrency must be a whole number from 1 to "
                               f"{MAX_HOST_CONCURRENCY}")
        if (isinstance(interval, bool) or not isinstance(interval, int | float)
                or not 0 <= interval <= MAX_HOST_INTERVAL):
            # Checked before float(): an integer of 400 digits overflows it.
            raise InvalidInput(f"{path}: host {host!r}: interval must be a number of seconds from 0 to "
                               f"{MAX_HOST_INTERVAL:g}")
        limits[str(host).lower()] = Limit(concurrency, float(interval))
    return limits
