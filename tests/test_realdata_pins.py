"""Downloaded test data is used only when its bytes are the pinned ones.

Each helper is handed a cache (``$WIKICORE_TEST_CACHE``) holding a file of the
right name and the wrong bytes, as a damaged cache or a registry serving other
bytes would leave it: the test that wanted the data is skipped, the skip naming
the file and the hash, and nothing is extracted from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import npmdata, realdata, scandata
from tests.support.testcache import CACHE_ENV, cache_dir, sha256_of

OTHER_BYTES = b"not the pinned artifact\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    return tmp_path


def _refused(use: Callable[[], object], planted: Path, pinned: str) -> str:
    with pytest.raises(pytest.skip.Exception) as skipped:
        use()
    message = str(skipped.value)
    assert str(planted) in message and sha256_of(planted) in message and pinned in message, message
    return message


def test_one_cache_for_every_helper(cache: Path) -> None:
    assert cache_dir() == cache


def test_recorded_wayback_answers_from_other_bytes_are_refused(cache: Path) -> None:
    planted = cache / f"{realdata.PACKAGE}-{realdata.VERSION}.tar.gz"
    planted.write_bytes(OTHER_BYTES)
    _refused(realdata.cassettes_dir, planted, realdata.SHA256)
    assert sorted(p.name for p in cache.iterdir()) == [planted.name]  # nothing extracted


def test_wikipedia_articles_from_other_bytes_are_refused(cache: Path) -> None:
    planted = cache / npmdata.TARBALL
    planted.write_bytes(OTHER_BYTES)
    _refused(npmdata.wtf_articles, planted, npmdata.SHA256)
    assert sorted(p.name for p in cache.iterdir()) == [planted.name]


def test_a_wikipedia_dump_of_other_bytes_is_refused(cache: Path) -> None:
    planted = cache / f"{scandata.PACKAGE}-{scandata.VERSION}-{Path(scandata.MEMBER).name}"
    planted.write_bytes(OTHER_BYTES)
    _refused(scandata.enwiki_sample, planted, scandata.SHA256)


def test_the_pins_hold_for_the_cached_data() -> None:
    """Where this machine's cache holds the data, its bytes are the pinned ones (else nothing to check)."""
    root = cache_dir()
    artifacts = {
        root / f"{realdata.PACKAGE}-{realdata.VERSION}.tar.gz": realdata.SHA256,
        root / npmdata.TARBALL: npmdata.SHA256,
        root / f"{scandata.PACKAGE}-{scandata.VERSION}-{Path(scandata.MEMBER).name}": scandata.SHA256,
    }
    present = {path: pin for path, pin in artifacts.items() if path.is_file()}
    if not present:
        pytest.skip(f"no cached test data in {root}")
    assert {path: sha256_of(path) for path in present} == present
