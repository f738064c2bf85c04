"""Claim blame: which revision introduced each claim, last changed its text, added each citation.

Line blame answers "who touched line 212"; a reviewer of an article asks who
wrote this claim and who added this source. Claims and citations are followed
by id across the article's history (:meth:`wikicore.store.Wiki.blame` lists
every revision with its blob id and hands them here oldest first). A claim or
citation that disappears and comes back counts as introduced again when it
returns: that revision is the one to ask.

Blame needs little of each revision: per claim its id, whether its text
changed, and its citations. That *fingerprint* of a stored article depends
only on its blob, so it is cached by blob id in SQLite
(``.wikicore/cache/claims.sqlite``): a repeated blame of 1,000 revisions
parses one article (the blamed one) instead of 1,000. The
cache is only ever an accelerator: unreadable, damaged or locked, it is
bypassed and blame parses as before.

Nothing read back from it is believed on its shape alone: a well-formed row
with a forged fingerprint would move a claim from one author to another. Every
row is sealed with a keyed BLAKE2b over what it answers for (its blob id or
history, and its value) under a per-user key kept outside the wiki
(``$XDG_STATE_HOME/wikicore/cache.key``, mode 0600, see :mod:`wikicore.seal`), so a row written by anyone
else - another account sharing the folder, a wiki copied with its cache - or
moved to another blob fails its seal; stored positions are range-checked
besides. A row that fails empties the cache, which is rebuilt from the blobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Article
from .revision import Revision
from .seal import load_key
from .seal import seal as _seal

__all__ = ["Blame", "CitationBlame", "ClaimBlame", "ClaimPrints", "blame_blobs", "claim_prints", "compute_blame"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CitationBlame(_Frozen):
    """One citation of a claim and the revision that added it."""

    ref: str
    locator: str | None = None
    added: Revision


class ClaimBlame(_Frozen):
    """One claim of the blamed revision and where it came from."""

    id: str
    text: str
    section: str | None = Field(default=None, description="Section id; none for the lead.")
    introduced: Revision = Field(description="The revision where this claim id (last) appeared.")
    text_changed: Revision = Field(description="The last revision that changed the claim's text.")
    citations: list[CitationBlame] = Field(default_factory=list)


class Blame(_Frozen):
    """Claim blame of one article at one revision."""

    # The JSON output names its schema and version, so a consumer can tell what it reads; both are checked on reading.
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)
    schema_ref: Literal["https://wikicore.invalid/schemas/blame.schema.json"] = Field(
        default="https://wikicore.invalid/schemas/blame.schema.json",
        alias="$schema",
        description="The schema this document follows.",
    )
    schema_version: Literal[1] = 1

    slug: str
    revision: Revision = Field(description="The revision blamed (the newest one considered).")
    claims: list[ClaimBlame] = Field(default_factory=list)
    # A cache emptied because a row failed its seal is worth saying: someone wrote into the user's cache.
    notes: list[str] = Field(default_factory=list, description="What happened besides the answer, said plainly "
                             "(a claims cache with rows that failed their seal, emptied and rebuilt).")


#: One revision's claims as blame sees them, in the JSON form the cache stores:
#: ``[[claim id, text digest, [[ref, locator], ...]], ...]``.
ClaimPrints = list[Any]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()  # 64 bits: change detection


def _encode(article: Article) -> str:
    return json.dumps(
        [[c.id, _digest(c.text), [[x.ref, x.locator] for x in c.citations]] for c in article.claims()],
        ensure_ascii=False, separators=(",", ":"),
    )


def claim_prints(article: Article) -> ClaimPrints:
    """What blame needs of one revision: each claim's id, text digest and citations, in order."""
    prints: ClaimPrints = json.loads(_encode(article))
    return prints


def compute_blame(slug: str, versions: Sequence[tuple[Revision, Article]]) -> Blame:
    """Blame the last of ``versions`` (oldest first) claim by claim."""
    if not versions:
        raise ValueError("blame needs at least one revision")
    return _blame(slug, [(revision, claim_prints(article)) for revision, article in versions], versions[-1][1])


Loader = Callable[[Sequence[tuple[str, Revision]]], Iterable[Article]]


def blame_blobs(
    slug: str, revisions: Sequence[tuple[Revision, str]], load: Loader, cache_dir: Path | None = None
) -> Blame:
    """Blame from ``(revision, blob id)`` pairs (oldest first), parsing only what the cache lacks.

    ``load`` reads and parses stored articles, given ``(blob, revision)``
    pairs, in order. The blamed (last) revision is always parsed: its claims'
    texts and sections are the report. With a cache in ``cache_dir``, a blame
    of exactly this history again is one row (which revision each claim and
    citation points at); otherwise every other revision's fingerprint comes
    from the cache when there, else from ``load`` (and is then stored). Cached
    rows that turn out not to have the shape this module writes make it start
    again without the cache; a cache emptied for rows that failed their seal
    or shape is said in :attr:`Blame.notes`.
    """
    if not revisions:
        raise ValueError("blame needs at least one revision")
    cache = _PrintCache.open(cache_dir) if cache_dir is not None else None
    notes: list[str] = []
    try:
        last_revision, last_blob = revisions[-1]
        (last,) = load([(last_blob, last_revision)])
        key = _history_key(revisions)
        if cache is not None:
            with contextlib.suppress(TypeError, ValueError, KeyError, IndexError):
                return _from_positions(slug, revisions, last, cache.get_result(key))
        known = cache.get_many({blob for _, blob in revisions}) if cache is not None else {}
        if cache is not None and cache.damaged:
            # A row that failed its seal or shape: nothing else in the file is believed either.
            cache.clear()
            known = {}
            notes.append(_tampered(cache_dir))
        missing = {blob: r for r, blob in revisions if blob not in known and blob != last_blob}
        fresh = {last_blob: _encode(last)}
        for (blob, _), article in zip(missing.items(), load(list(missing.items())), strict=True):
            fresh[blob] = _encode(article)
        prints = {**known, **{blob: json.loads(text) for blob, text in fresh.items()}}
        try:
            result = _blame(slug, [(r, prints[blob]) for r, blob in revisions], last)
        except (TypeError, ValueError, KeyError, IndexError):
            if not known:
                raise
            # A cached row of the wrong shape (damaged, or written by something else): do without.
            if cache is not None:
                cache.clear()
            bare = blame_blobs(slug, revisions, load, cache_dir=None)
            return bare.model_copy(update={"notes": [_tampered(cache_dir)]})
        if cache is not None:
            cache.put_many({blob: text for blob, text in fresh.items() if blob not in known})
            cache.put_result(key, _positions(result, revisions))
    finally:
        if cache is not None:
            cache.close()
    return result.model_copy(update={"notes": notes}) if notes else result


def _tampered(cache_dir: Path | None) -> str:
    where = (cache_dir or Path(".")) / "claims.sqlite"
    return f"{where} held rows that failed their seal or shape; emptied and rebuilt"


def _history_key(revisions: Sequence[tuple[Revision, str]]) -> str:
    """Names one history exactly: commit ids fix authors, dates and messages; blob ids fix contents."""
    text = "\n".join(f"{revision.id} {revision.path} {blob}" for revision, blob in revisions)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def _positions(blame: Blame, revisions: Sequence[tuple[Revision, str]]) -> str:
    """A blame as positions in ``revisions``: ``[[claim id, introduced, changed, [cited, ...]], ...]``."""
    index = {revision.id: i for i, (revision, _) in enumerate(revisions)}
    return json.dumps([
        [c.id, index[c.introduced.id], index[c.text_changed.id], [index[x.added.id] for x in c.citations]]
        for c in blame.claims
    ], separators=(",", ":"))


def _from_positions(slug: str, revisions: Sequence[tuple[Revision, str]], last: Article, stored: str | None) -> Blame:
    """The blame :func:`_positions` wrote, rebuilt on the parsed last revision; raises if it does not fit."""
    if stored is None:
        raise KeyError("no stored blame")
    rows = json.loads(stored)
    pairs = list(last.claim_sections())
    if not isinstance(rows, list) or len(rows) != len(pairs):
        raise ValueError("stored blame does not fit")
    claims = []
    count = len(revisions)
    for (section, claim), (claim_id, introduced, changed, cited) in zip(pairs, rows, strict=True):
        if claim_id != claim.id or not isinstance(cited, list) or len(cited) != len(claim.citations):
            raise ValueError("stored blame does not fit")
        # Positions index the history: integers (not booleans) in range, a text change
        # no earlier than the claim's introduction, a citation no earlier either.
        _position(introduced, 0, count)
        _position(changed, introduced, count)
        for i in cited:
            _position(i, introduced, count)
        claims.append(ClaimBlame(
            id=claim.id, text=claim.text, section=section.id if section else None,
            introduced=revisions[introduced][0], text_changed=revisions[changed][0],
            citations=[CitationBlame(ref=c.ref, locator=c.locator, added=revisions[i][0])
                       for c, i in zip(claim.citations, cited, strict=True)],
        ))
    return Blame(slug=slug, revision=revisions[-1][0], claims=claims)


def _position(value: Any, low: int, count: int) -> None:
    if type(value) is not int or not low <= value < count:
        raise ValueError(f"stored position {value!r} is outside {low}..{count - 1}")


def _valid_prints(prints: Any) -> bool:
    """Whether ``prints`` has exactly the shape :func:`_encode` writes."""
    return isinstance(prints, list) and all(
        isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str) and isinstance(entry[1], str)
        and isinstance(entry[2], list)
        and all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], str)
                and (c[1] is None or isinstance(c[1], str)) for c in entry[2])
        for entry in prints
    )


def _blame(slug: str, versions: Sequence[tuple[Revision, ClaimPrints]], last: Article) -> Blame:
    """The fold over revisions; work per revision is proportional to the claims that changed.

    A claim whose fingerprint equals the one before costs one comparison: no
    revision is recorded for it. A new claim (or one back after a gap) is
    introduced here; a changed digest is a text change; citations are compared
    per claim, and a citation keeps the revision that first added it.
    """
    introduced: dict[str, Revision] = {}
    changed: dict[str, Revision] = {}
    cited: dict[tuple[str, str, str | None], Revision] = {}
    previous: dict[str, list[Any]] = {}
    for revision, prints in versions:
        current = {entry[0]: entry for entry in prints}
        for claim_id, entry in current.items():
            old = previous.get(claim_id)
            if old == entry:
                continue
            if old is None:
                introduced[claim_id] = changed[claim_id] = revision
                for ref, locator in entry[2]:
                    cited.setdefault((claim_id, ref, locator), revision)
                continue
            if old[1] != entry[1]:
                changed[claim_id] = revision
            if old[2] != entry[2]:
                before = {(claim_id, ref, locator) for ref, locator in old[2]}
                after = {(claim_id, ref, locator) for ref, locator in entry[2]}
                for key in before - after:
                    del cited[key]
                for key in after - before:
                    cited[key] = revision
        for gone in previous.keys() - current.keys():
            del introduced[gone], changed[gone]
            for ref, locator in previous[gone][2]:
                cited.pop((gone, ref, locator), None)
        previous = current
    last_revision = versions[-1][0]
    claims = [
        ClaimBlame(
            id=claim.id, text=claim.text, section=section.id if section else None,
            introduced=introduced[claim.id], text_changed=changed[claim.id],
            citations=[
                CitationBlame(ref=c.ref, locator=c.locator, added=cited[(claim.id, c.ref, c.locator)])
                for c in claim.citations
            ],
        )
        for section, claim in last.claim_sections()
    ]
    return Blame(slug=slug, revision=last_revision, claims=claims)


class _PrintCache:
    """Claim fingerprints by blob id, and finished blames by exact history, in SQLite.

    Blobs and commits never change, so entries never go stale. Every row is
    sealed (see the module doc); a row whose seal or shape is wrong sets
    :attr:`damaged` and is not returned.

    Every failure (no permission, a full disk, a damaged or locked file, rows
    that do not have the expected shape) makes the cache miss, never fail the
    blame: it is rebuilt from the blobs, which are the truth.
    """

    VERSION = 3  # PRAGMA user_version: a file of another version is emptied, not misread

    def __init__(self, db: sqlite3.Connection, key: bytes) -> None:
        self._db = db
        self._key = key
        #: Rows read back that failed their seal or shape.
        self.damaged = 0

    @classmethod
    def open(cls, cache_dir: Path) -> _PrintCache | None:
        key = load_key()
        if key is None:
            return None
        try:
            cache_dir.mkdir(exist_ok=True)
            db = sqlite3.connect(cache_dir / "claims.sqlite", timeout=1.0)
        except (OSError, sqlite3.Error):
            return None
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] != cls.VERSION:
                with db:
                    db.execute("DROP TABLE IF EXISTS claim_prints")
                    db.execute("DROP TABLE IF EXISTS blame_results")
                    db.execute("CREATE TABLE claim_prints (blob TEXT PRIMARY KEY, prints TEXT NOT NULL, "
                               "seal TEXT NOT NULL)")
                    db.execute("CREATE TABLE blame_results (history TEXT PRIMARY KEY, positions TEXT NOT NULL, "
                               "seal TEXT NOT NULL)")
                    db.execute(f"PRAGMA user_version = {cls.VERSION}")
        except sqlite3.Error:
            db.close()
            return None
        return cls(db, key)

    def _sealed(self, kind: str, name: Any, value: Any, seal: Any) -> bool:
        ok = (isinstance(name, str) and isinstance(value, str) and isinstance(seal, str)
              and hmac.compare_digest(seal, _seal(self._key, kind, name, value)))
        if not ok:
            self.damaged += 1
        return ok

    def get_many(self, blobs: Iterable[str]) -> dict[str, ClaimPrints]:
        found: dict[str, ClaimPrints] = {}
        with contextlib.suppress(sqlite3.Error):
            rows = self._db.execute(
                "SELECT blob, prints, seal FROM claim_prints WHERE blob IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(blobs)),),
            )
            for blob, text, seal in rows:
                if not self._sealed("prints", blob, text, seal):
                    continue
                try:
                    prints = json.loads(text)
                except (ValueError, RecursionError):
                    prints = None
                if _valid_prints(prints):
                    found[blob] = prints
                else:
                    self.damaged += 1
        return found

    def put_many(self, entries: Mapping[str, str]) -> None:
        """Store encoded fingerprints (:func:`_encode`) by blob id, sealed."""
        if not entries:
            return
        with contextlib.suppress(sqlite3.Error):
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO claim_prints (blob, prints, seal) VALUES (?, ?, ?)",
                    [(blob, text, _seal(self._key, "prints", blob, text)) for blob, text in entries.items()],
                )

    def get_result(self, history: str) -> str | None:
        with contextlib.suppress(sqlite3.Error):
            row = self._db.execute("SELECT positions, seal FROM blame_results WHERE history = ?",
                                   (history,)).fetchone()
            if row and self._sealed("positions", history, row[0], row[1]):
                return str(row[0])
        return None

    def put_result(self, history: str, positions: str) -> None:
        with contextlib.suppress(sqlite3.Error):
            with self._db:
                self._db.execute("INSERT OR REPLACE INTO blame_results (history, positions, seal) VALUES (?, ?, ?)",
                                 (history, positions, _seal(self._key, "positions", history, positions)))

    def clear(self) -> None:
        """Forget every entry: one of them was not what this module writes."""
        with contextlib.suppress(sqlite3.Error):
            with self._db:
                self._db.execute("DELETE FROM claim_prints")
                self._db.execute("DELETE FROM blame_results")

    def close(self) -> None:
        self._db.close()
