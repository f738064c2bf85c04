"""The demo's loopback web and archive start by hand as the README says: `python -m wikicore.testing.*`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


@contextmanager
def _serving(*args: str) -> Iterator[str]:
    """Start ``python -m ARGS``; yield the first line it prints (its base URL); stop it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=60)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:  # loopback only
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_the_web_starts_by_hand_and_serves_its_routes() -> None:
    with _serving("wikicore.testing.web", "--port", "0") as base:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base), base
        assert _get(f"{base}/ok")[0] == 200
        assert _get(f"{base}/gone")[0] == 410
        status, body = _get(f"{base}/soft/missing")
        assert status == 200 and "not found" in body.lower()


def test_the_archive_starts_by_hand_with_a_snapshots_file(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots.json"
    # The format the README shows.
    block = README.split("snapshots file", 1)[1]
    example = re.search(r"```json\n(.*?)```", block, flags=re.S)
    assert example is not None
    snapshots.write_text(example.group(1), encoding="utf-8")
    url = next(iter(json.loads(example.group(1))))
    with _serving("wikicore.testing.wayback", "--port", "0", "--snapshots", str(snapshots)) as base:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base), base
        status, body = _get(f"{base}/wayback/available?url={url}&timestamp=20200101")
        assert status == 200
        closest = json.loads(body)["archived_snapshots"]["closest"]
        assert closest["available"] is True and closest["url"].startswith(f"{base}/web/")


def test_the_readme_names_both_commands() -> None:
    assert "python -m wikicore.testing.web" in README and "python -m wikicore.testing.wayback" in README
