"""Semantic diffs: what changed between two revisions of an article, claim by claim.

A line diff of the YAML says that line 212 changed; a reviewer needs to know
that a claim lost its only source. :func:`diff_articles` pairs the two
revisions' sections, claims and references by id (ids survive edits of the
text), then pairs the claims left over by text similarity, so a re-import that
minted new ids still lines up. Everything it returns is a frozen pydantic
record with string-valued enums, so the JSON is stable and has a schema.

Alerts name what a reviewer must not miss (:class:`AlertKind`): a claim that
lost its only source, a claim added without one, a reference whose url moved
while its archive link still points at the old url, an archive link removed,
and an edited quote.

This module reads only models: the store hands it two articles.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Article, Citation, Claim, Reference, Section
from .urls import archives

__all__ = [
    "DIFF_MAX_CELLS",
    "SIMILARITY_THRESHOLD",
    "Alert",
    "AlertKind",
    "ArticleDiff",
    "Change",
    "ClaimChange",
    "DiffSummary",
    "FieldChange",
    "MatchKind",
    "QuoteChange",
    "ReferenceChange",
    "SectionChange",
    "Segment",
    "SegmentOp",
    "diff_articles",
    "inline_diff",
]

#: Claims without a shared id pair up when difflib's ratio of their texts reaches this.
SIMILARITY_THRESHOLD = 0.6
# Above this many unmatched pairs, each new claim is compared only with the old
# claims that share its rarer words: every pair of a 500-claim re-import would take seconds.
_FULL_COMPARE_PAIRS = 400
# How many prefiltered candidates each new claim is compared with.
_TOP_K = 8
#: Budget of difflib.SequenceMatcher (autojunk=False), in cells: len(a) * len(b) of the sequences compared.
#: Its worst case (repetitive text) is quadratic: here 1M token cells took 0.27 s, 4M 0.79 s, 64M 13 s,
#: and a 94 KB claim with one word changed took 107 s in all. Above the budget the inline diff
#: drops the common prefix and suffix, then compares lines, then replaces the rest as a whole; the
#: pairing ratio of two long claims is computed from that bounded diff instead of character by character.
DIFF_MAX_CELLS = 1_000_000

# Han, kana and CJK punctuation are diffed per character (no spaces between words);
# Latin and other spaced scripts per word, keeping whitespace and punctuation as tokens.
_CJK = "\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\s{_CJK}\W]+|\s+|[^\w\s]", re.UNICODE)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(StrEnum):
    """What happened to a section, claim or reference."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class MatchKind(StrEnum):
    """How an old and a new claim were paired."""

    ID = "id"
    TEXT = "text"


class SegmentOp(StrEnum):
    """One run of an inline diff."""

    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


class AlertKind(StrEnum):
    """Changes a reviewer must not miss."""

    SOURCE_LOST = "source-lost"
    UNSOURCED_CLAIM_ADDED = "unsourced-claim-added"
    ARCHIVE_POINTS_AT_OLD_URL = "archive-points-at-old-url"
    ARCHIVE_REMOVED = "archive-removed"
    QUOTE_EDITED = "quote-edited"


class Segment(_Frozen):
    """A run of text that is kept, inserted or deleted."""

    op: SegmentOp
    text: str


class FieldChange(_Frozen):
    """One field whose value differs; lists are compared whole."""

    field: str
    old: str | list[str] | None = None
    new: str | list[str] | None = None


class SectionChange(_Frozen):
    """A section added, removed, or changed (renamed and/or moved)."""

    kind: Change
    id: str
    old_heading: str | None = None
    new_heading: str | None = None
    renamed: bool = False
    moved: bool = False
    old_parent: str | None = Field(default=None, description="Parent section id; none at the top level.")
    new_parent: str | None = None


class QuoteChange(_Frozen):
    """A citation of the same reference and locator whose quote changed."""

    ref: str
    locator: str | None = None
    old_quote: str | None = None
    new_quote: str | None = None


class ClaimChange(_Frozen):
    """A claim added, removed, or changed (text, section, citations)."""

    kind: Change
    id: str = Field(description="The claim's id in the new revision (the old one if removed).")
    old_id: str | None = None
    matched_by: MatchKind | None = None
    similarity: float | None = Field(default=None, description="Text similarity, for claims paired by text.")
    old_section: str | None = Field(default=None, description="Section id; none for the lead.")
    new_section: str | None = None
    old_text: str | None = None
    new_text: str | None = None
    text_changed: bool = False
    moved: bool = False
    inline: list[Segment] = Field(default_factory=list, description="Word (or CJK character) level diff.")
    citations_added: list[Citation] = Field(default_factory=list)
    citations_removed: list[Citation] = Field(default_factory=list)
    quotes_changed: list[QuoteChange] = Field(default_factory=list)


class ReferenceChange(_Frozen):
    """A reference added, removed, or with changed fields."""

    kind: Change
    id: str
    title: str | None = None
    fields: list[FieldChange] = Field(default_factory=list)


class Alert(_Frozen):
    """A change a reviewer must look at, with the claim or reference it concerns."""

    kind: AlertKind
    message: str
    claim_id: str | None = None
    ref_id: str | None = None


class DiffSummary(_Frozen):
    """Counts for a one-line overview."""

    claims_added: int = 0
    claims_removed: int = 0
    claims_changed: int = 0
    claims_unchanged: int = 0
    sections_changed: int = 0
    references_changed: int = 0
    alerts: int = 0


class ArticleDiff(_Frozen):
    """Everything that changed between two revisions of one article."""

    # The JSON output names its schema and version, so a consumer can tell what it reads; both are checked on reading.
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)
    schema_ref: Literal["https://wikicore.invalid/schemas/diff.schema.json"] = Field(
        default="https://wikicore.invalid/schemas/diff.schema.json",
        alias="$schema",
        description="The schema this document follows.",
    )
    schema_version: Literal[1] = 1

    slug: str
    language: str | None = Field(default=None, description="The article's BCP 47 language, for rendering its text.")
    old_revision: str | None = Field(default=None, description="Commit id; none when diffing against nothing.")
    new_revision: str | None = None
    fields: list[FieldChange] = Field(default_factory=list, description="Article-level fields: title, slug...")
    sections: list[SectionChange] = Field(default_factory=list)
    claims: list[ClaimChange] = Field(default_factory=list)
    references: list[ReferenceChange] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    summary: DiffSummary = Field(default_factory=DiffSummary)

    @property
    def empty(self) -> bool:
        """True when the revisions hold the same article content."""
        return not (self.fields or self.sections or self.claims or self.references)


# --- inline diff -------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Split text for an inline diff: words and spaces for Latin, single characters for CJK."""
    found = _TOKEN_RE.findall(text)
    if "".join(found) != text:  # the pattern covers everything; keep the guarantee explicit
        return list(text)
    return found


def inline_diff(old: str, new: str) -> list[Segment]:
    """Runs of kept, deleted and inserted text that turn ``old`` into ``new``.

    Word-level (character-level for CJK) up to :data:`DIFF_MAX_CELLS`; beyond it
    the common prefix and suffix are kept as they are and the middle is diffed
    by words if small enough, else by lines, else replaced as a whole, so the
    cost stays near linear whatever the claim's size.
    """
    a, b = tokens(old), tokens(new)
    segments: list[Segment] = []

    def add(op: SegmentOp, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op=op, text=segments[-1].text + text)
        else:
            segments.append(Segment(op=op, text=text))

    def compare(x: Sequence[str], y: Sequence[str]) -> None:
        matcher = difflib.SequenceMatcher(None, x, y, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                add(SegmentOp.EQUAL, "".join(x[i1:i2]))
            else:
                add(SegmentOp.DELETE, "".join(x[i1:i2]))
                add(SegmentOp.INSERT, "".join(y[j1:j2]))

    if len(a) * len(b) <= DIFF_MAX_CELLS:
        compare(a, b)  # the common case, exactly as it always was
        return segments
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head:len(a) - tail], b[head:len(b) - tail]
    add(SegmentOp.EQUAL, "".join(a[:head]))
    if len(middle_a) * len(middle_b) <= DIFF_MAX_CELLS:
        compare(middle_a, middle_b)
    else:
        lines_a = "".join(middle_a).splitlines(keepends=True)
        lines_b = "".join(middle_b).splitlines(keepends=True)
        if len(lines_a) * len(lines_b) <= DIFF_MAX_CELLS:
            compare(lines_a, lines_b)
        else:
            add(SegmentOp.DELETE, "".join(middle_a))
            add(SegmentOp.INSERT, "".join(middle_b))
    add(SegmentOp.EQUAL, "".join(a[len(a) - tail:]))
    return segments


def _ratio(matcher: difflib.SequenceMatcher[str], old: str, new: str) -> float:
    """``matcher.ratio()`` (matcher holds ``old`` and ``new``), from the bounded inline diff when long."""
    if len(old) * len(new) <= DIFF_MAX_CELLS:
        return matcher.ratio()
    kept = sum(len(s.text) for s in inline_diff(old, new) if s.op == SegmentOp.EQUAL)
    return 2.0 * kept / (len(old) + len(new))


# --- matching ---------------------------------------------------------------------


def _similar_pairs(old: Sequence[Claim], new: Sequence[Claim]) -> list[tuple[Claim, Claim, float]]:
    """Pair claims by text: exact texts first, then best difflib ratio first (greedy)."""
    pairs: list[tuple[Claim, Claim, float]] = []
    by_text: dict[str, list[Claim]] = defaultdict(list)
    for claim in old:
        by_text[claim.text].append(claim)
    rest_new: list[Claim] = []
    for claim in new:
        same = by_text.get(claim.text)
        if same:
            pairs.append((same.pop(0), claim, 1.0))
        else:
            rest_new.append(claim)
    left = {id(c) for same in by_text.values() for c in same}
    rest_old = [c for c in old if id(c) in left]
    if not rest_old or not rest_new:
        return pairs

    candidates = _candidates(rest_old, rest_new) if len(rest_old) * len(rest_new) > _FULL_COMPARE_PAIRS else None

    scored: list[tuple[float, int, int]] = []
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for j, new_claim in enumerate(rest_new):
        matcher.set_seq2(new_claim.text)
        olds: Iterable[int] = candidates[j] if candidates is not None else range(len(rest_old))
        for i in olds:
            matcher.set_seq1(rest_old[i].text)
            if (
                matcher.real_quick_ratio() >= SIMILARITY_THRESHOLD
                and matcher.quick_ratio() >= SIMILARITY_THRESHOLD
            ):
                ratio = _ratio(matcher, rest_old[i].text, new_claim.text)
                if ratio >= SIMILARITY_THRESHOLD:
                    scored.append((-ratio, i, j))
    scored.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    for negative, i, j in scored:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((rest_old[i], rest_new[j], round(-negative, 4)))
    return pairs


def _words(text: str) -> set[str]:
    return {t.casefold() for t in tokens(text) if t[0].isalnum()}


def _candidates(old: Sequence[Claim], new: Sequence[Claim]) -> list[list[int]]:
    """For each new claim, the old claims sharing the most uncommon words with it (at most ``_TOP_K``).

    A heuristic prefilter so a re-import of hundreds of claims costs a few
    hundred ``ratio()`` calls rather than every pair: words found in more than a
    tenth of the claims say little about which claim is which and are skipped.
    """
    words_old = [_words(c.text) for c in old]
    frequency = Counter(word for words in words_old for word in words)
    limit = max(10, len(old) // 10)
    rare: dict[str, list[int]] = defaultdict(list)
    common: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(words_old):
        for word in words:
            (rare if frequency[word] <= limit else common)[word].append(i)
    result = []
    for claim in new:
        words = _words(claim.text)
        # A claim made only of common words is paired on those, rather than not at all.
        for index in (rare, common):
            shared: Counter[int] = Counter()
            for word in words:
                for i in index.get(word, ()):
                    shared[i] += 1
            if shared:
                break
        result.append([i for i, _ in shared.most_common(_TOP_K)])
    return result


# --- the diff ---------------------------------------------------------------------


def _section_parents(article: Article | None) -> dict[str, tuple[Section, str | None]]:
    result: dict[str, tuple[Section, str | None]] = {}

    def walk(sections: Iterable[Section], parent: str | None) -> None:
        for section in sections:
            result[section.id] = (section, parent)
            walk(section.sections, section.id)

    if article is not None:
        walk(article.sections, None)
    return result


def _claims_with_sections(article: Article | None) -> list[tuple[str | None, Claim]]:
    if article is None:
        return []
    return [(section.id if section else None, claim) for section, claim in article.claim_sections()]


def _citation_key(citation: Citation) -> tuple[str, str | None, str]:
    # What a citation supports is part of it: a paragraph-end citation that stops covering the
    # sentences before it (one was added after it) leaves them unsourced, and a reviewer must see that.
    return citation.ref, citation.locator, citation.covers


def _value(value: object) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        # An object of a list (a template, a media item) as one line of JSON: a Python dict repr
        # (`{'name': ...}`) is no notation a reader of the diff or its JSON consumer knows.
        return [json.dumps(v.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False)
                if isinstance(v, BaseModel) else str(v) for v in value]
    return str(value)


def _field_changes(old: BaseModel | None, new: BaseModel | None, names: Iterable[str]) -> list[FieldChange]:
    changes = []
    for name in names:
        a = _value(getattr(old, name)) if old is not None else None
        b = _value(getattr(new, name)) if new is not None else None
        if (a in ([], "") and b is None) or (b in ([], "") and a is None):
            continue
        if a != b:
            changes.append(FieldChange(field=name, old=a, new=b))
    return changes


_ARTICLE_FIELDS = ("slug", "title", "language", "aliases", "see_also", "external_links", "categories",
                   "media", "templates")
_REFERENCE_FIELDS = tuple(name for name in Reference.model_fields if name != "id")


def _section_changes(old: Article | None, new: Article | None) -> list[SectionChange]:
    before, after = _section_parents(old), _section_parents(new)
    common_old = [sid for sid in before if sid in after]
    common_new = [sid for sid in after if sid in before]
    in_order: set[str] = set()
    matcher = difflib.SequenceMatcher(None, common_old, common_new, autojunk=False)
    for block in matcher.get_matching_blocks():
        in_order.update(common_old[block.a : block.a + block.size])
    changes: list[SectionChange] = []
    for sid, (section, parent) in after.items():
        if sid not in before:
            changes.append(SectionChange(kind=Change.ADDED, id=sid, new_heading=section.heading, new_parent=parent))
            continue
        old_section, old_parent = before[sid]
        renamed = old_section.heading != section.heading
        moved = old_parent != parent or sid not in in_order
        if renamed or moved:
            changes.append(SectionChange(
                kind=Change.CHANGED, id=sid, old_heading=old_section.heading, new_heading=section.heading,
                renamed=renamed, moved=moved, old_parent=old_parent, new_parent=parent,
            ))
    for sid, (section, parent) in before.items():
        if sid not in after:
            changes.append(SectionChange(kind=Change.REMOVED, id=sid, old_heading=section.heading,
                                         old_parent=parent))
    return changes


def _claim_change(
    old: tuple[str | None, Claim], new: tuple[str | None, Claim], matched_by: MatchKind, similarity: float | None,
    alerts: list[Alert],
) -> ClaimChange | None:
    (old_section, a), (new_section, b) = old, new
    text_changed = a.text != b.text
    moved = old_section != new_section
    old_keys = {_citation_key(c): c for c in a.citations}
    new_keys = {_citation_key(c): c for c in b.citations}
    added = [c for k, c in new_keys.items() if k not in old_keys]
    removed = [c for k, c in old_keys.items() if k not in new_keys]
    quotes = [
        QuoteChange(ref=c.ref, locator=c.locator, old_quote=old_keys[k].quote, new_quote=c.quote)
        for k, c in new_keys.items()
        if k in old_keys and old_keys[k].quote != c.quote
    ]
    # A new id alone (a re-import minted it) is bookkeeping, not a change a reviewer must read.
    if not (text_changed or moved or added or removed or quotes):
        return None
    if a.citations and not b.citations:
        refs = sorted({c.ref for c in a.citations})
        what = f"its only source {refs[0]!r}" if len(refs) == 1 else f"all {len(refs)} of its sources"
        alerts.append(Alert(kind=AlertKind.SOURCE_LOST, claim_id=b.id, message=f"claim {b.id} lost {what}"))
    for quote in quotes:
        if quote.old_quote is not None:
            alerts.append(Alert(
                kind=AlertKind.QUOTE_EDITED, claim_id=b.id, ref_id=quote.ref,
                message=f"claim {b.id}: the quote from {quote.ref!r} was "
                + ("removed" if quote.new_quote is None else "edited"),
            ))
    return ClaimChange(
        kind=Change.CHANGED, id=b.id, old_id=a.id, matched_by=matched_by, similarity=similarity,
        old_section=old_section, new_section=new_section, old_text=a.text, new_text=b.text,
        text_changed=text_changed, moved=moved, inline=inline_diff(a.text, b.text) if text_changed else [],
        citations_added=added, citations_removed=removed, quotes_changed=quotes,
    )


def _reference_changes(old: Article | None, new: Article | None, alerts: list[Alert]) -> list[ReferenceChange]:
    before = {r.id: r for r in old.references} if old else {}
    after = {r.id: r for r in new.references} if new else {}
    changes: list[ReferenceChange] = []
    for rid, ref in after.items():
        if rid not in before:
            changes.append(ReferenceChange(kind=Change.ADDED, id=rid, title=ref.title,
                                           fields=_field_changes(None, ref, _REFERENCE_FIELDS)))
            continue
        prior = before[rid]
        fields = _field_changes(prior, ref, _REFERENCE_FIELDS)
        if not fields:
            continue
        changes.append(ReferenceChange(kind=Change.CHANGED, id=rid, title=ref.title, fields=fields))
        if prior.url and ref.url != prior.url and ref.archive_url and archives(ref.archive_url, prior.url) and not (
            ref.url and archives(ref.archive_url, ref.url)
        ):
            alerts.append(Alert(
                kind=AlertKind.ARCHIVE_POINTS_AT_OLD_URL, ref_id=rid,
                message=f"reference {rid}: url changed to {ref.url!r} but archive_url still archives {prior.url!r}",
            ))
        if prior.archive_url and not ref.archive_url:
            alerts.append(Alert(kind=AlertKind.ARCHIVE_REMOVED, ref_id=rid,
                                message=f"reference {rid}: archive link {prior.archive_url!r} was removed"))
        if prior.quote is not None and ref.quote != prior.quote:
            alerts.append(Alert(kind=AlertKind.QUOTE_EDITED, ref_id=rid,
                                message=f"reference {rid}: its quote was "
                                + ("removed" if ref.quote is None else "edited")))
    for rid, ref in before.items():
        if rid not in after:
            changes.append(ReferenceChange(kind=Change.REMOVED, id=rid, title=ref.title))
    return changes


def diff_articles(
    old: Article | None, new: Article | None, *, old_revision: str | None = None, new_revision: str | None = None
) -> ArticleDiff:
    """Compare two revisions of an article; either side may be None (created or deleted)."""
    if old is None and new is None:
        raise ValueError("diff_articles needs at least one article")
    alerts: list[Alert] = []
    old_claims, new_claims = _claims_with_sections(old), _claims_with_sections(new)
    old_by_id = {claim.id: (sid, claim) for sid, claim in old_claims}
    # A sentence added before the citation that ends its paragraph is covered by it (Wikipedia's convention).
    supported = {claim.id for claim, support in new.iter_support() if support} if new is not None else set()
    new_pos = {claim.id: index for index, (_, claim) in enumerate(new_claims)}

    pairs: dict[str, tuple[tuple[str | None, Claim], MatchKind, float | None]] = {}  # new id -> old
    for _, claim in new_claims:
        if claim.id in old_by_id:
            pairs[claim.id] = (old_by_id[claim.id], MatchKind.ID, None)
    matched_old = {old_entry[1].id for old_entry, _, _ in pairs.values()}
    loose_old = [c for _, c in old_claims if c.id not in matched_old]
    loose_new = [c for _, c in new_claims if c.id not in pairs]
    for a, b, ratio in _similar_pairs(loose_old, loose_new):
        pairs[b.id] = (old_by_id[a.id], MatchKind.TEXT, ratio)
        matched_old.add(a.id)

    ordered: list[tuple[float, ClaimChange]] = []
    unchanged = 0
    for index, (sid, claim) in enumerate(new_claims):
        if claim.id in pairs:
            old_entry, how, score = pairs[claim.id]
            change = _claim_change(old_entry, (sid, claim), how, score, alerts)
            if change is None:
                unchanged += 1
            else:
                ordered.append((index, change))
            continue
        ordered.append((index, ClaimChange(
            kind=Change.ADDED, id=claim.id, new_section=sid, new_text=claim.text,
            citations_added=list(claim.citations),
        )))
        if claim.id not in supported:
            alerts.append(Alert(kind=AlertKind.UNSOURCED_CLAIM_ADDED, claim_id=claim.id,
                                message=f"claim {claim.id} was added without a source"))
    # Removed claims go right after the new position of the last kept claim before them.
    new_id_of_old = {old_entry[1].id: new_id for new_id, (old_entry, _, _) in pairs.items()}
    anchor: float = -1.0
    for step, (sid, claim) in enumerate(old_claims):
        if claim.id in new_id_of_old:
            anchor = float(new_pos[new_id_of_old[claim.id]])
            continue
        ordered.append((anchor + 0.5 + step * 1e-6, ClaimChange(
            kind=Change.REMOVED, id=claim.id, old_id=claim.id, old_section=sid, old_text=claim.text,
            citations_removed=list(claim.citations),
        )))
    ordered.sort(key=lambda item: item[0])
    claims = [change for _, change in ordered]

    sections = _section_changes(old, new)
    references = _reference_changes(old, new, alerts)
    fields = _field_changes(old, new, _ARTICLE_FIELDS) if old is not None and new is not None else []
    summary = DiffSummary(
        claims_added=sum(c.kind == Change.ADDED for c in claims),
        claims_removed=sum(c.kind == Change.REMOVED for c in claims),
        claims_changed=sum(c.kind == Change.CHANGED for c in claims),
        claims_unchanged=unchanged,
        sections_changed=len(sections),
        references_changed=len(references),
        alerts=len(alerts),
    )
    article = new if new is not None else old
    assert article is not None
    return ArticleDiff(
        slug=article.slug, language=article.language, old_revision=old_revision, new_revision=new_revision,
        fields=fields, sections=sections, claims=claims, references=references, alerts=alerts, summary=summary,
    )
