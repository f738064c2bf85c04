"""A save on a full disk fails cleanly: one clear error, the branch untouched, git fsck clean.

Uses a small tmpfs, which needs root and mount(2) (true on this project's machines and CI);
elsewhere the test skips.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from wikicore.errors import StoreError, WikicoreError
from wikicore.models import Article
from wikicore.store import Wiki


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _article(n: int, size: int) -> Article:
    claims = [{"text": f"Statement {n}.{i} " + "x" * size} for i in range(40)]
    return Article.model_validate({"slug": f"a{n}", "title": f"A {n}", "lead": [{"claims": claims}]})


def _fill(disk: Path) -> Path:
    """Leave only a few kilobytes free."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_disk_full_mid_save_loses_nothing(small_disk: Path) -> None:
    wiki = Wiki.init(small_disk / "wiki")
    first = wiki.save(_article(1, 10), "first")
    filler = _fill(small_disk)
    os.truncate(filler, filler.stat().st_size - 8 * 1024)  # room for a little, not for a big article
    with pytest.raises(WikicoreError) as failure:
        wiki.save(_article(2, 4000), "too big for the disk")
    assert isinstance(failure.value, StoreError)
    assert "\n" not in str(failure.value)
    assert wiki.tip() == first.id
    assert wiki.list() == ["a1"]
    filler.unlink()
    fsck = subprocess.run(["git", "-C", str(wiki.path), "fsck", "--no-dangling"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    second = wiki.save(_article(2, 4000), "now it fits")
    assert wiki.load("a2") == _article(2, 4000)
    assert [r.id for r in wiki.history("a2")] == [second.id]
    wiki.close()
