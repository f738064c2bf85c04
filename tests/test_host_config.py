"""`--host-config FILE`: foreign TOML read in bounded time; every failure one line and exit 2.

Real files and a real FIFO in ``tmp_path``; the CLI through click's runner.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidInput
from wikicore.net import Limit, load_host_limits

ARTICLE = Path(__file__).parent.parent / "articles" / "azerbaijan-russia-relations.yaml"


def _bounded(work: object, seconds: float = 20.0) -> list[BaseException | None]:
    """Run ``work`` in a daemon thread; what it raised (None: nothing), or [] if it did not finish in time."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_host_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "hosts.toml"
    os.mkfifo(fifo)
    outcome = _bounded(lambda: load_host_limits(fifo, Limit(8, 0.0)))
    assert outcome, "reading a FIFO nobody writes to hung"
    assert isinstance(outcome[0], InvalidInput) and "regular file" in str(outcome[0])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_host_file_is_exit_2_even_offline(tmp_path: Path) -> None:
    fifo = tmp_path / "hosts.toml"
    os.mkfifo(fifo)
    results: list[object] = []
    outcome = _bounded(lambda: results.append(CliRunner().invoke(
        main, ["audit", str(ARTICLE), "--offline", "--host-config", str(fifo)])))
    assert outcome == [None], "audit --offline --host-config FIFO hung"
    result = results[0]
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        '[hosts."a.org"]\ninterval = 1' + "0" * 400 + "\n",  # overflows float()
        '[hosts."a.org"]\nconcurrency = ' + "9" * 5000 + "\n",  # past int()'s digit limit inside tomllib
        '[hosts."a.org"]\nconcurrency = ' + "[" * 50_000 + "\n",  # nesting past the recursion limit
        '[hosts."a.org"]\nconcurrency = 1' + "0" * 30 + "\n",  # a semaphore of 10**30 slots
    ],
    ids=["400-zeros", "5000-digits", "deep-nesting", "huge-concurrency"],
)
def test_values_past_what_a_host_file_can_mean_are_one_error_line(text: str, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(ARTICLE), "--offline", "--host-config", str(hosts)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(hosts) in lines[0] and "Traceback" not in result.output
