"""Claim blame: which revision introduced each claim, last changed its text, added each citation.

Line blame answers "who touched line 212"; a reviewer of an article asks who
wrote this claim and who added this source. Claims and citations are followed
by id across the article's history (:meth:`wikicore.store.Wiki.blame` reads
every revision once through git's persistent ``cat-file --batch`` and hands
them here oldest first). A claim or citation that disappears and comes back
counts as introduced again when it returns: that revision is the one to ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Article
from .revision import Revision

__all__ = ["Blame", "CitationBlame", "ClaimBlame", "compute_blame"]


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

    # The JSON output names its schema and version (issue 11 item 6); both are checked on reading.
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


def compute_blame(slug: str, versions: Sequence[tuple[Revision, Article]]) -> Blame:
    """Blame the last of ``versions`` (oldest first) claim by claim."""
    if not versions:
        raise ValueError("blame needs at least one revision")
    introduced: dict[str, Revision] = {}
    changed: dict[str, Revision] = {}
    texts: dict[str, str] = {}
    cited: dict[tuple[str, str, str | None], Revision] = {}
    for revision, article in versions:
        present: set[str] = set()
        present_citations: set[tuple[str, str, str | None]] = set()
        for claim in article.claims():
            present.add(claim.id)
            if claim.id not in introduced:
                introduced[claim.id] = changed[claim.id] = revision
            elif texts[claim.id] != claim.text:
                changed[claim.id] = revision
            texts[claim.id] = claim.text
            for citation in claim.citations:
                key = (claim.id, citation.ref, citation.locator)
                present_citations.add(key)
                cited.setdefault(key, revision)
        for gone in set(introduced) - present:
            del introduced[gone], changed[gone], texts[gone]
        for gone_key in set(cited) - present_citations:
            del cited[gone_key]
    last_revision, last = versions[-1]
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
