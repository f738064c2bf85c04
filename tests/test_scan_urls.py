"""`wikicore audit --urls DIR`: a scan's url table checked by the link checker, against the hostile web."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main

from .servers.hostile_web import HostileWeb

pytest.importorskip("distributed")
pa_dataset = pytest.importorskip("pyarrow.dataset")

from wikicore.scan import scan_dump  # noqa: E402

from .test_scan import TODAY, page_xml, write_dump  # noqa: E402


def _cite(url: str) -> str:
    return f"&lt;ref&gt;{{{{cite web |url={url} |title=T |access-date=2015-01-01}}}}&lt;/ref&gt;"


def test_audit_urls_checks_every_distinct_url_once_and_writes_verdicts(
    runner: CliRunner, tmp_path: Path, web: HostileWeb
) -> None:
    ok, gone, forbidden = web.url("/ok"), web.url("/gone"), web.url("/forbidden")
    dump = write_dump(tmp_path / "dump.xml", [
        page_xml("One", f"One.{_cite(ok)} Two.{_cite(gone)}\n", rev=1),
        page_xml("Two", f"Three.{_cite(ok)} Four.{_cite(forbidden)}\n", rev=2),
    ])
    out = tmp_path / "scan"
    scan_dump(dump, out, workers=1, today=TODAY)
    cache = tmp_path / "links.sqlite"
    args = ["audit", "--urls", str(out), "--allow-private", "--cache", str(cache), "--format", "json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output  # a dead link is an error
    summary = json.loads(result.stdout)
    assert summary["urls"] == 3 and summary["by_status"] == {"blocked": 1, "dead": 1, "live": 1}
    assert summary["errors"] == 1 and summary["warnings"] == 1
    rows = {row["url"]: row for row in pa_dataset.dataset(out / "url_checks").to_table().to_pylist()}
    assert rows[gone]["status"] == "dead" and rows[gone]["http_status"] == 410 and rows[gone]["severity"] == "error"
    assert rows[ok]["status"] == "live" and rows[ok]["host"] == "127.0.0.1" and not rows[ok]["from_cache"]
    assert web.count("/ok") >= 1
    # Each url was requested once although /ok is cited twice; a rerun within the TTL reuses the database.
    seen = len(web.records)
    result = runner.invoke(main, [*args[:-2], "--format", "text", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert "3 url(s): 1 blocked, 1 dead, 1 live" in result.output
    assert len(web.records) == seen
    rows = {row["url"]: row for row in pa_dataset.dataset(out / "url_checks").to_table().to_pylist()}
    assert rows[ok]["from_cache"] and len(rows) == 3


def test_audit_urls_refuses_what_it_cannot_do(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["audit", "--urls", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such directory" in result.output
    result = runner.invoke(main, ["audit", "--urls", str(tmp_path)])
    assert result.exit_code == 2 and "no urls table here" in result.output
    result = runner.invoke(main, ["audit", "--urls", str(tmp_path), "some-slug"])
    assert result.exit_code == 2 and "give no TARGET" in result.output
    result = runner.invoke(main, ["audit", "--urls", str(tmp_path), "--offline"])
    assert result.exit_code == 2 and "--offline" in result.output
    result = runner.invoke(main, ["audit", "--urls", str(tmp_path), "--format", "html"])
    assert result.exit_code == 2 and "text or json" in result.output
    (tmp_path / "urls").mkdir()
    (tmp_path / "urls" / "part-000000.parquet").write_bytes(b"not parquet at all")
    result = runner.invoke(main, ["audit", "--urls", str(tmp_path), "--cache", str(tmp_path / "c.sqlite")])
    assert result.exit_code == 2 and "urls" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "url_checks").exists()
