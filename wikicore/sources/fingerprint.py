"""A page text's fingerprint: its length, a hash of its normal form, and a 64-bit simhash.

The link history keeps one per fetched page, so a later audit can tell that a
page changed (different hash) and how much (simhash Hamming distance) without
asking an archive again. The hash is SHA-256 of the UTF-8 normal form
(:func:`~wikicore.sources.normalize.normalize`), so whitespace, case and
typography changes are not changes. The simhash (Charikar 2002, as used for web
near-duplicates by Manku, Jain and Das Sarma, WWW 2007) is taken over the set of
word shingles of :data:`SHINGLE_WORDS` words, each hashed with BLAKE2b to 64 bits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .normalize import normalize, tokens

__all__ = ["SHINGLE_WORDS", "SIMHASH_BITS", "Fingerprint", "fingerprint", "hamming", "shingles"]

#: Words per shingle: three keeps a removed or reworded sentence visible in the shingles around
#: it while a reordered paragraph changes few of them (Broder 1997 used 4-10 on whole documents;
#: our texts are one article's main text).
SHINGLE_WORDS = 3
SIMHASH_BITS = 64


@dataclass(frozen=True)
class Fingerprint:
    """``length`` in characters of the normal form, its ``sha256`` (hex), and its ``simhash``."""

    length: int
    sha256: str
    simhash: int

    @property
    def simhash_hex(self) -> str:
        """The simhash as 16 hex digits (JSON has no 64-bit integers that every reader keeps exact)."""
        return f"{self.simhash:016x}"


def shingles(words: list[str], size: int = SHINGLE_WORDS) -> set[str]:
    """The set of ``size``-word shingles; a text shorter than ``size`` words is one shingle."""
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def _simhash(features: set[str]) -> int:
    if not features:
        return 0
    digests = [hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest() for f in features]
    # Count the one-bits of each position over all features with string slicing in C:
    # one 64-character row of bits per feature, then every 64th character is one column.
    rows = "".join(f"{int.from_bytes(d, 'big'):064b}" for d in digests)
    half = len(digests) / 2
    value = 0
    for bit in range(SIMHASH_BITS):
        if rows[bit::SIMHASH_BITS].count("1") > half:
            value |= 1 << (SIMHASH_BITS - 1 - bit)
    return value


def fingerprint(text: str, *, normal: str | None = None) -> Fingerprint:
    """The fingerprint of ``text`` (pass ``normal`` when its normal form is already at hand)."""
    normal = normalize(text) if normal is None else normal
    digest = hashlib.sha256(normal.encode("utf-8")).hexdigest()
    return Fingerprint(len(normal), digest, _simhash(shingles(tokens(normal))))


def hamming(a: int, b: int) -> int:
    """Bits that differ between two simhashes."""
    return (a ^ b).bit_count()
