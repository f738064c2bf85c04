"""The seals of the collision index: what lets a check believe the rows it reads.

Anyone who can write the wiki's folder can edit ``index.sqlite``: a title key
changed by hand would let a second article take a title already used, a
deleted row would hide an article from the check, a row kept from before a
rename would refuse a legal title. So the index is sealed with the per-user
key of :mod:`wikicore.seal`:

* every row carries a MAC over its slug, blob, slug key and title key (the
  first half of a 32-byte keyed BLAKE2b; the second half is never stored);
* the rows are split into :data:`BUCKETS` buckets by their slug key and again
  by their title key (CRC-32 of the key), and a header binds the tree the
  index describes to, per bucket, the number of rows and the sum of their
  secret halves. The sum is what catches a row deleted, added, or replayed
  from another time (each still carries a valid MAC of its own). It is kept
  encrypted under a fresh nonce at each write, so no copy of the file shows
  the differences a forger would need to make replayed rows add up.

A check of a slug key and a title key then verifies only the two buckets
that can hold its answer (about n/256 rows each: a millisecond at 100,000
articles, where verifying the whole table took 0.17 s of CPU); a row forged
into or out of a bucket breaks that bucket's sum. Being sums, the header moves
with each save by the rows it changes alone. Any mismatch is
:class:`Unsealed`, a :class:`sqlite3.DatabaseError`, so it takes the path of
any other damage: the index is rebuilt from the tree, with a note.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import zlib
from collections.abc import Sequence

from ..seal import keyed_hasher, seal

__all__ = ["BUCKETS", "Tally", "Unsealed", "bucket", "read_header", "row_digest", "write_header"]

#: Buckets per key kind. 256 keeps a bucket near 400 rows at 100,000 articles and the header at 10 KiB.
BUCKETS = 256

# Kinds of keyed digests, so a row's MAC can never pass for a header's or a pad.
_ROW, _HEADER, _PAD = "collision-row", "collision-header", "collision-pad"
# Each row's secret half is 128 bits; a bucket holds their sum modulo 2**128.
_SUM_MOD = 1 << 128
_SLOT = 4 + 16  # a bucket in the header: its row count (4 bytes), its sum (16 bytes)


class Unsealed(sqlite3.DatabaseError):
    """The index's seals do not hold (a row, a count, a sum or the header): damage, rebuilt from the tree."""


def bucket(key: str) -> int:
    """The bucket of a slug key or title key (public: which bucket a row is in is no secret, its sum is)."""
    return zlib.crc32(key.encode("utf-8")) & (BUCKETS - 1)


def row_hasher(key: bytes) -> hashlib.blake2b:
    """The keyed hasher :func:`row_digest` copies (made once per pass, not per row)."""
    return keyed_hasher(key, 32)


def row_digest(hasher: hashlib.blake2b, slug: str, blob: str, skey: str, tkey: str) -> bytes:
    """32 keyed bytes of a row: the first 16 are its stored MAC, the other 16 go into its buckets' sums.

    The same bytes as ``keyed_digest(key, "collision-row", slug, blob, skey, tkey, size=32)``.
    """
    digest = hasher.copy()
    digest.update(f"{_ROW}\0{slug}\0{blob}\0{skey}\0{tkey}".encode())
    return digest.digest()


def check_row(hasher: hashlib.blake2b, row: Sequence[object]) -> int:
    """The secret half of a stored ``(slug, blob, skey, tkey, sb, tb, mac)`` row; :class:`Unsealed` if it is not
    one this user sealed (its MAC, its field types, or buckets that are not its keys')."""
    slug, blob, skey, tkey, sb, tb, mark = row
    if not (isinstance(slug, str) and isinstance(blob, str) and isinstance(skey, str) and isinstance(tkey, str)
            and isinstance(mark, str)):
        raise Unsealed("a row holds a value of the wrong type")
    digest = row_digest(hasher, slug, blob, skey, tkey)
    if not hmac.compare_digest(mark, digest[:16].hex()):
        raise Unsealed("a row fails its seal")
    if sb != bucket(skey) or tb != bucket(tkey):
        raise Unsealed("a row is filed in another bucket")
    return int.from_bytes(digest[16:], "big")


class Tally:
    """Per bucket of slug keys, then of title keys: how many rows, and the sum of their secret halves."""

    def __init__(self, counts: list[int] | None = None, sums: list[int] | None = None) -> None:
        self.counts = counts if counts is not None else [0] * (2 * BUCKETS)
        self.sums = sums if sums is not None else [0] * (2 * BUCKETS)

    def add(self, sb: int, tb: int, hidden: int, sign: int = 1) -> None:
        """Count a row in (``sign=-1``: out of) its slug-key bucket ``sb`` and title-key bucket ``tb``."""
        for slot in (sb, BUCKETS + tb):
            self.counts[slot] += sign
            self.sums[slot] = (self.sums[slot] + sign * hidden) % _SUM_MOD

    def check(self, slot: int, count: int, total: int) -> None:
        """:class:`Unsealed` unless ``slot`` (``sb``, or ``BUCKETS + tb``) holds ``count`` rows summing to ``total``."""
        if self.counts[slot] != count:
            raise Unsealed(f"a bucket holds {count} rows where its seal says {self.counts[slot]}")
        if self.sums[slot] != total % _SUM_MOD:
            raise Unsealed("a bucket's rows are not the ones sealed")

    def pack(self) -> bytes:
        return b"".join(c.to_bytes(4, "big") + s.to_bytes(16, "big") for c, s in zip(self.counts, self.sums,
                                                                                     strict=True))

    @classmethod
    def unpack(cls, data: bytes) -> Tally:
        slots = [data[i:i + _SLOT] for i in range(0, len(data), _SLOT)]
        return cls([int.from_bytes(s[:4], "big") for s in slots], [int.from_bytes(s[4:], "big") for s in slots])


def _pad(key: bytes, nonce: str, size: int) -> bytes:
    """``size`` keyed bytes that hide the tally in the header; a fresh nonce per write makes each pad new."""
    hasher = keyed_hasher(key, 64)
    blocks = []
    for i in range((size + 63) // 64):
        block = hasher.copy()
        block.update(f"{_PAD}\0{nonce}\0{i}".encode())
        blocks.append(block.digest())
    return b"".join(blocks)[:size]


def _xor(data: bytes, pad: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(len(data), "big")


def read_header(db: sqlite3.Connection, key: bytes) -> Tally:
    """The tally the header vouches for, for the tree the index names; :class:`Unsealed` if it does not verify."""
    found = dict(db.execute("SELECT k, v FROM meta WHERE k IN ('tree', 'seal')").fetchall())
    tree, header = found.get("tree"), found.get("seal")
    if not isinstance(tree, str) or not isinstance(header, str):
        raise Unsealed("its seal is missing")
    try:
        nonce, hidden, mark = header.split(" ")
        cipher = bytes.fromhex(hidden)
    except ValueError:
        raise Unsealed("its seal is malformed") from None
    if len(cipher) != 2 * BUCKETS * _SLOT:
        raise Unsealed("its seal is malformed")
    plain = _xor(cipher, _pad(key, nonce, len(cipher)))
    if not hmac.compare_digest(mark, seal(key, _HEADER, tree, plain.hex())):
        raise Unsealed("its seal does not match")
    return Tally.unpack(plain)


def write_header(db: sqlite3.Connection, key: bytes | None, tree: str, tally: Tally | None) -> None:
    """Seal ``tree`` and ``tally`` into the header (no key or no tally: remove it, nothing is vouched for)."""
    if key is None or tally is None:
        db.execute("DELETE FROM meta WHERE k = 'seal'")
        return
    plain = tally.pack()
    nonce = secrets.token_hex(16)
    mark = seal(key, _HEADER, tree, plain.hex())
    db.execute("INSERT OR REPLACE INTO meta VALUES ('seal', ?)",
               (f"{nonce} {_xor(plain, _pad(key, nonce, len(plain))).hex()} {mark}",))
