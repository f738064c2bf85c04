"""Exit statuses are the CLI's contract: each documented code has a test that reaches it."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from wikicore.cli import EXIT_CODES, EXIT_NETWORK, main
from wikicore.errors import NetworkError

from .conftest import SEED


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_archive_is_exit_5_with_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    wiki = tmp_path / "wiki"
    assert runner.invoke(main, ["--wiki", str(wiki), "init"]).exit_code == 0
    source = tmp_path / "a.yaml"
    source.write_text(
        "slug: a\ntitle: A\nreferences:\n- id: r1\n  type: web\n  url: http://127.0.0.1:9/x\n"
        "  access_date: '2020-01-01'\n",
        encoding="utf-8",
    )
    assert runner.invoke(main, ["--wiki", str(wiki), "import", str(source)]).exit_code == 0
    result = runner.invoke(
        main, ["--wiki", str(wiki), "archive", "a", "--wayback-url", f"http://127.0.0.1:{_closed_port()}"]
    )
    assert result.exit_code == EXIT_NETWORK, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_network_errors_map_to_5() -> None:
    assert EXIT_CODES[NetworkError] == 5


def test_internal_error_is_one_line_with_a_hint(monkeypatch: object, tmp_path: Path) -> None:
    import wikicore.importers as importers

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    # The CLI imports the importer when `convert` runs (lazy imports), so patch it where it lives.
    monkeypatch.setattr(importers, "import_path", boom)  # type: ignore[attr-defined]
    result = CliRunner().invoke(main, ["convert", str(SEED)])
    assert result.exit_code == 4
    assert result.stderr.strip() == "error: internal error: RuntimeError: kaput (rerun with --debug for details)"
    debug = CliRunner().invoke(main, ["--debug", "convert", str(SEED)])
    assert debug.exit_code == 4 and "Traceback" in debug.stderr
