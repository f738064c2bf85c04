"""Real Wikipedia articles for the tests, fetched from the npm registry at test time.

npm ``wtf_wikipedia@0.8.1`` ships ten real articles under
``package/tests/cache/``. Wikipedia text is CC BY-SA, so it is never committed:
``npm pack`` downloads the tarball into a cache outside the repository
(``$WIKICORE_TEST_CACHE``, else ``~/.cache/wikicore-tests``) and the articles
are extracted from it once its SHA-256 matches :data:`SHA256`. Tests that need
them skip cleanly when npm is missing, the registry is unreachable, or it served
other bytes (the skip names the file and both hashes).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from .testcache import cache_dir, verified_or_skip

PACKAGE = "wtf_wikipedia@0.8.1"
TARBALL = "wtf_wikipedia-0.8.1.tgz"
#: SHA-256 of :data:`TARBALL` as the npm registry served it.
SHA256 = "d475965736d6d3c9974c36b5f540294a384888b5365ccb3c70d8abde90d79790"
MEMBER_PREFIX = "package/tests/cache/"
#: The articles the package ships (``redirect`` is a redirect page, not an article).
ARTICLE_NAMES = ("africaans", "anarchism", "jodie_emery", "list", "raith_rovers", "redirect", "royal_cinema",
                 "statoil", "toronto", "toronto_star")
#: How long ``npm pack`` may take before we give up and skip (seconds).
NPM_TIMEOUT = 120


def _fetch(cache: Path) -> Path | str:
    """The tarball's path, or the reason it could not be had."""
    tarball = cache / TARBALL
    if tarball.is_file():
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    cache.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run([npm, "pack", PACKAGE, "--pack-destination", str(cache)], capture_output=True,
                                text=True, timeout=NPM_TIMEOUT, cwd=cache, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"npm pack failed: {error}"
    if result.returncode != 0 or not tarball.is_file():
        return f"npm pack {PACKAGE} failed (registry unreachable?): {result.stderr.strip()[-300:]}"
    return tarball


def wtf_articles() -> dict[str, Path]:
    """Name → path of each real article; calls ``pytest.skip`` when they cannot be fetched."""
    cache = cache_dir()
    # The pin in the folder's name: only a verified tarball is ever extracted there.
    target = cache / f"wtf_wikipedia-0.8.1-{SHA256[:12]}"
    if not target.is_dir() or not any(target.glob("*.txt")):
        found = _fetch(cache)
        if isinstance(found, str):
            pytest.skip(found)
        verified_or_skip(found, SHA256)
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(found, "r:gz") as archive:
            for member in archive.getmembers():
                name = member.name
                # Only plain files straight under tests/cache/: no links, no paths out of the cache.
                if not (member.isfile() and name.startswith(MEMBER_PREFIX) and name.endswith(".txt")):
                    continue
                base = name[len(MEMBER_PREFIX):]
                if "/" in base or base.startswith("."):
                    continue
                source = archive.extractfile(member)
                if source is not None:
                    (target / base).write_bytes(source.read())
    articles = {path.stem: path for path in sorted(target.glob("*.txt"))}
    if not articles:
        pytest.skip(f"no articles found in {target}")
    return articles


@pytest.fixture(scope="session")
def real_articles() -> dict[str, Path]:
    """The ten real articles of ``wtf_wikipedia@0.8.1`` (skips when unavailable)."""
    return wtf_articles()
