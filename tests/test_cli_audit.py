"""`wikicore audit`: exit codes by --fail-on, bad input, formats, caches and wiki targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from wikicore.cli import main
from wikicore.models import Article
from wikicore.serialize import dump_path

from .conftest import SEED_ARTICLE
from .servers.hostile_web import HostileWeb
from .servers.wayback import FakeWayback


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """File audits default to $XDG_CACHE_HOME/wikicore; never let a test write to the real home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("WIKICORE_WAYBACK_URL", raising=False)
    monkeypatch.delenv("WIKICORE_WIKI", raising=False)


def write(tmp_path: Path, name: str, **fields: Any) -> Path:
    refs = fields.pop("references", [])
    data = {
        "slug": name,
        "title": fields.pop("title", name.title()),
        "lead": [{"claims": [{"id": "c-1", "text": "Cited.", "citations": [{"ref": r["id"]} for r in refs]}]}],
        "references": refs,
        **fields,
    }
    path = tmp_path / f"{name}.yaml"
    dump_path(Article.model_validate(data), path)
    return path


def audit(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, ["audit", *args])


def one_error_line(result: Result) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output


def test_offline_audit_of_the_seed_article(runner: CliRunner) -> None:
    result = audit(runner, str(SEED_ARTICLE), "--offline", "--format", "json")
    assert result.exit_code == 0, result.output  # warnings only; the default --fail-on is error
    data = json.loads(result.stdout)
    assert data["offline"] is True and any("offline" in note for note in data["notes"])
    (article,) = data["articles"]
    assert article["slug"] == "azerbaijan-russia-relations" and article["revision"] is None
    assert article["summary"]["references"] == len(article["references"]) > 0
    assert article["summary"]["by_severity"]["warning"] > 0
    assert {ref["status"] for ref in article["references"]} == {"no-url"}


@pytest.mark.parametrize(("fail_on", "code"), [("error", 0), ("warning", 1), ("never", 0)])
def test_fail_on_with_warnings_only(runner: CliRunner, fail_on: str, code: int) -> None:
    result = audit(runner, str(SEED_ARTICLE), "--offline", "--fail-on", fail_on, "-q")
    assert result.exit_code == code, result.output


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_fail_on_with_an_error(runner: CliRunner, tmp_path: Path, fail_on: str, code: int) -> None:
    path = write(tmp_path, "bad-isbn", references=[{"id": "b", "type": "book", "title": "B", "isbn": "9780306406158"}])
    result = audit(runner, str(path), "--offline", "--fail-on", fail_on)
    assert result.exit_code == code, result.output
    assert "isbn-invalid" in result.stdout and "ERROR (1)" in result.stdout


def test_a_reference_marked_dead_without_an_archive_is_reported_offline(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "marked", references=[
        {"id": "gone", "type": "web", "title": "Gone", "url": "https://example.org/gone", "url_status": "dead"},
    ])
    result = audit(runner, str(path), "--offline", "--format", "json", "--fail-on", "warning")
    assert result.exit_code == 1, result.output
    (article,) = json.loads(result.stdout)["articles"]
    (ref,) = article["references"]
    assert [(p["code"], p["severity"]) for p in ref["problems"]] == [("link-marked-dead-no-archive", "warning")]


def test_clean_article_exits_zero_even_on_warning(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "clean", references=[{"id": "b", "type": "book", "title": "B", "isbn": "9780306406157"}])
    result = audit(runner, str(path), "--offline", "--fail-on", "warning")
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["missing-file.yaml"],
        ["no-such-slug"],  # no wiki in the current directory
        ["Not A Slug!"],
        [],
        ["--format", "pdf", str(SEED_ARTICLE)],
        ["--wayback-url", "ftp://archive.example/", str(SEED_ARTICLE)],
        ["--wayback-url", "not a url", str(SEED_ARTICLE)],
        ["--timeout", "0", str(SEED_ARTICLE)],
        ["-o", "no-such-dir/report.html", str(SEED_ARTICLE)],
    ],
)
def test_bad_input_exits_2_with_one_line(
    runner: CliRunner, tmp_path: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["audit", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "error" in result.stderr.lower()


def test_bad_target_is_one_clear_line(runner: CliRunner, tmp_path: Path) -> None:
    one_error_line(runner.invoke(main, ["audit", str(tmp_path / "nope.yaml")]))
    one_error_line(runner.invoke(main, ["--wiki", str(tmp_path), "audit", "no-such-slug"]))


def test_formats_and_output_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = audit(runner, str(SEED_ARTICLE), "--offline", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert f"{out}: 1 article(s)" in result.stderr
    md = audit(runner, str(SEED_ARTICLE), "--offline", "--format", "markdown", "-q")
    assert md.stdout.startswith("## Citation audit") and md.stderr == ""


def test_live_audit_via_the_cli_and_cache_reuse(
    runner: CliRunner, tmp_path: Path, web: HostileWeb, wayback: FakeWayback
) -> None:
    dead = web.url("/missing")
    wayback.add({"url": dead, "timestamp": "20200101000000"})
    path = write(
        tmp_path,
        "live",
        references=[
            {"id": "ok", "type": "web", "url": web.url("/ok")},
            {"id": "gone", "type": "web", "url": web.url("/gone")},
            {"id": "archived", "type": "web", "url": dead, "access_date": "2021-01-01"},
        ],
    )
    cache = tmp_path / "cache.sqlite"
    args = [
        str(path),
        "--allow-private",
        "--wayback-url",
        wayback.base_url,
        "--cache",
        str(cache),
        "--format",
        "json",
        "--timeout",
        "5",
        "--concurrency",
        "4",
    ]
    first = audit(runner, *args)
    assert first.exit_code == 1, first.output  # /gone is dead with no archive
    refs = {r["id"]: r for r in json.loads(first.stdout)["articles"][0]["references"]}
    assert refs["ok"]["status"] == "live" and refs["gone"]["status"] == "dead"
    assert [p["code"] for p in refs["gone"]["problems"]] == ["link-dead"]
    assert refs["archived"]["archive"]["timestamp"].startswith("2020-01-01")
    assert cache.exists()

    seen = (len(web.records), wayback.total_requests())
    second = audit(runner, *args)
    assert second.exit_code == 1
    assert (len(web.records), wayback.total_requests()) == seen
    assert json.loads(second.stdout)["articles"][0]["references"][0]["from_cache"] is True


def test_private_addresses_refused_without_allow_private(
    runner: CliRunner, tmp_path: Path, web: HostileWeb, wayback: FakeWayback
) -> None:
    path = write(tmp_path, "private", references=[{"id": "ok", "type": "web", "url": web.url("/ok")}])
    result = audit(runner, str(path), "--wayback-url", wayback.base_url, "--format", "json")
    ref = json.loads(result.stdout)["articles"][0]["references"][0]
    assert ref["status"] == "unchecked" and web.records == []
    assert [p["code"] for p in ref["problems"]] == ["link-not-checked"]
    assert "--allow-private would check it" in ref["problems"][0]["message"]
    assert result.exit_code == 0  # a warning, not an error: nothing is known against the link
    assert (tmp_path / "xdg" / "wikicore" / "checks.sqlite").exists()  # the documented default for files


def test_wiki_targets_all_and_default_cache(
    runner: CliRunner, tmp_path: Path, web: HostileWeb, wayback: FakeWayback
) -> None:
    from wikicore.store import Wiki

    root = tmp_path / "wiki"
    with Wiki.init(root) as wiki:
        first = Article.model_validate(
            {
                "slug": "first",
                "title": "First",
                "see_also": ["Second article", "Nowhere"],
                "lead": [{"claims": [{"id": "c", "text": "x", "citations": [{"ref": "r"}]}]}],
                "references": [{"id": "r", "type": "web", "url": web.url("/ok")}],
            }
        )
        second = Article.model_validate({"slug": "second", "title": "Second", "aliases": ["Second article"]})
        rev = wiki.save(first, "add first")
        wiki.save(second, "add second")
    base = ["--wiki", str(root), "audit", "--allow-private", "--wayback-url", wayback.base_url, "--format", "json"]
    result = runner.invoke(main, [*base, "--all"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [a["slug"] for a in data["articles"]] == ["first", "second"]
    assert data["articles"][0]["revision"] == rev.id
    see_also = [p["message"] for p in data["articles"][0]["problems"] if p["code"] == "see-also-missing"]
    assert see_also == ["see also 'Nowhere': no such article in the wiki"]
    assert (root / ".wikicore" / "checks.sqlite").exists()

    one = runner.invoke(main, [*base, "first", "first", "-q"])
    assert one.exit_code == 0 and len(json.loads(one.stdout)["articles"]) == 1


def test_help_has_an_example(runner: CliRunner) -> None:
    result = runner.invoke(main, ["audit", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "--fail-on" in result.output


def test_a_cache_that_is_not_a_database_is_bad_input(runner: CliRunner, tmp_path: Path, web: HostileWeb) -> None:
    bogus = tmp_path / "not.sqlite"
    bogus.write_bytes(b"this is not sqlite" * 100)
    path = write(tmp_path, "c", references=[{"id": "ok", "type": "web", "url": web.url("/ok")}])
    one_error_line(
        audit(runner, str(path), "--allow-private", "--cache", str(bogus), "--wayback-url", "http://127.0.0.1:9")
    )


def test_progress_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    from wikicore.audit import AuditEvent, AuditPhase
    from wikicore.cli.audit import AuditProgress

    line = AuditProgress()
    line(AuditEvent(AuditPhase.LINKS, 1, 5))  # a short audit shows no bar
    assert capsys.readouterr().err == ""
    line(AuditEvent(AuditPhase.LINKS, 50, 50, "http://x/"))
    line.clear()
    err = capsys.readouterr().err
    assert (
        "links [" in err
        and "50/50" in err
        and err.endswith("\r" + " " * len("   links [" + "#" * 30 + "] 50/50") + "\r")
    )


def test_progress_line_shows_links_and_archive_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from wikicore.audit import AuditEvent, AuditPhase
    from wikicore.cli.audit import AuditProgress

    line = AuditProgress()
    line(AuditEvent(AuditPhase.ARCHIVE, 3, 40))
    time.sleep(0.15)  # the line redraws at most ten times a second
    line(AuditEvent(AuditPhase.LINKS, 120, 2000, "http://x/"))
    err = capsys.readouterr().err
    assert err.rstrip().endswith("\rarchive 3/40  links 120/2000")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_archive_exits_5_and_says_so(runner: CliRunner, tmp_path: Path, web: HostileWeb) -> None:
    path = write(tmp_path, "c", references=[{"id": "ok", "type": "web", "url": web.url("/ok")}])
    result = audit(
        runner, str(path), "--allow-private", "--cache", str(tmp_path / "c.sqlite"),
        "--wayback-url", f"http://127.0.0.1:{_closed_port()}", "--format", "json",
    )
    assert result.exit_code == 5, result.output
    assert "the archive failed as a whole" in result.stderr
    data = json.loads(result.stdout)  # the report is still written
    assert data["network_failure"].startswith("the archive failed as a whole")
    assert data["articles"][0]["references"][0]["status"] == "live"


def test_no_archive_checks_links_only(runner: CliRunner, tmp_path: Path, web: HostileWeb) -> None:
    path = write(tmp_path, "c", references=[{"id": "ok", "type": "web", "url": web.url("/ok")}])
    # The archive is unreachable, but --no-archive never asks it: exit 0.
    result = audit(
        runner, str(path), "--allow-private", "--no-archive", "--cache", str(tmp_path / "c.sqlite"),
        "--wayback-url", f"http://127.0.0.1:{_closed_port()}", "--format", "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["network_failure"] is None
    assert any("--no-archive" in note for note in data["notes"])
    assert not any(p["code"] == "archive-missing" for p in data["articles"][0]["references"][0]["problems"])


def test_an_unreachable_network_exits_5(runner: CliRunner, tmp_path: Path) -> None:
    port = _closed_port()
    refs = [{"id": f"r{i}", "type": "web", "url": f"http://127.0.0.{i}:{port}/x"} for i in range(1, 5)]
    path = write(tmp_path, "c", references=refs)
    result = audit(
        runner, str(path), "--allow-private", "--no-archive", "--cache", str(tmp_path / "c.sqlite"),
        # A refused loopback connect answers at once; the generous deadline only keeps a loaded
        # machine's scheduling delay from turning a refusal into a time-out.
        "--format", "json", "--timeout", "10",
    )
    assert result.exit_code == 5, result.output
    assert "the network failed as a whole" in result.stderr and "connection refused (4)" in result.stderr


def test_lychee_politeness_options(runner: CliRunner, tmp_path: Path, web: HostileWeb) -> None:
    path = write(tmp_path, "c", references=[{"id": "ok", "type": "web", "url": web.url("/ok")}])
    for args in (
        ["--host-concurrency", "10", "--host-request-interval", "50ms", "--max-concurrency", "128"],
        ["--host-concurrency", "1", "--host-request-interval", "0.5", "--concurrency", "4"],
    ):
        result = audit(
            runner, str(path), "--allow-private", "--no-archive", "--cache", str(tmp_path / "c.sqlite"), *args,
        )
        assert result.exit_code == 0, result.output
    for bad in (["--host-request-interval", "nan"], ["--host-request-interval", "-1"],
                ["--host-concurrency", "0"], ["--timeout", "inf"]):
        result = audit(runner, str(path), "--no-archive", *bad)
        assert result.exit_code == 2 and "Traceback" not in result.output, (bad, result.output)


def test_a_cache_under_a_file_is_one_error_line(runner: CliRunner, tmp_path: Path, web: HostileWeb) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    path = write(tmp_path, "c", references=[{"id": "ok", "type": "web", "url": web.url("/ok")}])
    one_error_line(audit(runner, str(path), "--allow-private", "--no-archive", "--cache", str(blocker / "c.sqlite")))
