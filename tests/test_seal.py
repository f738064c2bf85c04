"""The per-user sealing key and seal that blame's cache and the collision index share (wikicore.seal)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from wikicore.seal import KEY_BYTES, keyed_digest, keyed_hasher, load_key, seal
from wikicore.store.indexseal import row_digest, row_hasher


def test_the_key_is_made_once_private_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    first = load_key()
    assert first is not None and len(first) == KEY_BYTES
    path = tmp_path / "state" / "wikicore" / "cache.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key() == first


@pytest.mark.parametrize("spoil", ["readable", "symlink", "short"])
def test_a_key_others_could_read_or_replace_is_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      spoil: str) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert load_key() is not None
    path = tmp_path / "state" / "wikicore" / "cache.key"
    if spoil == "readable":
        path.chmod(0o644)
    elif spoil == "symlink":
        (tmp_path / "elsewhere").write_bytes(path.read_bytes())
        os.chmod(tmp_path / "elsewhere", 0o600)
        path.unlink()
        path.symlink_to(tmp_path / "elsewhere")
    else:
        path.write_bytes(b"short")
    assert load_key() is None


def test_blames_seals_are_the_ones_it_wrote_before_the_move() -> None:
    # Sealed rows already in users' claims caches stay valid: the same keyed BLAKE2b of kind, name and value.
    key = bytes(range(KEY_BYTES))
    old = hashlib.blake2b("\0".join(("prints", "abc", "[]")).encode(), key=key, digest_size=16).hexdigest()
    assert seal(key, "prints", "abc", "[]") == old


def test_a_rows_digest_through_the_copied_hasher_is_the_keyed_digest() -> None:
    key = bytes(range(KEY_BYTES))
    fields = ("paris", "0" * 40, "paris", "paris")
    assert row_digest(row_hasher(key), *fields) == keyed_digest(key, "collision-row", *fields, size=32)
    assert row_digest(keyed_hasher(key, 32), *fields) != row_digest(row_hasher(bytes(KEY_BYTES)), *fields)
