"""Network and verdict defects found by attacking the checker, each a regression test on loopback servers.

Each test is one attack, written so that it fails on the code that had the defect:
IPv4 hidden in IPv6, scoped addresses, a Retry-After of "²", NaN timeouts, a damaged,
misplaced or locked link database, refusals that persist over days (days simulated
with the database's clock, not slept), and failures described in plain words.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wikicore.errors import InvalidInput
from wikicore.links import LinkChecker, LinkDB, LinkStatus, Observation, check_urls
from wikicore.net import CheckConfig, CheckSession, Failure, embedded_ipv4, parse_retry_after, refusal

from .servers.hostile_web import HostileWeb

FAST = CheckConfig(
    allow_private=True, connect_timeout=1.0, read_timeout=1.0, deadline=2.0, host_interval=0.0, per_host=4,
    backoff=0.05, retries=1,
)


@pytest.fixture(scope="module")
def web() -> Iterator[HostileWeb]:
    with HostileWeb() as server:
        yield server


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- one address policy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("2002:a9fe:a9fe::", "169.254.169.254"),  # 6to4
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("2001:0:4136:e378:8000:63bf:5601:5601", "169.254.169.254"),  # Teredo (client bits inverted)
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64 well-known prefix
        ("64:ff9b:1::a9fe:a9fe", "169.254.169.254"),  # NAT64 local-use prefix
        ("::ffff:169.254.169.254", "169.254.169.254"),  # IPv4-mapped
        ("::169.254.169.254", "169.254.169.254"),  # IPv4-compatible
    ],
)
def test_every_ipv4_embedding_form_is_decoded(address: str, embedded: str) -> None:
    import ipaddress

    inner = embedded_ipv4(ipaddress.IPv6Address(address))
    assert str(inner) == embedded
    assert refusal(address) is not None  # refused by default
    if embedded.startswith("169.254."):
        assert "link-local" in (refusal(address, allow_private=True) or "")  # and even with --allow-private
    else:
        assert refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"])
def test_embedded_public_addresses_pass(address: str) -> None:
    # DNS64 hands an IPv6-only host 64:ff9b::a.b.c.d for every IPv4-only site: that is no attack.
    assert refusal(address) is None


def test_6to4_metadata_address_is_refused_on_the_wire(web: HostileWeb) -> None:
    with CheckSession(FAST) as session:
        fetch = session.fetch("http://[2002:a9fe:a9fe::]/latest/meta-data/")
    assert fetch.failure is Failure.ADDRESS
    assert "link-local" in (fetch.error or "") and "169.254.169.254" in (fetch.error or "")


def test_redirect_to_nat64_metadata_is_refused_even_with_allow_private(web: HostileWeb) -> None:
    with LinkChecker(FAST) as checker:
        result = checker.check(web.url("/to?u=http://[64:ff9b::a9fe:a9fe]/"))
    assert result.status is LinkStatus.UNCHECKED
    assert "169.254.169.254" in (result.error or "")


def test_scoped_address_is_invalid_not_dead() -> None:
    with LinkChecker(FAST) as checker:
        result = checker.check("http://[fe80::1%25lo]/")
    assert result.status is LinkStatus.INVALID
    assert "scoped" in (result.error or "")


def test_refused_private_address_names_allow_private(web: HostileWeb) -> None:
    with LinkChecker(CheckConfig()) as checker:
        result = checker.check(web.url("/ok"))
    assert result.status is LinkStatus.UNCHECKED
    assert result.error == "127.0.0.1 is a loopback address, not fetched; --allow-private would check it"


# --- Retry-After and timeouts -----------------------------------------------------------


def test_retry_after_superscript_two_is_no_number() -> None:
    assert "²".isdigit()  # the trap
    assert parse_retry_after("²") is None
    assert parse_retry_after("9" * 5000) == float("inf")  # no int() of 5,000 digits


def test_a_cited_sites_429_with_superscript_retry_after_stays_blocked(web: HostileWeb) -> None:
    with LinkChecker(FAST) as checker:
        result = checker.check(web.url("/429-superscript"))
    assert result.status is LinkStatus.BLOCKED and result.http_status == 429


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0])
def test_config_refuses_timeouts_that_are_not_finite_positive_numbers(value: float) -> None:
    with pytest.raises(InvalidInput, match=r"timeout|deadline"):
        CheckConfig().with_timeout(value)
    with pytest.raises(InvalidInput):
        CheckConfig(read_timeout=value)


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "0"])
def test_cli_timeout_nan_inf_negative_exit_2(value: str, tmp_path: Path) -> None:
    article = Path(__file__).parent.parent / "articles" / "azerbaijan-russia-relations.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "wikicore", "audit", str(article), "--timeout", value, "--cache",
         str(tmp_path / "c.sqlite")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "--timeout" in done.stderr
    assert not (tmp_path / "c.sqlite").exists()  # refused before any check, nothing cached


# --- plain words ------------------------------------------------------------------------------


def online(checker: LinkChecker, web: HostileWeb) -> LinkChecker:
    """``checker`` once a check of it got an answer: its failures are verdicts from then on.

    Before any answer a failure is the checker's own (the offline rule,
    tests/test_net_offline.py); these tests are about failures of sites.
    """
    assert checker.check(web.url("/ok")).status is LinkStatus.LIVE
    return checker


def test_refused_connection_is_said_in_plain_words(web: HostileWeb) -> None:
    with LinkChecker(FAST) as checker:
        result = online(checker, web).check(f"http://127.0.0.1:{closed_port()}/refused")
    assert result.status is LinkStatus.ERROR
    assert result.error == "connection refused"


def test_tls_failure_in_plain_words(web: HostileWeb) -> None:
    with LinkChecker(FAST) as checker:
        result = online(checker, web).check(web.url("/ok").replace("http://", "https://"))
    assert result.status is LinkStatus.ERROR
    assert result.error == "TLS handshake failed"


# --- refusals that persist: the IABot rule for every failure ------------------------------------


def test_refused_for_three_checks_over_three_days_is_confirmed_dead(tmp_path: Path, web: HostileWeb) -> None:
    url = f"http://127.0.0.1:{closed_port()}/gone-for-good"
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    with LinkDB(tmp_path / "checks.sqlite", clock=lambda: now[0]) as db, LinkChecker(FAST, db) as checker:
        first = online(checker, web).check(url)
        assert (first.status, first.failures, first.confirmed_dead) == (LinkStatus.ERROR, 1, False)
        now[0] += timedelta(days=3)
        second = checker.check(url)
        assert (second.status, second.failures, second.confirmed_dead) == (LinkStatus.ERROR, 2, False)
        assert second.error == "connection refused; failing since 2026-03-01 (2 checks so far)"
        now[0] += timedelta(days=3)
        third = checker.check(url)
        assert (third.status, third.failures, third.confirmed_dead) == (LinkStatus.DEAD, 3, True)
        assert third.first_failed == datetime(2026, 3, 1, tzinfo=UTC)
        # Reused within the TTL, the verdict is the same.
        now[0] += timedelta(hours=1)
        cached = checker.check(url)
        assert cached.from_cache and (cached.status, cached.confirmed_dead) == (LinkStatus.DEAD, True)


def test_three_refusals_in_one_day_are_one_outage(tmp_path: Path, web: HostileWeb) -> None:
    url = f"http://127.0.0.1:{closed_port()}/blip"
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    with LinkDB(":memory:", clock=lambda: now[0]) as db, LinkChecker(FAST, db) as checker:
        online(checker, web)
        for _ in range(3):
            result = checker.check(url, refresh=True)
            now[0] += timedelta(hours=2)
    assert (result.status, result.failures, result.confirmed_dead) == (LinkStatus.ERROR, 3, False)


# --- the link database: batches, validation on read, placement, locks ----------------------------


def test_check_many_writes_in_batches(web: HostileWeb, tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    urls = [web.url(f"/page/batch-{i}") for i in range(40)]
    with LinkDB(path) as db:
        results = list(check_urls(urls, FAST, db))
        assert {r.status for r in results} == {LinkStatus.LIVE}
        # every observation arrived, in fewer transactions than URLs (sqlite counts changes per commit)
        rows = db._conn.execute("SELECT count(*) FROM observations").fetchone()[0]
    assert rows == len(urls)


def _damage(path: Path, base: str = "http://e.org") -> None:
    conn = sqlite3.connect(path)
    rows = [
        (f"{base}/a", "2026-03-01T00:00:00.000000Z", "zombie", None, None, "[]", None),  # unknown status
        (f"{base}/b", "yesterday", "dead", 404, None, "[]", None),  # bad date
        (f"{base}/c", "2026-03-01T00:00:00", "dead", 404, None, "[]", None),  # naive timestamp
        (f"{base}/d", "2026-03-01T00:00:00.000000Z", "dead", 404, None, "{not json", None),  # non-JSON
        (f"{base}/e", "2026-03-01T00:00:00.000000Z", "dead", "four-oh-four", None, "[]", None),
    ]
    conn.executemany(
        "INSERT INTO observations (url, checked_at, status, http_status, final_url, redirects, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()


def test_damaged_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    now = datetime(2026, 3, 1, 1, tzinfo=UTC)
    with LinkDB(path) as db:
        db.record(Observation("http://e.org/a", now - timedelta(minutes=30), "live", 200))
    _damage(path)
    with LinkDB(path, clock=lambda: now) as db:
        for letter in "abcde":
            db.state(f"http://e.org/{letter}")
            db.history(f"http://e.org/{letter}")
        assert db.damaged == 5  # each damaged row counted once, however often it is read
        assert db.fresh("http://e.org/a") is not None  # the good row survives beside the bad one
        assert db.latest("http://e.org/b") is None


def test_audit_reports_damaged_cache_rows_once(web: HostileWeb, tmp_path: Path) -> None:
    from wikicore.audit import audit_articles
    from wikicore.models import Article

    path = tmp_path / "checks.sqlite"
    LinkDB(path).close()
    base = web.url("/page/damaged")
    _damage(path, base)
    article = Article.model_validate(
        {
            "slug": "damaged", "title": "Damaged",
            "lead": [{"claims": [{"id": "c-1", "text": "A claim.", "citations": [{"ref": "ra"}]}]}],
            "references": [{"id": f"r{c}", "type": "web", "url": f"{base}/{c}"} for c in "abcd"],
        }
    )
    report = audit_articles([(article, None)], config=FAST, db_path=path, no_archive=True)
    damaged = [note for note in report.notes if "damaged" in note]
    assert len(damaged) == 1 and damaged[0].startswith("4 damaged row(s)")


def test_a_file_that_is_no_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    path.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(InvalidInput, match="not a wikicore link database"):
        LinkDB(path)


def test_cache_under_a_file_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(InvalidInput, match="cannot create the folder"):
        LinkDB(blocker / "sub" / "checks.sqlite")


def test_cache_in_an_uncreatable_folder_is_one_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if (locked / "probe").parent.stat().st_mode & 0o200 or _root_can_write(locked):
            pytest.skip("running as root: permissions do not stop us")
        with pytest.raises(InvalidInput, match="cannot"):
            LinkDB(locked / "new" / "checks.sqlite")
    finally:
        locked.chmod(0o700)


def _root_can_write(folder: Path) -> bool:
    try:
        (folder / ".w").write_text("x")
    except OSError:
        return False
    (folder / ".w").unlink()
    return True


def _lock_holder(path: Path, seconds: int) -> subprocess.Popen[str]:
    """Another process holding ``path`` locked for ``seconds``, then letting go (by exiting).

    The hold is bounded on purpose: a LinkDB that waited for the lock instead of giving up
    would get it when the holder lets go and open the cache, so the test fails on that
    outcome (no "in use" error) rather than on a stopwatch.
    """
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN EXCLUSIVE')\n"
            f"print('locked', flush=True); time.sleep({seconds})\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )
    if holder.stdout is None or holder.stdout.readline().strip() != "locked":
        holder.kill()
        holder.wait()
        pytest.fail("the lock holder did not take the lock")
    return holder


def test_cache_locked_by_another_process_says_in_use(tmp_path: Path) -> None:
    # Held for 10 s: a LinkDB that waits for the lock as long as a write may (the old silent
    # 30 s) outlasts the holder and opens the cache; one that gives up after its short open
    # wait says "in use" while the lock is still held.
    path = tmp_path / "checks.sqlite"
    LinkDB(path).close()
    holder = _lock_holder(path, 10)
    try:
        with pytest.raises(InvalidInput, match="in use by another process"):
            LinkDB(path)
        assert holder.poll() is None  # the lock was still held when LinkDB gave up
    finally:
        holder.kill()
        holder.wait()


def test_cli_audit_with_a_locked_cache_says_in_use_at_once(web: HostileWeb, tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    LinkDB(path).close()
    article = tmp_path / "a.yaml"
    article.write_text(
        "slug: a\ntitle: A\nlead:\n- claims:\n  - id: c-1\n    text: Cited.\n    citations:\n    - ref: r1\n"
        f"references:\n- id: r1\n  type: web\n  url: {web.url('/ok')}\n",
        encoding="utf-8",
    )
    # Held for 20 s, time for the CLI to start and give up: an audit that waited for the
    # lock (the old silent 30 s) would get it when the holder lets go and run to the end.
    holder = _lock_holder(path, 20)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "wikicore", "audit", str(article), "--allow-private", "--cache", str(path),
             "--wayback-url", web.url("/")],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by another process" in lines[0]
        assert holder.poll() is None  # the lock was still held when the audit gave up
    finally:
        holder.kill()
        holder.wait()


def test_a_claim_whose_only_source_keeps_failing_gets_a_warning(tmp_path: Path, web: HostileWeb) -> None:
    from wikicore.audit import audit_articles
    from wikicore.models import Article

    url = f"http://127.0.0.1:{closed_port()}/only-source"
    # Another host answers in every run: a failure counts only in a run where the checker is online.
    article = Article.model_validate(
        {
            "slug": "lonely", "title": "Lonely",
            "lead": [{"claims": [{"id": "c-1", "text": "A claim.", "citations": [{"ref": "r1"}]}]}],
            "references": [{"id": "r1", "type": "web", "url": url},
                           {"id": "r2", "type": "web", "url": web.url("/ok")}],
        }
    )
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    db = tmp_path / "checks.sqlite"

    def audit() -> tuple[list[str], list[str]]:
        report = audit_articles([(article, None)], config=FAST, db_path=db, no_archive=True, clock=lambda: now[0])
        audited = report.articles[0]
        return [p.code for p in audited.claims[0].problems], [p.code for p in audited.references[0].problems]

    claim, ref = audit()
    assert claim == [] and ref == ["link-error"]  # one refusal: probably transient
    now[0] += timedelta(days=3)
    claim, ref = audit()
    assert claim == ["claim-sources-dead"] and ref == ["link-error"]  # refused for 3 days: persistent
    now[0] += timedelta(days=3)
    claim, ref = audit()
    assert claim == ["claim-sources-dead"] and ref == ["link-dead"]  # confirmed dead after 3 checks


def test_per_host_overrides_from_a_toml_file(tmp_path: Path) -> None:
    from wikicore.net import Limit, load_host_limits

    hosts = tmp_path / "hosts.toml"
    hosts.write_text('[hosts."127.0.0.1"]\nconcurrency = 1\ninterval = 0.2\n', encoding="utf-8")
    limits = load_host_limits(hosts, Limit(8, 0.0))
    assert limits == {"127.0.0.1": Limit(1, 0.2)}
    config = FAST.replace(per_host=8, host_limits=limits)
    with HostileWeb(hosts=2) as web:
        urls = [web.url(f"/p/{i}", host=i % 2) for i in range(8)]
        results = list(check_urls(urls, config))
        web.settle()
    assert {r.status for r in results} == {LinkStatus.LIVE}
    slow = sorted(r.start for r in web.records if r.host == 0)
    assert web.max_inflight[0] == 1  # the override: one at a time on 127.0.0.1 ...
    assert slow[-1] - slow[0] >= 0.2 * (len(slow) - 1) * 0.9  # ... and spaced (over the span, not per gap)


@pytest.mark.parametrize(
    "text",
    ['[hosts."a.org"]\nconcurrency = 0\n', '[hosts."a.org"]\ninterval = nan\n', "hosts = 3\n", "not toml [",
     '[hosts."a.org"]\nspeed = 3\n'],
)
def test_a_bad_host_file_is_one_error_line(text: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wikicore.cli import main

    hosts = tmp_path / "hosts.toml"
    hosts.write_text(text, encoding="utf-8")
    article = Path(__file__).parent.parent / "articles" / "azerbaijan-russia-relations.yaml"
    result = CliRunner().invoke(main, ["audit", str(article), "--host-config", str(hosts), "--no-archive",
                                       "--cache", str(tmp_path / "c.sqlite")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(hosts) in lines[0] and "Traceback" not in result.output
