"""The one cache of downloaded test data, and the check that what is in it is what was pinned.

Real data sets (recorded archive answers, real pages, a Wikipedia dump) come from
package registries at test time and are never committed; they are kept in
``$WIKICORE_TEST_CACHE`` (default ``~/.cache/wikicore-tests``), outside the
repository, so that a machine fetches each once. Every helper that fetches one
(``realdata``, ``realweb``, ``sourcedata``, ``scandata``, ``npmdata``) uses
:func:`cache_dir`, and checks the bytes against a SHA-256 pin: a version number
alone does not stop a registry, a mirror or a damaged cache from handing over
other bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

__all__ = ["CACHE_ENV", "cache_dir", "sha256_of", "verified_or_skip"]

#: The environment variable naming the cache folder.
CACHE_ENV = "WIKICORE_TEST_CACHE"


def cache_dir() -> Path:
    """Where downloaded test data lives: ``$WIKICORE_TEST_CACHE`` or ``~/.cache/wikicore-tests``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "wikicore-tests"


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB pieces (a 28 MB wheel is never held whole)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_or_skip(path: Path, pinned: str) -> Path:
    """``path`` if its bytes are the pinned ones; else skip the test, naming the file and both hashes.

    A skip, not a failure: the code under test is not at fault. Never silently
    used: the data would not be the data the test's expectations were written for.
    """
    digest = sha256_of(path)
    if digest != pinned:
        pytest.skip(f"{path}: sha256 {digest} is not the pinned {pinned}; refusing other bytes "
                    f"(delete the file to fetch it again)")
    return path
