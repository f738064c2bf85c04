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
parses one article (the blamed one) instead of 1,000 (issue 12 item 5). The
cache is only ever an accelerator: unreadable, damaged or locked, it is
bypassed and blame parses as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .models import Article
from .store import Revision

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

    slug: str
    revision: Revision = Field(description="The revision blamed (the newest one considered).")
    claims: list[ClaimBlame] = Field(default_factory=list)


#: One revision's claims as blame sees them: ``(claim id, text digest, ((ref, locator), ...))``.
ClaimPrints = tuple[tuple[str, str, tuple[tuple[str, str | None], ...]], ...]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def claim_prints(article: Article) -> ClaimPrints:
    """What blame needs of one revision: each claim's id, text digest and citations, in order."""
    return tuple(
        (claim.id, _digest(claim.text), tuple((c.ref, c.locator) for c in claim.citations))
        for claim in article.claims()
    )


def compute_blame(slug: str, versions: Sequence[tuple[Revision, Article]]) -> Blame:
    """Blame the last of ``versions`` (oldest first) claim by claim."""
    if not versions:
        raise ValueError("blame needs at least one revision")
    return _blame(slug, [(revision, claim_prints(article)) for revision, article in versions], versions[-1][1])


def blame_blobs(
    slug: str,
    revisions: Sequence[tuple[Revision, str]],
    load: Callable[[str, Revision], Article],
    cache_dir: Path | None = None,
) -> Blame:
    """Blame from ``(revision, blob id)`` pairs (oldest first), parsing only what the cache lacks.

    ``load(blob, revision)`` reads and parses one stored article. The blamed
    (last) revision is always parsed: its claims' texts and sections are the
    report. Every other revision's fingerprint comes from the cache in
    ``cache_dir`` when there, else from ``load`` (and is then stored).
    """
    if not revisions:
        raise ValueError("blame needs at least one revision")
    cache = _PrintCache.open(cache_dir) if cache_dir is not None else None
    try:
        known = cache.get_many({blob for _, blob in revisions}) if cache is not None else {}
        last_revision, last_blob = revisions[-1]
        last = load(last_blob, last_revision)
        fresh: dict[str, ClaimPrints] = {last_blob: claim_prints(last)}
        versions: list[tuple[Revision, ClaimPrints]] = []
        for revision, blob in revisions:
            prints = fresh.get(blob)
            if prints is None:
                prints = known.get(blob)
            if prints is None:
                prints = fresh[blob] = claim_prints(load(blob, revision))
            versions.append((revision, prints))
        if cache is not None:
            cache.put_many({blob: prints for blob, prints in fresh.items() if blob not in known})
    finally:
        if cache is not None:
            cache.close()
    return _blame(slug, versions, last)


def _blame(slug: str, versions: Sequence[tuple[Revision, ClaimPrints]], last: Article) -> Blame:
    introduced: dict[str, Revision] = {}
    changed: dict[str, Revision] = {}
    texts: dict[str, str] = {}
    cited: dict[tuple[str, str, str | None], Revision] = {}
    for revision, prints in versions:
        present: set[str] = set()
        present_citations: set[tuple[str, str, str | None]] = set()
        for claim_id, text, citations in prints:
            present.add(claim_id)
            if claim_id not in introduced:
                introduced[claim_id] = changed[claim_id] = revision
            elif texts[claim_id] != text:
                changed[claim_id] = revision
            texts[claim_id] = text
            for ref, locator in citations:
                key = (claim_id, ref, locator)
                present_citations.add(key)
                cited.setdefault(key, revision)
        for gone in set(introduced) - present:
            del introduced[gone], changed[gone], texts[gone]
        for gone_key in set(cited) - present_citations:
            del cited[gone_key]
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
    """Claim fingerprints by blob id in SQLite. Blobs never change, so entries never go stale.

    Every failure (no permission, a full disk, a damaged or locked file, rows
    that do not have the expected shape) makes the cache miss, never fail the
    blame: it is rebuilt from the blobs, which are the truth.
    """

    VERSION = 1  # PRAGMA user_version: a file of another version is emptied, not misread

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    @classmethod
    def open(cls, cache_dir: Path) -> _PrintCache | None:
        try:
            cache_dir.mkdir(exist_ok=True)
            db = sqlite3.connect(cache_dir / "claims.sqlite", timeout=1.0)
        except (OSError, sqlite3.Error):
            return None
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] != cls.VERSION:
                with db:
                    db.execute("DROP TABLE IF EXISTS claim_prints")
                    db.execute("CREATE TABLE claim_prints (blob TEXT PRIMARY KEY, prints TEXT NOT NULL)")
                    db.execute(f"PRAGMA user_version = {cls.VERSION}")
        except sqlite3.Error:
            db.close()
            return None
        return cls(db)

    def get_many(self, blobs: Iterable[str]) -> dict[str, ClaimPrints]:
        found: dict[str, ClaimPrints] = {}
        with contextlib.suppress(sqlite3.Error):
            rows = self._db.execute(
                "SELECT blob, prints FROM claim_prints WHERE blob IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(blobs)),),
            )
            for blob, text in rows:
                prints = _decode_prints(text)
                if prints is not None:
                    found[blob] = prints
        return found

    def put_many(self, entries: Mapping[str, ClaimPrints]) -> None:
        if not entries:
            return
        rows = [(blob, json.dumps(prints, ensure_ascii=False, separators=(",", ":")))
                for blob, prints in entries.items()]
        with contextlib.suppress(sqlite3.Error):
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO claim_prints (blob, prints) VALUES (?, ?)", rows)

    def close(self) -> None:
        self._db.close()


def _decode_prints(text: object) -> ClaimPrints | None:
    """A stored fingerprint, or None if the row is not exactly what :func:`claim_prints` writes."""
    try:
        data = json.loads(text) if isinstance(text, str) else None
        if not isinstance(data, list):
            return None
        prints = tuple(
            (claim_id, digest, tuple((ref, locator) for ref, locator in citations))
            for claim_id, digest, citations in data
        )
    except (ValueError, TypeError):
        return None
    for claim_id, digest, citations in prints:
        if not (isinstance(claim_id, str) and isinstance(digest, str)):
            return None
        for ref, locator in citations:
            if not isinstance(ref, str) or not (locator is None or isinstance(locator, str)):
                return None
    return prints
