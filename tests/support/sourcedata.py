"""Real pages, feeds and PDFs for the source tests, fetched from PyPI at test time.

Three sdists ship real documents as their own test data; none of it is ever committed:

* ``trafilatura`` 0.9.3: 110 real web pages (news, blogs, institutions; mostly German,
  English and French) under ``tests/cache/``;
* ``chardet`` 5.2.0: real Japanese pages and feeds in Shift_JIS and EUC-JP under
  ``tests/SHIFT_JIS/`` and ``tests/EUC-JP/``;
* ``pdfminer.six`` 20181108: real PDFs (an NAACL paper, IRS forms and instructions,
  a Japanese government gazette, slides) under ``samples/nonfree/``, each with
  pdfminer's own reference text (``.txt.ref``: page 1, pages split by form feeds).

As in ``realdata.py``, pip downloads the sdist into ``$WIKICORE_TEST_CACHE`` (default
``~/.cache/wikicore-tests``); here its SHA-256 is checked against the pin before
anything is extracted, and only the wanted members are extracted (regular files,
no links, no paths out of the folder). A test that needs the data skips cleanly
when the registry is unreachable; a hash mismatch fails.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .testcache import cache_dir

DOWNLOAD_TIMEOUT = 300


@dataclass(frozen=True)
class Pinned:
    """One sdist: name, version, SHA-256 of the ``.tar.gz``, and the member folders we take."""

    name: str
    version: str
    sha256: str
    folders: tuple[str, ...]

    @property
    def stem(self) -> str:
        """``name-version`` as the sdist's file and top folder spell it."""
        return f"{self.name}-{self.version}"


TRAFILATURA = Pinned("trafilatura", "0.9.3", "26d1164d033a171ec1eea83cfc052b9c94a7ffb15a91b94c5ac391d61e201f36",
                     ("tests/cache",))
CHARDET = Pinned("chardet", "5.2.0", "1b3b6ff479a8c414bc3fa2c0852995695c4a026dcd6d0633b2dd092ca39c1cf7",
                 ("tests/SHIFT_JIS", "tests/EUC-JP"))
PDFMINER = Pinned("pdfminer.six", "20181108", "9cc58857cf0a360213008061d903282462abee55cdcc7e0b6e08d6834e55050d",
                  ("samples/nonfree",))


class HashMismatch(Exception):
    """A downloaded sdist is not the pinned one."""


def _sdist(pin: Pinned, root: Path) -> Path | str:
    sdist = root / f"{pin.stem}.tar.gz"
    if not sdist.is_file():
        root.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", f"{pin.name}=={pin.version}", "--no-deps",
                   "--no-binary", ":all:", "--disable-pip-version-check", "-q", "-d", str(root)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"cannot fetch {pin.stem} from PyPI: {error}"
        if done.returncode != 0 or not sdist.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"cannot fetch {pin.stem} from PyPI: {last}"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != pin.sha256:
        raise HashMismatch(f"{sdist} has SHA-256 {digest}, pinned {pin.sha256}")
    return sdist


def fetch_pinned(pin: Pinned) -> Path | str:
    """The folder holding ``pin``'s wanted members (``<folder>/<file>``), or why it cannot be had."""
    root = cache_dir()
    target = root / f"sources-{pin.stem}"
    if target.is_dir():
        return target
    sdist = _sdist(pin, root)
    if isinstance(sdist, str):
        return sdist
    prefixes = tuple(f"{pin.stem}/{folder}/" for folder in pin.folders)
    # Extracted next to the cache, then renamed: an interrupted run never leaves half a tree.
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        partial = Path(scratch) / "out"
        with tarfile.open(sdist, "r:gz") as archive:
            for member in archive.getmembers():
                if not member.isfile() or not member.name.startswith(prefixes):
                    continue
                relative = member.name[len(pin.stem) + 1 :]
                if ".." in Path(relative).parts:
                    continue
                source = archive.extractfile(member)
                if source is None:
                    continue
                path = partial / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(source.read())
        try:
            partial.rename(target)
        except OSError:
            if not target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                raise
    return target


def pinned_or_skip(pin: Pinned) -> Path:
    """:func:`fetch_pinned`, skipping the calling test when the data cannot be had."""
    found = fetch_pinned(pin)
    if isinstance(found, str):
        pytest.skip(found)
    return found


def web_pages() -> dict[str, bytes]:
    """Name → bytes of trafilatura 0.9.3's 110 real cached pages (skips when unavailable)."""
    folder = pinned_or_skip(TRAFILATURA) / "tests" / "cache"
    return {path.stem: path.read_bytes() for path in sorted(folder.glob("*.html"))}


def japanese(name: str) -> bytes:
    """One of chardet 5.2.0's Japanese files, ``SHIFT_JIS/...`` or ``EUC-JP/...`` (skips when unavailable)."""
    return (pinned_or_skip(CHARDET) / "tests" / name).read_bytes()


def pdf(name: str) -> bytes:
    """One of pdfminer.six 20181108's real sample PDFs or reference texts (skips when unavailable)."""
    return (pinned_or_skip(PDFMINER) / "samples" / "nonfree" / name).read_bytes()
