"""A real Wikipedia dump for the scan tests, fetched from PyPI at test time.

The gensim 4.4.0 wheel ships a shortened 2016 English Wikipedia dump (206
pages, 1.7 MB of bz2) as test data. Wikipedia text is CC BY-SA, so it is never
committed: :func:`enwiki_sample` downloads the wheel once with pip into
``$WIKICORE_TEST_CACHE`` (default ``~/.cache/wikicore-tests``; the wheel is
about 28 MB, so it is fetched once and kept), extracts just that member next
to it, and skips the calling test cleanly when the registry is unreachable. The
member's SHA-256 is pinned (:data:`SHA256`; the wheel's own hash differs per
platform, the dump inside it does not) and checked on every use: other bytes skip
the test with the file and both hashes named.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .testcache import cache_dir, verified_or_skip

PACKAGE = "gensim"
VERSION = "4.4.0"
MEMBER = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
#: SHA-256 of :data:`MEMBER` (computed from the cp311 manylinux wheel's copy).
SHA256 = "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d"
DOWNLOAD_TIMEOUT = 600


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
        return verified_or_skip(target, SHA256)
    wheel = _wheel(root)
    if isinstance(wheel, str):
        pytest.skip(wheel)
    try:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(MEMBER)
    except (KeyError, zipfile.BadZipFile) as error:
        pytest.skip(f"{wheel.name}: no {MEMBER}: {error}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        pytest.skip(f"{wheel}: {MEMBER} has sha256 {digest}, not the pinned {SHA256}; refusing other bytes")
    # Written under a temporary name and renamed: an interrupted run never leaves half a dump.
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)
    return target
