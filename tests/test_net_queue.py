"""Deadlines measure the site, not our queue: a slow page beside quick ones on one host.

The per-URL deadline starts when the URL's first request is sent; the hops and
retries of a URL in flight go before URLs still queued for the host; a URL whose
host's slots do not move for ``host_wait`` seconds is "not checked: host busy",
never a verdict, and is never recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wikicore.links import LinkDB, LinkStatus, check_urls
from wikicore.net import CheckConfig

from .servers.hostile_web import HostileWeb


@pytest.fixture(scope="module")
def web() -> Iterator[HostileWeb]:
    with HostileWeb() as server:
        yield server


#: The hostile web's cases on one host, as a wiki cites them (a site cited many times),
#: two slow pages among them; each with the verdict it must get.
HOSTILE_CASES = [
    ("/slow", LinkStatus.ERROR),
    ("/slow?again", LinkStatus.ERROR),
    ("/ok", LinkStatus.LIVE),
    ("/chain/3", LinkStatus.LIVE),  # moved
    ("/to?u=/gone", LinkStatus.DEAD),  # moved, then dead
    ("/missing", LinkStatus.DEAD),
    ("/gone", LinkStatus.DEAD),
    ("/loop/a", LinkStatus.DEAD),
    ("/soft/no-such-article", LinkStatus.SOFT_404),
    ("/news/removed-story", LinkStatus.SOFT_404),
    ("/soft/about", LinkStatus.LIVE),
    ("/no-head", LinkStatus.LIVE),
    ("/forbidden", LinkStatus.BLOCKED),
    ("/botwall", LinkStatus.BLOCKED),
    ("/captcha?nohead", LinkStatus.BLOCKED),
    ("/ratelimit", LinkStatus.LIVE),  # rate-limited once, then fine
    ("/huge?nohead", LinkStatus.LIVE),
    ("/error", LinkStatus.ERROR),
]


def test_the_hostile_webs_cases_are_right_at_the_default_timeout(web: HostileWeb) -> None:
    """Two pages slower than the deadline hold both of the host's slots; the other 16 still get their verdicts."""
    assert len(HOSTILE_CASES) == 18
    config = CheckConfig(allow_private=True)  # the defaults: 2 per host, 0.25 s apart, 20 s per URL
    results = {r.url: r for r in check_urls([web.url(path) for path, _ in HOSTILE_CASES], config)}
    judged = {path: (results[web.url(path)].status, results[web.url(path)].error) for path, _ in HOSTILE_CASES}
    assert {path: status for path, (status, _) in judged.items()} == dict(HOSTILE_CASES), judged
    assert all("timed out" in (judged[p][1] or "") for p in ("/slow", "/slow?again"))


def test_quick_pages_queued_behind_a_slow_one_are_judged_on_their_own_answer(web: HostileWeb) -> None:
    # One slot for the host: every quick page waits longer than the deadline for its turn.
    config = CheckConfig(allow_private=True, per_host=1, host_interval=0.0, deadline=1.5, connect_timeout=1.0,
                         read_timeout=1.0)
    urls = [web.url("/slow?first")] + [web.url(f"/page/quick-{i}") for i in range(6)]
    results = {r.url: r for r in check_urls(urls, config)}
    assert results[urls[0]].status is LinkStatus.ERROR
    assert {r.status for url, r in results.items() if url != urls[0]} == {LinkStatus.LIVE}, results


def test_redirect_hops_do_not_queue_behind_other_urls(web: HostileWeb) -> None:
    # 40 pages 0.1 s apart queue 4 s of turns; the 4 hops of a redirect chain must not wait behind them.
    config = CheckConfig(allow_private=True, per_host=1, host_interval=0.1, deadline=2.5, soft404=False)
    urls = [web.url("/chain/3?hops")] + [web.url(f"/page/behind-{i}") for i in range(40)]
    results = {r.url: r for r in check_urls(urls, config)}
    chain = results[urls[0]]
    assert chain.status is LinkStatus.LIVE, chain.error
    assert len(chain.redirects) == 4
    assert {r.status for r in results.values()} == {LinkStatus.LIVE}


def test_a_host_whose_slots_do_not_move_is_not_checked_and_not_recorded(web: HostileWeb, tmp_path: Path) -> None:
    # The only slot is held by a page slower than the deadline; the others give up waiting after host_wait.
    config = CheckConfig(allow_private=True, per_host=1, host_interval=0.0, deadline=3.0, host_wait=0.5,
                         connect_timeout=1.0, read_timeout=1.0)
    urls = [web.url("/slow?holder"), web.url("/page/waiting-1"), web.url("/page/waiting-2")]
    with LinkDB(tmp_path / "checks.sqlite") as db:
        results = {r.url: r for r in check_urls(urls, config, db)}
        waiting = [results[url] for url in urls[1:]]
        assert {r.status for r in waiting} == {LinkStatus.UNCHECKED}
        assert all((r.error or "").startswith("not checked: host busy") for r in waiting), waiting
        assert all(db.history(url) == [] for url in urls[1:])
        # The slow page itself was checked (and timed out); with no host answering in this run,
        # that failure is not recorded either (tests/test_net_offline.py).
        assert results[urls[0]].status is LinkStatus.ERROR
