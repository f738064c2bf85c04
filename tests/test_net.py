"""The checking session against a hostile loopback web: caps, deadline, retries, politeness, addresses."""

from __future__ import annotations

import itertools
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from wikicore.net import (
    DEFAULT_USER_AGENT,
    MAX_REDIRECTS,
    CheckConfig,
    CheckSession,
    Failure,
    address_allowed,
    host_key,
    parse_retry_after,
)

from .servers.hostile_web import HostileWeb

CAP = 256 * 1024


@pytest.fixture(scope="module")
def web() -> Iterator[HostileWeb]:
    with HostileWeb(bomb_size=64 << 20) as server:
        yield server


def session(**kwargs: object) -> CheckSession:
    options: dict[str, object] = {
        "allow_private": True,
        "deadline": 2.0,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "backoff": 0.05,
        "max_bytes": CAP,
        "host_interval": 0.0,
        "per_host": 4,
    }
    options.update(kwargs)
    return CheckSession(CheckConfig(**options))  # type: ignore[arg-type]


def test_user_agent_is_versioned(web: HostileWeb) -> None:
    with session() as s:
        assert s.fetch(web.url("/page/ua")).status == 200
    web.settle()
    seen = [r.user_agent for r in web.records if r.path == "/page/ua"]
    assert seen == [DEFAULT_USER_AGENT]
    assert DEFAULT_USER_AGENT.startswith("wikicore/")


def test_one_gib_body_costs_the_cap(web: HostileWeb) -> None:
    before = web.bytes_sent
    with session() as s:
        fetch = s.fetch(web.url("/huge"))
    assert fetch.status == 200 and fetch.truncated
    assert fetch.body_bytes <= CAP + 16 * 1024
    assert len(fetch.body) <= CAP
    # The server notices the closed connection when its next write fails.
    for _ in range(50):
        if web.bytes_sent > before:
            break
        time.sleep(0.05)
    # What left the server: the cap plus what loopback socket buffers hold, far from 1 GiB.
    assert 0 < web.bytes_sent - before < 32 * 1024 * 1024


def test_gzip_bomb_costs_the_cap(web: HostileWeb) -> None:
    with session() as s:
        s.fetch(web.url("/ok"))  # warm the pool
        tracemalloc.start()
        try:
            fetch = s.fetch(web.url("/gzip-bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert fetch.status == 200 and fetch.truncated
    assert fetch.body_bytes <= CAP + 16 * 1024  # decoded bytes, of 64 MiB the bomb inflates to
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize("path", ["/slow", "/slow-headers"])
def test_deadline_holds_against_slow_loris(web: HostileWeb, path: str) -> None:
    # A byte every 0.5 s never trips the 1 s read timeout: only the deadline can end it. The
    # server hangs up by itself after trickle_limit bytes (12 s), so a client without a
    # deadline reads them all and fails some other way instead of hanging the test.
    done = len(web.trickles)
    with session(deadline=1.5, read_timeout=1.0) as s:
        fetch = s.fetch(web.url(path))
    assert fetch.failure is Failure.DEADLINE, fetch
    [trickle] = web.trickles_after(done)
    # The client hung up first, with the trickle far from its end.
    assert trickle.ended == "hung up" and trickle.sent < web.trickle_limit, trickle


def test_deadline_is_shared_between_fetches(web: HostileWeb) -> None:
    done, asked = len(web.trickles), web.count("/slow", "GET")
    with session(deadline=1.0) as s:
        budget = s.budget()
        first = s.fetch(web.url("/slow"), "GET", deadline=budget)
        second = s.fetch(web.url("/slow"), "GET", deadline=budget)
        budget.finish()
    assert first.failure is second.failure is Failure.DEADLINE
    # The first fetch spent the whole budget, so the second must not even ask: one trickle,
    # cut by the client. A budget per fetch would have sent a second request.
    [trickle] = web.trickles_after(done)
    assert trickle.ended == "hung up" and trickle.sent < web.trickle_limit, trickle
    web.settle()
    assert web.count("/slow", "GET") - asked == 1


def test_redirects_are_followed_by_hand(web: HostileWeb) -> None:
    with session() as s:
        fetch = s.fetch(web.url("/chain/3"))
    assert fetch.status == 200
    assert fetch.redirects == tuple(web.url(p) for p in ("/chain/2", "/chain/1", "/chain/0", "/ok"))
    assert fetch.final_url == web.url("/ok")


def test_redirect_loop_and_too_many_hops(web: HostileWeb) -> None:
    with session() as s:
        loop = s.fetch(web.url("/loop/a"))
        long = s.fetch(web.url("/chain/12"))
    assert loop.failure is Failure.REDIRECT_LOOP
    assert long.failure is Failure.TOO_MANY_REDIRECTS
    assert len(long.redirects) == MAX_REDIRECTS


def test_retry_after_seconds_is_honoured(web: HostileWeb) -> None:
    with session(deadline=5.0) as s:
        fetch = s.fetch(web.url("/ratelimit"))
    web.settle()
    assert fetch.status == 200 and fetch.attempts == 2
    first, second = [r for r in web.records if r.path == "/ratelimit"]
    assert second.start - first.end >= 0.95  # Retry-After: 1


def test_retry_after_date_is_honoured(web: HostileWeb) -> None:
    with session(deadline=6.0) as s:
        fetch = s.fetch(web.url("/ratelimit-date"))
    web.settle()
    assert fetch.status == 200 and fetch.attempts == 2
    first, second = [r for r in web.records if r.path == "/ratelimit-date"]
    assert second.start - first.end >= 0.9  # an HTTP-date about 2 s ahead, second precision


def test_retry_after_beyond_the_cap_stops_retrying(web: HostileWeb) -> None:
    with session(deadline=5.0, max_retry_after=0.5) as s:
        fetch = s.fetch(web.url("/always-429"))
    assert fetch.status == 429 and fetch.attempts == 1


def test_503_then_200_is_retried(web: HostileWeb) -> None:
    with session() as s:
        fetch = s.fetch(web.url("/flaky"))
    assert fetch.status == 200 and fetch.attempts == 2


def test_500_retries_are_bounded(web: HostileWeb) -> None:
    before = web.count("/error")
    with session(retries=2) as s:
        fetch = s.fetch(web.url("/error"))
    web.settle()
    assert fetch.status == 500 and fetch.attempts == 3
    assert web.count("/error") - before == 3


def test_tls_failure(web: HostileWeb) -> None:
    with session() as s:
        fetch = s.fetch(web.url("/ok").replace("http://", "https://"))
    assert fetch.failure is Failure.TLS and fetch.attempts == 1


def test_read_timeout(web: HostileWeb) -> None:
    with HostileWeb(latency=(0.6, 0.6)) as slow, session(read_timeout=0.2, deadline=5.0, retries=0) as s:
        fetch = s.fetch(slow.url("/ok"))
    assert fetch.failure is Failure.TIMEOUT


def test_connection_reset(web: HostileWeb) -> None:
    with session(retries=1) as s:
        fetch = s.fetch(web.url("/reset"))
    assert fetch.failure is Failure.CONNECTION and fetch.attempts == 2


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/x", "mailto:a@b.c"])
def test_disallowed_schemes(url: str) -> None:
    with session() as s:
        assert s.fetch(url).failure is Failure.SCHEME


@pytest.mark.parametrize("url", ["http://", "http://[::1", "http://example.org:99999/"])
def test_malformed_urls(url: str) -> None:
    with session() as s:
        assert s.fetch(url).failure is Failure.BAD_URL


def test_loopback_refused_without_allow_private(web: HostileWeb) -> None:
    with CheckSession() as s:
        fetch = s.fetch(web.url("/page/refused"))
    assert fetch.failure is Failure.ADDRESS
    web.settle()
    assert web.count("/page/refused") == 0  # refused before connecting


def test_redirect_to_metadata_service_refused_even_with_allow_private(web: HostileWeb) -> None:
    with session() as s:
        fetch = s.fetch(web.url("/metadata"))
    assert fetch.failure is Failure.ADDRESS
    assert fetch.redirects == ("http://169.254.169.254/latest/meta-data/",)


def test_dns_rebinding_is_checked_on_the_resolved_address(web: HostileWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    """A public-looking name that resolves to loopback is refused: we connect to what we vetted."""
    port = int(web.hosts[0].rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def rebinding(host: str, *args: object, **kwargs: object) -> object:
        if host == "news.example.org":
            return real("127.0.0.1", port, 0, socket.SOCK_STREAM)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with CheckSession() as s:
        fetch = s.fetch(f"http://news.example.org:{port}/page/rebound")
    assert fetch.failure is Failure.ADDRESS
    web.settle()
    assert web.count("/page/rebound") == 0
    with session() as s:  # and with allow_private the same name reaches the server
        assert s.fetch(f"http://news.example.org:{port}/page/rebound").status == 200


def test_nxdomain_is_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    def nxdomain(host: str, *args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nxdomain)
    with session() as s:
        assert s.fetch("http://no-such-host.example.org/").failure is Failure.DNS


def test_slow_dns_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # A resolver that answers only when the test lets it (or, as a hang guard, after 30 s,
    # with "try again"): the fetch must give up with TIMEOUT while the lookup still hangs.
    # A client that waited for getaddrinfo would see the answer, a DNS failure, instead.
    real = socket.getaddrinfo
    release, answered = threading.Event(), threading.Event()

    def hanging(host: str, *args: object, **kwargs: object) -> object:
        if host == "slow-dns.example.org":
            release.wait(30)
            answered.set()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        with session(connect_timeout=0.5, retries=0) as s:
            fetch = s.fetch("http://slow-dns.example.org/")
            still_hanging = not answered.is_set()
    finally:
        release.set()
    assert fetch.failure is Failure.TIMEOUT, fetch
    assert still_hanging


@pytest.mark.parametrize(
    ("address", "private_ok", "allowed"),
    [
        ("93.184.216.34", False, True),
        ("2606:4700::1111", False, True),
        ("10.1.2.3", False, False),
        ("192.168.0.1", False, False),
        ("172.16.0.1", False, False),
        ("100.64.0.1", False, False),
        ("127.0.0.1", False, False),
        ("::1", False, False),
        ("::ffff:127.0.0.1", False, False),
        ("fc00::1", False, False),
        ("0.0.0.0", False, False),
        ("224.0.0.1", False, False),
        ("240.0.0.1", False, False),
        ("169.254.169.254", False, False),
        ("fe80::1%eth0", False, False),
        ("127.0.0.1", True, True),
        ("10.1.2.3", True, True),
        ("169.254.169.254", True, False),
        ("fe80::1", True, False),
        ("not an ip", True, False),
    ],
)
def test_address_policy(address: str, private_ok: bool, allowed: bool) -> None:
    assert address_allowed(address, private_ok) is allowed


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after((now + timedelta(seconds=5)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 5.0


def test_host_key() -> None:
    assert host_key("https://Example.org/a") == "example.org:443"
    assert host_key("http://example.org:8080/") == "example.org:8080"
    assert host_key("http://example.org/") == "example.org:80"


def test_per_host_politeness() -> None:
    """No two requests to one host start closer than the interval, nor more than per_host at once."""
    interval = 0.05
    with HostileWeb(hosts=2, latency=(0.1, 0.15)) as web, session(per_host=2, host_interval=interval) as s:
        urls = [web.url(f"/p/{i}", host=i % 2) for i in range(16)]
        threads = [threading.Thread(target=s.fetch, args=(u, "HEAD")) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        web.settle()
        for host in (0, 1):
            starts = sorted(r.start for r in web.records if r.host == host)
            assert len(starts) == 8
            # The gate's own spacing is tested exactly on a virtual clock below; what the server sees
            # depends on when its threads get a core, so on a loaded machine two requests may arrive
            # back to back after a stall. Load cannot make them arrive faster on the whole.
            assert starts[-1] - starts[0] >= (len(starts) - 1) * interval * 0.9
            assert web.max_inflight[host] <= 2
        # Hosts do not wait for each other: some requests to the two hosts overlapped.
        a = [r for r in web.records if r.host == 0]
        b = [r for r in web.records if r.host == 1]
        assert any(x.start < y.end and y.start < x.end for x in a for y in b)


def test_the_gate_spaces_starts_per_key_on_a_virtual_clock() -> None:
    """Starts to one key are exactly ``interval`` apart; another key is not held back by the first."""
    from wikicore.net.gate import Limit, RateGate

    now = [100.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    gate = RateGate(Limit(concurrency=2, interval=0.25), clock=lambda: now[0], sleep=sleep)
    starts: dict[str, list[float]] = {"a": [], "b": []}
    for key in ["a", "a", "a", "b", "a"]:
        with gate.slot(key):
            starts[key].append(now[0])
    assert [b - a for a, b in itertools.pairwise(starts["a"])] == [0.25, 0.25, 0.25]
    assert starts["b"] == [100.5]  # asked after two waits on "a": no wait of its own
    gate.pause("b", 10.0)
    with gate.slot("b"):
        assert now[0] == 100.75 + 10.0


def test_threads_and_coroutines_share_the_gates_decisions() -> None:
    """``aslot`` spaces starts by the same bookings as ``slot``, and a pause holds both back."""
    import asyncio

    from wikicore.net.gate import Limit, RateGate

    gate = RateGate(Limit(concurrency=1, interval=0.05), total=4)
    # Each reference time is taken before the booking it is compared with: a loaded machine
    # can only make the starts later, never earlier.
    began = time.monotonic()
    with gate.slot("a"):
        pass

    async def starts() -> list[float]:
        seen = []
        for _ in range(2):
            async with gate.aslot("a"):
                seen.append(time.monotonic())
        return seen

    first, second = asyncio.run(starts())
    assert first - began >= 0.05 * 0.99  # the thread's booking counts for the coroutine
    assert second - began >= 0.10 * 0.99
    paused = time.monotonic()
    gate.pause("a", 0.2)
    asyncio.run(starts())
    assert time.monotonic() - paused >= 0.2 * 0.99


def test_the_policy_vets_resolved_addresses_once_for_both_stacks() -> None:
    from wikicore.net import AddressRefused, vetted

    assert vetted("example.org", ["10.0.0.1", "93.184.216.34"], False) == ["93.184.216.34"]
    assert vetted("intranet", ["10.0.0.1"], True) == ["10.0.0.1"]
    with pytest.raises(AddressRefused, match=r"intranet resolves to 10\.0\.0\.1, a private address"):
        vetted("intranet", ["10.0.0.1"], False)
    with pytest.raises(AddressRefused, match="link-local"):
        vetted("metadata", ["169.254.169.254"], True)
