"""A real Wikipedia dump for the scan tests, fetched from PyPI at test time.

The gensim 4.4.0 wheel ships a shortened 2016 English Wikipedia dump (206
pages, 1.7 MB of bz2) as test data. Wikipedia text is CC BY-SA, so it is never
committed: :func:`enwiki_sample` downloads the wheel once with pip into
``$WIKICORE_TEST_CACHE`` (default ``~/.cache/wikicore-tests``; the wheel is
about 28 MB, so it is fetched once and kept), extracts just that member next
to it, and skips the calling test cleanly when the registry is unreachable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PACKAGE = "gensim"
VERSION = "4.4.0"
MEMBER = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
DOWNLOAD_TIMEOUT = 600


def cache_dir() -> Path:
    """Where downloaded test data lives: ``$WIKICORE_TEST_CACHE`` or ``~/.cache/wikicore-tests``."""
    configured = os.environ.get("WIKICORE_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "wikicore-tests"


def _wheel(root: Path) -> Path | str:
    """The cached wheel, downloading it if needed; or why it cannot be had."""
    found = sorted(root.glob(f"{PACKAGE}-{VERSION}-*.whl"))
    if found:
        return found[0]
    root.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", f"{PACKAGE}=={VERSION}", "--no-deps", "--only-binary",
               ":all:", "--disable-pip-version-check", "-q", "-d", str(root)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot fetch {PACKAGE}=={VERSION} from PyPI: {error}"
    found = sorted(root.glob(f"{PACKAGE}-{VERSION}-*.whl"))
    if done.returncode != 0 or not found:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"cannot fetch {PACKAGE}=={VERSION} from PyPI: {last}"
    return found[0]


def enwiki_sample() -> Path:
    """The shortened 2016 enwiki dump (``.xml.bz2``); skips the test if it cannot be had."""
    root = cache_dir()
    target = root / f"{PACKAGE}-{VERSION}-{Path(MEMBER).name}"
    if target.is_file():
        return target
    wheel = _wheel(root)
    if isinstance(wheel, str):
        pytest.skip(wheel)
    try:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(MEMBER)
    except (KeyError, zipfile.BadZipFile) as error:
        pytest.skip(f"{wheel.name}: no {MEMBER}: {error}")
    # Written under a temporary name and renamed: an interrupted run never leaves half a dump.
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)
    return target
