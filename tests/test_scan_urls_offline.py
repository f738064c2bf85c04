"""`audit --urls` follows `audit`: the offline rule (exit 5, one line, nothing recorded) and --host-config.

The url table is a real Parquet file written here; the checks go to the hostile web on
127.0.0.1, or to a resolver that fails every name (a machine with no network).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.links.offline import OFFLINE

from .servers.hostile_web import HostileWeb

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that fails everything, as on a machine with no network: every name is "not found"."""

    def unplugged(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unplugged)


def url_table(scan: Path, urls: list[str]) -> Path:
    """A scan directory whose ``urls`` table holds ``urls`` (the one column `audit --urls` reads)."""
    (scan / "urls").mkdir(parents=True)
    pq.write_table(pa.table({"url": pa.array(urls, pa.string())}), scan / "urls" / "part-000000.parquet")
    return scan


def rows(scan: Path) -> dict[str, dict[str, Any]]:
    table = pq.read_table(scan / "url_checks" / "part-000000.parquet")
    return {row["url"]: row for row in table.to_pylist()}


def observations(cache: Path) -> int:
    with sqlite3.connect(cache) as db:
        return int(db.execute("SELECT count(*) FROM observations").fetchone()[0])


def test_an_unplugged_url_audit_exits_5_with_one_line_and_records_no_failure(no_dns: None, tmp_path: Path) -> None:
    urls = ["https://en.wikipedia.org/wiki/Baku", "https://www.bbc.co.uk/news/world-europe-1"]
    scan = url_table(tmp_path / "scan", urls)
    cache = tmp_path / "c.sqlite"
    for _ in range(3):  # three offline runs days apart must confirm nothing dead
        result = CliRunner().invoke(main, ["audit", "--urls", str(scan), "--refresh", "--cache", str(cache),
                                           "--format", "json"])
        assert result.exit_code == 5, result.output
        lines = [line for line in result.stderr.splitlines() if "network failed as a whole" in line]
        assert len(lines) == 1 and "name not found" in lines[0] and "url_checks" in lines[0], result.stderr
        summary = json.loads(result.stdout)
        assert summary["by_status"] == {"unchecked": 2} and summary["errors"] == 0
        assert summary["confirmed_dead"] == 0 and summary["network_failure"] in lines[0]
        written = rows(scan)
        assert {row["status"] for row in written.values()} == {"unchecked"}
        assert all(row["error"].startswith(OFFLINE) and row["failures"] == 0 for row in written.values())
        assert observations(cache) == 0


def test_an_url_audit_where_only_an_address_answered_is_offline_for_the_names(no_dns: None, tmp_path: Path) -> None:
    """As `audit` judges it: an IP-literal host needs no resolver, so its answer does not clear the names."""
    with HostileWeb() as web:
        scan = url_table(tmp_path / "scan", ["https://en.wikipedia.org/wiki/Baku", web.url("/ok")])
        cache = tmp_path / "c.sqlite"
        result = CliRunner().invoke(main, ["audit", "--urls", str(scan), "--allow-private", "--cache", str(cache),
                                           "--format", "json"])
    assert result.exit_code == 5, result.output
    assert "resolved" in result.stderr
    written = rows(scan)
    assert written["https://en.wikipedia.org/wiki/Baku"]["status"] == "unchecked"
    assert written[web.url("/ok")]["status"] == "live"
    assert observations(cache) == 1  # the live answer only


def test_an_url_audit_online_still_judges_failures(tmp_path: Path) -> None:
    """A refused port beside a host that answers is that site's failure: a verdict, exit 1 for the dead link."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/gone"
    with HostileWeb() as web:
        scan = url_table(tmp_path / "scan", [closed, web.url("/gone")])
        result = CliRunner().invoke(main, ["audit", "--urls", str(scan), "--allow-private", "--cache",
                                           str(tmp_path / "c.sqlite"), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert "network failed" not in result.stderr and json.loads(result.stdout)["network_failure"] is None
    assert rows(scan)[closed]["status"] == "error" and rows(scan)[web.url("/gone")]["status"] == "dead"


def test_a_bad_host_file_is_one_error_line_for_url_audits_too(tmp_path: Path) -> None:
    scan = url_table(tmp_path / "scan", ["http://127.0.0.1:9/never-asked"])
    hosts = tmp_path / "hosts.toml"
    hosts.write_text('[hosts."a.org"]\nconcurrency = 0\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "--urls", str(scan), "--host-config", str(hosts),
                                       "--cache", str(tmp_path / "c.sqlite")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(hosts) in lines[0] and "concurrency" in lines[0]
    assert not (scan / "url_checks").exists()


class GaugedWeb(HostileWeb):
    """The hostile web, counting the requests it is answering at once (``peak``).

    The count drops before the answer is written, so a client that waits for one
    answer before its next request can never be seen twice.
    """

    def __init__(self) -> None:
        self.answering = 0
        self.peak = 0
        self._gauge = threading.Lock()
        super().__init__()

    def pause(self) -> None:
        with self._gauge:
            self.answering += 1
            self.peak = max(self.peak, self.answering)
        time.sleep(0.3)  # long enough for parallel requests to meet
        with self._gauge:
            self.answering -= 1


def test_url_audits_apply_the_host_file(tmp_path: Path) -> None:
    """--host-concurrency 4 for every host, the host file's 1 for this one: never two requests at once."""
    hosts = tmp_path / "hosts.toml"
    hosts.write_text('[hosts."127.0.0.1"]\nconcurrency = 1\ninterval = 0\n', encoding="utf-8")
    with GaugedWeb() as web:
        scan = url_table(tmp_path / "scan", [web.url(f"/p/{n}") for n in range(1, 5)])
        base = ["audit", "--urls", str(scan), "--allow-private", "--refresh", "--host-concurrency", "4",
                "--host-request-interval", "0", "--cache", str(tmp_path / "c.sqlite"), "--format", "json"]
        result = CliRunner().invoke(main, [*base, "--host-config", str(hosts)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["by_status"] == {"live": 4}
        assert web.peak == 1
        result = CliRunner().invoke(main, base)  # the same run without the file: the four meet
        assert result.exit_code == 0, result.output
        assert web.peak > 1
