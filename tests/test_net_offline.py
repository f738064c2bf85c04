"""A checker that is itself offline or blocked records nothing as a failure and exits 5.

On a machine without DNS every name "does not exist"; three such runs days apart
must not confirm Wikipedia dead. A failure counts towards "dead" only in a run
where some other host answered.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.links import LinkDB, LinkStatus, check_urls
from wikicore.net import CheckConfig

from .servers.hostile_web import HostileWeb


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("WIKICORE_WAYBACK_URL", raising=False)


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that fails everything, as on a machine with no network: every name is "not found"."""

    def unplugged(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unplugged)


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM observations").fetchone()[0])


def test_unplugged_audit_exits_5_and_writes_no_observation(no_dns: None, tmp_path: Path) -> None:
    refs = [
        {"id": "wp", "type": "web", "url": "https://en.wikipedia.org/wiki/Baku"},
        {"id": "bbc", "type": "web", "url": "https://www.bbc.co.uk/news/world-europe-1"},
    ]
    article = tmp_path / "a.json"
    article.write_text(json.dumps({
        "slug": "a", "title": "A",
        "lead": [{"claims": [{"id": "c-1", "text": "Cited.", "citations": [{"ref": "wp"}, {"ref": "bbc"}]}]}],
        "references": refs,
    }))
    cache = tmp_path / "c.sqlite"
    for _ in range(3):  # three offline runs confirm nothing
        result = CliRunner().invoke(
            main, ["audit", str(article), "--no-archive", "--refresh", "--cache", str(cache), "--format", "json"]
        )
        assert result.exit_code == 5, result.output
        lines = [line for line in result.stderr.splitlines() if "network failed as a whole" in line]
        assert len(lines) == 1 and "name not found" in lines[0], result.stderr
        statuses = [r["status"] for r in json.loads(result.stdout)["articles"][0]["references"]]
        assert statuses == ["unchecked", "unchecked"]
        assert _rows(cache) == 0


def test_one_site_alone_unanswered_is_not_recorded(no_dns: None, tmp_path: Path) -> None:
    with LinkDB(tmp_path / "c.sqlite") as db:
        results = list(check_urls(["https://en.wikipedia.org/wiki/Baku"], CheckConfig(), db))
        assert [r.status for r in results] == [LinkStatus.DEAD]  # the check alone cannot tell; the audit says so
        assert db.history("https://en.wikipedia.org/wiki/Baku") == []


def test_a_failure_counts_in_a_run_where_another_host_answered(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/gone"
    config = CheckConfig(allow_private=True, deadline=10.0)
    with HostileWeb() as web, LinkDB(tmp_path / "c.sqlite") as db:
        results = {r.url: r for r in check_urls([closed, web.url("/ok")], config, db)}
        assert results[closed].status is LinkStatus.ERROR
        assert [o.status for o in db.history(closed)] == ["error"]


def test_no_name_resolving_is_offline_even_when_an_address_answers(no_dns: None, tmp_path: Path) -> None:
    """Only a cited IP address (which needs no resolver) answered: the names' failures are the resolver's."""
    with HostileWeb() as web:
        refs = [
            {"id": "wp", "type": "web", "url": "https://en.wikipedia.org/wiki/Baku"},
            {"id": "local", "type": "web", "url": web.url("/ok")},
        ]
        article = tmp_path / "a.json"
        article.write_text(json.dumps({
            "slug": "a", "title": "A",
            "lead": [{"claims": [{"id": "c-1", "text": "Cited.", "citations": [{"ref": "wp"}, {"ref": "local"}]}]}],
            "references": refs,
        }))
        cache = tmp_path / "c.sqlite"
        result = CliRunner().invoke(main, ["audit", str(article), "--no-archive", "--allow-private", "--cache",
                                           str(cache), "--format", "json"])
    assert result.exit_code == 5, result.output
    assert "resolved" in result.stderr
    statuses = {r["id"]: r["status"] for r in json.loads(result.stdout)["articles"][0]["references"]}
    assert statuses == {"wp": "unchecked", "local": "live"}
    with LinkDB(cache) as db:
        assert db.history("https://en.wikipedia.org/wiki/Baku") == []
        assert [o.status for o in db.history(web.url("/ok"))] == ["live"]


def test_a_single_check_while_offline_is_not_a_verdict_and_not_recorded(no_dns: None, tmp_path: Path) -> None:
    """LinkChecker.check: the checker's life is the run; until a check got an answer, a failure is its own."""
    from wikicore.links import LinkChecker
    from wikicore.links.offline import OFFLINE

    wikipedia = "https://en.wikipedia.org/wiki/Baku"
    with HostileWeb() as web, LinkDB(tmp_path / "c.sqlite") as db, \
            LinkChecker(CheckConfig(allow_private=True, deadline=10.0), db) as checker:
        for _ in range(3):  # three offline checks confirm nothing
            result = checker.check(wikipedia, refresh=True)
            assert result.status is LinkStatus.UNCHECKED and not result.confirmed_dead
            assert result.error is not None and result.error.startswith(OFFLINE) and "name not found" in result.error
        assert db.history(wikipedia) == []
        # An address answers (routes work) but no name has resolved: the lookup is still the checker's.
        assert checker.check(web.url("/ok")).status is LinkStatus.LIVE
        assert checker.check(wikipedia, refresh=True).status is LinkStatus.UNCHECKED
        assert db.history(wikipedia) == []
        # With routes shown to work, a refused port is that site's failure: a verdict, recorded.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{sock.getsockname()[1]}/gone"
        assert checker.check(closed).status is LinkStatus.ERROR
        assert [o.status for o in db.history(closed)] == ["error"]
