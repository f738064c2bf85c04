"""A request's deadline starts when it is sent, not while it queues behind an archive's rate limit.

The Internet Archive's playback is spaced (8 requests a second at most), so the
quote phase's replays of one archive root wait their turn at the gate. A deadline
started before that wait ran out for the URLs at the back of the queue, which
were then reported as timed out although nothing had been asked of the archive.
Both requests clients follow the network layer's one rule (the gate begins the
deadline at the turn): :class:`~wikicore.net.CheckSession` (the quote phase's
replays) and the archive :class:`~wikicore.archive.transport.Transport`.

Every case queues more requests than fit in one deadline (``QUEUED`` requests
``SPACING`` seconds apart, a ``DEADLINE`` shorter than the queue) at a fake
archive on 127.0.0.1 answering at once, and asserts on outcomes and request
counts only: every request is sent and answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from wikicore.archive.gate import ArchiveGate
from wikicore.archive.transport import Transport
from wikicore.net import CheckConfig, CheckSession, Deadline, Limit, RateGate
from wikicore.net.failures import Failure
from wikicore.sources.fetch import fetch_capture, replay_key

from .servers.wayback import Capture, FakeWayback

URL = "http://example.com/cited"
QUEUED = 10
SPACING = 0.4  # seconds between request starts at the archive: 3.6 s from the first to the last
DEADLINE = 1.5  # per request: shorter than the queue, ample for a loopback answer

assert (QUEUED - 1) * SPACING > 2 * DEADLINE  # the back of the queue waits well past a deadline


@pytest.fixture
def archive() -> Iterator[FakeWayback]:
    with FakeWayback([Capture(URL, "20100101000000")]) as server:
        yield server


def capture_url(archive: FakeWayback) -> str:
    return f"{archive.base_url}/web/20100101000000/{URL}"


def test_replays_queued_behind_one_archive_root_are_all_asked(archive: FakeWayback) -> None:
    """The quote phase's path: raw replays through a CheckSession, gated per archive root."""
    config = CheckConfig(allow_private=True, deadline=DEADLINE)
    capture = capture_url(archive)
    gate = RateGate(config.host_limit, {replay_key(capture): Limit(config.concurrency, SPACING)},
                    total=config.concurrency)
    with CheckSession(config, gate=gate) as session, ThreadPoolExecutor(QUEUED) as pool:
        fetches = [fetch for fetch, _ in pool.map(lambda _: fetch_capture(session, capture), range(QUEUED))]
    failures = [fetch.failure for fetch in fetches if fetch.failure is not None]
    assert failures == [], f"{failures.count(Failure.DEADLINE)} replays timed out in the queue"
    assert [fetch.status for fetch in fetches] == [200] * QUEUED
    assert archive.counts["web"] == QUEUED  # every one was asked, once


def test_archive_transport_requests_queued_behind_the_gate_are_all_answered(archive: FakeWayback) -> None:
    """The archive client's seam: requests of one endpoint family spaced by the archive's gate."""
    transport = Transport(ArchiveGate(rates={"web": 1 / SPACING}), deadline=DEADLINE)
    capture = capture_url(archive)
    with ThreadPoolExecutor(QUEUED) as pool:
        answers = list(pool.map(lambda _: transport.request("web", "GET", capture), range(QUEUED)))
    assert [answer.status for answer in answers] == [200] * QUEUED
    assert archive.counts["web"] == transport.requests_made == QUEUED  # no retries: nothing timed out


def test_a_session_budget_starts_at_its_first_turn_at_the_gate() -> None:
    """Made, it has its whole time; the gate's slot starts it; finished unstarted, nothing watches it."""
    with CheckSession(CheckConfig(deadline=DEADLINE)) as session:
        budget = session.budget()
        assert not budget.started and budget.remaining() == DEADLINE and not budget.exceeded()
        with session.gate.slot("example.org:443", budget=budget):
            assert budget.started and budget.ident is not None
        budget.finish()
    unused = Deadline(DEADLINE)
    unused.finish()
    unused.begin()  # a budget finished before its first request is never handed to the watchdog
    assert unused.ident is None
